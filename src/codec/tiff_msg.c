/* SPDX-License-Identifier: MIT */
/* tiff_msg.c — libtiff's errors and warnings caught on each handle, never printed */
#include "codec/tiff.h"

#include <stdio.h>

static int on_message(TIFF *tif, void *ctx, const char *module, const char *fmt, va_list ap,
                      bool error)
{
    (void)tif;
    (void)module;
    hdm__tiff_msg *m = ctx;
    if ((error || m->decoding) && !m->failed) {
        m->failed = true;
        vsnprintf(m->text, sizeof m->text, fmt, ap);
    } else if (!m->failed && !m->text[0]) {
        vsnprintf(m->text, sizeof m->text, fmt, ap);
    }
    return 1; /* handled: libtiff's global handlers (stderr) are not called */
}

static int on_error(TIFF *tif, void *ctx, const char *module, const char *fmt, va_list ap)
{
    return on_message(tif, ctx, module, fmt, ap, true);
}

static int on_warning(TIFF *tif, void *ctx, const char *module, const char *fmt, va_list ap)
{
    return on_message(tif, ctx, module, fmt, ap, false);
}

TIFFOpenOptions *hdm__tiff_options(hdm__tiff_msg *m, uint64_t max_memory)
{
    TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
    if (!o)
        return NULL;
    TIFFOpenOptionsSetErrorHandlerExtR(o, on_error, m);
    TIFFOpenOptionsSetWarningHandlerExtR(o, on_warning, m);
    tmsize_t cap = max_memory > (uint64_t)(INT64_MAX / 2) ? (tmsize_t)(INT64_MAX / 2)
                                                         : (tmsize_t)max_memory;
    TIFFOpenOptionsSetMaxSingleMemAlloc(o, cap);
    return o;
}
