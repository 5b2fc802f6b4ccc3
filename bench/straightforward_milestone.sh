#!/usr/bin/env bash
# straightforward_milestone.sh - milestone 04 part 2 on a straightforward
# student stack beside the reference: the CNN's training images/s and the ratio.
#
#   bench/straightforward_milestone.sh --data DIR [--build DIR] [--rounds K] [--limit N]
#
# The student stack: modules 01-08 are the reference sources compiled as the
# student's (<build>/e2e-lib) and module 09 is the dev-only serial fixture
# (tt_bench_09_serial: the reference with its image, plane and channel loops
# on one thread, what a student writes without sp::parallel_for). The script
# grades module 09 --integrated on that stack with a throw-away progress file
# (the milestone's gate), then runs
#   milestone_04_part2 --epochs 1 --limit N --no-mlp        (the student stack)
#   milestone_04_part2 --epochs 1 --limit N --no-mlp --reference
# alternately, K rounds (default 3; the order swaps every round), and prints
# each round's images/s with the load average, the medians and
# reference images/s / student images/s (how many times the reference's time
# the student stack takes). DIR holds CIFAR-10 (or files in its format).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$(dirname "$here")/build"
rounds=3
limit=10000
data=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --build) build="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --limit) limit="$2"; shift 2 ;;
        --data) data="$2"; shift 2 ;;
        -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "straightforward_milestone.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ -n "$data" ]] || { echo "straightforward_milestone.sh: --data DIR is required (CIFAR-10 or files in its format)" >&2; exit 2; }
build="$(cd "$build" && pwd)"
for f in bin/milestone_04_part2 bin/tito-cli; do
    [[ -x "$build/$f" ]] || { echo "straightforward_milestone.sh: $build/$f not built" >&2; exit 1; }
done
[[ -d "$build/e2e-lib" ]] || { echo "straightforward_milestone.sh: $build/e2e-lib not built (the reference sources as student libraries)" >&2; exit 1; }
out="$(mktemp -d "${TMPDIR:-/tmp}/tt_straightforward.XXXXXX")"
cmake --build "$build" --target tt_bench_09_serial > "$out/build-serial.log" ||
    { echo "straightforward_milestone.sh: building tt_bench_09_serial failed (see $out/build-serial.log)" >&2; exit 1; }
mkdir -p "$out/lib"
cp "$build"/e2e-lib/*.so "$out/lib/"
cp "$build/bench-lib/tt_09_spatial_student.so" "$out/lib/"  # the serial module 09 as the student's
cp "$build"/lib/*_reference.so "$out/lib/"
cp "$build"/lib/*_fast.so "$out/lib/" 2>/dev/null || true
export TITO_LIB_DIR="$out/lib" TITO_PROGRESS="$out/progress.json"
"$build/bin/tito-cli" grade 09 --integrated > "$out/grade.log" 2>&1 ||
    { echo "straightforward_milestone.sh: module 09 did not pass on the student stack (see $out/grade.log)" >&2; exit 1; }
run() {  # run student|reference ROUND -> images/s of the CNN's epoch
    local flag=()
    [[ "$1" == reference ]] && flag=(--reference)
    "$build/bin/milestone_04_part2" "${flag[@]}" --data "$data" --epochs 1 --limit "$limit" --no-mlp \
        --out "$out/run-$1" > "$out/$1.$2.txt" 2>&1 ||
        { echo "straightforward_milestone.sh: the $1 run failed (see $out/$1.$2.txt)" >&2; exit 1; }
    awk '/ CNN +epoch +1\/1 /{for (i = 1; i <= NF; ++i) if ($i == "img/s") print $(i - 1)}' "$out/$1.$2.txt"
}
student=(); reference=()
echo "milestone_04_part2 --epochs 1 --limit $limit --no-mlp: the CNN's training images/s; raw output in $out"
for ((r = 1; r <= rounds; ++r)); do
    if ((r % 2)); then s=$(run student "$r"); f=$(run reference "$r"); else f=$(run reference "$r"); s=$(run student "$r"); fi
    student+=("$s"); reference+=("$f")
    printf 'round %d: student %s, reference %s images/s (load average %s)\n' "$r" "$s" "$f" "$(cut -d' ' -f1 /proc/loadavg)"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
ms=$(median "${student[@]}"); mf=$(median "${reference[@]}")
awk -v s="$ms" -v f="$mf" 'BEGIN {printf "median: student %s, reference %s images/s: the student stack takes %.2fx the reference'"'"'s time\n", s, f, f / s}'
