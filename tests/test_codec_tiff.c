/* SPDX-License-Identifier: MIT */
/* test_codec_tiff.c — TIFF through libtiff: round trips read back by libtiff itself and by us,
 * files in the forms libtiff writes and we do not (tiles, planes, 1-bit, palette, associated
 * alpha, floats, big-endian, pages), damaged files, the limits, bounded memory, the option */
#include "codec/codec.h"
#include "cli_assert.h"
#include "cli_run.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tiffio.h>

TestSuite(tiff, .init = tu_setup, .fini = tu_teardown);

/* ---- libtiff, used directly as the reference ---- */

static int quiet(TIFF *t, void *ctx, const char *module, const char *fmt, va_list ap)
{
    (void)t, (void)module, (void)fmt, (void)ap;
    ++*(int *)ctx;
    return 1;
}

static int ref_errors;

static TIFF *ref_open(const char *path, const char *mode)
{
    TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(o, quiet, &ref_errors);
    TIFFOpenOptionsSetWarningHandlerExtR(o, quiet, &ref_errors);
    TIFF *t = TIFFOpenExt(path, mode, o);
    TIFFOpenOptionsFree(o);
    cr_assert_not_null(t, "libtiff cannot open %s", path);
    return t;
}

/* What a test writes with libtiff: every sample's value comes from value(). */
typedef struct spec {
    uint32_t w, h;
    uint16_t spp, bps, format, photometric, planar, compression;
    uint32_t tw, th;          /* tiles when tw > 0 */
    uint32_t rps;             /* rows per strip (0: libtiff's default) */
    int extra;                /* ExtraSamples type of the last sample, or -1 for none */
    const uint16_t *cmap;     /* 3 × 2^bps entries */
    bool big_endian;
    int pages;                /* 0 or 1: one */
} spec;

/* A deterministic sample value of bps bits (a float in [0, 1] for 32-bit floats). */
static uint32_t value(const spec *s, uint32_t x, uint32_t y, uint32_t c)
{
    uint32_t v = (x * 7 + y * 13 + c * 101 + (x * y) % 17) * 2654435761u >> 7;
    if (s->format == SAMPLEFORMAT_IEEEFP) {
        float f = (float)(v % 10001) / 10000.0f;
        memcpy(&v, &f, 4);
        return v;
    }
    return s->bps == 32 ? v : v & ((1u << s->bps) - 1);
}

static void put_sample(unsigned char *row, unsigned bps, size_t i, uint32_t v)
{
    if (bps == 8)
        row[i] = (unsigned char)v;
    else if (bps == 16)
        memcpy(row + 2 * i, &(uint16_t){(uint16_t)v}, 2);
    else if (bps == 32)
        memcpy(row + 4 * i, &v, 4);
    else {
        size_t bit = i * bps;
        row[bit / 8] |= (unsigned char)(v << (8 - bps - bit % 8));
    }
}

/* Row y (of columns x0 .. x0 + n) of plane p (or every sample, interleaved), packed. */
static void fill_row(const spec *s, unsigned char *row, size_t bytes, uint32_t y, uint32_t x0,
                     uint32_t n, int plane)
{
    memset(row, 0, bytes);
    for (uint32_t x = 0; x < n; x++) {
        if (plane >= 0) {
            if (x0 + x < s->w && y < s->h)
                put_sample(row, s->bps, x, value(s, x0 + x, y, (uint32_t)plane));
            continue;
        }
        for (uint32_t c = 0; c < s->spp; c++)
            if (x0 + x < s->w && y < s->h)
                put_sample(row, s->bps, (size_t)x * s->spp + c, value(s, x0 + x, y, c));
    }
}

static void write_page(TIFF *t, const spec *s, uint32_t w, uint32_t h)
{
    spec p = *s;
    p.w = w, p.h = h;
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, s->spp);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, s->bps);
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, s->format ? s->format : SAMPLEFORMAT_UINT);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, s->photometric);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, s->planar ? s->planar : PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_COMPRESSION, s->compression ? s->compression : COMPRESSION_NONE);
    if (s->extra >= 0) {
        uint16_t e = (uint16_t)s->extra;
        TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 1, &e);
    }
    if (s->cmap) {
        size_t n = (size_t)1 << s->bps;
        TIFFSetField(t, TIFFTAG_COLORMAP, s->cmap, s->cmap + n, s->cmap + 2 * n);
    }
    bool separate = s->planar == PLANARCONFIG_SEPARATE;
    int planes = separate ? s->spp : 1;
    if (s->tw) {
        TIFFSetField(t, TIFFTAG_TILEWIDTH, s->tw);
        TIFFSetField(t, TIFFTAG_TILELENGTH, s->th);
        size_t trb = (size_t)TIFFTileRowSize(t), tsize = (size_t)TIFFTileSize(t);
        unsigned char *tile = malloc(tsize);
        for (int pl = 0; pl < planes; pl++)
            for (uint32_t ty = 0; ty < h; ty += s->th)
                for (uint32_t tx = 0; tx < w; tx += s->tw) {
                    for (uint32_t r = 0; r < s->th; r++)
                        fill_row(&p, tile + r * trb, trb, ty + r, tx, s->tw,
                                 separate ? pl : -1);
                    cr_assert_geq(TIFFWriteTile(t, tile, tx, ty, 0, (uint16_t)pl), 0);
                }
        free(tile);
    } else {
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, s->rps ? s->rps : TIFFDefaultStripSize(t, 0));
        size_t line = (size_t)TIFFScanlineSize(t);
        unsigned char *row = malloc(line);
        for (int pl = 0; pl < planes; pl++)
            for (uint32_t y = 0; y < h; y++) {
                fill_row(&p, row, line, y, 0, w, separate ? pl : -1);
                cr_assert_geq(TIFFWriteScanline(t, row, y, (uint16_t)pl), 0);
            }
        free(row);
    }
    cr_assert(TIFFWriteDirectory(t));
}

