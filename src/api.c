/* api.c — the public entry points: whole images in memory, files, and step runs */
#define _POSIX_C_SOURCE 200809L /* fmemopen */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hdm_status read_all(hdm__source *s, hdm_image **out, hdm_error *err)
{
    hdm_image *img;
    hdm_status st = hdm_image_new(s->info.width, s->info.height, s->info.channels, s->info.depth,
                                  &img);
    if (st)
        return hdm__fail(err, st, s->path, "%s", hdm_strerror(st));
    st = hdm__source_read(s, img, s->info.height, err);
    if (st) {
        hdm_image_free(img);
        return st;
    }
    *out = img;
    return HDM_OK;
}

/* Opens path with the caller's options over the defaults. */
static hdm_status open_path(const char *path, const hdm_options *caller, hdm__source **s,
                            hdm_error *err)
{
    hdm_options opt;
    hdm_status st = hdm__options_load(caller, &opt, err);
    return st ? st : hdm__source_open(path, &opt, s, err);
}

hdm_status hdm_info_read(const char *path, const hdm_options *caller, hdm_info *out,
                         hdm_error *err)
{
    if (!path || !out)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_info_read: NULL argument");
    hdm_options opt;
    hdm_status st = hdm__options_load(caller, &opt, err);
    return st ? st : hdm__info_open(path, &opt, out, err);
}

hdm_status hdm_info_read_memory(const void *data, size_t size, const hdm_options *caller,
                                hdm_info *out, hdm_error *err)
{
    if (!data || !out)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_info_read_memory: NULL argument");
    hdm_options opt;
    hdm_status st = hdm__options_load(caller, &opt, err);
    if (st)
        return st;
    static const char name[] = "(memory)";
    if (size == 0)
        return hdm__fail(err, HDM_ERR_CORRUPT, name, "data is empty");
    hdm_format fmt = hdm__detect(data, size);
    if (fmt == HDM_FORMAT_UNKNOWN)
        return hdm__fail(err, HDM_ERR_FORMAT, name, "not an image in a format hadamard reads");
    /* the header readers take a stream, as for a file */
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f)
        return hdm__fail(err, HDM_ERR_NOMEM, name, "out of memory");
    return fmt == HDM_FORMAT_PNG ? hdm__png_info(f, name, &opt, out, err) /* take f */
                                 : hdm__stb_info(f, name, &opt, out, err);
}

hdm_status hdm_load(const char *path, const hdm_options *caller, hdm_image **out,
                    hdm_error *err)
{
    if (!path || !out)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_load: NULL argument");
    *out = NULL;
    hdm__source *s;
    hdm_status st = open_path(path, caller, &s, err);
    if (st)
        return st;
    st = read_all(s, out, err);
    hdm__source_close(s);
    return st;
}

hdm_status hdm_load_memory(const void *data, size_t size, const hdm_options *caller,
                           hdm_image **out, hdm_error *err)
{
    if (!data || !out)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_load_memory: NULL argument");
    *out = NULL;
    hdm_options opt;
    hdm_status st = hdm__options_load(caller, &opt, err);
    if (st)
        return st;
    hdm__source *s;
    st = hdm__source_open_memory(data, size, "(memory)", &opt, &s, err);
    if (st)
        return st;
    st = read_all(s, out, err);
    hdm__source_close(s);
    return st;
}

bool hdm__format_writable(hdm_format fmt)
{
    return (unsigned)fmt < HDM__FORMAT_COUNT && fmt != HDM_FORMAT_UNKNOWN &&
           hdm_format_from_name(hdm_format_name(fmt)) == fmt;
}

bool hdm__image_valid(const hdm_image *img)
{
    if (!img || !img->width || !img->height || img->channels < 1 ||
        img->channels > HDM_MAX_CHANNELS ||
        !(img->depth == HDM_U8 || img->depth == HDM_U16 || img->depth == HDM_F32) ||
        img->stride < (size_t)img->width * img->depth)
        return false;
    for (uint32_t c = 0; c < img->channels; c++)
        if (!img->plane[c])
            return false;
    return true;
}

/* A borrowed source over img, for encoding it through the pipeline (which converts its depth
 * to the format's). */
