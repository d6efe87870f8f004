/* SPDX-License-Identifier: MIT */
/* scalar.c — the portable reference for every kernel primitive */
#include "kernel.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void mul_u8(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (uint8_t)hdm__div255((uint32_t)a[i] * b[i]);
}

static void mul_u16(uint16_t *dst, const uint16_t *a, const uint16_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (uint16_t)hdm__div65535((uint32_t)a[i] * b[i]);
}

static void mul_f32(float *dst, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = a[i] * b[i];
}

static void mulinv_u8(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (uint8_t)hdm__div255((uint32_t)a[i] * (255u - b[i]));
}

static void mulinv_u16(uint16_t *dst, const uint16_t *a, const uint16_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (uint16_t)hdm__div65535((uint32_t)a[i] * (65535u - b[i]));
}

static void mulinv_f32(float *dst, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = a[i] * (1.0f - b[i]);
}

static void scale_f32(float *dst, const float *a, float k, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = a[i] * k;
}

static void abs_f32(float *dst, const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = fabsf(a[i]);
}

static void add_f32(float *dst, const float *a, float k, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = a[i] + k;
}

static void lerp_f32(float *dst, const float *a, const float *b, float t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float d = b[i] - a[i];
        float p = t * d;
        dst[i] = a[i] + p;
    }
}

static void lerpv_f32(float *dst, const float *a, const float *b, const float *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float d = b[i] - a[i];
        float p = t[i] * d;
        dst[i] = a[i] + p;
    }
}

static void screen_f32(float *dst, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float p = (1.0f - a[i]) * (1.0f - b[i]);
        dst[i] = 1.0f - p;
    }
}

static void axpy_f32(float *dst, const float *a, float k, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float p = a[i] * k;
        dst[i] = dst[i] + p;
    }
}

/* ---- blend modes: W3C Compositing and Blending Level 1, section 10.2 "Separable blend modes".
 * One line each, B(Cb, Cs) with the spec's formula beside it; icb = 1 − Cb and ics = 1 − Cs
 * (exact from the caller) serve the two modes that divide by them. ---- */

typedef float (*blend_fn)(float cb, float cs, float icb, float ics);

static float b_multiply(float cb, float cs) { return cb * cs; }                 /* 10.2.2 Cb × Cs */
static float b_screen(float cb, float cs) { return 1.0f - (1.0f - cb) * (1.0f - cs); }
static float b_hard(float cb, float cs)                                         /* 10.2.9 */
{
    return cs <= 0.5f ? b_multiply(cb, 2.0f * cs) : b_screen(cb, 2.0f * cs - 1.0f);
}
static float b_soft_d(float cb)        /* 10.2.10 D(Cb): Cb ≤ 0.25 ? ((16Cb − 12)Cb + 4)Cb : √Cb */
{
    return cb <= 0.25f ? ((16.0f * cb - 12.0f) * cb + 4.0f) * cb : sqrtf(cb);
}

static float m_normal(float cb, float cs, float icb, float ics)
{ (void)cb; (void)icb; (void)ics; return cs; }                                  /* 10.2.1 Cs */
static float m_multiply(float cb, float cs, float icb, float ics)
{ (void)icb; (void)ics; return b_multiply(cb, cs); }                            /* 10.2.2 Cb × Cs */
static float m_screen(float cb, float cs, float icb, float ics)
{ (void)icb; (void)ics; return b_screen(cb, cs); }              /* 10.2.3 1 − (1 − Cb)(1 − Cs) */
static float m_overlay(float cb, float cs, float icb, float ics)
{ (void)icb; (void)ics; return b_hard(cs, cb); }                  /* 10.2.4 HardLight(Cs, Cb) */
static float m_darken(float cb, float cs, float icb, float ics)
{ (void)icb; (void)ics; return cb < cs ? cb : cs; }                         /* 10.2.5 min(Cb, Cs) */
static float m_lighten(float cb, float cs, float icb, float ics)
{ (void)icb; (void)ics; return cb > cs ? cb : cs; }                         /* 10.2.6 max(Cb, Cs) */
static float m_dodge(float cb, float cs, float icb, float ics)    /* 10.2.7 Cb = 0 → 0; Cs = 1 → 1; */
{ (void)cs; (void)icb; return cb == 0.0f ? 0.0f : ics <= 0.0f ? 1.0f : fminf(1.0f, cb / ics); }
static float m_burn(float cb, float cs, float icb, float ics)  /* 10.2.8 Cb = 1 → 1; Cs = 0 → 0; */
{ (void)cb; (void)ics; return icb <= 0.0f ? 1.0f : cs == 0.0f ? 0.0f : 1.0f - fminf(1.0f, icb / cs); }
static float m_hard(float cb, float cs, float icb, float ics)
{ (void)icb; (void)ics; return b_hard(cb, cs); }   /* 10.2.9 Cs ≤ .5 ? mul(Cb, 2Cs) : scr(Cb, 2Cs−1) */
static float m_soft(float cb, float cs, float icb, float ics)                  /* 10.2.10 */
{ (void)icb; (void)ics; return cs <= 0.5f ? cb - (1.0f - 2.0f * cs) * cb * (1.0f - cb)
                                          : cb + (2.0f * cs - 1.0f) * (b_soft_d(cb) - cb); }
