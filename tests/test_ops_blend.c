/* SPDX-License-Identifier: MIT */
/* test_ops_blend.c — every blend mode against an f64 reference, compositing, and the algebra */
#include "ops_test.h"

#include <string.h>
#include <unistd.h>

static const char *const modes[] = {
    "normal", "multiply", "screen", "overlay", "darken", "lighten", "color-dodge",
    "color-burn", "hard-light", "soft-light", "difference", "exclusion",
    "hue", "saturation", "color", "luminosity",
};
enum { SEPARABLE = 12 };
enum { N_MODES = sizeof modes / sizeof modes[0] };

/* ---- the reference: W3C Compositing and Blending Level 1, written again in f64 ---- */

static double ref_hard(double b, double s)
{
    return s <= 0.5 ? b * 2 * s : 1 - (1 - b) * (1 - (2 * s - 1));
}

static double ref_mode(int m, double b, double s)
{
    switch (m) {
    case 0: return s;
    case 1: return b * s;
    case 2: return b + s - b * s;
    case 3: return ref_hard(s, b);
    case 4: return fmin(b, s);
    case 5: return fmax(b, s);
    case 6: return b == 0 ? 0 : s == 1 ? 1 : fmin(1, b / (1 - s));
    case 7: return b == 1 ? 1 : s == 0 ? 0 : 1 - fmin(1, (1 - b) / s);
    case 8: return ref_hard(b, s);
    case 9: {
        if (s <= 0.5)
            return b - (1 - 2 * s) * b * (1 - b);
        double d = b <= 0.25 ? ((16 * b - 12) * b + 4) * b : sqrt(b);
        return b + (2 * s - 1) * (d - b);
    }
    case 10: return fabs(b - s);
    default: return b + s - 2 * b * s;
    }
}

/* Section 10.3, written again from the spec's pseudo-code */
static double r_lum(const double c[3]) { return 0.3 * c[0] + 0.59 * c[1] + 0.11 * c[2]; }

static void r_clip(double c[3])
{
    double l = r_lum(c), n = fmin(c[0], fmin(c[1], c[2])), x = fmax(c[0], fmax(c[1], c[2]));
    if (n < 0)
        for (int i = 0; i < 3; i++)
            c[i] = l + (c[i] - l) * l / (l - n);
    if (x > 1)
        for (int i = 0; i < 3; i++)
            c[i] = l + (c[i] - l) * (1 - l) / (x - l);
}

static void r_set_lum(double c[3], double l)
{
    double d = l - r_lum(c);
    for (int i = 0; i < 3; i++)
        c[i] += d;
    r_clip(c);
}

static double r_sat(const double c[3])
{
    return fmax(c[0], fmax(c[1], c[2])) - fmin(c[0], fmin(c[1], c[2]));
}

static void r_set_sat(double c[3], double s)
{
    /* sort the indices by value: lo, mid, hi */
    int o[3] = {0, 1, 2};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (c[o[j]] < c[o[i]]) {
                int t = o[i];
                o[i] = o[j];
                o[j] = t;
            }
    double lo = c[o[0]], hi = c[o[2]];
    if (hi > lo) {
        c[o[1]] = (c[o[1]] - lo) * s / (hi - lo);
        c[o[2]] = s;
    } else {
        c[o[1]] = c[o[2]] = 0;
    }
    c[o[0]] = 0;
}

static void ref_nonsep(int m, const double b[3], const double s[3], double out[3])
{
    double x[3];
    switch (m) {
    case 12: /* hue */
        memcpy(x, s, sizeof x);
        r_set_sat(x, r_sat(b));
        r_set_lum(x, r_lum(b));
        break;
    case 13: /* saturation */
        memcpy(x, b, sizeof x);
        r_set_sat(x, r_sat(s));
        r_set_lum(x, r_lum(b));
        break;
    case 14: /* color */
        memcpy(x, s, sizeof x);
        r_set_lum(x, r_lum(b));
        break;
    default: /* luminosity */
        memcpy(x, b, sizeof x);
        r_set_lum(x, r_lum(s));
        break;
    }
    memcpy(out, x, sizeof x);
}

static double decode(double x) { return x <= 0.04045 ? x / 12.92 : pow((x + 0.055) / 1.055, 2.4); }
static double encode(double x)
{
    return x <= 0.0031308 ? x * 12.92 : 1.055 * pow(x, 1 / 2.4) - 0.055;
}

static bool alpha_of(uint32_t ch) { return ch == 2 || ch == 4; }

/* ---- Porter-Duff, section 9.1, written again: Fa and Fb of each operator ---- */

static const char *const ops[] = {
    "clear", "copy", "destination", "source-over", "destination-over", "source-in",
    "destination-in", "source-out", "destination-out", "source-atop", "destination-atop",
    "xor", "lighter",
};
enum { N_OPS = sizeof ops / sizeof ops[0], OVER = 3, LIGHTER = 12 };

static void ref_factors(int op, double as, double ab, double *fa, double *fb)
{
    switch (op) {
    case 0: *fa = 0, *fb = 0; break;                 /* clear */
    case 1: *fa = 1, *fb = 0; break;                 /* copy */
    case 2: *fa = 0, *fb = 1; break;                 /* destination */
    case 3: *fa = 1, *fb = 1 - as; break;            /* source-over */
    case 4: *fa = 1 - ab, *fb = 1; break;            /* destination-over */
    case 5: *fa = ab, *fb = 0; break;                /* source-in */
    case 6: *fa = 0, *fb = as; break;                /* destination-in */
    case 7: *fa = 1 - ab, *fb = 0; break;            /* source-out */
    case 8: *fa = 0, *fb = 1 - as; break;            /* destination-out */
    case 9: *fa = ab, *fb = 1 - as; break;           /* source-atop */
    case 10: *fa = 1 - ab, *fb = as; break;          /* destination-atop */
    case 11: *fa = 1 - ab, *fb = 1 - as; break;      /* xor */
    default: *fa = 1, *fb = 1; break;                /* lighter */
    }
}

