/* SPDX-License-Identifier: MIT */
/* test_orient.c — the EXIF Orientation tag applied on load: every value, depth and channel
 * count, PNG eXIf and JPEG APP1, info, operands, --no-rotate, the held-image limit, cancel,
 * damaged EXIF */
#include "cli_assert.h"
#include "codec/codec.h"
#include "codec/metadata.h"
#include "pipeline.h"
#include "stream/stream.h"
#include "testutil.h"

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

TestSuite(orient, .init = tu_setup, .fini = tu_teardown, .timeout = 300);

/* ---- what the spec says each value means ---- */

/* EXIF 2.32, tag 274: where the stored 0th row and 0th column lie on the displayed image. */
typedef enum side { TOP, BOTTOM, LEFT, RIGHT } side;
static const side row0[9] = {0, TOP, TOP, BOTTOM, BOTTOM, LEFT, RIGHT, RIGHT, LEFT};
static const side col0[9] = {0, LEFT, RIGHT, RIGHT, LEFT, TOP, TOP, BOTTOM, BOTTOM};

/* img as displayed under orientation o (0 or 1: as stored), placed pixel by pixel from the
 * table above — a different road from the adapter's, which gathers from the other side. */
static hdm_image *displayed(const hdm_image *img, uint32_t o)
{
    if (o < 1 || o > 8)
        o = 1;
    uint32_t W = img->width, H = img->height;
    bool turned = row0[o] == LEFT || row0[o] == RIGHT;
    uint32_t dw = turned ? H : W, dh = turned ? W : H;
    hdm_image *out;
    cr_assert_eq(hdm_image_new(dw, dh, img->channels, img->depth, &out), HDM_OK);
    for (uint32_t c = 0; c < img->channels; c++)
        for (uint32_t y = 0; y < H; y++)
            for (uint32_t x = 0; x < W; x++) {
                uint32_t X, Y;
                if (!turned) {
                    Y = row0[o] == TOP ? y : dh - 1 - y;
                    X = col0[o] == LEFT ? x : dw - 1 - x;
                } else {
                    X = row0[o] == LEFT ? y : dw - 1 - y;
                    Y = col0[o] == TOP ? x : dh - 1 - x;
                }
                tu_set(out, c, X, Y, tu_get(img, c, x, y));
            }
    return out;
}

/* A W × H image, every sample different (u8: W·H·channels ≤ 255; u16: ≤ 13107). */
static hdm_image *unique(uint32_t w, uint32_t h, uint32_t ch, hdm_depth d)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(w, h, ch, d, &img), HDM_OK);
    for (uint32_t c = 0; c < ch; c++)
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                uint32_t v = 1 + (c * h + y) * w + x;
                if (d == HDM_F32)
                    tu_setf(img, c, x, y, (float)v / 1024.0f);
                else
                    tu_set(img, c, x, y, d == HDM_U16 ? v * 5 : v);
            }
    return img;
}

/* ---- EXIF and the files that carry it ---- */

/* The EXIF writers below put 16- and 32-bit values at b[n++] in the byte order be. */
#define P16(v) (be ? (b[n++] = (unsigned char)((v) >> 8), b[n++] = (unsigned char)(v))         \
                   : (b[n++] = (unsigned char)(v), b[n++] = (unsigned char)((v) >> 8)))
#define P32(v) (be ? (P16((v) >> 16), P16((v) & 0xffff)) : (P16((v) & 0xffff), P16((v) >> 16)))

/* A TIFF-structured EXIF blob: IFD0 with ImageDescription (pointing past the IFD), Orientation
 * o and Software, then a next-IFD offset of 0; big- or little-endian. */
static size_t make_exif(unsigned char *b, bool be, uint32_t o)
{
    size_t n = 0;
    memcpy(b, be ? "MM\0*" : "II*\0", 4);
    n = 4;
    P32(8u);
    P16(3u);
    P16(0x010eu); P16(2u); P32(6u); P32(8u + 2 + 3 * 12 + 4); /* "hello\0" after the IFD */
    P16(0x0112u); P16(3u); P32(1u); P16(o); P16(0u);
    P16(0x0131u); P16(2u); P32(4u); memcpy(b + n, "hdm", 4); n += 4;
    P32(0u);
    memcpy(b + n, "hello", 6);
    n += 6;
    return n;
}

/* png with an eXIf chunk holding exif spliced in before its first IDAT. */
static unsigned char *png_with_exif(const unsigned char *png, size_t size, const void *exif,
                                    size_t n, size_t *out_size)
{
    long at = tu_png_chunk(png, size, "IDAT");
    cr_assert(at > 0);
    unsigned char *b = malloc(size + n + 12);
    cr_assert(b);
    memcpy(b, png, (size_t)at);
    unsigned char *c = b + at;
    c[0] = (unsigned char)(n >> 24), c[1] = (unsigned char)(n >> 16);
    c[2] = (unsigned char)(n >> 8), c[3] = (unsigned char)n;
    memcpy(c + 4, "eXIf", 4);
    memcpy(c + 8, exif, n);
    uint32_t crc = tu_crc32(c + 4, n + 4);
    c[8 + n] = (unsigned char)(crc >> 24), c[9 + n] = (unsigned char)(crc >> 16);
    c[10 + n] = (unsigned char)(crc >> 8), c[11 + n] = (unsigned char)crc;
    memcpy(c + 12 + n, png + at, size - (size_t)at);
    *out_size = size + n + 12;
    return b;
}

