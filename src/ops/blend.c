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

/* Operator keywords, indexed by hdm__composite_op: W3C Compositing section 9.1, spelled as
 * the spec and CSS spell them. Fa and Fb are in kernel.h (hdm__composite_factors). */
static const char *const op_names[HDM__OP_COUNT] = {
    "clear", "copy", "destination", "source-over", "destination-over", "source-in",
    "destination-in", "source-out", "destination-out", "source-atop", "destination-atop",
    "xor", "lighter",
};

/* ImageMagick's -compose names for the same operators, taken as aliases; every name matches
 * in any case. */
static const struct { const char *name; unsigned op; } op_aliases[] = {
    {"Src", HDM__OP_COPY}, {"Dst", HDM__OP_DESTINATION}, {"Over", HDM__OP_SOURCE_OVER},
    {"SrcOver", HDM__OP_SOURCE_OVER}, {"DstOver", HDM__OP_DESTINATION_OVER},
    {"In", HDM__OP_SOURCE_IN}, {"SrcIn", HDM__OP_SOURCE_IN}, {"DstIn", HDM__OP_DESTINATION_IN},
    {"Out", HDM__OP_SOURCE_OUT}, {"SrcOut", HDM__OP_SOURCE_OUT},
    {"DstOut", HDM__OP_DESTINATION_OUT}, {"Atop", HDM__OP_SOURCE_ATOP},
    {"SrcAtop", HDM__OP_SOURCE_ATOP}, {"DstAtop", HDM__OP_DESTINATION_ATOP},
    {"Plus", HDM__OP_LIGHTER},
};
enum { N_ALIASES = sizeof op_aliases / sizeof op_aliases[0] };

_Static_assert((int)HDM_OP_CLEAR == HDM__OP_CLEAR &&
               (int)HDM_OP_SOURCE_OVER == HDM__OP_SOURCE_OVER &&
               (int)HDM_OP_XOR == HDM__OP_XOR && (int)HDM_OP_LIGHTER == HDM__OP_LIGHTER &&
               HDM__OP_LIGHTER + 1 == HDM__OP_COUNT, "composite operators out of step");

