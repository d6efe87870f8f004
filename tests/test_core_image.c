/* SPDX-License-Identifier: MIT */
/* test_core_image.c — the image model: allocation, sizes, rows, statuses, options, format names */
#include "codec/codec.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- hdm_image_new / hdm_image_free ---- */

/* Every _free(NULL) is a no-op (hadamard.h): it frees nothing, allocates nothing, leaves errno
 * as it was and leaves other live objects alone (a crash is a failure too). */
Test(image, free_null_is_a_noop)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(3, 2, 2, HDM_U8, &img), HDM_OK);
    ((uint8_t *)hdm_row(img, 1, 1))[2] = 42;
#ifdef __GLIBC__
    size_t before = mallinfo2().uordblks;
#endif
    errno = EILSEQ;
    hdm_image_free(NULL);
    hdm_pipeline_free(NULL);
    cr_assert_eq(errno, EILSEQ, "a _free(NULL) changed errno to %d", errno);
#ifdef __GLIBC__
    cr_assert_eq(mallinfo2().uordblks, before, "a _free(NULL) allocated or freed memory");
#endif
    cr_assert_eq(img->width, 3);
    cr_assert_eq(((uint8_t *)hdm_row(img, 1, 1))[2], 42, "a live image was touched");
    hdm_image_free(img);
}

Test(image, new_gives_zeroed_planes_of_the_right_shape)
{
    static const hdm_depth depths[] = {HDM_U8, HDM_U16, HDM_F32};
    for (uint32_t c = 1; c <= HDM_MAX_CHANNELS; c++)
        for (size_t d = 0; d < 3; d++) {
            hdm_image *img;
            cr_assert_eq(hdm_image_new(7, 5, c, depths[d], &img), HDM_OK);
            cr_assert_eq(img->width, 7);
            cr_assert_eq(img->height, 5);
            cr_assert_eq(img->channels, c);
            cr_assert_eq(img->depth, depths[d]);
            cr_assert_geq(img->stride, 7 * (size_t)depths[d]);
            cr_assert_not_null(img->owned_);
            for (uint32_t p = 0; p < HDM_MAX_CHANNELS; p++) {
                if (p >= c) {
                    cr_assert_null(img->plane[p], "unused plane %u is set", p);
                    continue;
                }
                cr_assert_not_null(img->plane[p]);
                for (uint32_t y = 0; y < 5; y++) {
                    const unsigned char *row = hdm_row(img, p, y);
                    for (size_t i = 0; i < 7 * (size_t)depths[d]; i++)
                        cr_assert_eq(row[i], 0, "sample not zeroed");
                }
            }
            hdm_image_free(img);
        }
}

Test(image, planes_do_not_overlap)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(3, 4, 4, HDM_U16, &img), HDM_OK);
    for (uint32_t c = 0; c < 4; c++)
        for (uint32_t y = 0; y < 4; y++)
            for (uint32_t x = 0; x < 3; x++)
                tu_set(img, c, x, y, c * 1000 + y * 10 + x);
    for (uint32_t c = 0; c < 4; c++)
        for (uint32_t y = 0; y < 4; y++)
            for (uint32_t x = 0; x < 3; x++)
                cr_assert_eq(tu_get(img, c, x, y), c * 1000 + y * 10 + x);
    hdm_image_free(img);
}

Test(image, new_rejects_bad_arguments)
{
    hdm_image *img = (hdm_image *)&img; /* must be reset to NULL on failure */
    cr_assert_eq(hdm_image_new(1, 1, 1, HDM_U8, NULL), HDM_ERR_ARG);
    cr_assert_eq(hdm_image_new(0, 1, 1, HDM_U8, &img), HDM_ERR_ARG);
    cr_assert_null(img);
    cr_assert_eq(hdm_image_new(1, 0, 1, HDM_U8, &img), HDM_ERR_ARG);
    cr_assert_eq(hdm_image_new(0, 0, 1, HDM_U8, &img), HDM_ERR_ARG);
    cr_assert_eq(hdm_image_new(1, 1, 0, HDM_U8, &img), HDM_ERR_ARG);
    cr_assert_eq(hdm_image_new(1, 1, 5, HDM_U8, &img), HDM_ERR_ARG);
    cr_assert_eq(hdm_image_new(1, 1, 1, (hdm_depth)0, &img), HDM_ERR_ARG);
    cr_assert_eq(hdm_image_new(1, 1, 1, (hdm_depth)3, &img), HDM_ERR_ARG);
    cr_assert_eq(hdm_image_new(1, 1, 1, (hdm_depth)8, &img), HDM_ERR_ARG);
    cr_assert_null(img);
}

