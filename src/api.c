/* SPDX-License-Identifier: MIT */
/* api.c — the public entry points: whole images in memory, files, and the in-memory products */
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>

/* Reads every row of s into a new image. Closes s. */
static hdm_status read_all(hdm__source *s, hdm_image **out, hdm_error *err)
{
    hdm_image *img;
    hdm_status st = hdm__image_new(s->info.width, s->info.height, s->info.channels,
                                   s->info.depth, &img, s->path, err);
    if (!st)
        st = hdm__source_read(s, img, s->info.height, err);
    hdm__source_close(s);
    if (st) {
        hdm_image_free(img);
        return st;
    }
    *out = img;
    return HDM_OK;
}

hdm_status hdm_info_read(const char *path, const hdm_options *caller, hdm_info *out,
                         hdm_error *err)
{
    if (!path || !out)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_info_read: NULL argument");
    hdm_options opt;
    hdm_status st = hdm__entry_options(caller, &opt, err);
    return st ? st : hdm__info_open(path, &opt, out, NULL, err);
}

hdm_status hdm_info_read_memory(const void *data, size_t size, const hdm_options *caller,
                                hdm_info *out, hdm_error *err)
{
    if (!data || !out)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_info_read_memory: NULL argument");
    hdm_options opt;
    hdm_status st = hdm__entry_options(caller, &opt, err);
    return st ? st : hdm__info_open_memory(data, size, "(memory)", &opt, out, NULL, err);
}

/* Fills a caller's hdm_file_info, out->size bytes of it (an older, smaller struct gets its
 * prefix). */
static hdm_status file_info(const char *path, const void *data, size_t size,
                            const hdm_options *caller, hdm_file_info *out, hdm_error *err)
{
    const char *fn = path ? "hdm_file_info_read" : "hdm_file_info_read_memory";
    if (!(path || data) || !out)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: NULL argument", fn);
    size_t caller_size = out->size;
    if (caller_size < sizeof(size_t) + sizeof(hdm_info))
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: size is %zu (set it to "
                         "sizeof(hdm_file_info))", fn, caller_size);
    hdm_options opt;
    hdm_file_info d;
    hdm_info info;
    hdm_status st = hdm__entry_options(caller, &opt, err);
    if (!st)
        st = path ? hdm__info_open(path, &opt, &info, &d, err)
                  : hdm__info_open_memory(data, size, "(memory)", &opt, &info, &d, err);
    if (st)
        return st;
    d.size = caller_size < sizeof d ? caller_size : sizeof d;
    memcpy(out, &d, d.size);
    return HDM_OK;
}

hdm_status hdm_file_info_read(const char *path, const hdm_options *opt, hdm_file_info *out,
                              hdm_error *err)
{
    return file_info(path, NULL, 0, opt, out, err);
}

hdm_status hdm_file_info_read_memory(const void *data, size_t size, const hdm_options *opt,
                                     hdm_file_info *out, hdm_error *err)
{
    return file_info(NULL, data, size, opt, out, err);
}

hdm_status hdm_load(const char *path, const hdm_options *caller, hdm_image **out,
                    hdm_error *err)
{
    if (!path || !out)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_load: NULL argument");
    *out = NULL;
    hdm_options opt;
    hdm__source *s;
    hdm_status st = hdm__entry_options(caller, &opt, err);
    if (!st)
        st = hdm__source_open(path, &opt, &s, err);
    return st ? st : read_all(s, out, err);
}

hdm_status hdm_load_memory(const void *data, size_t size, const hdm_options *caller,
                           hdm_image **out, hdm_error *err)
{
    if (!data || !out)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_load_memory: NULL argument");
    *out = NULL;
    hdm_options opt;
    hdm__source *s;
    hdm_status st = hdm__entry_options(caller, &opt, err);
    if (!st)
        st = hdm__source_open_memory(data, size, "(memory)", &opt, &s, err);
    return st ? st : read_all(s, out, err);
}

