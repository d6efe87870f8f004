/* SPDX-License-Identifier: MIT */
/* jpeg_write.c — JPEG output through libjpeg-turbo, a scanline at a time as the rows come */
#include "codec/jpeg.h"
#include "codec/metadata.h"
#include "kernel/kernel.h"

#include <jerror.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows are handed to libjpeg as they arrive. Huffman tables are always optimised for the image
 * (smaller files at no cost in quality). libjpeg's optimize_coding would keep every quantised
 * coefficient until the end (jcmaster.c: it needs a second pass), 2 bytes each, so a baseline
 * file is coded with the standard tables into memory instead, and jpeg_huff.c re-codes that
 * scan with optimal tables as it goes out: the compressed bytes are the sink's held memory
 * (estimated at a bit a sample, what a detailed q90 photo takes; refused if they pass
 * max_memory as they grow). Progressive output needs every coefficient for its scans anyway:
 * libjpeg optimises it itself, and its coefficients are held. libjpeg's own limit is set from
 * max_memory too. */

enum { OUT_BUF = 64 << 10 };

typedef struct jpeg_enc {
    hdm__sink base;
    struct jpeg_compress_struct c;
    hdm__jpeg_fail fail;
    struct jpeg_destination_mgr dest;
    hdm__bytes *bytes;
    hdm__bytes mem;         /* baseline: libjpeg's file with standard tables, to re-code */
    bool baseline, over_limit;
    uint64_t max_memory;
    unsigned char *row;     /* one scanline for libjpeg: gray or RGB */
    unsigned char bg[3];    /* the background, and its gray (for gray+alpha) */
    unsigned char bg_gray;
    unsigned char out[OUT_BUF];
} jpeg_enc;

static void dest_init(j_compress_ptr c)
{
    jpeg_enc *k = c->client_data;
    k->dest.next_output_byte = k->out;
    k->dest.free_in_buffer = OUT_BUF;
}

/* A failure is kept in the bytes, said after; the memory limit stops libjpeg at once (the
 * jump point is set around every call into it). */
static void dest_put(jpeg_enc *k, size_t n)
{
    if (!k->baseline) {
        hdm__bytes_put(k->bytes, k->out, n);
        return;
    }
    if (k->mem.len + n > k->max_memory) {
        k->over_limit = true;
        longjmp(k->fail.jump, 1);
    }
    hdm__bytes_put(&k->mem, k->out, n);
}

static boolean dest_empty(j_compress_ptr c)
{
    jpeg_enc *k = c->client_data;
    dest_put(k, OUT_BUF);
    k->dest.next_output_byte = k->out;
    k->dest.free_in_buffer = OUT_BUF;
    return TRUE;
}

static void dest_term(j_compress_ptr c)
{
    jpeg_enc *k = c->client_data;
    dest_put(k, OUT_BUF - k->dest.free_in_buffer);
}

static hdm_status enc_failed(jpeg_enc *k, hdm_error *err)
{
    if (k->over_limit)
        return hdm__fail(err, HDM_ERR_LIMIT, k->base.path,
                         "the compressed JPEG (held to optimise its Huffman tables) passes the "
                         "memory limit of %llu bytes (max_memory)",
                         (unsigned long long)k->max_memory);
    if (k->fail.code == JERR_OUT_OF_MEMORY || k->fail.code == JERR_NO_BACKING_STORE)
        return hdm__jpeg_failed(&k->fail, k->base.path, "cannot write JPEG", k->max_memory, err);
    return hdm__fail(err, HDM_ERR_IO, k->base.path, "cannot write JPEG: %s", k->fail.msg);
}

static hdm_status bytes_failed(jpeg_enc *k, hdm_error *err)
{
    if (k->mem.failed)
        return hdm__fail(err, HDM_ERR_NOMEM, k->base.path, "out of memory");
    return hdm__fail(err, HDM_ERR_IO, k->base.path, "cannot write JPEG: %s",
                     hdm__bytes_error(k->bytes));
}

