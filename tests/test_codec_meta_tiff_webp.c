/* SPDX-License-Identifier: MIT */
/* test_codec_meta_tiff_webp.c — metadata through TIFF and WebP: ICC, XMP, EXIF, resolution and
 * Orientation read, carried TIFF↔TIFF, WebP↔WebP and across, stripped on request, reported by
 * hdm_file_info_read, damaged chunks refused, and what exiftool finds in our files */
#include "cli_assert.h"
#include "cli_run.h"
#include "pipeline.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <tiffio.h>
#include <webp/decode.h>
#include <webp/encode.h>
#include <webp/mux.h>

TestSuite(meta, .init = tu_setup, .fini = tu_teardown);

/* ---- metadata blobs ---- */

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* A small ICC v2 profile of data colour space space ("RGB ", "GRAY", "CMYK"): the 128-byte
 * header and one tag, a textDescriptionType 'desc' (ICC.1:2001-04, 6.5.17) naming it. Not a
 * usable profile, but a well-formed one. */
static unsigned char *make_icc_of(const char *desc, const char *space, size_t *n)
{
    size_t len = strlen(desc) + 1, tag = 12 + len + 4 + 4 + 2 + 1 + 67;
    size_t size = 144 + ((tag + 3) & ~(size_t)3);
    unsigned char *p = calloc(1, size);
    be32(p, (uint32_t)size);
    memcpy(p + 4, "none", 4);
    be32(p + 8, 0x02100000);
    memcpy(p + 12, "mntr", 4);
    memcpy(p + 16, space, 4);
    memcpy(p + 20, "XYZ ", 4);
    memcpy(p + 36, "acsp", 4);
    be32(p + 68, 0x0000f6d6), be32(p + 72, 0x00010000), be32(p + 76, 0x0000d32d); /* D50 */
    be32(p + 128, 1);
    memcpy(p + 132, "desc", 4);
    be32(p + 136, 144);
    be32(p + 140, (uint32_t)tag);
    memcpy(p + 144, "desc", 4);
    be32(p + 152, (uint32_t)len);
    memcpy(p + 156, desc, len);
    *n = size;
    return p;
}

static unsigned char *make_icc(const char *desc, size_t *n)
{
    return make_icc_of(desc, "RGB ", n);
}

static const char xmp[] =
    "<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>"
    "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF "
    "xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description rdf:about=\"\" "
    "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:creator><rdf:Seq><rdf:li>Hadamard "
    "Tester</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"
    "<?xpacket end=\"w\"?>";

static void le16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
}

static void le32(unsigned char *p, uint32_t v)
{
    le16(p, v), le16(p + 2, v >> 16);
}

static void entry(unsigned char *e, uint16_t tag, uint16_t type, uint32_t count, uint32_t v)
{
    le16(e, tag), le16(e + 2, type), le32(e + 4, count), le32(e + 8, v);
}

/* An EXIF block laid out as the library writes one (little-endian, IFD0 at 8, each IFD's longer
 * values after it): IFD0 has Orientation and the EXIF IFD's offset; the EXIF IFD has
 * ExposureTime 1/250, ExifVersion "0232" and DateTimeOriginal. */
static const char date[] = "2024:01:02 03:04:05";

static size_t make_exif(unsigned char *b, uint16_t orientation)
{
    memset(b, 0, 108);
    memcpy(b, "II*\0", 4);
    le32(b + 4, 8);
    le16(b + 8, 2);
    entry(b + 10, 0x0112, 3, 1, orientation);
    entry(b + 22, 0x8769, 4, 1, 38);
    le32(b + 34, 0);
    le16(b + 38, 3);
    entry(b + 40, 0x829a, 5, 1, 80);
    entry(b + 52, 0x9000, 7, 4, 0);
    memcpy(b + 60, "0232", 4);
    entry(b + 64, 0x9003, 2, 20, 88);
    le32(b + 76, 0);
    le32(b + 80, 1), le32(b + 84, 250);
    memcpy(b + 88, date, 20);
    return 108;
}

/* ---- files ---- */

typedef struct meta_in {
    const unsigned char *icc;
    size_t icc_size;
    const char *xmp;
    float res;            /* per inch, 0: none */
    uint16_t orientation; /* 0: none */
} meta_in;

/* A w x h TIFF of spp 8-bit samples a pixel (photometric photo) written by libtiff with the
 * given metadata, samples from x and y. */
static void write_tiff_of(const char *path, uint32_t w, uint32_t h, uint16_t spp, uint16_t photo,
                          const meta_in *m)
{
    TIFF *t = TIFFOpen(path, "w");
    cr_assert_not_null(t);
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, spp);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, photo);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
    if (m && m->icc)
        TIFFSetField(t, TIFFTAG_ICCPROFILE, (uint32_t)m->icc_size, m->icc);
    if (m && m->xmp)
        TIFFSetField(t, TIFFTAG_XMLPACKET, (uint32_t)strlen(m->xmp), m->xmp);
    if (m && m->res > 0) {
        TIFFSetField(t, TIFFTAG_XRESOLUTION, m->res);
        TIFFSetField(t, TIFFTAG_YRESOLUTION, m->res / 2);
        TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    }
    if (m && m->orientation)
        TIFFSetField(t, TIFFTAG_ORIENTATION, m->orientation);
    unsigned char *row = malloc((size_t)w * spp);
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w * spp; x++)
            row[x] = (unsigned char)(x * 5 + y * 11);
        cr_assert(TIFFWriteScanline(t, row, y, 0) == 1);
    }
    free(row);
    TIFFClose(t);
}

/* A w x h RGB TIFF written by libtiff with the given metadata, samples from x and y. */
static void write_tiff(const char *path, uint32_t w, uint32_t h, const meta_in *m)
{
    write_tiff_of(path, w, h, 3, PHOTOMETRIC_RGB, m);
}

