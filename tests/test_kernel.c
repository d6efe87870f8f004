/* SPDX-License-Identifier: MIT */
/* test_kernel.c — every kernel variant against the scalar reference, and the reference against exact maths */
#include "kernel_checks.h"
#include "hadamard.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>

/* ---- variants against scalar ------------------------------------------------------------- */

/* One test per primitive (and per channel count for the layout changes). Each runs every variant
 * this CPU supports through kernel_checks.h: lengths 0..257 ending at a guard page, starts 0..63
 * bytes into a page, in-place calls, and the op's exhaustive sweep. A variant the CPU runs but
 * dispatch turns down, or no variant checked at all where the architecture guarantees one (SSE2
 * on x86-64, NEON on AArch64), fails: the test must not pass having compared nothing. Only a
 * build with no SIMD variant at all skips (README, "When a test may skip"). */
ParameterizedTestParameters(variants, match_scalar)
{
    static size_t idx[KC_OP_COUNT];
    for (size_t i = 0; i < KC_OP_COUNT; i++)
        idx[i] = i;
    return cr_make_param_array(size_t, idx, KC_OP_COUNT);
}

ParameterizedTest(size_t *idx, variants, match_scalar, .timeout = 120)
{
    const kc_op *o = &kc_ops[*idx];
    const char *base = kc_baseline_variant();
    int ran = 0, base_ran = 0;
    if (!base) {
        for (size_t v = 0; hdm__kernel_names(v); v++)
            cr_assert_str_eq(hdm__kernel_names(v), "scalar",
                             "built for no SIMD architecture (%s), yet it has variant %s",
                             HDM_KERNEL_ARCH, hdm__kernel_names(v));
        cr_skip_test("%s: this build has no SIMD variant (kernel architecture %s): nothing to "
                     "compare", o->name, HDM_KERNEL_ARCH);
    }
    kc_bench b;
    cr_assert_eq(kc_bench_init(&b, KC_BENCH_CAP), 0, "cannot map guarded buffers");
    for (size_t v = 0; hdm__kernel_names(v); v++) {
        const char *name = hdm__kernel_names(v);
        if (!strcmp(name, "scalar"))
            continue;
        const hdm__kernel *k = hdm__kernel_get(name);
        int cpu = kc_cpu_runs(name);
        cr_expect(k || !cpu, "%s: this CPU runs %s but dispatch turns it down, so it goes unchecked",
                  o->name, name);
        cr_expect(!k || cpu, "%s: dispatch offers %s, which this CPU does not run", o->name, name);
        if (!k || !cpu)
            continue;
        kc_tally t = {0};
        kc_check_op(&t, &b, k, o);
        ran++;
        base_ran |= !strcmp(name, base);
        cr_expect_eq(t.failed, 0, "%s: %ld of %ld cases differ; first: %s", o->name, t.failed,
                     t.failed + t.passed, t.first);
        cr_expect_gt(t.passed, 0, "%s on %s ran no case", o->name, k->name);
    }
    kc_bench_free(&b);
    cr_expect(base_ran, "%s: %s, which every %s CPU runs, was not checked", o->name, base,
              HDM_KERNEL_ARCH);
    cr_assert_gt(ran, 0, "%s: no SIMD variant was checked against scalar", o->name);
}

/* The harness itself must see a wrong answer and an overrun: a variant that is off by one in one
 * sample of a 3-sample row is caught, and the guard page is really there. */
static void off_by_one_mul_u8(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n)
{
    hdm__kernel_scalar.mul_u8(dst, a, b, n);
    if (n == 3)
        dst[2] ^= 1;
}

Test(variants, harness_catches_a_wrong_sample)
{
    hdm__kernel bad = hdm__kernel_scalar;
    bad.name = "bad";
    bad.mul_u8 = off_by_one_mul_u8;
    kc_bench b;
    cr_assert_eq(kc_bench_init(&b, 1 << 16), 0);
    kc_tally t = {0};
    kc_check_lengths(&t, &b, &bad, kc_find_op("mul_u8"));
    cr_expect_gt(t.failed, 0);
    cr_expect(strstr(t.first, "n=3") != NULL, "%s", t.first);
    kc_bench_free(&b);
}

