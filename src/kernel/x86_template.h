/* SPDX-License-Identifier: MIT */
/* x86_template.h — every kernel primitive written once over an x86 vector ISA's helpers */

/* Included by x86_sse2.c, x86_avx2.c and x86_avx512.c, each compiled with its own -m flags after
 * defining:
 *   HDM_ISA     the suffix (sse2, avx2, avx512) of the function names and of hdm__kernel_ISA
 *   HDM_NARROW  the table that finishes a row's last partial vector (the next narrower variant,
 *               down to the scalar reference), so no load or store ever passes n
 *   HDM_NARROW_PNG_REST  the same for the PNG filters: the narrower variant's
 *               hdm__png_filter_rest_ISA, which carries on mid-row
 *   VB          bytes per vector; vi / vf the integer and float vector types
 *   the helpers below: loads, stores, lane-wise maths, widening loads and narrowing stores, and
 *   the 128-bit lane moves the interleave network needs.
 * Every lane-wise helper works within 128-bit lanes (as unpack and pack do on AVX2/AVX-512), so
 * one body serves all three widths. Rounding is that of kernel.h, in the equivalent forms proved
 * next to each helper; tests/test_kernel.c checks every variant against the scalar reference. */

#include <string.h>

#define HDM_CAT_(a, b) a##b
#define HDM_CAT(a, b) HDM_CAT_(a, b)
#define NAME(f) HDM_CAT(hdm__##f##_, HDM_ISA)
#define INLINE static inline __attribute__((always_inline))

/* ---- integer rounding -------------------------------------------------------------------- */

/* hdm__div255 on 16-bit lanes. With u = t + 128 < 2^16, write u = 256h + l; then
 * (u·257) >> 16 = h + ((l + h)·256 + l) >> 16 = h + (l + h) >> 8, which is (u + (u >> 8)) >> 8. */
INLINE vi div255_v(vi t)
{
    return mulhi_u16(add16(t, set1_16(128)), set1_16(257));
}

/* round(a·b/255) for 16 u8 pairs per 128-bit lane */
INLINE vi mul_u8_v(vi a, vi b)
{
    const vi z = zero_i();
    vi lo = mullo16(unpacklo8(a, z), unpacklo8(b, z));
    vi hi = mullo16(unpackhi8(a, z), unpackhi8(b, z));
    return packus16(div255_v(lo), div255_v(hi));
}

/* hdm__div65535(a·b) on 16-bit lanes. With t + 32768 = 65536q + r the formula is
 * q + (r + q >= 65536). From the 32-bit product's halves (lo, hi): q = hi + (lo >= 32768),
 * r = lo ^ 0x8000, and r + q >= 65536 ⇔ r >u ~q ⇔ lo >s (q ^ 0x7fff) (flipping both sign bits
 * turns the unsigned comparison into a signed one). */
INLINE vi mul_u16_v(vi a, vi b)
{
    vi lo = mullo16(a, b);
    vi q = add16(mulhi_u16(a, b), srli16(lo, 15));
    vi carry = cmpgt16(lo, xor_i(q, set1_16(0x7fff)));
    return sub16(q, carry);
}

/* round(x/257) = (x + 128) / 257 for u16 x. Saturating x + 128 is exact below 65408 and gives
 * 65535 above, where the answer is 255 either way. For y < 2^16, y·65281 / 2^24 equals
 * y/257 · (1 + 2^-24), which never carries y/257 past the next integer (its fraction is at most
 * 256/257), so (mulhi(y, 65281) >> 8) = floor(y/257). */
INLINE vi u16_to_u8_v(vi x)
{
    return srli16(mulhi_u16(adds_u16(x, set1_16(128)), set1_16(65281)), 8);
}

/* clamp(floor(x·m + 0.5), 0, m), NaN → 0: max(y, 0) yields its second operand, 0, when y is NaN;
 * min with the integer m then truncation equals the scalar floor-then-clamp for y >= 0. */
INLINE vi f32_to_int_v(vf x, float m)
{
    vf y = addf(mulf(x, set1f(m)), set1f(0.5f));
    y = minf(maxf(y, zero_f()), set1f(m));
    return cvtt_f_i32(y);
}

/* ---- products ---------------------------------------------------------------------------- */

#define ROW_LOOP(T, body)                                                                       \
    size_t i = 0;                                                                               \
    for (; i + VB / sizeof(T) <= n; i += VB / sizeof(T)) {                                      \
        body;                                                                                   \
    }

static void NAME(mul_u8)(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n)
{
    ROW_LOOP(uint8_t, st_i(dst + i, mul_u8_v(ld_i(a + i), ld_i(b + i))))
    if (i < n)
        HDM_NARROW.mul_u8(dst + i, a + i, b + i, n - i);
}

/* The complement 255 − b = ~b is written andnot(b, ones): GCC turns xor-with-ones into a
 * vpternlog that reads its destination, a false dependency that chains every iteration. */
static void NAME(mulinv_u8)(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n)
{
    const vi ones = set1_16(-1);
    ROW_LOOP(uint8_t, st_i(dst + i, mul_u8_v(ld_i(a + i), andnot_i(ld_i(b + i), ones))))
    if (i < n)
        HDM_NARROW.mulinv_u8(dst + i, a + i, b + i, n - i);
}

static void NAME(mul_u16)(uint16_t *dst, const uint16_t *a, const uint16_t *b, size_t n)
{
    ROW_LOOP(uint16_t, st_i(dst + i, mul_u16_v(ld_i(a + i), ld_i(b + i))))
    if (i < n)
        HDM_NARROW.mul_u16(dst + i, a + i, b + i, n - i);
}

