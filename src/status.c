/* status.c — status names, error details, version and option defaults */
#include "internal.h"

#include <stdarg.h>
#include <string.h>

#define HDM_STR_(x) #x
#define HDM_STR(x) HDM_STR_(x)
const char *hdm_version(void)
{
    return HDM_STR(HDM_VERSION_MAJOR) "." HDM_STR(HDM_VERSION_MINOR) "." HDM_STR(HDM_VERSION_PATCH);
}

const char *hdm_strerror(hdm_status st)
{
    static const char *const names[HDM_STATUS_COUNT] = {
        [HDM_OK] = "success",
        [HDM_ERR_ARG] = "invalid argument",
        [HDM_ERR_NOMEM] = "out of memory",
        [HDM_ERR_IO] = "input/output error",
        [HDM_ERR_FORMAT] = "unsupported format",
        [HDM_ERR_CORRUPT] = "corrupt or truncated data",
        [HDM_ERR_LIMIT] = "image exceeds a limit",
        [HDM_ERR_SHAPE] = "operands differ in shape",
        [HDM_ERR_SAME_FILE] = "output would overwrite an input",
        [HDM_ERR_INTERRUPTED] = "interrupted",
    };
    if ((unsigned)st >= HDM_STATUS_COUNT)
        return "unknown status";
    return names[st];
}

hdm_status hdm__fail(hdm_error *err, hdm_status st, const char *path, const char *fmt, ...)
{
    if (!err)
        return st;
    err->status = st;
    size_t off = 0;
    if (path) {
        int k = snprintf(err->message, sizeof err->message, "%s: ", path);
        off = k < 0 ? 0 : (size_t)k < sizeof err->message ? (size_t)k : sizeof err->message - 1;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message + off, sizeof err->message - off, fmt, ap);
    va_end(ap);
    /* The message is one line whatever a path or a step holds (file names may contain a
     * newline; a step string is anyone's): control characters show as '?', as ls shows them. */
    for (char *c = err->message; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    return st;
}

void hdm_options_init(hdm_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->size = sizeof *opt;
    opt->max_pixels = (uint64_t)1 << 28;
    opt->max_width = 1u << 20;
    opt->max_height = 1u << 20;
    opt->max_memory = (uint64_t)4 << 30;
    opt->png_level = -1;
    opt->png_filter = HDM_PNG_FILTER_DEFAULT;
    opt->jpeg_quality = 90;
    opt->strip_rows = 0;
}

void hdm__options_get(const hdm_options *caller, hdm_options *out)
{
    hdm_options_init(out);
    if (!caller)
        return;
    /* A caller built against an older, smaller struct gives only its prefix. */
    size_t n = caller->size < sizeof *out ? caller->size : sizeof *out;
    if (n > sizeof(size_t))
        memcpy((char *)out + sizeof(size_t), (const char *)caller + sizeof(size_t),
               n - sizeof(size_t));
    out->size = sizeof *out;
}

hdm_status hdm__options_load(const hdm_options *caller, hdm_options *out, hdm_error *err)
{
    hdm__options_get(caller, out);
    if (out->png_level < -1 || out->png_level > 9)
        return hdm__fail(err, HDM_ERR_ARG, NULL,
                         "hdm_options: png_level must be -1 (default) or 0..9, not %d",
                         out->png_level);
    if ((unsigned)out->png_filter > HDM_PNG_FILTER_ADAPTIVE)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_options: unknown png_filter %d",
                         (int)out->png_filter);
    if (out->jpeg_quality < 1 || out->jpeg_quality > 100)
        return hdm__fail(err, HDM_ERR_ARG, NULL,
                         "hdm_options: jpeg_quality must be from 1 to 100, not %d",
                         out->jpeg_quality);
    return HDM_OK;
}
