/* SPDX-License-Identifier: MIT */
/* meta.h — the metadata that rides beside a source's pixels: ICC, EXIF, XMP, colour, density */
#ifndef HDM_META_H
#define HDM_META_H

#include "core/core.h"

/* Everything here is owned by the struct (hdm__meta_free releases it); all zero is empty. Codec sources fill it
 * from the file as they open it; the pipeline takes the main input's and hands it to the sink,
 * which writes what its format can hold. */
typedef struct hdm__meta {
    unsigned char *icc;  size_t icc_size;   /* the ICC profile, bytes as in the file */
    unsigned char *exif; size_t exif_size;  /* EXIF from its TIFF header ("II*\0" / "MM\0*"),
                                             * without JPEG's "Exif\0\0" */
    unsigned char *xmp;  size_t xmp_size;   /* the XMP packet (UTF-8 XML) */
    /* extended XMP (XMP Specification Part 3, 1.1.3.1): the bytes a JPEG splits over APP1
     * markers when XMP passes 64 KB, joined, and the GUID (32 hex digits, their MD5) that
     * names them; the main packet's xmpNote:HasExtendedXMP gives it too */
    unsigned char *xmp_ext; size_t xmp_ext_size;
    char xmp_guid[33];
    /* PNG colour chunks (HDM_META_COLOR) */
    int srgb_intent;         /* 1 + the rendering intent (1..4) when sRGB was given, else 0 */
    uint32_t gamma;          /* gAMA × 100000, 0 when none */
    bool has_chrm;
    uint32_t chrm[8];        /* cHRM × 100000: white x,y, red x,y, green x,y, blue x,y */
    /* density (HDM_META_RESOLUTION) */
    double res_x, res_y;     /* pixels per unit, 0 when none */
    uint32_t res_unit;       /* 0: aspect only, 1: per inch, 2: per centimetre */
    /* the EXIF Orientation of the pixels as the source yields them, 1..8; 0 when none */
    uint32_t orientation;
} hdm__meta;

void hdm__meta_free(hdm__meta *m);
/* Moves *from into *to (freed first); *from is left empty. */
void hdm__meta_move(hdm__meta *to, hdm__meta *from);
/* Copies n bytes into a new buffer at *dst (freeing what was there); false when out of memory. */
bool hdm__meta_set(unsigned char **dst, size_t *dst_size, const void *src, size_t n);
/* A view of m without the parts strip names (HDM_META_* bits): the buffers stay m's. */
hdm__meta hdm__meta_filtered(const hdm__meta *m, unsigned strip);

#endif
