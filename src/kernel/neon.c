/* SPDX-License-Identifier: MIT */
/* neon.c — the kernel on AArch64 Advanced SIMD (part of the baseline: no flags needed) */
#include "kernel.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>

/* Full vectors here, the rest of a row by the scalar reference, so nothing passes n. Rounding is
 * kernel.h's formulas written lane-wise; tests/kernel_checks.h compares every primitive with the
 * scalar reference bit for bit (.ci/kernel-neon.sh runs it under qemu). */
#define TAIL hdm__kernel_scalar

/* hdm__div255 on 16-bit lanes: u = t + 128; (u + (u >> 8)) >> 8, which stays below 2^16 */
static inline uint8x8_t div255_lo(uint16x8_t t)
{
    uint16x8_t u = vaddq_u16(t, vdupq_n_u16(128));
    return vshrn_n_u16(vsraq_n_u16(u, u, 8), 8);
}

static inline uint8x16_t mul_u8_v(uint8x16_t a, uint8x16_t b)
{
    uint8x8_t lo = div255_lo(vmull_u8(vget_low_u8(a), vget_low_u8(b)));
    uint16x8_t th = vmull_high_u8(a, b);
    uint16x8_t uh = vaddq_u16(th, vdupq_n_u16(128));
    return vshrn_high_n_u16(lo, vsraq_n_u16(uh, uh, 8), 8);
}

/* hdm__div65535 on 32-bit lanes: u = t + 32768; (u + (u >> 16)) >> 16, below 2^32 */
static inline uint16x4_t div65535_lo(uint32x4_t t)
{
    uint32x4_t u = vaddq_u32(t, vdupq_n_u32(32768));
    return vshrn_n_u32(vsraq_n_u32(u, u, 16), 16);
}

static inline uint16x8_t mul_u16_v(uint16x8_t a, uint16x8_t b)
{
    uint16x4_t lo = div65535_lo(vmull_u16(vget_low_u16(a), vget_low_u16(b)));
    uint32x4_t uh = vaddq_u32(vmull_high_u16(a, b), vdupq_n_u32(32768));
    return vshrn_high_n_u32(lo, vsraq_n_u32(uh, uh, 16), 16);
}

static void hdm__mul_u8_neon(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        vst1q_u8(dst + i, mul_u8_v(vld1q_u8(a + i), vld1q_u8(b + i)));
    if (i < n)
        TAIL.mul_u8(dst + i, a + i, b + i, n - i);
}

static void hdm__mulinv_u8_neon(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        vst1q_u8(dst + i, mul_u8_v(vld1q_u8(a + i), vmvnq_u8(vld1q_u8(b + i))));
    if (i < n)
        TAIL.mulinv_u8(dst + i, a + i, b + i, n - i);
}

static void hdm__mul_u16_neon(uint16_t *dst, const uint16_t *a, const uint16_t *b, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        vst1q_u16(dst + i, mul_u16_v(vld1q_u16(a + i), vld1q_u16(b + i)));
    if (i < n)
        TAIL.mul_u16(dst + i, a + i, b + i, n - i);
}

static void hdm__mulinv_u16_neon(uint16_t *dst, const uint16_t *a, const uint16_t *b, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        vst1q_u16(dst + i, mul_u16_v(vld1q_u16(a + i), vmvnq_u16(vld1q_u16(b + i))));
    if (i < n)
        TAIL.mulinv_u16(dst + i, a + i, b + i, n - i);
}

