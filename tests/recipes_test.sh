#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# recipes_test.sh — the README's three cluster recipes run one command: the Kubernetes Indexed
# Job's container runs, with $JOB_COMPLETION_INDEX, the very `hadamard batch` that the Slurm job
# array wraps (the one tests/slurm_test.sh runs) with $SLURM_ARRAY_TASK_ID, its shard count the
# Job's `completions:` as the array's is its number of tasks; GNU parallel's runs it with {}.
#   tests/recipes_test.sh BUILD_DIR SOURCE_DIR
# Kubernetes cannot run here, so this is the check that its recipe is the tested one. The
# recipes are parsed by the shell as a user pasting them would (nothing is run).
set -euo pipefail
src=$(cd "$2" && pwd)
fail() { echo "recipes_test: $*" >&2; exit 1; }
tmp=$(mktemp -d /tmp/hdm-recipes.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/cluster_lib.sh
. "$src/tests/cluster_lib.sh"

# Slurm: the array's size and the wrapped command
recipe_argv sbatch '^sbatch '
wrap='' array=''
for ((i = 0; i < ${#argv[@]}; i++)); do
    case ${argv[$i]} in
        --array=*) array=${argv[$i]#--array=} ;;
        --array | -a) array=${argv[$((i + 1))]:-} ;;
        --wrap=*) wrap=${argv[$i]#--wrap=} ;;
        --wrap) wrap=${argv[$((i + 1))]:-} ;;
    esac
done
[ -n "$wrap" ] || fail "the Slurm recipe wraps no command: ${argv[*]}"
[[ $array =~ ^0-([0-9]+)$ ]] || fail "the Slurm recipe's --array is '$array', not 0-LAST"
tasks=$((BASH_REMATCH[1] + 1))

# Kubernetes: the Job's completions and the container's command
completions=$(grep -o '`completions: [0-9]*`' "$src/README.md" | grep -o '[0-9][0-9]*' || true)
[ "$(wc -w <<< "$completions")" = 1 ] ||
    fail "README.md should give the Indexed Job's \`completions: N\` once, not '$completions'"
grep -q '`completionMode: Indexed`' "$src/README.md" || fail "README.md's Job is not an Indexed Job"
kube=$(recipe_block '^hadamard batch .*JOB_COMPLETION_INDEX')
[ -n "$kube" ] || fail "README.md has no \`\`\`sh block running 'hadamard batch' with \$JOB_COMPLETION_INDEX"
[ "$tasks" = "$completions" ] ||
    fail "the Slurm array has $tasks tasks and the Indexed Job $completions completions"

# GNU parallel: the command and its shard numbers
recipe_argv parallel '^parallel '
pcmd='' shards=()
for a in "${argv[@]}"; do
    if [ -n "$pcmd" ]; then
        [ "$a" = ::: ] || shards+=("$a")
    elif [[ $a == *"hadamard batch"* ]]; then
        pcmd=$a
    fi
done
[ -n "$pcmd" ] || fail "the GNU parallel recipe runs no 'hadamard batch': ${argv[*]}"
[ "${shards[*]}" = "$(seq -s ' ' 0 $((${#shards[@]} - 1)))" ] ||
    fail "the GNU parallel recipe's shard numbers are '${shards[*]}', not 0..N-1"

# same ARGS_A ARGS_B WHAT: the two argument lists are equal
same() {
    local -n x=$1 y=$2
    [ "${#x[@]}" = "${#y[@]}" ] && [ "$(printf '%s\n' "${x[@]}")" = "$(printf '%s\n' "${y[@]}")" ] ||
        fail "$3 differ: '${x[*]}' against '${y[*]}'"
}
checked=0
for k in 0 1 $((completions - 1)); do
    SLURM_ARRAY_TASK_ID=$k SLURM_ARRAY_TASK_COUNT=$completions batch_argv "$wrap"
    slurm=("${hargv[@]}")
    [ "$(option_value --shard)" = "$k/$completions" ] ||
        fail "Slurm's task $k of $completions runs --shard '$(option_value --shard)'"
    JOB_COMPLETION_INDEX=$k batch_argv "$kube"
    kubernetes=("${hargv[@]}")
    same slurm kubernetes "the Slurm and Kubernetes commands for shard $k/$completions"
    checked=$((checked + 1))
done
for k in "${shards[@]}"; do
    SLURM_ARRAY_TASK_ID=$k SLURM_ARRAY_TASK_COUNT=${#shards[@]} batch_argv "$wrap"
    slurm=("${hargv[@]}")
    batch_argv "${pcmd//\{\}/$k}"
    gnu=("${hargv[@]}")
    same slurm gnu "the Slurm and GNU parallel commands for shard $k/${#shards[@]}"
    checked=$((checked + 1))
done
echo "recipes_test: Slurm, Kubernetes and GNU parallel run one command ($checked shards compared)"
