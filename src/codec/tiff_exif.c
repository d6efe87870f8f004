/* SPDX-License-Identifier: MIT */
/* tiff_exif.c — EXIF between a TIFF's own directories and a self-contained block, as bytes */
#include "codec/tiff.h"

#include <stdlib.h>
#include <string.h>

/* TIFF 6.0, section 2: an IFD is a 2-byte count, 12-byte entries (tag, type, count, a value of
 * at most 4 bytes or the offset of it), and the offset of the next IFD. Values move here as
 * bytes, swapped by the size of their unit when the byte order changes; libtiff's own EXIF
 * reader is not used because it turns rationals into floats. */

enum { ENTRIES_MAX = 1024 }; /* entries read of an IFD (each insert walks the sorted list) */

static uint32_t get16(const unsigned char *p, bool be)
{
    return be ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

static uint32_t get32(const unsigned char *p, bool be)
{
    return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
              : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void put16(unsigned char *p, bool be, uint32_t v)
{
    p[be ? 0 : 1] = (unsigned char)(v >> 8);
    p[be ? 1 : 0] = (unsigned char)v;
}

static void put32(unsigned char *p, bool be, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[be ? i : 3 - i] = (unsigned char)(v >> (24 - 8 * i));
}

/* The size of a value's byte-order unit, and of a whole value, for the classic types; 0 for
 * others (BigTIFF's 8-byte ones, unknown types). */
static unsigned unit_of(uint16_t type)
{
    switch (type) {
    case 1: case 2: case 6: case 7: return 1;        /* BYTE ASCII SBYTE UNDEFINED */
    case 3: case 8: return 2;                        /* SHORT SSHORT */
    case 4: case 5: case 9: case 10: case 11: case 13: return 4; /* LONG RATIONAL … IFD */
    case 12: return 8;                               /* DOUBLE */
    default: return 0;
    }
}

static unsigned value_size(uint16_t type)
{
    return type == 5 || type == 10 ? 8 : unit_of(type);
}

void hdm__ifd_free(hdm__ifd *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->e[i].data);
    free(d->e);
    d->e = NULL;
    d->n = 0;
}

const hdm__ifd_entry *hdm__ifd_find(const hdm__ifd *d, uint16_t tag)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->e[i].tag == tag)
            return &d->e[i];
    return NULL;
}

void hdm__ifd_remove(hdm__ifd *d, uint16_t tag)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->e[i].tag == tag) {
            free(d->e[i].data);
            memmove(d->e + i, d->e + i + 1, (d->n - i - 1) * sizeof *d->e);
            d->n--;
            return;
        }
}

bool hdm__ifd_set(hdm__ifd *d, uint16_t tag, uint16_t type, uint32_t count, const void *data)
{
    size_t size = (size_t)count * value_size(type);
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy)
        return false;
    memcpy(copy, data, size);
    size_t i = 0;
    while (i < d->n && d->e[i].tag < tag)
        i++;
    if (i < d->n && d->e[i].tag == tag) {
        free(d->e[i].data);
    } else {
        hdm__ifd_entry *e = realloc(d->e, (d->n + 1) * sizeof *e);
        if (!e) {
            free(copy);
            return false;
        }
        d->e = e;
        memmove(e + i + 1, e + i, (d->n - i) * sizeof *e);
        d->n++;
    }
    d->e[i] = (hdm__ifd_entry){tag, type, count, copy, size};
    return true;
}

bool hdm__ifd_set_long(hdm__ifd *d, uint16_t tag, uint32_t v)
{
    unsigned char b[4];
    put32(b, d->be, v);
    return hdm__ifd_set(d, tag, 4, 1, b);
}

bool hdm__ifd_set_short(hdm__ifd *d, uint16_t tag, uint32_t v)
{
    unsigned char b[2];
    put16(b, d->be, v);
    return hdm__ifd_set(d, tag, 3, 1, b);
}

uint32_t hdm__ifd_short(const hdm__ifd *d, uint16_t tag)
{
    const hdm__ifd_entry *e = hdm__ifd_find(d, tag);
    if (!e || e->count != 1)
        return 0;
    return e->type == 3 ? get16(e->data, d->be)
         : e->type == 4 || e->type == 13 ? get32(e->data, d->be) : 0;
}

bool hdm__ifd_read(hdm__read_at read, void *ctx, bool be, uint64_t off, size_t max,
                   hdm__ifd *out)
{
    out->be = be;
    unsigned char b[12];
    if (off & 1 || !read(ctx, off, b, 2))
        return false;
    uint32_t count = get16(b, be);
    if (count > ENTRIES_MAX)
        count = ENTRIES_MAX; /* EXIF's own IFDs have a few dozen: the rest is left out */
    size_t total = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (!read(ctx, off + 2 + 12 * (uint64_t)i, b, 12))
            return false;
        uint16_t tag = (uint16_t)get16(b, be), type = (uint16_t)get16(b + 2, be);
        uint32_t n = get32(b + 4, be);
        unsigned vs = value_size(type);
        if (!vs || n > max / vs || (size_t)n * vs > max - total)
            continue; /* a type a classic IFD cannot hold, or past the bound: left out */
        size_t size = (size_t)n * vs;
        unsigned char *data = malloc(size ? size : 1);
        if (!data)
            return false;
        if (size <= 4)
            memcpy(data, b + 8, size);
        else if (!read(ctx, get32(b + 8, be), data, size)) {
            free(data); /* a value outside the data: that entry is left out */
            continue;
        }
        bool ok = hdm__ifd_set(out, tag, type, n, data);
        free(data);
        if (!ok)
            return false;
        total += size;
    }
    return true;
}

