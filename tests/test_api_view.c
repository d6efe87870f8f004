/* SPDX-License-Identifier: MIT */
/* test_api_view.c — hdm_image_view over the caller's planes: padded rows read right by the ops
 * and the encoders, the caller's memory never written or freed, bad arguments refused */
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

TestSuite(view, .init = tu_setup, .fini = tu_teardown);

enum { W = 37, H = 23, PAD = 11 }; /* odd sizes: rows that no SIMD width divides */

/* The caller's samples: `channels` planes in one malloc'd block, rows of W samples `stride`
 * bytes apart, the padding filled with a pattern that must stay. */
typedef struct planes {
    unsigned char *block;
    void *plane[4];
    size_t stride, plane_bytes;
    uint32_t channels;
    hdm_depth depth;
} planes;

static void planes_make(planes *p, uint32_t channels, hdm_depth depth, tu_rng *r)
{
    p->channels = channels;
    p->depth = depth;
    p->stride = (size_t)W * depth + PAD * (size_t)depth; /* longer than a row, still aligned */
    p->plane_bytes = p->stride * H;
    p->block = malloc(p->plane_bytes * channels);
    cr_assert_not_null(p->block);
    memset(p->block, 0xa5, p->plane_bytes * channels);
    for (uint32_t c = 0; c < channels; c++) {
        p->plane[c] = p->block + c * p->plane_bytes;
        for (uint32_t y = 0; y < H; y++) {
            unsigned char *row = (unsigned char *)p->plane[c] + y * p->stride;
            for (uint32_t x = 0; x < W; x++) {
                uint32_t v = (uint32_t)tu_next(r);
                if (depth == HDM_U8)
                    row[x] = (uint8_t)v;
                else if (depth == HDM_U16)
                    ((uint16_t *)row)[x] = (uint16_t)v;
                else
                    ((float *)row)[x] = (float)(v >> 8) / (float)(1u << 24);
            }
        }
    }
}

/* A fresh, owned image with the same samples (hdm_image_new, copied row by row). */
static hdm_image *owned_copy(const planes *p)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(W, H, p->channels, p->depth, &img), HDM_OK);
    for (uint32_t c = 0; c < p->channels; c++)
        for (uint32_t y = 0; y < H; y++)
            memcpy(hdm_row(img, c, y), (unsigned char *)p->plane[c] + y * p->stride,
                   (size_t)W * p->depth);
    return img;
}

Test(view, shares_the_callers_samples)
{
    tu_rng r;
    tu_seed(&r, 1);
    planes p;
    planes_make(&p, 3, HDM_U16, &r);
    hdm_image *v;
    cr_assert_eq(hdm_image_view(p.plane, W, H, 3, HDM_U16, p.stride, &v), HDM_OK);
    cr_assert(v->width == W && v->height == H && v->channels == 3 && v->depth == HDM_U16);
    cr_assert_eq(v->stride, p.stride);
    for (uint32_t c = 0; c < 3; c++)
        cr_assert_eq(v->plane[c], p.plane[c], "plane %u is the caller's, not a copy", c);
    cr_assert_null(v->plane[3]);
    cr_assert_null(v->owned_, "a view owns nothing");
    hdm_image_free(v); /* under ASan a free of the caller's block would be reported here */
    /* the caller's memory is still whole and its own: written, then freed once, by the caller */
    memset(p.block, 0, p.plane_bytes * 3);
    free(p.block);
}

/* hdm_mul with a padded view as either operand gives what the same samples in an owned image
 * give; the caller's planes, padding included, are unchanged. */
