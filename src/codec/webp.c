/* SPDX-License-Identifier: MIT */
/* webp.c — WebP input through libwebp, fed as it is read (output: webp_write.c) */
#include "codec/codec.h"
#include "codec/metadata.h"
#include "codec/webp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <webp/decode.h>
#include <webp/demux.h>

/* A still image goes through libwebp's incremental decoder (decode.h, WebPIDecoder): the file
 * is read in pieces and appended until the rows a strip needs are out. libwebp writes into one
 * buffer of the whole image, ours (WebPINewRGB), so that buffer is the one copy of the decoded
 * image, and strips are cut from it: it is the source's held memory, with the encoded bytes
 * read so far (at most the file), which libwebp reads in place. An animation gives its first frame,
 * composed on its canvas by libwebpdemux's animation decoder, which needs the whole file and
 * holds two canvases (the frame, and the one before it for the next frame's disposal).
 * Metadata comes from the chunks of an extended file (RFC 9649, 2.7: VP8X, then ICCP before
 * the image, EXIF and "XMP " after it), walked by their headers before the pixels are decoded:
 * from a file by seeking to each, so only the metadata's own bytes are read twice. */

enum {
    CHUNK = 64 << 10,   /* bytes read from the file at a time */
    HEAD_MAX = 1 << 20, /* the header must be in this many bytes */
};

typedef struct webp_source {
    hdm__source base;
    FILE *f;                   /* NULL: data holds the whole file */
    const unsigned char *data; /* the whole file (borrowed, or file for an animation) */
    size_t size;
    unsigned char *head;       /* a file's first bytes, read for the header, not yet decoded */
    size_t head_len, head_cap;
    uint64_t riff_size;        /* the whole file, as its RIFF header says */
    uint64_t have;             /* the bytes there are: the file's size or the buffer's; 0 when
                                * not known (a stream) */
    bool animated, has_alpha;
    WebPIDecoder *idec;
    WebPAnimDecoder *anim;
    unsigned char *file;       /* an animation read from a file, whole; a still's bytes so far */
    size_t file_len, file_cap;
    unsigned char *pix;        /* the decoded image: ours (still) or the animation decoder's */
    size_t stride;
    uint32_t ready;            /* rows of pix decoded so far */
    uint64_t fed;              /* bytes of the file given to libwebp so far */
    char *path;
    unsigned char chunk[CHUNK];
} webp_source;

static void webp_source_close(hdm__source *s)
{
    webp_source *p = (webp_source *)s;
    hdm__meta_free(&p->base.meta);
    if (p->idec)
        WebPIDelete(p->idec);
    if (p->anim)
        WebPAnimDecoderDelete(p->anim);
    else
        free(p->pix);
    if (p->f)
        fclose(p->f);
    free(p->file);
    free(p->head);
    free(p->path);
    free(p);
}

/* libwebp's VP8StatusCode (decode.h) in words. */
static hdm_status webp_failed(const char *path, int code, hdm_error *err)
{
    switch ((VP8StatusCode)code) {
    case VP8_STATUS_OUT_OF_MEMORY:
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory decoding WebP");
    case VP8_STATUS_NOT_ENOUGH_DATA:
    case VP8_STATUS_SUSPENDED:
        return hdm__fail(err, HDM_ERR_CORRUPT, path, "truncated WebP: the data ends early");
    case VP8_STATUS_UNSUPPORTED_FEATURE:
        return hdm__fail(err, HDM_ERR_CORRUPT, path,
                         "corrupt WebP: a feature libwebp does not decode");
    case VP8_STATUS_INVALID_PARAM:
        return hdm__fail(err, HDM_ERR_CORRUPT, path, "corrupt WebP: invalid header");
    case VP8_STATUS_USER_ABORT:
        return hdm__fail(err, HDM_ERR_INTERRUPTED, path, "interrupted");
    default:
        return hdm__fail(err, HDM_ERR_CORRUPT, path, "corrupt WebP: bad bitstream");
    }
}