static void ref_write(const char *path, const spec *s)
{
    TIFF *t = ref_open(path, s->big_endian ? "wb" : "wl");
    write_page(t, s, s->w, s->h);
    for (int p = 1; p < s->pages; p++)
        write_page(t, s, s->w / 2 + 1, s->h / 2 + 1); /* later pages: another size */
    TIFFClose(t);
}

static hdm_image *load(const char *path)
{
    hdm_image *img = NULL;
    hdm_error e = {0};
    cr_assert_eq(hdm_load(path, NULL, &img, &e), HDM_OK, "%s", e.message);
    return img;
}

/* ---- our writer, read back by libtiff and by us ---- */

static const char *const comp_names[] = {"deflate", "lzw", "zstd", "none", "jpeg"};
static const uint16_t comp_tags[] = {COMPRESSION_ADOBE_DEFLATE, COMPRESSION_LZW,
                                     COMPRESSION_ZSTD, COMPRESSION_NONE, COMPRESSION_JPEG};

/* The file as libtiff reads it: the tags we promise, and every sample equal to img's. */
static void check_with_libtiff(const char *path, const hdm_image *img, int comp,
                               const char *what)
{
    TIFF *t = ref_open(path, "r");
    uint32_t w, h;
    uint16_t spp, bps, fmt, ph, planar, c, pred = 1, n = 0, *extra = NULL;
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &fmt);
    TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &ph);
    TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetField(t, TIFFTAG_COMPRESSION, &c);
    TIFFGetFieldDefaulted(t, TIFFTAG_PREDICTOR, &pred);
    TIFFGetFieldDefaulted(t, TIFFTAG_EXTRASAMPLES, &n, &extra);
    cr_assert(w == img->width && h == img->height, "%s: %ux%u", what, w, h);
    cr_assert_eq(spp, img->channels, "%s", what);
    cr_assert_eq(bps, 8 * img->depth, "%s", what);
    cr_assert_eq(fmt, img->depth == HDM_F32 ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT, "%s",
                 what);
    cr_assert_eq(ph, img->channels >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK, "%s", what);
    cr_assert_eq(planar, PLANARCONFIG_CONTIG, "%s", what);
    cr_assert_eq(c, comp_tags[comp], "%s: compression %u", what, c);
    if (comp != 3)
        cr_assert_eq(pred, img->depth == HDM_F32 ? PREDICTOR_FLOATINGPOINT
                     : PREDICTOR_HORIZONTAL, "%s: predictor %u", what, pred);
    if (img->channels == 2 || img->channels == 4)
        cr_assert(n == 1 && extra[0] == EXTRASAMPLE_UNASSALPHA, "%s: extra samples", what);
    else
        cr_assert_eq(n, 0, "%s", what);
    cr_assert(!TIFFIsTiled(t), "%s", what);
    unsigned char *line = malloc((size_t)TIFFScanlineSize(t));
    for (uint32_t y = 0; y < h; y++) {
        cr_assert_geq(TIFFReadScanline(t, line, y, 0), 0, "%s: row %u", what, y);
        for (uint32_t x = 0; x < w; x++)
            for (uint32_t ch = 0; ch < spp; ch++) {
                size_t i = (size_t)x * spp + ch;
                uint32_t got = img->depth == HDM_U8 ? line[i]
                             : img->depth == HDM_U16 ? ((uint16_t *)line)[i]
                             : ((uint32_t *)line)[i];
                uint32_t want = tu_get(img, ch, x, y);
                if (img->depth == HDM_F32) {
                    float f = tu_getf(img, ch, x, y);
                    memcpy(&want, &f, 4);
                }
                if (got != want)
                    cr_assert_fail("%s: (%u, %u) channel %u: %#x, not %#x", what, x, y, ch, got,
                                   want);
            }
    }
    free(line);
    TIFFClose(t);
}

Test(tiff, lossless_round_trips_every_depth_layout_compression)
{
    tu_rng r;
    tu_seed(&r, 0x71ff);
    const hdm_depth depths[] = {HDM_U8, HDM_U16, HDM_F32};
    for (int d = 0; d < 3; d++)
        for (uint32_t ch = 1; ch <= 4; ch++)
            for (int comp = 0; comp < 4; comp++) {
                char what[96];
                snprintf(what, sizeof what, "depth %d, %u channels, %s", depths[d], ch,
                         comp_names[comp]);
                /* sizes that leave a partial last strip, and a width with odd bytes */
                hdm_image *img = tu_image_random(301, 257, ch, depths[d], &r);
                hdm_options o;
                hdm_options_init(&o);
                o.tiff_compression = (hdm_tiff_compression)comp;
                const char *path = tu_path("rt.tif");
                char p[512];
                snprintf(p, sizeof p, "%s", path);
                hdm_error e = {0};
                cr_assert_eq(hdm_save(img, p, &o, &e), HDM_OK, "%s: %s", what, e.message);
                check_with_libtiff(p, img, comp, what);
                hdm_image *back = load(p);
                tu_assert_same(img, back, what);
                hdm_image_free(back);
                /* the same bytes through memory */
                void *data;
                size_t size;
                cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_TIFF, &o, &data, &size, &e),
                             HDM_OK, "%s: %s", what, e.message);
                size_t fsize;
                void *file = tu_read_file(p, &fsize);
                cr_assert(fsize == size && memcmp(file, data, size) == 0,
                          "%s: memory and file outputs differ", what);
                free(file);
                cr_assert_eq(hdm_load_memory(data, size, NULL, &back, &e), HDM_OK, "%s: %s",
                             what, e.message);
                tu_assert_same(img, back, what);
                hdm_image_free(back);
                hdm_free(data);
                hdm_image_free(img);
            }
}

static double psnr(const hdm_image *a, const hdm_image *b)
{
    double se = 0;
    size_t n = 0;
    for (uint32_t c = 0; c < a->channels; c++)
        for (uint32_t y = 0; y < a->height; y++)
            for (uint32_t x = 0; x < a->width; x++, n++) {
                double d = (double)tu_get(a, c, x, y) - tu_get(b, c, x, y);
                se += d * d;
            }
    return se == 0 ? 99 : 10 * log10(255.0 * 255.0 / (se / (double)n));
}

