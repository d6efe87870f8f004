/* SPDX-License-Identifier: MIT */
/* test_api_threads.c — hdm_options.threads: the same bytes for every thread count, errors and
 * cancels from threads read ahead, the cgroup quota parse, the pool and the read-ahead source */
#include "core/core.h"
#include "stream/stream.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

TestSuite(threads, .init = tu_setup, .fini = tu_teardown, .timeout = 600);

static const uint32_t counts[] = {1, 2, 3, 7};
enum { NCOUNTS = sizeof counts / sizeof counts[0] };

/* Tall enough that the read-ahead goes through several chunks and the strips are shared out
 * in several bands: 320 × 1500. */
enum { W = 320, H = 1500 };

static void save_random(const char *name, uint32_t w, uint32_t h, uint32_t c, hdm_depth d,
                        uint64_t seed)
{
    tu_rng r;
    tu_seed(&r, seed);
    hdm_image *img = tu_image_random(w, h, c, d, &r);
    hdm_error err;
    cr_assert_eq(hdm_save(img, tu_path(name), NULL, &err), HDM_OK, "%s", err.message);
    hdm_image_free(img);
}

static void inputs(void)
{
    save_random("in.png", W, H, 3, HDM_U8, 1);
    save_random("top.png", W, H, 3, HDM_U8, 2);
    save_random("m.png", W, H, 1, HDM_U8, 3);
    save_random("a16.png", W, H, 4, HDM_U16, 4);
}

static hdm_pipeline *pipeline(const char *const *steps)
{
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    hdm_error err;
    for (; *steps; steps++) {
        char step[4400];
        /* a step's file names are made absolute here: "%s" is tu_dir */
        snprintf(step, sizeof step, *steps, tu_dir, tu_dir);
        cr_assert_eq(hdm_pipeline_add(p, step, &err), HDM_OK, "%s: %s", step, err.message);
    }
    return p;
}

/* Runs steps over in into out with each thread count, and checks every output has the bytes
 * of the one-thread run. */
static void same_bytes(const char *what, const char *in, const char *out,
                       const char *const *steps)
{
    hdm_pipeline *p = pipeline(steps);
    unsigned char *first = NULL;
    size_t first_n = 0;
    for (int i = 0; i < NCOUNTS; i++) {
        hdm_options opt;
        hdm_options_init(&opt);
        opt.threads = counts[i];
        hdm_error err = {0};
        cr_assert_eq(hdm_pipeline_run_file(p, tu_path(in), tu_path(out), &opt, &err), HDM_OK,
                     "%s, %u threads: %s", what, counts[i], err.message);
        size_t n;
        unsigned char *bytes = tu_read_file(tu_path(out), &n);
        if (!first) {
            first = bytes;
            first_n = n;
            continue;
        }
        cr_assert(n == first_n && memcmp(bytes, first, n) == 0,
                  "%s: %u threads wrote other bytes than 1 (%zu vs %zu)", what, counts[i], n,
                  first_n);
        free(bytes);
        /* in memory too: the same bytes */
        void *mem;
        size_t mem_n;
        hdm_format fmt = hdm_format_from_name(out);
        cr_assert_eq(hdm_pipeline_run_file_to_memory(p, tu_path(in), fmt, &opt, &mem, &mem_n,
                                                     &err), HDM_OK, "%s", err.message);
        cr_assert(mem_n == first_n && memcmp(mem, first, mem_n) == 0,
                  "%s: %u threads, to memory, other bytes", what, counts[i]);
        hdm_free(mem);
    }
    free(first);
    hdm_pipeline_free(p);
}

Test(threads, mask_same_bytes)
{
    inputs();
    same_bytes("mask", "in.png", "out.png", (const char *const[]){"mask:%s/m.png", NULL});
}

Test(threads, blend_two_pngs_same_bytes)
{
    inputs();
    same_bytes("blend multiply", "in.png", "out.png",
               (const char *const[]){"blend:multiply:%s/top.png", NULL});
    same_bytes("blend soft-light with a mask", "in.png", "out.png",
               (const char *const[]){"blend:soft-light:%s/top.png:0.7:mask=%s/m.png", NULL});
}

Test(threads, gaussian_same_bytes)
{
    inputs();
    same_bytes("gaussian", "in.png", "out.png",
               (const char *const[]){"filter:gaussian:2", NULL});
}

