/* SPDX-License-Identifier: MIT */
/* kernel_checks.h — variant-against-scalar checks shared by test_kernel.c and kernel_neon_check.c */
#ifndef HDM_KERNEL_CHECKS_H
#define HDM_KERNEL_CHECKS_H

/* Plain C (no Criterion) so the same checks run in the Criterion suite and in the static
 * self-contained program that is cross-built for aarch64 and run under qemu. Each check runs one
 * variant and the scalar reference on the same inputs and compares the outputs bit for bit
 * (f32: bit patterns, any NaN equal to any NaN), and a primitive's return value (png_filter's
 * sum) exactly. Buffers live in mmap'd slots between two PROT_NONE pages, so a read or write
 * past n, or before the start of a buffer placed at its slot's start, faults. */

#include "kernel/kernel.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct kc_tally {
    long passed, failed;
    char first[512]; /* the first failure, for the report */
} kc_tally;

static inline void kc_fail(kc_tally *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static inline void kc_fail(kc_tally *t, const char *fmt, ...)
{
    if (t->failed++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->first, sizeof t->first, fmt, ap);
        va_end(ap);
    }
}

/* ---- seeded randomness ------------------------------------------------------------------- */

static uint64_t kc_state = 0x9e3779b97f4a7c15u;

static inline void kc_seed(uint64_t s) { kc_state = s ? s : 1; }

static inline uint64_t kc_rand(void) /* xorshift64* */
{
    kc_state ^= kc_state >> 12;
    kc_state ^= kc_state << 25;
    kc_state ^= kc_state >> 27;
    return kc_state * 2685821657736338717u;
}

static inline float kc_bits_f(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint32_t kc_f_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static const uint16_t kc_u16_edges[] = {0, 1, 32767, 32768, 65534, 65535};

/* f32 inputs every op must survive: zeros, one, subnormals, extremes, infinities, NaNs, and
 * values just around the u8/u16 rounding boundaries */
static inline float kc_special_f(unsigned i)
{
    static const uint32_t bits[] = {
        0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3f000000, 0x00000001, 0x80000001,
        0x007fffff, 0x00800000, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000,
        0xffc00000, 0x7f800001, 0x7fa00000, 0x3f7fffff, 0x3f800001, 0x3c008081, 0x3c008080,
        0x37000080, 0x37000000, 0x4f800000, 0xcf000000, 0x3effffff,
        /* the blend modes' boundaries: 0.5 + 1 ulp; 0.25 (soft-light's D) and either side */
        0x3f000001, 0x3e800000, 0x3e7fffff, 0x3e800001,
    };
    return kc_bits_f(bits[i % (sizeof bits / sizeof bits[0])]);
}
#define KC_SPECIAL_F_COUNT 30u

static inline float kc_rand_f(void)
{
    uint64_t r = kc_rand();
    switch (r & 7) {
    case 0: return kc_special_f((unsigned)(r >> 8));
    case 1: return kc_bits_f((uint32_t)(r >> 32)); /* any bit pattern */
    case 2: return (float)((r >> 40) % 256) / 255.0f;
    default: return (float)((double)(r >> 11) / 9007199254740992.0 * 1.5 - 0.25);
    }
}

static inline uint8_t kc_rand_u8(void)
{
    static const uint8_t edge[] = {0, 1, 127, 128, 254, 255};
    uint64_t r = kc_rand();
    return (r & 7) == 0 ? edge[(r >> 8) % 6] : (uint8_t)(r >> 32);
}

static inline uint16_t kc_rand_u16(void)
{
    uint64_t r = kc_rand();
    return (r & 3) == 0 ? kc_u16_edges[(r >> 8) % 6] : (uint16_t)(r >> 32);
}

/* ---- guarded buffers --------------------------------------------------------------------- */

typedef struct kc_buf {
    unsigned char *base; /* usable bytes [base, base + size), a PROT_NONE page either side */
    size_t size;
} kc_buf;

static inline size_t kc_page(void) { return (size_t)sysconf(_SC_PAGESIZE); }

static inline int kc_buf_init(kc_buf *b, size_t bytes)
{
    size_t pg = kc_page();
    size_t size = (bytes + pg - 1) / pg * pg;
    if (size == 0)
        size = pg;
    unsigned char *m = mmap(NULL, size + 2 * pg, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    if (mprotect(m, pg, PROT_NONE) != 0 || mprotect(m + pg + size, pg, PROT_NONE) != 0) {
        munmap(m, size + 2 * pg);
        return -1;
    }
    b->base = m + pg;
    b->size = size;
    return 0;
}

static inline void kc_buf_free(kc_buf *b)
{
    if (b->base)
        munmap(b->base - kc_page(), b->size + 2 * kc_page());
    b->base = NULL;
}

/* bytes placed to end exactly at the guard page after the slot, or to start `off` bytes into
 * the slot (off = 0: right after the guard page before it) */
static inline void *kc_at_end(kc_buf *b, size_t bytes) { return b->base + b->size - bytes; }
static inline void *kc_at(kc_buf *b, size_t off) { return b->base + off; }

/* ---- primitives as uniform operations ---------------------------------------------------- */

enum { KC_U8 = 1, KC_U16 = 2, KC_F32 = 4 }; /* the value is the sample size */

typedef struct kc_op {
    const char *name;
    void (*run)(const hdm__kernel *k, void *const *dst, void *const *src, size_t n, float p);
    unsigned nsrc, ndst;
    unsigned src_type, dst_type;
    unsigned src_mult, dst_mult; /* samples per n in each source / destination */
    int inout;                   /* dst is read as well as written (axpy) */
    int param;                   /* takes a float parameter */
    int inplace;                 /* dst may be one of the sources */
    unsigned bpp;                /* PNG filters: bytes per pixel; 0 for every other op */
} kc_op;

/* What the last run returned, for primitives that return something (png_filter's sum): the
 * run function stores it and kc_case compares the variant's with the reference's. */
static uint64_t kc_ret;

#define KC_BIN(nm, T)                                                                           \
    static inline void kc_run_##nm(const hdm__kernel *k, void *const *d, void *const *s, size_t n,    \
                            float p)                                                            \
    {                                                                                           \
        (void)p;                                                                                \
        k->nm((T *)d[0], (const T *)s[0], (const T *)s[1], n);                                  \
    }
KC_BIN(mul_u8, uint8_t)
KC_BIN(mul_u16, uint16_t)
KC_BIN(mul_f32, float)
KC_BIN(mulinv_u8, uint8_t)
KC_BIN(mulinv_u16, uint16_t)
KC_BIN(mulinv_f32, float)
KC_BIN(screen_f32, float)

#define KC_UN(nm, TD, TS)                                                                       \
    static inline void kc_run_##nm(const hdm__kernel *k, void *const *d, void *const *s, size_t n,    \
                            float p)                                                            \
    {                                                                                           \
        (void)p;                                                                                \
        k->nm((TD *)d[0], (const TS *)s[0], n);                                                 \
    }
