/* SPDX-License-Identifier: MIT */
/* test_codec_webp.c — WebP through libwebp: lossless round trips bit-exact, lossy within PSNR
 * bounds with alpha kept, files made by libwebp itself (animations too), damaged files and the
 * limits */
#include "cli_assert.h"
#include "cli_run.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <webp/decode.h>
#include <webp/encode.h>
#include <webp/mux.h>

TestSuite(webp, .init = tu_setup, .fini = tu_teardown);

/* ---- images ---- */

/* A smooth image (gradients and a slow wave): what lossy WebP keeps well. Alpha, when there is
 * a fourth or second channel, runs from transparent to opaque across. */
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
                if ((ch == 2 || ch == 4) && c == ch - 1)
                    v = (double)x / (w - 1);
                tu_set(img, c, x, y, (uint32_t)lround(v * max));
            }
    return img;
}

static hdm_options lossless(void)
{
    hdm_options o;
    hdm_options_init(&o);
    o.webp_lossless = 1;
    return o;
}

static void *save(const hdm_image *img, const hdm_options *opt, size_t *n)
{
    void *data;
    hdm_error e = {0};
    cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_WEBP, opt, &data, n, &e), HDM_OK, "%s",
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

/* What a lossless file must read back as: gray expanded to RGB (gray+alpha to RGBA), 16-bit
 * rounded to 8 as the other 8-bit writers do, round(v * 255 / 65535). */
static hdm_image *expected(const hdm_image *src)
{
    uint32_t ch = src->channels <= 2 ? src->channels + 2 : src->channels;
    hdm_image *want;
    cr_assert_eq(hdm_image_new(src->width, src->height, ch, HDM_U8, &want), HDM_OK);
    for (uint32_t c = 0; c < ch; c++) {
        uint32_t from = src->channels <= 2 ? (c < 3 ? 0 : 1) : c;
        for (uint32_t y = 0; y < src->height; y++)
            for (uint32_t x = 0; x < src->width; x++) {
                uint32_t v = tu_get(src, from, x, y);
                tu_set(want, c, x, y, src->depth == HDM_U16 ? (v * 255u + 32767u) / 65535u : v);
            }
    }
    return want;
}

/* PSNR in dB of a against b over the first comps channels (8-bit, the same size). */
static double psnr(const hdm_image *a, const hdm_image *b, uint32_t comps)
{
    double se = 0;
    for (uint32_t c = 0; c < comps; c++)
        for (uint32_t y = 0; y < a->height; y++)
            for (uint32_t x = 0; x < a->width; x++) {
                double d = (double)tu_get(a, c, x, y) - (double)tu_get(b, c, x, y);
                se += d * d;
            }
    double mse = se / ((double)a->width * a->height * comps);
    return mse == 0 ? 99 : 10 * log10(255.0 * 255.0 / mse);
}

/* An image from interleaved 8-bit samples (libwebp's decode). */
static hdm_image *from_interleaved(const uint8_t *pix, uint32_t w, uint32_t h, uint32_t ch)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(w, h, ch, HDM_U8, &img), HDM_OK);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (uint32_t c = 0; c < ch; c++)
                tu_set(img, c, x, y, pix[((size_t)y * w + x) * ch + c]);
    return img;
}

/* libwebp's own decode of a still file, RGB or RGBA. */
static hdm_image *ref_decode(const void *data, size_t n, uint32_t ch)
{
    int w, h;
    uint8_t *pix = ch == 4 ? WebPDecodeRGBA(data, n, &w, &h) : WebPDecodeRGB(data, n, &w, &h);
    cr_assert(pix, "libwebp cannot decode the file");
    hdm_image *img = from_interleaved(pix, (uint32_t)w, (uint32_t)h, ch);
    WebPFree(pix);
    return img;
}

/* ---- writing and reading back ---- */

/* Lossless keeps every sample: RGB, RGBA (with colours under transparent pixels), gray and
 * gray+alpha as RGB(A), 16-bit rounded to 8; from memory and from a file (read in pieces:
 * noise makes it larger than one), and the same as libwebp's own decode. */