static void NAME(mulinv_u16)(uint16_t *dst, const uint16_t *a, const uint16_t *b, size_t n)
{
    const vi ones = set1_16(-1);
    ROW_LOOP(uint16_t, st_i(dst + i, mul_u16_v(ld_i(a + i), andnot_i(ld_i(b + i), ones))))
    if (i < n)
        HDM_NARROW.mulinv_u16(dst + i, a + i, b + i, n - i);
}

static void NAME(mul_f32)(float *dst, const float *a, const float *b, size_t n)
{
    ROW_LOOP(float, st_f(dst + i, mulf(ld_f(a + i), ld_f(b + i))))
    if (i < n)
        HDM_NARROW.mul_f32(dst + i, a + i, b + i, n - i);
}

static void NAME(mulinv_f32)(float *dst, const float *a, const float *b, size_t n)
{
    const vf one = set1f(1.0f);
    ROW_LOOP(float, st_f(dst + i, mulf(ld_f(a + i), subf(one, ld_f(b + i)))))
    if (i < n)
        HDM_NARROW.mulinv_f32(dst + i, a + i, b + i, n - i);
}

static void NAME(scale_f32)(float *dst, const float *a, float k, size_t n)
{
    const vf kv = set1f(k);
    ROW_LOOP(float, st_f(dst + i, mulf(ld_f(a + i), kv)))
    if (i < n)
        HDM_NARROW.scale_f32(dst + i, a + i, k, n - i);
}

static void NAME(lerp_f32)(float *dst, const float *a, const float *b, float t, size_t n)
{
    const vf tv = set1f(t);
    ROW_LOOP(float, vf av = ld_f(a + i); st_f(dst + i, addf(av, mulf(tv, subf(ld_f(b + i), av)))))
    if (i < n)
        HDM_NARROW.lerp_f32(dst + i, a + i, b + i, t, n - i);
}

static void NAME(lerpv_f32)(float *dst, const float *a, const float *b, const float *t, size_t n)
{
    ROW_LOOP(float, vf av = ld_f(a + i);
             st_f(dst + i, addf(av, mulf(ld_f(t + i), subf(ld_f(b + i), av)))))
    if (i < n)
        HDM_NARROW.lerpv_f32(dst + i, a + i, b + i, t + i, n - i);
}

static void NAME(screen_f32)(float *dst, const float *a, const float *b, size_t n)
{
    const vf one = set1f(1.0f);
    ROW_LOOP(float, vf p = mulf(subf(one, ld_f(a + i)), subf(one, ld_f(b + i)));
             st_f(dst + i, subf(one, p)))
    if (i < n)
        HDM_NARROW.screen_f32(dst + i, a + i, b + i, n - i);
}

static void NAME(axpy_f32)(float *dst, const float *a, float k, size_t n)
{
    const vf kv = set1f(k);
    ROW_LOOP(float, st_f(dst + i, addf(ld_f(dst + i), mulf(ld_f(a + i), kv))))
    if (i < n)
        HDM_NARROW.axpy_f32(dst + i, a + i, k, n - i);
}

/* The resampler's vertical pass and the filter's sums: blocks of COL_VECS vectors, each its own
 * accumulator, so COL_VECS additions are in flight rather than one waiting on the last (an
 * addition's latency is several cycles, its throughput one or two a cycle); then single
 * vectors, then samples. Every sample's taps are summed in order, each product and sum rounded
 * on its own, as the scalar reference does. */
#define COL_VECS 8
static void NAME(resample_col_f32)(float *dst, const float *const *rows, const float *w,
                                   size_t taps, size_t n)
{
    const size_t v = VB / sizeof(float);
    size_t i = 0;
    for (; i + COL_VECS * v <= n; i += COL_VECS * v) {
        vf acc[COL_VECS];
        for (int b = 0; b < COL_VECS; b++)
            acc[b] = zero_f();
        for (size_t k = 0; k < taps; k++) {
            const float *r = rows[k] + i;
            vf wk = set1f(w[k]);
            for (int b = 0; b < COL_VECS; b++)
                acc[b] = addf(acc[b], mulf(wk, ld_f(r + b * v)));
        }
        for (int b = 0; b < COL_VECS; b++)
            st_f(dst + i + b * v, acc[b]);
    }
    for (; i + v <= n; i += v) {
        vf acc = zero_f();
        for (size_t k = 0; k < taps; k++)
            acc = addf(acc, mulf(set1f(w[k]), ld_f(rows[k] + i)));
        st_f(dst + i, acc);
    }
    for (; i < n; i++) {
        float acc = 0.0f;
        for (size_t k = 0; k < taps; k++) {
            float p = w[k] * rows[k][i];
            acc = acc + p;
        }
        dst[i] = acc;
    }
}
#undef COL_VECS

/* The filter's vertical pass, FC_ROWS output rows and FC_VECS vectors of samples at a time:
 * each input row's vectors are loaded once and added, times its tap, into every output row
 * that reads it, FC_ROWS × FC_VECS accumulators in flight (16 of AVX-512's 32 registers, 8 of
 * the 16 narrower ones). Output row r's taps still come in order k = 0, 1, … (input row
 * q = r + k), so its sums are resample_col_f32's. */
#define FC_ROWS 8
#if VB == 64
#define FC_VECS 2
#else
#define FC_VECS 1
#endif
#define FC_ADD(r, k)                                                                            \
    do {                                                                                        \
        vf wk = set1f(w[k]);                                                                    \
        for (int b = 0; b < vecs; b++)                                                          \
            a[r][b] = addf(a[r][b], mulf(wk, x[b]));                                            \
    } while (0)
