/* SPDX-License-Identifier: MIT */
/* test_ops_fftconv.c — large kernels through the FFT against an f64 sum; image kernels (@FILE) */
#include "pipeline.h"
#include "ops/filter.h"
#include "ops_test.h"
#include "testutil.h"

#include <string.h>
#include <unistd.h>

static const char *const bnames[] = {"clamp", "mirror", "wrap", "zero"};

/* The index i of a size-n image reads, or -1 for zero, from the definitions again. */
static long ref_index(long i, long n, int b)
{
    if (b == 0)
        return i < 0 ? 0 : i >= n ? n - 1 : i;
    if (b == 2)
        return ((i % n) + n) % n;
    if (b == 3)
        return i < 0 || i >= n ? -1 : i;
    if (n == 1)
        return 0;
    while (i < 0 || i >= n)
        i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
}

/* The f64 correlation at (x, y) of plane c, premultiplied by the last plane when alpha. */
static double ref_at(const hdm_image *in, const double *k, int kw, int kh, int b, bool alpha,
                     uint32_t c, uint32_t x, uint32_t y)
{
    uint32_t a = in->channels - 1;
    double sum = 0, asum = 0;
    for (int j = 0; j < kh; j++) {
        long yy = ref_index((long)y + j - kh / 2, in->height, b);
        for (int i = 0; i < kw && yy >= 0; i++) {
            long xx = ref_index((long)x + i - kw / 2, in->width, b);
            if (xx < 0)
                continue;
            double t = k[j * kw + i], v = val(in, c, xx, yy);
            if (alpha) {
                double al = val(in, a, xx, yy);
                sum += t * v * al;
                asum += t * al;
            } else {
                sum += t * v;
            }
        }
    }
    if (!alpha)
        return sum;
    if (c == a)
        return asum;
    return asum > 0 ? sum / asum : 0;
}

static hdm_image *run_path(const hdm_image *in, const hdm__fkernel *k, int b,
                           hdm__filter_path path, uint32_t strip_rows)
{
    hdm_options o;
    hdm_options_init(&o);
    o.strip_rows = strip_rows;
    hdm_error e = {0};
    hdm__source *src, *f;
    cr_assert_eq(hdm__source_from_image((hdm_image *)in, false, "(image)", HDM_FORMAT_UNKNOWN,
                                        &src, &e), HDM_OK);
    cr_assert_eq(hdm__filter_source_path(src, k, (hdm__border)b, true, path, &o, &f, &e), HDM_OK,
                 "%s", e.message);
    hdm_image *out;
    cr_assert_eq(hdm__run_to_image(f, &o, &out, &e), HDM_OK, "%s", e.message);
    return out;
}

static hdm__fkernel *random_kernel(uint32_t kw, uint32_t kh)
{
    char spec[32];
    snprintf(spec, sizeof spec, "%s", "1");
    hdm__fkernel *k;
    hdm_error e = {0};
    cr_assert_eq(hdm__fkernel_parse(spec, &k, &e), HDM_OK);
    free(k->k);
    k->kw = kw;
    k->kh = kh;
    k->cx = kw / 2;
    k->cy = kh / 2;
    k->k = malloc((size_t)kw * kh * sizeof *k->k);
    double sum = 0;
    for (size_t i = 0; i < (size_t)kw * kh; i++)
        sum += k->k[i] = (rng() % 1000) / 1000.0;
    for (size_t i = 0; i < (size_t)kw * kh; i++)
        k->k[i] /= sum;
    return k;
}

/* Every sample of out within 1 LSB of the f64 sum; the worst seen, in LSB. */
static double check(const hdm_image *in, const hdm_image *out, const hdm__fkernel *k, int b)
{
    bool alpha = in->channels == 2 || in->channels == 4;
    double worst = 0;
    for (uint32_t c = 0; c < in->channels; c++)
        for (uint32_t y = 0; y < in->height; y++)
            for (uint32_t x = 0; x < in->width; x++) {
                double r = ref_at(in, k->k, (int)k->kw, (int)k->kh, b, alpha, c, x, y);
                cr_assert(lsb_off(out, c, x, y, r, &worst) <= 1,
                          "%ux%u kernel, border %s, %ux%ux%u %d-bit at (%u,%u,%u): got %u "
                          "want %g (%.9g)", k->kw, k->kh, bnames[b], in->width, in->height,
                          in->channels, in->depth * 8, x, y, c, raw(out, c, x, y),
                          quantise(r, out->depth), r);
            }
    return worst;
}

/* Odd and even kernels, kernels wider and taller than the image, a 1-row and a 1-column image,
 * every border, u8 and u16, gray, RGB and RGBA: the FFT within 1 LSB of the f64 sum, and the
 * same bits whatever the strips. */
Test(fftconv, against_f64_every_border)
{
    static const uint32_t ks[][2] = {{7, 7}, {8, 6}, {17, 17}, {31, 4}, {40, 41}};
    static const uint32_t is[][2] = {{37, 29}, {1, 23}, {23, 1}, {150, 90}, {9, 5}};
    static const uint32_t chans[] = {1, 3, 4, 2};
    double worst[2] = {0, 0};
    rng_seed(77);
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
        for (size_t ii = 0; ii < sizeof is / sizeof is[0]; ii++)
            for (int di = 0; di < 2; di++) {
                hdm__fkernel *k = random_kernel(ks[ki][0], ks[ki][1]);
                uint32_t ch = chans[(ki + ii + di) % 4];
                hdm_image *in = make_image(is[ii][0], is[ii][1], ch, di ? HDM_U16 : HDM_U8,
                                           FILL_RANDOM);
                for (int b = 0; b < 4; b++) {
                    hdm_image *out = run_path(in, k, b, HDM__FILTER_FFT, 0);
                    worst[di] = fmax(worst[di], check(in, out, k, b));
                    hdm_image *o2 = run_path(in, k, b, HDM__FILTER_FFT, 3);
                    cr_assert(tu_same(out, o2), "strips of 3 rows differ");
                    hdm_image_free(o2);
                    hdm_image_free(out);
                }
                hdm_image_free(in);
                hdm__fkernel_free(k);
            }
    report_worst("fftconv 8-bit", worst[0]);
    report_worst("fftconv 16-bit", worst[1]);
}

/* The automatic choice: a kernel above the crossover gives what the direct sum gives, within
 * 1 LSB (both are within rounding of the same f64 sum). */
Test(fftconv, automatic_matches_direct)
{
    rng_seed(5);
    hdm__fkernel *k = random_kernel(21, 19);
    hdm_image *in = make_image(300, 140, 3, HDM_U16, FILL_RANDOM);
    for (int b = 0; b < 4; b++) {
        hdm_image *a = run_path(in, k, b, HDM__FILTER_AUTO, 0);
        hdm_image *d = run_path(in, k, b, HDM__FILTER_DIRECT, 0);
        for (uint32_t c = 0; c < 3; c++)
            for (uint32_t y = 0; y < in->height; y++)
                for (uint32_t x = 0; x < in->width; x++)
                    cr_assert_leq(abs((int)raw(a, c, x, y) - (int)raw(d, c, x, y)), 1);
        hdm_image_free(a);
        hdm_image_free(d);
    }
    hdm_image_free(in);
    hdm__fkernel_free(k);
}
