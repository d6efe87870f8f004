/* SPDX-License-Identifier: MIT */
/* kernel.h — the element-wise primitives every op is built from, and their dispatch table */
#ifndef HDM_KERNEL_H
#define HDM_KERNEL_H

#include <stddef.h>
#include <stdint.h>

/* Every primitive works on n contiguous samples of one row of one plane; dst may equal any
 * source (in-place), but partial overlap is not allowed. Every variant (scalar, sse2, avx2,
 * avx512, neon) gives bit-identical results to the scalar reference for every input, including
 * infinities, signed zeros and subnormals for f32 (the f32 maths below is written without FMA:
 * each operation is rounded separately, and the build uses -ffp-contract=off). A NaN result is a
 * NaN in every variant, but which NaN (sign, payload) is not specified: hardware picks among NaN
 * operands by operand order, which a compiler may swap in the scalar code, and x86 and Arm
 * differ in their default NaN.
 *
 * Integer rounding lives in one place: hdm__div255 / hdm__div65535 below. */

/* round(t / 255) for t in [0, 255·255]; exact (no ties exist since 255 is odd). */
static inline uint32_t hdm__div255(uint32_t t)
{
    t += 128;
    return (t + (t >> 8)) >> 8;
}

/* round(t / 65535) for t in [0, 65535·65535]; exact. t + 32768 stays below 2^32. */
static inline uint32_t hdm__div65535(uint32_t t)
{
    t += 32768;
    return (t + (t >> 16)) >> 16;
}

/* The W3C Compositing and Blending Level 1 blend modes in the order of the spec's lists: the
 * twelve separable ones of section 10.2 (blend_f32 takes one), then the four non-separable ones
 * of section 10.3 (blend3_f32 takes one). */
typedef enum hdm__blend_mode {
    HDM__BLEND_NORMAL, HDM__BLEND_MULTIPLY, HDM__BLEND_SCREEN, HDM__BLEND_OVERLAY,
    HDM__BLEND_DARKEN, HDM__BLEND_LIGHTEN, HDM__BLEND_COLOR_DODGE, HDM__BLEND_COLOR_BURN,
    HDM__BLEND_HARD_LIGHT, HDM__BLEND_SOFT_LIGHT, HDM__BLEND_DIFFERENCE, HDM__BLEND_EXCLUSION,
    HDM__BLEND_SEPARABLE, /* the count of the separable modes, and the first other one */
    HDM__BLEND_HUE = HDM__BLEND_SEPARABLE, HDM__BLEND_SATURATION, HDM__BLEND_COLOR,
    HDM__BLEND_LUMINOSITY,
    HDM__BLEND_COUNT
} hdm__blend_mode;

/* The Porter-Duff operators of W3C Compositing and Blending Level 1 section 9.1, in its order
 * (9.1.1 clear … 9.1.12 lighter); composite_f32 takes one. */
typedef enum hdm__composite_op {
    HDM__OP_CLEAR, HDM__OP_COPY, HDM__OP_DESTINATION, HDM__OP_SOURCE_OVER,
    HDM__OP_DESTINATION_OVER, HDM__OP_SOURCE_IN, HDM__OP_DESTINATION_IN, HDM__OP_SOURCE_OUT,
    HDM__OP_DESTINATION_OUT, HDM__OP_SOURCE_ATOP, HDM__OP_DESTINATION_ATOP, HDM__OP_XOR,
    HDM__OP_LIGHTER,
    HDM__OP_COUNT
} hdm__composite_op;

/* An operator's fractions Fa (of the source) and Fb (of the backdrop), section 9.1, each in the
 * form k0 + k1·α of the other side's alpha: Fa = f[0] + f[1]·ab, Fb = f[2] + f[3]·as, with every
 * k 0, 1 or −1, so 1 − α, α, 1 and 0 all come out exact. Returns whether αo is clamped to 1
 * (lighter). An op outside the enum gets clear's zeros. */
