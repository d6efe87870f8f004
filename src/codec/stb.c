/* SPDX-License-Identifier: MIT */
/* stb.c — BMP, TGA, GIF, PSD, HDR, PNM in through stb_image; BMP, TGA, HDR out */
#include "codec/codec.h"
#include "kernel/kernel.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* stb is compiled here, privately, with what we never want from it switched off: PNG always
 * goes through libpng (stb checks neither CRCs nor zlib checksums), JPEG through libjpeg-turbo
 * (jpeg.c), and no stdio for reading,
 * so every byte in passes through our own checked code. Writing uses only the _to_func calls
 * into our checked output (the write side's stdio switch would also remove its HDR writer).
 * Its failure reason is thread-local (C11). Included as system headers: their warnings are
 * not ours to fix. */
#define STBI_NO_PNG
#define STBI_NO_JPEG
#define STBI_NO_PIC
#define STBI_NO_STDIO
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
/* Every buffer stb allocates starts zeroed, so a decoder that leaves part of one unwritten (a
 * short stbi__getn, a skipped row) shows zeros, never what the heap held before (another
 * file's pixels). realloc needs the old size to zero only the new part: it is kept in a
 * header in front of the block. */
typedef union stb_block {
    max_align_t align;
    size_t size;
} stb_block;

static void *stb_zalloc(size_t n)
{
    if (n > SIZE_MAX - sizeof(stb_block))
        return NULL;
    stb_block *b = calloc(1, sizeof *b + n);
    if (!b)
        return NULL;
    b->size = n;
    return b + 1;
}

static void stb_zfree(void *p)
{
    if (p)
        free((stb_block *)p - 1);
}

static void *stb_zrealloc(void *p, size_t n)
{
    if (!p)
        return stb_zalloc(n);
    if (n > SIZE_MAX - sizeof(stb_block))
        return NULL;
    stb_block *b = realloc((stb_block *)p - 1, sizeof *b + n);
    if (!b)
        return NULL;
    if (n > b->size)
        memset((unsigned char *)(b + 1) + b->size, 0, n - b->size);
    b->size = n;
    return b + 1;
}

#define STBI_MALLOC(n) stb_zalloc(n)
#define STBI_REALLOC(p, n) stb_zrealloc(p, n)
#define STBI_FREE(p) stb_zfree(p)
/* With PNG off, stb still declares its zlib entry points static but defines none of them. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

/* ---- reading ---- */

/* stb's view of a buffer in memory: a read past the end gives 0 (stbi__get8) and the end is
 * where stbi__at_eof puts it. The header walkers below read through this so that they stop
 * exactly where stb stops, whatever the bytes. */
typedef struct stb_cursor {
    const unsigned char *d;
    size_t n, i;
    bool past; /* a read went past the end */
} stb_cursor;

static unsigned cur_get8(stb_cursor *c)
{
    if (c->i < c->n)
        return c->d[c->i++];
    c->past = true;
    return 0;
}

static bool cur_eof(const stb_cursor *c)
{
    return c->i >= c->n;
}

static unsigned cur_get16le(stb_cursor *c)
{
    unsigned lo = cur_get8(c);
    return lo | cur_get8(c) << 8;
}

/* stbi__skip on memory: moves on unchecked, and what follows reads as past the end */
static void cur_skip(stb_cursor *c, size_t k)
{
    if (k > c->n - c->i) {
        c->i = c->n;
        c->past = true;
    } else {
        c->i += k;
    }
}

/* ---- GIF (GIF89a; stbi__gif_header, stbi__gif_load_next) ---- */

/* stb makes the whole logical screen before it reads a pixel, and a first image with no LZW
 * data, or no image at all, leaves it as it was: a few bytes of header would make an image of
 * any size. An LZW code size above 12 stb refuses without a reason. Walks the blocks as stb
 * does (its one quirk: a graphic control extension whose size is not 4 skips that many bytes
 * and no sub-blocks) up to the first image's first data sub-block; what else is wrong is left
 * for stb to refuse. Whole files only. */
static bool gif_unsafe(const unsigned char *d, size_t n, bool whole, char *why, size_t len)
{
    stb_cursor c = {d, n, 6, false}; /* after "GIF89a" */
    if (!whole || n < 6)
        return false;
    unsigned sw = cur_get16le(&c), sh = cur_get16le(&c), flags = cur_get8(&c);
    cur_skip(&c, 2); /* background index, aspect ratio */
    if (flags & 0x80)
        cur_skip(&c, 3 * (2u << (flags & 7)));
    const char *r = NULL;
    char buf[64];
    for (;;) {
        unsigned tag = cur_get8(&c);
        if (tag == 0x2C) {
            unsigned x = cur_get16le(&c), y = cur_get16le(&c);
            unsigned w = cur_get16le(&c), h = cur_get16le(&c), lflags = cur_get8(&c);
            if (x + w > sw || y + h > sh)
                return false; /* stb: bad Image Descriptor */
            if (lflags & 0x80)
                cur_skip(&c, 3 * (2u << (lflags & 7)));
            else if (!(flags & 0x80))
                return false; /* stb: missing color table */
            unsigned cs = cur_get8(&c);
            /* the trailer where the code size belongs */
            if (c.past || (cs == 0x3B && cur_eof(&c))) {
                r = "no image data (no LZW code size)";
            } else if (cs > 12) {
                snprintf(buf, sizeof buf, "LZW code size %u is above 12", cs);
                r = buf;
            } else if (cur_get8(&c) == 0) {
                r = "no image data (no LZW data)";
            }
            break;
        }
        if (tag == 0x21) {
            if (cur_get8(&c) == 0xF9) {
                unsigned k = cur_get8(&c);
                cur_skip(&c, k);
                if (k != 4)
                    continue;
            }
            for (unsigned k; (k = cur_get8(&c)) != 0;)
                cur_skip(&c, k);
            continue;
        }
        if (tag == 0x3B || c.past)
            r = "no image data";
        break; /* any other tag stb refuses: unknown code */
    }
    if (!r)
        return false;
    snprintf(why, len, "%s", r);
    return true;
}

/* ---- PNM (netpbm pgm(5), ppm(5); stbi__pnm_info) ---- */

typedef struct pnm_header {
    uint32_t w, h, comp, maxval;
    size_t data;      /* offset of the first sample */
    const char *name; /* the first header field stb misreads, or NULL */
    const char *bad;  /* and how */
} pnm_header;

static bool pnm_space(unsigned ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r';
}

static void pnm_skip(stb_cursor *c, unsigned *ch)
{
    for (;;) {
        while (!cur_eof(c) && pnm_space(*ch))
            *ch = cur_get8(c);
        if (cur_eof(c) || *ch != '#')
            break;
        while (!cur_eof(c) && *ch != '\n' && *ch != '\r')
            *ch = cur_get8(c);
    }
}

/* One header field as stbi__pnm_getinteger reads it: the digits there are, up to a byte that is
 * not one or the file's last byte (never taken), so a missing field or one that is not a
 * number reads as 0 (and stb goes on). It builds the number in an int with no overflow check
 * (signed overflow, and a garbage size or depth). Each of these is kept as the field's
 * problem, the first one found. */
static uint32_t pnm_number(stb_cursor *c, unsigned *ch, const char *name, pnm_header *p)
{
    pnm_skip(c, ch);
    const char *bad = cur_eof(c) ? "missing" : *ch < '0' || *ch > '9' ? "not a number" : NULL;
    uint32_t v = 0;
    while (!cur_eof(c) && *ch >= '0' && *ch <= '9') {
        if (v > (INT32_MAX - 9) / 10)
            bad = "too large";
        else
            v = v * 10 + (*ch - '0');
        *ch = cur_get8(c);
    }
    if (bad && !p->name)
        p->name = name, p->bad = bad;
    return v;
}

static pnm_header pnm_read_header(const unsigned char *d, size_t n)
{
    stb_cursor c = {d, n, 0, false};
    pnm_header p = {0};
    cur_get8(&c);
    p.comp = cur_get8(&c) == '6' ? 3 : 1;
    unsigned ch = cur_get8(&c);
    p.w = pnm_number(&c, &ch, "width", &p);
    p.h = pnm_number(&c, &ch, "height", &p);
    p.maxval = pnm_number(&c, &ch, "maxval", &p);
    p.data = c.i; /* stb has taken the one whitespace byte after maxval */
    return p;
}

static uint64_t pnm_data_size(const pnm_header *p)
{
    return (uint64_t)p->w * p->h * p->comp * (p->maxval > 255 ? 2 : 1);
}

/* A header field missing, not a number, too large or 0, a maxval outside 1..65535 (pgm(5)),
 * and, with the whole file, raw data shorter than the header says (stb would hand back its
 * buffer unfilled). */
static bool pnm_unsafe(const unsigned char *d, size_t n, bool whole, char *why, size_t len)
{
    pnm_header p = pnm_read_header(d, n);
    if (p.name) {
        if (strcmp(p.bad, "missing") == 0)
            snprintf(why, len, "bad header: no %s", p.name);
        else
            snprintf(why, len, "bad header: %s is %s", p.name, p.bad);
        return true;
    }
    if (p.w == 0 || p.h == 0) {
        snprintf(why, len, "bad header: %s is 0", p.w == 0 ? "width" : "height");
        return true;
    }
    if (p.maxval < 1 || p.maxval > 65535) {
        snprintf(why, len, "maxval %u is out of range (1 to 65535)", p.maxval);
        return true;
    }
    uint64_t need = pnm_data_size(&p);
    if (whole && n - p.data < need) {
        snprintf(why, len, "truncated (%zu bytes of %llu)", n - p.data, (unsigned long long)need);
        return true;
    }
    return false;
}

/* The samples, checked against maxval and scaled to the full range of their depth exactly:
 * round(v * M / maxval), M = 255 or 65535 (halves round up; 2vM + maxval stays in 64 bits). */
static hdm_status pnm_decode(const unsigned char *d, size_t n, const char *path, hdm_image *img,
                             hdm_error *err)
{
    pnm_header p = pnm_read_header(d, n);
    bool wide = p.maxval > 255;
    uint64_t full = wide ? 65535 : 255;
    const unsigned char *s = d + p.data;
    for (uint32_t y = 0; y < p.h; y++) {
        void *pl[HDM_MAX_CHANNELS];
        for (uint32_t c = 0; c < p.comp; c++)
            pl[c] = hdm_row(img, c, y);
        for (uint32_t x = 0; x < p.w; x++)
            for (uint32_t c = 0; c < p.comp; c++) {
                uint32_t v = wide ? (uint32_t)s[0] << 8 | s[1] : s[0];
                s += wide ? 2 : 1;
                if (v > p.maxval)
                    return hdm__fail(err, HDM_ERR_CORRUPT, path,
                                     "corrupt pnm: sample value %u above maxval %u", v, p.maxval);
                uint64_t out = (2 * v * full + p.maxval) / (2 * (uint64_t)p.maxval);
                if (wide)
                    ((uint16_t *)pl[c])[x] = (uint16_t)out;
                else
                    ((uint8_t *)pl[c])[x] = (uint8_t)out;
            }
    }
    return HDM_OK;
}

/* ---- Radiance HDR (stbi__hdr_load) ---- */

#define HDR_TOKEN_MAX 1024 /* STBI__HDR_BUFLEN */

/* One header line as stbi__hdr_gettoken reads it: up to a newline or the end, NULs kept (so a
 * line starting with one reads as the blank line ending the header), at most 1023 bytes with
 * the rest of a longer line skipped, and the file's last byte dropped when no newline ends it. */
static char *hdr_token(stb_cursor *c, char *buf)
{
    size_t len = 0;
    char ch = (char)cur_get8(c);
    while (!cur_eof(c) && ch != '\n') {
        buf[len++] = ch;
        if (len == HDR_TOKEN_MAX - 1) {
            while (!cur_eof(c) && cur_get8(c) != '\n')
                ;
            break;
        }
        ch = (char)cur_get8(c);
    }
    buf[len] = '\0';
    return buf;
}

/* stb's run-length decoder loops forever when the data ends inside a scanline (a read past the
 * end gives a zero count, which advances nothing), and its flat reader leaves a pixel's bytes
 * on its stack unset when fewer than 4 remain. Reads the header exactly as stbi__hdr_load does
 * and, with the whole file, walks what stb will walk: every scanline's runs and literals, or
 * the flat pixels from where stb takes the data as flat. */
static bool hdr_unsafe(const unsigned char *d, size_t n, bool whole, char *why, size_t len)
{
    stb_cursor c = {d, n, 0, false};
    char buf[HDR_TOKEN_MAX];
    const char *tok = hdr_token(&c, buf);
    if (strcmp(tok, "#?RADIANCE") != 0 && strcmp(tok, "#?RGBE") != 0)
        return false; /* stb refuses it */
    bool valid = false;
    while ((tok = hdr_token(&c, buf))[0])
        if (strcmp(tok, "FORMAT=32-bit_rle_rgbe") == 0)
            valid = true;
    char *t = hdr_token(&c, buf);
    if (!valid || strncmp(t, "-Y ", 3) != 0)
        return false;
    /* stb casts strtol's long to int: a size beyond an int wraps (2^32 + 2 reads as 2) */
    long long lh = strtoll(t + 3, &t, 10);
    const char *hs = buf + 3;
    while (*t == ' ')
        t++;
    if (strncmp(t, "+X ", 3) != 0)
        return false;
    const char *ws = t + 3;
    long long lw = strtoll(ws, NULL, 10);
    if (lh > INT32_MAX || lh < INT32_MIN || lw > INT32_MAX || lw < INT32_MIN) {
        bool bad_h = lh > INT32_MAX || lh < INT32_MIN;
        const char *num = bad_h ? hs : ws;
        snprintf(why, len, "%s %.*s is out of range", bad_h ? "height" : "width",
                 (int)(strspn(num, " +-") + strspn(num + strspn(num, " +-"), "0123456789")),
                 num);
        return true;
    }
    int h = (int)lh, w = (int)lw;
    if (!whole || w <= 0 || h <= 0 || w > STBI_MAX_DIMENSIONS || h > STBI_MAX_DIMENSIONS)
        return false;
    uint64_t flat = (uint64_t)w * (uint64_t)h * 4;
    size_t start = c.i;
    if (w >= 8 && w < 32768) {
        for (int y = 0; y < h; y++) {
            start = c.i;
            unsigned c1 = cur_get8(&c), c2 = cur_get8(&c), hi = cur_get8(&c);
            if (c1 != 2 || c2 != 2 || (hi & 0x80))
                break; /* stb reads the whole image flat from this scanline's start */
            unsigned lw = hi << 8 | cur_get8(&c);
            if (c.past)
                goto truncated;
            if (lw != (unsigned)w)
                return false; /* stb refuses it */
            for (int k = 0; k < 4; k++)
                for (int x = 0; x < w;) {
                    unsigned count = cur_get8(&c);
                    bool run = count > 128;
                    if (run)
                        count -= 128;
                    if ((int)count > w - x)
                        return false; /* stb refuses it */
                    if (run)
                        cur_get8(&c);
                    else if (n - c.i < count)
                        goto truncated;
                    else
                        c.i += count;
                    if (c.past)
                        goto truncated;
                    x += (int)count;
                }
            if (y == h - 1)
                return false;
        }
    }
    if (start > n || n - start < flat) {
        snprintf(why, len, "truncated (%zu bytes of %llu)", start > n ? 0 : n - start,
                 (unsigned long long)flat);
        return true;
    }
    return false;
truncated:
    snprintf(why, len, "run-length data ends inside a scanline");
    return true;
}

/* ---- uncompressed BMP, TGA, PSD: the pixel data's length is in the header ---- */

static uint32_t le16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const unsigned char *p) { return le16(p) | le16(p + 2) << 16; }
static uint32_t be16(const unsigned char *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const unsigned char *p) { return be16(p) << 16 | be16(p + 2); }

