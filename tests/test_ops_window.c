/* SPDX-License-Identifier: MIT */
/* test_ops_window.c — every window against an f64 reference of numpy's and scipy's definitions */
#include "ops_test.h"
#include "testutil.h"

#include <string.h>

/* I0 by Simpson's rule on (1/π)∫₀^π exp(x cos θ) dθ — another road than the library's series. */
static double i0_integral(double x)
{
    const int n = 4000;
    double h = M_PI / n, sum = 0;
    for (int i = 0; i <= n; i++) {
        double f = exp(x * cos(i * h));
        sum += f * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
    }
    return sum * h / 3 / M_PI;
}

/* The window value at n of m, as numpy/scipy define it (sym=True). */
static double ref_window(const char *type, double p, uint32_t n, uint32_t m)
{
    if (m == 1)
        return 1;
    double d = m - 1.0, x = (double)n;
    if (!strcmp(type, "hann"))
        return 0.5 - 0.5 * cos(2 * M_PI * x / d);
    if (!strcmp(type, "hamming"))
        return 0.54 - 0.46 * cos(2 * M_PI * x / d);
    if (!strcmp(type, "blackman"))
        return 0.42 - 0.5 * cos(2 * M_PI * x / d) + 0.08 * cos(4 * M_PI * x / d);
    if (!strcmp(type, "gaussian")) {
        double sd = p * d / 2, t = x - d / 2;
        return exp(-0.5 * (t / sd) * (t / sd));
    }
    if (!strcmp(type, "kaiser")) {
        double a = d / 2, r = (x - a) / a;
        return i0_integral(p * sqrt(fmax(0, 1 - r * r))) / i0_integral(p);
    }
    /* tukey */
    if (p <= 0)
        return 1;
    if (p >= 1)
        return 0.5 - 0.5 * cos(2 * M_PI * x / d);
    double width = floor(p * d / 2);
    if (x < width + 1)
        return 0.5 * (1 + cos(M_PI * (-1 + 2 * x / p / d)));
    if (x < m - width - 1)
        return 1;
    return 0.5 * (1 + cos(M_PI * (-2 / p + 1 + 2 * x / p / d)));
}

static double check_window(const hdm_image *in, const hdm_image *out, const char *type,
                           double p, double strength)
{
    double worst = 0;
    bool alpha = in->channels == 2 || in->channels == 4;
    cr_assert_eq(out->channels, in->channels);
    cr_assert_eq(out->depth, in->depth);
    double *wx = malloc(in->width * sizeof *wx), *wy = malloc(in->height * sizeof *wy);
    for (uint32_t x = 0; x < in->width; x++)
        wx[x] = ref_window(type, p, x, in->width);
    for (uint32_t y = 0; y < in->height; y++)
        wy[y] = ref_window(type, p, y, in->height);
    for (uint32_t y = 0; y < in->height; y++)
        for (uint32_t x = 0; x < in->width; x++) {
            double w = wy[y] * wx[x];
            w = 1 - strength * (1 - w);
            for (uint32_t c = 0; c < in->channels; c++) {
                if (alpha && c == in->channels - 1) {
                    cr_assert_eq(raw(out, c, x, y), raw(in, c, x, y), "alpha changed");
                    continue;
                }
                double r = val(in, c, x, y) * w;
                cr_assert(lsb_off(out, c, x, y, r, &worst) <= 1,
                          "%s(%g) strength %g %ux%u at (%u,%u,%u): in %u got %u want %g", type,
                          p, strength, in->width, in->height, x, y, c, raw(in, c, x, y),
                          raw(out, c, x, y), quantise(r, out->depth));
            }
        }
    free(wx);
    free(wy);
    return worst;
}