static float m_difference(float cb, float cs, float icb, float ics)
{ (void)icb; (void)ics; return fabsf(cb - cs); }                                /* 10.2.11 |Cb − Cs| */
static float m_exclusion(float cb, float cs, float icb, float ics)
{ (void)icb; (void)ics; return cb + cs - 2.0f * cb * cs; }                 /* 10.2.12 Cb + Cs − 2CbCs */

static const blend_fn blend_modes[HDM__BLEND_SEPARABLE] = {
    [HDM__BLEND_NORMAL] = m_normal, [HDM__BLEND_MULTIPLY] = m_multiply,
    [HDM__BLEND_SCREEN] = m_screen, [HDM__BLEND_OVERLAY] = m_overlay,
    [HDM__BLEND_DARKEN] = m_darken, [HDM__BLEND_LIGHTEN] = m_lighten,
    [HDM__BLEND_COLOR_DODGE] = m_dodge, [HDM__BLEND_COLOR_BURN] = m_burn,
    [HDM__BLEND_HARD_LIGHT] = m_hard, [HDM__BLEND_SOFT_LIGHT] = m_soft,
    [HDM__BLEND_DIFFERENCE] = m_difference, [HDM__BLEND_EXCLUSION] = m_exclusion,
};

static void blend_f32(float *dst, const float *cb, const float *cs, const float *icb,
                      const float *ics, unsigned mode, size_t n)
{
    if (mode >= HDM__BLEND_SEPARABLE)
        return;
    blend_fn f = blend_modes[mode];
    for (size_t i = 0; i < n; i++)
        dst[i] = f(cb[i], cs[i], icb ? icb[i] : 1.0f - cb[i], ics ? ics[i] : 1.0f - cs[i]);
}

/* ---- the non-separable modes, section 10.3, on a colour c[3] ---- */

static double lum(const double c[3]) { return 0.3 * c[0] + 0.59 * c[1] + 0.11 * c[2]; }

static void clip_color(double c[3])
{
    double l = lum(c);
    double n = fmin(c[0], fmin(c[1], c[2])), x = fmax(c[0], fmax(c[1], c[2]));
    for (int i = 0; i < 3; i++) { /* l − n and x − l are 0 only for a gray that needs none */
        if (n < 0.0 && l - n > 0.0)
            c[i] = l + (c[i] - l) * l / (l - n);
        if (x > 1.0 && x - l > 0.0)
            c[i] = l + (c[i] - l) * (1.0 - l) / (x - l);
    }
}

static void set_lum(double c[3], double l)
{
    double d = l - lum(c);
    for (int i = 0; i < 3; i++)
        c[i] += d;
    clip_color(c);
}

static double sat(const double c[3])
{
    return fmax(c[0], fmax(c[1], c[2])) - fmin(c[0], fmin(c[1], c[2]));
}

/* SetSat: the largest becomes s, the smallest 0, the middle one scaled between (ties give the
 * same result whichever of the equal ones is taken as the larger). */
static void set_sat(double c[3], double s)
{
    int mx = 0, mn = 0;
    for (int i = 1; i < 3; i++) {
        if (c[i] > c[mx])
            mx = i;
        if (c[i] < c[mn])
            mn = i;
    }
    if (mx == mn) { /* all three equal */
        c[0] = c[1] = c[2] = 0.0;
        return;
    }
    int md = 3 - mx - mn;
    double range = c[mx] - c[mn];
    c[md] = range > 0.0 ? (c[md] - c[mn]) * s / range : 0.0;
    c[mx] = range > 0.0 ? s : 0.0;
    c[mn] = 0.0;
}