/* Where the pixel data of an uncompressed file ends by its header, or 0 when the file is
 * compressed or its header too short to say (stb then decides). BMP: Microsoft
 * BITMAPFILEHEADER / BITMAPINFOHEADER (or the OS/2 BITMAPCOREHEADER), rows padded to 4 bytes,
 * the last row's padding not required. TGA: Truevision TGA 2.0, image types 1-3, after the
 * 18-byte header, the ID and the colour map. PSD: Photoshop file format, compression 0, after
 * the colour mode, image resources and layer sections, the planes stb reads (at most 4). */
static uint64_t raw_end(hdm_format fmt, const unsigned char *d, size_t n)
{
    if (fmt == HDM_FORMAT_BMP && n >= 30) {
        uint64_t off = le32(d + 10), hsz = le32(d + 14), w, h, bpp;
        if (hsz == 12) {
            w = le16(d + 18), h = le16(d + 20), bpp = le16(d + 24);
        } else {
            if (n < 34 || (le32(d + 30) != 0 && le32(d + 30) != 3))
                return 0;
            int32_t sh = (int32_t)le32(d + 22);
            w = le32(d + 18), h = sh < 0 ? (uint64_t)-(int64_t)sh : (uint64_t)sh;
            bpp = le16(d + 28);
        }
        if (w == 0 || h == 0 || bpp == 0 || w > INT32_MAX)
            return 0;
        uint64_t row = (w * bpp + 7) / 8;
        return off + (h - 1) * ((row + 3) & ~(uint64_t)3) + row;
    }
    if (fmt == HDM_FORMAT_TGA && n >= 18 && d[2] >= 1 && d[2] <= 3) {
        uint64_t cmap = d[1] ? (uint64_t)le16(d + 5) * ((d[7] + 7u) / 8) : 0;
        return 18 + (uint64_t)d[0] + cmap + (uint64_t)le16(d + 12) * le16(d + 14) * ((d[16] + 7u) / 8);
    }
    if (fmt == HDM_FORMAT_PSD && n >= 26) {
        uint64_t pos = 26;
        for (int k = 0; k < 3; k++) { /* colour mode data, image resources, layers and masks */
            if (pos + 4 > n)
                return 0;
            pos += 4 + (uint64_t)be32(d + pos);
        }
        if (pos + 2 > n || be16(d + pos) != 0)
            return 0;
        uint64_t planes = be16(d + 12) < 4 ? be16(d + 12) : 4;
        return pos + 2 + planes * be32(d + 14) * be32(d + 18) * (be16(d + 22) == 16 ? 2 : 1);
    }
    return 0;
}