Test(image, new_refuses_a_size_that_overflows)
{
    if (sizeof(size_t) < 8) {
        hdm_image *img;
        cr_assert_eq(hdm_image_new(UINT32_MAX, UINT32_MAX, 4, HDM_F32, &img), HDM_ERR_LIMIT);
        return;
    }
    hdm_image *img = (hdm_image *)&img;
    cr_assert_eq(hdm_image_new(UINT32_MAX, UINT32_MAX, 4, HDM_F32, &img), HDM_ERR_LIMIT);
    cr_assert_null(img);
}

/* ---- hdm_size_bytes ---- */

Test(image, size_bytes_exact_products)
{
    size_t n = 0;
    cr_assert_eq(hdm_size_bytes(1, 1, 1, HDM_U8, &n), HDM_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(hdm_size_bytes(7, 5, 3, HDM_U16, &n), HDM_OK);
    cr_assert_eq(n, 7 * 5 * 3 * 2);
    cr_assert_eq(hdm_size_bytes(257, 3, 4, HDM_F32, &n), HDM_OK);
    cr_assert_eq(n, 257 * 3 * 4 * 4);
    cr_assert_eq(hdm_size_bytes(0, 5, 3, HDM_U8, &n), HDM_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(hdm_size_bytes(5, 0, 3, HDM_U8, &n), HDM_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(hdm_size_bytes(65536, 65535, 1, HDM_U8, &n), HDM_OK);
    cr_assert_eq(n, (size_t)65536 * 65535);
    if (sizeof(size_t) >= 8) {
        /* (2^32 − 1)^2 still fits in 64 bits; times one byte and one channel it is exact */
        cr_assert_eq(hdm_size_bytes(UINT32_MAX, UINT32_MAX, 1, HDM_U8, &n), HDM_OK);
        cr_assert_eq(n, (size_t)UINT32_MAX * UINT32_MAX);
        cr_assert_eq(hdm_size_bytes(UINT32_MAX, 1u << 30, 4, HDM_U8, &n), HDM_OK);
        cr_assert_eq(n, (size_t)UINT32_MAX << 32);
        cr_assert_eq(hdm_size_bytes(1u << 31, 1u << 30, 1, HDM_F32, &n), HDM_OK);
        cr_assert_eq(n, (size_t)1 << 63);
        cr_assert_eq(hdm_size_bytes(1u << 31, 1u << 30, 4, HDM_U8, &n), HDM_OK);
        cr_assert_eq(n, (size_t)1 << 63);
    }
}

Test(image, size_bytes_overflow_is_a_limit)
{
    size_t n = 12345;
    if (sizeof(size_t) >= 8) {
        cr_assert_eq(hdm_size_bytes(UINT32_MAX, UINT32_MAX, 4, HDM_F32, &n), HDM_ERR_LIMIT);
        cr_assert_eq(hdm_size_bytes(UINT32_MAX, UINT32_MAX, 2, HDM_U8, &n), HDM_ERR_LIMIT);
        cr_assert_eq(hdm_size_bytes(UINT32_MAX, UINT32_MAX, 1, HDM_U16, &n), HDM_ERR_LIMIT);
        /* exactly 2^64, overflowing at each factor in turn */
        cr_assert_eq(hdm_size_bytes(1u << 31, 1u << 30, 2, HDM_F32, &n), HDM_ERR_LIMIT);
        cr_assert_eq(hdm_size_bytes(1u << 31, 1u << 31, 4, HDM_U8, &n), HDM_ERR_LIMIT);
        cr_assert_eq(hdm_size_bytes(1u << 31, 1u << 31, 1, HDM_F32, &n), HDM_ERR_LIMIT);
        cr_assert_eq(hdm_size_bytes(1u << 31, 1u << 30, 4, HDM_U16, &n), HDM_ERR_LIMIT);
    } else {
        cr_assert_eq(hdm_size_bytes(65536, 65536, 1, HDM_U8, &n), HDM_ERR_LIMIT);
        cr_assert_eq(hdm_size_bytes(65536, 16384, 4, HDM_U8, &n), HDM_ERR_LIMIT);
    }
    cr_assert_eq(n, 12345, "the result is written on overflow");
}

/* ---- rows and views ---- */

Test(image, row_addresses_plane_plus_y_times_stride)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(13, 6, 3, HDM_U16, &img), HDM_OK);
    for (uint32_t c = 0; c < 3; c++)
        for (uint32_t y = 0; y < 6; y++)
            cr_assert_eq(hdm_row(img, c, y), (unsigned char *)img->plane[c] + y * img->stride);
    /* a caller's own layout: a wider stride and planes anywhere */
    uint16_t buf[2][4][10];
    hdm_image view = {.width = 7, .height = 4, .channels = 2, .depth = HDM_U16,
                      .stride = sizeof buf[0][0], .plane = {buf[1], buf[0]}};
    cr_assert_eq(hdm_row(&view, 0, 3), (void *)buf[1][3]);
    cr_assert_eq(hdm_row(&view, 1, 2), (void *)buf[0][2]);
    hdm_image_free(img);
}

Test(image, copy_rows_moves_every_plane_and_nothing_else)
{
    hdm_image *src, *dst;
    cr_assert_eq(hdm_image_new(13, 6, 3, HDM_U16, &src), HDM_OK);
    cr_assert_eq(hdm_image_new(13, 9, 3, HDM_U16, &dst), HDM_OK);
    for (uint32_t c = 0; c < 3; c++)
        for (uint32_t y = 0; y < 6; y++)
            for (uint32_t x = 0; x < 13; x++)
                ((uint16_t *)hdm_row(src, c, y))[x] = (uint16_t)(1000 * c + 100 * y + x + 1);
    hdm__copy_rows(dst, 4, src, 2, 3); /* src rows 2..4 to dst rows 4..6 */
    for (uint32_t c = 0; c < 3; c++)
        for (uint32_t y = 0; y < 9; y++)
            for (uint32_t x = 0; x < 13; x++) {
                uint16_t want = y >= 4 && y < 7 ? (uint16_t)(1000 * c + 100 * (y - 2) + x + 1) : 0;
                cr_assert_eq(((uint16_t *)hdm_row(dst, c, y))[x], want, "c %u y %u x %u", c, y, x);
            }
    hdm_image_free(src);
    hdm_image_free(dst);
}

/* ---- statuses ---- */

Test(status, strerror_names_every_status_distinctly)
{
    for (int a = 0; a < HDM__STATUS_COUNT; a++) {
        const char *sa = hdm_strerror((hdm_status)a);
        cr_assert_not_null(sa);
        cr_assert_gt(strlen(sa), 0, "status %d has an empty name", a);
        for (int b = 0; b < a; b++)
            cr_assert_str_neq(sa, hdm_strerror((hdm_status)b), "statuses %d and %d share \"%s\"",
                              a, b, sa);
    }
    cr_assert_str_eq(hdm_strerror(HDM_ERR_CORRUPT), "corrupt or truncated data");
}

Test(status, strerror_out_of_range)
{
    static const int bad[] = {HDM__STATUS_COUNT, HDM__STATUS_COUNT + 1, 1000, -1, INT32_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *s = hdm_strerror((hdm_status)bad[i]);
        cr_assert_not_null(s);
        for (int k = 0; k < HDM__STATUS_COUNT; k++)
            cr_assert_str_neq(s, hdm_strerror((hdm_status)k), "%d is named like status %d",
                              bad[i], k);
    }
}

Test(status, fail_puts_the_path_first_and_truncates_safely)
{
    hdm_error e;
    cr_assert_eq(hdm__fail(&e, HDM_ERR_IO, "/a/b.png", "cannot open: %s", "nope"), HDM_ERR_IO);
    cr_assert_eq(e.status, HDM_ERR_IO);
    cr_assert_str_eq(e.message, "/a/b.png: cannot open: nope");
    cr_assert_eq(hdm__fail(&e, HDM_ERR_ARG, NULL, "x=%d", 3), HDM_ERR_ARG);
    cr_assert_str_eq(e.message, "x=3");
    cr_assert_eq(hdm__fail(NULL, HDM_ERR_SHAPE, "p", "m"), HDM_ERR_SHAPE);
    char longpath[3000];
    memset(longpath, 'p', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = 0;
    hdm__fail(&e, HDM_ERR_IO, longpath, "tail");
    cr_assert_eq(strlen(e.message), sizeof e.message - 1);
    hdm__fail(&e, HDM_ERR_IO, "p", "%s", longpath);
    cr_assert_eq(strlen(e.message), sizeof e.message - 1);
}

Test(status, version_matches_the_macros)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", HDM_VERSION_MAJOR, HDM_VERSION_MINOR,
             HDM_VERSION_PATCH);
    cr_assert_str_eq(hdm_version(), want);
}