static void blend3_f32(float *const d[3], const float *const cb[3], const float *const cs[3],
                       unsigned mode, size_t n)
{
    if (mode < HDM__BLEND_SEPARABLE || mode >= HDM__BLEND_COUNT)
        return;
    for (size_t i = 0; i < n; i++) {
        double b[3] = {cb[0][i], cb[1][i], cb[2][i]}, s[3] = {cs[0][i], cs[1][i], cs[2][i]};
        double *r = mode == HDM__BLEND_SATURATION || mode == HDM__BLEND_LUMINOSITY ? b : s;
        switch (mode) {
        case HDM__BLEND_HUE: /* SetLum(SetSat(Cs, Sat(Cb)), Lum(Cb)) */
            set_sat(s, sat(b));
            set_lum(s, lum(b));
            break;
        case HDM__BLEND_SATURATION: /* SetLum(SetSat(Cb, Sat(Cs)), Lum(Cb)) */
        {
            double l = lum(b);
            set_sat(b, sat(s));
            set_lum(b, l);
            break;
        }
        case HDM__BLEND_COLOR: /* SetLum(Cs, Lum(Cb)) */
            set_lum(s, lum(b));
            break;
        default: /* luminosity: SetLum(Cb, Lum(Cs)) */
            set_lum(b, lum(s));
            break;
        }
        for (int c = 0; c < 3; c++)
            d[c][i] = (float)r[c];
    }
}

static void over_f32(float *ao, float *wb, float *ws, const float *ab, const float *as, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float s = as[i];
        float p = ab[i] * (1.0f - s);
        float o = s + p;
        ao[i] = o;
        wb[i] = o > 0.0f ? p / o : 0.0f;
        ws[i] = o > 0.0f ? s / o : 0.0f;
    }
}

static void composite_f32(float *ao, float *wb, float *ws, const float *ab, const float *as,
                          unsigned op, size_t n)
{
    float f[4];
    int clamp = hdm__composite_factors(op, f);
    for (size_t i = 0; i < n; i++) {
        float a = ab[i], s = as[i];
        float fa = f[0] + f[1] * a;
        float fb = f[2] + f[3] * s;
        float pa = s * fa;
        float pb = a * fb;
        float o = pa + pb;
        if (clamp && o > 1.0f)
            o = 1.0f;
        ao[i] = o;
        wb[i] = o > 0.0f ? pb / o : 0.0f;
        ws[i] = o > 0.0f ? pa / o : 0.0f;
    }
}

static void mix_f32(float *dst, const float *a, const float *wa, const float *b, const float *wb,
                    size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float p = a[i] * wa[i];
        float q = b[i] * wb[i];
        dst[i] = p + q;
    }
}

static void srgb_to_linear_f32(float *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = src[i];
        dst[i] = x <= 0.04045f ? x / 12.92f : powf((x + 0.055f) / 1.055f, 2.4f);
    }
}

static void linear_to_srgb_f32(float *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = src[i];
        dst[i] = x <= 0.0031308f ? x * 12.92f : 1.055f * powf(x, 1.0f / 2.4f) - 0.055f;
    }
}

static void srgb_to_linear_inv_f32(float *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float u = src[i];
        dst[i] = u >= 0.95955f ? 1.0f - (1.0f - u) / 12.92f
                               : -expm1f(2.4f * log1pf(-u / 1.055f));
    }
}

static void unpremul_f32(float *dst, const float *c, const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = a[i] > 0.0f ? c[i] / a[i] : 0.0f;
}

/* ---- resampling: weighted sums in a fixed order, so every variant can match them ---- */

static void resample_row_f32(float *dst, const float *src, const uint32_t *start,
                             const float *w, size_t taps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const float *s = src + start[i], *wi = w + i * taps;
        float acc = 0.0f;
        for (size_t k = 0; k < taps; k++) {
            float p = wi[k] * s[k];
            acc = acc + p;
        }
        dst[i] = acc;
    }
}

/* Summed a block of samples at a time, tap by tap: the same order for every sample as one
 * accumulator each, and a loop a compiler can vectorise. */
static void resample_col_f32(float *dst, const float *const *rows, const float *w, size_t taps,
                             size_t n)
{
    for (size_t i0 = 0; i0 < n; i0 += 256) {
        size_t m = n - i0 < 256 ? n - i0 : 256;
        float *d = dst + i0;
        for (size_t i = 0; i < m; i++)
            d[i] = 0.0f;
        for (size_t k = 0; k < taps; k++) {
            const float *r = rows[k] + i0;
            float wk = w[k];
            for (size_t i = 0; i < m; i++) {
                float p = wk * r[i];
                d[i] = d[i] + p;
            }
        }
    }
}

static void filter_cols_f32(float *const *dst, const float *const *rows, const float *w,
                            size_t taps, size_t m, size_t n)
{
    for (size_t r = 0; r < m; r++)
        resample_col_f32(dst[r], rows + r, w, taps, n);
}