/* The most memory a decode holds at once, estimated from the header: stb's interleaved result
 * and our planar copy of it (each the image's size), plus what the format's decoder keeps
 * beside them (stb_image 2.27): a GIF's background and history (5 bytes a pixel, its result being
 * RGBA), a TGA's undecoded run-length copy. */
static uint64_t decode_peak(const hdm_info *info)
{
    uint64_t px = (uint64_t)info->width * info->height;
    uint64_t bytes = px * info->channels * (uint64_t)info->depth;
    switch (info->format) {
    case HDM_FORMAT_GIF: return 2 * bytes + 5 * px;
    case HDM_FORMAT_TGA: return 3 * bytes;
    default: return 2 * bytes;
    }
}

/* A run-length TGA (types 9-11) walked as stbi__tga_load reads it: after the header, the ID
 * and, when indexed, stb's palette (it skips the palette's first-entry field as bytes), packets
 * of a count byte and one pixel (a run) or count pixels (raw), packets crossing rows. stb reads
 * zeros past the end, so data that ends early would decode as black: refused, with how many of
 * the image's pixels the data holds. */
static bool tga_rle_unsafe(const unsigned char *d, size_t n, char *why, size_t len)
{
    if (n < 18 || d[2] < 9 || d[2] > 11)
        return false;
    uint64_t pos = 18 + (uint64_t)d[0];
    unsigned bpp = d[16], px = (bpp + 7) / 8;
    if (d[1]) { /* indexed: a palette of 8- or 16-bit indices */
        pos += le16(d + 3) + (uint64_t)le16(d + 5) * ((d[7] + 7u) / 8);
        px = bpp == 8 ? 1 : 2;
    }
    if (px == 0)
        return false; /* stb refuses it */
    uint64_t total = (uint64_t)le16(d + 12) * le16(d + 14), done = 0;
    while (done < total) {
        if (pos >= n)
            break;
        unsigned cmd = d[pos++];
        uint64_t count = 1 + (cmd & 127);
        if (count > total - done)
            count = total - done;
        uint64_t need = cmd & 128 ? px : count * px, have = n - pos;
        if (have < need) {
            if (!(cmd & 128))
                done += have / px;
            break;
        }
        pos += need;
        done += count;
    }
    if (done >= total)
        return false;
    snprintf(why, len, "run-length data ends early (%llu of %llu pixels)",
             (unsigned long long)done, (unsigned long long)total);
    return true;
}