/* ---- options ---- */

Test(options, init_sets_the_documented_defaults)
{
    hdm_options o;
    memset(&o, 0xA5, sizeof o);
    hdm_options_init(&o);
    cr_assert_eq(o.size, sizeof o);
    cr_assert_eq(o.max_pixels, (uint64_t)1 << 28);
    cr_assert_eq(o.max_width, 1u << 20);
    cr_assert_eq(o.max_height, 1u << 20);
    cr_assert_eq(o.max_memory, (uint64_t)4 << 30);
    cr_assert_eq(o.png_level, -1);
    cr_assert_eq(o.png_filter, HDM_PNG_FILTER_DEFAULT);
    cr_assert_eq(o.jpeg_quality, 90);
    cr_assert_eq(o.strip_rows, 0);
    cr_assert_null((const void *)o.cancel);
    hdm_options_init(NULL); /* no crash */
}

Test(options, null_means_defaults)
{
    hdm_options want, got;
    hdm_options_init(&want);
    memset(&got, 0x5A, sizeof got);
    hdm__options_get(NULL, &got);
    cr_assert_eq(memcmp(&want, &got, sizeof want), 0);
}

Test(options, caller_fields_are_taken)
{
    static const volatile int flag = 0;
    hdm_options o, got;
    hdm_options_init(&o);
    o.max_pixels = 77;
    o.max_width = 11;
    o.max_height = 12;
    o.max_memory = 1234;
    o.png_level = 3;
    o.png_filter = HDM_PNG_FILTER_PAETH;
    o.jpeg_quality = 42;
    o.strip_rows = 5;
    o.cancel = &flag;
    hdm__options_get(&o, &got);
    cr_assert_eq(got.size, sizeof got);
    cr_assert_eq(got.max_pixels, 77);
    cr_assert_eq(got.max_width, 11);
    cr_assert_eq(got.max_height, 12);
    cr_assert_eq(got.max_memory, 1234);
    cr_assert_eq(got.png_level, 3);
    cr_assert_eq(got.png_filter, HDM_PNG_FILTER_PAETH);
    cr_assert_eq(got.jpeg_quality, 42);
    cr_assert_eq(got.strip_rows, 5);
    cr_assert_eq((const void *)got.cancel, (const void *)&flag);
}

