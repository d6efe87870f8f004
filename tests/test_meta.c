/* SPDX-License-Identifier: MIT */
/* test_meta.c — metadata carried from PNG and JPEG inputs to PNG and JPEG outputs, read back with
 * libpng, libjpeg and exiftool; --strip, --keep and hdm_options.strip_meta; what info shows */
#include "cli_run.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <zlib.h>
#include <png.h>

static char *dir;
static cli_result r;

static void setup(void)
{
    dir = scratch_new();
}

static void teardown(void)
{
    scratch_free(dir);
}

TestSuite(meta, .init = setup, .fini = teardown);

/* ---- blobs: an ICC profile, EXIF, XMP ---- */

typedef struct blob {
    unsigned char *p;
    size_t n;
} blob;

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static void be16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 8), p[1] = (unsigned char)v;
}

/* An ICC v2 display profile (ICC.1:2001-04) of about total bytes in colour space space ("RGB ",
 * "GRAY"): a 'desc' textDescriptionType with desc, and a 'cprt' text tag of varied letters that
 * makes up the size, so that every byte differs from its neighbours and a cut or a reordered
 * part shows. */
static blob make_icc(size_t total, const char *desc, const char *space)
{
    size_t dlen = strlen(desc) + 1;
    size_t desc_size = 12 + dlen + 4 + 4 + 2 + 1 + 67;
    size_t desc_off = 128 + 4 + 2 * 12, cprt_off = (desc_off + desc_size + 3) & ~(size_t)3;
    if (total < cprt_off + 16)
        total = cprt_off + 16;
    total = (total + 3) & ~(size_t)3;
    blob b = {calloc(1, total), total};
    cr_assert(b.p);
    unsigned char *p = b.p;
    be32(p, (uint32_t)total);
    be32(p + 8, 0x02100000);
    memcpy(p + 12, "mntr", 4);
    memcpy(p + 16, space, 4);
    memcpy(p + 20, "XYZ ", 4);
    memcpy(p + 36, "acsp", 4);
    be32(p + 68, 0x0000F6D6), be32(p + 72, 0x00010000), be32(p + 76, 0x0000D32D); /* D50 */
    be32(p + 128, 2);
    memcpy(p + 132, "desc", 4), be32(p + 136, (uint32_t)desc_off), be32(p + 140, (uint32_t)desc_size);
    size_t cprt_size = total - cprt_off;
    memcpy(p + 144, "cprt", 4), be32(p + 148, (uint32_t)cprt_off), be32(p + 152, (uint32_t)cprt_size);
    unsigned char *d = p + desc_off;
    memcpy(d, "desc", 4);
    be32(d + 8, (uint32_t)dlen);
    memcpy(d + 12, desc, dlen);
    unsigned char *c = p + cprt_off;
    memcpy(c, "text", 4);
    tu_rng g;
    tu_seed(&g, total);
    for (size_t i = 8; i + 1 < cprt_size; i++)
        c[i] = (unsigned char)('A' + tu_below(&g, 26));
    return b;
}

/* EXIF as a big-endian TIFF structure: IFD0 with Orientation, and an ImageDescription of pad
 * letters when pad > 0 (to make it large). */
static blob make_exif(uint32_t orientation, size_t pad)
{
    size_t n = 8 + 2 + 2 * 12 + 4 + pad + 1;
    blob b = {calloc(1, n), n};
    cr_assert(b.p);
    unsigned char *p = b.p;
    memcpy(p, "MM\0*", 4);
    be32(p + 4, 8);
    be16(p + 8, 2);
    unsigned char *e = p + 10;
    be16(e, 0x010E), be16(e + 2, 2), be32(e + 4, (uint32_t)(pad + 1)), be32(e + 8, 8 + 2 + 24 + 4);
    be16(e + 12, 0x0112), be16(e + 14, 3), be32(e + 16, 1), be16(e + 20, orientation);
    memset(p + 8 + 2 + 24 + 4, 'x', pad);
    return b;
}

static blob make_xmp(const char *title, size_t pad)
{
    char head[1024];
    int h = snprintf(head, sizeof head,
                     "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>"
                     "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org"
                     "/1999/02/22-rdf-syntax-ns#\"><rdf:Description rdf:about=\"\" xmlns:dc=\""
                     "http://purl.org/dc/elements/1.1/\"><dc:title><rdf:Alt><rdf:li xml:lang=\""
                     "x-default\">%s</rdf:li></rdf:Alt></dc:title></rdf:Description></rdf:RDF>"
                     "</x:xmpmeta>", title);
    static const char tail[] = "<?xpacket end=\"w\"?>";
    size_t n = (size_t)h + pad + sizeof tail - 1;
    blob b = {malloc(n + 1), n}; /* NUL-ended too: libpng's png_set_text takes a C string */
    cr_assert(b.p);
    b.p[n] = 0;
    memcpy(b.p, head, (size_t)h);
    memset(b.p + h, ' ', pad); /* XMP padding is whitespace */
    memcpy(b.p + h + pad, tail, sizeof tail - 1);
    return b;
}

static bool blob_eq(const blob *a, const unsigned char *p, size_t n)
{
    return a->n == n && p && memcmp(a->p, p, n) == 0;
}

static void blob_free(blob *b)
{
    free(b->p);
    b->p = NULL, b->n = 0;
}

/* ---- what a file holds, read back by libpng or libjpeg ---- */

typedef struct held {
    blob icc, exif, xmp;
    int srgb;            /* 1 + intent, 0 when none */
    uint32_t gamma;      /* gAMA × 100000 */
    bool chrm;
    uint32_t chrm_v[8];
    uint32_t px, py;     /* pHYs, 0 when none */
    int unit;
    int app2;            /* JPEG: APP2 ICC_PROFILE markers */
    int jfif_unit, jx, jy;
} held;

static void held_free(held *h)
{
    blob_free(&h->icc), blob_free(&h->exif), blob_free(&h->xmp);
}

static blob copy_of(const void *p, size_t n)
{
    blob b = {malloc(n ? n : 1), n};
    cr_assert(b.p);
    memcpy(b.p, p, n);
    return b;
}

static void png_read_held(const char *path, held *h)
{
    memset(h, 0, sizeof *h);
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    cr_assert(png && info);
    if (setjmp(png_jmpbuf(png)))
        cr_assert_fail("libpng could not read %s", path);
    png_init_io(png, f);
    /* every chunk, before and after IDAT */
    png_read_info(png, info);
    png_set_expand(png);
    png_read_update_info(png, info);
    size_t rb = png_get_rowbytes(png, info);
    png_bytep row = malloc(rb);
    uint32_t height = png_get_image_height(png, info);
    int passes = png_set_interlace_handling(png);
    for (int pass = 0; pass < passes; pass++)
        for (uint32_t y = 0; y < height; y++)
            png_read_row(png, row, NULL);
    free(row);
    png_read_end(png, info);
    png_charp name;
    int comp;
    png_bytep prof;
    png_uint_32 len;
    if (png_get_iCCP(png, info, &name, &comp, &prof, &len))
        h->icc = copy_of(prof, len);
    png_bytep exif;
    png_uint_32 elen;
    if (png_get_eXIf_1(png, info, &elen, &exif))
        h->exif = copy_of(exif, elen);
    png_textp text;
    int nt = 0;
    png_get_text(png, info, &text, &nt);
    for (int i = 0; i < nt; i++)
        if (strcmp(text[i].key, "XML:com.adobe.xmp") == 0) {
            cr_assert_eq(text[i].compression, PNG_ITXT_COMPRESSION_NONE, "XMP compressed");
            h->xmp = copy_of(text[i].text, text[i].itxt_length);
        }
    int intent;
    if (png_get_sRGB(png, info, &intent))
        h->srgb = 1 + intent;
    png_fixed_point g;
    if (png_get_valid(png, info, PNG_INFO_gAMA) && png_get_gAMA_fixed(png, info, &g))
        h->gamma = (uint32_t)g;
    png_fixed_point c[8];
    if (png_get_valid(png, info, PNG_INFO_cHRM) &&
        png_get_cHRM_fixed(png, info, &c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6], &c[7])) {
        h->chrm = true;
        for (int i = 0; i < 8; i++)
            h->chrm_v[i] = (uint32_t)c[i];
    }
    png_uint_32 x, y;
    int unit;
    if (png_get_pHYs(png, info, &x, &y, &unit))
        h->px = x, h->py = y, h->unit = unit;
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
}

typedef struct jerr {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
} jerr;

static void jerr_exit(j_common_ptr c)
{
    longjmp(((jerr *)c->err)->jump, 1);
}

static void jpeg_read_held(const char *path, held *h)
{
    memset(h, 0, sizeof *h);
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    struct jpeg_decompress_struct d;
    jerr e;
    d.err = jpeg_std_error(&e.pub);
    e.pub.error_exit = jerr_exit;
    if (setjmp(e.jump))
        cr_assert_fail("libjpeg could not read %s", path);
    jpeg_create_decompress(&d);
    jpeg_stdio_src(&d, f);
    jpeg_save_markers(&d, JPEG_APP0 + 1, 0xFFFF);
    jpeg_save_markers(&d, JPEG_APP0 + 2, 0xFFFF);
    jpeg_read_header(&d, TRUE);
    JOCTET *icc;
    unsigned ilen;
    if (jpeg_read_icc_profile(&d, &icc, &ilen)) {
        h->icc = copy_of(icc, ilen);
        free(icc);
    }
    for (jpeg_saved_marker_ptr m = d.marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 2 && m->data_length > 12 && !memcmp(m->data, "ICC_PROFILE", 12))
            h->app2++;
        if (m->marker != JPEG_APP0 + 1)
            continue;
        if (m->data_length > 6 && !memcmp(m->data, "Exif\0\0", 6)) {
            cr_assert_null(h->exif.p, "two EXIF markers");
            h->exif = copy_of(m->data + 6, m->data_length - 6);
        } else if (m->data_length > 29 && !memcmp(m->data, "http://ns.adobe.com/xap/1.0/", 29)) {
            cr_assert_null(h->xmp.p, "two XMP markers");
            h->xmp = copy_of(m->data + 29, m->data_length - 29);
        }
    }
    if (d.saw_JFIF_marker)
        h->jfif_unit = d.density_unit, h->jx = d.X_density, h->jy = d.Y_density;
    jpeg_destroy_decompress(&d);
    fclose(f);
}