/* A PSD's image data (Photoshop file format, "Image Data Section") as stbi__psd_load finds it:
 * the three length-prefixed sections, then the compression field; stb reads zeros past the
 * end, so a file ending before that field decoded as a black raw image. For run-length data
 * (compression 1, PackBits): a byte-count table of 2 bytes for each row of each channel, then
 * the channels' rows; stb reads the table's place as bytes and decodes at most 4 channels as
 * one stream each. Checked: the table is there, the data holds the bytes the table lists for
 * those channels, and each channel's stream decodes its pixels in exactly the bytes listed. */
static bool psd_unsafe(const unsigned char *d, size_t n, char *why, size_t len)
{
    if (n < 26)
        return false;
    uint64_t pos = 26;
    for (int k = 0; k < 3; k++) {
        if (pos + 4 > n)
            goto before_data;
        pos += 4 + (uint64_t)be32(d + pos);
    }
    if (pos + 2 > n)
        goto before_data;
    if (be16(d + pos) != 1)
        return false; /* raw: raw_end; another: stb refuses it */
    uint64_t chans = be16(d + 12), h = be32(d + 14), w = be32(d + 18);
    uint64_t table = pos + 2, rows = h * chans, data = table + 2 * rows;
    if (chans == 0 || chans > 16 || w == 0 || h == 0)
        return false; /* stb refuses it */
    if (data > n) {
        snprintf(why, len, "run-length byte-count table is truncated (%llu of %llu bytes)",
                 (unsigned long long)(n - table), (unsigned long long)(2 * rows));
        return true;
    }
    uint64_t used = chans < 4 ? chans : 4, listed = 0;
    for (uint64_t r = 0; r < used * h; r++)
        listed += be16(d + table + 2 * r);
    if (data + listed > n) {
        snprintf(why, len, "run-length data is shorter than its byte-count table lists (%llu of "
                 "%llu bytes)", (unsigned long long)(n - data), (unsigned long long)listed);
        return true;
    }
    uint64_t p = data;
    for (uint64_t c = 0; c < used; c++) {
        uint64_t mine = 0, start = p, left = w * h;
        for (uint64_t r = 0; r < h; r++)
            mine += be16(d + table + 2 * (c * h + r));
        while (left > 0) {
            if (p >= n)
                goto ends_early;
            unsigned b = d[p++];
            uint64_t k = b < 128 ? b + 1u : 257u - b;
            if (b == 128)
                continue;
            if (k > left)
                return false; /* stb refuses it */
            if (b < 128 ? n - p < k : p >= n)
                goto ends_early;
            p += b < 128 ? k : 1;
            left -= k;
        }
        if (p - start != mine) {
            snprintf(why, len, "run-length byte counts disagree with the data (channel %llu: "
                     "%llu listed, %llu used)", (unsigned long long)c, (unsigned long long)mine,
                     (unsigned long long)(p - start));
            return true;
        }
    }
    return false;
ends_early:
    snprintf(why, len, "run-length data ends early");
    return true;
before_data:
    snprintf(why, len, "truncated before the image data");
    return true;
}

