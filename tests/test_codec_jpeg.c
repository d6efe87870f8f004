/* SPDX-License-Identifier: MIT */
/* test_codec_jpeg.c — JPEG through libjpeg-turbo: decodes identical to libjpeg's own, round
 * trips within PSNR bounds, the writing options, CMYK, damaged files and the limits */
#include "codec/codec.h"
#include "cli_assert.h"
#include "cli_run.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jpeglib.h>

TestSuite(jpeg, .init = tu_setup, .fini = tu_teardown);

/* ---- libjpeg, used directly as the reference ---- */

typedef struct ref_err {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int warnings;
} ref_err;

static void ref_error_exit(j_common_ptr c)
{
    longjmp(((ref_err *)c->err)->jump, 1);
}

static void ref_emit(j_common_ptr c, int level)
{
    if (level < 0)
        ((ref_err *)c->err)->warnings++;
}

/* What a test writes with libjpeg itself: samples interleaved, comps of them a pixel. */
typedef struct ref_spec {
    uint32_t w, h;
    int comps;
    J_COLOR_SPACE in, jpeg; /* input space, and the file's (jpeg_set_colorspace) */
    int quality;
    int hs, vs;             /* luma sampling factors */
    int restart_rows;       /* 0: no restart markers */
    bool adobe;             /* the APP14 marker (CMYK, YCCK) */
    bool progressive;
} ref_spec;

static unsigned char *ref_encode(const ref_spec *s, const unsigned char *pix, size_t *size)
{
    struct jpeg_compress_struct c;
    ref_err e;
    c.err = jpeg_std_error(&e.pub);
    e.pub.error_exit = ref_error_exit;
    unsigned char *out = NULL;
    unsigned long n = 0;
    if (setjmp(e.jump)) {
        jpeg_destroy_compress(&c);
        cr_assert_fail("libjpeg could not write the test image");
    }
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, &n);
    c.image_width = s->w;
    c.image_height = s->h;
    c.input_components = s->comps;
    c.in_color_space = s->in;
    jpeg_set_defaults(&c);
    jpeg_set_colorspace(&c, s->jpeg);
    jpeg_set_quality(&c, s->quality, TRUE);
    c.comp_info[0].h_samp_factor = s->hs;
    c.comp_info[0].v_samp_factor = s->vs;
    c.restart_in_rows = s->restart_rows;
    c.write_Adobe_marker = s->adobe;
    if (s->progressive)
        jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    size_t stride = (size_t)s->w * (size_t)s->comps;
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(pix + c.next_scanline * stride);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *size = n;
    return out;
}

/* libjpeg's own decode of a file (RGB for colour, gray for gray), interleaved; with what the
 * file says of itself. */
typedef struct ref_decoded {
    uint32_t w, h;
    int comps;
    int hs[4], vs[4];
    int ncomp;
    bool progressive;
    int warnings;
    unsigned char *pix;
} ref_decoded;

static bool ref_decode(const void *data, size_t size, bool pixels, ref_decoded *r)
{
    struct jpeg_decompress_struct d;
    ref_err e = {0};
    d.err = jpeg_std_error(&e.pub);
    e.pub.error_exit = ref_error_exit;
    e.pub.emit_message = ref_emit;
    memset(r, 0, sizeof *r);
    if (setjmp(e.jump)) {
        jpeg_destroy_decompress(&d);
        free(r->pix);
        r->pix = NULL;
        return false;
    }
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, data, (unsigned long)size);
    jpeg_read_header(&d, TRUE);
    r->w = d.image_width;
    r->h = d.image_height;
    r->ncomp = d.num_components;
    for (int c = 0; c < d.num_components && c < 4; c++)
        r->hs[c] = d.comp_info[c].h_samp_factor, r->vs[c] = d.comp_info[c].v_samp_factor;
    r->progressive = d.progressive_mode;
    if (pixels) {
        d.out_color_space = d.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
        d.dct_method = JDCT_ISLOW;
        jpeg_start_decompress(&d);
        r->comps = d.output_components;
        size_t stride = (size_t)r->w * (size_t)r->comps;
        r->pix = malloc(stride * r->h);
        while (d.output_scanline < d.output_height) {
            JSAMPROW row = r->pix + d.output_scanline * stride;
            jpeg_read_scanlines(&d, &row, 1);
        }
        jpeg_finish_decompress(&d);
    }
    r->warnings = e.warnings;
    jpeg_destroy_decompress(&d);
    return true;
}

/* ---- images and comparisons ---- */

