/* SPDX-License-Identifier: MIT */
/* tiff_write.c — TIFF output through libtiff, a strip at a time as the rows come */
#include "codec/metadata.h"
#include "codec/tiff.h"
#include "kernel/kernel.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Rows gather into a strip of about STRIP_BYTES, which libtiff compresses and appends to the
 * output at once; only the directory comes at the end. libtiff writes to a file it can seek
 * in: it appends strips and the directory, and goes back only to put the directory's offset
 * into the header (and to fill the directory in after the tag data it points at). Our
 * procedures give it that over the append-only output: a write at the end is appended, one
 * before it patches bytes already put (in memory, or in the temporary file with pwrite), a
 * seek past the end leaves zeros. Interleaved samples, unassociated alpha (ExtraSamples 2);
 * deflate, LZW and zstd with the horizontal predictor (the floating-point one for f32). A file
 * that could pass 4 GiB, judged from the uncompressed size, is BigTIFF.
 * Metadata: the ICC profile (ICCProfile; one of another colour space than the image's is left
 * out, with a notice), XMP (XMLPacket), resolution, and EXIF as TIFF holds
 * it — IFD0's Orientation and text tags set on the directory, the EXIF and GPS directories
 * written as bytes after the last strip (libtiff puts its directory at the end of the file,
 * after them) with IFD0 pointing at them. BigTIFF's directories are of another form: there
 * EXIF is left out, with a notice; so are PNG's colour chunks, which TIFF has no place for. */

enum { STRIP_BYTES = 256 << 10 };

typedef struct tiff_out {
    hdm__bytes *b;
    uint64_t base;   /* where the TIFF starts in b */
    uint64_t size;   /* bytes written (the end libtiff sees) */
    uint64_t pos;
} tiff_out;

typedef struct tiff_enc {
    hdm__sink base;
    TIFF *tif;
    tiff_out out;
    hdm__tiff_msg msg;
    unsigned char *strip;
    size_t rowbytes;
    uint32_t rows_per_strip, filled, strip_no;
    hdm__ifd exif, gps;     /* the EXIF and GPS directories, written at finish */
} tiff_enc;

static void put_zeros(hdm__bytes *b, uint64_t n)
{
    static const unsigned char zeros[4096];
    for (; n > 0 && !b->failed; n -= n < sizeof zeros ? n : sizeof zeros)
        hdm__bytes_put(b, zeros, n < sizeof zeros ? (size_t)n : sizeof zeros);
}

