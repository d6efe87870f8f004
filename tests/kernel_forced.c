/* SPDX-License-Identifier: MIT */
/* kernel_forced.c — linked into the op and codec suites that CMake also runs once per kernel
 * variant (HADAMARD_CPU=VARIANT, see hdm_test_variants): before any test, the variant forced
 * must be the one in use, or the whole program fails; one the CPU does not run is a skip that
 * says so (README "When a test may skip": every variant the CPU runs is checked, and SSE2 on
 * x86-64 and NEON on AArch64 always are). */
#include "hadamard.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SKIPPED = 77 }; /* SKIP_RETURN_CODE of the variant tests */

/* The variants every CPU of the build's architecture runs: these are never skipped. */
static bool always_runs(const char *v)
{
    if (strcmp(v, "scalar") == 0)
        return true;
#if defined(__x86_64__)
    return strcmp(v, "sse2") == 0;
#elif defined(__aarch64__)
    return strcmp(v, "neon") == 0;
#else
    return false;
#endif
}

__attribute__((constructor)) static void forced_kernel_check(void)
{
    const char *want = getenv("HADAMARD_CPU");
    if (!want || !*want)
        return; /* the plain run: whatever the CPU picks */
    const char *got = hdm_kernel_name();
    if (strcmp(got, want) == 0)
        return;
    if (hdm_kernel_available(want) != HDM_OK && !always_runs(want)) {
        /* dispatch fell back to the scalar reference: nothing of that variant would be tested */
        printf("skipped: HADAMARD_CPU=%s names a kernel variant this CPU or build does not run "
               "(the library uses %s instead)\n",
               want, got);
        exit(SKIPPED);
    }
    fprintf(stderr, "HADAMARD_CPU=%s %s, but the kernel in use is %s\n", want,
            hdm_kernel_available(want) == HDM_OK ? "is available" : "must run on this CPU", got);
    exit(1);
}