Test(webp, lossless_round_trips_exact)
{
    tu_rng r;
    tu_seed(&r, 13);
    struct { uint32_t w, h, ch; hdm_depth d; bool noise; } cases[] = {
        {97, 61, 3, HDM_U8, false},  {64, 40, 4, HDM_U8, false}, {300, 300, 4, HDM_U8, true},
        {50, 33, 1, HDM_U8, false},  {41, 29, 2, HDM_U8, true},  {90, 70, 3, HDM_U16, false},
        {33, 21, 4, HDM_U16, true},  {1, 1, 3, HDM_U8, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hdm_image *src = cases[i].noise
                             ? tu_image_random(cases[i].w, cases[i].h, cases[i].ch, cases[i].d, &r)
                             : smooth(cases[i].w, cases[i].h, cases[i].ch, cases[i].d);
        if (src->channels == 4 && src->depth == HDM_U8) /* transparent pixels of loud colour */
            for (uint32_t x = 0; x < src->width; x += 3)
                tu_set(src, 3, x, src->height / 2, 0), tu_set(src, 0, x, src->height / 2, 255);
        hdm_options o = lossless();
        size_t n;
        void *webp = save(src, &o, &n);
        hdm_image *want = expected(src);
        char what[64];
        snprintf(what, sizeof what, "case %zu (%u channels, depth %d)", i, cases[i].ch,
                 (int)cases[i].d);
        hdm_image *back = load(webp, n);
        tu_assert_same(back, want, what);
        hdm_image *ref = ref_decode(webp, n, want->channels);
        tu_assert_same(ref, want, what);
        tu_write_file(tu_path("f.webp"), webp, n);
        hdm_image *file;
        hdm_error e = {0};
        cr_assert_eq(hdm_load(tu_path("f.webp"), NULL, &file, &e), HDM_OK, "%s", e.message);
        tu_assert_same(file, want, what);
        hdm_info info;
        cr_assert_eq(hdm_info_read(tu_path("f.webp"), NULL, &info, NULL), HDM_OK);
        cr_assert(info.width == src->width && info.height == src->height &&
                  info.channels == want->channels && info.depth == HDM_U8 &&
                  info.format == HDM_FORMAT_WEBP, "%s: info", what);
        hdm_image_free(file);
        hdm_image_free(ref);
        hdm_image_free(back);
        hdm_image_free(want);
        hdm_image_free(src);
        free(webp);
    }
}

/* Lossy at the default quality 90 keeps a smooth image above 35 dB; a lower quality makes a
 * smaller file; an opaque image reads back as RGB. */
Test(webp, lossy_psnr_bounded)
{
    hdm_image *src = smooth(256, 192, 3, HDM_U8);
    size_t n90, n30;
    void *q90 = save(src, NULL, &n90);
    hdm_options o;
    hdm_options_init(&o);
    o.jpeg_quality = 30;
    void *q30 = save(src, &o, &n30);
    cr_assert_lt(n30, n90, "quality 30: %zu bytes, 90: %zu", n30, n90);
    hdm_image *back = load(q90, n90);
    cr_assert_eq(back->channels, 3);
    double db = psnr(back, src, 3);
    cr_assert_geq(db, 35.0, "PSNR %.2f dB at quality 90", db);
    hdm_image *ref = ref_decode(q90, n90, 3);
    tu_assert_same(back, ref, "lossy decode against libwebp's");
    /* it is lossy: not the lossless file */
    hdm_options l = lossless();
    size_t nl;
    void *ll = save(src, &l, &nl);
    cr_assert(nl != n90 || memcmp(ll, q90, nl) != 0);
    free(ll);
    hdm_image_free(ref);
    hdm_image_free(back);
    free(q30);
    free(q90);
    hdm_image_free(src);
}

/* Lossy colour, lossless alpha (libwebp's default): every alpha sample comes back as it was. */
Test(webp, lossy_keeps_alpha)
{
    hdm_image *src = smooth(200, 120, 4, HDM_U8);
    for (uint32_t y = 0; y < 120; y += 7) /* some rows of varied alpha */
        for (uint32_t x = 0; x < 200; x++)
            tu_set(src, 3, x, y, (x * 37 + y) & 255);
    size_t n;
    void *webp = save(src, NULL, &n);
    hdm_image *back = load(webp, n);
    cr_assert_eq(back->channels, 4);
    for (uint32_t y = 0; y < 120; y++)
        for (uint32_t x = 0; x < 200; x++)
            cr_assert_eq(tu_get(back, 3, x, y), tu_get(src, 3, x, y), "alpha at %u,%u", x, y);
    hdm_image_free(back);
    free(webp);
    hdm_image_free(src);
}

/* WebP holds at most 16383 a side: a larger image is refused, nothing written; and the whole
 * picture libwebp encodes is counted against max_memory. */
Test(webp, writer_limits)
{
    hdm_image *wide;
    cr_assert_eq(hdm_image_new(16384, 1, 3, HDM_U8, &wide), HDM_OK);
    void *data = NULL;
    size_t n = 0;
    hdm_error e = {0};
    cr_assert_eq(hdm_save_memory(wide, HDM_FORMAT_WEBP, NULL, &data, &n, &e), HDM_ERR_LIMIT);
    cr_assert(strstr(e.message, "16384x1") && strstr(e.message, "16383"), "%s", e.message);
    cr_assert_eq(hdm_save(wide, tu_path("w.webp"), NULL, &e), HDM_ERR_LIMIT);
    cr_assert(!tu_exists(tu_path("w.webp")));
    hdm_image_free(wide);
    hdm_image *img = smooth(1000, 1000, 3, HDM_U8);
    hdm_options o;
    hdm_options_init(&o);
    o.max_memory = 4u << 20; /* the picture alone is 4 MB */
    cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_WEBP, &o, &data, &n, &e), HDM_ERR_LIMIT);
    cr_assert(strstr(e.message, "max_memory") && strstr(e.message, "whole image"), "%s",
              e.message);
    hdm_image_free(img);
}

