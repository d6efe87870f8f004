/* SPDX-License-Identifier: MIT */
/* test_api.c — the library as an app uses it: threads, the op table, app-owned buffers */
#include "testutil.h"

#include <criterion/criterion.h>
#include <hadamard.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static hdm_image *noise(uint32_t w, uint32_t h, uint32_t ch, unsigned seed)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(w, h, ch, HDM_U8, &img), HDM_OK);
    for (uint32_t c = 0; c < ch; c++)
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                seed = seed * 1103515245u + 12345u;
                ((uint8_t *)hdm_row(img, c, y))[x] = (uint8_t)(seed >> 16);
            }
    return img;
}

/* Two threads, each running a pipeline of blend, mask and filter over its own image, many
 * times: the results equal a single-threaded run (no shared state to race on). */
typedef struct job {
    const hdm_pipeline *p;
    const hdm_image *in;
    hdm_image *out;
    int bad;
} job;

static void *run(void *arg)
{
    job *j = arg;
    for (int i = 0; i < 20; i++) {
        hdm_image *o;
        hdm_error e;
        if (hdm_pipeline_run_image(j->p, j->in, NULL, &o, &e)) {
            j->bad++;
            continue;
        }
        if (!j->out)
            j->out = o;
        else {
            j->bad += !tu_same(o, j->out);
            hdm_image_free(o);
        }
    }
    return NULL;
}

Test(api, two_threads_two_images)
{
    char dir[] = "/tmp/hdm-api-XXXXXX";
    cr_assert(mkdtemp(dir));
    char mpath[256];
    snprintf(mpath, sizeof mpath, "%s/m.png", dir);
    hdm_image *m = noise(97, 61, 1, 7), *a = noise(97, 61, 3, 1), *b = noise(97, 61, 4, 2);
    cr_assert_eq(hdm_save(m, mpath, NULL, NULL), HDM_OK);
    hdm_pipeline *p;
    hdm_error e;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    char step[512];
    snprintf(step, sizeof step, "mask:%s:invert", mpath);
    cr_assert_eq(hdm_pipeline_add(p, step, &e), HDM_OK, "%s", e.message);
    cr_assert_eq(hdm_pipeline_add(p, "filter:gaussian:1.5", &e), HDM_OK, "%s", e.message);
    cr_assert_eq(hdm_pipeline_add(p, "window:hann", &e), HDM_OK, "%s", e.message);
    job ja = {p, a, NULL, 0}, jb = {p, b, NULL, 0};
    hdm_image *ra, *rb;
    cr_assert_eq(hdm_pipeline_run_image(p, a, NULL, &ra, &e), HDM_OK, "%s", e.message);
    cr_assert_eq(hdm_pipeline_run_image(p, b, NULL, &rb, &e), HDM_OK, "%s", e.message);
    pthread_t t1, t2;
    pthread_create(&t1, NULL, run, &ja);
    pthread_create(&t2, NULL, run, &jb);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    cr_assert_eq(ja.bad + jb.bad, 0);
    cr_assert(tu_same(ja.out, ra) && tu_same(jb.out, rb), "threaded results differ");
    hdm_image *ims[] = {m, a, b, ra, rb, ja.out, jb.out};
    for (size_t i = 0; i < sizeof ims / sizeof ims[0]; i++)
        hdm_image_free(ims[i]);
    hdm_pipeline_free(p);
    remove(mpath);
    remove(dir);
}

Test(api, op_table_is_complete_and_its_choices_parse)
{
    size_t n = 0;
    for (; hdm_op_at(n); n++) {
        const hdm_op *op = hdm_op_at(n);
        cr_assert(op->name && op->syntax && op->summary && op->params && op->operands);
        cr_assert(strncmp(op->syntax, op->name, strlen(op->name)) == 0);
        for (const hdm_param *p = op->params; p->name; p++) {
            cr_assert(p->help && *p->help, "%s --%s has no help", op->name, p->name);
            if (!p->choices)
                continue;
            /* the other parameters with choices take their first (a filter needs a kernel) */
            char others[8][128];
            const char *fields[10];
            size_t nf = 0;
            if (*op->operands)
                fields[nf++] = "operand.png";
            /* a second image's fields (blend's mask-fit, …) want it given */
            for (const hdm_param *q = op->params; q->name; q++)
                if (strcmp(q->name, "mask") == 0 && q->arg)
                    fields[nf++] = "mask=mask.png";
            for (const hdm_param *q = op->params; q->name; q++)
                if (q != p && q->choices && nf < 8) {
                    snprintf(others[nf], sizeof others[nf], "%s=%.*s", q->name,
                             (int)strcspn(q->choices, " "), q->choices);
                    fields[nf] = others[nf];
                    nf++;
                }
            char *list = strdup(p->choices), *save = NULL;
            for (char *c = strtok_r(list, " ", &save); c; c = strtok_r(NULL, " ", &save)) {
                char field[256];
                snprintf(field, sizeof field, "%s=%s", p->name, c);
                fields[nf] = field;
                hdm_pipeline *pl;
                hdm_error e = {0};
                cr_assert_eq(hdm_pipeline_new(&pl), HDM_OK);
                cr_assert_eq(hdm_pipeline_add_fields(pl, op->name, fields, nf + 1, &e), HDM_OK,
                             "%s --%s %s is advertised but refused: %s", op->name, p->name, c,
                             e.message);
                hdm_pipeline_free(pl);
            }
            free(list);
        }
    }
    cr_assert_geq(n, 5, "mul, mask, blend, window, filter");
    cr_assert_null(hdm_op_at(n + 1));
}

