#!/bin/sh
# SPDX-License-Identifier: MIT
# kernel-neon.sh — cross-build the kernel for aarch64 and check the NEON variant under qemu.
#
# Builds tests/kernel_neon_check.c with src/kernel's portable and NEON sources as one static
# aarch64 program and runs it with qemu-aarch64: every variant that runs (neon) against the
# scalar reference, with the same exhaustive, edge, length, guard-page and offset checks as the
# native tests. Installs gcc-aarch64-linux-gnu and qemu-user with apt-get if they are missing.
# When they cannot be had it says "NEON kernel check skipped: ..." and exits 0 if the machine
# cannot install them (no apt-get, or neither root nor password-less sudo: README, "When a test
# may skip"); any other reason (apt-get failed, the tools still missing) exits 1 under CI=true.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cc=aarch64-linux-gnu-gcc
qemu=qemu-aarch64

# skip REASON: a machine that cannot install the tools, which README lists
skip() {
    echo "NEON kernel check skipped: $*"
    exit 0
}

# cannot REASON: a failure that is not the machine's limit: under CI=true it fails
cannot() {
    if [ "${CI:-}" = true ]; then
        echo "NEON kernel check failed: $* (CI=true: only the reasons README lists may skip)" >&2
        exit 1
    fi
    skip "$*"
}

# the compiler, its C library (libc6-dev-arm64-cross, only recommended by the compiler's
# package) and qemu
have_tools() {
    command -v "$cc" >/dev/null 2>&1 && command -v "$qemu" >/dev/null 2>&1 &&
        printf '#include <stdio.h>\nint main(void) { return 0; }\n' |
            "$cc" -x c -static -o /dev/null - >/dev/null 2>&1
}

if ! have_tools; then
    command -v apt-get >/dev/null 2>&1 || skip "$cc or $qemu missing and no apt-get to install them"
    if [ "$(id -u)" -eq 0 ]; then
        sudo=
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo="sudo -n"
    else
        skip "$cc or $qemu missing and no root or password-less sudo to install them"
    fi
    pkgs="gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user"
    export DEBIAN_FRONTEND=noninteractive
    echo "installing $pkgs"
    if ! $sudo apt-get install -y -q $pkgs >/dev/null 2>&1; then
        $sudo apt-get update -q >/dev/null 2>&1 || true
        $sudo apt-get install -y -q $pkgs >/dev/null 2>&1 ||
            cannot "could not install $pkgs with apt-get"
    fi
    have_tools || cannot "$cc or $qemu still missing after installing $pkgs"
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM

# -ffp-contract=off as in the CMake build: GCC would otherwise fuse the scalar reference's
# multiply-adds on aarch64, and the variants must match it operation by operation.
"$cc" -std=c11 -O2 -static -Wall -Wextra -Werror -ffp-contract=off -D_GNU_SOURCE \
    -I"$root/include" -I"$root/src" -I"$root/tests" \
    "$root/tests/kernel_neon_check.c" \
    "$root/src/kernel/scalar.c" "$root/src/kernel/dispatch.c" "$root/src/kernel/neon.c" \
    -lm -lpthread -o "$out/kernel_neon_check"

"$qemu" "$out/kernel_neon_check" neon

# The Criterion tests that check kernel primitives kernel_checks.h has no table entry for, run
# under qemu as well: FILE:SUITE:TEST, one a line, tests/FILE compiled unchanged. Criterion is
# not cross-built, so a stand-in for its header turns every Test into a static function and
# each assertion into a check that stops the program; only the test named is called, so the
# others, and the library code they need, are left out by the compiler. The seeded generator is
# testutil.c's own (its randomness section: the rest needs libpng), so the data are the native
# run's. The program fails when dispatch does not offer neon, so the test compares neon.c.
criterion_tests="test_ops_slide.c:slide:kernel_variants_match_scalar"

mkdir "$out/criterion"
cat >"$out/criterion/criterion.h" <<'HDR'
/* SPDX-License-Identifier: MIT */
/* criterion.h — a stand-in for the assertions and Test of Criterion (.ci/kernel-neon.sh) */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static long crs_checks;

static inline void crs_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %s:%d: %s: ", file, line, expr);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    exit(1);
}

#define Test(suite, name, ...) static void crs_##suite##_##name(void)
#define cr_assert(c, ...) \
    ((c) ? (void)crs_checks++ : crs_fail(__FILE__, __LINE__, #c, "" __VA_ARGS__))
#define cr_assert_eq(a, b, ...) cr_assert((a) == (b), __VA_ARGS__)
#define cr_assert_neq(a, b, ...) cr_assert((a) != (b), __VA_ARGS__)
#define cr_assert_lt(a, b, ...) cr_assert((a) < (b), __VA_ARGS__)
#define cr_assert_leq(a, b, ...) cr_assert((a) <= (b), __VA_ARGS__)
#define cr_assert_gt(a, b, ...) cr_assert((a) > (b), __VA_ARGS__)
#define cr_assert_geq(a, b, ...) cr_assert((a) >= (b), __VA_ARGS__)
#define cr_assert_null(p, ...) cr_assert((p) == NULL, __VA_ARGS__)
#define cr_assert_not_null(p, ...) cr_assert((p) != NULL, __VA_ARGS__)
#define cr_assert_not(c, ...) cr_assert(!(c), __VA_ARGS__)
HDR

{
    echo '#include "testutil.h"'
    sed -n '/^\/\* ---- randomness ---- \*\//,/^\/\* ---- temporary directory/p' \
        "$root/tests/testutil.c" | sed '$d'
} >"$out/rng.c"
grep -q '^uint64_t tu_next' "$out/rng.c" || {
    echo "NEON kernel check failed: no randomness section in tests/testutil.c" >&2
    exit 1
}

for spec in $criterion_tests; do
    file=${spec%%:*}
    rest=${spec#*:}
    suite=${rest%%:*}
    test=${rest#*:}
    cat >"$out/run.c" <<RUN
#include "$file"

int main(void)
{
    if (!hdm__kernel_get("neon")) {
        printf("FAIL $suite::$test: dispatch does not offer neon\n");
        return 1;
    }
    crs_${suite}_${test}();
    printf("$suite::$test: %ld checks passed\n", crs_checks);
    return 0;
}
RUN
    # the tests that are not called leave their functions and constants unused
    "$cc" -std=c11 -O2 -static -Wall -Wextra -Werror -Wno-unused-function \
        -Wno-unused-variable -Wno-unused-const-variable -ffp-contract=off -D_GNU_SOURCE \
        -I"$out" -I"$root/include" -I"$root/src" -I"$root/tests" \
        "$out/run.c" "$out/rng.c" \
        "$root/src/kernel/scalar.c" "$root/src/kernel/dispatch.c" "$root/src/kernel/neon.c" \
        -lm -lpthread -o "$out/criterion_test"
    "$qemu" "$out/criterion_test"
done