/* Whether two opaque inputs come out with an alpha plane, as hdm_composite documents it. */
static bool opaque_gains_alpha(int op, double opacity, bool masked)
{
    switch (op) {
    case 0: case 7: return true;                              /* clear, source-out */
    case 1: case 5: case 6: case 10: return opacity < 1 || masked;
    case 8: case 11: return opacity > 0 || masked;            /* destination-out, xor */
    default: return false;
    }
}

/* Checks out = composite(base, top) with mask (NULL for none) pixel by pixel; returns the
 * worst LSB error. The spec's general formula: Cs' = (1 − αb)·Cs + αb·B(Cb, Cs), then
 * co = αs·Fa·Cs' + αb·Fb·Cb, αo = αs·Fa + αb·Fb, C = co/αo. */
static double check_op(const hdm_image *base, const hdm_image *top, const hdm_image *mask,
                       int mode, int op, double opacity, bool linear, const hdm_image *out)
{
    double worst = 0;
    bool ab = alpha_of(base->channels), as = alpha_of(top->channels);
    uint32_t nb = base->channels - ab, ns = top->channels - as, nc = nb > ns ? nb : ns;
    bool ao = ab || as || opaque_gains_alpha(op, opacity, mask != NULL);
    cr_assert_eq(out->channels, nc + ao, "%s: %u channels", ops[op], out->channels);
    for (uint32_t y = 0; y < base->height; y++)
        for (uint32_t x = 0; x < base->width; x++) {
            double alb = ab ? val(base, nb, x, y) : 1;
            double als = (as ? val(top, ns, x, y) : 1) * opacity * (mask ? val(mask, 0, x, y) : 1);
            double fa, fb;
            ref_factors(op, als, alb, &fa, &fb);
            double alo = als * fa + alb * fb;
            if (op == LIGHTER)
                alo = fmin(alo, 1);
            double b3[3], s3[3], bl3[3] = {0, 0, 0};
            for (uint32_t c = 0; c < 3; c++) {
                b3[c] = val(base, nb == 1 ? 0 : c % nb, x, y);
                s3[c] = val(top, ns == 1 ? 0 : c % ns, x, y);
                if (linear) {
                    b3[c] = decode(b3[c]);
                    s3[c] = decode(s3[c]);
                }
            }
            if (mode >= SEPARABLE)
                ref_nonsep(mode, b3, s3, bl3);
            for (uint32_t c = 0; c < nc; c++) {
                double cb = b3[c], cs = s3[c];
                double bl = mode >= SEPARABLE ? bl3[c] : ref_mode(mode, cb, cs);
                double csp = (1 - alb) * cs + alb * bl;
                double co = als * fa * csp + alb * fb * cb;
                double r = alo > 0 ? co / alo : 0;
                if (linear)
                    r = encode(r);
                double e = lsb_off(out, c, x, y, r, &worst);
                cr_assert(e <= 1, "%s %s %s%s opacity %g%s at (%u,%u,%u): base %u top %u, got %u, "
                          "want %g", modes[mode], ops[op],
                          base->depth == HDM_U8 ? "8-bit" : "16-bit", linear ? " linear" : "",
                          opacity, mask ? " masked" : "", x, y, c,
                          raw(base, nb == 1 ? 0 : c, x, y), raw(top, ns == 1 ? 0 : c, x, y),
                          raw(out, c, x, y), quantise(r, out->depth));
            }
            if (ao)
                cr_assert(lsb_off(out, nc, x, y, alo, &worst) <= 1, "%s alpha at (%u,%u): got "
                          "%u, want %g", ops[op], x, y, raw(out, nc, x, y),
                          quantise(alo, out->depth));
            else
                cr_assert(fabs(alo - 1) < 1e-12, "%s: no alpha plane, but alpha %g", ops[op],
                          alo);
        }
    return worst;
}

/* Checks out = blend(base, top): source-over, no mask. */
static double check(const hdm_image *base, const hdm_image *top, int mode, double opacity,
                    bool linear, const hdm_image *out)
{
    return check_op(base, top, NULL, mode, OVER, opacity, linear, out);
}

static double composite_and_check(const hdm_image *base, const hdm_image *top,
                                  const hdm_image *mask, int mode, int op, double opacity,
                                  bool linear)
{
    hdm_image *out = NULL;
    hdm_error e = {0};
    cr_assert_eq(hdm_composite(base, top, mask, (hdm_blend_mode)mode, (hdm_composite_op)op,
                               opacity, linear ? HDM_BLEND_LINEAR : 0, NULL, &out, &e),
                 HDM_OK, "%s", e.message);
    double w = check_op(base, top, mask, mode, op, opacity, linear, out);
    hdm_image_free(out);
    return w;
}

static double blend_and_check(const hdm_image *base, const hdm_image *top, int mode,
                              double opacity, bool linear)
{
    hdm_image *out = NULL;
    hdm_error e = {0};
    cr_assert_eq(hdm_blend(base, top, (hdm_blend_mode)mode, opacity,
                           linear ? HDM_BLEND_LINEAR : 0, NULL, &out,
                           &e), HDM_OK, "%s", e.message);
    double w = check(base, top, mode, opacity, linear, out);
    hdm_image_free(out);
    return w;
}

