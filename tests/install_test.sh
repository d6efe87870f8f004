#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the built project into a temporary prefix and builds two consumers against it, one
# through pkg-config and one through find_package, then runs them: packaging cannot rot.
# usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d /tmp/hdm-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install_test: $*" >&2; exit 1; }
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
p=$tmp/prefix
pc=$(find "$p" -name hadamard.pc)
[ -n "$pc" ] || fail "no hadamard.pc installed"
libdir=$(dirname "$(dirname "$pc")")
for f in include/hadamard.h bin/hadamard share/man/man1/hadamard.1 \
         share/bash-completion/completions/hadamard; do
  [ -f "$p/$f" ] || fail "$f not installed"
done
[ -f "$libdir/libhadamard.a" ] || fail "no static library"
[ -f "$libdir/cmake/hadamard/hadamardConfig.cmake" ] || fail "no CMake package"
so=$(readelf -d "$libdir/libhadamard.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
major=$(sed -n 's/^#define HDM_VERSION_MAJOR \([0-9]*\)/\1/p' "$src/include/hadamard.h")
minor=$(sed -n 's/^#define HDM_VERSION_MINOR \([0-9]*\)/\1/p' "$src/include/hadamard.h")
# before 1.0 a minor version may change the interface, so the soname carries it
want=libhadamard.so.$major
[ "$major" = 0 ] && want=libhadamard.so.0.$minor
[ "$so" = "$want" ] || fail "SONAME is '$so', want $want"
others=$(nm -D --defined-only "$libdir/libhadamard.so" | awk '{print $3}' | grep -v '^hdm_' || true)
[ -z "$others" ] || fail "the shared library exports non-hdm_ symbols: $others"
grep -q "^\.TH HADAMARD 1" "$p/share/man/man1/hadamard.1" || fail "man page is not roff"

# pkg-config: the ten-line example, shared and static
export PKG_CONFIG_PATH=$libdir/pkgconfig
cc -Wall -Wextra -Werror "$src/samples/example_mask.c" $(pkg-config --cflags --libs hadamard) \
   -o "$tmp/mask_shared"
cc -Wall -Wextra -Werror "$src/samples/example_mask.c" $(pkg-config --cflags hadamard) \
   -static-libgcc "$libdir/libhadamard.a" $(pkg-config --static --libs-only-l hadamard | sed 's/-lhadamard//') \
   -o "$tmp/mask_static"
LD_LIBRARY_PATH=$libdir "$tmp/mask_shared" "$src/samples/photo.png" "$src/samples/circle.png" "$tmp/a.png"
"$tmp/mask_static" "$src/samples/photo.png" "$src/samples/circle.png" "$tmp/b.png"
cmp "$tmp/a.png" "$tmp/b.png" || fail "shared and static builds differ"
LD_LIBRARY_PATH=$libdir "$p/bin/hadamard" mask "$src/samples/photo.png" "$src/samples/circle.png" -o "$tmp/c.png"
cmp "$tmp/a.png" "$tmp/c.png" || fail "the example and the installed command differ"

# find_package: the in-memory compositing example
cmake -S "$src/tests/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$p" \
      -DEXAMPLE="$src/samples/example_composite.c" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
out1=$(LD_LIBRARY_PATH=$libdir "$tmp/consumer/composite")
out2=$("$tmp/consumer/composite_static")
[ "$out1" = "$out2" ] || fail "find_package shared and static differ: $out1 / $out2"
case $out1 in "band pixel 204 204 204 0, outside pixel 0 128 12 255") ;;
  *) fail "composite printed: $out1" ;; esac
echo "install_test: 1 passed, 0 failed"
