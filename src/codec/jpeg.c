/* SPDX-License-Identifier: MIT */
/* jpeg.c — JPEG input through libjpeg-turbo, scanline by scanline (output: jpeg_write.c) */
#include "codec/jpeg.h"
#include "codec/metadata.h"
#include "kernel/kernel.h"

#include <jerror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A baseline file is decoded a scanline at a time, straight into the strips: libjpeg holds an
 * MCU row or two. A file of several scans (progressive, or a sequential one whose components
 * come in separate scans) needs libjpeg's buffer of every DCT coefficient, read whole by
 * jpeg_start_decompress before the first row comes out: it is counted against max_memory from
 * the header, and libjpeg's own limit (max_memory_to_use) is set from it too, so a frame that
 * lies about its size is stopped by libjpeg as well. */

typedef struct jpeg_source {
    hdm__source base;
    struct jpeg_decompress_struct d;
    hdm__jpeg_fail fail;
    struct jpeg_progress_mgr progress;
    FILE *f;
    char *path;
    uint64_t max_memory;
    J_COLOR_SPACE out_space;
    bool cmyk, inverted;  /* CMYK or YCCK, turned into RGB here; inverted: Adobe's convention */
    unsigned char *row;   /* one scanline as libjpeg gives it */
    const char *xmp_note; /* why the extended XMP was left out, said when the file opens */
} jpeg_source;

static void jpeg_source_close(hdm__source *s)
{
    jpeg_source *p = (jpeg_source *)s;
    jpeg_destroy_decompress(&p->d); /* safe on a struct never created: p is zeroed */
    if (p->f)
        fclose(p->f);
    free(p->row);
    free(p->path);
    /* hdm__source_close has freed it already; a header read (codec_info) or a failed open
     * closes here directly, with the metadata read */
    hdm__meta_free(&p->base.meta);
    free(p);
}

/* round(a * b / 255), exactly (the same identity as the kernel's u8 product) */
static unsigned char mul255(unsigned a, unsigned b)
{
    unsigned t = a * b + 128;
    return (unsigned char)((t + (t >> 8)) >> 8);
}

/* CMYK to RGB the way Adobe's files mean it: R = (1 - C)(1 - K) and so on. An Adobe APP14
 * marker means the samples are stored inverted (Photoshop writes 255 for no ink), so the
 * stored values already are 1 - C and 1 - K (libjpeg.txt, "Special color spaces"); without
 * the marker they are plain ink amounts. */
static void cmyk_row(const jpeg_source *p, hdm_image *strip, uint32_t y)
{
    unsigned char *r = hdm_row(strip, 0, y), *g = hdm_row(strip, 1, y), *b = hdm_row(strip, 2, y);
    const unsigned char *s = p->row;
    unsigned flip = p->inverted ? 0 : 255;
    for (uint32_t x = 0; x < p->base.info.width; x++, s += 4) {
        unsigned k = s[3] ^ flip;
        r[x] = mul255(s[0] ^ flip, k);
        g[x] = mul255(s[1] ^ flip, k);
        b[x] = mul255(s[2] ^ flip, k);
    }
}

static hdm_status read_rows(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    jpeg_source *p = (jpeg_source *)s;
    if (setjmp(p->fail.jump))
        return hdm__jpeg_failed(&p->fail, p->path, "corrupt JPEG", p->max_memory, err);
    for (uint32_t y = 0; y < rows; y++) {
        JSAMPROW row = p->row;
        if (jpeg_read_scanlines(&p->d, &row, 1) != 1) /* only a suspending source returns 0 */
            return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "corrupt JPEG: no scanline");
        if (p->cmyk)
            cmyk_row(p, strip, y);
        else
            hdm__row_to_planes(strip, y, p->row);
    }
    /* after the last row: reads on to EOI, so damage after the pixels is found too */
    if (s->next + rows == s->info.height)
        jpeg_finish_decompress(&p->d);
    return HDM_OK;
}

/* jpeg_start_decompress reads every scan of a multi-scan file before it returns; libjpeg calls
 * this between them (libjpeg.txt, "Progress monitoring"), so a cancel stops it there. */
static void on_progress(j_common_ptr cinfo)
{
    hdm__jpeg_fail *f = (hdm__jpeg_fail *)cinfo->err;
    if (hdm__cancelled(f->cancel)) {
        f->code = -1;
        longjmp(f->jump, 1);
    }
}

