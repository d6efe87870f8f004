/* SPDX-License-Identifier: MIT */
/* image.c — planar images, the one overflow-checked size helper, limits */
#include "core/core.h"
#include "kernel/kernel.h"

#include <stdint.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

static bool depth_ok(hdm_depth d) { return d == HDM_U8 || d == HDM_U16 || d == HDM_F32; }

hdm_status hdm_size_bytes(uint32_t w, uint32_t h, uint32_t c, hdm_depth d, size_t *out)
{
    if (!out || !depth_ok(d))
        return HDM_ERR_ARG;
    size_t n = w;
    if ((h && n > SIZE_MAX / h) || (n *= h, c && n > SIZE_MAX / c) ||
        (n *= c, n > SIZE_MAX / (size_t)d))
        return HDM_ERR_LIMIT;
    *out = n * (size_t)d;
    return HDM_OK;
}

hdm_status hdm_image_new(uint32_t w, uint32_t h, uint32_t c, hdm_depth d, hdm_image **out)
{
    if (!out)
        return HDM_ERR_ARG;
    *out = NULL;
    if (!w || !h || c < 1 || c > HDM_MAX_CHANNELS || !depth_ok(d))
        return HDM_ERR_ARG;
    size_t bytes, stride;
    if (hdm_size_bytes(w, h, c, d, &bytes) || hdm_size_bytes(w, 1, 1, d, &stride))
        return HDM_ERR_LIMIT;
    hdm_image *img = calloc(1, sizeof *img);
    void *buf = calloc(1, bytes);
    if (!img || !buf) {
        free(img);
        free(buf);
        return HDM_ERR_NOMEM;
    }
    img->width = w;
    img->height = h;
    img->channels = c;
    img->depth = d;
    img->stride = stride;
    img->owned_ = buf;
    for (uint32_t i = 0; i < c; i++)
        img->plane[i] = (unsigned char *)buf + (size_t)i * stride * h;
    *out = img;
    return HDM_OK;
}

void hdm_image_free(hdm_image *img)
{
    if (!img)
        return;
    free(img->owned_);
    free(img);
}

/* A plane at p of h rows of w samples of depth d, stride bytes apart, is one the library can
 * address: the stride holds a row and keeps samples aligned, p is aligned, and the last row's
 * end neither overflows a size nor wraps past the end of the address space. */
static bool span_ok(const void *p, uint32_t w, uint32_t h, hdm_depth d, size_t stride)
{
    size_t row;
    if (hdm_size_bytes(w, 1, 1, d, &row) || stride < row || stride % d || (uintptr_t)p % d)
        return false;
    if (h > 1 && stride > (PTRDIFF_MAX - row) / (h - 1))
        return false;
    size_t span = stride * (h - 1) + row;
    return (uintptr_t)p <= UINTPTR_MAX - span;
}

hdm_status hdm_image_view(void *const *planes, uint32_t w, uint32_t h, uint32_t c, hdm_depth d,
                          size_t stride, hdm_image **out)
{
    if (!out)
        return HDM_ERR_ARG;
    *out = NULL;
    if (!planes || !w || !h || c < 1 || c > HDM_MAX_CHANNELS || !depth_ok(d))
        return HDM_ERR_ARG;
    for (uint32_t i = 0; i < c; i++)
        if (!planes[i] || !span_ok(planes[i], w, h, d, stride))
            return HDM_ERR_ARG;
    hdm_image *img = calloc(1, sizeof *img);
    if (!img)
        return HDM_ERR_NOMEM;
    *img = (hdm_image){.width = w, .height = h, .channels = c, .depth = d, .stride = stride};
    for (uint32_t i = 0; i < c; i++)
        img->plane[i] = planes[i];
    *out = img; /* owned_ stays NULL: hdm_image_free frees the view only */
    return HDM_OK;
}

hdm_status hdm__image_new(uint32_t w, uint32_t h, uint32_t c, hdm_depth d, hdm_image **out,
                          const char *path, hdm_error *err)
{
    hdm_status st = hdm_image_new(w, h, c, d, out);
    return st ? hdm__fail(err, st, path, "%s", hdm_strerror(st)) : HDM_OK;
}

