/* SPDX-License-Identifier: MIT */
/* status.c — status names, error details, version and option defaults */
#include "core/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HDM_STR_(x) #x
#define HDM_STR(x) HDM_STR_(x)
const char *hdm_version(void)
{
    return HDM_STR(HDM_VERSION_MAJOR) "." HDM_STR(HDM_VERSION_MINOR) "." HDM_STR(HDM_VERSION_PATCH);
}

const char *hdm_strerror(hdm_status st)
{
    static const char *const names[HDM__STATUS_COUNT] = {
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
    if ((unsigned)st >= HDM__STATUS_COUNT)
        return "unknown status";
    return names[st];
}

/* Bytes of s from the start (head) or up to the end (tail) that fit in n without cutting a
 * UTF-8 sequence. */
static size_t utf8_head(const char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

static size_t utf8_tail(const char *s, size_t len, size_t n)
{
    while (n > 0 && ((unsigned char)s[len - n] & 0xc0) == 0x80)
        n--;
    return n;
}

/* Copies the len bytes of full into msg (cap bytes). What does not fit loses its middle (all
 * but its first 300 bytes and as much of its end as fits): the
 * start names the file or step, and the end holds the reason, the list of choices or the
 * did-you-mean, which must survive whatever long value sits between them. */
static void shorten_into(char *msg, size_t cap, const char *full, size_t len)
{
    enum { HEAD = 300 }; /* the rest of the room goes to the end */
    static const char ell[] = "\xe2\x80\xa6"; /* U+2026 */
    _Static_assert(HEAD + sizeof ell + 600 <= sizeof ((hdm_error *)0)->message,
                   "at least 600 bytes of the end are kept");
    if (len < cap) {
        memcpy(msg, full, len + 1);
        return;
    }
    size_t head = utf8_head(full, HEAD);
    size_t tail = utf8_tail(full, len, cap - 1 - HEAD - (sizeof ell - 1));
    memcpy(msg, full, head);
    memcpy(msg + head, ell, sizeof ell - 1);
    memcpy(msg + head + sizeof ell - 1, full + len - tail, tail);
    msg[head + sizeof ell - 1 + tail] = '\0';
}

hdm_status hdm__fail(hdm_error *err, hdm_status st, const char *path, const char *fmt, ...)
{
    if (!err)
        return st;
    err->status = st;
    /* The whole "PATH: reason" is formatted first, however long, then fitted. */
    char local[4096];
    int pre = path ? snprintf(local, sizeof local, "%s: ", path) : 0;
    char *full = local;
    if (pre < 0)
        pre = 0;
    va_list ap;
    va_start(ap, fmt);
    int r = (size_t)pre < sizeof local ? vsnprintf(local + pre, sizeof local - (size_t)pre, fmt, ap)
                                       : vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (r < 0)
        r = 0;
    size_t len = (size_t)pre + (size_t)r;
    if (len >= sizeof local) {
        char *big = malloc(len + 1);
        if (big) {
            if (path)
                snprintf(big, len + 1, "%s: ", path);
            va_start(ap, fmt);
            vsnprintf(big + pre, len + 1 - (size_t)pre, fmt, ap);
            va_end(ap);
            full = big;
        } else {
            len = strlen(local); /* out of memory: the start is what is left */
        }
    }
    shorten_into(err->message, sizeof err->message, full, len);
    if (full != local)
        free(full);
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
    opt->jpeg_subsample = HDM_JPEG_SUBSAMPLE_AUTO;
    opt->background = 0xffffff;
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
    /* a size of 0 is options nobody initialised: taking them as defaults would hide that */
    if (caller && caller->size == 0)
        return hdm__fail(err, HDM_ERR_ARG, NULL,
                         "hdm_options: size is 0 (initialise the options with hdm_options_init)");
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
    if ((unsigned)out->jpeg_subsample > HDM_JPEG_SUBSAMPLE_420)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_options: unknown jpeg_subsample %d",
                         (int)out->jpeg_subsample);
    if ((unsigned)out->tiff_compression > HDM_TIFF_JPEG)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_options: unknown tiff_compression %d",
                         (int)out->tiff_compression);
    if (out->background > 0xffffff)
        return hdm__fail(err, HDM_ERR_ARG, NULL,
                         "hdm_options: background must be 0xRRGGBB (at most 0xffffff), not 0x%x",
                         (unsigned)out->background);
    if (out->threads > HDM__MAX_THREADS)
        return hdm__fail(err, HDM_ERR_ARG, NULL,
                         "hdm_options: threads must be 0 (the cores available) or 1..%d, not %u",
                         HDM__MAX_THREADS, (unsigned)out->threads);
    if (out->threads == 0)
        out->threads = hdm__cores_available();
    if ((unsigned)out->out_format >= HDM__FORMAT_COUNT)
        return hdm__fail(err, HDM_ERR_ARG, NULL,
                         "hdm_options: out_format %d is not a format hadamard writes",
                         (int)out->out_format);
    return HDM_OK;
}

void hdm_free(void *buffer)
{
    free(buffer);
}

char *hdm__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

void hdm__fail_prefix(hdm_error *err, hdm_status st, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[512], msg[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(msg, err->message, sizeof msg);
    hdm__fail(err, st, NULL, "%s%s", prefix, msg);
}