Test(view, as_input_of_hdm_mul)
{
    hdm_depth depths[] = {HDM_U8, HDM_U16, HDM_F32};
    for (int i = 0; i < 3; i++) {
        tu_rng r;
        tu_seed(&r, 100 + (uint64_t)i);
        planes p;
        planes_make(&p, 4, depths[i], &r);
        unsigned char *before = malloc(p.plane_bytes * 4);
        cr_assert_not_null(before);
        memcpy(before, p.block, p.plane_bytes * 4);
        hdm_image *v, *ref = owned_copy(&p);
        cr_assert_eq(hdm_image_view(p.plane, W, H, 4, depths[i], p.stride, &v), HDM_OK);
        hdm_image *b = tu_image_random(W, H, 4, depths[i], &r);
        hdm_image *got, *want, *got2;
        hdm_error err;
        cr_assert_eq(hdm_mul(v, b, NULL, &got, &err), HDM_OK, "%s", err.message);
        cr_assert_eq(hdm_mul(b, v, NULL, &got2, &err), HDM_OK, "%s", err.message);
        cr_assert_eq(hdm_mul(ref, b, NULL, &want, &err), HDM_OK, "%s", err.message);
        tu_assert_same(got, want, "mul of a view, view first");
        tu_assert_same(got2, want, "mul of a view, view second");
        cr_assert(got->owned_ && got->plane[0] != p.plane[0], "the result is a new image");
        cr_assert(memcmp(before, p.block, p.plane_bytes * 4) == 0,
                  "the caller's planes were written (depth %d)", depths[i]);
        hdm_image_free(got);
        hdm_image_free(got2);
        hdm_image_free(want);
        hdm_image_free(b);
        hdm_image_free(ref);
        hdm_image_free(v);
        free(before);
        free(p.block);
    }
}

/* hdm_save of a padded view writes the view's samples only (libpng decodes them, one by one),
 * not its padding. */
Test(view, as_input_of_hdm_save)
{
    hdm_depth depths[] = {HDM_U8, HDM_U16};
    for (int i = 0; i < 2; i++) {
        tu_rng r;
        tu_seed(&r, 200 + (uint64_t)i);
        planes p;
        planes_make(&p, 2, depths[i], &r);
        hdm_image *v;
        cr_assert_eq(hdm_image_view(p.plane, W, H, 2, depths[i], p.stride, &v), HDM_OK);
        const char *path = tu_path(i ? "v16.png" : "v8.png");
        hdm_error err;
        cr_assert_eq(hdm_save(v, path, NULL, &err), HDM_OK, "%s", err.message);
        size_t n;
        void *png = tu_read_file(path, &n);
        tu_decoded d;
        cr_assert(tu_png_decode(png, n, &d), "libpng reads the saved view");
        cr_assert(d.width == W && d.height == H && d.channels == 2 && d.depth == depths[i]);
        for (uint32_t y = 0; y < H; y++)
            for (uint32_t x = 0; x < W; x++)
                for (uint32_t c = 0; c < 2; c++) {
                    size_t k = ((size_t)y * W + x) * 2 + c;
                    uint32_t got = depths[i] == HDM_U8 ? ((uint8_t *)d.pix)[k]
                                                        : ((uint16_t *)d.pix)[k];
                    cr_assert_eq(got, tu_get(v, c, x, y), "sample (%u, %u, %u), depth %d", x, y,
                                 c, depths[i]);
                }
        tu_decoded_free(&d);
        free(png);
        hdm_image_free(v);
        free(p.block);
    }
}

static hdm_status view_of(void *p0, uint32_t channels, hdm_depth d, size_t stride,
                          hdm_image **out)
{
    void *pl[4] = {p0, p0, p0, p0};
    return hdm_image_view(pl, W, H, channels, d, stride, out);
}

#define REFUSED(call, what)                                                                    \
    do {                                                                                       \
        hdm_image *v_ = NULL;                                                                  \
        hdm_status st_ = (call);                                                               \
        (void)v_;                                                                              \
        cr_assert_eq(st_, HDM_ERR_ARG, "%s: %s, not HDM_ERR_ARG", what, hdm_strerror(st_));    \
    } while (0)