/* Rewrites n bytes at off, below what is already out. */
static void patch(tiff_out *o, uint64_t off, const void *data, size_t n)
{
    hdm__bytes *b = o->b;
    if (b->failed)
        return;
    if (!b->out) {
        memcpy(b->mem + o->base + off, data, n);
        return;
    }
    FILE *f = b->out->f;
    const unsigned char *p = data;
    if (fflush(f) != 0)
        goto failed;
    for (size_t done = 0; done < n;) {
        ssize_t w = pwrite(fileno(f), p + done, n - done, (off_t)(o->base + off + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto failed;
        done += (size_t)w;
    }
    return;
failed:
    b->out->failed = true;
    b->out->err_no = errno ? errno : EIO;
    b->failed = true;
}

static tmsize_t out_write(thandle_t h, void *buf, tmsize_t n)
{
    tiff_out *o = h;
    if (n < 0)
        return -1;
    const unsigned char *p = buf;
    uint64_t len = (uint64_t)n;
    if (o->pos < o->size) {
        uint64_t in = o->size - o->pos < len ? o->size - o->pos : len;
        patch(o, o->pos, p, (size_t)in);
        o->pos += in, p += in, len -= in;
    }
    if (len > 0) {
        put_zeros(o->b, o->pos - o->size);
        hdm__bytes_put(o->b, p, (size_t)len);
        o->pos += len;
        o->size = o->pos;
    }
    return o->b->failed ? -1 : n;
}

static tmsize_t out_read(thandle_t h, void *buf, tmsize_t n)
{
    (void)h, (void)buf, (void)n;
    return -1; /* a new file is only written */
}

static toff_t out_seek(thandle_t h, toff_t off, int whence)
{
    tiff_out *o = h;
    uint64_t base = whence == SEEK_CUR ? o->pos : whence == SEEK_END ? o->size : 0;
    o->pos = base + off;
    return o->pos;
}

static int out_close(thandle_t h)
{
    (void)h;
    return 0;
}

static toff_t out_size(thandle_t h) { return ((tiff_out *)h)->size; }

static int out_map(thandle_t h, void **base, toff_t *size)
{
    (void)h, (void)base, (void)size;
    return 0;
}

static void out_unmap(thandle_t h, void *base, toff_t size) { (void)h, (void)base, (void)size; }

static hdm_status enc_failed(tiff_enc *k, hdm_error *err)
{
    if (k->out.b->failed)
        return hdm__fail(err, HDM_ERR_IO, k->base.path, "cannot write TIFF: %s",
                         hdm__bytes_error(k->out.b));
    return hdm__fail(err, HDM_ERR_IO, k->base.path, "cannot write TIFF: %s",
                     k->msg.text[0] ? k->msg.text : "libtiff failed");
}

static hdm_status flush_strip(tiff_enc *k, hdm_error *err)
{
    tmsize_t n = (tmsize_t)((size_t)k->filled * k->rowbytes);
    if (TIFFWriteEncodedStrip(k->tif, k->strip_no, k->strip, n) != n || k->msg.failed ||
        k->out.b->failed)
        return enc_failed(k, err);
    k->strip_no++;
    k->filled = 0;
    return HDM_OK;
}

static hdm_status enc_write(hdm__sink *s, const hdm_image *strip, uint32_t rows, hdm_error *err)
{
    tiff_enc *k = (tiff_enc *)s;
    for (uint32_t y = 0; y < rows; y++) {
        hdm__row_from_planes(k->strip + (size_t)k->filled * k->rowbytes, strip, y);
        if (++k->filled == k->rows_per_strip) {
            hdm_status st = flush_strip(k, err);
            if (st)
                return st;
        }
    }
    return HDM_OK;
}

/* Appends d at the end of the file, at an even offset, and points IFD0's tag at it. */
static bool put_ifd(tiff_enc *k, const hdm__ifd *d, uint32_t tag)
{
    if (!d->n)
        return true;
    if (k->out.size & 1) {
        k->out.pos = k->out.size;
        out_write(&k->out, "", 1);
    }
    uint64_t at = k->out.size, n = hdm__ifd_bytes(d);
    unsigned char *buf = at + n <= UINT32_MAX ? calloc(1, (size_t)n) : NULL;
    if (!buf)
        return false;
    hdm__ifd_put(d, TIFFIsBigEndian(k->tif), at, buf);
    k->out.pos = k->out.size;
    bool ok = out_write(&k->out, buf, (tmsize_t)n) == (tmsize_t)n &&
              TIFFSetField(k->tif, tag, at);
    free(buf);
    return ok;
}

static hdm_status enc_finish(hdm__sink *s, hdm_error *err)
{
    tiff_enc *k = (tiff_enc *)s;
    if (k->filled) {
        hdm_status st = flush_strip(k, err);
        if (st)
            return st;
    }
    if (!put_ifd(k, &k->exif, TIFFTAG_EXIFIFD) || !put_ifd(k, &k->gps, TIFFTAG_GPSIFD))
        return enc_failed(k, err);
    if (!TIFFWriteDirectory(k->tif) || k->msg.failed || k->out.b->failed)
        return enc_failed(k, err);
    return HDM_OK;
}

static void enc_close(hdm__sink *s)
{
    tiff_enc *k = (tiff_enc *)s;
    if (k->tif)
        TIFFCleanup(k->tif); /* frees without writing: finish wrote the directory */
    hdm__ifd_free(&k->exif);
    hdm__ifd_free(&k->gps);
    free(k->strip);
    free(k);
}

static uint16_t compression_tag(hdm_tiff_compression c)
{
    switch (c) {
    case HDM_TIFF_NONE: return COMPRESSION_NONE;
    case HDM_TIFF_LZW: return COMPRESSION_LZW;
    case HDM_TIFF_ZSTD: return COMPRESSION_ZSTD;
    case HDM_TIFF_JPEG: return COMPRESSION_JPEG;
    default: return COMPRESSION_ADOBE_DEFLATE;
    }
}

/* The chroma sampling of JPEG-compressed colour, as JPEG output chooses it (jpeg_write.c). */
static void ycbcr_sampling(const hdm_options *opt, uint16_t *h, uint16_t *v)
{
    hdm_jpeg_subsample s = opt->jpeg_subsample;
    if (s == HDM_JPEG_SUBSAMPLE_AUTO)
        s = opt->jpeg_quality >= 90 ? HDM_JPEG_SUBSAMPLE_444 : HDM_JPEG_SUBSAMPLE_420;
    *h = s == HDM_JPEG_SUBSAMPLE_444 ? 1 : 2;
    *v = s == HDM_JPEG_SUBSAMPLE_420 ? 2 : 1;
}

/* The text tags of IFD0 that EXIF keeps there too (EXIF 2.32, 4.6.4 A). */
static const uint16_t text_tags[] = {TIFFTAG_IMAGEDESCRIPTION, TIFFTAG_MAKE, TIFFTAG_MODEL,
                                     TIFFTAG_DATETIME, TIFFTAG_ARTIST, TIFFTAG_COPYRIGHT};

/* Sets IFD0's text tags from EXIF's IFD0 and keeps its EXIF and GPS directories for finish;
 * false when libtiff refuses a tag. */
/* IFD0 tags of an EXIF block a TIFF output carries (the text tags, Orientation, the pointers
 * to the EXIF and GPS IFDs) or writes of its own (the structure of its pixels, resolution,
 * Software), so that leaving them out of EXIF loses nothing. */
static bool exif_kept(uint16_t tag)
{
    static const uint16_t own[] = {
        TIFFTAG_IMAGEWIDTH, TIFFTAG_IMAGELENGTH, TIFFTAG_BITSPERSAMPLE, TIFFTAG_COMPRESSION,
        TIFFTAG_PHOTOMETRIC, TIFFTAG_STRIPOFFSETS, TIFFTAG_ORIENTATION, TIFFTAG_SAMPLESPERPIXEL,
        TIFFTAG_ROWSPERSTRIP, TIFFTAG_STRIPBYTECOUNTS, TIFFTAG_XRESOLUTION, TIFFTAG_YRESOLUTION,
        TIFFTAG_PLANARCONFIG, TIFFTAG_RESOLUTIONUNIT, TIFFTAG_SOFTWARE, TIFFTAG_YCBCRPOSITIONING,
        HDM_TAG_EXIF_IFD, HDM_TAG_GPS_IFD};
    for (size_t i = 0; i < sizeof own / sizeof *own; i++)
        if (tag == own[i])
            return true;
    for (size_t i = 0; i < sizeof text_tags / sizeof *text_tags; i++)
        if (tag == text_tags[i])
            return true;
    return false;
}

static bool set_exif(tiff_enc *k, hdm__ifd *ifd0)
{
    for (size_t i = 0; i < sizeof text_tags / sizeof *text_tags; i++) {
        const hdm__ifd_entry *e = hdm__ifd_find(ifd0, text_tags[i]);
        if (!e || e->type != TIFF_ASCII || !e->size)
            continue;
        char *v = malloc(e->size + 1);
        if (!v)
            return false;
        memcpy(v, e->data, e->size);
        v[e->size] = '\0';
        bool ok = TIFFSetField(k->tif, text_tags[i], v);
        free(v);
        if (!ok)
            return false;
    }
    return true;
}

/* True when libtiff can hold a resolution v: it keeps one as a float (and writes the RATIONAL
 * from that), so a value is carried when the float is within 1/200 of it, which is what brings
 * back the finest one a source gives (PNG's per metre, as a per centimetre of two decimals);
 * past 2^17 a float is coarser than that, and past 2^32 no RATIONAL holds it. */
static bool resolution_fits(double v)
{
    double f = (float)v;
    return f > 0 && f < 4294967295.0 && fabs(f - v) < 0.005;
}

/* The metadata's tags: ICC (when icc: it is sound and fits the pixels), XMP, resolution (when res; TIFF 6.0 units:
 * 2 inch, 3 centimetre). */
static bool set_meta(tiff_enc *k, const hdm__meta *m, bool icc, bool res)
{
    TIFF *t = k->tif;
    bool ok = true;
    if (icc && m->icc_size <= UINT32_MAX)
        ok = TIFFSetField(t, TIFFTAG_ICCPROFILE, (uint32_t)m->icc_size, m->icc);
    if (ok && m->xmp_size && m->xmp_size <= UINT32_MAX)
        ok = TIFFSetField(t, TIFFTAG_XMLPACKET, (uint32_t)m->xmp_size, m->xmp);
    if (ok && res)
        ok = TIFFSetField(t, TIFFTAG_XRESOLUTION, (float)m->res_x) &&
             TIFFSetField(t, TIFFTAG_YRESOLUTION, (float)m->res_y) &&
             TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, (uint16_t)(m->res_unit == 1 ? RESUNIT_INCH
                                                    : m->res_unit == 2 ? RESUNIT_CENTIMETER
                                                    : RESUNIT_NONE));
    return ok;
}

/* Every tag of the image, set before the first strip. */
static bool set_fields(tiff_enc *k, const hdm_options *opt, uint16_t comp, uint16_t orientation)
{
    TIFF *t = k->tif;
    const hdm_info *in = &k->base.info;
    unsigned ch = in->channels;
    bool colour = ch >= 3, ycbcr = comp == COMPRESSION_JPEG && ch == 3;
    bool ok = TIFFSetField(t, TIFFTAG_IMAGEWIDTH, in->width) &&
              TIFFSetField(t, TIFFTAG_IMAGELENGTH, in->height) &&
              TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, (uint16_t)(8 * in->depth)) &&
              TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)ch) &&
              TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, (uint16_t)(in->depth == HDM_F32
                                                    ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT)) &&
              TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
              (!orientation || TIFFSetField(t, TIFFTAG_ORIENTATION, orientation)) &&
              TIFFSetField(t, TIFFTAG_COMPRESSION, comp) &&
              TIFFSetField(t, TIFFTAG_PHOTOMETRIC, ycbcr ? PHOTOMETRIC_YCBCR
                                                   : colour ? PHOTOMETRIC_RGB
                                                   : PHOTOMETRIC_MINISBLACK) &&
              TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, k->rows_per_strip) &&
              TIFFSetField(t, TIFFTAG_SOFTWARE, "hadamard");
    if (ok && (ch == 2 || ch == 4)) {
        uint16_t extra = EXTRASAMPLE_UNASSALPHA;
        ok = TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 1, &extra);
    }
    if (ok && comp == COMPRESSION_JPEG) {
        ok = TIFFSetField(t, TIFFTAG_JPEGQUALITY, opt->jpeg_quality);
        if (ok && ycbcr) {
            uint16_t h, v;
            ycbcr_sampling(opt, &h, &v);
            ok = TIFFSetField(t, TIFFTAG_YCBCRSUBSAMPLING, h, v) &&
                 TIFFSetField(t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
        }
    } else if (ok && comp != COMPRESSION_NONE) {
        ok = TIFFSetField(t, TIFFTAG_PREDICTOR, in->depth == HDM_F32 ? PREDICTOR_FLOATINGPOINT
                                                                    : PREDICTOR_HORIZONTAL);
    }
    return ok;
}