/* ---- inputs made with libpng and libjpeg ---- */

typedef struct spec {
    const blob *icc, *exif, *xmp;
    int srgb;                  /* 1 + intent */
    uint32_t gamma;
    bool chrm;
    uint32_t phys_x, phys_y;   /* per metre */
    int phys_unit;
    /* PNG */
    int bit_depth, color_type; /* 0: 8-bit RGB */
    bool interlace;
    const blob *late_exif, *late_xmp; /* after IDAT */
    bool late_xmp_packed;             /* a compressed iTXt */
    /* JPEG */
    int jfif_unit, jx, jy;
    bool progressive, s420, gray;
} spec;

static const uint32_t CHRM[8] = {31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000};

static void write_png(const char *path, const spec *s, uint32_t w, uint32_t h)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    cr_assert(png && info);
    if (setjmp(png_jmpbuf(png)))
        cr_assert_fail("libpng could not write %s", path);
    png_init_io(png, f);
    int depth = s->bit_depth ? s->bit_depth : 8;
    int type = s->bit_depth ? s->color_type : PNG_COLOR_TYPE_RGB;
    png_set_IHDR(png, info, w, h, depth, type,
                 s->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, 0, 0);
    if (type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[2] = {{0, 0, 0}, {255, 200, 100}};
        png_set_PLTE(png, info, pal, 2);
    }
    if (s->icc)
        png_set_iCCP(png, info, "test", 0, s->icc->p, (png_uint_32)s->icc->n);
    if (s->exif)
        png_set_eXIf_1(png, info, (png_uint_32)s->exif->n, s->exif->p);
    if (s->xmp) {
        png_text t = {0};
        t.compression = PNG_ITXT_COMPRESSION_NONE;
        t.key = "XML:com.adobe.xmp";
        t.text = (char *)s->xmp->p;
        t.itxt_length = s->xmp->n;
        png_set_text(png, info, &t, 1);
    }
    if (s->srgb)
        png_set_sRGB(png, info, s->srgb - 1);
    if (s->gamma)
        png_set_gAMA_fixed(png, info, (png_fixed_point)s->gamma);
    if (s->chrm)
        png_set_cHRM_fixed(png, info, CHRM[0], CHRM[1], CHRM[2], CHRM[3], CHRM[4], CHRM[5],
                           CHRM[6], CHRM[7]);
    if (s->phys_x)
        png_set_pHYs(png, info, s->phys_x, s->phys_y, s->phys_unit);
    png_write_info(png, info);
    /* set after png_write_info, png_write_end writes them after IDAT */
    if (s->late_exif)
        png_set_eXIf_1(png, info, (png_uint_32)s->late_exif->n, s->late_exif->p);
    if (s->late_xmp) {
        png_text t = {0};
        t.compression = s->late_xmp_packed ? PNG_ITXT_COMPRESSION_zTXt
                                           : PNG_ITXT_COMPRESSION_NONE;
        t.key = "XML:com.adobe.xmp";
        t.text = (char *)s->late_xmp->p;
        t.itxt_length = s->late_xmp->n;
        png_set_text(png, info, &t, 1);
    }
    int passes = png_set_interlace_handling(png);
    size_t rb = png_get_rowbytes(png, info);
    png_bytep row = malloc(rb);
    for (int pass = 0; pass < passes; pass++)
        for (uint32_t y = 0; y < h; y++) {
            for (size_t i = 0; i < rb; i++)
                row[i] = (unsigned char)(i * 7 + y * 3);
            png_write_row(png, row);
        }
    free(row);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

/* A JPEG with the spec's markers; extra, when not NULL, writes more markers itself. */
static void write_jpeg(const char *path, const spec *s, uint32_t w, uint32_t h,
                       void (*extra)(j_compress_ptr))
{
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    struct jpeg_compress_struct c;
    jerr e;
    c.err = jpeg_std_error(&e.pub);
    e.pub.error_exit = jerr_exit;
    if (setjmp(e.jump))
        cr_assert_fail("libjpeg could not write %s", path);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = w, c.image_height = h;
    c.input_components = s->gray ? 1 : 3;
    c.in_color_space = s->gray ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 90, TRUE);
    if (!s->gray) {
        c.comp_info[0].h_samp_factor = s->s420 ? 2 : 1;
        c.comp_info[0].v_samp_factor = s->s420 ? 2 : 1;
    }
    if (s->progressive)
        jpeg_simple_progression(&c);
    if (s->jx) {
        c.density_unit = (UINT8)s->jfif_unit;
        c.X_density = (UINT16)s->jx, c.Y_density = (UINT16)s->jy;
    }
    jpeg_start_compress(&c, TRUE);
    if (s->exif) {
        jpeg_write_m_header(&c, JPEG_APP0 + 1, (unsigned)(6 + s->exif->n));
        for (size_t i = 0; i < 6; i++)
            jpeg_write_m_byte(&c, "Exif\0\0"[i]);
        for (size_t i = 0; i < s->exif->n; i++)
            jpeg_write_m_byte(&c, s->exif->p[i]);
    }
    if (s->xmp) {
        jpeg_write_m_header(&c, JPEG_APP0 + 1, (unsigned)(29 + s->xmp->n));
        for (size_t i = 0; i < 29; i++)
            jpeg_write_m_byte(&c, "http://ns.adobe.com/xap/1.0/"[i]);
        for (size_t i = 0; i < s->xmp->n; i++)
            jpeg_write_m_byte(&c, s->xmp->p[i]);
    }
    if (s->icc)
        jpeg_write_icc_profile(&c, s->icc->p, (unsigned)s->icc->n);
    if (extra)
        extra(&c);
    unsigned comps = s->gray ? 1 : 3;
    unsigned char *row = malloc((size_t)w * comps);
    for (uint32_t y = 0; y < h; y++) {
        for (size_t i = 0; i < (size_t)w * comps; i++)
            row[i] = (unsigned char)(i * 5 + y * 2);
        JSAMPROW rp = row;
        jpeg_write_scanlines(&c, &rp, 1);
    }
    free(row);
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
}

/* ---- converting through the command ---- */

