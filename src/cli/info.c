/* SPDX-License-Identifier: MIT */
/* info.c — what `hadamard info` prints of a file: a line of what it decodes to, then what it holds */
#include "cli/info.h"
#include "cli/batch.h"

#include <ctype.h>
#include <inttypes.h>
#include <strings.h>

static const char *layout_name(uint32_t channels)
{
    static const char *const n[] = {"", "gray", "gray+alpha", "RGB", "RGBA"};
    return channels <= 4 ? n[channels] : "?";
}

static const char *depth_name(hdm_depth d)
{
    return d == HDM_U8 ? "8-bit" : d == HDM_U16 ? "16-bit" : "32-bit float";
}

static const char *unit_name(uint32_t unit)
{
    return unit == 1 ? "inch" : unit == 2 ? "centimetre" : "aspect";
}

/* The stored form says more than the first line: another bit depth or colour type (a palette,
 * YCbCr, tRNS that became alpha), interlacing, subsampling or a compression. */
static bool stored_differs(const hdm_file_info *d)
{
    uint32_t bits = d->image.depth == HDM_U8 ? 8 : d->image.depth == HDM_U16 ? 16 : 32;
    return (d->bits && d->bits != bits) ||
           (d->color[0] && strcasecmp(d->color, layout_name(d->image.channels)) != 0) ||
           d->interlaced || d->subsampling[0] || d->compression[0];
}

void info_print(FILE *f, const char *name, const hdm_file_info *d, bool no_rotate)
{
    const hdm_info *i = &d->image;
    fprintf(f, "%s: %" PRIu32 "x%" PRIu32 ", %" PRIu32 " channel%s (%s), %s, %s\n", name,
            i->width, i->height, i->channels, i->channels == 1 ? "" : "s",
            layout_name(i->channels), depth_name(i->depth), hdm_format_name(i->format));
    if (stored_differs(d)) {
        /* "  stored: 1-bit palette, interlaced" — the parts that apply, in this order */
        fputs("  stored:", f);
        const char *sep = " ";
        if (d->bits)
            fprintf(f, " %" PRIu32 "-bit", d->bits), sep = " ";
        if (d->color[0])
            fprintf(f, "%s%s", sep, d->color);
        sep = d->bits || d->color[0] ? ", " : " ";
        if (d->interlaced)
            fprintf(f, "%s%s", sep, i->format == HDM_FORMAT_JPEG ? "progressive" : "interlaced"),
                sep = ", ";
        if (d->subsampling[0])
            fprintf(f, "%s%s", sep, d->subsampling), sep = ", ";
        if (d->compression[0])
            fprintf(f, "%s%s", sep, d->compression);
        fputc('\n', f);
    }
    if (d->pages > 1)
        fprintf(f, "  pages: %" PRIu32 " (the first is read)\n", d->pages);
    if (d->icc_size) {
        fprintf(f, "  ICC profile: %" PRIu32 " bytes", d->icc_size);
        if (d->icc_description[0]) {
            fputs(", \"", f);
            for (const char *c = d->icc_description; *c; c++)
                fputc(isprint((unsigned char)*c) ? *c : '?', f);
            fputc('"', f);
        }
        fputc('\n', f);
    }
    if (d->orientation) {
        fprintf(f, "  Orientation: %" PRIu32, d->orientation);
        if (d->orientation == 1)
            fputs(" (upright)\n", f);
        else if (no_rotate)
            fprintf(f, " (not applied: --no-rotate)\n");
        else
            fprintf(f, " (turned upright on load; stored %" PRIu32 "x%" PRIu32 ")\n",
                    d->stored_width, d->stored_height);
    }
    if (d->exif_size)
        fprintf(f, "  EXIF: %" PRIu32 " bytes\n", d->exif_size);
    if (d->xmp_size)
        fprintf(f, "  XMP: %" PRIu32 " bytes\n", d->xmp_size);
    if (d->color_chunks)
        fputs("  colour chunks: sRGB, gAMA or cHRM\n", f);
    if (d->res_x > 0 && d->res_y > 0) {
        if (d->res_unit == 1 || d->res_unit == 2)
            fprintf(f, "  resolution: %gx%g per %s\n", d->res_x, d->res_y,
                    unit_name(d->res_unit));
        else
            fprintf(f, "  resolution: aspect %g:%g\n", d->res_x, d->res_y);
    }
}

/* "key":"value", with the name's bytes beside it when it is not UTF-8 (as the batch report). */
static void json_name(FILE *f, const char *key, const char *name)
{
    fprintf(f, "\"%s\":", key);
    if (batch_json_str(f, name)) {
        fprintf(f, ",\"%s_bytes\":", key);
        batch_json_hex(f, name);
    }
}

static void json_text(FILE *f, const char *key, const char *s)
{
    fprintf(f, ",\"%s\":", key);
    batch_json_str(f, s);
}

void info_print_json(FILE *f, const char *name, const hdm_file_info *d, bool no_rotate)
{
    static const char *const depths[] = {[HDM_U8] = "u8", [HDM_U16] = "u16", [HDM_F32] = "f32"};
    const hdm_info *i = &d->image;
    fputc('{', f);
    json_name(f, "file", name);
    fprintf(f, ",\"format\":\"%s\",\"width\":%" PRIu32 ",\"height\":%" PRIu32
               ",\"channels\":%" PRIu32 ",\"depth\":\"%s\"",
            hdm_format_name(i->format), i->width, i->height, i->channels,
            (unsigned)i->depth < 3 ? depths[i->depth] : "?");
    fprintf(f, ",\"stored_width\":%" PRIu32 ",\"stored_height\":%" PRIu32
               ",\"bits\":%" PRIu32, d->stored_width, d->stored_height, d->bits);
    json_text(f, "color", d->color);
    json_text(f, "compression", d->compression);
    json_text(f, "subsampling", d->subsampling);
    fprintf(f, ",\"interlaced\":%s,\"pages\":%" PRIu32 ",\"orientation\":%" PRIu32
               ",\"rotated\":%s",
            d->interlaced ? "true" : "false", d->pages, d->orientation,
            d->orientation > 1 && !no_rotate ? "true" : "false");
    fprintf(f, ",\"icc_size\":%" PRIu32, d->icc_size);
    json_text(f, "icc_description", d->icc_description);
    fprintf(f, ",\"exif_size\":%" PRIu32 ",\"xmp_size\":%" PRIu32 ",\"color_chunks\":%s",
            d->exif_size, d->xmp_size, d->color_chunks ? "true" : "false");
    if (d->res_x > 0 && d->res_y > 0)
        fprintf(f, ",\"res_x\":%.15g,\"res_y\":%.15g,\"res_unit\":\"%s\"}\n", d->res_x,
                d->res_y, unit_name(d->res_unit));
    else
        fputs(",\"res_x\":null,\"res_y\":null,\"res_unit\":null}\n", f);
}

void info_print_json_error(FILE *f, const char *name, const char *message)
{
    fputc('{', f);
    json_name(f, "file", name);
    json_text(f, "error", message);
    fputs("}\n", f);
}