static const uint32_t channel_pairs[][2] = {
    {3, 3}, {4, 4}, {3, 4}, {4, 3}, {3, 1}, {4, 2}, {1, 3}, {2, 2}, {1, 1},
};

static void mode_test(int mode)
{
    rng_seed(100 + mode);
    double worst[2] = {0, 0};
    static const double opacities[] = {1, 0.5, 0};
    for (int di = 0; di < 2; di++) {
        hdm_depth d = di ? HDM_U16 : HDM_U8;
        for (size_t cp = 0; cp < sizeof channel_pairs / sizeof channel_pairs[0]; cp++)
            for (int s = 0; s < N_SIZES; s++)
                for (int fb = 0; fb < FILL_COUNT; fb++)
                    for (int ft = 0; ft < FILL_COUNT; ft++) {
                        /* every edge fill against every other; random against random */
                        if ((fb == FILL_RANDOM) != (ft == FILL_RANDOM))
                            continue;
                        uint32_t w = sizes[s][0], h = sizes[s][1];
                        hdm_image *b = make_image(w, h, channel_pairs[cp][0], d, fb);
                        hdm_image *t = make_image(w, h, channel_pairs[cp][1], d, ft);
                        for (int o = 0; o < 3; o++)
                            for (int lin = 0; lin < 2; lin++) {
                                double e = blend_and_check(b, t, mode, opacities[o], lin);
                                if (e > worst[di])
                                    worst[di] = e;
                            }
                        hdm_image_free(b);
                        hdm_image_free(t);
                    }
    }
    char what[64];
    snprintf(what, sizeof what, "blend %s 8-bit", modes[mode]);
    report_worst(what, worst[0]);
    snprintf(what, sizeof what, "blend %s 16-bit", modes[mode]);
    report_worst(what, worst[1]);
}

Test(blend, normal) { mode_test(0); }
Test(blend, multiply) { mode_test(1); }
Test(blend, screen) { mode_test(2); }
Test(blend, overlay) { mode_test(3); }
Test(blend, darken) { mode_test(4); }
Test(blend, lighten) { mode_test(5); }
Test(blend, color_dodge) { mode_test(6); }
Test(blend, color_burn) { mode_test(7); }
Test(blend, hard_light) { mode_test(8); }
Test(blend, soft_light) { mode_test(9); }
Test(blend, difference) { mode_test(10); }
Test(blend, exclusion) { mode_test(11); }
Test(blend, hue) { mode_test(12); }
Test(blend, saturation) { mode_test(13); }
Test(blend, color) { mode_test(14); }
Test(blend, luminosity) { mode_test(15); }

static double max_diff(const hdm_image *a, const hdm_image *b)
{
    double worst = 0;
    cr_assert_eq(a->channels, b->channels);
    for (uint32_t c = 0; c < a->channels; c++)
        for (uint32_t y = 0; y < a->height; y++)
            for (uint32_t x = 0; x < a->width; x++)
                worst = fmax(worst, fabs((double)raw(a, c, x, y) - raw(b, c, x, y)));
    return worst;
}

/* Every mode under one operator: both depths, alpha on either side or none, gray, every edge
 * fill against every other, opacity 1, 0.5 and 0, sRGB and linear. */
static const uint32_t op_pairs[][2] = {{3, 3}, {4, 4}, {3, 4}, {4, 3}, {2, 2}, {1, 4}};

static void op_test(int op)
{
    rng_seed(500 + op);
    double worst[2] = {0, 0};
    static const struct { double opacity; bool linear; } runs[] = {
        {1, false}, {0.5, false}, {0, false}, {0.5, true}};
    for (int di = 0; di < 2; di++) {
        hdm_depth d = di ? HDM_U16 : HDM_U8;
        for (size_t cp = 0; cp < sizeof op_pairs / sizeof op_pairs[0]; cp++)
            for (int fb = 0; fb < FILL_COUNT; fb++)
                for (int ft = 0; ft < FILL_COUNT; ft++) {
                    if ((fb == FILL_RANDOM) != (ft == FILL_RANDOM))
                        continue;
                    hdm_image *b = make_image(33, 5, op_pairs[cp][0], d, fb);
                    hdm_image *t = make_image(33, 5, op_pairs[cp][1], d, ft);
                    for (int mode = 0; mode < N_MODES; mode++)
                        for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
                            double e = composite_and_check(b, t, NULL, mode, op,
                                                           runs[r].opacity, runs[r].linear);
                            worst[di] = fmax(worst[di], e);
                        }
                    hdm_image_free(b);
                    hdm_image_free(t);
                }
    }
    char what[64];
    snprintf(what, sizeof what, "composite %s 8-bit", ops[op]);
    report_worst(what, worst[0]);
    snprintf(what, sizeof what, "composite %s 16-bit", ops[op]);
    report_worst(what, worst[1]);
}

Test(composite, clear) { op_test(0); }
Test(composite, copy) { op_test(1); }
Test(composite, destination) { op_test(2); }
Test(composite, source_over) { op_test(3); }
Test(composite, destination_over) { op_test(4); }
Test(composite, source_in) { op_test(5); }
Test(composite, destination_in) { op_test(6); }
Test(composite, source_out) { op_test(7); }
Test(composite, destination_out) { op_test(8); }
Test(composite, source_atop) { op_test(9); }
Test(composite, destination_atop) { op_test(10); }
Test(composite, xor) { op_test(11); }
Test(composite, lighter) { op_test(12); }