hdm_status hdm_save(const hdm_image *img, const char *path, const hdm_options *caller,
                    hdm_error *err)
{
    if (!hdm__image_valid(img) || !path)
        return hdm__fail(err, HDM_ERR_ARG, path, "hdm_save: invalid image or path");
    hdm_options opt;
    hdm_status st = hdm__entry_options(caller, &opt, err);
    hdm_format fmt;
    if (!st)
        st = hdm__output_format(path, opt.out_format, &fmt, err);
    hdm__source *src; /* borrowed: the pipeline converts its depth to the format's */
    if (!st)
        st = hdm__source_from_image((hdm_image *)img, false, path, fmt, &src, err);
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
    hdm_status st = hdm__entry_options(caller, &opt, err);
    hdm__bytes b = {0};
    hdm__source *src;
    if (!st)
        st = hdm__source_from_image((hdm_image *)img, false, "(memory)", fmt, &src, err);
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

/* The one runner of the in-memory products: a and b (and a mask m, or NULL) as borrowed sources
 * (named an, bn and "mask" in messages), the op def with args through the op driver, the rows
 * into a new image. */
static hdm_status run_op(const char *fn, const hdm__opdef *def, const void *args,
                         const hdm_image *a, const char *an, const hdm_image *b, const char *bn,
                         const hdm_image *m, const hdm_options *caller, hdm_image **out,
                         hdm_error *err)
{
    if (!out)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: NULL output", fn);
    *out = NULL;
    if (!hdm__image_valid(a) || !hdm__image_valid(b) || (m && !hdm__image_valid(m)))
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: invalid image", fn);
    hdm_options opt;
    hdm_status st = hdm__entry_options(caller, &opt, err);
    hdm__source *as = NULL, *bs = NULL, *ms = NULL, *src;
    if (!st)
        st = hdm__source_from_image((hdm_image *)a, false, an, HDM_FORMAT_UNKNOWN, &as, err);
    if (!st)
        st = hdm__source_from_image((hdm_image *)b, false, bn, HDM_FORMAT_UNKNOWN, &bs, err);
    if (!st && m)
        st = hdm__source_from_image((hdm_image *)m, false, "mask", HDM_FORMAT_UNKNOWN, &ms, err);
    if (st) {
        hdm__source_close(as);
        hdm__source_close(bs);
        return st;
    }
    st = hdm__step_open_masked(def, args, as, bs, ms, &opt, &src, err); /* takes all three */
    return st ? st : hdm__run_to_image(src, &opt, out, err);
}

hdm_status hdm_mul(const hdm_image *a, const hdm_image *b, const hdm_options *opt,
                   hdm_image **out, hdm_error *err)
{
    return run_op("hdm_mul", &hdm__mul_def, NULL, a, "a", b, "b", NULL, opt, out, err);
}

hdm_status hdm_mask(const hdm_image *img, const hdm_image *mask, unsigned flags,
                    const hdm_options *opt, hdm_image **out, hdm_error *err)
{
    if (flags & ~(unsigned)(HDM_MASK_INVERT | HDM_MASK_ALPHA)) {
        if (out)
            *out = NULL;
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_mask: unknown flags 0x%x", flags);
    }
    hdm__mask_args args = {.flags = flags, .threshold = -1};
    return run_op("hdm_mask", &hdm__mask_def, &args, img, "image", mask, "mask", NULL, opt,
                  out, err);
}

void hdm_placement_init(hdm_placement *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->size = sizeof *p;
    p->outside = 1;
}

/* The caller's placement (as much of it as its size holds, defaults for the rest) as the
 * step's fields would give it; NULL gives an empty one (the operand must match). what names
 * it in messages ("top_place"); a top must keep outside 1. */
static hdm_status to_place(const char *fn, const char *what, const hdm_placement *caller,
                           bool top, hdm__place *out, hdm_error *err)
{
    hdm__place_init(out);
    if (!caller)
        return HDM_OK;
    if (caller->size == 0)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: %s->size is 0 (initialise it with "
                         "hdm_placement_init)", fn, what);
    hdm_placement p;
    hdm_placement_init(&p);
    memcpy(&p, caller, caller->size < sizeof p ? caller->size : sizeof p);
    if ((unsigned)p.fit > HDM_FIT_COVER)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: %s->fit %d is no hdm_fit", fn, what,
                         (int)p.fit);
    if ((unsigned)p.resample > HDM_RESAMPLE_BOX)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: %s->resample %d is no hdm_resample", fn,
                         what, (int)p.resample);
    if ((unsigned)p.gravity > HDM_GRAVITY_SE)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: %s->gravity %d is no hdm_gravity", fn,
                         what, (int)p.gravity);
    const int64_t lim = (int64_t)1 << 31;
    if (p.x < -lim || p.x > lim || p.y < -lim || p.y > lim)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: %s offset %lld,%lld is beyond 2^31 "
                         "pixels", fn, what, (long long)p.x, (long long)p.y);
    if (p.outside != 0 && p.outside != 1)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: %s->outside must be 0 or 1, not %d", fn,
                         what, p.outside);
    if (top && p.outside != 1)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: %s->outside must be 1: a top is "
                         "transparent where it does not reach (outside is the mask's)", fn,
                         what);
    _Static_assert((int)HDM_FIT_COVER == HDM__FIT_COVER &&
                   (int)HDM_RESAMPLE_BOX == HDM__RS_BOX, "placement enums out of step");
    out->any = true;
    out->fit = (hdm__fit)p.fit;
    out->resample = (hdm__rfilter)p.resample;
    out->resample_set = p.fit != HDM_FIT_NONE;
    out->gravity = (int)p.gravity - 1; /* DEFAULT is -1: none given */
    out->offset_set = true;
    out->x = p.x;
    out->y = p.y;
    out->tile = p.tile != 0;
    out->outside = p.outside;
    return HDM_OK;
}