static inline int hdm__composite_factors(unsigned op, float f[4])
{
    static const signed char k[HDM__OP_COUNT][4] = {
        [HDM__OP_CLEAR] = {0, 0, 0, 0},            /* Fa = 0;      Fb = 0 */
        [HDM__OP_COPY] = {1, 0, 0, 0},             /* Fa = 1;      Fb = 0 */
        [HDM__OP_DESTINATION] = {0, 0, 1, 0},      /* Fa = 0;      Fb = 1 */
        [HDM__OP_SOURCE_OVER] = {1, 0, 1, -1},     /* Fa = 1;      Fb = 1 − αs */
        [HDM__OP_DESTINATION_OVER] = {1, -1, 1, 0}, /* Fa = 1 − αb; Fb = 1 */
        [HDM__OP_SOURCE_IN] = {0, 1, 0, 0},        /* Fa = αb;     Fb = 0 */
        [HDM__OP_DESTINATION_IN] = {0, 0, 0, 1},   /* Fa = 0;      Fb = αs */
        [HDM__OP_SOURCE_OUT] = {1, -1, 0, 0},      /* Fa = 1 − αb; Fb = 0 */
        [HDM__OP_DESTINATION_OUT] = {0, 0, 1, -1}, /* Fa = 0;      Fb = 1 − αs */
        [HDM__OP_SOURCE_ATOP] = {0, 1, 1, -1},     /* Fa = αb;     Fb = 1 − αs */
        [HDM__OP_DESTINATION_ATOP] = {1, -1, 0, 1}, /* Fa = 1 − αb; Fb = αs */
        [HDM__OP_XOR] = {1, -1, 1, -1},            /* Fa = 1 − αb; Fb = 1 − αs */
        [HDM__OP_LIGHTER] = {1, 0, 1, 0},          /* Fa = 1;      Fb = 1; αo ≤ 1 */
    };
    for (int i = 0; i < 4; i++)
        f[i] = op < HDM__OP_COUNT ? (float)k[op][i] : 0.0f;
    return op == HDM__OP_LIGHTER;
}

/* Sliding sums' cosines, and the lines slide_lines_f32 moves side by side. */
enum { HDM__SLIDE_TERMS = 5, HDM__SLIDE_LANES = 16 };

