/* SPDX-License-Identifier: MIT */
/* blend.c — composite a top image over a base with a W3C blend mode */
#include "kernel/kernel.h"
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

/* Mode names, indexed by hdm__blend_mode: the keywords of W3C Compositing and Blending Level 1,
 * sections 10.2 (separable) and 10.3 (non-separable). The formulas live beside the mode
 * functions in kernel/scalar.c. */
static const char *const mode_names[HDM__BLEND_COUNT] = {
    "normal", "multiply", "screen", "overlay", "darken", "lighten", "color-dodge",
    "color-burn", "hard-light", "soft-light", "difference", "exclusion",
    "hue", "saturation", "color", "luminosity",
};

static int mode_find(const char *name)
{
    for (int i = 0; i < HDM__BLEND_COUNT; i++)
        if (strcmp(name, mode_names[i]) == 0)
            return i;
    return -1;
}

static hdm_status bad_mode(const char *name, hdm_error *err)
{
    char hint[64];
    return hdm__fail(err, HDM_ERR_ARG, NULL,
                     "blend: unknown mode '%s' (normal, multiply, screen, overlay, darken, "
                     "lighten, color-dodge, color-burn, hard-light, soft-light, difference, "
                     "exclusion, hue, saturation, color, luminosity)%s", name,
                     hdm__did_you_mean(name, strlen(name), mode_names, HDM__BLEND_COUNT, hint,
                                       sizeof hint));
}

/* The public modes are the kernel's, in the same order. */
_Static_assert((int)HDM_BLEND_NORMAL == HDM__BLEND_NORMAL &&
               (int)HDM_BLEND_EXCLUSION == HDM__BLEND_EXCLUSION &&
               (int)HDM_BLEND_HUE == HDM__BLEND_HUE &&
               (int)HDM_BLEND_LUMINOSITY == HDM__BLEND_LUMINOSITY &&
               HDM__BLEND_LUMINOSITY + 1 == HDM__BLEND_COUNT, "blend modes out of step");

const char *hdm_blend_mode_name(hdm_blend_mode mode)
{
    return (unsigned)mode < HDM__BLEND_COUNT ? mode_names[mode] : NULL;
}

hdm_status hdm_blend_mode_from_name(const char *name, hdm_blend_mode *out, hdm_error *err)
{
    if (!name || !out)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_blend_mode_from_name: NULL argument");
    int m = mode_find(name);
    if (m < 0)
        return bad_mode(name, err);
    *out = (hdm_blend_mode)m;
    return HDM_OK;
}

static bool has_alpha(uint32_t channels) { return channels == 2 || channels == 4; }

typedef struct blend_op {
    hdm__op base;
    unsigned mode;
    float opacity;
    bool linear;
    uint32_t nb, ns, nc;    /* colour planes of base, top and output (1 or 3) */
    bool ab, as, ao;        /* alpha planes */
    bool complements;       /* the mode divides by 1 − C: give it exact complements */
    float *buf;             /* every row buffer below, one allocation */
    float *cb, *cs, *icb, *ics, *bm, *alb, *als, *alo, *wb, *ws, *one;
    float *cb3[3], *cs3[3], *bm3[3]; /* a non-separable mode's whole colours */
    void *ones;             /* a row of M in the integer depths, for complements */
    void *tmp;              /* an integer row */
} blend_op;

/* dst = row as f32; idst (if wanted) = 1 − row, formed in the row's own depth where it is
 * exact (M − x for integers) and only then converted, so it keeps full relative precision. */
static void load(blend_op *b, float *dst, float *idst, const void *row, hdm_depth d, size_t n)
{
    const hdm__kernel *k = hdm__kern();
    hdm__convert_row(dst, HDM_F32, row, d, n);
    if (!idst)
        return;
    switch (d) {
    case HDM_U8: k->mulinv_u8(b->tmp, b->ones, row, n); break;
    case HDM_U16: k->mulinv_u16(b->tmp, b->ones, row, n); break;
    case HDM_F32: k->mulinv_f32(idst, b->one, row, n); return;
    }
    hdm__convert_row(idst, HDM_F32, b->tmp, d, n);
}