Test(view, bad_arguments_refused)
{
    static _Alignas(16) unsigned char mem[64 * 1024];
    hdm_image *v;
    /* each case next to one that is accepted, so only the named argument is wrong */
    cr_assert_eq(view_of(mem, 3, HDM_U8, W, &v), HDM_OK);
    hdm_image_free(v);
    void *with_null[4] = {mem, NULL, mem, NULL};
    REFUSED(hdm_image_view(with_null, W, H, 3, HDM_U8, W, &v_), "a NULL plane");
    REFUSED(hdm_image_view(NULL, W, H, 3, HDM_U8, W, &v_), "no planes");
    REFUSED(view_of(mem, 3, HDM_U8, W, NULL), "a NULL out");
    void *pl[4] = {mem, mem, mem, mem};
    REFUSED(hdm_image_view(pl, 0, H, 1, HDM_U8, W, &v_), "width 0");
    REFUSED(hdm_image_view(pl, W, 0, 1, HDM_U8, W, &v_), "height 0");
    REFUSED(view_of(mem, 0, HDM_U8, W, &v_), "0 channels");
    REFUSED(view_of(mem, 5, HDM_U8, W, &v_), "5 channels");
    REFUSED(view_of(mem, 1, (hdm_depth)3, 3 * W, &v_), "depth 3");
    REFUSED(view_of(mem, 1, HDM_U8, W - 1, &v_), "u8 stride shorter than a row");
    REFUSED(view_of(mem, 1, HDM_U8, 0, &v_), "stride 0");

    cr_assert_eq(view_of(mem, 2, HDM_U16, 2 * W + 2, &v), HDM_OK);
    hdm_image_free(v);
    REFUSED(view_of(mem, 2, HDM_U16, 2 * W - 2, &v_), "u16 stride shorter than a row");
    REFUSED(view_of(mem, 2, HDM_U16, 2 * W + 1, &v_), "u16 stride not a multiple of 2");
    REFUSED(view_of(mem + 1, 2, HDM_U16, 2 * W, &v_), "u16 plane not 2-aligned");
    void *second_odd[4] = {mem, mem + 1};
    REFUSED(hdm_image_view(second_odd, W, H, 2, HDM_U16, 2 * W, &v_), "u16 second plane odd");

    cr_assert_eq(view_of(mem, 4, HDM_F32, 4 * W + 4, &v), HDM_OK);
    hdm_image_free(v);
    REFUSED(view_of(mem, 4, HDM_F32, 4 * W - 4, &v_), "f32 stride shorter than a row");
    REFUSED(view_of(mem, 4, HDM_F32, 4 * W + 2, &v_), "f32 stride not a multiple of 4");
    REFUSED(view_of(mem + 2, 4, HDM_F32, 4 * W, &v_), "f32 plane 2-aligned only");
    void *last_odd[4] = {mem, mem, mem, mem + 6};
    REFUSED(hdm_image_view(last_odd, W, H, 4, HDM_F32, 4 * W, &v_), "f32 last plane misaligned");

    /* strides whose last row lies beyond any address: refused, never walked */
    REFUSED(view_of(mem, 1, HDM_U8, SIZE_MAX / 2 + 1, &v_), "stride past SIZE_MAX over the rows");
    REFUSED(view_of(mem, 1, HDM_U8, SIZE_MAX, &v_), "stride SIZE_MAX");
    REFUSED(view_of(mem, 1, HDM_U8, (size_t)PTRDIFF_MAX / 2, &v_), "rows past PTRDIFF_MAX");
    void *top[4] = {(void *)(UINTPTR_MAX - 63)};
    REFUSED(hdm_image_view(top, W, H, 1, HDM_U8, W, &v_), "a plane wrapping the address space");
}

/* An image a caller builds by hand is held to the same rules: an hdm_mul refuses a misaligned
 * u16 stride or a stride that runs past the address space, rather than reading there. */
Test(view, hand_built_images_are_checked_alike)
{
    static _Alignas(16) uint16_t mem[4096];
    hdm_image ok = {.width = 8, .height = 4, .channels = 1, .depth = HDM_U16, .stride = 16,
                    .plane = {mem}};
    hdm_image *out = NULL;
    hdm_error e = {0};
    cr_assert_eq(hdm_mul(&ok, &ok, NULL, &out, &e), HDM_OK, "%s", e.message);
    hdm_image_free(out);
    hdm_image odd = ok;
    odd.stride = 17;
    cr_assert_eq(hdm_mul(&odd, &ok, NULL, &out, &e), HDM_ERR_ARG);
    cr_assert_null(out);
    hdm_image far = ok;
    far.stride = SIZE_MAX / 2 + 2;
    cr_assert_eq(hdm_mul(&ok, &far, NULL, &out, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "invalid image"), "%s", e.message);
}