Test(threads, chain_same_bytes)
{
    inputs();
    same_bytes("chain", "a16.png", "out.png",
               (const char *const[]){"mul:%s/m.png", "filter:box:3", "blend:screen:%s/top.png",
                                     "window:hann", "mask:%s/m.png:invert", NULL});
}

Test(threads, jpeg_output_same_bytes)
{
    inputs();
    same_bytes("mask to JPEG", "in.png", "out.jpg", (const char *const[]){"mask:%s/m.png", NULL});
}

/* The in-memory products share their strips out too. */
Test(threads, products_same_images)
{
    tu_rng r;
    tu_seed(&r, 9);
    hdm_image *a = tu_image_random(700, 300, 4, HDM_U16, &r);
    hdm_image *b = tu_image_random(700, 300, 3, HDM_U8, &r);
    hdm_image *m = tu_image_random(700, 300, 1, HDM_U8, &r);
    hdm_image *ref[3] = {NULL};
    for (int i = 0; i < NCOUNTS; i++) {
        hdm_options opt;
        hdm_options_init(&opt);
        opt.threads = counts[i];
        hdm_image *out[3];
        hdm_error err;
        cr_assert_eq(hdm_mul(a, m, &opt, &out[0], &err), HDM_OK, "%s", err.message);
        cr_assert_eq(hdm_mask(a, m, HDM_MASK_INVERT, &opt, &out[1], &err), HDM_OK, "%s",
                     err.message);
        cr_assert_eq(hdm_composite(a, b, m, HDM_BLEND_COLOR_DODGE, HDM_OP_SOURCE_ATOP, 0.8, 0,
                                   &opt, &out[2], &err), HDM_OK, "%s", err.message);
        for (int k = 0; k < 3; k++) {
            if (!ref[k]) {
                ref[k] = out[k];
                continue;
            }
            tu_assert_same(out[k], ref[k], "product with threads");
            hdm_image_free(out[k]);
        }
    }
    for (int k = 0; k < 3; k++)
        hdm_image_free(ref[k]);
    hdm_image_free(a);
    hdm_image_free(b);
    hdm_image_free(m);
}

/* An error in a band is the error of the first row that fails, whatever the bands: a colour
 * mask that is not gray in one row names that row. */
Test(threads, band_error_names_the_first_bad_row)
{
    tu_rng r;
    tu_seed(&r, 10);
    hdm_image *a = tu_image_random(600, 400, 3, HDM_U8, &r);
    hdm_image *m;
    cr_assert_eq(hdm_image_new(600, 400, 3, HDM_U8, &m), HDM_OK);
    tu_set(m, 1, 5, 123, 200); /* rows 123 and 301 are not gray */
    tu_set(m, 2, 9, 301, 17);
    for (int i = 0; i < NCOUNTS; i++) {
        hdm_options opt;
        hdm_options_init(&opt);
        opt.threads = counts[i];
        hdm_image *out = NULL;
        hdm_error err = {0};
        cr_assert_eq(hdm_composite(a, a, m, HDM_BLEND_NORMAL, HDM_OP_SOURCE_OVER, 1, 0, &opt,
                                   &out, &err), HDM_ERR_SHAPE);
        cr_assert_null(out);
        cr_assert(strstr(err.message, "row 123"), "%u threads: %s", counts[i], err.message);
    }
    hdm_image_free(a);
    hdm_image_free(m);
}

/* A truncated operand, decoded on its own thread: refused naming it, no output, no hang (the
 * suite's timeout is the watchdog). */
Test(threads, truncated_operand_named)
{
    inputs();
    size_t n;
    unsigned char *png = tu_read_file(tu_path("top.png"), &n);
    tu_write_file(tu_path("cut.png"), png, n / 2);
    free(png);
    hdm_pipeline *p = pipeline((const char *const[]){"blend:multiply:%s/cut.png", NULL});
    for (int i = 0; i < NCOUNTS; i++) {
        hdm_options opt;
        hdm_options_init(&opt);
        opt.threads = counts[i];
        hdm_error err = {0};
        hdm_status st = hdm_pipeline_run_file(p, tu_path("in.png"), tu_path("out.png"), &opt,
                                              &err);
        cr_assert_eq(st, HDM_ERR_CORRUPT, "%u threads: %s (%s)", counts[i], hdm_strerror(st),
                     err.message);
        cr_assert(strstr(err.message, "cut.png"), "%u threads: %s", counts[i], err.message);
        cr_assert(!tu_exists(tu_path("out.png")));
    }
    /* 4 files: in, top, m, a16 and cut, no output or temporary */
    cr_assert_eq(tu_dir_entries(), 5);
    hdm_pipeline_free(p);
}

