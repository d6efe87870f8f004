#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Size scaling: the 24 MP mask job of ../shared/bench at 6, 24 and 96 MP, one tool, one run.
# Time should grow linearly with pixels and peak memory stay flat (the pipeline streams strips).
# usage: tests/bench/scaling.sh [HADAMARD_BINARY]   (run ../shared/bench/setup-peers.sh first)
set -euo pipefail
h=$(realpath "${1:-build/hadamard}")
d=${BENCH_DIR:-/tmp/hadamard-bench}
[ -s "$d/photo24.png" ] || { echo "run ../shared/bench/setup-peers.sh first" >&2; exit 1; }
[ -s "$d/photo6.png" ] || /usr/bin/convert "$d/photo24.png" -resize 50% "$d/photo6.png"
[ -s "$d/mask6.png" ] || /usr/bin/convert "$d/mask24.png" -resize 50% "$d/mask6.png"
# 96 MP: four tiles of the 24 MP pair (Pillow: Debian's ImageMagick policy caps images at 16K)
for n in photo mask; do
  [ -s "$d/${n}96.png" ] || /usr/bin/python3 -c '
import sys; from PIL import Image; Image.MAX_IMAGE_PIXELS = None
a = Image.open(sys.argv[1]); w, h = a.size; t = Image.new(a.mode, (2 * w, 2 * h))
for x in (0, w):
    for y in (0, h): t.paste(a, (x, y))
t.save(sys.argv[2], compress_level=1)' "$d/${n}24.png" "$d/${n}96.png"
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "size  wall s  s/MP   peak RSS MB"
for mp in 6 24 96; do
  /usr/bin/time -f "%e %M" -o "$out/t" "$h" mask "$d/photo$mp.png" "$d/mask$mp.png" -o "$out/o.png"
  read -r wall rss < "$out/t"
  printf '%3d MP %7.2f %6.3f %8.1f\n' "$mp" "$wall" "$(echo "$wall / $mp" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
done
