/* SPDX-License-Identifier: MIT */
/* resample_ref.h — the f64 evaluation every resampling test holds the resampler to */
#ifndef HDM_RESAMPLE_REF_H
#define HDM_RESAMPLE_REF_H

#include "ops/ops.h"
#include "ops_test.h"

#include <math.h>
#include <stdlib.h>

static inline double ref_kernel(hdm__rfilter f, double x)
{
    double a = fabs(x);
    switch (f) {
    case HDM__RS_LANCZOS3: {
        if (a >= 3)
            return 0;
        if (a == 0)
            return 1;
        double p = M_PI * x;
        return 3 * sin(p) * sin(p / 3) / (p * p);
    }
    case HDM__RS_BICUBIC: /* Keys, a = −0.5 */
        return a < 1 ? 1.5 * a * a * a - 2.5 * a * a + 1
               : a < 2 ? -0.5 * a * a * a + 2.5 * a * a - 4 * a + 2 : 0;
    case HDM__RS_BILINEAR: return a < 1 ? 1 - a : 0;
    default: return x >= -0.5 && x < 0.5;
    }
}

static const double ref_support[] = {3, 2, 1, 0, 0.5};

/* w[0..n_in) for output i of an n_in → n_out axis: the filter centred on the output's centre
 * in input samples, widened by the factor when shrinking, edges clamped, normalised. */
static inline void ref_taps(hdm__rfilter f, uint32_t n_in, uint32_t n_out, uint32_t i, double *w)
{
    for (uint32_t j = 0; j < n_in; j++)
        w[j] = 0;
    if (f == HDM__RS_NEAREST) {
        w[(uint32_t)floor((i + 0.5) * n_in / n_out)] = 1;
        return;
    }
    double s = (double)n_out / n_in, c = (i + 0.5) / s - 0.5, fs = s < 1 ? 1 / s : 1;
    double r = ref_support[f] * fs, sum = 0;
    for (int64_t j = (int64_t)ceil(c - r); j <= (int64_t)floor(c + r); j++) {
        double k = ref_kernel(f, (j - c) / fs);
        int64_t jj = j < 0 ? 0 : j >= n_in ? n_in - 1 : j;
        w[jj] += k;
        sum += k;
    }
    for (uint32_t j = 0; j < n_in; j++)
        w[j] /= sum;
}

/* The f64 answer for every sample of in scaled to sw × sh, colour premultiplied by the last
 * plane when premul; ref[(c·sh + y)·sw + x]. */
static inline double *reference(const hdm_image *in, uint32_t sw, uint32_t sh, hdm__rfilter f,
                         bool premul)
{
    uint32_t w = in->width, h = in->height, ch = in->channels;
    double *wx = malloc(sizeof(double) * sw * w), *wy = malloc(sizeof(double) * sh * h);
    double *ref = calloc((size_t)ch * sw * sh, sizeof *ref);
    for (uint32_t i = 0; i < sw; i++)
        ref_taps(f, w, sw, i, wx + (size_t)i * w);
    for (uint32_t i = 0; i < sh; i++)
        ref_taps(f, h, sh, i, wy + (size_t)i * h);
    bool pm = premul && (ch == 2 || ch == 4);
    for (uint32_t c = 0; c < ch; c++)
        for (uint32_t oy = 0; oy < sh; oy++)
            for (uint32_t ox = 0; ox < sw; ox++) {
                double s = 0;
                for (uint32_t y = 0; y < h; y++) {
                    double wyv = wy[(size_t)oy * h + y];
                    if (wyv == 0)
                        continue;
                    for (uint32_t x = 0; x < w; x++) {
                        double v = val(in, c, x, y);
                        if (pm && c + 1 < ch)
                            v *= val(in, ch - 1, x, y);
                        s += wyv * wx[(size_t)ox * w + x] * v;
                    }
                }
                ref[((size_t)c * sh + oy) * sw + ox] = s;
            }
    if (pm)
        for (uint32_t c = 0; c + 1 < ch; c++)
            for (size_t i = 0; i < (size_t)sw * sh; i++) {
                double a = ref[(size_t)(ch - 1) * sw * sh + i];
                ref[(size_t)c * sw * sh + i] = a > 0 ? ref[(size_t)c * sw * sh + i] / a : 0;
            }
    free(wx);
    free(wy);
    return ref;
}

#endif
