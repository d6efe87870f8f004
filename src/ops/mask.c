/* SPDX-License-Identifier: MIT */
/* mask.c — multiply an image (or only its alpha) by a gray mask */
#include "kernel/kernel.h"
#include "ops/filter.h"
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct mask_op {
    hdm__op base;
    const char *path; /* the mask's name in messages (its source outlives the op) */
    unsigned flags;
    bool check_gray; /* a colour mask is accepted only where R = G = B */
    double threshold; /* T ≥ 0: the mask is made binary here (m ≥ T·M → M, else 0) */
} mask_op;

/* The least integer sample m with m ≥ T·M, with slack for T·M's own rounding (0.2·255 is
 * 51.000000000000007 in double, and 51 should pass). */
static uint16_t threshold_int(double t, hdm_depth d)
{
    double m = d == HDM_U8 ? 255 : 65535;
    return (uint16_t)ceil(t * m - 1e-9 * m);
}

/* Makes plane 0 of the mask strip binary: M where m ≥ T·M, else 0. */
static void threshold(double t, hdm_image *m, uint32_t rows)
{
    const hdm__kernel *kt = hdm__kern();
    uint16_t t_int = m->depth == HDM_F32 ? 0 : threshold_int(t, m->depth);
    for (uint32_t r = 0; r < rows; r++) {
        void *row = hdm_row(m, 0, r);
        switch (m->depth) {
        case HDM_U8: kt->threshold_u8(row, row, (uint8_t)t_int, m->width); break;
        case HDM_U16: kt->threshold_u16(row, row, t_int, m->width); break;
        case HDM_F32: kt->threshold_f32(row, row, (float)t, m->width); break;
        }
    }
}

static bool has_alpha(uint32_t channels) { return channels == 2 || channels == 4; }

static void product(void *dst, const void *a, const void *m, hdm_depth d, bool inv, size_t n)
{
    const hdm__kernel *k = hdm__kern();
    switch (d) {
    case HDM_U8: (inv ? k->mulinv_u8 : k->mul_u8)(dst, a, m, n); break;
    case HDM_U16: (inv ? k->mulinv_u16 : k->mul_u16)(dst, a, m, n); break;
    case HDM_F32: (inv ? k->mulinv_f32 : k->mul_f32)(dst, a, m, n); break;
    }
}

/* A new alpha plane for an opaque image: M · mask = mask, or M − mask inverted. */
static void alpha_from_mask(void *dst, const void *m, hdm_depth d, bool inv, size_t n)
{
    if (!inv) {
        memcpy(dst, m, n * (size_t)d);
        return;
    }
    for (size_t i = 0; i < n; i++)
        switch (d) {
        case HDM_U8: ((uint8_t *)dst)[i] = (uint8_t)(255u - ((const uint8_t *)m)[i]); break;
        case HDM_U16: ((uint16_t *)dst)[i] = (uint16_t)(65535u - ((const uint16_t *)m)[i]); break;
        case HDM_F32: ((float *)dst)[i] = 1.0f - ((const float *)m)[i]; break;
        }
}

/* A colour mask is taken only where it is gray: R = G = B in rows [y, y + rows) of m. */
static hdm_status gray_rows(const hdm_image *m, uint32_t y, uint32_t rows, const char *path,
                            hdm_error *err)
{
    size_t rowbytes = (size_t)m->width * m->depth;
    for (uint32_t r = 0; r < rows; r++)
        if (memcmp(hdm_row(m, 0, r), hdm_row(m, 1, r), rowbytes) != 0 ||
            memcmp(hdm_row(m, 0, r), hdm_row(m, 2, r), rowbytes) != 0)
            return hdm__fail(err, HDM_ERR_SHAPE, path,
                             "mask is not gray (its colour channels differ in row %u); "
                             "convert it to grayscale first", y + r);
    return HDM_OK;
}

/* A colour mask's rows checked for gray as they are read, before feathering blurs a colour
 * row into its neighbours (and the message would name the wrong row). */
typedef struct gray_source {
    hdm__source base;
    hdm__source *up;
} gray_source;

static hdm_status gray_read(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    gray_source *g = (gray_source *)s;
    hdm_status st = hdm__source_read(g->up, strip, rows, err);
    return st ? st : gray_rows(strip, s->next, rows, s->path, err);
}

static void gray_close(hdm__source *s)
{
    hdm__source_close(((gray_source *)s)->up);
    free(s);
}

/* Takes up. */
static hdm_status gray_source_open(hdm__source *up, hdm__source **out, hdm_error *err)
{
    gray_source *g = calloc(1, sizeof *g);
    if (!g) {
        hdm_status st = hdm__fail(err, HDM_ERR_NOMEM, up->path, "out of memory");
        hdm__source_close(up);
        return st;
    }
    g->up = up;
    g->base.info = up->info;
    g->base.path = up->path;
    g->base.held = up->held;
    g->base.read = gray_read;
    g->base.close = gray_close;
    *out = &g->base;
    return HDM_OK;
}