/* ---- files made by libwebp ---- */

/* Lossy and lossless, with and without alpha, as libwebp's simple API writes them (VP8, VP8L,
 * VP8X with ALPH): the same samples as libwebp's decode, RGB when there is no alpha. */
Test(webp, decode_matches_libwebp)
{
    hdm_image *rgba = smooth(150, 100, 4, HDM_U8);
    uint8_t *pix = malloc(150 * 100 * 4), *rgb = malloc(150 * 100 * 3);
    cr_assert_eq(hdm_image_to_interleaved(rgba, pix, 150 * 4), HDM_OK);
    for (size_t i = 0; i < 150 * 100; i++)
        memcpy(rgb + i * 3, pix + i * 4, 3);
    for (int kind = 0; kind < 4; kind++) {
        uint8_t *out = NULL;
        size_t n = kind == 0   ? WebPEncodeRGB(rgb, 150, 100, 450, 80, &out)
                   : kind == 1 ? WebPEncodeRGBA(pix, 150, 100, 600, 80, &out)
                   : kind == 2 ? WebPEncodeLosslessRGB(rgb, 150, 100, 450, &out)
                               : WebPEncodeLosslessRGBA(pix, 150, 100, 600, &out);
        cr_assert(n > 0, "libwebp could not write kind %d", kind);
        uint32_t ch = kind & 1 ? 4 : 3;
        hdm_image *back = load(out, n), *ref = ref_decode(out, n, ch);
        tu_assert_same(back, ref, kind == 0 ? "lossy" : kind == 1 ? "lossy+alpha"
                                  : kind == 2 ? "lossless" : "lossless+alpha");
        tu_write_file(tu_path("k.webp"), out, n);
        hdm_image *file;
        cr_assert_eq(hdm_load(tu_path("k.webp"), NULL, &file, NULL), HDM_OK);
        tu_assert_same(file, ref, "from a file");
        hdm_image_free(file);
        hdm_image_free(ref);
        hdm_image_free(back);
        WebPFree(out);
    }
    free(rgb);
    free(pix);
    hdm_image_free(rgba);
}

/* Two frames of w x h through libwebpmux's animation encoder, frames kept as given (lossless,
 * no sub-frame tricks needed to check the first). */