static hdm_status read_failed(webp_source *p, hdm_error *err)
{
    return hdm__fail(err, HDM_ERR_IO, p->path, "read failed: %s", strerror(errno));
}

/* libwebp refuses a VP8X canvas of 2^32 pixels or more as a bitstream error (its
 * MAX_IMAGE_AREA): our limits, which a caller can raise, are named first when the canvas is
 * above them too. The canvas is 1 + a 24-bit field each way (RFC 9649, 2.7). */
static hdm_status vp8x_limits(webp_source *p, const unsigned char *h, size_t n,
                              const hdm_options *opt, hdm_error *err)
{
    if (n < 30 || memcmp(h + 12, "VP8X", 4) != 0)
        return HDM_OK;
    hdm_info info = {1 + ((uint32_t)h[24] | (uint32_t)h[25] << 8 | (uint32_t)h[26] << 16),
                     1 + ((uint32_t)h[27] | (uint32_t)h[28] << 8 | (uint32_t)h[29] << 16), 4,
                     HDM_U8, HDM_FORMAT_WEBP};
    return hdm__check_size(&info, opt, p->path, err);
}

/* The bytes there are: the buffer's size, or the file's (a regular file, or one in memory,
 * which seeks); 0 when not known (a pipe). */
static uint64_t file_size(webp_source *p)
{
    if (!p->f || p->have)
        return p->f ? p->have : p->size;
    off_t keep = ftello(p->f), end = -1;
    if (keep >= 0 && fseeko(p->f, 0, SEEK_END) == 0)
        end = ftello(p->f);
    if (keep >= 0)
        fseeko(p->f, keep, SEEK_SET);
    return end > 0 ? (uint64_t)end : 0;
}

/* Reads the header, from a file piece by piece until libwebp has what it needs (a RIFF header
 * and the VP8X chunk or the first frame's), and fills base.info from it. */
static hdm_status read_header(webp_source *p, const hdm_options *opt, WebPBitstreamFeatures *ft,
                              hdm_error *err)
{
    VP8StatusCode st;
    if (!p->f) {
        st = WebPGetFeatures(p->data, p->size, ft);
    } else {
        for (;;) {
            if (p->head_len == p->head_cap) {
                size_t cap = p->head_cap ? p->head_cap * 2 : 4096;
                unsigned char *h = cap <= HEAD_MAX ? realloc(p->head, cap) : NULL;
                if (!h)
                    return cap <= HEAD_MAX ? hdm__fail(err, HDM_ERR_NOMEM, p->path, "out of memory")
                                           : hdm__fail(err, HDM_ERR_CORRUPT, p->path,
                                                       "corrupt WebP: no image header in its "
                                                       "first %d bytes", HEAD_MAX);
                p->head = h, p->head_cap = cap;
            }
            size_t n = fread(p->head + p->head_len, 1, p->head_cap - p->head_len, p->f);
            if (n == 0 && ferror(p->f))
                return read_failed(p, err);
            p->head_len += n;
            st = WebPGetFeatures(p->head, p->head_len, ft);
            if (st != VP8_STATUS_NOT_ENOUGH_DATA || n == 0)
                break;
        }
    }
    const unsigned char *h = p->f ? p->head : p->data;
    if (st != VP8_STATUS_OK) {
        hdm_status limit = vp8x_limits(p, h, p->f ? p->head_len : p->size, opt, err);
        return limit ? limit : webp_failed(p->path, st, err);
    }
    p->riff_size = 8 + ((uint64_t)h[4] | (uint64_t)h[5] << 8 | (uint64_t)h[6] << 16 |
                        (uint64_t)h[7] << 24);
    p->have = file_size(p);
    p->animated = ft->has_animation;
    p->has_alpha = ft->has_alpha;
    p->base.info = (hdm_info){(uint32_t)ft->width, (uint32_t)ft->height, ft->has_alpha ? 4 : 3,
                              HDM_U8, HDM_FORMAT_WEBP};
    return HDM_OK;
}

