/* stb.c — JPEG, BMP, TGA, GIF, PSD, HDR, PNM in through stb_image; JPEG, BMP, TGA, HDR out */
#include "internal.h"
#include "kernel/kernel.h"

#include <stdlib.h>
#include <string.h>

/* stb is compiled here, privately, with what we never want from it switched off: PNG always
 * goes through libpng (stb checks neither CRCs nor zlib checksums), and no stdio for reading,
 * so every byte in passes through our own checked code. Writing uses only the _to_func calls
 * into our checked output (the write side's stdio switch would also remove its HDR writer).
 * Its failure reason is thread-local (C11). Included as system headers: their warnings are
 * not ours to fix. */
#define STBI_NO_PNG
#define STBI_NO_PIC
#define STBI_NO_STDIO
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
/* With PNG off, stb still declares its zlib entry points static but defines none of them. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

/* ---- reading ---- */

/* Checks a JPEG for what stb_image 2.27 (as Debian ships it) trusts and must not: a Huffman
 * table (DHT) of more than 256 codes makes stbi__build_huffman write past its size[257] and
 * values[256]. Walks the marker segments (ITU-T T.81, B.1.1), skipping entropy-coded data;
 * anything else odd is left for stb to refuse. Returns the reason, or NULL. */
static const char *jpeg_unsafe(const unsigned char *d, size_t n)
{
    size_t i = 2; /* after SOI */
    while (i + 1 < n) {
        if (d[i] != 0xFF) { /* entropy-coded data: find the next marker */
            i++;
            continue;
        }
        unsigned m = d[i + 1];
        if (m == 0xFF) { /* fill byte */
            i++;
            continue;
        }
        if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { /* stuffing, TEM, RSTn, SOI */
            i += 2;
            continue;
        }
        if (m == 0xD9)
            return NULL;
        if (i + 4 > n)
            return NULL;
        size_t len = (size_t)d[i + 2] << 8 | d[i + 3], end = i + 2 + len;
        if (len < 2)
            return NULL;
        if (end > n) /* stb decodes a truncated segment as far as it goes */
            end = n;
        if (m == 0xC4) {
            /* as stb reads it: a table may start near the segment's end and take its counts
             * from the bytes after it (or zeros past the end of the data) */
            for (size_t t = i + 4; t < end;) {
                size_t codes = 0;
                for (size_t k = 1; k <= 16 && t + k < n; k++)
                    codes += d[t + k];
                if (codes > 256)
                    return "Huffman table of more than 256 codes";
                t += 17 + codes;
            }
        }
        i = end;
    }
    return NULL;
}

/* PNM: stbi__pnm_getinteger builds a header number in an int with no overflow check (signed
 * overflow, and a garbage size). Reads the three header numbers as stb does (whitespace and
 * '#' comments between them) and refuses one that would not fit. */
static const char *pnm_unsafe(const unsigned char *d, size_t n)
{
    size_t i = 2; /* after "P5" or "P6" */
    for (int field = 0; field < 3; field++) {
        while (i < n && (d[i] == ' ' || (d[i] >= '\t' && d[i] <= '\r') || d[i] == '#')) {
            if (d[i] == '#')
                while (i < n && d[i] != '\n' && d[i] != '\r')
                    i++;
            else
                i++;
        }
        uint32_t v = 0;
        for (; i < n && d[i] >= '0' && d[i] <= '9'; i++) {
            if (v > (INT32_MAX - 9) / 10)
                return "header number too large";
            v = v * 10 + (uint32_t)(d[i] - '0');
        }
    }
    return NULL;
}

/* Radiance HDR: stb's run-length decoder loops forever when the data ends inside a scanline
 * (every read past the end gives a zero count, which advances nothing). Finds the data after
 * the header lines as stbi__hdr_load does and walks the scanlines the way it would, refusing
 * run-length data that ends early. Flat (not run-length) data cannot loop. */