static uint8_t *animation(uint32_t w, uint32_t h, const hdm_image *f0, const hdm_image *f1,
                          size_t *size)
{
    WebPAnimEncoderOptions ao;
    cr_assert(WebPAnimEncoderOptionsInit(&ao));
    WebPAnimEncoder *enc = WebPAnimEncoderNew((int)w, (int)h, &ao);
    cr_assert(enc);
    WebPConfig cfg;
    cr_assert(WebPConfigInit(&cfg));
    cfg.lossless = 1;
    cfg.exact = 1;
    const hdm_image *frames[2] = {f0, f1};
    for (int i = 0; i < 2; i++) {
        WebPPicture pic;
        cr_assert(WebPPictureInit(&pic));
        pic.use_argb = 1;
        pic.width = (int)w, pic.height = (int)h;
        uint8_t *pix = malloc((size_t)w * h * 4);
        cr_assert_eq(hdm_image_to_interleaved(frames[i], pix, (size_t)w * 4), HDM_OK);
        cr_assert(WebPPictureImportRGBA(&pic, pix, (int)w * 4));
        free(pix);
        cr_assert(WebPAnimEncoderAdd(enc, &pic, i * 100, &cfg), "frame %d", i);
        WebPPictureFree(&pic);
    }
    cr_assert(WebPAnimEncoderAdd(enc, NULL, 200, NULL));
    WebPData d;
    WebPDataInit(&d);
    cr_assert(WebPAnimEncoderAssemble(enc, &d));
    WebPAnimEncoderDelete(enc);
    uint8_t *out = malloc(d.size);
    memcpy(out, d.bytes, d.size);
    *size = d.size;
    WebPDataClear(&d);
    return out;
}

/* An animation reads as its first frame on the canvas, the size its header says. */
Test(webp, animation_gives_first_frame)
{
    tu_rng r;
    tu_seed(&r, 7);
    hdm_image *f0 = smooth(120, 80, 4, HDM_U8), *f1 = tu_image_random(120, 80, 4, HDM_U8, &r);
    for (uint32_t y = 0; y < 80; y++) /* alpha where libwebp keeps the colour exactly */
        for (uint32_t x = 0; x < 120; x++)
            tu_set(f0, 3, x, y, 255), tu_set(f1, 3, x, y, 255);
    size_t n;
    uint8_t *anim = animation(120, 80, f0, f1, &n);
    cr_assert(memmem(anim, n, "ANIM", 4), "libwebp did not write an animation");
    WebPBitstreamFeatures ft;
    cr_assert_eq(WebPGetFeatures(anim, n, &ft), VP8_STATUS_OK);
    cr_assert(ft.has_animation);
    hdm_image *back = load(anim, n);
    cr_assert(back->width == 120 && back->height == 80, "%ux%u", back->width, back->height);
    hdm_image *want = f0;
    hdm_image *three = NULL;
    if (back->channels == 3) { /* no alpha flag: the canvas as RGB */
        cr_assert_eq(hdm_image_new(120, 80, 3, HDM_U8, &three), HDM_OK);
        for (uint32_t c = 0; c < 3; c++)
            for (uint32_t y = 0; y < 80; y++)
                for (uint32_t x = 0; x < 120; x++)
                    tu_set(three, c, x, y, tu_get(f0, c, x, y));
        want = three;
    }
    tu_assert_same(back, want, "first frame");
    tu_write_file(tu_path("a.webp"), anim, n);
    hdm_image *file;
    hdm_error e = {0};
    cr_assert_eq(hdm_load(tu_path("a.webp"), NULL, &file, &e), HDM_OK, "%s", e.message);
    tu_assert_same(file, want, "first frame from a file");
    hdm_info info;
    cr_assert_eq(hdm_info_read(tu_path("a.webp"), NULL, &info, NULL), HDM_OK);
    cr_assert(info.width == 120 && info.height == 80 && info.format == HDM_FORMAT_WEBP);
    /* the command too */
    cli_result res;
    CLI(&res, tu_dir, "run", "a.webp", "-o", "first.png", "filter:box:1");
    cli_expect_ok(&res);
    hdm_image_free(file);
    hdm_image_free(three);
    hdm_image_free(back);
    free(anim);
    hdm_image_free(f1);
    hdm_image_free(f0);
}