INLINE void NAME(fc_block)(float *const *dst, const float *const *rows, const float *w,
                           size_t taps, size_t i, int vecs)
{
    const size_t v = VB / sizeof(float);
    vf a[FC_ROWS][FC_VECS], x[FC_VECS];
    for (int r = 0; r < FC_ROWS; r++)
        for (int b = 0; b < vecs; b++)
            a[r][b] = zero_f();
    /* rows q < FC_ROWS − 1 and q ≥ taps reach only some outputs; those between reach all */
    size_t all0 = FC_ROWS - 1, all1 = taps > all0 ? taps : all0, end = taps + FC_ROWS - 1;
    for (size_t q = 0; q < end; q++) {
        for (int b = 0; b < vecs; b++)
            x[b] = ld_f(rows[q] + i + b * v);
        if (q >= all0 && q < all1) {
            for (int r = 0; r < FC_ROWS; r++)
                FC_ADD(r, q - r);
        } else {
            for (int r = 0; r < FC_ROWS; r++)
                if (q >= (size_t)r && q - r < taps)
                    FC_ADD(r, q - r);
        }
    }
    for (int r = 0; r < FC_ROWS; r++)
        for (int b = 0; b < vecs; b++)
            st_f(dst[r] + i + b * v, a[r][b]);
}
#undef FC_ADD

static void NAME(filter_cols_f32)(float *const *dst, const float *const *rows, const float *w,
                                  size_t taps, size_t m, size_t n)
{
    const size_t v = VB / sizeof(float);
    size_t r0 = 0;
    for (; r0 + FC_ROWS <= m; r0 += FC_ROWS) {
        size_t i = 0;
        for (; i + FC_VECS * v <= n; i += FC_VECS * v)
            NAME(fc_block)(dst + r0, rows + r0, w, taps, i, FC_VECS);
        for (; i + v <= n; i += v)
            NAME(fc_block)(dst + r0, rows + r0, w, taps, i, 1);
        for (; i < n; i++)
            for (size_t r = r0; r < r0 + FC_ROWS; r++) {
                float acc = 0.0f;
                for (size_t k = 0; k < taps; k++) {
                    float p = w[k] * rows[r + k][i];
                    acc = acc + p;
                }
                dst[r][i] = acc;
            }
    }
    for (; r0 < m; r0++)
        NAME(resample_col_f32)(dst[r0], rows + r0, w, taps, n);
}
#undef FC_ROWS
#undef FC_VECS

/* ---- sliding sums: kernel.h's step, lane by lane ----------------------------------------- */

/* One step of a vector of lines whose state is in s (registers when inlined): kernel.h's
 * order, each product and sum its own rounding. */
INLINE vf NAME(slide_v)(vf *s, vf ui, vf uo, const float *ei, const float *eo, const float *p)
{
    enum { T = HDM__SLIDE_TERMS };
    s[0] = addf(s[0], subf(ui, uo));
    for (int m = 0; m < T; m++) {
        s[1 + m] = addf(s[1 + m], subf(mulf(set1f(ei[m]), ui), mulf(set1f(eo[m]), uo)));
        s[1 + T + m] = addf(s[1 + T + m], subf(mulf(set1f(ei[T + m]), ui),
                                               mulf(set1f(eo[T + m]), uo)));
    }
    vf y = mulf(set1f(p[0]), s[0]);
    for (int m = 0; m < T; m++) {
        y = addf(y, mulf(set1f(p[1 + m]), s[1 + m]));
        y = addf(y, mulf(set1f(p[1 + T + m]), s[1 + T + m]));
    }
    return y;
}

static void NAME(slide_cols_f32)(float *st, size_t stride, float *dst, const float *ui,
                                 const float *uo, const float *ei, const float *eo,
                                 const float *p, size_t n)
{
    enum { S = 1 + 2 * HDM__SLIDE_TERMS };
    const size_t v = VB / sizeof(float);
    size_t i = 0;
    for (; i + v <= n; i += v) {
        vf s[S];
        for (int k = 0; k < S; k++)
            s[k] = ld_f(st + k * stride + i);
        vf y = NAME(slide_v)(s, ld_f(ui + i), ld_f(uo + i), ei, eo, p);
        for (int k = 0; k < S; k++)
            st_f(st + k * stride + i, s[k]);
        if (dst)
            st_f(dst + i, y);
    }
    if (i < n)
        HDM_NARROW.slide_cols_f32(st + i, stride, dst ? dst + i : NULL, ui + i, uo + i, ei, eo,
                                  p, n - i);
}

/* A vector of lanes at a time along the whole length, its state in registers. */
static void NAME(slide_lines_f32)(float *dst, const float *u, const float *e, const float *p,
                                  size_t r, size_t n)
{
    enum { T = HDM__SLIDE_TERMS, L = HDM__SLIDE_LANES, S = 1 + 2 * T };
    const size_t v = VB / sizeof(float);
    for (size_t l = 0; l + v <= L; l += v) {
        vf s[S];
        for (int k = 0; k < S; k++)
            s[k] = zero_f();
        size_t t = 0;
        for (; t < 2 * r + 1 && t < n + 2 * r; t++) { /* nothing leaves yet */
            vf y = NAME(slide_v)(s, ld_f(u + t * L + l), zero_f(), e + t * 2 * T, e,
                                 p + (t >= 2 * r ? t - 2 * r : 0) * S);
            if (t >= 2 * r)
                st_f(dst + (t - 2 * r) * L + l, y);
        }
        for (; t < n + 2 * r; t++) {
            size_t o = t - 2 * r;
            vf y = NAME(slide_v)(s, ld_f(u + t * L + l), ld_f(u + (o - 1) * L + l),
                                 e + t * 2 * T, e + (o - 1) * 2 * T, p + o * S);
            st_f(dst + o * L + l, y);
        }
    }
}