Test(options, an_older_smaller_struct_keeps_defaults_beyond_its_size)
{
    /* An old caller knew only the limits: everything after max_memory is not its to set, so
     * whatever lies beyond its size in memory must not be read. */
    hdm_options o;
    memset(&o, 0x7F, sizeof o);
    o.size = offsetof(hdm_options, max_memory) + sizeof o.max_memory;
    o.max_pixels = 99;
    o.max_width = 98;
    o.max_height = 97;
    o.max_memory = 96;
    hdm_options got;
    hdm__options_get(&o, &got);
    cr_assert_eq(got.size, sizeof got);
    cr_assert_eq(got.max_pixels, 99);
    cr_assert_eq(got.max_width, 98);
    cr_assert_eq(got.max_height, 97);
    cr_assert_eq(got.max_memory, 96);
    cr_assert_eq(got.png_level, -1);
    cr_assert_eq(got.png_filter, HDM_PNG_FILTER_DEFAULT);
    cr_assert_eq(got.jpeg_quality, 90);
    cr_assert_eq(got.strip_rows, 0);
    cr_assert_null((const void *)got.cancel);

    /* one that knew only its size: all defaults */
    o.size = sizeof(size_t);
    hdm__options_get(&o, &got);
    cr_assert_eq(got.max_pixels, (uint64_t)1 << 28);
    cr_assert_eq(got.max_width, 1u << 20);
    /* a zero size (not initialised): nothing read, and every call refuses it */
    o.size = 0;
    hdm__options_get(&o, &got);
    cr_assert_eq(got.max_memory, (uint64_t)4 << 30);
    hdm_error e;
    cr_assert_eq(hdm__options_load(&o, &got, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "hdm_options_init"), "%s", e.message);
}

Test(options, a_newer_larger_struct_is_read_up_to_what_we_know)
{
    struct {
        hdm_options o;
        unsigned char future[64];
    } big;
    memset(&big, 0xEE, sizeof big);
    hdm_options_init(&big.o);
    big.o.size = sizeof big;
    big.o.strip_rows = 9;
    hdm_options got;
    hdm__options_get(&big.o, &got);
    cr_assert_eq(got.size, sizeof got);
    cr_assert_eq(got.strip_rows, 9);
}

