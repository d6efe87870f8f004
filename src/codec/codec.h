/* SPDX-License-Identifier: MIT */
/* codec.h — the codec table: one entry per format, and what opens inputs and outputs by it */
#ifndef HDM_CODEC_H
#define HDM_CODEC_H

#include "stream/stream.h"

#include <stdio.h>

/* One format: its public description and its code. Each is defined beside its codec
 * (png.c, stb.c) and listed once in table.c; everything that names formats reads the table.
 * Every function gets its own entry as c, so one codec can serve several formats. */
typedef struct hdm__codec hdm__codec;
struct hdm__codec {
    hdm_codec_info pub;
    /* true when head, a file's first n bytes (at least 32 when it has them), starts a file of
     * this format */
    bool (*sniff)(const unsigned char *head, size_t n);
    /* sniff checks that header fields are plausible, not a signature (TGA has none): tried
     * only after every format that has one */
    bool sniff_last;
    /* Reads the header only, no pixels, checking it against the limits; takes f. Fills what it
     * knows of detail (zeroed before; never NULL): stored form and metadata sizes, the
     * Orientation tag as stored. */
    hdm_status (*info)(const hdm__codec *c, FILE *f, const char *path, const hdm_options *opt,
                       hdm_info *out, hdm_file_info *detail, hdm_error *err);
    /* A source streaming from f (takes f), or NULL: then the file is read whole and given to
     * source_memory. */
    hdm_status (*source)(const hdm__codec *c, FILE *f, const char *path,
                         const hdm_options *opt, hdm__source **out, hdm_error *err);
    /* A source over encoded bytes (borrowed; they must outlive the source). */
    hdm_status (*source_memory)(const hdm__codec *c, const void *data, size_t size,
                                const char *path, const hdm_options *opt, hdm__source **out,
                                hdm_error *err);
    /* A sink encoding into b an image described by info, whose depth is one pub.depths has,
     * writing what of meta (never NULL; the parts the caller keeps) the format can hold, one
     * notice through opt for a part it cannot; NULL when the format is not written. */
    hdm_status (*sink)(const hdm__codec *c, const hdm_info *info, const hdm_options *opt,
                       const hdm__meta *meta, hdm__bytes *b, const char *path,
                       hdm__sink **out, hdm_error *err);
};

/* The i-th entry of the table, or NULL past the last. */
const hdm__codec *hdm__codec_at(size_t i);
/* The entry of format f, or NULL (HDM_FORMAT_UNKNOWN, a value outside hdm_format). */
const hdm__codec *hdm__codec_of(hdm_format f);

/* Format detection from leading bytes, in the table's order (those with sniff_last last). */
hdm_format hdm__detect(const unsigned char *head, size_t n);

/* fmt is a format this library writes (an output extension selects it). */
bool hdm__format_writable(hdm_format fmt);

/* The output extensions, for messages: ".png, .jpg, .jpeg, .bmp, .tga or .hdr". */
void hdm__output_extensions(char *buf, size_t cap);

/* Opens a file as a source, choosing the decoder from its first bytes; checks limits. The
 * source is upright (hdm__source_orient over the decoder's, the EXIF tag rewritten as 1) unless
 * opt->no_rotate: images and operands alike, the same size hdm__info_open says. */
hdm_status hdm__source_open(const char *path, const hdm_options *opt, hdm__source **out,
                            hdm_error *err);
/* Reads a file's header only (no pixels decoded), checking it against the limits; out is the
 * size it decodes to (upright unless opt->no_rotate). detail, when not NULL, gets the stored
 * form and metadata. */
hdm_status hdm__info_open(const char *path, const hdm_options *opt, hdm_info *out,
                          hdm_file_info *detail, hdm_error *err);
/* The same for encoded bytes in memory (borrowed for the call); name is used in messages. */
hdm_status hdm__info_open_memory(const void *data, size_t size, const char *name,
                                 const hdm_options *opt, hdm_info *out, hdm_file_info *detail,
                                 hdm_error *err);
/* Opens an in-memory buffer (borrowed; must outlive the source), upright as hdm__source_open.
 * name is used in messages. */
hdm_status hdm__source_open_memory(const void *data, size_t size, const char *name,
                                   const hdm_options *opt, hdm__source **out, hdm_error *err);

/* The depth format fmt stores for samples of depth d: d when its entry's depths have it, else
 * the next deeper one they have, else the deepest (PNG: u8/u16, HDR: f32, others u8). */
hdm_depth hdm__format_depth(hdm_format fmt, hdm_depth d);

/* Opens a sink writing format fmt into b, for an image described by in (depth is adjusted to
 * what the format holds: sink->info says what strips must be), with meta (NULL: none) less
 * the parts opt->strip_meta leaves out. */
hdm_status hdm__sink_open(hdm_format fmt, const hdm_info *in, const hdm_options *opt,
                          const hdm__meta *meta, hdm__bytes *b, const char *path,
                          hdm__sink **out, hdm_error *err);

/* PNG's encoder (png_write.c), for its entry in png.c. */
hdm_status hdm__png_sink(const hdm__codec *c, const hdm_info *info, const hdm_options *opt,
                         const hdm__meta *meta, hdm__bytes *b, const char *path,
                         hdm__sink **out, hdm_error *err);

#endif