static void hdm__mul_f32_neon(float *dst, const float *a, const float *b, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(dst + i, vmulq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
    if (i < n)
        TAIL.mul_f32(dst + i, a + i, b + i, n - i);
}

static void hdm__mulinv_f32_neon(float *dst, const float *a, const float *b, size_t n)
{
    const float32x4_t one = vdupq_n_f32(1.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(dst + i, vmulq_f32(vld1q_f32(a + i), vsubq_f32(one, vld1q_f32(b + i))));
    if (i < n)
        TAIL.mulinv_f32(dst + i, a + i, b + i, n - i);
}

static void hdm__scale_f32_neon(float *dst, const float *a, float k, size_t n)
{
    const float32x4_t kv = vdupq_n_f32(k);
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(dst + i, vmulq_f32(vld1q_f32(a + i), kv));
    if (i < n)
        TAIL.scale_f32(dst + i, a + i, k, n - i);
}

/* vmulq then vaddq, never vfmaq: the build's -ffp-contract=off keeps them apart */
static void hdm__lerp_f32_neon(float *dst, const float *a, const float *b, float t, size_t n)
{
    const float32x4_t tv = vdupq_n_f32(t);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t av = vld1q_f32(a + i);
        vst1q_f32(dst + i, vaddq_f32(av, vmulq_f32(tv, vsubq_f32(vld1q_f32(b + i), av))));
    }
    if (i < n)
        TAIL.lerp_f32(dst + i, a + i, b + i, t, n - i);
}

static void hdm__lerpv_f32_neon(float *dst, const float *a, const float *b, const float *t,
                                size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t av = vld1q_f32(a + i);
        float32x4_t p = vmulq_f32(vld1q_f32(t + i), vsubq_f32(vld1q_f32(b + i), av));
        vst1q_f32(dst + i, vaddq_f32(av, p));
    }
    if (i < n)
        TAIL.lerpv_f32(dst + i, a + i, b + i, t + i, n - i);
}

static void hdm__screen_f32_neon(float *dst, const float *a, const float *b, size_t n)
{
    const float32x4_t one = vdupq_n_f32(1.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t p = vmulq_f32(vsubq_f32(one, vld1q_f32(a + i)), vsubq_f32(one, vld1q_f32(b + i)));
        vst1q_f32(dst + i, vsubq_f32(one, p));
    }
    if (i < n)
        TAIL.screen_f32(dst + i, a + i, b + i, n - i);
}

static void hdm__axpy_f32_neon(float *dst, const float *a, float k, size_t n)
{
    const float32x4_t kv = vdupq_n_f32(k);
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(dst + i, vaddq_f32(vld1q_f32(dst + i), vmulq_f32(vld1q_f32(a + i), kv)));
    if (i < n)
        TAIL.axpy_f32(dst + i, a + i, k, n - i);
}

/* ---- sliding sums: kernel.h's step on four lines at a time, each product and sum rounded on
 * its own in that order (vmulq, vaddq, vsubq) */

/* One step of four lines whose state is in s (registers when inlined). */
static inline float32x4_t slide_v(float32x4_t *s, float32x4_t ui, float32x4_t uo,
                                  const float *ei, const float *eo, const float *p)
{
    enum { T = HDM__SLIDE_TERMS };
    s[0] = vaddq_f32(s[0], vsubq_f32(ui, uo));
    for (int m = 0; m < T; m++) {
        float32x4_t dr = vsubq_f32(vmulq_f32(vdupq_n_f32(ei[m]), ui),
                                   vmulq_f32(vdupq_n_f32(eo[m]), uo));
        float32x4_t di = vsubq_f32(vmulq_f32(vdupq_n_f32(ei[T + m]), ui),
                                   vmulq_f32(vdupq_n_f32(eo[T + m]), uo));
        s[1 + m] = vaddq_f32(s[1 + m], dr);
        s[1 + T + m] = vaddq_f32(s[1 + T + m], di);
    }
    float32x4_t y = vmulq_f32(vdupq_n_f32(p[0]), s[0]);
    for (int m = 0; m < T; m++) {
        y = vaddq_f32(y, vmulq_f32(vdupq_n_f32(p[1 + m]), s[1 + m]));
        y = vaddq_f32(y, vmulq_f32(vdupq_n_f32(p[1 + T + m]), s[1 + T + m]));
    }
    return y;
}

static void hdm__slide_cols_f32_neon(float *st, size_t stride, float *dst, const float *ui,
                                     const float *uo, const float *ei, const float *eo,
                                     const float *p, size_t n)
{
    enum { S = 1 + 2 * HDM__SLIDE_TERMS };
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t s[S];
        for (int k = 0; k < S; k++)
            s[k] = vld1q_f32(st + k * stride + i);
        float32x4_t y = slide_v(s, vld1q_f32(ui + i), vld1q_f32(uo + i), ei, eo, p);
        for (int k = 0; k < S; k++)
            vst1q_f32(st + k * stride + i, s[k]);
        if (dst)
            vst1q_f32(dst + i, y);
    }
    if (i < n)
        TAIL.slide_cols_f32(st + i, stride, dst ? dst + i : NULL, ui + i, uo + i, ei, eo, p,
                            n - i);
}