Test(threads, out_of_range_refused)
{
    hdm_options opt;
    hdm_options_init(&opt);
    cr_assert_eq(opt.threads, 0u, "the default is automatic");
    tu_rng r;
    tu_seed(&r, 1);
    hdm_image *a = tu_image_random(8, 8, 1, HDM_U8, &r), *out = NULL;
    hdm_error err;
    opt.threads = 1025;
    cr_assert_eq(hdm_mul(a, a, &opt, &out, &err), HDM_ERR_ARG);
    cr_assert(strstr(err.message, "threads"), "%s", err.message);
    opt.threads = 1024;
    cr_assert_eq(hdm_mul(a, a, &opt, &out, &err), HDM_OK, "%s", err.message);
    hdm_image_free(out);
    hdm_image_free(a);
    cr_assert_geq(hdm_cores_available(), 1u);
    cr_assert_leq(hdm_cores_available(), 1024u);
}

/* ---- cancel during a threaded run ---- */

typedef struct watch {
    volatile int *flag;
    atomic_bool done;
    bool raised;
} watch;

/* Size of the output being written: a descriptor of this process open on a temporary in
 * tu_dir (".hadamard-tmp-", or an O_TMPFILE shown "(deleted)"). */
static long long output_size(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long long best = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        char link[300], target[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t n = e->d_name[0] == '.' ? -1 : readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        struct stat st;
        if (strncmp(target, tu_dir, strlen(tu_dir)) == 0 &&
            (strstr(target, ".hadamard-tmp-") || strstr(target, "(deleted)")) &&
            stat(link, &st) == 0 && st.st_size > best)
            best = st.st_size;
    }
    closedir(d);
    return best;
}

