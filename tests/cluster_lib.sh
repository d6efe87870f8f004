# SPDX-License-Identifier: MIT
# cluster_lib.sh — shared by the tests that run the README's cluster recipes (sourced by bash):
# reading a recipe out of README.md, making a folder of photos, and checking sharded outputs
# against one single-node batch. The caller sets `tmp`, `build`, `src` and defines `fail`.

# recipe_block PATTERN: the lines of the first ```sh block of README.md whose first line
# matches the awk regex PATTERN (empty if there is none)
recipe_block() {
    awk -v pat="$1" '
        /^```/ { if (inb) { inb = 0; if (found) exit } else { inb = 1; first = 1 }; next }
        inb && first { first = 0; if ($0 ~ pat) found = 1 }
        inb && found { print }' "$src/README.md"
}

# recipe_argv NAME PATTERN: lets the shell parse the README block that starts with command NAME
# (as a user pasting it would) with NAME replaced by a function that records its arguments in
# the array `argv`. Fails if there is no such block or it does not start with NAME.
recipe_argv() {
    local name=$1 block
    block=$(recipe_block "$2")
    [ -n "$block" ] || fail "README.md has no \`\`\`sh block starting with '$name' (pattern $2)"
    case $block in
        "$name "*) ;;
        *) fail "README.md's $name recipe does not start with '$name': $block" ;;
    esac
    argv=()
    # shellcheck disable=SC2317
    eval "$name() { argv=(\"\$@\"); }"
    eval "$block"
    unset -f "$name"
    [ ${#argv[@]} -gt 0 ] || fail "README.md's $name recipe passes no arguments: $block"
}

# batch_argv COMMAND: the arguments of the `hadamard batch` that the shell command line COMMAND
# runs (with the variables of the caller's environment), into the array `hargv` (without the
# leading "batch")
batch_argv() {
    hargv=()
    # shellcheck disable=SC2317
    hadamard() { hargv=("$@"); }
    eval "$1"
    unset -f hadamard
    [ "${hargv[0]:-}" = batch ] || fail "not a 'hadamard batch' command: $1"
    hargv=("${hargv[@]:1}")
}

# with_options ARRAY_NAME DROP_FLAGS DROP_VALUED ARG...: into ARRAY_NAME, the arguments of a
# command ("batch" first) that is hargv with the flags named in DROP_FLAGS (space-separated:
# "--resume") and the options with a value named in DROP_VALUED ("--shard --report") removed,
# and the ARGs ("--out-dir" "DIR") put in front. "--opt VALUE" and "--opt=VALUE" are both
# understood; the steps and inputs are kept in order.
with_options() {
    local -n into=$1
    local drop_flags=" $2 " drop_valued=" $3 " i=0 a
    shift 3
    into=(batch "$@")
    while [ $i -lt ${#hargv[@]} ]; do
        a=${hargv[$i]}
        if [ "$a" = -- ]; then
            into+=("${hargv[@]:$i}")
            return
        elif [[ $drop_flags == *" $a "* ]]; then
            :
        elif [[ $drop_valued == *" $a "* ]]; then
            i=$((i + 1))
        elif [[ $a == --*=* && $drop_valued == *" ${a%%=*} "* ]]; then
            :
        else
            into+=("$a")
        fi
        i=$((i + 1))
    done
}

# option_value NAME: the value of option NAME in hargv (empty if absent)
option_value() {
    local i
    for ((i = 0; i < ${#hargv[@]}; i++)); do
        [ "${hargv[$i]}" = -- ] && return
        [ "${hargv[$i]}" = "$1" ] && { printf '%s' "${hargv[$((i + 1))]:-}"; return; }
        [[ ${hargv[$i]} == "$1="* ]] && { printf '%s' "${hargv[$i]#*=}"; return; }
    done
}

# inputs_of: the batch inputs (the arguments after "--") in hargv, one a line
inputs_of() {
    local i seen=0
    for ((i = 0; i < ${#hargv[@]}; i++)); do
        [ $seen = 1 ] && printf '%s\n' "${hargv[$i]}"
        [ "${hargv[$i]}" = -- ] && seen=1
    done
    return 0
}

# masks_of: the mask files the steps in hargv name (mask:PATH[:...]), one a line
masks_of() {
    local a
    for a in "${hargv[@]}"; do
        [ "$a" = -- ] && return
        case $a in mask:*) a=${a#mask:}; printf '%s\n' "${a%%:*}" ;; esac
    done
}

# make_photos DIR: DIR/photos holds 300 distinct 384x32 RGB PNGs (ten versions of
# samples/photo.png made with the built hadamard, each cut into 30 overlapping strips) spread
# over DIR/photos, DIR/photos/a and DIR/photos/b/c, and one file that is not an image
# (a/notes.txt); DIR/mask.png is a gray strip of samples/circle.png of the same size.
# Strips are cut from 24-bit BMPs, whose rows are contiguous and stored bottom-up, so a run of
# whole rows is one byte range; they become PNGs in one batch (box:1 is the identity).
make_photos() {
    local dir=$1 h=32 row=$((384 * 3)) s=$src/samples v k y len hdr f
    len=$((h * row))
    mkdir -p "$dir/bmp/a" "$dir/bmp/b/c" "$dir/full"
    # cut_rows BMP Y: the pixel bytes of rows Y..Y+h-1 (from the top) of a 384x256 BMP
    cut_rows() {
        dd if="$1" iflag=skip_bytes,count_bytes skip=$((54 + (256 - $2 - h) * row)) count=$len \
            bs=64K status=none
    }
    le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) \
        $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
    hdr="BM$(le32 $((54 + len)))$(le32 0)$(le32 54)$(le32 40)$(le32 384)$(le32 $h)"
    hdr+="\\x01\\x00\\x18\\x00$(le32 0)$(le32 $len)$(le32 2835)$(le32 2835)$(le32 0)$(le32 0)"
    # shellcheck disable=SC2059
    printf "$hdr" > "$dir/full/header"
    local steps=("filter:box:1" "filter:gaussian:1.5" "window:hann" "window:gaussian:0.4:strength=0.6"
        "filter:sharpen" "blend:screen:$s/gradient.png:0.5" "mul:$s/gradient.png" "filter:emboss"
        "mask:$s/circle.png:invert" "blend:overlay:$s/gradient.png")
    for v in "${!steps[@]}"; do
        "$build/hadamard" run "$s/photo.png" -o "$dir/full/v$v.bmp" "${steps[$v]}" ||
            fail "could not make a version of photo.png with ${steps[$v]}"
        for ((k = 0; k < 30; k++)); do
            y=$((k * 7))
            case $(((v * 30 + k) % 3)) in 0) f=$dir/bmp ;; 1) f=$dir/bmp/a ;; *) f=$dir/bmp/b/c ;; esac
            { cat "$dir/full/header"; cut_rows "$dir/full/v$v.bmp" $y; } > "$f/v$v-y$y.bmp"
        done
    done
    "$build/hadamard" run "$s/circle.png" -o "$dir/full/circle.bmp" filter:box:1
    { cat "$dir/full/header"; cut_rows "$dir/full/circle.bmp" 112; } > "$dir/full/mask.bmp"
    "$build/hadamard" run "$dir/full/mask.bmp" -o "$dir/mask.png" filter:box:1
    "$build/hadamard" batch --quiet -r --format png --name '{dir}/{stem}.png' \
        --out-dir "$dir/photos" filter:box:1 -- "$dir/bmp" || fail "could not make the photos"
    rm -rf "$dir/bmp" "$dir/full"
    echo "notes, not a picture" > "$dir/photos/a/notes.txt"
    local n dups
    n=$(find "$dir/photos" -name '*.png' | wc -l)
    [ "$n" = 300 ] || fail "made $n photos, not 300"
    dups=$(find "$dir/photos" -name '*.png' -exec md5sum {} + | awk '{print $1}' | sort | uniq -d)
    [ -z "$dups" ] || fail "the photos made are not all distinct"
}

# place_photos GEN: moves the photos made in GEN to the input root that hargv names, and puts a
# copy of GEN/mask.png at every mask path its steps name; prints the number of inputs the batch
# must find there (every file with -r, else the top level's)
place_photos() {
    local gen=$1 root m
    mapfile -t roots < <(inputs_of)
    [ ${#roots[@]} = 1 ] || fail "the recipe should name one input folder, not: ${roots[*]}"
    root=${roots[0]%/}
    mkdir -p "$(dirname "$root")"
    mv "$gen/photos" "$root"
    while IFS= read -r m; do
        mkdir -p "$(dirname "$m")"
        cp "$gen/mask.png" "$m"
    done < <(masks_of)
    local depth=(-maxdepth 1)
    for m in "${hargv[@]}"; do
        [ "$m" = -- ] && break
        case $m in -r | --recursive) depth=() ;; esac
    done
    find "$root" "${depth[@]}" -type f | wc -l
}

# report_entries FILE...: "STATUS INPUT" for each line of the reports (the test's paths hold no
# quote, backslash or non-ASCII byte, so the JSON strings are the paths as they are)
report_entries() {
    sed -n 's/^{"input":"\([^"]*\)",.*"status":"\([a-z-]*\)".*/\2 \1/p' "$@"
}

# report_outputs FILE: "STATUS OUTPUT" for each entry of the report that names an output
report_outputs() {
    sed -n 's/^{"input":"[^"]*","output":"\([^"]*\)",.*"status":"\([a-z-]*\)".*/\2 \1/p' "$1"
}

# files_of DIR: the regular files below DIR that are not hidden (nor in a hidden folder),
# relative to DIR, sorted; the batch's own hidden bookkeeping is left out
files_of() {
    (cd "$1" && find . -mindepth 1 -name '.*' -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort)
}

# same_tree A B: the same files (not hidden) below A and B, byte for byte
same_tree() {
    diff <(files_of "$1") <(files_of "$2") >"$tmp/tree.diff" ||
        fail "$1 and $2 hold different files: $(head -5 "$tmp/tree.diff" | tr '\n' ' ')"
    local f
    while IFS= read -r f; do
        cmp -s "$1/$f" "$2/$f" || fail "$1/$f differs from $2/$f"
    done < <(files_of "$1")
}

# check_shards REF_REPORT NFOUND REPORT...: the shards' reports together list every input of
# the single-node report exactly once, with the same status (each image ok, the file that is no
# image skipped), and nothing else; NFOUND is how many inputs the reference must have
check_shards() {
    local ref=$1 nfound=$2
    shift 2
    report_entries "$ref" | LC_ALL=C sort > "$tmp/ref.entries"
    [ "$(wc -l < "$tmp/ref.entries")" = "$nfound" ] ||
        fail "the single-node report lists $(wc -l < "$tmp/ref.entries") inputs, not $nfound"
    [ "$(grep -c '^ok ' "$tmp/ref.entries")" = $((nfound - 1)) ] ||
        fail "the single-node batch did not do every photo: $(grep -v '^ok ' "$tmp/ref.entries" | head -3)"
    grep -q '^skipped .*/notes\.txt$' "$tmp/ref.entries" ||
        fail "the single-node report does not list notes.txt as skipped"
    report_entries "$@" | LC_ALL=C sort > "$tmp/shards.entries"
    local twice
    twice=$(awk '{ $1 = ""; print }' "$tmp/shards.entries" | sort | uniq -d | head -3 | tr -d '\n')
    [ -z "$twice" ] || fail "inputs listed by more than one shard (or twice by one):$twice"
    diff "$tmp/ref.entries" "$tmp/shards.entries" > "$tmp/entries.diff" ||
        fail "the shards' reports differ from the single-node one: $(head -6 "$tmp/entries.diff" | tr '\n' ' ')"
    local r
    for r in "$@"; do
        grep -q '"status":"ok"' "$r" || fail "shard report $r has no ok entry: the shards were not shared out"
    done
}