/* jpeg with an APP1 "Exif\0\0" segment holding exif right after its SOI. */
static unsigned char *jpeg_with_exif(const unsigned char *jpeg, size_t size, const void *exif,
                                     size_t n, size_t *out_size)
{
    cr_assert(size > 2 && jpeg[0] == 0xff && jpeg[1] == 0xd8);
    size_t seg = 2 + 6 + n;
    cr_assert(seg <= 65535);
    unsigned char *b = malloc(size + 2 + seg);
    cr_assert(b);
    b[0] = 0xff, b[1] = 0xd8, b[2] = 0xff, b[3] = 0xe1;
    b[4] = (unsigned char)(seg >> 8), b[5] = (unsigned char)seg;
    memcpy(b + 6, "Exif\0\0", 6);
    memcpy(b + 12, exif, n);
    memcpy(b + 12 + n, jpeg + 2, size - 2);
    *out_size = size + 2 + seg;
    return b;
}

static unsigned char *encode(const hdm_image *img, hdm_format fmt, size_t *size)
{
    hdm_options opt;
    hdm_options_init(&opt);
    opt.jpeg_quality = 100;
    opt.jpeg_subsample = HDM_JPEG_SUBSAMPLE_444;
    void *data;
    hdm_error e;
    cr_assert_eq(hdm_save_memory(img, fmt, &opt, &data, size, &e), HDM_OK, "%s", e.message);
    return data;
}

static hdm_image *load_memory(const void *data, size_t size, bool no_rotate)
{
    hdm_options opt;
    hdm_options_init(&opt);
    opt.no_rotate = no_rotate;
    hdm_image *img;
    hdm_error e;
    cr_assert_eq(hdm_load_memory(data, size, &opt, &img, &e), HDM_OK, "%s", e.message);
    return img;
}

/* ---- the adapter itself ---- */

/* A 3 × 2 gray image 1 2 3 / 4 5 6 as each value displays it, written out by hand. */
Test(orient, eight_values_by_hand)
{
    static const uint8_t want[9][6] = {
        {0},
        {1, 2, 3, 4, 5, 6}, /* 3 × 2 */
        {3, 2, 1, 6, 5, 4},
        {6, 5, 4, 3, 2, 1},
        {4, 5, 6, 1, 2, 3},
        {1, 4, 2, 5, 3, 6}, /* 2 × 3 from here */
        {4, 1, 5, 2, 6, 3},
        {6, 3, 5, 2, 4, 1},
        {3, 6, 2, 5, 1, 4},
    };
    hdm_image *img = unique(3, 2, 1, HDM_U8);
    for (uint32_t o = 1; o <= 8; o++) {
        hdm_image *d = displayed(img, o);
        cr_assert_eq(d->width, o >= 5 ? 2u : 3u);
        for (uint32_t i = 0; i < 6; i++)
            cr_assert_eq(tu_get(d, 0, i % d->width, i / d->width), want[o][i],
                         "the spec's table, o = %u, sample %u", o, i);
        hdm_image_free(d);
        if (o == 1)
            continue;
        /* and the adapter agrees */
        hdm__source *s, *r;
        hdm_options opt;
        hdm_options_init(&opt);
        hdm_error e;
        cr_assert_eq(hdm__source_from_image(img, false, NULL, HDM_FORMAT_PNG, &s, &e), HDM_OK);
        cr_assert_eq(hdm__source_orient(s, o, &opt, &r, &e), HDM_OK, "%s", e.message);
        hdm_image *got;
        cr_assert_eq(hdm__run_to_image(r, &opt, &got, &e), HDM_OK, "%s", e.message);
        cr_assert_eq(got->width, o >= 5 ? 2u : 3u);
        for (uint32_t i = 0; i < 6; i++)
            cr_assert_eq(tu_get(got, 0, i % got->width, i / got->width), want[o][i],
                         "the adapter, o = %u, sample %u", o, i);
        hdm_image_free(got);
    }
    hdm_image_free(img);
}

/* Every value, depth and channel count, at strips of 1, 5 and every row, and a size that
 * crosses the adapter's blocks of columns. */
Test(orient, every_depth_channel_count_and_strip)
{
    static const hdm_depth depths[] = {HDM_U8, HDM_U16, HDM_F32};
    static const uint32_t sizes[][2] = {{5, 3}, {1, 1}, {1, 7}, {70, 45}};
    tu_rng rng;
    tu_seed(&rng, 13);
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
        for (size_t di = 0; di < 3; di++)
            for (uint32_t ch = 1; ch <= 4; ch++) {
                uint32_t w = sizes[si][0], h = sizes[si][1];
                hdm_image *img = w * h * ch <= 255 || depths[di] != HDM_U8
                                     ? unique(w, h, ch, depths[di])
                                     : tu_image_random(w, h, ch, depths[di], &rng);
                for (uint32_t o = 2; o <= 8; o++) {
                    hdm_image *want = displayed(img, o);
                    static const uint32_t strips[] = {1, 5, 0};
                    for (size_t k = 0; k < 3; k++) {
                        hdm_options opt;
                        hdm_options_init(&opt);
                        opt.strip_rows = strips[k];
                        hdm__source *s, *r;
                        hdm_error e;
                        cr_assert_eq(hdm__source_from_image(img, false, NULL, HDM_FORMAT_PNG,
                                                            &s, &e), HDM_OK);
                        s->meta.orientation = o;
                        cr_assert_eq(hdm__source_orient(s, o, &opt, &r, &e), HDM_OK);
                        cr_assert_eq(r->meta.orientation, 1u);
                        hdm_image *got;
                        cr_assert_eq(hdm__run_to_image(r, &opt, &got, &e), HDM_OK, "%s",
                                     e.message);
                        cr_assert(tu_same(got, want),
                                  "%ux%u, depth %d, %u channels, o = %u, strips of %u", w, h,
                                  (int)depths[di], ch, o, strips[k]);
                        hdm_image_free(got);
                    }
                    hdm_image_free(want);
                }
                hdm_image_free(img);
            }
}