/* Inputs that would make stb itself misbehave, or hand back memory it did not fill: true, with
 * the reason in why. With only a prefix of the file (!whole), only what its header shows. */
static bool stb_unsafe(hdm_format fmt, const unsigned char *d, size_t n, bool whole, char *why,
                       size_t len)
{
    switch (fmt) {
    case HDM_FORMAT_PNM: return pnm_unsafe(d, n, whole, why, len);
    case HDM_FORMAT_HDR: return hdr_unsafe(d, n, whole, why, len);
    case HDM_FORMAT_GIF: return gif_unsafe(d, n, whole, why, len);
    case HDM_FORMAT_BMP: case HDM_FORMAT_TGA: case HDM_FORMAT_PSD: {
        if (whole && fmt == HDM_FORMAT_TGA && tga_rle_unsafe(d, n, why, len))
            return true;
        if (whole && fmt == HDM_FORMAT_PSD && psd_unsafe(d, n, why, len))
            return true;
        uint64_t end = whole ? raw_end(fmt, d, n) : 0;
        if (end > n) {
            snprintf(why, len, "truncated (%zu bytes of %llu)", n, (unsigned long long)end);
            return true;
        }
        return false;
    }
    default: return false;
    }
}

/* Before each stb call: its reason is kept from the last failure on this thread, and some of
 * its failures set none (or, for a GIF, an empty one). */
static void stb_forget_failure(void)
{
    stbi__g_failure_reason = NULL;
}

/* A failed stb call, in its own words, or in what (what failed) when it gave none; running out
 * of memory is not corruption. */
static hdm_status stb_fail(hdm_error *err, const char *path, const hdm__codec *c,
                           const char *what)
{
    const char *r = stbi_failure_reason();
    if (r && strcmp(r, "outofmem") == 0)
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    return hdm__fail(err, HDM_ERR_CORRUPT, path, "corrupt %s: %s", c->pub.name,
                     r && r[0] ? r : what);
}

/* Reads what stb's header reader gives for data (the whole file, or when !whole a prefix of
 * it) in c's format into *info and checks it against the limits; the decoders allocate from
 * the claimed size, so this comes before any pixel memory is taken. */
