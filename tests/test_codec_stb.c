/* SPDX-License-Identifier: MIT */
/* test_codec_stb.c — the stb formats in and out, unknown outputs, and limits on untrusted input */
#include "core/core.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* stb_image_write makes the JPEG and RLE HDR inputs (formats too involved to write by hand);
 * every other input below is written byte by byte from its specification. */
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

TestSuite(formats, .init = tu_setup, .fini = tu_teardown);
TestSuite(limits, .init = tu_setup, .fini = tu_teardown);

/* ---- a growing byte buffer ---- */

typedef struct bytes {
    unsigned char *p;
    size_t len, cap;
} bytes;

static void put(bytes *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        while (b->len + n > b->cap)
            b->cap = b->cap ? b->cap * 2 : 256;
        b->p = realloc(b->p, b->cap);
        cr_assert_not_null(b->p);
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put8(bytes *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    put(b, &c, 1);
}

static void put16le(bytes *b, unsigned v) { put8(b, v), put8(b, v >> 8); }
static void put32le(bytes *b, uint32_t v) { put16le(b, v & 0xFFFF), put16le(b, v >> 16); }
static void put16be(bytes *b, unsigned v) { put8(b, v >> 8), put8(b, v); }
static void put32be(bytes *b, uint32_t v) { put16be(b, v >> 16), put16be(b, v & 0xFFFF); }
static void puts_(bytes *b, const char *s) { put(b, s, strlen(s)); }

static void on_bytes(void *ctx, void *data, int n) { put(ctx, data, (size_t)n); }

/* Loads b through a file (and from memory, which must agree) with default options. */
static hdm_image *load_bytes(const bytes *b, const char *name, hdm_format fmt)
{
    const char *path = tu_path(name);
    tu_write_file(path, b->p, b->len);
    hdm_error err = {0};
    hdm_image *img, *mem;
    cr_assert_eq(hdm_load(path, NULL, &img, &err), HDM_OK, "%s: %s", name, err.message);
    cr_assert_eq(hdm_load_memory(b->p, b->len, NULL, &mem, &err), HDM_OK, "%s: %s", name,
                 err.message);
    tu_assert_same(mem, img, name);
    hdm_image_free(mem);
    hdm_info info;
    cr_assert_eq(hdm_info_read(path, NULL, &info, &err), HDM_OK, "%s: %s", name, err.message);
    cr_assert_eq(info.format, fmt, "%s: format %d, want %d", name, (int)info.format, (int)fmt);
    cr_assert(info.width == img->width && info.height == img->height &&
              info.channels == img->channels && info.depth == img->depth,
              "%s: hdm_info_read disagrees with the load", name);
    return img;
}

static void assert_shape(const hdm_image *img, uint32_t w, uint32_t h, uint32_t c, hdm_depth d,
                         const char *what)
{
    cr_assert(img->width == w && img->height == h && img->channels == c && img->depth == d,
              "%s: %ux%u, %u channels, depth %d; want %ux%u, %u, %d", what, img->width,
              img->height, img->channels, (int)img->depth, w, h, c, (int)d);
}

/* ---- JPEG ---- */

Test(formats, jpeg_size_and_near_values)
{
    /* A smooth image: JPEG keeps it within a few levels at quality 100. */
    enum { W = 37, H = 21 };
    unsigned char rgb[W * H * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            unsigned char *p = rgb + (y * W + x) * 3;
            p[0] = (unsigned char)(40 + x * 4);
            p[1] = (unsigned char)(200 - y * 5);
            p[2] = (unsigned char)(100 + (x + y) * 2);
        }
    bytes b = {0};
    cr_assert(stbi_write_jpg_to_func(on_bytes, &b, W, H, 3, rgb, 100));
    hdm_image *img = load_bytes(&b, "in.jpg", HDM_FORMAT_JPEG);
    assert_shape(img, W, H, 3, HDM_U8, "jpeg");
    int worst = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                int d = abs((int)tu_get(img, (uint32_t)c, (uint32_t)x, (uint32_t)y) -
                            rgb[(y * W + x) * 3 + c]);
                worst = d > worst ? d : worst;
            }
    cr_assert_leq(worst, 8, "JPEG differs by %d levels", worst);
    hdm_image_free(img);
    free(b.p);
}

/* ---- BMP (Microsoft BITMAPINFOHEADER, 40 bytes) ---- */

static void bmp_header(bytes *b, int32_t w, int32_t h, unsigned bpp, uint32_t colors,
                       size_t data_bytes)
{
    uint32_t offset = 14 + 40 + colors * 4;
    puts_(b, "BM");
    put32le(b, offset + (uint32_t)data_bytes);
    put32le(b, 0);
    put32le(b, offset);
    put32le(b, 40);
    put32le(b, (uint32_t)w);
    put32le(b, (uint32_t)h);
    put16le(b, 1);
    put16le(b, bpp);
    put32le(b, 0); /* BI_RGB */
    put32le(b, (uint32_t)data_bytes);
    put32le(b, 2835), put32le(b, 2835);
    put32le(b, colors), put32le(b, 0);
}

