/* SPDX-License-Identifier: MIT */
/* tiff.h — what TIFF's reader (tiff.c) and writer (tiff_write.c) share: libtiff's messages
 * (tiff_msg.c) */
#ifndef HDM_CODEC_TIFF_H
#define HDM_CODEC_TIFF_H

#include "codec/codec.h"

#include <stdarg.h>
#include <tiffio.h>

/* libtiff says what went wrong through handlers given to each TIFF handle (TIFFOpenOptions,
 * libtiff 4.5): ours keep the first error's text for our message and print nothing. While
 * pixels are decoded a warning is an error too (libjpeg's "premature end of data", a fax
 * line of the wrong length): a damaged file is refused, not decoded with gaps. Warnings about
 * the directory (an unknown tag, a count trimmed) are recoverable oddities and only kept. */
typedef struct hdm__tiff_msg {
    char text[256];
    bool failed;   /* an error, or a warning while decoding */
    bool decoding; /* set once the header is read */
} hdm__tiff_msg;

/* The open options for a handle whose messages go to m, with libtiff's largest single
 * allocation capped at max_memory; NULL when out of memory. Freed by TIFFOpenOptionsFree. */
TIFFOpenOptions *hdm__tiff_options(hdm__tiff_msg *m, uint64_t max_memory);

/* ---- EXIF as TIFF holds it (tiff_exif.c) ----
 * A TIFF keeps EXIF in its own directories: tags of IFD0 (Orientation, Make, …) and two
 * sub-IFDs (EXIF, GPS) that IFD0 points at; hdm__meta.exif is a self-contained TIFF structure,
 * as a JPEG's APP1 holds. Entries move between the two as bytes. */

enum { HDM_TAG_EXIF_IFD = 0x8769, HDM_TAG_GPS_IFD = 0x8825, HDM_TAG_INTEROP_IFD = 0xa005 };

/* Reads n bytes at off into buf; false when they are not all there. */
typedef bool (*hdm__read_at)(void *ctx, uint64_t off, void *buf, size_t n);

typedef struct hdm__ifd_entry {
    uint16_t tag, type;
    uint32_t count;
    unsigned char *data; /* count values, size bytes, in the byte order of the IFD */
    size_t size;
} hdm__ifd_entry;

/* An IFD's entries, sorted by tag (all zero is empty; hdm__ifd_free releases it). */
typedef struct hdm__ifd {
    hdm__ifd_entry *e;
    size_t n;
    bool be; /* its values are big-endian */
} hdm__ifd;

/* Reads the classic IFD at off (byte order be) into out, whose values take at most max bytes;
 * an entry of a type a classic IFD cannot hold, past max, or whose value is not there is left
 * out. False when the IFD itself is not there or out of memory. */
bool hdm__ifd_read(hdm__read_at read, void *ctx, bool be, uint64_t off, size_t max,
                   hdm__ifd *out);
void hdm__ifd_free(hdm__ifd *d);
const hdm__ifd_entry *hdm__ifd_find(const hdm__ifd *d, uint16_t tag);
void hdm__ifd_remove(hdm__ifd *d, uint16_t tag);
/* Adds or replaces entry tag with a copy of count values (in d's byte order). */
bool hdm__ifd_set(hdm__ifd *d, uint16_t tag, uint16_t type, uint32_t count, const void *data);
bool hdm__ifd_set_short(hdm__ifd *d, uint16_t tag, uint32_t v);
bool hdm__ifd_set_long(hdm__ifd *d, uint16_t tag, uint32_t v);
/* The single SHORT, LONG or IFD value of tag, 0 when none. */
uint32_t hdm__ifd_short(const hdm__ifd *d, uint16_t tag);
/* Bytes d takes written: entries, the next IFD's offset, then the longer values (even). */
uint64_t hdm__ifd_bytes(const hdm__ifd *d);
/* Writes d at offset at of a file of byte order be into dst (hdm__ifd_bytes of them). */
void hdm__ifd_put(const hdm__ifd *d, bool be, uint64_t at, unsigned char *dst);

/* An EXIF block into IFD0 and its EXIF and GPS IFDs (empty when absent; the EXIF IFD keeps its
 * pointer to an Interoperability IFD, which is not read); false when it does not hold a TIFF
 * structure. */
/* Whether an EXIF block's IFD0 points to a next IFD (IFD1: the thumbnail). */
bool hdm__exif_has_next_ifd(const unsigned char *exif, size_t n);
bool hdm__exif_split(const unsigned char *exif, size_t n, hdm__ifd *ifd0, hdm__ifd *sub,
                     hdm__ifd *gps);
/* The reverse: a new block of ifd0 (its pointers set to where sub and gps go, those that are
 * not empty) in ifd0's byte order; false when out of memory. */
bool hdm__exif_join(hdm__ifd *ifd0, const hdm__ifd *sub, const hdm__ifd *gps,
                    unsigned char **out, size_t *size);

/* TIFF's encoder (tiff_write.c), for its entry in tiff.c. */
hdm_status hdm__tiff_sink(const hdm__codec *c, const hdm_info *info, const hdm_options *opt,
                          const hdm__meta *meta, hdm__bytes *b, const char *path,
                          hdm__sink **out, hdm_error *err);

#endif