Test(api, interleaved_buffers_round_trip)
{
    for (int depth = 1; depth <= 4; depth *= 2)
        for (uint32_t ch = 1; ch <= 4; ch++) {
            uint32_t w = 37, h = 5;
            size_t stride = (size_t)w * ch * depth + 16; /* padded rows, as toolkits do */
            unsigned char *buf = malloc(stride * h), *back = calloc(stride, h);
            for (size_t i = 0; i < stride * h; i++)
                buf[i] = (unsigned char)(i * 131 + 7);
            if (depth == 4) /* keep f32 samples finite: clear exponent bits that make NaN */
                for (size_t i = 3; i < stride * h; i += 4)
                    buf[i] &= 0x3f;
            hdm_image *img;
            cr_assert_eq(hdm_image_from_interleaved(buf, w, h, ch, (hdm_depth)depth, stride, &img),
                         HDM_OK);
            /* sample (x, y, c) lands in plane c */
            const unsigned char *src = buf + 2 * stride + (size_t)(5 * ch + ch - 1) * depth;
            cr_assert(memcmp((unsigned char *)hdm_row(img, ch - 1, 2) + 5 * depth, src,
                             (size_t)depth) == 0);
            cr_assert_eq(hdm_image_to_interleaved(img, back, stride), HDM_OK);
            for (uint32_t y = 0; y < h; y++)
                cr_assert(memcmp(buf + y * stride, back + y * stride, (size_t)w * ch * depth) == 0,
                          "depth %d channels %u row %u", depth, ch, y);
            cr_assert_eq(hdm_image_to_interleaved(img, back, stride - 17), HDM_ERR_ARG,
                         "a stride shorter than a row is refused");
            if (depth > 1)
                cr_assert_eq(hdm_image_to_interleaved(img, back, stride + 1), HDM_ERR_ARG,
                             "a stride that misaligns samples is refused");
            hdm_image_free(img);
            free(buf);
            free(back);
        }
    hdm_image *img;
    unsigned char px[4];
    cr_assert_eq(hdm_image_from_interleaved(px, 2, 1, 4, HDM_U8, 4, &img), HDM_ERR_ARG,
                 "a stride shorter than a row is refused");
}

Test(api, free_null_is_a_no_op)
{
    hdm_image_free(NULL);
    hdm_pipeline_free(NULL);
    cr_assert_eq(hdm_pipeline_length(NULL), 0);
}

/* Every public function given bad arguments: HDM_ERR_ARG (or the documented status) with a
 * message when an hdm_error is given, and never a crash. */
static hdm_error e;

static void expect_arg(hdm_status st, const char *what)
{
    cr_assert_eq(st, HDM_ERR_ARG, "%s: status %d", what, (int)st);
}

static void expect_arg_msg(hdm_status st, const char *what)
{
    expect_arg(st, what);
    cr_assert_eq(e.status, HDM_ERR_ARG, "%s: err.status %d", what, (int)e.status);
    cr_assert(e.message[0], "%s: no message", what);
    memset(&e, 0, sizeof e);
}

Test(api, bad_arguments_images_and_sizes, .timeout = 30)
{
    size_t n;
    hdm_image *img = (hdm_image *)&img;
    expect_arg(hdm_size_bytes(1, 1, 1, HDM_U8, NULL), "hdm_size_bytes NULL out");
    expect_arg(hdm_size_bytes(1, 1, 1, (hdm_depth)0, &n), "hdm_size_bytes depth 0");
    expect_arg(hdm_size_bytes(1, 1, 1, (hdm_depth)3, &n), "hdm_size_bytes depth 3");
    cr_assert_eq(hdm_size_bytes(2, 3, 4, HDM_U16, &n), HDM_OK);
    cr_assert_eq(n, 48);
    expect_arg(hdm_image_new(1, 1, 1, HDM_U8, NULL), "hdm_image_new NULL");
    expect_arg(hdm_image_new(0, 1, 1, HDM_U8, &img), "hdm_image_new width 0");
    cr_assert_null(img);
    expect_arg(hdm_image_new(1, 1, 5, HDM_U8, &img), "hdm_image_new 5 channels");
    expect_arg(hdm_image_new(1, 1, 1, (hdm_depth)7, &img), "hdm_image_new depth 7");
    uint8_t px[64] = {0};
    expect_arg(hdm_image_from_interleaved(NULL, 2, 2, 1, HDM_U8, 2, &img), "from NULL pixels");
    expect_arg(hdm_image_from_interleaved(px, 2, 2, 1, HDM_U8, 2, NULL), "from NULL out");
    expect_arg(hdm_image_from_interleaved(px, 2, 2, 1, (hdm_depth)0, 2, &img), "from depth 0");
    cr_assert_null(img);
    expect_arg(hdm_image_from_interleaved(px, 2, 2, 0, HDM_U8, 2, &img), "from 0 channels");
    expect_arg(hdm_image_from_interleaved(px, 2, 2, 1, HDM_U8, 1, &img), "from short stride");
    expect_arg(hdm_image_to_interleaved(NULL, px, 8), "to NULL image");
    hdm_image *ok = noise(2, 2, 1, 1);
    expect_arg(hdm_image_to_interleaved(ok, NULL, 8), "to NULL pixels");
    expect_arg(hdm_image_to_interleaved(ok, px, 1), "to short stride");
    hdm_image bad = *ok;
    bad.depth = (hdm_depth)3;
    expect_arg(hdm_image_to_interleaved(&bad, px, 8), "to bad depth");
    hdm_image_free(ok);
    hdm_image_free(NULL);
    hdm_options_init(NULL);
    cr_assert_str_eq(hdm_format_name((hdm_format)-5), "unknown");
    cr_assert_str_eq(hdm_format_name((hdm_format)(HDM_FORMAT_TIFF + 1)), "unknown");
    cr_assert_eq(hdm_format_from_name(NULL), HDM_FORMAT_UNKNOWN);
    cr_assert_str_eq(hdm_strerror((hdm_status)-1), "unknown status");
    cr_assert(hdm_version() && hdm_kernel_name());
    cr_assert_null(hdm_op_at((size_t)-1));
    /* kernels have no status: NULL buffers are ignored */
    hdm_mul_u8(NULL, NULL, NULL, 16);
    hdm_mul_u16(NULL, NULL, NULL, 16);
    hdm_mul_f32(NULL, NULL, NULL, 16);
}

