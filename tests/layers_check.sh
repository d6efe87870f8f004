#!/bin/sh
# SPDX-License-Identifier: MIT
# layers_check.sh — the library's layers, read from its object files as the linker sees them.
# For every object (src/LAYER/….c.o, or src/pipeline.c.o / src/api.c.o for the entry layer) nm
# lists what it defines and what it needs; each need is an arrow to the file defining it. Fails
# when an arrow goes up or sideways between codecs and ops, or when files call each other in a
# circle. The layers, lowest first (DESIGN.md, "Layers"):
#   kernel < core < stream < {codec, ops} < entry (pipeline.c, api.c)
# usage: tests/layers_check.sh OBJECT...
[ $# -gt 0 ] || { echo "no objects given" >&2; exit 2; }
for o in "$@"; do
    [ -f "$o" ] || { echo "$o: missing" >&2; exit 2; }
    # the source path: what follows ".dir/" in CMake's object path, without ".o"
    src=$(printf '%s\n' "$o" | sed -e 's|.*\.dir/||' -e 's|\.o$||')
    nm --defined-only "$o" | awk -v f="$src" 'NF == 3 && $2 ~ /[TDBRGS]/ { print "D", f, $3 }' ||
        exit 2
    nm -u "$o" | awk -v f="$src" '{ print "U", f, $NF }' || exit 2
done | awk '
function layer(f) {
    if (f ~ /^src\/kernel\//) return "kernel"
    if (f ~ /^src\/core\//) return "core"
    if (f ~ /^src\/stream\//) return "stream"
    if (f ~ /^src\/codec\//) return "codec"
    if (f ~ /^src\/ops\//) return "ops"
    if (f == "src/pipeline.c" || f == "src/api.c") return "entry"
    return ""
}
BEGIN { rank["kernel"] = 0; rank["core"] = 1; rank["stream"] = 2; rank["codec"] = 3
        rank["ops"] = 3; rank["entry"] = 4 }
$1 == "D" { def[$3] = $2; files[$2] = 1; next }
$1 == "U" { need[++n] = $2 SUBSEP $3; files[$2] = 1 }
END {
    bad = 0
    for (f in files) {
        if (layer(f) == "") { print f ": in no layer (DESIGN.md, Layout)"; bad = 1 }
        seen[layer(f)] = 1
    }
    for (l in rank)
        if (!(l in seen)) { print "no object of the " l " layer was given"; bad = 1 }
    for (i = 1; i <= n; i++) {
        split(need[i], p, SUBSEP)
        a = p[1]; s = p[2]
        if (!(s in def)) continue          # libc, libpng, stb, …
        b = def[s]
        if (a == b) continue
        la = layer(a); lb = layer(b)
        if (la == "" || lb == "") continue
        if (rank[lb] > rank[la] || (rank[lb] == rank[la] && la != lb)) {
            print a " (" la ") calls up or across into " b " (" lb "): " s
            bad = 1
        }
        if (!((a, b) in arrow)) { arrow[a, b] = 1; out[a] = out[a] " " b; arrows++ }
    }
    # a circle of calls: depth-first search, a file met again while still on the path
    for (f in files) state[f] = 0
    for (f in files) if (state[f] == 0) visit(f)
    nf = 0; for (f in files) nf++
    printf "%d files, %d arrows, %s\n", nf, arrows, bad ? "FAILED" : "layers hold, no cycle"
    exit bad
}
function visit(f,    k, m, next_, list) {
    state[f] = 1; path[++depth] = f
    m = split(out[f], list, " ")
    for (k = 1; k <= m; k++) {
        next_ = list[k]
        if (state[next_] == 1) { cycle(next_); bad = 1 }
        else if (state[next_] == 0) visit(next_)
    }
    state[f] = 2; depth--
}
function cycle(to,    i, s) {
    s = to
    for (i = depth; i >= 1 && path[i] != to; i--) s = path[i] " -> " s
    print "cycle: " to " -> " s
}
'
