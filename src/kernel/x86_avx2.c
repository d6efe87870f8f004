/* SPDX-License-Identifier: MIT */
/* x86_avx2.c — the kernel on AVX2 (built with -mavx2) */
#include "kernel.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define HDM_ISA avx2
#define HDM_ISA_NAME "avx2"
#define HDM_NARROW hdm__kernel_sse2
#define HDM_NARROW_PNG_REST hdm__png_filter_rest_sse2
#define VB 32
typedef __m256i vi;
typedef __m256 vf;

extern const hdm__kernel hdm__kernel_sse2;
uint64_t hdm__png_filter_rest_sse2(uint8_t *dst, const uint8_t *row, const uint8_t *prev,
                                   size_t n, unsigned bpp, unsigned type, size_t i);

static inline vi ld_i(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }
static inline void st_i(void *p, vi v) { _mm256_storeu_si256((__m256i *)p, v); }
static inline vf ld_f(const float *p) { return _mm256_loadu_ps(p); }
static inline void st_f(float *p, vf v) { _mm256_storeu_ps(p, v); }

static inline vi zero_i(void) { return _mm256_setzero_si256(); }
static inline vi set1_16(int x) { return _mm256_set1_epi16((short)x); }
static inline vi add16(vi a, vi b) { return _mm256_add_epi16(a, b); }
static inline vi sub16(vi a, vi b) { return _mm256_sub_epi16(a, b); }
static inline vi adds_u16(vi a, vi b) { return _mm256_adds_epu16(a, b); }
static inline vi mullo16(vi a, vi b) { return _mm256_mullo_epi16(a, b); }
static inline vi mulhi_u16(vi a, vi b) { return _mm256_mulhi_epu16(a, b); }
static inline vi cmpgt16(vi a, vi b) { return _mm256_cmpgt_epi16(a, b); }
static inline vi or_i(vi a, vi b) { return _mm256_or_si256(a, b); }
static inline vi xor_i(vi a, vi b) { return _mm256_xor_si256(a, b); }
static inline vi andnot_i(vi a, vi b) { return _mm256_andnot_si256(a, b); } /* ~a & b */
#define srli16(v, k) _mm256_srli_epi16(v, k)
#define slli16(v, k) _mm256_slli_epi16(v, k)
#define slli32(v, k) _mm256_slli_epi32(v, k)
#define srai32(v, k) _mm256_srai_epi32(v, k)
static inline vi unpacklo8(vi a, vi b) { return _mm256_unpacklo_epi8(a, b); }
static inline vi unpackhi8(vi a, vi b) { return _mm256_unpackhi_epi8(a, b); }
static inline vi unpacklo16(vi a, vi b) { return _mm256_unpacklo_epi16(a, b); }
static inline vi unpackhi16(vi a, vi b) { return _mm256_unpackhi_epi16(a, b); }
static inline vi unpacklo32(vi a, vi b) { return _mm256_unpacklo_epi32(a, b); }
static inline vi unpackhi32(vi a, vi b) { return _mm256_unpackhi_epi32(a, b); }
/* per 128-bit lane: [a0 a2 b0 b2] and [a1 a3 b1 b3] (a float shuffle, which moves bits) */
static inline vi evens32(vi a, vi b)
{
    return _mm256_castps_si256(_mm256_shuffle_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b),
        _MM_SHUFFLE(2, 0, 2, 0)));
}
static inline vi odds32(vi a, vi b)
{
    return _mm256_castps_si256(_mm256_shuffle_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b),
        _MM_SHUFFLE(3, 1, 3, 1)));
}
static inline vi packus16(vi a, vi b) { return _mm256_packus_epi16(a, b); }
#define HDM_HAVE_PSHUFB 1
static inline vi shuffle8(vi a, vi ctl) { return _mm256_shuffle_epi8(a, ctl); }
static inline vi unpacklo64(vi a, vi b) { return _mm256_unpacklo_epi64(a, b); }
static inline vi unpackhi64(vi a, vi b) { return _mm256_unpackhi_epi64(a, b); }
static inline vi bcast128(__m128i x) { return _mm256_broadcastsi128_si256(x); }