/* Strips asked for in another depth than the source's are converted after the turn. */
Test(orient, strips_of_another_depth)
{
    hdm_image *img = unique(6, 4, 3, HDM_U8);
    for (uint32_t o = 2; o <= 8; o++) {
        hdm_image *want8 = displayed(img, o), *want;
        cr_assert_eq(hdm_image_new(want8->width, want8->height, 3, HDM_U16, &want), HDM_OK);
        for (uint32_t c = 0; c < 3; c++)
            for (uint32_t y = 0; y < want->height; y++)
                for (uint32_t x = 0; x < want->width; x++)
                    tu_set(want, c, x, y, tu_get(want8, c, x, y) * 257);
        hdm_options opt;
        hdm_options_init(&opt);
        hdm__source *s, *r;
        hdm_error e;
        cr_assert_eq(hdm__source_from_image(img, false, NULL, HDM_FORMAT_PNG, &s, &e), HDM_OK);
        cr_assert_eq(hdm__source_orient(s, o, &opt, &r, &e), HDM_OK);
        hdm_image *got;
        cr_assert_eq(hdm_image_new(r->info.width, r->info.height, 3, HDM_U16, &got), HDM_OK);
        for (uint32_t y = 0; y < r->info.height; y += 3) {
            hdm_image band = *got;
            uint32_t n = r->info.height - y < 3 ? r->info.height - y : 3;
            band.height = n;
            band.owned_ = NULL;
            for (uint32_t c = 0; c < 3; c++)
                band.plane[c] = hdm_row(got, c, y);
            cr_assert_eq(hdm__source_read(r, &band, n, &e), HDM_OK, "%s", e.message);
        }
        hdm__source_close(r);
        cr_assert(tu_same(got, want), "o = %u", o);
        hdm_image_free(got);
        hdm_image_free(want);
        hdm_image_free(want8);
    }
    hdm_image_free(img);
}

/* Holding refuses above max_memory before taking anything, naming the file; mirroring
 * streams and holds nothing more. */
Test(orient, held_image_counts_against_max_memory)
{
    hdm_image *img = unique(40, 30, 3, HDM_U8); /* 3600 bytes */
    for (uint32_t o = 2; o <= 8; o++) {
        hdm_options opt;
        hdm_options_init(&opt);
        opt.max_memory = 3000;
        hdm__source *s, *r = NULL;
        hdm_error e;
        cr_assert_eq(hdm__source_from_image(img, false, "held.png", HDM_FORMAT_PNG, &s, &e),
                     HDM_OK);
        hdm_status st = hdm__source_orient(s, o, &opt, &r, &e);
        if (o == 2) {
            cr_assert_eq(st, HDM_OK);
            cr_assert_eq(r->held, 0u, "a mirror holds no image");
            hdm__source_close(r);
            continue;
        }
        cr_assert_eq(st, HDM_ERR_LIMIT, "o = %u", o);
        cr_assert_null(r);
        cr_assert(strstr(e.message, "held.png") && strstr(e.message, "max_memory"), "%s",
                  e.message);
        opt.max_memory = 3600;
        cr_assert_eq(hdm__source_from_image(img, false, "held.png", HDM_FORMAT_PNG, &s, &e),
                     HDM_OK);
        cr_assert_eq(hdm__source_orient(s, o, &opt, &r, &e), HDM_OK);
        cr_assert_eq(r->held, 3600u);
        hdm__source_close(r);
    }
    hdm_image_free(img);
}

/* A raised cancel flag stops the reading of the image to hold. */
Test(orient, cancel_while_holding)
{
    hdm_image *img = unique(8, 100, 1, HDM_U16);
    volatile int flag = 1;
    hdm_options opt;
    hdm_options_init(&opt);
    opt.cancel = &flag;
    for (uint32_t o = 3; o <= 8; o++) {
        hdm__source *s, *r;
        hdm_error e;
        cr_assert_eq(hdm__source_from_image(img, false, "c.png", HDM_FORMAT_PNG, &s, &e),
                     HDM_OK);
        cr_assert_eq(hdm__source_orient(s, o, &opt, &r, &e), HDM_OK);
        hdm_image *strip;
        cr_assert_eq(hdm_image_new(r->info.width, 1, 1, HDM_U16, &strip), HDM_OK);
        cr_assert_eq(hdm__source_read(r, strip, 1, &e), HDM_ERR_INTERRUPTED);
        cr_assert(strstr(e.message, "c.png"), "%s", e.message);
        hdm_image_free(strip);
        hdm__source_close(r);
    }
    hdm_image_free(img);
}

/* ---- through files: PNG eXIf, JPEG APP1 ---- */

/* Every value through a lossless PNG, 8- and 16-bit, 1..4 channels, both byte orders; the
 * tag's meaning only with no_rotate off; info agrees with the load. */