/* Four lanes at a time along the whole length, the state in registers; before anything leaves
 * the window, uo is 0 against step 0's phases, as in the scalar reference (the sign of a zero
 * product depends on them). */
static void hdm__slide_lines_f32_neon(float *dst, const float *u, const float *e, const float *p,
                                      size_t r, size_t n)
{
    enum { T = HDM__SLIDE_TERMS, L = HDM__SLIDE_LANES, S = 1 + 2 * T };
    for (size_t l = 0; l + 4 <= L; l += 4) {
        float32x4_t s[S];
        for (int k = 0; k < S; k++)
            s[k] = vdupq_n_f32(0.0f);
        size_t t = 0;
        for (; t < 2 * r + 1 && t < n + 2 * r; t++) { /* nothing leaves yet */
            float32x4_t y = slide_v(s, vld1q_f32(u + t * L + l), vdupq_n_f32(0.0f),
                                    e + t * 2 * T, e, p + (t >= 2 * r ? t - 2 * r : 0) * S);
            if (t >= 2 * r)
                vst1q_f32(dst + (t - 2 * r) * L + l, y);
        }
        for (; t < n + 2 * r; t++) {
            size_t o = t - 2 * r;
            float32x4_t y = slide_v(s, vld1q_f32(u + t * L + l), vld1q_f32(u + (o - 1) * L + l),
                                    e + t * 2 * T, e + (o - 1) * 2 * T, p + o * S);
            vst1q_f32(dst + o * L + l, y);
        }
    }
}

/* ---- blending, compositing, thresholds: the scalar reference's branches as ordered compares
 * (false when either side is NaN, as C's are) and bit selects. FMIN/FMAX are not used: they
 * return NaN for one NaN operand and order −0 below +0, where scalar.c's a < b ? a : b and
 * fminf(1, q) return an operand by the comparison alone. */

static inline float32x4_t sel_f(uint32x4_t m, float32x4_t a, float32x4_t b)
{
    return vbslq_f32(m, a, b);
}

/* m ? a : +0 */
static inline float32x4_t maskz_f(uint32x4_t m, float32x4_t a)
{
    return vreinterpretq_f32_u32(vandq_u32(m, vreinterpretq_u32_f32(a)));
}

/* a < b ? a : b, and a > b ? a : b */
static inline float32x4_t min_lt(float32x4_t a, float32x4_t b)
{
    return sel_f(vcltq_f32(a, b), a, b);
}

static inline float32x4_t max_gt(float32x4_t a, float32x4_t b)
{
    return sel_f(vcgtq_f32(a, b), a, b);
}

/* 10.2.9 hard-light: cs ≤ 0.5 ? cb·(2cs) : 1 − (1 − cb)·(1 − (2cs − 1)) */
static inline float32x4_t hard_v(float32x4_t cb, float32x4_t cs)
{
    const float32x4_t one = vdupq_n_f32(1.0f);
    float32x4_t cs2 = vmulq_f32(vdupq_n_f32(2.0f), cs);
    float32x4_t scr = vmulq_f32(vsubq_f32(one, cb), vsubq_f32(one, vsubq_f32(cs2, one)));
    scr = vsubq_f32(one, scr);
    return sel_f(vcleq_f32(cs, vdupq_n_f32(0.5f)), vmulq_f32(cb, cs2), scr);
}

/* 10.2.10 soft-light, scalar.c's products in its order (see x86_template.h) */
static inline float32x4_t soft_v(float32x4_t cb, float32x4_t cs)
{
    const float32x4_t one = vdupq_n_f32(1.0f);
    float32x4_t cs2 = vmulq_f32(vdupq_n_f32(2.0f), cs);
    float32x4_t lo = vmulq_f32(vmulq_f32(vsubq_f32(one, cs2), cb), vsubq_f32(one, cb));
    lo = vsubq_f32(cb, lo);
    float32x4_t poly = vsubq_f32(vmulq_f32(vdupq_n_f32(16.0f), cb), vdupq_n_f32(12.0f));
    poly = vmulq_f32(poly, cb);
    poly = vmulq_f32(vaddq_f32(poly, vdupq_n_f32(4.0f)), cb);
    float32x4_t d = sel_f(vcleq_f32(cb, vdupq_n_f32(0.25f)), poly, vsqrtq_f32(cb));
    float32x4_t hi = vaddq_f32(cb, vmulq_f32(vsubq_f32(cs2, one), vsubq_f32(d, cb)));
    return sel_f(vcleq_f32(cs, vdupq_n_f32(0.5f)), lo, hi);
}

