/* SPDX-License-Identifier: MIT */
/* table.c — the table of formats: every codec's entry, in detection order */
#include "codec/codec.h"

/* Adding a format: one file defining its entry, const hdm__codec hdm__codec_NAME, and one
 * line here. Detection tries the formats in this order (one whose sniff_last is set after all
 * the others), and the command lists them in it. */
#define CODECS(X) \
    X(png)        \
    X(jpeg)       \
    X(webp)       \
    X(tiff)       \
    X(gif)        \
    X(bmp)        \
    X(psd)        \
    X(tga)        \
    X(hdr)        \
    X(pnm)

#define DECLARE(name) extern const hdm__codec hdm__codec_##name;
#define ENTRY(name) &hdm__codec_##name,
CODECS(DECLARE)
static const hdm__codec *const table[] = {CODECS(ENTRY)};

const hdm__codec *hdm__codec_at(size_t i)
{
    return i < sizeof table / sizeof table[0] ? table[i] : NULL;
}

const hdm_codec_info *hdm_codec_at(size_t i)
{
    return i < sizeof table / sizeof table[0] ? &table[i]->pub : NULL;
}
