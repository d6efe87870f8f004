#!/bin/sh
# SPDX-License-Identifier: MIT
# make-gallery.sh — before/after pictures of every blend mode, window, kernel and fft pass, and
# of operands placed, tiled and fitted, made with the built hadamard tool, into samples/gallery/
# (160×107 PNGs) with a README table snippet.
#
#   samples/make-gallery.sh [path/to/hadamard]     (default: build/hadamard)
#
# Inputs: samples/photo.png and samples/texture.png when present (scaled to 160×107 with
# ImageMagick's convert if it is installed); otherwise a synthetic landscape and texture written
# here as PPM, so the script needs nothing but a POSIX shell, awk and the tool.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
tool=${1:-$here/../build/hadamard}
out=$here/gallery
W=160 H=107
[ -x "$tool" ] || { echo "make-gallery.sh: no hadamard at $tool (build first, or pass its path)" >&2; exit 2; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A P6 PPM from an awk expression per pixel, x in [0,W), y in [0,H): sets r, g, b in 0..255.
ppm() { # ppm FILE 'awk statements'
    LC_ALL=C awk -v W=$W -v H=$H "
    function clamp(v) { return v < 0 ? 0 : v > 255 ? 255 : int(v + 0.5) }
    BEGIN {
        printf \"P6\n%d %d\n255\n\", W, H
        for (y = 0; y < H; y++) for (x = 0; x < W; x++) {
            $2
            printf \"%c%c%c\", clamp(r), clamp(g), clamp(b)
        }
    }" > "$1"
}

input() { # input NAME FALLBACK-AWK
    if [ -f "$here/$1.png" ] && command -v convert >/dev/null 2>&1; then
        convert "$here/$1.png" -resize "${W}x${H}^" -gravity center -extent "${W}x${H}" \
            -depth 8 "$out/$1.png"
    else
        ppm "$tmp/$1.ppm" "$2"
        "$tool" run "$tmp/$1.ppm" -o "$out/$1.png" filter:box:1 # box:1, the identity: PPM to PNG
    fi
}

# a landscape: sky gradient, a sun, two hills, a little grain so the filters have edges
input photo '
    sky = y / H
    r = 70 + 120 * sky; g = 120 + 90 * sky; b = 230 - 60 * sky
    dx = x - 112; dy = y - 30
    if (dx * dx + dy * dy < 160) { r = 255; g = 220; b = 120 }
    if (y > 70 + 12 * sin(x / 17)) { r = 60 + 30 * sin(x / 5); g = 140 - (y - 70); b = 50 }
    if (y > 88 + 6 * sin(x / 9 + 1)) { r = 110; g = 80 + 20 * sin(x * y / 50); b = 40 }
    n = (x * 7919 + y * 104729) % 23 - 11
    r += n; g += n; b += n'
# a texture: soft diagonal colour bands and a checker, for the blend modes
input texture '
    t = (x + y) / 24
    r = 128 + 110 * sin(t); g = 128 + 110 * sin(t + 2.1); b = 128 + 110 * sin(t + 4.2)
    if ((int(x / 20) + int(y / 20)) % 2) { r = r * 0.8; g = g * 0.8; b = b * 0.8 }'
# a gray mask: a soft-edged disc and a hard bar
ppm "$tmp/mask.ppm" '
    dx = (x - 80) / 60; dy = (y - 53) / 40; d = dx * dx + dy * dy
    v = d < 1 ? 255 * (1 - d * d) : 0
    if (x > 20 && x < 30) v = 255
    r = v; g = v; b = v'
"$tool" run "$tmp/mask.ppm" -o "$out/mask.png" filter:box:1

: > "$tmp/cells"
row() { # row FILE COMMAND-TEXT: one cell of the README table, a command that runs as shown
    case $2 in
    hadamard\ *) text="$(echo "$2" | sed -E 's#(^| )(photo|texture|mask|mask-cutout|sticker)\.png#\1samples/gallery/\2.png#g') -o $1" ;;
    hadamard\ *) text="$(echo "$2" | sed -E 's#(^| )(photo|texture|mask|logo|spot)\.png#\1samples/gallery/\2.png#g') -o $1" ;;
    *) text=$2 ;;
    esac
    printf '%s\t%s\n' "$1" "$text" >> "$tmp/cells"
}
row photo.png "photo.png (input)"
row texture.png "texture.png (blend top)"
row mask.png "mask.png (mask)"

for mode in normal multiply screen overlay darken lighten color-dodge color-burn hard-light \
            soft-light difference exclusion hue saturation color luminosity; do
    "$tool" blend "$out/photo.png" "$out/texture.png" -o "$out/blend-$mode.png" --mode $mode \
        --opacity 0.8
    row "blend-$mode.png" "hadamard blend photo.png texture.png --mode $mode --opacity 0.8"