/* 10.2.7 color-dodge: cb == 0 ? 0 : ics ≤ 0 ? 1 : fminf(1, cb/ics) */
static inline float32x4_t dodge_v(float32x4_t cb, float32x4_t ics)
{
    const float32x4_t one = vdupq_n_f32(1.0f), zero = vdupq_n_f32(0.0f);
    float32x4_t r = sel_f(vcleq_f32(ics, zero), one, min_lt(vdivq_f32(cb, ics), one));
    return sel_f(vceqq_f32(cb, zero), zero, r);
}

/* 10.2.8 color-burn: icb ≤ 0 ? 1 : cs == 0 ? 0 : 1 − fminf(1, icb/cs) */
static inline float32x4_t burn_v(float32x4_t cs, float32x4_t icb)
{
    const float32x4_t one = vdupq_n_f32(1.0f), zero = vdupq_n_f32(0.0f);
    float32x4_t r = vsubq_f32(one, min_lt(vdivq_f32(icb, cs), one));
    r = sel_f(vceqq_f32(cs, zero), zero, r);
    return sel_f(vcleq_f32(icb, zero), one, r);
}

static void hdm__blend_f32_neon(float *dst, const float *cb, const float *cs, const float *icb,
                                const float *ics, unsigned mode, size_t n)
{
    const float32x4_t one = vdupq_n_f32(1.0f);
    size_t i = 0;
#define BLEND(expr)                                                                             \
    for (; i + 4 <= n; i += 4) {                                                                \
        float32x4_t b = vld1q_f32(cb + i), s = vld1q_f32(cs + i);                               \
        (void)b;                                                                                \
        vst1q_f32(dst + i, (expr));                                                             \
    }                                                                                           \
    break
    switch (mode) {
    case HDM__BLEND_NORMAL: BLEND(s);
    case HDM__BLEND_MULTIPLY: BLEND(vmulq_f32(b, s));
    case HDM__BLEND_SCREEN: BLEND(vsubq_f32(one, vmulq_f32(vsubq_f32(one, b), vsubq_f32(one, s))));
    case HDM__BLEND_OVERLAY: BLEND(hard_v(s, b));
    case HDM__BLEND_DARKEN: BLEND(min_lt(b, s));
    case HDM__BLEND_LIGHTEN: BLEND(max_gt(b, s));
    case HDM__BLEND_COLOR_DODGE: BLEND(dodge_v(b, ics ? vld1q_f32(ics + i) : vsubq_f32(one, s)));
    case HDM__BLEND_COLOR_BURN: BLEND(burn_v(s, icb ? vld1q_f32(icb + i) : vsubq_f32(one, b)));
    case HDM__BLEND_HARD_LIGHT: BLEND(hard_v(b, s));
    case HDM__BLEND_SOFT_LIGHT: BLEND(soft_v(b, s));
    case HDM__BLEND_DIFFERENCE: BLEND(vabsq_f32(vsubq_f32(b, s)));
    case HDM__BLEND_EXCLUSION:
        BLEND(vsubq_f32(vaddq_f32(b, s), vmulq_f32(vmulq_f32(vdupq_n_f32(2.0f), b), s)));
    default: return; /* not a mode: scalar.c leaves dst alone too */
    }
#undef BLEND
    if (i < n)
        TAIL.blend_f32(dst + i, cb + i, cs + i, icb ? icb + i : NULL, ics ? ics + i : NULL, mode,
                       n - i);
}

/* every source loaded before any output is stored, so an output may be one of the sources */
static void hdm__over_f32_neon(float *ao, float *wb, float *ws, const float *ab, const float *as,
                               size_t n)
{
    const float32x4_t one = vdupq_n_f32(1.0f), zero = vdupq_n_f32(0.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t s = vld1q_f32(as + i);
        float32x4_t p = vmulq_f32(vld1q_f32(ab + i), vsubq_f32(one, s));
        float32x4_t o = vaddq_f32(s, p);
        uint32x4_t pos = vcgtq_f32(o, zero);
        vst1q_f32(ao + i, o);
        vst1q_f32(wb + i, maskz_f(pos, vdivq_f32(p, o)));
        vst1q_f32(ws + i, maskz_f(pos, vdivq_f32(s, o)));
    }
    if (i < n)
        TAIL.over_f32(ao + i, wb + i, ws + i, ab + i, as + i, n - i);
}