/* A 24-bit BMP of img (u8 RGB), bottom-up or (negative height) top-down. */
static bytes bmp24(const hdm_image *img, bool top_down)
{
    bytes b = {0};
    size_t stride = ((size_t)img->width * 3 + 3) & ~(size_t)3;
    bmp_header(&b, (int32_t)img->width, top_down ? -(int32_t)img->height : (int32_t)img->height,
               24, 0, stride * img->height);
    for (uint32_t i = 0; i < img->height; i++) {
        uint32_t y = top_down ? i : img->height - 1 - i;
        size_t n = 0;
        for (uint32_t x = 0; x < img->width; x++, n += 3)
            for (int c = 2; c >= 0; c--)
                put8(&b, tu_get(img, (uint32_t)c, x, y));
        for (; n < stride; n++)
            put8(&b, 0xEE); /* padding: ignored */
    }
    return b;
}

Test(formats, bmp_24_bit_exact)
{
    tu_rng r;
    tu_seed(&r, 21);
    for (int td = 0; td <= 1; td++) {
        hdm_image *src = tu_image_random(5, 3, 3, HDM_U8, &r); /* 15-byte rows: padded */
        bytes b = bmp24(src, td);
        hdm_image *img = load_bytes(&b, "in.bmp", HDM_FORMAT_BMP);
        tu_assert_same(img, src, td ? "top-down BMP" : "bottom-up BMP");
        hdm_image_free(img);
        hdm_image_free(src);
        free(b.p);
    }
}

Test(formats, bmp_8_bit_palette_exact)
{
    tu_rng r;
    tu_seed(&r, 22);
    enum { W = 6, H = 4, NCOL = 16 };
    unsigned char pal[NCOL][3], idx[H][W];
    for (int i = 0; i < NCOL; i++)
        for (int c = 0; c < 3; c++)
            pal[i][c] = (unsigned char)tu_next(&r);
    bytes b = {0};
    bmp_header(&b, W, H, 8, NCOL, 8 * H);
    for (int i = 0; i < NCOL; i++)
        put8(&b, pal[i][2]), put8(&b, pal[i][1]), put8(&b, pal[i][0]), put8(&b, 0);
    for (int y = H - 1; y >= 0; y--) {
        for (int x = 0; x < W; x++)
            put8(&b, idx[y][x] = (unsigned char)tu_below(&r, NCOL));
        put8(&b, 0), put8(&b, 0);
    }
    hdm_image *img = load_bytes(&b, "pal.bmp", HDM_FORMAT_BMP);
    assert_shape(img, W, H, 3, HDM_U8, "palette BMP");
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++)
                cr_assert_eq(tu_get(img, (uint32_t)c, (uint32_t)x, (uint32_t)y),
                             pal[idx[y][x]][c], "(%d, %d) channel %d", x, y, c);
    hdm_image_free(img);
    free(b.p);
}

/* ---- TGA (Truevision TGA 2.0) ---- */

static void tga_header(bytes *b, unsigned type, uint32_t w, uint32_t h, unsigned bpp,
                       unsigned descriptor)
{
    put8(b, 0), put8(b, 0), put8(b, type);
    for (int i = 0; i < 5; i++)
        put8(b, 0);
    put16le(b, 0), put16le(b, 0), put16le(b, w), put16le(b, h);
    put8(b, bpp), put8(b, descriptor);
}

static void tga_pixel(bytes *b, const hdm_image *img, uint32_t x, uint32_t y)
{
    if (img->channels == 1) {
        put8(b, tu_get(img, 0, x, y));
        return;
    }
    put8(b, tu_get(img, 2, x, y)), put8(b, tu_get(img, 1, x, y)), put8(b, tu_get(img, 0, x, y));
    if (img->channels == 4)
        put8(b, tu_get(img, 3, x, y));
}

static bool same_pixel(const hdm_image *img, uint32_t x0, uint32_t x1, uint32_t y)
{
    for (uint32_t c = 0; c < img->channels; c++)
        if (tu_get(img, c, x0, y) != tu_get(img, c, x1, y))
            return false;
    return true;
}

/* img (u8 gray, RGB or RGBA) as a TGA: uncompressed or RLE, bottom-up or top-down. */
static bytes tga_of(const hdm_image *img, bool rle, bool top_down)
{
    bytes b = {0};
    unsigned type = (img->channels == 1 ? 3 : 2) + (rle ? 8 : 0);
    unsigned descriptor = (img->channels == 4 ? 8 : 0) | (top_down ? 0x20 : 0);
    tga_header(&b, type, img->width, img->height, img->channels * 8, descriptor);
    for (uint32_t i = 0; i < img->height; i++) {
        uint32_t y = top_down ? i : img->height - 1 - i;
        for (uint32_t x = 0; x < img->width;) {
            if (!rle) {
                tga_pixel(&b, img, x++, y);
                continue;
            }
            uint32_t n = 1; /* a run of equal pixels, else a raw packet up to the next run */
            while (x + n < img->width && n < 128 && same_pixel(img, x, x + n, y))
                n++;
            if (n > 1) {
                put8(&b, 0x80 | (n - 1));
                tga_pixel(&b, img, x, y);
            } else {
                while (x + n < img->width && n < 128 && !same_pixel(img, x + n - 1, x + n, y))
                    n++;
                put8(&b, n - 1);
                for (uint32_t k = 0; k < n; k++)
                    tga_pixel(&b, img, x + k, y);
            }
            x += n;
        }
    }
    return b;
}