/* Checks the header against the limits and sets what the decode holds, before any of it. */
static hdm_status check(webp_source *p, const hdm_options *opt, hdm_error *err)
{
    hdm_status st = hdm__check_size(&p->base.info, opt, p->path, err);
    if (st)
        return st;
    uint64_t w = p->base.info.width, h = p->base.info.height;
    uint64_t held = p->animated ? 2 * w * h * 4 : w * h * p->base.info.channels;
    if (p->f) /* the encoded bytes: the whole file, read into memory as libwebp decodes it */
        held += p->have && p->have < p->riff_size ? p->have : p->riff_size;
    if (held > opt->max_memory)
        return hdm__fail(err, HDM_ERR_LIMIT, p->path,
                         "decoding needs about %llu bytes (%s%s), above the memory limit of %llu "
                         "(max_memory)", (unsigned long long)held,
                         p->animated ? "two canvases of an animation" : "the decoded image",
                         p->f ? " and the file's bytes" : "",
                         (unsigned long long)opt->max_memory);
    p->base.held = held;
    return HDM_OK;
}

/* The RIFF size is the file's from offset 8 (RFC 9649, 2.4; the file "SHOULD NOT contain
 * anything after it"): a file shorter than it says is truncated, and one longer holds bytes no
 * chunk accounts for (a size that lies, or data appended), which is damage too. Both are
 * refused, by info as by the decoder, when the file's size is known. */
static hdm_status riff_mismatch(webp_source *p, uint64_t have, hdm_error *err)
{
    if (have < p->riff_size)
        return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "truncated WebP: %llu bytes of the %llu "
                         "its RIFF header says", (unsigned long long)have,
                         (unsigned long long)p->riff_size);
    return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "corrupt WebP: %llu bytes, more than the %llu "
                     "its RIFF header says", (unsigned long long)have,
                     (unsigned long long)p->riff_size);
}

static hdm_status check_size(webp_source *p, hdm_error *err)
{
    return p->have && p->have != p->riff_size ? riff_mismatch(p, p->have, err) : HDM_OK;
}

/* Once the image is out, the rest of a file is read: what is missing, even after the pixels
 * (padding, metadata), is refused as a PNG without its IEND is, and so is a byte past the RIFF
 * data (a file of known size was checked before decoding; a stream is checked here). */
static hdm_status check_end(webp_source *p, hdm_error *err)
{
    uint64_t have = p->f ? p->fed : p->size;
    while (p->f && have <= p->riff_size) {
        size_t want = have < p->riff_size ? CHUNK : 1; /* at the end, one more byte tells */
        size_t n = fread(p->chunk, 1, want, p->f);
        if (n == 0 && ferror(p->f))
            return read_failed(p, err);
        if (n == 0)
            break;
        have += n;
    }
    return have != p->riff_size ? riff_mismatch(p, have, err) : HDM_OK;
}

/* ---- metadata: the chunks ---- */

enum { CHUNKS_MAX = 65536 }; /* chunks walked at most (an animation's frames among them) */

/* What the walk finds beside the metadata. */
typedef struct webp_chunks {
    uint32_t frames;  /* ANMF chunks */
    int lossless;     /* the (first) image's bitstream: 1 VP8L, 0 VP8, -1 not seen */
} webp_chunks;

static uint32_t le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* n bytes at off of the file or the buffer; a file's position is kept. */
static bool read_at(webp_source *p, uint64_t off, void *buf, size_t n)
{
    if (!p->f) {
        if (off > p->size || n > p->size - off)
            return false;
        memcpy(buf, p->data + off, n);
        return true;
    }
    off_t keep = ftello(p->f);
    bool ok = keep >= 0 && off <= INT64_MAX && fseeko(p->f, (off_t)off, SEEK_SET) == 0 &&
              fread(buf, 1, n, p->f) == n;
    return keep >= 0 && fseeko(p->f, keep, SEEK_SET) == 0 && ok;
}