static hdm_status stb_header(const hdm__codec *c, const void *data, size_t size, bool whole,
                             const char *path, const hdm_options *opt, hdm_info *info,
                             hdm_error *err)
{
    hdm_format fmt = c->pub.format;
    if (size > INT32_MAX)
        return hdm__fail(err, HDM_ERR_LIMIT, path, "file is larger than 2 GiB");
    char why[160];
    if (stb_unsafe(fmt, data, size, false, why, sizeof why))
        return hdm__fail(err, HDM_ERR_CORRUPT, path, "corrupt %s: %s", c->pub.name, why);
    int w, h, comp;
    stb_forget_failure();
    if (!stbi_info_from_memory(data, (int)size, &w, &h, &comp))
        return stb_fail(err, path, c, "unreadable header");
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
        return hdm__fail(err, HDM_ERR_CORRUPT, path, "corrupt %s: bad header", c->pub.name);
    *info = (hdm_info){(uint32_t)w, (uint32_t)h, (uint32_t)comp,
                       fmt == HDM_FORMAT_HDR ? HDM_F32 : is16 ? HDM_U16 : HDM_U8, fmt};
    hdm_status st = hdm__check_limits(info, opt, path, err);
    /* the data against the header, once the header's claims are known to be within limits */
    if (!st && whole && stb_unsafe(fmt, data, size, true, why, sizeof why))
        return hdm__fail(err, HDM_ERR_CORRUPT, path, "corrupt %s: %s", c->pub.name, why);
    return st;
}

/* The stored form for info (stb_image says only what it decodes to), from the header layouts:
 * BMP's BITMAPINFOHEADER (biBitCount at 28, biCompression at 30), TGA's image type and pixel
 * depth (Truevision TGA 2.0, bytes 2 and 16), GIF's logical screen descriptor (its global
 * colour table's size, GIF89a 18), PSD's file header and the compression of its image data
 * (Photoshop file format: channels at 12, depth 22, colour mode 24, then three length-prefixed
 * sections), PNM's maxval. d holds the file's first n bytes; what is not there is left as the
 * decoded form says. A GIF's frames are not counted (that walks the whole file): pages stays 1. */
static void stored_form(hdm_format fmt, const unsigned char *d, size_t n, const hdm_info *info,
                        hdm_file_info *out)
{
    static const char *const layouts[] = {"", "gray", "gray+alpha", "rgb", "rgba"};
    const char *color = layouts[info->channels <= 4 ? info->channels : 0], *comp = "";
    uint32_t bits = info->depth == HDM_U8 ? 8 : info->depth == HDM_U16 ? 16 : 32;
    if (fmt == HDM_FORMAT_BMP && n >= 34) {
        uint32_t bpp = le16(d + 28), how = le16(d + 30);
        if (bpp >= 1 && bpp <= 8)
            bits = bpp, color = "palette";
        else if (bpp == 16)
            bits = 5;
        comp = how == 1 || how == 2 ? "rle" : "";
    } else if (fmt == HDM_FORMAT_TGA && n >= 18) {
        unsigned type = d[2] & 7, bpp = d[16];
        if (type == 1)
            color = "palette";
        bits = type != 2 ? bpp : bpp == 15 || bpp == 16 ? 5 : 8;
        comp = d[2] & 8 ? "rle" : "";
    } else if (fmt == HDM_FORMAT_GIF && n >= 13) {
        color = "palette";
        bits = d[10] & 0x80 ? (d[10] & 7u) + 1 : 8;
    } else if (fmt == HDM_FORMAT_PSD && n >= 26) {
        static const char *const modes[] = {"gray", "gray", "palette", "", "cmyk", "", "",
                                            "multichannel", "duotone", "lab"};
        uint32_t mode = be16(d + 24);
        bits = be16(d + 22);
        if (mode < sizeof modes / sizeof modes[0] && modes[mode][0])
            color = modes[mode];
        size_t at = 26;
        for (int i = 0; i < 3 && at + 4 <= n; i++) {
            uint32_t len = be32(d + at);
            at = len > n - at - 4 ? n : at + 4 + len;
        }
        if (at + 2 <= n) {
            uint32_t how = be16(d + at);
            comp = how == 1 ? "rle" : how == 2 || how == 3 ? "zip" : "";
        }
    } else if (fmt == HDM_FORMAT_PNM) {
        pnm_header p = pnm_read_header(d, n);
        for (bits = 0; bits < 16 && p.maxval >> bits; bits++)
            ;
    }
    out->bits = bits;
    snprintf(out->color, sizeof out->color, "%s", color);
    snprintf(out->compression, sizeof out->compression, "%s", comp);
}