Test(formats, tga_exact)
{
    tu_rng r;
    tu_seed(&r, 23);
    static const uint32_t chans[] = {1, 3, 4};
    for (size_t ci = 0; ci < 3; ci++)
        for (int rle = 0; rle <= 1; rle++)
            for (int td = 0; td <= 1; td++) {
                hdm_image *src = tu_image_random(9, 5, chans[ci], HDM_U8, &r);
                /* some runs for RLE to find */
                for (uint32_t x = 2; x < 7; x++)
                    for (uint32_t c = 0; c < chans[ci]; c++)
                        tu_set(src, c, x, 1, tu_get(src, c, 2, 1));
                bytes b = tga_of(src, rle, td);
                char what[64];
                snprintf(what, sizeof what, "TGA %u channels%s%s", chans[ci], rle ? ", RLE" : "",
                         td ? ", top-down" : "");
                hdm_image *img = load_bytes(&b, "in.tga", HDM_FORMAT_TGA);
                tu_assert_same(img, src, what);
                hdm_image_free(img);
                hdm_image_free(src);
                free(b.p);
            }
}

/* ---- GIF (GIF89a specification, with a minimal LZW encoder) ---- */

/* LZW codes of 9 bits, least significant bit first. A clear code every 250 literals keeps the
 * decoder's table below 512 entries, so the code size never grows (GIF89a appendix F). */
typedef struct lzw {
    bytes out;
    uint32_t acc;
    int nbits;
} lzw;

static void lzw_code(lzw *z, unsigned code)
{
    z->acc |= (uint32_t)code << z->nbits;
    z->nbits += 9;
    while (z->nbits >= 8) {
        put8(&z->out, z->acc & 0xFF);
        z->acc >>= 8;
        z->nbits -= 8;
    }
}

static void gif_frame(bytes *b, const uint8_t *idx, uint32_t w, uint32_t h, int transparent)
{
    if (transparent >= 0) { /* graphic control extension */
        put8(b, 0x21), put8(b, 0xF9), put8(b, 4);
        put8(b, 0x01), put16le(b, 0), put8(b, (unsigned)transparent), put8(b, 0);
    }
    put8(b, 0x2C);
    put16le(b, 0), put16le(b, 0), put16le(b, w), put16le(b, h);
    put8(b, 0); /* no local table, not interlaced */
    put8(b, 8); /* LZW minimum code size */
    lzw z = {0};
    for (size_t i = 0; i < (size_t)w * h; i++) {
        if (i % 250 == 0)
            lzw_code(&z, 256);
        lzw_code(&z, idx[i]);
    }
    lzw_code(&z, 257);
    if (z.nbits)
        put8(&z.out, z.acc & 0xFF);
    for (size_t off = 0; off < z.out.len; off += 255) { /* data sub-blocks */
        size_t n = z.out.len - off < 255 ? z.out.len - off : 255;
        put8(b, (unsigned)n);
        put(b, z.out.p + off, n);
    }
    put8(b, 0);
    free(z.out.p);
}

Test(formats, gif_first_frame_exact)
{
    enum { W = 23, H = 17, TRANSPARENT = 5 };
    tu_rng r;
    tu_seed(&r, 24);
    unsigned char pal[256][3];
    uint8_t f1[W * H], f2[W * H];
    for (int i = 0; i < 256; i++)
        for (int c = 0; c < 3; c++)
            pal[i][c] = (unsigned char)tu_next(&r);
    for (int i = 0; i < W * H; i++) {
        f1[i] = (uint8_t)(i % 7 == 0 ? TRANSPARENT : tu_next(&r));
        if (f1[i] == TRANSPARENT && i % 7)
            f1[i] = 6;
        f2[i] = (uint8_t)tu_next(&r);
    }
    bytes b = {0};
    puts_(&b, "GIF89a");
    put16le(&b, W), put16le(&b, H);
    put8(&b, 0xF7); /* global table of 256 entries, 8-bit colour resolution */
    put8(&b, 0), put8(&b, 0);
    for (int i = 0; i < 256; i++)
        put(&b, pal[i], 3);
    gif_frame(&b, f1, W, H, TRANSPARENT);
    gif_frame(&b, f2, W, H, -1);
    put8(&b, 0x3B);

    hdm_image *img = load_bytes(&b, "in.gif", HDM_FORMAT_GIF);
    assert_shape(img, W, H, 4, HDM_U8, "gif");
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            unsigned i = f1[y * W + x];
            uint32_t a = tu_get(img, 3, (uint32_t)x, (uint32_t)y);
            if (i == TRANSPARENT) {
                cr_assert_eq(a, 0, "transparent pixel (%d, %d) has alpha %u", x, y, a);
                continue;
            }
            cr_assert_eq(a, 255, "(%d, %d) alpha", x, y);
            for (int c = 0; c < 3; c++)
                cr_assert_eq(tu_get(img, (uint32_t)c, (uint32_t)x, (uint32_t)y), pal[i][c],
                             "(%d, %d) channel %d: not the first frame's colour", x, y, c);
        }
    hdm_image_free(img);
    free(b.p);
}

/* ---- PSD (Adobe Photoshop file format: header, three empty sections, raw planes) ---- */