done
"$tool" blend "$out/photo.png" "$out/texture.png" -o "$out/blend-soft-light-linear.png" \
    --mode soft-light --linear
row blend-soft-light-linear.png "hadamard blend photo.png texture.png --mode soft-light --linear"

for type in hann hamming blackman gaussian:0.4 tukey:0.5 kaiser:8.6; do
    name=$(echo "$type" | cut -d: -f1)
    "$tool" window "$out/photo.png" -o "$out/window-$name.png" --type $type
    row "window-$name.png" "hadamard window photo.png --type $type"
done
"$tool" window "$out/photo.png" -o "$out/window-hann-half.png" --type hann --strength 0.5
row window-hann-half.png "hadamard window photo.png --type hann --strength 0.5"

for kernel in box:5 gaussian:2 sharpen laplacian sobel-x sobel-y emboss; do
    name=$(echo "$kernel" | tr : -)
    "$tool" filter "$out/photo.png" -o "$out/filter-$name.png" --kernel $kernel --border mirror
    row "filter-$name.png" "hadamard filter photo.png --kernel $kernel --border mirror"
done
"$tool" filter "$out/photo.png" -o "$out/filter-custom.png" --kernel '1,0,-1;0,0,0;-1,0,1'
row filter-custom.png "hadamard filter photo.png --kernel '1,0,-1;0,0,0;-1,0,1'"

"$tool" mask "$out/photo.png" "$out/mask.png" -o "$out/mask-plain.png"
row mask-plain.png "hadamard mask photo.png mask.png"
"$tool" mask "$out/photo.png" "$out/mask.png" -o "$out/mask-feather.png" --feather 4
row mask-feather.png "hadamard mask photo.png mask.png --feather 4"
"$tool" mask "$out/photo.png" "$out/mask.png" -o "$out/mask-threshold.png" --threshold 0.5
row mask-threshold.png "hadamard mask photo.png mask.png --threshold 0.5"
"$tool" mask "$out/photo.png" "$out/mask.png" -o "$out/mask-cutout.png" --alpha --feather 2
row mask-cutout.png "hadamard mask photo.png mask.png --alpha --feather 2"
"$tool" mask "$out/photo.png" "$out/mask.png" -o "$out/mask-threshold-feather.png" \
    --threshold 0.5 --feather 2
row mask-threshold-feather.png "hadamard mask photo.png mask.png --threshold 0.5 --feather 2"

"$tool" filter "$out/photo.png" -o "$out/filter-sobel-x-abs.png" --kernel sobel-x --border mirror \
    --signed abs
row filter-sobel-x-abs.png "hadamard filter photo.png --kernel sobel-x --border mirror --signed abs"
"$tool" filter "$out/photo.png" -o "$out/filter-laplacian-offset.png" --kernel laplacian \
    --border mirror --signed offset
row filter-laplacian-offset.png \
    "hadamard filter photo.png --kernel laplacian --border mirror --signed offset"
# Porter-Duff operators need alpha on both sides: the base is mask-cutout.png (the photo cut
# to the soft disc and bar), the top a sticker (the texture cut to a soft diagonal band whose
# uncovered pixels keep the texture's colour, which a premultiplying slip would show as fringes)
ppm "$tmp/band.ppm" '
    d = (x - 1.5 * y - 10) / 18; v = d * d < 1 ? 255 * (1 - d * d) : 0
    r = v; g = v; b = v'
"$tool" mask "$out/texture.png" "$tmp/band.ppm" -o "$out/sticker.png" --alpha
row sticker.png "sticker.png (blend top with alpha)"
for op in source-over source-atop destination-in destination-out xor; do
    "$tool" blend "$out/mask-cutout.png" "$out/sticker.png" -o "$out/op-$op.png" \
        --mode normal --op $op
    row "op-$op.png" "hadamard blend mask-cutout.png sticker.png --mode normal --op $op"
done
"$tool" blend "$out/mask-cutout.png" "$out/sticker.png" -o "$out/op-multiply-source-atop.png" \
    --mode multiply --op source-atop
row op-multiply-source-atop.png \
    "hadamard blend mask-cutout.png sticker.png --mode multiply --op source-atop"
"$tool" blend "$out/photo.png" "$out/texture.png" -o "$out/blend-mask.png" --mode multiply \
    --mask "$out/mask.png"