static void *watcher(void *arg)
{
    watch *w = arg;
    while (!atomic_load(&w->done)) {
        if (output_size() >= (1 << 20)) {
            *w->flag = 1;
            w->raised = true;
            return NULL;
        }
        struct timespec ts = {0, 200 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

Test(threads, cancel_midway)
{
    if (access("/proc/self/fd", F_OK) != 0)
        cr_skip_test("no /proc: the watcher cannot see the output grow");
    save_random("in.png", 2500, 2500, 3, HDM_U8, 5);
    save_random("top.png", 2500, 2500, 3, HDM_U8, 6);
    hdm_pipeline *p = pipeline((const char *const[]){"blend:multiply:%s/top.png", NULL});
    volatile int flag = 0;
    hdm_options opt;
    hdm_options_init(&opt);
    opt.cancel = &flag;
    opt.threads = 3;
    watch w = {.flag = &flag};
    atomic_init(&w.done, false);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, watcher, &w), 0);
    hdm_error err = {0};
    hdm_status st = hdm_pipeline_run_file(p, tu_path("in.png"), tu_path("out.png"), &opt, &err);
    atomic_store(&w.done, true);
    pthread_join(t, NULL);
    cr_assert(w.raised, "the run ended (%s) before its output reached 1 MiB", hdm_strerror(st));
    cr_assert_eq(st, HDM_ERR_INTERRUPTED, "%s", err.message);
    cr_assert_eq(tu_dir_entries(), 2, "an output or temporary was left");
    /* raised before the run: nothing is read ahead or written */
    st = hdm_pipeline_run_file(p, tu_path("in.png"), tu_path("out.png"), &opt, &err);
    cr_assert_eq(st, HDM_ERR_INTERRUPTED, "%s", err.message);
    cr_assert_eq(tu_dir_entries(), 2);
    hdm_pipeline_free(p);
}

/* ---- the parts: cgroup quotas, the pool, the read-ahead source ---- */

Test(threads, cgroup_quota_parse)
{
    cr_assert_eq(hdm__cgroup2_quota("max 100000\n"), 0u);
    cr_assert_eq(hdm__cgroup2_quota("200000 100000\n"), 2u);
    cr_assert_eq(hdm__cgroup2_quota("150000 100000"), 2u, "a part of a core counts as one");
    cr_assert_eq(hdm__cgroup2_quota("50000 100000\n"), 1u);
    cr_assert_eq(hdm__cgroup2_quota("100000 100000\n"), 1u);
    cr_assert_eq(hdm__cgroup2_quota("400000 100000\n"), 4u);
    cr_assert_eq(hdm__cgroup2_quota("999999999999 1000\n"), 1024u, "capped");
    cr_assert_eq(hdm__cgroup2_quota(""), 0u);
    cr_assert_eq(hdm__cgroup2_quota("100000"), 0u, "no period");
    cr_assert_eq(hdm__cgroup2_quota("100000 0\n"), 0u);
    cr_assert_eq(hdm__cgroup2_quota("abc 100000\n"), 0u);
    cr_assert_eq(hdm__cgroup2_quota("200000 100000 x\n"), 0u);
    cr_assert_eq(hdm__cgroup1_quota("-1\n", "100000\n"), 0u);
    cr_assert_eq(hdm__cgroup1_quota("300000\n", "100000\n"), 3u);
    cr_assert_eq(hdm__cgroup1_quota("250000\n", "100000\n"), 3u);
}

typedef struct counted {
    atomic_uint calls;
    unsigned hits[1000];
} counted;

static void count_part(void *ctx, uint32_t i)
{
    counted *c = ctx;
    c->hits[i]++;
    atomic_fetch_add(&c->calls, 1);
}

typedef struct submitter {
    hdm__pool *pool;
    counted c;
} submitter;

static void *submit(void *arg)
{
    submitter *s = arg;
    for (int k = 0; k < 50; k++)
        hdm__pool_run(s->pool, 1000, count_part, &s->c);
    return NULL;
}

/* Every part once per task, from several submitters at once. */
Test(threads, pool_every_part_once)
{
    hdm__pool *pool;
    cr_assert_eq(hdm__pool_new(4, &pool), HDM_OK);
    cr_assert_eq(hdm__pool_threads(pool), 4u);
    static submitter s[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        s[i].pool = pool;
        atomic_init(&s[i].c.calls, 0);
        memset(s[i].c.hits, 0, sizeof s[i].c.hits);
        cr_assert_eq(pthread_create(&t[i], NULL, submit, &s[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(atomic_load(&s[i].c.calls), 50000u);
        for (int k = 0; k < 1000; k++)
            cr_assert_eq(s[i].c.hits[k], 50u, "part %d of submitter %d", k, i);
    }
    hdm__pool_free(pool);
    cr_assert_eq(hdm__pool_new(1, &pool), HDM_OK);
    cr_assert_null(pool, "one thread: no pool, the caller runs every part");
    counted c = {0};
    hdm__pool_run(NULL, 10, count_part, &c);
    cr_assert_eq(atomic_load(&c.calls), 10u);
}

/* A source whose read fails at a given row, to see the read-ahead hand the failure on where
 * the reader meets it. */
typedef struct failing {
    hdm__source base;
    uint32_t bad_row;
} failing;

static hdm_status failing_read(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    failing *f = (failing *)s;
    for (uint32_t r = 0; r < rows; r++) {
        uint32_t y = s->next + r;
        if (y == f->bad_row)
            return hdm__fail(err, HDM_ERR_CORRUPT, s->path, "bad row %u", y);
        for (uint32_t x = 0; x < strip->width; x++)
            ((uint8_t *)hdm_row(strip, 0, r))[x] = (uint8_t)(x * 7 + y * 13);
    }
    return HDM_OK;
}

static void failing_close(hdm__source *s) { free(s); }

static hdm__source *failing_new(uint32_t w, uint32_t h, uint32_t bad)
{
    failing *f = calloc(1, sizeof *f);
    cr_assert_not_null(f);
    f->bad_row = bad;
    f->base.info = (hdm_info){w, h, 1, HDM_U8, HDM_FORMAT_PNG};
    f->base.path = "made.png";
    f->base.read = failing_read;
    f->base.close = failing_close;
    return &f->base;
}

Test(threads, prefetch_rows_then_the_failure)
{
    /* 1000 × 5000 gray: chunks of 256 rows, so the failure at row 3000 is in a later chunk
     * than the first */
    hdm_options opt;
    hdm_options_init(&opt);
    hdm__source *s;
    hdm_error err;
    cr_assert_eq(hdm__prefetch_source(failing_new(1000, 5000, 3000), &opt, &s, &err), HDM_OK);
    cr_assert_neq(s->read, failing_read, "read ahead");
    cr_assert_gt(s->held, 2 * 1000 * 256 - 1, "its chunks are counted");
    hdm_image *strip;
    cr_assert_eq(hdm_image_new(1000, 7, 1, HDM_U8, &strip), HDM_OK);
    uint32_t y = 0;
    hdm_status st = HDM_OK;
    while (!st) {
        uint32_t n = 5000 - y < 7 ? 5000 - y : 7;
        st = hdm__source_read(s, strip, n, &err);
        if (st)
            break;
        for (uint32_t r = 0; r < n; r++)
            for (uint32_t x = 0; x < 1000; x += 97)
                cr_assert_eq(((uint8_t *)hdm_row(strip, 0, r))[x], (uint8_t)(x * 7 + (y + r) * 13),
                             "row %u", y + r);
        y += n;
    }
    cr_assert_eq(st, HDM_ERR_CORRUPT);
    cr_assert(strstr(err.message, "made.png: bad row 3000"), "%s", err.message);
    cr_assert_geq(y, 2700u, "the rows of the chunks before the failure arrived (%u)", y);
    cr_assert_leq(y, 3000u);
    hdm__source_close(s);
    /* closed before reading all: the thread is joined, nothing leaks (ASan) */
    cr_assert_eq(hdm__prefetch_source(failing_new(1000, 5000, 6000), &opt, &s, &err), HDM_OK);
    cr_assert_eq(hdm__source_read(s, strip, 7, &err), HDM_OK);
    hdm__source_close(s);
    hdm_image_free(strip);
    /* a limit that leaves little room: not read ahead */
    opt.max_memory = 1 << 20;
    hdm__source *up = failing_new(1000, 5000, 6000);
    cr_assert_eq(hdm__prefetch_source(up, &opt, &s, &err), HDM_OK);
    cr_assert_eq(s, up);
    hdm__source_close(s);
}

/* Filters share their rows out too: every kind of kernel, border and alpha handling, on
 * images taller and shorter than a group, the same samples for every thread count. */
Test(threads, filters_same_images)
{
    /* a 21 × 21 matrix summing to about 0.93: 441 taps, through the FFT */
    static char big[4096];
    size_t at = 0;
    for (int j = 0; j < 21; j++)
        for (int i = 0; i < 21; i++)
            at += (size_t)snprintf(big + at, sizeof big - at, "%.4f%s", ((i * 7 + j * 3) % 5 + 1) * 0.0007,
                                   i < 20 ? "," : j < 20 ? ";" : ":border=mirror");
    char step_big[4200];
    snprintf(step_big, sizeof step_big, "filter:%s", big);
    const char *const steps[] = {
        "filter:gaussian:1.5", "filter:box:7:border=mirror", "filter:sharpen:border=zero",
        "filter:sobel-x:signed=abs", "filter:1,2;3,4:border=mirror",
        "filter:0,1,0,2;1,-4,1,0;0,1,0,3:signed=offset", "filter:gaussian:3:border=wrap",
        "mask:%s/m.png:feather=2", step_big,
    };
    static const uint32_t shapes[][4] = {
        {300, 200, 4, HDM_U8}, {1000, 37, 3, HDM_U16}, {41, 300, 2, HDM_F32}, {2000, 3, 1, HDM_U8},
        {7000, 1, 3, HDM_U8},
    };
    save_random("m.png", 300, 200, 1, HDM_U8, 3);
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        tu_rng r;
        tu_seed(&r, 20 + k);
        hdm_image *in = tu_image_random(shapes[k][0], shapes[k][1], shapes[k][2],
                                        (hdm_depth)shapes[k][3], &r);
        for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
            if (strncmp(steps[s], "mask", 4) == 0 && k != 0)
                continue; /* the mask is 300 × 200 */
            hdm_pipeline *p = pipeline((const char *const[]){steps[s], NULL});
            hdm_image *ref = NULL;
            for (int i = 0; i < NCOUNTS; i++) {
                for (uint32_t strip = 0; strip <= 5; strip += 5) {
                    hdm_options opt;
                    hdm_options_init(&opt);
                    opt.threads = counts[i];
                    opt.strip_rows = strip;
                    hdm_image *out;
                    hdm_error err;
                    cr_assert_eq(hdm_pipeline_run_image(p, in, &opt, &out, &err), HDM_OK,
                                 "%s: %s", steps[s], err.message);
                    if (!ref) {
                        ref = out;
                        continue;
                    }
                    if (!tu_same(out, ref))
                        cr_assert_fail("%s on %ux%u×%u: %u threads, strips of %u differ",
                                       steps[s], shapes[k][0], shapes[k][1], shapes[k][2],
                                       counts[i], strip);
                    hdm_image_free(out);
                }
            }
            hdm_image_free(ref);
            hdm_pipeline_free(p);
        }
        hdm_image_free(in);
    }
}