/* What the decode holds, from the header (libjpeg's jdcoefct.c, jdmainct.c, jdsample.c): every
 * coefficient, 2 bytes each over each component's blocks padded to whole MCUs, when the file
 * has several scans; otherwise an MCU row of coefficients. Then for each component its
 * sample rows for an MCU row with context (about 3 rows of blocks), the upsampled and
 * colour-converted rows, and our own scanline. */
static uint64_t decode_bytes(const struct jpeg_decompress_struct *d, bool whole)
{
    uint64_t bytes = 0;
    int maxv = d->max_v_samp_factor;
    for (int c = 0; c < d->num_components; c++) {
        const jpeg_component_info *ci = &d->comp_info[c];
        uint64_t bw = ((uint64_t)ci->width_in_blocks + ci->h_samp_factor - 1) /
                      ci->h_samp_factor * ci->h_samp_factor;
        uint64_t bh = whole ? ((uint64_t)ci->height_in_blocks + ci->v_samp_factor - 1) /
                              ci->v_samp_factor * ci->v_samp_factor
                            : (uint64_t)ci->v_samp_factor;
        bytes += bw * bh * DCTSIZE2 * sizeof(JCOEF);
        bytes += bw * DCTSIZE * (uint64_t)ci->v_samp_factor * DCTSIZE * 3;
        bytes += (uint64_t)d->image_width * maxv * DCTSIZE; /* upsampled rows */
    }
    return bytes + (uint64_t)d->image_width * 4 * 2; /* colour-converted and our scanline */
}

/* libjpeg refuses a frame above 65500 pixels a side as soon as it has read it: our limits,
 * which a caller can raise, are named first when the size is above them too. */
static hdm_status header_failed(jpeg_source *p, const hdm_options *opt, hdm_error *err)
{
    if (p->fail.code != JERR_IMAGE_TOO_BIG)
        return hdm__jpeg_failed(&p->fail, p->path, "corrupt JPEG", p->max_memory, err);
    hdm_info info = {p->d.image_width, p->d.image_height, 1, HDM_U8, HDM_FORMAT_JPEG};
    hdm_status st = hdm__check_size(&info, opt, p->path, err);
    if (st)
        return st;
    return hdm__fail(err, HDM_ERR_LIMIT, p->path, "%ux%u is larger than JPEG allows (at most "
                     "%ux%u)", info.width, info.height, (unsigned)JPEG_MAX_DIMENSION,
                     (unsigned)JPEG_MAX_DIMENSION);
}

static const char EXIF_ID[] = "Exif\0", XMP_ID[] = "http://ns.adobe.com/xap/1.0/",
                  XMP_EXT_ID[] = "http://ns.adobe.com/xmp/extension/", ICC_ID[] = "ICC_PROFILE";

/* An extended XMP marker after its identifier (XMP part 3, 1.1.3.1): the GUID, the full length
 * and this part's offset in it (big-endian), then the part. */
enum { XMP_EXT_HEAD = sizeof XMP_EXT_ID + 32 + 8 };

typedef struct xmp_part {
    const JOCTET *data; /* from the GUID on */
    size_t n;           /* the part's bytes */
    uint32_t full, offset;
} xmp_part;

