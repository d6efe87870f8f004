/* SPDX-License-Identifier: MIT */
/* kernel_neon_check.c — every kernel variant this CPU runs against the scalar reference, no Criterion */

/* Self-contained so it can be cross-built statically for aarch64 and run under qemu
 * (.ci/kernel-neon.sh), where Criterion is not available; the native build runs it as a test
 * too. Usage: kernel_neon_check [VARIANT...] (default: every variant except scalar).
 * Prints "N passed, N failed" and exits non-zero on any mismatch, on a named variant that cannot
 * be checked, on a variant this CPU runs that dispatch turns down, and when the variant every CPU
 * of the build's architecture runs (SSE2, NEON) was not checked. A build with no SIMD variant
 * says so and exits 0 (README, "When a test may skip"). */
#include "kernel_checks.h"

int main(int argc, char **argv)
{
    const char *base = kc_baseline_variant();
    if (!base && argc < 2) {
        printf("this build has no SIMD variant (kernel architecture %s): nothing to compare\n",
               HDM_KERNEL_ARCH);
        return 0;
    }
    kc_bench b;
    if (kc_bench_init(&b, KC_BENCH_CAP) != 0) {
        fprintf(stderr, "kernel_neon_check: cannot map guarded buffers\n");
        return 2;
    }
    long passed = 0, failed = 0;
    int ran = 0, base_ran = 0, unchecked = 0;
    for (int i = 1; i < argc; i++) {
        int known = 0;
        for (size_t v = 0; hdm__kernel_names(v); v++)
            known |= strcmp(argv[i], hdm__kernel_names(v)) == 0;
        if (!known) {
            printf("FAIL %s: no such variant in this build\n", argv[i]);
            unchecked++;
        }
    }
    for (size_t v = 0; hdm__kernel_names(v); v++) {
        const char *name = hdm__kernel_names(v);
        int wanted = argc < 2 ? strcmp(name, "scalar") != 0 : 0;
        for (int i = 1; i < argc; i++)
            wanted |= strcmp(argv[i], name) == 0;
        if (!wanted)
            continue;
        const hdm__kernel *k = hdm__kernel_get(name);
        int cpu = kc_cpu_runs(name);
        if (!k || !cpu) {
            if (k)
                printf("FAIL %-8s dispatch offers it, but this CPU does not run it\n", name);
            else if (cpu)
                printf("FAIL %-8s this CPU runs it, but dispatch turns it down\n", name);
            else if (argc >= 2)
                printf("FAIL %-8s asked for, but this CPU does not run it\n", name);
            else
                printf("%-8s not run by this CPU, not checked\n", name);
            unchecked += k || cpu || argc >= 2;
            continue;
        }
        ran++;
        base_ran |= base && !strcmp(name, base);
        for (size_t o = 0; o < KC_OP_COUNT; o++) {
            kc_tally t = {0};
            kc_check_op(&t, &b, k, &kc_ops[o]);
            passed += t.passed;
            failed += t.failed;
            if (t.failed)
                printf("FAIL %-8s %-20s %ld of %ld cases; first: %s\n", name, kc_ops[o].name,
                       t.failed, t.failed + t.passed, t.first);
        }
        printf("%-8s checked against scalar\n", name);
    }
    kc_bench_free(&b);
    if (argc < 2 && !base_ran) {
        printf("FAIL %s, which every %s CPU runs, was not checked\n", base, HDM_KERNEL_ARCH);
        unchecked++;
    }
    if (!ran) {
        printf("FAIL no SIMD variant was checked against scalar\n");
        unchecked++;
    }
    printf("%ld passed, %ld failed, %d variant problems\n", passed, failed, unchecked);
    return failed || unchecked ? 1 : 0;
}