KC_UN(u8_to_f32, float, uint8_t)
KC_UN(u16_to_f32, float, uint16_t)
KC_UN(f32_to_u8, uint8_t, float)
KC_UN(f32_to_u16, uint16_t, float)
KC_UN(u8_to_u16, uint16_t, uint8_t)
KC_UN(u16_to_u8, uint8_t, uint16_t)

static inline void kc_run_scale_f32(const hdm__kernel *k, void *const *d, void *const *s, size_t n,
                             float p)
{
    k->scale_f32(d[0], s[0], p, n);
}

static inline void kc_run_axpy_f32(const hdm__kernel *k, void *const *d, void *const *s, size_t n,
                            float p)
{
    k->axpy_f32(d[0], s[0], p, n);
}

static inline void kc_run_lerp_f32(const hdm__kernel *k, void *const *d, void *const *s, size_t n,
                            float p)
{
    k->lerp_f32(d[0], s[0], s[1], p, n);
}

static inline void kc_run_lerpv_f32(const hdm__kernel *k, void *const *d, void *const *s, size_t n,
                             float p)
{
    (void)p;
    k->lerpv_f32(d[0], s[0], s[1], s[2], n);
}

/* blend_f32 by mode, the complements NULL (the mode forms 1 − C itself); color-dodge and
 * color-burn also with the complements given, as blend.c calls them: icb and ics the third and
 * fourth sources */
#define KC_BLEND(nm, M)                                                                         \
    static inline void kc_run_blend_##nm(const hdm__kernel *k, void *const *d, void *const *s,  \
                                         size_t n, float p)                                     \
    {                                                                                           \
        (void)p;                                                                                \
        k->blend_f32(d[0], s[0], s[1], NULL, NULL, M, n);                                       \
    }
KC_BLEND(normal, HDM__BLEND_NORMAL)
KC_BLEND(multiply, HDM__BLEND_MULTIPLY)
KC_BLEND(screen, HDM__BLEND_SCREEN)
KC_BLEND(overlay, HDM__BLEND_OVERLAY)
KC_BLEND(darken, HDM__BLEND_DARKEN)
KC_BLEND(lighten, HDM__BLEND_LIGHTEN)
KC_BLEND(dodge, HDM__BLEND_COLOR_DODGE)
KC_BLEND(burn, HDM__BLEND_COLOR_BURN)
KC_BLEND(hard, HDM__BLEND_HARD_LIGHT)
KC_BLEND(soft, HDM__BLEND_SOFT_LIGHT)
KC_BLEND(difference, HDM__BLEND_DIFFERENCE)
KC_BLEND(exclusion, HDM__BLEND_EXCLUSION)

static inline void kc_run_blend_dodge_i(const hdm__kernel *k, void *const *d, void *const *s,
                                        size_t n, float p)
{
    (void)p;
    k->blend_f32(d[0], s[0], s[1], s[2], s[3], HDM__BLEND_COLOR_DODGE, n);
}

static inline void kc_run_blend_burn_i(const hdm__kernel *k, void *const *d, void *const *s,
                                       size_t n, float p)
{
    (void)p;
    k->blend_f32(d[0], s[0], s[1], s[2], s[3], HDM__BLEND_COLOR_BURN, n);
}

/* outputs ao, wb, ws from ab, as */
static inline void kc_run_over_f32(const hdm__kernel *k, void *const *d, void *const *s,
                                   size_t n, float p)
{
    (void)p;
    k->over_f32(d[0], d[1], d[2], s[0], s[1], n);
}

/* outputs ao, wb, ws from ab, as, for one Porter-Duff operator */
#define KC_COMPOSITE(nm, OP)                                                                    \
    static inline void kc_run_composite_##nm(const hdm__kernel *k, void *const *d,              \
                                             void *const *s, size_t n, float p)                 \
    {                                                                                           \
        (void)p;                                                                                \
        k->composite_f32(d[0], d[1], d[2], s[0], s[1], OP, n);                                  \
    }
KC_COMPOSITE(clear, HDM__OP_CLEAR)
KC_COMPOSITE(copy, HDM__OP_COPY)
KC_COMPOSITE(destination, HDM__OP_DESTINATION)
KC_COMPOSITE(source_over, HDM__OP_SOURCE_OVER)
KC_COMPOSITE(destination_over, HDM__OP_DESTINATION_OVER)
KC_COMPOSITE(source_in, HDM__OP_SOURCE_IN)
KC_COMPOSITE(destination_in, HDM__OP_DESTINATION_IN)
KC_COMPOSITE(source_out, HDM__OP_SOURCE_OUT)
KC_COMPOSITE(destination_out, HDM__OP_DESTINATION_OUT)
KC_COMPOSITE(source_atop, HDM__OP_SOURCE_ATOP)
KC_COMPOSITE(destination_atop, HDM__OP_DESTINATION_ATOP)
KC_COMPOSITE(xor, HDM__OP_XOR)
KC_COMPOSITE(lighter, HDM__OP_LIGHTER)