/* A smooth image (gradients and a slow wave): what JPEG keeps well. */
static hdm_image *smooth(uint32_t w, uint32_t h, uint32_t ch, hdm_depth depth)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(w, h, ch, depth, &img), HDM_OK);
    double max = depth == HDM_U16 ? 65535 : 255;
    for (uint32_t c = 0; c < ch; c++)
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                double v = 0.5 + 0.3 * sin((x + 7.0 * c) / 23.0) * cos((y + 3.0 * c) / 31.0) +
                           0.15 * ((double)x / w - (double)y / h);
                tu_set(img, c, x, y, (uint32_t)lround(v * max));
            }
    return img;
}

/* PSNR in dB of img against want (8-bit samples, the same shape), every channel. */
static double psnr(const hdm_image *img, const unsigned char *want, uint32_t comps)
{
    cr_assert_eq(img->channels, comps);
    double se = 0;
    for (uint32_t y = 0; y < img->height; y++)
        for (uint32_t x = 0; x < img->width; x++)
            for (uint32_t c = 0; c < comps; c++) {
                double d = (double)tu_get(img, c, x, y) -
                           want[((size_t)y * img->width + x) * comps + c];
                se += d * d;
            }
    double mse = se / ((double)img->width * img->height * comps);
    return mse == 0 ? 99 : 10 * log10(255.0 * 255.0 / mse);
}

/* An 8-bit image's samples, interleaved. */
static unsigned char *interleave(const hdm_image *img)
{
    unsigned char *p = malloc((size_t)img->width * img->height * img->channels);
    cr_assert_eq(hdm_image_to_interleaved(img, p, (size_t)img->width * img->channels), HDM_OK);
    return p;
}

static void *save(const hdm_image *img, const hdm_options *opt, size_t *n)
{
    void *data;
    hdm_error e = {0};
    cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_JPEG, opt, &data, n, &e), HDM_OK, "%s",
                 e.message);
    return data;
}

static hdm_image *load(const void *data, size_t n)
{
    hdm_image *img;
    hdm_error e = {0};
    cr_assert_eq(hdm_load_memory(data, n, NULL, &img, &e), HDM_OK, "%s", e.message);
    return img;
}

/* ---- decoding: identical to libjpeg's own ---- */

/* Every common subsampling, with and without restart markers, gray, progressive: hadamard's
 * decode (from a file and from memory, through info too) is libjpeg's, sample for sample. */
Test(jpeg, decode_matches_libjpeg)
{
    static const struct { int hs, vs, restart; bool prog; } cases[] = {
        {1, 1, 0, false}, {2, 1, 0, false}, {2, 2, 0, false}, {1, 2, 0, false},
        {4, 1, 0, false}, {2, 2, 1, false}, {1, 1, 2, false}, {2, 2, 0, true},
    };
    hdm_image *src = smooth(61, 43, 3, HDM_U8); /* not a multiple of any MCU */
    unsigned char *rgb = interleave(src);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int gray = 0; gray <= 1; gray++) {
            ref_spec s = {61, 43, gray ? 1 : 3, gray ? JCS_GRAYSCALE : JCS_RGB,
                          gray ? JCS_GRAYSCALE : JCS_YCbCr, 85, cases[i].hs, cases[i].vs,
                          cases[i].restart, false, cases[i].prog};
            if (gray)
                s.hs = s.vs = 1;
            size_t n;
            unsigned char *jpg = ref_encode(&s, rgb, &n); /* gray: the first third of rgb */
            ref_decoded ref;
            cr_assert(ref_decode(jpg, n, true, &ref));
            cr_assert_eq(ref.warnings, 0);
            const char *path = tu_path("in.jpg");
            tu_write_file(path, jpg, n);
            hdm_image *a, *b;
            hdm_error e = {0};
            cr_assert_eq(hdm_load(path, NULL, &a, &e), HDM_OK, "case %zu: %s", i, e.message);
            b = load(jpg, n);
            tu_assert_same(a, b, "file and memory");
            hdm_info info;
            cr_assert_eq(hdm_info_read(path, NULL, &info, &e), HDM_OK, "%s", e.message);
            cr_assert(info.width == 61 && info.height == 43 && info.channels == (gray ? 1u : 3u) &&
                      info.depth == HDM_U8 && info.format == HDM_FORMAT_JPEG);
            cr_assert_eq(a->channels, gray ? 1u : 3u, "gray stays one channel");
            cr_assert_eq(psnr(a, ref.pix, a->channels), 99, "case %zu%s: differs from libjpeg",
                         i, gray ? " (gray)" : "");
            hdm_image_free(a);
            hdm_image_free(b);
            free(ref.pix);
            free(jpg);
        }
    }
    free(rgb);
    hdm_image_free(src);
}

/* ---- writing ---- */

