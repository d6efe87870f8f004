/* SPDX-License-Identifier: MIT */
/* seeds.c — small valid files of every input format and depth, made in memory
 *
 * PNG is written with libpng directly (every colour type, bit depth, tRNS, interlace); JPEG,
 * WebP (lossy and lossless), BMP, TGA, HDR and TIFF (each compression) through the library's own encoders; GIF, PSD, PNM and the BMP/TGA variants
 * stb_image_write cannot make are laid out byte by byte from their specifications. Used for the
 * fuzz seed corpus and by the hostile-input tests, so both start from the same real files. */
#include "fuzz/seeds.h"

#include "hadamard.h"

#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct buf {
    unsigned char *p;
    size_t n, cap;
    bool failed;
} buf;

static void put(buf *b, const void *data, size_t n)
{
    if (b->failed)
        return;
    if (n > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->n < n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void put8(buf *b, unsigned v) { unsigned char c = (unsigned char)v; put(b, &c, 1); }
static void put16le(buf *b, unsigned v) { put8(b, v & 255); put8(b, v >> 8 & 255); }
static void put32le(buf *b, uint32_t v) { put16le(b, v & 0xFFFF); put16le(b, v >> 16); }
static void put16be(buf *b, unsigned v) { put8(b, v >> 8 & 255); put8(b, v & 255); }
static void put32be(buf *b, uint32_t v) { put16be(b, v >> 16); put16be(b, v & 0xFFFF); }

/* The test pattern: a different ramp in each channel, so swapped or dropped planes show. */
static unsigned sample(unsigned x, unsigned y, unsigned c, unsigned maxval)
{
    return (x * 37u + y * 91u + c * 53u + x * y * 7u) % (maxval + 1u);
}

/* ---- PNG through libpng ---- */

static void png_put(png_structp png, png_bytep data, size_t n) { put(png_get_io_ptr(png), data, n); }
static void png_noflush(png_structp png) { (void)png; }

typedef struct png_spec {
    unsigned w, h;
    int color, depth;
    bool interlace, trns;
} png_spec;

static bool make_png(const png_spec *s, buf *b)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    unsigned char *row = NULL;
    if (!info)
        goto fail;
    if (setjmp(png_jmpbuf(png)))
        goto fail;
    png_set_write_fn(png, b, png_put, png_noflush);
    png_set_IHDR(png, info, s->w, s->h, s->depth, s->color,
                 s->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    unsigned maxval = (1u << s->depth) - 1, npal = 0;
    if (s->color == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[256];
        npal = maxval + 1 < 16 ? maxval + 1 : 16;
        for (unsigned i = 0; i < npal; i++)
            pal[i] = (png_color){(png_byte)(i * 16), (png_byte)(255 - i * 9), (png_byte)(i * 40)};
        png_set_PLTE(png, info, pal, (int)npal);
        maxval = npal - 1;
    }
    if (s->trns) {
        png_byte alpha[4] = {0, 128, 255, 64};
        png_color_16 key = {.red = 1, .green = 2, .blue = 3, .gray = 1};
        png_set_tRNS(png, info, alpha, s->color == PNG_COLOR_TYPE_PALETTE ? 4 : 0, &key);
    }
    png_write_info(png, info);
    int channels = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    row = calloc(1, rowbytes);
    if (!row)
        goto fail;
    int passes = png_set_interlace_handling(png);
    for (int pass = 0; pass < passes; pass++)
        for (unsigned y = 0; y < s->h; y++) {
            memset(row, 0, rowbytes);
            for (unsigned x = 0; x < s->w; x++)
                for (int c = 0; c < channels; c++) {
                    unsigned v = sample(x, y, (unsigned)c, maxval);
                    size_t i = (size_t)x * (size_t)channels + (size_t)c;
                    if (s->depth == 16) {
                        row[2 * i] = (unsigned char)(v >> 8);
                        row[2 * i + 1] = (unsigned char)v;
                    } else if (s->depth == 8) {
                        row[i] = (unsigned char)v;
                    } else { /* packed, most significant bits first (PNG spec 7.2) */
                        size_t bit = i * (size_t)s->depth;
                        row[bit / 8] |= (unsigned char)(v << (8 - s->depth - bit % 8));
                    }
                }
            png_write_row(png, row);
        }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(row);
    return !b->failed;
fail:
    png_destroy_write_struct(&png, &info);
    free(row);
    return false;
}

/* ---- JPEG, WebP, BMP, TGA, HDR, TIFF through the library's encoders ---- */

static bool make_saved_depth(hdm_format fmt, unsigned w, unsigned h, unsigned ch, hdm_depth d,
                             hdm_tiff_compression tc, bool lossless, buf *b)
{
    hdm_image *img;
    if (hdm_image_new(w, h, ch, d, &img))
        return false;
    for (unsigned c = 0; c < ch; c++)
        for (unsigned y = 0; y < h; y++)
            for (unsigned x = 0; x < w; x++) {
                unsigned v = sample(x, y, c, d == HDM_U16 ? 65535 : 255);
                if (d == HDM_F32)
                    ((float *)hdm_row(img, c, y))[x] = (float)v / 64.0f;
                else if (d == HDM_U16)
                    ((uint16_t *)hdm_row(img, c, y))[x] = (uint16_t)v;
                else
                    ((uint8_t *)hdm_row(img, c, y))[x] = (uint8_t)v;
            }
    void *data;
    size_t size;
    hdm_options o;
    hdm_options_init(&o);
    o.tiff_compression = tc;
    o.webp_lossless = lossless;
    hdm_status st = hdm_save_memory(img, fmt, &o, &data, &size, NULL);
    hdm_image_free(img);
    if (st)
        return false;
    put(b, data, size);
    hdm_free(data);
    return !b->failed;
}

static bool make_saved(hdm_format fmt, unsigned w, unsigned h, unsigned ch, bool lossless,
                       buf *b)
{
    return make_saved_depth(fmt, w, h, ch, fmt == HDM_FORMAT_HDR ? HDM_F32 : HDM_U8,
                            HDM_TIFF_DEFLATE, lossless, b);
}

/* ---- BMP with a palette or 16-bit pixels (Microsoft BITMAPINFOHEADER) ---- */

static bool make_bmp(unsigned w, unsigned h, unsigned bpp, buf *b)
{
    unsigned npal = bpp <= 8 ? 1u << bpp : 0;
    size_t stride = ((size_t)w * bpp + 31) / 32 * 4;
    uint32_t offset = 14 + 40 + npal * 4;
    put8(b, 'B');
    put8(b, 'M');
    put32le(b, offset + (uint32_t)(stride * h));
    put32le(b, 0);
    put32le(b, offset);
    put32le(b, 40);
    put32le(b, w);
    put32le(b, h); /* positive: rows bottom-up */
    put16le(b, 1);
    put16le(b, bpp);
    put32le(b, 0); /* BI_RGB */
    put32le(b, (uint32_t)(stride * h));
    put32le(b, 2835);
    put32le(b, 2835);
    put32le(b, npal);
    put32le(b, 0);
    for (unsigned i = 0; i < npal; i++) {
        put8(b, i * 7);
        put8(b, 255 - i);
        put8(b, i * 3);
        put8(b, 0);
    }
    unsigned char row[64];
    for (unsigned y = 0; y < h; y++) {
        memset(row, 0, sizeof row);
        for (unsigned x = 0; x < w; x++) {
            unsigned v = sample(x, y, 0, bpp <= 8 ? npal - 1 : 0x7FFF);
            if (bpp == 16) {
                row[2 * x] = (unsigned char)v;
                row[2 * x + 1] = (unsigned char)(v >> 8);
            } else {
                size_t bit = (size_t)x * bpp;
                row[bit / 8] |= (unsigned char)(v << (8 - bpp - bit % 8));
            }
        }
        put(b, row, stride);
    }
    return !b->failed;
}

/* ---- TGA, uncompressed true-colour, gray and colour-mapped (TGA 2.0 specification) ---- */

static bool make_tga(unsigned w, unsigned h, unsigned type, unsigned bpp, buf *b)
{
    bool mapped = type == 1;
    put8(b, 0);
    put8(b, mapped);
    put8(b, type);
    put16le(b, 0);
    put16le(b, mapped ? 16 : 0);
    put8(b, mapped ? 24 : 0);
    put16le(b, 0);
    put16le(b, 0);
    put16le(b, w);
    put16le(b, h);
    put8(b, bpp);
    put8(b, 0x20 | (bpp == 32 ? 8 : 0)); /* top-left origin; alpha bits */
    for (unsigned i = 0; mapped && i < 16; i++) {
        put8(b, i * 16);
        put8(b, 200 - i * 5);
        put8(b, i * 9);
    }
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++)
            for (unsigned c = 0; c < bpp / 8; c++)
                put8(b, sample(x, y, c, mapped ? 15 : 255));
    return !b->failed;
}

/* ---- GIF (GIF89a specification): a 4-colour image, LZW with a clear code every two literals
 * so the code size stays at 3 bits and no string table is needed. ---- */

typedef struct bits {
    buf *b;
    unsigned char block[255];
    unsigned nblock, acc, nacc;
} bits;

static void bits_flush_block(bits *s)
{
    if (s->nblock) {
        put8(s->b, s->nblock);
        put(s->b, s->block, s->nblock);
        s->nblock = 0;
    }
}

static void bits_put(bits *s, unsigned code, unsigned n)
{
    s->acc |= code << s->nacc; /* LSB first */
    s->nacc += n;
    while (s->nacc >= 8) {
        s->block[s->nblock++] = (unsigned char)s->acc;
        s->acc >>= 8;
        s->nacc -= 8;
        if (s->nblock == sizeof s->block)
            bits_flush_block(s);
    }
}

static void gif_frame(buf *b, unsigned w, unsigned h, unsigned seed)
{
    put8(b, 0x2C);
    put16le(b, 0);
    put16le(b, 0);
    put16le(b, w);
    put16le(b, h);
    put8(b, 0);
    put8(b, 2); /* LZW minimum code size: clear = 4, end = 5 */
    bits s = {.b = b};
    unsigned n = w * h;
    for (unsigned i = 0; i < n; i++) {
        if (i % 2 == 0)
            bits_put(&s, 4, 3);
        bits_put(&s, sample(i % w, i / w, seed, 3), 3);
    }
    bits_put(&s, 5, 3);
    if (s.nacc)
        bits_put(&s, 0, 8 - s.nacc);
    bits_flush_block(&s);
    put8(b, 0);
}

static bool make_gif(unsigned w, unsigned h, bool transparent, unsigned frames, buf *b)
{
    put(b, "GIF89a", 6);
    put16le(b, w);
    put16le(b, h);
    put8(b, 0x80 | 0x10 | 1); /* global table of 4 colours */
    put8(b, 0);
    put8(b, 0);
    static const unsigned char pal[12] = {0, 0, 0, 255, 0, 0, 0, 255, 0, 40, 80, 255};
    put(b, pal, sizeof pal);
    for (unsigned f = 0; f < frames; f++) {
        if (transparent) { /* graphic control extension: colour 3 is transparent */
            static const unsigned char gce[8] = {0x21, 0xF9, 4, 1, 10, 0, 3, 0};
            put(b, gce, sizeof gce);
        }
        gif_frame(b, w, h, f);
    }
    put8(b, 0x3B);
    return !b->failed;
}

/* ---- PSD (Adobe Photoshop File Formats Specification): RGB, raw or PackBits ---- */

static bool make_psd(unsigned w, unsigned h, unsigned channels, unsigned depth, bool rle, buf *b)
{
    put(b, "8BPS", 4);
    put16be(b, 1);
    put(b, "\0\0\0\0\0\0", 6);
    put16be(b, channels);
    put32be(b, h);
    put32be(b, w);
    put16be(b, depth);
    put16be(b, 3); /* RGB */
    put32be(b, 0); /* colour mode data */
    put32be(b, 0); /* image resources */
    put32be(b, 0); /* layers and masks */
    put16be(b, rle);
    if (rle) { /* each row one literal run: a count byte w-1, then w bytes */
        for (unsigned i = 0; i < channels * h; i++)
            put16be(b, w + 1);
        for (unsigned c = 0; c < channels; c++)
            for (unsigned y = 0; y < h; y++) {
                put8(b, w - 1);
                for (unsigned x = 0; x < w; x++)
                    put8(b, sample(x, y, c, 255));
            }
        return !b->failed;
    }
    for (unsigned c = 0; c < channels; c++)
        for (unsigned y = 0; y < h; y++)
            for (unsigned x = 0; x < w; x++) {
                if (depth == 16)
                    put16be(b, sample(x, y, c, 65535) * 251u % 65536u);
                else
                    put8(b, sample(x, y, c, 255));
            }
    return !b->failed;
}

/* ---- PNM (netpbm: P5 gray, P6 RGB; maxval above 255 is two bytes a sample, big-endian) ---- */

static bool make_pnm(unsigned w, unsigned h, unsigned channels, unsigned maxval, buf *b)
{
    char head[64];
    int n = snprintf(head, sizeof head, "P%c\n# hadamard seed\n%u %u\n%u\n",
                     channels == 1 ? '5' : '6', w, h, maxval);
    put(b, head, (size_t)n);
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++)
            for (unsigned c = 0; c < channels; c++) {
                if (maxval > 255)
                    put16be(b, sample(x, y, c, maxval));
                else
                    put8(b, sample(x, y, c, maxval));
            }
    return !b->failed;
}

