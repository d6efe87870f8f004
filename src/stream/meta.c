/* SPDX-License-Identifier: MIT */
/* meta.c — the metadata beside a source's pixels: who holds it, copies and filtered views */
#include "stream/meta.h"

#include <stdlib.h>
#include <string.h>

void hdm__meta_free(hdm__meta *m)
{
    free(m->icc);
    free(m->exif);
    free(m->xmp);
    free(m->xmp_ext);
    memset(m, 0, sizeof *m);
}

void hdm__meta_move(hdm__meta *to, hdm__meta *from)
{
    hdm__meta_free(to);
    *to = *from;
    memset(from, 0, sizeof *from);
}

bool hdm__meta_set(unsigned char **dst, size_t *dst_size, const void *src, size_t n)
{
    free(*dst);
    *dst = NULL;
    *dst_size = 0;
    if (!n)
        return true;
    if (!(*dst = malloc(n)))
        return false;
    memcpy(*dst, src, n);
    *dst_size = n;
    return true;
}

hdm__meta hdm__meta_filtered(const hdm__meta *m, unsigned strip)
{
    hdm__meta v = *m;
    if (strip & HDM_META_ICC)
        v.icc = NULL, v.icc_size = 0;
    if (strip & HDM_META_EXIF) /* the Orientation tag is EXIF's, a TIFF's own one too */
        v.exif = NULL, v.exif_size = 0, v.orientation = 0;
    if (strip & HDM_META_XMP)
        v.xmp = NULL, v.xmp_size = 0, v.xmp_ext = NULL, v.xmp_ext_size = 0;
    if (strip & HDM_META_COLOR)
        v.srgb_intent = 0, v.gamma = 0, v.has_chrm = false;
    if (strip & HDM_META_RESOLUTION)
        v.res_x = v.res_y = 0, v.res_unit = 0;
    return v;
}