Test(jpeg, round_trip_rgb_and_gray_psnr)
{
    for (uint32_t ch = 1; ch <= 3; ch += 2) {
        hdm_image *src = smooth(160, 120, ch, HDM_U8);
        unsigned char *want = interleave(src);
        hdm_options o;
        hdm_options_init(&o);
        o.jpeg_quality = 95;
        size_t n;
        void *jpg = save(src, &o, &n);
        ref_decoded ref;
        cr_assert(ref_decode(jpg, n, false, &ref));
        cr_assert_eq(ref.ncomp, (int)ch, "%u channels written as %d components", ch, ref.ncomp);
        hdm_image *back = load(jpg, n);
        double q = psnr(back, want, ch);
        cr_assert_geq(q, 40.0, "%u channels: PSNR %.2f dB at quality 95", ch, q);
        /* and a low quality is worse, and smaller */
        o.jpeg_quality = 20;
        size_t n20;
        void *j20 = save(src, &o, &n20);
        hdm_image *b20 = load(j20, n20);
        cr_assert_lt(psnr(b20, want, ch), q);
        cr_assert_lt(n20, n);
        hdm_image_free(b20);
        free(j20);
        hdm_image_free(back);
        free(jpg);
        free(want);
        hdm_image_free(src);
    }
}

/* 16-bit samples are written as the 8-bit image they round to (round(v * 255 / 65535), as the
 * other 8-bit writers): the file is the very one the rounded image makes. */
Test(jpeg, sixteen_bit_written_rounded)
{
    hdm_image *src = smooth(90, 70, 3, HDM_U16), *eight;
    cr_assert_eq(hdm_image_new(90, 70, 3, HDM_U8, &eight), HDM_OK);
    for (uint32_t c = 0; c < 3; c++)
        for (uint32_t y = 0; y < 70; y++)
            for (uint32_t x = 0; x < 90; x++)
                tu_set(eight, c, x, y, (tu_get(src, c, x, y) * 255u + 32767u) / 65535u);
    size_t n16, n8;
    void *a = save(src, NULL, &n16), *b = save(eight, NULL, &n8);
    cr_assert(n16 == n8 && memcmp(a, b, n8) == 0, "16-bit input wrote another file");
    hdm_image *back = load(a, n16);
    unsigned char *want = interleave(eight);
    cr_assert_eq(back->depth, HDM_U8);
    cr_assert_geq(psnr(back, want, 3), 40.0);
    free(want);
    hdm_image_free(back);
    free(a);
    free(b);
    hdm_image_free(eight);
    hdm_image_free(src);
}

typedef struct notes {
    int count;
    char last[512];
} notes;

static void on_notice(void *ctx, const char *message)
{
    notes *n = ctx;
    n->count++;
    snprintf(n->last, sizeof n->last, "%s", message);
}

/* Alpha is composited over the background (white by default): co = a * Cs + (1 - a) * Cb.
 * A fully transparent pixel holds a loud colour that must not show. The caller is told once. */
Test(jpeg, alpha_flattened_over_background)
{
    for (uint32_t ch = 2; ch <= 4; ch += 2) {
        hdm_image *src = smooth(96, 64, ch, HDM_U8);
        for (uint32_t y = 0; y < 64; y++)
            for (uint32_t x = 0; x < 96; x++) {
                uint32_t a = x < 32 ? 0 : x < 64 ? (x * 4 + y) % 256 : 255;
                tu_set(src, ch - 1, x, y, a);
                if (a == 0)
                    for (uint32_t c = 0; c + 1 < ch; c++)
                        tu_set(src, c, x, y, c == 1 ? 255 : 0); /* hidden green */
            }
        for (int bgi = 0; bgi < 2; bgi++) {
            uint32_t bg = bgi ? 0x3366cc : 0xffffff;
            unsigned bgc[3] = {bg >> 16, (bg >> 8) & 255, bg & 255};
            unsigned bg_gray = (299 * bgc[0] + 587 * bgc[1] + 114 * bgc[2] + 500) / 1000;
            uint32_t colours = ch - 1;
            unsigned char *want = malloc(96 * 64 * colours);
            for (uint32_t y = 0; y < 64; y++)
                for (uint32_t x = 0; x < 96; x++)
                    for (uint32_t c = 0; c < colours; c++) {
                        unsigned s = tu_get(src, c, x, y), a = tu_get(src, ch - 1, x, y);
                        unsigned b = colours == 1 ? bg_gray : bgc[c];
                        want[(y * 96 + x) * colours + c] =
                            (unsigned char)((s * a + b * (255 - a) + 127) / 255);
                    }
            hdm_options o;
            hdm_options_init(&o);
            o.jpeg_quality = 98;
            o.background = bg;
            notes nt = {0};
            o.notice = on_notice;
            o.notice_ctx = &nt;
            size_t n;
            void *jpg = save(src, &o, &n);
            cr_assert_eq(nt.count, 1, "told %d times", nt.count);
            char say[64];
            snprintf(say, sizeof say, "alpha flattened over #%06x", bg);
            cr_assert(strstr(nt.last, say), "notice: %s", nt.last);
            hdm_image *back = load(jpg, n);
            cr_assert_eq(back->channels, colours);
            double q = psnr(back, want, colours);
            cr_assert_geq(q, 40.0, "%u channels over #%06x: PSNR %.2f", ch, bg, q);
            /* away from the edge, the transparent part is the background within JPEG's error */
            for (uint32_t y = 8; y < 56; y++)
                for (uint32_t x = 4; x < 24; x++)
                    for (uint32_t c = 0; c < colours; c++) {
                        int d = (int)tu_get(back, c, x, y) - (colours == 1 ? (int)bg_gray
                                                                           : (int)bgc[c]);
                        cr_assert_leq(abs(d), 3, "the colour under alpha 0 shows (%d)", d);
                    }
            hdm_image_free(back);
            free(jpg);
            free(want);
        }
        hdm_image_free(src);
    }
    /* an opaque image: no notice */
    hdm_image *rgb = smooth(16, 16, 3, HDM_U8);
    hdm_options o;
    hdm_options_init(&o);
    notes nt = {0};
    o.notice = on_notice;
    o.notice_ctx = &nt;
    size_t n;
    free(save(rgb, &o, &n));
    cr_assert_eq(nt.count, 0);
    hdm_image_free(rgb);
}

