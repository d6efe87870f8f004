#!/bin/sh
# SPDX-License-Identifier: MIT
# ab.sh — one job run by two builds in turn, for a before/after comparison on a shared machine:
# interleaving the runs spreads the machine's noise over both. Prints one line per run,
# "BINARY WALL s USER u PEAK_RSS KB" (GNU time); compare the medians (user time is the steadier
# figure when other work shares the machine).
# usage: tests/bench/ab.sh OLD_BINARY NEW_BINARY RUNS COMMAND ARGS...   (output to a temp file)
# e.g.   tests/bench/ab.sh /tmp/old/hadamard build/hadamard 5 mask photo.png mask.png
set -eu
[ $# -ge 4 ] || { sed -n 2,7p "$0" >&2; exit 2; }
old=$1 new=$2 runs=$3
shift 3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM
i=0
while [ "$i" -lt "$runs" ]; do
    for b in "$old" "$new"; do
        rm -f "$out/o.png"
        /usr/bin/time -f "$b %e s %U u %M KB" "$b" "$@" -o "$out/o.png" 2>&1 >/dev/null | tail -1
    done
    i=$((i + 1))
done
