#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end comparison against ImageMagick, GraphicsMagick, libvips, Pillow and OpenCV on the
# 24 MP mask job, through the shared benchmark (../shared/bench relative to the repository).
# usage: tests/bench/peers.sh [HADAMARD_BINARY] [--runs N]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
h=$(realpath "${1:-$here/build/hadamard}")
shift || true
shared=${HADAMARD_SHARED:-$here/../shared}
sh "$shared/bench/setup-peers.sh" >/dev/null
exec /usr/bin/python3 "$shared/bench/peers.py" "$@" "$h"
