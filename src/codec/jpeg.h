/* SPDX-License-Identifier: MIT */
/* jpeg.h — what JPEG's reader (jpeg.c) and writer (jpeg_write.c) share: libjpeg's errors
 * (jpeg_fail.c) */
#ifndef HDM_CODEC_JPEG_H
#define HDM_CODEC_JPEG_H

#include "codec/codec.h"

#include <setjmp.h>
#include <stdio.h>
#include <jpeglib.h>

/* libjpeg reports an error by calling error_exit, which must not return (libjpeg.txt, "Error
 * handling"): ours keeps the message and longjmps to the caller's jump point. A warning
 * (emit_message at level -1: corrupt data, data ending early) is taken as an error too, so a
 * damaged file is refused rather than decoded with gaps; nothing is ever printed. Each function
 * calling into libjpeg sets jump itself, and keeps in locals nothing it changes after setjmp. */
typedef struct hdm__jpeg_fail {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int code;                    /* libjpeg's message code, or -1: stopped by opt->cancel */
    const volatile int *cancel;  /* checked by the progress monitor (reading) */
    char msg[JMSG_LENGTH_MAX];
} hdm__jpeg_fail;

/* Fills f's handlers and returns what cinfo.err takes. */
struct jpeg_error_mgr *hdm__jpeg_fail_init(hdm__jpeg_fail *f);

/* The status and message for what f caught: running out of memory, libjpeg's own memory limit
 * (max_memory), truncation, a cancel, or corrupt data; what says what was being done
 * ("corrupt JPEG", "cannot write JPEG"). */
hdm_status hdm__jpeg_failed(const hdm__jpeg_fail *f, const char *path, const char *what,
                            uint64_t max_memory, hdm_error *err);

/* JPEG's encoder (jpeg_write.c), for its entry in jpeg.c. */
hdm_status hdm__jpeg_sink(const hdm__codec *c, const hdm_info *info, const hdm_options *opt,
                          const hdm__meta *meta, hdm__bytes *b, const char *path,
                          hdm__sink **out, hdm_error *err);

/* Re-codes a baseline JPEG (in, n bytes: SOF0, one scan) with Huffman tables optimised for its
 * scan (ITU-T T.81 Annex K.2), into out: the same coefficients, the same segments, only the
 * tables and the entropy-coded data change (jpeg_huff.c). A file it does not re-code
 * (progressive, several scans, ...) is put out as it is; a damaged one is refused with
 * HDM_ERR_CORRUPT naming path. */
hdm_status hdm__jpeg_optimize(const unsigned char *in, size_t n, hdm__bytes *out,
                              const char *path, hdm_error *err);

/* libjpeg's own memory limit (libjpeg.txt, "Memory usage"), from max_memory. */
long hdm__jpeg_memory_cap(const hdm_options *opt);

#endif