static bytes psd_of(const hdm_image *img)
{
    bytes b = {0};
    puts_(&b, "8BPS");
    put16be(&b, 1);
    for (int i = 0; i < 6; i++)
        put8(&b, 0);
    put16be(&b, img->channels);
    put32be(&b, img->height), put32be(&b, img->width);
    put16be(&b, img->depth == HDM_U16 ? 16 : 8);
    put16be(&b, 3);                               /* RGB */
    put32be(&b, 0), put32be(&b, 0), put32be(&b, 0); /* mode data, resources, layers */
    put16be(&b, 0);                               /* raw */
    for (uint32_t c = 0; c < img->channels; c++)
        for (uint32_t y = 0; y < img->height; y++)
            for (uint32_t x = 0; x < img->width; x++) {
                if (img->depth == HDM_U16)
                    put16be(&b, tu_get(img, c, x, y));
                else
                    put8(&b, tu_get(img, c, x, y));
            }
    return b;
}

Test(formats, psd_rgb_8_and_16_bit)
{
    tu_rng r;
    tu_seed(&r, 25);
    for (int d = 0; d < 2; d++) {
        hdm_depth depth = d ? HDM_U16 : HDM_U8;
        hdm_image *src = tu_image_random(7, 4, 3, depth, &r);
        bytes b = psd_of(src);
        hdm_image *img = load_bytes(&b, "in.psd", HDM_FORMAT_PSD);
        /* stb gives every PSD four channels, an opaque alpha for an RGB one */
        assert_shape(img, 7, 4, 4, depth, "psd");
        for (uint32_t y = 0; y < 4; y++)
            for (uint32_t x = 0; x < 7; x++) {
                for (uint32_t c = 0; c < 3; c++)
                    cr_assert_eq(tu_get(img, c, x, y), tu_get(src, c, x, y));
                cr_assert_eq(tu_get(img, 3, x, y), d ? 65535u : 255u);
            }
        hdm_image_free(img);
        hdm_image_free(src);
        free(b.p);
    }
}

Test(formats, psd_rgba_exact_where_alpha_is_0_or_max)
{
    tu_rng r;
    tu_seed(&r, 26);
    hdm_image *src = tu_image_random(6, 5, 4, HDM_U8, &r);
    for (uint32_t y = 0; y < 5; y++)
        for (uint32_t x = 0; x < 6; x++)
            tu_set(src, 3, x, y, (x + y) % 2 ? 255 : 0);
    bytes b = psd_of(src);
    hdm_image *img = load_bytes(&b, "a.psd", HDM_FORMAT_PSD);
    tu_assert_same(img, src, "RGBA PSD");
    hdm_image_free(img);
    hdm_image_free(src);
    free(b.p);
}

/* ---- Radiance HDR ---- */

Test(formats, hdr_flat_rgbe_is_f32)
{
    /* Flat (not run-length) scanlines, as readers take for widths below 8. RGBE (m, e) is
     * m · 2^(e − 136): mantissas 128, 64, 32 at e = 129 are 1, 0.5, 0.25. */
    static const unsigned char px[2][3][4] = {
        {{128, 64, 32, 129}, {0, 0, 0, 0}, {255, 1, 128, 136}},
        {{200, 100, 50, 120}, {128, 128, 128, 128}, {17, 34, 51, 140}},
    };
    bytes b = {0};
    puts_(&b, "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 3\n");
    put(&b, px, sizeof px);
    hdm_image *img = load_bytes(&b, "in.hdr", HDM_FORMAT_HDR);
    assert_shape(img, 3, 2, 3, HDM_F32, "hdr");
    for (uint32_t y = 0; y < 2; y++)
        for (uint32_t x = 0; x < 3; x++)
            for (uint32_t c = 0; c < 3; c++) {
                const unsigned char *p = px[y][x];
                double want = p[3] ? ldexp(p[c], p[3] - 136) : 0.0;
                double got = tu_getf(img, c, x, y);
                cr_assert(fabs(got - want) <= 1e-6 * fabs(want) + 1e-12,
                          "(%u, %u) channel %u: %g, want %g", x, y, c, got, want);
            }
    hdm_image_free(img);
    free(b.p);
}

Test(formats, hdr_run_length_values_near)
{
    enum { W = 40, H = 3 };
    float rgb[W * H * 3];
    for (int i = 0; i < W * H * 3; i++)
        rgb[i] = (float)((i % 17) * 0.37 + (i / 9) * 0.01);
    bytes b = {0};
    cr_assert(stbi_write_hdr_to_func(on_bytes, &b, W, H, 3, rgb));
    hdm_image *img = load_bytes(&b, "rle.hdr", HDM_FORMAT_HDR);
    assert_shape(img, W, H, 3, HDM_F32, "rle hdr");
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const float *p = rgb + (y * W + x) * 3;
            float mx = fmaxf(p[0], fmaxf(p[1], p[2]));
            for (int c = 0; c < 3; c++) {
                float got = tu_getf(img, (uint32_t)c, (uint32_t)x, (uint32_t)y);
                cr_assert(fabsf(got - p[c]) <= mx / 128 + 1e-6f,
                          "(%d, %d) channel %d: %g, want %g", x, y, c, got, p[c]);
            }
        }
    hdm_image_free(img);
    free(b.p);
}

/* ---- PNM (netpbm: binary P5 gray, P6 colour; 16-bit samples big-endian) ---- */