static const char *hdr_unsafe(const unsigned char *d, size_t n)
{
    size_t i = 0, line = 0, dims = 0;
    bool blank_seen = false;
    while (i < n) { /* line 0: the magic; then lines up to a blank one; then "-Y H +X W" */
        size_t start = i;
        while (i < n && d[i] != '\n')
            i++;
        i++; /* past the newline */
        if (line > 0 && blank_seen) {
            dims = start;
            break;
        }
        if (line > 0 && i - start == 1)
            blank_seen = true;
        line++;
    }
    if (!blank_seen || i >= n)
        return NULL;
    char text[64];
    size_t len = i - 1 - dims < sizeof text - 1 ? i - 1 - dims : sizeof text - 1;
    memcpy(text, d + dims, len);
    text[len] = '\0';
    if (strncmp(text, "-Y ", 3) != 0)
        return NULL;
    char *t;
    long h = strtol(text + 3, &t, 10);
    while (*t == ' ')
        t++;
    if (strncmp(t, "+X ", 3) != 0)
        return NULL;
    long w = strtol(t + 3, NULL, 10);
    if (w < 8 || w >= 32768 || h <= 0)
        return NULL; /* stb reads such widths flat */
    for (long y = 0; y < h; y++) {
        if (n - i < 4)
            return "run-length data ends inside a scanline";
        if (d[i] != 2 || d[i + 1] != 2 || (d[i + 2] & 0x80))
            return NULL; /* stb switches to flat data here */
        if ((long)(d[i + 2] << 8 | d[i + 3]) != w)
            return NULL; /* stb refuses it */
        i += 4;
        for (int k = 0; k < 4; k++)
            for (long x = 0; x < w;) {
                if (i >= n)
                    return "run-length data ends inside a scanline";
                unsigned count = d[i++];
                bool run = count > 128;
                if (run)
                    count -= 128;
                if ((long)count > w - x)
                    return NULL; /* stb refuses it */
                size_t need = run ? 1 : count;
                if (n - i < need)
                    return "run-length data ends inside a scanline";
                i += need;
                x += (long)count;
            }
    }
    return NULL;
}

/* The most memory a decode holds at once, estimated from the header: stb's interleaved result
 * and our planar copy of it (each the image's size), plus what the format's decoder keeps
 * beside them (stb_image 2.27): a JPEG's component planes and progressive coefficients
 * (3 bytes a sample), a GIF's background and history (5 bytes a pixel, its result being
 * RGBA), a TGA's undecoded run-length copy. */
static uint64_t decode_peak(const hdm_info *info)
{
    uint64_t px = (uint64_t)info->width * info->height;
    uint64_t bytes = px * info->channels * (uint64_t)info->depth;
    switch (info->format) {
    case HDM_FORMAT_JPEG: return 2 * bytes + 3 * px * info->channels;
    case HDM_FORMAT_GIF: return 2 * bytes + 5 * px;
    case HDM_FORMAT_TGA: return 3 * bytes;
    default: return 2 * bytes;
    }
}

/* Inputs that would make stb itself misbehave; the reason, or NULL. */
static const char *stb_unsafe(hdm_format fmt, const unsigned char *d, size_t n)
{
    switch (fmt) {
    case HDM_FORMAT_JPEG: return jpeg_unsafe(d, n);
    case HDM_FORMAT_PNM: return pnm_unsafe(d, n);
    case HDM_FORMAT_HDR: return hdr_unsafe(d, n);
    default: return NULL;
    }
}

/* 16-bit PNM samples are big-endian (netpbm pgm(5)). stb_image 2.27 copies them into its
 * uint16 buffer unswapped, so on a little-endian host every sample came out byte-reversed;
 * later stb versions swap them. Which kind is compiled in is found by decoding one known
 * sample, so the fix is right for either. */
