/* SPDX-License-Identifier: MIT */
/* pipeline.h — what the two entry files (pipeline.c, api.c) share: options, output, encoding */
#ifndef HDM_PIPELINE_H
#define HDM_PIPELINE_H

#include "codec/codec.h"
#include "ops/ops.h"

/* hdm__options_load, plus an out_format this library writes. */
hdm_status hdm__entry_options(const hdm_options *caller, hdm_options *out, hdm_error *err);

/* The format to write path in: want (opt->out_format) unless HDM_FORMAT_UNKNOWN, else the
 * extension's; an extension naming another format than want is refused. */
hdm_status hdm__output_format(const char *path, hdm_format want, hdm_format *fmt,
                              hdm_error *err);

/* Encodes every row of src as fmt into b. Takes src (closed on every path). */
hdm_status hdm__encode(hdm__source *src, hdm_format fmt, const hdm_options *opt, hdm__bytes *b,
                       const char *path, hdm_error *err);

/* Encodes src into path through a temporary output, renamed into place only on success.
 * Takes src. */
hdm_status hdm__write_file(hdm__source *src, hdm_format fmt, const char *path,
                           const hdm_options *opt, hdm_error *err);

/* Pulls every row of src into a new image *out. Takes src. */
hdm_status hdm__run_to_image(hdm__source *src, const hdm_options *opt, hdm_image **out,
                             hdm_error *err);

#endif