/* hdm_blend is hdm_composite with source-over and no mask, bit for bit. */
Test(composite, blend_is_source_over)
{
    rng_seed(31);
    hdm_image *b = make_image(33, 5, 4, HDM_U8, FILL_RANDOM);
    hdm_image *t = make_image(33, 5, 4, HDM_U8, FILL_RANDOM);
    for (int mode = 0; mode < N_MODES; mode++) {
        hdm_image *x, *y;
        cr_assert_eq(hdm_blend(b, t, (hdm_blend_mode)mode, 0.7, 0, NULL, &x, NULL), HDM_OK);
        cr_assert_eq(hdm_composite(b, t, NULL, (hdm_blend_mode)mode, HDM_OP_SOURCE_OVER, 0.7, 0,
                                   NULL, &y, NULL), HDM_OK);
        cr_assert_eq(max_diff(x, y), 0, "%s differs", modes[mode]);
        hdm_image_free(x);
        hdm_image_free(y);
    }
    hdm_image_free(b);
    hdm_image_free(t);
}

/* A mask multiplies the top's alpha: gray masks, a colour one that is gray, one with an alpha
 * plane (ignored), a deeper mask (the result promotes), over opaque and transparent inputs. */
Test(composite, mask)
{
    rng_seed(61);
    double worst = 0;
    static const uint32_t pairs[][2] = {{3, 3}, {4, 4}, {3, 4}, {1, 1}};
    static const int mode_of[] = {0, 1, 12};
    for (int di = 0; di < 2; di++) {
        hdm_depth d = di ? HDM_U16 : HDM_U8;
        for (size_t cp = 0; cp < sizeof pairs / sizeof pairs[0]; cp++) {
            hdm_image *b = make_image(33, 5, pairs[cp][0], d, FILL_RANDOM);
            hdm_image *t = make_image(33, 5, pairs[cp][1], d, FILL_RANDOM);
            for (int mk = 0; mk < 4; mk++) {
                /* gray; gray + alpha; a colour mask with R = G = B; 16-bit under 8-bit */
                uint32_t mch = mk == 1 ? 2 : mk == 2 ? 3 : 1;
                hdm_image *m = make_image(33, 5, mch, mk == 3 ? HDM_U16 : d, FILL_RANDOM);
                if (mk == 2)
                    for (uint32_t y = 0; y < 5; y++)
                        for (uint32_t x = 0; x < 33; x++) {
                            set_raw(m, 1, x, y, raw(m, 0, x, y));
                            set_raw(m, 2, x, y, raw(m, 0, x, y));
                        }
                for (int op = 0; op < N_OPS; op++)
                    for (size_t mi = 0; mi < sizeof mode_of / sizeof mode_of[0]; mi++)
                        for (int o = 0; o < 2; o++) {
                            hdm_image *out;
                            hdm_error e = {0};
                            double opacity = o ? 0.6 : 1;
                            cr_assert_eq(hdm_composite(b, t, m, (hdm_blend_mode)mode_of[mi],
                                                       (hdm_composite_op)op, opacity, 0, NULL,
                                                       &out, &e), HDM_OK, "%s", e.message);
                            cr_assert_eq(out->depth, mk == 3 ? HDM_U16 : d);
                            worst = fmax(worst, check_op(b, t, m, mode_of[mi], op, opacity,
                                                         false, out));
                            hdm_image_free(out);
                        }
                hdm_image_free(m);
            }
            hdm_image_free(b);
            hdm_image_free(t);
        }
    }
    report_worst("composite with a mask", worst);
}

/* A mask of M everywhere changes nothing; a mask of 0 leaves the top out as opacity 0 does. */
Test(composite, mask_ends)
{
    rng_seed(62);
    hdm_image *b = make_image(17, 3, 4, HDM_U8, FILL_RANDOM);
    hdm_image *t = make_image(17, 3, 4, HDM_U8, FILL_RANDOM);
    hdm_image *full = make_image(17, 3, 1, HDM_U8, FILL_MAX);
    hdm_image *none = make_image(17, 3, 1, HDM_U8, FILL_ZERO);
    for (int op = 0; op < N_OPS; op++) {
        hdm_image *x, *y, *z, *u;
        cr_assert_eq(hdm_composite(b, t, full, HDM_BLEND_SCREEN, (hdm_composite_op)op, 0.8, 0,
                                   NULL, &x, NULL), HDM_OK);
        cr_assert_eq(hdm_composite(b, t, NULL, HDM_BLEND_SCREEN, (hdm_composite_op)op, 0.8, 0,
                                   NULL, &y, NULL), HDM_OK);
        cr_assert_eq(max_diff(x, y), 0, "%s: a full mask changed the result", ops[op]);
        cr_assert_eq(hdm_composite(b, t, none, HDM_BLEND_SCREEN, (hdm_composite_op)op, 0.8, 0,
                                   NULL, &z, NULL), HDM_OK);
        cr_assert_eq(hdm_composite(b, t, NULL, HDM_BLEND_SCREEN, (hdm_composite_op)op, 0, 0,
                                   NULL, &u, NULL), HDM_OK);
        cr_assert_eq(max_diff(z, u), 0, "%s: a zero mask is not opacity 0", ops[op]);
        hdm_image *imgs[] = {x, y, z, u};
        for (int i = 0; i < 4; i++)
            hdm_image_free(imgs[i]);
    }
    hdm_image *tint = make_image(17, 3, 3, HDM_U8, FILL_MID), *out = (hdm_image *)1;
    set_raw(tint, 2, 5, 2, 7);
    hdm_error e = {0};
    cr_assert_eq(hdm_composite(b, t, tint, HDM_BLEND_NORMAL, HDM_OP_SOURCE_OVER, 1, 0, NULL,
                               &out, &e), HDM_ERR_SHAPE);
    cr_assert_null(out);
    cr_assert(strstr(e.message, "mask: mask is not gray") && strstr(e.message, "row 2"), "%s",
              e.message);
    hdm_image *small = make_image(16, 3, 1, HDM_U8, FILL_MAX);
    cr_assert_eq(hdm_composite(b, t, small, HDM_BLEND_NORMAL, HDM_OP_SOURCE_OVER, 1, 0, NULL,
                               &out, &e), HDM_ERR_SHAPE);
    cr_assert(strstr(e.message, "16x3") && strstr(e.message, "17x3"), "%s", e.message);
    hdm_image *imgs[] = {b, t, full, none, tint, small};
    for (int i = 0; i < 6; i++)
        hdm_image_free(imgs[i]);
}