/* auto: 4:4:4 from quality 90, 4:2:0 below; an explicit choice holds at any quality. Read
 * back from the file's frame header with libjpeg. */
Test(jpeg, subsampling_as_documented)
{
    static const struct { int q; hdm_jpeg_subsample s; int hs, vs; } cases[] = {
        {90, HDM_JPEG_SUBSAMPLE_AUTO, 1, 1}, {100, HDM_JPEG_SUBSAMPLE_AUTO, 1, 1},
        {89, HDM_JPEG_SUBSAMPLE_AUTO, 2, 2}, {50, HDM_JPEG_SUBSAMPLE_AUTO, 2, 2},
        {50, HDM_JPEG_SUBSAMPLE_444, 1, 1}, {95, HDM_JPEG_SUBSAMPLE_422, 2, 1},
        {95, HDM_JPEG_SUBSAMPLE_420, 2, 2},
    };
    hdm_image *src = smooth(40, 30, 3, HDM_U8);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hdm_options o;
        hdm_options_init(&o);
        o.jpeg_quality = cases[i].q;
        o.jpeg_subsample = cases[i].s;
        size_t n;
        void *jpg = save(src, &o, &n);
        ref_decoded r;
        cr_assert(ref_decode(jpg, n, false, &r));
        cr_assert(r.ncomp == 3 && r.hs[0] == cases[i].hs && r.vs[0] == cases[i].vs &&
                      r.hs[1] == 1 && r.vs[1] == 1 && r.hs[2] == 1 && r.vs[2] == 1,
                  "quality %d, choice %d: luma %dx%d, want %dx%d", cases[i].q, (int)cases[i].s,
                  r.hs[0], r.vs[0], cases[i].hs, cases[i].vs);
        cr_assert(!r.progressive);
        free(jpg);
    }
    hdm_options o;
    hdm_options_init(&o);
    o.jpeg_subsample = (hdm_jpeg_subsample)4;
    hdm_error e = {0};
    void *data;
    size_t n;
    cr_assert_eq(hdm_save_memory(src, HDM_FORMAT_JPEG, &o, &data, &n, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "jpeg_subsample"), "%s", e.message);
    hdm_options_init(&o);
    o.background = 0x1000000;
    cr_assert_eq(hdm_save_memory(src, HDM_FORMAT_JPEG, &o, &data, &n, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "background"), "%s", e.message);
    hdm_image_free(src);
}

/* Progressive output is marked so, and holds the same coefficients as the baseline file (only
 * the entropy coding differs), so it decodes to the same pixels. Huffman tables are optimised:
 * smaller than libjpeg's standard tables for the same image, same pixels. */
Test(jpeg, progressive_and_optimised)
{
    hdm_image *src = smooth(200, 150, 3, HDM_U8);
    hdm_options o;
    hdm_options_init(&o);
    o.jpeg_quality = 85;
    size_t nb, np;
    void *base = save(src, &o, &nb);
    o.jpeg_progressive = 1;
    void *prog = save(src, &o, &np);
    ref_decoded rb, rp;
    cr_assert(ref_decode(base, nb, true, &rb) && ref_decode(prog, np, true, &rp));
    cr_assert(!rb.progressive && rp.progressive, "progressive flag: %d %d", rb.progressive,
              rp.progressive);
    hdm_image *a = load(base, nb), *b = load(prog, np);
    tu_assert_same(a, b, "progressive against baseline");
    cr_assert_eq(psnr(a, rb.pix, 3), 99);
    /* libjpeg with its standard tables, same quality and sampling (4:2:0 at 85) */
    unsigned char *rgb = interleave(src);
    ref_spec s = {200, 150, 3, JCS_RGB, JCS_YCbCr, 85, 2, 2, 0, false, false};
    size_t ns;
    unsigned char *std = ref_encode(&s, rgb, &ns);
    hdm_image *c = load(std, ns);
    tu_assert_same(a, c, "optimised tables against standard ones");
    cr_assert_lt(nb, ns, "optimised %zu bytes, standard %zu", nb, ns);
    hdm_image_free(a);
    hdm_image_free(b);
    hdm_image_free(c);
    free(rb.pix);
    free(rp.pix);
    free(base);
    free(prog);
    free(std);
    free(rgb);
    hdm_image_free(src);
}