/* Runs a pipeline with no steps from in to out with o; the status. */
static hdm_status convert(const char *in, const char *out, const hdm_options *o, hdm_error *e)
{
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    hdm_status st = hdm_pipeline_run_file(p, in, out, o, e);
    hdm_pipeline_free(p);
    return st;
}

static char notes[4096];

static void note(void *ctx, const char *msg)
{
    (void)ctx;
    size_t n = strlen(notes);
    snprintf(notes + n, sizeof notes - n, "%s\n", msg);
}

/* Options keeping the stored pixels and tag (the Orientation is checked as stored), notices
 * into notes. */
static hdm_options opts(void)
{
    hdm_options o;
    hdm_options_init(&o);
    o.no_rotate = 1;
    o.webp_lossless = 1;
    o.notice = note;
    notes[0] = '\0';
    return o;
}

static void ok_convert(const char *in, const char *out, const hdm_options *o)
{
    hdm_error e = {0};
    cr_assert_eq(convert(in, out, o, &e), HDM_OK, "%s -> %s: %s", in, out, e.message);
}

static hdm_file_info file_info(const char *path)
{
    hdm_file_info fi;
    memset(&fi, 0, sizeof fi);
    fi.size = sizeof fi;
    hdm_error e = {0};
    cr_assert_eq(hdm_file_info_read(path, NULL, &fi, &e), HDM_OK, "%s: %s", path, e.message);
    return fi;
}

/* ---- a WebP's chunks, walked by the test itself (RFC 9649, 2.7) ---- */

typedef struct chunk {
    const unsigned char *data;
    uint32_t size;
} chunk;

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The chunk named fourcc (the first), or {NULL, 0}; checks the RIFF structure on the way. */
static chunk find_chunk(const unsigned char *f, size_t n, const char *fourcc)
{
    cr_assert(n >= 12 && !memcmp(f, "RIFF", 4) && !memcmp(f + 8, "WEBP", 4));
    cr_assert_eq(rd32(f + 4) + 8, n, "the RIFF size is the file's");
    for (size_t off = 12; off + 8 <= n;) {
        uint32_t size = rd32(f + off + 4);
        cr_assert(size <= n - off - 8, "chunk at %zu runs past the end", off);
        if (!memcmp(f + off, fourcc, 4))
            return (chunk){f + off + 8, size};
        off += 8 + size + (size & 1);
    }
    return (chunk){NULL, 0};
}

/* A lossless WebP of w x h through libwebp, with the extra chunks given appended after a VP8X
 * header (flags as given): exif and xmp as chunks after the image, icc before. */
static int with_alpha; /* make_webp writes RGBA, alpha x * 25 */

static unsigned char *make_webp(uint32_t w, uint32_t h, const void *icc, size_t icc_n,
                                const void *exif, size_t exif_n, const void *xmpd, size_t xmp_n,
                                size_t *size)
{
    int ch = with_alpha ? 4 : 3;
    unsigned char *rgb = malloc((size_t)w * h * ch);
    for (size_t i = 0; i < (size_t)w * h * ch; i++)
        rgb[i] = (unsigned char)(i * 7);
    if (with_alpha)
        for (size_t i = 0; i < (size_t)w * h; i++)
            rgb[i * 4 + 3] = (unsigned char)(i % w * 25);
    uint8_t *enc;
    size_t n = with_alpha ? WebPEncodeLosslessRGBA(rgb, (int)w, (int)h, (int)w * 4, &enc)
                          : WebPEncodeLosslessRGB(rgb, (int)w, (int)h, (int)w * 3, &enc);
    free(rgb);
    cr_assert(n > 20);
    WebPMux *mux = WebPMuxNew();
    WebPData img = {enc, n};
    cr_assert_eq(WebPMuxSetImage(mux, &img, 1), WEBP_MUX_OK);
    if (icc_n)
        cr_assert_eq(WebPMuxSetChunk(mux, "ICCP", &(WebPData){icc, icc_n}, 1), WEBP_MUX_OK);
    if (exif_n)
        cr_assert_eq(WebPMuxSetChunk(mux, "EXIF", &(WebPData){exif, exif_n}, 1), WEBP_MUX_OK);
    if (xmp_n)
        cr_assert_eq(WebPMuxSetChunk(mux, "XMP ", &(WebPData){xmpd, xmp_n}, 1), WEBP_MUX_OK);
    WebPData out;
    WebPDataInit(&out);
    cr_assert_eq(WebPMuxAssemble(mux, &out), WEBP_MUX_OK);
    WebPMuxDelete(mux);
    WebPFree(enc);
    unsigned char *copy = malloc(out.size);
    memcpy(copy, out.bytes, out.size);
    *size = out.size;
    WebPDataClear(&out);
    return copy;
}

/* ---- TIFF ---- */

