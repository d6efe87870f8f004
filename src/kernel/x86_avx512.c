/* SPDX-License-Identifier: MIT */
/* x86_avx512.c — the kernel on AVX-512F/BW/VL (built with -mavx512f -mavx512bw -mavx512vl) */
#include "kernel.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define HDM_ISA avx512
#define HDM_ISA_NAME "avx512"
#define HDM_NARROW hdm__kernel_avx2
#define HDM_NARROW_PNG_REST hdm__png_filter_rest_avx2
#define VB 64
typedef __m512i vi;
typedef __m512 vf;

extern const hdm__kernel hdm__kernel_avx2;
uint64_t hdm__png_filter_rest_avx2(uint8_t *dst, const uint8_t *row, const uint8_t *prev,
                                   size_t n, unsigned bpp, unsigned type, size_t i);

static inline vi ld_i(const void *p) { return _mm512_loadu_si512(p); }
static inline void st_i(void *p, vi v) { _mm512_storeu_si512(p, v); }
static inline vf ld_f(const float *p) { return _mm512_loadu_ps(p); }
static inline void st_f(float *p, vf v) { _mm512_storeu_ps(p, v); }

static inline vi zero_i(void) { return _mm512_setzero_si512(); }
static inline vi set1_16(int x) { return _mm512_set1_epi16((short)x); }
static inline vi add16(vi a, vi b) { return _mm512_add_epi16(a, b); }
static inline vi sub16(vi a, vi b) { return _mm512_sub_epi16(a, b); }
static inline vi adds_u16(vi a, vi b) { return _mm512_adds_epu16(a, b); }
static inline vi mullo16(vi a, vi b) { return _mm512_mullo_epi16(a, b); }
static inline vi mulhi_u16(vi a, vi b) { return _mm512_mulhi_epu16(a, b); }
static inline vi cmpgt16(vi a, vi b) { return _mm512_movm_epi16(_mm512_cmpgt_epi16_mask(a, b)); }
static inline vi or_i(vi a, vi b) { return _mm512_or_si512(a, b); }
static inline vi xor_i(vi a, vi b) { return _mm512_xor_si512(a, b); }
static inline vi andnot_i(vi a, vi b) { return _mm512_andnot_si512(a, b); } /* ~a & b */
#define srli16(v, k) _mm512_srli_epi16(v, k)
#define slli16(v, k) _mm512_slli_epi16(v, k)
#define slli32(v, k) _mm512_slli_epi32(v, k)
#define srai32(v, k) _mm512_srai_epi32(v, k)
static inline vi unpacklo8(vi a, vi b) { return _mm512_unpacklo_epi8(a, b); }
static inline vi unpackhi8(vi a, vi b) { return _mm512_unpackhi_epi8(a, b); }
static inline vi unpacklo16(vi a, vi b) { return _mm512_unpacklo_epi16(a, b); }
static inline vi unpackhi16(vi a, vi b) { return _mm512_unpackhi_epi16(a, b); }
static inline vi unpacklo32(vi a, vi b) { return _mm512_unpacklo_epi32(a, b); }
static inline vi unpackhi32(vi a, vi b) { return _mm512_unpackhi_epi32(a, b); }
/* per 128-bit lane: [a0 a2 b0 b2] and [a1 a3 b1 b3] (a float shuffle, which moves bits) */
static inline vi evens32(vi a, vi b)
{
    return _mm512_castps_si512(_mm512_shuffle_ps(_mm512_castsi512_ps(a), _mm512_castsi512_ps(b),
        _MM_SHUFFLE(2, 0, 2, 0)));
}
static inline vi odds32(vi a, vi b)
{
    return _mm512_castps_si512(_mm512_shuffle_ps(_mm512_castsi512_ps(a), _mm512_castsi512_ps(b),
        _MM_SHUFFLE(3, 1, 3, 1)));
}
static inline vi packus16(vi a, vi b) { return _mm512_packus_epi16(a, b); }
#define HDM_HAVE_PSHUFB 1
static inline vi shuffle8(vi a, vi ctl) { return _mm512_shuffle_epi8(a, ctl); }
static inline vi unpacklo64(vi a, vi b) { return _mm512_unpacklo_epi64(a, b); }
static inline vi unpackhi64(vi a, vi b) { return _mm512_unpackhi_epi64(a, b); }
static inline vi bcast128(__m128i x) { return _mm512_broadcast_i32x4(x); }