/* hadamard window IN --strength 0 -o OUT [extra options]: every pixel kept, metadata carried. */
#define CONVERT(in, out, ...)                                                                   \
    CLI(&r, dir, "window", in, "--strength", "0", "-o", out, ##__VA_ARGS__)

static void expect_ok(void)
{
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The inputs most tests share: an RGB profile of 3 KB, EXIF with Orientation 1, XMP. */
typedef struct common {
    blob icc, exif, xmp;
} common;

static common make_common(void)
{
    return (common){make_icc(3000, "Test RGB profile", "RGB "), make_exif(1, 0),
                    make_xmp("hadamard test", 0)};
}

static void common_free(common *c)
{
    blob_free(&c->icc), blob_free(&c->exif), blob_free(&c->xmp);
}

static void expect_carried(const held *h, const common *c, const char *what)
{
    cr_assert(blob_eq(&c->icc, h->icc.p, h->icc.n), "%s: ICC profile not equal (%zu bytes)",
              what, h->icc.n);
    cr_assert(blob_eq(&c->exif, h->exif.p, h->exif.n), "%s: EXIF not equal (%zu bytes)", what,
              h->exif.n);
    cr_assert(blob_eq(&c->xmp, h->xmp.p, h->xmp.n), "%s: XMP not equal (%zu bytes)", what,
              h->xmp.n);
}

Test(meta, png_to_png_keeps_everything)
{
    common c = make_common();
    spec s = {.icc = &c.icc, .exif = &c.exif, .xmp = &c.xmp, .gamma = 45455, .chrm = true,
              .phys_x = 11811, .phys_y = 5906, .phys_unit = PNG_RESOLUTION_METER};
    write_png(at(dir, "in.png"), &s, 40, 30);
    CONVERT("in.png", "out.png");
    expect_ok();
    cr_assert_eq(r.err[0], '\0', "no notice expected: %s", r.err);
    held h;
    png_read_held(at(dir, "out.png"), &h);
    expect_carried(&h, &c, "PNG to PNG");
    cr_assert_eq(h.gamma, 45455);
    cr_assert(h.chrm);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(h.chrm_v[i], CHRM[i], "cHRM %d: %u", i, h.chrm_v[i]);
    cr_assert_eq(h.px, 11811);
    cr_assert_eq(h.py, 5906);
    cr_assert_eq(h.unit, PNG_RESOLUTION_METER);
    cr_assert_eq(h.srgb, 0);
    held_free(&h);
    common_free(&c);
}

/* sRGB is carried; a profile beside gAMA is carried too, and no sRGB is made up. */
Test(meta, png_srgb_carried_and_not_made_up)
{
    common c = make_common();
    spec s = {.srgb = 1 + 1, .gamma = 45455};
    write_png(at(dir, "srgb.png"), &s, 8, 8);
    CONVERT("srgb.png", "out.png");
    expect_ok();
    held h;
    png_read_held(at(dir, "out.png"), &h);
    cr_assert_eq(h.srgb, 2, "sRGB intent: %d", h.srgb);
    cr_assert_eq(h.gamma, 45455);
    held_free(&h);
    /* a profile with gAMA: both carried, no sRGB made up (test_codec_png checks that the sink
     * never writes sRGB beside iCCP) */
    s = (spec){.icc = &c.icc, .gamma = 45455};
    write_png(at(dir, "icc.png"), &s, 8, 8);
    CONVERT("icc.png", "out2.png");
    expect_ok();
    png_read_held(at(dir, "out2.png"), &h);
    cr_assert(blob_eq(&c.icc, h.icc.p, h.icc.n));
    cr_assert_eq(h.srgb, 0);
    held_free(&h);
    common_free(&c);
}

Test(meta, png_to_jpeg_carries_and_says_what_it_cannot)
{
    common c = make_common();
    spec s = {.icc = &c.icc, .exif = &c.exif, .xmp = &c.xmp, .gamma = 45455, .chrm = true,
              .phys_x = 11811, .phys_y = 11811, .phys_unit = PNG_RESOLUTION_METER};
    write_png(at(dir, "in.png"), &s, 40, 30);
    CONVERT("in.png", "out.jpg");
    expect_ok();
    cr_assert_eq(count(r.err, "sRGB, gAMA and cHRM left out (JPEG holds none of them)"), 1,
                 "%s", r.err);
    cr_assert(strstr(r.err, "out.jpg: "), "the notice names the output: %s", r.err);
    cr_assert_eq(lines(r.err), 1, "%s", r.err);
    held h;
    jpeg_read_held(at(dir, "out.jpg"), &h);
    expect_carried(&h, &c, "PNG to JPEG");
    /* 11811 per metre is 118.11 per centimetre: JFIF holds whole numbers, so 300 per inch */
    cr_assert_eq(h.jfif_unit, 1);
    cr_assert_eq(h.jx, 300);
    cr_assert_eq(h.jy, 300);
    held_free(&h);
    /* stripped colour chunks say nothing */
    CONVERT("in.png", "out2.jpg", "--keep", "icc");
    expect_ok();
    cr_assert_eq(r.err[0], '\0', "%s", r.err);
    common_free(&c);
}

Test(meta, jpeg_to_jpeg_and_png)
{
    common c = make_common();
    spec s = {.icc = &c.icc, .exif = &c.exif, .xmp = &c.xmp, .jfif_unit = 1, .jx = 300,
              .jy = 150};
    write_jpeg(at(dir, "in.jpg"), &s, 40, 30, NULL);
    CONVERT("in.jpg", "out.jpg");
    expect_ok();
    cr_assert_eq(r.err[0], '\0', "%s", r.err);
    held h;
    jpeg_read_held(at(dir, "out.jpg"), &h);
    expect_carried(&h, &c, "JPEG to JPEG");
    cr_assert_eq(h.app2, 1);
    cr_assert_eq(h.jfif_unit, 1);
    cr_assert_eq(h.jx, 300);
    cr_assert_eq(h.jy, 150);
    held_free(&h);
    CONVERT("in.jpg", "out.png");
    expect_ok();
    png_read_held(at(dir, "out.png"), &h);
    expect_carried(&h, &c, "JPEG to PNG");
    cr_assert_eq(h.unit, PNG_RESOLUTION_METER);
    cr_assert_eq(h.px, 11811, "300 per inch: %u per metre", h.px); /* 300 / 0.0254 = 11811.02 */
    cr_assert_eq(h.py, 5906, "150 per inch: %u per metre", h.py);  /* 5905.51 */
    held_free(&h);
    common_free(&c);
}

/* PNG → JPEG → PNG keeps the density per metre. */
Test(meta, density_round_trip)
{
    spec s = {.phys_x = 11811, .phys_y = 3937, .phys_unit = PNG_RESOLUTION_METER};
    write_png(at(dir, "in.png"), &s, 16, 16);
    CONVERT("in.png", "mid.jpg");
    expect_ok();
    CONVERT("mid.jpg", "out.png");
    expect_ok();
    held h;
    png_read_held(at(dir, "out.png"), &h);
    cr_assert_eq(h.px, 11811, "%u", h.px);
    cr_assert_eq(h.py, 3937, "%u", h.py);
    cr_assert_eq(h.unit, PNG_RESOLUTION_METER);
    held_free(&h);
    /* an aspect ratio only stays one */
    s = (spec){.phys_x = 2, .phys_y = 1, .phys_unit = PNG_RESOLUTION_UNKNOWN};
    write_png(at(dir, "aspect.png"), &s, 16, 16);
    CONVERT("aspect.png", "aspect.jpg");
    expect_ok();
    jpeg_read_held(at(dir, "aspect.jpg"), &h);
    cr_assert_eq(h.jfif_unit, 0);
    cr_assert_eq(h.jx, 2);
    cr_assert_eq(h.jy, 1);
    held_free(&h);
    CONVERT("aspect.png", "aspect.png.png");
    expect_ok();
    png_read_held(at(dir, "aspect.png.png"), &h);
    cr_assert_eq(h.unit, PNG_RESOLUTION_UNKNOWN);
    cr_assert_eq(h.px, 2);
    cr_assert_eq(h.py, 1);
    held_free(&h);
}

/* The offset of a PNG file's first chunk of this type, or -1. */
static long chunk_in(const char *path, const char type[4])
{
    size_t n;
    unsigned char *d = tu_read_file(path, &n);
    cr_assert(d, "cannot read %s", path);
    long at = tu_png_chunk(d, n, type);
    free(d);
    return at;
}

/* An sRGB chunk alone comes out alone: libpng reports the gAMA and cHRM sRGB implies, and
 * those are not the file's chunks. */
Test(meta, srgb_alone_stays_alone)
{
    write_png(at(dir, "srgb.png"), &(spec){.srgb = 1 + 0}, 8, 8);
    cr_assert(chunk_in(at(dir, "srgb.png"), "sRGB") > 0);
    cr_assert_eq(chunk_in(at(dir, "srgb.png"), "gAMA"), -1, "libpng wrote gAMA itself");
    CONVERT("srgb.png", "out.png");
    expect_ok();
    cr_assert(chunk_in(at(dir, "out.png"), "sRGB") > 0);
    cr_assert_eq(chunk_in(at(dir, "out.png"), "gAMA"), -1, "a gAMA was made up");
    cr_assert_eq(chunk_in(at(dir, "out.png"), "cHRM"), -1, "a cHRM was made up");
    held h;
    png_read_held(at(dir, "out.png"), &h);
    cr_assert_eq(h.srgb, 1);
    held_free(&h);
    /* nor does a gAMA alone gain sRGB or cHRM */
    write_png(at(dir, "gama.png"), &(spec){.gamma = 45455}, 8, 8);
    CONVERT("gama.png", "out2.png");
    expect_ok();
    cr_assert(chunk_in(at(dir, "out2.png"), "gAMA") > 0);
    cr_assert_eq(chunk_in(at(dir, "out2.png"), "sRGB"), -1);
    cr_assert_eq(chunk_in(at(dir, "out2.png"), "cHRM"), -1);
}

/* eXIf and the XMP iTXt may come after IDAT: info reports them, and they are carried, the
 * Orientation applied as for an early eXIf (or kept with --no-rotate). */
Test(meta, exif_and_xmp_after_the_image_data)
{
    blob exif = make_exif(6, 0), xmp = make_xmp("late title", 0);
    write_png(at(dir, "late.png"), &(spec){.late_exif = &exif, .late_xmp = &xmp}, 16, 8);
    long idat = chunk_in(at(dir, "late.png"), "IDAT");
    cr_assert(idat > 0 && chunk_in(at(dir, "late.png"), "eXIf") > idat);
    cr_assert(chunk_in(at(dir, "late.png"), "iTXt") > idat);
    CLI(&r, dir, "info", "late.png");
    expect_ok();
    cr_assert(strstr(r.out, "late.png: 8x16, 3 channels (RGB)"), "%s", r.out);
    cr_assert(strstr(r.out, "  Orientation: 6 (turned upright on load; stored 16x8)\n"), "%s",
              r.out);
    char line[64];
    snprintf(line, sizeof line, "  EXIF: %zu bytes\n", exif.n);
    cr_assert(strstr(r.out, line), "%s", r.out);
    snprintf(line, sizeof line, "  XMP: %zu bytes\n", xmp.n);
    cr_assert(strstr(r.out, line), "%s", r.out);

    CONVERT("late.png", "up.png");
    expect_ok();
    cr_assert_eq(r.err[0], '\0', "%s", r.err);
    hdm_file_info d = {.size = sizeof d};
    hdm_error e = {0};
    hdm_info info;
    cr_assert_eq(hdm_file_info_read(at(dir, "up.png"), NULL, &d, &e), HDM_OK, "%s", e.message);
    info = d.image;
    cr_assert(info.width == 8 && info.height == 16, "turned upright: %ux%u", info.width,
              info.height);
    held h;
    png_read_held(at(dir, "up.png"), &h);
    blob one = make_exif(1, 0);
    cr_assert(blob_eq(&one, h.exif.p, h.exif.n), "EXIF with Orientation 1 (%zu bytes)", h.exif.n);
    cr_assert(blob_eq(&xmp, h.xmp.p, h.xmp.n));
    held_free(&h);

    CONVERT("late.png", "kept.jpg", "--no-rotate");
    expect_ok();
    jpeg_read_held(at(dir, "kept.jpg"), &h);
    cr_assert(blob_eq(&exif, h.exif.p, h.exif.n));
    cr_assert(blob_eq(&xmp, h.xmp.p, h.xmp.n));
    held_free(&h);

    /* a compressed iTXt too, and through memory input */
    write_png(at(dir, "packed.png"), &(spec){.late_xmp = &xmp, .late_xmp_packed = true}, 16, 8);
    size_t n;
    void *data = tu_read_file(at(dir, "packed.png"), &n);
    cr_assert(data);
    cr_assert_eq(hdm_file_info_read_memory(data, n, NULL, &d, &e), HDM_OK, "%s", e.message);
    cr_assert_eq(d.xmp_size, xmp.n);
    free(data);
    CONVERT("packed.png", "packed_out.png");
    expect_ok();
    png_read_held(at(dir, "packed_out.png"), &h);
    cr_assert(blob_eq(&xmp, h.xmp.p, h.xmp.n));
    held_free(&h);
    blob_free(&one), blob_free(&exif), blob_free(&xmp);
}

/* What hdm_file_info_read finds of a file's density. */
static void density_of(const char *file, double *x, double *y, uint32_t *unit)
{
    hdm_file_info d = {.size = sizeof d};
    hdm_error e = {0};
    cr_assert_eq(hdm_file_info_read(at(dir, file), NULL, &d, &e), HDM_OK, "%s", e.message);
    *x = d.res_x, *y = d.res_y, *unit = d.res_unit;
}

/* Densities at the edges of what each output holds: carried exactly where it holds them, left
 * out with a notice where it does not, never clamped or scaled into another value. */
Test(meta, density_extremes)
{
    held h;
    double x, y;
    uint32_t unit;
    /* 2^31 - 1 per metre: PNG holds it; JFIF (16 bits) and libtiff's float do not */
    write_png(at(dir, "max.png"), &(spec){.phys_x = 0x7fffffff, .phys_y = 0x7fffffff,
                                          .phys_unit = PNG_RESOLUTION_METER}, 8, 8);
    CONVERT("max.png", "max_out.png");
    expect_ok();
    cr_assert_eq(r.err[0], '\0', "%s", r.err);
    png_read_held(at(dir, "max_out.png"), &h);
    cr_assert(h.px == 0x7fffffff && h.py == 0x7fffffff && h.unit == PNG_RESOLUTION_METER,
              "%u x %u, unit %d", h.px, h.py, h.unit);
    CONVERT("max.png", "max.jpg");
    expect_ok();
    cr_assert_str_eq(r.err, "hadamard: max.jpg: resolution left out (JFIF holds 1 to 65535 per "
                            "unit)\n");
    jpeg_read_held(at(dir, "max.jpg"), &h);
    cr_assert(h.jfif_unit == 0 && h.jx == 1 && h.jy == 1, "JFIF's default: %d %dx%d",
              h.jfif_unit, h.jx, h.jy);
    CONVERT("max.png", "max.tif");
    expect_ok();
    cr_assert_str_eq(r.err, "hadamard: max.tif: resolution left out (libtiff holds it as a "
                            "float, too coarse for this value)\n");
    density_of("max.tif", &x, &y, &unit);
    cr_assert(x == 0 && y == 0, "%g x %g", x, y);

    /* an aspect ratio of 2^32 - 1 to 1 (beyond PNG's 2^31 - 1): no output holds it */
    write_png(at(dir, "wide.png"), &(spec){.phys_x = 0xffffffff, .phys_y = 1,
                                           .phys_unit = PNG_RESOLUTION_UNKNOWN}, 8, 8);
    CLI(&r, dir, "info", "wide.png");
    expect_ok();
    cr_assert(strstr(r.out, "  resolution: aspect "), "%s", r.out);
    CONVERT("wide.png", "wide_out.png");
    expect_ok();
    cr_assert_str_eq(r.err, "hadamard: wide_out.png: resolution left out (PNG holds 1 to "
                            "2147483647 per metre or per unit)\n");
    png_read_held(at(dir, "wide_out.png"), &h);
    cr_assert(h.px == 0 && h.py == 0, "no pHYs: %u x %u", h.px, h.py);
    CONVERT("wide.png", "wide.jpg");
    expect_ok();
    cr_assert(strstr(r.err, "wide.jpg: resolution left out (JFIF holds 1 to 65535 per unit)"),
              "%s", r.err);
    jpeg_read_held(at(dir, "wide.jpg"), &h);
    cr_assert(h.jx == 1 && h.jy == 1, "%dx%d", h.jx, h.jy);
    CONVERT("wide.png", "wide.tif");
    expect_ok();
    cr_assert(strstr(r.err, "wide.tif: resolution left out"), "%s", r.err);
    density_of("wide.tif", &x, &y, &unit);
    cr_assert(x == 0, "%g x %g", x, y);

    /* a ratio over 65535 goes to JFIF in its lowest terms, exactly, or not at all */
    write_png(at(dir, "ratio.png"), &(spec){.phys_x = 200000, .phys_y = 100000,
                                            .phys_unit = PNG_RESOLUTION_UNKNOWN}, 8, 8);
    CONVERT("ratio.png", "ratio.jpg");
    expect_ok();
    cr_assert_eq(r.err[0], '\0', "%s", r.err);
    jpeg_read_held(at(dir, "ratio.jpg"), &h);
    cr_assert(h.jfif_unit == 0 && h.jx == 2 && h.jy == 1, "%d %dx%d", h.jfif_unit, h.jx, h.jy);
    CONVERT("ratio.png", "ratio.tif");
    expect_ok();
    cr_assert_eq(r.err[0], '\0', "%s", r.err);
    density_of("ratio.tif", &x, &y, &unit);
    cr_assert(x == 200000 && y == 100000 && unit == 0, "%g x %g, unit %u", x, y, unit);
    write_png(at(dir, "prime.png"), &(spec){.phys_x = 131071, .phys_y = 65536,
                                            .phys_unit = PNG_RESOLUTION_UNKNOWN}, 8, 8);
    CONVERT("prime.png", "prime.jpg");
    expect_ok();
    cr_assert(strstr(r.err, "prime.jpg: resolution left out"), "not scaled: %s", r.err);
    jpeg_read_held(at(dir, "prime.jpg"), &h);
    cr_assert(h.jx == 1 && h.jy == 1, "%dx%d", h.jx, h.jy);

    /* 1 per metre: PNG holds it; JFIF's whole numbers per inch or centimetre do not */
    write_png(at(dir, "min.png"), &(spec){.phys_x = 1, .phys_y = 1,
                                          .phys_unit = PNG_RESOLUTION_METER}, 8, 8);
    CONVERT("min.png", "min_out.png");
    expect_ok();
    png_read_held(at(dir, "min_out.png"), &h);
    cr_assert(h.px == 1 && h.py == 1 && h.unit == PNG_RESOLUTION_METER, "%u x %u", h.px, h.py);
    CONVERT("min.png", "min.jpg");
    expect_ok();
    cr_assert(strstr(r.err, "min.jpg: resolution left out (JFIF holds 1 to 65535 per unit)"),
              "%s", r.err);
    /* 65535 per inch, JFIF's largest, through PNG (per metre) and back */
    write_jpeg(at(dir, "big.jpg"), &(spec){.jfif_unit = 1, .jx = 65535, .jy = 65535}, 8, 8,
               NULL);
    CONVERT("big.jpg", "big.png");
    expect_ok();
    CONVERT("big.png", "big_out.jpg");
    expect_ok();
    cr_assert_eq(r.err[0], '\0', "%s", r.err);
    jpeg_read_held(at(dir, "big_out.jpg"), &h);
    cr_assert(h.jfif_unit == 1 && h.jx == 65535 && h.jy == 65535, "%d %dx%d", h.jfif_unit, h.jx,
              h.jy);
}

/* A 200 KB profile goes over four APP2 markers and joins back equal, through JPEG and PNG. */
Test(meta, large_profile_split_over_markers)
{
    blob icc = make_icc(200000, "Large test profile", "RGB ");
    spec s = {.icc = &icc};
    write_png(at(dir, "in.png"), &s, 16, 16);
    CONVERT("in.png", "out.jpg");
    expect_ok();
    held h;
    jpeg_read_held(at(dir, "out.jpg"), &h);
    cr_assert_eq(h.app2, 4, "%d markers", h.app2); /* 200000 / 65519 */
    cr_assert(blob_eq(&icc, h.icc.p, h.icc.n), "%zu bytes", h.icc.n);
    held_free(&h);
    CONVERT("out.jpg", "out.png");
    expect_ok();
    png_read_held(at(dir, "out.png"), &h);
    cr_assert(blob_eq(&icc, h.icc.p, h.icc.n), "%zu bytes", h.icc.n);
    held_free(&h);
    CLI(&r, dir, "info", "out.jpg");
    expect_ok();
    cr_assert(strstr(r.out, "  ICC profile: 200000 bytes, \"Large test profile\"\n"), "%s", r.out);
    blob_free(&icc);
}

/* EXIF or XMP over a JPEG marker's 64 KB is left out of a JPEG, said once; PNG holds them. */
Test(meta, too_large_for_a_jpeg_marker)
{
    blob exif = make_exif(1, 70000), xmp = make_xmp("big", 70000);
    spec s = {.exif = &exif, .xmp = &xmp};
    write_png(at(dir, "in.png"), &s, 16, 16);
    CONVERT("in.png", "out.jpg");
    expect_ok();
    cr_assert_eq(count(r.err, "out.jpg: EXIF left out (over the 64 KB a JPEG marker holds)"), 1,
                 "%s", r.err);
    cr_assert_eq(count(r.err, "out.jpg: XMP left out (over the 64 KB a JPEG marker holds)"), 1,
                 "%s", r.err);
    held h;
    jpeg_read_held(at(dir, "out.jpg"), &h);
    cr_assert_null(h.exif.p);
    cr_assert_null(h.xmp.p);
    held_free(&h);
    CONVERT("in.png", "out.png");
    expect_ok();
    png_read_held(at(dir, "out.png"), &h);
    cr_assert(blob_eq(&exif, h.exif.p, h.exif.n));
    cr_assert(blob_eq(&xmp, h.xmp.p, h.xmp.n));
    held_free(&h);
    blob_free(&exif), blob_free(&xmp);
}

/* A profile of another colour space than the output's is left out, said. */
Test(meta, profile_of_another_colour_space)
{
    blob icc = make_icc(1000, "Gray test", "GRAY");
    spec s = {.icc = &icc, .gray = true};
    write_jpeg(at(dir, "gray.jpg"), &s, 16, 16, NULL);
    CONVERT("gray.jpg", "gray.png");
    expect_ok();
    cr_assert_eq(r.err[0], '\0', "a gray profile on gray is right: %s", r.err);
    held h;
    png_read_held(at(dir, "gray.png"), &h);
    cr_assert(blob_eq(&icc, h.icc.p, h.icc.n));
    held_free(&h);
    /* blended over an RGB image, the output is RGB and the base's gray profile no longer fits */
    write_png(at(dir, "rgb.png"), &(spec){0}, 16, 16);
    CLI(&r, dir, "blend", "gray.jpg", "rgb.png", "-o", "b.png");
    expect_ok();
    cr_assert(strstr(r.err, "b.png: ICC profile left out (not an RGB profile, and the image is "
                            "RGB)"), "%s", r.err);
    png_read_held(at(dir, "b.png"), &h);
    cr_assert_null(h.icc.p);
    held_free(&h);
    blob_free(&icc);
}

Test(meta, strip_and_keep)
{
    common c = make_common();
    spec s = {.icc = &c.icc, .exif = &c.exif, .xmp = &c.xmp, .gamma = 45455, .chrm = true,
              .phys_x = 11811, .phys_y = 11811, .phys_unit = PNG_RESOLUTION_METER};
    write_png(at(dir, "in.png"), &s, 16, 16);
    write_jpeg(at(dir, "in.jpg"), &(spec){.icc = &c.icc, .exif = &c.exif, .xmp = &c.xmp,
                                          .jfif_unit = 1, .jx = 300, .jy = 300}, 16, 16, NULL);
    held h;
    CONVERT("in.png", "s.png", "--strip");
    expect_ok();
    png_read_held(at(dir, "s.png"), &h);
    cr_assert(!h.icc.p && !h.exif.p && !h.xmp.p && !h.gamma && !h.chrm && !h.px && !h.srgb);
    held_free(&h);
    CONVERT("in.jpg", "s.jpg", "--strip");
    expect_ok();
    jpeg_read_held(at(dir, "s.jpg"), &h);
    cr_assert(!h.icc.p && !h.exif.p && !h.xmp.p && h.app2 == 0);
    cr_assert(h.jfif_unit == 0 && h.jx == 1 && h.jy == 1, "JFIF's default density");
    held_free(&h);
    CONVERT("in.png", "k.png", "--keep", "icc");
    expect_ok();
    png_read_held(at(dir, "k.png"), &h);
    cr_assert(blob_eq(&c.icc, h.icc.p, h.icc.n));
    cr_assert(!h.exif.p && !h.xmp.p && !h.gamma && !h.chrm && !h.px);
    held_free(&h);
    CONVERT("in.jpg", "k.jpg", "--keep", "icc");
    expect_ok();
    jpeg_read_held(at(dir, "k.jpg"), &h);
    cr_assert(blob_eq(&c.icc, h.icc.p, h.icc.n));
    cr_assert(!h.exif.p && !h.xmp.p && h.jx == 1);
    held_free(&h);
    CONVERT("in.png", "ex.png", "--keep", "exif,xmp");
    expect_ok();
    png_read_held(at(dir, "ex.png"), &h);
    cr_assert(!h.icc.p && !h.gamma && !h.chrm && !h.px);
    cr_assert(blob_eq(&c.exif, h.exif.p, h.exif.n));
    cr_assert(blob_eq(&c.xmp, h.xmp.p, h.xmp.n));
    held_free(&h);
    CONVERT("in.jpg", "ex.png", "--keep", "exif,xmp");
    expect_ok();
    png_read_held(at(dir, "ex.png"), &h);
    cr_assert(!h.icc.p && !h.px);
    cr_assert(blob_eq(&c.exif, h.exif.p, h.exif.n));
    cr_assert(blob_eq(&c.xmp, h.xmp.p, h.xmp.n));
    held_free(&h);
    common_free(&c);
}

/* The same choices through the library: hdm_options.strip_meta on a pipeline run. */
Test(meta, strip_meta_in_options)
{
    common c = make_common();
    spec s = {.icc = &c.icc, .exif = &c.exif, .xmp = &c.xmp};
    write_png(at(dir, "in.png"), &s, 16, 16);
    hdm_pipeline *p;
    hdm_error e = {0};
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "window:hann:strength=0", &e), HDM_OK, "%s", e.message);
    hdm_options o;
    hdm_options_init(&o);
    o.strip_meta = HDM_META_EXIF | HDM_META_XMP;
    cr_assert_eq(hdm_pipeline_run_file(p, at(dir, "in.png"), at(dir, "o.jpg"), &o, &e), HDM_OK,
                 "%s", e.message);
    hdm_file_info d = {.size = sizeof d};
    cr_assert_eq(hdm_file_info_read(at(dir, "o.jpg"), NULL, &d, &e), HDM_OK, "%s", e.message);
    cr_assert_eq(d.icc_size, c.icc.n);
    cr_assert_str_eq(d.icc_description, "Test RGB profile");
    cr_assert_eq(d.exif_size, 0);
    cr_assert_eq(d.xmp_size, 0);
    o.strip_meta = 0;
    cr_assert_eq(hdm_pipeline_run_file(p, at(dir, "in.png"), at(dir, "o.png"), &o, &e), HDM_OK,
                 "%s", e.message);
    cr_assert_eq(hdm_file_info_read(at(dir, "o.png"), NULL, &d, &e), HDM_OK, "%s", e.message);
    cr_assert_eq(d.icc_size, c.icc.n);
    cr_assert_eq(d.exif_size, c.exif.n);
    cr_assert_eq(d.xmp_size, c.xmp.n);
    hdm_pipeline_free(p);
    common_free(&c);
}