/* ---- damaged files ---- */

/* A run from path to out.png: refused as corrupt, the message naming the file and WebP, and
 * nothing left but the input; hdm_load refuses it too. */
static void expect_refused(const char *in, const char *what)
{
    char path[512];
    snprintf(path, sizeof path, "%s", in);
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "filter:box:1", NULL), HDM_OK);
    hdm_error e = {0};
    int before = tu_dir_entries();
    hdm_status st = hdm_pipeline_run_file(p, path, tu_path("out.png"), NULL, &e);
    cr_assert_eq(st, HDM_ERR_CORRUPT, "%s: status %d: %s", what, (int)st, e.message);
    cr_assert(strncmp(e.message, path, strlen(path)) == 0 && strstr(e.message, "WebP"),
              "%s: %s", what, e.message);
    cr_assert(!tu_exists(tu_path("out.png")), "%s: output left", what);
    cr_assert_eq(tu_dir_entries(), before, "%s: a temporary was left", what);
    hdm_image *img;
    st = hdm_load(path, NULL, &img, &e);
    cr_assert_eq(st, HDM_ERR_CORRUPT, "%s: load: %d %s", what, (int)st, e.message);
    hdm_pipeline_free(p);
}

Test(webp, truncated_refused_everywhere)
{
    tu_rng r;
    tu_seed(&r, 3);
    hdm_image *src = tu_image_random(200, 150, 4, HDM_U8, &r);
    hdm_image *f1 = smooth(200, 150, 4, HDM_U8);
    for (int kind = 0; kind < 3; kind++) {
        hdm_options o = lossless();
        size_t n;
        unsigned char *webp = kind == 2 ? animation(200, 150, src, f1, &n)
                                        : save(src, kind ? &o : NULL, &n);
        size_t cuts[] = {12, 20, 30, 40, n / 3, n / 2, n - 100, n - 1};
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
            tu_write_file(tu_path("cut.webp"), webp, cuts[i]);
            char what[80];
            snprintf(what, sizeof what, "%s cut at %zu of %zu",
                     kind == 0 ? "lossy" : kind == 1 ? "lossless" : "animation", cuts[i], n);
            expect_refused(tu_path("cut.webp"), what);
            hdm_image *img;
            hdm_error e = {0};
            cr_assert_neq(hdm_load_memory(webp, cuts[i], NULL, &img, &e), HDM_OK, "%s", what);
            if (cuts[i] > 40) {
                hdm_load(tu_path("cut.webp"), NULL, &img, &e);
                cr_assert(strstr(e.message, "truncated"), "%s: %s", what, e.message);
            }
        }
        free(webp);
    }
    hdm_image_free(f1);
    hdm_image_free(src);
}

