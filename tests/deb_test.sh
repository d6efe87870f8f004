#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deb_test.sh — the Debian packages as a user gets them: builds them with cpack, checks them with
# lintian (any E: fails), checks they hold what `cmake --install` installs, installs them with
# apt-get, uses them (the command, pkg-config, find_package), removes them, and checks they are
# gone. Another hadamard under /usr/local is left as it was (checked).
# usage: deb_test.sh BUILD_DIR SOURCE_DIR
# Installing needs root or password-less sudo: without either it says why and exits 77 (README,
# "When a test may skip"); any other reason it cannot run fails under CI=true, and skips (77)
# otherwise.
set -euo pipefail
build=$(cd "${1:?usage: deb_test.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: deb_test.sh BUILD_DIR SOURCE_DIR}" && pwd)

fail() { echo "deb_test: $*" >&2; exit 1; }
skip() { echo "deb_test: skipped: $*"; exit 77; }
cannot() {
    [ "${CI:-}" = true ] && fail "$* (CI=true: only the reasons README lists may skip)"
    skip "$*"
}

if [ "$(id -u)" -eq 0 ]; then
    sudo=
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
else
    skip "installing the packages needs root or password-less sudo"
fi
for tool in cpack cmake cc pkg-config lintian dpkg-deb dpkg-query dpkg-architecture apt-get \
            readelf; do
    command -v "$tool" >/dev/null 2>&1 || cannot "$tool is missing (bash .ci/deps --tests)"
done

version=$(sed -n 's/^#define HDM_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' \
          "$src/include/hadamard.h" | paste -sd.)
major=${version%%.*} minor=$(echo "$version" | cut -d. -f2)
soversion=$major
[ "$major" = 0 ] && soversion=0.$minor
libpkg=libhadamard$soversion
pkgs="hadamard libhadamard-dev $libpkg"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=/usr/lib/$multiarch

# Packages of these names already installed would be replaced, then removed: refuse instead.
for p in $pkgs; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$'; then
        cannot "$p is already installed and this test would replace and remove it" \
               "(apt-get purge $pkgs)"
    fi
done

# apt-get, waiting up to 10 minutes for another apt or dpkg to finish
apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)