/* A chunk's four letters for a message, its trailing blank trimmed ("XMP "). */
static void fourcc_name(const unsigned char *h, char out[5])
{
    for (int i = 0; i < 4; i++)
        out[i] = h[i] >= 0x20 && h[i] < 0x7f ? (char)h[i] : '?';
    out[4] = '\0';
    for (int i = 3; i > 0 && out[i] == ' '; i--)
        out[i] = '\0';
}

/* The bitstream of a frame (ANMF, RFC 9649 2.7.1.1): its 16-byte header, then ALPH and VP8,
 * or VP8L. */
static int frame_bitstream(webp_source *p, uint64_t at, uint64_t end)
{
    unsigned char h[8];
    for (int i = 0; i < 2 && at + 8 <= end && read_at(p, at, h, 8); i++) {
        if (!memcmp(h, "VP8L", 4))
            return 1;
        if (!memcmp(h, "VP8 ", 4))
            return 0;
        at += 8 + (uint64_t)le32(h + 4) + (le32(h + 4) & 1);
    }
    return -1;
}

/* Walks the chunks of an extended file (VP8X first; a simple file holds one image chunk and no
 * metadata), keeping the first ICCP, EXIF and "XMP " in m. A chunk running past the end of the
 * RIFF data or of the file is refused; their bytes count against max_memory. */
static hdm_status read_chunks(webp_source *p, const hdm_options *opt, hdm__meta *m,
                              webp_chunks *c, hdm_error *err)
{
    c->frames = 0;
    c->lossless = -1;
    uint64_t have = file_size(p), end = p->riff_size;
    bool short_file = have && have < end;
    if (short_file)
        end = have;
    unsigned char h[8];
    if (!read_at(p, 12, h, 8))
        return HDM_OK; /* libwebp read the header: a stream without a size */
    if (memcmp(h, "VP8X", 4)) {
        c->lossless = !memcmp(h, "VP8L", 4);
        return HDM_OK;
    }
    uint64_t used = 0;
    uint64_t off = 12;
    for (uint32_t k = 0; k < CHUNKS_MAX && off + 8 <= end; k++) {
        if (!read_at(p, off, h, 8))
            return hdm__fail(err, HDM_ERR_IO, p->path, "read failed: %s", strerror(errno));
        uint64_t size = le32(h + 4), body = off + 8;
        char name[5];
        fourcc_name(h, name);
        if (size > end - body)
            return hdm__fail(err, HDM_ERR_CORRUPT, p->path, short_file
                             ? "truncated WebP: its %s chunk of %llu bytes ends early"
                             : "corrupt WebP: its %s chunk of %llu bytes runs past the end of "
                               "the file", name, (unsigned long long)size);
        unsigned char **dst = NULL;
        size_t *dst_size = NULL;
        if (!memcmp(h, "ICCP", 4) && !m->icc)
            dst = &m->icc, dst_size = &m->icc_size;
        else if (!memcmp(h, "EXIF", 4) && !m->exif)
            dst = &m->exif, dst_size = &m->exif_size;
        else if (!memcmp(h, "XMP ", 4) && !m->xmp)
            dst = &m->xmp, dst_size = &m->xmp_size;
        else if (!memcmp(h, "ANMF", 4) && c->frames++ == 0 && size >= 16)
            c->lossless = frame_bitstream(p, body + 16, body + size);
        else if (!memcmp(h, "VP8L", 4) || !memcmp(h, "VP8 ", 4))
            c->lossless = h[3] == 'L';
        if (dst && size) {
            used += size;
            if (used > opt->max_memory || size > SIZE_MAX)
                return hdm__fail(err, HDM_ERR_LIMIT, p->path, "its %s chunk of %llu bytes is "
                                 "above the memory limit of %llu (max_memory)", name,
                                 (unsigned long long)size, (unsigned long long)opt->max_memory);
            if (!(*dst = malloc((size_t)size)))
                return hdm__fail(err, HDM_ERR_NOMEM, p->path, "out of memory");
            *dst_size = (size_t)size;
            if (!read_at(p, body, *dst, (size_t)size))
                return hdm__fail(err, HDM_ERR_IO, p->path, "read failed: %s", strerror(errno));
        }
        off = body + size + (size & 1);
    }
    /* some writers keep JPEG's APP1 prefix in the EXIF chunk */
    if (m->exif_size >= 6 && !memcmp(m->exif, "Exif\0\0", 6)) {
        memmove(m->exif, m->exif + 6, m->exif_size - 6);
        m->exif_size -= 6;
    }
    m->orientation = hdm__exif_orientation(m->exif, m->exif_size);
    return HDM_OK;
}

