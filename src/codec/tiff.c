/* SPDX-License-Identifier: MIT */
/* tiff.c — TIFF input through libtiff, a scanline, strip or row of tiles at a time (output:
 * tiff_write.c) */
#include "codec/metadata.h"
#include "codec/tiff.h"
#include "kernel/kernel.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The first page (image file directory) is read; libtiff reads through our procedures over the
 * FILE or the bytes in memory. How the pixels come depends on how they are stored:
 * - strips, samples interleaved: TIFFReadScanline, a row at a time (libtiff reads a large
 *   compressed strip in pieces), so nothing of the image is held;
 * - strips, one plane per sample: a strip of every plane at once (TIFFReadEncodedStrip);
 * - tiles: a row of tiles at once, every plane.
 * What each holds is counted against max_memory from the header, before it is allocated, and
 * libtiff's own largest allocation is capped at max_memory too. Samples then become ours:
 * 1, 2 and 4-bit gray scaled to 8 bits, a palette looked up (8-bit when its entries are, else
 * 16), CMYK turned into RGB, associated alpha un-premultiplied, min-is-white inverted. */

/* ---- libtiff's input ---- */

/* The input libtiff reads: a FILE (positioned by each read) or bytes in memory. */
typedef struct tiff_in {
    FILE *f;
    const unsigned char *mem;
    uint64_t size, pos;
} tiff_in;

static tmsize_t in_read(thandle_t h, void *buf, tmsize_t n)
{
    tiff_in *in = h;
    if (n <= 0 || in->pos >= in->size)
        return 0;
    uint64_t left = in->size - in->pos;
    size_t want = (uint64_t)n < left ? (size_t)n : (size_t)left;
    size_t got;
    if (in->mem) {
        memcpy(buf, in->mem + in->pos, want);
        got = want;
    } else {
        if (fseeko(in->f, (off_t)in->pos, SEEK_SET) != 0)
            return -1;
        got = fread(buf, 1, want, in->f);
        if (got == 0 && ferror(in->f))
            return -1;
    }
    in->pos += got;
    return (tmsize_t)got;
}

static tmsize_t in_write(thandle_t h, void *buf, tmsize_t n)
{
    (void)h, (void)buf, (void)n;
    return -1;
}

static toff_t in_seek(thandle_t h, toff_t off, int whence)
{
    tiff_in *in = h;
    uint64_t base = whence == SEEK_CUR ? in->pos : whence == SEEK_END ? in->size : 0;
    if (off > UINT64_MAX - base)
        return (toff_t)-1;
    in->pos = base + off;
    return in->pos;
}

static int in_close(thandle_t h)
{
    (void)h; /* the FILE is the source's, closed with it */
    return 0;
}

static toff_t in_size(thandle_t h) { return ((tiff_in *)h)->size; }

/* Bytes in memory are handed over as a mapping, so libtiff reads uncompressed strips in place. */
static int in_map(thandle_t h, void **base, toff_t *size)
{
    tiff_in *in = h;
    if (!in->mem)
        return 0;
    *base = (void *)in->mem;
    *size = in->size;
    return 1;
}

static void in_unmap(thandle_t h, void *base, toff_t size) { (void)h, (void)base, (void)size; }

/* ---- the source ---- */

enum { BY_SCANLINE, BY_STRIP, BY_TILES };

typedef struct tiff_source {
    hdm__source base;
    TIFF *tif;
    tiff_in in;
    hdm__tiff_msg msg;
    char *path;
    uint16_t bps, spp, photometric, sampleformat;
    bool separate;          /* one plane per sample */
    bool miniswhite, palette, cmyk, assoc, direct;
    int alpha;              /* the sample taken as alpha, or -1 */
    unsigned colours;       /* colour samples before alpha: 1 gray or index, 3 RGB, 4 CMYK */
    uint16_t *cmap[3];      /* libtiff's */
    bool cmap8;             /* its entries hold 8 bits (scaled by 257, or plain 0..255) */
    bool cmap_plain;        /* ... plain 0..255, as some old writers put them */
    int mode;
    uint32_t band_y, band_rows; /* rows of the file in band: [band_y, band_y + band_rows) */
    uint32_t unit_rows;     /* rows a strip or tile row holds */
    size_t plane_row;       /* bytes of one row of one plane in band */
    unsigned char *band;    /* a strip or tile row of every plane (planes one after another) */
    unsigned char *tile;    /* one tile, decoded */
    size_t tile_bytes;
    uint32_t tw, th;
    unsigned char *row;     /* one row in our layout: width × channels of our depth */
} tiff_source;