Test(api, bad_arguments_files_and_options, .timeout = 30)
{
    tu_setup();
    hdm_image *img = noise(4, 4, 3, 2), *out = (hdm_image *)&out;
    hdm_info info;
    char path[1024];
    snprintf(path, sizeof path, "%s", tu_path("a.png"));
    cr_assert_eq(hdm_save(img, path, NULL, NULL), HDM_OK);
    expect_arg_msg(hdm_info_read(NULL, NULL, &info, &e), "hdm_info_read NULL path");
    expect_arg_msg(hdm_info_read(path, NULL, NULL, &e), "hdm_info_read NULL out");
    expect_arg_msg(hdm_load(NULL, NULL, &out, &e), "hdm_load NULL path");
    expect_arg_msg(hdm_load(path, NULL, NULL, &e), "hdm_load NULL out");
    expect_arg_msg(hdm_load_memory(NULL, 10, NULL, &out, &e), "hdm_load_memory NULL");
    expect_arg_msg(hdm_save(NULL, path, NULL, &e), "hdm_save NULL image");
    expect_arg_msg(hdm_save(img, NULL, NULL, &e), "hdm_save NULL path");
    void *data = NULL;
    size_t size;
    expect_arg_msg(hdm_save_memory(NULL, HDM_FORMAT_PNG, NULL, &data, &size, &e), "NULL img");
    expect_arg_msg(hdm_save_memory(img, HDM_FORMAT_PNG, NULL, NULL, &size, &e), "NULL data");
    expect_arg_msg(hdm_save_memory(img, HDM_FORMAT_PNG, NULL, &data, NULL, &e), "NULL size");
    cr_assert_eq(hdm_save_memory(img, (hdm_format)1000, NULL, &data, &size, &e),
                 HDM_ERR_FORMAT);
    cr_assert_null(data);
    /* options out of range, refused by every call that takes them */
    hdm_options o;
    hdm_options_init(&o);
    o.jpeg_quality = 0;
    expect_arg_msg(hdm_save(img, tu_path("b.jpg"), &o, &e), "jpeg_quality 0");
    cr_assert(!tu_exists(tu_path("b.jpg")));
    hdm_options_init(&o);
    o.png_level = 10;
    expect_arg_msg(hdm_save_memory(img, HDM_FORMAT_PNG, &o, &data, &size, &e), "png_level 10");
    hdm_options_init(&o);
    o.png_filter = (hdm_png_filter)99;
    expect_arg_msg(hdm_load(path, &o, &out, &e), "png_filter 99");
    cr_assert_null(out);
    expect_arg_msg(hdm_info_read(path, &o, &info, &e), "png_filter 99 info");
    hdm_image_free(img);
    tu_teardown();
}

Test(api, bad_arguments_operations, .timeout = 30)
{
    hdm_image *a = noise(4, 4, 3, 3), *m = noise(4, 4, 1, 4), *out = (hdm_image *)&out;
    expect_arg_msg(hdm_mul(NULL, a, NULL, &out, &e), "hdm_mul NULL a");
    cr_assert_null(out);
    expect_arg_msg(hdm_mul(a, NULL, NULL, &out, &e), "hdm_mul NULL b");
    expect_arg_msg(hdm_mul(a, a, NULL, NULL, &e), "hdm_mul NULL out");
    expect_arg_msg(hdm_mask(a, m, 1u << 5, NULL, &out, &e), "hdm_mask unknown flag");
    cr_assert_null(out);
    expect_arg_msg(hdm_mask(NULL, m, 0, NULL, &out, &e), "hdm_mask NULL img");
    expect_arg_msg(hdm_mask(a, NULL, 0, NULL, &out, &e), "hdm_mask NULL mask");
    expect_arg(hdm_mask(a, m, 0x80000000u, NULL, NULL, NULL), "hdm_mask flags, NULL out, no err");
    expect_arg_msg(hdm_blend(a, a, HDM_BLEND_NORMAL, 0.5, 1u << 3, NULL, &out, &e), "hdm_blend flags");
    expect_arg_msg(hdm_blend(a, a, HDM_BLEND_NORMAL, 1.5, 0, NULL, &out, &e), "hdm_blend opacity 1.5");
    expect_arg_msg(hdm_blend(a, a, HDM_BLEND_NORMAL, -0.1, 0, NULL, &out, &e), "hdm_blend opacity -0.1");
    expect_arg_msg(hdm_blend(a, a, HDM_BLEND_NORMAL, 0.0 / 0.0, 0, NULL, &out, &e), "hdm_blend NaN");
    expect_arg_msg(hdm_blend(a, a, (hdm_blend_mode)99, 0.5, 0, NULL, &out, &e), "hdm_blend mode");
    expect_arg_msg(hdm_blend(NULL, a, HDM_BLEND_MULTIPLY, 0.5, 0, NULL, &out, &e), "hdm_blend NULL base");
    expect_arg_msg(hdm_blend(a, a, HDM_BLEND_MULTIPLY, 0.5, 0, NULL, NULL, &e), "hdm_blend NULL out");
    cr_assert_eq(hdm_mask(a, m, HDM_MASK_INVERT | HDM_MASK_ALPHA, NULL, &out, &e), HDM_OK, "%s",
                 e.message);
    hdm_image_free(out);
    hdm_image_free(a);
    hdm_image_free(m);
}