/* and a layout change that quietens a signalling NaN (sets its quiet bit, as an FPU load would),
 * which a value comparison would let through */
static void quieting_deinterleave_f32(float *const *plane, const float *src, unsigned ch,
                                      size_t n)
{
    hdm__kernel_scalar.deinterleave_f32(plane, src, ch, n);
    for (unsigned c = 0; c < ch; c++)
        for (size_t i = 0; i < n; i++) {
            uint32_t u = kc_f_bits(plane[c][i]);
            if ((u & 0x7f800000) == 0x7f800000 && (u & 0x007fffff))
                u |= 0x00400000;
            float f = kc_bits_f(u);
            memcpy(&plane[c][i], &f, sizeof f);
        }
}

Test(variants, harness_catches_a_quietened_nan)
{
    hdm__kernel bad = hdm__kernel_scalar;
    bad.name = "bad";
    bad.deinterleave_f32 = quieting_deinterleave_f32;
    kc_bench b;
    cr_assert_eq(kc_bench_init(&b, 1 << 16), 0);
    kc_tally t = {0};
    kc_check_lengths(&t, &b, &bad, kc_find_op("deinterleave_f32/3"));
    cr_expect_gt(t.failed, 0, "a signalling NaN quietened in a layout change went unnoticed");
    kc_bench_free(&b);
}

/* The handler exits with a code of its own (rather than the test expecting SIGSEGV) so the
 * check also holds under AddressSanitizer, which would otherwise take the signal itself. */
static void exit_on_segv(int sig)
{
    (void)sig;
    _exit(42);
}