tmp=$(mktemp -d /tmp/hdm-deb.XXXXXX)
chmod 755 "$tmp"   # apt reads the .debs as its _apt user
installed=0
cleanup() {
    if [ "$installed" = 1 ]; then
        $sudo "${apt[@]}" purge -y -q $pkgs >/dev/null 2>&1 ||
            echo "deb_test: could not remove $pkgs: apt-get purge $pkgs" >&2
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# what another install under /usr/local holds, to check it afterwards
local_state() {
    { find /usr/local/bin /usr/local/include /usr/local/lib /usr/local/share/man \
           /usr/local/share/bash-completion -maxdepth 4 -name '*hadamard*' 2>/dev/null || true; } |
        sort | while read -r f; do
            if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"
            elif [ -f "$f" ]; then sha256sum "$f"
            else echo "$f"; fi
        done
}
local_state > "$tmp/local.before"

# ---- build
mkdir "$tmp/pkg"
cpack -G DEB -B "$tmp/pkg" --config "$build/CPackConfig.cmake" > "$tmp/cpack.log" 2>&1 ||
    { cat "$tmp/cpack.log" >&2; fail "cpack -G DEB failed"; }
chmod 644 "$tmp"/pkg/*.deb
debs=$(cd "$tmp/pkg" && printf '%s\n' ./*.deb | sed 's|^\./||' | sort | paste -sd' ')
want="hadamard_${version}_$(dpkg --print-architecture).deb"
want="$want libhadamard-dev_${version}_$(dpkg --print-architecture).deb"
want="$want ${libpkg}_${version}_$(dpkg --print-architecture).deb"
[ "$debs" = "$(echo "$want" | tr ' ' '\n' | sort | paste -sd' ')" ] ||
    fail "cpack made '$debs', want '$want'"
for d in "$tmp"/pkg/*.deb; do
    name=$(dpkg-deb -f "$d" Package)
    printf 'deb_test: %s %s, %s bytes, Depends: %s\n' "$name" "$(dpkg-deb -f "$d" Version)" \
        "$(stat -c %s "$d")" "$(dpkg-deb -f "$d" Depends)"
    [ "$(dpkg-deb -f "$d" Version)" = "$version" ] || fail "$name: version is not $version"
    [ -n "$(dpkg-deb -f "$d" Maintainer)" ] || fail "$name: no Maintainer"
done

# ---- lintian: errors fail, warnings are shown
lintian_rc=0
lintian "$tmp"/pkg/*.deb > "$tmp/lintian.log" 2>"$tmp/lintian.err" || lintian_rc=$?
grep -v 'running with root privileges' "$tmp/lintian.err" >&2 || true
cat "$tmp/lintian.log"
if grep -q '^E:' "$tmp/lintian.log"; then
    fail "lintian found errors (above)"
fi
[ "$lintian_rc" = 0 ] || fail "lintian exited $lintian_rc"
echo "deb_test: lintian: $(grep -c '^W:' "$tmp/lintian.log" || true) warnings, no errors"

# ---- contents: each file in its package, and together what `cmake --install` installs
for d in "$tmp"/pkg/*.deb; do
    name=$(dpkg-deb -f "$d" Package)
    dpkg-deb -c "$d" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./||' | while read -r f; do
        case $f in
            usr/share/doc/"$name"/copyright | usr/share/doc/"$name"/changelog.gz) owner=$name ;;
            "${libdir#/}"/libhadamard.so.*) owner=$libpkg ;;
            usr/include/* | "${libdir#/}"/libhadamard.so | "${libdir#/}"/libhadamard.a | \
                "${libdir#/}"/pkgconfig/* | "${libdir#/}"/cmake/hadamard/*) owner=libhadamard-dev ;;
            usr/bin/hadamard | usr/share/man/man1/hadamard.1.gz | \
                usr/share/bash-completion/completions/hadamard) owner=hadamard ;;
            *) fail "$name holds $f, which no package should" ;;
        esac
        [ "$owner" = "$name" ] || fail "$f is in $name, not in $owner"
        echo "$f"
    done > "$tmp/$name.files"
done
cmake --install "$build" --prefix "$tmp/prefix" > /dev/null
# the same names under one libdir, the man page gzipped, each package's doc files apart
(cd "$tmp/prefix" && find . ! -type d | sed 's|^\./||') |
    sed -e "s|^lib/$multiarch/|lib/|" -e 's|^share/man/man1/hadamard.1$|&.gz|' | sort \
    > "$tmp/install.files"
cat "$tmp"/hadamard.files "$tmp"/libhadamard-dev.files "$tmp/$libpkg.files" |
    grep -v '^usr/share/doc/' | sed -e 's|^usr/||' -e "s|^lib/$multiarch/|lib/|" | sort \
    > "$tmp/deb.files"
diff -u "$tmp/install.files" "$tmp/deb.files" ||
    fail "the packages (+) and cmake --install (-) install different files"
[ "$(grep -c . "$tmp/deb.files")" -ge 13 ] || fail "the packages hold too few files"

# ---- install
installed=1
$sudo "${apt[@]}" install -y -q --no-install-recommends \
    "$tmp"/pkg/*.deb > "$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log" >&2; fail "apt-get install failed"; }
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" | grep -q ' installed$' || fail "$p is not installed"
done

# the command
out=$(/usr/bin/hadamard --version) || fail "/usr/bin/hadamard --version failed"
[ "$(echo "$out" | awk 'NR == 1 {print $1, $2}')" = "hadamard $version" ] ||
    fail "/usr/bin/hadamard --version says '$out', want hadamard $version"
man1=/usr/share/man/man1/hadamard.1.gz
zcat "$man1" | grep '^\.TH HADAMARD 1' > /dev/null || fail "$man1 is not the man page"
if command -v man > /dev/null; then
    [ "$(MANPATH=/usr/share/man man -w hadamard)" = "$man1" ] || fail "man -w does not find $man1"
fi
comp=/usr/share/bash-completion/completions/hadamard
[ -f "$comp" ] || fail "$comp is missing"
bash -c "source $comp && complete -p hadamard" > /dev/null || fail "$comp completes nothing"
[ -f /usr/share/doc/hadamard/copyright ] || fail "no /usr/share/doc/hadamard/copyright"
/usr/bin/hadamard mask "$src/samples/photo.png" "$src/samples/circle.png" -o "$tmp/want.png" ||
    fail "/usr/bin/hadamard mask failed"

# the library: in the linker's cache through the package's trigger
# (by its real path: with merged /usr the cache may name /lib/TRIPLET)
ldconfig -p > "$tmp/ldcache"
cached=$(awk -v so="libhadamard.so.$soversion" '$1 == so {print $NF}' "$tmp/ldcache" |
         while read -r f; do readlink -f "$f"; done)
echo "$cached" | grep -x -F "$(readlink -f "$libdir/libhadamard.so.$soversion")" > /dev/null ||
    fail "libhadamard.so.$soversion is not in the linker cache (ldconfig -p: $cached)"
# a program run here finds the packaged library unless another one under /usr/local comes first
run() {
    local lib
    lib=$(ldd "$1" | awk '/libhadamard\.so/ {print $3}')
    if [ -z "$lib" ] || [ "$(readlink -f "$lib")" = "$(readlink -f "$libdir/libhadamard.so")" ]; then
        "$@"
    elif [ "${lib#/usr/local/}" != "$lib" ]; then
        LD_LIBRARY_PATH=$libdir "$@"
    else
        fail "$1 loads $lib, not the packaged library"
    fi
}

# pkg-config, from the system's directories only (not /usr/local's)
export PKG_CONFIG_LIBDIR=$libdir/pkgconfig:/usr/lib/pkgconfig:/usr/share/pkgconfig
unset PKG_CONFIG_PATH
[ "$(pkg-config --modversion hadamard)" = "$version" ] || fail "pkg-config --modversion hadamard"
[ "$(pkg-config --variable=libdir hadamard)" = "$libdir" ] ||
    fail "pkg-config's libdir is $(pkg-config --variable=libdir hadamard), want $libdir"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror "$src/samples/example_mask.c" $(pkg-config --cflags --libs hadamard) \
    -o "$tmp/mask_pc" || fail "example_mask.c does not build with pkg-config"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror "$src/samples/example_mask.c" $(pkg-config --cflags hadamard) \
    "$libdir/libhadamard.a" $(pkg-config --static --libs-only-l hadamard | sed 's/-lhadamard//') \
    -o "$tmp/mask_pc_static" || fail "example_mask.c does not build against libhadamard.a"
readelf -d "$tmp/mask_pc" | grep "NEEDED.*\[libhadamard.so.$soversion\]" > /dev/null ||
    fail "the pkg-config build does not link libhadamard.so.$soversion"
for p in mask_pc mask_pc_static; do
    run "$tmp/$p" "$src/samples/photo.png" "$src/samples/circle.png" "$tmp/$p.png" ||
        fail "$p failed"
    cmp "$tmp/$p.png" "$tmp/want.png" || fail "$p and /usr/bin/hadamard mask differ"
done

# find_package, as an app finds it (with /usr/local out of the search)
cmake -S "$src/tests/consumer" -B "$tmp/consumer" -DCMAKE_IGNORE_PREFIX_PATH=/usr/local \
    -DEXAMPLE="$src/samples/example_mask.c" > "$tmp/consumer.log" 2>&1 ||
    { cat "$tmp/consumer.log" >&2; fail "find_package(hadamard) failed"; }
dir=$(sed -n 's/^hadamard_DIR:PATH=//p' "$tmp/consumer/CMakeCache.txt")
[ "$dir" = "$libdir/cmake/hadamard" ] || fail "find_package found $dir, want $libdir/cmake/hadamard"
cmake --build "$tmp/consumer" > "$tmp/consumer.log" 2>&1 ||
    { cat "$tmp/consumer.log" >&2; fail "the find_package consumer does not build"; }
for p in composite composite_static; do
    run "$tmp/consumer/$p" "$src/samples/photo.png" "$src/samples/circle.png" "$tmp/$p.png" ||
        fail "the find_package build ($p) failed"
    cmp "$tmp/$p.png" "$tmp/want.png" || fail "the find_package build ($p) and hadamard differ"
done

# ---- remove
$sudo "${apt[@]}" purge -y -q $pkgs > "$tmp/apt.log" 2>&1 ||
    { cat "$tmp/apt.log" >&2; fail "apt-get purge failed"; }
installed=0
for f in /usr/bin/hadamard "$libdir/libhadamard.so.$soversion" /usr/include/hadamard.h \
         "$libdir/pkgconfig/hadamard.pc" "$man1" "$comp" \
         /usr/share/doc/hadamard; do
    [ ! -e "$f" ] || fail "$f is still there after apt-get purge"
done
ldconfig -p > "$tmp/ldcache"
! grep -E "libhadamard\.so.* => (/usr)?/lib/$multiarch/libhadamard\.so" "$tmp/ldcache" ||
    fail "the linker cache still lists the packaged libhadamard"
local_state > "$tmp/local.after"
diff "$tmp/local.before" "$tmp/local.after" || fail "the hadamard under /usr/local changed"
echo "deb_test: 1 passed, 0 failed"