static inline vf zero_f(void) { return _mm512_setzero_ps(); }
static inline vf set1f(float x) { return _mm512_set1_ps(x); }
static inline vf addf(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf subf(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf mulf(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf divf(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf maxf(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf minf(vf a, vf b) { return _mm512_min_ps(a, b); }
static inline vf cvt_i32_f(vi v) { return _mm512_cvtepi32_ps(v); }
static inline vi cvtt_f_i32(vf v) { return _mm512_cvttps_epi32(v); }

static inline vi ld_u8_i32(const uint8_t *p)
{
    return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
}

static inline vi ld_u16_i32(const uint16_t *p)
{
    return _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p));
}

static inline void st_i32_u8(uint8_t *p, vi v)
{
    _mm_storeu_si128((__m128i *)p, _mm512_cvtepi32_epi8(v));
}

static inline void st_i32_u16(uint16_t *p, vi v)
{
    _mm256_storeu_si256((__m256i *)p, _mm512_cvtepi32_epi16(v));
}

static inline vi ld_u8_u16(const uint8_t *p)
{
    return _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)p));
}

static inline void st_u16_u8(uint8_t *p, vi v)
{
    _mm256_storeu_si256((__m256i *)p, _mm512_cvtepi16_epi8(v));
}

/* bytes, for the PNG filters; a byte mask (vm) is a mask register */
typedef __mmask64 vm;
static inline vi and_i(vi a, vi b) { return _mm512_and_si512(a, b); }
static inline vi set1_8(int x) { return _mm512_set1_epi8((char)x); }
static inline vi sub8(vi a, vi b) { return _mm512_sub_epi8(a, b); }
static inline vi subs_u8(vi a, vi b) { return _mm512_subs_epu8(a, b); }
static inline vi adds_u8(vi a, vi b) { return _mm512_adds_epu8(a, b); }
static inline vi min_u8(vi a, vi b) { return _mm512_min_epu8(a, b); }
static inline vi avg_u8(vi a, vi b) { return _mm512_avg_epu8(a, b); } /* (a + b + 1) >> 1 */
static inline vi sad_u8(vi a, vi b) { return _mm512_sad_epu8(a, b); }
static inline vi add64(vi a, vi b) { return _mm512_add_epi64(a, b); }
static inline vm le_u8(vi a, vi b) { return _mm512_cmple_epu8_mask(a, b); }
static inline vm xor_m(vm a, vm b) { return _kxor_mask64(a, b); }
static inline vi sel8(vm m, vi a, vi b) { return _mm512_mask_blend_epi8(m, b, a); } /* m ? a : b */
static inline uint64_t hsum64(vi v) { return (uint64_t)_mm512_reduce_add_epi64(v); }

/* f32 lane masks for the blending, compositing and threshold primitives: mask registers from
 * ordered, quiet comparisons, false when either side is NaN, as C's <, <=, >, >=, == are.
 * Without AVX-512DQ there is no vandps on zmm; abs and the zero-masking go through AVX-512F's
 * own forms. */