/* The mask is read strip by strip beside the top: any strip height gives the same pixels, and
 * the mask's row y meets row y of the image (a shifted mask would fail check_op). */
Test(composite, mask_in_strips)
{
    rng_seed(63);
    hdm_image *b = make_image(37, 61, 4, HDM_U8, FILL_RANDOM);
    hdm_image *t = make_image(37, 61, 4, HDM_U8, FILL_RANDOM);
    hdm_image *m = make_image(37, 61, 1, HDM_U8, FILL_RANDOM);
    hdm_image *first = NULL;
    static const uint32_t strips[] = {0, 1, 7, 60};
    for (size_t i = 0; i < sizeof strips / sizeof strips[0]; i++) {
        hdm_options opt;
        hdm_options_init(&opt);
        opt.strip_rows = strips[i];
        hdm_image *out;
        hdm_error e = {0};
        cr_assert_eq(hdm_composite(b, t, m, HDM_BLEND_OVERLAY, HDM_OP_SOURCE_ATOP, 0.9, 0, &opt,
                                   &out, &e), HDM_OK, "%s", e.message);
        check_op(b, t, m, 3, 9, 0.9, false, out);
        if (!first)
            first = out;
        else {
            cr_assert_eq(max_diff(first, out), 0, "strip_rows %u differs", strips[i]);
            hdm_image_free(out);
        }
    }
    hdm_image *imgs[] = {b, t, m, first};
    for (int i = 0; i < 4; i++)
        hdm_image_free(imgs[i]);
}

/* ---- no fringe: anti-aliased shapes whose transparent pixels carry another colour ---- */

/* A disc of radius r about (cx, cy) with an edge soft over about 6 pixels, colour `in` where
 * it has any coverage and `out` where it has none (what a premultiplying mistake lets show),
 * alpha the coverage. */
static hdm_image *soft_disc(uint32_t n, hdm_depth d, double cx, double cy, double r,
                            const double in[3], const double out[3])
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(n, n, 4, d, &img), HDM_OK);
    double m = maxval(d);
    for (uint32_t y = 0; y < n; y++)
        for (uint32_t x = 0; x < n; x++) {
            double dist = hypot(x + 0.5 - cx, y + 0.5 - cy);
            double a = fmin(1, fmax(0, (r - dist) / 6 + 0.5));
            uint32_t av = (uint32_t)floor(a * m + 0.5);
            for (int c = 0; c < 3; c++)
                set_raw(img, (uint32_t)c, x, y, (uint32_t)floor((av ? in : out)[c] * m + 0.5));
            set_raw(img, 3, x, y, av);
        }
    return img;
}

Test(composite, no_fringe)
{
    static const double red[3] = {0.9, 0.1, 0.05}, green[3] = {0, 1, 0},
                        blue[3] = {0.1, 0.2, 0.8}, magenta[3] = {1, 0, 1};
    static const struct { int mode, op; } cases[] = {
        {0, OVER}, {0, 6}, {0, 9}, {1, 9}, {1, OVER}, {1, 6}, {9, 9}, {14, 9}};
    double worst = 0;
    for (int di = 0; di < 2; di++) {
        hdm_depth d = di ? HDM_U16 : HDM_U8;
        const uint32_t n = 48;
        hdm_image *top = soft_disc(n, d, 20, 22, 13, red, green);
        /* the base: an opaque field, and a soft blue disc whose outside is magenta */
        hdm_image *opaque = make_image(n, n, 3, d, FILL_MID);
        hdm_image *shape = soft_disc(n, d, 28, 26, 15, blue, magenta);
        const hdm_image *bases[] = {opaque, shape};
        size_t edges = 0;
        for (uint32_t y = 0; y < n; y++)
            for (uint32_t x = 0; x < n; x++) {
                uint32_t a = raw(top, 3, x, y), ba = raw(shape, 3, x, y);
                edges += (a > 0 && a < maxval(d)) || (ba > 0 && ba < maxval(d));
            }
        cr_assert_gt(edges, 300, "only %zu edge pixels", edges);
        for (int bi = 0; bi < 2; bi++)
            for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                for (int o = 0; o < 2; o++) {
                    hdm_image *out;
                    double opacity = o ? 0.75 : 1;
                    cr_assert_eq(hdm_composite(bases[bi], top, NULL,
                                               (hdm_blend_mode)cases[i].mode,
                                               (hdm_composite_op)cases[i].op, opacity, 0, NULL,
                                               &out, NULL), HDM_OK);
                    worst = fmax(worst, check_op(bases[bi], top, NULL, cases[i].mode,
                                                 cases[i].op, opacity, false, out));
                    /* green (1) lives only where the top has no coverage; every covered
                     * colour has green at most 0.5 (the field's 0.502, red's 0.1, blue's
                     * 0.2), so a pixel greener than that is the uncovered colour leaking */
                    for (uint32_t y = 0; y < n; y++)
                        for (uint32_t x = 0; x < n; x++)
                            cr_assert(raw(out, 1, x, y) <= quantise(0.503, d),
                                      "%s %s: green fringe at (%u,%u): %u", modes[cases[i].mode],
                                      ops[cases[i].op], x, y, raw(out, 1, x, y));
                    hdm_image_free(out);
                }
        hdm_image_free(top);
        hdm_image_free(opaque);
        hdm_image_free(shape);
    }
    report_worst("composite of soft shapes", worst);
}