typedef struct hdm__kernel {
    const char *name;

    /* dst = round(a·b/255) */
    void (*mul_u8)(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n);
    /* dst = round(a·b/65535) */
    void (*mul_u16)(uint16_t *dst, const uint16_t *a, const uint16_t *b, size_t n);
    /* dst = a·b */
    void (*mul_f32)(float *dst, const float *a, const float *b, size_t n);

    /* dst = round(a·(255−b)/255): the product with the complement (an inverted mask) */
    void (*mulinv_u8)(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n);
    /* dst = round(a·(65535−b)/65535) */
    void (*mulinv_u16)(uint16_t *dst, const uint16_t *a, const uint16_t *b, size_t n);
    /* dst = a·(1−b) */
    void (*mulinv_f32)(float *dst, const float *a, const float *b, size_t n);

    /* dst = a·k (opacity, normalisation: k(A∘B) = (kA)∘B) */
    void (*scale_f32)(float *dst, const float *a, float k, size_t n);
    /* dst = |a| and dst = a + k (a signed filter's edge magnitude, or its mid-grey offset) */
    void (*abs_f32)(float *dst, const float *a, size_t n);
    void (*add_f32)(float *dst, const float *a, float k, size_t n);
    /* dst = a + t·(b − a), evaluated as: d = b − a; p = t·d; dst = a + p */
    void (*lerp_f32)(float *dst, const float *a, const float *b, float t, size_t n);
    /* dst = a + t[i]·(b − a), per-sample weight, same evaluation order */
    void (*lerpv_f32)(float *dst, const float *a, const float *b, const float *t, size_t n);
    /* dst = 1 − (1−a)(1−b), evaluated as: p = (1−a)·(1−b); dst = 1 − p */
    void (*screen_f32)(float *dst, const float *a, const float *b, size_t n);
    /* dst += a·k, evaluated as: p = a·k; dst = dst + p (filter taps) */
    void (*axpy_f32)(float *dst, const float *a, float k, size_t n);

    /* ---- blending, compositing, filtering (ops/blend.c, window.c, filter.c, mask.c) ---- */

    /* dst = B(cb, cs), the separable blend mode `mode` (an hdm__blend_mode) of W3C Compositing
     * and Blending Level 1 section 10.2, as written in scalar.c. icb and ics are 1 − cb and
     * 1 − cs given more exactly than f32 can form them from cb and cs near 1 (the caller derives
     * them from integer samples); only color-dodge (ics) and color-burn (icb) read them, and
     * they may be NULL for every other mode. */
    void (*blend_f32)(float *dst, const float *cb, const float *cs, const float *icb,
                      const float *ics, unsigned mode, size_t n);
    /* d[0..2] = B(Cb, Cs) over three colour planes (R, G, B), the non-separable blend mode
     * `mode` of section 10.3 (hue, saturation, color, luminosity), with the spec's Lum
     * (0.3 R + 0.59 G + 0.11 B), ClipColor, SetLum, Sat and SetSat as written in scalar.c;
     * evaluated in double, rounded to f32 once. A separable mode leaves d alone. No SIMD
     * variant: every table runs the reference. */
    void (*blend3_f32)(float *const d[3], const float *const cb[3], const float *const cs[3],
                       unsigned mode, size_t n);
    /* source-over weights (W3C Compositing section 5.1 with 9.1's general formula):
     * p = ab·(1−as); ao = as + p; then wb = p/ao and ws = as/ao, both 0 where ao is 0 (not > 0),
     * so the composited colour is mix_f32(cb, wb, cs', ws) */
    void (*over_f32)(float *ao, float *wb, float *ws, const float *ab, const float *as,
                     size_t n);
    /* Porter-Duff weights for the operator `op` (an hdm__composite_op; section 9.1 with its
     * general formula co = αs·Fa·Cs' + αb·Fb·Cb, αo = αs·Fa + αb·Fb), with Fa and Fb as
     * hdm__composite_factors gives them, evaluated as: fa = f0 + f1·ab; fb = f2 + f3·as;
     * pa = as·fa; pb = ab·fb; o = pa + pb; for lighter o = min(o, 1); ao = o; then
     * wb = pb/o and ws = pa/o, both 0 where o is not > 0, so the colour co/αo is
     * mix_f32(cb, wb, cs', ws). For source-over and finite alphas it is over_f32, bit for bit. */
    void (*composite_f32)(float *ao, float *wb, float *ws, const float *ab, const float *as,
                          unsigned op, size_t n);
    /* dst = a·wa + b·wb, evaluated as: p = a·wa; q = b·wb; dst = p + q */
    void (*mix_f32)(float *dst, const float *a, const float *wa, const float *b,
                    const float *wb, size_t n);
    /* sRGB transfer functions (IEC 61966-2-1), the exact piecewise curves, in float (powf):
     * decode: x ≤ 0.04045 ? x/12.92 : powf((x + 0.055)/1.055, 2.4)
     * encode: x ≤ 0.0031308 ? x·12.92 : 1.055·powf(x, 1/2.4) − 0.055; x < 0 encodes as x·12.92 */
    void (*srgb_to_linear_f32)(float *dst, const float *src, size_t n);
    void (*linear_to_srgb_f32)(float *dst, const float *src, size_t n);
    /* dst = 1 − decode(1 − src): the complement of a decoded sample from the complement of the
     * encoded one, exact near 1 where 1 − decode(x) in f32 is not (blend's dodge and burn):
     * src ≥ 0.95955 ? 1 − (1 − src)/12.92 : −expm1f(2.4·log1pf(−src/1.055))
     * These three have no SIMD variant (the tables leave them NULL, so every variant runs this
     * reference): powf, expm1f and log1pf come from the C library, which rounds them within an
     * ulp or so but not correctly, by an algorithm of its own that differs between libm versions;
     * a vector version could not promise the bit-identical results every other primitive does.
     * Making them SIMD means first making the reference an exactly specified table or
     * polynomial that a vector unit reproduces, held to the ops' 1 LSB against f64. */
    void (*srgb_to_linear_inv_f32)(float *dst, const float *src, size_t n);
    /* dst = a > 0 ? c/a : 0 (un-premultiply; NaN a gives 0) */
    void (*unpremul_f32)(float *dst, const float *c, const float *a, size_t n);
    /* ---- resampling (ops/resample.c): a separable filter's two passes ---- */
    /* the horizontal pass: dst[i] = Σ_k w[i·taps + k]·src[start[i] + k] for k = 0..taps−1,
     * summed from 0 in that order, each product and sum rounded on its own (p = w·s;
     * acc = acc + p); the caller's taps stay within src, and dst does not overlap it */
    void (*resample_row_f32)(float *dst, const float *src, const uint32_t *start,
                             const float *w, size_t taps, size_t n);
    /* the vertical pass: dst[i] = Σ_k w[k]·rows[k][i] for k = 0..taps−1, in the same order;
     * unlike the other primitives dst must not overlap any of rows (it holds partial sums) */
    void (*resample_col_f32)(float *dst, const float *const *rows, const float *w, size_t taps,
                             size_t n);
    /* the filter's vertical pass for m consecutive output rows at once: dst[r] gets
     * resample_col_f32(dst[r], rows + r, w, taps, n)'s sums, bit for bit, for r = 0..m−1 (rows
     * holds taps + m − 1 rows); a row that several outputs read is loaded once for them all.
     * No dst overlaps another or any of rows. */
    void (*filter_cols_f32)(float *const *dst, const float *const *rows, const float *w,
                            size_t taps, size_t m, size_t n);
    /* ---- sliding sums (ops/slide.c): a window of 2r + 1 samples weighted by a box and
     * HDM__SLIDE_TERMS cosines, kept as running sums while the window moves one sample a step.
     * A line's state is s0 (the samples' sum) and, for cosine m, sr[m] and si[m] (the samples'
     * sums times the real and imaginary parts of a phase). One step adds the sample entering
     * the window, ui, and takes away the one leaving, uo, each times its phase, ei and eo
     * (HDM__SLIDE_TERMS real parts then as many imaginary), then sums the output with p
     * (a0, then each cosine's weight times the real and the imaginary part of its phase):
     *   s0 = s0 + (ui − uo)
     *   sr[m] = sr[m] + (ei[m]·ui − eo[m]·uo);  si[m] = si[m] + (ei[T + m]·ui − eo[T + m]·uo)
     *   y = p[0]·s0, then y = y + p[1 + m]·sr[m], y = y + p[1 + T + m]·si[m] for m = 0, 1, …
     * each product and sum rounded on its own, in that order, in every variant. */
    /* a step of n lines side by side (a row of columns): the state is 1 + 2T arrays of n,
     * stride floats apart (s0, sr[0…], si[0…]), ui, uo and dst rows of n; dst NULL: no
     * output (the window still filling) */
    void (*slide_cols_f32)(float *st, size_t stride, float *dst, const float *ui,
                           const float *uo, const float *ei, const float *eo, const float *p,
                           size_t n);
    /* HDM__SLIDE_LANES lines side by side along their length, from an empty window: u holds
     * n + 2r steps' samples (step t at u[t·LANES …]; the sample leaving at step t ≥ 2r + 1 is
     * step t − 2r − 1's, before that 0), e each step's phases (2T a step), p each output's
     * (1 + 2T an output, the first output after step 2r); dst gets n outputs, LANES each */
    void (*slide_lines_f32)(float *dst, const float *u, const float *e, const float *p,
                            size_t r, size_t n);
    /* dst = src ≥ t ? M : 0, M = 255, 65535 or 1.0f (a binary mask) */
    void (*threshold_u8)(uint8_t *dst, const uint8_t *src, uint8_t t, size_t n);
    void (*threshold_u16)(uint16_t *dst, const uint16_t *src, uint16_t t, size_t n);
    void (*threshold_f32)(float *dst, const float *src, float t, size_t n);

    /* conversions for ops that work in f32 on [0,1] */
    /* dst = (float)src / 255.0f (an IEEE division, not a multiply by 1/255) */
    void (*u8_to_f32)(float *dst, const uint8_t *src, size_t n);
    /* dst = (float)src / 65535.0f */
    void (*u16_to_f32)(float *dst, const uint16_t *src, size_t n);
    /* dst = clamp(floor(src·255 + 0.5), 0, 255); NaN → 0 (round half up, then clamp) */
    void (*f32_to_u8)(uint8_t *dst, const float *src, size_t n);
    /* dst = clamp(floor(src·65535 + 0.5), 0, 65535); NaN → 0 */
    void (*f32_to_u16)(uint16_t *dst, const float *src, size_t n);
    /* depth changes between integer types: u8 → u16 is x·257 (exact); u16 → u8 is
     * round(x/257) = (x + 128) / 257 computed exactly */
    void (*u8_to_u16)(uint16_t *dst, const uint8_t *src, size_t n);
    void (*u16_to_u8)(uint8_t *dst, const uint16_t *src, size_t n);

    /* layout changes between a codec's interleaved rows and our planes, channels 1..4:
     * plane[c][i] = src[i·channels + c] */
    void (*deinterleave_u8)(uint8_t *const *plane, const uint8_t *src, unsigned channels,
                            size_t n);
    void (*interleave_u8)(uint8_t *dst, const uint8_t *const *plane, unsigned channels,
                          size_t n);
    void (*deinterleave_u16)(uint16_t *const *plane, const uint16_t *src, unsigned channels,
                             size_t n);
    void (*interleave_u16)(uint16_t *dst, const uint16_t *const *plane, unsigned channels,
                           size_t n);
    /* f32 samples are moved as their bit patterns, not as values: every sample arrives bit for
     * bit in every variant, signalling NaNs and payloads included (no arithmetic touches them) */
    void (*deinterleave_f32)(float *const *plane, const float *src, unsigned channels, size_t n);
    void (*interleave_f32)(float *dst, const float *const *plane, unsigned channels, size_t n);

    /* PNG row filter `type` 0..4 (PNG specification, section 9.2 "Filter types": None, Sub, Up,
     * Average, Paeth) of one row of n bytes, given the previous row prev (zeros above the first
     * row) and bpp bytes per complete pixel (1..8): dst[i] = row[i] − predictor, mod 256.
     * Returns the sum of |(int8_t)dst[i]|, the heuristic for choosing a filter per row.
     * Unlike the other primitives, dst must not overlap row or prev: the predictors read raw
     * neighbours that an in-place call would already have overwritten. */
    uint64_t (*png_filter)(uint8_t *dst, const uint8_t *row, const uint8_t *prev, size_t n,
                           unsigned bpp, unsigned type);
} hdm__kernel;