typedef __mmask16 vfm;
static inline vfm le_f(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
static inline vfm gt_f(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
static inline vfm ge_f(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
static inline vfm eq_f(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
static inline vf sel_f(vfm m, vf a, vf b) { return _mm512_mask_blend_ps(m, b, a); } /* m ? a : b */
static inline vf maskz_f(vfm m, vf a) { return _mm512_maskz_mov_ps(m, a); } /* m ? a : +0 */
static inline vf sqrt_f(vf a) { return _mm512_sqrt_ps(a); }
static inline vf abs_f(vf a) { return _mm512_abs_ps(a); }
/* a >= b as unsigned 16-bit lanes, all ones or zero */
static inline vi ge_u16(vi a, vi b) { return _mm512_movm_epi16(_mm512_cmpge_epu16_mask(a, b)); }

/* 4×4 transpose of 128-bit lanes (its own inverse): out[l] lane j = v[j] lane l */
static inline void lane_transpose4(vi *v)
{
    vi t0 = _mm512_shuffle_i64x2(v[0], v[1], 0x44), t1 = _mm512_shuffle_i64x2(v[0], v[1], 0xee);
    vi t2 = _mm512_shuffle_i64x2(v[2], v[3], 0x44), t3 = _mm512_shuffle_i64x2(v[2], v[3], 0xee);
    v[0] = _mm512_shuffle_i64x2(t0, t2, 0x88);
    v[1] = _mm512_shuffle_i64x2(t0, t2, 0xdd);
    v[2] = _mm512_shuffle_i64x2(t1, t3, 0x88);
    v[3] = _mm512_shuffle_i64x2(t1, t3, 0xdd);
}

/* register j holds chunk l·r + j in lane l: for r = 4 whole loads and a transpose, otherwise
 * one 16-byte load per lane */
static inline void lane_load(vi *v, const unsigned char *src, unsigned r)
{
    if (r == 4) {
        for (unsigned j = 0; j < 4; j++)
            v[j] = ld_i(src + 64 * j);
        lane_transpose4(v);
        return;
    }
    for (unsigned j = 0; j < r; j++) {
        vi x = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(src + 16 * j)));
        x = _mm512_inserti32x4(x, _mm_loadu_si128((const __m128i *)(src + 16 * (r + j))), 1);
        x = _mm512_inserti32x4(x, _mm_loadu_si128((const __m128i *)(src + 16 * (2 * r + j))), 2);
        x = _mm512_inserti32x4(x, _mm_loadu_si128((const __m128i *)(src + 16 * (3 * r + j))), 3);
        v[j] = x;
    }
}

static inline void lane_store(unsigned char *dst, const vi *v, unsigned r)
{
    if (r == 4) {
        vi t[4] = {v[0], v[1], v[2], v[3]};
        lane_transpose4(t);
        for (unsigned j = 0; j < 4; j++)
            st_i(dst + 64 * j, t[j]);
        return;
    }
    for (unsigned j = 0; j < r; j++) {
        _mm_storeu_si128((__m128i *)(dst + 16 * j), _mm512_castsi512_si128(v[j]));
        _mm_storeu_si128((__m128i *)(dst + 16 * (r + j)), _mm512_extracti32x4_epi32(v[j], 1));
        _mm_storeu_si128((__m128i *)(dst + 16 * (2 * r + j)), _mm512_extracti32x4_epi32(v[j], 2));
        _mm_storeu_si128((__m128i *)(dst + 16 * (3 * r + j)), _mm512_extracti32x4_epi32(v[j], 3));
    }
}

/* x = [a.0 b.0 a.1 b.1], y = [a.2 b.2 a.3 b.3] */
static inline void lane_zip(vi a, vi b, vi *x, vi *y)
{
    *x = _mm512_permutex2var_epi64(a, _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), b);
    *y = _mm512_permutex2var_epi64(a, _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15), b);
}

/* the inverse: a = [x.0 x.2 y.0 y.2], b = [x.1 x.3 y.1 y.3] */
static inline void lane_unzip(vi x, vi y, vi *a, vi *b)
{
    *a = _mm512_shuffle_i64x2(x, y, 0x88);
    *b = _mm512_shuffle_i64x2(x, y, 0xdd);
}

#include "x86_template.h"

#endif