static void tiff_source_close(hdm__source *s)
{
    tiff_source *p = (tiff_source *)s;
    hdm__meta_free(&p->base.meta);
    if (p->tif)
        TIFFClose(p->tif);
    if (p->in.f)
        fclose(p->in.f);
    free(p->band);
    free(p->tile);
    free(p->row);
    free(p->path);
    free(p);
}

/* Whether s starts with a position as libtiff's messages give one (" at scanline 7",
 * ", col 0", " on strip 3"); its length, or 0. */
static size_t position_at(const char *s)
{
    static const char *const lead[] = {" at ", " on ", " for ", ", "};
    static const char *const unit[] = {"scanline ", "row ", "col ", "strip ", "tile "};
    for (size_t i = 0; i < sizeof lead / sizeof *lead; i++) {
        size_t a = strlen(lead[i]);
        if (strncmp(s, lead[i], a))
            continue;
        for (size_t k = 0; k < sizeof unit / sizeof *unit; k++) {
            size_t b = strlen(unit[k]), n = a + b;
            if (strncmp(s + a, unit[k], b) || s[n] < '0' || s[n] > '9')
                continue;
            while (s[n] >= '0' && s[n] <= '9')
                n++;
            return n;
        }
    }
    return 0;
}

/* libtiff's message for a failed decode, without the positions it gives: a strip's or tile's
 * bytes are read before libtiff sets its row and column counters (tif_read.c), so there they
 * say 4294967295 (unset) or the row of the strip read before. The position is said from ours
 * instead. A short read says how much of the data is there; libtiff's count for data that
 * start past the end of bytes in memory is negative, taken as unsigned. */
static void libtiff_cause(const char *text, char *out, size_t cap)
{
    char plain[sizeof ((hdm__tiff_msg *)0)->text];
    size_t n = 0;
    for (const char *s = text; *s && n + 1 < sizeof plain;) {
        size_t skip = position_at(s);
        if (skip)
            s += skip;
        else
            plain[n++] = *s++;
    }
    plain[n] = '\0';
    unsigned long long got, want;
    int end = 0;
    if (sscanf(plain, "Read error; got %llu bytes, expected %llu%n", &got, &want, &end) == 2 &&
        !plain[end])
        snprintf(out, cap, got < want ? "its data end early (%llu of %llu bytes in the file)"
                                      : "its data lie past the end of the file", got, want);
    else
        snprintf(out, cap, "%s", plain[0] ? plain : "cannot decode the pixels");
}

/* A decode that failed at row y of the file: the row, the strip or the tile (and its plane)
 * it is in, and libtiff's cause. */
static hdm_status decode_failed(tiff_source *p, uint32_t y, uint32_t x, uint16_t plane,
                                hdm_error *err)
{
    char cause[300], where[128];
    libtiff_cause(p->msg.text, cause, sizeof cause);
    uint32_t h = p->base.info.height, w = p->base.info.width;
    char of_plane[32] = "";
    if (p->separate)
        snprintf(of_plane, sizeof of_plane, ", plane %u", (unsigned)plane);
    if (p->mode == BY_SCANLINE) {
        snprintf(where, sizeof where, "row %u (strip %u)", y, TIFFComputeStrip(p->tif, y, 0));
    } else if (p->mode == BY_STRIP) {
        uint32_t last = y + p->unit_rows - 1 < h ? y + p->unit_rows - 1 : h - 1;
        snprintf(where, sizeof where, "strip %u (rows %u to %u%s)",
                 TIFFComputeStrip(p->tif, y, plane), y, last, of_plane);
    } else {
        uint32_t last = y + p->th - 1 < h ? y + p->th - 1 : h - 1;
        uint32_t right = x + p->tw - 1 < w ? x + p->tw - 1 : w - 1;
        snprintf(where, sizeof where, "tile %u (rows %u to %u, columns %u to %u%s)",
                 TIFFComputeTile(p->tif, x, y, 0, plane), y, last, x, right, of_plane);
    }
    return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "corrupt TIFF: %s: %s", where, cause);
}

/* Sample i of a row of bps-bit samples, as libtiff gives them (host order; below 8 bits packed
 * from the high bit down). */
static inline uint32_t packed(const unsigned char *r, unsigned bps, size_t i)
{
    switch (bps) {
    case 8:
        return r[i];
    case 16: {
        uint16_t v;
        memcpy(&v, r + 2 * i, 2);
        return v;
    }
    case 32: {
        uint32_t v;
        memcpy(&v, r + 4 * i, 4);
        return v;
    }
    default: {
        size_t bit = i * bps;
        return (uint32_t)(r[bit >> 3] >> (8 - bps - (bit & 7))) & ((1u << bps) - 1);
    }
    }
}

