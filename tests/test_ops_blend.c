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

/* Checks out = blend(base, top) pixel by pixel; returns the worst LSB error. */
static double check(const hdm_image *base, const hdm_image *top, int mode, double opacity,
                    bool linear, const hdm_image *out)
{
    double worst = 0;
    bool ab = alpha_of(base->channels), as = alpha_of(top->channels);
    uint32_t nb = base->channels - ab, ns = top->channels - as, nc = nb > ns ? nb : ns;
    cr_assert_eq(out->channels, nc + (ab || as));
    for (uint32_t y = 0; y < base->height; y++)
        for (uint32_t x = 0; x < base->width; x++) {
            double alb = ab ? val(base, nb, x, y) : 1;
            double als = (as ? val(top, ns, x, y) : 1) * opacity;
            double alo = als + alb * (1 - als);
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
                double co = csp * als + cb * alb * (1 - als);
                double r = alo > 0 ? co / alo : 0;
                if (linear)
                    r = encode(r);
                double e = lsb_off(out, c, x, y, r, &worst);
                cr_assert(e <= 1, "%s %s%s opacity %g at (%u,%u,%u): base %u top %u, got %u, "
                          "want %g", modes[mode], base->depth == HDM_U8 ? "8-bit" : "16-bit",
                          linear ? " linear" : "", opacity, x, y, c,
                          raw(base, nb == 1 ? 0 : c, x, y), raw(top, ns == 1 ? 0 : c, x, y),
                          raw(out, c, x, y), quantise(r, out->depth));
            }
            if (ab || as)
                cr_assert(lsb_off(out, nc, x, y, alo, &worst) <= 1);
        }
    return worst;
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

/* ---- the algebra of the product (blend multiply, opaque, opacity 1) ---- */

static hdm_image *mulb(const hdm_image *a, const hdm_image *b)
{
    hdm_image *out;
    cr_assert_eq(hdm_blend(a, b, HDM_BLEND_MULTIPLY, 1, 0, NULL, &out, NULL), HDM_OK);
    return out;
}

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
    const char *steps[] = {"blend:%s", "blend:screen:%s", "blend:screen:%s:0.25",
                           "blend:%s:0.25:linear", "blend:%s:mode=darken:opacity=0.5"};
    const int mode[] = {1, 2, 2, 1, 4};
    const double op[] = {1, 1, 0.25, 0.25, 0.5};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        char step[128];
        snprintf(step, sizeof step, steps[i], top);
        hdm_pipeline *p;
        hdm_error e = {0};
        cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
        cr_assert_eq(hdm_pipeline_add(p, step, &e), HDM_OK, "%s: %s", step, e.message);
        hdm_image *out;
        cr_assert_eq(hdm_pipeline_run_image(p, b, NULL, &out, &e), HDM_OK, "%s", e.message);
        check(b, t, mode[i], op[i], i == 3, out);
        hdm_image_free(out);
        hdm_pipeline_free(p);
    }
    const char *bad[] = {"blend:nope:x.png", "blend:x.png:2", "blend:x.png:0.5:extra",
                         "blend", "blend:mode=foo:x.png", "blend:x.png:opacity=-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hdm_pipeline *p;
        hdm_error e = {0};
        cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
        cr_assert_eq(hdm_pipeline_add(p, bad[i], &e), HDM_ERR_ARG, "%s accepted", bad[i]);
        hdm_pipeline_free(p);
    }
    hdm_image_free(t);
    hdm_image_free(b);
    remove(top);
    rmdir(dir);
}