Test(meta, tiff_read_reports_and_carries_to_tiff)
{
    size_t icc_n;
    unsigned char *icc = make_icc("Hadamard Test RGB", &icc_n);
    meta_in m = {icc, icc_n, xmp, 300, 6};
    const char *in = tu_path("in.tif");
    write_tiff(in, 24, 16, &m);

    hdm_file_info fi = file_info(in);
    cr_assert_eq(fi.icc_size, icc_n);
    cr_assert_str_eq(fi.icc_description, "Hadamard Test RGB");
    cr_assert_eq(fi.xmp_size, strlen(xmp));
    cr_assert_eq(fi.orientation, 6);
    cr_assert(fi.exif_size > 0, "the Orientation makes an EXIF block");
    cr_assert_eq(fi.res_x, 300.0);
    cr_assert_eq(fi.res_y, 150.0);
    cr_assert_eq(fi.res_unit, 1);
    cr_assert_eq(fi.bits, 8);
    cr_assert_str_eq(fi.color, "rgb");
    cr_assert_str_eq(fi.compression, "lzw");
    cr_assert_eq(fi.pages, 1);
    cr_assert_eq(fi.stored_width, 24);

    hdm_options o = opts();
    const char *out = tu_path("out.tif");
    ok_convert(in, out, &o);
    cr_assert_str_eq(notes, "", "nothing left out: %s", notes);
    TIFF *t = TIFFOpen(out, "r");
    cr_assert_not_null(t);
    uint32_t n = 0;
    void *data = NULL;
    cr_assert(TIFFGetField(t, TIFFTAG_ICCPROFILE, &n, &data));
    cr_assert(n == icc_n && !memcmp(data, icc, n), "ICC bytes equal");
    cr_assert(TIFFGetField(t, TIFFTAG_XMLPACKET, &n, &data));
    cr_assert(n == strlen(xmp) && !memcmp(data, xmp, n), "XMP bytes equal");
    float rx = 0, ry = 0;
    uint16_t unit = 0, orient = 0;
    cr_assert(TIFFGetField(t, TIFFTAG_XRESOLUTION, &rx) && rx == 300.0f);
    cr_assert(TIFFGetField(t, TIFFTAG_YRESOLUTION, &ry) && ry == 150.0f);
    cr_assert(TIFFGetField(t, TIFFTAG_RESOLUTIONUNIT, &unit) && unit == RESUNIT_INCH);
    cr_assert(TIFFGetField(t, TIFFTAG_ORIENTATION, &orient) && orient == 6);
    TIFFClose(t);
    free(icc);
}

/* An input without metadata gives an output without it, and Orientation 1 alone is no EXIF. */
Test(meta, tiff_without_metadata_stays_without)
{
    const char *in = tu_path("plain.tif");
    write_tiff(in, 8, 8, NULL);
    hdm_file_info fi = file_info(in);
    cr_assert(!fi.icc_size && !fi.exif_size && !fi.xmp_size && fi.res_x == 0 && !fi.orientation);
    hdm_options o = opts();
    ok_convert(in, tu_path("plain.webp"), &o);
    size_t n;
    unsigned char *w = tu_read_file(tu_path("plain.webp"), &n);
    cr_assert(!find_chunk(w, n, "VP8X").data, "a simple file: no VP8X");
    free(w);
    fi = file_info(tu_path("plain.webp"));
    cr_assert_str_eq(fi.compression, "lossless");
    ok_convert(in, tu_path("plain2.tif"), &o);
    fi = file_info(tu_path("plain2.tif"));
    cr_assert(!fi.icc_size && !fi.exif_size && !fi.xmp_size && fi.res_x == 0);
    cr_assert_eq(fi.orientation, 0, "untagged, as the input was");
}

Test(meta, tiff_to_webp_and_back)
{
    size_t icc_n;
    unsigned char *icc = make_icc("Across", &icc_n);
    meta_in m = {icc, icc_n, xmp, 72, 3};
    const char *in = tu_path("in.tif");
    write_tiff(in, 20, 10, &m);
    hdm_options o = opts();
    const char *webp = tu_path("mid.webp");
    ok_convert(in, webp, &o);
    cr_assert(strstr(notes, "mid.webp: resolution left out (WebP holds none)"), "%s", notes);

    size_t n;
    unsigned char *f = tu_read_file(webp, &n);
    chunk vp8x = find_chunk(f, n, "VP8X"), c = find_chunk(f, n, "ICCP");
    cr_assert(vp8x.data && vp8x.size == 10);
    cr_assert_eq(vp8x.data[0], 0x20 | 0x08 | 0x04, "ICC, EXIF and XMP flags, no alpha: %#x",
                 vp8x.data[0]);
    cr_assert_eq(rd32(vp8x.data + 4) & 0xffffff, 19, "canvas width - 1");
    cr_assert(c.data && c.size == icc_n && !memcmp(c.data, icc, icc_n));
    c = find_chunk(f, n, "XMP ");
    cr_assert(c.data && c.size == strlen(xmp) && !memcmp(c.data, xmp, c.size));
    c = find_chunk(f, n, "EXIF");
    cr_assert(c.data && c.size >= 8 &&
              (!memcmp(c.data, "MM\0*", 4) || !memcmp(c.data, "II*\0", 4)), "a TIFF header");
    /* the chunk order the spec asks: VP8X, ICCP, image, EXIF, XMP */
    const unsigned char *img = find_chunk(f, n, "VP8L").data;
    cr_assert(img && find_chunk(f, n, "ICCP").data < img && img < find_chunk(f, n, "EXIF").data &&
              find_chunk(f, n, "EXIF").data < find_chunk(f, n, "XMP ").data);
    /* libwebp reads it, the same pixels as we do */
    int w = 0, h = 0;
    uint8_t *pix = WebPDecodeRGB(f, n, &w, &h);
    cr_assert(pix && w == 20 && h == 10);
    hdm_image *a;
    hdm_error e = {0};
    cr_assert_eq(hdm_load(webp, &o, &a, &e), HDM_OK, "%s", e.message);
    for (uint32_t y = 0; y < 10; y++)
        for (uint32_t x = 0; x < 20; x++)
            for (uint32_t k = 0; k < 3; k++)
                cr_assert_eq(tu_get(a, k, x, y), pix[(y * 20 + x) * 3 + k]);
    WebPFree(pix);
    hdm_image_free(a);
    free(f);

    hdm_file_info fi = file_info(webp);
    cr_assert_eq(fi.icc_size, icc_n);
    cr_assert_str_eq(fi.icc_description, "Across");
    cr_assert_eq(fi.xmp_size, strlen(xmp));
    cr_assert_eq(fi.orientation, 3);
    cr_assert_str_eq(fi.compression, "lossless");
    cr_assert_str_eq(fi.color, "rgb");
    cr_assert_eq(fi.bits, 8);

    const char *back = tu_path("back.tif");
    ok_convert(webp, back, &o);
    fi = file_info(back);
    cr_assert_eq(fi.icc_size, icc_n);
    cr_assert_eq(fi.xmp_size, strlen(xmp));
    cr_assert_eq(fi.orientation, 3);
    cr_assert_eq(fi.res_x, 0, "WebP held no resolution");
    free(icc);
}