static hdm_image *smooth(uint32_t w, uint32_t h, uint32_t ch, hdm_depth d)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(w, h, ch, d, &img), HDM_OK);
    uint32_t m = d == HDM_U16 ? 65535 : 255;
    for (uint32_t c = 0; c < ch; c++)
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                tu_set(img, c, x, y, (uint32_t)((x * 3 + y * 2 + c * 50) % 256) * m / 255);
    return img;
}

Test(tiff, jpeg_compression_within_psnr_and_eight_bit)
{
    for (uint32_t ch = 1; ch <= 4; ch++) {
        hdm_image *img = smooth(200, 120, ch, HDM_U8);
        hdm_options o;
        hdm_options_init(&o);
        o.tiff_compression = HDM_TIFF_JPEG;
        void *data;
        size_t size;
        hdm_error e = {0};
        cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_TIFF, &o, &data, &size, &e), HDM_OK, "%s",
                     e.message);
        hdm_image *back;
        cr_assert_eq(hdm_load_memory(data, size, NULL, &back, &e), HDM_OK, "%u: %s", ch,
                     e.message);
        cr_assert(back->channels == ch && back->depth == HDM_U8);
        double q = psnr(img, back);
        cr_assert_gt(q, 30.0, "%u channels: PSNR %.1f", ch, q);
        hdm_image_free(back);
        hdm_free(data);
        hdm_image_free(img);
    }
    /* 16-bit is written as 8-bit under jpeg */
    hdm_image *img = smooth(64, 48, 3, HDM_U16);
    hdm_options o;
    hdm_options_init(&o);
    o.tiff_compression = HDM_TIFF_JPEG;
    void *data;
    size_t size;
    cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_TIFF, &o, &data, &size, NULL), HDM_OK);
    hdm_info info;
    cr_assert_eq(hdm_info_read_memory(data, size, NULL, &info, NULL), HDM_OK);
    cr_assert_eq(info.depth, HDM_U8);
    hdm_free(data);
    hdm_image_free(img);
}

/* ---- what libtiff writes and we do not ---- */

/* The value we should decode for sample c of (x, y), from the spec's stored values. */
static uint32_t widened(const spec *s, uint32_t v, hdm_depth out)
{
    if (s->bps < 8)
        v = v * (255u / ((1u << s->bps) - 1));
    if (out == HDM_U16 && s->bps <= 8)
        v *= 257;
    return v;
}

static void expect_plain(const char *path, const spec *s, const char *what)
{
    hdm_image *img = load(path);
    uint32_t ch = s->spp - (s->photometric == PHOTOMETRIC_MINISBLACK && s->spp > 2 ? 0 : 0);
    hdm_depth want = s->format == SAMPLEFORMAT_IEEEFP ? HDM_F32 : s->bps == 16 ? HDM_U16
                   : HDM_U8;
    cr_assert(img->width == s->w && img->height == s->h, "%s: %ux%u", what, img->width,
              img->height);
    cr_assert_eq(img->channels, ch, "%s: %u channels", what, img->channels);
    cr_assert_eq(img->depth, want, "%s: depth %d", what, img->depth);
    for (uint32_t y = 0; y < s->h; y++)
        for (uint32_t x = 0; x < s->w; x++)
            for (uint32_t c = 0; c < ch; c++) {
                uint32_t v = value(s, x, y, c), got;
                if (want == HDM_F32) {
                    float f = tu_getf(img, c, x, y);
                    memcpy(&got, &f, 4);
                } else {
                    got = tu_get(img, c, x, y);
                    v = widened(s, v, want);
                    if (s->photometric == PHOTOMETRIC_MINISWHITE)
                        v = (want == HDM_U16 ? 65535u : 255u) - v;
                }
                if (got != v)
                    cr_assert_fail("%s: (%u, %u) channel %u: %u, not %u", what, x, y, c, got, v);
            }
    hdm_image_free(img);
}

Test(tiff, libtiff_forms_read_as_stored)
{
    const char *path = tu_path("ref.tif");
    char p[512];
    snprintf(p, sizeof p, "%s", path);
    const spec cases[] = {
        /* tiles, interleaved and planar, with partial tiles at the right and bottom */
        {37, 23, 3, 8, 0, PHOTOMETRIC_RGB, 0, COMPRESSION_LZW, 16, 16, 0, -1, NULL, 0, 0},
        {70, 40, 4, 16, 0, PHOTOMETRIC_RGB, PLANARCONFIG_SEPARATE, COMPRESSION_ADOBE_DEFLATE,
         32, 16, 0, EXTRASAMPLE_UNASSALPHA, NULL, 0, 0},
        /* planar strips */
        {41, 29, 3, 8, 0, PHOTOMETRIC_RGB, PLANARCONFIG_SEPARATE, COMPRESSION_ADOBE_DEFLATE, 0,
         0, 5, -1, NULL, 0, 0},
        /* 1, 2 and 4-bit gray, min-is-white, fax */
        {45, 19, 1, 1, 0, PHOTOMETRIC_MINISBLACK, 0, COMPRESSION_PACKBITS, 0, 0, 4, -1, NULL, 0,
         0},
        {45, 19, 1, 1, 0, PHOTOMETRIC_MINISWHITE, 0, COMPRESSION_CCITTFAX4, 0, 0, 0, -1, NULL,
         0, 0},
        {33, 9, 1, 2, 0, PHOTOMETRIC_MINISBLACK, 0, COMPRESSION_NONE, 0, 0, 0, -1, NULL, 0, 0},
        {33, 9, 1, 4, 0, PHOTOMETRIC_MINISBLACK, 0, COMPRESSION_LZW, 0, 0, 0, -1, NULL, 0, 0},
        {33, 9, 1, 8, 0, PHOTOMETRIC_MINISWHITE, 0, COMPRESSION_NONE, 0, 0, 0, -1, NULL, 0, 0},
        /* floats, tiled too */
        {30, 20, 1, 32, SAMPLEFORMAT_IEEEFP, PHOTOMETRIC_MINISBLACK, 0, COMPRESSION_NONE, 0, 0,
         0, -1, NULL, 0, 0},
        {30, 20, 3, 32, SAMPLEFORMAT_IEEEFP, PHOTOMETRIC_RGB, 0, COMPRESSION_ADOBE_DEFLATE, 16,
         16, 0, -1, NULL, 0, 0},
        /* big-endian 16-bit, gray+alpha */
        {31, 17, 3, 16, 0, PHOTOMETRIC_RGB, 0, COMPRESSION_LZW, 0, 0, 3, -1, NULL, true, 0},
        {31, 17, 2, 16, 0, PHOTOMETRIC_MINISBLACK, 0, COMPRESSION_NONE, 0, 0, 0,
         EXTRASAMPLE_UNASSALPHA, NULL, true, 0},
        /* several pages: the first is read */
        {25, 15, 3, 8, 0, PHOTOMETRIC_RGB, 0, COMPRESSION_ADOBE_DEFLATE, 0, 0, 0, -1, NULL, 0,
         3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "case %zu (%u-bit, %u samples)", i, cases[i].bps,
                 cases[i].spp);
        ref_write(p, &cases[i]);
        expect_plain(p, &cases[i], what);
        hdm_info info;
        hdm_error e = {0};
        cr_assert_eq(hdm_info_read(p, NULL, &info, &e), HDM_OK, "%s: %s", what, e.message);
        cr_assert(info.width == cases[i].w && info.format == HDM_FORMAT_TIFF, "%s", what);
    }
}