/* Decodes a row to linear light; its complement (if kept) is decoded from the exact
 * complement, not formed as 1 − the decoded value, which f32 cannot hold near 1. */
static void to_linear(float *c, float *ic, size_t n)
{
    const hdm__kernel *k = hdm__kern();
    k->srgb_to_linear_f32(c, c, n);
    if (ic)
        k->srgb_to_linear_inv_f32(ic, ic, n);
}

static hdm_status blend_apply(hdm__op *op, const hdm_image *in, hdm_image *t, hdm_image *out,
                              uint32_t y, uint32_t rows, hdm_error *err)
{
    (void)y;
    (void)err;
    blend_op *b = (blend_op *)op;
    const hdm__kernel *k = hdm__kern();
    size_t w = out->width;
    bool opaque = !b->ao;
    for (uint32_t r = 0; r < rows; r++) {
        if (!opaque) {
            /* αb = 1 without a plane; αs = opacity × the top's alpha (or opacity) */
            if (b->ab)
                load(b, b->alb, NULL, hdm_row(in, b->nb, r), in->depth, w);
            else
                memcpy(b->alb, b->one, w * sizeof *b->alb);
            if (b->as) {
                load(b, b->als, NULL, hdm_row(t, b->ns, r), t->depth, w);
                k->scale_f32(b->als, b->als, b->opacity, w);
            } else {
                k->scale_f32(b->als, b->one, b->opacity, w);
            }
            k->over_f32(b->alo, b->wb, b->ws, b->alb, b->als, w);
        }
        bool nonsep = b->mode >= HDM__BLEND_SEPARABLE;
        if (nonsep) {
            /* the whole colour at once: a gray side counts as R = G = B */
            for (uint32_t c = 0; c < 3; c++) {
                load(b, b->cb3[c], NULL, hdm_row(in, b->nb == 1 ? 0 : c, r), in->depth, w);
                load(b, b->cs3[c], NULL, hdm_row(t, b->ns == 1 ? 0 : c, r), t->depth, w);
                if (b->linear) {
                    to_linear(b->cb3[c], NULL, w);
                    to_linear(b->cs3[c], NULL, w);
                }
            }
            k->blend3_f32(b->bm3, (const float *const *)b->cb3, (const float *const *)b->cs3,
                          b->mode, w);
        }
        for (uint32_t c = 0; c < b->nc; c++) {
            float *cb = nonsep ? b->cb3[c] : b->cb, *cs = nonsep ? b->cs3[c] : b->cs;
            float *bm = nonsep ? b->bm3[c] : b->bm;
            if (!nonsep) {
                float *icb = b->complements ? b->icb : NULL;
                float *ics = b->complements ? b->ics : NULL;
                load(b, cb, icb, hdm_row(in, b->nb == 1 ? 0 : c, r), in->depth, w);
                load(b, cs, ics, hdm_row(t, b->ns == 1 ? 0 : c, r), t->depth, w);
                if (b->linear) {
                    to_linear(cb, icb, w);
                    to_linear(cs, ics, w);
                }
                switch (b->mode) {
                case HDM__BLEND_MULTIPLY: k->mul_f32(bm, cb, cs, w); break;
                case HDM__BLEND_SCREEN: k->screen_f32(bm, cb, cs, w); break;
                default: k->blend_f32(bm, cb, cs, icb, ics, b->mode, w); break;
                }
            }
            float *res = bm;
            if (opaque) {
                /* αb = αs' = 1 … but for opacity: C = Cb + opacity·(B − Cb) */
                if (b->opacity != 1.0f)
                    k->lerp_f32(res, cb, bm, b->opacity, w);
            } else {
                /* W3C 9.1: Cs' = (1 − αb)·Cs + αb·B(Cb, Cs), then source-over (5.1):
                 * co = Cs'·αs + Cb·αb·(1 − αs), C = co/αo = Cb·wb + Cs'·ws */
                k->lerpv_f32(bm, cs, bm, b->alb, w);
                k->mix_f32(res, cb, b->wb, bm, b->ws, w);
            }
            if (b->linear)
                k->linear_to_srgb_f32(res, res, w);
            hdm__convert_row(hdm_row(out, c, r), out->depth, res, HDM_F32, w);
        }
        if (!opaque)
            hdm__convert_row(hdm_row(out, b->nc, r), out->depth, b->alo, HDM_F32, w);
    }
    return HDM_OK;
}