/* ---- CMYK and YCCK ---- */

/* Ink amounts (C, M, Y, K) in flat blocks, written by libjpeg as plain CMYK (no Adobe marker:
 * the values as they are), as Adobe CMYK and Adobe YCCK (Adobe's files store them inverted,
 * 255 = no ink). Each decodes to R = (1 - C)(1 - K) and so on. */
Test(jpeg, cmyk_and_ycck_to_rgb)
{
    enum { W = 64, H = 32 };
    static const unsigned char inks[4][4] = {
        {0, 0, 0, 0}, {255, 0, 0, 0}, {40, 200, 90, 60}, {10, 20, 30, 200},
    };
    unsigned char plain[W * H * 4], inverted[W * H * 4], want[W * H * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const unsigned char *ink = inks[x / 16];
            for (int c = 0; c < 4; c++) {
                plain[(y * W + x) * 4 + c] = ink[c];
                inverted[(y * W + x) * 4 + c] = (unsigned char)(255 - ink[c]);
            }
            for (int c = 0; c < 3; c++)
                want[(y * W + x) * 3 + c] =
                    (unsigned char)(((255 - ink[c]) * (255 - ink[3]) + 127) / 255);
        }
    static const struct { J_COLOR_SPACE space; bool adobe; const char *name; } kinds[] = {
        {JCS_CMYK, false, "CMYK"}, {JCS_CMYK, true, "Adobe CMYK"}, {JCS_YCCK, true, "YCCK"},
    };
    for (size_t k = 0; k < 3; k++) {
        ref_spec s = {W, H, 4, JCS_CMYK, kinds[k].space, 100, 1, 1, 0, kinds[k].adobe, false};
        size_t n;
        unsigned char *jpg = ref_encode(&s, kinds[k].adobe ? inverted : plain, &n);
        hdm_image *img = load(jpg, n);
        cr_assert_eq(img->channels, 3, "%s: %u channels", kinds[k].name, img->channels);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                if (x % 16 < 3 || x % 16 > 12)
                    continue; /* the edges between blocks ring */
                for (int c = 0; c < 3; c++) {
                    int d = (int)tu_get(img, (uint32_t)c, (uint32_t)x, (uint32_t)y) -
                            want[(y * W + x) * 3 + c];
                    cr_assert_leq(abs(d), 3, "%s: (%d, %d) channel %d off by %d", kinds[k].name,
                                  x, y, c, d);
                }
            }
        hdm_info info;
        cr_assert_eq(hdm_info_read_memory(jpg, n, NULL, &info, NULL), HDM_OK);
        cr_assert_eq(info.channels, 3);
        hdm_image_free(img);
        free(jpg);
    }
}

/* ---- damaged files ---- */

/* A run from path to out.png: refused as corrupt, the message naming the file, and nothing left
 * but the input. */
static void expect_refused(const char *in, const char *what)
{
    char path[512]; /* tu_path's buffers are reused */
    snprintf(path, sizeof path, "%s", in);
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "filter:box:1", NULL), HDM_OK);
    hdm_error e = {0};
    int before = tu_dir_entries();
    hdm_status st = hdm_pipeline_run_file(p, path, tu_path("out.png"), NULL, &e);
    cr_assert_eq(st, HDM_ERR_CORRUPT, "%s: status %d: %s", what, (int)st, e.message);
    cr_assert(strncmp(e.message, path, strlen(path)) == 0 && strstr(e.message, "corrupt JPEG"),
              "%s: %s", what, e.message);
    cr_assert(!tu_exists(tu_path("out.png")), "%s: output left", what);
    cr_assert_eq(tu_dir_entries(), before, "%s: a temporary was left", what);
    hdm_image *img;
    st = hdm_load(path, NULL, &img, &e);
    cr_assert_eq(st, HDM_ERR_CORRUPT, "%s: load: %d %s", what, (int)st, e.message);
    hdm_pipeline_free(p);
}