Test(tiff, palette_to_rgb_eight_or_sixteen)
{
    char p[512];
    snprintf(p, sizeof p, "%s", tu_path("pal.tif"));
    for (int kind = 0; kind < 3; kind++) {
        uint16_t bps = kind == 0 ? 4 : 8;
        size_t n = (size_t)1 << bps;
        uint16_t *cmap = malloc(3 * n * sizeof *cmap);
        for (size_t i = 0; i < 3 * n; i++) {
            uint16_t v8 = (uint16_t)((i * 37 + 11) & 0xff);
            cmap[i] = kind == 2 ? (uint16_t)(i * 977 + 3) : (uint16_t)(v8 * 257);
        }
        spec s = {29, 13, 1, bps, 0, PHOTOMETRIC_PALETTE, 0, COMPRESSION_LZW, 0, 0, 0, -1, cmap,
                  0, 0};
        ref_write(p, &s);
        hdm_image *img = load(p);
        hdm_depth want = kind == 2 ? HDM_U16 : HDM_U8;
        cr_assert(img->channels == 3 && img->depth == want, "kind %d: %u channels, depth %d",
                  kind, img->channels, img->depth);
        for (uint32_t y = 0; y < s.h; y++)
            for (uint32_t x = 0; x < s.w; x++)
                for (uint32_t c = 0; c < 3; c++) {
                    uint16_t e = cmap[c * n + value(&s, x, y, 0)];
                    uint32_t v = want == HDM_U16 ? e : (uint32_t)(e >> 8);
                    cr_assert_eq(tu_get(img, c, x, y), v, "kind %d (%u, %u) %u", kind, x, y, c);
                }
        hdm_image_free(img);
        free(cmap);
    }
}

Test(tiff, associated_alpha_unpremultiplied)
{
    char p[512];
    snprintf(p, sizeof p, "%s", tu_path("assoc.tif"));
    for (int bits = 8; bits <= 16; bits += 8) {
        spec s = {40, 30, 4, (uint16_t)bits, 0, PHOTOMETRIC_RGB, 0, COMPRESSION_ADOBE_DEFLATE,
                  0, 0, 0, EXTRASAMPLE_ASSOCALPHA, NULL, 0, 0};
        ref_write(p, &s);
        hdm_image *img = load(p);
        uint32_t m = bits == 8 ? 255 : 65535;
        for (uint32_t y = 0; y < s.h; y++)
            for (uint32_t x = 0; x < s.w; x++) {
                uint32_t a = value(&s, x, y, 3);
                cr_assert_eq(tu_get(img, 3, x, y), a);
                for (uint32_t c = 0; c < 3; c++) {
                    uint64_t v = value(&s, x, y, c);
                    uint64_t want = a ? (v * m + a / 2) / a : 0;
                    want = want > m ? m : want;
                    cr_assert_eq(tu_get(img, c, x, y), (uint32_t)want, "(%u, %u) %u: stored %u "
                                 "alpha %u", x, y, c, (unsigned)v, a);
                }
            }
        hdm_image_free(img);
    }
}

Test(tiff, cmyk_and_jpeg_ycbcr_to_rgb)
{
    char p[512];
    snprintf(p, sizeof p, "%s", tu_path("cmyk.tif"));
    spec s = {20, 10, 4, 8, 0, PHOTOMETRIC_SEPARATED, 0, COMPRESSION_LZW, 0, 0, 0, -1, NULL, 0,
              0};
    ref_write(p, &s);
    hdm_image *img = load(p);
    cr_assert_eq(img->channels, 3);
    for (uint32_t y = 0; y < s.h; y++)
        for (uint32_t x = 0; x < s.w; x++) {
            uint32_t k = 255 - value(&s, x, y, 3);
            for (uint32_t c = 0; c < 3; c++)
                cr_assert_eq(tu_get(img, c, x, y), ((255 - value(&s, x, y, c)) * k + 127) / 255);
        }
    hdm_image_free(img);
    /* JPEG-compressed YCbCr with 2x2 chroma, as libtiff writes it */
    hdm_image *src = smooth(96, 64, 3, HDM_U8);
    TIFF *t = ref_open(p, "w");
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 96);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, 64);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_YCBCR);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_JPEG);
    TIFFSetField(t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
    TIFFSetField(t, TIFFTAG_JPEGQUALITY, 95);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 16);
    unsigned char row[96 * 3];
    for (uint32_t y = 0; y < 64; y++) {
        for (uint32_t x = 0; x < 96; x++)
            for (uint32_t c = 0; c < 3; c++)
                row[x * 3 + c] = (unsigned char)tu_get(src, c, x, y);
        cr_assert_geq(TIFFWriteScanline(t, row, y, 0), 0);
    }
    TIFFClose(t);
    img = load(p);
    cr_assert_eq(img->channels, 3);
    double q = psnr(src, img);
    cr_assert_gt(q, 24.0, "PSNR %.1f", q);
    /* and equal to libtiff's own decode (TIFFReadRGBAImage upsamples the same way) */
    uint32_t *rgba = malloc(96 * 64 * 4);
    t = ref_open(p, "r");
    cr_assert(TIFFReadRGBAImageOriented(t, 96, 64, rgba, ORIENTATION_TOPLEFT, 0));
    TIFFClose(t);
    for (uint32_t y = 0; y < 64; y++)
        for (uint32_t x = 0; x < 96; x++)
            for (uint32_t c = 0; c < 3; c++) {
                int d = (int)tu_get(img, c, x, y) - (int)((rgba[y * 96 + x] >> (8 * c)) & 0xff);
                cr_assert_leq(abs(d), 1, "(%u, %u) %u: off by %d from libtiff", x, y, c, d);
            }
    free(rgba);
    hdm_image_free(img);
    hdm_image_free(src);
}

