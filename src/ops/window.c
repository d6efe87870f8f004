/* SPDX-License-Identifier: MIT */
/* window.c — multiply an image by a 2-D window, the outer product of two 1-D windows */
#include "kernel/kernel.h"
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

typedef enum wtype { W_HANN, W_HAMMING, W_BLACKMAN, W_GAUSSIAN, W_TUKEY, W_KAISER, W_COUNT } wtype;

static const struct {
    const char *name;
    const char *param; /* NULL: takes none */
    double def, min, max;
} types[W_COUNT] = {
    [W_HANN] = {"hann", NULL, 0, 0, 0},
    [W_HAMMING] = {"hamming", NULL, 0, 0, 0},
    [W_BLACKMAN] = {"blackman", NULL, 0, 0, 0},
    [W_GAUSSIAN] = {"gaussian", "SIGMA", 0.4, 0, 1e6},   /* σ > 0, a fraction of the half-width */
    [W_TUKEY] = {"tukey", "ALPHA", 0.5, 0, 1},           /* α in [0, 1] */
    [W_KAISER] = {"kaiser", "BETA", 8.6, 0, 700},        /* I0(700) is near DBL_MAX */
};

/* I0, the modified Bessel function of the first kind, order 0, by its power series
 * Σ ((x/2)^k / k!)², summed until the terms stop mattering (all positive: no cancellation). */
static double bessel_i0(double x)
{
    double q = x * x / 4, term = 1, sum = 1;
    for (int k = 1; k < 2000 && term > sum * 1e-17; k++) {
        term *= q / ((double)k * k);
        sum += term;
    }
    return sum;
}

/* w[0..m-1], a symmetric window as numpy's hanning/hamming/blackman/kaiser and scipy's
 * tukey/gaussian define it; length 1 is [1]. */
static void window_1d(double *w, uint32_t m, wtype t, double p)
{
    if (m == 1) {
        w[0] = 1;
        return;
    }
    double d = m - 1.0;
    for (uint32_t n = 0; n < m; n++) {
        double c = cos(2 * PI * n / d);
        switch (t) {
        case W_HANN: w[n] = 0.5 - 0.5 * c; break;
        case W_HAMMING: w[n] = 0.54 - 0.46 * c; break;
        case W_BLACKMAN: w[n] = 0.42 - 0.5 * c + 0.08 * cos(4 * PI * n / d); break;
        case W_GAUSSIAN: {
            /* scipy gaussian(M, std) with std = σ·(M − 1)/2 */
            double x = n - d / 2, sd = p * d / 2;
            w[n] = exp(-x * x / (2 * sd * sd));
            break;
        }
        case W_TUKEY: {
            /* scipy tukey: cosine tapers over the first and last α(M − 1)/2 samples */
            if (p <= 0) {
                w[n] = 1;
                break;
            }
            if (p >= 1) {
                w[n] = 0.5 - 0.5 * c;
                break;
            }
            uint32_t width = (uint32_t)floor(p * d / 2);
            if (n <= width)
                w[n] = 0.5 * (1 + cos(PI * (-1 + 2.0 * n / p / d)));
            else if (n < m - width - 1)
                w[n] = 1;
            else
                w[n] = 0.5 * (1 + cos(PI * (-2.0 / p + 1 + 2.0 * n / p / d)));
            break;
        }
        case W_KAISER: {
            /* numpy kaiser: I0(β·sqrt(1 − ((n − α)/α)²)) / I0(β), α = (M − 1)/2 */
            double a = d / 2, r = (n - a) / a;
            double s = 1 - r * r;
            w[n] = bessel_i0(p * sqrt(s > 0 ? s : 0)) / bessel_i0(p);
            break;
        }
        default: w[n] = 1; break;
        }
    }
}

typedef struct window_op {
    hdm__op base;
    float strength;
    float *wx, *wy;  /* the width and height windows */
    float *row;      /* w(y)·w_x, then 1 − S·(1 − that) */
    float *one;
    float *px;       /* one plane row in f32 */
} window_op;

static hdm_status window_apply(hdm__op *op, const hdm_image *in, hdm_image *operand,
                               hdm_image *out, uint32_t y, uint32_t rows, hdm_error *err)
{
    (void)operand;
    (void)err;
    window_op *o = (window_op *)op;
    const hdm__kernel *k = hdm__kern();
    size_t w = out->width;
    uint32_t colour = in->channels == 2 || in->channels == 4 ? in->channels - 1 : in->channels;
    for (uint32_t r = 0; r < rows; r++) {
        k->scale_f32(o->row, o->wx, o->wy[y + r], w);
        if (o->strength != 1.0f) /* w' = 1 − S·(1 − w) = 1 + S·(w − 1) */
            k->lerp_f32(o->row, o->one, o->row, o->strength, w);
        for (uint32_t c = 0; c < in->channels; c++) {
            void *d = hdm_row(out, c, r);
            const void *s = hdm_row(in, c, r);
            if (c >= colour) { /* alpha untouched */
                hdm__convert_row(d, out->depth, s, in->depth, w);
                continue;
            }
            hdm__convert_row(o->px, HDM_F32, s, in->depth, w);
            k->mul_f32(o->px, o->px, o->row, w);
            hdm__convert_row(d, out->depth, o->px, HDM_F32, w);
        }
    }
    return HDM_OK;
}

static void window_free(hdm__op *op)
{
    window_op *o = (window_op *)op;
    free(o->wx);
    free(o->wy);
    free(o->row);
    free(o->one);
    free(o->px);
    free(o);
}

