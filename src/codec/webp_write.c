/* SPDX-License-Identifier: MIT */
/* webp_write.c — WebP output through libwebp, the image gathered whole and encoded at the end */
#include "codec/webp.h"

#include <stdlib.h>
#include <string.h>
#include <webp/encode.h>

/* libwebp encodes a whole picture (encode.h, WebPEncode): the rows are gathered into its ARGB
 * picture as they come, 4 bytes a pixel, and encoded at finish, its bytes going straight to
 * the output through a writer callback. That picture and what the encoder builds beside it are
 * the sink's held memory, counted against max_memory. Lossy output is at jpeg_quality; lossless
 * (webp_lossless) keeps every sample, the colours under fully transparent pixels too (exact),
 * so a file reads back as it was written. Lossy keeps alpha losslessly too (libwebp's default
 * alpha_quality 100 with lossless alpha compression). */

/* What libwebp holds beside the ARGB picture, in bytes a pixel, from the peak resident size of
 * 12 MP encodes (libwebp 1.2.4, a smooth image and noise, the worst): lossy converts to YUV
 * with alpha (2.5) and keeps every token of the image until it writes them (up to 31 for
 * noise at quality 90); lossless keeps a transformed copy, hash chains and backward
 * references (24 for either). */
enum { LOSSY_EXTRA = 32, LOSSLESS_EXTRA = 26 };

typedef struct webp_enc {
    hdm__sink base;
    WebPConfig cfg;
    WebPPicture pic;
    hdm__bytes *bytes;
    const volatile int *cancel;
    uint32_t y; /* the next row of pic to fill */
} webp_enc;

/* Packs strip row y into ARGB words (encode.h: WebPPicture.argb, 0xAARRGGBB), gray expanded. */
static void pack_row(uint32_t *d, const hdm_image *strip, uint32_t y)
{
    uint32_t w = strip->width, ch = strip->channels;
    bool alpha = ch == 2 || ch == 4;
    const unsigned char *r = hdm_row(strip, 0, y);
    const unsigned char *g = ch >= 3 ? hdm_row(strip, 1, y) : r;
    const unsigned char *b = ch >= 3 ? hdm_row(strip, 2, y) : r;
    const unsigned char *a = alpha ? hdm_row(strip, ch - 1, y) : NULL;
    for (uint32_t x = 0; x < w; x++)
        d[x] = (uint32_t)(a ? a[x] : 255) << 24 | (uint32_t)r[x] << 16 | (uint32_t)g[x] << 8 | b[x];
}

static hdm_status enc_write(hdm__sink *s, const hdm_image *strip, uint32_t rows, hdm_error *err)
{
    (void)err;
    webp_enc *k = (webp_enc *)s;
    for (uint32_t y = 0; y < rows; y++, k->y++)
        pack_row(k->pic.argb + (size_t)k->y * k->pic.argb_stride, strip, y);
    return HDM_OK;
}

static int put(const uint8_t *data, size_t size, const WebPPicture *pic)
{
    webp_enc *k = pic->custom_ptr;
    hdm__bytes_put(k->bytes, data, size);
    return !k->bytes->failed;
}

/* Called as the encode goes (encode.h, WebPProgressHook): 0 stops it. */
static int progress(int percent, const WebPPicture *pic)
{
    (void)percent;
    const webp_enc *k = pic->custom_ptr;
    return !(k->cancel && *k->cancel);
}

static hdm_status enc_finish(hdm__sink *s, hdm_error *err)
{
    webp_enc *k = (webp_enc *)s;
    if (WebPEncode(&k->cfg, &k->pic))
        return k->bytes->failed ? hdm__fail(err, HDM_ERR_IO, k->base.path, "cannot write WebP: %s",
                                            hdm__bytes_error(k->bytes))
                                : HDM_OK;
    switch (k->pic.error_code) {
    case VP8_ENC_ERROR_OUT_OF_MEMORY:
    case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY:
        return hdm__fail(err, HDM_ERR_NOMEM, k->base.path, "out of memory encoding WebP");
    case VP8_ENC_ERROR_USER_ABORT:
        return hdm__fail(err, HDM_ERR_INTERRUPTED, k->base.path, "interrupted");
    case VP8_ENC_ERROR_BAD_WRITE:
        return hdm__fail(err, HDM_ERR_IO, k->base.path, "cannot write WebP: %s",
                         hdm__bytes_error(k->bytes));
    case VP8_ENC_ERROR_FILE_TOO_BIG:
        return hdm__fail(err, HDM_ERR_LIMIT, k->base.path,
                         "cannot write WebP: the file would pass 4 GiB");
    default:
        return hdm__fail(err, HDM_ERR_IO, k->base.path, "cannot write WebP: libwebp error %d",
                         (int)k->pic.error_code);
    }
}

static void enc_close(hdm__sink *s)
{
    webp_enc *k = (webp_enc *)s;
    WebPPictureFree(&k->pic);
    free(k);
}

hdm_status hdm__webp_sink(const hdm__codec *c, const hdm_info *info, const hdm_options *opt,
                          const hdm__meta *meta, hdm__bytes *b, const char *path,
                          hdm__sink **out, hdm_error *err)
{
    (void)meta;
    (void)c;
    if (info->width > WEBP_MAX_DIMENSION || info->height > WEBP_MAX_DIMENSION)
        return hdm__fail(err, HDM_ERR_LIMIT, path, "%ux%u is too large for WebP (at most "
                         "%ux%u)", info->width, info->height, (unsigned)WEBP_MAX_DIMENSION,
                         (unsigned)WEBP_MAX_DIMENSION);
    bool lossless = opt->webp_lossless != 0;
    uint64_t px = (uint64_t)info->width * info->height;
    uint64_t need = px * (4 + (lossless ? LOSSLESS_EXTRA : LOSSY_EXTRA));
    if (need > opt->max_memory)
        return hdm__fail(err, HDM_ERR_LIMIT, path,
                         "encoding needs about %llu bytes (libwebp encodes the whole image at "
                         "once), above the memory limit of %llu (max_memory)",
                         (unsigned long long)need, (unsigned long long)opt->max_memory);
    webp_enc *k = calloc(1, sizeof *k);
    if (!k)
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    if (!WebPConfigInit(&k->cfg) || !WebPPictureInit(&k->pic)) {
        free(k);
        return hdm__fail(err, HDM_ERR_IO, path, "libwebp is not the version built against");
    }
    if (lossless) {
        k->cfg.lossless = 1;
        k->cfg.exact = 1; /* keep the colours of transparent pixels */
    } else {
        k->cfg.quality = (float)opt->jpeg_quality;
    }
    k->pic.use_argb = 1;
    k->pic.width = (int)info->width;
    k->pic.height = (int)info->height;
    if (!WebPPictureAlloc(&k->pic)) {
        free(k);
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    }
    k->pic.writer = put;
    k->pic.custom_ptr = k;
    k->pic.progress_hook = progress;
    k->cancel = opt->cancel;
    k->bytes = b;
    k->base.info = *info;
    k->base.path = path;
    k->base.write = enc_write;
    k->base.finish = enc_finish;
    k->base.close = enc_close;
    k->base.held = need;
    *out = &k->base;
    return HDM_OK;
}