/* round(a * b / m), exactly, for m = 255 or 65535 */
static uint32_t mul_norm(uint32_t a, uint32_t b, uint32_t m)
{
    return (uint32_t)(((uint64_t)a * b + m / 2) / m);
}

/* An integer sample of bps bits at the depth of out (8 bits for fewer, 16 when out is). */
static uint32_t widen(uint32_t v, unsigned bps, hdm_depth out)
{
    if (bps < 8)
        v *= 255u / ((1u << bps) - 1);
    if (out == HDM_U16 && bps <= 8)
        v *= 257u;
    return v;
}

/* One row of the file (a pointer per plane, or one for interleaved samples) into p->row. */
static void convert_row(tiff_source *p, const unsigned char *const *planes)
{
    const hdm_info *in = &p->base.info;
    unsigned ch = in->channels, colours = ch - (p->alpha >= 0);
    unsigned want = p->alpha >= 0 ? (unsigned)p->alpha + 1 : p->colours;
    unsigned bps = p->bps;
    uint32_t m = in->depth == HDM_U16 ? 65535u : 255u;
    for (uint32_t x = 0; x < in->width; x++) {
        uint32_t raw[5];
        for (unsigned s = 0; s < want; s++)
            raw[s] = p->separate ? packed(planes[s], bps, x)
                                 : packed(planes[0], bps, (size_t)x * p->spp + s);
        if (in->depth == HDM_F32) {
            float v[5], o[4];
            memcpy(v, raw, sizeof(float) * want);
            if (p->cmyk)
                for (unsigned c = 0; c < 3; c++)
                    o[c] = (1.0f - v[c]) * (1.0f - v[3]);
            else
                for (unsigned c = 0; c < colours; c++)
                    o[c] = p->miniswhite ? 1.0f - v[c] : v[c];
            if (p->alpha >= 0) {
                float a = v[p->alpha];
                o[colours] = a;
                if (p->assoc)
                    for (unsigned c = 0; c < colours; c++)
                        o[c] = a > 0.0f ? o[c] / a : 0.0f;
            }
            memcpy(p->row + (size_t)x * ch * 4, o, sizeof(float) * ch);
            continue;
        }
        uint32_t o[4];
        if (p->palette) {
            for (unsigned c = 0; c < 3; c++) {
                uint32_t e = p->cmap[c][raw[0]];
                o[c] = p->cmap_plain ? e : p->cmap8 ? e >> 8 : e;
            }
        } else if (p->cmyk) {
            uint32_t k = m - widen(raw[3], bps, in->depth);
            for (unsigned c = 0; c < 3; c++)
                o[c] = mul_norm(m - widen(raw[c], bps, in->depth), k, m);
        } else {
            for (unsigned c = 0; c < colours; c++) {
                uint32_t v = widen(raw[c], bps, in->depth);
                o[c] = p->miniswhite ? m - v : v;
            }
        }
        if (p->alpha >= 0) {
            uint32_t a = widen(raw[p->alpha], bps, in->depth);
            o[colours] = a;
            /* associated alpha: the colours were multiplied by it (TIFF 6.0, ExtraSamples) */
            if (p->assoc)
                for (unsigned c = 0; c < colours; c++) {
                    uint64_t v = a ? ((uint64_t)o[c] * m + a / 2) / a : 0;
                    o[c] = v > m ? m : (uint32_t)v;
                }
        }
        if (in->depth == HDM_U16) {
            uint16_t *d = (uint16_t *)p->row + (size_t)x * ch;
            for (unsigned c = 0; c < ch; c++)
                d[c] = (uint16_t)o[c];
        } else {
            unsigned char *d = p->row + (size_t)x * ch;
            for (unsigned c = 0; c < ch; c++)
                d[c] = (unsigned char)o[c];
        }
    }
}

/* Decodes the strip or row of tiles holding row y, of every plane, into band. */
static hdm_status fill_band(tiff_source *p, uint32_t y, hdm_error *err)
{
    uint32_t h = p->base.info.height;
    p->band_y = y - y % p->unit_rows;
    p->band_rows = h - p->band_y < p->unit_rows ? h - p->band_y : p->unit_rows;
    unsigned planes = p->separate ? p->spp : 1;
    for (unsigned s = 0; s < planes; s++) {
        unsigned char *dst = p->band + (size_t)s * p->unit_rows * p->plane_row;
        if (p->mode == BY_STRIP) {
            tmsize_t want = (tmsize_t)(p->band_rows * p->plane_row);
            uint32_t strip = TIFFComputeStrip(p->tif, p->band_y, (uint16_t)s);
            if (TIFFReadEncodedStrip(p->tif, strip, dst, want) != want || p->msg.failed)
                return decode_failed(p, p->band_y, 0, (uint16_t)s, err);
            continue;
        }
        size_t trb = (size_t)TIFFTileRowSize64(p->tif);
        for (uint32_t x = 0, col = 0; x < p->base.info.width; x += p->tw, col++) {
            uint32_t tile = TIFFComputeTile(p->tif, x, p->band_y, 0, (uint16_t)s);
            if (TIFFReadEncodedTile(p->tif, tile, p->tile, (tmsize_t)p->tile_bytes) !=
                    (tmsize_t)p->tile_bytes || p->msg.failed)
                return decode_failed(p, p->band_y, x, (uint16_t)s, err);
            for (uint32_t r = 0; r < p->band_rows; r++)
                memcpy(dst + (size_t)r * p->plane_row + (size_t)col * trb, p->tile + r * trb,
                       trb);
        }
    }
    return HDM_OK;
}