/* png_filter's bytes [i, n) only, for i >= min(bpp, n) (the first pixel done elsewhere), and
 * the sum over those bytes: the scalar reference's loops, which SIMD variants finish rows with.
 * The x86 variants have their own (hdm__png_filter_rest_sse2, …) for the next wider one. */
uint64_t hdm__png_filter_rest_scalar(uint8_t *dst, const uint8_t *row, const uint8_t *prev,
                                     size_t n, unsigned bpp, unsigned type, size_t i);

/* The variant chosen once (first call) from the CPU and HADAMARD_CPU. Never NULL. */
const hdm__kernel *hdm__kern(void);

/* The table for a named variant if this build has it and this CPU runs it, else NULL.
 * Tests use it to run every supported variant against "scalar". */
const hdm__kernel *hdm__kernel_get(const char *name);

/* The name of the i-th variant this build has, best first (whether or not this CPU runs it),
 * or NULL past the last; "scalar" is always among them. Tests enumerate variants with it. */
const char *hdm__kernel_names(size_t i);

/* The scalar reference table, and the SIMD tables a build may have. */
extern const hdm__kernel hdm__kernel_scalar;
extern const hdm__kernel hdm__kernel_sse2, hdm__kernel_avx2, hdm__kernel_avx512;
extern const hdm__kernel hdm__kernel_neon;

#endif