/* Source over an opaque backdrop (W3C Compositing and Blending Level 1, 5.1 "Simple alpha
 * compositing", with alpha_b = 1): co = as * Cs + (1 - as) * Cb, rounded exactly in integers
 * (t / 255 has no halves, and rounds up from a remainder of 128). A fully transparent pixel is
 * the background whatever colour it holds. */
static unsigned char over(unsigned cs, unsigned a, unsigned cb)
{
    return (unsigned char)((cs * a + cb * (255 - a) + 127) / 255);
}

static void flatten_row(jpeg_enc *k, const hdm_image *strip, uint32_t y)
{
    uint32_t w = strip->width, colours = strip->channels - 1;
    const unsigned char *a = hdm_row(strip, colours, y);
    for (uint32_t c = 0; c < colours; c++) {
        const unsigned char *s = hdm_row(strip, c, y);
        unsigned bg = colours == 1 ? k->bg_gray : k->bg[c];
        unsigned char *d = k->row + c;
        for (uint32_t x = 0; x < w; x++, d += colours)
            *d = over(s[x], a[x], bg);
    }
}

static hdm_status enc_write(hdm__sink *s, const hdm_image *strip, uint32_t rows, hdm_error *err)
{
    jpeg_enc *k = (jpeg_enc *)s;
    if (setjmp(k->fail.jump))
        return enc_failed(k, err);
    for (uint32_t y = 0; y < rows; y++) {
        if (k->bytes->failed || k->mem.failed)
            return bytes_failed(k, err);
        if (strip->channels == 2 || strip->channels == 4)
            flatten_row(k, strip, y);
        else
            hdm__row_from_planes(k->row, strip, y);
        JSAMPROW row = k->row;
        jpeg_write_scanlines(&k->c, &row, 1);
    }
    return HDM_OK;
}

static hdm_status enc_finish(hdm__sink *s, hdm_error *err)
{
    jpeg_enc *k = (jpeg_enc *)s;
    if (setjmp(k->fail.jump))
        return enc_failed(k, err);
    jpeg_finish_compress(&k->c); /* progressive: the optimised tables, every scan, EOI */
    if (k->baseline && !k->mem.failed) {
        hdm_status st = hdm__jpeg_optimize(k->mem.mem, k->mem.len, k->bytes, k->base.path, err);
        free(k->mem.mem);
        k->mem.mem = NULL;
        if (st)
            return st;
    }
    return k->bytes->failed || k->mem.failed ? bytes_failed(k, err) : HDM_OK;
}

static void enc_close(hdm__sink *s)
{
    jpeg_enc *k = (jpeg_enc *)s;
    jpeg_destroy_compress(&k->c); /* safe on a struct never created: k is zeroed */
    free(k->row);
    free(k->mem.mem);
    free(k);
}

/* The sampling factors of the luma component (chroma keeps 1x1): auto is 4:4:4 from quality
 * 90, where chroma detail starts to show, else 4:2:0 (libvips and ImageMagick choose so). */
static void sampling(const hdm_options *opt, int *h, int *v)
{
    hdm_jpeg_subsample s = opt->jpeg_subsample;
    if (s == HDM_JPEG_SUBSAMPLE_AUTO)
        s = opt->jpeg_quality >= 90 ? HDM_JPEG_SUBSAMPLE_444 : HDM_JPEG_SUBSAMPLE_420;
    *h = s == HDM_JPEG_SUBSAMPLE_444 ? 1 : 2;
    *v = s == HDM_JPEG_SUBSAMPLE_420 ? 2 : 1;
}

/* What libjpeg holds for the image (jccoefct.c, jcprepct.c, jcsample.c): every block of every
 * component, padded to whole MCUs, as 2-byte coefficients; a few MCU rows of samples beside. */
