#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# slurm_test.sh — the README's Slurm job-array recipe, run on a one-node Slurm cluster started
# on this machine: 300 photos in a tree, the recipe's array tasks against one single-node batch.
#   tests/slurm_test.sh BUILD_DIR SOURCE_DIR
# munged, slurmctld and slurmd run from a scratch directory (their own key, socket, ports,
# state, spool, logs and pid files; nothing of the machine's own Slurm or munge is used) and
# are always stopped at the end. The sbatch command is read out of README.md (its array made
# 0-3, its `/shared` paths moved into the scratch directory, `hadamard` taken from BUILD_DIR);
# the shard count is the recipe's $SLURM_ARRAY_TASK_COUNT. Asserts outcomes only: the tasks'
# reports together list every input exactly once with the single-node status, and the outputs
# are byte-identical to the single-node batch's. Not root, or Slurm or munge not installed: it
# skips (exit 77) saying why, except under CI=true, where it fails.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
fail() { echo "slurm_test: $*" >&2; exit 1; }
if [ -z "${HDM_SLURM_WATCHDOG:-}" ]; then
    # the whole test under a watchdog: a hang is a failure (the daemons are stopped either way)
    rc=0
    HDM_SLURM_WATCHDOG=1 timeout -k 15 300 bash "$0" "$@" || rc=$?
    if [ $rc = 124 ] || [ $rc = 137 ]; then fail "timed out after 300 s"; fi
    exit $rc
fi
cannot() {
    [ "${CI:-}" != true ] || fail "cannot run a Slurm cluster here: $* (CI=true: it must run)"
    echo "slurm_test: skipped: $*"
    exit 77
}
[ "$(id -u)" = 0 ] || cannot "not root: slurmd and munged here run as root"
for b in munged slurmctld slurmd sbatch sinfo scontrol scancel; do
    command -v "$b" >/dev/null 2>&1 ||
        cannot "$b is not installed (.ci/deps --tests installs slurm-wlm and munge)"
done