static bytes pnm_of(const hdm_image *img, const char *header_extra)
{
    bytes b = {0};
    char head[128];
    snprintf(head, sizeof head, "P%c\n%s%u %u\n%u\n", img->channels == 1 ? '5' : '6',
             header_extra, img->width, img->height, img->depth == HDM_U16 ? 65535u : 255u);
    puts_(&b, head);
    for (uint32_t y = 0; y < img->height; y++)
        for (uint32_t x = 0; x < img->width; x++)
            for (uint32_t c = 0; c < img->channels; c++) {
                if (img->depth == HDM_U16)
                    put16be(&b, tu_get(img, c, x, y));
                else
                    put8(&b, tu_get(img, c, x, y));
            }
    return b;
}

Test(formats, pnm_p5_p6_8_bit_exact)
{
    tu_rng r;
    tu_seed(&r, 27);
    for (uint32_t ch = 1; ch <= 3; ch += 2) {
        hdm_image *src = tu_image_random(11, 7, ch, HDM_U8, &r);
        bytes b = pnm_of(src, "");
        hdm_image *img = load_bytes(&b, ch == 1 ? "in.pgm" : "in.ppm", HDM_FORMAT_PNM);
        tu_assert_same(img, src, ch == 1 ? "P5" : "P6");
        hdm_image_free(img);
        hdm_image_free(src);
        free(b.p);
    }
}

Test(formats, pnm_header_comment)
{
    tu_rng r;
    tu_seed(&r, 28);
    hdm_image *src = tu_image_random(4, 3, 1, HDM_U8, &r);
    bytes b = pnm_of(src, "# made by the test\n");
    hdm_image *img = load_bytes(&b, "c.pgm", HDM_FORMAT_PNM);
    tu_assert_same(img, src, "P5 with a comment");
    hdm_image_free(img);
    hdm_image_free(src);
    free(b.p);
}

Test(formats, pnm_p5_16_bit_stays_u16_exact)
{
    tu_rng r;
    tu_seed(&r, 29);
    hdm_image *src = tu_image_random(9, 5, 1, HDM_U16, &r);
    tu_set(src, 0, 0, 0, 0x0102); /* byte order shows */
    tu_set(src, 0, 1, 0, 0);
    tu_set(src, 0, 2, 0, 65535);
    bytes b = pnm_of(src, "");
    hdm_image *img = load_bytes(&b, "in16.pgm", HDM_FORMAT_PNM);
    tu_assert_same(img, src, "16-bit P5");
    hdm_image_free(img);
    hdm_image_free(src);
    free(b.p);
}

Test(formats, pnm_p6_16_bit_stays_u16_exact)
{
    tu_rng r;
    tu_seed(&r, 30);
    hdm_image *src = tu_image_random(5, 4, 3, HDM_U16, &r);
    bytes b = pnm_of(src, "");
    hdm_image *img = load_bytes(&b, "in16.ppm", HDM_FORMAT_PNM);
    tu_assert_same(img, src, "16-bit P6");
    hdm_image_free(img);
    hdm_image_free(src);
    free(b.p);
}

/* ---- writing through stb_image_write ---- */

/* Saves img as name, loads it back. */
static hdm_image *save_load(const hdm_image *img, const char *name)
{
    hdm_error err = {0};
    const char *path = tu_path(name);
    cr_assert_eq(hdm_save(img, path, NULL, &err), HDM_OK, "%s: %s", name, err.message);
    hdm_image *back;
    cr_assert_eq(hdm_load(path, NULL, &back, &err), HDM_OK, "%s: %s", name, err.message);
    /* memory encoding gives the same bytes */
    void *data;
    size_t size, fsize;
    cr_assert_eq(hdm_save_memory(img, hdm_format_from_name(name), NULL, &data, &size, &err),
                 HDM_OK, "%s: %s", name, err.message);
    void *fdata = tu_read_file(path, &fsize);
    cr_assert(size == fsize && memcmp(data, fdata, size) == 0, "%s: file and memory differ",
              name);
    free(fdata);
    free(data);
    return back;
}

Test(formats, write_bmp_exact_for_u8)
{
    /* BMP holds RGB or RGBA: gray is replicated, gray+alpha loses its alpha */
    static const uint32_t want_ch[] = {0, 3, 3, 3, 4};
    tu_rng r;
    tu_seed(&r, 31);
    for (uint32_t ch = 1; ch <= 4; ch++) {
        hdm_image *src = tu_image_random(7, 5, ch, HDM_U8, &r);
        hdm_image *back = save_load(src, "out.bmp");
        assert_shape(back, 7, 5, want_ch[ch], HDM_U8, "bmp");
        for (uint32_t y = 0; y < 5; y++)
            for (uint32_t x = 0; x < 7; x++)
                for (uint32_t c = 0; c < want_ch[ch]; c++) {
                    uint32_t sc = ch <= 2 ? 0 : c;
                    cr_assert_eq(tu_get(back, c, x, y), tu_get(src, sc, x, y),
                                 "%u channels: (%u, %u) channel %u", ch, x, y, c);
                }
        hdm_image_free(back);
        hdm_image_free(src);
    }
}