/* ---- blending, compositing, thresholds -----------------------------------------------------
 *
 * The scalar reference's branches become compare-and-select: both sides are computed in every
 * lane and the comparison picks one. The comparisons are ordered (false when either side is
 * NaN), as C's are, so a NaN takes the same side as in scalar.c. minf(a, b) is exactly
 * a < b ? a : b — MINPS returns its second operand whenever the comparison fails (equal, ±0,
 * NaN) — which is the scalar's darken, and also fminf(1, q) written minf(q, 1): fminf gives 1
 * for a NaN q, q below 1, and 1 and q agree when equal. maxf likewise is a > b ? a : b. */

/* 10.2.9 hard-light: cs ≤ 0.5 ? cb·(2cs) : 1 − (1 − cb)·(1 − (2cs − 1)) */
INLINE vf hard_v(vf cb, vf cs)
{
    const vf one = set1f(1.0f);
    vf cs2 = mulf(set1f(2.0f), cs);
    vf scr = subf(one, mulf(subf(one, cb), subf(one, subf(cs2, one))));
    return sel_f(le_f(cs, set1f(0.5f)), mulf(cb, cs2), scr);
}

/* 10.2.10 soft-light: cs ≤ 0.5 ? cb − (1 − 2cs)·cb·(1 − cb) : cb + (2cs − 1)·(D(cb) − cb),
 * D(cb) = cb ≤ 0.25 ? ((16cb − 12)·cb + 4)·cb : √cb, each product rounded in scalar.c's order */
INLINE vf soft_v(vf cb, vf cs)
{
    const vf one = set1f(1.0f);
    vf cs2 = mulf(set1f(2.0f), cs);
    vf lo = subf(cb, mulf(mulf(subf(one, cs2), cb), subf(one, cb)));
    vf poly = mulf(addf(mulf(subf(mulf(set1f(16.0f), cb), set1f(12.0f)), cb), set1f(4.0f)), cb);
    vf d = sel_f(le_f(cb, set1f(0.25f)), poly, sqrt_f(cb));
    vf hi = addf(cb, mulf(subf(cs2, one), subf(d, cb)));
    return sel_f(le_f(cs, set1f(0.5f)), lo, hi);
}

/* 10.2.7 color-dodge: cb == 0 ? 0 : ics ≤ 0 ? 1 : fminf(1, cb/ics) */
INLINE vf dodge_v(vf cb, vf ics)
{
    const vf one = set1f(1.0f), zero = zero_f();
    vf r = sel_f(le_f(ics, zero), one, minf(divf(cb, ics), one));
    return sel_f(eq_f(cb, zero), zero, r);
}

/* 10.2.8 color-burn: icb ≤ 0 ? 1 : cs == 0 ? 0 : 1 − fminf(1, icb/cs) */
INLINE vf burn_v(vf cs, vf icb)
{
    const vf one = set1f(1.0f), zero = zero_f();
    vf r = sel_f(eq_f(cs, zero), zero, subf(one, minf(divf(icb, cs), one)));
    return sel_f(le_f(icb, zero), one, r);
}

/* One loop per mode, the mode chosen once per row; b and s are the row's Cb and Cs. Color-dodge
 * and color-burn form 1 − C themselves when the caller gives no complement, as scalar.c does. */
static void NAME(blend_f32)(float *dst, const float *cb, const float *cs, const float *icb,
                            const float *ics, unsigned mode, size_t n)
{
    const vf one = set1f(1.0f);
    size_t i = 0;
#define BLEND(expr)                                                                             \
    for (; i + VB / sizeof(float) <= n; i += VB / sizeof(float)) {                             \
        vf b = ld_f(cb + i), s = ld_f(cs + i);                                                  \
        (void)b;                                                                                \
        st_f(dst + i, (expr));                                                                  \
    }                                                                                           \
    break
    switch (mode) {
    case HDM__BLEND_NORMAL: BLEND(s);
    case HDM__BLEND_MULTIPLY: BLEND(mulf(b, s));
    case HDM__BLEND_SCREEN: BLEND(subf(one, mulf(subf(one, b), subf(one, s))));
    case HDM__BLEND_OVERLAY: BLEND(hard_v(s, b));
    case HDM__BLEND_DARKEN: BLEND(minf(b, s));
    case HDM__BLEND_LIGHTEN: BLEND(maxf(b, s));
    case HDM__BLEND_COLOR_DODGE: BLEND(dodge_v(b, ics ? ld_f(ics + i) : subf(one, s)));
    case HDM__BLEND_COLOR_BURN: BLEND(burn_v(s, icb ? ld_f(icb + i) : subf(one, b)));
    case HDM__BLEND_HARD_LIGHT: BLEND(hard_v(b, s));
    case HDM__BLEND_SOFT_LIGHT: BLEND(soft_v(b, s));
    case HDM__BLEND_DIFFERENCE: BLEND(abs_f(subf(b, s)));
    case HDM__BLEND_EXCLUSION: BLEND(subf(addf(b, s), mulf(mulf(set1f(2.0f), b), s)));
    default: return; /* not a mode: scalar.c leaves dst alone too */
    }
#undef BLEND
    if (i < n)
        HDM_NARROW.blend_f32(dst + i, cb + i, cs + i, icb ? icb + i : NULL, ics ? ics + i : NULL,
                             mode, n - i);
}

/* Every source is loaded before any output is stored, so an output may be one of the sources. */
static void NAME(over_f32)(float *ao, float *wb, float *ws, const float *ab, const float *as,
                           size_t n)
{
    const vf one = set1f(1.0f), zero = zero_f();
    ROW_LOOP(float, vf s = ld_f(as + i); vf p = mulf(ld_f(ab + i), subf(one, s));
             vf o = addf(s, p); vfm pos = gt_f(o, zero);
             st_f(ao + i, o); st_f(wb + i, maskz_f(pos, divf(p, o)));
             st_f(ws + i, maskz_f(pos, divf(s, o))))
    if (i < n)
        HDM_NARROW.over_f32(ao + i, wb + i, ws + i, ab + i, as + i, n - i);
}