uint64_t hdm__ifd_bytes(const hdm__ifd *d)
{
    uint64_t n = 2 + 12 * (uint64_t)d->n + 4;
    for (size_t i = 0; i < d->n; i++)
        if (d->e[i].size > 4)
            n += (d->e[i].size + 1) & ~(size_t)1; /* each value at an even offset */
    return n;
}

void hdm__ifd_put(const hdm__ifd *d, bool be, uint64_t at, unsigned char *dst)
{
    put16(dst, be, (uint32_t)d->n);
    uint64_t data = 2 + 12 * (uint64_t)d->n + 4;
    for (size_t i = 0; i < d->n; i++) {
        const hdm__ifd_entry *e = &d->e[i];
        unsigned char *ent = dst + 2 + 12 * i;
        put16(ent, be, e->tag);
        put16(ent + 2, be, e->type);
        put32(ent + 4, be, e->count);
        memset(ent + 8, 0, 4);
        unsigned char *v = ent + 8;
        if (e->size > 4) {
            put32(ent + 8, be, (uint32_t)(at + data));
            v = dst + data;
            if (e->size & 1)
                v[e->size] = 0;
            data += (e->size + 1) & ~(size_t)1;
        }
        unsigned u = unit_of(e->type);
        for (size_t k = 0; k < e->size; k += u)
            for (unsigned j = 0; j < u; j++)
                v[k + j] = e->data[k + (be == d->be ? j : u - 1 - j)];
    }
    put32(dst + 2 + 12 * d->n, be, 0);
}

/* ---- the self-contained block ---- */

typedef struct blob_in {
    const unsigned char *p;
    size_t n;
} blob_in;

static bool blob_read(void *ctx, uint64_t off, void *buf, size_t n)
{
    const blob_in *b = ctx;
    if (off > b->n || n > b->n - off)
        return false;
    memcpy(buf, b->p + off, n);
    return true;
}

bool hdm__exif_has_next_ifd(const unsigned char *exif, size_t n)
{
    if (n < 8 || (memcmp(exif, "MM\0*", 4) && memcmp(exif, "II*\0", 4)))
        return false;
    bool be = exif[0] == 'M';
    uint64_t off = get32(exif + 4, be);
    if (off + 2 > n)
        return false;
    uint64_t at = off + 2 + 12 * (uint64_t)get16(exif + off, be);
    return at + 4 <= n && get32(exif + at, be) != 0;
}

bool hdm__exif_split(const unsigned char *exif, size_t n, hdm__ifd *ifd0, hdm__ifd *sub,
                     hdm__ifd *gps)
{
    memset(ifd0, 0, sizeof *ifd0);
    memset(sub, 0, sizeof *sub);
    memset(gps, 0, sizeof *gps);
    if (n < 8 || (memcmp(exif, "MM\0*", 4) && memcmp(exif, "II*\0", 4)))
        return false;
    bool be = exif[0] == 'M';
    blob_in in = {exif, n};
    if (!hdm__ifd_read(blob_read, &in, be, get32(exif + 4, be), n, ifd0))
        goto bad;
    sub->be = gps->be = be;
    uint32_t off = hdm__ifd_short(ifd0, HDM_TAG_EXIF_IFD);
    if (off && !hdm__ifd_read(blob_read, &in, be, off, n, sub))
        goto bad;
    off = hdm__ifd_short(ifd0, HDM_TAG_GPS_IFD);
    if (off && !hdm__ifd_read(blob_read, &in, be, off, n, gps))
        goto bad;
    return true;
bad:
    hdm__ifd_free(ifd0);
    hdm__ifd_free(sub);
    hdm__ifd_free(gps);
    return false;
}

bool hdm__exif_join(hdm__ifd *ifd0, const hdm__ifd *sub, const hdm__ifd *gps,
                    unsigned char **out, size_t *size)
{
    *out = NULL;
    *size = 0;
    bool be = ifd0->be;
    /* the pointers first, so IFD0's size counts them */
    if ((sub->n && !hdm__ifd_set_long(ifd0, HDM_TAG_EXIF_IFD, 0)) ||
        (gps->n && !hdm__ifd_set_long(ifd0, HDM_TAG_GPS_IFD, 0)))
        return false;
    if (!sub->n)
        hdm__ifd_remove(ifd0, HDM_TAG_EXIF_IFD);
    if (!gps->n)
        hdm__ifd_remove(ifd0, HDM_TAG_GPS_IFD);
    uint64_t at0 = 8, at_sub = at0 + hdm__ifd_bytes(ifd0);
    uint64_t at_gps = at_sub + (sub->n ? hdm__ifd_bytes(sub) : 0);
    uint64_t end = at_gps + (gps->n ? hdm__ifd_bytes(gps) : 0);
    if (end > UINT32_MAX)
        return false;
    if ((sub->n && !hdm__ifd_set_long(ifd0, HDM_TAG_EXIF_IFD, (uint32_t)at_sub)) ||
        (gps->n && !hdm__ifd_set_long(ifd0, HDM_TAG_GPS_IFD, (uint32_t)at_gps)))
        return false;
    unsigned char *b = calloc(1, (size_t)end);
    if (!b)
        return false;
    memcpy(b, be ? "MM\0*" : "II*\0", 4);
    put32(b + 4, be, 8);
    hdm__ifd_put(ifd0, be, at0, b + at0);
    if (sub->n)
        hdm__ifd_put(sub, be, at_sub, b + at_sub);
    if (gps->n)
        hdm__ifd_put(gps, be, at_gps, b + at_gps);
    *out = b;
    *size = (size_t)end;
    return true;
}