Test(formats, write_bmp_from_u16_rounds)
{
    static const uint32_t v[] = {0, 1, 128, 129, 256, 32767, 32768, 32896, 65407, 65408, 65535};
    enum { N = sizeof v / sizeof v[0] };
    tu_rng r;
    tu_seed(&r, 32);
    hdm_image *src = tu_image_random(N, 9, 3, HDM_U16, &r);
    for (uint32_t x = 0; x < N; x++)
        for (uint32_t c = 0; c < 3; c++)
            tu_set(src, c, x, 0, v[(x + c) % N]);
    hdm_image *back = save_load(src, "u16.bmp");
    assert_shape(back, N, 9, 3, HDM_U8, "bmp from u16");
    for (uint32_t y = 0; y < 9; y++)
        for (uint32_t x = 0; x < N; x++)
            for (uint32_t c = 0; c < 3; c++) {
                uint32_t s = tu_get(src, c, x, y);
                uint32_t want = (2 * s + 257) / 514; /* round(s / 257): 257 is odd, no ties */
                cr_assert_eq(tu_get(back, c, x, y), want, "%u became %u, want %u", s,
                             tu_get(back, c, x, y), want);
            }
    hdm_image_free(back);
    hdm_image_free(src);
}

Test(formats, write_tga_exact_for_u8)
{
    tu_rng r;
    tu_seed(&r, 33);
    for (uint32_t ch = 1; ch <= 4; ch++) {
        hdm_image *src = tu_image_random(13, 6, ch, HDM_U8, &r);
        for (uint32_t x = 3; x < 9; x++) /* a run for the RLE writer */
            for (uint32_t c = 0; c < ch; c++)
                tu_set(src, c, x, 2, 77);
        hdm_image *back = save_load(src, "out.TGA");
        char what[32];
        snprintf(what, sizeof what, "tga, %u channels", ch);
        tu_assert_same(back, src, what);
        hdm_image_free(back);
        hdm_image_free(src);
    }
}

Test(formats, write_jpeg_shape_and_near_values)
{
    for (uint32_t ch = 1; ch <= 4; ch++) {
        hdm_image *src;
        cr_assert_eq(hdm_image_new(24, 16, ch, HDM_U8, &src), HDM_OK);
        for (uint32_t c = 0; c < ch; c++)
            for (uint32_t y = 0; y < 16; y++)
                for (uint32_t x = 0; x < 24; x++)
                    tu_set(src, c, x, y, 60 + 4 * x + 3 * y + 10 * c);
        for (int e = 0; e < 2; e++) {
            hdm_image *back = save_load(src, e ? "out.jpeg" : "out.jpg");
            /* gray stays gray, colour is YCbCr; alpha is composited over white */
            uint32_t colours = ch <= 2 ? 1 : 3;
            assert_shape(back, 24, 16, colours, HDM_U8, "jpeg");
            for (uint32_t y = 0; y < 16; y++)
                for (uint32_t x = 0; x < 24; x++)
                    for (uint32_t c = 0; c < colours; c++) {
                        int want = (int)tu_get(src, c, x, y);
                        if (ch == 2 || ch == 4) {
                            int a = (int)tu_get(src, ch - 1, x, y);
                            want = (want * a + 255 * (255 - a) + 127) / 255;
                        }
                        int d = (int)tu_get(back, c, x, y) - want;
                        cr_assert_leq(abs(d), 12, "%u channels: (%u, %u) channel %u off by %d",
                                      ch, x, y, c, d);
                    }
            hdm_image_free(back);
        }
        hdm_image_free(src);
    }
}

Test(formats, write_jpeg_quality_matters)
{
    tu_rng r;
    tu_seed(&r, 34);
    hdm_image *src = tu_image_random(32, 32, 3, HDM_U8, &r);
    size_t size[2];
    for (int i = 0; i < 2; i++) {
        hdm_options opt;
        hdm_options_init(&opt);
        opt.jpeg_quality = i ? 95 : 10;
        void *data;
        cr_assert_eq(hdm_save_memory(src, HDM_FORMAT_JPEG, &opt, &data, &size[i], NULL), HDM_OK);
        free(data);
    }
    cr_assert_lt(size[0], size[1], "quality 10 gave %zu bytes, 95 gave %zu", size[0], size[1]);
    hdm_image_free(src);
}

Test(formats, write_hdr_is_rgb_f32)
{
    tu_rng r;
    tu_seed(&r, 35);
    static const hdm_depth depths[] = {HDM_U8, HDM_U16, HDM_F32};
    for (int d = 0; d < 3; d++)
        for (uint32_t ch = 1; ch <= 4; ch++) {
            hdm_image *src = tu_image_random(19, 4, ch, depths[d], &r);
            hdm_image *back = save_load(src, "out.hdr");
            assert_shape(back, 19, 4, 3, HDM_F32, "hdr");
            double scale = depths[d] == HDM_U8 ? 255.0 : depths[d] == HDM_U16 ? 65535.0 : 1.0;
            for (uint32_t y = 0; y < 4; y++)
                for (uint32_t x = 0; x < 19; x++) {
                    double want[3], mx = 0;
                    for (uint32_t c = 0; c < 3; c++) {
                        uint32_t sc = ch <= 2 ? 0 : c;
                        want[c] = depths[d] == HDM_F32 ? tu_getf(src, sc, x, y)
                                                       : tu_get(src, sc, x, y) / scale;
                        mx = fmax(mx, want[c]);
                    }
                    for (uint32_t c = 0; c < 3; c++) {
                        double got = tu_getf(back, c, x, y);
                        cr_assert(fabs(got - want[c]) <= mx / 128 + 1e-6,
                                  "depth %d, %u channels: (%u, %u) channel %u: %g, want %g",
                                  (int)depths[d], ch, x, y, c, got, want[c]);
                    }
                }
            hdm_image_free(back);
            hdm_image_free(src);
        }
}