static uint32_t be32(const JOCTET *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int by_offset(const void *a, const void *b)
{
    uint32_t x = ((const xmp_part *)a)->offset, y = ((const xmp_part *)b)->offset;
    return x < y ? -1 : x > y;
}

/* The parts of extended XMP of one GUID: the one the main packet names, else the one every
 * part has (a part of another GUID than the named one is a stale leftover, and ignored, as the
 * spec says). They are joined by offset when they fill the full length they all declare, once
 * each; otherwise they are left out and p->xmp_note says why. False when out of memory. */
static bool join_xmp_ext(jpeg_source *p)
{
    size_t count = 0;
    for (jpeg_saved_marker_ptr k = p->d.marker_list; k; k = k->next)
        count += k->marker == JPEG_APP0 + 1 && k->data_length >= XMP_EXT_HEAD &&
                 !memcmp(k->data, XMP_EXT_ID, sizeof XMP_EXT_ID);
    if (!count)
        return true;
    hdm__meta *m = &p->base.meta;
    if (!m->xmp) {
        p->xmp_note = "extended XMP left out (the file has no main XMP packet)";
        return true;
    }
    char named[33] = "";
    bool has_name = hdm__xmp_extension_guid(m->xmp, m->xmp_size, named);
    xmp_part *part = malloc(count * sizeof *part);
    if (!part)
        return false;
    size_t n = 0;
    const JOCTET *guid = has_name ? (const JOCTET *)named : NULL;
    bool mixed = false;
    for (jpeg_saved_marker_ptr k = p->d.marker_list; k; k = k->next) {
        if (k->marker != JPEG_APP0 + 1 || k->data_length < XMP_EXT_HEAD ||
            memcmp(k->data, XMP_EXT_ID, sizeof XMP_EXT_ID))
            continue;
        const JOCTET *d = k->data + sizeof XMP_EXT_ID;
        if (!guid)
            guid = d;
        if (memcmp(d, guid, 32)) {
            mixed = true;
            continue;
        }
        part[n++] = (xmp_part){d, k->data_length - XMP_EXT_HEAD, be32(d + 32), be32(d + 36)};
    }
    qsort(part, n, sizeof *part, by_offset);
    uint64_t at = 0;
    for (size_t i = 0; i < n && at != UINT64_MAX; i++)
        at = part[i].offset == at && part[i].full == part[0].full ? at + part[i].n : UINT64_MAX;
    if (!has_name && mixed)
        p->xmp_note = "extended XMP left out (its parts have different GUIDs, and the main "
                      "packet names none)";
    else if (!n)
        p->xmp_note = "extended XMP left out (no part has the GUID the main packet names)";
    else if (!hdm__xmp_guid_ok(guid))
        p->xmp_note = "extended XMP left out (its GUID is not 32 hex digits)";
    else if (!at || at != part[0].full)
        p->xmp_note = "extended XMP left out (its parts do not fill the full length they "
                      "declare, once each)";
    bool ok = true;
    if (!p->xmp_note && (ok = (m->xmp_ext = malloc(at)) != NULL)) {
        for (size_t i = 0; i < n; i++)
            memcpy(m->xmp_ext + part[i].offset, part[i].data + 40, part[i].n);
        m->xmp_ext_size = (size_t)at;
        memcpy(m->xmp_guid, guid, 32);
        m->xmp_guid[32] = '\0';
    }
    free(part);
    return ok;
}

/* An ICC profile split over APP2 markers ("ICC_PROFILE\0", sequence number from 1, count):
 * joined in sequence order when every part is there once, else left out (a damaged profile
 * would be worse than none). */
static bool join_icc(jpeg_source *p)
{
    unsigned count = 0;
    size_t total = 0, part_size[256] = {0};
    const JOCTET *part[256] = {0};
    for (jpeg_saved_marker_ptr m = p->d.marker_list; m; m = m->next) {
        if (m->marker != JPEG_APP0 + 2 || m->data_length < sizeof ICC_ID + 2 ||
            memcmp(m->data, ICC_ID, sizeof ICC_ID))
            continue;
        unsigned seq = m->data[sizeof ICC_ID], n = m->data[sizeof ICC_ID + 1];
        if (!count)
            count = n;
        if (!seq || seq > n || n != count || part[seq - 1])
            return true; /* inconsistent: no profile */
        part[seq - 1] = m->data + sizeof ICC_ID + 2;
        part_size[seq - 1] = m->data_length - sizeof ICC_ID - 2;
        total += part_size[seq - 1];
    }
    for (unsigned i = 0; i < count; i++)
        if (!part[i])
            return true;
    if (!count || !total)
        return true;
    hdm__meta *meta = &p->base.meta;
    if (!(meta->icc = malloc(total)))
        return false;
    for (unsigned i = 0; i < count; i++) {
        memcpy(meta->icc + meta->icc_size, part[i], part_size[i]);
        meta->icc_size += part_size[i];
    }
    return true;
}

/* The markers saved by jpeg_header, and JFIF's density, into p->base.meta; false when out of
 * memory. The first EXIF and the first (main) XMP packet count, then the extension of the
 * XMP when its parts are whole. */
static bool read_meta(jpeg_source *p)
{
    hdm__meta *m = &p->base.meta;
    for (jpeg_saved_marker_ptr k = p->d.marker_list; k; k = k->next) {
        if (k->marker != JPEG_APP0 + 1)
            continue;
        if (!m->exif && k->data_length > sizeof EXIF_ID && !memcmp(k->data, EXIF_ID,
                                                                 sizeof EXIF_ID)) {
            if (!hdm__meta_set(&m->exif, &m->exif_size, k->data + sizeof EXIF_ID,
                               k->data_length - sizeof EXIF_ID))
                return false;
        } else if (!m->xmp && k->data_length > sizeof XMP_ID &&
                   !memcmp(k->data, XMP_ID, sizeof XMP_ID)) {
            if (!hdm__meta_set(&m->xmp, &m->xmp_size, k->data + sizeof XMP_ID,
                               k->data_length - sizeof XMP_ID))
                return false;
        }
    }
    if (!join_icc(p) || !join_xmp_ext(p))
        return false;
    if (p->d.saw_JFIF_marker && p->d.X_density && p->d.Y_density) {
        m->res_x = p->d.X_density;
        m->res_y = p->d.Y_density;
        m->res_unit = p->d.density_unit <= 2 ? p->d.density_unit : 0;
        if (m->res_unit == 0 && m->res_x == 1 && m->res_y == 1)
            m->res_x = m->res_y = 0; /* JFIF's default 1:1 says nothing */
    }
    m->orientation = hdm__exif_orientation(m->exif, m->exif_size);
    return true;
}

/* Creates libjpeg's decompressor over p->f or data, reads the header up to the first scan and
 * fills p->base.info, checking it against the limits: nothing of the pixels is allocated. */
static hdm_status jpeg_header(jpeg_source *p, const void *data, size_t size,
                              const hdm_options *opt, hdm_error *err)
{
    p->max_memory = opt->max_memory;
    p->d.err = hdm__jpeg_fail_init(&p->fail);
    p->fail.cancel = opt->cancel;
    if (setjmp(p->fail.jump))
        return header_failed(p, opt, err);
    jpeg_create_decompress(&p->d);
    p->d.mem->max_memory_to_use = hdm__jpeg_memory_cap(opt);
    if (p->f)
        jpeg_stdio_src(&p->d, p->f);
    else
        jpeg_mem_src(&p->d, data, (unsigned long)size);
    /* APP1 (EXIF, XMP) and APP2 (ICC) are kept for the output; each is at most 64 KB, all
     * of them no more than the file holds */
    jpeg_save_markers(&p->d, JPEG_APP0 + 1, 0xFFFF);
    jpeg_save_markers(&p->d, JPEG_APP0 + 2, 0xFFFF);
    jpeg_read_header(&p->d, TRUE); /* an abbreviated file (tables only) is an error here */
    if (!read_meta(p))
        return hdm__fail(err, HDM_ERR_NOMEM, p->path, "out of memory");

    uint32_t channels;
    switch (p->d.jpeg_color_space) {
    case JCS_GRAYSCALE:
        p->out_space = JCS_GRAYSCALE, channels = 1;
        break;
    case JCS_YCbCr:
    case JCS_RGB:
        p->out_space = JCS_RGB, channels = 3;
        break;
    case JCS_CMYK:
    case JCS_YCCK: /* libjpeg turns YCCK into CMYK; both carry Adobe's marker */
        p->out_space = JCS_CMYK, channels = 3;
        p->cmyk = true;
        p->inverted = p->d.saw_Adobe_marker;
        break;
    default:
        return hdm__fail(err, HDM_ERR_CORRUPT, p->path,
                         "corrupt JPEG: unknown colour space of %d components",
                         p->d.num_components);
    }
    p->base.info = (hdm_info){p->d.image_width, p->d.image_height, channels, HDM_U8,
                              HDM_FORMAT_JPEG};
    hdm_status st = hdm__check_size(&p->base.info, opt, p->path, err);
    if (st)
        return st;
    bool whole = p->d.progressive_mode || p->d.comps_in_scan < p->d.num_components;
    uint64_t held = decode_bytes(&p->d, whole);
    if (held > opt->max_memory) {
        /* the figure is what opening the file needs, so that given it both pass: the turn
         * upright that its Orientation asks for next holds the image beside the decoder */
        uint32_t o = p->base.meta.orientation;
        size_t image = 0;
        bool turned = !opt->no_rotate && o >= 3 && o <= 8 &&
                      !hdm_size_bytes(p->base.info.width, p->base.info.height, channels,
                                      HDM_U8, &image) &&
                      image <= UINT64_MAX - held;
        return hdm__fail(err, HDM_ERR_LIMIT, p->path,
                         "decoding%s needs about %llu bytes%s, above the memory limit of %llu "
                         "(max_memory)",
                         turned ? " (with the turn upright its Orientation asks for)" : "",
                         (unsigned long long)(turned ? held + image : held),
                         whole ? " (every coefficient of a progressive JPEG)" : "",
                         (unsigned long long)opt->max_memory);
    }
    p->base.held = held;
    return HDM_OK;
}

static hdm_status jpeg_open(jpeg_source *p, const void *data, size_t size,
                            const hdm_options *opt, hdm_error *err)
{
    hdm_status st = jpeg_header(p, data, size, opt, err);
    if (st)
        return st;
    if (p->xmp_note)
        hdm__notice(opt, p->path, p->xmp_note);
    if (setjmp(p->fail.jump))
        return hdm__jpeg_failed(&p->fail, p->path, "corrupt JPEG", p->max_memory, err);
    p->d.out_color_space = p->out_space;
    p->d.dct_method = JDCT_ISLOW; /* the accurate one; libjpeg-turbo's SIMD makes it fast */
    p->progress.progress_monitor = on_progress;
    p->d.progress = &p->progress;
    jpeg_start_decompress(&p->d);
    unsigned comps = p->cmyk ? 4 : p->base.info.channels;
    if (p->d.output_width != p->base.info.width || p->d.output_height != p->base.info.height ||
        (unsigned)p->d.output_components != comps)
        return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "corrupt JPEG: unexpected output shape");
    if (!(p->row = malloc((size_t)p->d.output_width * comps)))
        return hdm__fail(err, HDM_ERR_NOMEM, p->path, "out of memory");
    p->base.read = read_rows;
    return HDM_OK;
}