static void hdm__composite_f32_neon(float *ao, float *wb, float *ws, const float *ab,
                                    const float *as, unsigned op, size_t n)
{
    float f[4];
    int clamp = hdm__composite_factors(op, f);
    const float32x4_t one = vdupq_n_f32(1.0f), zero = vdupq_n_f32(0.0f);
    const float32x4_t fa0 = vdupq_n_f32(f[0]), fa1 = vdupq_n_f32(f[1]);
    const float32x4_t fb0 = vdupq_n_f32(f[2]), fb1 = vdupq_n_f32(f[3]);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t a = vld1q_f32(ab + i), s = vld1q_f32(as + i);
        float32x4_t pa = vmulq_f32(s, vaddq_f32(fa0, vmulq_f32(fa1, a)));
        float32x4_t pb = vmulq_f32(a, vaddq_f32(fb0, vmulq_f32(fb1, s)));
        float32x4_t o = vaddq_f32(pa, pb);
        if (clamp)
            o = vbslq_f32(vcgtq_f32(o, one), one, o);
        uint32x4_t pos = vcgtq_f32(o, zero);
        vst1q_f32(ao + i, o);
        vst1q_f32(wb + i, maskz_f(pos, vdivq_f32(pb, o)));
        vst1q_f32(ws + i, maskz_f(pos, vdivq_f32(pa, o)));
    }
    if (i < n)
        TAIL.composite_f32(ao + i, wb + i, ws + i, ab + i, as + i, op, n - i);
}

static void hdm__mix_f32_neon(float *dst, const float *a, const float *wa, const float *b,
                              const float *wb, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t p = vmulq_f32(vld1q_f32(a + i), vld1q_f32(wa + i));
        float32x4_t q = vmulq_f32(vld1q_f32(b + i), vld1q_f32(wb + i));
        vst1q_f32(dst + i, vaddq_f32(p, q));
    }
    if (i < n)
        TAIL.mix_f32(dst + i, a + i, wa + i, b + i, wb + i, n - i);
}

static void hdm__unpremul_f32_neon(float *dst, const float *c, const float *a, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t av = vld1q_f32(a + i);
        uint32x4_t pos = vcgtq_f32(av, vdupq_n_f32(0.0f));
        vst1q_f32(dst + i, maskz_f(pos, vdivq_f32(vld1q_f32(c + i), av)));
    }
    if (i < n)
        TAIL.unpremul_f32(dst + i, c + i, a + i, n - i);
}

/* the comparison's all-ones lanes are M itself for the integer depths */
static void hdm__threshold_u8_neon(uint8_t *dst, const uint8_t *src, uint8_t t, size_t n)
{
    const uint8x16_t tv = vdupq_n_u8(t);
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        vst1q_u8(dst + i, vcgeq_u8(vld1q_u8(src + i), tv));
    if (i < n)
        TAIL.threshold_u8(dst + i, src + i, t, n - i);
}

static void hdm__threshold_u16_neon(uint16_t *dst, const uint16_t *src, uint16_t t, size_t n)
{
    const uint16x8_t tv = vdupq_n_u16(t);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        vst1q_u16(dst + i, vcgeq_u16(vld1q_u16(src + i), tv));
    if (i < n)
        TAIL.threshold_u16(dst + i, src + i, t, n - i);
}

