/* SPDX-License-Identifier: MIT */
/* webp_write.c — WebP output through libwebp, the image gathered whole and encoded at the end */
#include "codec/metadata.h"
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
 * alpha_quality 100 with lossless alpha compression).
 * Metadata makes it an extended file (RFC 9649, 2.7): libwebp's bytes pass through a filter
 * that reads its RIFF header and first chunk (VP8X for lossy alpha, VP8L, or VP8), puts a RIFF
 * header of the new size, our VP8X (canvas, alpha as libwebp had it, ICC, EXIF, XMP) and the
 * ICCP chunk before the image chunks, and the EXIF and "XMP " chunks after them at finish. So
 * nothing of the encoded image is held. Resolution and PNG's colour chunks have no place in
 * WebP, nor a profile of another colour space than RGB (WebP's pixels are RGB, gray written
 * as RGB too): each is left out with a notice. */

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
    hdm__meta meta;         /* ICC, EXIF and XMP copied: an extended file when one is there */
    bool extended;
    unsigned char head[32]; /* libwebp's first bytes, until its first chunk is known */
    size_t head_len;
    bool head_done, too_big;
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

static void put_le(unsigned char *d, uint32_t v, int n)
{
    for (int i = 0; i < n; i++)
        d[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* A chunk's bytes in the file: header, payload, pad to even. */
static uint64_t chunk_bytes(size_t n)
{
    return n ? 8 + (uint64_t)n + (n & 1) : 0;
}

static void put_chunk(hdm__bytes *b, const char *fourcc, const unsigned char *data, size_t n)
{
    if (!n)
        return;
    unsigned char h[8];
    memcpy(h, fourcc, 4);
    put_le(h + 4, (uint32_t)n, 4);
    hdm__bytes_put(b, h, 8);
    hdm__bytes_put(b, data, n);
    if (n & 1)
        hdm__bytes_put(b, "", 1);
}

/* libwebp's header is complete once its RIFF header and its first chunk's header are there,
 * with VP8X's payload, or VP8L's first 5 bytes (the alpha bit); 0 until the first chunk is
 * known. */
static size_t head_need(const webp_enc *k)
{
    if (k->head_len < 20)
        return 20;
    const unsigned char *c = k->head + 12;
    return !memcmp(c, "VP8X", 4) ? 30 : !memcmp(c, "VP8L", 4) ? 25 : 20;
}

/* Puts our RIFF header, VP8X and ICCP in place of libwebp's RIFF header (and VP8X), then the
 * rest of what it gave. */
static bool put_head(webp_enc *k)
{
    const unsigned char *h = k->head;
    if (memcmp(h, "RIFF", 4) || memcmp(h + 8, "WEBP", 4))
        return false;
    uint64_t riff = get_le32(h + 4), skip = 12;
    bool alpha = false;
    if (!memcmp(h + 12, "VP8X", 4)) {
        alpha = h[20] & 0x10;
        skip = 30;
    } else if (!memcmp(h + 12, "VP8L", 4)) {
        alpha = get_le32(h + 21) >> 28 & 1; /* RFC 9649, 3.2: alpha_is_used */
    }
    if (riff + 8 < skip)
        return false;
    const hdm__meta *m = &k->meta;
    uint64_t body = riff + 8 - skip; /* libwebp's image chunks */
    uint64_t size = 4 + 18 + chunk_bytes(m->icc_size) + body + chunk_bytes(m->exif_size) +
                    chunk_bytes(m->xmp_size);
    if (size > UINT32_MAX - 1) {
        k->too_big = true;
        return false;
    }
    unsigned char out[30];
    memcpy(out, "RIFF", 4);
    put_le(out + 4, (uint32_t)size, 4);
    memcpy(out + 8, "WEBPVP8X", 8);
    put_le(out + 16, 10, 4);
    out[20] = (unsigned char)((m->icc_size ? 0x20 : 0) | (alpha ? 0x10 : 0) |
                              (m->exif_size ? 0x08 : 0) | (m->xmp_size ? 0x04 : 0));
    out[21] = out[22] = out[23] = 0;
    put_le(out + 24, (uint32_t)k->pic.width - 1, 3);
    put_le(out + 27, (uint32_t)k->pic.height - 1, 3);
    hdm__bytes_put(k->bytes, out, 30);
    put_chunk(k->bytes, "ICCP", m->icc, m->icc_size);
    hdm__bytes_put(k->bytes, k->head + skip, k->head_len - skip);
    return true;
}

static int put(const uint8_t *data, size_t size, const WebPPicture *pic)
{
    webp_enc *k = pic->custom_ptr;
    while (k->extended && !k->head_done && size) {
        size_t need = head_need(k), take = need - k->head_len;
        take = take < size ? take : size;
        memcpy(k->head + k->head_len, data, take);
        k->head_len += take, data += take, size -= take;
        if (k->head_len == head_need(k)) {
            if (!put_head(k))
                return 0;
            k->head_done = true;
        }
    }
    if (size)
        hdm__bytes_put(k->bytes, data, size);
    return !k->bytes->failed;
}

/* Called as the encode goes (encode.h, WebPProgressHook): 0 stops it. */
static int progress(int percent, const WebPPicture *pic)
{
    (void)percent;
    const webp_enc *k = pic->custom_ptr;
    return !hdm__cancelled(k->cancel);
}

static hdm_status enc_finish(hdm__sink *s, hdm_error *err)
{
    webp_enc *k = (webp_enc *)s;
    if (WebPEncode(&k->cfg, &k->pic)) {
        if (k->extended && !k->head_done)
            return hdm__fail(err, HDM_ERR_IO, k->base.path, "cannot write WebP: libwebp's "
                             "output is not a RIFF file");
        if (k->extended) {
            put_chunk(k->bytes, "EXIF", k->meta.exif, k->meta.exif_size);
            put_chunk(k->bytes, "XMP ", k->meta.xmp, k->meta.xmp_size);
        }
        return k->bytes->failed ? hdm__fail(err, HDM_ERR_IO, k->base.path, "cannot write WebP: %s",
                                            hdm__bytes_error(k->bytes))
                                : HDM_OK;
    }
    if (k->too_big)
        return hdm__fail(err, HDM_ERR_LIMIT, k->base.path,
                         "cannot write WebP: with its metadata the file would pass 4 GiB");
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
    hdm__meta_free(&k->meta);
    free(k);
}

/* Whether m's profile describes WebP's pixels: they are RGB, gray written as RGB too. */
static bool icc_fits(const hdm__meta *m)
{
    return hdm__icc_fits(m->icc, m->icc_size, 3);
}

/* The parts WebP holds, copied (the caller's view lasts only for the call), the ICC profile
 * when icc (it is sound and fits); EXIF's Orientation set to the pixels' own when the source
 * says it. */
static bool copy_meta(hdm__meta *to, const hdm__meta *m, bool icc)
{
    if ((icc && !hdm__meta_set(&to->icc, &to->icc_size, m->icc, m->icc_size)) ||
        !hdm__meta_set(&to->exif, &to->exif_size, m->exif, m->exif_size) ||
        !hdm__meta_set(&to->xmp, &to->xmp_size, m->xmp, m->xmp_size))
        return false;
    if (m->orientation)
        hdm__exif_set_orientation(to->exif, to->exif_size, m->orientation);
    return true;
}

/* A notice for each part WebP cannot hold: a (sound) profile of another colour space than
 * RGB, resolution, PNG's colour chunks. */
static void left_out(const hdm__meta *m, bool sound, const hdm_info *info,
                     const hdm_options *opt, const char *path)
{
    if (sound && !icc_fits(m))
        hdm__notice(opt, path, info->channels <= 2
                        ? "ICC profile left out (not an RGB profile, and WebP writes gray as RGB)"
                        : "ICC profile left out (not an RGB profile, and the image is RGB)");
    if (m->res_x > 0)
        hdm__notice(opt, path, "resolution left out (WebP holds none)");
    if (m->srgb_intent || m->gamma || m->has_chrm)
        hdm__notice(opt, path, "sRGB, gAMA and cHRM left out (WebP holds none of them)");
    hdm__xmp_extension_left_out(opt, path, m, "WebP");
}

hdm_status hdm__webp_sink(const hdm__codec *c, const hdm_info *info, const hdm_options *opt,
                          const hdm__meta *meta, hdm__bytes *b, const char *path,
                          hdm__sink **out, hdm_error *err)
{
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
    bool sound = hdm__icc_sound(opt, path, meta);
    if (!WebPPictureAlloc(&k->pic) || !copy_meta(&k->meta, meta, sound && icc_fits(meta))) {
        enc_close(&k->base);
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    }
    k->extended = k->meta.icc_size || k->meta.exif_size || k->meta.xmp_size;
    left_out(meta, sound, info, opt, path);
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