/* The first frame of an animation, on its canvas. */
static hdm_status open_animation(webp_source *p, hdm_error *err)
{
    if (p->f) {
        if (p->riff_size > SIZE_MAX || !(p->file = malloc((size_t)p->riff_size)))
            return hdm__fail(err, HDM_ERR_NOMEM, p->path, "out of memory");
        size_t have = p->head_len < p->riff_size ? p->head_len : (size_t)p->riff_size;
        memcpy(p->file, p->head, have);
        size_t n = fread(p->file + have, 1, (size_t)p->riff_size - have, p->f);
        if (n < (size_t)p->riff_size - have && ferror(p->f))
            return read_failed(p, err);
        p->data = p->file, p->size = have + n;
        p->fed = p->head_len + n; /* read from the file: the header may hold more */
    }
    WebPAnimDecoderOptions o;
    if (!WebPAnimDecoderOptionsInit(&o))
        return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "libwebp's demuxer is not the one built "
                         "against");
    o.color_mode = MODE_RGBA;
    o.use_threads = 0;
    WebPData wd = {p->data, p->size};
    if (!(p->anim = WebPAnimDecoderNew(&wd, &o)))
        return hdm__fail(err, HDM_ERR_CORRUPT, p->path, p->size < p->riff_size
                         ? "truncated WebP: the animation ends early"
                         : "corrupt WebP: its animation cannot be read");
    WebPAnimInfo ai;
    uint8_t *frame;
    int timestamp;
    if (!WebPAnimDecoderGetInfo(p->anim, &ai) || ai.canvas_width != p->base.info.width ||
        ai.canvas_height != p->base.info.height)
        return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "corrupt WebP: the canvas's size differs "
                         "from its header's");
    if (!WebPAnimDecoderGetNext(p->anim, &frame, &timestamp))
        return hdm__fail(err, HDM_ERR_CORRUPT, p->path, p->size < p->riff_size
                         ? "truncated WebP: the first frame ends early"
                         : "corrupt WebP: the first frame does not decode");
    if (p->f) {
        hdm_status st = check_end(p, err);
        if (st)
            return st;
    }
    p->pix = frame;
    p->stride = (size_t)ai.canvas_width * 4;
    p->ready = ai.canvas_height;
    return HDM_OK;
}

/* Room in p->file for the next piece of a still's file: up to CHUNK more, doubling what it
 * holds, never past the RIFF size (which max_memory counted). */
static hdm_status grow_file(webp_source *p, hdm_error *err)
{
    if (p->file_len < p->file_cap || p->file_cap >= p->riff_size)
        return HDM_OK;
    uint64_t cap = p->file_cap ? 2 * (uint64_t)p->file_cap : (uint64_t)CHUNK * 16;
    cap = cap < p->file_len + (uint64_t)CHUNK ? p->file_len + (uint64_t)CHUNK : cap;
    cap = cap > p->riff_size ? p->riff_size : cap;
    unsigned char *f = cap <= SIZE_MAX ? realloc(p->file, (size_t)cap) : NULL;
    if (!f)
        return hdm__fail(err, HDM_ERR_NOMEM, p->path, "out of memory");
    p->file = f;
    p->file_cap = (size_t)cap;
    return HDM_OK;
}

/* Feeds libwebp until rows [0, need) are decoded: reads the file piece by piece, or gives it
 * the whole buffer at once. */