static inline vf zero_f(void) { return _mm256_setzero_ps(); }
static inline vf set1f(float x) { return _mm256_set1_ps(x); }
static inline vf addf(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf subf(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf mulf(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf divf(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf maxf(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf minf(vf a, vf b) { return _mm256_min_ps(a, b); }
static inline vf cvt_i32_f(vi v) { return _mm256_cvtepi32_ps(v); }
static inline vi cvtt_f_i32(vf v) { return _mm256_cvttps_epi32(v); }

static inline vi ld_u8_i32(const uint8_t *p)
{
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
}

static inline vi ld_u16_i32(const uint16_t *p)
{
    return _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
}

static inline void st_i32_u8(uint8_t *p, vi v)
{
    __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64((__m128i *)p, _mm_packus_epi16(w, w));
}

static inline void st_i32_u16(uint16_t *p, vi v)
{
    __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storeu_si128((__m128i *)p, w);
}

static inline vi ld_u8_u16(const uint8_t *p)
{
    return _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)p));
}

static inline void st_u16_u8(uint8_t *p, vi v)
{
    __m128i w = _mm_packus_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storeu_si128((__m128i *)p, w);
}

/* bytes, for the PNG filters; a byte mask (vm) is a vector of 0x00 / 0xff */
typedef __m256i vm;
static inline vi and_i(vi a, vi b) { return _mm256_and_si256(a, b); }
static inline vi set1_8(int x) { return _mm256_set1_epi8((char)x); }
static inline vi sub8(vi a, vi b) { return _mm256_sub_epi8(a, b); }
static inline vi subs_u8(vi a, vi b) { return _mm256_subs_epu8(a, b); }
static inline vi adds_u8(vi a, vi b) { return _mm256_adds_epu8(a, b); }
static inline vi min_u8(vi a, vi b) { return _mm256_min_epu8(a, b); }
static inline vi avg_u8(vi a, vi b) { return _mm256_avg_epu8(a, b); } /* (a + b + 1) >> 1 */
static inline vi sad_u8(vi a, vi b) { return _mm256_sad_epu8(a, b); }
static inline vi add64(vi a, vi b) { return _mm256_add_epi64(a, b); }
static inline vm le_u8(vi a, vi b) { return _mm256_cmpeq_epi8(_mm256_min_epu8(a, b), a); }
static inline vm xor_m(vm a, vm b) { return _mm256_xor_si256(a, b); }
static inline vi sel8(vm m, vi a, vi b) { return _mm256_blendv_epi8(b, a, m); } /* m ? a : b */
static inline uint64_t hsum64(vi v)
{
    __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    uint64_t t[2];
    _mm_storeu_si128((__m128i *)t, s);
    return t[0] + t[1];
}

/* f32 lane masks for the blending, compositing and threshold primitives: ordered, quiet
 * comparisons, false when either side is NaN, as C's <, <=, >, >=, == are */
typedef __m256 vfm;
static inline vfm le_f(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
static inline vfm gt_f(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
static inline vfm ge_f(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
static inline vfm eq_f(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
static inline vf sel_f(vfm m, vf a, vf b) { return _mm256_blendv_ps(b, a, m); } /* m ? a : b */
static inline vf maskz_f(vfm m, vf a) { return _mm256_and_ps(m, a); } /* m ? a : +0 */
static inline vf sqrt_f(vf a) { return _mm256_sqrt_ps(a); }
static inline vf abs_f(vf a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
/* a >= b as unsigned 16-bit lanes, all ones or zero: b − a saturates to 0 exactly then */
static inline vi ge_u16(vi a, vi b)
{
    return _mm256_cmpeq_epi16(_mm256_subs_epu16(b, a), _mm256_setzero_si256());
}

/* register j holds chunk j in lane 0 and chunk r + j in lane 1 */
static inline void lane_load(vi *v, const unsigned char *src, unsigned r)
{
    for (unsigned j = 0; j < r; j++)
        v[j] = _mm256_loadu2_m128i((const __m128i *)(src + 16 * (r + j)),
                                   (const __m128i *)(src + 16 * j));
}

static inline void lane_store(unsigned char *dst, const vi *v, unsigned r)
{
    for (unsigned j = 0; j < r; j++)
        _mm256_storeu2_m128i((__m128i *)(dst + 16 * (r + j)), (__m128i *)(dst + 16 * j), v[j]);
}

/* x = [a.0 b.0], y = [a.1 b.1]; its own inverse */
static inline void lane_zip(vi a, vi b, vi *x, vi *y)
{
    *x = _mm256_permute2x128_si256(a, b, 0x20);
    *y = _mm256_permute2x128_si256(a, b, 0x31);
}

static inline void lane_unzip(vi x, vi y, vi *a, vi *b) { lane_zip(x, y, a, b); }

#include "x86_template.h"

#endif