static hdm_status read_rows(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    tiff_source *p = (tiff_source *)s;
    const unsigned char *planes[5] = {0};
    for (uint32_t r = 0; r < rows; r++) {
        uint32_t y = s->next + r;
        if (p->mode == BY_SCANLINE) {
            if (TIFFReadScanline(p->tif, p->band, y, 0) < 0 || p->msg.failed)
                return decode_failed(p, y, 0, 0, err);
            planes[0] = p->band;
        } else {
            if (y >= p->band_y + p->band_rows || y < p->band_y) {
                hdm_status st = fill_band(p, y, err);
                if (st)
                    return st;
            }
            unsigned n = p->separate ? p->spp : 1;
            for (unsigned k = 0; k < n && k < 5; k++)
                planes[k] = p->band + ((size_t)k * p->unit_rows + (y - p->band_y)) * p->plane_row;
        }
        if (p->direct) {
            hdm__row_to_planes(strip, r, planes[0]);
        } else {
            convert_row(p, planes);
            hdm__row_to_planes(strip, r, p->row);
        }
    }
    return HDM_OK;
}

static const char *photometric_name(uint16_t ph)
{
    switch (ph) {
    case PHOTOMETRIC_YCBCR: return "YCbCr without JPEG compression";
    case PHOTOMETRIC_SEPARATED: return "separated inks other than CMYK";
    case PHOTOMETRIC_CIELAB: case PHOTOMETRIC_ICCLAB: case PHOTOMETRIC_ITULAB: return "Lab";
    case PHOTOMETRIC_LOGL: case PHOTOMETRIC_LOGLUV: return "LogLuv";
    case PHOTOMETRIC_MASK: return "a transparency mask";
    default: return "an unknown photometric interpretation";
    }
}

/* Reads the first directory and fills p->base.info, checking it against the limits: nothing
 * of the pixels is allocated or read. */
