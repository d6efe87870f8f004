/* SPDX-License-Identifier: MIT */
/* metadata.c — what the codecs share about metadata: the EXIF Orientation tag (TIFF 6.0 IFD
 * layout, EXIF 2.32 tag 0x0112), an ICC profile's description (ICC.1 'desc' tag), whether its
 * structure is sound and whether it fits an image, the fields info reports, and the notices
 * for what a sink leaves out */
#include "codec/metadata.h"

#include <stdio.h>
#include <string.h>

/* ---- EXIF: IFD0 of its TIFF structure ---- */

static uint32_t get16(const unsigned char *p, bool be)
{
    return be ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

static uint32_t get32(const unsigned char *p, bool be)
{
    return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
              : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* The value field of IFD0's Orientation entry (a SHORT, count 1), or NULL. */
static unsigned char *orientation_field(const unsigned char *exif, size_t n, bool *be)
{
    if (n < 8)
        return NULL;
    if (!memcmp(exif, "MM\0*", 4))
        *be = true;
    else if (!memcmp(exif, "II*\0", 4))
        *be = false;
    else
        return NULL;
    uint32_t ifd = get32(exif + 4, *be);
    if (ifd < 8 || ifd > n - 2)
        return NULL;
    uint32_t count = get16(exif + ifd, *be);
    size_t at = (size_t)ifd + 2;
    for (uint32_t i = 0; i < count && at + 12 <= n; i++, at += 12) {
        const unsigned char *e = exif + at;
        if (get16(e, *be) == 0x0112 && get16(e + 2, *be) == 3 && get32(e + 4, *be) == 1)
            return (unsigned char *)e + 8;
    }
    return NULL;
}

uint32_t hdm__exif_orientation(const unsigned char *exif, size_t n)
{
    bool be;
    const unsigned char *v = exif ? orientation_field(exif, n, &be) : NULL;
    uint32_t o = v ? get16(v, be) : 0;
    return o >= 1 && o <= 8 ? o : 0;
}

bool hdm__exif_set_orientation(unsigned char *exif, size_t n, uint32_t o)
{
    bool be;
    unsigned char *v = exif ? orientation_field(exif, n, &be) : NULL;
    if (!v || o < 1 || o > 8)
        return false;
    v[be ? 0 : 1] = 0;
    v[be ? 1 : 0] = (unsigned char)o;
    return true;
}

/* ---- ICC: the 'desc' tag ---- */

static void put_char(char *buf, size_t cap, size_t *len, uint32_t ch)
{
    if (*len + 1 < cap)
        buf[(*len)++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
}

void hdm__icc_description(const unsigned char *icc, size_t n, char *buf, size_t cap)
{
    if (!cap)
        return;
    buf[0] = '\0';
    if (!icc || n < 132)
        return;
    uint32_t tags = get32(icc + 128, true);
    for (uint32_t i = 0; i < tags && 132 + (size_t)i * 12 + 12 <= n; i++) {
        const unsigned char *e = icc + 132 + (size_t)i * 12;
        if (memcmp(e, "desc", 4))
            continue;
        uint32_t off = get32(e + 4, true), size = get32(e + 8, true);
        if (off > n || size > n - off || size < 12)
            return;
        const unsigned char *t = icc + off;
        size_t len = 0;
        if (!memcmp(t, "desc", 4)) { /* v2 textDescriptionType: ASCII count, then ASCII */
            uint32_t count = get32(t + 8, true);
            for (uint32_t k = 0; k < count && 12 + (size_t)k < size && t[12 + k]; k++)
                put_char(buf, cap, &len, t[12 + k]);
        } else if (!memcmp(t, "mluc", 4) && size >= 28) { /* v4: the first record, UTF-16BE */
            uint32_t rlen = get32(t + 20, true), roff = get32(t + 24, true);
            if (roff <= size && rlen <= size - roff)
                for (uint32_t k = 0; k + 1 < rlen; k += 2) {
                    uint32_t ch = get16(t + roff + k, true);
                    if (!ch)
                        break;
                    put_char(buf, cap, &len, ch);
                }
        }
        buf[len] = '\0';
        return;
    }
}

void hdm__meta_describe(const hdm__meta *m, hdm_file_info *d)
{
    d->icc_size = (uint32_t)m->icc_size;
    hdm__icc_description(m->icc, m->icc_size, d->icc_description, sizeof d->icc_description);
    d->exif_size = (uint32_t)m->exif_size;
    d->xmp_size = (uint32_t)m->xmp_size;
    d->orientation = m->orientation;
    d->color_chunks = m->srgb_intent || m->gamma || m->has_chrm ? HDM_META_COLOR : 0;
    d->res_x = m->res_x;
    d->res_y = m->res_y;
    d->res_unit = m->res_unit;
}

bool hdm__icc_fits(const unsigned char *icc, size_t n, uint32_t channels)
{
    if (!icc || n < 128)
        return false;
    return !memcmp(icc + 16, channels <= 2 ? "GRAY" : "RGB ", 4);
}

const char *hdm__icc_broken(const unsigned char *icc, size_t n)
{
    if (!icc || n < 132)
        return "shorter than a profile's header and tag count";
    if (get32(icc, true) != n)
        return "its declared size is not its length";
    if (icc[8] >= 4 && n % 4)
        return "a version 4 profile's size is not a multiple of 4";
    if (memcmp(icc + 36, "acsp", 4))
        return "no 'acsp' signature";
    if (memcmp(icc + 20, "XYZ ", 4) && memcmp(icc + 20, "Lab ", 4))
        return "its connection space is neither XYZ nor Lab";
    if (!memcmp(icc + 12, "abst", 4) || !memcmp(icc + 12, "link", 4))
        return "an abstract or device link profile describes no image";
    if (get32(icc + 64, true) >= 0xffff)
        return "an invalid rendering intent";
    uint32_t tags = get32(icc + 128, true);
    if (tags > (n - 132) / 12)
        return "its tag table runs past its end";
    for (uint32_t i = 0; i < tags; i++) {
        const unsigned char *e = icc + 132 + (size_t)i * 12;
        uint32_t off = get32(e + 4, true), size = get32(e + 8, true);
        if (off > n || size > n - off)
            return "a tag lies outside the profile";
    }
    return NULL;
}

bool hdm__icc_sound(const hdm_options *opt, const char *path, const hdm__meta *m)
{
    if (!m->icc_size)
        return false;
    const char *why = hdm__icc_broken(m->icc, m->icc_size);
    if (why) {
        char what[160];
        snprintf(what, sizeof what, "ICC profile left out (broken: %s)", why);
        hdm__notice(opt, path, what);
    }
    return !why;
}

void hdm__notice(const hdm_options *opt, const char *path, const char *what)
{
    if (!opt->notice)
        return;
    char note[160 + 4096];
    snprintf(note, sizeof note, "%s: %s", path ? path : "(memory output)", what);
    opt->notice(opt->notice_ctx, note);
}
