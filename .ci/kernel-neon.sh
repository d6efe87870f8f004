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