Test(webp, corrupt_refused)
{
    hdm_image *src = smooth(120, 90, 3, HDM_U8);
    hdm_options o = lossless();
    size_t n;
    unsigned char *ll = save(src, &o, &n);
    unsigned char *bad = malloc(n);
    /* VP8L's signature byte (RFC 9649, 3.2: 0x2f) */
    memcpy(bad, ll, n);
    unsigned char *vp8l = memmem(bad, n, "VP8L", 4);
    cr_assert(vp8l);
    vp8l[8] = 0x2e;
    tu_write_file(tu_path("bad.webp"), bad, n);
    expect_refused(tu_path("bad.webp"), "VP8L signature");
    /* lossless data scrambled after its header */
    memcpy(bad, ll, n);
    for (size_t i = 40; i < n; i++)
        bad[i] ^= 0x5a;
    tu_write_file(tu_path("bad.webp"), bad, n);
    expect_refused(tu_path("bad.webp"), "scrambled VP8L");
    free(bad);
    size_t m;
    unsigned char *lossy = save(src, NULL, &m);
    bad = malloc(m);
    /* the VP8 key frame's start code (RFC 6386, 9.1: 9d 01 2a) */
    memcpy(bad, lossy, m);
    unsigned char *sc = memmem(bad, m, "\x9d\x01\x2a", 3);
    cr_assert(sc);
    sc[1] = 0x02;
    tu_write_file(tu_path("bad.webp"), bad, m);
    expect_refused(tu_path("bad.webp"), "VP8 start code");
    free(bad);
    free(lossy);
    free(ll);
    hdm_image_free(src);
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* The RIFF size is the file's from offset 8 (RFC 9649, 2.4). A file whose size field lies -
 * larger than the file (cut short), smaller than its chunks (the image's, or the EXIF after it
 * left outside), or with bytes appended - is refused by info as by the decoder: the same
 * one-line message naming the file, from a file, from memory and from standard input. */
Test(webp, riff_size_must_be_the_files)
{
    hdm_image *src = smooth(40, 30, 3, HDM_U8);
    hdm_options o = lossless();
    size_t n0;
    unsigned char *plain = save(src, &o, &n0);
    hdm_image_free(src);
    WebPMux *mux = WebPMuxNew();
    cr_assert_eq(WebPMuxSetImage(mux, &(WebPData){plain, n0}, 1), WEBP_MUX_OK);
    static const unsigned char exif[] = "MM\0*\0\0\0\x08\0\0\0\0\0\0";
    cr_assert_eq(WebPMuxSetChunk(mux, "EXIF", &(WebPData){exif, sizeof exif - 1}, 1),
                 WEBP_MUX_OK);
    WebPData out;
    WebPDataInit(&out);
    cr_assert_eq(WebPMuxAssemble(mux, &out), WEBP_MUX_OK);
    WebPMuxDelete(mux);
    size_t n = out.size;
    unsigned char *good = malloc(n + 64);
    memcpy(good, out.bytes, n);
    WebPDataClear(&out);
    free(plain);
    unsigned char *exif_at = memmem(good, n, "EXIF", 4);
    cr_assert(exif_at);
    uint32_t before_exif = (uint32_t)(exif_at - good);
    struct {
        const char *what;
        uint32_t riff; /* the size field written */
        size_t len;    /* the file's bytes */
        const char *says;
    } cases[] = {
        {"a size 2 past the end", (uint32_t)n - 8 + 2, n, "truncated WebP"},
        {"a size 1000 past the end", (uint32_t)n - 8 + 1000, n, "truncated WebP"},
        {"the file cut, the size kept", (uint32_t)n - 8, n - 10, "truncated WebP"},
        {"a size that leaves the EXIF chunk out", before_exif - 8, n, "more than"},
        {"a size within the image chunk", 40, n, "corrupt WebP"},
        {"garbage appended", (uint32_t)n - 8, n + 64, "more than"},
        {"one zero byte appended", (uint32_t)n - 8, n + 1, "more than"},
    };
    cli_result *info = malloc(sizeof *info), *run = malloc(sizeof *run);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        unsigned char *f = malloc(cases[i].len);
        memset(f, 0, cases[i].len);
        memcpy(f, good, cases[i].len < n ? cases[i].len : n);
        if (cases[i].len > n + 1)
            memset(f + n, 'g', cases[i].len - n);
        put_le32(f + 4, cases[i].riff);
        tu_write_file(tu_path("lie.webp"), f, cases[i].len);
        const char *what = cases[i].what;
        hdm_file_info fi = {.size = sizeof fi};
        hdm_error e = {0};
        cr_assert_eq(hdm_file_info_read(tu_path("lie.webp"), NULL, &fi, &e), HDM_ERR_CORRUPT,
                     "%s: %s", what, e.message);
        cr_assert(strstr(e.message, "lie.webp") && strstr(e.message, cases[i].says), "%s: %s",
                  what, e.message);
        char info_msg[sizeof e.message];
        snprintf(info_msg, sizeof info_msg, "%s", e.message);
        hdm_image *img;
        cr_assert_eq(hdm_load(tu_path("lie.webp"), NULL, &img, &e), HDM_ERR_CORRUPT, "%s", what);
        cr_assert_str_eq(e.message, info_msg, "%s: the decoder and info say the same", what);
        cr_assert_eq(hdm_file_info_read_memory(f, cases[i].len, NULL, &fi, &e), HDM_ERR_CORRUPT,
                     "%s (memory): %s", what, e.message);
        cr_assert_eq(hdm_load_memory(f, cases[i].len, NULL, &img, &e), HDM_ERR_CORRUPT,
                     "%s (memory)", what);
        CLI(info, tu_dir, "info", "lie.webp");
        CLI_REFUSED(info, 1, "lie.webp", cases[i].says);
        CLI(run, tu_dir, "run", "lie.webp", "-o", "x.png", "filter:box:1");
        CLI_REFUSED(run, 1, "lie.webp", cases[i].says);
        cr_assert_str_eq(info->err, run->err, "%s", what);
        cr_assert(!tu_exists(tu_path("x.png")), "%s", what);
        cli_opts in = {.in = f, .in_len = cases[i].len};
        CLI_WITH(info, tu_dir, &in, "info", "-");
        CLI_REFUSED(info, 1, "standard input", cases[i].says);
        CLI_WITH(run, tu_dir, &in, "run", "-", "-o", "x.png", "filter:box:1");
        CLI_REFUSED(run, 1, "standard input", cases[i].says);
        cr_assert_str_eq(info->err, run->err, "%s (standard input)", what);
        free(f);
    }
    /* the file as it was is read by both */
    tu_write_file(tu_path("ok.webp"), good, n);
    CLI(info, tu_dir, "info", "ok.webp");
    cli_expect_ok(info);
    cr_assert(strstr(info->out, "EXIF: 14 bytes"), "%s", info->out);
    CLI(run, tu_dir, "run", "ok.webp", "-o", "x.png", "filter:box:1");
    cli_expect_ok(run);
    free(info);
    free(run);
    free(good);
}