static void NAME(composite_f32)(float *ao, float *wb, float *ws, const float *ab,
                                const float *as, unsigned op, size_t n)
{
    float f[4];
    int clamp = hdm__composite_factors(op, f);
    const vf one = set1f(1.0f), zero = zero_f();
    const vf fa0 = set1f(f[0]), fa1 = set1f(f[1]), fb0 = set1f(f[2]), fb1 = set1f(f[3]);
    ROW_LOOP(float, vf a = ld_f(ab + i); vf s = ld_f(as + i);
             vf pa = mulf(s, addf(fa0, mulf(fa1, a))); vf pb = mulf(a, addf(fb0, mulf(fb1, s)));
             vf o = addf(pa, pb); if (clamp) o = sel_f(gt_f(o, one), one, o);
             vfm pos = gt_f(o, zero); st_f(ao + i, o); st_f(wb + i, maskz_f(pos, divf(pb, o)));
             st_f(ws + i, maskz_f(pos, divf(pa, o))))
    if (i < n)
        HDM_NARROW.composite_f32(ao + i, wb + i, ws + i, ab + i, as + i, op, n - i);
}

static void NAME(mix_f32)(float *dst, const float *a, const float *wa, const float *b,
                          const float *wb, size_t n)
{
    ROW_LOOP(float, vf p = mulf(ld_f(a + i), ld_f(wa + i)); vf q = mulf(ld_f(b + i), ld_f(wb + i));
             st_f(dst + i, addf(p, q)))
    if (i < n)
        HDM_NARROW.mix_f32(dst + i, a + i, wa + i, b + i, wb + i, n - i);
}

static void NAME(unpremul_f32)(float *dst, const float *c, const float *a, size_t n)
{
    const vf zero = zero_f();
    ROW_LOOP(float, vf av = ld_f(a + i);
             st_f(dst + i, maskz_f(gt_f(av, zero), divf(ld_f(c + i), av))))
    if (i < n)
        HDM_NARROW.unpremul_f32(dst + i, c + i, a + i, n - i);
}

static void NAME(threshold_u8)(uint8_t *dst, const uint8_t *src, uint8_t t, size_t n)
{
    const vi tv = set1_8(t), ones = set1_8(0xff), z = zero_i();
    ROW_LOOP(uint8_t, st_i(dst + i, sel8(le_u8(tv, ld_i(src + i)), ones, z)))
    if (i < n)
        HDM_NARROW.threshold_u8(dst + i, src + i, t, n - i);
}

static void NAME(threshold_u16)(uint16_t *dst, const uint16_t *src, uint16_t t, size_t n)
{
    const vi tv = set1_16(t);
    ROW_LOOP(uint16_t, st_i(dst + i, ge_u16(ld_i(src + i), tv)))
    if (i < n)
        HDM_NARROW.threshold_u16(dst + i, src + i, t, n - i);
}

/* src ≥ t is false for a NaN on either side: 0, as in scalar.c */
static void NAME(threshold_f32)(float *dst, const float *src, float t, size_t n)
{
    const vf tv = set1f(t), one = set1f(1.0f);
    ROW_LOOP(float, st_f(dst + i, maskz_f(ge_f(ld_f(src + i), tv), one)))
    if (i < n)
        HDM_NARROW.threshold_f32(dst + i, src + i, t, n - i);
}

/* ---- conversions ------------------------------------------------------------------------- */

/* One float vector (VB/4 samples) per step; the narrow side moves VB/4 samples too. */
static void NAME(u8_to_f32)(float *dst, const uint8_t *src, size_t n)
{
    const vf m = set1f(255.0f);
    ROW_LOOP(float, st_f(dst + i, divf(cvt_i32_f(ld_u8_i32(src + i)), m)))
    if (i < n)
        HDM_NARROW.u8_to_f32(dst + i, src + i, n - i);
}

static void NAME(u16_to_f32)(float *dst, const uint16_t *src, size_t n)
{
    const vf m = set1f(65535.0f);
    ROW_LOOP(float, st_f(dst + i, divf(cvt_i32_f(ld_u16_i32(src + i)), m)))
    if (i < n)
        HDM_NARROW.u16_to_f32(dst + i, src + i, n - i);
}

static void NAME(f32_to_u8)(uint8_t *dst, const float *src, size_t n)
{
    ROW_LOOP(float, st_i32_u8(dst + i, f32_to_int_v(ld_f(src + i), 255.0f)))
    if (i < n)
        HDM_NARROW.f32_to_u8(dst + i, src + i, n - i);
}

static void NAME(f32_to_u16)(uint16_t *dst, const float *src, size_t n)
{
    ROW_LOOP(float, st_i32_u16(dst + i, f32_to_int_v(ld_f(src + i), 65535.0f)))
    if (i < n)
        HDM_NARROW.f32_to_u16(dst + i, src + i, n - i);
}

/* x·257 = (x << 8) | x; VB/2 samples per step */
static void NAME(u8_to_u16)(uint16_t *dst, const uint8_t *src, size_t n)
{
    ROW_LOOP(uint16_t, vi x = ld_u8_u16(src + i); st_i(dst + i, or_i(x, slli16(x, 8))))
    if (i < n)
        HDM_NARROW.u8_to_u16(dst + i, src + i, n - i);
}

static void NAME(u16_to_u8)(uint8_t *dst, const uint16_t *src, size_t n)
{
    ROW_LOOP(uint16_t, st_u16_u8(dst + i, u16_to_u8_v(ld_i(src + i))))
    if (i < n)
        HDM_NARROW.u16_to_u8(dst + i, src + i, n - i);
}

