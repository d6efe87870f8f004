/* SPDX-License-Identifier: MIT */
/* test_ops_mul_mask.c — hdm_mul and hdm_mask against exact references, and pipelines streaming the
 * same results from files */
#include "core/core.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

TestSuite(mul);
TestSuite(mask);
TestSuite(run, .init = tu_setup, .fini = tu_teardown);

/* round(a·b / M) by exact integer division: M is odd, so a·b / M is never a half. */
static uint32_t ref_mul(uint64_t a, uint64_t b, uint64_t m) { return (uint32_t)((2 * a * b + m) / (2 * m)); }

static uint32_t maxval(hdm_depth d) { return d == HDM_U8 ? 255u : 65535u; }

/* A sample converted to depth d as the numeric contract says: u8 → u16 is ×257. */
static uint32_t widen(uint32_t v, hdm_depth from, hdm_depth to)
{
    return from == HDM_U8 && to == HDM_U16 ? v * 257 : v;
}

static hdm_image *mul_ok(const hdm_image *a, const hdm_image *b)
{
    hdm_error err = {0};
    hdm_image *out = NULL;
    cr_assert_eq(hdm_mul(a, b, NULL, &out, &err), HDM_OK, "%s", err.message);
    cr_assert_not_null(out);
    return out;
}

/* out = a ∘ b for integer images of any depths, with the broadcast rule. */
static void check_mul_int(const hdm_image *a, const hdm_image *b, const hdm_image *out)
{
    hdm_depth d = a->depth > b->depth ? a->depth : b->depth;
    uint32_t ch = a->channels > b->channels ? a->channels : b->channels;
    cr_assert(out->width == a->width && out->height == a->height && out->channels == ch &&
              out->depth == d, "result shape %ux%ux%u depth %d", out->width, out->height,
              out->channels, (int)out->depth);
    for (uint32_t c = 0; c < ch; c++)
        for (uint32_t y = 0; y < a->height; y++)
            for (uint32_t x = 0; x < a->width; x++) {
                uint32_t va = widen(tu_get(a, a->channels == 1 ? 0 : c, x, y), a->depth, d);
                uint32_t vb = widen(tu_get(b, b->channels == 1 ? 0 : c, x, y), b->depth, d);
                uint32_t want = ref_mul(va, vb, maxval(d)), got = tu_get(out, c, x, y);
                if (got != want)
                    cr_assert_fail("channel %u (%u, %u): %u ∘ %u gave %u, want %u", c, x, y, va,
                                   vb, got, want);
            }
}

/* ---- hdm_mul ---- */

Test(mul, every_u8_pair)
{
    hdm_image *a, *b;
    cr_assert_eq(hdm_image_new(256, 256, 1, HDM_U8, &a), HDM_OK);
    cr_assert_eq(hdm_image_new(256, 256, 1, HDM_U8, &b), HDM_OK);
    for (uint32_t y = 0; y < 256; y++)
        for (uint32_t x = 0; x < 256; x++) {
            tu_set(a, 0, x, y, x);
            tu_set(b, 0, x, y, y);
        }
    hdm_image *out = mul_ok(a, b);
    check_mul_int(a, b, out);
    /* the spot values any reader can check by hand */
    cr_assert_eq(tu_get(out, 0, 255, 255), 255);
    cr_assert_eq(tu_get(out, 0, 0, 255), 0);
    cr_assert_eq(tu_get(out, 0, 128, 128), 64);   /* 16384/255 = 64.25 */
    cr_assert_eq(tu_get(out, 0, 1, 128), 1);      /* 128/255 = 0.502 */
    cr_assert_eq(tu_get(out, 0, 1, 127), 0);      /* 127/255 = 0.498 */
    hdm_image_free(out);
    hdm_image_free(a);
    hdm_image_free(b);
}

Test(mul, random_u8_every_channel_count)
{
    tu_rng r;
    tu_seed(&r, 101);
    for (uint32_t ch = 1; ch <= 4; ch++) {
        hdm_image *a = tu_image_random(67, 13, ch, HDM_U8, &r);
        hdm_image *b = tu_image_random(67, 13, ch, HDM_U8, &r);
        hdm_image *out = mul_ok(a, b);
        check_mul_int(a, b, out);
        hdm_image_free(out);
        hdm_image_free(a);
        hdm_image_free(b);
    }
}

Test(mul, u16_random_and_edges)
{
    tu_rng r;
    tu_seed(&r, 102);
    hdm_image *a = tu_image_random(301, 7, 3, HDM_U16, &r);
    hdm_image *b = tu_image_random(301, 7, 3, HDM_U16, &r);
    static const uint32_t edge[] = {0, 1, 2, 127, 128, 255, 256, 257, 32767, 32768, 32769,
                                    65279, 65280, 65534, 65535};
    enum { NE = sizeof edge / sizeof edge[0] };
    for (uint32_t i = 0; i < NE * NE; i++) { /* every pair of edge values, in row 0..  */
        uint32_t x = i % 301, y = i / 301;
        tu_set(a, 0, x, y, edge[i % NE]);
        tu_set(b, 0, x, y, edge[i / NE]);
    }
    hdm_image *out = mul_ok(a, b);
    check_mul_int(a, b, out);
    hdm_image_free(out);
    hdm_image_free(a);
    hdm_image_free(b);
}