static bool pnm16_needs_swap(void)
{
    static const unsigned char probe[] = "P5 1 1 65535\n\x01\x02";
    int w, h, c;
    stbi_us *v = stbi_load_16_from_memory(probe, (int)sizeof probe - 1, &w, &h, &c, 1);
    bool swap = v && v[0] == 0x0201;
    stbi_image_free(v);
    return swap;
}

/* Reads what stb's header reader gives for data (the whole file, or when !whole a prefix of
 * it) into *info and checks it against the limits; the decoders allocate from the claimed size,
 * so this comes before any pixel memory is taken. */
static hdm_status stb_header(const void *data, size_t size, bool whole, const char *path,
                             const hdm_options *opt, hdm_info *info, hdm_error *err)
{
    hdm_format fmt = hdm__detect(data, size);
    if (size > INT32_MAX)
        return hdm__fail(err, HDM_ERR_LIMIT, path, "file is larger than 2 GiB");
    /* HDR's run-length walk needs every byte; its header alone is safe to read */
    const char *unsafe = whole || fmt != HDM_FORMAT_HDR ? stb_unsafe(fmt, data, size) : NULL;
    if (unsafe)
        return hdm__fail(err, HDM_ERR_CORRUPT, path, "corrupt %s: %s", hdm_format_name(fmt),
                         unsafe);
    int w, h, comp;
    if (!stbi_info_from_memory(data, (int)size, &w, &h, &comp))
        return hdm__fail(err, HDM_ERR_CORRUPT, path, "corrupt %s: %s", hdm_format_name(fmt),
                         stbi_failure_reason() ? stbi_failure_reason() : "unreadable header");
    /* A top-down BMP stores a negative height (Microsoft BITMAPINFOHEADER, biHeight), and
     * stbi_info passes it on as it is; the decoder itself flips and returns the magnitude. */
    if (fmt == HDM_FORMAT_BMP && h < 0 && h > INT32_MIN)
        h = -h;
    bool is16 = stbi_is_16_bit_from_memory(data, (int)size);
    /* stb_image 2.27's PSD check reads the depth from the wrong header field (its
     * STBI_NOTUSED skips become sizeof, unevaluated), so a 16-bit PSD would be narrowed to
     * 8 bits. The depth is read here from the header instead (Photoshop file format, "File
     * Header Section": 2 bytes at offset 22). */
    if (fmt == HDM_FORMAT_PSD)
        is16 = size >= 24 && ((const unsigned char *)data)[22] == 0 &&
               ((const unsigned char *)data)[23] == 16;
    if (w <= 0 || h <= 0 || comp < 1 || comp > 4)
        return hdm__fail(err, HDM_ERR_CORRUPT, path, "corrupt %s: bad header",
                         hdm_format_name(fmt));
    *info = (hdm_info){(uint32_t)w, (uint32_t)h, (uint32_t)comp,
                       fmt == HDM_FORMAT_HDR ? HDM_F32 : is16 ? HDM_U16 : HDM_U8, fmt};
    return hdm__check_limits(info, opt, path, err);
}

hdm_status hdm__stb_info(FILE *f, const char *path, const hdm_options *opt, hdm_info *out,
                         hdm_error *err)
{
    /* Headers sit at the start, a JPEG's after its APPn segments: read a prefix, and more only
     * while the header reader runs out of it. */
    unsigned char *buf = NULL;
    size_t len = 0, cap = 64 << 10;
    hdm_status st = HDM_OK;
    for (;;) {
        unsigned char *b = realloc(buf, cap);
        if (!b) {
            st = hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
            break;
        }
        buf = b;
        len += fread(buf + len, 1, cap - len, f);
        bool at_end = len < cap;
        if (ferror(f)) {
            st = hdm__fail(err, HDM_ERR_IO, path, "read failed");
            break;
        }
        st = stb_header(buf, len, at_end, path, opt, out, err);
        if (!st || at_end || st == HDM_ERR_LIMIT || cap >= opt->max_memory || cap > INT32_MAX / 2)
            break;
        cap *= 2;
    }
    free(buf);
    fclose(f);
    return st;
}