static void window_test(const char *type, const double *params, int nparams)
{
    static const double strengths[] = {1, 0.5, 0};
    static const uint32_t chans[] = {1, 2, 3, 4};
    double worst[2] = {0, 0};
    rng_seed(strlen(type));
    for (int di = 0; di < 2; di++)
        for (int s = 0; s < N_SIZES; s++)
            for (int ci = 0; ci < 4; ci++)
                for (int f = 0; f < FILL_COUNT; f++) {
                    hdm_depth d = di ? HDM_U16 : HDM_U8;
                    hdm_image *in = make_image(sizes[s][0], sizes[s][1], chans[ci], d, f);
                    for (int pi = 0; pi < (nparams ? nparams : 1); pi++)
                        for (int st = 0; st < 3; st++) {
                            char step[96];
                            double p = nparams ? params[pi] : 0;
                            if (nparams && pi > 0)
                                snprintf(step, sizeof step, "window:%s:%.17g:strength=%g", type,
                                         p, strengths[st]);
                            else /* the first parameter is the default: left out */
                                snprintf(step, sizeof step, "window:%s:strength=%g", type,
                                         strengths[st]);
                            hdm_image *out = tu_run_step(step, in, 0);
                            worst[di] = fmax(worst[di],
                                             check_window(in, out, type, p, strengths[st]));
                            hdm_image_free(out);
                        }
                    hdm_image_free(in);
                }
    char what[64];
    snprintf(what, sizeof what, "window %s 8-bit", type);
    report_worst(what, worst[0]);
    snprintf(what, sizeof what, "window %s 16-bit", type);
    report_worst(what, worst[1]);
}

Test(window, hann) { window_test("hann", NULL, 0); }
Test(window, hamming) { window_test("hamming", NULL, 0); }
Test(window, blackman) { window_test("blackman", NULL, 0); }
Test(window, gaussian) { window_test("gaussian", (const double[]){0.4, 0.1, 1, 3.5}, 4); }
Test(window, tukey) { window_test("tukey", (const double[]){0.5, 0, 0.25, 1}, 4); }
Test(window, kaiser) { window_test("kaiser", (const double[]){8.6, 0, 2.5, 14}, 4); }

/* Known values: numpy.hanning(5) = [0, .5, 1, .5, 0], numpy.hamming(5) = [.08, .54, 1, .54, .08],
 * scipy tukey(5, 0.5) = [0, 1, 1, 1, 0], on a white 5×1 row in 16 bits. */
Test(window, known_values)
{
    hdm_image *in = make_image(5, 1, 1, HDM_U16, FILL_MAX);
    struct { const char *step; double w[5]; } k[] = {
        {"window:hann", {0, .5, 1, .5, 0}},
        {"window:hamming", {.08, .54, 1, .54, .08}},
        {"window:tukey", {0, 1, 1, 1, 0}},
        {"window:hann:strength=0.5", {.5, .75, 1, .75, .5}},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        hdm_image *out = tu_run_step(k[i].step, in, 0);
        for (uint32_t x = 0; x < 5; x++)
            cr_assert_eq(raw(out, 0, x, 0), (uint32_t)floor(k[i].w[x] * 65535 + 0.5), "%s at %u",
                         k[i].step, x);
        hdm_image_free(out);
    }
    hdm_image_free(in);
}

Test(window, strips_agree)
{
    rng_seed(3);
    hdm_image *in = make_image(31, 23, 4, HDM_U16, FILL_RANDOM);
    hdm_image *ref = tu_run_step("window:kaiser:5", in, 0);
    for (uint32_t rows = 1; rows < 9; rows++) {
        hdm_image *out = tu_run_step("window:kaiser:5", in, rows);
        for (uint32_t c = 0; c < 4; c++)
            for (uint32_t y = 0; y < 23; y++)
                cr_assert_eq(memcmp(hdm_row(out, c, y), hdm_row(ref, c, y), 31 * 2), 0);
        hdm_image_free(out);
    }
    hdm_image_free(ref);
    hdm_image_free(in);
}

Test(window, bad_steps)
{
    const char *bad[] = {"window:nope", "window:hann:2", "window:gaussian:0",
                         "window:gaussian:-1", "window:tukey:1.5", "window:kaiser:-1",
                         "window:hann:strength=2", "window:hann:strength=x",
                         "window:gaussian:abc", "window:hann:x:y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hdm_pipeline *p;
        hdm_error e = {0};
        cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
        cr_assert_eq(hdm_pipeline_add(p, bad[i], &e), HDM_ERR_ARG, "%s accepted", bad[i]);
        cr_assert(strstr(e.message, "window"), "%s", e.message);
        hdm_pipeline_free(p);
    }
}