/* Dodge and burn divide by 1 − C: near white, f32's 1 − x from x loses the 16-bit sample's
 * precision (in linear light too), so these pairs check that the exact complements reach the division. */
Test(blend, dodge_burn_near_the_ends_16bit)
{
    const uint32_t n = 400;
    hdm_image *b, *t;
    cr_assert_eq(hdm_image_new(n, n, 1, HDM_U16, &b), HDM_OK);
    cr_assert_eq(hdm_image_new(n, n, 1, HDM_U16, &t), HDM_OK);
    for (uint32_t y = 0; y < n; y++)
        for (uint32_t x = 0; x < n; x++) {
            set_raw(b, 0, x, y, x);              /* dodge: Cb small */
            set_raw(t, 0, x, y, 65535 - y);      /* … over 1 − Cs small */
        }
    double worst = blend_and_check(b, t, 6, 1, false);
    worst = fmax(worst, blend_and_check(b, t, 6, 0.5, false));
    worst = fmax(worst, blend_and_check(b, t, 6, 1, true));
    for (uint32_t y = 0; y < n; y++)
        for (uint32_t x = 0; x < n; x++) {
            set_raw(b, 0, x, y, 65535 - x);      /* burn: 1 − Cb small */
            set_raw(t, 0, x, y, y);              /* … over Cs small */
        }
    worst = fmax(worst, blend_and_check(b, t, 7, 1, false));
    worst = fmax(worst, blend_and_check(b, t, 7, 1, true));
    report_worst("blend dodge/burn near the ends, 16-bit", worst);
    hdm_image_free(b);
    hdm_image_free(t);
}

Test(blend, mixed_depths_promote)
{
    rng_seed(7);
    hdm_image *b = make_image(17, 3, 3, HDM_U8, FILL_RANDOM);
    hdm_image *t = make_image(17, 3, 4, HDM_U16, FILL_RANDOM);
    hdm_image *out;
    cr_assert_eq(hdm_blend(b, t, HDM_BLEND_OVERLAY, 0.75, 0, NULL, &out, NULL), HDM_OK);
    cr_assert_eq(out->depth, HDM_U16);
    check(b, t, 3, 0.75, false, out);
    hdm_image_free(out);
    hdm_image_free(b);
    hdm_image_free(t);
}

Test(blend, errors)
{
    hdm_image *a = make_image(4, 3, 3, HDM_U8, FILL_MID), *b = make_image(3, 4, 3, HDM_U8, FILL_MID);
    hdm_image *out = (hdm_image *)1;
    hdm_error e = {0};
    cr_assert_eq(hdm_blend(a, b, HDM_BLEND_MULTIPLY, 1, 0, NULL, &out, &e), HDM_ERR_SHAPE);
    cr_assert_null(out);
    cr_assert(strstr(e.message, "3x4") && strstr(e.message, "4x3"), "%s", e.message);
    cr_assert_eq(hdm_blend(a, a, (hdm_blend_mode)99, 1, 0, NULL, &out, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "unknown mode 99"), "%s", e.message);
    cr_assert_null(out);
    cr_assert_eq(hdm_blend(a, a, HDM_BLEND_SCREEN, 1.5, 0, NULL, &out, &e), HDM_ERR_ARG);
    cr_assert_eq(hdm_blend(a, a, HDM_BLEND_SCREEN, -0.1, 0, NULL, &out, &e), HDM_ERR_ARG);
    cr_assert_eq(hdm_blend(a, a, HDM_BLEND_SCREEN, NAN, 0, NULL, &out, &e), HDM_ERR_ARG);
    cr_assert_eq(hdm_blend(a, a, HDM_BLEND_MULTIPLY, 1, 0, NULL, &out, &e), HDM_OK);
    hdm_image_free(out);
    hdm_image_free(a);
    hdm_image_free(b);
}

/* Every mode's keyword names it back, and a wrong keyword gets the list and a suggestion. */
Test(blend, mode_names)
{
    for (int m = 0; m < N_MODES; m++) {
        const char *name = hdm_blend_mode_name((hdm_blend_mode)m);
        cr_assert_str_eq(name, modes[m]);
        hdm_blend_mode back = (hdm_blend_mode)-1;
        cr_assert_eq(hdm_blend_mode_from_name(name, &back, NULL), HDM_OK);
        cr_assert_eq((int)back, m);
    }
    cr_assert_null(hdm_blend_mode_name((hdm_blend_mode)N_MODES));
    cr_assert_null(hdm_blend_mode_name((hdm_blend_mode)-1));
    hdm_error e = {0};
    hdm_blend_mode m;
    cr_assert_eq(hdm_blend_mode_from_name("scren", &m, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "unknown mode 'scren'") && strstr(e.message, "'screen'?"), "%s",
              e.message);
    cr_assert_eq(hdm_blend_mode_from_name(NULL, &m, &e), HDM_ERR_ARG);
}