Test(mul, f32_is_the_ieee_product)
{
    tu_rng r;
    tu_seed(&r, 103);
    hdm_image *a = tu_image_random(50, 3, 2, HDM_F32, &r);
    hdm_image *b = tu_image_random(50, 3, 2, HDM_F32, &r);
    static const float special[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 1e-30f, 1e-45f, 3e38f,
                                    INFINITY, -INFINITY, NAN, 1.0f / 3.0f, 1e30f};
    enum { NS = sizeof special / sizeof special[0] };
    for (uint32_t i = 0; i < NS * NS && i < 150; i++) {
        tu_setf(a, 1, i % 50, i / 50, special[i % NS]);
        tu_setf(b, 1, i % 50, i / 50, special[i / NS]);
    }
    hdm_image *out = mul_ok(a, b);
    cr_assert_eq(out->depth, HDM_F32);
    for (uint32_t c = 0; c < 2; c++)
        for (uint32_t y = 0; y < 3; y++)
            for (uint32_t x = 0; x < 50; x++) {
                volatile float va = tu_getf(a, c, x, y), vb = tu_getf(b, c, x, y);
                float want = va * vb, got = tu_getf(out, c, x, y);
                if (isnan(want)) {
                    cr_assert(isnan(got), "%g · %g gave %g, want NaN", va, vb, got);
                    continue;
                }
                uint32_t gb, wb;
                memcpy(&gb, &got, 4);
                memcpy(&wb, &want, 4);
                cr_assert_eq(gb, wb, "%g · %g gave %a, want %a", va, vb, got, want);
            }
    hdm_image_free(out);
    hdm_image_free(a);
    hdm_image_free(b);
}

Test(mul, gray_broadcasts_both_ways)
{
    tu_rng r;
    tu_seed(&r, 104);
    for (uint32_t ch = 2; ch <= 4; ch++) {
        hdm_image *g = tu_image_random(19, 11, 1, HDM_U8, &r);
        hdm_image *c = tu_image_random(19, 11, ch, HDM_U8, &r);
        hdm_image *gc = mul_ok(g, c), *cg = mul_ok(c, g);
        check_mul_int(g, c, gc);
        check_mul_int(c, g, cg);
        tu_assert_same(gc, cg, "commutes"); /* the product commutes, broadcast included */
        hdm_image_free(gc);
        hdm_image_free(cg);
        hdm_image_free(g);
        hdm_image_free(c);
    }
}

Test(mul, mismatched_sizes_are_a_shape_error_naming_both)
{
    hdm_image *a, *b, *out = (hdm_image *)&out;
    cr_assert_eq(hdm_image_new(5, 4, 3, HDM_U8, &a), HDM_OK);
    cr_assert_eq(hdm_image_new(6, 4, 3, HDM_U8, &b), HDM_OK);
    hdm_error err = {0};
    cr_assert_eq(hdm_mul(a, b, NULL, &out, &err), HDM_ERR_SHAPE);
    cr_assert_eq(err.status, HDM_ERR_SHAPE);
    cr_assert_null(out);
    cr_assert(strstr(err.message, "5x4") && strstr(err.message, "6x4"), "message: %s",
              err.message);
    hdm_image_free(b);
    cr_assert_eq(hdm_image_new(5, 3, 3, HDM_U8, &b), HDM_OK);
    cr_assert_eq(hdm_mul(b, a, NULL, &out, &err), HDM_ERR_SHAPE);
    cr_assert(strstr(err.message, "5x4") && strstr(err.message, "5x3"), "message: %s",
              err.message);
    hdm_image_free(a);
    hdm_image_free(b);
}

Test(mul, incompatible_channel_counts)
{
    static const uint32_t pairs[][2] = {{2, 3}, {3, 2}, {3, 4}, {4, 3}, {2, 4}, {4, 2}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        hdm_image *a, *b, *out = (hdm_image *)&out;
        cr_assert_eq(hdm_image_new(3, 3, pairs[i][0], HDM_U8, &a), HDM_OK);
        cr_assert_eq(hdm_image_new(3, 3, pairs[i][1], HDM_U16, &b), HDM_OK);
        hdm_error err = {0};
        cr_assert_eq(hdm_mul(a, b, NULL, &out, &err), HDM_ERR_SHAPE, "%u vs %u channels",
                     pairs[i][0], pairs[i][1]);
        cr_assert_null(out);
        char ca[8], cb[8];
        snprintf(ca, sizeof ca, "%u", pairs[i][0]);
        snprintf(cb, sizeof cb, "%u", pairs[i][1]);
        cr_assert(strstr(err.message, "channel") && strstr(err.message, ca) &&
                  strstr(err.message, cb), "message: %s", err.message);
        hdm_image_free(a);
        hdm_image_free(b);
    }
}