/* ---- format names ---- */

Test(format, from_name_every_extension)
{
    static const struct { const char *name; hdm_format f; } cases[] = {
        {"a.png", HDM_FORMAT_PNG}, {"a.PNG", HDM_FORMAT_PNG}, {"a.Png", HDM_FORMAT_PNG},
        {"a.jpg", HDM_FORMAT_JPEG}, {"a.JPG", HDM_FORMAT_JPEG}, {"a.jpeg", HDM_FORMAT_JPEG},
        {"a.JPEG", HDM_FORMAT_JPEG}, {"a.JpEg", HDM_FORMAT_JPEG},
        {"a.bmp", HDM_FORMAT_BMP}, {"a.BMP", HDM_FORMAT_BMP},
        {"a.tga", HDM_FORMAT_TGA}, {"a.TGA", HDM_FORMAT_TGA},
        {"a.hdr", HDM_FORMAT_HDR}, {"a.HDR", HDM_FORMAT_HDR},
        /* bare extensions, with and without the dot */
        {"png", HDM_FORMAT_PNG}, {".png", HDM_FORMAT_PNG}, {"JPEG", HDM_FORMAT_JPEG},
        {".tga", HDM_FORMAT_TGA},
        /* dots in directories do not count */
        {"/x/dir.png/out.bmp", HDM_FORMAT_BMP}, {"dir.v2/image.tar.hdr", HDM_FORMAT_HDR},
        {"./out.png", HDM_FORMAT_PNG}, {"../a.b.c/d.e.jpg", HDM_FORMAT_JPEG},
        {"/x/dir.png/out", HDM_FORMAT_UNKNOWN}, {"dir.jpg/", HDM_FORMAT_UNKNOWN},
        /* formats read but not written, and others */
        {"a.gif", HDM_FORMAT_UNKNOWN}, {"a.psd", HDM_FORMAT_UNKNOWN},
        {"a.pnm", HDM_FORMAT_UNKNOWN}, {"a.pgm", HDM_FORMAT_UNKNOWN},
        {"a.tiff", HDM_FORMAT_TIFF}, {"a.TIF", HDM_FORMAT_TIFF}, {"a.xcf", HDM_FORMAT_UNKNOWN},
        {"a.png.txt", HDM_FORMAT_UNKNOWN},
        {"a.pngx", HDM_FORMAT_UNKNOWN}, {"a.", HDM_FORMAT_UNKNOWN}, {"", HDM_FORMAT_UNKNOWN},
        {"noext", HDM_FORMAT_UNKNOWN}, {"a.jp", HDM_FORMAT_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(hdm_format_from_name(cases[i].name), cases[i].f, "\"%s\" gave %d, want %d",
                     cases[i].name, (int)hdm_format_from_name(cases[i].name), (int)cases[i].f);
    cr_assert_eq(hdm_format_from_name(NULL), HDM_FORMAT_UNKNOWN);
}

Test(format, names)
{
    static const char *const want[] = {"unknown", "png", "jpeg", "bmp", "tga",
                                       "gif", "psd", "hdr", "pnm", "webp", "tiff"};
    for (int f = 0; f < HDM__FORMAT_COUNT; f++)
        cr_assert_str_eq(hdm_format_name((hdm_format)f), want[f]);
    cr_assert_str_eq(hdm_format_name(HDM__FORMAT_COUNT), "unknown");
    cr_assert_str_eq(hdm_format_name((hdm_format)-1), "unknown");
}

/* ---- detection from the first bytes ---- */

static hdm_format detect(const char *bytes, size_t n)
{
    return hdm__detect((const unsigned char *)bytes, n);
}

Test(detect, each_signature)
{
    cr_assert_eq(detect("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), HDM_FORMAT_PNG);
    cr_assert_eq(detect("\xFF\xD8\xFF\xE0\0\x10JFIF", 10), HDM_FORMAT_JPEG);
    cr_assert_eq(detect("\xFF\xD8\xFF", 3), HDM_FORMAT_JPEG);
    cr_assert_eq(detect("GIF87a\x01\0\x01\0", 10), HDM_FORMAT_GIF);
    cr_assert_eq(detect("GIF89a\x01\0\x01\0", 10), HDM_FORMAT_GIF);
    cr_assert_eq(detect("BM\x36\0\0\0\0\0\0\0\x36\0", 12), HDM_FORMAT_BMP);
    cr_assert_eq(detect("8BPS\0\x01", 6), HDM_FORMAT_PSD);
    cr_assert_eq(detect("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n", 34), HDM_FORMAT_HDR);
    cr_assert_eq(detect("#?RGBE\n", 7), HDM_FORMAT_HDR);
    cr_assert_eq(detect("P5 1 1 255\n", 11), HDM_FORMAT_PNM);
    cr_assert_eq(detect("P6\n1 1\n255\n", 11), HDM_FORMAT_PNM);
    cr_assert_eq(detect("P5\t1", 4), HDM_FORMAT_PNM);
    cr_assert_eq(detect("P5\r\n", 4), HDM_FORMAT_PNM);
    cr_assert_eq(detect("P6#c\n", 5), HDM_FORMAT_PNM);
    /* TGA has no signature: an 18-byte header of plausible fields */
    unsigned char tga[18] = {0};
    tga[2] = 2;                 /* uncompressed true colour */
    tga[12] = 3;                /* width 3 */
    tga[14] = 2;                /* height 2 */
    tga[16] = 24;
    cr_assert_eq(hdm__detect(tga, sizeof tga), HDM_FORMAT_TGA);
    tga[2] = 3, tga[16] = 8;    /* gray */
    cr_assert_eq(hdm__detect(tga, sizeof tga), HDM_FORMAT_TGA);
    tga[2] = 10, tga[16] = 32;  /* RLE true colour */
    cr_assert_eq(hdm__detect(tga, sizeof tga), HDM_FORMAT_TGA);
    tga[1] = 1, tga[2] = 1, tga[16] = 8; /* colour-mapped */
    cr_assert_eq(hdm__detect(tga, sizeof tga), HDM_FORMAT_TGA);
}

Test(detect, near_misses_are_unknown)
{
    cr_assert_eq(detect("", 0), HDM_FORMAT_UNKNOWN);
    cr_assert_eq(detect("\x89PNG\r\n\x1a", 7), HDM_FORMAT_UNKNOWN);
    cr_assert_eq(detect("\x89PNG\r\n\x1a\r", 8), HDM_FORMAT_UNKNOWN);
    cr_assert_eq(detect("\xFF\xD8", 2), HDM_FORMAT_UNKNOWN);
    cr_assert_eq(detect("GIF88a", 6), HDM_FORMAT_UNKNOWN);
    cr_assert_eq(detect("GIF89", 5), HDM_FORMAT_UNKNOWN);
    cr_assert_eq(detect("B", 1), HDM_FORMAT_UNKNOWN);
    cr_assert_eq(detect("8BP", 3), HDM_FORMAT_UNKNOWN);
    cr_assert_eq(detect("#?RADIANC", 9), HDM_FORMAT_UNKNOWN);
    cr_assert_eq(detect("P3 1 1 255", 10), HDM_FORMAT_UNKNOWN); /* ASCII PNM: not read */
    cr_assert_eq(detect("P5x", 3), HDM_FORMAT_UNKNOWN);
    cr_assert_eq(detect("P5", 2), HDM_FORMAT_UNKNOWN);
    cr_assert_eq(detect("hello, world, this is text", 26), HDM_FORMAT_UNKNOWN);
    unsigned char tga[18] = {0};
    tga[2] = 2, tga[12] = 3, tga[14] = 2, tga[16] = 24;
    cr_assert_eq(hdm__detect(tga, 17), HDM_FORMAT_UNKNOWN); /* short header */
    tga[12] = 0;
    cr_assert_eq(hdm__detect(tga, 18), HDM_FORMAT_UNKNOWN); /* zero width */
    tga[12] = 3, tga[16] = 12;
    cr_assert_eq(hdm__detect(tga, 18), HDM_FORMAT_UNKNOWN); /* odd bits per pixel */
    tga[16] = 24, tga[2] = 4;
    cr_assert_eq(hdm__detect(tga, 18), HDM_FORMAT_UNKNOWN); /* no such image type */
    tga[2] = 2, tga[1] = 1;
    cr_assert_eq(hdm__detect(tga, 18), HDM_FORMAT_UNKNOWN); /* map without a mapped type */
    tga[1] = 2;
    cr_assert_eq(hdm__detect(tga, 18), HDM_FORMAT_UNKNOWN);
}