static hdm_status decode_to(webp_source *p, uint32_t need, hdm_error *err)
{
    while (p->ready < need) {
        VP8StatusCode st;
        bool end = false;
        if (!p->f) {
            st = WebPIUpdate(p->idec, p->data, p->size);
            end = true;
        } else {
            /* The file's bytes go into a buffer of ours that libwebp reads in place
             * (WebPIUpdate), growing by doubling up to the RIFF size. WebPIAppend would copy
             * them into libwebp's, which grows by each piece and copies all it holds every time:
             * a lossless image keeps every byte, so a 43 MB file took 14 GB of copying. */
            hdm_status gs = grow_file(p, err);
            if (gs)
                return gs;
            size_t n = p->head_len;
            if (p->head) { /* the header's bytes first (any past the RIFF data: check_end's) */
                n = p->head_len < p->file_cap ? p->head_len : p->file_cap;
                memcpy(p->file, p->head, n);
                p->fed = p->head_len;
                free(p->head);
                p->head = NULL;
            } else {
                n = fread(p->file + p->file_len, 1, p->file_cap - p->file_len, p->f);
                if (n == 0 && ferror(p->f))
                    return read_failed(p, err);
                p->fed += n;
            }
            p->file_len += n;
            end = n == 0 || p->file_len == p->riff_size;
            st = n ? WebPIUpdate(p->idec, p->file, p->file_len) : VP8_STATUS_SUSPENDED;
        }
        if (st != VP8_STATUS_OK && st != VP8_STATUS_SUSPENDED)
            return webp_failed(p->path, st, err);
        int last_y = 0, w, h, stride;
        if (!WebPIDecGetRGB(p->idec, &last_y, &w, &h, &stride))
            last_y = 0;
        p->ready = last_y > 0 ? (uint32_t)last_y : 0;
        if (p->ready < need && (end || st == VP8_STATUS_OK))
            return webp_failed(p->path, st == VP8_STATUS_OK ? VP8_STATUS_BITSTREAM_ERROR
                                                                  : VP8_STATUS_NOT_ENOUGH_DATA,
                                    err);
    }
    return HDM_OK;
}

static hdm_status read_rows(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    webp_source *p = (webp_source *)s;
    hdm_status st = decode_to(p, s->next + rows, err);
    if (!st && !p->animated && s->next + rows == s->info.height)
        st = check_end(p, err);
    if (st)
        return st;
    uint32_t channels = s->info.channels;
    for (uint32_t y = 0; y < rows; y++) {
        const unsigned char *src = p->pix + (size_t)(s->next + y) * p->stride;
        if (!p->animated || channels == 4) {
            hdm__row_to_planes(strip, y, src);
            continue;
        }
        for (uint32_t c = 0; c < channels; c++) { /* an opaque animation: RGBA to RGB */
            unsigned char *d = hdm_row(strip, c, y);
            for (uint32_t x = 0; x < s->info.width; x++)
                d[x] = src[(size_t)x * 4 + c];
        }
    }
    return HDM_OK;
}

static hdm_status open_still(webp_source *p, hdm_error *err)
{
    p->stride = (size_t)p->base.info.width * p->base.info.channels;
    size_t bytes = p->stride * p->base.info.height; /* checked against max_memory, < 2^64 */
    if (!(p->pix = calloc(1, bytes)))
        return hdm__fail(err, HDM_ERR_NOMEM, p->path, "out of memory");
    p->idec = WebPINewRGB(p->has_alpha ? MODE_RGBA : MODE_RGB, p->pix, bytes, (int)p->stride);
    if (!p->idec)
        return hdm__fail(err, HDM_ERR_NOMEM, p->path, "out of memory");
    return HDM_OK;
}

static webp_source *webp_source_alloc(FILE *f, const void *data, size_t size, const char *path,
                                      hdm_error *err)
{
    webp_source *p = calloc(1, sizeof *p);
    char *name = hdm__strdup(path ? path : "(memory)");
    if (!p || !name) {
        free(p);
        free(name);
        if (f)
            fclose(f);
        hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
        return NULL;
    }
    p->f = f;
    p->data = data, p->size = size;
    p->path = name;
    p->base.path = name;
    p->base.close = webp_source_close;
    return p;
}

