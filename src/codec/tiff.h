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

/* TIFF's encoder (tiff_write.c), for its entry in tiff.c. */
hdm_status hdm__tiff_sink(const hdm__codec *c, const hdm_info *info, const hdm_options *opt,
                          const hdm__meta *meta, hdm__bytes *b, const char *path,
                          hdm__sink **out, hdm_error *err);

#endif
