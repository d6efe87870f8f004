#!/bin/sh
# SPDX-License-Identifier: MIT
# readme_test.sh — every gallery command in the README runs as written and remakes its picture.
#   tests/readme_test.sh BUILD_DIR SOURCE_DIR
# Each `hadamard ... -o NAME` in README.md is run from the source directory with its output sent
# to a scratch directory, and must hold exactly the pixels of samples/gallery/NAME (compared as
# BMPs, which the identity filter box:1 writes from either; the PNG bytes may differ with the
# encoder's settings).
set -eu
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src"
grep -o '`hadamard [^`]* -o [^` ]*`' README.md | tr -d '`' > "$tmp/commands"
n=$(wc -l < "$tmp/commands")
[ "$n" -ge 30 ] || { echo "only $n gallery commands found in README.md"; exit 1; }
pass=0 fail=0
while IFS= read -r line; do
    name=${line##* -o }
    cmd=${line% -o *}
    # the README's quoting is shell quoting: let the shell split it
    if eval "\"$build/hadamard\" ${cmd#hadamard } -o \"$tmp/$name\"" 2> "$tmp/err" &&
       "$build/hadamard" run "$tmp/$name" -o "$tmp/made.bmp" filter:box:1 2>> "$tmp/err" &&
       "$build/hadamard" run "samples/gallery/$name" -o "$tmp/shipped.bmp" filter:box:1 \
           2>> "$tmp/err" &&
       cmp -s "$tmp/made.bmp" "$tmp/shipped.bmp"; then
        pass=$((pass + 1))
    else
        echo "FAIL: $line: $(cat "$tmp/err")"
        fail=$((fail + 1))
    fi
done < "$tmp/commands"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