static void hdm__threshold_f32_neon(float *dst, const float *src, float t, size_t n)
{
    const float32x4_t tv = vdupq_n_f32(t), one = vdupq_n_f32(1.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(dst + i, maskz_f(vcgeq_f32(vld1q_f32(src + i), tv), one));
    if (i < n)
        TAIL.threshold_f32(dst + i, src + i, t, n - i);
}

static void hdm__u8_to_f32_neon(float *dst, const uint8_t *src, size_t n)
{
    const float32x4_t m = vdupq_n_f32(255.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint16x8_t x = vmovl_u8(vld1_u8(src + i));
        vst1q_f32(dst + i, vdivq_f32(vcvtq_f32_u32(vmovl_u16(vget_low_u16(x))), m));
        vst1q_f32(dst + i + 4, vdivq_f32(vcvtq_f32_u32(vmovl_high_u16(x)), m));
    }
    if (i < n)
        TAIL.u8_to_f32(dst + i, src + i, n - i);
}

static void hdm__u16_to_f32_neon(float *dst, const uint16_t *src, size_t n)
{
    const float32x4_t m = vdupq_n_f32(65535.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(dst + i, vdivq_f32(vcvtq_f32_u32(vmovl_u16(vld1_u16(src + i))), m));
    if (i < n)
        TAIL.u16_to_f32(dst + i, src + i, n - i);
}

/* clamp(floor(x·m + 0.5), 0, m), NaN → 0: min with m (NaN stays NaN), then FCVTZU, which
 * truncates — floor for y >= 0 — and saturates negatives and NaN to 0. */
static inline uint32x4_t f32_to_int_v(float32x4_t x, float m)
{
    float32x4_t y = vaddq_f32(vmulq_f32(x, vdupq_n_f32(m)), vdupq_n_f32(0.5f));
    return vcvtq_u32_f32(vminq_f32(y, vdupq_n_f32(m)));
}

static void hdm__f32_to_u8_neon(uint8_t *dst, const float *src, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint16x4_t lo = vmovn_u32(f32_to_int_v(vld1q_f32(src + i), 255.0f));
        uint16x4_t hi = vmovn_u32(f32_to_int_v(vld1q_f32(src + i + 4), 255.0f));
        vst1_u8(dst + i, vmovn_u16(vcombine_u16(lo, hi)));
    }
    if (i < n)
        TAIL.f32_to_u8(dst + i, src + i, n - i);
}

static void hdm__f32_to_u16_neon(uint16_t *dst, const float *src, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1_u16(dst + i, vmovn_u32(f32_to_int_v(vld1q_f32(src + i), 65535.0f)));
    if (i < n)
        TAIL.f32_to_u16(dst + i, src + i, n - i);
}

/* x·257: each byte zipped with itself is the 16-bit x·257 (little endian) */
static void hdm__u8_to_u16_neon(uint16_t *dst, const uint8_t *src, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint8x16_t x = vld1q_u8(src + i);
        vst1q_u16(dst + i, vreinterpretq_u16_u8(vzip1q_u8(x, x)));
        vst1q_u16(dst + i + 8, vreinterpretq_u16_u8(vzip2q_u8(x, x)));
    }
    if (i < n)
        TAIL.u8_to_u16(dst + i, src + i, n - i);
}

/* (x + 128) / 257: saturating x + 128 (the answer is 255 wherever it saturates), then
 * floor(y/257) = (y·65281) >> 24 for y < 2^16 (see x86_template.h for the bound) */
static inline uint16x4_t div257_lo(uint16x4_t y)
{
    return vmovn_u32(vshrq_n_u32(vmull_n_u16(y, 65281), 24));
}

static void hdm__u16_to_u8_neon(uint8_t *dst, const uint16_t *src, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint16x8_t y = vqaddq_u16(vld1q_u16(src + i), vdupq_n_u16(128));
        uint16x8_t q = vcombine_u16(div257_lo(vget_low_u16(y)), div257_lo(vget_high_u16(y)));
        vst1_u8(dst + i, vmovn_u16(q));
    }
    if (i < n)
        TAIL.u16_to_u8(dst + i, src + i, n - i);
}

/* Layout changes are what the structure loads and stores (LD2/3/4, ST2/3/4) are for: one pair
 * per depth, S its sample suffix, T its C type, VT its vector type and L its lanes a step. For
 * f32 the loads and stores move bits, as the scalar reference's memcpy does. */