/* ---- the list ---- */

enum kind { PNG, SAVED, LOSSLESS, BMP, TGA, GIF, PSD, PNM, TIFF };

typedef struct seed {
    const char *name;
    enum kind kind;
    png_spec png;
    unsigned a, b, c, d; /* the kind's own parameters */
} seed;

#define G PNG_COLOR_TYPE_GRAY
#define GA PNG_COLOR_TYPE_GRAY_ALPHA
#define RGB PNG_COLOR_TYPE_RGB
#define RGBA PNG_COLOR_TYPE_RGB_ALPHA
#define PAL PNG_COLOR_TYPE_PALETTE

static const seed seeds[] = {
    {"png-gray1.png", PNG, {7, 5, G, 1, false, false}, 0, 0, 0, 0},
    {"png-gray2.png", PNG, {7, 5, G, 2, false, false}, 0, 0, 0, 0},
    {"png-gray4.png", PNG, {7, 5, G, 4, false, false}, 0, 0, 0, 0},
    {"png-gray8.png", PNG, {7, 5, G, 8, false, false}, 0, 0, 0, 0},
    {"png-gray16.png", PNG, {7, 5, G, 16, false, false}, 0, 0, 0, 0},
    {"png-gray8-trns.png", PNG, {7, 5, G, 8, false, true}, 0, 0, 0, 0},
    {"png-graya8.png", PNG, {7, 5, GA, 8, false, false}, 0, 0, 0, 0},
    {"png-graya16.png", PNG, {7, 5, GA, 16, false, false}, 0, 0, 0, 0},
    {"png-rgb8.png", PNG, {7, 5, RGB, 8, false, false}, 0, 0, 0, 0},
    {"png-rgb16.png", PNG, {7, 5, RGB, 16, false, false}, 0, 0, 0, 0},
    {"png-rgb8-trns.png", PNG, {7, 5, RGB, 8, false, true}, 0, 0, 0, 0},
    {"png-rgba8.png", PNG, {7, 5, RGBA, 8, false, false}, 0, 0, 0, 0},
    {"png-rgba16.png", PNG, {7, 5, RGBA, 16, false, false}, 0, 0, 0, 0},
    {"png-pal1.png", PNG, {7, 5, PAL, 1, false, false}, 0, 0, 0, 0},
    {"png-pal2.png", PNG, {7, 5, PAL, 2, false, false}, 0, 0, 0, 0},
    {"png-pal4.png", PNG, {7, 5, PAL, 4, false, false}, 0, 0, 0, 0},
    {"png-pal8.png", PNG, {7, 5, PAL, 8, false, false}, 0, 0, 0, 0},
    {"png-pal8-trns.png", PNG, {7, 5, PAL, 8, false, true}, 0, 0, 0, 0},
    {"png-rgb8-adam7.png", PNG, {9, 9, RGB, 8, true, false}, 0, 0, 0, 0},
    {"png-gray16-adam7.png", PNG, {9, 9, G, 16, true, false}, 0, 0, 0, 0},
    {"png-pal2-adam7.png", PNG, {9, 9, PAL, 2, true, false}, 0, 0, 0, 0},
    {"jpeg-gray.jpg", SAVED, {0}, HDM_FORMAT_JPEG, 9, 7, 1},
    {"jpeg-rgb.jpg", SAVED, {0}, HDM_FORMAT_JPEG, 17, 9, 3},
    {"bmp-rgb24.bmp", SAVED, {0}, HDM_FORMAT_BMP, 7, 5, 3},
    {"bmp-rgba32.bmp", SAVED, {0}, HDM_FORMAT_BMP, 7, 5, 4},
    {"bmp-pal1.bmp", BMP, {0}, 7, 5, 1, 0},
    {"bmp-pal4.bmp", BMP, {0}, 7, 5, 4, 0},
    {"bmp-pal8.bmp", BMP, {0}, 7, 5, 8, 0},
    {"bmp-rgb16.bmp", BMP, {0}, 7, 5, 16, 0},
    {"tga-rle-gray.tga", SAVED, {0}, HDM_FORMAT_TGA, 7, 5, 1},
    {"tga-rle-rgb.tga", SAVED, {0}, HDM_FORMAT_TGA, 7, 5, 3},
    {"tga-rle-rgba.tga", SAVED, {0}, HDM_FORMAT_TGA, 7, 5, 4},
    {"tga-rgb24.tga", TGA, {0}, 7, 5, 2, 24},
    {"tga-rgba32.tga", TGA, {0}, 7, 5, 2, 32},
    {"tga-gray8.tga", TGA, {0}, 7, 5, 3, 8},
    {"tga-mapped8.tga", TGA, {0}, 7, 5, 1, 8},
    {"hdr-flat.hdr", SAVED, {0}, HDM_FORMAT_HDR, 5, 3, 3},
    {"hdr-rle.hdr", SAVED, {0}, HDM_FORMAT_HDR, 12, 3, 3},
    {"gif-still.gif", GIF, {0}, 7, 5, 0, 1},
    {"gif-transparent.gif", GIF, {0}, 7, 5, 1, 1},
    {"gif-animated.gif", GIF, {0}, 7, 5, 1, 2},
    {"psd-rgb8.psd", PSD, {0}, 7, 5, 3, 8},
    {"psd-rgba8.psd", PSD, {0}, 7, 5, 4, 8},
    {"psd-rgb16.psd", PSD, {0}, 7, 5, 3, 16},
    {"psd-rgb8-rle.psd", PSD, {0}, 7, 5, 3, 0},
    {"pnm-gray8.pgm", PNM, {0}, 7, 5, 1, 255},
    {"pnm-gray16.pgm", PNM, {0}, 7, 5, 1, 65535},
    {"pnm-rgb8.ppm", PNM, {0}, 7, 5, 3, 255},
    {"pnm-rgb16.ppm", PNM, {0}, 7, 5, 3, 1000},
    {"webp-lossy-rgb.webp", SAVED, {0}, HDM_FORMAT_WEBP, 17, 9, 3},
    {"webp-lossy-rgba.webp", SAVED, {0}, HDM_FORMAT_WEBP, 17, 9, 4},
    {"webp-lossless-rgba.webp", LOSSLESS, {0}, HDM_FORMAT_WEBP, 7, 5, 4},
    /* TIFF through the library's writer: a, b, c, d = channels, depth, compression, unused */
    {"tiff-gray8.tif", TIFF, {0}, 1, HDM_U8, HDM_TIFF_DEFLATE, 0},
    {"tiff-rgba8-lzw.tif", TIFF, {0}, 4, HDM_U8, HDM_TIFF_LZW, 0},
    {"tiff-rgb16.tif", TIFF, {0}, 3, HDM_U16, HDM_TIFF_DEFLATE, 0},
    {"tiff-graya16-zstd.tif", TIFF, {0}, 2, HDM_U16, HDM_TIFF_ZSTD, 0},
    {"tiff-rgbf32.tif", TIFF, {0}, 3, HDM_F32, HDM_TIFF_NONE, 0},
    {"tiff-rgb8-jpeg.tif", TIFF, {0}, 3, HDM_U8, HDM_TIFF_JPEG, 0},
};

