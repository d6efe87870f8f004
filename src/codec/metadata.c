/* SPDX-License-Identifier: MIT */
/* metadata.c — what the codecs share about metadata: the EXIF Orientation tag (TIFF 6.0 IFD
 * layout, EXIF 2.32 tag 0x0112), XMP's pointer to its extension (XMP part 3), an ICC
 * profile's description (ICC.1 'desc' tag), whether its structure is sound and whether it fits
 * an image, the fields info reports, and the notices for what a sink leaves out */
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

/* IFD0's entries, or NULL: *count of them, complete ones only. */
static unsigned char *ifd0_entries(const unsigned char *exif, size_t n, bool *be,
                                   uint32_t *count)
{
    if (!exif || n < 8)
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
    uint32_t c = get16(exif + ifd, *be);
    size_t room = (n - ifd - 2) / 12;
    *count = c < room ? c : (uint32_t)room;
    return (unsigned char *)exif + ifd + 2;
}

/* TIFF 6.0 allows one entry per tag, so of duplicate Orientation entries the first is the one
 * (as exiftool reads it); it counts when it is what EXIF 2.32 makes it, a SHORT of count 1
 * holding 1..8, and is not applied otherwise: a LONG, a count of 2, a value out of range. */
uint32_t hdm__exif_orientation(const unsigned char *exif, size_t n)
{
    bool be;
    uint32_t count = 0;
    const unsigned char *e = ifd0_entries(exif, n, &be, &count);
    for (uint32_t i = 0; e && i < count; i++, e += 12) {
        if (get16(e, be) != 0x0112)
            continue;
        uint32_t o = get16(e + 2, be) == 3 && get32(e + 4, be) == 1 ? get16(e + 8, be) : 0;
        return o >= 1 && o <= 8 ? o : 0;
    }
    return 0;
}

/* Every Orientation entry, whatever its type and count, becomes a SHORT of count 1: a reader
 * that takes another duplicate, or reads a LONG, sees o too (the bytes a larger count pointed
 * to are left where they are, unreferenced). */
bool hdm__exif_set_orientation(unsigned char *exif, size_t n, uint32_t o)
{
    bool be, done = false;
    uint32_t count = 0;
    unsigned char *e = o >= 1 && o <= 8 ? ifd0_entries(exif, n, &be, &count) : NULL;
    for (uint32_t i = 0; e && i < count; i++, e += 12) {
        if (get16(e, be) != 0x0112)
            continue;
        static const unsigned char short_be[6] = {0, 3, 0, 0, 0, 1},
                                   short_le[6] = {3, 0, 1, 0, 0, 0};
        memcpy(e + 2, be ? short_be : short_le, 6);
        memset(e + 8, 0, 4);
        e[be ? 9 : 8] = (unsigned char)o;
        done = true;
    }
    return done;
}

/* ---- XMP: the main packet's pointer to its extension ---- */

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

bool hdm__xmp_guid_ok(const unsigned char *g)
{
    for (int i = 0; i < 32; i++)
        if (!is_hex(g[i]))
            return false;
    return true;
}

/* xmpNote:HasExtendedXMP as an attribute (HasExtendedXMP="…") or an element
 * (<xmpNote:HasExtendedXMP>…<), under whatever prefix the packet binds to the namespace. */
bool hdm__xmp_extension_guid(const unsigned char *xmp, size_t n, char guid[33])
{
    static const char name[] = "HasExtendedXMP";
    size_t len = sizeof name - 1;
    for (size_t i = 0; xmp && i + len <= n; i++) {
        if (memcmp(xmp + i, name, len))
            continue;
        size_t at = i + len;
        while (at < n && (xmp[at] == ' ' || xmp[at] == '\t' || xmp[at] == '\r' ||
                          xmp[at] == '\n' || xmp[at] == '='))
            at++;
        if (at < n && (xmp[at] == '"' || xmp[at] == '\'' || xmp[at] == '>'))
            at++;
        if (at + 32 <= n && hdm__xmp_guid_ok(xmp + at)) {
            memcpy(guid, xmp + at, 32);
            guid[32] = '\0';
            return true;
        }
    }
    return false;
}

void hdm__xmp_extension_left_out(const hdm_options *opt, const char *path, const hdm__meta *m,
                                 const char *format)
{
    if (!m->xmp_ext_size || !m->xmp_size)
        return;
    char what[128];
    snprintf(what, sizeof what, "extended XMP left out (%s holds one XMP packet; the main one "
             "kept)", format);
    hdm__notice(opt, path, what);
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