Test(mul, mixed_depths_promote)
{
    tu_rng r;
    tu_seed(&r, 105);
    hdm_image *a8 = tu_image_random(40, 9, 3, HDM_U8, &r);
    hdm_image *b16 = tu_image_random(40, 9, 3, HDM_U16, &r);
    hdm_image *g8 = tu_image_random(40, 9, 1, HDM_U8, &r);
    for (uint32_t x = 0; x < 40; x++) { /* every extreme pairing in row 0 */
        tu_set(a8, 0, x, 0, x % 2 ? 255 : 0);
        tu_set(b16, 0, x, 0, x % 4 < 2 ? 65535 : 0);
    }
    hdm_image *ab = mul_ok(a8, b16), *ba = mul_ok(b16, a8), *gb = mul_ok(g8, b16);
    cr_assert_eq(ab->depth, HDM_U16);
    check_mul_int(a8, b16, ab);
    check_mul_int(b16, a8, ba);
    check_mul_int(g8, b16, gb);
    tu_assert_same(ab, ba, "u8 ∘ u16 commutes");
    /* 255 ∘ 65535 is full scale in u16 */
    cr_assert_eq(tu_get(ab, 0, 1, 0), 65535);

    /* with f32 the integer operand is normalised first: u/M, then the IEEE product */
    hdm_image *f = tu_image_random(40, 9, 3, HDM_F32, &r);
    hdm_image *af = mul_ok(a8, f), *bf = mul_ok(f, b16);
    cr_assert_eq(af->depth, HDM_F32);
    cr_assert_eq(bf->depth, HDM_F32);
    for (uint32_t c = 0; c < 3; c++)
        for (uint32_t y = 0; y < 9; y++)
            for (uint32_t x = 0; x < 40; x++) {
                volatile float na = (float)tu_get(a8, c, x, y) / 255.0f;
                volatile float nb = (float)tu_get(b16, c, x, y) / 65535.0f;
                volatile float vf = tu_getf(f, c, x, y);
                cr_assert_eq(tu_getf(af, c, x, y), na * vf);
                cr_assert_eq(tu_getf(bf, c, x, y), vf * nb);
            }
    hdm_image *imgs[] = {a8, b16, g8, ab, ba, gb, f, af, bf};
    for (size_t i = 0; i < sizeof imgs / sizeof imgs[0]; i++)
        hdm_image_free(imgs[i]);
}

Test(mul, views_with_a_wider_stride)
{
    /* a caller's own planes with padding between rows */
    uint8_t abuf[3][16], bbuf[3][16];
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 16; x++)
            abuf[y][x] = (uint8_t)(x * 17 + y), bbuf[y][x] = (uint8_t)(255 - x * 9 - y);
    hdm_image a = {.width = 10, .height = 3, .channels = 1, .depth = HDM_U8, .stride = 16,
                   .plane = {abuf}};
    hdm_image b = a;
    b.plane[0] = bbuf;
    hdm_image *out = mul_ok(&a, &b);
    check_mul_int(&a, &b, out);
    hdm_image_free(out);
}

Test(mul, bad_arguments)
{
    hdm_image *a, *out;
    cr_assert_eq(hdm_image_new(2, 2, 1, HDM_U8, &a), HDM_OK);
    cr_assert_eq(hdm_mul(a, NULL, NULL, &out, NULL), HDM_ERR_ARG);
    cr_assert_eq(hdm_mul(NULL, a, NULL, &out, NULL), HDM_ERR_ARG);
    cr_assert_eq(hdm_mul(a, a, NULL, NULL, NULL), HDM_ERR_ARG);
    hdm_image bad = *a;
    bad.stride = 1; /* narrower than a row */
    cr_assert_eq(hdm_mul(a, &bad, NULL, &out, NULL), HDM_ERR_ARG);
    bad = *a;
    bad.plane[0] = NULL;
    cr_assert_eq(hdm_mul(&bad, a, NULL, &out, NULL), HDM_ERR_ARG);
    hdm_image_free(a);
}

/* ---- hdm_mask ---- */

static hdm_image *mask_ok(const hdm_image *img, const hdm_image *m, unsigned flags)
{
    hdm_error err = {0};
    hdm_image *out = NULL;
    cr_assert_eq(hdm_mask(img, m, flags, NULL, &out, &err), HDM_OK, "%s", err.message);
    return out;
}

/* The mask's value at (x, y) in depth d, complemented for HDM_MASK_INVERT. */
static uint32_t mask_at(const hdm_image *m, uint32_t x, uint32_t y, hdm_depth d, unsigned flags)
{
    uint32_t v = widen(tu_get(m, 0, x, y), m->depth, d);
    return flags & HDM_MASK_INVERT ? maxval(d) - v : v;
}

