/* SPDX-License-Identifier: MIT */
/* x86_sse2.c — the kernel on SSE2, the x86-64 baseline (built with -msse2) */
#include "kernel.h"

#if defined(__x86_64__) || defined(__i386__)
#include <emmintrin.h>
#include <string.h>

#define HDM_ISA sse2
#define HDM_ISA_NAME "sse2"
#define HDM_NARROW hdm__kernel_scalar
#define HDM_NARROW_PNG_REST hdm__png_filter_rest_scalar
#define VB 16
typedef __m128i vi;
typedef __m128 vf;

static inline vi ld_i(const void *p) { return _mm_loadu_si128((const __m128i *)p); }
static inline void st_i(void *p, vi v) { _mm_storeu_si128((__m128i *)p, v); }
static inline vf ld_f(const float *p) { return _mm_loadu_ps(p); }
static inline void st_f(float *p, vf v) { _mm_storeu_ps(p, v); }

static inline vi zero_i(void) { return _mm_setzero_si128(); }
static inline vi set1_16(int x) { return _mm_set1_epi16((short)x); }
static inline vi add16(vi a, vi b) { return _mm_add_epi16(a, b); }
static inline vi sub16(vi a, vi b) { return _mm_sub_epi16(a, b); }
static inline vi adds_u16(vi a, vi b) { return _mm_adds_epu16(a, b); }
static inline vi mullo16(vi a, vi b) { return _mm_mullo_epi16(a, b); }
static inline vi mulhi_u16(vi a, vi b) { return _mm_mulhi_epu16(a, b); }
static inline vi cmpgt16(vi a, vi b) { return _mm_cmpgt_epi16(a, b); }
static inline vi and_i(vi a, vi b) { return _mm_and_si128(a, b); }
static inline vi or_i(vi a, vi b) { return _mm_or_si128(a, b); }
static inline vi xor_i(vi a, vi b) { return _mm_xor_si128(a, b); }
static inline vi andnot_i(vi a, vi b) { return _mm_andnot_si128(a, b); } /* ~a & b */
#define srli16(v, k) _mm_srli_epi16(v, k)
#define slli16(v, k) _mm_slli_epi16(v, k)
#define slli32(v, k) _mm_slli_epi32(v, k)
#define srai32(v, k) _mm_srai_epi32(v, k)
static inline vi unpacklo8(vi a, vi b) { return _mm_unpacklo_epi8(a, b); }
static inline vi unpackhi8(vi a, vi b) { return _mm_unpackhi_epi8(a, b); }
static inline vi unpacklo16(vi a, vi b) { return _mm_unpacklo_epi16(a, b); }
static inline vi unpackhi16(vi a, vi b) { return _mm_unpackhi_epi16(a, b); }
static inline vi unpacklo32(vi a, vi b) { return _mm_unpacklo_epi32(a, b); }
static inline vi unpackhi32(vi a, vi b) { return _mm_unpackhi_epi32(a, b); }
/* per 128-bit lane: [a0 a2 b0 b2] and [a1 a3 b1 b3] (a float shuffle, which moves bits) */
static inline vi evens32(vi a, vi b)
{
    return _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(a), _mm_castsi128_ps(b),
        _MM_SHUFFLE(2, 0, 2, 0)));
}
static inline vi odds32(vi a, vi b)
{
    return _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(a), _mm_castsi128_ps(b),
        _MM_SHUFFLE(3, 1, 3, 1)));
}
static inline vi packus16(vi a, vi b) { return _mm_packus_epi16(a, b); }
static inline vi packs32(vi a, vi b) { return _mm_packs_epi32(a, b); }

static inline vf zero_f(void) { return _mm_setzero_ps(); }
static inline vf set1f(float x) { return _mm_set1_ps(x); }
static inline vf addf(vf a, vf b) { return _mm_add_ps(a, b); }
static inline vf subf(vf a, vf b) { return _mm_sub_ps(a, b); }
static inline vf mulf(vf a, vf b) { return _mm_mul_ps(a, b); }
static inline vf divf(vf a, vf b) { return _mm_div_ps(a, b); }
static inline vf maxf(vf a, vf b) { return _mm_max_ps(a, b); }
static inline vf minf(vf a, vf b) { return _mm_min_ps(a, b); }
static inline vf cvt_i32_f(vi v) { return _mm_cvtepi32_ps(v); }
static inline vi cvtt_f_i32(vf v) { return _mm_cvttps_epi32(v); }

/* 4 u8 → 4 i32 */
static inline vi ld_u8_i32(const uint8_t *p)
{
    int32_t x;
    memcpy(&x, p, sizeof x);
    vi v = _mm_unpacklo_epi8(_mm_cvtsi32_si128(x), _mm_setzero_si128());
    return _mm_unpacklo_epi16(v, _mm_setzero_si128());
}