/* One step of one line: s holds s0, sr[…], si[…] stride floats apart. */
static inline float slide_step(float *s, size_t stride, float ui, float uo, const float *ei,
                               const float *eo, const float *p)
{
    enum { T = HDM__SLIDE_TERMS };
    s[0] = s[0] + (ui - uo);
    for (int m = 0; m < T; m++) {
        float *sr = s + (1 + m) * stride, *si = s + (1 + T + m) * stride;
        *sr = *sr + (ei[m] * ui - eo[m] * uo);
        *si = *si + (ei[T + m] * ui - eo[T + m] * uo);
    }
    float y = p[0] * s[0];
    for (int m = 0; m < T; m++) {
        y = y + p[1 + m] * s[(1 + m) * stride];
        y = y + p[1 + T + m] * s[(1 + T + m) * stride];
    }
    return y;
}

static void slide_cols_f32(float *st, size_t stride, float *dst, const float *ui,
                           const float *uo, const float *ei, const float *eo, const float *p,
                           size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float y = slide_step(st + i, stride, ui[i], uo[i], ei, eo, p);
        if (dst)
            dst[i] = y;
    }
}

static void slide_lines_f32(float *dst, const float *u, const float *e, const float *p,
                            size_t r, size_t n)
{
    enum { T = HDM__SLIDE_TERMS, L = HDM__SLIDE_LANES };
    for (size_t l = 0; l < L; l++) {
        float s[1 + 2 * T] = {0};
        for (size_t t = 0; t < n + 2 * r; t++) {
            bool leaves = t >= 2 * r + 1;
            const float *eo = leaves ? e + (t - 2 * r - 1) * 2 * T : e;
            float uo = leaves ? u[(t - 2 * r - 1) * L + l] : 0.0f;
            float y = slide_step(s, 1, u[t * L + l], uo, e + t * 2 * T, eo,
                                 p + (t >= 2 * r ? t - 2 * r : 0) * (1 + 2 * T));
            if (t >= 2 * r)
                dst[(t - 2 * r) * L + l] = y;
        }
    }
}

static void threshold_u8(uint8_t *dst, const uint8_t *src, uint8_t t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i] >= t ? 255 : 0;
}

static void threshold_u16(uint16_t *dst, const uint16_t *src, uint16_t t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i] >= t ? 65535 : 0;
}

static void threshold_f32(float *dst, const float *src, float t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i] >= t ? 1.0f : 0.0f;
}

static void u8_to_f32(float *dst, const uint8_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (float)src[i] / 255.0f;
}

static void u16_to_f32(float *dst, const uint16_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (float)src[i] / 65535.0f;
}

/* round half up then clamp; written so NaN fails both comparisons and lands on 0 */
static inline float to_range(float x, float m)
{
    float t = floorf(x * m + 0.5f);
    if (!(t >= 0.0f))
        return 0.0f;
    return t > m ? m : t;
}

static void f32_to_u8(uint8_t *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (uint8_t)to_range(src[i], 255.0f);
}

static void f32_to_u16(uint16_t *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (uint16_t)to_range(src[i], 65535.0f);
}

static void u8_to_u16(uint16_t *dst, const uint8_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (uint16_t)(src[i] * 257u);
}

static void u16_to_u8(uint8_t *dst, const uint16_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (uint8_t)((src[i] + 128u) / 257u);
}

static void deinterleave_u8(uint8_t *const *plane, const uint8_t *src, unsigned ch, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (unsigned c = 0; c < ch; c++)
            plane[c][i] = src[i * ch + c];
}

static void interleave_u8(uint8_t *dst, const uint8_t *const *plane, unsigned ch, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (unsigned c = 0; c < ch; c++)
            dst[i * ch + c] = plane[c][i];
}

static void deinterleave_u16(uint16_t *const *plane, const uint16_t *src, unsigned ch, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (unsigned c = 0; c < ch; c++)
            plane[c][i] = src[i * ch + c];
}

static void interleave_u16(uint16_t *dst, const uint16_t *const *plane, unsigned ch, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (unsigned c = 0; c < ch; c++)
            dst[i * ch + c] = plane[c][i];
}

/* memcpy rather than assignment: a float load and store may go through the FPU (x87 on i386),
 * which would quieten a signalling NaN; four bytes moved as such arrive unchanged everywhere */
static void deinterleave_f32(float *const *plane, const float *src, unsigned ch, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (unsigned c = 0; c < ch; c++)
            memcpy(plane[c] + i, src + i * ch + c, sizeof(float));
}