/* EXIF's own directory: WebP → TIFF puts it in the TIFF's EXIF IFD (libtiff reads it there),
 * TIFF → WebP gives the same block back, byte for byte. */
Test(meta, exif_directory_through_tiff)
{
    unsigned char exif[108];
    size_t exif_n = make_exif(exif, 8);
    size_t n;
    unsigned char *w = make_webp(16, 12, NULL, 0, exif, exif_n, NULL, 0, &n);
    const char *in = tu_path("in.webp");
    tu_write_file(in, w, n);
    free(w);
    hdm_file_info fi = file_info(in);
    cr_assert_eq(fi.exif_size, exif_n);
    cr_assert_eq(fi.orientation, 8);

    hdm_options o = opts();
    const char *tif = tu_path("exif.tif");
    ok_convert(in, tif, &o);
    cr_assert_str_eq(notes, "");
    TIFF *t = TIFFOpen(tif, "r");
    cr_assert_not_null(t);
    uint16_t orient = 0;
    cr_assert(TIFFGetField(t, TIFFTAG_ORIENTATION, &orient) && orient == 8);
    uint64_t off = 0;
    cr_assert(TIFFGetField(t, TIFFTAG_EXIFIFD, &off) && off > 0);
    cr_assert(TIFFReadEXIFDirectory(t, off), "libtiff reads our EXIF IFD");
    char *dto = NULL;
    cr_assert(TIFFGetField(t, EXIFTAG_DATETIMEORIGINAL, &dto) && !strcmp(dto, date));
    float exposure = 0;
    cr_assert(TIFFGetField(t, EXIFTAG_EXPOSURETIME, &exposure) &&
              exposure > 0.00399f && exposure < 0.00401f);
    TIFFClose(t);

    fi = file_info(tif);
    cr_assert_eq(fi.exif_size, exif_n, "the block rebuilt: %u", fi.exif_size);
    const char *out = tu_path("again.webp");
    ok_convert(tif, out, &o);
    unsigned char *f = tu_read_file(out, &n);
    chunk c = find_chunk(f, n, "EXIF");
    cr_assert(c.data && c.size == exif_n && !memcmp(c.data, exif, exif_n),
              "the EXIF block survives TIFF byte for byte");
    free(f);
}

/* A damaged EXIF directory costs the EXIF, not the image: entries past the end, a count
 * running off the file, a pointer past it. Through the command, under its watchdog. */
Test(meta, tiff_damaged_exif_directory_tolerated)
{
    unsigned char exif[108];
    size_t exif_n = make_exif(exif, 1);
    size_t n;
    unsigned char *w = make_webp(16, 12, NULL, 0, exif, exif_n, NULL, 0, &n);
    tu_write_file(tu_path("in.webp"), w, n);
    free(w);
    hdm_options o = opts();
    ok_convert(tu_path("in.webp"), tu_path("good.tif"), &o);
    TIFF *t = TIFFOpen(tu_path("good.tif"), "r");
    uint64_t off = 0;
    cr_assert(TIFFGetField(t, TIFFTAG_EXIFIFD, &off) && off > 8);
    TIFFClose(t);
    unsigned char *f = tu_read_file(tu_path("good.tif"), &n);
    cr_assert(off + 2 + 36 <= n && f[0] == 'I');
    cli_result *r = malloc(sizeof *r);
    for (int k = 0; k < 3; k++) {
        unsigned char *bad = malloc(n);
        memcpy(bad, f, n);
        if (k == 0)
            le16(bad + off, 0xffff); /* entries running off the file */
        else if (k == 1)
            le32(bad + off + 2 + 8, 0xfffffff0u); /* ExposureTime's value past the end */
        else
            le32(bad + off + 2 + 24 + 8, (uint32_t)n - 4); /* DateTimeOriginal's, half out */
        tu_write_file(tu_path("bad.tif"), bad, n);
        free(bad);
        CLI(r, tu_path(""), "run", "bad.tif", "-o", "bad.webp", "filter:box:1", "--no-rotate");
        cli_expect_ok(r);
        hdm_file_info fi = file_info(tu_path("bad.webp"));
        if (k == 0)
            cr_assert_eq(fi.exif_size, 0, "an IFD that is not there: no EXIF");
        else
            cr_assert(fi.exif_size > 0 && fi.exif_size < exif_n, "case %d: the entry left out, "
                      "%u bytes", k, fi.exif_size);
    }
    free(r);
    free(f);
}

