/* SPDX-License-Identifier: MIT */
/* driver.c — the op driver: shapes checked, operand read in step, strips handed to the op */
#include "ops/ops.h"

#include <stdio.h>
#include <stdlib.h>

/* Samples a worker is given at least: below it, handing rows over costs more than it saves. */
enum { PART_SAMPLES = 1 << 14 };

/* An element-wise op as a source over its upstream (and its operand). */
typedef struct op_source {
    hdm__source base;
    hdm__source *up, *operand;
    hdm__op *op;
    hdm_image *in, *opd; /* input and operand rows, grown to the largest strip asked for */
    hdm__source *mask;   /* a second operand limiting the op (blend's mask), or NULL */
    hdm_image *msk;      /* its rows */
    /* With threads: a strip's rows are shared out in bands, band i computed by ops[i] (made
     * like op, each with its own row buffers: ops[0] is op) on the pool, started at the first
     * strip worth sharing. Row y is computed by the same code from the same rows, whichever
     * band holds it, so the output does not depend on how many there are. */
    uint32_t nops, nmade; /* bands a strip may have; ops made (more if threads fell short) */
    hdm__op **ops;
    hdm__pool *pool;
    bool pool_tried;
    /* one strip's share-out */
    hdm_image *sin, *sopd, *sout, *smask;
    uint32_t y, rows, parts;
    hdm_status *st;
    hdm_error *errs;
} op_source;

/* The mask's rows for this strip, into op->mask. */
static hdm_status read_mask(op_source *o, uint32_t rows, hdm_error *err)
{
    const hdm_info *mi = &o->mask->info;
    hdm_status st = hdm__strip_reserve(&o->msk, mi->width, rows, mi->channels,
                                       o->op->mask_depth, o->mask->path, err);
    if (!st)
        st = hdm__source_read(o->mask, o->msk, rows, err);
    o->op->mask = st ? NULL : o->msk;
    return st;
}

/* Rows [y0, y0 + n) of img, as a view sharing its samples. */
static hdm_image band_view(const hdm_image *img, uint32_t y0, uint32_t n)
{
    hdm_image v = *img;
    v.height = n;
    v.owned_ = NULL;
    for (uint32_t c = 0; c < img->channels; c++)
        v.plane[c] = hdm_row(img, c, y0);
    return v;
}

/* Band i of the strip being shared out, by ops[i]. */
static void band(void *ctx, uint32_t i)
{
    op_source *o = ctx;
    uint32_t y0 = (uint32_t)((uint64_t)o->rows * i / o->parts);
    uint32_t y1 = (uint32_t)((uint64_t)o->rows * (i + 1) / o->parts);
    hdm__op *op = o->ops[i];
    hdm_image in = band_view(o->sin, y0, y1 - y0), out = band_view(o->sout, y0, y1 - y0);
    hdm_image opd, msk;
    if (o->sopd)
        opd = band_view(o->sopd, y0, y1 - y0);
    if (o->smask) {
        msk = band_view(o->smask, y0, y1 - y0);
        op->mask = &msk;
    }
    o->st[i] = op->apply(op, &in, o->sopd ? &opd : NULL, &out, o->y + y0, y1 - y0, &o->errs[i]);
}

/* How many bands to share rows rows of a strip into: 1 without threads or with too little to
 * share, else as many as there are threads and each gets PART_SAMPLES. Starts the pool the
 * first time it is worth it. */
static uint32_t share(op_source *o, uint32_t width, uint32_t channels, uint32_t rows)
{
    if (o->nops <= 1 || rows < 2)
        return 1;
    uint64_t samples = (uint64_t)width * channels * rows;
    uint64_t parts = samples / PART_SAMPLES;
    if (parts < 2)
        return 1;
    if (!o->pool_tried) {
        o->pool_tried = true;
        if (hdm__pool_new(o->nops, &o->pool) == HDM_OK && o->pool &&
            hdm__pool_threads(o->pool) < o->nops) /* fewer workers started than asked */
            o->nops = hdm__pool_threads(o->pool);
    }
    if (!o->pool)
        return 1;
    if (parts > o->nops)
        parts = o->nops;
    return parts > rows ? rows : (uint32_t)parts;
}

