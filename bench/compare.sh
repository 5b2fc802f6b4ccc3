#!/usr/bin/env bash
# compare.sh - TinyTorch C++ (the fastest modules built: module 09 fast) and PyTorch side by side, in
# one run on this machine, with the same thread budget, then the ratios.
#
#   bench/compare.sh [--threads N] [--repeats R] [--rounds K] [--build DIR] [--only LIST] [--nice N]
#
# Runs bin/tt_bench of DIR (default: build, a Release build) and
# bench/torch_bench.py (PyTorch pinned to N threads, OPENBLAS_NUM_THREADS=1)
# alternately, K rounds each (default 2; the order swaps every round), so both
# see the same machine conditions. For every metric it keeps the median over
# the rounds and prints
#   metric, TinyTorch, PyTorch, and the speed-up of TinyTorch over PyTorch
# (PyTorch time / TinyTorch time; for images/s and GFLOP/s, ours / theirs).
# The raw outputs are kept in $TMPDIR/tt_compare.*/ (the path is printed).
# On a machine shared with other work, --nice -20 (as root) runs both
# benchmarks at the highest priority so the others' jobs disturb them less
# (PyTorch's OpenMP threads in particular slow down badly when they have to
# share the cores); the load average is printed before and after.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
threads=2
repeats=9
rounds=2
build="$root/build"
only="cifar,digits,mlp,ops"
nice_level=""

while [[ $# -gt 0 ]]; do
    case "$1" in
        --threads) threads="$2"; shift 2 ;;
        --repeats) repeats="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --build) build="$2"; shift 2 ;;
        --only) only="$2"; shift 2 ;;
        --nice) nice_level="$2"; shift 2 ;;
        -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

bench="$build/bin/tt_bench"
if [[ ! -x "$bench" ]]; then
    echo "compare.sh: $bench not found: build first (cmake --preset default && cmake --build build)," >&2
    echo "            or name the build directory with --build DIR" >&2
    exit 1
fi
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
    echo "compare.sh: PyTorch is not installed for /usr/bin/python3 (apt-get install python3-torch)" >&2
    exit 1
fi
if [[ -f "$build/CMakeCache.txt" ]] && ! grep -q "^CMAKE_BUILD_TYPE:STRING=Release" "$build/CMakeCache.txt"; then
    echo "compare.sh: warning: $build is not a Release build; the figures will not be representative" >&2
fi

run=()
if [[ -n "$nice_level" ]]; then run=(nice -n "$nice_level"); fi

out="$(mktemp -d "${TMPDIR:-/tmp}/tt_compare.XXXXXX")"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores online"
echo "threads: $threads for both; repeats per figure: $repeats; rounds: $rounds; raw output in $out"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)${nice_level:+; nice $nice_level}"
run_tt() {
    echo "round $1/$rounds: tt_bench ..."
    "${run[@]}" "$bench" --threads "$threads" --repeats "$repeats" --only "$only" > "$out/tt.$1.txt"
}
run_torch() {
    echo "round $1/$rounds: torch_bench.py ..."
    OPENBLAS_NUM_THREADS=1 "${run[@]}" /usr/bin/python3 "$here/torch_bench.py" --threads "$threads" --repeats "$repeats" \
        --only "$only" > "$out/torch.$1.txt"
}
# Odd rounds run TinyTorch first, even rounds PyTorch first: whichever runs
# first in a pair can meet different machine conditions than the second.
for ((r = 1; r <= rounds; ++r)); do
    if ((r % 2)); then run_tt "$r"; run_torch "$r"; else run_torch "$r"; run_tt "$r"; fi
done

# Median over rounds per metric, then the table.
echo
awk -f "$here/median_table.awk" -v left=tt -v right=torch -v left_label=TinyTorch -v right_label=PyTorch \
    -v subject=left -v decimals=2 "$out"/tt.*.txt "$out"/torch.*.txt
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