/* ---- damaged files ---- */

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
    cr_assert(strncmp(e.message, path, strlen(path)) == 0 && strstr(e.message, "corrupt TIFF"),
              "%s: %s", what, e.message);
    cr_assert(!tu_exists(tu_path("out.png")), "%s: output left", what);
    cr_assert_eq(tu_dir_entries(), before, "%s: a temporary was left", what);
    hdm_image *img;
    st = hdm_load(path, NULL, &img, &e);
    cr_assert_eq(st, HDM_ERR_CORRUPT, "%s: load: %d %s", what, (int)st, e.message);
    size_t n;
    void *data = tu_read_file(path, &n);
    st = hdm_load_memory(data, n, NULL, &img, &e);
    cr_assert_eq(st, HDM_ERR_CORRUPT, "%s: load_memory: %d %s", what, (int)st, e.message);
    free(data);
    hdm_pipeline_free(p);
}

/* A file whose directory comes first (libtiff's deferred strip arrays, as cloud-optimised
 * writers do), so cutting it cuts the pixels and leaves the directory whole. */
static unsigned char *directory_first(uint32_t w, uint32_t h, uint16_t comp, size_t *n)
{
    char p[512];
    snprintf(p, sizeof p, "%s", tu_path("front.tif"));
    TIFF *t = ref_open(p, "w");
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
    TIFFSetField(t, TIFFTAG_COMPRESSION, comp);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 8);
    cr_assert(TIFFDeferStrileArrayWriting(t));
    cr_assert(TIFFWriteCheck(t, 0, "directory_first"));
    cr_assert(TIFFWriteDirectory(t));
    cr_assert(TIFFSetDirectory(t, 0));
    size_t line = (size_t)w * 3;
    unsigned char *strip = malloc(line * 8);
    for (uint32_t y0 = 0, s = 0; y0 < h; y0 += 8, s++) {
        uint32_t rows = h - y0 < 8 ? h - y0 : 8;
        for (uint32_t r = 0; r < rows; r++)
            for (size_t i = 0; i < line; i++)
                strip[r * line + i] = (unsigned char)((i * 7 + (y0 + r) * 3) ^ (i >> 4));
        cr_assert_geq(TIFFWriteEncodedStrip(t, s, strip, (tmsize_t)(rows * line)), 0);
    }
    cr_assert(TIFFForceStrileArrayWriting(t));
    TIFFClose(t);
    free(strip);
    return tu_read_file(p, n);
}

Test(tiff, truncated_and_corrupt_refused)
{
    char path[512];
    snprintf(path, sizeof path, "%s", tu_path("cut.tif"));
    const uint16_t comps[] = {COMPRESSION_ADOBE_DEFLATE, COMPRESSION_LZW, COMPRESSION_NONE,
                              COMPRESSION_PACKBITS};
    for (int k = 0; k < 4; k++) {
        size_t n;
        unsigned char *f = directory_first(200, 100, comps[k], &n);
        char what[64];
        /* the whole file reads */
        snprintf(path, sizeof path, "%s", tu_path("whole.tif"));
        tu_write_file(path, f, n);
        hdm_image *img = load(path);
        hdm_image_free(img);
        remove(path);
        snprintf(path, sizeof path, "%s", tu_path("cut.tif"));
        size_t cuts[] = {5, 40, n / 2, n - 100, n - 1};
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
            tu_write_file(path, f, cuts[i]);
            snprintf(what, sizeof what, "compression %u cut at %zu of %zu", comps[k], cuts[i], n);
            expect_refused(path, what);
        }
        /* our own output cut anywhere loses its directory, at the end */
        free(f);
    }
    /* deflate data damaged in the middle of a strip */
    size_t n;
    unsigned char *f = directory_first(200, 100, COMPRESSION_ADOBE_DEFLATE, &n);
    for (size_t i = n / 2; i < n / 2 + 16; i++)
        f[i] ^= 0x5a;
    tu_write_file(path, f, n);
    expect_refused(path, "deflate data damaged");
    free(f);
    /* our output, cut */
    hdm_image *src = smooth(300, 200, 3, HDM_U8);
    void *data;
    size_t size;
    cr_assert_eq(hdm_save_memory(src, HDM_FORMAT_TIFF, NULL, &data, &size, NULL), HDM_OK);
    tu_write_file(path, data, size * 2 / 3);
    expect_refused(path, "our file cut");
    hdm_free(data);
    hdm_image_free(src);
}

/* s written with its directory first (as directory_first), strips or tiles, interleaved or in
 * planes, each strip or tile written whole. */