Test(orient, png_exif_every_value)
{
    static const hdm_depth depths[] = {HDM_U8, HDM_U16};
    for (size_t di = 0; di < 2; di++)
        for (uint32_t ch = 1; ch <= 4; ch++) {
            hdm_image *img = unique(5, 3, ch, depths[di]);
            size_t size;
            unsigned char *png = encode(img, HDM_FORMAT_PNG, &size);
            for (uint32_t o = 1; o <= 8; o++) {
                unsigned char exif[64];
                size_t n = make_exif(exif, o & 1, o), tagged_size;
                unsigned char *t = png_with_exif(png, size, exif, n, &tagged_size);
                hdm_image *want = displayed(img, o);
                hdm_image *got = load_memory(t, tagged_size, false);
                cr_assert(tu_same(got, want), "depth %d, %u channels, o = %u", (int)depths[di],
                          ch, o);
                hdm_image_free(got);
                got = load_memory(t, tagged_size, true);
                cr_assert(tu_same(got, img), "no_rotate keeps the stored pixels, o = %u", o);
                hdm_image_free(got);
                /* info: upright size, stored size, the tag as stored */
                hdm_options opt;
                hdm_options_init(&opt);
                hdm_file_info fi = {.size = sizeof fi};
                hdm_error e;
                cr_assert_eq(hdm_file_info_read_memory(t, tagged_size, &opt, &fi, &e), HDM_OK,
                             "%s", e.message);
                cr_assert_eq(fi.orientation, o);
                cr_assert_eq(fi.image.width, want->width);
                cr_assert_eq(fi.image.height, want->height);
                cr_assert_eq(fi.stored_width, 5u);
                cr_assert_eq(fi.stored_height, 3u);
                hdm_info info;
                opt.no_rotate = 1;
                cr_assert_eq(hdm_info_read_memory(t, tagged_size, &opt, &info, &e), HDM_OK);
                cr_assert_eq(info.width, 5u);
                cr_assert_eq(info.height, 3u);
                hdm_image_free(want);
                free(t);
            }
            hdm_free(png);
            hdm_image_free(img);
        }
}

/* hdm_load of a file goes the same way as hdm_load_memory, and a source opened through the
 * table carries orientation 1 and an EXIF blob whose tag says 1 (no_rotate: as stored). */
Test(orient, files_and_the_tag_left_behind)
{
    hdm_image *img = unique(5, 3, 3, HDM_U8);
    size_t size;
    unsigned char *png = encode(img, HDM_FORMAT_PNG, &size);
    for (uint32_t o = 2; o <= 8; o++) {
        unsigned char exif[64];
        size_t n = make_exif(exif, o & 1, o), tagged_size;
        unsigned char *t = png_with_exif(png, size, exif, n, &tagged_size);
        const char *path = tu_path("t.png");
        tu_write_file(path, t, tagged_size);
        hdm_image *want = displayed(img, o), *got;
        hdm_options opt;
        hdm_options_init(&opt);
        hdm_error e;
        cr_assert_eq(hdm_load(path, &opt, &got, &e), HDM_OK, "%s", e.message);
        cr_assert(tu_same(got, want), "hdm_load, o = %u", o);
        hdm_image_free(got);
        for (int nr = 0; nr < 2; nr++) {
            opt.no_rotate = nr;
            hdm__source *s;
            cr_assert_eq(hdm__source_open(path, &opt, &s, &e), HDM_OK, "%s", e.message);
            cr_assert_eq(s->meta.orientation, nr ? o : 1u);
            cr_assert_eq(hdm__exif_orientation(s->meta.exif, s->meta.exif_size), nr ? o : 1u);
            cr_assert_eq(s->meta.exif_size, n, "the rest of the EXIF is kept");
            cr_assert_eq(memcmp(s->meta.exif + n - 6, "hello", 6), 0);
            cr_assert_eq(s->info.width, !nr && o >= 5 ? 3u : 5u);
            hdm__source_close(s);
        }
        hdm_image_free(want);
        free(t);
    }
    hdm_free(png);
    hdm_image_free(img);
}

/* The same through JPEG (q100, 4:4:4): the tagged file decodes to the untagged file's pixels
 * turned as the value says, exactly (the decode is deterministic); gray too. */
Test(orient, jpeg_app1_every_value)
{
    tu_rng rng;
    tu_seed(&rng, 6);
    for (uint32_t ch = 1; ch <= 3; ch += 2) {
        hdm_image *img = tu_image_random(21, 13, ch, HDM_U8, &rng);
        size_t size;
        unsigned char *jpeg = encode(img, HDM_FORMAT_JPEG, &size);
        hdm_image *plain = load_memory(jpeg, size, false);
        for (uint32_t o = 1; o <= 8; o++) {
            unsigned char exif[64];
            size_t n = make_exif(exif, !(o & 1), o), tagged_size;
            unsigned char *t = jpeg_with_exif(jpeg, size, exif, n, &tagged_size);
            hdm_image *want = displayed(plain, o);
            hdm_image *got = load_memory(t, tagged_size, false);
            cr_assert(tu_same(got, want), "%u channels, o = %u", ch, o);
            hdm_image_free(got);
            got = load_memory(t, tagged_size, true);
            cr_assert(tu_same(got, plain), "no_rotate, o = %u", o);
            hdm_image_free(got);
            hdm_info info;
            hdm_error e;
            cr_assert_eq(hdm_info_read_memory(t, tagged_size, NULL, &info, &e), HDM_OK);
            cr_assert_eq(info.width, want->width);
            cr_assert_eq(info.height, want->height);
            hdm_image_free(want);
            free(t);
        }
        hdm_image_free(plain);
        hdm_free(jpeg);
        hdm_image_free(img);
    }
}

/* A JPEG turned by 90° holds its image: above max_memory it is refused, naming the file;
 * mirrored (streamed) or with no_rotate the same limit lets it through. */
Test(orient, jpeg_turned_above_max_memory)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(256, 256, 3, HDM_U8, &img), HDM_OK); /* 196608 bytes held */
    size_t size;
    unsigned char *jpeg = encode(img, HDM_FORMAT_JPEG, &size);
    static const uint32_t values[] = {6, 2};
    for (size_t i = 0; i < 2; i++) {
        unsigned char exif[64];
        size_t n = make_exif(exif, true, values[i]), tagged_size;
        unsigned char *t = jpeg_with_exif(jpeg, size, exif, n, &tagged_size);
        const char *path = tu_path("turned.jpg");
        tu_write_file(path, t, tagged_size);
        hdm_options opt;
        hdm_options_init(&opt);
        opt.max_memory = 150000;
        hdm_image *got = NULL;
        hdm_error e;
        hdm_status st = hdm_load(path, &opt, &got, &e);
        if (values[i] == 6) {
            cr_assert_eq(st, HDM_ERR_LIMIT, "%s", e.message);
            cr_assert_null(got);
            cr_assert(strstr(e.message, "turned.jpg") && strstr(e.message, "max_memory"), "%s",
                      e.message);
            opt.no_rotate = 1;
            st = hdm_load(path, &opt, &got, &e);
        }
        cr_assert_eq(st, HDM_OK, "%s", e.message);
        hdm_image_free(got);
        free(t);
    }
    hdm_free(jpeg);
    hdm_image_free(img);
}