Test(formats, unknown_output_extension_creates_nothing)
{
    tu_rng r;
    tu_seed(&r, 36);
    hdm_image *src = tu_image_random(3, 3, 3, HDM_U8, &r);
    static const char *const names[] = {"out.xyz", "out.gif", "out.psd", "out.pgm", "out",
                                        "out.png.bak"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        hdm_error err = {0};
        const char *path = tu_path(names[i]);
        cr_assert_eq(hdm_save(src, path, NULL, &err), HDM_ERR_FORMAT, "%s", names[i]);
        cr_assert_eq(err.status, HDM_ERR_FORMAT);
        cr_assert(strstr(err.message, path) == err.message, "message: %s", err.message);
        cr_assert(!tu_exists(path), "%s was created", names[i]);
        cr_assert_eq(tu_dir_entries(), 0, "%s left a file behind", names[i]);
    }
    /* formats that are read but not written */
    static const hdm_format ro[] = {HDM_FORMAT_GIF, HDM_FORMAT_PSD, HDM_FORMAT_PNM,
                                    HDM_FORMAT_UNKNOWN, HDM__FORMAT_COUNT};
    for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++) {
        void *data = (void *)&data;
        size_t size = 1;
        cr_assert_eq(hdm_save_memory(src, ro[i], NULL, &data, &size, NULL), HDM_ERR_FORMAT,
                     "format %d", (int)ro[i]);
        cr_assert_null(data);
        cr_assert_eq(size, 0);
    }
    hdm_image_free(src);
}

Test(formats, unreadable_input_is_a_format_error)
{
    const char *path = tu_path("text.png");
    tu_write_file(path, "just some text, not an image\n", 29);
    hdm_error err = {0};
    hdm_image *img;
    cr_assert_eq(hdm_load(path, NULL, &img, &err), HDM_ERR_FORMAT);
    cr_assert(strstr(err.message, path) == err.message, "message: %s", err.message);
    tu_write_file(path, "", 0);
    cr_assert_neq(hdm_load(path, NULL, &img, &err), HDM_OK);
    cr_assert_eq(hdm_load(tu_path("missing.png"), NULL, &img, &err), HDM_ERR_IO);
    cr_assert_eq(hdm_load(tu_dir, NULL, &img, &err), HDM_ERR_IO);
}

/* ---- limits: checked from the header, before pixel memory ---- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Loads path and from memory with opt: both must give HDM_ERR_LIMIT with a message that names
 * the limit (contains `names`) and the file. */
static void expect_limit(const char *path, const hdm_options *opt, const char *names)
{
    size_t size;
    void *data = tu_read_file(path, &size);
    for (int mem = 0; mem <= 1; mem++) {
        hdm_error err = {0};
        hdm_image *img = (hdm_image *)&img;
        double t0 = now();
        hdm_status st = mem ? hdm_load_memory(data, size, opt, &img, &err)
                            : hdm_load(path, opt, &img, &err);
        double dt = now() - t0;
        cr_assert_eq(st, HDM_ERR_LIMIT, "%s%s: status %d (%s), want a limit", path,
                     mem ? " from memory" : "", (int)st, err.message);
        cr_assert_null(img);
        cr_assert(strstr(err.message, names), "\"%s\" does not name %s", err.message, names);
        if (!mem)
            cr_assert(strstr(err.message, path) == err.message, "\"%s\" lacks the path",
                      err.message);
        cr_assert_lt(dt, 1.0, "refusing took %.2f s: was it decoded first?", dt);
        hdm_info info;
        if (!mem)
            cr_assert_eq(hdm_info_read(path, opt, &info, &err), HDM_ERR_LIMIT, "%s: info: %s",
                         path, err.message);
    }
    free(data);
}

static void write_png(const char *path, uint32_t w, uint32_t h, int color_type, int depth)
{
    tu_rng r;
    tu_seed(&r, 40);
    tu_png p;
    tu_png_random(&p, w, h, depth, color_type, PNG_INTERLACE_NONE, false, &r);
    size_t size;
    unsigned char *data = tu_png_encode(&p, -1, 0, &size);
    tu_write_file(path, data, size);
    free(data);
    tu_png_free(&p);
}

static void write_bmp(const char *path, uint32_t w, uint32_t h)
{
    tu_rng r;
    tu_seed(&r, 41);
    hdm_image *img = tu_image_random(w, h, 3, HDM_U8, &r);
    bytes b = bmp24(img, false);
    tu_write_file(path, b.p, b.len);
    free(b.p);
    hdm_image_free(img);
}

Test(limits, each_limit_for_png_and_bmp)
{
    write_png(tu_path("a.png"), 300, 20, PNG_COLOR_TYPE_RGB, 8);
    write_bmp(tu_path("a.bmp"), 300, 20);
    for (int f = 0; f < 2; f++) {
        const char *path = tu_path(f ? "a.bmp" : "a.png");
        hdm_options opt;
        hdm_options_init(&opt);
        opt.max_width = 299;
        expect_limit(path, &opt, "(max_width)");
        expect_limit(path, &opt, "limit of 299");
        hdm_options_init(&opt);
        opt.max_height = 19;
        expect_limit(path, &opt, "(max_height)");
        hdm_options_init(&opt);
        opt.max_pixels = 300 * 20 - 1;
        expect_limit(path, &opt, "(max_pixels)");
        hdm_options_init(&opt);
        opt.max_memory = 300 * 20 * 3 - 1;
        expect_limit(path, &opt, "(max_memory)");
        /* exactly at every limit is accepted */
        hdm_options_init(&opt);
        opt.max_width = 300;
        opt.max_height = 20;
        opt.max_pixels = 300 * 20;
        opt.max_memory = 300 * 20 * 3 * 3 + 54; /* BMP: stb's result, our copy and the file */
        hdm_image *img;
        hdm_error err = {0};
        cr_assert_eq(hdm_load(path, &opt, &img, &err), HDM_OK, "%s: %s", path, err.message);
        hdm_image_free(img);
    }
}

