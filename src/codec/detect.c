/* SPDX-License-Identifier: MIT */
/* detect.c — file formats by the codec table: from the first bytes on input, from the name on
 * output */
#include "codec/codec.h"

#include <string.h>
#include <strings.h>

const hdm__codec *hdm__codec_of(hdm_format f)
{
    const hdm__codec *c;
    for (size_t i = 0; f != HDM_FORMAT_UNKNOWN && (c = hdm__codec_at(i)); i++)
        if (c->pub.format == f)
            return c;
    return NULL;
}

const char *hdm_format_name(hdm_format f)
{
    const hdm__codec *c = hdm__codec_of(f);
    return c ? c->pub.name : "unknown";
}

/* path's extension (after the last '.' of its last component), or NULL for none. */
static const char *extension(const char *path)
{
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    return dot && (!slash || dot > slash) ? dot + 1 : NULL;
}

/* The format whose output extensions (and, with read, whose input ones) include ext. */
static hdm_format format_of_extension(const char *ext, bool read)
{
    const hdm__codec *c;
    for (size_t i = 0; (c = hdm__codec_at(i)); i++) {
        for (const char *const *e = c->pub.extensions; *e; e++)
            if (strcasecmp(ext, *e) == 0)
                return c->pub.format;
        for (const char *const *e = c->pub.read_extensions; read && e && *e; e++)
            if (strcasecmp(ext, *e) == 0)
                return c->pub.format;
    }
    return HDM_FORMAT_UNKNOWN;
}

hdm_format hdm_format_from_name(const char *path)
{
    if (!path)
        return HDM_FORMAT_UNKNOWN;
    const char *ext = extension(path);
    return format_of_extension(ext ? ext : path, false); /* a bare name is an extension */
}

hdm_format hdm_format_named(const char *path)
{
    const char *ext = path ? extension(path) : NULL;
    return ext ? format_of_extension(ext, true) : HDM_FORMAT_UNKNOWN;
}

hdm_format hdm__detect(const unsigned char *h, size_t n)
{
    /* the formats with a signature first: their signatures exclude one another, and a
     * plausibility check (TGA's) must not take a file one of them names */
    for (int last = 0; last < 2; last++) {
        const hdm__codec *c;
        for (size_t i = 0; (c = hdm__codec_at(i)); i++)
            if (c->sniff_last == last && c->sniff(h, n))
                return c->pub.format;
    }
    return HDM_FORMAT_UNKNOWN;
}

hdm_format hdm_format_sniff(const void *head, size_t n)
{
    return head ? hdm__detect(head, n) : HDM_FORMAT_UNKNOWN;
}

void hdm__output_extensions(char *buf, size_t cap)
{
    const char *ext[64];
    size_t n = 0, len = 0;
    const hdm__codec *c;
    for (size_t i = 0; (c = hdm__codec_at(i)); i++)
        for (const char *const *e = c->pub.extensions; *e && n < 64; e++)
            ext[n++] = *e;
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < cap; i++) {
        int k = snprintf(buf + len, cap - len, "%s.%s", i == 0 ? "" : i + 1 == n ? " or " : ", ",
                         ext[i]);
        len += k > 0 ? (size_t)k : 0;
    }
}