/* A profile whose structure is broken (a tag outside it, a declared size not its length) is
 * left out of every output with one notice: libpng would refuse the iCCP on reading. */
/* A PNG's iCCP that libpng drops unsaid (a gray profile on RGB, a profile that is broken) is
 * read by hadamard itself: info shows it, and each output leaves it out with its one notice. */
Test(meta, png_profile_libpng_drops_is_said)
{
    blob gray = make_icc(1000, "A gray profile", "GRAY");
    blob broken = make_icc(1000, "Broken profile", "RGB ");
    be32(broken.p, (uint32_t)broken.n + 400);
    const struct { const blob *icc; const char *why; } cases[] = {
        {&gray, "ICC profile left out (not an RGB profile, and the image is RGB)"},
        {&broken, "ICC profile left out (broken: its declared size is not its length)"}};
    for (size_t i = 0; i < 2; i++) {
        write_png(at(dir, "plain.png"), &(spec){0}, 16, 16);
        size_t n;
        unsigned char *f = tu_read_file(at(dir, "plain.png"), &n);
        uLongf zn = compressBound(cases[i].icc->n);
        unsigned char *chunk = malloc(zn + 32);
        memcpy(chunk + 4, "iCCPtest\0\0", 10);
        cr_assert_eq(compress(chunk + 14, &zn, cases[i].icc->p, cases[i].icc->n), Z_OK);
        be32(chunk, (uint32_t)(zn + 6));
        be32(chunk + 14 + zn, (uint32_t)crc32(0, chunk + 4, (uInt)(zn + 10)));
        size_t cn = 18 + zn;
        FILE *o = fopen(at(dir, "in.png"), "wb");
        cr_assert(o);
        fwrite(f, 1, 33, o); /* the signature and IHDR, then the profile */
        fwrite(chunk, 1, cn, o);
        fwrite(f + 33, 1, n - 33, o);
        fclose(o);
        free(chunk);
        free(f);
        CLI(&r, dir, "info", "in.png");
        expect_ok();
        cr_assert(strstr(r.out, "ICC profile: 1000 bytes"), "%s", r.out);
        static const char *const outs[] = {"out.png", "out.jpg", "out.tif", "out.webp"};
        for (size_t k = 0; k < 4; k++) {
            CONVERT("in.png", outs[k]);
            expect_ok();
            char note[200];
            snprintf(note, sizeof note, "%s: %s\n", outs[k], cases[i].why);
            cr_assert_eq(count(r.err, note), 1, "%s: %s", outs[k], r.err);
            CLI(&r, dir, "info", outs[k]);
            expect_ok();
            cr_assert_null(strstr(r.out, "ICC"), "%s", r.out);
        }
    }
    blob_free(&gray);
    blob_free(&broken);
}