/* ---- interleave / deinterleave ------------------------------------------------------------
 *
 * Think of one 128-bit lane of R registers as M = C·P samples: P pixels of C channels (R = C for
 * C = 2, 4; R = 6 for C = 3, so the halves below are whole registers). One "zip" round sets
 * out[2k] = in[k], out[2k+1] = in[k + M/2] — unpacklo/unpackhi of registers j and j + R/2 — so
 * it moves sample p to 2p mod (M − 1) (the last sample stays). After log2(P) rounds sample
 * C·i + c sits at P·(C·i + c) ≡ P·c + i: the planes, one after another. That deinterleaves.
 * Read the other way, planes side by side are P "pixels" of C samples, so for C = 2, 4 log2(C)
 * zip rounds interleave; for C = 3 the inverse "unzip" round (evens to the first half, odds to the
 * second) is applied log2(P) times. Wider ISAs run one independent problem per 128-bit lane:
 * lane_load/lane_store gather register j's lane l from 16-byte chunk l·R + j, and lane_zip /
 * lane_unzip put a plane's two registers (C = 3) back in order. The network only moves lanes of
 * es = 1, 2 or 4 bytes, so it serves u8, u16 and f32 alike (f32 as 32-bit integers: bits are
 * moved, never read as floats). A 128-bit lane of R/C registers holds P = 16·(R/C)/es pixels. */

INLINE void zip8(vi *v, unsigned r)
{
    vi t[6];
    for (unsigned k = 0; k < r / 2; k++) {
        t[2 * k] = unpacklo8(v[k], v[k + r / 2]);
        t[2 * k + 1] = unpackhi8(v[k], v[k + r / 2]);
    }
    for (unsigned k = 0; k < r; k++)
        v[k] = t[k];
}

INLINE void zip16(vi *v, unsigned r)
{
    vi t[6];
    for (unsigned k = 0; k < r / 2; k++) {
        t[2 * k] = unpacklo16(v[k], v[k + r / 2]);
        t[2 * k + 1] = unpackhi16(v[k], v[k + r / 2]);
    }
    for (unsigned k = 0; k < r; k++)
        v[k] = t[k];
}

INLINE void zip32(vi *v, unsigned r)
{
    vi t[6];
    for (unsigned k = 0; k < r / 2; k++) {
        t[2 * k] = unpacklo32(v[k], v[k + r / 2]);
        t[2 * k + 1] = unpackhi32(v[k], v[k + r / 2]);
    }
    for (unsigned k = 0; k < r; k++)
        v[k] = t[k];
}

INLINE void zip_es(vi *v, unsigned r, unsigned es)
{
    if (es == 1)
        zip8(v, r);
    else if (es == 2)
        zip16(v, r);
    else
        zip32(v, r);
}

#ifdef HDM_HAVE_PSHUFB
/* With a byte shuffle (SSSE3 and up): gather each register's evens in its low 8 bytes and odds in
 * its high 8 bytes, then pair up the halves of two registers. */
INLINE void unzip_shuffle(vi *v, unsigned r, vi ctl)
{
    vi t[6];
    for (unsigned k = 0; k < r / 2; k++) {
        vi x = shuffle8(v[2 * k], ctl), y = shuffle8(v[2 * k + 1], ctl);
        t[k] = unpacklo64(x, y);
        t[k + r / 2] = unpackhi64(x, y);
    }
    for (unsigned k = 0; k < r; k++)
        v[k] = t[k];
}

INLINE void unzip8(vi *v, unsigned r)
{
    unzip_shuffle(v, r, bcast128(_mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13,
                                               15)));
}

INLINE void unzip16(vi *v, unsigned r)
{
    unzip_shuffle(v, r, bcast128(_mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14,
                                               15)));
}
#else
INLINE void unzip8(vi *v, unsigned r)
{
    const vi lo = set1_16(0x00ff);
    vi t[6];
    for (unsigned k = 0; k < r / 2; k++) {
        t[k] = packus16(and_i(v[2 * k], lo), and_i(v[2 * k + 1], lo));
        t[k + r / 2] = packus16(srli16(v[2 * k], 8), srli16(v[2 * k + 1], 8));
    }
    for (unsigned k = 0; k < r; k++)
        v[k] = t[k];
}

/* 16-bit evens by sign-extending the low half of each 32-bit lane, so the signed pack keeps it */
INLINE void unzip16(vi *v, unsigned r)
{
    vi t[6];
    for (unsigned k = 0; k < r / 2; k++) {
        vi x = v[2 * k], y = v[2 * k + 1];
        t[k] = packs32(srai32(slli32(x, 16), 16), srai32(slli32(y, 16), 16));
        t[k + r / 2] = packs32(srai32(x, 16), srai32(y, 16));
    }
    for (unsigned k = 0; k < r; k++)
        v[k] = t[k];
}
#endif

/* 32-bit evens and odds of two registers in one two-source shuffle each (every ISA has it) */
INLINE void unzip32(vi *v, unsigned r)
{
    vi t[6];
    for (unsigned k = 0; k < r / 2; k++) {
        t[k] = evens32(v[2 * k], v[2 * k + 1]);
        t[k + r / 2] = odds32(v[2 * k], v[2 * k + 1]);
    }
    for (unsigned k = 0; k < r; k++)
        v[k] = t[k];
}

INLINE void unzip_es(vi *v, unsigned r, unsigned es)
{
    if (es == 1)
        unzip8(v, r);
    else if (es == 2)
        unzip16(v, r);
    else
        unzip32(v, r);
}

/* log2 of the pixels of one channel in a 16-byte chunk: 16 / es */
INLINE unsigned log2_per_chunk(unsigned es) { return es == 1 ? 4 : es == 2 ? 3 : 2; }