/* ASCII case-insensitive equality (the keywords are ASCII; no locale). */
static bool same_word(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

static int op_find(const char *name)
{
    for (int i = 0; i < HDM__OP_COUNT; i++)
        if (same_word(name, op_names[i]))
            return i;
    for (int i = 0; i < N_ALIASES; i++)
        if (same_word(name, op_aliases[i].name))
            return (int)op_aliases[i].op;
    return -1;
}

static hdm_status bad_op(const char *name, hdm_error *err)
{
    const char *names[HDM__OP_COUNT + N_ALIASES];
    for (int i = 0; i < HDM__OP_COUNT; i++)
        names[i] = op_names[i];
    for (int i = 0; i < N_ALIASES; i++)
        names[HDM__OP_COUNT + i] = op_aliases[i].name;
    char hint[64];
    return hdm__fail(err, HDM_ERR_ARG, NULL,
                     "blend: unknown operator '%s' (clear, copy, destination, source-over, "
                     "destination-over, source-in, destination-in, source-out, destination-out, "
                     "source-atop, destination-atop, xor, lighter; or ImageMagick's SrcAtop, "
                     "DstIn, Plus, ...)%s", name,
                     hdm__did_you_mean(name, strlen(name), names, HDM__OP_COUNT + N_ALIASES,
                                       hint, sizeof hint));
}

const char *hdm_composite_op_name(hdm_composite_op op)
{
    return (unsigned)op < HDM__OP_COUNT ? op_names[op] : NULL;
}

hdm_status hdm_composite_op_from_name(const char *name, hdm_composite_op *out, hdm_error *err)
{
    if (!name || !out)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_composite_op_from_name: NULL argument");
    int o = op_find(name);
    if (o < 0)
        return bad_op(name, err);
    *out = (hdm_composite_op)o;
    return HDM_OK;
}

static bool has_alpha(uint32_t channels) { return channels == 2 || channels == 4; }

/* Whether the operator leaves an opaque base opaque for every top alpha αs in [lo, hi]: with
 * αb = 1, αo = αs·Fa + Fb is linear in αs (Fa = fa0 + fa1, Fb = fb0 + fb1·αs), so it is 1
 * throughout when it is 1 at both ends. Evaluated in double, where these sums are exact. */
static bool keeps_opaque(unsigned op, double lo, double hi)
{
    float f[4];
    bool clamp = hdm__composite_factors(op, f);
    for (int e = 0; e < 2; e++) {
        double s = e ? hi : lo;
        double o = s * (f[0] + f[1]) + (f[2] + f[3] * s);
        if (clamp && o > 1)
            o = 1;
        if (o != 1)
            return false;
    }
    return true;
}

typedef struct blend_op {
    hdm__op base;
    unsigned mode, op;
    float opacity;
    bool linear;
    uint32_t nb, ns, nc;    /* colour planes of base, top and output (1 or 3) */
    bool ab, as, ao;        /* alpha planes */
    bool masked;            /* αs is also multiplied by a mask's plane 0 */
    bool mask_colour;       /* … a colour one, accepted only where R = G = B */
    const char *mask_path;  /* its name in messages (its source outlives the op) */
    bool fixed;             /* αb = 1 and αs = opacity everywhere: weights made once */
    bool source;            /* Fa is not always 0: the top's colour counts */
    bool complements;       /* the mode divides by 1 − C: give it exact complements */
    float *buf;             /* every row buffer below, one allocation */
    float *cb, *cs, *icb, *ics, *bm, *alb, *als, *alo, *wb, *ws, *one, *msk;
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

/* Row r of the mask into b->msk, a colour mask only where it is gray (y: the strip's first row
 * in the image, for the message). */
static hdm_status load_mask(blend_op *b, const hdm_image *m, uint32_t y, uint32_t r,
                            hdm_error *err)
{
    size_t rowbytes = (size_t)m->width * m->depth;
    if (b->mask_colour && (memcmp(hdm_row(m, 0, r), hdm_row(m, 1, r), rowbytes) != 0 ||
                           memcmp(hdm_row(m, 0, r), hdm_row(m, 2, r), rowbytes) != 0))
        return hdm__fail(err, HDM_ERR_SHAPE, b->mask_path,
                         "mask is not gray (its colour channels differ in row %u); convert it "
                         "to grayscale first", y + r);
    hdm__convert_row(b->msk, HDM_F32, hdm_row(m, 0, r), m->depth, m->width);
    return HDM_OK;
}

/* αb, αs (opacity and mask folded in) and the operator's weights for row r. */
static hdm_status weights(blend_op *b, const hdm_image *in, const hdm_image *t, uint32_t y,
                          uint32_t r, hdm_error *err)
{
    const hdm__kernel *k = hdm__kern();
    size_t w = in->width;
    if (b->ab)
        load(b, b->alb, NULL, hdm_row(in, b->nb, r), in->depth, w);
    if (b->as) {
        load(b, b->als, NULL, hdm_row(t, b->ns, r), t->depth, w);
        if (b->opacity != 1.0f)
            k->scale_f32(b->als, b->als, b->opacity, w);
    } else {
        k->scale_f32(b->als, b->one, b->opacity, w);
    }
    if (b->masked) {
        hdm_status st = load_mask(b, b->base.mask, y, r, err);
        if (st)
            return st;
        k->mul_f32(b->als, b->als, b->msk, w);
    }
    k->composite_f32(b->alo, b->wb, b->ws, b->ab ? b->alb : b->one, b->als, b->op, w);
    return HDM_OK;
}

/* B(Cb, Cs) of colour plane c into the returned row (row r); the base's colour in b->cb or
 * b->cb3[c] (decoded to linear light if asked), the top's in *cs. */
static float *blend_row(blend_op *b, const hdm_image *in, const hdm_image *t, uint32_t c,
                        uint32_t r, float **cs)
{
    const hdm__kernel *k = hdm__kern();
    size_t w = in->width;
    if (b->mode >= HDM__BLEND_SEPARABLE) {
        *cs = b->cs3[c];
        return b->bm3[c];
    }
    float *icb = b->complements ? b->icb : NULL, *ics = b->complements ? b->ics : NULL;
    load(b, b->cb, icb, hdm_row(in, b->nb == 1 ? 0 : c, r), in->depth, w);
    *cs = b->cs;
    if (!b->source) {
        if (b->linear)
            to_linear(b->cb, NULL, w);
        return NULL;
    }
    load(b, b->cs, ics, hdm_row(t, b->ns == 1 ? 0 : c, r), t->depth, w);
    if (b->linear) {
        to_linear(b->cb, icb, w);
        to_linear(b->cs, ics, w);
    }
    switch (b->mode) {
    case HDM__BLEND_NORMAL: return b->cs; /* B = Cs */
    case HDM__BLEND_MULTIPLY: k->mul_f32(b->bm, b->cb, b->cs, w); break;
    case HDM__BLEND_SCREEN: k->screen_f32(b->bm, b->cb, b->cs, w); break;
    default: k->blend_f32(b->bm, b->cb, b->cs, icb, ics, b->mode, w); break;
    }
    return b->bm;
}

static hdm_status blend_apply(hdm__op *op, const hdm_image *in, hdm_image *t, hdm_image *out,
                              uint32_t y, uint32_t rows, hdm_error *err)
{
    blend_op *b = (blend_op *)op;
    const hdm__kernel *k = hdm__kern();
    size_t w = out->width;
    bool nonsep = b->mode >= HDM__BLEND_SEPARABLE;
    for (uint32_t r = 0; r < rows; r++) {
        hdm_status st = b->fixed ? HDM_OK : weights(b, in, t, y, r, err);
        if (st)
            return st;
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
            float *cs, *bm = blend_row(b, in, t, c, r, &cs);
            float *cb = nonsep ? b->cb3[c] : b->cb, *res = b->bm;
            if (b->fixed && b->op == HDM__OP_SOURCE_OVER) {
                /* αb = 1, αs = opacity: C = Cb + opacity·(B − Cb) */
                res = bm;
                if (b->opacity != 1.0f)
                    k->lerp_f32(res, cb, bm, b->opacity, w);
            } else if (!bm) {
                /* Fa = 0 (clear, destination, destination-in, destination-out): C = Cb·wb */
                k->mul_f32(res, cb, b->wb, w);
            } else {
                /* W3C 9.1: Cs' = (1 − αb)·Cs + αb·B(Cb, Cs) (just B where αb = 1), then
                 * co = αs·Fa·Cs' + αb·Fb·Cb, C = co/αo = Cb·wb + Cs'·ws */
                if (b->ab && bm != cs) {
                    k->lerpv_f32(b->bm, cs, bm, b->alb, w);
                    bm = b->bm;
                }
                k->mix_f32(res, cb, b->wb, bm, b->ws, w);
            }
            if (b->linear)
                k->linear_to_srgb_f32(res, res, w);
            hdm__convert_row(hdm_row(out, c, r), out->depth, res, HDM_F32, w);
        }
        if (b->ao)
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

/* The blend op for a base and top (and mask) of the shape sh. */
static hdm_status blend_make(const void *args, const hdm__op_shape *sh, hdm__op **out,
                             hdm_error *err)
{
    const blend_args *a = args;
    const hdm_info *in = &sh->in, *ti = &sh->operand, *mi = &sh->mask;
    unsigned mode = a->mode;
    blend_op *b = calloc(1, sizeof *b);
    if (!b)
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    b->mode = mode;
    b->op = a->op;
    b->opacity = (float)a->opacity;
    b->linear = a->linear;
    b->ab = has_alpha(in->channels);
    b->as = has_alpha(ti->channels);
    b->masked = sh->mask_path != NULL;
    b->mask_colour = b->masked && mi->channels >= 3;
    b->mask_path = sh->mask_path;
    b->fixed = !b->ab && !b->as && !b->masked;
    /* an alpha plane when either side has one, or when the operator makes two opaque images
     * partly transparent (clear; copy at opacity < 1; xor unless opacity is 0; …) */
    b->ao = b->ab || b->as ||
            !keeps_opaque(b->op, b->masked ? 0 : a->opacity, a->opacity);
    float f[4];
    hdm__composite_factors(b->op, f);
    b->source = f[0] != 0 || f[1] != 0;
    b->nb = in->channels - b->ab;
    b->ns = ti->channels - b->as;
    b->nc = b->nb > b->ns ? b->nb : b->ns; /* a gray plane broadcasts over colour */
    b->complements = mode == HDM__BLEND_COLOR_DODGE || mode == HDM__BLEND_COLOR_BURN;
    b->base.out_info = *in;
    b->base.out_info.channels = b->nc + b->ao;
    b->base.out_info.depth = hdm__deeper(in->depth, ti->depth);
    if (b->masked)
        b->base.out_info.depth = hdm__deeper(b->base.out_info.depth, mi->depth);
    b->base.in_depth = in->depth; /* the base is read as it is; the top promoted first */
    b->base.operand_depth = b->base.out_info.depth;
    b->base.mask_depth = mi->depth; /* the mask as it is */
    b->base.apply = blend_apply;
    b->base.free = blend_free;
    size_t w = in->width, bytes;
    /* 12 rows of floats (21 for a non-separable mode); every size through the one
     * overflow-checked helper */
    bool ok = hdm_size_bytes(in->width, 21, 1, HDM_F32, &bytes) == HDM_OK &&
              (b->buf = malloc(bytes)) && (b->ones = malloc(w * sizeof(uint16_t))) &&
              (b->tmp = malloc(w * sizeof(uint16_t)));
    if (!ok) {
        blend_free(&b->base);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    float **rows[] = {&b->cb, &b->cs, &b->icb, &b->ics, &b->bm, &b->alb, &b->als, &b->alo,
                      &b->wb, &b->ws, &b->one, &b->msk, &b->cb3[0], &b->cb3[1], &b->cb3[2],
                      &b->cs3[0], &b->cs3[1], &b->cs3[2], &b->bm3[0], &b->bm3[1], &b->bm3[2]};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        *rows[i] = b->buf + i * w;
    for (size_t i = 0; i < w; i++)
        b->one[i] = 1.0f;
    /* a row of M for complements: all bits set reads as 65535 in u16 and 255 in u8 */
    memset(b->ones, 0xff, w * sizeof(uint16_t));
    if (b->fixed) {
        /* αb = 1 and αs = opacity for every pixel: the weights once, for every row */
        const hdm__kernel *k = hdm__kern();
        k->scale_f32(b->als, b->one, b->opacity, w);
        k->composite_f32(b->alo, b->wb, b->ws, b->one, b->als, b->op, w);
    }
    *out = &b->base;
    return HDM_OK;
}

/* ---- the step: blend:[MODE:]TOP[:OPACITY][:linear][:op=OP][:mask=M] ---- */

static void blend_args_free(void *p)
{
    blend_args *a = p;
    if (a) {
        free(a->path);
        free(a->mask);
    }
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
    bool linear_set = false, mode_set = false, opacity_set = false, op_set = false;
    const char *mask_field = NULL; /* the first of the mask's placement fields */
    for (size_t i = 0; i < n; i++) {
        bool placed;
        if ((st = hdm__place_field_named(&a->mask_place, "blend", "mask-", HDM__OUTSIDE_VALUE,
                                         f[i], &placed, err)))
            return st;
        if (placed && !mask_field)
            mask_field = f[i];
        if (!placed &&
            (st = hdm__place_field(&a->place, "blend", HDM__OUTSIDE_CLEAR, f[i], &placed, err)))
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
        } else if ((v = hdm__field_value(f[i], "op"))) {
            if (op_set)
                return hdm__fail(err, HDM_ERR_ARG, NULL, "blend: op given twice");
            op_set = true;
            int o = op_find(v);
            if (o < 0)
                return bad_op(v, err);
            a->op = (unsigned)o;
        } else if ((v = hdm__field_value(f[i], "mask"))) {
            if (a->mask)
                return hdm__fail(err, HDM_ERR_ARG, NULL, "blend: mask given twice");
            if (!*v)
                return hdm__fail(err, HDM_ERR_ARG, NULL, "blend: mask= names no file");
            if (!(a->mask = hdm__strdup(v)))
                return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
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
    if (mask_field && !a->mask)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "blend: %s places a mask, but no mask is "
                         "given (mask=M)", mask_field);
    if ((st = hdm__place_check_named(&a->mask_place, "blend", "mask-", "mask", err)))
        return st;
    return hdm__place_check(&a->place, "blend", err);
}

static hdm_status blend_parse(const char *const *f, size_t n, void **args, hdm_error *err)
{
    blend_args *a = calloc(1, sizeof *a);
    if (!a)
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    a->mode = HDM__BLEND_MULTIPLY;
    a->op = HDM__OP_SOURCE_OVER;
    a->opacity = 1.0;
    hdm__place_init(&a->place);
    hdm__place_init(&a->mask_place);
    hdm_status st = blend_parse_into(a, f, n, err);
    if (st) {
        blend_args_free(a);
        return st;
    }
    *args = a;
    return HDM_OK;
}

static const char *blend_operand(const void *args) { return ((const blend_args *)args)->path; }

static const char *blend_mask(const void *args) { return ((const blend_args *)args)->mask; }
static const hdm__place *blend_place(const void *args)
{
    return &((const blend_args *)args)->place;
}
static const hdm__place *blend_mask_place(const void *args)
{
    return &((const blend_args *)args)->mask_place;
}

const hdm__opdef hdm__blend_def = {
    .pub = {
        .name = "blend",
        .operands = "TOP",
        .syntax = "blend:[MODE:]TOP[:OPACITY][:linear][:op=OP][:mask=M]",
        .summary = "composite TOP over the image with a W3C blend mode (default multiply) and "
                   "Porter-Duff operator (default source-over)",
        .params = (const hdm_param[]){
            {"mode", "M", "normal, multiply (default), screen, overlay, darken, lighten, "
             "color-dodge, color-burn, hard-light, soft-light, difference, exclusion; and "
             "the non-separable hue, saturation, color, luminosity",
             "normal multiply screen overlay darken lighten color-dodge color-burn hard-light "
             "soft-light difference exclusion hue saturation color luminosity"},
            {"opacity", "F", "the top's opacity, 0 to 1 (default 1)", NULL},
            {"linear", NULL, "blend in linear light (exact sRGB decode and encode)", NULL},
            {"op", "OP", "the Porter-Duff operator: clear, copy, destination, source-over "
             "(default), destination-over, source-in, destination-in, source-out, "
             "destination-out, source-atop, destination-atop, xor, lighter (ImageMagick's "
             "names too: SrcAtop, DstIn, Plus, ...)",
             "clear copy destination source-over destination-over source-in destination-in "
             "source-out destination-out source-atop destination-atop xor lighter"},
            {"mask", "M", "limit the blend to a gray mask image M: the top's alpha times M; of "
             "the image's size, or placed by the mask-... fields", NULL},
            HDM__PLACE_PARAMS, /* a placed top is transparent where it does not reach */
            /* the mask placed on its own, by the same fields named mask-... */
            {"mask-fit", "MODE", "resample the mask to the image first: stretch, contain or "
             "cover, as fit does the top; centred unless a mask-gravity is given",
             "stretch contain cover"},
            {"mask-resample", "FILTER", "the filter mask-fit uses: lanczos3 (default), "
             "bicubic, bilinear, nearest, box", "lanczos3 bicubic bilinear nearest box"},
            {"mask-at", "X,Y", "put the mask's top-left corner at image pixel X,Y (may be "
             "negative); not with mask-gravity or mask-offset", NULL},
            {"mask-gravity", "G", "align the mask to an edge, corner or the centre of the image "
             "(default nw, the top-left corner; center with mask-fit)",
             "nw n ne w center e sw s se"},
            {"mask-offset", "X,Y", "move the mask from where mask-gravity put it, X right and Y "
             "down (without mask-gravity: from the top-left corner, or the centred place with "
             "mask-fit)", NULL},
            {"mask-tile", NULL, "repeat the mask over the image from where it is placed (alone: "
             "from 0,0, the top-left corner)", NULL},
            {"mask-outside", "0|1", "what the mask counts as where a placed one does not cover "
             "the image: 0 (no blend there), or 1 (the full blend); default 1", "0 1"},
            {NULL, NULL, NULL, NULL}},
    },
    .parse = blend_parse,
    .free_args = blend_args_free,
    .operand = blend_operand,
    .mask_operand = blend_mask,
    .place = blend_place,
    .outside = HDM__OUTSIDE_CLEAR,
    .resample_premultiplied = true,
    .mask_place = blend_mask_place,
    .make = blend_make,
};
