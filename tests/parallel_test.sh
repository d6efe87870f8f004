#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# parallel_test.sh — the README's GNU parallel recipe, run on this machine as written (its
# hosts made local jobs): 300 photos in a tree, the recipe's shards against one single-node
# batch, and a shard killed with SIGKILL part-way and rerun with the recipe's --resume.
#   tests/parallel_test.sh BUILD_DIR SOURCE_DIR
# The command is read out of README.md (its `/shared` paths moved into a scratch directory and
# `hadamard` taken from BUILD_DIR), so the test runs what the README tells users to run.
# Asserts outcomes only, not which shard takes which file: the shards' reports together list
# every input exactly once with the single-node status, and the outputs are byte-identical to
# the single-node batch's. Without GNU parallel it skips (exit 77), except under CI=true.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
fail() { echo "parallel_test: $*" >&2; exit 1; }
if [ -z "${HDM_PARALLEL_WATCHDOG:-}" ]; then
    # the whole test under a watchdog: a hang is a failure
    rc=0
    HDM_PARALLEL_WATCHDOG=1 timeout -k 10 300 bash "$0" "$@" || rc=$?
    if [ $rc = 124 ] || [ $rc = 137 ]; then fail "timed out after 300 s"; fi
    exit $rc
fi
if ! command -v parallel >/dev/null 2>&1; then
    [ "${CI:-}" != true ] || fail "GNU parallel is not installed (.ci/deps --tests installs it)"
    echo "parallel_test: skipped: GNU parallel is not installed (.ci/deps --tests installs it)"
    exit 77
fi
tmp=$(mktemp -d /tmp/hdm-parallel.XXXXXX)
pid=''
# the shard that is stepped and killed never outlives the test, even one that fails
trap 'if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null; fi; rm -rf "$tmp"' EXIT
# shellcheck source=tests/cluster_lib.sh
. "$src/tests/cluster_lib.sh"
t0=$SECONDS

# The recipe: parallel's options, the command, and the shard numbers after ":::".
recipe_argv parallel '^parallel '
cmd='' shards=() popts=() i=0
while [ $i -lt ${#argv[@]} ]; do
    a=${argv[$i]}
    if [ -n "$cmd" ]; then
        [ "$a" = ::: ] || shards+=("$a")
    elif [[ $a == *"hadamard batch"* ]]; then
        cmd=$a
    else
        case $a in
            # the remote hosts become this machine: one local job per shard, all at once
            -S | --sshlogin | -j | --jobs) i=$((i + 1)) ;;
            -S* | --sshlogin=* | -j* | --jobs=*) ;;
            *) popts+=("$a") ;;
        esac
    fi
    i=$((i + 1))
done
[ -n "$cmd" ] || fail "README.md's parallel recipe runs no 'hadamard batch': ${argv[*]}"
n=${#shards[@]}
[ "$n" -ge 2 ] || fail "README.md's parallel recipe gives $n shard numbers after :::"
work=$tmp/shared
cmd=${cmd//\/shared/$work}
echo "parallel_test: the README's command, for $n shards: $cmd"

# shard_argv K: hargv for shard K, as parallel runs it ({} replaced by K)
shard_argv() { batch_argv "${cmd//\{\}/$1}"; }
for k in "${shards[@]}"; do
    shard_argv "$k"
    [ "$(option_value --shard)" = "$k/$n" ] ||
        fail "shard $k runs --shard '$(option_value --shard)', not $k/$n: the recipe's shard count is not its number of shards"
    [ -n "$(option_value --report)" ] || fail "the recipe's shards write no --report"
    reports+=("$(option_value --report)")
done
[ "$(printf '%s\n' "${reports[@]}" | sort -u | wc -l)" = "$n" ] ||
    fail "the shards would write one report: ${reports[*]}"
out=$(option_value --out-dir)
[ -n "$out" ] || fail "the recipe names no --out-dir"

make_photos "$tmp/gen"
nfound=$(place_photos "$tmp/gen")
echo "parallel_test: made 300 photos and a mask ($((SECONDS - t0)) s)"

# (a) the reference: the same steps and inputs in one batch on one node
with_options refargv "--resume" "--shard --report --out-dir" --out-dir "$tmp/ref" --report "$tmp/ref.jsonl"
"$build/hadamard" "${refargv[@]}" 2> "$tmp/ref.err" || { cat "$tmp/ref.err"; fail "the single-node batch failed"; }

# (b) the recipe, its shards at once, each its own batch writing its own report
(cd "$tmp" && PATH=$build:$PATH PARALLEL_HOME=$tmp/parallel-home \
    parallel "${popts[@]}" -j "$n" "$cmd" ::: "${shards[@]}") \
    > "$tmp/parallel.log" 2>&1 || { cat "$tmp/parallel.log"; fail "GNU parallel reported failed shards"; }
check_shards "$tmp/ref.jsonl" "$nfound" "${reports[@]}"
same_tree "$out" "$tmp/ref"
echo "parallel_test: $n shards did each of $nfound inputs once, outputs identical to one batch ($((SECONDS - t0)) s)"

# (c) a lost node: shard K killed with SIGKILL part-way, then rerun with the recipe's --resume.
# The shard runs one file at a time (--jobs 1: outputs do not depend on it) and is stepped with
# SIGSTOP/SIGCONT, so it is caught part-way however fast the machine is.
k=${shards[1]}
shard_argv "$k"
[[ " ${hargv[*]} " == *" --resume "* ]] || fail "the recipe does not --resume"
report_entries "${reports[1]}" | LC_ALL=C sort > "$tmp/shard.entries"
images=$(grep -c '^ok ' "$tmp/shard.entries" || true)
[ "$images" -ge 10 ] || fail "shard $k had only $images photos to do"
kill_dir=$tmp/killed
with_options killargv "" "--out-dir --report --jobs" --out-dir "$kill_dir" --jobs 1
state() { sed 's/^.*) \([A-Za-z]\).*/\1/' "/proc/$1/stat" 2>/dev/null || echo gone; }
# wait_stopped PID: until PID is stopped (0) or has ended (1)
wait_stopped() {
    local s
    for _ in $(seq 2000); do
        s=$(state "$1")
        case $s in T | t) return 0 ;; Z | X | gone) return 1 ;; esac
        sleep 0.001
    done
    fail "process $1 did not stop"
}
(kill -STOP "$BASHPID"; exec "$build/hadamard" "${killargv[@]}") 2> "$tmp/killed.err" &
pid=$!
wait_stopped "$pid" || fail "the shard to be killed ended before it started"
done_before=0 slices=0
while :; do
    kill -CONT "$pid"
    sleep 0.002
    kill -STOP "$pid" 2>/dev/null || break
    wait_stopped "$pid" || break
    slices=$((slices + 1))
    [ -d "$kill_dir" ] && done_before=$(files_of "$kill_dir" | wc -l)
    [ "$done_before" -ge 5 ] && break
    [ $slices -lt 20000 ] || fail "the shard wrote $done_before outputs in $slices slices"