Test(limits, png_wider_than_max_width_by_far)
{
    /* far beyond the default width limit too: still a limit, not corrupt data */
    write_png(tu_path("w.png"), 2000, 1, PNG_COLOR_TYPE_GRAY, 1);
    hdm_options opt;
    hdm_options_init(&opt);
    opt.max_width = 100;
    expect_limit(tu_path("w.png"), &opt, "(max_width)");
    hdm_options_init(&opt);
    opt.max_height = 0;
    expect_limit(tu_path("w.png"), &opt, "(max_height)");
}

/* A tiny valid PNG whose IHDR then claims w × h (and whose IDAT is far too short for it). */
static void write_png_claiming(const char *path, uint32_t w, uint32_t h)
{
    tu_rng r;
    tu_seed(&r, 42);
    tu_png p;
    tu_png_random(&p, 1, 1, 8, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE, false, &r);
    size_t size;
    unsigned char *data = tu_png_encode(&p, -1, 0, &size);
    unsigned char *ihdr = data + 16;
    ihdr[0] = (unsigned char)(w >> 24), ihdr[1] = (unsigned char)(w >> 16);
    ihdr[2] = (unsigned char)(w >> 8), ihdr[3] = (unsigned char)w;
    ihdr[4] = (unsigned char)(h >> 24), ihdr[5] = (unsigned char)(h >> 16);
    ihdr[6] = (unsigned char)(h >> 8), ihdr[7] = (unsigned char)h;
    tu_png_fix_crc(data, 8);
    tu_write_file(path, data, size);
    free(data);
    tu_png_free(&p);
}

Test(limits, png_header_claiming_a_huge_image_fails_fast)
{
    write_png_claiming(tu_path("huge.png"), 100000, 100000);
    expect_limit(tu_path("huge.png"), NULL, "(max_pixels)");
    write_png_claiming(tu_path("wide.png"), 0x7FFFFFFF, 1);
    expect_limit(tu_path("wide.png"), NULL, "(max_width)");
    write_png_claiming(tu_path("tall.png"), 1, 0x7FFFFFFF);
    expect_limit(tu_path("tall.png"), NULL, "(max_height)");
    /* limits raised: memory is the last guard */
    hdm_options opt;
    hdm_options_init(&opt);
    opt.max_pixels = UINT64_MAX;
    opt.max_memory = 1 << 20;
    expect_limit(tu_path("huge.png"), &opt, "(max_memory)");
}

/* A 54-byte BMP header claiming w × h, with no pixels at all. */
static void write_bmp_claiming(const char *path, int32_t w, int32_t h)
{
    bytes b = {0};
    bmp_header(&b, w, h, 24, 0, 0);
    tu_write_file(path, b.p, b.len);
    free(b.p);
}

Test(limits, bmp_header_claiming_a_huge_image_fails_fast)
{
    write_bmp_claiming(tu_path("huge.bmp"), 100000, 100000);
    expect_limit(tu_path("huge.bmp"), NULL, "(max_pixels)");
    write_bmp_claiming(tu_path("huge-td.bmp"), 100000, -100000);
    expect_limit(tu_path("huge-td.bmp"), NULL, "(max_pixels)");
    hdm_options opt;
    hdm_options_init(&opt);
    opt.max_width = 50000;
    expect_limit(tu_path("huge.bmp"), &opt, "(max_width)");
    hdm_options_init(&opt);
    opt.max_pixels = UINT64_MAX;
    opt.max_memory = 1 << 20;
    expect_limit(tu_path("huge.bmp"), &opt, "(max_memory)");
}

Test(limits, gif_and_tga_headers_claiming_huge_images)
{
    bytes b = {0};
    puts_(&b, "GIF89a");
    put16le(&b, 60000), put16le(&b, 60000);
    put8(&b, 0x80), put8(&b, 0), put8(&b, 0);
    put(&b, "\0\0\0\xff\xff\xff", 6);
    put8(&b, 0x3B);
    tu_write_file(tu_path("huge.gif"), b.p, b.len);
    free(b.p);
    expect_limit(tu_path("huge.gif"), NULL, "(max_pixels)");
    b = (bytes){0};
    tga_header(&b, 2, 60000, 60000, 24, 0);
    tu_write_file(tu_path("huge.tga"), b.p, b.len);
    free(b.p);
    expect_limit(tu_path("huge.tga"), NULL, "(max_pixels)");
}

Test(limits, pnm_header_claiming_a_huge_image)
{
    tu_write_file(tu_path("huge.pgm"), "P5\n90000 90000\n255\n\0", 20);
    expect_limit(tu_path("huge.pgm"), NULL, "(max_pixels)");
}