static void check_mask(const hdm_image *img, const hdm_image *m, unsigned flags,
                       const hdm_image *out)
{
    hdm_depth d = img->depth > m->depth ? img->depth : m->depth;
    bool alpha_only = flags & HDM_MASK_ALPHA;
    bool has_alpha = img->channels == 2 || img->channels == 4;
    uint32_t ch = img->channels + (alpha_only && !has_alpha ? 1 : 0);
    cr_assert(out->channels == ch && out->depth == d && out->width == img->width &&
              out->height == img->height, "result %u channels depth %d", out->channels,
              (int)out->depth);
    for (uint32_t c = 0; c < ch; c++)
        for (uint32_t y = 0; y < img->height; y++)
            for (uint32_t x = 0; x < img->width; x++) {
                uint32_t mv = mask_at(m, x, y, d, flags), want;
                if (c == img->channels) /* the new alpha plane */
                    want = mv;
                else {
                    uint32_t v = widen(tu_get(img, c, x, y), img->depth, d);
                    want = alpha_only && c != ch - 1 ? v : ref_mul(v, mv, maxval(d));
                }
                uint32_t got = tu_get(out, c, x, y);
                if (got != want)
                    cr_assert_fail("flags %u, channel %u (%u, %u): got %u, want %u", flags, c, x,
                                   y, got, want);
            }
}

Test(mask, every_channel_including_alpha)
{
    tu_rng r;
    tu_seed(&r, 111);
    for (uint32_t ch = 1; ch <= 4; ch++)
        for (unsigned inv = 0; inv <= HDM_MASK_INVERT; inv += HDM_MASK_INVERT) {
            hdm_image *img = tu_image_random(33, 8, ch, HDM_U8, &r);
            hdm_image *m = tu_image_random(33, 8, 1, HDM_U8, &r);
            hdm_image *out = mask_ok(img, m, inv);
            check_mask(img, m, inv, out);
            hdm_image_free(out);
            hdm_image_free(img);
            hdm_image_free(m);
        }
}

Test(mask, invert_is_max_minus_mask)
{
    hdm_image *img, *m;
    cr_assert_eq(hdm_image_new(3, 1, 1, HDM_U16, &img), HDM_OK);
    cr_assert_eq(hdm_image_new(3, 1, 1, HDM_U16, &m), HDM_OK);
    for (uint32_t x = 0; x < 3; x++)
        tu_set(img, 0, x, 0, 65535);
    tu_set(m, 0, 0, 0, 0);
    tu_set(m, 0, 1, 0, 65535);
    tu_set(m, 0, 2, 0, 1000);
    hdm_image *out = mask_ok(img, m, HDM_MASK_INVERT);
    cr_assert_eq(tu_get(out, 0, 0, 0), 65535);
    cr_assert_eq(tu_get(out, 0, 1, 0), 0);
    cr_assert_eq(tu_get(out, 0, 2, 0), 64535);
    hdm_image_free(out);
    hdm_image_free(img);
    hdm_image_free(m);
}

Test(mask, alpha_on_rgb_adds_alpha_equal_to_the_mask)
{
    tu_rng r;
    tu_seed(&r, 112);
    for (uint32_t ch = 1; ch <= 3; ch += 2)
        for (unsigned inv = 0; inv <= 1; inv++) {
            unsigned flags = HDM_MASK_ALPHA | (inv ? HDM_MASK_INVERT : 0);
            hdm_image *img = tu_image_random(21, 6, ch, HDM_U8, &r);
            hdm_image *m = tu_image_random(21, 6, 1, HDM_U8, &r);
            hdm_image *out = mask_ok(img, m, flags);
            cr_assert_eq(out->channels, ch + 1);
            check_mask(img, m, flags, out);
            hdm_image_free(out);
            hdm_image_free(img);
            hdm_image_free(m);
        }
}

Test(mask, alpha_on_rgba_leaves_colour_untouched)
{
    tu_rng r;
    tu_seed(&r, 113);
    for (uint32_t ch = 2; ch <= 4; ch += 2)
        for (int d = 0; d < 2; d++) {
            hdm_depth depth = d ? HDM_U16 : HDM_U8;
            hdm_image *img = tu_image_random(21, 6, ch, depth, &r);
            hdm_image *m = tu_image_random(21, 6, 1, depth, &r);
            hdm_image *out = mask_ok(img, m, HDM_MASK_ALPHA);
            check_mask(img, m, HDM_MASK_ALPHA, out);
            for (uint32_t c = 0; c + 1 < ch; c++)
                for (uint32_t y = 0; y < 6; y++)
                    for (uint32_t x = 0; x < 21; x++)
                        cr_assert_eq(tu_get(out, c, x, y), tu_get(img, c, x, y));
            hdm_image_free(out);
            hdm_image_free(img);
            hdm_image_free(m);
        }
}