static hdm_status image_source(const hdm_image *img, hdm_format fmt, const char *path,
                               hdm__source **src, hdm_error *err)
{
    hdm_status st = hdm__source_from_image((hdm_image *)img, false, path, fmt, src);
    return st ? hdm__fail(err, st, path, "%s", hdm_strerror(st)) : HDM_OK;
}

hdm_status hdm_save(const hdm_image *img, const char *path, const hdm_options *caller,
                    hdm_error *err)
{
    if (!hdm__image_valid(img) || !path)
        return hdm__fail(err, HDM_ERR_ARG, path, "hdm_save: invalid image or path");
    hdm_options opt;
    hdm_status st = hdm__options_load(caller, &opt, err);
    hdm_format fmt;
    if (!st)
        st = hdm__output_format(path, opt.out_format, &fmt, err);
    if (st)
        return st;
    hdm__source *src;
    st = image_source(img, fmt, path, &src, err);
    return st ? st : hdm__write_file(src, fmt, path, &opt, err);
}

hdm_status hdm_save_memory(const hdm_image *img, hdm_format fmt, const hdm_options *caller,
                           void **data, size_t *size, hdm_error *err)
{
    if (!hdm__image_valid(img) || !data || !size)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_save_memory: invalid argument");
    *data = NULL;
    *size = 0;
    if (!hdm__format_writable(fmt))
        return hdm__fail(err, HDM_ERR_FORMAT,
                         NULL, "hdm_save_memory: cannot write format %d (%s)", (int)fmt,
                         hdm_format_name(fmt));
    hdm_options opt;
    hdm_status st = hdm__options_load(caller, &opt, err);
    if (st)
        return st;
    hdm__bytes b = {0};
    hdm__source *src;
    st = image_source(img, fmt, "(memory)", &src, err);
    if (!st)
        st = hdm__encode(src, fmt, &opt, &b, "(memory)", err);
    if (!st && b.failed)
        st = hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    if (st) {
        free(b.mem);
        return st;
    }
    *data = b.mem;
    *size = b.len;
    return HDM_OK;
}

/* Runs one two-input op over images in memory: the first as a borrowed source, the second as
 * the op's operand, the whole image as one strip. */
static hdm_status run_memory(const hdm_image *a, const hdm_image *b, bool is_mask,
                             unsigned flags, hdm_image **out, hdm_error *err)
{
    if (!out)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "NULL output");
    *out = NULL;
    if (!hdm__image_valid(a) || !hdm__image_valid(b))
        return hdm__fail(err, HDM_ERR_ARG, NULL, "invalid image");
    hdm_info ai = {a->width, a->height, a->channels, a->depth, HDM_FORMAT_UNKNOWN};
    hdm__source *bs;
    hdm_status st = hdm__source_from_image((hdm_image *)b, false, is_mask ? "mask" : "b",
                                           HDM_FORMAT_UNKNOWN, &bs);
    if (st)
        return hdm__fail(err, st, NULL, "%s", hdm_strerror(st));
    hdm__op *op;
    st = is_mask ? hdm__op_mask(&ai, "image", bs, flags, &op, err)
                 : hdm__op_mul(&ai, "a", bs, &op, err);
    if (st)
        return st;
    hdm_image *res;
    st = hdm_image_new(a->width, a->height, op->out_info.channels, op->out_info.depth, &res);
    if (st) {
        op->free(op);
        return hdm__fail(err, st, NULL, "%s", hdm_strerror(st));
    }
    st = op->apply(op, a, res, 0, a->height, err);
    op->free(op);
    if (st) {
        hdm_image_free(res);
        return st;
    }
    *out = res;
    return HDM_OK;
}

hdm_status hdm_mul(const hdm_image *a, const hdm_image *b, hdm_image **out, hdm_error *err)
{
    return run_memory(a, b, false, 0, out, err);
}

hdm_status hdm_mask(const hdm_image *img, const hdm_image *mask, unsigned flags,
                    hdm_image **out, hdm_error *err)
{
    if (flags & ~(unsigned)(HDM_MASK_INVERT | HDM_MASK_ALPHA)) {
        if (out)
            *out = NULL;
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_mask: unknown flags 0x%x", flags);
    }
    return run_memory(img, mask, true, flags, out, err);
}
