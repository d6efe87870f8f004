#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Batch benchmark: mask N small PNGs (default 1000 at 640x480) by one gray mask, with
# hadamard batch, ImageMagick's mogrify, and xargs -P2 convert, side by side in one run.
# Prints files/s for each and hadamard's ratio to the fastest of the others.
# usage: tests/bench/batch_bench.sh [HADAMARD_BINARY] [N]
# Needs ImageMagick (/usr/bin/convert, /usr/bin/mogrify); not part of the test run.
set -euo pipefail
h=$(realpath "${1:-build/hadamard}")
n=${2:-1000}
d=$(mktemp -d /tmp/hdm-batch-bench.XXXXXX)
trap 'rm -rf "$d"' EXIT
mkdir -p "$d/in" "$d/hd" "$d/mog" "$d/xa"
/usr/bin/convert -seed 3 -size 640x480 plasma:fractal -depth 8 "$d/seed.png"
/usr/bin/convert -size 480x640 gradient:black-white -rotate 90 -colorspace Gray -depth 8 "$d/mask.png"
for i in $(seq -w 1 "$n"); do cp "$d/seed.png" "$d/in/img$i.png"; done
cp "$d/in/"*.png "$d/mog/"

t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
th=$(t "$h" batch -q -j 2 --out-dir "$d/hd" "mask:$d/mask.png" -- "$d/in")
# mogrify composites the mask over every file in place (its documented batch form)
tm=$(t sh -c "cd '$d/mog' && /usr/bin/mogrify -draw 'image Multiply 0,0 0,0 \"$d/mask.png\"' *.png")
tx=$(t sh -c "cd '$d/in' && ls *.png | xargs -P2 -I{} /usr/bin/convert {} '$d/mask.png' -compose Multiply -composite '$d/xa/{}'")
[ "$(ls "$d/hd" | wc -l)" = "$n" ] || { echo "hadamard wrote $(ls "$d/hd" | wc -l) of $n" >&2; exit 1; }
echo "batch: $n PNGs 640x480 masked; files/s (wall s)"
printf '%-28s %8.1f  (%.2f s)\n' "hadamard batch -j 2" "$(echo "$n / $th" | bc -l)" "$th"
printf '%-28s %8.1f  (%.2f s)\n' "mogrify" "$(echo "$n / $tm" | bc -l)" "$tm"
printf '%-28s %8.1f  (%.2f s)\n' "xargs -P2 convert" "$(echo "$n / $tx" | bc -l)" "$tx"
best=$(echo "if ($tm < $tx) $tm else $tx" | bc -l)
printf 'hadamard vs fastest peer: %.2fx\n' "$(echo "$best / $th" | bc -l)"