static unsigned char *front_of(const spec *s, size_t *n)
{
    char p[512];
    snprintf(p, sizeof p, "%s", tu_path("front.tif"));
    TIFF *t = ref_open(p, "w");
    bool separate = s->planar == PLANARCONFIG_SEPARATE;
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, s->w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, s->h);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, s->spp);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, s->bps);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, s->photometric);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, s->planar);
    TIFFSetField(t, TIFFTAG_COMPRESSION, s->compression);
    if (s->tw) {
        TIFFSetField(t, TIFFTAG_TILEWIDTH, s->tw);
        TIFFSetField(t, TIFFTAG_TILELENGTH, s->th);
    } else {
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, s->rps);
    }
    cr_assert(TIFFDeferStrileArrayWriting(t));
    cr_assert(TIFFWriteCheck(t, s->tw != 0, "front_of"));
    cr_assert(TIFFWriteDirectory(t));
    cr_assert(TIFFSetDirectory(t, 0));
    int planes = separate ? s->spp : 1;
    if (s->tw) {
        size_t trb = (size_t)TIFFTileRowSize(t), tsize = (size_t)TIFFTileSize(t);
        unsigned char *tile = malloc(tsize);
        for (int pl = 0; pl < planes; pl++)
            for (uint32_t ty = 0; ty < s->h; ty += s->th)
                for (uint32_t tx = 0; tx < s->w; tx += s->tw) {
                    for (uint32_t r = 0; r < s->th; r++)
                        fill_row(s, tile + r * trb, trb, ty + r, tx, s->tw, separate ? pl : -1);
                    uint32_t k = TIFFComputeTile(t, tx, ty, 0, (uint16_t)pl);
                    cr_assert_geq(TIFFWriteEncodedTile(t, k, tile, (tmsize_t)tsize), 0);
                }
        free(tile);
    } else {
        size_t line = (size_t)TIFFScanlineSize(t);
        unsigned char *strip = malloc(line * s->rps);
        for (int pl = 0; pl < planes; pl++)
            for (uint32_t y0 = 0; y0 < s->h; y0 += s->rps) {
                uint32_t rows = s->h - y0 < s->rps ? s->h - y0 : s->rps;
                for (uint32_t r = 0; r < rows; r++)
                    fill_row(s, strip + r * line, line, y0 + r, 0, s->w, separate ? pl : -1);
                uint32_t k = TIFFComputeStrip(t, y0, (uint16_t)pl);
                cr_assert_geq(TIFFWriteEncodedStrip(t, k, strip, (tmsize_t)(rows * line)), 0);
            }
        free(strip);
    }
    cr_assert(TIFFForceStrileArrayWriting(t));
    TIFFClose(t);
    return tu_read_file(p, n);
}

/* A message about a damaged file names a real place: no counter libtiff had not set yet
 * (4294967295, an unsigned -1) or a negative byte count taken as unsigned, and a strip, tile
 * or row that is in the image. */
static void expect_real_place(const char *msg, const char *name, uint32_t strips, uint32_t tiles,
                              uint32_t rows, const char *what)
{
    cr_assert(strstr(msg, name), "%s: the file not named: %s", what, msg);
    cr_assert(!strstr(msg, "4294967295") && !strstr(msg, "1844674407370955"), "%s: %s", what,
              msg);
    const char *units[] = {"strip ", "tile ", "row ", "rows "};
    uint32_t limits[] = {strips, tiles, rows, rows};
    bool placed = false;
    for (int u = 0; u < 4; u++)
        for (const char *at = strstr(msg, units[u]); at; at = strstr(at + 1, units[u])) {
            unsigned long v;
            if (sscanf(at + strlen(units[u]), "%lu", &v) != 1)
                continue;
            placed = true;
            cr_assert_lt(v, limits[u], "%s: %s%lu of %u: %s", what, units[u], v, limits[u], msg);
        }
    cr_assert(placed, "%s: no place named: %s", what, msg);
}

/* Strips and tiles, interleaved and in planes, cut at their data: the message names the strip,
 * tile or row from our own count, from a file, from memory and through the command, never
 * libtiff's unset row counter. */
Test(tiff, damage_named_by_a_real_place)
{
    struct {
        const char *form;
        uint16_t planar;
        uint32_t tw, rps;
    } forms[] = {
        {"strips", PLANARCONFIG_CONTIG, 0, 4},
        {"strips in planes", PLANARCONFIG_SEPARATE, 0, 4},
        {"tiles", PLANARCONFIG_CONTIG, 16, 0},
        {"tiles in planes", PLANARCONFIG_SEPARATE, 16, 0},
    };
    const uint16_t comps[] = {COMPRESSION_NONE, COMPRESSION_ADOBE_DEFLATE};
    cli_result *r = malloc(sizeof *r);
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++)
        for (int c = 0; c < 2; c++) {
            spec s = {.w = 40, .h = 36, .spp = 3, .bps = 8, .photometric = PHOTOMETRIC_RGB,
                      .planar = forms[i].planar, .compression = comps[c], .tw = forms[i].tw,
                      .th = forms[i].tw, .rps = forms[i].rps, .extra = -1};
            size_t n;
            unsigned char *f = front_of(&s, &n);
            uint32_t planes = s.planar == PLANARCONFIG_SEPARATE ? 3 : 1;
            uint32_t strips = s.rps ? (s.h + s.rps - 1) / s.rps * planes : 0;
            uint32_t tiles = s.tw ? (s.w + 15) / 16 * ((s.h + 15) / 16) * planes : 0;
            size_t cuts[] = {n - n / 8, n - n / 3, n - 1};
            for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
                char what[96];
                snprintf(what, sizeof what, "%s, compression %u, cut at %zu of %zu",
                         forms[i].form, comps[c], cuts[k], n);
                tu_write_file(tu_path("cut.tif"), f, cuts[k]);
                hdm_image *img;
                hdm_error e = {0};
                cr_assert_eq(hdm_load(tu_path("cut.tif"), NULL, &img, &e), HDM_ERR_CORRUPT,
                             "%s: %s", what, e.message);
                expect_real_place(e.message, "cut.tif", strips, tiles, s.h, what);
                cr_assert_eq(hdm_load_memory(f, cuts[k], NULL, &img, &e), HDM_ERR_CORRUPT,
                             "%s", what);
                expect_real_place(e.message, "(memory)", strips, tiles, s.h, what);
                CLI(r, tu_dir, "run", "cut.tif", "-o", "out.png", "filter:box:1");
                CLI_REFUSED(r, 1, "cut.tif", "corrupt TIFF");
                expect_real_place(r->err, "cut.tif", strips, tiles, s.h, what);
                cr_assert(!tu_exists(tu_path("out.png")), "%s", what);
            }
            free(f);
        }
    free(r);
}

