#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ../shared/bench/jpeg_batch.py over the same 24 camera-sized JPEGs carrying what a camera's
# do: an ICC profile (a 3 KB one; pass another as PROFILE), EXIF (Orientation 1), XMP.
# usage: tests/bench/jpeg_batch_meta.sh [HADAMARD_BINARY] [PROFILE.icc]
# (run ../shared/bench/setup-peers.sh and jpeg_batch.py once first: they make the plain files;
# exiftool comes from Debian's libimage-exiftool-perl)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
h=$(realpath "${1:-$here/build/hadamard}")
shared=${HADAMARD_SHARED:-$here/../shared}
plain=${BENCH_DIR:-/tmp/hadamard-bench}
meta=$plain/with-meta
profile=${2:-}
if [ ! -d "$meta/jpeg12-24" ]; then
  [ -d "$plain/jpeg12-24" ] || { echo "run $shared/bench/jpeg_batch.py once first" >&2; exit 1; }
  mkdir -p "$meta/jpeg12-24"
  cp "$plain"/jpeg12-24/*.jpg "$meta/jpeg12-24/"
  cp "$plain/mask12.png" "$meta/"
  if [ -z "$profile" ]; then # a made-up 3 KB profile: a header, a description, padding
    profile=$meta/bench.icc
    python3 - "$profile" <<'PY'
import struct, sys
text = b"hadamard benchmark profile\0"
desc = b"desc" + b"\0" * 4 + struct.pack(">I", len(text)) + text + b"\0" * 79
pad = b"\0" * (3000 - 128 - 4 - 24 - len(desc))
tags = struct.pack(">I", 2) + b"desc" + struct.pack(">II", 156, len(desc)) \
       + b"bnch" + struct.pack(">II", 156 + len(desc), len(pad))
body = tags + desc + pad
hdr = struct.pack(">I", 128 + len(body)) + b"none" + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ " \
      + b"\0" * 12 + b"acsp" + b"\0" * 88
open(sys.argv[1], "wb").write(hdr + body)
PY
  fi
  exiftool -q -overwrite_original "-ICC_Profile<=$profile" -Orientation#=1 -Make=Bench \
    -Model=Camera "-DateTimeOriginal=2026:12:03 10:00:00" -XMP-dc:Title=bench "$meta"/jpeg12-24/*.jpg
fi
BENCH_DIR=$meta exec /usr/bin/python3 "$shared/bench/jpeg_batch.py" "$h"