/* hdm_blend, hdm_composite and hdm_composite_placed: their arguments checked, named fn in
 * messages. */
static hdm_status composite(const char *fn, const hdm_image *base, const hdm_image *top,
                            const hdm_placement *top_place, const hdm_image *mask,
                            const hdm_placement *mask_place, hdm_blend_mode mode,
                            hdm_composite_op op, double opacity, unsigned flags,
                            const hdm_options *opt, hdm_image **out, hdm_error *err)
{
    if (out)
        *out = NULL;
    if (!hdm_blend_mode_name(mode))
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: unknown mode %d", fn, (int)mode);
    if (!hdm_composite_op_name(op))
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: unknown operator %d", fn, (int)op);
    if (!(opacity >= 0 && opacity <= 1))
        return hdm__fail(err, HDM_ERR_ARG, NULL, "blend: opacity must be from 0 to 1, not %g",
                         opacity);
    if (flags & ~(unsigned)HDM_BLEND_LINEAR)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: unknown flags 0x%x", fn, flags);
    hdm__blend_args args = {.mode = (unsigned)mode, .op = (unsigned)op, .opacity = opacity,
                            .linear = flags & HDM_BLEND_LINEAR};
    if (mask_place && !mask)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: mask_place given without a mask", fn);
    hdm_status st = to_place(fn, "top_place", top_place, true, &args.place, err);
    if (!st)
        st = to_place(fn, "mask_place", mask_place, false, &args.mask_place, err);
    if (st)
        return st;
    return run_op(fn, &hdm__blend_def, &args, base, "base", top, "top", mask, opt, out, err);
}

hdm_status hdm_blend(const hdm_image *base, const hdm_image *top, hdm_blend_mode mode,
                     double opacity, unsigned flags, const hdm_options *opt, hdm_image **out,
                     hdm_error *err)
{
    return composite("hdm_blend", base, top, NULL, NULL, NULL, mode, HDM_OP_SOURCE_OVER,
                     opacity, flags, opt, out, err);
}

hdm_status hdm_composite(const hdm_image *base, const hdm_image *top, const hdm_image *mask,
                         hdm_blend_mode mode, hdm_composite_op op, double opacity,
                         unsigned flags, const hdm_options *opt, hdm_image **out,
                         hdm_error *err)
{
    return composite("hdm_composite", base, top, NULL, mask, NULL, mode, op, opacity, flags,
                     opt, out, err);
}

hdm_status hdm_composite_placed(const hdm_image *base, const hdm_image *top,
                                const hdm_placement *top_place, const hdm_image *mask,
                                const hdm_placement *mask_place, hdm_blend_mode mode,
                                hdm_composite_op op, double opacity, unsigned flags,
                                const hdm_options *opt, hdm_image **out, hdm_error *err)
{
    return composite("hdm_composite_placed", base, top, top_place, mask, mask_place, mode, op,
                     opacity, flags, opt, out, err);
}