/* The command says one line, ours: libtiff prints nothing of its own. */
Test(tiff, command_says_one_line_for_a_damaged_file)
{
    char *dir = scratch_new();
    size_t n;
    unsigned char *f = directory_first(200, 100, COMPRESSION_LZW, &n);
    char in[512];
    snprintf(in, sizeof in, "%s", at(dir, "in.tif"));
    FILE *fp = fopen(in, "wb");
    fwrite(f, 1, n / 2, fp);
    fclose(fp);
    cli_result r;
    CLI(&r, dir, "run", "in.tif", "-o", "out.png", "filter:box:1");
    CLI_REFUSED(&r, 1, "in.tif", "corrupt TIFF");
    cli_expect_only(dir, (const char *const[]){"in.tif"}, 1);
    free(f);
    scratch_free(dir);
}

/* ---- limits ---- */

/* A little-endian TIFF header and one directory claiming w x h, 8-bit RGB, in one strip (or
 * tiles of tw x tw), with no pixel data at all. */
static size_t header_only(unsigned char *f, uint32_t w, uint32_t h, uint32_t tw)
{
    size_t n = 0;
    memcpy(f, "II*\0\x08\0\0\0", 8);
    n = 8;
    struct { uint16_t tag, type; uint32_t count, value; } e[] = {
        {256, 4, 1, w}, {257, 4, 1, h}, {258, 3, 1, 8}, {259, 3, 1, 1}, {262, 3, 1, 2},
        {273, 4, 1, 200}, {277, 3, 1, 3}, {278, 4, 1, h}, {279, 4, 1, 1},
        {322, 4, 1, tw}, {323, 4, 1, tw}, {324, 4, 1, 200}, {325, 4, 1, 1},
    };
    /* stripped files use 273/278/279, tiled ones 322..325 */
    uint16_t count = 0;
    size_t at = n + 2;
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        bool tile_tag = e[i].tag >= 322;
        bool strip_tag = e[i].tag == 273 || e[i].tag == 278 || e[i].tag == 279;
        if ((tw && strip_tag) || (!tw && tile_tag))
            continue;
        unsigned char *p = f + at;
        memcpy(p, &e[i].tag, 2), memcpy(p + 2, &e[i].type, 2), memcpy(p + 4, &e[i].count, 4);
        uint32_t v = e[i].value;
        if (e[i].type == 3) {
            uint16_t s16 = (uint16_t)v;
            memset(p + 8, 0, 4);
            memcpy(p + 8, &s16, 2);
        } else {
            memcpy(p + 8, &v, 4);
        }
        at += 12;
        count++;
    }
    memcpy(f + n, &count, 2);
    memset(f + at, 0, 4);
    at += 4;
    memset(f + at, 0, 200 - at + 8);
    return 208;
}

static void expect_limit_in_child(const unsigned char *f, size_t n, const hdm_options *o,
                                  const char *field)
{
    const char *path = tu_path("huge.tif");
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
        hdm_pipeline *p;
        hdm_status a = hdm_info_read(path, o, &info, &e);
        bool named = a == HDM_OK || strstr(e.message, field) != NULL;
        if (a != HDM_OK && a != HDM_ERR_LIMIT)
            _exit(40 + (int)a);
        hdm_status b = hdm_load(path, o, &img, &e);
        named &= strstr(e.message, field) != NULL;
        hdm_pipeline_new(&p);
        hdm_pipeline_add(p, "filter:box:1", NULL);
        hdm_status c = hdm_pipeline_run_file(p, path, tu_path("out.png"), o, &e);
        named &= strstr(e.message, field) != NULL;
        /* a limit on the size is said by info too; one on memory only when decoding */
        bool info_ok = strcmp(field, "max_memory") == 0 ? a == HDM_OK : a == HDM_ERR_LIMIT;
        if (!(info_ok && b == HDM_ERR_LIMIT && c == HDM_ERR_LIMIT && named))
            fprintf(stderr, "%s: info %d load %d run %d named %d: %s\n", field, a, b, c, named,
                    e.message);
        _exit(info_ok && b == HDM_ERR_LIMIT && c == HDM_ERR_LIMIT && named ? 0 : 10 + (int)c);
    }
    int ws;
    cr_assert_eq(waitpid(pid, &ws, 0), pid);
    cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "%s: child status %d (signal %d)", field,
              WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
}

Test(tiff, limits_refuse_before_allocation)
{
    unsigned char f[512];
    hdm_options o;
    hdm_options_init(&o);
    expect_limit_in_child(f, header_only(f, 60000, 60000, 0), &o, "max_pixels");
    hdm_options_init(&o);
    o.max_width = 1000;
    expect_limit_in_child(f, header_only(f, 2000, 500, 0), &o, "max_width");
    hdm_options_init(&o);
    o.max_height = 1000;
    expect_limit_in_child(f, header_only(f, 500, 2000, 256), &o, "max_height");
    /* a row of 4096 x 4096 tiles across 60000 columns is 737 MB */
    hdm_options_init(&o);
    o.max_pixels = (uint64_t)1 << 33;
    o.max_memory = 256u << 20;
    expect_limit_in_child(f, header_only(f, 60000, 60000, 4096), &o, "max_memory");
}

/* An interleaved, stripped file is read a scanline at a time: 4000 x 4000 RGB in strips of
 * 250 rows (48 MB decoded) runs with max_memory at 16 MB, and the command's peak RSS stays
 * far below the image. */
