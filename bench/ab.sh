#!/usr/bin/env bash
# ab.sh - two builds of TinyTorch C++ side by side: did a change make it faster?
#
#   bench/ab.sh BUILD_A BUILD_B [--rounds K] [--threads N] [--repeats R] [--only LIST] [--op NAME] [--impl SPEC]
#
# Runs BUILD_A/bin/tt_bench and BUILD_B/bin/tt_bench alternately, K rounds
# each (default 5; the order swaps every round), so that both see the same machine conditions (on a shared
# machine single runs of one binary vary by 10% and more from minute to
# minute), and prints for every RESULT metric the median over the rounds of
# each build and B's speed-up over A (A time / B time; for rates B / A).
set -euo pipefail
if [[ $# -lt 2 ]]; then sed -n '2,10p' "${BASH_SOURCE[0]}"; exit 2; fi
a="$1"; b="$2"; shift 2
rounds=5
args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --threads|--repeats|--only|--op|--impl) args+=("$1" "$2"); shift 2 ;;
        *) echo "ab.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
for d in "$a" "$b"; do
    [[ -x "$d/bin/tt_bench" ]] || { echo "ab.sh: $d/bin/tt_bench not found (build it first)" >&2; exit 1; }
done
out="$(mktemp -d "${TMPDIR:-/tmp}/tt_ab.XXXXXX")"
# A first in odd rounds, B first in even ones: the first of a pair can meet
# other conditions than the second (measured here: up to 20%).
for ((r = 1; r <= rounds; ++r)); do
    if ((r % 2)); then
        "$a/bin/tt_bench" "${args[@]}" > "$out/a.$r.txt"
        "$b/bin/tt_bench" "${args[@]}" > "$out/b.$r.txt"
    else
        "$b/bin/tt_bench" "${args[@]}" > "$out/b.$r.txt"
        "$a/bin/tt_bench" "${args[@]}" > "$out/a.$r.txt"
    fi
done
echo "medians of $rounds alternating rounds; raw output in $out"
awk -f "$(dirname "${BASH_SOURCE[0]}")/median_table.awk" -v left=a -v right=b -v left_label=A -v right_label=B \
    -v subject=right -v decimals=3 "$out"/a.*.txt "$out"/b.*.txt