typedef struct window_args {
    wtype type;
    double param, strength;
} window_args;

static float *window_f32(uint32_t m, const window_args *a)
{
    double *d = malloc(m * sizeof *d);
    float *f = malloc(m * sizeof *f);
    if (d && f) {
        window_1d(d, m, a->type, a->param);
        for (uint32_t i = 0; i < m; i++)
            f[i] = (float)d[i];
    } else {
        free(f);
        f = NULL;
    }
    free(d);
    return f;
}

static hdm_status window_make(const void *args, const hdm__op_shape *sh, hdm__op **out,
                               hdm_error *err)
{
    const window_args *a = args;
    window_op *o = calloc(1, sizeof *o);
    uint32_t w = sh->in.width, h = sh->in.height;
    if (o) {
        o->wx = window_f32(w, a);
        o->wy = window_f32(h, a);
        o->row = malloc(w * sizeof *o->row);
        o->one = malloc(w * sizeof *o->one);
        o->px = malloc(w * sizeof *o->px);
    }
    if (!o || !o->wx || !o->wy || !o->row || !o->one || !o->px) {
        if (o)
            window_free(&o->base);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    for (uint32_t i = 0; i < w; i++)
        o->one[i] = 1.0f;
    o->strength = (float)a->strength;
    o->base.out_info = sh->in;
    o->base.in_depth = sh->in.depth;
    o->base.apply = window_apply;
    o->base.free = window_free;
    *out = &o->base;
    return HDM_OK;
}

/* ---- the step: window:TYPE[:PARAM][:strength=S] ---- */

static hdm_status set_type(window_args *a, const char *spec, const char *param,
                           hdm_error *err)
{
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    if (colon) {
        if (param)
            return hdm__fail(err, HDM_ERR_ARG, NULL, "window: two parameters for '%s'", spec);
        param = colon + 1;
    }
    int t = -1;
    for (int i = 0; i < W_COUNT; i++)
        if (strlen(types[i].name) == len && strncmp(spec, types[i].name, len) == 0)
            t = i;
    if (t < 0) {
        const char *names[W_COUNT];
        for (int i = 0; i < W_COUNT; i++)
            names[i] = types[i].name;
        char hint[64];
        return hdm__fail(err, HDM_ERR_ARG, NULL, "window: unknown type '%.*s' (hann, hamming, "
                         "blackman, gaussian[:SIGMA], tukey[:ALPHA], kaiser[:BETA])%s",
                         (int)len, spec,
                         hdm__did_you_mean(spec, len, names, W_COUNT, hint, sizeof hint));
    }
    a->type = (wtype)t;
    a->param = types[t].def;
    if (!param)
        return HDM_OK;
    if (!types[t].param)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "window: %s takes no parameter",
                         types[t].name);
    double v;
    bool ok = hdm__parse_double(param, &v) && v >= types[t].min && v <= types[t].max &&
              !(t == W_GAUSSIAN && v <= 0);
    if (!ok && t == W_GAUSSIAN)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "window: gaussian SIGMA must be a number "
                         "above 0, not '%s'", param);
    if (!ok)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "window: %s %s must be a number from %g to "
                         "%g, not '%s'", types[t].name, types[t].param, types[t].min,
                         types[t].max, param);
    a->param = v;
    return HDM_OK;
}

static hdm_status window_parse(const char *const *f, size_t n, void **args, hdm_error *err)
{
    window_args a = {W_HANN, 0, 1};
    const char *type = NULL, *param = NULL, *v;
    bool strength_set = false;
    for (size_t i = 0; i < n; i++) {
        if ((hdm__field_value(f[i], "strength") && strength_set) ||
            (hdm__field_value(f[i], "type") && type))
            return hdm__fail(err, HDM_ERR_ARG, NULL, "window: %s given twice",
                             hdm__field_value(f[i], "type") ? "type" : "strength");
        if ((v = hdm__field_value(f[i], "strength"))) {
            strength_set = true;
            if (!hdm__parse_double(v, &a.strength) || a.strength < 0 || a.strength > 1)
                return hdm__fail(err, HDM_ERR_ARG, NULL,
                                 "window: strength must be a number from 0 to 1, not '%s'", v);
        } else if ((v = hdm__field_value(f[i], "type")) && !type) {
            type = v;
        } else if (!strchr(f[i], '=') && !type) {
            type = f[i];
        } else if (!strchr(f[i], '=') && !param && i > 0 && type == f[i - 1]) {
            param = f[i];
        } else {
            return hdm__bad_field(&hdm__window_def, f[i], err);
        }
    }
    hdm_status st = set_type(&a, type ? type : "hann", param, err);
    if (st)
        return st;
    window_args *p = malloc(sizeof *p);
    if (!p)
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    *p = a;
    *args = p;
    return HDM_OK;
}


const hdm__opdef hdm__window_def = {
    .pub = {
        .name = "window",
        .operands = "",
        .syntax = "window:TYPE[:PARAM][:strength=S]",
        .summary = "multiply colour by a 2-D window (vignette): the outer product of two 1-D ones",
        .params = (const hdm_param[]){
            {"type", "T", "hann (default), hamming, blackman, gaussian[:SIGMA] (default 0.4 of "
             "the half-width), tukey[:ALPHA] (0.5), kaiser[:BETA] (8.6)",
             "hann hamming blackman gaussian tukey kaiser"},
            {"strength", "S", "0 to 1: w' = 1 - S(1 - w) (default 1)", NULL},
            {NULL, NULL, NULL, NULL}},
    },
    .parse = window_parse,
    .free_args = free,
    .make = window_make,
};