/* ---- damaged EXIF ---- */

/* Truncations, an IFD offset past the end, a huge entry count and random corruptions never
 * read outside the blob (each lives in a buffer of exactly its size, for ASan) and mean "no
 * orientation" unless they still hold a valid tag; a file carrying one loads as that value
 * says, and its info agrees with its load. */
Test(orient, damaged_exif)
{
    unsigned char good[64];
    size_t n = make_exif(good, true, 6);
    for (size_t len = 0; len <= n; len++) {
        unsigned char *b = malloc(len ? len : 1);
        memcpy(b, good, len);
        uint32_t o = hdm__exif_orientation(len ? b : NULL, len);
        cr_assert_eq(o, len >= 8 + 2 + 2 * 12 ? 6u : 0u, "cut to %zu bytes", len);
        cr_assert_eq(hdm__exif_set_orientation(b, len, 1), o != 0);
        free(b);
    }
    unsigned char bad[64];
    memcpy(bad, good, n);
    bad[4] = 0x7f; /* IFD0 past the end */
    cr_assert_eq(hdm__exif_orientation(bad, n), 0u);
    memcpy(bad, good, n);
    bad[8] = bad[9] = 0xff; /* 65535 entries */
    cr_assert_eq(hdm__exif_orientation(bad, n), 6u, "the entries there are still read");
    memcpy(bad, good, n);
    bad[8] = bad[9] = 0xff;
    bad[10] = 0; /* the first entry's tag spoiled: the count runs off the end */
    bad[10 + 12] = 0;
    cr_assert_eq(hdm__exif_orientation(bad, n), 0u);
    memcpy(bad, good, n);
    bad[10 + 12 + 9] = 9; /* Orientation 9 */
    cr_assert_eq(hdm__exif_orientation(bad, n), 0u);

    hdm_image *img = unique(7, 4, 3, HDM_U8);
    size_t size;
    unsigned char *jpeg = encode(img, HDM_FORMAT_JPEG, &size);
    hdm_image *plain = load_memory(jpeg, size, false);
    tu_rng rng;
    tu_seed(&rng, 274);
    int seen[9] = {0};
    for (int round = 0; round < 400; round++) {
        size_t len = n;
        unsigned char *b = malloc(n);
        memcpy(b, good, n);
        for (uint32_t k = 1 + tu_below(&rng, 4); k > 0; k--)
            b[tu_below(&rng, (uint32_t)n)] = (unsigned char)tu_next(&rng);
        if (tu_below(&rng, 4) == 0)
            len = tu_below(&rng, (uint32_t)n + 1);
        unsigned char *exact = malloc(len ? len : 1);
        memcpy(exact, b, len);
        uint32_t o = hdm__exif_orientation(exact, len);
        cr_assert_leq(o, 8u);
        seen[o]++;
        free(exact);
        size_t tagged_size;
        unsigned char *t = jpeg_with_exif(jpeg, size, b, len, &tagged_size);
        hdm_image *got = load_memory(t, tagged_size, false);
        hdm_image *want = displayed(plain, o);
        cr_assert(tu_same(got, want), "round %d: orientation %u", round, o);
        hdm_info info;
        hdm_error e;
        cr_assert_eq(hdm_info_read_memory(t, tagged_size, NULL, &info, &e), HDM_OK);
        cr_assert(info.width == got->width && info.height == got->height, "round %d", round);
        hdm_image_free(want);
        hdm_image_free(got);
        free(t);
        free(b);
    }
    cr_assert(seen[0] > 0 && seen[6] > 0, "the corruptions spoil some tags, not all (%d, %d)",
              seen[0], seen[6]);
    hdm_image_free(plain);
    hdm_free(jpeg);
    hdm_image_free(img);
}

/* ---- the command ---- */

static void save_file(const hdm_image *img, const char *path)
{
    hdm_error e;
    cr_assert_eq(hdm_save(img, path, NULL, &e), HDM_OK, "%s", e.message);
}

/* A mask drawn as the photo displays, the photo and the mask each stored turned with
 * Orientation 6: the mask's stored size is the displayed image's turned, and it is applied
 * upright. With --no-rotate both stay stored; a mask stored upright beside a turned photo is
 * then the wrong size. */