/* ---- limits ---- */

/* A header alone: RIFF, and a VP8X chunk claiming a w x h canvas (RFC 9649, 2.7), optionally
 * animated, then an empty VP8L chunk. */
static size_t header_only(unsigned char *f, uint32_t w, uint32_t h, bool animated)
{
    size_t n = 0;
    memcpy(f, "RIFF\0\0\0\0WEBPVP8X", 16), n = 16;
    f[n++] = 10, f[n++] = 0, f[n++] = 0, f[n++] = 0;
    f[n++] = animated ? 0x12 : 0x10, f[n++] = 0, f[n++] = 0, f[n++] = 0;
    for (int i = 0; i < 3; i++)
        f[n++] = (unsigned char)((w - 1) >> (8 * i));
    for (int i = 0; i < 3; i++)
        f[n++] = (unsigned char)((h - 1) >> (8 * i));
    memcpy(f + n, "VP8L\0\0\0\0", 8), n += 8;
    uint32_t riff = (uint32_t)n - 8;
    for (int i = 0; i < 4; i++)
        f[4 + i] = (unsigned char)(riff >> (8 * i));
    return n;
}

/* Run in a child under a 256 MB address-space limit: a decoder that allocated from the claimed
 * size would fail with out of memory, not the limit. */
static void expect_limit_in_child(const unsigned char *f, size_t n, const hdm_options *o,
                                  const char *field)
{
    const char *path = tu_path("huge.webp");
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
        hdm_status c = hdm_load_memory(f, n, o, &img, &e);
        named &= strstr(e.message, field) != NULL;
        _exit(a == HDM_ERR_LIMIT && b == HDM_ERR_LIMIT && c == HDM_ERR_LIMIT && named
                  ? 0 : 10 + (int)b);
    }
    int ws;
    cr_assert_eq(waitpid(pid, &ws, 0), pid);
    cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "%s: child status %d (signal %d)", field,
              WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
}

Test(webp, limits_refuse_before_allocation)
{
    unsigned char f[64];
    hdm_options o;
    for (int anim = 0; anim <= 1; anim++) {
        /* 16000000 x 16000000: above max_width (and max_pixels) by default */
        hdm_options_init(&o);
        expect_limit_in_child(f, header_only(f, 16000000, 16000000, anim), &o, "max_width");
        hdm_options_init(&o);
        expect_limit_in_child(f, header_only(f, 30000, 30000, anim), &o, "max_pixels");
        hdm_options_init(&o);
        o.max_width = 1000;
        expect_limit_in_child(f, header_only(f, 2000, 500, anim), &o, "max_width");
        hdm_options_init(&o);
        o.max_height = 1000;
        expect_limit_in_child(f, header_only(f, 500, 2000, anim), &o, "max_height");
        /* 3000 x 3000 RGBA is 36 MB decoded (an animation's two canvases 72 MB) */
        hdm_options_init(&o);
        o.max_memory = 16u << 20;
        expect_limit_in_child(f, header_only(f, 3000, 3000, anim), &o, "max_memory");
    }
}