static hdm_status tiff_header(tiff_source *p, const hdm_options *opt, hdm_error *err)
{
    TIFFOpenOptions *o = hdm__tiff_options(&p->msg, opt->max_memory);
    if (!o)
        return hdm__fail(err, HDM_ERR_NOMEM, p->path, "out of memory");
    p->tif = TIFFClientOpenExt(p->path, "r", &p->in, in_read, in_write, in_seek, in_close,
                               in_size, in_map, in_unmap, o);
    TIFFOpenOptionsFree(o);
    if (!p->tif)
        return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "corrupt TIFF: %s",
                         p->msg.text[0] ? p->msg.text : "cannot read its header");
    TIFF *t = p->tif;
    uint32_t w = 0, h = 0;
    uint16_t planar = PLANARCONFIG_CONTIG, compression = COMPRESSION_NONE;
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &p->bps);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &p->spp);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &p->sampleformat);
    TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &compression);
    if (!TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &p->photometric))
        p->photometric = p->spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
    p->separate = planar == PLANARCONFIG_SEPARATE && p->spp > 1;

    bool is_float = p->sampleformat == SAMPLEFORMAT_IEEEFP;
    if (is_float ? p->bps != 32
                 : (p->sampleformat != SAMPLEFORMAT_UINT && p->sampleformat != SAMPLEFORMAT_VOID) ||
                   (p->bps != 1 && p->bps != 2 && p->bps != 4 && p->bps != 8 && p->bps != 16))
        return hdm__fail(err, HDM_ERR_FORMAT, p->path,
                         "TIFF samples of %u bits%s are not supported (1, 2, 4, 8 or 16-bit "
                         "unsigned integers, or 32-bit floats)", (unsigned)p->bps,
                         is_float ? " (floating point)"
                         : p->sampleformat == SAMPLEFORMAT_INT ? " (signed)" : "");
    switch (p->photometric) {
    case PHOTOMETRIC_MINISWHITE:
        p->miniswhite = true;
        /* fall through */
    case PHOTOMETRIC_MINISBLACK:
        p->colours = 1;
        break;
    case PHOTOMETRIC_RGB:
        p->colours = 3;
        break;
    case PHOTOMETRIC_PALETTE:
        p->colours = 1;
        p->palette = true;
        break;
    case PHOTOMETRIC_SEPARATED: {
        uint16_t inkset = INKSET_CMYK;
        TIFFGetFieldDefaulted(t, TIFFTAG_INKSET, &inkset);
        if (inkset != INKSET_CMYK || p->spp < 4)
            return hdm__fail(err, HDM_ERR_FORMAT, p->path, "TIFF of %s is not supported",
                             photometric_name(p->photometric));
        p->colours = 4;
        p->cmyk = true;
        break;
    }
    case PHOTOMETRIC_YCBCR:
        /* libjpeg turns it into RGB, upsampling the chroma (libtiff's JPEGCOLORMODE) */
        if (compression == COMPRESSION_JPEG && p->spp == 3 && !is_float &&
            TIFFSetField(t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB)) {
            p->colours = 3;
            break;
        }
        /* fall through */
    default:
        return hdm__fail(err, HDM_ERR_FORMAT, p->path, "TIFF of %s is not supported",
                         photometric_name(p->photometric));
    }
    if (p->spp < p->colours)
        return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "corrupt TIFF: %u samples a pixel for "
                         "%u colours", (unsigned)p->spp, p->colours);
    if (p->palette && is_float)
        return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "corrupt TIFF: a palette of floats");
    hdm_depth depth = is_float ? HDM_F32 : p->bps == 16 ? HDM_U16 : HDM_U8;
    if (p->palette) {
        if (!TIFFGetField(t, TIFFTAG_COLORMAP, &p->cmap[0], &p->cmap[1], &p->cmap[2]))
            return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "corrupt TIFF: a palette image "
                             "without a colour map");
        /* 16-bit entries; most writers scale 8-bit colours by 257, some old ones store them
         * as they are (libtiff's tif_getimage.c checks the same) */
        bool plain = true, scaled = true;
        for (uint32_t i = 0; i < (1u << p->bps); i++)
            for (int c = 0; c < 3; c++) {
                uint16_t e = p->cmap[c][i];
                plain &= e < 256;
                scaled &= (e >> 8) == (e & 0xff);
            }
        p->cmap_plain = plain && !scaled;
        p->cmap8 = scaled || plain;
        depth = p->cmap8 ? HDM_U8 : HDM_U16;
    }
    p->alpha = -1;
    if (p->spp > p->colours) {
        uint16_t n = 0, *types = NULL;
        TIFFGetFieldDefaulted(t, TIFFTAG_EXTRASAMPLES, &n, &types);
        /* the first extra sample is alpha, whether the file says so (associated or not) or
         * leaves it unspecified, as libvips takes it too; any others are dropped */
        p->alpha = (int)p->colours;
        p->assoc = n >= 1 && types && types[0] == EXTRASAMPLE_ASSOCALPHA;
    }
    unsigned channels = (p->palette || p->cmyk ? 3 : p->colours) + (p->alpha >= 0);
    p->base.info = (hdm_info){w, h, channels, depth, HDM_FORMAT_TIFF};
    hdm_status st = hdm__check_size(&p->base.info, opt, p->path, err);
    if (st)
        return st;
    p->direct = !p->palette && !p->cmyk && !p->miniswhite && !p->assoc && !p->separate &&
                p->bps >= 8 && p->spp == channels;
    p->msg.text[0] = '\0'; /* warnings about the directory are not kept for later messages */
    return HDM_OK;
}

/* ---- metadata ---- */

enum {
    EXIF_MAX = 4 << 20,  /* bytes of EXIF values carried from the file's own directories */
    PAGES_MAX = 65536,   /* pages counted for info */
};

/* The file's bytes at off, for its EXIF and GPS directories; libtiff's position is kept. */
static bool read_at(void *ctx, uint64_t off, void *buf, size_t n)
{
    tiff_in *in = ctx;
    uint64_t pos = in->pos;
    in->pos = off;
    bool ok = off <= in->size && n <= in->size - off &&
              in_read(in, buf, (tmsize_t)n) == (tmsize_t)n;
    in->pos = pos;
    return ok;
}

/* The text tags of IFD0 that EXIF keeps there too (EXIF 2.32, 4.6.4 A). */
static const uint16_t text_tags[] = {TIFFTAG_IMAGEDESCRIPTION, TIFFTAG_MAKE, TIFFTAG_MODEL,
                                     TIFFTAG_DATETIME, TIFFTAG_ARTIST, TIFFTAG_COPYRIGHT};