static void blend_free(hdm__op *op)
{
    blend_op *b = (blend_op *)op;
    free(b->buf);
    free(b->ones);
    free(b->tmp);
    free(b);
}

typedef hdm__blend_args blend_args;

/* The blend op for a base and top of the shape sh. */
static hdm_status blend_make(const void *args, const hdm__op_shape *sh, hdm__op **out,
                             hdm_error *err)
{
    const blend_args *a = args;
    const hdm_info *in = &sh->in, *ti = &sh->operand;
    unsigned mode = a->mode;
    blend_op *b = calloc(1, sizeof *b);
    if (!b)
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    b->mode = mode;
    b->opacity = (float)a->opacity;
    b->linear = a->linear;
    b->ab = has_alpha(in->channels);
    b->as = has_alpha(ti->channels);
    b->ao = b->ab || b->as;
    b->nb = in->channels - b->ab;
    b->ns = ti->channels - b->as;
    b->nc = b->nb > b->ns ? b->nb : b->ns; /* a gray plane broadcasts over colour */
    b->complements = mode == HDM__BLEND_COLOR_DODGE || mode == HDM__BLEND_COLOR_BURN;
    b->base.out_info = *in;
    b->base.out_info.channels = b->nc + b->ao;
    b->base.out_info.depth = hdm__deeper(in->depth, ti->depth);
    b->base.in_depth = in->depth; /* the base is read as it is; the top promoted first */
    b->base.operand_depth = b->base.out_info.depth;
    b->base.apply = blend_apply;
    b->base.free = blend_free;
    size_t w = in->width, bytes;
    /* 11 rows of floats (20 for a non-separable mode); every size through the one
     * overflow-checked helper */
    bool ok = hdm_size_bytes(in->width, 20, 1, HDM_F32, &bytes) == HDM_OK &&
              (b->buf = malloc(bytes)) && (b->ones = malloc(w * sizeof(uint16_t))) &&
              (b->tmp = malloc(w * sizeof(uint16_t)));
    if (!ok) {
        blend_free(&b->base);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    float **rows[] = {&b->cb, &b->cs, &b->icb, &b->ics, &b->bm, &b->alb, &b->als,
                      &b->alo, &b->wb, &b->ws, &b->one, &b->cb3[0], &b->cb3[1], &b->cb3[2],
                      &b->cs3[0], &b->cs3[1], &b->cs3[2], &b->bm3[0], &b->bm3[1], &b->bm3[2]};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        *rows[i] = b->buf + i * w;
    for (size_t i = 0; i < w; i++)
        b->one[i] = 1.0f;
    /* a row of M for complements: all bits set reads as 65535 in u16 and 255 in u8 */
    memset(b->ones, 0xff, w * sizeof(uint16_t));
    *out = &b->base;
    return HDM_OK;
}

/* ---- the step: blend:[MODE:]TOP[:OPACITY][:linear] ---- */

static void blend_args_free(void *p)
{
    blend_args *a = p;
    if (a)
        free(a->path);
    free(a);
}

static hdm_status set_opacity(blend_args *a, const char *v, hdm_error *err)
{
    if (!hdm__parse_double(v, &a->opacity) || a->opacity < 0 || a->opacity > 1)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "blend: opacity must be a number from 0 to 1, "
                         "not '%s'", v);
    return HDM_OK;
}