Test(meta, broken_profile_left_out)
{
    blob icc = make_icc(1000, "Broken profile", "RGB ");
    be32(icc.p + 148, (uint32_t)icc.n - 8); /* the 'cprt' tag runs past the end */
    blob bad_size = make_icc(1000, "Wrong size", "RGB ");
    be32(bad_size.p, (uint32_t)bad_size.n + 400);
    const struct { const blob *icc; const char *why; } cases[] = {
        {&icc, "a tag lies outside the profile"},
        {&bad_size, "its declared size is not its length"}};
    static const char *const outs[] = {"out.png", "out.jpg", "out.tif", "out.webp"};
    for (size_t i = 0; i < 2; i++) {
        write_jpeg(at(dir, "in.jpg"), &(spec){.icc = cases[i].icc}, 16, 16, NULL);
        CLI(&r, dir, "info", "in.jpg");
        expect_ok();
        cr_assert(strstr(r.out, "ICC profile"), "the input holds it: %s", r.out);
        for (size_t o = 0; o < 4; o++) {
            CONVERT("in.jpg", outs[o]);
            expect_ok();
            char note[160];
            snprintf(note, sizeof note, "%s: ICC profile left out (broken: %s)\n", outs[o],
                     cases[i].why);
            cr_assert_eq(count(r.err, note), 1, "%s", r.err);
            cr_assert_eq(lines(r.err), 1, "%s", r.err);
            CLI(&r, dir, "info", outs[o]);
            expect_ok();
            cr_assert_null(strstr(r.out, "ICC"), "%s", r.out);
        }
        cr_assert_eq(chunk_in(at(dir, "out.png"), "iCCP"), -1);
        held h;
        png_read_held(at(dir, "out.png"), &h);
        cr_assert_null(h.icc.p);
        held_free(&h);
        jpeg_read_held(at(dir, "out.jpg"), &h);
        cr_assert_eq(h.app2, 0);
        held_free(&h);
    }
    blob_free(&icc), blob_free(&bad_size);
}