Test(orient, cli_mask_drawn_as_displayed)
{
    tu_rng rng;
    tu_seed(&rng, 66);
    hdm_image *photo = tu_image_random(9, 6, 3, HDM_U8, &rng); /* as displayed: 9 × 6 */
    hdm_image *mask = tu_image_random(9, 6, 1, HDM_U8, &rng);
    /* stored for Orientation 6 (displayed = stored turned 90° clockwise): the inverse turn,
     * Orientation 8's */
    hdm_image *photo_stored = displayed(photo, 8), *mask_stored = displayed(mask, 8);
    cr_assert_eq(photo_stored->width, 6u);
    unsigned char exif[64];
    size_t n = make_exif(exif, false, 6);
    const char *names[2] = {"photo.png", "mask.png"};
    const hdm_image *stored[2] = {photo_stored, mask_stored};
    for (int i = 0; i < 2; i++) {
        size_t size, tagged_size;
        unsigned char *png = encode(stored[i], HDM_FORMAT_PNG, &size);
        unsigned char *t = png_with_exif(png, size, exif, n, &tagged_size);
        tu_write_file(tu_path(names[i]), t, tagged_size);
        free(t);
        hdm_free(png);
    }
    save_file(photo, tu_path("upright.png"));
    save_file(mask, tu_path("upright-mask.png"));
    hdm_image *want, *got;
    hdm_error e;
    cr_assert_eq(hdm_mask(photo, mask, 0, NULL, &want, &e), HDM_OK);

    cli_result r;
    /* a turned photo, an upright mask drawn as it displays */
    CLI(&r, tu_dir, "mask", "photo.png", "upright-mask.png", "-o", "out1.png");
    cli_expect_ok(&r);
    cr_assert_eq(hdm_load(tu_path("out1.png"), NULL, &got, &e), HDM_OK, "%s", e.message);
    cr_assert(tu_same(got, want), "turned photo, upright mask");
    hdm_image_free(got);
    /* an upright photo, a mask stored turned (its stored 6 × 9 is the photo's 9 × 6 turned) */
    CLI(&r, tu_dir, "mask", "upright.png", "mask.png", "-o", "out2.png");
    cli_expect_ok(&r);
    cr_assert_eq(hdm_load(tu_path("out2.png"), NULL, &got, &e), HDM_OK, "%s", e.message);
    cr_assert(tu_same(got, want), "upright photo, turned mask");
    hdm_image_free(got);
    /* both turned, as a run step */
    CLI(&r, tu_dir, "run", "photo.png", "-o", "out3.png", "mask:mask.png");
    cli_expect_ok(&r);
    cr_assert_eq(hdm_load(tu_path("out3.png"), NULL, &got, &e), HDM_OK, "%s", e.message);
    cr_assert(tu_same(got, want), "both turned");
    hdm_image_free(got);
    /* --no-rotate: both stored, so the product is of the stored pixels */
    CLI(&r, tu_dir, "mask", "photo.png", "mask.png", "-o", "out4.png", "--no-rotate");
    cli_expect_ok(&r);
    hdm_image *want_stored;
    cr_assert_eq(hdm_mask(photo_stored, mask_stored, 0, NULL, &want_stored, &e), HDM_OK);
    hdm_options keep;
    hdm_options_init(&keep);
    keep.no_rotate = 1;
    cr_assert_eq(hdm_load(tu_path("out4.png"), &keep, &got, &e), HDM_OK, "%s", e.message);
    cr_assert(tu_same(got, want_stored), "--no-rotate keeps the stored pixels");
    hdm_image_free(got);
    hdm_image_free(want_stored);
    /* the tag, carried in the PNG's eXIf: kept with --no-rotate, 1 once the pixels are turned */
    hdm_file_info fi = {.size = sizeof fi};
    cr_assert_eq(hdm_file_info_read(tu_path("out4.png"), &keep, &fi, &e), HDM_OK);
    cr_assert_eq(fi.orientation, 6, "--no-rotate wrote %u", fi.orientation);
    cr_assert_eq(hdm_file_info_read(tu_path("out3.png"), &keep, &fi, &e), HDM_OK);
    cr_assert_eq(fi.orientation, 1, "turned, wrote %u", fi.orientation);
    /* the kept tag travels into TIFF and lossless WebP, whose readers turn by it too: the
     * stored product turned is the product of the turned images */
    const char *carried[] = {"out4.tif", "out4.webp"};
    for (int i = 0; i < 2; i++) {
        hdm_pipeline *none;
        cr_assert_eq(hdm_pipeline_new(&none), HDM_OK);
        keep.webp_lossless = 1;
        cr_assert_eq(hdm_pipeline_run_file(none, tu_path("out4.png"), tu_path(carried[i]),
                                           &keep, &e), HDM_OK, "%s", e.message);
        hdm_pipeline_free(none);
        cr_assert_eq(hdm_file_info_read(tu_path(carried[i]), &keep, &fi, &e), HDM_OK);
        cr_assert_eq(fi.orientation, 6, "%s: wrote %u", carried[i], fi.orientation);
        cr_assert_eq(hdm_load(tu_path(carried[i]), NULL, &got, &e), HDM_OK, "%s", e.message);
        cr_assert(tu_same(got, want), "%s read upright", carried[i]);
        hdm_image_free(got);
    }
    /* --no-rotate with a mask as displayed: now the wrong size, refused, nothing written */
    CLI(&r, tu_dir, "mask", "photo.png", "upright-mask.png", "-o", "out5.png", "--no-rotate");
    CLI_REFUSED(&r, 1, "upright-mask.png", "9x6 does not match", "(6x9)");
    cr_assert(!tu_exists(tu_path("out5.png")));
    /* info says the upright size, or the stored one with --no-rotate */
    CLI(&r, tu_dir, "info", "mask.png");
    cli_expect_ok(&r);
    cr_assert(strstr(r.out, "mask.png: 9x6,"), "%s", r.out);
    CLI(&r, tu_dir, "info", "mask.png", "--no-rotate");
    cli_expect_ok(&r);
    cr_assert(strstr(r.out, "mask.png: 6x9,"), "%s", r.out);
    hdm_image_free(want);
    hdm_image_free(photo);
    hdm_image_free(mask);
    hdm_image_free(photo_stored);
    hdm_image_free(mask_stored);
}

/* The command says which option raises the limit a turned input is held against: with a
 * limit just above what the job needs unturned, turning it by 90° is refused, naming the file,
 * and --no-rotate, or a mirror (which streams), is not. */
