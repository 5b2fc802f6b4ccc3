#!/usr/bin/env bash
# plain_vs_fast.sh - module 09's plain reference (the straightforward solution a
# student writes: im2col + one GEMM per image, plain loops, fused ops as calls
# to the separate ops) against its fast variant, in one build, side by side.
#
#   bench/plain_vs_fast.sh [--build DIR] [--rounds K] [--threads N] [--repeats R] [--only LIST] [--serial]
#
# Runs DIR/bin/tt_bench (default: build) with --impl reference and with
# --impl fast alternately, K rounds each (default 3; the order swaps every
# round), and prints for every metric the median over the rounds of each and
# how many times the fast variant's time the plain reference takes (plain / fast).
# --serial adds a third program: the reference with its loops over images,
# planes and channels run one after another (sp::parallel_for not used: the
# student who does not reach step 5 of the README's "Start here"), built as
# the dev-only target tt_bench_09_serial, and a second table, serial / fast.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$(dirname "$here")/build"
rounds=3
serial=0
args=(--only cifar,digits,ops)
while [[ $# -gt 0 ]]; do
    case "$1" in
        --build) build="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --only) args=(--only "$2" "${args[@]:2}"); shift 2 ;;
        --threads|--repeats) args+=("$1" "$2"); shift 2 ;;
        --serial) serial=1; shift ;;
        -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "plain_vs_fast.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
build="$(cd "$build" && pwd)"
bench="$build/bin/tt_bench"
[[ -x "$bench" ]] || { echo "plain_vs_fast.sh: $bench not found (build it first, or name --build DIR)" >&2; exit 1; }
[[ -f "$build/lib/tt_09_spatial_fast.so" ]] || { echo "plain_vs_fast.sh: $build/lib/tt_09_spatial_fast.so not built" >&2; exit 1; }
out="$(mktemp -d "${TMPDIR:-/tmp}/tt_plain_fast.XXXXXX")"
if ((serial)); then
    cmake --build "$build" --target tt_bench_09_serial > "$out/build-serial.log" ||
        { echo "plain_vs_fast.sh: building tt_bench_09_serial failed (see $out/build-serial.log)" >&2; exit 1; }
    # The reference libraries, and the serial module 09 as the student's.
    mkdir -p "$out/lib"
    ln -s "$build"/lib/*_reference.so "$out/lib/"
    ln -s "$build/bench-lib/tt_09_spatial_student.so" "$out/lib/"
fi
run() {  # run NAME ROUND
    case "$1" in
        plain) "$bench" --impl reference "${args[@]}" > "$out/plain.$2.txt" ;;
        fast) "$bench" --impl fast "${args[@]}" > "$out/fast.$2.txt" ;;
        serial) TITO_LIB_DIR="$out/lib" "$bench" --impl reference,09=student "${args[@]}" > "$out/serial.$2.txt" ;;
    esac
}
programs=(plain fast)
((serial)) && programs+=(serial)
for ((r = 1; r <= rounds; ++r)); do
    if ((r % 2)); then order=("${programs[@]}"); else order=(); for ((i = ${#programs[@]} - 1; i >= 0; --i)); do order+=("${programs[i]}"); done; fi
    for p in "${order[@]}"; do run "$p" "$r"; done
done
echo "medians of $rounds alternating rounds; raw output in $out"
echo "the last column: how many times the fast variant's time the other takes"
awk -f "$here/median_table.awk" -v left=plain -v right=fast -v left_label=plain -v right_label=fast \
    -v subject=right -v decimals=2 "$out"/plain.*.txt "$out"/fast.*.txt
if ((serial)); then
    echo
    awk -f "$here/median_table.awk" -v left=serial -v right=fast -v left_label=serial -v right_label=fast \
        -v subject=right -v decimals=2 "$out"/serial.*.txt "$out"/fast.*.txt
fi