row blend-mask.png "hadamard blend photo.png texture.png --mode multiply --mask mask.png"
# operands of another size: a small cut-out logo and a small soft spot, placed, tiled, fitted
W=48 H=32
ppm "$tmp/logo.ppm" '
    dx = (x - 23.5) / 22; dy = (y - 15.5) / 14; d = dx * dx + dy * dy
    r = 250; g = 200 - 90 * d; b = 60
    if (d < 0.35) { r = 40; g = 70; b = 200 }'
ppm "$tmp/logo-alpha.ppm" '
    dx = (x - 23.5) / 22; dy = (y - 15.5) / 14; d = dx * dx + dy * dy
    v = d < 0.8 ? 255 : d < 1 ? 255 * (1 - d) / 0.2 : 0
    r = v; g = v; b = v'
"$tool" mask "$tmp/logo.ppm" "$tmp/logo-alpha.ppm" --alpha -o "$out/logo.png"
W=32 H=24
ppm "$tmp/spot.ppm" '
    dx = (x - 15.5) / 16; dy = (y - 11.5) / 12; d = dx * dx + dy * dy
    v = d < 1 ? 255 * (1 - d) : 0
    r = v; g = v; b = v'
"$tool" run "$tmp/spot.ppm" -o "$out/spot.png" filter:box:1
W=160 H=107
row logo.png "logo.png (a 48x32 top with alpha)"
row spot.png "spot.png (a 32x24 mask)"
"$tool" blend "$out/photo.png" "$out/logo.png" -o "$out/place-watermark.png" --mode normal \
    --opacity 0.8 --gravity se --offset -6,-6
row place-watermark.png "hadamard blend photo.png logo.png --mode normal --opacity 0.8 --gravity se --offset -6,-6"
"$tool" blend "$out/photo.png" "$out/logo.png" -o "$out/place-tile.png" --mode overlay --tile \
    --at 8,4
row place-tile.png "hadamard blend photo.png logo.png --mode overlay --tile --at 8,4"
"$tool" mask "$out/photo.png" "$out/spot.png" -o "$out/fit-cover.png" --fit cover
row fit-cover.png "hadamard mask photo.png spot.png --fit cover"
"$tool" mask "$out/photo.png" "$out/spot.png" -o "$out/fit-contain.png" --fit contain \
    --gravity w --outside 0
row fit-contain.png "hadamard mask photo.png spot.png --fit contain --gravity w --outside 0"
"$tool" mask "$out/photo.png" "$out/spot.png" -o "$out/fit-stretch.png" --fit stretch
row fit-stretch.png "hadamard mask photo.png spot.png --fit stretch"
"$tool" mask "$out/photo.png" "$out/spot.png" -o "$out/fit-stretch-nearest.png" --fit stretch \
    --resample nearest
row fit-stretch-nearest.png "hadamard mask photo.png spot.png --fit stretch --resample nearest"

"$tool" fft "$out/photo.png" -o "$out/fft-low-ideal.png" --pass low --cutoff 0.15 --profile ideal
row fft-low-ideal.png "hadamard fft photo.png --pass low --cutoff 0.15 --profile ideal"
"$tool" fft "$out/photo.png" -o "$out/fft-spectrum.png" --spectrum
row fft-spectrum.png "hadamard fft photo.png --spectrum"
# a blend's mask placed on its own: the small spot fitted inside the photo, to its right edge
"$tool" blend "$out/photo.png" "$out/texture.png" -o "$out/blend-mask-placed.png" \
    --mode multiply --mask "$out/spot.png" --mask-fit contain --mask-gravity e --mask-outside 0
row blend-mask-placed.png "hadamard blend photo.png texture.png --mode multiply --mask spot.png --mask-fit contain --mask-gravity e --mask-outside 0"
# a wide gaussian (σ 12, 73 taps a side): sliding sums
"$tool" filter "$out/photo.png" -o "$out/filter-gaussian-12.png" --kernel gaussian:12 --border mirror
row filter-gaussian-12.png "hadamard filter photo.png --kernel gaussian:12 --border mirror"

# the README table: four pictures a row, each over the command that made it
{
    echo "<!-- made by samples/make-gallery.sh; every picture is ${W}x${H} -->"
    echo "| | | | |"
    echo "|---|---|---|---|"
    awk -F '\t' '{ c = c sprintf("| ![%s](samples/gallery/%s)<br>`%s` ", $1, $1, $2) }
        NR % 4 == 0 { print c "|"; c = "" }
        END { if (c != "") { for (i = NR % 4; i < 4; i++) c = c "| "; print c "|" } }' \
        "$tmp/cells"
} > "$out/README-snippet.md"

echo "make-gallery.sh: wrote $(ls "$out"/*.png | wc -l) pictures and README-snippet.md to $out"