done
case $(state "$pid") in
    T | t) ;;
    *) wait "$pid" || true
       pid=''
       fail "shard $k finished ($done_before outputs) before it could be killed part-way" ;;
esac
rc=0
# (stderr aside: bash's own "Killed" notice about its child)
{ kill -KILL "$pid"; wait "$pid"; } 2>/dev/null || rc=$?
pid=''
[ $rc = 137 ] || fail "the killed shard exited $rc, not 137 (SIGKILL)"
[ "$done_before" -lt "$images" ] || fail "shard $k had done all $images photos when killed"
# even SIGKILL leaves only whole outputs: every one there is the reference's
while IFS= read -r f; do
    cmp -s "$kill_dir/$f" "$tmp/ref/$f" || fail "after SIGKILL, $f is not the single-node output"
done < <(files_of "$kill_dir")
(cd "$kill_dir" && files_of . | while IFS= read -r f; do echo "$f $(stat -c %i "$f")"; done) \
    > "$tmp/before"

with_options rerunargv "" "--out-dir --report" --out-dir "$kill_dir" --report "$tmp/rerun.jsonl"
"$build/hadamard" "${rerunargv[@]}" 2> "$tmp/rerun.err" ||
    { cat "$tmp/rerun.err"; fail "the rerun with --resume failed"; }
report_entries "$tmp/rerun.jsonl" | LC_ALL=C sort > "$tmp/rerun.entries"
diff <(awk '{print $2}' "$tmp/shard.entries" | sort) <(awk '{print $2}' "$tmp/rerun.entries" | sort) > "$tmp/d" ||
    fail "the rerun of shard $k did not list the inputs the shard had: $(head -4 "$tmp/d" | tr '\n' ' ')"
[ -z "$(awk '{print $2}' "$tmp/rerun.entries" | sort | uniq -d)" ] || fail "the rerun lists an input twice"
grep -v '^ok \|^skipped ' "$tmp/rerun.entries" && fail "the rerun did not do every input"
ok=$(grep -c '^ok ' "$tmp/rerun.entries" || true)
resumed=0
while read -r status output; do
    f=${output#"$kill_dir"/}
    [ -f "$kill_dir/$f" ] || fail "the rerun left no $f"
    if [ "$status" = skipped ]; then
        resumed=$((resumed + 1))
        inode=$(awk -v f="$f" '$1 == f { print $2 }' "$tmp/before")
        [ -n "$inode" ] || fail "the rerun skipped $f, which the killed shard had not written"
        [ "$(stat -c %i "$kill_dir/$f")" = "$inode" ] || fail "the rerun skipped $f but replaced it"
    fi
done < <(report_outputs "$tmp/rerun.jsonl")
[ "$resumed" -ge 1 ] || fail "the rerun redid all $images photos: none of the $done_before done before the kill was resumed"
# one job: at most the one file in flight at the kill (its output there, its record not) is redone
[ "$resumed" -ge $((done_before - 1)) ] ||
    fail "the rerun resumed $resumed of the $done_before outputs there before the kill, one job at a time"
[ "$ok" = $((images - resumed)) ] ||
    fail "the rerun did $ok photos and resumed $resumed of $images: some were done twice or not at all"
[ "$(files_of "$kill_dir" | wc -l)" = "$images" ] || fail "after the rerun, $kill_dir does not hold $images outputs"
while IFS= read -r f; do
    cmp -s "$kill_dir/$f" "$tmp/ref/$f" || fail "after the rerun, $f is not the single-node output"
done < <(files_of "$kill_dir")
echo "parallel_test: shard $k killed after $done_before of $images; the rerun resumed $resumed and did $ok, all identical ($((SECONDS - t0)) s)"