/* ---- info ---- */

Test(meta, info_palette_and_interlaced_png)
{
    write_png(at(dir, "pal.png"), &(spec){.bit_depth = 1, .color_type = PNG_COLOR_TYPE_PALETTE},
              20, 10);
    write_png(at(dir, "lace.png"), &(spec){.interlace = true, .phys_x = 11811, .phys_y = 11811,
                                           .phys_unit = PNG_RESOLUTION_METER}, 20, 10);
    CLI(&r, dir, "info", "pal.png", "lace.png");
    expect_ok();
    cr_assert_str_eq(r.out, "pal.png: 20x10, 3 channels (RGB), 8-bit, png\n"
                            "  stored: 1-bit palette\n"
                            "lace.png: 20x10, 3 channels (RGB), 8-bit, png\n"
                            "  stored: 8-bit rgb, interlaced\n"
                            "  resolution: 118.11x118.11 per centimetre\n");
    CLI(&r, dir, "info", "--json", "pal.png", "lace.png");
    expect_ok();
    cr_assert_eq(lines(r.out), 2, "%s", r.out);
    cr_assert(strstr(r.out, "{\"file\":\"pal.png\",\"format\":\"png\",\"width\":20,\"height\":10,"
                            "\"channels\":3,\"depth\":\"u8\",\"stored_width\":20,"
                            "\"stored_height\":10,\"bits\":1,\"color\":\"palette\","
                            "\"compression\":\"\",\"subsampling\":\"\",\"interlaced\":false,"
                            "\"pages\":1,\"orientation\":0,\"rotated\":false,\"icc_size\":0,"
                            "\"icc_description\":\"\",\"exif_size\":0,\"xmp_size\":0,"
                            "\"color_chunks\":false,\"res_x\":null,\"res_y\":null,"
                            "\"res_unit\":null}\n"), "%s", r.out);
    cr_assert(strstr(r.out, "\"file\":\"lace.png\""), "%s", r.out);
    cr_assert(strstr(r.out, "\"interlaced\":true"), "%s", r.out);
    cr_assert(strstr(r.out, "\"res_x\":118.11,\"res_y\":118.11,\"res_unit\":\"centimetre\"}"),
              "%s", r.out);
}

Test(meta, info_jpeg)
{
    blob icc = make_icc(3144, "Test RGB profile", "RGB "), exif = make_exif(6, 0);
    write_jpeg(at(dir, "prog.jpg"), &(spec){.progressive = true, .s420 = true}, 32, 16, NULL);
    write_jpeg(at(dir, "tagged.jpg"), &(spec){.icc = &icc, .exif = &exif, .jfif_unit = 1,
                                              .jx = 300, .jy = 300}, 32, 16, NULL);
    CLI(&r, dir, "info", "prog.jpg", "tagged.jpg");
    expect_ok();
    cr_assert(strstr(r.out, "prog.jpg: 32x16, 3 channels (RGB), 8-bit, jpeg\n"
                            "  stored: 8-bit ycbcr, progressive, 4:2:0\n"), "%s", r.out);
    cr_assert(strstr(r.out, "  stored: 8-bit ycbcr, 4:4:4\n"
                            "  ICC profile: 3144 bytes, \"Test RGB profile\"\n"
                            "  Orientation: 6 (turned upright on load; stored 32x16)\n"
                            "  EXIF: 39 bytes\n"
                            "  resolution: 300x300 per inch\n"), "%s", r.out);
    cr_assert(strstr(r.out, "tagged.jpg: 16x32, 3 channels (RGB)"), "%s", r.out);
    CLI(&r, dir, "info", "--no-rotate", "tagged.jpg");
    expect_ok();
    cr_assert(strstr(r.out, "tagged.jpg: 32x16, 3 channels (RGB)"), "%s", r.out);
    cr_assert(strstr(r.out, "  Orientation: 6 (not applied: --no-rotate)\n"), "%s", r.out);
    CLI(&r, dir, "info", "--json", "tagged.jpg", "prog.jpg");
    expect_ok();
    cr_assert_eq(lines(r.out), 2, "%s", r.out);
    cr_assert(strstr(r.out, "\"width\":16,\"height\":32,"), "%s", r.out);
    cr_assert(strstr(r.out, "\"stored_width\":32,\"stored_height\":16,\"bits\":8,"
                            "\"color\":\"ycbcr\",\"compression\":\"\",\"subsampling\":\"4:4:4\","
                            "\"interlaced\":false,\"pages\":1,\"orientation\":6,\"rotated\":true,"
                            "\"icc_size\":3144,\"icc_description\":\"Test RGB profile\","
                            "\"exif_size\":39,\"xmp_size\":0,\"color_chunks\":false,"
                            "\"res_x\":300,\"res_y\":300,\"res_unit\":\"inch\"}\n"), "%s", r.out);
    cr_assert(strstr(r.out, "\"subsampling\":\"4:2:0\",\"interlaced\":true"), "%s", r.out);
    blob_free(&icc), blob_free(&exif);
}

/* A failing file is an error object in --json (and the message on stderr), and info goes on;
 * a name that is not UTF-8 is given as the batch report gives it. */
Test(meta, info_json_errors_and_names)
{
    write_png(at(dir, "ok.png"), &(spec){0}, 4, 4);
    write_png(at(dir, "caf\xe9.png"), &(spec){0}, 4, 4);
    CLI(&r, dir, "info", "--json", "missing.png", "ok.png", "caf\xe9.png");
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(strstr(r.err, "missing.png: cannot open"), "%s", r.err);
    cr_assert_eq(lines(r.out), 3, "%s", r.out);
    cr_assert(strstr(r.out, "{\"file\":\"missing.png\",\"error\":\"missing.png: cannot open"),
              "%s", r.out);
    cr_assert(strstr(r.out, "{\"file\":\"ok.png\",\"format\":\"png\""), "%s", r.out);
    cr_assert(strstr(r.out, "{\"file\":\"caf\xef\xbf\xbd.png\",\"file_bytes\":\"636166e9"
                            "2e706e67\",\"format\""), "%s", r.out);
}

/* An ICC profile with a part missing is no profile, and the file still reads. */
static void broken_icc(j_compress_ptr c)
{
    for (unsigned seq = 1; seq <= 3; seq += 2) { /* parts 1 and 3 of 3 */
        jpeg_write_m_header(c, JPEG_APP0 + 2, 14 + 100);
        for (size_t i = 0; i < 12; i++)
            jpeg_write_m_byte(c, "ICC_PROFILE"[i]);
        jpeg_write_m_byte(c, (int)seq);
        jpeg_write_m_byte(c, 3);
        for (int i = 0; i < 100; i++)
            jpeg_write_m_byte(c, i);
    }
}

Test(meta, broken_icc_sequence_reads_without_a_profile)
{
    write_jpeg(at(dir, "broken.jpg"), &(spec){0}, 16, 16, broken_icc);
    CLI(&r, dir, "info", "broken.jpg");
    expect_ok();
    cr_assert_null(strstr(r.out, "ICC"), "%s", r.out);
    CONVERT("broken.jpg", "out.jpg");
    expect_ok();
    held h;
    jpeg_read_held(at(dir, "out.jpg"), &h);
    cr_assert_null(h.icc.p);
    cr_assert_eq(h.app2, 0);
    held_free(&h);
}

/* ---- exiftool, a reader of its own ---- */

/* Runs exiftool on file and returns what it printed (static). */
static const char *exiftool(const char *file)
{
    static char *out; /* the last answer, until the next call */
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "exiftool -s -s -s -ProfileDescription -Orientation# -XMP:Title "
                              "'%s' 2>&1", file);
    free(out);
    return out = tu_command_output(cmd);
}

Test(meta, exiftool_reads_our_outputs)
{
    if (system("exiftool -ver >/dev/null 2>&1") != 0)
        CLI_CANNOT(false, "exiftool is not installed (Debian: libimage-exiftool-perl)");
    blob icc = make_icc(3000, "Test RGB profile", "RGB "), exif = make_exif(6, 0),
         xmp = make_xmp("hadamard test", 0);
    write_png(at(dir, "in.png"), &(spec){.icc = &icc, .exif = &exif, .xmp = &xmp}, 16, 8);
    write_jpeg(at(dir, "in.jpg"), &(spec){.icc = &icc, .exif = &exif, .xmp = &xmp}, 16, 8, NULL);
    /* --no-rotate keeps the tag as 6 (turning the pixels would write it as 1) */
    static const char *const outs[][2] = {{"in.png", "a.png"}, {"in.png", "a.jpg"},
                                          {"in.jpg", "b.png"}, {"in.jpg", "b.jpg"}};
    for (size_t i = 0; i < 4; i++) {
        CONVERT(outs[i][0], outs[i][1], "--no-rotate");
        expect_ok();
        const char *got = exiftool(at(dir, outs[i][1]));
        cr_assert_str_eq(got, "Test RGB profile\n6\nhadamard test\n", "%s: %s", outs[i][1], got);
    }
    blob_free(&icc), blob_free(&exif), blob_free(&xmp);
}