Test(api, bad_arguments_pipelines, .timeout = 30)
{
    tu_setup();
    expect_arg(hdm_pipeline_new(NULL), "hdm_pipeline_new NULL");
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    expect_arg_msg(hdm_pipeline_add(NULL, "mul:x.png", &e), "add NULL p");
    expect_arg_msg(hdm_pipeline_add(p, NULL, &e), "add NULL step");
    const char *fields[] = {"m.png", NULL, "invert"};
    expect_arg_msg(hdm_pipeline_add_fields(p, "mask", fields, 3, &e), "NULL field entry");
    expect_arg_msg(hdm_pipeline_add_fields(p, "mask", NULL, 2, &e), "NULL fields");
    expect_arg_msg(hdm_pipeline_add_fields(p, NULL, fields, 1, &e), "NULL op");
    expect_arg_msg(hdm_pipeline_add_fields(NULL, "mask", fields, 1, &e), "NULL p");
    cr_assert_eq(hdm_pipeline_length(p), 0);
    cr_assert_eq(hdm_pipeline_length(NULL), 0);
    hdm_image *img = noise(4, 4, 3, 5), *out = (hdm_image *)&out;
    char path[1024];
    snprintf(path, sizeof path, "%s", tu_path("in.png")); /* tu_path's buffer is reused */
    cr_assert_eq(hdm_save(img, path, NULL, NULL), HDM_OK);
    expect_arg_msg(hdm_pipeline_run_file(NULL, path, tu_path("o.png"), NULL, &e), "run NULL p");
    expect_arg_msg(hdm_pipeline_run_file(p, NULL, tu_path("o.png"), NULL, &e), "run NULL in");
    expect_arg_msg(hdm_pipeline_run_file(p, path, NULL, NULL, &e), "run NULL out");
    hdm_options o;
    hdm_options_init(&o);
    o.jpeg_quality = 101;
    expect_arg_msg(hdm_pipeline_run_file(p, path, tu_path("o.png"), &o, &e), "run options");
    cr_assert(!tu_exists(tu_path("o.png")));
    expect_arg_msg(hdm_pipeline_run_image(NULL, img, NULL, &out, &e), "run_image NULL p");
    expect_arg_msg(hdm_pipeline_run_image(p, NULL, NULL, &out, &e), "run_image NULL in");
    expect_arg_msg(hdm_pipeline_run_image(p, img, NULL, NULL, &e), "run_image NULL out");
    expect_arg_msg(hdm_pipeline_run_image(p, img, &o, &out, &e), "run_image options");
    cr_assert_null(out);
    /* the memory runs */
    size_t n;
    void *png = tu_read_file(path, &n), *res = &res;
    size_t res_n = 7;
    expect_arg_msg(hdm_pipeline_run_memory(NULL, png, n, HDM_FORMAT_PNG, NULL, &res, &res_n, &e),
                   "run_memory NULL p");
    cr_assert_null(res);
    cr_assert_eq(res_n, 0);
    expect_arg_msg(hdm_pipeline_run_memory(p, NULL, n, HDM_FORMAT_PNG, NULL, &res, &res_n, &e),
                   "run_memory NULL data");
    expect_arg_msg(hdm_pipeline_run_memory(p, png, n, HDM_FORMAT_PNG, NULL, NULL, &res_n, &e),
                   "run_memory NULL out");
    expect_arg_msg(hdm_pipeline_run_memory(p, png, n, HDM_FORMAT_PNG, NULL, &res, NULL, &e),
                   "run_memory NULL size");
    expect_arg_msg(hdm_pipeline_run_memory(p, png, n, HDM_FORMAT_PNG, &o, &res, &res_n, &e),
                   "run_memory options");
    cr_assert_eq(hdm_pipeline_run_memory(p, png, n, HDM_FORMAT_GIF, NULL, &res, &res_n, &e),
                 HDM_ERR_FORMAT);
    cr_assert_eq(hdm_pipeline_run_memory(p, png, n, (hdm_format)-1, NULL, &res, &res_n, &e),
                 HDM_ERR_FORMAT);
    expect_arg_msg(hdm_pipeline_run_file_to_memory(p, NULL, HDM_FORMAT_PNG, NULL, &res, &res_n,
                                                   &e), "file_to_memory NULL in");
    expect_arg_msg(hdm_pipeline_run_file_to_memory(p, path, HDM_FORMAT_PNG, NULL, NULL, &res_n,
                                                   &e), "file_to_memory NULL out");
    expect_arg_msg(hdm_pipeline_run_memory_to_file(p, NULL, n, tu_path("o.png"), NULL, &e),
                   "memory_to_file NULL data");
    expect_arg_msg(hdm_pipeline_run_memory_to_file(p, png, n, NULL, NULL, &e),
                   "memory_to_file NULL out");
    /* and, given good arguments, the three give what run_file gives */
    hdm_image *gray = noise(4, 4, 1, 7);
    cr_assert_eq(hdm_save(gray, tu_path("g.png"), NULL, NULL), HDM_OK);
    hdm_image_free(gray);
    char step[1100];
    snprintf(step, sizeof step, "mask:%s:invert", tu_path("g.png"));
    cr_assert_eq(hdm_pipeline_add(p, step, &e), HDM_OK, "%s", e.message);
    cr_assert_eq(hdm_pipeline_run_file(p, path, tu_path("ref.png"), NULL, &e), HDM_OK, "%s",
                 e.message);
    size_t ref_n;
    void *ref = tu_read_file(tu_path("ref.png"), &ref_n);
    cr_assert_eq(hdm_pipeline_run_memory(p, png, n, HDM_FORMAT_PNG, NULL, &res, &res_n, &e),
                 HDM_OK, "%s", e.message);
    cr_assert(res_n == ref_n && memcmp(res, ref, ref_n) == 0);
    free(res);
    cr_assert_eq(hdm_pipeline_run_file_to_memory(p, path, HDM_FORMAT_PNG, NULL, &res, &res_n,
                                                 &e), HDM_OK, "%s", e.message);
    cr_assert(res_n == ref_n && memcmp(res, ref, ref_n) == 0);
    free(res);
    cr_assert_eq(hdm_pipeline_run_memory_to_file(p, png, n, tu_path("m.png"), NULL, &e),
                 HDM_OK, "%s", e.message);
    size_t m_n;
    void *m = tu_read_file(tu_path("m.png"), &m_n);
    cr_assert(m_n == ref_n && memcmp(m, ref, ref_n) == 0);
    /* an output that is an operand is refused */
    cr_assert_eq(hdm_pipeline_run_memory_to_file(p, png, n, tu_path("g.png"), NULL, &e),
                 HDM_ERR_SAME_FILE);
    /* a corrupt input: nothing handed back */
    res = &res;
    cr_assert_eq(hdm_pipeline_run_memory(p, png, n / 2, HDM_FORMAT_PNG, NULL, &res, &res_n, &e),
                 HDM_ERR_CORRUPT, "%s", e.message);
    cr_assert_null(res);
    free(m);
    free(ref);
    free(png);
    hdm_pipeline_free(p);
    hdm_image_free(img);
    tu_teardown();
}

