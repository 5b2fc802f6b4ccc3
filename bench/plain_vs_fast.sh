#!/usr/bin/env bash
# plain_vs_fast.sh - module 09's plain reference (the straightforward solution a
# student writes: im2col + one GEMM per image, plain loops, fused ops as calls
# to the separate ops) against its fast variant, in one build, side by side.
#
#   bench/plain_vs_fast.sh [--build DIR] [--rounds K] [--threads N] [--repeats R] [--only LIST]
#
# Runs DIR/bin/tt_bench (default: build) with --impl reference and with
# --impl fast alternately, K rounds each (default 3; the order swaps every
# round), and prints for every metric the median over the rounds of each and
# how many times slower the plain reference is (plain time / fast time).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$(dirname "$here")/build"
rounds=3
args=(--only cifar,digits,ops)
while [[ $# -gt 0 ]]; do
    case "$1" in
        --build) build="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --only) args=(--only "$2"); shift 2 ;;
        --threads|--repeats) args+=("$1" "$2"); shift 2 ;;
        -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "plain_vs_fast.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
bench="$build/bin/tt_bench"
[[ -x "$bench" ]] || { echo "plain_vs_fast.sh: $bench not found (build it first, or name --build DIR)" >&2; exit 1; }
[[ -f "$build/lib/tt_09_spatial_fast.so" ]] || { echo "plain_vs_fast.sh: $build/lib/tt_09_spatial_fast.so not built" >&2; exit 1; }
out="$(mktemp -d "${TMPDIR:-/tmp}/tt_plain_fast.XXXXXX")"
for ((r = 1; r <= rounds; ++r)); do
    if ((r % 2)); then
        "$bench" --impl reference "${args[@]}" > "$out/plain.$r.txt"
        "$bench" --impl fast "${args[@]}" > "$out/fast.$r.txt"
    else
        "$bench" --impl fast "${args[@]}" > "$out/fast.$r.txt"
        "$bench" --impl reference "${args[@]}" > "$out/plain.$r.txt"
    fi
done
echo "medians of $rounds alternating rounds; raw output in $out"
echo "the last column: how many times the fast variant's speed the plain reference takes (plain / fast)"
awk -f "$here/median_table.awk" -v left=plain -v right=fast -v left_label=plain -v right_label=fast \
    -v subject=right -v decimals=2 "$out"/plain.*.txt "$out"/fast.*.txt