/* exiftool finds the EXIF and XMP a PNG had after its image data in our output. */
Test(meta, exiftool_reads_late_metadata_carried)
{
    if (system("exiftool -ver >/dev/null 2>&1") != 0)
        CLI_CANNOT(false, "exiftool is not installed (Debian: libimage-exiftool-perl)");
    blob exif = make_exif(6, 0), xmp = make_xmp("late title", 0);
    write_png(at(dir, "late.png"), &(spec){.late_exif = &exif, .late_xmp = &xmp}, 16, 8);
    CONVERT("late.png", "up.png");
    expect_ok();
    const char *got = exiftool(at(dir, "up.png"));
    cr_assert_str_eq(got, "1\nlate title\n", "%s", got);
    CONVERT("late.png", "kept.png", "--no-rotate");
    expect_ok();
    got = exiftool(at(dir, "kept.png"));
    cr_assert_str_eq(got, "6\nlate title\n", "%s", got);
    blob_free(&exif), blob_free(&xmp);
}

/* ---- the stored form of the stb formats ---- */

static void le32_put(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

Test(meta, info_stored_form_of_bmp_gif_pnm)
{
    /* a 2x2 BMP of 4-bit palette indices (BITMAPINFOHEADER, 16 colours, rows of 4 bytes) */
    unsigned char bmp[126] = {'B', 'M'};
    le32_put(bmp + 2, sizeof bmp);
    le32_put(bmp + 10, 118);
    le32_put(bmp + 14, 40);
    le32_put(bmp + 18, 2);
    le32_put(bmp + 22, 2);
    bmp[26] = 1, bmp[28] = 4;
    le32_put(bmp + 34, 8);
    le32_put(bmp + 46, 16);
    for (int i = 0; i < 16; i++)
        bmp[54 + 4 * i] = bmp[55 + 4 * i] = bmp[56 + 4 * i] = (unsigned char)(i * 17);
    bmp[118] = 0x1f, bmp[122] = 0xf1;
    tu_write_file(at(dir, "p.bmp"), bmp, sizeof bmp);
    /* a 1x1 GIF with a 2-colour global table */
    static const unsigned char gif[] = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0,
                                        0, 0, 0, 255, 255, 255, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0,
                                        2, 2, 0x44, 1, 0, 0x3b};
    tu_write_file(at(dir, "p.gif"), gif, sizeof gif);
    /* a 10-bit graymap */
    static const unsigned char pgm[] = "P5\n2 1\n1023\n\x03\xff\x00\x10";
    tu_write_file(at(dir, "p.pgm"), pgm, sizeof pgm - 1);
    CLI(&r, dir, "info", "p.bmp", "p.gif", "p.pgm");
    expect_ok();
    cr_assert_str_eq(r.out, "p.bmp: 2x2, 3 channels (RGB), 8-bit, bmp\n"
                            "  stored: 4-bit palette\n"
                            "p.gif: 1x1, 4 channels (RGBA), 8-bit, gif\n"
                            "  stored: 1-bit palette\n"
                            "p.pgm: 2x1, 1 channel (gray), 16-bit, pnm\n"
                            "  stored: 10-bit gray\n");
}

/* ---- extended XMP (XMP Specification Part 3, 1.1.3.1) ---- */

static const char XMP_EXT_ID[] = "http://ns.adobe.com/xmp/extension/"; /* with its NUL: 35 */

/* The extension: an RDF description of a dc:description of n varied letters. */
static blob make_xmp_ext(size_t n)
{
    static const char head[] = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\""
                               "http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description "
                               "rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
                               "<dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">";
    static const char tail[] = "</rdf:li></rdf:Alt></dc:description></rdf:Description>"
                               "</rdf:RDF></x:xmpmeta>";
    size_t total = sizeof head - 1 + n + sizeof tail - 1;
    blob b = {malloc(total), total};
    cr_assert(b.p);
    memcpy(b.p, head, sizeof head - 1);
    tu_rng g;
    tu_seed(&g, n);
    for (size_t i = 0; i < n; i++)
        b.p[sizeof head - 1 + i] = (unsigned char)('a' + tu_below(&g, 26));
    memcpy(b.p + sizeof head - 1 + n, tail, sizeof tail - 1);
    return b;
}

/* The extension's GUID: its MD5 in upper-case hex, by md5sum (an implementation of its own). */
static void md5_guid(const blob *b, char guid[33])
{
    tu_write_file(at(dir, "ext.bin"), b->p, b->n);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "md5sum '%s'", at(dir, "ext.bin"));
    char *sum = tu_command_output(cmd);
    cr_assert_geq(strlen(sum), 32u, "md5sum: %s", sum);
    memcpy(guid, sum, 32);
    free(sum);
    guid[32] = '\0';
    for (int i = 0; i < 32; i++)
        if (guid[i] >= 'a' && guid[i] <= 'f')
            guid[i] = (char)(guid[i] - 'a' + 'A');
}

/* A main packet with a dc:title and xmpNote:HasExtendedXMP naming guid (none when NULL). */
static blob make_main_xmp(const char *title, const char *guid)
{
    char buf[2048];
    int n = snprintf(buf, sizeof buf,
                     "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>"
                     "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org"
                     "/1999/02/22-rdf-syntax-ns#\"><rdf:Description rdf:about=\"\" xmlns:dc=\""
                     "http://purl.org/dc/elements/1.1/\" xmlns:xmpNote=\"http://ns.adobe.com/xmp/"
                     "note/\"%s%s%s><dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">%s</rdf:li>"
                     "</rdf:Alt></dc:title></rdf:Description></rdf:RDF></x:xmpmeta>"
                     "<?xpacket end=\"w\"?>",
                     guid ? " xmpNote:HasExtendedXMP=\"" : "", guid ? guid : "", guid ? "\"" : "",
                     title);
    return copy_of(buf, (size_t)n);
}

/* The parts write_jpeg's extra callback writes, in this order (it takes no context). */
typedef struct ext_part {
    const char *guid;
    uint32_t full, offset;
    const unsigned char *data;
    size_t n;
} ext_part;
static ext_part ext_parts[8];
static size_t ext_count;

static void write_ext_parts(j_compress_ptr c)
{
    for (size_t k = 0; k < ext_count; k++) {
        const ext_part *e = &ext_parts[k];
        jpeg_write_m_header(c, JPEG_APP0 + 1, (unsigned)(sizeof XMP_EXT_ID + 40 + e->n));
        unsigned char head[sizeof XMP_EXT_ID + 40];
        memcpy(head, XMP_EXT_ID, sizeof XMP_EXT_ID);
        memcpy(head + sizeof XMP_EXT_ID, e->guid, 32);
        be32(head + sizeof XMP_EXT_ID + 32, e->full);
        be32(head + sizeof XMP_EXT_ID + 36, e->offset);
        for (size_t i = 0; i < sizeof head; i++)
            jpeg_write_m_byte(c, head[i]);
        for (size_t i = 0; i < e->n; i++)
            jpeg_write_m_byte(c, e->data[i]);
    }
}

/* ext split at 65000 bytes into ext_parts under guid, in the order given by order (indices). */
static void split_ext(const blob *ext, const char *guid, const size_t *order, size_t count)
{
    ext_count = count;
    for (size_t k = 0; k < count; k++) {
        size_t at0 = order[k] * 65000;
        cr_assert_lt(at0, ext->n);
        size_t n = ext->n - at0 < 65000 ? ext->n - at0 : 65000;
        ext_parts[k] = (ext_part){guid, (uint32_t)ext->n, (uint32_t)at0, ext->p + at0, n};
    }
}

/* The extended XMP parts of a JPEG as libjpeg reads its markers: joined in offset order
 * (checking they tile the declared length), their GUID, how many, the largest. */
typedef struct ext_read {
    blob joined;
    char guid[33];
    int parts;
    size_t largest;
} ext_read;

static ext_read jpeg_read_ext(const char *path)
{
    ext_read x = {{0}, "", 0, 0};
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    struct jpeg_decompress_struct d;
    jerr e;
    d.err = jpeg_std_error(&e.pub);
    e.pub.error_exit = jerr_exit;
    if (setjmp(e.jump))
        cr_assert_fail("libjpeg could not read %s", path);
    jpeg_create_decompress(&d);
    jpeg_stdio_src(&d, f);
    jpeg_save_markers(&d, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&d, TRUE);
    uint32_t full = 0, next = 0;
    bool seen_main = false;
    for (jpeg_saved_marker_ptr m = d.marker_list; m; m = m->next) {
        if (m->marker != JPEG_APP0 + 1)
            continue;
        if (m->data_length > 29 && !memcmp(m->data, "http://ns.adobe.com/xap/1.0/", 29))
            seen_main = true;
        if (m->data_length < sizeof XMP_EXT_ID + 40 ||
            memcmp(m->data, XMP_EXT_ID, sizeof XMP_EXT_ID))
            continue;
        cr_assert(seen_main, "an extension part before the main packet");
        const unsigned char *h = m->data + sizeof XMP_EXT_ID;
        if (!x.parts) {
            memcpy(x.guid, h, 32);
            full = (uint32_t)h[32] << 24 | (uint32_t)h[33] << 16 | (uint32_t)h[34] << 8 | h[35];
            x.joined = (blob){malloc(full ? full : 1), full};
            cr_assert(x.joined.p);
        }
        cr_assert_eq(memcmp(h, x.guid, 32), 0, "one GUID");
        uint32_t off = (uint32_t)h[36] << 24 | (uint32_t)h[37] << 16 | (uint32_t)h[38] << 8 | h[39];
        size_t n = m->data_length - sizeof XMP_EXT_ID - 40;
        cr_assert_eq(off, next, "parts in order, none missing");
        cr_assert_leq(off + n, full);
        memcpy(x.joined.p + off, h + 40, n);
        next = off + (uint32_t)n;
        x.parts++;
        x.largest = n > x.largest ? n : x.largest;
    }
    cr_assert_eq(next, full, "the parts fill the full length");
    jpeg_destroy_decompress(&d);
    fclose(f);
    return x;
}

