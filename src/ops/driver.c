/* SPDX-License-Identifier: MIT */
/* driver.c — the op driver: shapes checked, operand read in step, strips handed to the op */
#include "ops/ops.h"

#include <stdio.h>
#include <stdlib.h>

/* An element-wise op as a source over its upstream (and its operand). */
typedef struct op_source {
    hdm__source base;
    hdm__source *up, *operand;
    hdm__op *op;
    hdm_image *in, *opd; /* input and operand rows, grown to the largest strip asked for */
    hdm__source *mask;   /* a second operand limiting the op (blend's mask), or NULL */
    hdm_image *msk;      /* its rows */
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
    return o->op->apply(o->op, o->in, o->operand ? o->opd : NULL, strip, s->next, rows, err);
}

static void op_close(hdm__source *s)
{
    op_source *o = (op_source *)s;
    hdm__source_close(o->up);
    hdm__source_close(o->operand);
    hdm__source_close(o->mask);
    hdm_image_free(o->msk);
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
    }
    if (st) {
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