hdm_status hdm__strip_reserve(hdm_image **strip, uint32_t width, uint32_t rows,
                              uint32_t channels, hdm_depth d, const char *path, hdm_error *err)
{
    if (*strip && (*strip)->height >= rows && (*strip)->width == width &&
        (*strip)->channels == channels && (*strip)->depth == d)
        return HDM_OK;
    hdm_image_free(*strip);
    *strip = NULL;
    return hdm__image_new(width, rows, channels, d, strip, path, err);
}

void hdm__copy_rows(hdm_image *dst, uint32_t dy, const hdm_image *src, uint32_t sy,
                    uint32_t rows)
{
    size_t bytes = (size_t)src->width * src->depth;
    for (uint32_t c = 0; c < src->channels; c++)
        for (uint32_t r = 0; r < rows; r++)
            memcpy(hdm_row(dst, c, dy + r), hdm_row(src, c, sy + r), bytes);
}

hdm_status hdm__check_size(const hdm_info *info, const hdm_options *opt, const char *path,
                           hdm_error *err)
{
    if (info->width == 0 || info->height == 0)
        return hdm__fail(err, HDM_ERR_CORRUPT, path, "image has zero width or height");
    if (info->width > opt->max_width)
        return hdm__fail(err, HDM_ERR_LIMIT, path,
                         "width %u exceeds the limit of %u (max_width)",
                         info->width, opt->max_width);
    if (info->height > opt->max_height)
        return hdm__fail(err, HDM_ERR_LIMIT, path,
                         "height %u exceeds the limit of %u (max_height)",
                         info->height, opt->max_height);
    uint64_t px = (uint64_t)info->width * info->height;
    if (px > opt->max_pixels)
        return hdm__fail(err, HDM_ERR_LIMIT, path,
                         "%ux%u is %llu pixels, above the limit of %llu "
                         "(max_pixels)",
                         info->width, info->height, (unsigned long long)px,
                         (unsigned long long)opt->max_pixels);
    return HDM_OK;
}

hdm_status hdm__check_limits(const hdm_info *info, const hdm_options *opt, const char *path,
                             hdm_error *err)
{
    hdm_status st = hdm__check_size(info, opt, path, err);
    if (st)
        return st;
    size_t bytes;
    if (hdm_size_bytes(info->width, info->height, info->channels, info->depth, &bytes))
        return hdm__fail(err, HDM_ERR_LIMIT, path,
                         "decoded image needs more bytes than a size holds, above the memory "
                         "limit of %llu (max_memory)", (unsigned long long)opt->max_memory);
    if (bytes > opt->max_memory)
        return hdm__fail(err, HDM_ERR_LIMIT, path,
                         "decoded image needs %llu bytes (%ux%u, %u channel%s of %u bits), above "
                         "the memory limit of %llu (max_memory)", (unsigned long long)bytes,
                         info->width, info->height, info->channels,
                         info->channels == 1 ? "" : "s", info->depth * 8,
                         (unsigned long long)opt->max_memory);
    return HDM_OK;
}

hdm_status hdm__check_held(uint64_t held, const hdm_options *opt, const char *path,
                           hdm_error *err)
{
    if (held <= opt->max_memory)
        return HDM_OK;
    return hdm__fail(err, HDM_ERR_LIMIT, path,
                     "this job needs about %llu bytes held at once, above the memory limit of "
                     "%llu (max_memory)", (unsigned long long)held,
                     (unsigned long long)opt->max_memory);
}

bool hdm__image_valid(const hdm_image *img)
{
    if (!img || !img->width || !img->height || img->channels < 1 ||
        img->channels > HDM_MAX_CHANNELS ||
        !(img->depth == HDM_U8 || img->depth == HDM_U16 || img->depth == HDM_F32) ||
        img->stride < (size_t)img->width * img->depth)
        return false;
    for (uint32_t c = 0; c < img->channels; c++)
        if (!img->plane[c] ||
            !span_ok(img->plane[c], img->width, img->height, img->depth, img->stride))
            return false;
    return true;
}