/* What exiftool makes of file's XMP, the extension joined: the title and the length
 * of the description it reads. */
static void exiftool_xmp(const char *file, char *title, size_t cap, size_t *desc_len)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "exiftool -s -s -s -XMP-dc:Title '%s' 2>&1", file);
    char *out = tu_command_output(cmd);
    snprintf(title, cap, "%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "exiftool -s -s -s -XMP-dc:Description '%s' 2>&1 | tr -d '\\n' "
             "| wc -c", file);
    out = tu_command_output(cmd);
    cr_assert_eq(sscanf(out, "%zu", desc_len), 1, "%s", out);
    free(out);
}

/* XMP over 64 KB, a main packet naming its extension by GUID and the extension in three
 * parts (stored out of order, beside a stale part of another GUID): JPEG to JPEG writes the
 * main packet and then the same bytes under the same GUID in parts of at most 65000, which
 * exiftool joins; PNG, TIFF and WebP keep the main packet and say, once, that the extension
 * is left out; --keep without xmp says nothing of it. */
Test(meta, extended_xmp_carried)
{
    blob ext = make_xmp_ext(150000);
    char guid[33];
    md5_guid(&ext, guid);
    blob main_xmp = make_main_xmp("main title", guid);
    static const size_t order[] = {1, 0, 2};
    split_ext(&ext, guid, order, 3);
    ext_parts[3] = (ext_part){"0123456789ABCDEF0123456789ABCDEF", 5, 0,
                              (const unsigned char *)"stale", 5};
    ext_count = 4;
    write_jpeg(at(dir, "in.jpg"), &(spec){.xmp = &main_xmp}, 16, 8, write_ext_parts);
    CONVERT("in.jpg", "out.jpg");
    expect_ok();
    cr_assert_eq(r.err[0], '\0', "%s", r.err);
    held h;
    jpeg_read_held(at(dir, "out.jpg"), &h);
    cr_assert(blob_eq(&main_xmp, h.xmp.p, h.xmp.n), "the main packet as it was");
    held_free(&h);
    ext_read x = jpeg_read_ext(at(dir, "out.jpg"));
    cr_assert_str_eq(x.guid, guid);
    cr_assert(blob_eq(&ext, x.joined.p, x.joined.n), "the extension's bytes (%zu)", x.joined.n);
    cr_assert_eq(x.parts, 3);
    cr_assert_leq(x.largest, 65000u);
    blob_free(&x.joined);
    if (system("exiftool -ver >/dev/null 2>&1") == 0) {
        char title[256];
        size_t desc = 0;
        exiftool_xmp(at(dir, "in.jpg"), title, sizeof title, &desc);
        cr_assert_str_eq(title, "main title\n", "%s", title);
        cr_assert_eq(desc, 150000u, "exiftool joins the input's extension");
        exiftool_xmp(at(dir, "out.jpg"), title, sizeof title, &desc);
        cr_assert_str_eq(title, "main title\n", "%s", title);
        cr_assert_eq(desc, 150000u, "exiftool joins the output's extension");
    }
    static const char *const outs[][2] = {{"out.png", "PNG"}, {"out.tif", "TIFF"},
                                          {"out.webp", "WebP"}};
    for (size_t i = 0; i < 3; i++) {
        CONVERT("in.jpg", outs[i][0]);
        expect_ok();
        char want[160];
        snprintf(want, sizeof want, "%s: extended XMP left out (%s holds one XMP packet; the "
                 "main one kept)", outs[i][0], outs[i][1]);
        cr_assert_eq(count(r.err, want), 1, "%s", r.err);
        cr_assert_eq(lines(r.err), 1, "%s", r.err);
    }
    png_read_held(at(dir, "out.png"), &h);
    cr_assert(blob_eq(&main_xmp, h.xmp.p, h.xmp.n), "PNG: the main packet kept");
    held_free(&h);
    CONVERT("in.jpg", "kept.png", "--keep", "icc");
    expect_ok();
    cr_assert_eq(r.err[0], '\0', "%s", r.err);
    CONVERT("in.jpg", "kept.jpg", "--keep", "icc");
    expect_ok();
    x = jpeg_read_ext(at(dir, "kept.jpg"));
    cr_assert_eq(x.parts, 0, "stripped with the XMP");
    blob_free(&x.joined);
    blob_free(&ext), blob_free(&main_xmp);
}

/* Parts that do not make the extension the main packet names are left out, said once naming
 * the input; the main packet is carried all the same. */
Test(meta, extended_xmp_damaged_left_out)
{
    blob ext = make_xmp_ext(150000);
    char guid[33];
    md5_guid(&ext, guid);
    blob named = make_main_xmp("main title", guid), unnamed = make_main_xmp("main title", NULL);
    static const size_t all[] = {0, 1, 2}, gap[] = {0, 2}, twice[] = {0, 1, 1, 2};
    static const char other[] = "FEDCBA9876543210FEDCBA9876543210";
    static const struct {
        const size_t *order;
        size_t count;
        int main;         /* 0: none, 1: naming guid, 2: naming none */
        int guids;        /* 0: all guid; 1: all other; 2: the last one other; 3: not hex */
        int full_off;     /* added to the full length of the first part */
        const char *why;  /* NULL: carried */
    } cases[] = {
        {all, 3, 1, 0, 0, NULL},
        {all, 3, 2, 0, 0, NULL},
        {gap, 2, 1, 0, 0, "its parts do not fill the full length they declare, once each"},
        {twice, 4, 1, 0, 0, "its parts do not fill the full length they declare, once each"},
        {all, 3, 1, 0, 1, "its parts do not fill the full length they declare, once each"},
        {all, 3, 1, 1, 0, "no part has the GUID the main packet names"},
        {all, 3, 2, 2, 0, "its parts have different GUIDs, and the main packet names none"},
        {all, 3, 2, 3, 0, "its GUID is not 32 hex digits"},
        {all, 3, 0, 0, 0, "the file has no main XMP packet"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        split_ext(&ext, guid, cases[c].order, cases[c].count);
        for (size_t k = 0; k < ext_count; k++) {
            if (cases[c].guids == 1 || (cases[c].guids == 2 && k + 1 == ext_count))
                ext_parts[k].guid = other;
            if (cases[c].guids == 3)
                ext_parts[k].guid = "0123456789abcdefghijklmnopqrstuv";
        }
        ext_parts[0].full += (uint32_t)cases[c].full_off;
        const blob *m = cases[c].main == 1 ? &named : cases[c].main == 2 ? &unnamed : NULL;
        write_jpeg(at(dir, "in.jpg"), &(spec){.xmp = m}, 16, 8, write_ext_parts);
        CONVERT("in.jpg", "out.jpg");
        expect_ok();
        ext_read x = jpeg_read_ext(at(dir, "out.jpg"));
        if (!cases[c].why) {
            cr_assert_eq(r.err[0], '\0', "case %zu: %s", c, r.err);
            cr_assert(blob_eq(&ext, x.joined.p, x.joined.n), "case %zu: carried", c);
        } else {
            char want[200];
            snprintf(want, sizeof want, "in.jpg: extended XMP left out (%s)", cases[c].why);
            cr_assert_eq(count(r.err, want), 1, "case %zu: %s", c, r.err);
            cr_assert_eq(lines(r.err), 1, "case %zu: %s", c, r.err);
            cr_assert_eq(x.parts, 0, "case %zu: left out", c);
        }
        blob_free(&x.joined);
        held h;
        jpeg_read_held(at(dir, "out.jpg"), &h);
        cr_assert(m ? blob_eq(m, h.xmp.p, h.xmp.n) : !h.xmp.p, "case %zu: the main packet", c);
        held_free(&h);
    }
    blob_free(&ext), blob_free(&named), blob_free(&unnamed);
}

/* EXIF going into a TIFF: what TIFF has no place for (the Interoperability directory, IFD0's
 * other tags, the thumbnail's IFD1) is left out with one notice saying what; the text tags and
 * the EXIF directory are kept. exiftool writes the input, and reads the output. */
Test(meta, exif_into_tiff_says_what_it_leaves)
{
    if (system("exiftool -ver >/dev/null 2>&1") != 0)
        CLI_CANNOT(false, "exiftool is not installed (Debian: libimage-exiftool-perl)");
    blob exif = make_exif(1, 0);
    write_jpeg(at(dir, "in.jpg"), &(spec){.exif = &exif}, 16, 8, NULL);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "exiftool -q -overwrite_original -InteropIndex=R98 -Make=Cam "
             "-HostComputer=pc -ExposureTime=0.01 '%s' >/dev/null 2>&1", at(dir, "in.jpg"));
    cr_assert_eq(system(cmd), 0, "exiftool could not write the test input");
    CONVERT("in.jpg", "out.tif");
    expect_ok();
    cr_assert_eq(count(r.err, "out.tif: EXIF's Interoperability directory and 1 other "
                              "first-directory tag left out (TIFF keeps Orientation, the text "
                              "tags and the EXIF and GPS directories)\n"), 1, "%s", r.err);
    snprintf(cmd, sizeof cmd, "exiftool -n -s -s -s -Make -ExposureTime -InteropIndex "
             "-HostComputer '%s' 2>&1", at(dir, "out.tif"));
    char *got = tu_command_output(cmd);
    cr_assert_str_eq(got, "Cam\n0.01\n", "kept Make and ExposureTime only: %s", got);
    free(got);
    /* without any of those parts: nothing said */
    write_jpeg(at(dir, "plain.jpg"), &(spec){.exif = &exif}, 16, 8, NULL);
    CONVERT("plain.jpg", "plain.tif");
    expect_ok();
    cr_assert_null(strstr(r.err, "EXIF's"), "%s", r.err);
    blob_free(&exif);
}