/* What a file's decode holds is the decoded image and the file's bytes (read into memory as
 * libwebp decodes), and a refusal says both; from memory, the image alone. */
Test(webp, memory_refusal_counts_the_file)
{
    tu_rng r;
    tu_seed(&r, 21);
    hdm_image *src = tu_image_random(200, 150, 3, HDM_U8, &r);
    hdm_options l = lossless();
    size_t n;
    void *webp = save(src, &l, &n);
    tu_write_file(tu_path("m.webp"), webp, n);
    hdm_options o;
    hdm_options_init(&o);
    o.max_memory = 200 * 150 * 3 + n - 1;
    hdm_image *img;
    hdm_error e = {0};
    cr_assert_eq(hdm_load(tu_path("m.webp"), &o, &img, &e), HDM_ERR_LIMIT);
    char want[96];
    snprintf(want, sizeof want, "decoding needs about %zu bytes (the decoded image and the "
             "file's bytes)", (size_t)(200 * 150 * 3) + n);
    cr_assert(strstr(e.message, want), "%s", e.message);
    o.max_memory = 200 * 150 * 3; /* from memory the file is the caller's */
    cr_assert_eq(hdm_load_memory(webp, n, &o, &img, &e), HDM_OK, "%s", e.message);
    hdm_image_free(img);
    free(webp);
    hdm_image_free(src);
}

/* ---- the command ---- */

Test(webp, command_options)
{
    tu_rng r;
    tu_seed(&r, 5);
    hdm_image *src = tu_image_random(64, 48, 4, HDM_U8, &r);
    cr_assert_eq(hdm_save(src, tu_path("a.png"), NULL, NULL), HDM_OK);
    hdm_image *white; /* a mask of 255 leaves every sample as it was */
    cr_assert_eq(hdm_image_new(64, 48, 1, HDM_U8, &white), HDM_OK);
    for (uint32_t y = 0; y < 48; y++)
        memset(hdm_row(white, 0, y), 255, 64);
    cr_assert_eq(hdm_save(white, tu_path("w.png"), NULL, NULL), HDM_OK);
    hdm_image_free(white);
    cli_result res;
    CLI(&res, tu_dir, "mask", "a.png", "w.png", "-o", "l.webp", "--webp-lossless");
    cli_expect_ok(&res);
    cr_assert(!strstr(res.err, "no effect"), "%s", res.err);
    hdm_image *back;
    cr_assert_eq(hdm_load(tu_path("l.webp"), NULL, &back, NULL), HDM_OK);
    tu_assert_same(back, src, "--webp-lossless through the command");
    hdm_image_free(back);
    CLI(&res, tu_dir, "run", "a.png", "-o", "q.webp", "filter:box:1", "--quality", "40");
    cli_expect_ok(&res);
    cr_assert(!strstr(res.err, "no effect"), "--quality applies to WebP: %s", res.err);
    CLI(&res, tu_dir, "run", "a.png", "-o", "x.png", "filter:box:1", "--webp-lossless");
    cli_expect_ok(&res);
    cr_assert(strstr(res.err, "--webp-lossless has no effect on PNG output"), "%s", res.err);
    /* a damaged file, named, and no output */
    size_t n;
    unsigned char *webp = tu_read_file(tu_path("l.webp"), &n);
    tu_write_file(tu_path("cut.webp"), webp, n / 2);
    free(webp);
    CLI(&res, tu_dir, "run", "cut.webp", "-o", "cut.png", "filter:box:1");
    cr_assert_eq(res.status, 1, "status %d", res.status);
    cr_assert(strstr(res.err, "cut.webp: truncated WebP"), "%s", res.err);
    cr_assert(!tu_exists(tu_path("cut.png")));
    hdm_image_free(src);
}