/* 4 u16 → 4 i32 */
static inline vi ld_u16_i32(const uint16_t *p)
{
    return _mm_unpacklo_epi16(_mm_loadl_epi64((const __m128i *)p), _mm_setzero_si128());
}

/* 4 i32 in [0, 255] → 4 u8 */
static inline void st_i32_u8(uint8_t *p, vi v)
{
    v = _mm_packs_epi32(v, v);
    int32_t x = _mm_cvtsi128_si32(_mm_packus_epi16(v, v));
    memcpy(p, &x, sizeof x);
}

/* 4 i32 in [0, 65535] → 4 u16: SSE2 has only the signed 32→16 pack, so bias by 32768 */
static inline void st_i32_u16(uint16_t *p, vi v)
{
    v = _mm_sub_epi32(v, _mm_set1_epi32(32768));
    v = _mm_xor_si128(_mm_packs_epi32(v, v), _mm_set1_epi16(-32768));
    _mm_storel_epi64((__m128i *)p, v);
}

/* 8 u8 → 8 u16 */
static inline vi ld_u8_u16(const uint8_t *p)
{
    return _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)p), _mm_setzero_si128());
}

/* 8 u16 in [0, 255] → 8 u8 */
static inline void st_u16_u8(uint8_t *p, vi v)
{
    _mm_storel_epi64((__m128i *)p, _mm_packus_epi16(v, v));
}

/* bytes, for the PNG filters; a byte mask (vm) is a vector of 0x00 / 0xff */
typedef __m128i vm;
static inline vi set1_8(int x) { return _mm_set1_epi8((char)x); }
static inline vi sub8(vi a, vi b) { return _mm_sub_epi8(a, b); }
static inline vi subs_u8(vi a, vi b) { return _mm_subs_epu8(a, b); }
static inline vi adds_u8(vi a, vi b) { return _mm_adds_epu8(a, b); }
static inline vi min_u8(vi a, vi b) { return _mm_min_epu8(a, b); }
static inline vi avg_u8(vi a, vi b) { return _mm_avg_epu8(a, b); } /* (a + b + 1) >> 1 */
static inline vi sad_u8(vi a, vi b) { return _mm_sad_epu8(a, b); }
static inline vi add64(vi a, vi b) { return _mm_add_epi64(a, b); }
static inline vm le_u8(vi a, vi b) { return _mm_cmpeq_epi8(_mm_min_epu8(a, b), a); }
static inline vm xor_m(vm a, vm b) { return _mm_xor_si128(a, b); }
static inline vi sel8(vm m, vi a, vi b) /* m ? a : b */
{
    return _mm_or_si128(_mm_and_si128(m, a), _mm_andnot_si128(m, b));
}
static inline uint64_t hsum64(vi v)
{
    uint64_t t[2];
    _mm_storeu_si128((__m128i *)t, v);
    return t[0] + t[1];
}

/* f32 lane masks for the blending, compositing and threshold primitives: ordered comparisons,
 * false when either side is NaN, as C's <, <=, >, >=, == are */
typedef __m128 vfm;
static inline vfm le_f(vf a, vf b) { return _mm_cmple_ps(a, b); }
static inline vfm gt_f(vf a, vf b) { return _mm_cmpgt_ps(a, b); }
static inline vfm ge_f(vf a, vf b) { return _mm_cmpge_ps(a, b); }
static inline vfm eq_f(vf a, vf b) { return _mm_cmpeq_ps(a, b); }
static inline vf sel_f(vfm m, vf a, vf b) /* m ? a : b */
{
    return _mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b));
}
static inline vf maskz_f(vfm m, vf a) { return _mm_and_ps(m, a); } /* m ? a : +0 */
static inline vf sqrt_f(vf a) { return _mm_sqrt_ps(a); }
static inline vf abs_f(vf a) { return _mm_andnot_ps(_mm_set1_ps(-0.0f), a); }
/* a >= b as unsigned 16-bit lanes, all ones or zero: b − a saturates to 0 exactly then */
static inline vi ge_u16(vi a, vi b)
{
    return _mm_cmpeq_epi16(_mm_subs_epu16(b, a), _mm_setzero_si128());
}

/* one 128-bit lane: register j is chunk j */
static inline void lane_load(vi *v, const unsigned char *src, unsigned r)
{
    for (unsigned j = 0; j < r; j++)
        v[j] = ld_i(src + 16 * j);
}

static inline void lane_store(unsigned char *dst, const vi *v, unsigned r)
{
    for (unsigned j = 0; j < r; j++)
        st_i(dst + 16 * j, v[j]);
}

static inline void lane_zip(vi a, vi b, vi *x, vi *y) { *x = a; *y = b; }
static inline void lane_unzip(vi x, vi y, vi *a, vi *b) { *a = x; *b = y; }

#include "x86_template.h"

#endif