static uint64_t encode_bytes(uint32_t w, uint32_t h, unsigned comps, int hs, int vs)
{
    uint64_t mcu_w = (uint64_t)DCTSIZE * hs, mcu_h = (uint64_t)DCTSIZE * vs;
    uint64_t across = (w + mcu_w - 1) / mcu_w, down = (h + mcu_h - 1) / mcu_h;
    uint64_t blocks = across * down * (uint64_t)(hs * vs + (comps - 1));
    uint64_t rows = (uint64_t)w * comps * mcu_h * 3;
    return blocks * DCTSIZE2 * sizeof(JCOEF) + rows;
}


/* A marker's data is at most 65533 bytes (its 16-bit length counts itself); an ICC profile is
 * split over at most 255 APP2 markers of 65519 bytes after their 14-byte "ICC_PROFILE\0",
 * sequence number, count header (ICC.1 Annex B.4). */
enum { MARKER_MAX = 65533, ICC_PART = MARKER_MAX - 14, ICC_MAX = 255 * ICC_PART };
static const char EXIF_ID[6] = "Exif\0", XMP_ID[] = "http://ns.adobe.com/xap/1.0/",
                  XMP_EXT_ID[] = "http://ns.adobe.com/xmp/extension/";
/* Extended XMP goes in parts of at most this many bytes, after the identifier, the GUID and
 * the full length and offset (XMP part 3, 1.1.3.1, whose example splits at 65000 too). */
enum { XMP_EXT_PART = 65000 };

/* JFIF's density from the metadata, in k->c before jpeg_start_compress writes APP0. JFIF holds
 * whole numbers from 1 to 65535 per inch or per centimetre, or an aspect ratio: a density per
 * centimetre that is not whole (as PNG's per metre gives: 11811 per metre is 118.11) is written
 * per inch, rounded (300), which is how it reads back to the same per-metre value; a ratio of
 * whole numbers is reduced to its lowest terms, which is the same ratio. What still does not
 * fit is left out, said: a density or ratio made to fit would be another one. */
static void set_density(jpeg_enc *k, const hdm_options *opt, const hdm__meta *m)
{
    if (!(m->res_x > 0 && m->res_y > 0))
        return;
    double x = m->res_x, y = m->res_y;
    unsigned unit = m->res_unit <= 2 ? m->res_unit : 0;
    if (unit == 2 && (x != floor(x) || y != floor(y)))
        unit = 1, x *= 2.54, y *= 2.54;
    if (unit == 0 && x == floor(x) && y == floor(y) && x <= UINT32_MAX && y <= UINT32_MAX) {
        uint32_t a = (uint32_t)x, b = (uint32_t)y;
        while (b) {
            uint32_t t = a % b;
            a = b, b = t;
        }
        x /= a, y /= a;
    }
    x = round(x), y = round(y);
    if (!(x >= 1 && y >= 1 && x <= 65535 && y <= 65535)) {
        hdm__notice(opt, k->base.path, "resolution left out (JFIF holds 1 to 65535 per unit)");
        return;
    }
    k->c.density_unit = (UINT8)unit;
    k->c.X_density = (UINT16)x;
    k->c.Y_density = (UINT16)y;
}

/* One APP marker: its identifier (with its NUL) and then the data. */
static void write_app(jpeg_enc *k, int marker, const char *id, size_t idlen,
                      const unsigned char *data, size_t n)
{
    jpeg_write_m_header(&k->c, marker, (unsigned)(idlen + n));
    for (size_t i = 0; i < idlen; i++)
        jpeg_write_m_byte(&k->c, (unsigned char)id[i]);
    for (size_t i = 0; i < n; i++)
        jpeg_write_m_byte(&k->c, data[i]);
}

/* The extension of the XMP packet, as it came: the same bytes under the same GUID (their MD5,
 * which the main packet names), split over APP1 markers again. */