/* Every operator's keyword names it back; ImageMagick's names are aliases in any case; a wrong
 * name gets the list and a suggestion. */
Test(composite, op_names)
{
    for (int o = 0; o < N_OPS; o++) {
        const char *name = hdm_composite_op_name((hdm_composite_op)o);
        cr_assert_str_eq(name, ops[o]);
        hdm_composite_op back = (hdm_composite_op)-1;
        cr_assert_eq(hdm_composite_op_from_name(name, &back, NULL), HDM_OK);
        cr_assert_eq((int)back, o);
    }
    cr_assert_null(hdm_composite_op_name((hdm_composite_op)N_OPS));
    cr_assert_null(hdm_composite_op_name((hdm_composite_op)-1));
    static const struct { const char *alias; int op; } aliases[] = {
        {"Clear", 0}, {"Copy", 1}, {"Src", 1}, {"Dst", 2}, {"Over", 3}, {"SrcOver", 3},
        {"DstOver", 4}, {"SrcIn", 5}, {"In", 5}, {"DstIn", 6}, {"SrcOut", 7}, {"Out", 7},
        {"DstOut", 8}, {"SrcAtop", 9}, {"Atop", 9}, {"DstAtop", 10}, {"Xor", 11},
        {"Plus", 12}, {"dstin", 6}, {"SRCATOP", 9}, {"plus", 12}, {"Source-Atop", 9},
    };
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        hdm_composite_op o;
        cr_assert_eq(hdm_composite_op_from_name(aliases[i].alias, &o, NULL), HDM_OK, "%s",
                     aliases[i].alias);
        cr_assert_eq((int)o, aliases[i].op, "%s", aliases[i].alias);
    }
    hdm_error e = {0};
    hdm_composite_op o;
    cr_assert_eq(hdm_composite_op_from_name("source-atob", &o, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "unknown operator 'source-atob'") &&
              strstr(e.message, "did you mean 'source-atop'?"), "%s", e.message);
    cr_assert_eq(hdm_composite_op_from_name("DstInn", &o, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "did you mean 'DstIn'?"), "%s", e.message);
    cr_assert_eq(hdm_composite_op_from_name("over-source", &o, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "source-atop, destination-atop, xor, lighter"), "%s", e.message);
    cr_assert_eq(hdm_composite_op_from_name(NULL, &o, &e), HDM_ERR_ARG);
    cr_assert_eq(hdm_composite_op_from_name("xor", NULL, &e), HDM_ERR_ARG);
}

Test(composite, errors)
{
    hdm_image *a = make_image(4, 3, 3, HDM_U8, FILL_MID), *out = (hdm_image *)1;
    hdm_error e = {0};
    cr_assert_eq(hdm_composite(a, a, NULL, HDM_BLEND_NORMAL, (hdm_composite_op)13, 1, 0, NULL,
                               &out, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "hdm_composite: unknown operator 13"), "%s", e.message);
    cr_assert_null(out);
    cr_assert_eq(hdm_composite(a, a, NULL, (hdm_blend_mode)16, HDM_OP_XOR, 1, 0, NULL, &out,
                               &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "hdm_composite: unknown mode 16"), "%s", e.message);
    cr_assert_eq(hdm_composite(a, a, NULL, HDM_BLEND_NORMAL, HDM_OP_XOR, 2, 0, NULL, &out, &e),
                 HDM_ERR_ARG);
    cr_assert_eq(hdm_composite(a, a, NULL, HDM_BLEND_NORMAL, HDM_OP_XOR, 1, 4, NULL, &out, &e),
                 HDM_ERR_ARG);
    cr_assert_eq(hdm_composite(a, a, NULL, HDM_BLEND_NORMAL, HDM_OP_XOR, 1, 0, NULL, NULL, &e),
                 HDM_ERR_ARG);
    /* two opaque images: clear is transparent black, with an alpha plane to say so */
    cr_assert_eq(hdm_composite(a, a, NULL, HDM_BLEND_NORMAL, HDM_OP_CLEAR, 1, 0, NULL, &out,
                               &e), HDM_OK);
    cr_assert_eq(out->channels, 4);
    for (uint32_t c = 0; c < 4; c++)
        cr_assert_eq(raw(out, c, 2, 1), 0);
    hdm_image_free(out);
    /* … source-atop stays opaque and without one */
    cr_assert_eq(hdm_composite(a, a, NULL, HDM_BLEND_NORMAL, HDM_OP_SOURCE_ATOP, 0.5, 0, NULL,
                               &out, &e), HDM_OK);
    cr_assert_eq(out->channels, 3);
    hdm_image_free(out);
    hdm_image_free(a);
}

/* ---- the algebra of the product (blend multiply, opaque, opacity 1) ---- */

static hdm_image *mulb(const hdm_image *a, const hdm_image *b)
{
    hdm_image *out;
    cr_assert_eq(hdm_blend(a, b, HDM_BLEND_MULTIPLY, 1, 0, NULL, &out, NULL), HDM_OK);
    return out;
}