Test(api, escaped_colons_in_steps, .timeout = 30)
{
    tu_setup();
    hdm_image *img = noise(4, 4, 1, 6);
    cr_assert_eq(hdm_save(img, tu_path("a:b\\c.png"), NULL, NULL), HDM_OK);
    char step[1200];
    snprintf(step, sizeof step, "mask:%s", tu_path("a\\:b\\\\c.png"));
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, step, &e), HDM_OK, "%s", e.message);
    cr_assert_eq(hdm_pipeline_add(p, "mask:x\\:y.png:invert", &e), HDM_OK, "%s", e.message);
    hdm_image *out = NULL;
    /* the second operand does not exist, and the message names it unescaped */
    cr_assert_neq(hdm_pipeline_run_image(p, img, NULL, &out, &e), HDM_OK);
    cr_assert(strstr(e.message, "x:y.png"), "%s", e.message);
    hdm_pipeline_free(p);
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, step, &e), HDM_OK, "%s", e.message);
    cr_assert_eq(hdm_pipeline_run_image(p, img, NULL, &out, &e), HDM_OK, "%s", e.message);
    hdm_image_free(out);
    hdm_pipeline_free(p);
    hdm_image_free(img);
    tu_teardown();
}

/* The library names the limit's hdm_options field; only the command speaks of its flags. */
Test(api, limit_messages_name_the_options_field)
{
    static const struct { size_t off; const char *field; } limits[] = {
        {offsetof(hdm_options, max_width), "(max_width)"},
        {offsetof(hdm_options, max_height), "(max_height)"},
        {offsetof(hdm_options, max_pixels), "(max_pixels)"},
        {offsetof(hdm_options, max_memory), "(max_memory)"},
    };
    tu_setup();
    hdm_image *img = NULL;
    cr_assert_eq(hdm_image_new(64, 48, 3, HDM_U8, &img), HDM_OK);
    const char *path = tu_path("limits.png");
    cr_assert_eq(hdm_save(img, path, NULL, NULL), HDM_OK);
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        hdm_options o;
        hdm_options_init(&o);
        if (limits[i].off == offsetof(hdm_options, max_width))
            o.max_width = 10;
        else if (limits[i].off == offsetof(hdm_options, max_height))
            o.max_height = 10;
        else if (limits[i].off == offsetof(hdm_options, max_pixels))
            o.max_pixels = 100;
        else
            o.max_memory = 1000;
        hdm_image *out = NULL;
        hdm_error e;
        cr_assert_eq(hdm_load(path, &o, &out, &e), HDM_ERR_LIMIT, "%s", limits[i].field);
        cr_assert(strstr(e.message, limits[i].field), "%s not named: %s", limits[i].field,
                  e.message);
        cr_assert(!strstr(e.message, "--"), "a command-line flag in a library message: %s",
                  e.message);
        cr_assert_null(out);
    }
    hdm_image_free(img);
    tu_teardown();
}

/* A path too long to leave room for the reason loses its middle, not the reason. */
Test(api, long_path_keeps_the_whole_reason, .timeout = 30)
{
    char path[5200];
    memset(path, 'e', 5000);
    strcpy(path + 5000, "/x.png");
    hdm_info info;
    hdm_error e;
    cr_assert_eq(hdm_info_read(path, NULL, &info, &e), HDM_ERR_IO);
    size_t n = strlen(e.message);
    cr_assert_lt(n, sizeof e.message);
    const char *reason = "/x.png: cannot open: File name too long";
    cr_assert(n > strlen(reason) && strcmp(e.message + n - strlen(reason), reason) == 0,
              "reason cut: ...%s", e.message + (n > 80 ? n - 80 : 0));
    cr_assert(strstr(e.message, "\xe2\x80\xa6"), "no ellipsis in the shortened path");
    cr_assert(strncmp(e.message, "eeee", 4) == 0, "%s", e.message);
    /* a path that fits is kept whole */
    cr_assert_eq(hdm_info_read("no/such/file.png", NULL, &info, &e), HDM_ERR_IO);
    cr_assert_str_eq(e.message, "no/such/file.png: cannot open: No such file or directory");
}

/* hdm_info_read_memory reads what hdm_info_read reads of the same bytes. */
Test(api, info_read_memory, .timeout = 30)
{
    hdm_image *img = NULL;
    cr_assert_eq(hdm_image_new(37, 21, 2, HDM_U8, &img), HDM_OK);
    void *data = NULL;
    size_t size = 0;
    cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_PNG, NULL, &data, &size, NULL), HDM_OK);
    hdm_info info;
    hdm_error e;
    cr_assert_eq(hdm_info_read_memory(data, size, NULL, &info, &e), HDM_OK, "%s", e.message);
    cr_assert_eq(info.width, 37);
    cr_assert_eq(info.height, 21);
    cr_assert_eq(info.channels, 2);
    cr_assert_eq(info.format, HDM_FORMAT_PNG);
    hdm_options o;
    hdm_options_init(&o);
    o.max_width = 10;
    cr_assert_eq(hdm_info_read_memory(data, size, &o, &info, &e), HDM_ERR_LIMIT);
    cr_assert_eq(hdm_info_read_memory(data, 20, NULL, &info, &e), HDM_ERR_CORRUPT, "%s",
                 e.message);
    free(data);
    cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_BMP, NULL, &data, &size, NULL), HDM_OK);
    cr_assert_eq(hdm_info_read_memory(data, size, NULL, &info, &e), HDM_OK, "%s", e.message);
    cr_assert_eq(info.width, 37);
    cr_assert_eq(info.format, HDM_FORMAT_BMP);
    free(data);
    static const unsigned char zeros[4096];
    cr_assert_eq(hdm_info_read_memory(zeros, sizeof zeros, NULL, &info, &e), HDM_ERR_FORMAT);
    cr_assert(strstr(e.message, "(memory): not an image"), "%s", e.message);
    cr_assert_eq(hdm_info_read_memory(zeros, 0, NULL, &info, &e), HDM_ERR_CORRUPT);
    cr_assert_eq(hdm_info_read_memory(NULL, 1, NULL, &info, &e), HDM_ERR_ARG);
    hdm_image_free(img);
}