static void write_xmp_ext(jpeg_enc *k, const hdm__meta *m)
{
    uint32_t full = (uint32_t)m->xmp_ext_size;
    for (size_t at = 0; at < m->xmp_ext_size; at += XMP_EXT_PART) {
        size_t n = m->xmp_ext_size - at < XMP_EXT_PART ? m->xmp_ext_size - at : XMP_EXT_PART;
        unsigned char head[40];
        memcpy(head, m->xmp_guid, 32);
        for (int i = 0; i < 4; i++) {
            head[32 + i] = (unsigned char)(full >> (24 - 8 * i));
            head[36 + i] = (unsigned char)((uint32_t)at >> (24 - 8 * i));
        }
        jpeg_write_m_header(&k->c, JPEG_APP0 + 1, (unsigned)(sizeof XMP_EXT_ID + 40 + n));
        for (size_t i = 0; i < sizeof XMP_EXT_ID; i++)
            jpeg_write_m_byte(&k->c, (unsigned char)XMP_EXT_ID[i]);
        for (size_t i = 0; i < 40; i++)
            jpeg_write_m_byte(&k->c, head[i]);
        for (size_t i = 0; i < n; i++)
            jpeg_write_m_byte(&k->c, m->xmp_ext[at + i]);
    }
}

/* The metadata markers, after the JFIF header jpeg_start_compress wrote and before the first
 * scanline: APP1 EXIF, APP1 XMP and its extension, the APP2 ICC profile; a notice for each
 * part JPEG cannot hold. jpeg_write_icc_profile (libjpeg-turbo) does the splitting of the
 * profile. */
static void write_meta(jpeg_enc *k, const hdm_options *opt, const hdm__meta *m)
{
    const char *path = k->base.path;
    if (m->exif_size > MARKER_MAX - sizeof EXIF_ID)
        hdm__notice(opt, path, "EXIF left out (over the 64 KB a JPEG marker holds)");
    else if (m->exif_size)
        write_app(k, JPEG_APP0 + 1, EXIF_ID, sizeof EXIF_ID, m->exif, m->exif_size);
    /* XMP over a marker would have to be split into a main packet and an extension, its RDF
     * parted: not done, said */
    if (m->xmp_size > MARKER_MAX - sizeof XMP_ID)
        hdm__notice(opt, path, m->xmp_ext_size ? "XMP and its extension left out (the main "
                                                 "packet is over the 64 KB a JPEG marker holds)"
                                               : "XMP left out (over the 64 KB a JPEG marker "
                                                 "holds)");
    else if (m->xmp_size) {
        write_app(k, JPEG_APP0 + 1, XMP_ID, sizeof XMP_ID, m->xmp, m->xmp_size);
        if (m->xmp_ext_size > UINT32_MAX)
            hdm__notice(opt, path, "extended XMP left out (over the 4 GB its length field "
                                   "holds)");
        else if (m->xmp_ext_size)
            write_xmp_ext(k, m);
    }
    if (!hdm__icc_sound(opt, path, m))
        ; /* none, or a broken one: said */
    else if (!hdm__icc_fits(m->icc, m->icc_size, k->base.info.channels))
        hdm__notice(opt, path, k->base.info.channels <= 2
                        ? "ICC profile left out (not a gray profile, and the image is gray)"
                        : "ICC profile left out (not an RGB profile, and the image is RGB)");
    else if (m->icc_size > ICC_MAX)
        hdm__notice(opt, path, "ICC profile left out (over the 16 MB JPEG's 255 markers hold)");
    else
        jpeg_write_icc_profile(&k->c, m->icc, (unsigned)m->icc_size);
    if (m->srgb_intent || m->gamma || m->has_chrm)
        hdm__notice(opt, path, "sRGB, gAMA and cHRM left out (JPEG holds none of them)");
}

/* Sets libjpeg up for the image and writes the headers (SOI, JFIF, the metadata markers, the
 * quantisation tables) into k->out. */