tmp=$(mktemp -d /tmp/hdm-slurm.XXXXXX)
chmod 700 "$tmp"
pids=()
cleanup() {
    local p
    if [ -f "$tmp/slurm.conf" ]; then
        SLURM_CONF=$tmp/slurm.conf timeout 10 scancel --quiet --user=root 2>/dev/null || true
    fi
    # newest first: slurmd, slurmctld, then munged, which they need to the end
    for ((p = ${#pids[@]} - 1; p >= 0; p--)); do
        kill "${pids[$p]}" 2>/dev/null || continue
        for _ in $(seq 100); do kill -0 "${pids[$p]}" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "${pids[$p]}" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP
# shellcheck source=tests/cluster_lib.sh
. "$src/tests/cluster_lib.sh"
t0=$SECONDS
# logs: the end of every daemon's log, for a failure's message
logs() { for f in "$tmp"/log/*; do echo "== $f"; tail -n 15 "$f"; done; }

# The recipe: sbatch's options, the array, and the command it wraps.
recipe_argv sbatch '^sbatch '
sargv=(--wait) wrap='' array='' i=0
while [ $i -lt ${#argv[@]} ]; do
    a=${argv[$i]}
    case $a in
        --array=* | -a?*) array=${a#--array=} ;;
        --array | -a) i=$((i + 1)); array=${argv[$i]:-} ;;
        --wrap=*) wrap=${a#--wrap=} ;;
        --wrap) i=$((i + 1)); wrap=${argv[$i]:-} ;;
        *) sargv+=("$a") ;;
    esac
    i=$((i + 1))
done
[ -n "$array" ] || fail "README.md's Slurm recipe is not a job array (no --array): ${argv[*]}"
[ -n "$wrap" ] || fail "README.md's Slurm recipe wraps no command (no --wrap): ${argv[*]}"
[[ $wrap == *'$SLURM_ARRAY_TASK_COUNT'* ]] ||
    fail "README.md's Slurm recipe does not take its shard count from \$SLURM_ARRAY_TASK_COUNT"
n=4
sargv+=(--array=0-$((n - 1)))
work=$tmp/shared
wrap=${wrap//\/shared/$work}
sargv+=(--wrap "$wrap")
echo "slurm_test: the README's job array ($array, run as 0-$((n - 1))) wraps: $wrap"

# task_argv K: hargv for array task K of n
task_argv() { SLURM_ARRAY_TASK_ID=$1 SLURM_ARRAY_TASK_COUNT=$n batch_argv "$wrap"; }
reports=()
for ((k = 0; k < n; k++)); do
    task_argv $k
    [ "$(option_value --shard)" = "$k/$n" ] ||
        fail "array task $k of $n runs --shard '$(option_value --shard)', not $k/$n"
    [ -n "$(option_value --report)" ] || fail "the recipe's tasks write no --report"
    reports+=("$(option_value --report)")
done
[ "$(printf '%s\n' "${reports[@]}" | sort -u | wc -l)" = "$n" ] ||
    fail "the array tasks would write one report: ${reports[*]}"
out=$(option_value --out-dir)
[ -n "$out" ] || fail "the recipe names no --out-dir"

# A one-node cluster: munged with its own key and socket, slurmctld and slurmd on free ports.
host=$(hostname -s)
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/log" "$tmp/run"
chmod 700 "$tmp/munge"
if command -v mungekey >/dev/null 2>&1; then
    mungekey --create --keyfile="$tmp/munge/munge.key" 2> "$tmp/log/mungekey" ||
        fail "mungekey could not make a key: $(cat "$tmp/log/mungekey")"
else
    dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
fi
chmod 600 "$tmp/munge/munge.key"
sock=$tmp/munge/munge.socket
munged --foreground --force --socket="$sock" --key-file="$tmp/munge/munge.key" \
    --log-file="$tmp/log/munged.log" --pid-file="$tmp/run/munged.pid" \
    --seed-file="$tmp/munge/munged.seed" 2>> "$tmp/log/munged.log" &
pids+=($!)
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { logs; fail "munged did not open its socket"; }
if command -v munge >/dev/null 2>&1; then
    munge --socket="$sock" -n | unmunge --socket="$sock" > /dev/null ||
        { logs; fail "munged does not sign and check a credential"; }
fi

# free_port: a TCP port no socket of this machine listens on (from /proc/net/tcp{,6})
free_port() {
    local used p
    used=$(awk 'FNR > 1 && $4 == "0A" { split($2, a, ":"); print a[2] }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null | while read -r p; do echo $((16#$p)); done)
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 30000))
        grep -qx "$p" <<< "$used" || [ "$p" = "${1:-}" ] || { echo $p; return; }
    done
    fail "no free TCP port"
}
ctld_port=$(free_port)
d_port=$(free_port "$ctld_port")
[ "$d_port" != "$ctld_port" ] || d_port=$((ctld_port + 1))
: > "$tmp/plugstack.conf"
cat > "$tmp/slurm.conf" << EOF
# a one-node cluster for slurm_test.sh, all of it in $tmp
ClusterName=hdmtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
PlugStackConfig=$tmp/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MailProg=/bin/true
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=256 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$tmp/slurm.conf
slurmctld -D -c -f "$SLURM_CONF" > "$tmp/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" > "$tmp/log/slurmd.out" 2>&1 &
pids+=($!)
state=
for _ in $(seq 300); do
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || { logs; fail "a Slurm daemon exited"; }; done
    state=$(sinfo -h -N -n "$host" -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.2
done
[ "$state" = idle ] || { logs; fail "the node is '$state', not idle, after 60 s"; }
echo "slurm_test: a one-node cluster ($host, $(nproc) CPUs) is up ($((SECONDS - t0)) s)"

make_photos "$tmp/gen"
task_argv 0
nfound=$(place_photos "$tmp/gen")
echo "slurm_test: made 300 photos and a mask ($((SECONDS - t0)) s)"

# the reference: the same steps and inputs in one batch on one node
with_options refargv "--resume" "--shard --report --out-dir" --out-dir "$tmp/ref" --report "$tmp/ref.jsonl"
"$build/hadamard" "${refargv[@]}" 2> "$tmp/ref.err" || { cat "$tmp/ref.err"; fail "the single-node batch failed"; }

# the recipe, as the job array; --wait: sbatch returns when every task has ended, with the
# highest exit status among them
rc=0
(cd "$tmp" && PATH=$build:$PATH sbatch "${sargv[@]}") > "$tmp/sbatch.log" 2>&1 || rc=$?
if [ $rc != 0 ]; then
    cat "$tmp/sbatch.log"
    for f in "$tmp"/slurm-*.out; do [ -f "$f" ] && { echo "== $f"; cat "$f"; }; done
    logs
    fail "the job array failed (sbatch exit $rc)"
fi
echo "slurm_test: the job array ended ($((SECONDS - t0)) s)"
ntasks=$(find "$tmp" -maxdepth 1 -name 'slurm-*_*.out' | wc -l)
[ "$ntasks" = $n ] || fail "$ntasks array tasks ran, not $n"
check_shards "$tmp/ref.jsonl" "$nfound" "${reports[@]}"
same_tree "$out" "$tmp/ref"
echo "slurm_test: $n array tasks did each of $nfound inputs once, outputs identical to one batch ($((SECONDS - t0)) s)"