Test(orient, cli_turned_input_above_max_memory)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(512, 512, 3, HDM_U8, &img), HDM_OK); /* 786432 bytes */
    size_t size;
    unsigned char *jpeg = encode(img, HDM_FORMAT_JPEG, &size);
    static const uint32_t values[] = {8, 2};
    for (int i = 0; i < 2; i++) {
        unsigned char exif[64];
        size_t n = make_exif(exif, true, values[i]), tagged_size;
        unsigned char *t = jpeg_with_exif(jpeg, size, exif, n, &tagged_size);
        tu_write_file(tu_path(i ? "mirrored.jpg" : "turned.jpg"), t, tagged_size);
        free(t);
    }
    cli_result r;
    /* what the job holds unturned: the limit raised to what each refusal says is needed
     * until it runs */
    char limit[32] = "1";
    for (int tries = 0;; tries++) {
        cr_assert_lt(tries, 10, "%s", r.err);
        CLI(&r, tu_dir, "window", "turned.jpg", "-o", "out.png", "--max-memory", limit,
            "--no-rotate");
        if (r.status == 0)
            break;
        CLI_REFUSED(&r, 1, "turned.jpg", "--max-memory");
        const char *about = strstr(r.err, "needs about ");
        cr_assert(about, "%s", r.err);
        snprintf(limit, sizeof limit, "%llu",
                 strtoull(about + strlen("needs about "), NULL, 10));
    }
    unsigned long long need = strtoull(limit, NULL, 10);
    snprintf(limit, sizeof limit, "%llu", need + 786432 / 2);
    CLI(&r, tu_dir, "window", "turned.jpg", "-o", "turned.png", "--max-memory", limit);
    CLI_REFUSED(&r, 1, "turned.jpg", "--max-memory");
    cr_assert(!tu_exists(tu_path("turned.png")));
    CLI(&r, tu_dir, "window", "turned.jpg", "-o", "out.png", "--max-memory", limit,
        "--no-rotate");
    cli_expect_ok(&r);
    CLI(&r, tu_dir, "window", "mirrored.jpg", "-o", "out2.png", "--max-memory", limit);
    cli_expect_ok(&r);
    hdm_free(jpeg);
    hdm_image_free(img);
}

/* ---- Orientation entries EXIF 2.32 does not make: duplicates, a LONG, a count of 2 ---- */

typedef struct entry {
    uint16_t type, count, value;
} entry;

/* A TIFF-structured EXIF blob whose IFD0 holds the given Orientation entries (each value in its
 * first slot; a count of 2 holds the value twice), then Software. */
static size_t make_exif_entries(unsigned char *b, bool be, const entry *e, size_t k)
{
    size_t n = 0;
    memcpy(b, be ? "MM\0*" : "II*\0", 4);
    n = 4;
    P32(8u);
    P16((uint32_t)k + 1);
    for (size_t i = 0; i < k; i++) {
        P16(0x0112u); P16(e[i].type); P32(e[i].count);
        if (e[i].type == 4)
            P32(e[i].value);
        else
            P16(e[i].value), P16(e[i].count == 2 ? e[i].value : 0u);
    }
    P16(0x0131u); P16(2u); P32(4u); memcpy(b + n, "hdm", 4); n += 4;
    P32(0u);
    return n;
}

/* Every Orientation entry of IFD0 in exif is a SHORT of count 1 holding o; how many there are. */
static int entries_say(const unsigned char *exif, size_t n, uint32_t o)
{
    cr_assert(exif && n >= 10);
    bool be = exif[0] == 'M';
#define G16(p) (be ? (uint32_t)(p)[0] << 8 | (p)[1] : (uint32_t)(p)[1] << 8 | (p)[0])
    const unsigned char *ifd = exif + 8;
    cr_assert_leq(10 + 12 * (size_t)G16(ifd), n);
    int found = 0;
    for (uint32_t i = 0; i < G16(ifd); i++) {
        const unsigned char *e = ifd + 2 + 12 * i;
        if (G16(e) != 0x0112)
            continue;
        found++;
        cr_assert_eq(G16(e + 2), 3u, "entry %u: type %u", i, G16(e + 2));
        cr_assert(be ? !memcmp(e + 4, "\0\0\0\1", 4) : !memcmp(e + 4, "\1\0\0\0", 4),
                  "entry %u: a count of 1", i);
        cr_assert_eq(G16(e + 8), o, "entry %u says %u", i, G16(e + 8));
    }
#undef G16
    return found;
}

/* The EXIF blob of a file as it is stored, without reading it through a codec (which would
 * rewrite its tag): the first TIFF header with IFD0 at 8, as each container holds it. */
static unsigned char *stored_exif(const char *path, size_t *n)
{
    size_t size;
    unsigned char *f = tu_read_file(path, &size);
    cr_assert(f, "%s", path);
    for (size_t i = 0; i + 8 <= size; i++)
        if (!memcmp(f + i, "MM\0*\0\0\0\x08", 8) || !memcmp(f + i, "II*\0\x08\0\0\0", 8)) {
            *n = size - i;
            memmove(f, f + i, *n);
            return f;
        }
    cr_assert_fail("%s holds no EXIF", path);
    return NULL;
}

/* exiftool's Orientation values of file, every duplicate, one a line; NULL without exiftool. */
static const char *exiftool_orientations(const char *file)
{
    if (system("exiftool -ver >/dev/null 2>&1") != 0)
        return NULL;
    static char *out; /* the last answer, until the next call */
    char cmd[4096 + 64];
    snprintf(cmd, sizeof cmd, "exiftool -a -s -s -s -n -Orientation '%s' 2>&1", file);
    free(out);
    return out = tu_command_output(cmd);
}