/* With a feather, the threshold comes first: the mask is made binary as it is read, and the
 * blur then gives the binary edge its softness. */
typedef struct threshold_source {
    hdm__source base;
    hdm__source *up;
    double t;
} threshold_source;

static hdm_status threshold_read(hdm__source *s, hdm_image *strip, uint32_t rows,
                                 hdm_error *err)
{
    threshold_source *b = (threshold_source *)s;
    hdm_status st = hdm__source_read(b->up, strip, rows, err);
    if (!st)
        threshold(b->t, strip, rows);
    return st;
}

static void threshold_close(hdm__source *s)
{
    hdm__source_close(((threshold_source *)s)->up);
    free(s);
}

/* Takes up. */
static hdm_status threshold_source_open(hdm__source *up, double t, hdm__source **out,
                                        hdm_error *err)
{
    threshold_source *b = calloc(1, sizeof *b);
    if (!b) {
        hdm_status st = hdm__fail(err, HDM_ERR_NOMEM, up->path, "out of memory");
        hdm__source_close(up);
        return st;
    }
    b->up = up;
    b->t = t;
    b->base.info = up->info;
    b->base.path = up->path;
    b->base.held = up->held;
    b->base.read = threshold_read;
    b->base.close = threshold_close;
    *out = &b->base;
    return HDM_OK;
}

static hdm_status mask_apply(hdm__op *op, const hdm_image *in, hdm_image *m, hdm_image *out,
                             uint32_t y, uint32_t rows, hdm_error *err)
{
    mask_op *k = (mask_op *)op;
    hdm_status st = k->check_gray ? gray_rows(m, y, rows, k->path, err) : HDM_OK;
    if (st)
        return st;
    if (k->threshold >= 0)
        threshold(k->threshold, m, rows);
    bool inv = k->flags & HDM_MASK_INVERT, alpha_only = k->flags & HDM_MASK_ALPHA;
    uint32_t alpha = out->channels - 1;
    for (uint32_t c = 0; c < out->channels; c++)
        for (uint32_t r = 0; r < rows; r++) {
            void *d = hdm_row(out, c, r);
            const void *mrow = hdm_row(m, 0, r);
            if (alpha_only && c == alpha && !has_alpha(in->channels)) {
                alpha_from_mask(d, mrow, out->depth, inv, out->width);
                continue;
            }
            hdm__convert_row(d, out->depth, hdm_row(in, c, r), in->depth, out->width);
            if (!alpha_only || c == alpha)
                product(d, d, mrow, out->depth, inv, out->width);
        }
    return HDM_OK;
}

static void mask_free(hdm__op *op) { free(op); }

/* ---- the step: mask:MASK[:invert][:alpha][:feather=SIGMA][:threshold=T] ---- */

typedef hdm__mask_args mask_args;

static void mask_args_free(void *p)
{
    mask_args *a = p;
    if (a) {
        free(a->path);
        hdm__fkernel_free(a->feather);
    }
    free(a);
}

static hdm_status mask_parse(const char *const *f, size_t n, void **args, hdm_error *err)
{
    mask_args *a = calloc(1, sizeof *a);
    if (!a)
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    a->threshold = -1;
    hdm__place_init(&a->place);
    for (size_t i = 0; i < n; i++) {
        const char *v;
        double d;
        bool taken;
        hdm_status pst = hdm__place_field(&a->place, "mask", HDM__OUTSIDE_VALUE, f[i], &taken,
                                          err);
        if (pst) {
            mask_args_free(a);
            return pst;
        }
        if (taken)
            continue;
        const char *twice = (hdm__field_value(f[i], "feather") && a->feather) ? "feather"
                            : (hdm__field_value(f[i], "threshold") && a->threshold >= 0)
                                ? "threshold"
                            : (strcmp(f[i], "invert") == 0 && (a->flags & HDM_MASK_INVERT))
                                ? "invert"
                            : (strcmp(f[i], "alpha") == 0 && (a->flags & HDM_MASK_ALPHA))
                                ? "alpha"
                                : NULL;
        if (twice) {
            mask_args_free(a);
            return hdm__fail(err, HDM_ERR_ARG, NULL, "mask: %s given twice", twice);
        }
        if ((v = hdm__field_value(f[i], "feather")) && !a->feather) {
            hdm_status st = hdm__parse_double(v, &d)
                                ? hdm__fkernel_gaussian(d, &a->feather, err)
                                : hdm__fail(err, HDM_ERR_ARG, NULL, "'%s' %s", v,
                                            hdm__number_problem(v));
            if (st) {
                if (st == HDM_ERR_ARG)
                    hdm__fail_prefix(err, st, "mask: feather ");
                mask_args_free(a);
                return st;
            }
        } else if ((v = hdm__field_value(f[i], "threshold")) && a->threshold < 0) {
            if (!hdm__parse_double(v, &a->threshold) || a->threshold < 0 || a->threshold > 1) {
                mask_args_free(a);
                return hdm__fail(err, HDM_ERR_ARG, NULL,
                                 "mask: threshold must be a number from 0 to 1, not '%s'", v);
            }
        } else if (strcmp(f[i], "invert") == 0)
            a->flags |= HDM_MASK_INVERT;
        else if (strcmp(f[i], "alpha") == 0)
            a->flags |= HDM_MASK_ALPHA;
        else if (!a->path && *f[i] && !strchr(f[i], '=')) {
            if (!(a->path = hdm__strdup(f[i]))) {
                mask_args_free(a);
                return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
            }
        } else if (!a->path && !*f[i]) { /* "mask:" */
            mask_args_free(a);
            return hdm__fail(err, HDM_ERR_ARG, NULL, "mask: needs a mask file (%s)",
                             hdm__mask_def.pub.syntax);
        } else {
            mask_args_free(a);
            return hdm__bad_field(&hdm__mask_def, f[i], err);
        }
    }
    if (!a->path) {
        mask_args_free(a);
        return hdm__fail(err, HDM_ERR_ARG, NULL, "mask: needs a mask file (%s)",
                         hdm__mask_def.pub.syntax);
    }
    hdm_status st = hdm__place_check(&a->place, "mask", err);
    if (st) {
        mask_args_free(a);
        return st;
    }
    if (a->place.outside < 0) /* unmasked: the image as it is, inverted or not */
        a->place.outside = a->flags & HDM_MASK_INVERT ? 0 : 1;
    *args = a;
    return HDM_OK;
}

