/* SPDX-License-Identifier: MIT */
/* fuzz.h — what the fuzz targets share: their entry point, limits, and a checked abort */
#ifndef HDM_FUZZ_H
#define HDM_FUZZ_H

#include "hadamard.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Limits well below the defaults, so a file the limits accept decodes in milliseconds and any
 * allocation far above them (libFuzzer's -malloc_limit_mb) is a limit that did not hold. */
static inline void hdm_fuzz_options(hdm_options *o)
{
    hdm_options_init(o);
    o->max_pixels = 1u << 20;
    o->max_width = 1u << 14;
    o->max_height = 1u << 14;
    o->max_memory = 32u << 20;
}

/* A broken promise: report it and abort, so libFuzzer keeps the input. */
#define HDM_FUZZ_CHECK(cond)                                                                  \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);          \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* A failed call must leave a one-line message and a status that is an error. */
static inline void hdm_fuzz_check_error(hdm_status st, const hdm_error *e)
{
    HDM_FUZZ_CHECK(st > HDM_OK && st <= HDM_ERR_INTERRUPTED);
    HDM_FUZZ_CHECK(e->status == st);
    HDM_FUZZ_CHECK(e->message[0] != '\0');
    HDM_FUZZ_CHECK(strchr(e->message, '\n') == NULL);
}

/* What the command's cli_say wrote (to a stream given by cli_say_to): every line must read
 * "hadamard: " and a non-empty message, and nothing may follow the last newline. Returns the
 * number of lines. */
static inline size_t hdm_fuzz_count_said(const char *buf, size_t len)
{
    static const char tag[] = "hadamard: ";
    size_t n = 0;
    for (const char *p = buf, *end = buf + len; p < end; n++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        HDM_FUZZ_CHECK(nl && (size_t)(nl - p) > sizeof tag - 1);
        HDM_FUZZ_CHECK(memcmp(p, tag, sizeof tag - 1) == 0 && !memchr(p, '\0', (size_t)(nl - p)));
        p = nl + 1;
    }
    return n;
}

#endif
