#!/usr/bin/env bash
# ab.sh - two builds of TinyTorch C++ side by side: did a change make it faster?
#
#   bench/ab.sh BUILD_A BUILD_B [--rounds K] [--threads N] [--repeats R] [--only LIST] [--op NAME]
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
        --threads|--repeats|--only|--op) args+=("$1" "$2"); shift 2 ;;
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
python3 - "$out" "$rounds" <<'PY'
import re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def read(side):
    vals = {}
    for r in range(1, rounds + 1):
        for line in open(f"{out}/{side}.{r}.txt"):
            m = re.match(r"RESULT (\S+) ([-0-9.eE+]+) (.*)", line)
            if m and m.group(1) != "threads":
                vals.setdefault(m.group(1), []).append((float(m.group(2)), m.group(3)))
    return vals
A, B = read("a"), read("b")
print(f"{'metric':28} {'A':>14} {'B':>14}  B speed-up   (medians of {rounds} alternating rounds; raw: {out})")
for k, va in A.items():
    if k not in B: continue
    ma, mb, unit = statistics.median(v for v, _ in va), statistics.median(v for v, _ in B[k]), va[0][1]
    rate = "/s" in unit
    up = (mb / ma) if rate else (ma / mb)
    print(f"{k:28} {ma:>11.4g} {unit:2} {mb:>11.4g} {unit:2}  {up:6.3f}x")
PY