static jpeg_source *jpeg_source_alloc(FILE *f, const char *path, hdm_error *err)
{
    jpeg_source *p = calloc(1, sizeof *p);
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
    p->path = name;
    p->base.path = name;
    p->base.close = jpeg_source_close;
    return p;
}

static hdm_status jpeg_source_new(FILE *f, const void *data, size_t size, const char *path,
                                  const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    jpeg_source *p = jpeg_source_alloc(f, path, err);
    if (!p)
        return HDM_ERR_NOMEM;
    hdm_status st = jpeg_open(p, data, size, opt, err);
    if (st) {
        hdm__source_close(&p->base); /* its metadata too */
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
    jpeg_source *p = jpeg_source_alloc(f, path, err);
    if (!p)
        return HDM_ERR_NOMEM;
    hdm_status st = jpeg_header(p, NULL, 0, opt, err);
    if (!st) {
        *out = p->base.info;
        static const char *const spaces[] = {[JCS_GRAYSCALE] = "gray", [JCS_RGB] = "rgb",
                                             [JCS_YCbCr] = "ycbcr", [JCS_CMYK] = "cmyk",
                                             [JCS_YCCK] = "ycck"};
        detail->bits = (uint32_t)p->d.data_precision;
        snprintf(detail->color, sizeof detail->color, "%s", spaces[p->d.jpeg_color_space]);
        detail->interlaced = p->d.progressive_mode;
        if (p->d.num_components >= 3) {
            const jpeg_component_info *y = &p->d.comp_info[0], *cb = &p->d.comp_info[1];
            int h = y->h_samp_factor / (cb->h_samp_factor ? cb->h_samp_factor : 1);
            int v = y->v_samp_factor / (cb->v_samp_factor ? cb->v_samp_factor : 1);
            snprintf(detail->subsampling, sizeof detail->subsampling, "4:%d:%d",
                     h ? 4 / h : 4, v == 1 ? (h ? 4 / h : 4) : 0);
        }
        hdm__meta_describe(&p->base.meta, detail);
    }
    hdm__source_close(&p->base); /* its metadata too */
    return st;
}

static hdm_status codec_source(const hdm__codec *c, FILE *f, const char *path,
                               const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    (void)c;
    return jpeg_source_new(f, NULL, 0, path, opt, out, err);
}

static hdm_status codec_source_memory(const hdm__codec *c, const void *data, size_t size,
                                      const char *name, const hdm_options *opt,
                                      hdm__source **out, hdm_error *err)
{
    (void)c;
    return jpeg_source_new(NULL, data, size, name, opt, out, err);
}

/* ---- the table's entry ---- */

/* SOI and the next marker's 0xFF (ITU-T T.81, Table B.1). */
static bool codec_sniff(const unsigned char *h, size_t n)
{
    return n >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF;
}

/* Written as gray (one component) or YCbCr; alpha is composited over the background. */
const hdm__codec hdm__codec_jpeg = {
    .pub = {.format = HDM_FORMAT_JPEG, .name = "jpeg",
            .extensions = (const char *const[]){"jpg", "jpeg", NULL},
            .read_extensions = (const char *const[]){"jpg", "jpeg", "jpe", "jfif", NULL},
            .writable = 1, .depths = HDM_U8, .layouts = 1u << 0 | 1u << 2},
    .sniff = codec_sniff,
    .info = codec_info,
    .source = codec_source,
    .source_memory = codec_source_memory,
    .sink = hdm__jpeg_sink,
};