/* es = sample size; the step covers LANES·16·(R/C) bytes of each plane */
INLINE void deinterleave_step(unsigned char *const *plane, const unsigned char *src, unsigned c,
                              unsigned es)
{
    const unsigned s = c == 3 ? 2 : 1, r = c * s;
    const unsigned rounds = log2_per_chunk(es) + (s - 1);
    vi v[6];
    lane_load(v, src, r);
    for (unsigned k = 0; k < rounds; k++)
        zip_es(v, r, es);
    for (unsigned ch = 0; ch < c; ch++) {
        if (s == 1) {
            st_i(plane[ch], v[ch]);
        } else {
            vi x, y;
            lane_zip(v[2 * ch], v[2 * ch + 1], &x, &y);
            st_i(plane[ch], x);
            st_i(plane[ch] + VB, y);
        }
    }
}

INLINE void interleave_step(unsigned char *dst, const unsigned char *const *plane, unsigned c,
                            unsigned es)
{
    const unsigned s = c == 3 ? 2 : 1, r = c * s;
    vi v[6];
    for (unsigned ch = 0; ch < c; ch++) {
        if (s == 1)
            v[ch] = ld_i(plane[ch]);
        else
            lane_unzip(ld_i(plane[ch]), ld_i(plane[ch] + VB), &v[2 * ch], &v[2 * ch + 1]);
    }
    if (c == 3) {
        for (unsigned k = 0; k < log2_per_chunk(es) + 1; k++)
            unzip_es(v, r, es);
    } else {
        for (unsigned k = 0; k < (c == 4 ? 2u : 1u); k++)
            zip_es(v, r, es);
    }
    lane_store(dst, v, r);
}

#define DEINTERLEAVE_LOOP(T, C)                                                                 \
    do {                                                                                        \
        const size_t px = VB / sizeof(T) * ((C) == 3 ? 2 : 1);                                  \
        for (; i + px <= n; i += px) {                                                          \
            unsigned char *p[4];                                                                \
            for (unsigned ch = 0; ch < (C); ch++)                                               \
                p[ch] = (unsigned char *)(plane[ch] + i);                                       \
            deinterleave_step(p, (const unsigned char *)(src + i * (C)), (C), sizeof(T));       \
        }                                                                                       \
    } while (0)

#define INTERLEAVE_LOOP(T, C)                                                                   \
    do {                                                                                        \
        const size_t px = VB / sizeof(T) * ((C) == 3 ? 2 : 1);                                  \
        for (; i + px <= n; i += px) {                                                          \
            const unsigned char *p[4];                                                          \
            for (unsigned ch = 0; ch < (C); ch++)                                               \
                p[ch] = (const unsigned char *)(plane[ch] + i);                                 \
            interleave_step((unsigned char *)(dst + i * (C)), p, (C), sizeof(T));               \
        }                                                                                       \
    } while (0)

/* The pair for sample type T (suffix SFX): whole steps here, one channel a plain copy, the rest
 * of the row (and channel counts past 4, which the table's contract excludes) by the next
 * narrower ISA. */