/* A step's unknown operation gets a hint; a kernel file is an operand the output may not be. */
Test(api, step_hints_and_kernel_file_operand, .timeout = 30)
{
    hdm_pipeline *p;
    hdm_error e;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "filtre:box:3", &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "unknown operation 'filtre' (did you mean 'filter'?)"), "%s",
              e.message);
    cr_assert_eq(hdm_pipeline_add(p, "zzzzzz:1", &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "unknown operation 'zzzzzz'") && !strstr(e.message, "mean"),
              "%s", e.message);
    cr_assert_eq(hdm_pipeline_add(p, "mask:", &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "mask: needs a mask file (mask:MASK"), "%s", e.message);
    tu_setup();
    const char *k = tu_path("k.png");
    tu_write_file(k, "1,2,1;2,4,2;1,2,1", 17);
    char step[4200];
    snprintf(step, sizeof step, "filter:@%s", k);
    cr_assert_eq(hdm_pipeline_add(p, step, &e), HDM_OK, "%s", e.message);
    hdm_image *img = NULL;
    cr_assert_eq(hdm_image_new(8, 8, 3, HDM_U8, &img), HDM_OK);
    const char *in = tu_path("in.png");
    cr_assert_eq(hdm_save(img, in, NULL, NULL), HDM_OK);
    cr_assert_eq(hdm_pipeline_run_file(p, in, k, NULL, &e), HDM_ERR_SAME_FILE, "%s", e.message);
    size_t n;
    char *back = tu_read_file(k, &n);
    cr_assert(n == 17 && memcmp(back, "1,2,1;2,4,2;1,2,1", 17) == 0, "kernel file overwritten");
    free(back);
    hdm_image_free(img);
    hdm_pipeline_free(p);
    tu_teardown();
}

static char *api_path(const char *dir, const char *name)
{
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

static bool holds(const char *path, const char *s)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return n == strlen(s) && memcmp(buf, s, n) == 0;
}

static int temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strstr(e->d_name, "hadamard-tmp") != NULL;
    if (d)
        closedir(d);
    return n;
}

/* hdm_write_file writes any bytes under the output rules: whole, mode kept, a symlink's target
 * replaced, a hard-linked or read-only file refused untouched. */
Test(api, write_file_follows_the_output_rules, .timeout = 30)
{
    char dir[] = "/tmp/hdm-api-XXXXXX";
    cr_assert(mkdtemp(dir));
    hdm_error e;
    const char *a = api_path(dir, "a.txt");
    cr_assert_eq(hdm_write_file(a, "one\n", 4, &e), HDM_OK, "%s", e.message);
    cr_assert(holds(a, "one\n"));
    cr_assert_eq(chmod(a, 0640), 0);
    cr_assert_eq(hdm_write_file(a, "two\n", 4, &e), HDM_OK, "%s", e.message);
    struct stat st;
    cr_assert_eq(stat(a, &st), 0);
    cr_assert(holds(a, "two\n"));
    cr_assert_eq(st.st_mode & 07777, 0640, "mode not kept: %o", st.st_mode & 07777);
    cr_assert_eq(hdm_write_file(a, NULL, 0, &e), HDM_OK, "%s", e.message);
    cr_assert_eq(stat(a, &st), 0);
    cr_assert_eq(st.st_size, 0);

    const char *l = api_path(dir, "l.txt");
    cr_assert_eq(symlink("a.txt", l), 0);
    cr_assert_eq(hdm_write_file(l, "via\n", 4, &e), HDM_OK, "%s", e.message);
    cr_assert_eq(lstat(l, &st), 0);
    cr_assert(S_ISLNK(st.st_mode), "the link itself was replaced");
    cr_assert(holds(a, "via\n"));

    const char *h = api_path(dir, "h.txt");
    cr_assert_eq(link(a, h), 0);
    cr_assert_eq(hdm_write_file(a, "no\n", 3, &e), HDM_ERR_IO);
    cr_assert(strstr(e.message, "hard links"), "%s", e.message);
    cr_assert(holds(a, "via\n") && holds(h, "via\n"));
    cr_assert_eq(unlink(h), 0);

    cr_assert_eq(chmod(a, 0444), 0);
    cr_assert_eq(hdm_write_file(a, "no\n", 3, &e), HDM_ERR_IO);
    cr_assert(strstr(e.message, "read-only"), "%s", e.message);
    cr_assert(holds(a, "via\n"));

    cr_assert_eq(hdm_write_file(dir, "no\n", 3, &e), HDM_ERR_IO);
    cr_assert(strstr(e.message, "is a directory"), "%s", e.message);
    cr_assert_eq(hdm_write_file(api_path(dir, "none/x.txt"), "no\n", 3, &e), HDM_ERR_IO);
    cr_assert_eq(hdm_write_file(NULL, "no\n", 3, &e), HDM_ERR_ARG);
    cr_assert_eq(hdm_write_file(api_path(dir, "b.txt"), NULL, 3, &e), HDM_ERR_ARG);
    cr_assert_eq(hdm_write_file("/dev/null", "x", 1, &e), HDM_ERR_IO, "a device is refused");
    cr_assert_eq(temporaries(dir), 0);
    unlink(l);
    unlink(a);
    rmdir(dir);
}

/* hdm_output_check says beforehand, writing nothing, what hdm_write_file would refuse. */
Test(api, output_check_says_beforehand, .timeout = 30)
{
    char dir[] = "/tmp/hdm-api-XXXXXX";
    cr_assert(mkdtemp(dir));
    hdm_error e;
    const char *a = api_path(dir, "a.txt");
    cr_assert_eq(hdm_output_check(a, &e), HDM_OK, "%s", e.message);
    struct stat st;
    cr_assert(stat(a, &st) != 0, "the check created the file");
    cr_assert_eq(hdm_write_file(a, "x", 1, &e), HDM_OK);
    cr_assert_eq(hdm_output_check(a, &e), HDM_OK, "%s", e.message);
    const char *h = api_path(dir, "h.txt");
    cr_assert_eq(link(a, h), 0);
    cr_assert_eq(hdm_output_check(a, &e), HDM_ERR_IO);
    cr_assert(strstr(e.message, "hard links"), "%s", e.message);
    cr_assert_eq(unlink(h), 0);
    cr_assert_eq(chmod(a, 0444), 0);
    cr_assert_eq(hdm_output_check(a, &e), HDM_ERR_IO);
    cr_assert(strstr(e.message, "read-only"), "%s", e.message);
    cr_assert_eq(hdm_output_check(dir, &e), HDM_ERR_IO);
    cr_assert(strstr(e.message, "is a directory"), "%s", e.message);
    cr_assert_eq(hdm_output_check("/dev/null", &e), HDM_ERR_IO);
    cr_assert(strstr(e.message, "not a regular file"), "%s", e.message);
    cr_assert_eq(hdm_output_check(api_path(dir, "none/x.txt"), &e), HDM_ERR_IO);
    cr_assert(strstr(e.message, "No such file"), "%s", e.message);
    cr_assert_eq(hdm_output_check(api_path(dir, "a.txt/x.txt"), &e), HDM_ERR_IO);
    cr_assert(strstr(e.message, "not a directory"), "%s", e.message);
    cr_assert_eq(hdm_output_check(NULL, &e), HDM_ERR_ARG);
    cr_assert_eq(hdm_output_check("", &e), HDM_ERR_ARG);
    cr_assert_eq(temporaries(dir), 0);
    unlink(a);
    rmdir(dir);
}

