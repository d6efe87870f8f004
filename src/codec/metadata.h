/* SPDX-License-Identifier: MIT */
/* metadata.h — what the codecs share about metadata: fields read out of it, sinks' notices */
#ifndef HDM_CODEC_METADATA_H
#define HDM_CODEC_METADATA_H

#include "stream/meta.h"

/* EXIF (from its TIFF header): the Orientation tag of IFD0, 1..8, or 0 when there is none or the
 * data do not hold a valid one. Of duplicate entries the first counts, and only as a SHORT of
 * count 1 (EXIF 2.32). */
uint32_t hdm__exif_orientation(const unsigned char *exif, size_t n);
/* Rewrites every Orientation entry of IFD0 in place as a SHORT of count 1 holding v (1..8);
 * false when it has none. */
bool hdm__exif_set_orientation(unsigned char *exif, size_t n, uint32_t v);

/* True when g holds 32 hex digits, as an extended XMP GUID does (XMP part 3: an MD5 in hex). */
bool hdm__xmp_guid_ok(const unsigned char *g);
/* The GUID the main XMP packet names in xmpNote:HasExtendedXMP, into guid (NUL-ended); false
 * when it names none. */
bool hdm__xmp_extension_guid(const unsigned char *xmp, size_t n, char guid[33]);
/* The notice of a sink whose format holds one XMP packet, when m has an extension too:
 * merging the two into one RDF is not done. */
void hdm__xmp_extension_left_out(const hdm_options *opt, const char *path, const hdm__meta *m,
                                 const char *format);

/* An ICC profile's description ('desc' tag, v2 textDescription or v4 multiLocalizedUnicode,
 * ASCII only, others as '?') into buf (cap bytes, NUL-terminated); "" when it has none. */
void hdm__icc_description(const unsigned char *icc, size_t n, char *buf, size_t cap);

/* True when an ICC profile's data colour space (header bytes 16..19, ICC.1 7.2.6) is the one
 * of an image of channels channels: 'GRAY' for gray (with or without alpha), 'RGB ' for colour.
 * A CMYK or Lab profile, or a header too short to say, fits neither: writing it beside
 * pixels it does not describe would mislead every reader that applies it. */
bool hdm__icc_fits(const unsigned char *icc, size_t n, uint32_t channels);

/* Why an ICC profile's structure is broken, or NULL when it is sound: its header (ICC.1 7.2: the
 * declared size, the 'acsp' signature, the connection space, the class, the rendering intent)
 * and its tag table (ICC.1 7.3: every tag inside the profile). These are what libpng refuses
 * on reading an iCCP (png_icc_check_header, png_icc_check_tag_table), so a writer that checks
 * never stores a profile its own reader drops, or leaves a reader to trust a tag's offset. */
const char *hdm__icc_broken(const unsigned char *icc, size_t n);
/* True when m has an ICC profile and it is sound; a broken one is said through hdm__notice
 * ("PATH: ICC profile left out (broken: why)"), for the sink to leave out. */
bool hdm__icc_sound(const hdm_options *opt, const char *path, const hdm__meta *m);

/* Fills the metadata fields of d (sizes, the profile's description, Orientation, colour chunks,
 * density) from m. */
void hdm__meta_describe(const hdm__meta *m, hdm_file_info *d);

/* Says "PATH: what" through opt->notice when the caller gave one ("(memory output)" for a NULL
 * path): a part of the output left out or changed, for the caller to say. */
void hdm__notice(const hdm_options *opt, const char *path, const char *what);

#endif
