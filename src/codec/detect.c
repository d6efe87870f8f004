/* detect.c — file formats: from the first bytes on input, from the name on output */
#include "codec/codec.h"

#include <string.h>
#include <strings.h>

const char *hdm_format_name(hdm_format f)
{
    static const char *const names[HDM__FORMAT_COUNT] = {
        [HDM_FORMAT_UNKNOWN] = "unknown", [HDM_FORMAT_PNG] = "png", [HDM_FORMAT_JPEG] = "jpeg",
        [HDM_FORMAT_BMP] = "bmp", [HDM_FORMAT_TGA] = "tga", [HDM_FORMAT_GIF] = "gif",
        [HDM_FORMAT_PSD] = "psd", [HDM_FORMAT_HDR] = "hdr", [HDM_FORMAT_PNM] = "pnm",
    };
    return (unsigned)f < HDM__FORMAT_COUNT ? names[f] : "unknown";
}

hdm_format hdm_format_from_name(const char *path)
{
    if (!path)
        return HDM_FORMAT_UNKNOWN;
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    const char *ext = dot && (!slash || dot > slash) ? dot + 1 : path;
    static const struct { const char *ext; hdm_format f; } table[] = {
        {"png", HDM_FORMAT_PNG}, {"jpg", HDM_FORMAT_JPEG}, {"jpeg", HDM_FORMAT_JPEG},
        {"bmp", HDM_FORMAT_BMP}, {"tga", HDM_FORMAT_TGA}, {"hdr", HDM_FORMAT_HDR},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcasecmp(ext, table[i].ext) == 0)
            return table[i].f;
    return HDM_FORMAT_UNKNOWN;
}

/* TGA has no signature: accept a header whose fields are all ones a TGA can have
 * (Truevision TGA 2.0 specification, "Image Specification" field table). */
static bool looks_tga(const unsigned char *h, size_t n)
{
    if (n < 18)
        return false;
    unsigned cmap = h[1], type = h[2], bpp = h[16];
    unsigned w = h[12] | h[13] << 8, ht = h[14] | h[15] << 8;
    if (cmap > 1 || w == 0 || ht == 0)
        return false;
    if (!(type == 1 || type == 2 || type == 3 || type == 9 || type == 10 || type == 11))
        return false;
    if ((type == 1 || type == 9) != (cmap == 1))
        return false;
    return bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}

hdm_format hdm__detect(const unsigned char *h, size_t n)
{
    if (n >= 8 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0)
        return HDM_FORMAT_PNG;
    if (n >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF)
        return HDM_FORMAT_JPEG;
    if (n >= 6 && (memcmp(h, "GIF87a", 6) == 0 || memcmp(h, "GIF89a", 6) == 0))
        return HDM_FORMAT_GIF;
    if (n >= 2 && h[0] == 'B' && h[1] == 'M')
        return HDM_FORMAT_BMP;
    if (n >= 4 && memcmp(h, "8BPS", 4) == 0)
        return HDM_FORMAT_PSD;
    if ((n >= 10 && memcmp(h, "#?RADIANCE", 10) == 0) || (n >= 6 && memcmp(h, "#?RGBE", 6) == 0))
        return HDM_FORMAT_HDR;
    if (n >= 3 && h[0] == 'P' && (h[1] == '5' || h[1] == '6') &&
        (h[2] == ' ' || h[2] == '\t' || h[2] == '\n' || h[2] == '\r' || h[2] == '#'))
        return HDM_FORMAT_PNM;
    if (looks_tga(h, n))
        return HDM_FORMAT_TGA;
    return HDM_FORMAT_UNKNOWN;
}

hdm_format hdm_format_sniff(const void *head, size_t n)
{
    return head ? hdm__detect(head, n) : HDM_FORMAT_UNKNOWN;
}