static hdm_status op_read(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    op_source *o = (op_source *)s;
    const hdm_info *ui = &o->up->info;
    hdm_status st = hdm__strip_reserve(&o->in, ui->width, rows, ui->channels, o->op->in_depth,
                                       s->path, err);
    if (!st)
        st = hdm__source_read(o->up, o->in, rows, err);
    if (!st && o->operand) {
        const hdm_info *bi = &o->operand->info;
        st = hdm__strip_reserve(&o->opd, bi->width, rows, bi->channels, o->op->operand_depth,
                                o->operand->path, err);
        if (!st)
            st = hdm__source_read(o->operand, o->opd, rows, err);
    }
    if (!st && o->mask)
        st = read_mask(o, rows, err);
    if (st)
        return st;
    uint32_t parts = share(o, strip->width, strip->channels, rows);
    if (parts <= 1)
        return o->op->apply(o->op, o->in, o->operand ? o->opd : NULL, strip, s->next, rows,
                            err);
    o->sin = o->in;
    o->sopd = o->operand ? o->opd : NULL;
    o->sout = strip;
    o->smask = o->op->mask;
    o->y = s->next;
    o->rows = rows;
    o->parts = parts;
    hdm__pool_run(o->pool, parts, band, o);
    o->op->mask = o->smask; /* not the view band 0 left there */
    /* the first band that failed holds the first row that did: the error unthreaded */
    for (uint32_t i = 0; i < parts; i++)
        if (o->st[i]) {
            if (err)
                *err = o->errs[i];
            return o->st[i];
        }
    return HDM_OK;
}

/* The bands' ops (but ops[0], which is op) and their results. */
static void free_bands(op_source *o)
{
    for (uint32_t i = 1; i < o->nmade; i++)
        o->ops[i]->free(o->ops[i]);
    free(o->ops);
    free(o->st);
    free(o->errs);
}

static void op_close(hdm__source *s)
{
    op_source *o = (op_source *)s;
    hdm__source_close(o->up);
    hdm__source_close(o->operand);
    hdm__source_close(o->mask);
    hdm_image_free(o->msk);
    hdm__pool_free(o->pool);
    free_bands(o);
    if (o->op)
        o->op->free(o->op);
    hdm_image_free(o->in);
    hdm_image_free(o->opd);
    free(o);
}

/* Same width and height, or HDM_ERR_SHAPE naming both sizes (and, when the op can place its
 * operand, how — the fields' names start with prefix, NULL when it cannot: an operand is never
 * cropped or scaled unasked). */
static hdm_status same_size(const hdm_info *a, const char *apath, const hdm_info *b,
                            const char *bpath, const char *prefix, hdm_error *err)
{
    if (a->width == b->width && a->height == b->height)
        return HDM_OK;
    char how[160] = "";
    if (prefix)
        snprintf(how, sizeof how, "; resample it with %sfit, or place it with %sat, %sgravity "
                 "or %stile", prefix, prefix, prefix, prefix);
    return hdm__fail(err, HDM_ERR_SHAPE, bpath, "size %ux%u does not match %s (%ux%u)%s",
                     b->width, b->height, apath, a->width, a->height, how);
}

/* With threads, one op per band beside o->op, each made as it was (an op keeps row buffers of
 * its own, so two bands never share one). */