Test(meta, strip_and_keep)
{
    size_t icc_n;
    unsigned char *icc = make_icc("Kept", &icc_n);
    meta_in m = {icc, icc_n, xmp, 300, 6};
    const char *in = tu_path("in.tif");
    write_tiff(in, 8, 8, &m);
    const char *outs[] = {"s.tif", "s.webp"};
    for (int i = 0; i < 2; i++) {
        hdm_options o = opts();
        o.strip_meta = HDM_META_ALL;
        ok_convert(in, tu_path(outs[i]), &o);
        hdm_file_info fi = file_info(tu_path(outs[i]));
        /* the Orientation tag is EXIF's and goes with it, a TIFF's own tag too: untagged
         * (with no_rotate the pixels stay as stored, untagged, as --strip means) */
        cr_assert(!fi.icc_size && fi.exif_size == 0 && !fi.xmp_size && fi.res_x == 0,
                  "%s: exif %u", outs[i], fi.exif_size);
        cr_assert_eq(fi.orientation, 0, "%s", outs[i]);
        cr_assert_str_eq(notes, "", "nothing to say when all is stripped: %s", notes);
        o = opts();
        o.strip_meta = HDM_META_ALL & ~HDM_META_ICC;
        ok_convert(in, tu_path(outs[i]), &o);
        fi = file_info(tu_path(outs[i]));
        cr_assert(fi.icc_size == icc_n && fi.exif_size == 0 && fi.orientation == 0 &&
                  !fi.xmp_size && fi.res_x == 0, "%s: only ICC", outs[i]);
    }
    /* the command's --strip and --keep */
    cli_result *r = malloc(sizeof *r);
    CLI(r, tu_path(""), "run", "in.tif", "-o", "c.webp", "filter:box:1", "--strip",
        "--no-rotate");
    cli_expect_ok(r);
    hdm_file_info fi = file_info(tu_path("c.webp"));
    cr_assert(!fi.icc_size && !fi.exif_size && !fi.xmp_size);
    CLI(r, tu_path(""), "run", "in.tif", "-o", "c.tif", "filter:box:1", "--keep", "icc",
        "--no-rotate");
    cli_expect_ok(r);
    fi = file_info(tu_path("c.tif"));
    cr_assert(fi.icc_size == icc_n && fi.exif_size == 0 && fi.orientation == 0 &&
              !fi.xmp_size && fi.res_x == 0, "the stored pixels untagged");
    free(r);
    free(icc);
}

/* What the header reader says of TIFFs of other forms. */
static void page_file(const char *path, int pages, uint16_t bps, uint16_t spp, uint16_t photo,
                      uint16_t comp)
{
    TIFF *t = TIFFOpen(path, "w");
    cr_assert_not_null(t);
    uint16_t cmap[3][256];
    for (int i = 0; i < 256; i++)
        cmap[0][i] = cmap[1][i] = cmap[2][i] = (uint16_t)(i * 257);
    for (int p = 0; p < pages; p++) {
        uint32_t w = 16, h = 4;
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, spp);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, bps);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, photo);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(t, TIFFTAG_COMPRESSION, comp);
        if (photo == PHOTOMETRIC_PALETTE)
            TIFFSetField(t, TIFFTAG_COLORMAP, cmap[0], cmap[1], cmap[2]);
        if (spp == 2 || spp == 4) {
            uint16_t extra = EXTRASAMPLE_UNASSALPHA;
            TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 1, &extra);
        }
        if (pages > 1) {
            TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
            TIFFSetField(t, TIFFTAG_PAGENUMBER, p, pages);
        }
        size_t row = ((size_t)w * spp * bps + 7) / 8;
        unsigned char *buf = calloc(1, row);
        for (uint32_t y = 0; y < h; y++)
            cr_assert(TIFFWriteScanline(t, buf, y, 0) == 1);
        free(buf);
        cr_assert(TIFFWriteDirectory(t));
    }
    TIFFClose(t);
}