/* Feathering blurs the mask's own samples: its alpha is ignored, so no premultiplying. A
 * threshold comes before the blur, so a binarised mask gets a soft edge. */
static hdm_status mask_prepare(const void *args, hdm__source *m, const hdm_options *opt,
                               hdm__source **out, hdm_error *err)
{
    const mask_args *a = args;
    if (!a->feather) {
        *out = m;
        return HDM_OK;
    }
    if (m->info.channels >= 3) {
        hdm_status st = gray_source_open(m, &m, err); /* takes m */
        if (st)
            return st;
    }
    if (a->threshold >= 0) {
        hdm_status st = threshold_source_open(m, a->threshold, &m, err); /* takes m */
        if (st)
            return st;
    }
    return hdm__filter_source(m, a->feather, HDM__BORDER_CLAMP, false, opt, out, err);
}

static hdm_status mask_make(const void *args, const hdm__op_shape *sh, hdm__op **out,
                            hdm_error *err)
{
    const mask_args *a = args;
    const hdm_info *in = &sh->in;
    double thresh = a->threshold;
    mask_op *k = calloc(1, sizeof *k);
    if (!k)
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    k->path = sh->operand_path;
    k->flags = a->flags;
    k->check_gray = sh->operand.channels >= 3 && !a->feather; /* else checked before it */
    k->base.out_info = *in;
    if ((a->flags & HDM_MASK_ALPHA) && !has_alpha(in->channels))
        k->base.out_info.channels = in->channels + 1;
    k->base.out_info.depth = hdm__deeper(in->depth, sh->operand.depth);
    k->base.in_depth = in->depth;
    k->base.operand_depth = k->base.out_info.depth;
    k->base.apply = mask_apply;
    k->base.free = mask_free;
    k->threshold = a->feather ? -1 : thresh; /* with a feather: done before it, as read */
    *out = &k->base;
    return HDM_OK;
}

static const char *mask_operand(const void *args) { return ((const mask_args *)args)->path; }

static const hdm__place *mask_place(const void *args) { return &((const mask_args *)args)->place; }

const hdm__opdef hdm__mask_def = {
    .pub = {
        .name = "mask",
        .operands = "MASK",
        .syntax = "mask:MASK[:invert][:alpha][:feather=SIGMA][:threshold=T]",
        .summary = "multiply every channel of the image (or only its alpha) by a gray mask",
        .params = (const hdm_param[]){
            {"invert", NULL, "use M - mask, the mask's complement", NULL},
            {"alpha", NULL, "multiply only the alpha plane, adding one if absent (a cut-out)", NULL},
            {"feather", "SIGMA", "blur the mask first with a gaussian of this sigma (pixels)", NULL},
            {"threshold", "T", "make the mask binary: M where mask >= T·M, else 0 (T in 0..1); with "
             "feather, before the blur, so the binary edge is softened", NULL},
            HDM__PLACE_PARAMS,
            HDM__OUTSIDE_PARAM("1, unmasked (0 with invert); invert, threshold and feather "
                               "then apply to it as to the mask"),
            {NULL, NULL, NULL, NULL}},
    },
    .parse = mask_parse,
    .free_args = mask_args_free,
    .operand = mask_operand,
    .prepare_operand = mask_prepare,
    .place = mask_place,
    .outside = HDM__OUTSIDE_VALUE,
    .resample_premultiplied = false, /* its alpha is ignored */
    .make = mask_make,
};
