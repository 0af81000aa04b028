#!/bin/sh
# Instructions per policy decision (docs/benchmarks.md): runs bench_policy --decisions N under callgrind,
# counting only inside gw_policy_decide (--toggle-collect), once per case, and divides by N.
# Deterministic, so it compares before/after on a loaded machine. Usage: policy_instructions.sh [BUILD_DIR [N]]
set -eu
build=${1:-build-rel}
n=${2:-200000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
per_decision() {
    valgrind --tool=callgrind --callgrind-out-file="$out/$1.out" --toggle-collect=gw_policy_decide \
        "$build/tests/bench_policy" --decisions "$n" "$1" >/dev/null 2>&1
    awk -v n="$n" '/^totals:/ { printf "%.1f", $2 / n }' "$out/$1.out"
}
one=$(per_decision 1x1)
many=$(per_decision 1000x5)
echo "instructions per decision (callgrind, $n decisions per case)"
echo "  1 tenant x 1 policy          $one"
echo "  1,000 tenants x 5 policies   $many"
awk -v a="$one" -v b="$many" 'BEGIN { printf "  ratio 1000x5 / 1x1           %.2f\n", b / a }'