Test(mask, mixed_depths_promote)
{
    tu_rng r;
    tu_seed(&r, 114);
    hdm_image *img8 = tu_image_random(17, 5, 3, HDM_U8, &r);
    hdm_image *m16 = tu_image_random(17, 5, 1, HDM_U16, &r);
    hdm_image *img16 = tu_image_random(17, 5, 4, HDM_U16, &r);
    hdm_image *m8 = tu_image_random(17, 5, 1, HDM_U8, &r);
    for (unsigned flags = 0; flags <= 3; flags++) {
        hdm_image *o1 = mask_ok(img8, m16, flags), *o2 = mask_ok(img16, m8, flags);
        check_mask(img8, m16, flags, o1);
        check_mask(img16, m8, flags, o2);
        hdm_image_free(o1);
        hdm_image_free(o2);
    }
    hdm_image *imgs[] = {img8, m16, img16, m8};
    for (size_t i = 0; i < 4; i++)
        hdm_image_free(imgs[i]);
}

Test(mask, gray_in_all_channels_rgb_mask_is_accepted)
{
    tu_rng r;
    tu_seed(&r, 115);
    hdm_image *img = tu_image_random(25, 7, 4, HDM_U8, &r);
    hdm_image *g = tu_image_random(25, 7, 1, HDM_U8, &r);
    for (uint32_t mc = 3; mc <= 4; mc++) { /* RGB, and RGBA whose own alpha is ignored */
        hdm_image *rgb;
        cr_assert_eq(hdm_image_new(25, 7, mc, HDM_U8, &rgb), HDM_OK);
        for (uint32_t y = 0; y < 7; y++)
            for (uint32_t x = 0; x < 25; x++) {
                for (uint32_t c = 0; c < 3; c++)
                    tu_set(rgb, c, x, y, tu_get(g, 0, x, y));
                if (mc == 4)
                    tu_set(rgb, 3, x, y, x * 7);
            }
        for (unsigned flags = 0; flags <= 3; flags++) {
            hdm_image *want = mask_ok(img, g, flags), *got = mask_ok(img, rgb, flags);
            tu_assert_same(got, want, "gray RGB mask vs gray mask");
            hdm_image_free(want);
            hdm_image_free(got);
        }
        hdm_image_free(rgb);
    }
    /* gray+alpha mask: its alpha is ignored too */
    hdm_image *ga;
    cr_assert_eq(hdm_image_new(25, 7, 2, HDM_U8, &ga), HDM_OK);
    for (uint32_t y = 0; y < 7; y++)
        for (uint32_t x = 0; x < 25; x++)
            tu_set(ga, 0, x, y, tu_get(g, 0, x, y)), tu_set(ga, 1, x, y, 3);
    hdm_image *want = mask_ok(img, g, 0), *got = mask_ok(img, ga, 0);
    tu_assert_same(got, want, "gray+alpha mask vs gray mask");
    hdm_image_free(want);
    hdm_image_free(got);
    hdm_image_free(ga);
    hdm_image_free(img);
    hdm_image_free(g);
}

Test(mask, colour_mask_is_rejected)
{
    tu_rng r;
    tu_seed(&r, 116);
    hdm_image *img = tu_image_random(9, 6, 3, HDM_U8, &r);
    hdm_image *m;
    cr_assert_eq(hdm_image_new(9, 6, 3, HDM_U8, &m), HDM_OK);
    for (uint32_t y = 0; y < 6; y++)
        for (uint32_t x = 0; x < 9; x++)
            for (uint32_t c = 0; c < 3; c++)
                tu_set(m, c, x, y, 100);
    tu_set(m, 2, 4, 5, 101); /* one sample in the last row differs */
    hdm_error err = {0};
    hdm_image *out = (hdm_image *)&out;
    cr_assert_eq(hdm_mask(img, m, 0, NULL, &out, &err), HDM_ERR_SHAPE);
    cr_assert_null(out);
    cr_assert(strstr(err.message, "gray"), "message: %s", err.message);
    cr_assert_eq(hdm_mask(img, m, HDM_MASK_ALPHA, NULL, &out, &err), HDM_ERR_SHAPE);
    hdm_image_free(img);
    hdm_image_free(m);
}

Test(mask, size_mismatch)
{
    hdm_image *img, *m, *out;
    cr_assert_eq(hdm_image_new(8, 8, 3, HDM_U8, &img), HDM_OK);
    cr_assert_eq(hdm_image_new(8, 7, 1, HDM_U8, &m), HDM_OK);
    hdm_error err = {0};
    cr_assert_eq(hdm_mask(img, m, 0, NULL, &out, &err), HDM_ERR_SHAPE);
    cr_assert(strstr(err.message, "8x7") && strstr(err.message, "8x8"), "message: %s",
              err.message);
    hdm_image_free(img);
    hdm_image_free(m);
}

/* ---- pipelines: the same results, streamed from files and run over images ---- */

static void save(const hdm_image *img, const char *path)
{
    hdm_error err = {0};
    cr_assert_eq(hdm_save(img, path, NULL, &err), HDM_OK, "%s", err.message);
}

static hdm_image *load(const char *path)
{
    hdm_error err = {0};
    hdm_image *img;
    cr_assert_eq(hdm_load(path, NULL, &img, &err), HDM_OK, "%s", err.message);
    return img;
}