/* EXIF as a self-contained block: IFD0's Orientation and text tags, and the EXIF and GPS
 * directories copied as they are. Only when the file has one of those directories or turns
 * its pixels: an Orientation of 1 alone is no EXIF. A block that cannot be built is left out. */
static bool exif_block(tiff_source *p, uint64_t max, hdm__meta *m)
{
    TIFF *t = p->tif;
    bool be = TIFFIsBigEndian(t);
    uint64_t off;
    hdm__ifd ifd0 = {.be = be}, sub = {.be = be}, gps = {.be = be};
    bool ok = true;
    size_t cap = max < EXIF_MAX ? (size_t)max : EXIF_MAX;
    if (!TIFFIsBigTIFF(t)) { /* BigTIFF's directories are of another form: not carried */
        if (TIFFGetField(t, TIFFTAG_EXIFIFD, &off) && off &&
            !hdm__ifd_read(read_at, &p->in, be, off, cap, &sub))
            hdm__ifd_free(&sub);
        if (TIFFGetField(t, TIFFTAG_GPSIFD, &off) && off &&
            !hdm__ifd_read(read_at, &p->in, be, off, cap, &gps))
            hdm__ifd_free(&gps);
        hdm__ifd_remove(&sub, HDM_TAG_INTEROP_IFD);
    }
    if (!sub.n && !gps.n && (m->orientation == 0 || m->orientation == 1))
        return true;
    if (m->orientation)
        ok = hdm__ifd_set_short(&ifd0, TIFFTAG_ORIENTATION, m->orientation);
    for (size_t i = 0; ok && i < sizeof text_tags / sizeof *text_tags; i++) {
        const char *v = NULL;
        if (TIFFGetField(t, text_tags[i], &v) && v) {
            size_t n = strlen(v) + 1;
            ok = n <= UINT32_MAX && hdm__ifd_set(&ifd0, text_tags[i], TIFF_ASCII,
                                                 (uint32_t)n, v);
        }
    }
    if (ok)
        ok = hdm__exif_join(&ifd0, &sub, &gps, &m->exif, &m->exif_size);
    hdm__ifd_free(&ifd0);
    hdm__ifd_free(&sub);
    hdm__ifd_free(&gps);
    return ok;
}

/* The first page's metadata into m: ICC, XMP, EXIF, resolution, Orientation. False only when
 * out of memory. */
static bool read_meta(tiff_source *p, const hdm_options *opt, hdm__meta *m)
{
    TIFF *t = p->tif;
    uint32_t n = 0;
    void *data = NULL;
    uint16_t o = 0;
    if (TIFFGetField(t, TIFFTAG_ORIENTATION, &o) && o >= 1 && o <= 8)
        m->orientation = o;
    if (TIFFGetField(t, TIFFTAG_ICCPROFILE, &n, &data) && n && data &&
        !hdm__meta_set(&m->icc, &m->icc_size, data, n))
        return false;
    if (TIFFGetField(t, TIFFTAG_XMLPACKET, &n, &data) && n && data &&
        !hdm__meta_set(&m->xmp, &m->xmp_size, data, n))
        return false;
    float rx = 0, ry = 0;
    uint16_t unit = RESUNIT_INCH;
    if (TIFFGetField(t, TIFFTAG_XRESOLUTION, &rx) && rx > 0 && rx == rx) {
        if (!TIFFGetField(t, TIFFTAG_YRESOLUTION, &ry) || !(ry > 0))
            ry = rx;
        TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
        m->res_x = rx, m->res_y = ry;
        m->res_unit = unit == RESUNIT_INCH ? 1 : unit == RESUNIT_CENTIMETER ? 2 : 0;
    }
    uint64_t used = m->icc_size + m->xmp_size;
    return exif_block(p, opt->max_memory > used ? opt->max_memory - used : 0, m);
}

static const char *compression_name(uint16_t c)
{
    switch (c) {
    case COMPRESSION_NONE: return "none";
    case COMPRESSION_CCITTRLE: case COMPRESSION_CCITTRLEW: return "ccitt-rle";
    case COMPRESSION_CCITTFAX3: return "ccitt-g3";
    case COMPRESSION_CCITTFAX4: return "ccitt-g4";
    case COMPRESSION_LZW: return "lzw";
    case COMPRESSION_OJPEG: return "old-jpeg";
    case COMPRESSION_JPEG: return "jpeg";
    case COMPRESSION_ADOBE_DEFLATE: case COMPRESSION_DEFLATE: return "deflate";
    case COMPRESSION_PACKBITS: return "packbits";
    case COMPRESSION_ZSTD: return "zstd";
    case COMPRESSION_LZMA: return "lzma";
    case COMPRESSION_WEBP: return "webp";
    case COMPRESSION_JBIG: return "jbig";
    case COMPRESSION_LERC: return "lerc";
    default: return "other";
    }
}