/* The files a pipeline's steps read, in step order, as the command checks its ends against. */
Test(api, pipeline_files_lists_what_the_steps_read, .timeout = 30)
{
    hdm_pipeline *p;
    hdm_error e;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_files(p, NULL, 0), 0);
    cr_assert_eq(hdm_pipeline_files(NULL, NULL, 0), 0);
    tu_setup(); /* a kernel file is read when its step is added */
    const char *k = tu_path("k.txt");
    tu_write_file(k, "1,2,1", 5);
    char kstep[4200];
    snprintf(kstep, sizeof kstep, "filter:@%s", k);
    const char *steps[] = {"mask:m.png:invert", "filter:box:3", "blend:top.png", kstep,
                           "mul:b\\:c.png", "window:hann"};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        cr_assert_eq(hdm_pipeline_add(p, steps[i], &e), HDM_OK, "%s: %s", steps[i], e.message);
    const char *files[8] = {0};
    cr_assert_eq(hdm_pipeline_files(p, files, 8), 4);
    cr_assert_str_eq(files[0], "m.png");
    cr_assert_str_eq(files[1], "top.png");
    cr_assert_str_eq(files[2], k);
    cr_assert_str_eq(files[3], "b:c.png");
    cr_assert_null(files[4]);
    const char *two[2] = {0};
    cr_assert_eq(hdm_pipeline_files(p, two, 1), 4, "the count is all of them, whatever cap");
    cr_assert_str_eq(two[0], "m.png");
    cr_assert_null(two[1], "wrote past cap");
    hdm_pipeline_free(p);
    tu_teardown();
}

static bool ends_with(const char *s, const char *end)
{
    size_t n = strlen(s), m = strlen(end);
    return n >= m && strcmp(s + n - m, end) == 0;
}

/* A 3000-character value loses its middle, never the message's end: the choices survive. */
Test(api, long_values_keep_the_end_of_the_message, .timeout = 30)
{
    char q[3001];
    memset(q, 'q', 3000);
    q[3000] = '\0';
    static const struct { const char *pre, *post, *end; } cases[] = {
        {"blend:top.png:mode=", "", "difference, exclusion, hue, saturation, color, luminosity)"},
        {"filter:gaussian", "", "or @FILE)"},
        {"window:", "", "tukey[:ALPHA], kaiser[:BETA])"},
        {"mask:m.png:", "", "[:feather=SIGMA][:threshold=T])"},
    };
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    char step[3200];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(step, sizeof step, "%s%s%s", cases[i].pre, q, cases[i].post);
        hdm_error e;
        cr_assert_eq(hdm_pipeline_add(p, step, &e), HDM_ERR_ARG);
        size_t n = strlen(e.message);
        cr_assert_lt(n, sizeof e.message);
        cr_assert(ends_with(e.message, cases[i].end), "%s: message ends ...%s", cases[i].pre,
                  e.message + (n > 120 ? n - 120 : 0));
        cr_assert(strncmp(e.message, "step '", 6) == 0, "%s", e.message);
        cr_assert(strstr(e.message, "\xe2\x80\xa6"), "no ellipsis: %s", e.message);
    }
    /* straight through hdm__fail's path too: a long path and a long reason */
    hdm_info info;
    hdm_error e;
    char path[6100];
    snprintf(path, sizeof path, "%s/%s.png", q, q);
    path[4000] = '\0';
    cr_assert_eq(hdm_info_read(path, NULL, &info, &e), HDM_ERR_IO);
    cr_assert(ends_with(e.message, ": cannot open: File name too long"), "%s", e.message);
    hdm_pipeline_free(p);
}

/* A '\' at the end of a step escapes nothing: refused, not kept. */
Test(api, trailing_backslash_in_a_step, .timeout = 30)
{
    hdm_pipeline *p;
    hdm_error e;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "mask:m.png\\", &e), HDM_ERR_ARG);
    cr_assert_str_eq(e.message, "step 'mask:m.png\\': a '\\' at the end escapes nothing "
                                "(write \\\\ for a backslash)");
    cr_assert_eq(hdm_pipeline_length(p), 0);
    cr_assert_eq(hdm_pipeline_add(p, "mask:m.png\\\\", &e), HDM_OK, "%s", e.message);
    const char *f;
    cr_assert_eq(hdm_pipeline_files(p, &f, 1), 1);
    cr_assert_str_eq(f, "m.png\\");
    hdm_pipeline_free(p);
}