Test(meta, tiff_detail_of_other_forms)
{
    struct {
        int pages;
        uint16_t bps, spp, photo, comp;
        uint32_t want_pages, want_bits;
        const char *color, *compression;
    } cases[] = {
        {3, 8, 3, PHOTOMETRIC_RGB, COMPRESSION_ADOBE_DEFLATE, 3, 8, "rgb", "deflate"},
        {1, 1, 1, PHOTOMETRIC_MINISWHITE, COMPRESSION_CCITTFAX4, 1, 1, "gray", "ccitt-g4"},
        {1, 1, 1, PHOTOMETRIC_MINISBLACK, COMPRESSION_PACKBITS, 1, 1, "gray", "packbits"},
        {1, 16, 4, PHOTOMETRIC_RGB, COMPRESSION_NONE, 1, 16, "rgba", "none"},
        {1, 16, 2, PHOTOMETRIC_MINISBLACK, COMPRESSION_LZW, 1, 16, "gray+alpha", "lzw"},
        {2, 8, 1, PHOTOMETRIC_PALETTE, COMPRESSION_LZW, 2, 8, "palette", "lzw"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%zu.tif", i);
        page_file(tu_path(name), cases[i].pages, cases[i].bps, cases[i].spp, cases[i].photo,
                  cases[i].comp);
        hdm_file_info fi = file_info(tu_path(name));
        cr_assert_eq(fi.pages, cases[i].want_pages, "%s: %u pages", name, fi.pages);
        cr_assert_eq(fi.bits, cases[i].want_bits, "%s: %u bits", name, fi.bits);
        cr_assert_str_eq(fi.color, cases[i].color, "%s", name);
        cr_assert_str_eq(fi.compression, cases[i].compression, "%s", name);
    }
}

/* ---- WebP ---- */

Test(meta, webp_to_webp_keeps_chunks_and_alpha)
{
    size_t icc_n;
    unsigned char *icc = make_icc("WebP RGB", &icc_n);
    unsigned char exif[108];
    size_t exif_n = make_exif(exif, 1);
    size_t n;
    for (int lossy = 0; lossy < 2; lossy++) {
        for (int alpha = 0; alpha < 2; alpha++) {
            with_alpha = alpha;
            unsigned char *w = make_webp(10, 6, icc, icc_n, exif, exif_n, xmp, strlen(xmp), &n);
            with_alpha = 0;
            const char *in = tu_path("in.webp");
            tu_write_file(in, w, n);
            free(w);
            hdm_file_info fi = file_info(in);
            cr_assert(fi.icc_size == icc_n && fi.exif_size == exif_n && fi.xmp_size == strlen(xmp));
            cr_assert_eq(fi.orientation, 1);
            cr_assert_str_eq(fi.icc_description, "WebP RGB");
            hdm_options o = opts();
            o.webp_lossless = !lossy; /* lossy with alpha: libwebp writes VP8X and ALPH itself */
            const char *out = tu_path("out.webp");
            ok_convert(in, out, &o);
            unsigned char *f = tu_read_file(out, &n);
            chunk vp8x = find_chunk(f, n, "VP8X");
            cr_assert(vp8x.data);
            cr_assert_eq(vp8x.data[0], 0x2c | (alpha ? 0x10 : 0), "lossy %d alpha %d: flags %#x",
                         lossy, alpha, vp8x.data[0]);
            chunk c = find_chunk(f, n, "ICCP");
            cr_assert(c.data && c.size == icc_n && !memcmp(c.data, icc, icc_n));
            c = find_chunk(f, n, "EXIF");
            cr_assert(c.data && c.size == exif_n && !memcmp(c.data, exif, exif_n));
            c = find_chunk(f, n, "XMP ");
            cr_assert(c.data && c.size == strlen(xmp) && !memcmp(c.data, xmp, c.size));
            WebPBitstreamFeatures ft;
            cr_assert_eq(WebPGetFeatures(f, n, &ft), VP8_STATUS_OK);
            cr_assert_eq(ft.has_alpha, alpha, "lossy %d alpha %d", lossy, alpha);
            cr_assert_eq(ft.format, lossy ? 1 : 2);
            int ww, hh;
            uint8_t *pix = WebPDecodeRGBA(f, n, &ww, &hh);
            cr_assert(pix && ww == 10 && hh == 6, "libwebp decodes it");
            if (alpha && !lossy)
                cr_assert_eq(pix[4 * 5 + 3], 125, "alpha kept");
            WebPFree(pix);
            fi = file_info(out);
            cr_assert_str_eq(fi.compression, lossy ? "lossy" : "lossless");
            cr_assert_str_eq(fi.color, alpha ? "rgba" : "rgb");
            free(f);
        }
    }
    free(icc);
}

/* Some writers keep JPEG's "Exif\0\0" before the TIFF header: it is not part of the block. */
Test(meta, webp_exif_prefix_dropped)
{
    unsigned char exif[6 + 108];
    memcpy(exif, "Exif\0\0", 6);
    size_t exif_n = 6 + make_exif(exif + 6, 5);
    size_t n;
    unsigned char *w = make_webp(8, 8, NULL, 0, exif, exif_n, NULL, 0, &n);
    tu_write_file(tu_path("p.webp"), w, n);
    free(w);
    hdm_file_info fi = file_info(tu_path("p.webp"));
    cr_assert_eq(fi.exif_size, exif_n - 6);
    cr_assert_eq(fi.orientation, 5);
    cr_assert_eq(fi.image.width, 8);
}

/* An EXIF chunk longer than the file: refused, the file named, nothing written. */
Test(meta, webp_chunk_past_the_end_refused)
{
    unsigned char exif[108];
    size_t exif_n = make_exif(exif, 1);
    size_t n;
    unsigned char *w = make_webp(8, 8, NULL, 0, exif, exif_n, NULL, 0, &n);
    unsigned char *e = memmem(w, n, "EXIF", 4);
    cr_assert(e);
    le32(e + 4, 5000); /* the RIFF size still the file's */
    const char *in = tu_path("long.webp");
    tu_write_file(in, w, n);
    free(w);
    hdm_options o = opts();
    hdm_error err = {0};
    int before = tu_dir_entries();
    hdm_status st = convert(in, tu_path("x.tif"), &o, &err);
    cr_assert_eq(st, HDM_ERR_CORRUPT, "%d %s", (int)st, err.message);
    cr_assert(strstr(err.message, in) && strstr(err.message, "EXIF chunk") &&
              strstr(err.message, "past the end"), "%s", err.message);
    cr_assert(!tu_exists(tu_path("x.tif")));
    cr_assert_eq(tu_dir_entries(), before);
    hdm_file_info fi = {.size = sizeof fi};
    cr_assert_eq(hdm_file_info_read(in, NULL, &fi, &err), HDM_ERR_CORRUPT);
    hdm_image *img;
    cr_assert_eq(hdm_load(in, NULL, &img, &err), HDM_ERR_CORRUPT);
    cli_result *r = malloc(sizeof *r);
    CLI(r, tu_path(""), "run", "long.webp", "-o", "y.png", "filter:box:1");
    CLI_REFUSED(r, 1, "long.webp", "EXIF chunk");
    cr_assert(!tu_exists(tu_path("y.png")));
    free(r);
}

/* An animation's frames are its pages; its chunks are walked for metadata past them. */
Test(meta, webp_animation_pages)
{
    WebPAnimEncoderOptions ao;
    cr_assert(WebPAnimEncoderOptionsInit(&ao));
    WebPAnimEncoder *enc = WebPAnimEncoderNew(12, 10, &ao);
    cr_assert(enc);
    WebPConfig cfg;
    cr_assert(WebPConfigInit(&cfg));
    cfg.lossless = 1;
    for (int i = 0; i < 3; i++) {
        WebPPicture pic;
        cr_assert(WebPPictureInit(&pic));
        pic.use_argb = 1;
        pic.width = 12, pic.height = 10;
        cr_assert(WebPPictureAlloc(&pic));
        for (int k = 0; k < 120; k++)
            pic.argb[k] = 0xff000000u | (uint32_t)(k * 1000 + i * 77777);
        cr_assert(WebPAnimEncoderAdd(enc, &pic, i * 100, &cfg));
        WebPPictureFree(&pic);
    }
    cr_assert(WebPAnimEncoderAdd(enc, NULL, 300, NULL));
    WebPData d;
    WebPDataInit(&d);
    cr_assert(WebPAnimEncoderAssemble(enc, &d));
    WebPAnimEncoderDelete(enc);
    WebPMux *mux = WebPMuxCreate(&d, 1);
    cr_assert(mux);
    cr_assert_eq(WebPMuxSetChunk(mux, "XMP ", &(WebPData){(const uint8_t *)xmp, strlen(xmp)}, 1),
                 WEBP_MUX_OK);
    WebPDataClear(&d);
    cr_assert_eq(WebPMuxAssemble(mux, &d), WEBP_MUX_OK);
    WebPMuxDelete(mux);
    tu_write_file(tu_path("anim.webp"), d.bytes, d.size);
    WebPDataClear(&d);
    hdm_file_info fi = file_info(tu_path("anim.webp"));
    cr_assert_eq(fi.pages, 3);
    cr_assert_eq(fi.xmp_size, strlen(xmp));
    cr_assert_str_eq(fi.compression, "lossless");
    hdm_options o = opts();
    ok_convert(tu_path("anim.webp"), tu_path("anim.tif"), &o);
    fi = file_info(tu_path("anim.tif"));
    cr_assert_eq(fi.xmp_size, strlen(xmp));
    cr_assert_eq(fi.pages, 1);
}

/* EXIF that holds no TIFF structure cannot go into a TIFF's directories: one notice. */
Test(meta, tiff_says_what_it_leaves_out)
{
    size_t n;
    unsigned char *w = make_webp(8, 8, NULL, 0, "not exif at all", 15, NULL, 0, &n);
    tu_write_file(tu_path("junk.webp"), w, n);
    free(w);
    hdm_options o = opts();
    ok_convert(tu_path("junk.webp"), tu_path("junk.tif"), &o);
    cr_assert(strstr(notes, "junk.tif: EXIF left out (it holds no TIFF structure") &&
              strstr(notes, "Orientation kept"), "%s", notes);
    cr_assert_eq(strchr(notes, '\n'), notes + strlen(notes) - 1, "one line: %s", notes);
}

/* The ICC profile of out (a .tif or a .webp), copied (NULL when it has none). */
static unsigned char *profile_of(const char *out, size_t *size)
{
    size_t n;
    unsigned char *f = tu_read_file(out, &n), *copy = NULL;
    cr_assert(f, "%s", out);
    *size = 0;
    if (!memcmp(f, "RIFF", 4)) {
        chunk c = find_chunk(f, n, "ICCP");
        chunk vp8x = find_chunk(f, n, "VP8X");
        if (c.data) {
            cr_assert(vp8x.data[0] & 0x20, "%s: the ICC flag set with its chunk", out);
            copy = malloc(c.size);
            memcpy(copy, c.data, c.size);
            *size = c.size;
        } else if (vp8x.data) {
            cr_assert(!(vp8x.data[0] & 0x20), "%s: the ICC flag set without its chunk", out);
        }
    } else {
        TIFF *t = TIFFOpen(out, "r");
        cr_assert_not_null(t, "%s", out);
        uint32_t len = 0;
        void *data = NULL;
        if (TIFFGetField(t, TIFFTAG_ICCPROFILE, &len, &data) && len) {
            copy = malloc(len);
            memcpy(copy, data, len);
            *size = len;
        }
        TIFFClose(t);
    }
    free(f);
    return copy;
}

/* A profile describes pixels only in its own colour space (ICC.1, 7.2.6): a TIFF keeps one of
 * the image's (gray or RGB), a WebP one of RGB (its pixels, gray written as RGB); another is
 * left out, said once naming the file. Inputs: gray and RGB TIFFs with gray, RGB and CMYK
 * profiles, and CMYK pixels (read as RGB) with their CMYK profile. */
Test(meta, profile_of_another_colour_space_left_out)
{
    static const char gray_tiff[] = "ICC profile left out (not a gray profile, and the image is "
                                    "gray)";
    static const char rgb_out[] = "ICC profile left out (not an RGB profile, and the image is "
                                  "RGB)";
    static const char gray_webp[] = "ICC profile left out (not an RGB profile, and WebP writes "
                                    "gray as RGB)";
    struct {
        uint16_t spp, photo;
        const char *space;
        const char *tif, *webp; /* the notice, or NULL: kept */
    } cases[] = {
        {1, PHOTOMETRIC_MINISBLACK, "GRAY", NULL, gray_webp},
        {1, PHOTOMETRIC_MINISBLACK, "RGB ", gray_tiff, NULL},
        {3, PHOTOMETRIC_RGB, "RGB ", NULL, NULL},
        {3, PHOTOMETRIC_RGB, "GRAY", rgb_out, rgb_out},
        {3, PHOTOMETRIC_RGB, "CMYK", rgb_out, rgb_out},
        {4, PHOTOMETRIC_SEPARATED, "CMYK", rgb_out, rgb_out},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t icc_n;
        unsigned char *icc = make_icc_of("Space test", cases[i].space, &icc_n);
        meta_in m = {icc, icc_n, xmp, 0, 0};
        write_tiff_of(tu_path("in.tif"), 12, 8, cases[i].spp, cases[i].photo, &m);
        const char *outs[] = {"out.tif", "out.webp"};
        const char *want[] = {cases[i].tif, cases[i].webp};
        for (int k = 0; k < 2; k++) {
            hdm_options o = opts();
            ok_convert(tu_path("in.tif"), tu_path(outs[k]), &o);
            size_t n;
            unsigned char *got = profile_of(tu_path(outs[k]), &n);
            if (!want[k]) {
                cr_assert(got && n == icc_n && !memcmp(got, icc, n), "case %zu %s: the profile "
                          "kept byte for byte", i, outs[k]);
                cr_assert_str_eq(notes, "", "case %zu %s: %s", i, outs[k], notes);
            } else {
                cr_assert_null(got, "case %zu %s: a %s profile written", i, outs[k],
                               cases[i].space);
                char line[256];
                snprintf(line, sizeof line, "%s: %s\n", tu_path(outs[k]), want[k]);
                cr_assert_str_eq(notes, line, "case %zu %s", i, outs[k]);
            }
            free(got);
            hdm_file_info fi = file_info(tu_path(outs[k]));
            cr_assert_eq(fi.xmp_size, strlen(xmp), "case %zu %s: the rest kept", i, outs[k]);
        }
        free(icc);
    }
}

/* Through the command: a gray TIFF's gray profile no longer fits once an RGB top is blended
 * over it; one line on stderr names the output, and the output has no profile. */
Test(meta, profile_of_another_colour_space_through_the_command)
{
    size_t icc_n;
    unsigned char *icc = make_icc_of("Gray base", "GRAY", &icc_n);
    meta_in m = {icc, icc_n, NULL, 0, 0};
    write_tiff_of(tu_path("gray.tif"), 16, 16, 1, PHOTOMETRIC_MINISBLACK, &m);
    write_tiff(tu_path("top.tif"), 16, 16, NULL);
    cli_result *r = malloc(sizeof *r);
    const char *outs[] = {"b.tif", "b.webp"};
    for (int k = 0; k < 2; k++) {
        CLI(r, tu_path(""), "blend", "gray.tif", "top.tif", "-o", outs[k]);
        cli_expect_ok(r);
        char line[128];
        snprintf(line, sizeof line, "%s: ICC profile left out (not an RGB profile, and the "
                 "image is RGB)\n", outs[k]);
        cr_assert(strstr(r->err, line), "%s", r->err);
        cr_assert_eq(strchr(r->err, '\n'), r->err + strlen(r->err) - 1, "one line: %s", r->err);
        size_t n;
        unsigned char *got = profile_of(tu_path(outs[k]), &n);
        cr_assert_null(got, "%s", outs[k]);
    }
    /* the gray image alone keeps its profile as a TIFF, byte for byte, and nothing is said */
    CLI(r, tu_path(""), "run", "gray.tif", "-o", "g.tif", "filter:box:1");
    cli_expect_ok(r);
    cr_assert_str_eq(r->err, "");
    size_t n;
    unsigned char *got = profile_of(tu_path("g.tif"), &n);
    cr_assert(got && n == icc_n && !memcmp(got, icc, n));
    free(got);
    free(r);
    free(icc);
}

/* What a format has no place for is said once: resolution and PNG's colour chunks in WebP, the
 * colour chunks in TIFF (which keeps the resolution). Through the sinks directly, since no
 * reader here gives colour chunks. */
Test(meta, sinks_say_what_they_leave_out)
{
    const hdm_format fmts[] = {HDM_FORMAT_TIFF, HDM_FORMAT_WEBP};
    const char *want[] = {
        "out.x: sRGB, gAMA and cHRM left out (TIFF holds none of them)\n",
        "out.x: resolution left out (WebP holds none)\n"
        "out.x: sRGB, gAMA and cHRM left out (WebP holds none of them)\n"};
    for (int i = 0; i < 2; i++) {
        hdm_image *img;
        hdm_error e = {0};
        cr_assert_eq(hdm_image_new(4, 4, 3, HDM_U8, &img), HDM_OK);
        hdm__source *src;
        cr_assert_eq(hdm__source_from_image(img, true, "in", HDM_FORMAT_PNG, &src, &e), HDM_OK);
        src->meta.srgb_intent = 1;
        src->meta.res_x = src->meta.res_y = 72;
        src->meta.res_unit = 1;
        hdm_options o = opts();
        hdm__bytes b = {0};
        cr_assert_eq(hdm__encode(src, fmts[i], &o, &b, "out.x", &e), HDM_OK, "%s", e.message);
        cr_assert_str_eq(notes, want[i]);
        hdm_file_info fi = {.size = sizeof fi};
        cr_assert_eq(hdm_file_info_read_memory(b.mem, b.len, NULL, &fi, &e), HDM_OK, "%s",
                     e.message);
        cr_assert_eq(fi.res_x, i ? 0 : 72);
        free(b.mem);
    }
}

/* ---- exiftool, an independent reader ---- */

static bool have_exiftool(void)
{
    return system("exiftool -ver >/dev/null 2>&1") == 0;
}

/* The tags exiftool prints for path, as "-Group:Tag" lines. */
static char *exiftool(const char *path)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "exiftool -s -G1 -ICC_Profile:ProfileDescription -XMP-dc:Creator "
             "-Orientation -n '%s' 2>&1", path);
    return tu_command_output(cmd);
}