Test(jpeg, truncated_refused_everywhere)
{
    hdm_image *src = smooth(120, 90, 3, HDM_U8);
    for (int prog = 0; prog <= 1; prog++) {
        hdm_options o;
        hdm_options_init(&o);
        o.jpeg_progressive = prog;
        size_t n;
        unsigned char *jpg = save(src, &o, &n);
        char path[512];
        snprintf(path, sizeof path, "%s", tu_path("cut.jpg"));
        /* cut in the headers, in the scan data, and just before EOI */
        size_t cuts[] = {3, 20, 200, n / 3, n / 2, n - 40, n - 2, n - 1};
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
            tu_write_file(path, jpg, cuts[i]);
            char what[64];
            snprintf(what, sizeof what, "%s cut at %zu of %zu", prog ? "progressive" : "baseline",
                     cuts[i], n);
            expect_refused(path, what);
            if (cuts[i] > n / 4) {
                hdm_error e = {0};
                hdm_image *img;
                hdm_load(path, NULL, &img, &e);
                cr_assert(strstr(e.message, "truncated"), "%s: %s", what, e.message);
            }
        }
        free(jpg);
    }
    hdm_image_free(src);
}

Test(jpeg, corrupt_refused)
{
    hdm_image *src = smooth(120, 90, 3, HDM_U8);
    size_t n;
    unsigned char *jpg = save(src, NULL, &n);
    unsigned char *bad = malloc(n + 8);
    char path[512];
    snprintf(path, sizeof path, "%s", tu_path("bad.jpg"));
    /* a restart marker in a file without restarts, in the middle of the scan */
    unsigned char *sos = memmem(jpg, n, "\xFF\xDA", 2);
    cr_assert(sos);
    size_t mid = (size_t)(sos - jpg) + (n - (size_t)(sos - jpg)) / 2;
    while (jpg[mid] == 0xFF || jpg[mid - 1] == 0xFF)
        mid++;
    memcpy(bad, jpg, mid);
    memcpy(bad + mid, "\xFF\xD3", 2);
    memcpy(bad + mid + 2, jpg + mid, n - mid);
    tu_write_file(path, bad, n + 2);
    expect_refused(path, "stray RST marker");
    /* bytes that are not entropy-coded data between the scan and EOI */
    memcpy(bad, jpg, n - 2);
    memcpy(bad + n - 2, "\x00\x11\x22\x33\xFF\xD9", 6);
    tu_write_file(path, bad, n + 4);
    expect_refused(path, "extraneous bytes before EOI");
    /* the frame's first component naming a quantisation table never defined */
    memcpy(bad, jpg, n);
    unsigned char *sof = memmem(bad, n, "\xFF\xC0", 2);
    cr_assert(sof);
    sof[10 + 2] = 3; /* SOF0: length, precision, height, width, count, then id, factors, table */
    tu_write_file(path, bad, n);
    expect_refused(path, "undefined quantisation table");
    free(bad);
    free(jpg);
    hdm_image_free(src);
}

/* ---- limits ---- */

/* A header alone, claiming w x h (baseline or progressive, 3 components 1x1): SOI, one DQT,
 * SOF, one DHT pair, SOS and EOI, no data. */
static size_t header_only(unsigned char *f, unsigned w, unsigned h, bool progressive)
{
    size_t n = 0;
    f[n++] = 0xFF, f[n++] = 0xD8;
    f[n++] = 0xFF, f[n++] = 0xDB, f[n++] = 0, f[n++] = 67, f[n++] = 0;
    for (int i = 0; i < 64; i++)
        f[n++] = 1;
    f[n++] = 0xFF, f[n++] = progressive ? 0xC2 : 0xC0, f[n++] = 0, f[n++] = 17, f[n++] = 8;
    f[n++] = (unsigned char)(h >> 8), f[n++] = (unsigned char)h;
    f[n++] = (unsigned char)(w >> 8), f[n++] = (unsigned char)w, f[n++] = 3;
    for (int c = 1; c <= 3; c++)
        f[n++] = (unsigned char)c, f[n++] = 0x11, f[n++] = 0;
    /* one DC table: a single code of length 1 for category 0 */
    f[n++] = 0xFF, f[n++] = 0xC4, f[n++] = 0, f[n++] = 20, f[n++] = 0x00, f[n++] = 1;
    for (int i = 1; i < 16; i++)
        f[n++] = 0;
    f[n++] = 0;
    f[n++] = 0xFF, f[n++] = 0xDA, f[n++] = 0, f[n++] = 12, f[n++] = 3;
    for (int c = 1; c <= 3; c++)
        f[n++] = (unsigned char)c, f[n++] = 0x00;
    f[n++] = 0, f[n++] = progressive ? 0 : 63, f[n++] = 0;
    f[n++] = 0xFF, f[n++] = 0xD9;
    return n;
}

/* Run in a child under a 256 MB address-space limit: a decoder that allocated from the claimed
 * size (gigabytes) would fail with out of memory, not the limit. */