/* What is applied is what every entry says afterwards. Of duplicates the first counts (a
 * later one that says otherwise is rewritten too, as a reader may take it); a LONG or a count
 * of 2 is not applied, and is written as a SHORT 1, said once, so no reader turns the stored
 * pixels. JPEG and PNG inputs, JPEG, PNG and WebP outputs (the EXIF blob carried as it is),
 * each checked by our own reading and by exiftool's; --no-rotate makes duplicates agree with
 * the first. */
Test(orient, duplicate_long_and_count_2_entries)
{
    static const struct {
        entry e[2];
        size_t k;
        uint32_t applied; /* 0: none */
    } cases[] = {
        {{{3, 1, 6}, {3, 1, 3}}, 2, 6},
        {{{3, 1, 1}, {3, 1, 6}}, 2, 1},
        {{{4, 1, 6}}, 1, 0},
        {{{3, 2, 6}}, 1, 0},
        {{{4, 1, 8}, {3, 1, 6}}, 2, 0},
    };
    static const char *const notice = "EXIF Orientation not applied and written as 1";
    hdm_image *img = unique(7, 4, 3, HDM_U8);
    size_t png_size, jpeg_size;
    unsigned char *png = encode(img, HDM_FORMAT_PNG, &png_size);
    unsigned char *jpeg = encode(img, HDM_FORMAT_JPEG, &jpeg_size);
    hdm_image *plain[2] = {load_memory(png, png_size, false), load_memory(jpeg, jpeg_size, false)};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (int in = 0; in < 2; in++) {
            unsigned char exif[128];
            size_t n = make_exif_entries(exif, c & 1, cases[c].e, cases[c].k), size;
            unsigned char *t = in ? jpeg_with_exif(jpeg, jpeg_size, exif, n, &size)
                                  : png_with_exif(png, png_size, exif, n, &size);
            const char *name = in ? "in.jpg" : "in.png";
            tu_write_file(tu_path(name), t, size);
            hdm_image *got = load_memory(t, size, false);
            hdm_image *want = displayed(plain[in], cases[c].applied);
            cr_assert(tu_same(got, want), "case %zu, %s: applied %u", c, name, cases[c].applied);
            hdm_image_free(got);
            hdm_image_free(want);
            hdm_info info;
            hdm_error e;
            cr_assert_eq(hdm_info_read_memory(t, size, NULL, &info, &e), HDM_OK);
            cr_assert_eq(info.width, cases[c].applied >= 5 ? 4u : 7u, "info agrees");
            free(t);
            static const char *const outs[] = {"out.jpg", "out.png", "out.webp"};
            for (size_t o = 0; o < 3; o++) {
                cli_result r;
                CLI(&r, tu_dir, "window", name, "--strength", "0", "-o", outs[o]);
                cli_expect_ok(&r);
                const char *said = strstr(r.err, notice);
                cr_assert(cases[c].applied ? !said : said && !strstr(said + 1, notice),
                          "case %zu, %s to %s: %s", c, name, outs[o], r.err);
                cr_assert(!said || strstr(r.err, name), "the notice names the input: %s", r.err);
                size_t xn;
                unsigned char *x = stored_exif(tu_path(outs[o]), &xn);
                cr_assert_eq(entries_say(x, xn, 1), (int)cases[c].k, "case %zu, %s to %s", c,
                             name, outs[o]);
                free(x);
                const char *t = exiftool_orientations(tu_path(outs[o]));
                cr_assert(!t || !strcmp(t, cases[c].k == 2 ? "1\n1\n" : "1\n"),
                          "case %zu, %s to %s: exiftool reads %s", c, name, outs[o], t);
            }
            if (cases[c].applied >= 2) {
                cli_result r;
                CLI(&r, tu_dir, "window", name, "--strength", "0", "-o", "kept.png",
                    "--no-rotate");
                cli_expect_ok(&r);
                cr_assert_eq(r.err[0], '\0', "%s", r.err);
                size_t xn;
                unsigned char *x = stored_exif(tu_path("kept.png"), &xn);
                cr_assert_eq(entries_say(x, xn, cases[c].applied), (int)cases[c].k,
                             "--no-rotate: every entry the first's value");
                free(x);
            }
        }
    hdm_image_free(plain[0]);
    hdm_image_free(plain[1]);
    hdm_free(png);
    hdm_free(jpeg);
    hdm_image_free(img);
}

/* A turned JPEG refused while decoding names what opening it needs, the turn's held image
 * included: given that figure, the file opens (decoded and turned), so the limit is not raised
 * twice for one input. */
Test(orient, jpeg_refusal_counts_the_turn)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(384, 256, 3, HDM_U8, &img), HDM_OK);
    size_t size;
    unsigned char *jpeg = encode(img, HDM_FORMAT_JPEG, &size);
    static const uint32_t values[] = {6, 3, 8};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        unsigned char exif[64];
        size_t n = make_exif(exif, true, values[i]), tagged_size;
        unsigned char *t = jpeg_with_exif(jpeg, size, exif, n, &tagged_size);
        const char *path = tu_path("turned.jpg");
        tu_write_file(path, t, tagged_size);
        free(t);
        hdm_options opt;
        hdm_options_init(&opt);
        opt.max_memory = 1000;
        hdm__source *s = NULL;
        hdm_error e;
        cr_assert_eq(hdm__source_open(path, &opt, &s, &e), HDM_ERR_LIMIT);
        const char *about = strstr(e.message, "needs about ");
        cr_assert(about && strstr(e.message, "turned.jpg"), "%s", e.message);
        opt.max_memory = strtoull(about + strlen("needs about "), NULL, 10);
        cr_assert_gt(opt.max_memory, 384u * 256 * 3, "%s", e.message);
        cr_assert_eq(hdm__source_open(path, &opt, &s, &e), HDM_OK, "orientation %u: %s",
                     values[i], e.message);
        hdm__source_close(s);
    }
    hdm_free(jpeg);
    hdm_image_free(img);
}