static hdm_status start(jpeg_enc *k, const hdm_options *opt, const hdm__meta *meta,
                        unsigned comps, int hs, int vs, hdm_error *err)
{
    k->c.err = hdm__jpeg_fail_init(&k->fail);
    if (setjmp(k->fail.jump))
        return enc_failed(k, err);
    jpeg_create_compress(&k->c);
    k->c.mem->max_memory_to_use = hdm__jpeg_memory_cap(opt);
    k->c.client_data = k;
    k->dest.init_destination = dest_init;
    k->dest.empty_output_buffer = dest_empty;
    k->dest.term_destination = dest_term;
    k->c.dest = &k->dest;
    k->c.image_width = k->base.info.width;
    k->c.image_height = k->base.info.height;
    k->c.input_components = (int)comps;
    k->c.in_color_space = comps == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&k->c);
    jpeg_set_quality(&k->c, opt->jpeg_quality, TRUE);
    k->c.optimize_coding = !k->baseline; /* baseline: re-coded at finish */
    k->c.dct_method = JDCT_ISLOW;
    k->c.comp_info[0].h_samp_factor = hs;
    k->c.comp_info[0].v_samp_factor = vs;
    if (opt->jpeg_progressive)
        jpeg_simple_progression(&k->c);
    set_density(k, opt, meta);
    jpeg_start_compress(&k->c, TRUE);
    write_meta(k, opt, meta);
    return HDM_OK;
}

hdm_status hdm__jpeg_sink(const hdm__codec *c, const hdm_info *info, const hdm_options *opt,
                          const hdm__meta *meta, hdm__bytes *b, const char *path,
                          hdm__sink **out, hdm_error *err)
{
    (void)c;
    if (info->width > JPEG_MAX_DIMENSION || info->height > JPEG_MAX_DIMENSION)
        return hdm__fail(err, HDM_ERR_LIMIT, path, "%ux%u is too large for JPEG (at most "
                         "%ux%u)", info->width, info->height, (unsigned)JPEG_MAX_DIMENSION,
                         (unsigned)JPEG_MAX_DIMENSION);
    unsigned comps = info->channels <= 2 ? 1 : 3;
    int hs = 1, vs = 1;
    if (comps == 3)
        sampling(opt, &hs, &vs);
    /* baseline: a few MCU rows, and the compressed file at a bit a sample */
    uint64_t need = opt->jpeg_progressive
                        ? encode_bytes(info->width, info->height, comps, hs, vs)
                        : (uint64_t)info->width * comps * DCTSIZE * vs * 3 +
                              (uint64_t)info->width * info->height * comps / 8;
    if (opt->jpeg_progressive && need > opt->max_memory)
        return hdm__fail(err, HDM_ERR_LIMIT, path,
                         "encoding needs about %llu bytes (libjpeg holds every coefficient of "
                         "progressive output), above the memory limit of %llu "
                         "(max_memory)", (unsigned long long)need,
                         (unsigned long long)opt->max_memory);
    jpeg_enc *k = calloc(1, sizeof *k);
    if (!k || !(k->row = malloc((size_t)info->width * comps))) {
        free(k);
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    }
    k->base.info = *info;
    k->base.path = path;
    k->base.write = enc_write;
    k->base.finish = enc_finish;
    k->base.close = enc_close;
    k->base.held = need + OUT_BUF + (uint64_t)info->width * comps;
    k->bytes = b;
    k->baseline = !opt->jpeg_progressive;
    k->max_memory = opt->max_memory;
    uint32_t bg = opt->background;
    k->bg[0] = (unsigned char)(bg >> 16), k->bg[1] = (unsigned char)(bg >> 8);
    k->bg[2] = (unsigned char)bg;
    /* its luma (ITU-R BT.601, as JPEG's YCbCr), for a gray image's background */
    k->bg_gray = (unsigned char)((299u * k->bg[0] + 587u * k->bg[1] + 114u * k->bg[2] + 500) /
                                 1000);

    hdm_status st = start(k, opt, meta, comps, hs, vs, err);
    if (st) {
        enc_close(&k->base);
        return st;
    }
    if (info->channels == 2 || info->channels == 4) {
        char what[64];
        snprintf(what, sizeof what, "alpha flattened over #%06x (JPEG holds no alpha)",
                 (unsigned)bg);
        hdm__notice(opt, path, what);
    }
    *out = &k->base;
    return HDM_OK;
}