/* opt.out_format writes a named file without a known extension in that format. */
Test(api, out_format_for_a_named_file, .timeout = 30)
{
    tu_setup();
    hdm_image *img = NULL;
    cr_assert_eq(hdm_image_new(9, 7, 3, HDM_U8, &img), HDM_OK);
    hdm_options o;
    hdm_options_init(&o);
    hdm_error e;
    const char *noext = tu_path("out"), *bak = tu_path("out.bak"), *jpg = tu_path("x.jpg");
    cr_assert_eq(hdm_save(img, noext, NULL, &e), HDM_ERR_FORMAT, "no format, no extension");
    o.out_format = HDM_FORMAT_BMP;
    cr_assert_eq(hdm_save(img, noext, &o, &e), HDM_OK, "%s", e.message);
    hdm_info info;
    cr_assert_eq(hdm_info_read(noext, NULL, &info, &e), HDM_OK, "%s", e.message);
    cr_assert_eq(info.format, HDM_FORMAT_BMP);
    cr_assert_eq(info.width, 9);
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "filter:box:3", &e), HDM_OK);
    o.out_format = HDM_FORMAT_PNG;
    cr_assert_eq(hdm_pipeline_run_file(p, noext, bak, &o, &e), HDM_OK, "%s", e.message);
    cr_assert_eq(hdm_info_read(bak, NULL, &info, &e), HDM_OK, "%s", e.message);
    cr_assert_eq(info.format, HDM_FORMAT_PNG);
    /* an extension naming another format is refused, and nothing is written */
    cr_assert_eq(hdm_pipeline_run_file(p, noext, jpg, &o, &e), HDM_ERR_FORMAT);
    cr_assert(strstr(e.message, "differs from the format its extension names"), "%s", e.message);
    cr_assert(!tu_exists(jpg));
    cr_assert_eq(hdm_save(img, jpg, &o, &e), HDM_ERR_FORMAT);
    o.out_format = HDM_FORMAT_JPEG;
    cr_assert_eq(hdm_save(img, jpg, &o, &e), HDM_OK, "%s", e.message);
    o.out_format = (hdm_format)99;
    cr_assert_eq(hdm_save(img, bak, &o, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "out_format"), "%s", e.message);
    hdm_pipeline_free(p);
    hdm_image_free(img);
    tu_teardown();
}

/* An in-memory output is named apart from an in-memory input. */
Test(api, memory_output_is_named_as_such, .timeout = 30)
{
    tu_setup();
    hdm_image *img = NULL;
    cr_assert_eq(hdm_image_new(70000, 2, 1, HDM_U8, &img), HDM_OK);
    const char *in = tu_path("wide.png");
    cr_assert_eq(hdm_save(img, in, NULL, NULL), HDM_OK);
    hdm_pipeline *p;
    hdm_error e;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "filter:box:1", &e), HDM_OK);
    void *out = NULL;
    size_t n = 0;
    cr_assert_eq(hdm_pipeline_run_file_to_memory(p, in, HDM_FORMAT_JPEG, NULL, &out, &n, &e),
                 HDM_ERR_LIMIT, "%s", e.message);
    cr_assert(strncmp(e.message, "(memory output): ", 17) == 0, "%s", e.message);
    cr_assert_null(out);
    size_t size;
    void *data = tu_read_file(in, &size);
    cr_assert(data);
    cr_assert_neq(hdm_pipeline_run_memory(p, data, size, HDM_FORMAT_JPEG, NULL, &out, &n, &e),
                  HDM_OK);
    cr_assert(strncmp(e.message, "(memory output): ", 17) == 0, "%s", e.message);
    free(data);
    hdm_pipeline_free(p);
    hdm_image_free(img);
    tu_teardown();
}

/* Options nobody initialised (size 0) are refused, not taken as defaults; buffers the library
 * hands back are released by hdm_free (LeakSanitizer would see one that is not). */
Test(api, uninitialised_options_refused_and_hdm_free, .timeout = 30)
{
    hdm_image *img = NULL;
    cr_assert_eq(hdm_image_new(8, 8, 3, HDM_U8, &img), HDM_OK);
    hdm_options o;
    memset(&o, 0, sizeof o);
    void *data = (void *)&o;
    size_t size = 1;
    hdm_error e;
    cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_PNG, &o, &data, &size, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "size is 0"), "%s", e.message);
    cr_assert_null(data);
    hdm_options_init(&o);
    cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_PNG, &o, &data, &size, &e), HDM_OK, "%s",
                 e.message);
    cr_assert_gt(size, 8);
    hdm_free(data);
    hdm_free(NULL);
    hdm_image_free(img);
}

/* An output named for one format is never written in another: with out_format PNG, "x.gif"
 * (a format only read) and "x.jpg" are refused and nothing is made; a name without an
 * extension takes the asked format. */
Test(api, output_named_for_another_format_is_refused)
{
    cr_assert_eq(hdm_format_named("a/b.GIF"), HDM_FORMAT_GIF);
    cr_assert_eq(hdm_format_named("x.jpe"), HDM_FORMAT_JPEG);
    cr_assert_eq(hdm_format_named("x.ppm"), HDM_FORMAT_PNM);
    cr_assert_eq(hdm_format_named("x.png"), HDM_FORMAT_PNG);
    cr_assert_eq(hdm_format_named("dir.gif/x"), HDM_FORMAT_UNKNOWN);
    cr_assert_eq(hdm_format_named("png"), HDM_FORMAT_UNKNOWN);
    cr_assert_eq(hdm_format_named("x.nope"), HDM_FORMAT_UNKNOWN);
    cr_assert_eq(hdm_format_named(NULL), HDM_FORMAT_UNKNOWN);
    tu_setup();
    hdm_image *img;
    cr_assert_eq(hdm_image_new(4, 3, 3, HDM_U8, &img), HDM_OK);
    hdm_options o;
    hdm_options_init(&o);
    o.out_format = HDM_FORMAT_PNG;
    const char *bad[] = {"x.gif", "x.jpe", "x.ppm", "x.jpg"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hdm_error e = {0};
        cr_assert_eq(hdm_save(img, tu_path(bad[i]), &o, &e), HDM_ERR_FORMAT, "%s", bad[i]);
        cr_assert(strstr(e.message, "differs from the format its extension names"), "%s",
                  e.message);
        cr_assert_eq(access(tu_path(bad[i]), F_OK), -1, "%s was written", bad[i]);
    }
    /* a bare name is no extension: a file called "png" needs out_format */
    cr_assert_eq(hdm_save(img, tu_path("png"), NULL, NULL), HDM_ERR_FORMAT);
    cr_assert_eq(access(tu_path("png"), F_OK), -1);
    cr_assert_eq(hdm_save(img, tu_path("noext"), &o, NULL), HDM_OK);
    hdm_info info;
    cr_assert_eq(hdm_info_read(tu_path("noext"), NULL, &info, NULL), HDM_OK);
    cr_assert_eq(info.format, HDM_FORMAT_PNG);
    hdm_image_free(img);
    tu_teardown();
}