/* What the header says as stored, into d; the pages are counted by walking the chain of
 * directories (libtiff stops at a loop), at most PAGES_MAX. */
static void fill_detail(tiff_source *p, const hdm__meta *m, hdm_file_info *d)
{
    TIFF *t = p->tif;
    uint16_t comp = COMPRESSION_NONE;
    TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &comp);
    d->bits = p->bps;
    bool alpha = p->alpha >= 0;
    const char *color = p->palette ? "palette"
                        : p->cmyk ? (alpha ? "cmyk+alpha" : "cmyk")
                        : p->photometric == PHOTOMETRIC_YCBCR ? "ycbcr"
                        : p->colours == 3 ? (alpha ? "rgba" : "rgb")
                        : alpha ? "gray+alpha" : "gray";
    snprintf(d->color, sizeof d->color, "%s", color);
    snprintf(d->compression, sizeof d->compression, "%s", compression_name(comp));
    hdm__tiff_msg keep = p->msg;
    tdir_t pages = TIFFNumberOfDirectories(t);
    p->msg = keep;
    d->pages = pages == 0 ? 1 : pages > PAGES_MAX ? PAGES_MAX : (uint32_t)pages;
    d->orientation = m->orientation;
    d->icc_size = (uint32_t)m->icc_size;
    hdm__icc_description(m->icc, m->icc_size, d->icc_description, sizeof d->icc_description);
    d->exif_size = (uint32_t)m->exif_size;
    d->xmp_size = (uint32_t)m->xmp_size;
    d->res_x = m->res_x, d->res_y = m->res_y, d->res_unit = m->res_unit;
}

/* a * b into *out, false when it overflows */
static bool mul64(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* Chooses how to read, counts what that holds against max_memory, then allocates it. */
static hdm_status tiff_open(tiff_source *p, const hdm_options *opt, hdm_error *err)
{
    hdm_status st = tiff_header(p, opt, err);
    if (st)
        return st;
    if (!read_meta(p, opt, &p->base.meta))
        return hdm__fail(err, HDM_ERR_NOMEM, p->path, "out of memory");
    p->msg.text[0] = '\0';
    TIFF *t = p->tif;
    const hdm_info *in = &p->base.info;
    unsigned planes = p->separate ? p->spp : 1;
    uint64_t row = (uint64_t)in->width * in->channels * in->depth, band = 0, lib = 0;
    const char *what;
    bool ok = true;
    if (TIFFIsTiled(t)) {
        p->mode = BY_TILES;
        TIFFGetField(t, TIFFTAG_TILEWIDTH, &p->tw);
        TIFFGetField(t, TIFFTAG_TILELENGTH, &p->th);
        uint64_t trb = TIFFTileRowSize64(t), tile = TIFFTileSize64(t);
        if (p->tw == 0 || p->th == 0 || trb == 0 || tile == 0 ||
            ((uint64_t)p->tw * p->spp * p->bps / planes) % 8)
            return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "corrupt TIFF: tiles of %ux%u",
                             p->tw, p->th);
        uint64_t across = ((uint64_t)in->width + p->tw - 1) / p->tw;
        p->unit_rows = p->th;
        ok = mul64(across, trb, &band) && band <= SIZE_MAX;
        p->plane_row = (size_t)band;
        ok = ok && mul64(band, (uint64_t)p->th * planes, &band);
        p->tile_bytes = (size_t)tile;
        lib = 2 * tile; /* ours and libtiff's raw tile */
        what = " (a row of tiles)";
    } else {
        uint32_t rps = in->height;
        TIFFGetFieldDefaulted(t, TIFFTAG_ROWSPERSTRIP, &rps);
        p->unit_rows = rps == 0 || rps > in->height ? in->height : rps;
        uint64_t line = TIFFScanlineSize64(t);
        if (line == 0)
            return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "corrupt TIFF: %s",
                             p->msg.text[0] ? p->msg.text : "no scanline size");
        p->plane_row = (size_t)line;
        if (p->separate) {
            p->mode = BY_STRIP;
            ok = mul64(line, (uint64_t)p->unit_rows * planes, &band);
            lib = band / planes;
            what = " (a strip of every plane)";
        } else {
            /* libtiff reads a strip's compressed bytes whole below 10 MiB, in pieces above
             * (tif_read.c, TIFFSeek), and in place from bytes in memory; never more than the
             * file holds */
            p->mode = BY_SCANLINE;
            band = line;
            lib = 0;
            if (!p->in.mem) {
                uint32_t strips = TIFFNumberOfStrips(t);
                for (uint32_t i = 0; i < strips && lib < (10u << 20); i++) {
                    uint64_t bc = TIFFGetStrileByteCount(t, i);
                    lib = bc > lib ? bc : lib;
                }
                lib = lib < (10u << 20) ? lib : (10u << 20);
                lib = lib < p->in.size ? lib : p->in.size;
            }
            what = "";
        }
    }
    uint64_t held = band + lib + row;
    if (!ok || held > opt->max_memory)
        return hdm__fail(err, HDM_ERR_LIMIT, p->path,
                         "decoding needs about %llu bytes%s, above the memory limit of %llu "
                         "(max_memory)", ok ? (unsigned long long)held : ULLONG_MAX, what,
                         (unsigned long long)opt->max_memory);
    p->base.held = held;
    if (!(p->band = malloc((size_t)band)) || !(p->row = malloc((size_t)row)) ||
        (p->mode == BY_TILES && !(p->tile = malloc(p->tile_bytes))))
        return hdm__fail(err, HDM_ERR_NOMEM, p->path, "out of memory");
    p->msg.decoding = true;
    p->base.read = read_rows;
    return HDM_OK;
}