Test(blend, algebra)
{
    rng_seed(42);
    double assoc = 0, scal = 0;
    for (int di = 0; di < 2; di++) {
        hdm_depth d = di ? HDM_U16 : HDM_U8;
        for (int s = 0; s < N_SIZES; s++) {
            uint32_t w = sizes[s][0] * 7, h = sizes[s][1] * 3;
            hdm_image *A = make_image(w, h, 3, d, FILL_RANDOM);
            hdm_image *B = make_image(w, h, 3, d, FILL_RANDOM);
            hdm_image *C = make_image(w, h, 3, d, FILL_RANDOM);
            /* A∘B = B∘A, bit for bit */
            hdm_image *ab = mulb(A, B), *ba = mulb(B, A);
            cr_assert_eq(max_diff(ab, ba), 0, "A∘B differs from B∘A");
            /* (A∘B)∘C = A∘(B∘C) within the rounding of one step */
            hdm_image *bc = mulb(B, C), *ab_c = mulb(ab, C), *a_bc = mulb(A, bc);
            double e = max_diff(ab_c, a_bc);
            cr_assert(e <= 1, "associativity off by %g LSB", e);
            assoc = fmax(assoc, e);
            /* k(A∘B) = (kA)∘B, k a constant (gray) image */
            hdm_image *K;
            cr_assert_eq(hdm_image_new(w, h, 1, d, &K), HDM_OK);
            uint32_t kv = rng() % ((uint32_t)maxval(d) + 1);
            for (uint32_t y = 0; y < h; y++)
                for (uint32_t x = 0; x < w; x++)
                    set_raw(K, 0, x, y, kv);
            hdm_image *k_ab = mulb(ab, K), *kA = mulb(A, K), *kA_b = mulb(kA, B);
            e = max_diff(k_ab, kA_b);
            cr_assert(e <= 1, "scalar compatibility off by %g LSB", e);
            scal = fmax(scal, e);
            hdm_image *imgs[] = {A, B, C, ab, ba, bc, ab_c, a_bc, K, k_ab, kA, kA_b};
            for (size_t i = 0; i < sizeof imgs / sizeof imgs[0]; i++)
                hdm_image_free(imgs[i]);
        }
    }
    report_worst("blend multiply associativity", assoc);
    report_worst("blend multiply scalar compatibility", scal);
}

/* A step with a gray top over a colour base, through the pipeline by strings. */
Test(blend, step_forms)
{
    char dir[] = "/tmp/hdm-blend-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char top[64];
    snprintf(top, sizeof top, "%s/top.png", dir);
    rng_seed(9);
    hdm_image *t = make_image(9, 5, 1, HDM_U8, FILL_RANDOM);
    hdm_image *b = make_image(9, 5, 3, HDM_U8, FILL_RANDOM);
    cr_assert_eq(hdm_save(t, top, NULL, NULL), HDM_OK);
    char mpath[64];
    snprintf(mpath, sizeof mpath, "%s/m.png", dir);
    hdm_image *m = make_image(9, 5, 1, HDM_U16, FILL_RANDOM);
    cr_assert_eq(hdm_save(m, mpath, NULL, NULL), HDM_OK);
    const char *steps[] = {"blend:%s", "blend:screen:%s", "blend:screen:%s:0.25",
                           "blend:%s:0.25:linear", "blend:%s:mode=darken:opacity=0.5",
                           "blend:multiply:%s:op=source-atop", "blend:%s:op=DstIn:0.5",
                           "blend:normal:%s:mask=%s", "blend:%s:mask=%s:op=xor:0.25"};
    const int mode[] = {1, 2, 2, 1, 4, 1, 1, 0, 1};
    const int cop[] = {OVER, OVER, OVER, OVER, OVER, 9, 6, OVER, 11};
    const double op[] = {1, 1, 0.25, 0.25, 0.5, 1, 0.5, 1, 0.25};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        char step[160];
        snprintf(step, sizeof step, steps[i], top, mpath);
        hdm_pipeline *p;
        hdm_error e = {0};
        cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
        cr_assert_eq(hdm_pipeline_add(p, step, &e), HDM_OK, "%s: %s", step, e.message);
        hdm_image *out;
        cr_assert_eq(hdm_pipeline_run_image(p, b, NULL, &out, &e), HDM_OK, "%s", e.message);
        check_op(b, t, i >= 7 ? m : NULL, mode[i], cop[i], op[i], i == 3, out);
        hdm_image_free(out);
        /* the mask is among the files the pipeline reads */
        const char *files[2] = {NULL, NULL};
        cr_assert_eq(hdm_pipeline_files(p, files, 2), i >= 7 ? 2u : 1u);
        if (i >= 7)
            cr_assert_str_eq(files[1], mpath);
        hdm_pipeline_free(p);
    }
    const char *bad[] = {"blend:nope:x.png", "blend:x.png:2", "blend:x.png:0.5:extra",
                         "blend", "blend:mode=foo:x.png", "blend:x.png:opacity=-1",
                         "blend:x.png:op=nope", "blend:x.png:op=xor:op=xor", "blend:x.png:op=",
                         "blend:x.png:mask=", "blend:x.png:mask=a.png:mask=b.png"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hdm_pipeline *p;
        hdm_error e = {0};
        cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
        cr_assert_eq(hdm_pipeline_add(p, bad[i], &e), HDM_ERR_ARG, "%s accepted", bad[i]);
        hdm_pipeline_free(p);
    }
    hdm_image_free(t);
    hdm_image_free(b);
    hdm_image_free(m);
    remove(top);
    remove(mpath);
    rmdir(dir);
}