static hdm_status blend_parse_into(blend_args *a, const char *const *f, size_t n,
                                   hdm_error *err)
{
    const char *pos[3], *v;
    size_t npos = 0;
    hdm_status st;
    bool linear_set = false, mode_set = false, opacity_set = false;
    for (size_t i = 0; i < n; i++) {
        bool placed;
        if ((st = hdm__place_field(&a->place, "blend", HDM__OUTSIDE_CLEAR, f[i], &placed, err)))
            return st;
        if (placed)
            continue;
        if (strcmp(f[i], "linear") == 0) {
            if (linear_set)
                return hdm__fail(err, HDM_ERR_ARG, NULL, "blend: linear given twice");
            a->linear = linear_set = true;
        } else if ((v = hdm__field_value(f[i], "mode"))) {
            if (mode_set)
                return hdm__fail(err, HDM_ERR_ARG, NULL, "blend: mode given twice");
            mode_set = true;
            int m = mode_find(v);
            if (m < 0)
                return bad_mode(v, err);
            a->mode = (unsigned)m;
        } else if ((v = hdm__field_value(f[i], "opacity"))) {
            if (opacity_set)
                return hdm__fail(err, HDM_ERR_ARG, NULL, "blend: opacity given twice");
            opacity_set = true;
            if ((st = set_opacity(a, v, err)))
                return st;
        } else if (!strchr(f[i], '=') && *f[i] && npos < 3) {
            pos[npos++] = f[i];
        } else {
            return hdm__bad_field(&hdm__blend_def, f[i], err);
        }
    }
    /* MODE comes first when there is more than the top file and the second is no number */
    size_t p = 0;
    double d;
    if (npos >= 2 && (mode_find(pos[0]) >= 0 || !hdm__parse_double(pos[1], &d))) {
        int m = mode_find(pos[0]);
        if (m < 0)
            return bad_mode(pos[0], err);
        if (mode_set)
            return hdm__fail(err, HDM_ERR_ARG, NULL, "blend: mode given twice");
        a->mode = (unsigned)m;
        p = 1;
    }
    if (p >= npos)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "blend: needs a top image (%s)",
                         hdm__blend_def.pub.syntax);
    if (!(a->path = hdm__strdup(pos[p++])))
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    if (p < npos && opacity_set)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "blend: opacity given twice");
    if (p < npos && (st = set_opacity(a, pos[p++], err)))
        return st;
    if (p < npos)
        return hdm__bad_field(&hdm__blend_def, pos[p], err);
    return hdm__place_check(&a->place, "blend", err);
}

static hdm_status blend_parse(const char *const *f, size_t n, void **args, hdm_error *err)
{
    blend_args *a = calloc(1, sizeof *a);
    if (!a)
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    a->mode = HDM__BLEND_MULTIPLY;
    a->opacity = 1.0;
    hdm__place_init(&a->place);
    hdm_status st = blend_parse_into(a, f, n, err);
    if (st) {
        blend_args_free(a);
        return st;
    }
    *args = a;
    return HDM_OK;
}

static const char *blend_operand(const void *args) { return ((const blend_args *)args)->path; }

static const hdm__place *blend_place(const void *args)
{
    return &((const blend_args *)args)->place;
}

const hdm__opdef hdm__blend_def = {
    .pub = {
        .name = "blend",
        .operands = "TOP",
        .syntax = "blend:[MODE:]TOP[:OPACITY][:linear]",
        .summary = "composite TOP over the image with a W3C blend mode (default multiply)",
        .params = (const hdm_param[]){
            {"mode", "M", "normal, multiply (default), screen, overlay, darken, lighten, "
             "color-dodge, color-burn, hard-light, soft-light, difference, exclusion; and "
             "the non-separable hue, saturation, color, luminosity",
             "normal multiply screen overlay darken lighten color-dodge color-burn hard-light "
             "soft-light difference exclusion hue saturation color luminosity"},
            {"opacity", "F", "the top's opacity, 0 to 1 (default 1)", NULL},
            {"linear", NULL, "blend in linear light (exact sRGB decode and encode)", NULL},
            HDM__PLACE_PARAMS, /* a placed top is transparent where it does not reach */
            {NULL, NULL, NULL, NULL}},
    },
    .parse = blend_parse,
    .free_args = blend_args_free,
    .operand = blend_operand,
    .place = blend_place,
    .outside = HDM__OUTSIDE_CLEAR,
    .resample_premultiplied = true,
    .make = blend_make,
};