static inline void kc_run_mix_f32(const hdm__kernel *k, void *const *d, void *const *s,
                                  size_t n, float p)
{
    (void)p;
    k->mix_f32(d[0], s[0], s[1], s[2], s[3], n);
}

KC_BIN(unpremul_f32, float)
KC_UN(srgb_to_linear_f32, float, float)
KC_UN(linear_to_srgb_f32, float, float)
KC_UN(srgb_to_linear_inv_f32, float, float)

/* The integer thresholds take t through the float parameter as t/M: 0 and below (and NaN) is
 * 0, 1 and above is M; kc_thr_param(t, M) gives back exactly t. */
static inline unsigned kc_thr_int(float p, unsigned m)
{
    if (!(p > 0.0f))
        return 0;
    if (p >= 1.0f)
        return m;
    return (unsigned)(p * (float)m + 0.5f);
}

static inline float kc_thr_param(unsigned t, unsigned m) { return (float)t / (float)m; }

static inline void kc_run_threshold_u8(const hdm__kernel *k, void *const *d, void *const *s,
                                       size_t n, float p)
{
    k->threshold_u8(d[0], s[0], (uint8_t)kc_thr_int(p, 255), n);
}

static inline void kc_run_threshold_u16(const hdm__kernel *k, void *const *d, void *const *s,
                                        size_t n, float p)
{
    k->threshold_u16(d[0], s[0], (uint16_t)kc_thr_int(p, 65535), n);
}

static inline void kc_run_threshold_f32(const hdm__kernel *k, void *const *d, void *const *s,
                                        size_t n, float p)
{
    k->threshold_f32(d[0], s[0], p, n);
}

#define KC_LAYOUT(C)                                                                            \
    static inline void kc_run_deint8_##C(const hdm__kernel *k, void *const *d, void *const *s,         \
                                  size_t n, float p)                                            \
    {                                                                                           \
        (void)p;                                                                                \
        uint8_t *pl[4] = {d[0], d[1], d[2], d[3]};                                              \
        k->deinterleave_u8(pl, s[0], C, n);                                                     \
    }                                                                                           \
    static inline void kc_run_int8_##C(const hdm__kernel *k, void *const *d, void *const *s,           \
                                size_t n, float p)                                              \
    {                                                                                           \
        (void)p;                                                                                \
        const uint8_t *pl[4] = {s[0], s[1], s[2], s[3]};                                        \
        k->interleave_u8(d[0], pl, C, n);                                                       \
    }                                                                                           \
    static inline void kc_run_deint16_##C(const hdm__kernel *k, void *const *d, void *const *s,        \
                                   size_t n, float p)                                           \
    {                                                                                           \
        (void)p;                                                                                \
        uint16_t *pl[4] = {d[0], d[1], d[2], d[3]};                                             \
        k->deinterleave_u16(pl, s[0], C, n);                                                    \
    }                                                                                           \
    static inline void kc_run_int16_##C(const hdm__kernel *k, void *const *d, void *const *s,          \
                                 size_t n, float p)                                             \
    {                                                                                           \
        (void)p;                                                                                \
        const uint16_t *pl[4] = {s[0], s[1], s[2], s[3]};                                       \
        k->interleave_u16(d[0], pl, C, n);                                                      \
    }                                                                                           \
    static inline void kc_run_deint32_##C(const hdm__kernel *k, void *const *d, void *const *s, \
                                          size_t n, float p)                                    \
    {                                                                                           \
        (void)p;                                                                                \
        float *pl[4] = {d[0], d[1], d[2], d[3]};                                                \
        k->deinterleave_f32(pl, s[0], C, n);                                                    \
    }                                                                                           \
    static inline void kc_run_int32_##C(const hdm__kernel *k, void *const *d, void *const *s,   \
                                        size_t n, float p)                                      \
    {                                                                                           \
        (void)p;                                                                                \
        const float *pl[4] = {s[0], s[1], s[2], s[3]};                                          \
        k->interleave_f32(d[0], pl, C, n);                                                      \
    }
KC_LAYOUT(1)
KC_LAYOUT(2)
KC_LAYOUT(3)
KC_LAYOUT(4)