#define LAYOUT_PAIR(T, SFX)                                                                     \
    static void NAME(deinterleave_##SFX)(T *const *plane, const T *src, unsigned ch, size_t n)  \
    {                                                                                           \
        size_t i = 0;                                                                           \
        switch (ch) {                                                                           \
        case 1: memmove(plane[0], src, n * sizeof(T)); return;                                  \
        case 2: DEINTERLEAVE_LOOP(T, 2); break;                                                 \
        case 3: DEINTERLEAVE_LOOP(T, 3); break;                                                 \
        case 4: DEINTERLEAVE_LOOP(T, 4); break;                                                 \
        default: HDM_NARROW.deinterleave_##SFX(plane, src, ch, n); return;                      \
        }                                                                                       \
        if (i < n) {                                                                            \
            T *rest[4];                                                                         \
            for (unsigned c = 0; c < ch; c++)                                                   \
                rest[c] = plane[c] + i;                                                         \
            HDM_NARROW.deinterleave_##SFX(rest, src + i * ch, ch, n - i);                       \
        }                                                                                       \
    }                                                                                           \
    static void NAME(interleave_##SFX)(T *dst, const T *const *plane, unsigned ch, size_t n)    \
    {                                                                                           \
        size_t i = 0;                                                                           \
        switch (ch) {                                                                           \
        case 1: memmove(dst, plane[0], n * sizeof(T)); return;                                  \
        case 2: INTERLEAVE_LOOP(T, 2); break;                                                   \
        case 3: INTERLEAVE_LOOP(T, 3); break;                                                   \
        case 4: INTERLEAVE_LOOP(T, 4); break;                                                   \
        default: HDM_NARROW.interleave_##SFX(dst, plane, ch, n); return;                        \
        }                                                                                       \
        if (i < n) {                                                                            \
            const T *rest[4];                                                                   \
            for (unsigned c = 0; c < ch; c++)                                                   \
                rest[c] = plane[c] + i;                                                         \
            HDM_NARROW.interleave_##SFX(dst + i * ch, rest, ch, n - i);                         \
        }                                                                                       \
    }

LAYOUT_PAIR(uint8_t, u8)
LAYOUT_PAIR(uint16_t, u16)
LAYOUT_PAIR(float, f32)

#undef LAYOUT_PAIR

/* ---- PNG filters --------------------------------------------------------------------------
 *
 * Every predictor reads raw bytes (row[i − bpp], prev[i], prev[i − bpp]), never filtered output,
 * so a row is filtered a whole vector at a time from unaligned loads at i − bpp. The first pixel
 * (a = c = 0) is the scalar reference's; from i = bpp on, full vectors here and the rest by the
 * next narrower ISA. */

/* |x − y| of unsigned bytes */
INLINE vi absdiff_u8(vi x, vi y) { return or_i(subs_u8(x, y), subs_u8(y, x)); }

/* floor((a + b) / 2): the rounding-up average, less 1 where a + b is odd */
INLINE vi avg_floor_u8(vi a, vi b)
{
    return sub8(avg_u8(a, b), and_i(xor_i(a, b), set1_8(1)));
}

/* PNG specification 9.4 on bytes. With p = a + b − c: pa = |p − a| = |b − c| and
 * pb = |p − b| = |a − c| fit a byte; pc = |p − c| = |(a − c) + (b − c)| may not. It is pa + pb
 * when a − c and b − c have the same sign (a zero either way gives the same value) and |pa − pb|
 * when they differ. Saturating pa + pb at 255 changes no comparison with pa or pb: both are at
 * most 255, so pa <= pc and pb <= pc hold either way when the true sum passes 255. Then, as the
 * spec: a if pa <= pb and pa <= pc, else b if pb <= pc, else c. */
INLINE vi paeth_v(vi a, vi b, vi c)
{
    vi pa = absdiff_u8(b, c), pb = absdiff_u8(a, c);
    vm opposite = xor_m(le_u8(c, a), le_u8(c, b));
    vi pc = sel8(opposite, absdiff_u8(pa, pb), adds_u8(pa, pb));
    vi b_or_c = sel8(le_u8(pb, pc), b, c);
    return sel8(le_u8(pa, min_u8(pb, pc)), a, b_or_c);
}

/* Σ|(int8_t)d| as u64 lanes. As unsigned bytes |(int8_t)d| = min(d, −d): d below 128 is the
 * smaller, 256 − d above it, and −128 gives 128 as abs() does. */
INLINE vi sum_abs8(vi d) { return sad_u8(min_u8(d, sub8(zero_i(), d)), zero_i()); }

#define PNG_LOOP(PRED)                                                                          \
    for (; i + VB <= n; i += VB) {                                                              \
        vi d = sub8(ld_i(row + i), (PRED));                                                     \
        st_i(dst + i, d);                                                                       \
        acc = add64(acc, sum_abs8(d));                                                          \
    }
#define PNG_A ld_i(row + i - bpp)
#define PNG_B ld_i(prev + i)
#define PNG_C ld_i(prev + i - bpp)

uint64_t HDM_CAT(hdm__png_filter_rest_, HDM_ISA)(uint8_t *dst, const uint8_t *row,
                                                 const uint8_t *prev, size_t n, unsigned bpp,
                                                 unsigned type, size_t i);

uint64_t HDM_CAT(hdm__png_filter_rest_, HDM_ISA)(uint8_t *dst, const uint8_t *row,
                                                 const uint8_t *prev, size_t n, unsigned bpp,
                                                 unsigned type, size_t i)
{
    vi acc = zero_i();
    switch (type) {
    case 0: PNG_LOOP(zero_i()) break;
    case 1: PNG_LOOP(PNG_A) break;
    case 2: PNG_LOOP(PNG_B) break;
    case 3: PNG_LOOP(avg_floor_u8(PNG_A, PNG_B)) break;
    default: PNG_LOOP(paeth_v(PNG_A, PNG_B, PNG_C)) break;
    }
    return hsum64(acc) + HDM_NARROW_PNG_REST(dst, row, prev, n, bpp, type, i);
}

#undef PNG_LOOP
#undef PNG_A
#undef PNG_B
#undef PNG_C

static uint64_t NAME(png_filter)(uint8_t *dst, const uint8_t *row, const uint8_t *prev, size_t n,
                                 unsigned bpp, unsigned type)
{
    size_t k = bpp < n ? bpp : n;
    uint64_t sum = hdm__kernel_scalar.png_filter(dst, row, prev, k, bpp, type);
    return sum + HDM_CAT(hdm__png_filter_rest_, HDM_ISA)(dst, row, prev, n, bpp, type, k);
}

const hdm__kernel HDM_CAT(hdm__kernel_, HDM_ISA) = {
    .name = HDM_ISA_NAME,
    .mul_u8 = NAME(mul_u8), .mul_u16 = NAME(mul_u16), .mul_f32 = NAME(mul_f32),
    .mulinv_u8 = NAME(mulinv_u8), .mulinv_u16 = NAME(mulinv_u16),
    .mulinv_f32 = NAME(mulinv_f32),
    .scale_f32 = NAME(scale_f32), .lerp_f32 = NAME(lerp_f32), .lerpv_f32 = NAME(lerpv_f32),
    .screen_f32 = NAME(screen_f32), .axpy_f32 = NAME(axpy_f32),
    .resample_col_f32 = NAME(resample_col_f32), .filter_cols_f32 = NAME(filter_cols_f32),
    .slide_cols_f32 = NAME(slide_cols_f32), .slide_lines_f32 = NAME(slide_lines_f32),
    .blend_f32 = NAME(blend_f32), .over_f32 = NAME(over_f32),
    .composite_f32 = NAME(composite_f32), .mix_f32 = NAME(mix_f32),
    .unpremul_f32 = NAME(unpremul_f32),
    .threshold_u8 = NAME(threshold_u8), .threshold_u16 = NAME(threshold_u16),
    .threshold_f32 = NAME(threshold_f32),
    .u8_to_f32 = NAME(u8_to_f32), .u16_to_f32 = NAME(u16_to_f32),
    .f32_to_u8 = NAME(f32_to_u8), .f32_to_u16 = NAME(f32_to_u16),
    .u8_to_u16 = NAME(u8_to_u16), .u16_to_u8 = NAME(u16_to_u8),
    .deinterleave_u8 = NAME(deinterleave_u8), .interleave_u8 = NAME(interleave_u8),
    .deinterleave_u16 = NAME(deinterleave_u16), .interleave_u16 = NAME(interleave_u16),
    .deinterleave_f32 = NAME(deinterleave_f32), .interleave_f32 = NAME(interleave_f32),
    .png_filter = NAME(png_filter),
};