#define NEON_LAYOUT(S, T, VT, L)                                                               \
    static void hdm__deinterleave_##S##_neon(T *const *plane, const T *src, unsigned ch,       \
                                             size_t n)                                         \
    {                                                                                          \
        size_t i = 0;                                                                          \
        if (ch == 1) {                                                                         \
            memmove(plane[0], src, n * sizeof *src);                                           \
            return;                                                                            \
        } else if (ch == 2) {                                                                  \
            for (; i + L <= n; i += L) {                                                       \
                VT##x2_t v = vld2q_##S(src + 2 * i);                                           \
                vst1q_##S(plane[0] + i, v.val[0]);                                             \
                vst1q_##S(plane[1] + i, v.val[1]);                                             \
            }                                                                                  \
        } else if (ch == 3) {                                                                  \
            for (; i + L <= n; i += L) {                                                       \
                VT##x3_t v = vld3q_##S(src + 3 * i);                                           \
                for (int c = 0; c < 3; c++)                                                    \
                    vst1q_##S(plane[c] + i, v.val[c]);                                         \
            }                                                                                  \
        } else if (ch == 4) {                                                                  \
            for (; i + L <= n; i += L) {                                                       \
                VT##x4_t v = vld4q_##S(src + 4 * i);                                           \
                for (int c = 0; c < 4; c++)                                                    \
                    vst1q_##S(plane[c] + i, v.val[c]);                                         \
            }                                                                                  \
        }                                                                                      \
        if (i < n) {                                                                           \
            T *rest[4];                                                                        \
            for (unsigned c = 0; c < ch && c < 4; c++)                                         \
                rest[c] = plane[c] + i;                                                        \
            TAIL.deinterleave_##S(i ? rest : plane, src + i * ch, ch, n - i);                  \
        }                                                                                      \
    }                                                                                          \
                                                                                               \
    static void hdm__interleave_##S##_neon(T *dst, const T *const *plane, unsigned ch,         \
                                           size_t n)                                           \
    {                                                                                          \
        size_t i = 0;                                                                          \
        if (ch == 1) {                                                                         \
            memmove(dst, plane[0], n * sizeof *dst);                                           \
            return;                                                                            \
        } else if (ch == 2) {                                                                  \
            for (; i + L <= n; i += L) {                                                       \
                VT##x2_t v = {{vld1q_##S(plane[0] + i), vld1q_##S(plane[1] + i)}};             \
                vst2q_##S(dst + 2 * i, v);                                                     \
            }                                                                                  \
        } else if (ch == 3) {                                                                  \
            for (; i + L <= n; i += L) {                                                       \
                VT##x3_t v = {{vld1q_##S(plane[0] + i), vld1q_##S(plane[1] + i),               \
                               vld1q_##S(plane[2] + i)}};                                      \
                vst3q_##S(dst + 3 * i, v);                                                     \
            }                                                                                  \
        } else if (ch == 4) {                                                                  \
            for (; i + L <= n; i += L) {                                                       \
                VT##x4_t v = {{vld1q_##S(plane[0] + i), vld1q_##S(plane[1] + i),               \
                               vld1q_##S(plane[2] + i), vld1q_##S(plane[3] + i)}};             \
                vst4q_##S(dst + 4 * i, v);                                                     \
            }                                                                                  \
        }                                                                                      \
        if (i < n) {                                                                           \
            const T *rest[4];                                                                  \
            for (unsigned c = 0; c < ch && c < 4; c++)                                         \
                rest[c] = plane[c] + i;                                                        \
            TAIL.interleave_##S(dst + i * ch, i ? rest : plane, ch, n - i);                    \
        }                                                                                      \
    }

NEON_LAYOUT(u8, uint8_t, uint8x16, 16)
NEON_LAYOUT(u16, uint16_t, uint16x8, 8)
NEON_LAYOUT(f32, float, float32x4, 4)

/* ---- PNG filters: whole vectors from unaligned loads at i − bpp (the predictors read raw
 * neighbours, never filtered output); the first pixel and the last partial vector are the
 * scalar reference's. x86_template.h explains the byte-wide Paeth. */

/* PNG specification 9.4 on bytes: pa = |b − c|, pb = |a − c|, and pc = |(a − c) + (b − c)| is
 * pa + pb (saturated, which changes no comparison with pa or pb) when a − c and b − c have the
 * same sign, |pa − pb| when not; then a if pa <= pb and pa <= pc, else b if pb <= pc, else c. */
static inline uint8x16_t paeth_v(uint8x16_t a, uint8x16_t b, uint8x16_t c)
{
    uint8x16_t pa = vabdq_u8(b, c), pb = vabdq_u8(a, c);
    uint8x16_t opposite = veorq_u8(vcgeq_u8(a, c), vcgeq_u8(b, c));
    uint8x16_t pc = vbslq_u8(opposite, vabdq_u8(pa, pb), vqaddq_u8(pa, pb));
    uint8x16_t b_or_c = vbslq_u8(vcleq_u8(pb, pc), b, c);
    return vbslq_u8(vcleq_u8(pa, vminq_u8(pb, pc)), a, b_or_c);
}