Test(tiff, stripped_decode_holds_no_image, .timeout = 120)
{
    char in[512], out[512];
    snprintf(in, sizeof in, "%s", tu_path("big.tif"));
    snprintf(out, sizeof out, "%s", tu_path("out.png"));
    spec s = {4000, 4000, 3, 8, 0, PHOTOMETRIC_RGB, 0, COMPRESSION_ADOBE_DEFLATE, 0, 0, 250, -1,
              NULL, 0, 0};
    ref_write(in, &s);
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "filter:box:1", NULL), HDM_OK);
    hdm_options o;
    hdm_options_init(&o);
    o.max_memory = 16u << 20;
    hdm_error e = {0};
    cr_assert_eq(hdm_pipeline_run_file(p, in, out, &o, &e), HDM_OK, "%s", e.message);
    hdm_pipeline_free(p);
    remove(out);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        execl(HDM_BINARY_DIR "/hadamard", "hadamard", "run", in, "-o", out, "filter:box:1",
              "--max-memory", "16000000", (char *)NULL);
        _exit(127);
    }
    int ws;
    struct rusage ru;
    cr_assert_eq(wait4(pid, &ws, 0, &ru), pid);
    cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    if (!UNDER_ASAN)
        cr_assert_lt(ru.ru_maxrss, 48 * 1024, "peak RSS %ld KB for a 48 MB image", ru.ru_maxrss);
    hdm_image *back = load(out);
    cr_assert(back->width == 4000 && back->height == 4000 && back->channels == 3);
    hdm_image_free(back);
}

/* ---- the command ---- */

Test(tiff, command_option)
{
    char *dir = scratch_new();
    hdm_image *img = smooth(64, 40, 3, HDM_U8);
    cr_assert_eq(hdm_save(img, at(dir, "in.png"), NULL, NULL), HDM_OK);
    hdm_image_free(img);
    cli_result r;
    for (int c = 0; c < 5; c++) {
        CLI(&r, dir, "run", "in.png", "-o", "out.tif", "--tiff-compression", comp_names[c],
            "filter:box:1");
        cli_expect_ok(&r);
        cr_assert_eq(r.err[0], '\0', "%s: %s", comp_names[c], r.err);
        TIFF *t = ref_open(at(dir, "out.tif"), "r");
        uint16_t got;
        TIFFGetField(t, TIFFTAG_COMPRESSION, &got);
        TIFFClose(t);
        cr_assert_eq(got, comp_tags[c], "%s", comp_names[c]);
    }
    CLI(&r, dir, "run", "in.png", "-o", "out.tif", "--tiff-compression", "lzma", "filter:box:1");
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "unknown TIFF compression 'lzma'"), "%s", r.err);
    CLI(&r, dir, "run", "in.png", "-o", "out.png", "--tiff-compression", "lzw", "filter:box:1");
    cli_expect_ok(&r);
    cr_assert(strstr(r.err, "--tiff-compression has no effect on PNG output"), "%s", r.err);
    /* --quality is for TIFF's jpeg compression too, and said otherwise */
    CLI(&r, dir, "run", "in.png", "-o", "q.tif", "--quality", "50", "--tiff-compression", "jpeg",
        "filter:box:1");
    cli_expect_ok(&r);
    cr_assert_eq(r.err[0], '\0', "%s", r.err);
    CLI(&r, dir, "run", "in.png", "-o", "q.tif", "--quality", "50", "filter:box:1");
    cli_expect_ok(&r);
    cr_assert(strstr(r.err, "--quality has no effect on TIFF output"), "%s", r.err);
    CLI(&r, dir, "info", "out.tif");
    cli_expect_ok(&r);
    cr_assert(strstr(r.out, "64x40, 3 channels (RGB), 8-bit, tiff"), "%s", r.out);
    scratch_free(dir);
}

/* BigTIFF is chosen from the uncompressed size: a 70000 x 70000 gray image (4.9 GB of pixels)
 * starts with BigTIFF's header, a 20000 x 20000 one (0.4 GB) with the classic one. Only the
 * sink is opened: libtiff writes the header at once, and nothing else is encoded. */
Test(tiff, bigtiff_when_the_pixels_come_near_4_gib)
{
    const uint32_t sides[] = {70000, 20000, 37000};
    const char *want[] = {"II+\0", "II*\0", "II*\0"}; /* 37000^2 = 1.37 GB */
    for (int i = 0; i < 3; i++) {
        hdm_info info = {sides[i], sides[i], 1, HDM_U8, HDM_FORMAT_TIFF};
        hdm_options o;
        hdm_options_init(&o);
        hdm__bytes b = {0};
        hdm__sink *k = NULL;
        hdm_error e = {0};
        cr_assert_eq(hdm__sink_open(HDM_FORMAT_TIFF, &info, &o, NULL, &b, "big.tif", &k, &e), HDM_OK,
                     "%s", e.message);
        cr_assert_geq(b.len, 8);
        cr_assert(memcmp(b.mem, want[i], 4) == 0, "%u: header %02x %02x %02x %02x", sides[i],
                  b.mem[0], b.mem[1], b.mem[2], b.mem[3]);
        hdm__sink_close(k);
        free(b.mem);
    }
    /* 16-bit RGBA at 20000 x 20000 is 3.2 GB: classic under deflate, BigTIFF under LZW, whose
     * codes may make it half as large again */
    for (int lzw = 0; lzw <= 1; lzw++) {
        hdm_info info = {20000, 20000, 4, HDM_U16, HDM_FORMAT_TIFF};
        hdm__bytes b = {0};
        hdm__sink *k = NULL;
        hdm_options o;
        hdm_options_init(&o);
        o.tiff_compression = lzw ? HDM_TIFF_LZW : HDM_TIFF_DEFLATE;
        cr_assert_eq(hdm__sink_open(HDM_FORMAT_TIFF, &info, &o, NULL, &b, "big.tif", &k, NULL),
                     HDM_OK);
        cr_assert(memcmp(b.mem, lzw ? "II+\0" : "II*\0", 4) == 0, "lzw %d", lzw);
        hdm__sink_close(k);
        free(b.mem);
    }
}