/* A pipeline of n steps written as on the command line; NULL entries are skipped. */
static hdm_pipeline *pipeline_of(const char *const *steps, size_t n)
{
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    for (size_t i = 0; i < n; i++) {
        hdm_error err = {0};
        cr_assert_eq(hdm_pipeline_add(p, steps[i], &err), HDM_OK, "%s: %s", steps[i],
                     err.message);
    }
    cr_assert_eq(hdm_pipeline_length(p), n);
    return p;
}

/* A step "OP:DIR/NAME[:EXTRA]" in one of a few static buffers. */
static const char *step(const char *op, const char *name, const char *extra)
{
    static char buf[4][4200];
    static unsigned turn;
    char *b = buf[turn++ % 4];
    snprintf(b, sizeof buf[0], "%s:%s/%s%s", op, tu_dir, name, extra);
    return b;
}

static hdm_status run(const hdm_pipeline *p, const char *in, const char *out,
                      uint32_t strip_rows, hdm_error *err)
{
    hdm_options opt;
    hdm_options_init(&opt);
    opt.strip_rows = strip_rows;
    return hdm_pipeline_run_file(p, in, out, &opt, err);
}

static const uint32_t strips[] = {1, 3, 64, 0};

Test(run, mask_and_mul_match_memory_across_strip_sizes)
{
    tu_rng r;
    tu_seed(&r, 121);
    for (int d = 0; d < 2; d++) {
        hdm_depth depth = d ? HDM_U16 : HDM_U8;
        /* 70 rows: strips of 3 and 64 leave a short last strip */
        hdm_image *in = tu_image_random(45, 70, 3, depth, &r);
        hdm_image *b = tu_image_random(45, 70, 3, HDM_U8, &r);
        hdm_image *g = tu_image_random(45, 70, 1, HDM_U16, &r);
        hdm_image *m = tu_image_random(45, 70, 1, HDM_U8, &r);
        save(in, tu_path("in.png"));
        save(b, tu_path("b.png"));
        save(g, tu_path("g.png"));
        save(m, tu_path("m.png"));

        /* one step each, and a chain, against the in-memory calls */
        hdm_image *mul_b = mul_ok(in, b), *mul_g = mul_ok(in, g);
        hdm_image *mask_m = mask_ok(in, m, HDM_MASK_INVERT);
        hdm_image *alpha_m = mask_ok(in, m, HDM_MASK_ALPHA);
        hdm_image *both_m = mask_ok(in, m, HDM_MASK_ALPHA | HDM_MASK_INVERT);
        hdm_image *chain1 = mul_ok(in, b), *chain = mask_ok(chain1, m, HDM_MASK_ALPHA);
        hdm_image *chain2 = mul_ok(chain, g);
        /* step() reuses its buffers: each pipeline is built before the next strings */
        hdm_pipeline *pipes[7];
        pipes[0] = pipeline_of((const char *[]){step("mul", "b.png", "")}, 1);
        pipes[1] = pipeline_of((const char *[]){step("mul", "g.png", "")}, 1);
        pipes[2] = pipeline_of((const char *[]){step("mask", "m.png", ":invert")}, 1);
        pipes[3] = pipeline_of((const char *[]){step("mask", "m.png", ":alpha")}, 1);
        pipes[4] = pipeline_of((const char *[]){step("mask", "m.png", ":alpha:invert")}, 1);
        pipes[5] = pipeline_of(NULL, 0);
        pipes[6] = pipeline_of((const char *[]){step("mul", "b.png", ""),
                                                step("mask", "m.png", ":alpha"),
                                                step("mul", "g.png", "")}, 3);
        const hdm_image *wants[7] = {mul_b, mul_g, mask_m, alpha_m, both_m, in, chain2};
        for (size_t k = 0; k < 7; k++)
            for (size_t s = 0; s < sizeof strips / sizeof strips[0]; s++) {
                char what[80];
                snprintf(what, sizeof what, "%s input, case %zu, strips of %u",
                         d ? "u16" : "u8", k, strips[s]);
                hdm_error err = {0};
                cr_assert_eq(run(pipes[k], tu_path("in.png"), tu_path("out.png"), strips[s],
                                 &err), HDM_OK, "%s: %s", what, err.message);
                hdm_image *got = load(tu_path("out.png"));
                tu_assert_same(got, wants[k], what);
                hdm_image_free(got);
                /* the same pipeline over the image in memory */
                hdm_options opt;
                hdm_options_init(&opt);
                opt.strip_rows = strips[s];
                cr_assert_eq(hdm_pipeline_run_image(pipes[k], in, &opt, &got, &err), HDM_OK,
                             "%s: %s", what, err.message);
                tu_assert_same(got, wants[k], what);
                hdm_image_free(got);
            }
        for (size_t k = 0; k < 7; k++)
            hdm_pipeline_free(pipes[k]);
        hdm_image *imgs[] = {in, b, g, m, mul_b, mul_g, mask_m, alpha_m, both_m, chain1, chain,
                             chain2};
        for (size_t i = 0; i < sizeof imgs / sizeof imgs[0]; i++)
            hdm_image_free(imgs[i]);
    }
}