static void expect_limit_in_child(const unsigned char *f, size_t n, const hdm_options *o,
                                  const char *field)
{
    const char *path = tu_path("huge.jpg");
    tu_write_file(path, f, n);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {256u << 20, 256u << 20};
        if (!UNDER_ASAN)
            setrlimit(RLIMIT_AS, &rl);
        alarm(20);
        hdm_error e = {0};
        hdm_info info;
        hdm_image *img;
        hdm_status a = hdm_info_read(path, o, &info, &e);
        bool named = strstr(e.message, field) != NULL;
        hdm_status b = hdm_load(path, o, &img, &e);
        named &= strstr(e.message, field) != NULL;
        _exit(a == HDM_ERR_LIMIT && b == HDM_ERR_LIMIT && named ? 0 : 10 + (int)b);
    }
    int ws;
    cr_assert_eq(waitpid(pid, &ws, 0), pid);
    cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "%s: child status %d (signal %d)", field,
              WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
}

Test(jpeg, limits_refuse_before_allocation)
{
    unsigned char f[256];
    hdm_options o;
    /* 60000 x 60000: above max_pixels by default */
    hdm_options_init(&o);
    expect_limit_in_child(f, header_only(f, 60000, 60000, false), &o, "max_pixels");
    hdm_options_init(&o);
    o.max_width = 1000;
    expect_limit_in_child(f, header_only(f, 2000, 500, false), &o, "max_width");
    hdm_options_init(&o);
    o.max_height = 1000;
    expect_limit_in_child(f, header_only(f, 500, 2000, true), &o, "max_height");
    /* progressive 30000 x 30000 with the pixel limit raised: its coefficients (5.4 GB) are
     * above max_memory (4 GiB) */
    hdm_options_init(&o);
    o.max_pixels = (uint64_t)1 << 32;
    expect_limit_in_child(f, header_only(f, 30000, 30000, true), &o, "max_memory");
    /* and lowered: 2000 x 2000 progressive needs 24 MB of coefficients */
    hdm_options_init(&o);
    o.max_memory = 16u << 20;
    expect_limit_in_child(f, header_only(f, 2000, 2000, true), &o, "max_memory");
}

/* A baseline JPEG is decoded a scanline at a time: 4000 x 4000 RGB (48 MB decoded) runs with
 * max_memory at 16 MB, and the command's peak RSS stays far below the image. */
Test(jpeg, streamed_decode_holds_no_image, .timeout = 120)
{
    hdm_image *src;
    cr_assert_eq(hdm_image_new(4000, 4000, 3, HDM_U8, &src), HDM_OK);
    for (uint32_t c = 0; c < 3; c++)
        for (uint32_t y = 0; y < 4000; y++) {
            uint8_t *row = hdm_row(src, c, y);
            for (uint32_t x = 0; x < 4000; x++)
                row[x] = (uint8_t)((x / 16 + y / 16 + c * 70) * 3);
        }
    const char *in = tu_path("big.jpg"), *out = tu_path("out.png");
    hdm_error e = {0};
    cr_assert_eq(hdm_save(src, in, NULL, &e), HDM_OK, "%s", e.message);
    hdm_image_free(src);
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "filter:box:1", NULL), HDM_OK);
    hdm_options o;
    hdm_options_init(&o);
    o.max_memory = 16u << 20;
    cr_assert_eq(hdm_pipeline_run_file(p, in, out, &o, &e), HDM_OK, "%s", e.message);
    hdm_pipeline_free(p);
    /* the command in a child of its own, its peak resident memory measured */
    remove(out);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        execl(HDM_BINARY_DIR "/hadamard", "hadamard", "run", in, "-o", out, "filter:box:1",
              (char *)NULL);
        _exit(127);
    }
    int ws;
    struct rusage ru;
    cr_assert_eq(wait4(pid, &ws, 0, &ru), pid);
    cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    cr_assert(tu_exists(out));
    if (!UNDER_ASAN)
        cr_assert_lt(ru.ru_maxrss, 40 * 1024, "peak RSS %ld KB for a 48 MB image", ru.ru_maxrss);
    hdm_image *back;
    cr_assert_eq(hdm_load(out, NULL, &back, &e), HDM_OK, "%s", e.message);
    cr_assert(back->width == 4000 && back->height == 4000 && back->channels == 3);
    hdm_image_free(back);
}