Test(variants, guard_page_faults, .exit_code = 42)
{
    kc_buf g = {0};
    cr_assert_eq(kc_buf_init(&g, 100), 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = exit_on_segv;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    volatile unsigned char *end = kc_at_end(&g, 100);
    end[100] = 1; /* one past the last usable byte */
    cr_assert_fail("wrote past the guard page without a fault");
}

Test(variants, guard_page_before_faults, .exit_code = 42)
{
    kc_buf g = {0};
    cr_assert_eq(kc_buf_init(&g, 100), 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = exit_on_segv;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    volatile unsigned char *start = kc_at(&g, 0);
    (void)start[-1]; /* one before the first usable byte */
    cr_assert_fail("read before the slot without a fault");
}

/* ---- the scalar reference against exact integer maths ------------------------------------ */

/* round(t/M) for odd M, computed by exact integer division: floor((2t + M) / 2M) */
static uint32_t exact_round(uint64_t t, uint64_t m) { return (uint32_t)((2 * t + m) / (2 * m)); }

Test(scalar, div255_every_product)
{
    for (uint32_t t = 0; t <= 255u * 255u; t++)
        cr_assert_eq(hdm__div255(t), exact_round(t, 255), "t=%u", t);
}

Test(scalar, mul_u8_every_pair)
{
    static uint8_t a[65536], b[65536], mul[65536], inv[65536];
    for (size_t i = 0; i < 65536; i++) {
        a[i] = (uint8_t)i;
        b[i] = (uint8_t)(i >> 8);
    }
    hdm__kernel_scalar.mul_u8(mul, a, b, 65536);
    hdm__kernel_scalar.mulinv_u8(inv, a, b, 65536);
    for (size_t i = 0; i < 65536; i++) {
        cr_assert_eq(mul[i], exact_round((uint64_t)a[i] * b[i], 255), "%u·%u", a[i], b[i]);
        cr_assert_eq(inv[i], exact_round((uint64_t)a[i] * (255u - b[i]), 255), "%u·~%u", a[i],
                     b[i]);
    }
}

/* hdm__div65535 equals round(t/65535) for every t in [0, 65535²], proved rather than swept over
 * 4.3·10⁹ values: with u = t + 32768, f(t) = (u + (u >> 16)) >> 16 is non-decreasing in t (both
 * terms are, and nothing overflows: u + (u >> 16) < 2³²). round(t/65535) is the step function
 * that becomes k at t_k = 65535k − 32767. So f equals it everywhere iff f(0) = 0 and, for every
 * k in 1..65535, f(t_k − 1) = k − 1 and f(t_k) = k: each of f's steps sits exactly where round's
 * does and f cannot step anywhere else. The non-overflow bound is checked too, and every t
 * within 64 of each step is compared directly as a belt to those braces. */
Test(scalar, div65535_equals_exact_rounding_everywhere)
{
    const uint64_t top = 65535ull * 65535ull;
    cr_assert_lt(top + 32768 + ((top + 32768) >> 16), 1ull << 32);
    cr_assert_eq(hdm__div65535(0), 0);
    cr_assert_eq(hdm__div65535((uint32_t)top), 65535);
    for (uint32_t k = 1; k <= 65535; k++) {
        uint64_t tk = 65535ull * k - 32767;
        cr_assert_eq(hdm__div65535((uint32_t)(tk - 1)), k - 1, "below step %u", k);
        cr_assert_eq(hdm__div65535((uint32_t)tk), k, "at step %u", k);
        for (uint64_t t = tk - 64; t <= tk + 64 && t <= top; t++)
            cr_assert_eq(hdm__div65535((uint32_t)t), exact_round(t, 65535), "t=%llu",
                         (unsigned long long)t);
    }
}

/* and through the primitives: every a against a set of b (the edges and seeded random values),
 * both ways round, for mul_u16 and mulinv_u16 */
Test(scalar, mul_u16_every_a_against_a_set_of_b)
{
    static uint16_t a[65536], b[65536], mul[65536], inv[65536];
    uint16_t bs[6 + 26];
    memcpy(bs, kc_u16_edges, sizeof kc_u16_edges);
    kc_seed(0xb16u);
    for (size_t j = 6; j < sizeof bs / sizeof bs[0]; j++)
        bs[j] = (uint16_t)kc_rand();
    for (size_t j = 0; j < sizeof bs / sizeof bs[0]; j++) {
        for (size_t i = 0; i < 65536; i++) {
            a[i] = (uint16_t)i;
            b[i] = bs[j];
        }
        for (int swap = 0; swap < 2; swap++) {
            const uint16_t *x = swap ? b : a, *y = swap ? a : b;
            hdm__kernel_scalar.mul_u16(mul, x, y, 65536);
            hdm__kernel_scalar.mulinv_u16(inv, x, y, 65536);
            for (size_t i = 0; i < 65536; i++) {
                cr_assert_eq(mul[i], exact_round((uint64_t)x[i] * y[i], 65535), "%u·%u", x[i],
                             y[i]);
                cr_assert_eq(inv[i], exact_round((uint64_t)x[i] * (65535u - y[i]), 65535),
                             "%u·~%u", x[i], y[i]);
            }
        }
    }
}

Test(scalar, depth_changes_every_value)
{
    static uint16_t wide[65536], up[256];
    static uint8_t narrow[65536], small[256];
    for (size_t i = 0; i < 65536; i++)
        wide[i] = (uint16_t)i;
    for (size_t i = 0; i < 256; i++)
        small[i] = (uint8_t)i;
    hdm__kernel_scalar.u16_to_u8(narrow, wide, 65536);
    hdm__kernel_scalar.u8_to_u16(up, small, 256);
    for (size_t i = 0; i < 65536; i++)
        cr_assert_eq(narrow[i], exact_round(i, 257), "x=%zu", i);
    for (size_t i = 0; i < 256; i++)
        cr_assert_eq(up[i], i * 257);
}

/* int → f32 is one correctly rounded division: the f64 quotient rounded to f32 must agree (the
 * double rounding could only differ for a quotient within 2⁻⁵³ relative of an f32 midpoint,
 * which x/255 and x/65535 for these x never are — and this test would say so). */
Test(scalar, int_to_f32_against_f64)
{
    static uint16_t wide[65536];
    static uint8_t small[256];
    static float f[65536];
    for (size_t i = 0; i < 65536; i++)
        wide[i] = (uint16_t)i;
    for (size_t i = 0; i < 256; i++)
        small[i] = (uint8_t)i;
    hdm__kernel_scalar.u16_to_f32(f, wide, 65536);
    for (size_t i = 0; i < 65536; i++)
        cr_assert_eq(kc_f_bits(f[i]), kc_f_bits((float)((double)i / 65535.0)), "x=%zu", i);
    hdm__kernel_scalar.u8_to_f32(f, small, 256);
    for (size_t i = 0; i < 256; i++)
        cr_assert_eq(kc_f_bits(f[i]), kc_f_bits((float)((double)i / 255.0)), "x=%zu", i);
}

/* f32 → int: j/m comes back as j for every j; any input lands within 1 of the f64
 * round-half-up-and-clamp of x·m (the DESIGN's 1 LSB), and NaN lands on 0. */
static void f32_to_int_against_f64(unsigned m)
{
    static float in[1 << 20];
    static uint16_t out16[1 << 20];
    static uint8_t out8[1 << 20];
    size_t n = 0;
    for (uint32_t j = 0; j <= m; j++)
        in[n++] = (float)j / (float)m;
    kc_seed(m);
    while (n < (1u << 20))
        in[n++] = kc_rand_f();
    if (m == 255)
        hdm__kernel_scalar.f32_to_u8(out8, in, n);
    else
        hdm__kernel_scalar.f32_to_u16(out16, in, n);
    for (size_t i = 0; i < n; i++) {
        double got = m == 255 ? out8[i] : out16[i];
        double x = in[i], want;
        if (isnan(x))
            want = 0;
        else
            want = fmin(fmax(floor(x * m + 0.5), 0.0), (double)m);
        if (i <= m)
            cr_assert_eq(got, (double)i, "%u/%u", (unsigned)i, m);
        cr_assert_leq(fabs(got - want), 1.0, "x=%.9g: %g, f64 says %g", x, got, want);
    }
}

Test(scalar, f32_to_u8_against_f64) { f32_to_int_against_f64(255); }
Test(scalar, f32_to_u16_against_f64) { f32_to_int_against_f64(65535); }

/* products of two f32 are exact in f64, so a single rounding must match bit for bit */
Test(scalar, mul_f32_against_f64)
{
    static float a[1 << 16], b[1 << 16], d[1 << 16], s[1 << 16];
    kc_seed(0xf32u);
    for (size_t i = 0; i < (1u << 16); i++) {
        a[i] = kc_rand_f();
        b[i] = kc_rand_f();
    }
    hdm__kernel_scalar.mul_f32(d, a, b, 1u << 16);
    hdm__kernel_scalar.scale_f32(s, a, 0.3f, 1u << 16);
    for (size_t i = 0; i < (1u << 16); i++) {
        float want = (float)((double)a[i] * (double)b[i]);
        float want_s = (float)((double)a[i] * (double)0.3f);
        cr_assert(kc_diff(&want, &d[i], KC_F32, 1) < 0, "%a·%a", (double)a[i], (double)b[i]);
        cr_assert(kc_diff(&want_s, &s[i], KC_F32, 1) < 0, "%a·0.3", (double)a[i]);
    }
}

/* The layout changes against their definition, plane[c][i] = src[i·C + c], for every depth and
 * 1..4 channels, and back again to the same bytes. f32 samples are arbitrary bit patterns with
 * signalling and quiet NaNs of both signs and several payloads, -0 and subnormals among them:
 * they must come through bit for bit. */
static const uint32_t layout_nan_bits[] = {0x7f800001, 0xff800001, 0x7fa00000, 0x7fbfffff,
                                           0x7fc00000, 0xffc00001, 0x7fffffff, 0x80000000,
                                           0x00000001};

static void fill_layout(unsigned char *src, unsigned size, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        uint64_t r = kc_rand();
        uint32_t u = (uint32_t)(r >> 32);
        if (size == 4 && (r & 3) == 0)
            u = layout_nan_bits[(r >> 8) % (sizeof layout_nan_bits / sizeof layout_nan_bits[0])];
        memcpy(src + i * size, &u, size); /* the low bytes on a little-endian machine */
    }
}

static void layout_call(unsigned size, void *const *pl, void *inter, unsigned ch, size_t n,
                        int to_planes)
{
    const hdm__kernel *k = &hdm__kernel_scalar;
    const void *const *cpl = (const void *const *)pl;
    if (size == 1 && to_planes)
        k->deinterleave_u8((uint8_t *const *)pl, inter, ch, n);
    else if (size == 1)
        k->interleave_u8(inter, (const uint8_t *const *)cpl, ch, n);
    else if (size == 2 && to_planes)
        k->deinterleave_u16((uint16_t *const *)pl, inter, ch, n);
    else if (size == 2)
        k->interleave_u16(inter, (const uint16_t *const *)cpl, ch, n);
    else if (to_planes)
        k->deinterleave_f32((float *const *)pl, inter, ch, n);
    else
        k->interleave_f32(inter, (const float *const *)cpl, ch, n);
}

Test(scalar, layout_against_definition)
{
    enum { N = 1031 };
    static unsigned char src[4 * N * 4], back[4 * N * 4 + 1], planes[4][N * 4];
    kc_seed(0x1a7u);
    for (unsigned size = 1; size <= 4; size *= 2)
        for (unsigned ch = 1; ch <= 4; ch++) {
            fill_layout(src, size, (size_t)N * ch);
            memset(planes, 0xa5, sizeof planes);
            memset(back, 0x5a, sizeof back);
            void *pl[4] = {planes[0], planes[1], planes[2], planes[3]};
            layout_call(size, pl, src, ch, N, 1);
            for (size_t i = 0; i < N; i++)
                for (unsigned c = 0; c < ch; c++)
                    cr_assert_eq(memcmp(planes[c] + i * size, src + (i * ch + c) * size, size), 0,
                                 "size %u, %u channels: sample %zu of plane %u", size, ch, i, c);
            for (unsigned c = ch; c < 4; c++)
                for (size_t i = 0; i < sizeof planes[c]; i++)
                    cr_assert_eq(planes[c][i], 0xa5, "plane %u past the channels written", c);
            layout_call(size, pl, back, ch, N, 0);
            cr_assert_eq(memcmp(back, src, (size_t)N * ch * size), 0,
                         "size %u, %u channels: interleaving the planes back differs", size, ch);
            cr_assert_eq(back[(size_t)N * ch * size], 0x5a, "wrote past the interleaved row");
        }
}

/* ---- dispatch ----------------------------------------------------------------------------- */

Test(dispatch, names_and_lookup)
{
    int has_scalar = 0;
    size_t i = 0;
    for (; hdm__kernel_names(i); i++) {
        const char *name = hdm__kernel_names(i);
        has_scalar |= strcmp(name, "scalar") == 0;
        const hdm__kernel *k = hdm__kernel_get(name);
        if (k)
            cr_expect_str_eq(k->name, name);
    }
    cr_expect(has_scalar);
    cr_expect_eq(hdm__kernel_get("scalar"), &hdm__kernel_scalar);
    cr_expect_null(hdm__kernel_get("nonesuch"));
    cr_expect_null(hdm__kernel_get(""));
#if !defined(__aarch64__)
    cr_expect_null(hdm__kernel_get("neon"));
#endif
#if !defined(__x86_64__) && !defined(__i386__)
    cr_expect_null(hdm__kernel_get("avx2"));
#endif
}

/* Criterion runs each test in its own process, so HADAMARD_CPU set here is read by the first
 * hdm__kern() of that process. */
Test(dispatch, default_is_the_best_supported)
{
    unsetenv("HADAMARD_CPU");
    const hdm__kernel *best = NULL;
    for (size_t i = 0; hdm__kernel_names(i) && !best; i++)
        best = hdm__kernel_get(hdm__kernel_names(i));
    cr_assert_not_null(best);
    cr_expect_eq(hdm__kern(), best, "chose %s, best is %s", hdm__kern()->name, best->name);
    cr_expect_str_eq(hdm_kernel_name(), best->name);
}

Test(dispatch, env_forces_a_variant)
{
    const char *pick = "scalar";
    /* the worst supported SIMD variant differs from the default whenever there are two */
    for (size_t i = 0; hdm__kernel_names(i); i++)
        if (hdm__kernel_get(hdm__kernel_names(i)) && strcmp(hdm__kernel_names(i), "scalar"))
            pick = hdm__kernel_names(i);
    setenv("HADAMARD_CPU", pick, 1);
    cr_expect_str_eq(hdm_kernel_name(), pick);
}

Test(dispatch, env_scalar)
{
    setenv("HADAMARD_CPU", "scalar", 1);
    cr_expect_eq(hdm__kern(), &hdm__kernel_scalar);
}

Test(dispatch, env_unknown_falls_back_to_scalar)
{
    setenv("HADAMARD_CPU", "quantum", 1);
    cr_expect_eq(hdm__kern(), &hdm__kernel_scalar);
}

Test(dispatch, public_products_use_the_kernel)
{
    uint8_t a8[3] = {255, 128, 7}, b8[3] = {255, 128, 0}, d8[3];
    uint16_t a16[2] = {65535, 32768}, b16[2] = {65535, 32768}, d16[2];
    float af[2] = {0.5f, -2.0f}, bf[2] = {0.5f, 3.0f}, df[2];
    hdm_mul_u8(d8, a8, b8, 3);
    hdm_mul_u16(d16, a16, b16, 2);
    hdm_mul_f32(df, af, bf, 2);
    cr_expect_eq(d8[0], 255);
    cr_expect_eq(d8[1], 64); /* 16384/255 = 64.25 */
    cr_expect_eq(d8[2], 0);
    cr_expect_eq(d16[0], 65535);
    cr_expect_eq(d16[1], 16384); /* 2^30/65535 = 16384.25 */
    cr_expect_eq(df[0], 0.25f);
    cr_expect_eq(df[1], -6.0f);
}

/* ---- png_filter against the PNG specification ---------------------------------------------- */

/* Written from the PNG specification (third edition), section 9.2 table 9.1 and 9.4, apart from
 * scalar.c: x the byte, a the byte bpp to its left, b above, c above a; a and c are 0 in the
 * first pixel. Average is floor((a + b) / 2) by division; Paeth takes, of a, b, c in that order,
 * the first nearest to p = a + b − c. */
static unsigned spec_predictor(unsigned type, int a, int b, int c)
{
    switch (type) {
    case 0: return 0;
    case 1: return (unsigned)a;
    case 2: return (unsigned)b;
    case 3: return (unsigned)((a + b) / 2);
    default: {
        int p = a + b - c, cand[3] = {a, b, c}, best = a;
        for (int j = 1; j < 3; j++)
            if (abs(p - cand[j]) < abs(p - best))
                best = cand[j];
        return (unsigned)best;
    }
    }
}

static uint64_t spec_filter(uint8_t *out, const uint8_t *row, const uint8_t *prev, size_t n,
                            unsigned bpp, unsigned type)
{
    uint64_t sum = 0;
    for (size_t x = 0; x < n; x++) {
        int a = x >= bpp ? row[x - bpp] : 0, b = prev[x], c = x >= bpp ? prev[x - bpp] : 0;
        out[x] = (uint8_t)((row[x] + 256 - spec_predictor(type, a, b, c)) % 256);
        sum += out[x] < 128 ? out[x] : 256u - out[x]; /* |out| read as a signed byte */
    }
    return sum;
}

/* 9.2's reconstruction, Recon(x) = Filt(x) + predictor of the reconstructed neighbours */
static void spec_unfilter(uint8_t *row, const uint8_t *filt, const uint8_t *prev, size_t n,
                          unsigned bpp, unsigned type)
{
    for (size_t x = 0; x < n; x++) {
        int a = x >= bpp ? row[x - bpp] : 0, b = prev[x], c = x >= bpp ? prev[x - bpp] : 0;
        row[x] = (uint8_t)((filt[x] + spec_predictor(type, a, b, c)) % 256);
    }
}

Test(scalar, png_paeth_worked_examples)
{
    /* {a, b, c, predictor}: ties go to a, then b ({0, 6, 2}: pb = pc < pa; {6, 0, 2}: pa = pc) */
    static const uint8_t cases[][4] = {
        {5, 5, 5, 5},       {3, 1, 2, 2},     {1, 3, 2, 2},     {2, 4, 1, 4},
        {4, 2, 1, 4},       {0, 255, 0, 255}, {255, 0, 0, 255}, {0, 0, 255, 0},
        {10, 20, 15, 15},   {20, 10, 10, 20}, {10, 20, 10, 20}, {7, 7, 9, 7},
        {200, 100, 150, 150}, {0, 6, 2, 6},   {6, 0, 2, 6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint8_t *e = cases[i];
        uint8_t row[2] = {e[0], 0}, prev[2] = {e[2], e[1]}, out[2];
        hdm__kernel_scalar.png_filter(out, row, prev, 2, 1, 4);
        cr_expect_eq((uint8_t)(0 - out[1]), e[3], "a=%u b=%u c=%u: %u, want %u", e[0], e[1],
                     e[2], (uint8_t)(0 - out[1]), e[3]);
        cr_expect_eq(spec_predictor(4, e[0], e[1], e[2]), e[3], "spec a=%u b=%u c=%u", e[0],
                     e[1], e[2]);
    }
}

/* Average and Paeth for every (a, b, c), with x = 0 and x = a + b + c: the pixel after the
 * first, row {a, x}, prev {c, b} */
Test(scalar, png_predictors_every_abc)
{
    for (unsigned type = 3; type <= 4; type++)
        for (uint32_t u = 0; u < (1u << 24); u++) {
            uint8_t a = (uint8_t)(u >> 16), b = (uint8_t)(u >> 8), c = (uint8_t)u;
            uint8_t row[2] = {a, (uint8_t)(u & 1 ? a + b + c : 0)}, prev[2] = {c, b};
            uint8_t got[2], want[2];
            uint64_t gs = hdm__kernel_scalar.png_filter(got, row, prev, 2, 1, type);
            uint64_t ws = spec_filter(want, row, prev, 2, 1, type);
            if (got[1] != want[1] || gs != ws)
                cr_assert_fail("type %u a=%u b=%u c=%u x=%u: %u (sum %llu), spec %u (sum %llu)",
                               type, a, b, c, row[1], got[1], (unsigned long long)gs, want[1],
                               (unsigned long long)ws);
        }
}

/* every type and bpp, lengths 0..257 and a long row, random and patterned rows: the filtered
 * bytes and the sum equal the spec's, and the spec's reconstruction gives the row back */
Test(scalar, png_filter_against_spec)
{
    static const unsigned bpps[] = {1, 2, 3, 4, 6, 8};
    static uint8_t row[4096 + 13], prev[sizeof row], got[sizeof row], want[sizeof row],
        back[sizeof row];
    kc_seed(0x9e6u);
    for (unsigned pat = 0; pat <= KC_PNG_PATTERNS; pat++)
        for (size_t n = 0; n <= sizeof row; n = n == 257 ? sizeof row : n + 1) {
            for (size_t i = 0; i < n; i++) {
                row[i] = pat < KC_PNG_PATTERNS ? kc_png_pattern(pat, i) : kc_rand_u8();
                prev[i] = kc_png_pattern((pat + 3) % KC_PNG_PATTERNS, i + 1);
            }
            for (size_t bi = 0; bi < sizeof bpps / sizeof bpps[0]; bi++)
                for (unsigned type = 0; type < 5; type++) {
                    uint64_t gs = hdm__kernel_scalar.png_filter(got, row, prev, n, bpps[bi], type);
                    uint64_t ws = spec_filter(want, row, prev, n, bpps[bi], type);
                    cr_assert_eq(gs, ws, "type %u bpp %u n=%zu pattern %u: sum %llu, spec %llu",
                                 type, bpps[bi], n, pat, (unsigned long long)gs,
                                 (unsigned long long)ws);
                    cr_assert(memcmp(got, want, n) == 0, "type %u bpp %u n=%zu pattern %u",
                              type, bpps[bi], n, pat);
                    spec_unfilter(back, got, prev, n, bpps[bi], type);
                    cr_assert(memcmp(back, row, n) == 0, "round trip: type %u bpp %u n=%zu",
                              type, bpps[bi], n);
                }
        }
}

/* the sum reads each byte as a signed one: 0x80 counts 128, 0xff counts 1 */
Test(scalar, png_sum_of_signed_bytes)
{
    uint8_t row[4] = {0x80, 0xff, 0x7f, 0x01}, prev[4] = {0}, out[4];
    cr_expect_eq(hdm__kernel_scalar.png_filter(out, row, prev, 4, 1, 0), 128u + 1 + 127 + 1);
}
