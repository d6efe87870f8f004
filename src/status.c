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

/* Appends n bytes of s at *w, short of end. */
static void put(char **w, char *end, const char *s, size_t n)
{
    if (n > (size_t)(end - *w))
        n = (size_t)(end - *w);
    memcpy(*w, s, n);
    *w += n;
}

hdm_status hdm__fail(hdm_error *err, hdm_status st, const char *path, const char *fmt, ...)
{
    if (!err)
        return st;
    err->status = st;
    enum { CAP = sizeof err->message, MIN_PATH = 64 };
    char reason[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    size_t rlen = strlen(reason);
    if (path) {
        /* The reason is what the reader needs: a path too long for both loses its middle
         * ("first…last", its end kept, which names the file), never the reason's end. */
        size_t plen = strlen(path);
        size_t room = rlen + 2 < CAP - 1 - MIN_PATH ? CAP - 1 - rlen - 2 : MIN_PATH;
        static const char ell[] = "\xe2\x80\xa6"; /* U+2026 */
        size_t head = plen, tail = 0;
        if (plen > room) {
            size_t keep = room - (sizeof ell - 1);
            tail = utf8_tail(path, plen, keep - keep / 3);
            head = utf8_head(path, keep / 3);
        }
        char *w = err->message, *end = err->message + CAP - 1;
        put(&w, end, path, head);
        if (plen > room) {
            put(&w, end, ell, sizeof ell - 1);
            put(&w, end, path + plen - tail, tail);
        }
        put(&w, end, ": ", 2);
        put(&w, end, reason, rlen);
        *w = '\0';
    } else {
        memcpy(err->message, reason, rlen + 1);
    }
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