static hdm_status webp_source_new(FILE *f, const void *data, size_t size, const char *path,
                                  const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    webp_source *p = webp_source_alloc(f, data, size, path, err);
    if (!p)
        return HDM_ERR_NOMEM;
    WebPBitstreamFeatures ft;
    hdm_status st = read_header(p, opt, &ft, err);
    if (!st)
        st = check(p, opt, err);
    if (!st) /* a known size that is not the RIFF header's: refused before decoding */
        st = check_size(p, err);
    webp_chunks chunks;
    if (!st)
        st = read_chunks(p, opt, &p->base.meta, &chunks, err);
    if (!st)
        st = p->animated ? open_animation(p, err) : open_still(p, err);
    if (st) {
        webp_source_close(&p->base);
        return st;
    }
    p->base.read = read_rows;
    *out = &p->base;
    return HDM_OK;
}

static hdm_status codec_info(const hdm__codec *c, FILE *f, const char *path,
                             const hdm_options *opt, hdm_info *out,
                             hdm_file_info *detail, hdm_error *err)
{
    (void)c;
    webp_source *p = webp_source_alloc(f, NULL, 0, path, err);
    if (!p)
        return HDM_ERR_NOMEM;
    WebPBitstreamFeatures ft;
    webp_chunks chunks;
    hdm_status st = read_header(p, opt, &ft, err);
    if (!st)
        st = check(p, opt, err);
    if (!st)
        st = check_size(p, err);
    hdm__meta *m = &p->base.meta;
    if (!st)
        st = read_chunks(p, opt, m, &chunks, err);
    if (!st) {
        *out = p->base.info;
        detail->bits = 8;
        snprintf(detail->color, sizeof detail->color, "%s", p->has_alpha ? "rgba" : "rgb");
        int lossless = ft.format == 2 ? 1 : ft.format == 1 ? 0 : chunks.lossless;
        if (lossless >= 0)
            snprintf(detail->compression, sizeof detail->compression, "%s",
                     lossless ? "lossless" : "lossy");
        detail->pages = p->animated && chunks.frames ? chunks.frames : 1;
        detail->orientation = m->orientation;
        detail->icc_size = (uint32_t)m->icc_size;
        hdm__icc_description(m->icc, m->icc_size, detail->icc_description,
                             sizeof detail->icc_description);
        detail->exif_size = (uint32_t)m->exif_size;
        detail->xmp_size = (uint32_t)m->xmp_size;
    }
    webp_source_close(&p->base);
    return st;
}

static hdm_status codec_source(const hdm__codec *c, FILE *f, const char *path,
                               const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    (void)c;
    return webp_source_new(f, NULL, 0, path, opt, out, err);
}

static hdm_status codec_source_memory(const hdm__codec *c, const void *data, size_t size,
                                      const char *name, const hdm_options *opt,
                                      hdm__source **out, hdm_error *err)
{
    (void)c;
    return webp_source_new(NULL, data, size, name, opt, out, err);
}

/* ---- the table's entry ---- */

/* "RIFF", the RIFF size, "WEBP" (RFC 9649, 2.4). */
static bool codec_sniff(const unsigned char *h, size_t n)
{
    return n >= 12 && memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WEBP", 4) == 0;
}

/* Written as RGB or RGBA (gray expanded: WebP has no gray), 8 bits. */
const hdm__codec hdm__codec_webp = {
    .pub = {.format = HDM_FORMAT_WEBP, .name = "webp",
            .extensions = (const char *const[]){"webp", NULL},
            .read_extensions = (const char *const[]){"webp", NULL},
            .writable = 1, .depths = HDM_U8, .layouts = 1u << 2 | 1u << 3},
    .sniff = codec_sniff,
    .info = codec_info,
    .source = codec_source,
    .source_memory = codec_source_memory,
    .sink = hdm__webp_sink,
};