Test(run, whole_image_sources_stream_too)
{
    /* a TGA operand and output: sources and sinks held whole behave like streamed ones */
    tu_rng r;
    tu_seed(&r, 122);
    hdm_image *in = tu_image_random(30, 20, 4, HDM_U8, &r);
    hdm_image *b = tu_image_random(30, 20, 4, HDM_U8, &r);
    save(in, tu_path("in.png"));
    save(b, tu_path("b.tga"));
    hdm_image *want = mul_ok(in, b);
    const char *s = step("mul", "b.tga", "");
    hdm_pipeline *p = pipeline_of(&s, 1);
    for (size_t k = 0; k < sizeof strips / sizeof strips[0]; k++) {
        hdm_error err = {0};
        cr_assert_eq(run(p, tu_path("in.png"), tu_path("o.tga"), strips[k], &err), HDM_OK, "%s",
                     err.message);
        hdm_image *got = load(tu_path("o.tga"));
        tu_assert_same(got, want, "TGA operand and output");
        hdm_image_free(got);
    }
    hdm_pipeline_free(p);
    hdm_image_free(want);
    hdm_image_free(in);
    hdm_image_free(b);
}

Test(run, operand_path_with_a_colon_through_add_fields)
{
    tu_rng r;
    tu_seed(&r, 125);
    hdm_image *in = tu_image_random(8, 6, 3, HDM_U8, &r);
    hdm_image *m = tu_image_random(8, 6, 1, HDM_U8, &r);
    char mp[4096];
    snprintf(mp, sizeof mp, "%s", tu_path("a:b.png"));
    save(in, tu_path("in.png"));
    save(m, mp);
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    const char *fields[] = {mp, "invert"};
    hdm_error err = {0};
    cr_assert_eq(hdm_pipeline_add_fields(p, "mask", fields, 2, &err), HDM_OK, "%s", err.message);
    cr_assert_eq(run(p, tu_path("in.png"), tu_path("out.png"), 0, &err), HDM_OK, "%s",
                 err.message);
    hdm_image *got = load(tu_path("out.png")), *want = mask_ok(in, m, HDM_MASK_INVERT);
    tu_assert_same(got, want, "mask:a:b.png:invert");
    hdm_image_free(got);
    hdm_image_free(want);
    hdm_pipeline_free(p);
    hdm_image_free(in);
    hdm_image_free(m);
}

Test(run, shape_errors_leave_no_output)
{
    tu_rng r;
    tu_seed(&r, 123);
    hdm_image *in = tu_image_random(10, 10, 3, HDM_U8, &r);
    hdm_image *small = tu_image_random(10, 9, 1, HDM_U8, &r);
    hdm_image *two = tu_image_random(10, 10, 2, HDM_U8, &r);
    save(in, tu_path("in.png"));
    save(small, tu_path("small.png"));
    save(two, tu_path("two.png"));
    const char *steps[] = {step("mul", "small.png", ""), step("mul", "two.png", ""),
                           step("mask", "small.png", "")};
    int before = tu_dir_entries();
    for (size_t i = 0; i < 3; i++) {
        hdm_pipeline *p = pipeline_of(&steps[i], 1);
        hdm_error err = {0};
        cr_assert_eq(run(p, tu_path("in.png"), tu_path("out.png"), 0, &err), HDM_ERR_SHAPE,
                     "%s: %s", steps[i], err.message);
        cr_assert(!tu_exists(tu_path("out.png")));
        cr_assert_eq(tu_dir_entries(), before, "a temporary was left behind");
        hdm_pipeline_free(p);
    }
    hdm_image_free(in);
    hdm_image_free(small);
    hdm_image_free(two);
}

/* Runs with out naming the same file as an input: refused, and the input unchanged. */
static void expect_same_file(const hdm_pipeline *p, const char *in, const char *out,
                             const char *victim)
{
    size_t n0, n1;
    void *before = tu_read_file(victim, &n0);
    int entries = tu_dir_entries();
    hdm_error err = {0};
    cr_assert_eq(run(p, in, out, 0, &err), HDM_ERR_SAME_FILE, "%s -> %s: %s", in, out,
                 err.message);
    cr_assert_eq(err.status, HDM_ERR_SAME_FILE);
    void *after = tu_read_file(victim, &n1);
    cr_assert(n0 == n1 && memcmp(before, after, n0) == 0, "%s was changed", victim);
    cr_assert_eq(tu_dir_entries(), entries, "a temporary was left behind");
    free(before);
    free(after);
}