static void interleave_f32(float *dst, const float *const *plane, unsigned ch, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (unsigned c = 0; c < ch; c++)
            memcpy(dst + i * ch + c, plane[c] + i, sizeof(float));
}

/* PNG specification 9.4: the one of a (left), b (above), c (upper left) nearest to
 * p = a + b − c, ties going to a, then to b */
static inline unsigned paeth(unsigned a, unsigned b, unsigned c)
{
    int p = (int)a + (int)b - (int)c;
    int pa = abs(p - (int)a), pb = abs(p - (int)b), pc = abs(p - (int)c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Every byte from i on has its left neighbours (i >= bpp), so the loops need no first-pixel
 * case; the SIMD variants finish their rows here, so they share these loops with png_filter. */
uint64_t hdm__png_filter_rest_scalar(uint8_t *dst, const uint8_t *row, const uint8_t *prev,
                                     size_t n, unsigned bpp, unsigned type, size_t i)
{
    const size_t from = i;
    switch (type) {
    case 0:
        memcpy(dst + i, row + i, n - i);
        break;
    case 1:
        for (; i < n; i++)
            dst[i] = (uint8_t)(row[i] - row[i - bpp]);
        break;
    case 2:
        for (; i < n; i++)
            dst[i] = (uint8_t)(row[i] - prev[i]);
        break;
    case 3:
        for (; i < n; i++)
            dst[i] = (uint8_t)(row[i] - ((row[i - bpp] + prev[i]) >> 1));
        break;
    default:
        for (; i < n; i++)
            dst[i] = (uint8_t)(row[i] - paeth(row[i - bpp], prev[i], prev[i - bpp]));
        break;
    }
    uint64_t sum = 0;
    for (i = from; i < n; i++)
        sum += (uint64_t)abs((int8_t)dst[i]);
    return sum;
}

/* The first pixel has no left neighbours: a = c = 0. */
static uint64_t png_filter(uint8_t *dst, const uint8_t *row, const uint8_t *prev, size_t n,
                           unsigned bpp, unsigned type)
{
    size_t i, k = bpp < n ? bpp : n;
    for (i = 0; i < k; i++) {
        unsigned pred = type == 2 || type >= 4 ? prev[i] : type == 3 ? prev[i] >> 1 : 0;
        dst[i] = (uint8_t)(row[i] - pred); /* Paeth with a = c = 0 picks b */
    }
    uint64_t sum = 0;
    for (i = 0; i < k; i++)
        sum += (uint64_t)abs((int8_t)dst[i]);
    return sum + hdm__png_filter_rest_scalar(dst, row, prev, n, bpp, type, k);
}

const hdm__kernel hdm__kernel_scalar = {
    .name = "scalar",
    .mul_u8 = mul_u8, .mul_u16 = mul_u16, .mul_f32 = mul_f32,
    .mulinv_u8 = mulinv_u8, .mulinv_u16 = mulinv_u16, .mulinv_f32 = mulinv_f32,
    .scale_f32 = scale_f32, .abs_f32 = abs_f32, .add_f32 = add_f32, .lerp_f32 = lerp_f32, .lerpv_f32 = lerpv_f32,
    .screen_f32 = screen_f32, .axpy_f32 = axpy_f32,
    .blend_f32 = blend_f32, .blend3_f32 = blend3_f32, .over_f32 = over_f32,
    .composite_f32 = composite_f32, .mix_f32 = mix_f32,
    .srgb_to_linear_f32 = srgb_to_linear_f32, .linear_to_srgb_f32 = linear_to_srgb_f32,
    .srgb_to_linear_inv_f32 = srgb_to_linear_inv_f32,
    .unpremul_f32 = unpremul_f32,
    .resample_row_f32 = resample_row_f32, .resample_col_f32 = resample_col_f32,
    .filter_cols_f32 = filter_cols_f32, .slide_cols_f32 = slide_cols_f32,
    .slide_lines_f32 = slide_lines_f32,
    .threshold_u8 = threshold_u8, .threshold_u16 = threshold_u16, .threshold_f32 = threshold_f32,
    .u8_to_f32 = u8_to_f32, .u16_to_f32 = u16_to_f32,
    .f32_to_u8 = f32_to_u8, .f32_to_u16 = f32_to_u16,
    .u8_to_u16 = u8_to_u16, .u16_to_u8 = u16_to_u8,
    .deinterleave_u8 = deinterleave_u8, .interleave_u8 = interleave_u8,
    .deinterleave_u16 = deinterleave_u16, .interleave_u16 = interleave_u16,
    .deinterleave_f32 = deinterleave_f32, .interleave_f32 = interleave_f32,
    .png_filter = png_filter,
};