/* |(int8_t)d| as a byte is ABS's wrapped result: −128 gives 0x80 = 128, as abs() does. Pairs
 * are added into 16-bit lanes, 256 at most per vector, so a block of 128 vectors cannot carry
 * out of them. */
#define PNG_BLOCK 128
#define PNG_LOOP(PRED)                                                                          \
    for (; i < end; i += 16) {                                                                  \
        uint8x16_t d = vsubq_u8(vld1q_u8(row + i), (PRED));                                     \
        vst1q_u8(dst + i, d);                                                                   \
        acc = vpadalq_u8(acc, vreinterpretq_u8_s8(vabsq_s8(vreinterpretq_s8_u8(d))));          \
    }
#define PNG_A vld1q_u8(row + i - bpp)
#define PNG_B vld1q_u8(prev + i)
#define PNG_C vld1q_u8(prev + i - bpp)

static uint64_t hdm__png_filter_neon(uint8_t *dst, const uint8_t *row, const uint8_t *prev,
                                     size_t n, unsigned bpp, unsigned type)
{
    size_t i = bpp < n ? bpp : n;
    uint64_t sum = TAIL.png_filter(dst, row, prev, i, bpp, type);
    while (n - i >= 16) {
        size_t vecs = (n - i) / 16, end = i + 16 * (vecs < PNG_BLOCK ? vecs : PNG_BLOCK);
        uint16x8_t acc = vdupq_n_u16(0);
        switch (type) {
        case 0: PNG_LOOP(vdupq_n_u8(0)) break;
        case 1: PNG_LOOP(PNG_A) break;
        case 2: PNG_LOOP(PNG_B) break;
        case 3: PNG_LOOP(vhaddq_u8(PNG_A, PNG_B)) break; /* (a + b) >> 1, without overflow */
        default: PNG_LOOP(paeth_v(PNG_A, PNG_B, PNG_C)) break;
        }
        sum += vaddlvq_u16(acc);
    }
    return sum + hdm__png_filter_rest_scalar(dst, row, prev, n, bpp, type, i);
}

#undef PNG_LOOP
#undef PNG_A
#undef PNG_B
#undef PNG_C

const hdm__kernel hdm__kernel_neon = {
    .name = "neon",
    .mul_u8 = hdm__mul_u8_neon, .mul_u16 = hdm__mul_u16_neon, .mul_f32 = hdm__mul_f32_neon,
    .mulinv_u8 = hdm__mulinv_u8_neon, .mulinv_u16 = hdm__mulinv_u16_neon,
    .mulinv_f32 = hdm__mulinv_f32_neon,
    .scale_f32 = hdm__scale_f32_neon, .lerp_f32 = hdm__lerp_f32_neon,
    .lerpv_f32 = hdm__lerpv_f32_neon, .screen_f32 = hdm__screen_f32_neon,
    .axpy_f32 = hdm__axpy_f32_neon,
    .blend_f32 = hdm__blend_f32_neon, .over_f32 = hdm__over_f32_neon,
    .composite_f32 = hdm__composite_f32_neon,
    .mix_f32 = hdm__mix_f32_neon, .unpremul_f32 = hdm__unpremul_f32_neon,
    .slide_cols_f32 = hdm__slide_cols_f32_neon, .slide_lines_f32 = hdm__slide_lines_f32_neon,
    .threshold_u8 = hdm__threshold_u8_neon, .threshold_u16 = hdm__threshold_u16_neon,
    .threshold_f32 = hdm__threshold_f32_neon,
    .u8_to_f32 = hdm__u8_to_f32_neon, .u16_to_f32 = hdm__u16_to_f32_neon,
    .f32_to_u8 = hdm__f32_to_u8_neon, .f32_to_u16 = hdm__f32_to_u16_neon,
    .u8_to_u16 = hdm__u8_to_u16_neon, .u16_to_u8 = hdm__u16_to_u8_neon,
    .deinterleave_u8 = hdm__deinterleave_u8_neon, .interleave_u8 = hdm__interleave_u8_neon,
    .deinterleave_u16 = hdm__deinterleave_u16_neon, .interleave_u16 = hdm__interleave_u16_neon,
    .deinterleave_f32 = hdm__deinterleave_f32_neon, .interleave_f32 = hdm__interleave_f32_neon,
    .png_filter = hdm__png_filter_neon,
};

#endif