void hdm__convert_row(void *dst, hdm_depth dd, const void *src, hdm_depth sd, size_t n)
{
    const hdm__kernel *k = hdm__kern();
    if (dd == sd) {
        if (dst != src)
            memmove(dst, src, n * (size_t)dd);
    } else if (sd == HDM_U8 && dd == HDM_U16) {
        k->u8_to_u16(dst, src, n);
    } else if (sd == HDM_U16 && dd == HDM_U8) {
        k->u16_to_u8(dst, src, n);
    } else if (sd == HDM_U8 && dd == HDM_F32) {
        k->u8_to_f32(dst, src, n);
    } else if (sd == HDM_U16 && dd == HDM_F32) {
        k->u16_to_f32(dst, src, n);
    } else if (sd == HDM_F32 && dd == HDM_U8) {
        k->f32_to_u8(dst, src, n);
    } else if (sd == HDM_F32 && dd == HDM_U16) {
        k->f32_to_u16(dst, src, n);
    }
}

/* The planes' rows y as an array of T pointers, for the kernel's layout primitives. */
#define ROW_PLANES(T, pl, img, y)                                                               \
    T *pl[HDM_MAX_CHANNELS];                                                                    \
    for (uint32_t c_ = 0; c_ < (img)->channels; c_++)                                           \
        pl[c_] = hdm_row((img), c_, (y))

void hdm__row_to_planes(hdm_image *img, uint32_t y, const void *interleaved)
{
    const hdm__kernel *k = hdm__kern();
    if (img->depth == HDM_U8) {
        ROW_PLANES(uint8_t, pl, img, y);
        k->deinterleave_u8(pl, interleaved, img->channels, img->width);
    } else if (img->depth == HDM_U16) {
        ROW_PLANES(uint16_t, pl, img, y);
        k->deinterleave_u16(pl, interleaved, img->channels, img->width);
    } else if (img->depth == HDM_F32) {
        ROW_PLANES(float, pl, img, y);
        k->deinterleave_f32(pl, interleaved, img->channels, img->width);
    }
}

void hdm__row_from_planes(void *interleaved, const hdm_image *img, uint32_t y)
{
    const hdm__kernel *k = hdm__kern();
    if (img->depth == HDM_U8) {
        ROW_PLANES(const uint8_t, pl, img, y);
        k->interleave_u8(interleaved, pl, img->channels, img->width);
    } else if (img->depth == HDM_U16) {
        ROW_PLANES(const uint16_t, pl, img, y);
        k->interleave_u16(interleaved, pl, img->channels, img->width);
    } else if (img->depth == HDM_F32) {
        ROW_PLANES(const float, pl, img, y);
        k->interleave_f32(interleaved, pl, img->channels, img->width);
    }
}

#undef ROW_PLANES

/* Samples are read and written as their own type, so every row must start on a multiple of
 * the sample size. */
static bool aligned(const void *p, size_t stride, hdm_depth d)
{
    return (uintptr_t)p % (uintptr_t)d == 0 && stride % (size_t)d == 0;
}

hdm_status hdm_image_from_interleaved(const void *pixels, uint32_t width, uint32_t height,
                                      uint32_t channels, hdm_depth depth, size_t stride,
                                      hdm_image **out)
{
    size_t row;
    if (out)
        *out = NULL;
    if (!out || !pixels || !depth_ok(depth) || hdm_size_bytes(width, 1, channels, depth, &row) ||
        stride < row || !aligned(pixels, stride, depth))
        return HDM_ERR_ARG;
    hdm_status st = hdm_image_new(width, height, channels, depth, out);
    if (st)
        return st;
    for (uint32_t y = 0; y < height; y++)
        hdm__row_to_planes(*out, y, (const unsigned char *)pixels + (size_t)y * stride);
    return HDM_OK;
}

hdm_status hdm_image_to_interleaved(const hdm_image *img, void *pixels, size_t stride)
{
    size_t row;
    if (!hdm__image_valid(img) || !pixels ||
        hdm_size_bytes(img->width, 1, img->channels, img->depth, &row) || stride < row ||
        !aligned(pixels, stride, img->depth))
        return HDM_ERR_ARG;
    for (uint32_t y = 0; y < img->height; y++)
        hdm__row_from_planes((unsigned char *)pixels + (size_t)y * stride, img, y);
    return HDM_OK;
}
