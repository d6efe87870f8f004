/* SPDX-License-Identifier: MIT */
/* dispatch.c — choose the kernel variant once, from the CPU and HADAMARD_CPU */
#include "kernel.h"
#include "hadamard.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#if !defined(HDM_NO_SIMD) && (defined(__x86_64__) || defined(__i386__))
#define HDM_X86 1
#include <cpuid.h>
#elif !defined(HDM_NO_SIMD) && defined(__aarch64__)
#define HDM_ARM64 1
#endif

/* CPU features a variant needs, as a bitmask */
enum {
    CPU_SSE2 = 1u << 0,
    CPU_AVX2 = 1u << 1,
    CPU_AVX512 = 1u << 2, /* F + BW + VL, with the OS saving the zmm and mask state */
    CPU_NEON = 1u << 3,
};

/* Variants this build has, best first. */
static const struct variant {
    const hdm__kernel *kernel;
    unsigned needs;
} variants[] = {
#if HDM_X86
    {&hdm__kernel_avx512, CPU_AVX512},
    {&hdm__kernel_avx2, CPU_AVX2},
    {&hdm__kernel_sse2, CPU_SSE2},
#endif
#if HDM_ARM64
    {&hdm__kernel_neon, CPU_NEON},
#endif
    {&hdm__kernel_scalar, 0},
};

#define VARIANT_COUNT (sizeof variants / sizeof variants[0])

#if HDM_X86
/* XCR0, which says what register state the OS saves on a context switch. Written as asm so the
 * file needs no -mxsave. */
static uint64_t xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static unsigned detect(void)
{
    unsigned a, b, c, d, f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    if (d & (1u << 26))
        f |= CPU_SSE2;
    /* AVX state must be enabled by the OS (OSXSAVE, then XCR0 bits 1-2: xmm and ymm). */
    uint64_t xcr = (c & (1u << 27)) ? xcr0() : 0;
    int avx_os = (c & (1u << 28)) && (xcr & 0x6) == 0x6;
    /* AVX-512 additionally needs opmask, upper zmm0-15 and zmm16-31 state (XCR0 bits 5-7). */
    int avx512_os = avx_os && (xcr & 0xe0) == 0xe0;
    if (__get_cpuid_max(0, NULL) < 7)
        return f;
    __cpuid_count(7, 0, a, b, c, d);
    if (avx_os && (b & (1u << 5)))
        f |= CPU_AVX2;
    if (avx512_os && (f & CPU_AVX2) && (b & (1u << 16)) && (b & (1u << 30)) && (b & (1u << 31)))
        f |= CPU_AVX512;
    return f;
}
#elif HDM_ARM64
static unsigned detect(void) { return CPU_NEON; } /* Advanced SIMD is part of AArch64 */
#else
static unsigned detect(void) { return 0; }
#endif

static unsigned cpu_features;
static pthread_once_t features_once = PTHREAD_ONCE_INIT;

static void detect_once(void) { cpu_features = detect(); }

static int cpu_runs(const struct variant *v)
{
    pthread_once(&features_once, detect_once);
    return (cpu_features & v->needs) == v->needs;
}

/* A variant may leave a primitive out (NULL) until it has a SIMD version of it: the tables
 * handed out are copies with every gap filled from the scalar reference, so adding a primitive
 * to scalar.c alone is always safe. Every slot after the name is a function pointer. */
static hdm__kernel completed[VARIANT_COUNT];
static const hdm__kernel *handed[VARIANT_COUNT]; /* the table itself when it has no gap */
static pthread_once_t completed_once = PTHREAD_ONCE_INIT;

static void complete_tables(void)
{
    typedef void (*fn)(void);
    const size_t first = offsetof(hdm__kernel, name) + sizeof(const char *);
    for (size_t i = 0; i < VARIANT_COUNT; i++) {
        completed[i] = *variants[i].kernel;
        unsigned char *dst = (unsigned char *)&completed[i];
        const unsigned char *ref = (const unsigned char *)&hdm__kernel_scalar;
        bool gap = false;
        for (size_t off = first; off + sizeof(fn) <= sizeof(hdm__kernel); off += sizeof(fn)) {
            fn f;
            memcpy(&f, dst + off, sizeof f);
            if (!f) {
                memcpy(dst + off, ref + off, sizeof f);
                gap = true;
            }
        }
        handed[i] = gap ? &completed[i] : variants[i].kernel;
    }
}

const char *hdm__kernel_names(size_t i)
{
    return i < VARIANT_COUNT ? variants[i].kernel->name : NULL;
}

const hdm__kernel *hdm__kernel_get(const char *name)
{
    pthread_once(&completed_once, complete_tables);
    for (size_t i = 0; i < VARIANT_COUNT; i++)
        if (strcmp(variants[i].kernel->name, name) == 0)
            return cpu_runs(&variants[i]) ? handed[i] : NULL;
    return NULL;
}

static const hdm__kernel *chosen;
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

static void choose(void)
{
    const char *want = getenv("HADAMARD_CPU");
    if (want && *want) {
        chosen = hdm__kernel_get(want);
        if (!chosen) {
            /* The library prints nothing; an unusable request falls back to the reference so
             * results stay exact. The CLI checks HADAMARD_CPU itself and refuses it. */
            chosen = &hdm__kernel_scalar;
        }
        return;
    }
    for (size_t i = 0; i < VARIANT_COUNT; i++)
        if (cpu_runs(&variants[i])) {
            chosen = hdm__kernel_get(variants[i].kernel->name);
            return;
        }
    chosen = &hdm__kernel_scalar;
}

const hdm__kernel *hdm__kern(void)
{
    pthread_once(&chosen_once, choose);
    return chosen;
}

const char *hdm_kernel_name(void) { return hdm__kern()->name; }

hdm_status hdm_kernel_available(const char *name)
{
    return name && hdm__kernel_get(name) ? HDM_OK : HDM_ERR_ARG;
}

void hdm_mul_u8(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n)
{
    if (!dst || !a || !b)
        return; /* no status to give: a NULL buffer is a caller's bug, not a crash */
    hdm__kern()->mul_u8(dst, a, b, n);
}

void hdm_mul_u16(uint16_t *dst, const uint16_t *a, const uint16_t *b, size_t n)
{
    if (!dst || !a || !b)
        return; /* no status to give: a NULL buffer is a caller's bug, not a crash */
    hdm__kern()->mul_u16(dst, a, b, n);
}

void hdm_mul_f32(float *dst, const float *a, const float *b, size_t n)
{
    if (!dst || !a || !b)
        return; /* no status to give: a NULL buffer is a caller's bug, not a crash */
    hdm__kern()->mul_f32(dst, a, b, n);
}