/* A progressive file's coefficients count against max_memory: refused below them, read above. */
Test(jpeg, progressive_coefficients_counted)
{
    hdm_image *src = smooth(1200, 1000, 3, HDM_U8);
    hdm_options o;
    hdm_options_init(&o);
    o.jpeg_progressive = 1;
    size_t n;
    void *jpg = save(src, &o, &n);
    hdm_image_free(src);
    hdm_options_init(&o);
    o.max_memory = 6u << 20; /* the decoded image is 3.6 MB; the coefficients 7.2 MB */
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "filter:box:1", NULL), HDM_OK);
    void *res = NULL;
    size_t rn = 0;
    hdm_error e = {0};
    cr_assert_eq(hdm_pipeline_run_memory(p, jpg, n, HDM_FORMAT_PNG, &o, &res, &rn, &e),
                 HDM_ERR_LIMIT);
    cr_assert(strstr(e.message, "max_memory") && strstr(e.message, "progressive"), "%s",
              e.message);
    o.max_memory = 64u << 20;
    cr_assert_eq(hdm_pipeline_run_memory(p, jpg, n, HDM_FORMAT_PNG, &o, &res, &rn, &e), HDM_OK,
                 "%s", e.message);
    hdm_free(res);
    hdm_pipeline_free(p);
    free(jpg);
}

/* A raised cancel flag stops a progressive decode while libjpeg reads its scans. */
Test(jpeg, cancel_stops_progressive_read)
{
    hdm_image *src = smooth(300, 200, 3, HDM_U8);
    hdm_options o;
    hdm_options_init(&o);
    o.jpeg_progressive = 1;
    size_t n;
    void *jpg = save(src, &o, &n);
    hdm_image_free(src);
    static volatile int stop = 1;
    hdm_options_init(&o);
    o.cancel = &stop;
    hdm__source *s = NULL;
    hdm_error e = {0};
    cr_assert_eq(hdm__source_open_memory(jpg, n, "p.jpg", &o, &s, &e), HDM_ERR_INTERRUPTED,
                 "%s", e.message);
    cr_assert_null(s);
    stop = 0;
    cr_assert_eq(hdm__source_open_memory(jpg, n, "p.jpg", &o, &s, &e), HDM_OK, "%s", e.message);
    hdm__source_close(s);
    free(jpg);
}

/* ---- the command ---- */

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The writing options on the command line: alpha flattened and said once for a whole batch,
 * --background, --jpeg-subsample and --jpeg-progressive in the file, bad values refused as
 * usage errors before anything is written, and a note when they cannot apply. */
Test(jpeg, command_options)
{
    hdm_image *src = smooth(48, 32, 4, HDM_U8);
    cr_assert_eq(hdm_save(src, tu_path("a.png"), NULL, NULL), HDM_OK);
    cr_assert_eq(hdm_save(src, tu_path("b.png"), NULL, NULL), HDM_OK);
    cr_assert_eq(hdm_save(src, tu_path("c.png"), NULL, NULL), HDM_OK);
    hdm_image_free(src);
    cli_result r;
    CLI(&r, tu_dir, "batch", "-q", "--out-dir", "out", "--format", "jpg", "filter:box:1", "--",
        "a.png", "b.png", "c.png");
    cli_expect_ok(&r);
    cr_assert_eq(count(r.err, "alpha flattened over #ffffff"), 1, "stderr: %s", r.err);
    hdm_info info;
    cr_assert_eq(hdm_info_read(tu_path("out/b.jpg"), NULL, &info, NULL), HDM_OK);
    cr_assert_eq(info.channels, 3);

    CLI(&r, tu_dir, "run", "a.png", "-o", "p.jpg", "filter:box:1", "--background", "#102030",
        "--jpeg-subsample", "422", "--jpeg-progressive", "--quality", "95");
    cli_expect_ok(&r);
    cr_assert(strstr(r.err, "p.jpg: alpha flattened over #102030"), "stderr: %s", r.err);
    size_t n;
    void *jpg = tu_read_file(tu_path("p.jpg"), &n);
    ref_decoded d;
    cr_assert(ref_decode(jpg, n, false, &d));
    cr_assert(d.progressive && d.hs[0] == 2 && d.vs[0] == 1, "progressive %d, %dx%d",
              d.progressive, d.hs[0], d.vs[0]);
    free(jpg);

    static const char *const bad[][2] = {{"--background", "red"}, {"--background", "#12345"},
                                         {"--jpeg-subsample", "411"}};
    for (size_t i = 0; i < 3; i++) {
        CLI(&r, tu_dir, "run", "a.png", "-o", "x.jpg", "filter:box:1", bad[i][0], bad[i][1]);
        cr_assert_eq(r.status, 2, "%s %s: status %d", bad[i][0], bad[i][1], r.status);
        cr_assert(strstr(r.err, bad[i][1]), "%s", r.err);
        cr_assert(!tu_exists(tu_path("x.jpg")));
    }
    CLI(&r, tu_dir, "run", "a.png", "-o", "x.png", "filter:box:1", "--jpeg-progressive");
    cli_expect_ok(&r);
    cr_assert(strstr(r.err, "--jpeg-progressive has no effect on PNG output"), "%s", r.err);
}