bool hdm_seed(size_t i, const char **name, unsigned char **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    if (i >= sizeof seeds / sizeof seeds[0])
        return false;
    const seed *s = &seeds[i];
    *name = s->name;
    buf b = {0};
    bool ok = false;
    switch (s->kind) {
    case PNG: ok = make_png(&s->png, &b); break;
    case SAVED: ok = make_saved((hdm_format)s->a, s->b, s->c, s->d, false, &b); break;
    case LOSSLESS: ok = make_saved((hdm_format)s->a, s->b, s->c, s->d, true, &b); break;
    case BMP: ok = make_bmp(s->a, s->b, s->c, &b); break;
    case TGA: ok = make_tga(s->a, s->b, s->c, s->d, &b); break;
    case GIF: ok = make_gif(s->a, s->b, s->c, s->d, &b); break;
    case PSD: ok = make_psd(s->a, s->b, s->c, s->d ? s->d : 8, s->d == 0, &b); break;
    case PNM: ok = make_pnm(s->a, s->b, s->c, s->d, &b); break;
    case TIFF:
        ok = make_saved_depth(HDM_FORMAT_TIFF, 9, 7, s->a, (hdm_depth)s->b,
                              (hdm_tiff_compression)s->c, false, &b);
        break;
    }
    if (!ok) {
        free(b.p);
        return true;
    }
    *data = b.p;
    *size = b.n;
    return true;
}

bool hdm_seed_named(const char *name, unsigned char **data, size_t *size)
{
    const char *n;
    for (size_t i = 0; hdm_seed(i, &n, data, size); i++) {
        if (strcmp(n, name) == 0)
            return *data != NULL;
        free(*data);
    }
    *data = NULL;
    return false;
}