static hdm_status stb_info(const hdm__codec *c, FILE *f, const char *path,
                           const hdm_options *opt, hdm_info *out,
                           hdm_file_info *detail, hdm_error *err)
{
    /* Headers sit at the start: read a prefix, and more only
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
        st = stb_header(c, buf, len, at_end, path, opt, out, err);
        if (!st)
            stored_form(c->pub.format, buf, len, out, detail);
        if (!st || at_end || st == HDM_ERR_LIMIT || cap >= opt->max_memory || cap > INT32_MAX / 2)
            break;
        cap *= 2;
    }
    free(buf);
    fclose(f);
    return st;
}

static hdm_status stb_source(const hdm__codec *c, const void *data, size_t size,
                             const char *path, const hdm_options *opt, hdm__source **out,
                             hdm_error *err)
{
    *out = NULL;
    hdm_info info;
    hdm_status st = stb_header(c, data, size, true, path, opt, &info, err);
    if (st)
        return st;
    hdm_format fmt = info.format;
    int w = (int)info.width, h = (int)info.height, comp = (int)info.channels;
    uint64_t peak = decode_peak(&info) + size; /* the file's bytes are held throughout */
    if (peak > opt->max_memory)
        return hdm__fail(err, HDM_ERR_LIMIT, path,
                         "decoding needs about %llu bytes, above the memory limit of %llu "
                         "(max_memory)", (unsigned long long)peak,
                         (unsigned long long)opt->max_memory);

    hdm_image *img;
    if (fmt == HDM_FORMAT_PNM) { /* raw samples: read here, to check and scale them */
        pnm_header p = pnm_read_header(data, size);
        if (p.w != info.width || p.h != info.height || p.comp != info.channels ||
            (p.maxval > 255) != (info.depth == HDM_U16))
            return hdm__fail(err, HDM_ERR_CORRUPT, path, "corrupt pnm: header and data disagree");
        st = hdm__image_new(info.width, info.height, info.channels, info.depth, &img, path, err);
        if (st)
            return st;
        st = pnm_decode(data, size, path, img, err);
        if (st) {
            hdm_image_free(img);
            return st;
        }
        goto done;
    }
    int dw, dh, dc;
    void *pix;
    stb_forget_failure();
    if (info.depth == HDM_F32)
        pix = stbi_loadf_from_memory(data, (int)size, &dw, &dh, &dc, 0);
    else if (info.depth == HDM_U16)
        pix = stbi_load_16_from_memory(data, (int)size, &dw, &dh, &dc, 0);
    else
        pix = stbi_load_from_memory(data, (int)size, &dw, &dh, &dc, 0); /* GIF: first frame */
    if (!pix)
        return stb_fail(err, path, c, "cannot decode");
    if (dw != w || dh != h || dc != comp) {
        stbi_image_free(pix);
        return hdm__fail(err, HDM_ERR_CORRUPT, path, "corrupt %s: header and data disagree",
                         c->pub.name);
    }
    st = hdm__image_new(info.width, info.height, info.channels, info.depth, &img, path, err);
    if (st) {
        stbi_image_free(pix);
        return st;
    }
    size_t rowbytes = (size_t)info.width * info.channels * (size_t)info.depth;
    for (uint32_t y = 0; y < info.height; y++)
        hdm__row_to_planes(img, y, (const unsigned char *)pix + y * rowbytes);
    stbi_image_free(pix);
done:
    return hdm__source_from_image(img, true, path, fmt, out, err);
}

/* ---- writing: stb_image_write encodes whole images, so the sink gathers every row ---- */

typedef struct stb_sink {
    hdm__sink base;
    hdm_format fmt;
    const char *name;
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
    size_t rowbytes = (size_t)s->info.width * s->info.channels * (size_t)s->info.depth;
    for (uint32_t y = 0; y < rows; y++)
        hdm__row_from_planes(k->buf + (size_t)(k->rows_in + y) * rowbytes, strip, y);
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
    case HDM_FORMAT_BMP: ok = stbi_write_bmp_to_func(on_bytes, k->bytes, w, h, c, k->buf); break;
    case HDM_FORMAT_TGA: ok = stbi_write_tga_to_func(on_bytes, k->bytes, w, h, c, k->buf); break;
    case HDM_FORMAT_HDR: ok = stbi_write_hdr_to_func(on_bytes, k->bytes, w, h, c, (float *)k->buf); break;
    default: break;
    }
    if (k->bytes->failed)
        return hdm__fail(err, HDM_ERR_IO, s->path, "cannot write %s: %s", k->name,
                         hdm__bytes_error(k->bytes));
    if (!ok)
        return hdm__fail(err, HDM_ERR_IO, s->path, "cannot write %s", k->name);
    return HDM_OK;
}

static hdm_status stb_sink_open(const hdm__codec *c, const hdm_info *info,
                                const hdm_options *opt,
                                const hdm__meta *meta, hdm__bytes *b, const char *path,
                                hdm__sink **out, hdm_error *err)
{
    (void)meta;
    (void)opt;
    hdm_format fmt = c->pub.format;
    size_t bytes;
    if (info->width > INT32_MAX || info->height > INT32_MAX ||
        hdm_size_bytes(info->width, info->height, info->channels, info->depth, &bytes))
        return hdm__fail(err, HDM_ERR_LIMIT, path, "image too large for %s", c->pub.name);
    /* What the format's header can hold: TGA's header stores 16-bit sizes
     * (stb_image_write would wrap them); stb's BMP writer computes the file size in an int
     * (the 32-bit bfSize), rows padded to 4 bytes, 4 bytes a pixel with alpha. HDR writes
     * its sizes as text. */
    uint64_t w = info->width, h = info->height;
    if (fmt == HDM_FORMAT_TGA && (w > 65535 || h > 65535))
        return hdm__fail(err, HDM_ERR_LIMIT, path, "%llux%llu is too large for %s (at most "
                         "65535x65535)", (unsigned long long)w, (unsigned long long)h,
                         "TGA");
    if (fmt == HDM_FORMAT_BMP) {
        uint64_t file = info->channels == 4 ? 122 + w * h * 4 : 54 + ((w * 3 + 3) & ~3ull) * h;
        if (file > INT32_MAX)
            return hdm__fail(err, HDM_ERR_LIMIT, path, "%llux%llu is too large for BMP (at most "
                             "2147483647 bytes)", (unsigned long long)w, (unsigned long long)h);
    }
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
    k->name = c->pub.name;
    k->base.held = bytes;
    k->bytes = b;
    *out = &k->base;
    return HDM_OK;
}

