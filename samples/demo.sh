#!/bin/sh
# SPDX-License-Identifier: MIT
# Masks and multiplies the shipped samples with the hadamard command, writing into DIR.
# usage: samples/demo.sh [HADAMARD_BINARY] [DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
h=${1:-$here/../build/hadamard}
out=${2:-$here/gallery}
mkdir -p "$out"
"$h" mask "$here/photo.png" "$here/circle.png" -o "$out/mask-circle.png"
"$h" mask "$here/photo.png" "$here/circle.png" --invert -o "$out/mask-circle-invert.png"
"$h" mask "$here/photo.png" "$here/circle.png" --alpha -o "$out/cutout.png"
"$h" mul "$here/photo.png" "$here/gradient.png" -o "$out/mul-gradient.png"
"$h" mul "$here/photo16.png" "$here/stripes16.png" -o "$out/mul16-stripes.png"
"$h" run "$here/photo.png" -o "$out/run-mask-mul.jpg" mask:"$here/circle.png" mul:"$here/gradient.png"
"$h" info "$out"/*