static hdm_status make_bands(op_source *o, const hdm__opdef *def, const void *args,
                             const hdm__op_shape *shape, const hdm_options *opt, hdm_error *err)
{
    uint32_t n = opt->threads;
    /* no more bands than a strip of the largest automatic height could fill */
    uint64_t most = (uint64_t)shape->in.width * HDM_MAX_CHANNELS * 64 * 8 / PART_SAMPLES;
    if (n > most)
        n = most < 1 ? 1 : (uint32_t)most;
    if (n > shape->in.height)
        n = shape->in.height;
    o->nops = o->nmade = 1;
    if (n <= 1)
        return HDM_OK;
    if (!(o->ops = calloc(n, sizeof *o->ops)) || !(o->st = calloc(n, sizeof *o->st)) ||
        !(o->errs = calloc(n, sizeof *o->errs)))
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    o->ops[0] = o->op;
    for (; o->nmade < n; o->nmade++) {
        hdm_status st = def->make(args, shape, &o->ops[o->nmade], err);
        if (st)
            return st;
    }
    o->nops = n;
    return HDM_OK;
}

hdm_status hdm__step_open(const hdm__opdef *def, const void *args, hdm__source *up,
                          hdm__source *operand, const hdm_options *opt, hdm__source **out,
                          hdm_error *err)
{
    return hdm__step_open_masked(def, args, up, operand, NULL, opt, out, err);
}

hdm_status hdm__step_open_masked(const hdm__opdef *def, const void *args, hdm__source *up,
                                 hdm__source *operand, hdm__source *mask,
                                 const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    *out = NULL;
    if (def->wrap) {
        hdm__source_close(operand);
        hdm__source_close(mask);
        return def->wrap(args, up, opt, out, err);
    }
    hdm_status st = HDM_OK;
    if (operand && def->place) {
        /* brought to the image's size first, so what the op prepares (a feather) sees the
         * operand where it lies */
        hdm__source *placed;
        st = hdm__place_open(def->place(args), def->outside, def->resample_premultiplied,
                             &up->info, up->path, operand, opt, &placed, err); /* takes it */
        operand = st ? NULL : placed;
    }
    if (!st && operand && def->prepare_operand) {
        hdm__source *prepared;
        st = def->prepare_operand(args, operand, opt, &prepared, err); /* takes operand */
        operand = st ? NULL : prepared;
    }
    op_source *o = NULL;
    if (!st && mask && def->mask_place) {
        /* a mask is a value where it does not reach (outside=), its alpha ignored */
        hdm__source *placed;
        st = hdm__place_open(def->mask_place(args), HDM__OUTSIDE_VALUE, false, &up->info,
                             up->path, mask, opt, &placed, err); /* takes it */
        mask = st ? NULL : placed;
    }
    if (!st && operand)
        st = same_size(&up->info, up->path, &operand->info, operand->path,
                       def->place ? "" : NULL, err);
    if (!st && mask)
        st = same_size(&up->info, up->path, &mask->info, mask->path,
                       def->mask_place ? "mask-" : NULL, err);
    if (!st && !(o = calloc(1, sizeof *o)))
        st = hdm__fail(err, HDM_ERR_NOMEM, up->path, "out of memory");
    if (!st) {
        hdm__op_shape shape = {.in = up->info, .in_path = up->path};
        if (operand) {
            shape.operand = operand->info;
            shape.operand_path = operand->path;
        }
        if (mask) {
            shape.mask = mask->info;
            shape.mask_path = mask->path;
        }
        st = def->make(args, &shape, &o->op, err);
        if (!st)
            st = make_bands(o, def, args, &shape, opt, err);
    }
    if (st) {
        if (o && o->op) {
            free_bands(o);
            o->op->free(o->op);
        }
        free(o);
        hdm__source_close(mask);
        hdm__source_close(operand);
        hdm__source_close(up);
        return st;
    }
    o->up = up;
    o->operand = operand;
    o->mask = mask;
    o->base.info = o->op->out_info;
    o->base.info.format = up->info.format;
    o->base.held = up->held + (operand ? operand->held : 0) + (mask ? mask->held : 0);
    o->base.path = up->path;
    o->base.read = op_read;
    o->base.close = op_close;
    *out = &o->base;
    return HDM_OK;
}
