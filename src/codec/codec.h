/* codec.h — the formats: detection, opening inputs, header readers, encoders */
#ifndef HDM_CODEC_H
#define HDM_CODEC_H

#include "stream/stream.h"

#include <stdio.h>

/* Format detection from leading bytes. */
hdm_format hdm__detect(const unsigned char *head, size_t n);

/* fmt is a format this library writes (an output extension selects it). */
bool hdm__format_writable(hdm_format fmt);

/* Opens a file as a source, choosing the decoder from its first bytes; checks limits. */
hdm_status hdm__source_open(const char *path, const hdm_options *opt, hdm__source **out,
                            hdm_error *err);
/* Reads a file's header only (no pixels decoded), checking it against the limits. */
hdm_status hdm__info_open(const char *path, const hdm_options *opt, hdm_info *out,
                          hdm_error *err);
/* The same for encoded bytes in memory (borrowed for the call); name is used in messages. */
hdm_status hdm__info_open_memory(const void *data, size_t size, const char *name,
                                 const hdm_options *opt, hdm_info *out, hdm_error *err);
/* Opens an in-memory buffer (borrowed; must outlive the source). name is used in messages. */
hdm_status hdm__source_open_memory(const void *data, size_t size, const char *name,
                                   const hdm_options *opt, hdm__source **out, hdm_error *err);

/* PNG source: streams rows through libpng (whole image only when interlaced). */
hdm_status hdm__png_source(FILE *f, const char *path, const hdm_options *opt,
                           hdm__source **out, hdm_error *err);
hdm_status hdm__png_source_memory(const void *data, size_t size, const char *name,
                                  const hdm_options *opt, hdm__source **out, hdm_error *err);
/* Header readers; they take f. */
hdm_status hdm__png_info(FILE *f, const char *path, const hdm_options *opt, hdm_info *out,
                         hdm_error *err);
hdm_status hdm__stb_info(FILE *f, const char *path, const hdm_options *opt, hdm_info *out,
                         hdm_error *err);
/* stb_image source: decodes the whole image (after checking its header against the limits). */
hdm_status hdm__stb_source(const void *data, size_t size, const char *path,
                           const hdm_options *opt, hdm__source **out, hdm_error *err);

/* The depth a format stores for samples of depth d (PNG: u8/u16, HDR: f32, others u8). */
hdm_depth hdm__format_depth(hdm_format fmt, hdm_depth d);

/* Opens a sink writing format fmt into b, for an image described by in (depth is adjusted to
 * what the format holds: sink->info says what strips must be). */
hdm_status hdm__sink_open(hdm_format fmt, const hdm_info *in, const hdm_options *opt,
                          hdm__bytes *b, const char *path, hdm__sink **out, hdm_error *err);

hdm_status hdm__png_sink(const hdm_info *info, const hdm_options *opt, hdm__bytes *b,
                         const char *path, hdm__sink **out, hdm_error *err);
hdm_status hdm__stb_sink(hdm_format fmt, const hdm_info *info, const hdm_options *opt,
                         hdm__bytes *b, const char *path, hdm__sink **out, hdm_error *err);

#endif