hdm_status hdm__stb_source(const void *data, size_t size, const char *path,
                           const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    *out = NULL;
    hdm_info info;
    hdm_status st = stb_header(data, size, true, path, opt, &info, err);
    if (st)
        return st;
    hdm_format fmt = info.format;
    int w = (int)info.width, h = (int)info.height, comp = (int)info.channels;
    uint64_t peak = decode_peak(&info);
    if (peak > opt->max_memory)
        return hdm__fail(err, HDM_ERR_LIMIT, path,
                         "decoding needs about %llu bytes, above the memory limit of %llu "
                         "(raise it with --max-memory)", (unsigned long long)peak,
                         (unsigned long long)opt->max_memory);

    int dw, dh, dc;
    void *pix;
    if (info.depth == HDM_F32)
        pix = stbi_loadf_from_memory(data, (int)size, &dw, &dh, &dc, 0);
    else if (info.depth == HDM_U16)
        pix = stbi_load_16_from_memory(data, (int)size, &dw, &dh, &dc, 0);
    else
        pix = stbi_load_from_memory(data, (int)size, &dw, &dh, &dc, 0); /* GIF: first frame */
    if (!pix)
        return hdm__fail(err, HDM_ERR_CORRUPT, path, "corrupt %s: %s", hdm_format_name(fmt),
                         stbi_failure_reason() ? stbi_failure_reason() : "cannot decode");
    if (dw != w || dh != h || dc != comp) {
        stbi_image_free(pix);
        return hdm__fail(err, HDM_ERR_CORRUPT, path, "corrupt %s: header and data disagree",
                         hdm_format_name(fmt));
    }
    if (fmt == HDM_FORMAT_PNM && info.depth == HDM_U16 && pnm16_needs_swap()) {
        uint16_t *v = pix;
        for (size_t i = 0, n = (size_t)w * (size_t)h * (size_t)comp; i < n; i++)
            v[i] = (uint16_t)(v[i] >> 8 | v[i] << 8);
    }
    hdm_image *img;
    st = hdm_image_new(info.width, info.height, info.channels, info.depth, &img);
    if (st) {
        stbi_image_free(pix);
        return hdm__fail(err, st, path, "%s", hdm_strerror(st));
    }
    const hdm__kernel *k = hdm__kern();
    size_t rowlen = (size_t)info.width * info.channels;
    for (uint32_t y = 0; y < info.height; y++) {
        void *pl[HDM_MAX_CHANNELS];
        for (uint32_t c = 0; c < info.channels; c++)
            pl[c] = hdm_row(img, c, y);
        if (info.depth == HDM_U8) {
            k->deinterleave_u8((uint8_t *const *)pl, (const uint8_t *)pix + y * rowlen,
                               info.channels, info.width);
        } else if (info.depth == HDM_U16) {
            k->deinterleave_u16((uint16_t *const *)pl, (const uint16_t *)pix + y * rowlen,
                                info.channels, info.width);
        } else {
            const float *src = (const float *)pix + y * rowlen;
            for (uint32_t x = 0; x < info.width; x++)
                for (uint32_t c = 0; c < info.channels; c++)
                    ((float *)pl[c])[x] = src[x * info.channels + c];
        }
    }
    stbi_image_free(pix);
    st = hdm__source_from_image(img, true, path, fmt, out);
    if (st)
        return hdm__fail(err, st, path, "%s", hdm_strerror(st));
    return HDM_OK;
}

/* ---- writing: stb_image_write encodes whole images, so the sink gathers every row ---- */

typedef struct stb_sink {
    hdm__sink base;
    hdm_format fmt;
    int quality;
    hdm__bytes *bytes;
    unsigned char *buf; /* interleaved u8, or f32 for HDR */
    uint32_t rows_in;
} stb_sink;