Test(run, refuses_to_overwrite_an_input)
{
    tu_rng r;
    tu_seed(&r, 124);
    hdm_image *in = tu_image_random(12, 9, 3, HDM_U8, &r);
    hdm_image *m = tu_image_random(12, 9, 1, HDM_U8, &r);
    save(in, tu_path("x.png"));
    save(m, tu_path("m.png"));
    const char *s = step("mask", "m.png", "");
    hdm_pipeline *mask = pipeline_of(&s, 1), *none = pipeline_of(NULL, 0);

    /* the very same name, and through a hard link */
    expect_same_file(mask, tu_path("x.png"), tu_path("x.png"), tu_path("x.png"));
    expect_same_file(none, tu_path("x.png"), tu_path("x.png"), tu_path("x.png"));
    cr_assert_eq(link(tu_path("x.png"), tu_path("link.png")), 0);
    expect_same_file(mask, tu_path("x.png"), tu_path("link.png"), tu_path("x.png"));
    expect_same_file(none, tu_path("link.png"), tu_path("x.png"), tu_path("x.png"));
    /* an operand, not the main input */
    expect_same_file(mask, tu_path("x.png"), tu_path("m.png"), tu_path("m.png"));
    cr_assert_eq(link(tu_path("m.png"), tu_path("mlink.png")), 0);
    expect_same_file(mask, tu_path("x.png"), tu_path("mlink.png"), tu_path("m.png"));

    /* relative spellings of one file */
    char *cwd = getcwd(NULL, 0);
    cr_assert_eq(chdir(tu_dir), 0);
    hdm_pipeline *rel = pipeline_of((const char *[]){"mask:m.png"}, 1);
    expect_same_file(rel, "x.png", "./x.png", "x.png");
    expect_same_file(rel, "./x.png", "x.png", "x.png");
    cr_assert_eq(mkdir("sub", 0777), 0);
    expect_same_file(rel, "x.png", "sub/../x.png", "x.png");
    expect_same_file(rel, "x.png", "./m.png", "m.png");
    /* a different file is fine */
    hdm_error err = {0};
    cr_assert_eq(run(rel, "x.png", "./y.png", 0, &err), HDM_OK, "%s", err.message);
    cr_assert_eq(chdir(cwd), 0);
    free(cwd);
    hdm_pipeline_free(rel);
    hdm_pipeline_free(mask);
    hdm_pipeline_free(none);
    hdm_image_free(in);
    hdm_image_free(m);
}

/* With a feather, the threshold comes first: a ramp made binary and then blurred has a soft
 * edge, and equals blurring the binary mask made by hand. */
Test(run, threshold_then_feather_softens_a_binary_edge)
{
    for (int d = 0; d < 2; d++) {
        hdm_depth depth = d ? HDM_U16 : HDM_U8;
        uint32_t w = 64, h = 9, top = maxval(depth);
        hdm_image *in, *m, *mb;
        cr_assert_eq(hdm_image_new(w, h, 3, HDM_U8, &in), HDM_OK);
        cr_assert_eq(hdm_image_new(w, h, 1, depth, &m), HDM_OK);
        cr_assert_eq(hdm_image_new(w, h, 1, depth, &mb), HDM_OK);
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                for (uint32_t c = 0; c < 3; c++)
                    tu_set(in, c, x, y, 200);
                uint32_t v = x * top / (w - 1); /* a ramp from 0 to M */
                tu_set(m, 0, x, y, v);
                tu_set(mb, 0, x, y, v >= (top + 1) / 2 ? top : 0); /* T = 0.5 */
            }
        save(in, tu_path("in.png"));
        save(m, tu_path("ramp.png"));
        save(mb, tu_path("binary.png"));
        hdm_pipeline *p = pipeline_of((const char *[]){step("mask", "ramp.png",
                                                            ":threshold=0.5:feather=2")}, 1);
        hdm_pipeline *q = pipeline_of((const char *[]){step("mask", "binary.png",
                                                            ":feather=2")}, 1);
        hdm_error err = {0};
        cr_assert_eq(run(p, tu_path("in.png"), tu_path("a.png"), 0, &err), HDM_OK, "%s",
                     err.message);
        cr_assert_eq(run(q, tu_path("in.png"), tu_path("b.png"), 0, &err), HDM_OK, "%s",
                     err.message);
        hdm_image *a = load(tu_path("a.png")), *b = load(tu_path("b.png"));
        tu_assert_same(a, b, "threshold then feather = feather of the binary mask");
        /* soft: the edge has values strictly between 0 and the image's 200 (in the output's
         * depth, the deeper of the two), and both ends are reached */
        uint32_t full = d ? 200 * 257 : 200;
        int soft = 0;
        for (uint32_t x = 0; x < w; x++) {
            uint32_t v = tu_get(a, 0, x, h / 2);
            soft += v > 0 && v < full;
        }
        cr_assert_geq(soft, 6, "a soft edge (%d pixels between)", soft);
        cr_assert_eq(tu_get(a, 0, 0, h / 2), 0);
        cr_assert_eq(tu_get(a, 0, w - 1, h / 2), full);
        hdm_pipeline_free(p);
        hdm_pipeline_free(q);
        hdm_image *imgs[] = {in, m, mb, a, b};
        for (size_t i = 0; i < 5; i++)
            hdm_image_free(imgs[i]);
    }
}