Test(meta, exiftool_reads_our_files)
{
    if (!have_exiftool()) {
        const char *ci = getenv("CI");
        cr_assert(!ci || strcmp(ci, "true"), "exiftool is needed in CI (libimage-exiftool-perl, "
                  ".ci/deps --tests)");
        cr_skip_test("exiftool is not installed (Debian libimage-exiftool-perl): skipped outside "
                     "CI");
    }
    size_t icc_n;
    unsigned char *icc = make_icc("Seen By Exiftool", &icc_n);
    meta_in m = {icc, icc_n, xmp, 300, 6};
    write_tiff(tu_path("in.tif"), 16, 16, &m);
    hdm_options o = opts();
    const char *outs[] = {"e.tif", "e.webp"};
    for (int i = 0; i < 2; i++) {
        ok_convert(tu_path("in.tif"), tu_path(outs[i]), &o);
        char *s = exiftool(tu_path(outs[i]));
        cr_assert(strstr(s, "ProfileDescription") && strstr(s, "Seen By Exiftool"), "%s: %s",
                  outs[i], s);
        cr_assert(strstr(s, "Creator") && strstr(s, "Hadamard Tester"), "%s: %s", outs[i], s);
        cr_assert(strstr(s, "Orientation") && strstr(s, ": 6"), "%s: %s", outs[i], s);
        cr_assert(!strstr(s, "Warning") && !strstr(s, "Error"), "%s: %s", outs[i], s);
        free(s);
    }
    free(icc);
}