static tiff_source *tiff_source_alloc(FILE *f, const void *data, size_t size, const char *path,
                                      hdm_error *err)
{
    tiff_source *p = calloc(1, sizeof *p);
    char *name = hdm__strdup(path ? path : "(memory)");
    if (!p || !name) {
        free(p);
        free(name);
        if (f)
            fclose(f);
        hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
        return NULL;
    }
    p->in.f = f;
    p->in.mem = data;
    p->in.size = size;
    if (f) {
        off_t end = fseeko(f, 0, SEEK_END) == 0 ? ftello(f) : -1;
        p->in.size = end > 0 ? (uint64_t)end : 0;
    }
    p->path = name;
    p->base.path = name;
    p->base.close = tiff_source_close;
    return p;
}

static hdm_status tiff_source_new(FILE *f, const void *data, size_t size, const char *path,
                                  const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    tiff_source *p = tiff_source_alloc(f, data, size, path, err);
    if (!p)
        return HDM_ERR_NOMEM;
    hdm_status st = tiff_open(p, opt, err);
    if (st) {
        tiff_source_close(&p->base);
        return st;
    }
    *out = &p->base;
    return HDM_OK;
}

static hdm_status codec_info(const hdm__codec *c, FILE *f, const char *path,
                             const hdm_options *opt, hdm_info *out,
                             hdm_file_info *detail, hdm_error *err)
{
    (void)c;
    tiff_source *p = tiff_source_alloc(f, NULL, 0, path, err);
    if (!p)
        return HDM_ERR_NOMEM;
    hdm_status st = tiff_header(p, opt, err);
    if (!st && !read_meta(p, opt, &p->base.meta))
        st = hdm__fail(err, HDM_ERR_NOMEM, p->path, "out of memory");
    if (!st) {
        *out = p->base.info;
        fill_detail(p, &p->base.meta, detail);
    }
    tiff_source_close(&p->base);
    return st;
}

static hdm_status codec_source(const hdm__codec *c, FILE *f, const char *path,
                               const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    (void)c;
    return tiff_source_new(f, NULL, 0, path, opt, out, err);
}

static hdm_status codec_source_memory(const hdm__codec *c, const void *data, size_t size,
                                      const char *name, const hdm_options *opt,
                                      hdm__source **out, hdm_error *err)
{
    (void)c;
    return tiff_source_new(NULL, data, size, name, opt, out, err);
}

/* ---- the table's entry ---- */

/* The byte order and 42 (TIFF 6.0, section 2 "Image File Header"), or 43 for BigTIFF. */
static bool codec_sniff(const unsigned char *h, size_t n)
{
    return n >= 4 && ((h[0] == 'I' && h[1] == 'I' && (h[2] == 42 || h[2] == 43) && h[3] == 0) ||
                      (h[0] == 'M' && h[1] == 'M' && h[2] == 0 && (h[3] == 42 || h[3] == 43)));
}

const hdm__codec hdm__codec_tiff = {
    .pub = {.format = HDM_FORMAT_TIFF, .name = "tiff",
            .extensions = (const char *const[]){"tif", "tiff", NULL},
            .read_extensions = (const char *const[]){"tif", "tiff", NULL},
            .writable = 1, .depths = HDM_U8 | HDM_U16 | HDM_F32, .layouts = 0xf},
    .sniff = codec_sniff,
    .info = codec_info,
    .source = codec_source,
    .source_memory = codec_source_memory,
    .sink = hdm__tiff_sink,
};