/* ---- the table's entries: every format here is read by stb_source, some written by
 * stb_sink_open ---- */

static bool gif_sniff(const unsigned char *h, size_t n)
{
    return n >= 6 && (memcmp(h, "GIF87a", 6) == 0 || memcmp(h, "GIF89a", 6) == 0);
}

static bool bmp_sniff(const unsigned char *h, size_t n)
{
    return n >= 2 && h[0] == 'B' && h[1] == 'M';
}

static bool psd_sniff(const unsigned char *h, size_t n)
{
    return n >= 4 && memcmp(h, "8BPS", 4) == 0;
}

/* TGA has no signature: accept a header whose fields are all ones a TGA can have
 * (Truevision TGA 2.0 specification, "Image Specification" field table). */
static bool tga_sniff(const unsigned char *h, size_t n)
{
    if (n < 18)
        return false;
    unsigned cmap = h[1], type = h[2], bpp = h[16];
    unsigned w = h[12] | h[13] << 8, ht = h[14] | h[15] << 8;
    if (cmap > 1 || w == 0 || ht == 0)
        return false;
    if (!(type == 1 || type == 2 || type == 3 || type == 9 || type == 10 || type == 11))
        return false;
    if ((type == 1 || type == 9) != (cmap == 1))
        return false;
    return bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}

static bool hdr_sniff(const unsigned char *h, size_t n)
{
    return (n >= 10 && memcmp(h, "#?RADIANCE", 10) == 0) || (n >= 6 && memcmp(h, "#?RGBE", 6) == 0);
}

/* Binary graymap and pixmap (P5, P6), the two stb reads. */
static bool pnm_sniff(const unsigned char *h, size_t n)
{
    return n >= 3 && h[0] == 'P' && (h[1] == '5' || h[1] == '6') &&
           (h[2] == ' ' || h[2] == '\t' || h[2] == '\n' || h[2] == '\r' || h[2] == '#');
}

/* Formats read only: no output extension. */
static const char *const no_extensions[] = {NULL};

/* stb_image_write's BMP keeps alpha only for RGBA (32 bits a pixel) and writes the rest as
 * RGB; its TGA keeps all four layouts; its HDR is RGB. */
const hdm__codec hdm__codec_gif = {
    .pub = {.format = HDM_FORMAT_GIF, .name = "gif", .extensions = no_extensions,
            .read_extensions = (const char *const[]){"gif", NULL}, .depths = HDM_U8},
    .sniff = gif_sniff, .info = stb_info, .source_memory = stb_source,
};

const hdm__codec hdm__codec_bmp = {
    .pub = {.format = HDM_FORMAT_BMP, .name = "bmp",
            .extensions = (const char *const[]){"bmp", NULL},
            .read_extensions = (const char *const[]){"bmp", NULL},
            .writable = 1, .depths = HDM_U8, .layouts = 1u << 2 | 1u << 3},
    .sniff = bmp_sniff, .info = stb_info, .source_memory = stb_source, .sink = stb_sink_open,
};

const hdm__codec hdm__codec_psd = {
    .pub = {.format = HDM_FORMAT_PSD, .name = "psd", .extensions = no_extensions,
            .read_extensions = (const char *const[]){"psd", NULL}, .depths = HDM_U8 | HDM_U16},
    .sniff = psd_sniff, .info = stb_info, .source_memory = stb_source,
};

const hdm__codec hdm__codec_tga = {
    .pub = {.format = HDM_FORMAT_TGA, .name = "tga",
            .extensions = (const char *const[]){"tga", NULL},
            .read_extensions = (const char *const[]){"tga", NULL},
            .writable = 1, .depths = HDM_U8, .layouts = 0xf},
    .sniff = tga_sniff, .sniff_last = true,
    .info = stb_info, .source_memory = stb_source, .sink = stb_sink_open,
};

const hdm__codec hdm__codec_hdr = {
    .pub = {.format = HDM_FORMAT_HDR, .name = "hdr",
            .extensions = (const char *const[]){"hdr", NULL},
            .read_extensions = (const char *const[]){"hdr", NULL},
            .writable = 1, .depths = HDM_F32, .layouts = 1u << 2},
    .sniff = hdr_sniff, .info = stb_info, .source_memory = stb_source, .sink = stb_sink_open,
};

const hdm__codec hdm__codec_pnm = {
    .pub = {.format = HDM_FORMAT_PNM, .name = "pnm", .extensions = no_extensions,
            .read_extensions = (const char *const[]){"pnm", "ppm", "pgm", NULL},
            .depths = HDM_U8 | HDM_U16},
    .sniff = pnm_sniff, .info = stb_info, .source_memory = stb_source,
};