#define KC_LAYOUT_OPS(C)                                                                        \
    {"deinterleave_u8/" #C, kc_run_deint8_##C, 1, C, KC_U8, KC_U8, C, 1, 0, 0, 0, 0},           \
    {"interleave_u8/" #C, kc_run_int8_##C, C, 1, KC_U8, KC_U8, 1, C, 0, 0, 0, 0},               \
    {"deinterleave_u16/" #C, kc_run_deint16_##C, 1, C, KC_U16, KC_U16, C, 1, 0, 0, 0, 0},       \
    {"interleave_u16/" #C, kc_run_int16_##C, C, 1, KC_U16, KC_U16, 1, C, 0, 0, 0, 0},       \
    {"deinterleave_f32/" #C, kc_run_deint32_##C, 1, C, KC_F32, KC_F32, C, 1, 0, 0, 0, 0},       \
    {"interleave_f32/" #C, kc_run_int32_##C, C, 1, KC_F32, KC_F32, 1, C, 0, 0, 0, 0}

/* The layout changes do no arithmetic: their f32 samples must arrive bit for bit, NaNs with
 * their sign and payload (quiet or signalling), which kc_case then checks. */
static inline int kc_moves_bits(const char *name) { return strstr(name, "interleave_") != NULL; }

/* png_filter, one op per filter type and bpp: sources row and prev (None and Sub read only row,
 * which is what the benchmark counts), the sum through kc_ret */
#define KC_PNG(nm, T, B)                                                                        \
    static inline void kc_run_png_##nm##_##B(const hdm__kernel *k, void *const *d,              \
                                             void *const *s, size_t n, float p)                 \
    {                                                                                           \
        (void)p;                                                                                \
        kc_ret = k->png_filter(d[0], s[0], s[1], n, B, T);                                      \
    }
#define KC_PNG_BPP(B)                                                                           \
    KC_PNG(none, 0, B) KC_PNG(sub, 1, B) KC_PNG(up, 2, B) KC_PNG(avg, 3, B) KC_PNG(paeth, 4, B)
KC_PNG_BPP(1)
KC_PNG_BPP(2)
KC_PNG_BPP(3)
KC_PNG_BPP(4)
KC_PNG_BPP(6)
KC_PNG_BPP(8)

#define KC_PNG_OPS(B)                                                                           \
    {"png_none/" #B, kc_run_png_none_##B, 1, 1, KC_U8, KC_U8, 1, 1, 0, 0, 0, B},                \
    {"png_sub/" #B, kc_run_png_sub_##B, 1, 1, KC_U8, KC_U8, 1, 1, 0, 0, 0, B},                  \
    {"png_up/" #B, kc_run_png_up_##B, 2, 1, KC_U8, KC_U8, 1, 1, 0, 0, 0, B},                    \
    {"png_avg/" #B, kc_run_png_avg_##B, 2, 1, KC_U8, KC_U8, 1, 1, 0, 0, 0, B},                  \
    {"png_paeth/" #B, kc_run_png_paeth_##B, 2, 1, KC_U8, KC_U8, 1, 1, 0, 0, 0, B}

static const kc_op kc_ops[] = {
    {"mul_u8", kc_run_mul_u8, 2, 1, KC_U8, KC_U8, 1, 1, 0, 0, 1, 0},
    {"mul_u16", kc_run_mul_u16, 2, 1, KC_U16, KC_U16, 1, 1, 0, 0, 1, 0},
    {"mul_f32", kc_run_mul_f32, 2, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"mulinv_u8", kc_run_mulinv_u8, 2, 1, KC_U8, KC_U8, 1, 1, 0, 0, 1, 0},
    {"mulinv_u16", kc_run_mulinv_u16, 2, 1, KC_U16, KC_U16, 1, 1, 0, 0, 1, 0},
    {"mulinv_f32", kc_run_mulinv_f32, 2, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"scale_f32", kc_run_scale_f32, 1, 1, KC_F32, KC_F32, 1, 1, 0, 1, 1, 0},
    {"lerp_f32", kc_run_lerp_f32, 2, 1, KC_F32, KC_F32, 1, 1, 0, 1, 1, 0},
    {"lerpv_f32", kc_run_lerpv_f32, 3, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"screen_f32", kc_run_screen_f32, 2, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"axpy_f32", kc_run_axpy_f32, 1, 1, KC_F32, KC_F32, 1, 1, 1, 1, 1, 0},
    {"blend/normal", kc_run_blend_normal, 2, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"blend/multiply", kc_run_blend_multiply, 2, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"blend/screen", kc_run_blend_screen, 2, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"blend/overlay", kc_run_blend_overlay, 2, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"blend/darken", kc_run_blend_darken, 2, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"blend/lighten", kc_run_blend_lighten, 2, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"blend/color-dodge", kc_run_blend_dodge, 2, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"blend/color-burn", kc_run_blend_burn, 2, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"blend/hard-light", kc_run_blend_hard, 2, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"blend/soft-light", kc_run_blend_soft, 2, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"blend/difference", kc_run_blend_difference, 2, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"blend/exclusion", kc_run_blend_exclusion, 2, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"blend/color-dodge+i", kc_run_blend_dodge_i, 4, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"blend/color-burn+i", kc_run_blend_burn_i, 4, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"over_f32", kc_run_over_f32, 2, 3, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"composite/clear", kc_run_composite_clear, 2, 3, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"composite/copy", kc_run_composite_copy, 2, 3, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"composite/destination", kc_run_composite_destination, 2, 3, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"composite/source-over", kc_run_composite_source_over, 2, 3, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"composite/destination-over", kc_run_composite_destination_over, 2, 3, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"composite/source-in", kc_run_composite_source_in, 2, 3, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"composite/destination-in", kc_run_composite_destination_in, 2, 3, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"composite/source-out", kc_run_composite_source_out, 2, 3, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"composite/destination-out", kc_run_composite_destination_out, 2, 3, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"composite/source-atop", kc_run_composite_source_atop, 2, 3, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"composite/destination-atop", kc_run_composite_destination_atop, 2, 3, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"composite/xor", kc_run_composite_xor, 2, 3, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"composite/lighter", kc_run_composite_lighter, 2, 3, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"mix_f32", kc_run_mix_f32, 4, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"unpremul_f32", kc_run_unpremul_f32, 2, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"srgb_to_linear_f32", kc_run_srgb_to_linear_f32, 1, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"linear_to_srgb_f32", kc_run_linear_to_srgb_f32, 1, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1, 0},
    {"srgb_to_linear_inv", kc_run_srgb_to_linear_inv_f32, 1, 1, KC_F32, KC_F32, 1, 1, 0, 0, 1,
     0},
    {"threshold_u8", kc_run_threshold_u8, 1, 1, KC_U8, KC_U8, 1, 1, 0, 1, 1, 0},
    {"threshold_u16", kc_run_threshold_u16, 1, 1, KC_U16, KC_U16, 1, 1, 0, 1, 1, 0},
    {"threshold_f32", kc_run_threshold_f32, 1, 1, KC_F32, KC_F32, 1, 1, 0, 1, 1, 0},
    {"u8_to_f32", kc_run_u8_to_f32, 1, 1, KC_U8, KC_F32, 1, 1, 0, 0, 0, 0},
    {"u16_to_f32", kc_run_u16_to_f32, 1, 1, KC_U16, KC_F32, 1, 1, 0, 0, 0, 0},
    {"f32_to_u8", kc_run_f32_to_u8, 1, 1, KC_F32, KC_U8, 1, 1, 0, 0, 0, 0},
    {"f32_to_u16", kc_run_f32_to_u16, 1, 1, KC_F32, KC_U16, 1, 1, 0, 0, 0, 0},
    {"u8_to_u16", kc_run_u8_to_u16, 1, 1, KC_U8, KC_U16, 1, 1, 0, 0, 0, 0},
    {"u16_to_u8", kc_run_u16_to_u8, 1, 1, KC_U16, KC_U8, 1, 1, 0, 0, 0, 0},
    KC_LAYOUT_OPS(1),
    KC_LAYOUT_OPS(2),
    KC_LAYOUT_OPS(3),
    KC_LAYOUT_OPS(4),
    KC_PNG_OPS(1),
    KC_PNG_OPS(2),
    KC_PNG_OPS(3),
    KC_PNG_OPS(4),
    KC_PNG_OPS(6),
    KC_PNG_OPS(8),
};
#define KC_OP_COUNT (sizeof kc_ops / sizeof kc_ops[0])

static inline const kc_op *kc_find_op(const char *name)
{
    for (size_t i = 0; i < KC_OP_COUNT; i++)
        if (strcmp(kc_ops[i].name, name) == 0)
            return &kc_ops[i];
    return NULL;
}

static inline void kc_fill(void *p, unsigned type, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (type == KC_U8)
            ((uint8_t *)p)[i] = kc_rand_u8();
        else if (type == KC_U16)
            ((uint16_t *)p)[i] = kc_rand_u16();
        else
            ((float *)p)[i] = kc_rand_f();
    }
}

/* compares count samples of size bytes bit for bit; returns the first differing index or -1 */
static inline long kc_diff_bits(const void *want, const void *got, unsigned size, size_t count)
{
    if (memcmp(want, got, count * size) == 0)
        return -1;
    for (size_t i = 0; i < count * size; i++)
        if (((const unsigned char *)want)[i] != ((const unsigned char *)got)[i])
            return (long)(i / size);
    return -1;
}

/* compares count samples; returns the first differing index or -1 (f32: any NaN equals any NaN) */
static inline long kc_diff(const void *want, const void *got, unsigned type, size_t count)
{
    if (type != KC_F32)
        return kc_diff_bits(want, got, type, count);
    for (size_t i = 0; i < count; i++) {
        float w, g;
        memcpy(&w, (const float *)want + i, sizeof w);
        memcpy(&g, (const float *)got + i, sizeof g);
        if (isnan(w) && isnan(g))
            continue;
        if (kc_f_bits(w) != kc_f_bits(g))
            return (long)i;
    }
    return -1;
}

static inline double kc_value(const void *p, unsigned type, size_t i)
{
    if (type == KC_U8)
        return ((const uint8_t *)p)[i];
    if (type == KC_U16)
        return ((const uint16_t *)p)[i];
    return ((const float *)p)[i];
}

/* The working set of one check: per source and per destination a guarded slot for the inputs,
 * the reference output and the variant's output. */
typedef struct kc_bench {
    kc_buf src[4], ref[4], var[4];
    size_t cap;
} kc_bench;

static inline int kc_bench_init(kc_bench *b, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->cap = cap;
    for (int i = 0; i < 4; i++)
        if (kc_buf_init(&b->src[i], cap) || kc_buf_init(&b->ref[i], cap) ||
            kc_buf_init(&b->var[i], cap))
            return -1;
    return 0;
}

static inline void kc_bench_free(kc_bench *b)
{
    for (int i = 0; i < 4; i++) {
        kc_buf_free(&b->src[i]);
        kc_buf_free(&b->ref[i]);
        kc_buf_free(&b->var[i]);
    }
}

enum { KC_ALIAS_NONE = 0, KC_ALIAS_SRC0 = 1, KC_ALIAS_SRC1 = 2 };

/* placements for kc_case's off */
enum { KC_END = -1, KC_START = -2 };

/* One call of op on n samples. off = KC_END: every buffer ends at the guard page after it;
 * KC_START: every buffer starts right after the guard page before it; otherwise buffer i
 * starts off_i bytes into its slot (off, spread per buffer and rounded to the sample size).
 * fill: 1 = random inputs; 0 = inputs already in the src slots at the same placement (the
 * caller wrote them). Returns 1 when variant and reference agree. */
static inline int kc_case(kc_tally *t, kc_bench *b, const hdm__kernel *k, const kc_op *o, size_t n,
                   long off, float param, int alias, int fill, const void *const *given)
{
    void *src[4] = {0}, *ref[4] = {0}, *var[4] = {0}, *vsrc[4] = {0};
    size_t sbytes = n * o->src_mult * o->src_type, dbytes = n * o->dst_mult * o->dst_type;
    for (unsigned i = 0; i < 4; i++) {
        if (off == KC_END) {
            src[i] = kc_at_end(&b->src[i], sbytes);
            ref[i] = kc_at_end(&b->ref[i], dbytes);
            var[i] = kc_at_end(&b->var[i], dbytes);
        } else if (off == KC_START) {
            src[i] = kc_at(&b->src[i], 0);
            ref[i] = kc_at(&b->ref[i], 0);
            var[i] = kc_at(&b->var[i], 0);
        } else {
            size_t os = ((size_t)off * (2 * i + 1) + 7 * i) % 64 / o->src_type * o->src_type;
            size_t od = ((size_t)off * (2 * i + 3) + 13 * i) % 64 / o->dst_type * o->dst_type;
            src[i] = kc_at(&b->src[i], os);
            ref[i] = kc_at(&b->ref[i], od);
            var[i] = kc_at(&b->var[i], od);
        }
    }
    for (unsigned i = 0; i < o->nsrc; i++) {
        if (given)
            memcpy(src[i], given[i], sbytes);
        else if (fill)
            kc_fill(src[i], o->src_type, n * o->src_mult);
        vsrc[i] = src[i];
    }
    for (unsigned i = 0; i < o->ndst; i++) {
        if (o->inout) {
            kc_fill(ref[i], o->dst_type, n * o->dst_mult);
        } else {
            memset(ref[i], 0xa5, dbytes);
        }
        memcpy(var[i], ref[i], dbytes);
    }
    if (alias) {
        /* the variant works in place: its destination starts as a copy of that source */
        memcpy(var[0], src[alias - 1], sbytes);
        vsrc[alias - 1] = var[0];
        if (o->inout)
            memcpy(ref[0], src[alias - 1], sbytes);
    }
    kc_ret = 0;
    o->run(&hdm__kernel_scalar, ref, src, n, param);
    uint64_t want = kc_ret;
    kc_ret = 0;
    o->run(k, var, vsrc, n, param);
    for (unsigned i = 0; i < o->ndst; i++) {
        long at = kc_moves_bits(o->name)
                      ? kc_diff_bits(ref[i], var[i], o->dst_type, n * o->dst_mult)
                      : kc_diff(ref[i], var[i], o->dst_type, n * o->dst_mult);
        if (at >= 0) {
            kc_fail(t,
                    "%s %s: n=%zu off=%ld alias=%d param=%g dst %u sample %ld: scalar %.9g, "
                    "variant %.9g (src0 %.9g)",
                    k->name, o->name, n, off, alias, (double)param, i, at,
                    kc_value(ref[i], o->dst_type, (size_t)at),
                    kc_value(var[i], o->dst_type, (size_t)at),
                    (size_t)at < n * o->src_mult ? kc_value(src[0], o->src_type, (size_t)at)
                                                 : 0.0);
            return 0;
        }
    }
    if (kc_ret != want) {
        kc_fail(t, "%s %s: n=%zu off=%ld alias=%d: returned %llu, scalar %llu", k->name, o->name,
                n, off, alias, (unsigned long long)kc_ret, (unsigned long long)want);
        return 0;
    }
    t->passed++;
    return 1;
}

/* parameters for scale, lerp and axpy */
static const float kc_params[] = {0.0f, 1.0f, 0.25f, -0.5f, 0.3f, 3.0f};
#define KC_PARAM_COUNT (sizeof kc_params / sizeof kc_params[0])

/* every length 0..257 with every buffer ending at a guard page, each aliasing the op allows */
static inline void kc_check_lengths(kc_tally *t, kc_bench *b, const hdm__kernel *k, const kc_op *o)
{
    unsigned np = o->param ? (unsigned)KC_PARAM_COUNT : 1;
    int nalias = o->inplace ? (int)o->nsrc : 0;
    for (size_t n = 0; n <= 257; n++)
        for (unsigned p = 0; p < np; p++)
            for (int al = 0; al <= nalias && al <= 2; al++)
                kc_case(t, b, k, o, n, -1, kc_params[p], al, 1, NULL);
}

/* starts 0..63 bytes into a page (in steps of the sample size), buffers offset differently */
static inline void kc_check_offsets(kc_tally *t, kc_bench *b, const hdm__kernel *k, const kc_op *o)
{
    static const size_t lens[] = {1, 7, 16, 33, 64, 100, 129, 257};
    for (long off = 0; off < 64; off++)
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++)
            kc_case(t, b, k, o, lens[l], off, kc_params[(size_t)off % KC_PARAM_COUNT],
                    o->inplace ? (int)(off % 3 % (o->nsrc + 1)) : 0, 1, NULL);
}

/* mul_u8 / mulinv_u8: all 65,536 pairs, out of place and in place */
static inline void kc_check_u8_pairs(kc_tally *t, kc_bench *b, const hdm__kernel *k, const kc_op *o)
{
    static uint8_t a[65536], bb[65536];
    for (size_t i = 0; i < 65536; i++) {
        a[i] = (uint8_t)i;
        bb[i] = (uint8_t)(i >> 8);
    }
    const void *given[2] = {a, bb};
    for (int al = 0; al <= 2; al++)
        kc_case(t, b, k, o, 65536, -1, 0.0f, al, 0, given);
}

/* mul_u16 / mulinv_u16: every pair of edge values, every a against each edge b and the reverse,
 * and 2^20 seeded random pairs */
static inline void kc_check_u16_pairs(kc_tally *t, kc_bench *b, const hdm__kernel *k, const kc_op *o)
{
    static uint16_t a[1 << 20], bb[1 << 20];
    const void *given[2] = {a, bb};
    size_t n = 0;
    for (unsigned i = 0; i < 6; i++)
        for (unsigned j = 0; j < 6; j++) {
            a[n] = kc_u16_edges[i];
            bb[n++] = kc_u16_edges[j];
        }
    kc_case(t, b, k, o, n, -1, 0.0f, 0, 0, given);
    for (unsigned e = 0; e < 6; e++) {
        for (size_t i = 0; i < 65536; i++) {
            a[i] = (uint16_t)i;
            bb[i] = kc_u16_edges[e];
            a[65536 + i] = kc_u16_edges[e];
            bb[65536 + i] = (uint16_t)i;
        }
        kc_case(t, b, k, o, 131072, -1, 0.0f, (int)(e % 3), 0, given);
    }
    kc_seed(0x16u);
    for (size_t i = 0; i < (1u << 20); i++) {
        uint64_t r = kc_rand();
        a[i] = (uint16_t)r;
        bb[i] = (uint16_t)(r >> 16);
    }
    kc_case(t, b, k, o, 1u << 20, -1, 0.0f, 0, 0, given);
}

/* unary conversions: every u8 / u16 input; f32 inputs from a stride through all 2^32 bit
 * patterns plus a few ulps either side of every rounding boundary (j + 0.5)/m */
static inline void kc_check_convert_all(kc_tally *t, kc_bench *b, const hdm__kernel *k, const kc_op *o)
{
    static unsigned char in[1 << 23];
    const void *given[1] = {in};
    size_t n = 0;
    if (o->src_type == KC_U8) {
        for (n = 0; n < 256; n++)
            in[n] = (uint8_t)n;
    } else if (o->src_type == KC_U16) {
        for (n = 0; n < 65536; n++)
            ((uint16_t *)in)[n] = (uint16_t)n;
    } else {
        float *f = (float *)in;
        for (uint64_t u = 0; u < (1ull << 32); u += 4099)
            f[n++] = kc_bits_f((uint32_t)u);
        float m = o->dst_type == KC_U8 ? 255.0f : 65535.0f;
        for (uint32_t j = 0; j <= (uint32_t)m; j++) {
            float c = ((float)j + 0.5f) / m;
            for (int d = -3; d <= 3; d++)
                f[n++] = kc_bits_f((uint32_t)((int32_t)kc_f_bits(c) + d));
        }
        for (unsigned s = 0; s < KC_SPECIAL_F_COUNT; s++)
            f[n++] = kc_special_f(s);
    }
    kc_case(t, b, k, o, n, -1, 0.0f, 0, 0, given);
}

/* f32 element-wise ops: every combination of the special values over the first three sources
 * (and the fourth, for mix and the blend modes given complements), for every parameter */
static inline void kc_check_f32_specials(kc_tally *t, kc_bench *b, const hdm__kernel *k, const kc_op *o)
{
    enum { C = KC_SPECIAL_F_COUNT };
    static float s0[C * C * C * C], s1[C * C * C * C], s2[C * C * C * C], s3[C * C * C * C];
    const void *given[4] = {s0, s1, s2, s3};
    size_t n = 0;
    for (unsigned h = 0; h < (o->nsrc > 3 ? C : 1u); h++)
        for (unsigned i = 0; i < C; i++)
            for (unsigned j = 0; j < C; j++)
                for (unsigned l = 0; l < C; l++) {
                    s0[n] = kc_special_f(i);
                    s1[n] = kc_special_f(j);
                    s2[n] = kc_special_f(l);
                    s3[n++] = kc_special_f(h);
                }
    for (unsigned p = 0; p < (o->param ? KC_SPECIAL_F_COUNT : 1u); p++)
        kc_case(t, b, k, o, n, -1, kc_special_f(p), 0, 0, given);
}

/* PNG filters: byte i of pattern pat — flat, saturated, alternating, straddling the ±128 of the
 * sum's |int8|, a ramp, random */
static inline uint8_t kc_png_pattern(unsigned pat, size_t i)
{
    switch (pat) {
    case 0: return 0;
    case 1: return 255;
    case 2: return i & 1 ? 255 : 0;
    case 3: return i & 1 ? 0x80 : 0x7f;
    case 4: return (uint8_t)(i * 37);
    default: return kc_rand_u8();
    }
}
#define KC_PNG_PATTERNS 6u

/* Every pattern of row against every pattern of prev, the buffers at the start and at the end of
 * their slots (a read before row or prev, or past n, faults); long random rows; and for bpp 1
 * Average's and Paeth's predictors for every (a, b, c), laid out in pixel pairs: the first pixel
 * holds a (row) over c (prev), the second x (row, random) over b (prev). */
static inline void kc_check_png(kc_tally *t, kc_bench *b, const hdm__kernel *k, const kc_op *o)
{
    static uint8_t row[1 << 17], prev[1 << 17];
    const void *given[2] = {row, prev};
    static const size_t lens[] = {1, 2, 8, 9, 17, 33, 64, 71, 130, 257, 4096 + 13};
    for (unsigned pr = 0; pr < KC_PNG_PATTERNS; pr++)
        for (unsigned pp = 0; pp < KC_PNG_PATTERNS; pp++)
            for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
                for (size_t i = 0; i < lens[l]; i++) {
                    row[i] = kc_png_pattern(pr, i);
                    prev[i] = kc_png_pattern(pp, i + 1);
                }
                kc_case(t, b, k, o, lens[l], KC_END, 0.0f, 0, 0, given);
                kc_case(t, b, k, o, lens[l], KC_START, 0.0f, 0, 0, given);
            }
    static const size_t big[] = {65536 + 7, sizeof row - 1, sizeof row};
    for (size_t l = 0; l < sizeof big / sizeof big[0]; l++) {
        kc_fill(row, KC_U8, big[l]);
        kc_fill(prev, KC_U8, big[l]);
        kc_case(t, b, k, o, big[l], KC_END, 0.0f, 0, 0, given);
        kc_case(t, b, k, o, big[l], KC_START, 0.0f, 0, 0, given);
    }
    if (o->bpp != 1 || (strncmp(o->name, "png_avg", 7) && strncmp(o->name, "png_paeth", 9)))
        return;
    const size_t n = 1 << 14;
    for (uint32_t abc = 0; abc < (1u << 24); abc += n / 2) {
        for (size_t j = 0; j < n / 2; j++) {
            uint32_t u = abc + (uint32_t)j;
            row[2 * j] = (uint8_t)(u >> 16);
            prev[2 * j] = (uint8_t)u;
            prev[2 * j + 1] = (uint8_t)(u >> 8);
            row[2 * j + 1] = kc_rand_u8();
        }
        kc_case(t, b, k, o, n, KC_END, 0.0f, 0, 0, given);
    }
}

/* thresholds at every boundary: u8, every t against every sample; u16, every sample against
 * t = 0, 1, M and either side of the byte and sign edges, and seeded random t; f32, t over the
 * special values and random ones, against the specials, t itself, ±1..3 ulps around it and −t.
 * Out of place and in place. */
static inline void kc_check_threshold(kc_tally *t, kc_bench *b, const hdm__kernel *k, const kc_op *o)
{
    static unsigned char in[65536 * sizeof(uint16_t)];
    const void *given[1] = {in};
    if (o->src_type == KC_U8) {
        for (size_t i = 0; i < 256; i++)
            in[i] = (uint8_t)i;
        for (unsigned th = 0; th < 256; th++)
            for (int al = 0; al <= 1; al++)
                kc_case(t, b, k, o, 256, KC_END, kc_thr_param(th, 255), al, 0, given);
    } else if (o->src_type == KC_U16) {
        static const uint16_t ts[] = {0, 1, 2, 127, 128, 255, 256, 257, 32767, 32768, 32769,
                                      65279, 65534, 65535};
        uint16_t *x = (uint16_t *)in;
        for (size_t i = 0; i < 65536; i++)
            x[i] = (uint16_t)i;
        for (unsigned j = 0; j < sizeof ts / sizeof ts[0] + 16; j++) {
            unsigned th = j < sizeof ts / sizeof ts[0] ? ts[j] : (uint16_t)kc_rand();
            kc_case(t, b, k, o, 65536, KC_END, kc_thr_param(th, 65535), (int)(j & 1), 0, given);
        }
    } else {
        float *x = (float *)in;
        for (unsigned j = 0; j < KC_SPECIAL_F_COUNT + 32; j++) {
            float th = j < KC_SPECIAL_F_COUNT ? kc_special_f(j) : kc_rand_f();
            size_t n = 0;
            for (unsigned s = 0; s < KC_SPECIAL_F_COUNT; s++)
                x[n++] = kc_special_f(s);
            for (int d = -3; d <= 3; d++)
                x[n++] = kc_bits_f(kc_f_bits(th) + (uint32_t)d);
            x[n++] = nextafterf(th, INFINITY);
            x[n++] = nextafterf(th, -INFINITY);
            x[n++] = -th;
            for (int al = 0; al <= 1; al++)
                kc_case(t, b, k, o, n, KC_END, th, al, 0, given);
        }
    }
}

/* Everything for one op on one variant. The op decides which exhaustive sweep applies. */
static inline void kc_check_op(kc_tally *t, kc_bench *b, const hdm__kernel *k, const kc_op *o)
{
    kc_seed(0x5eedu ^ (uint64_t)strlen(o->name));
    kc_check_lengths(t, b, k, o);
    kc_check_offsets(t, b, k, o);
    if (o->bpp)
        kc_check_png(t, b, k, o);
    else if (!strcmp(o->name, "mul_u8") || !strcmp(o->name, "mulinv_u8"))
        kc_check_u8_pairs(t, b, k, o);
    else if (!strcmp(o->name, "mul_u16") || !strcmp(o->name, "mulinv_u16"))
        kc_check_u16_pairs(t, b, k, o);
    else if (!strncmp(o->name, "threshold_", 10) && o->src_type != KC_F32)
        kc_check_threshold(t, b, k, o);
    else if (o->ndst == 1 && o->nsrc == 1 && o->src_type != o->dst_type)
        kc_check_convert_all(t, b, k, o);
    else if (o->src_type == KC_F32 && o->dst_type == KC_F32 && !kc_moves_bits(o->name))
        kc_check_f32_specials(t, b, k, o);
    if (!strcmp(o->name, "threshold_f32"))
        kc_check_threshold(t, b, k, o);
}

/* ---- which variants must be checked ----------------------------------------------------- */

/* The kernel architecture the build compiled variants for: "x86", "arm64", or "none" (configured
 * with -DHADAMARD_ENABLE_SIMD=OFF, or a CPU with no SIMD variant). The CMake build passes it;
 * the cross build in .ci/kernel-neon.sh compiles NEON in, which the compiler's macros tell. */
#ifndef HDM_KERNEL_ARCH
#if defined(__x86_64__) || defined(__i386__)
#define HDM_KERNEL_ARCH "x86"
#elif defined(__aarch64__)
#define HDM_KERNEL_ARCH "arm64"
#else
#define HDM_KERNEL_ARCH "none"
#endif
#endif

/* Whether this CPU (and OS) runs variant `name`, found independently of dispatch.c through the
 * compiler's own CPU detection (which also checks that the OS saves the vector registers): a
 * dispatch that wrongly turned a variant down would otherwise leave it unchecked, and the
 * checks would pass having compared nothing. */
static inline int kc_cpu_runs(const char *name)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (!strcmp(name, "sse2"))
        return __builtin_cpu_supports("sse2");
    if (!strcmp(name, "avx2"))
        return __builtin_cpu_supports("avx2");
    if (!strcmp(name, "avx512"))
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl");
#elif defined(__aarch64__)
    if (!strcmp(name, "neon"))
        return 1; /* Advanced SIMD is part of AArch64 */
#endif
    return !strcmp(name, "scalar");
}

/* The variant every CPU of the build's architecture runs, which must therefore be checked:
 * every x86-64 has SSE2, every AArch64 NEON. NULL when the build has no SIMD variant. */
static inline const char *kc_baseline_variant(void)
{
    if (!strcmp(HDM_KERNEL_ARCH, "arm64"))
        return "neon";
#if defined(__x86_64__)
    if (!strcmp(HDM_KERNEL_ARCH, "x86"))
        return "sse2";
#else
    if (!strcmp(HDM_KERNEL_ARCH, "x86") && kc_cpu_runs("sse2"))
        return "sse2";
#endif
    return NULL;
}

/* the largest slot any check needs: the f32 conversion sweep, about 6 MB */
#define KC_BENCH_CAP ((size_t)1 << 23)

#endif