hdm_status hdm__tiff_sink(const hdm__codec *c, const hdm_info *info, const hdm_options *opt,
                          const hdm__meta *meta, hdm__bytes *b, const char *path,
                          hdm__sink **out, hdm_error *err)
{
    (void)c;
    uint16_t comp = compression_tag(opt->tiff_compression);
    if (!TIFFIsCODECConfigured(comp))
        return hdm__fail(err, HDM_ERR_FORMAT, path, "cannot write TIFF: this libtiff has no "
                         "%s compression", comp == COMPRESSION_ZSTD ? "zstd" : "such");
    hdm_info in = *info;
    if (comp == COMPRESSION_JPEG && in.depth != HDM_U8) {
        /* JPEG in TIFF holds 8-bit samples (libtiff's JPEG codec as Debian builds it) */
        in.depth = HDM_U8;
        hdm__notice(opt, path, "written as 8-bit samples (TIFF's JPEG compression holds no "
                    "more)");
    }
    size_t rowbytes;
    if (hdm_size_bytes(in.width, 1, in.channels, in.depth, &rowbytes))
        return hdm__fail(err, HDM_ERR_LIMIT, path, "%s", hdm_strerror(HDM_ERR_LIMIT));
    uint32_t rps = rowbytes >= STRIP_BYTES ? 1 : (uint32_t)(STRIP_BYTES / rowbytes);
    if (comp == COMPRESSION_JPEG)
        rps = (rps + 15) / 16 * 16; /* whole MCU rows of 2x2-subsampled chroma */
    if (rps > in.height)
        rps = in.height;
    uint64_t strip = (uint64_t)rps * rowbytes;
    /* ours, libtiff's compressed strip, and the compressor's state (zstd's the largest) */
    uint64_t need = 2 * strip + strip / 8 + (comp == COMPRESSION_ZSTD ? (16u << 20) : 1u << 20);
    if (need > opt->max_memory)
        return hdm__fail(err, HDM_ERR_LIMIT, path, "encoding needs about %llu bytes (a strip of "
                         "%u rows), above the memory limit of %llu (max_memory)",
                         (unsigned long long)need, rps, (unsigned long long)opt->max_memory);
    tiff_enc *k = calloc(1, sizeof *k);
    if (!k || !(k->strip = malloc((size_t)strip))) {
        free(k);
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    }
    k->base.info = in;
    k->base.path = path;
    k->base.write = enc_write;
    k->base.finish = enc_finish;
    k->base.close = enc_close;
    k->base.held = need;
    k->rowbytes = rowbytes;
    k->rows_per_strip = rps;
    k->out.b = b;
    k->out.base = b->out ? (uint64_t)ftello(b->out->f) : b->len;
    k->msg.decoding = true; /* every libtiff warning while writing is a failure */

    /* BigTIFF when the pixels alone, uncompressed, with room for what the compression may add
     * to data it cannot shrink and for the directory, come near 4 GiB (classic offsets are
     * 32-bit). LZW's worst is 12-bit codes for single bytes, half as much again; deflate's and
     * zstd's stored blocks add well under 1/64. */
    uint64_t raw = (uint64_t)in.height * rowbytes;
    uint64_t worst = comp == COMPRESSION_LZW ? raw + raw / 2 : raw + raw / 64;
    bool big = worst + (64u << 20) >= ((uint64_t)1 << 32);
    TIFFOpenOptions *o = hdm__tiff_options(&k->msg, opt->max_memory);
    if (o)
        k->tif = TIFFClientOpenExt(path ? path : "(memory output)", big ? "w8" : "w", &k->out,
                                   out_read, out_write, out_seek, out_close, out_size, out_map,
                                   out_unmap, o);
    TIFFOpenOptionsFree(o);
    hdm_status st = HDM_OK;
    if (!o)
        st = hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    /* the pixels' own, else EXIF's tag, else none */
    uint32_t orientation = meta->orientation;
    if (!orientation) /* none: untagged, as the source was (or as --strip leaves it) */
        orientation = hdm__exif_orientation(meta->exif, meta->exif_size);
    /* a profile describes the pixels only in their own colour space: gray, or RGB (which
     * JPEG's YCbCr decodes to) */
    bool sound = !st && hdm__icc_sound(opt, path, meta);
    bool icc = sound && hdm__icc_fits(meta->icc, meta->icc_size, in.channels);
    hdm__ifd ifd0 = {0};
    bool exif = meta->exif_size && !big &&
                hdm__exif_split(meta->exif, meta->exif_size, &ifd0, &k->exif, &k->gps);
    /* what of the EXIF block TIFF has no place for: the Interoperability IFD (an IFD of its
     * own, which the file's EXIF IFD would have to point to), IFD0's other tags (a TIFF's own
     * first directory describes its own pixels), a next IFD (the thumbnail) */
    size_t dropped = 0;
    bool interop = exif && hdm__ifd_find(&k->exif, HDM_TAG_INTEROP_IFD);
    bool thumb = exif && hdm__exif_has_next_ifd(meta->exif, meta->exif_size);
    if (exif) {
        hdm__ifd_remove(&k->exif, HDM_TAG_INTEROP_IFD);
        for (size_t i = 0; i < ifd0.n; i++)
            dropped += !exif_kept(ifd0.e[i].tag);
    }
    bool res = meta->res_x > 0 && meta->res_y > 0;
    if (!st && res && !(resolution_fits(meta->res_x) && resolution_fits(meta->res_y))) {
        hdm__notice(opt, path, "resolution left out (libtiff holds it as a float, too coarse "
                               "for this value)");
        res = false;
    }
    if (!st && (!k->tif || !set_fields(k, opt, comp, (uint16_t)orientation) ||
                !set_meta(k, meta, icc, res) || (exif && !set_exif(k, &ifd0)) || k->msg.failed))
        st = enc_failed(k, err);
    hdm__ifd_free(&ifd0);
    if (st) {
        enc_close(&k->base);
        return st;
    }
    if (sound && !icc)
        hdm__notice(opt, path, in.channels <= 2
                        ? "ICC profile left out (not a gray profile, and the image is gray)"
                        : "ICC profile left out (not an RGB profile, and the image is RGB)");
    if (meta->srgb_intent || meta->gamma || meta->has_chrm)
        hdm__notice(opt, path, "sRGB, gAMA and cHRM left out (TIFF holds none of them)");
    if (meta->xmp_size <= UINT32_MAX)
        hdm__xmp_extension_left_out(opt, path, meta, "TIFF");
    if (interop || dropped || thumb) {
        char parts[3][48], what[3 * 48 + 160];
        int np = 0;
        if (interop)
            snprintf(parts[np++], sizeof parts[0], "Interoperability directory");
        if (dropped)
            snprintf(parts[np++], sizeof parts[0], "%zu other first-directory tag%s", dropped,
                     dropped == 1 ? "" : "s");
        if (thumb)
            snprintf(parts[np++], sizeof parts[0], "thumbnail");
        snprintf(what, sizeof what, "EXIF's %s%s%s%s%s left out (TIFF keeps Orientation, the "
                 "text tags and the EXIF and GPS directories)", parts[0],
                 np == 3 ? ", " : np == 2 ? " and " : "", np > 1 ? parts[1] : "",
                 np == 3 ? " and " : "", np == 3 ? parts[2] : "");
        hdm__notice(opt, path, what);
    }
    if (meta->exif_size && !exif)
        hdm__notice(opt, path, big ? "EXIF left out (a BigTIFF holds it in another form; ICC, "
                                     "XMP, resolution and Orientation kept)"
                                   : "EXIF left out (it holds no TIFF structure; ICC, XMP, "
                                     "resolution and Orientation kept)");
    *out = &k->base;
    return HDM_OK;
}