static void stb_sink_close(hdm__sink *s)
{
    stb_sink *k = (stb_sink *)s;
    free(k->buf);
    free(k);
}

static hdm_status stb_sink_write(hdm__sink *s, const hdm_image *strip, uint32_t rows,
                                 hdm_error *err)
{
    (void)err;
    stb_sink *k = (stb_sink *)s;
    const hdm__kernel *kern = hdm__kern();
    uint32_t ch = s->info.channels, w = s->info.width;
    for (uint32_t y = 0; y < rows; y++) {
        size_t off = (size_t)(k->rows_in + y) * w * ch;
        if (s->info.depth == HDM_U8) {
            const uint8_t *pl[HDM_MAX_CHANNELS];
            for (uint32_t c = 0; c < ch; c++)
                pl[c] = hdm_row(strip, c, y);
            kern->interleave_u8(k->buf + off, pl, ch, w);
        } else {
            float *dst = (float *)k->buf + off;
            for (uint32_t c = 0; c < ch; c++) {
                const float *src = hdm_row(strip, c, y);
                for (uint32_t x = 0; x < w; x++)
                    dst[x * ch + c] = src[x];
            }
        }
    }
    k->rows_in += rows;
    return HDM_OK;
}

static void on_bytes(void *ctx, void *data, int n)
{
    hdm__bytes_put(ctx, data, (size_t)n);
}

static hdm_status stb_sink_finish(hdm__sink *s, hdm_error *err)
{
    stb_sink *k = (stb_sink *)s;
    int w = (int)s->info.width, h = (int)s->info.height, c = (int)s->info.channels, ok = 0;
    switch (k->fmt) {
    case HDM_FORMAT_JPEG: ok = stbi_write_jpg_to_func(on_bytes, k->bytes, w, h, c, k->buf, k->quality); break;
    case HDM_FORMAT_BMP: ok = stbi_write_bmp_to_func(on_bytes, k->bytes, w, h, c, k->buf); break;
    case HDM_FORMAT_TGA: ok = stbi_write_tga_to_func(on_bytes, k->bytes, w, h, c, k->buf); break;
    case HDM_FORMAT_HDR: ok = stbi_write_hdr_to_func(on_bytes, k->bytes, w, h, c, (float *)k->buf); break;
    default: break;
    }
    if (k->bytes->failed)
        return hdm__fail(err, HDM_ERR_IO, s->path, "cannot write %s: %s",
                         hdm_format_name(k->fmt), hdm__bytes_error(k->bytes));
    if (!ok)
        return hdm__fail(err, HDM_ERR_IO, s->path, "cannot write %s", hdm_format_name(k->fmt));
    return HDM_OK;
}

hdm_status hdm__stb_sink(hdm_format fmt, const hdm_info *info, const hdm_options *opt,
                         hdm__bytes *b, const char *path, hdm__sink **out, hdm_error *err)
{
    size_t bytes;
    if (info->width > INT32_MAX || info->height > INT32_MAX ||
        hdm_size_bytes(info->width, info->height, info->channels, info->depth, &bytes))
        return hdm__fail(err, HDM_ERR_LIMIT, path, "image too large for %s",
                         hdm_format_name(fmt));
    stb_sink *k = calloc(1, sizeof *k);
    if (!k || !(k->buf = malloc(bytes))) {
        free(k);
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    }
    k->base.info = *info;
    k->base.path = path;
    k->base.write = stb_sink_write;
    k->base.finish = stb_sink_finish;
    k->base.close = stb_sink_close;
    k->fmt = fmt;
    k->base.held = bytes;
    k->quality = opt->jpeg_quality >= 1 && opt->jpeg_quality <= 100 ? opt->jpeg_quality : 90;
    k->bytes = b;
    *out = &k->base;
    return HDM_OK;
}
