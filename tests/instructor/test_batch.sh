#!/usr/bin/env bash
# ./tito grade-batch: four submissions of modules 01-02 graded in parallel:
#   good     the reference sources as student files: full marks
#   partial  module 01 complete, module 02 the stub, wrapped in an extra
#            folder (an unzipped archive): 01's points only
#   broken   module 01 does not compile: a row with the compiler's reason
#   crash    module 01 crashes in create(): every case crashed, reported
# One CSV row each, and one results.json each; the batch is not aborted.
source "$(dirname "$0")/lib.sh"

subs="$TMP/submissions"
put() {  # put SUBMISSION_PATH MODULE FROM_DIR
  mkdir -p "$subs/$1/modules/$2/student"
  cp "$3"/* "$subs/$1/modules/$2/student/"
}
put good 01_tensor "$SRC/modules/01_tensor/reference"
put good 02_activations "$SRC/modules/02_activations/reference"
put partial/tinytorch-main 01_tensor "$SRC/modules/01_tensor/reference"
put partial/tinytorch-main 02_activations "$SRC/modules/02_activations/student"
put broken 01_tensor "$SRC/modules/01_tensor/student"
echo "this is not C++;" >> "$subs/broken/modules/01_tensor/student/shape.cpp"
put crash 01_tensor "$SRC/modules/01_tensor/reference"
sed -i 's/^tt_status \(create\|empty\)(\(.*\)) {$/tt_status \1(\2) {\n    __builtin_trap();/' \
  "$subs/crash/modules/01_tensor/student/creation.cpp"
check "the crash fixture was made" test "$(grep -c "__builtin_trap" "$subs/crash/modules/01_tensor/student/creation.cpp")" -eq 2

csv="$TMP/gradebook.csv"
run_tito "$TMP/out" grade-batch "$subs" -j 2 --modules 01-02 --out "$csv"
cat "$TMP/out"
check "grade-batch exits 0" test "$rc" -eq 0
check "the gradebook exists" test -f "$csv"
cat "$csv"
check "the header names the modules" \
  grep -qx "id,01_tensor,01_tensor_max,02_activations,02_activations_max,total,max_total,status,reason,similarity" <(head -n1 "$csv")
check "one row per submission" test "$(wc -l < "$csv")" -eq 5
row() { grep "^$1," "$csv"; }
field() { row "$1" | cut -d, -f"$2"; }
max01="$(field good 3)"
max02="$(field good 5)"
check "module 01 is worth points" test "$max01" -gt 0
check "good: full marks in 01" test "$(field good 2)" = "$max01"
check "good: full marks in 02" test "$(field good 4)" = "$max02"
check "good: total" test "$(field good 6)" = "$((max01 + max02))"
check "good: status ok" test "$(field good 8)" = "ok"
check "partial: full marks in 01" test "$(field partial 2)" = "$max01"
check "partial: zero in 02" test "$(field partial 4)" = "0"
check "partial: total is 01's" test "$(field partial 6)" = "$max01"
check "broken: zero" test "$(field broken 6)" = "0"
check "broken: status compile_error" test "$(field broken 8)" = "compile_error"
check "broken: the reason names the file and the error" \
  bash -c "grep '^broken,' '$csv' | grep -q 'modules/01_tensor/student/shape.cpp:[0-9]*:[0-9]*: error'"
check "crash: zero in 01" test "$(field crash 2)" = "0"
check "crash: the reason says the cases crashed" bash -c "grep '^crash,' '$csv' | grep -q 'crashed'"
check "crash: module 02 missing is noted" bash -c "grep '^crash,' '$csv' | grep -q 'no files for module 02'"

res="$TMP/gradebook-results"
for id in good partial broken crash; do
  check "$id has results.json" test -f "$res/$id/results.json"
  check "$id has a build log" test -f "$res/$id/build.log"
done
check "results.json carries the score" grep -q "\"score\": $((max01 + max02))" "$res/good/results.json"
check "results.json names cases by module" grep -q '"name": "02 activations: ' "$res/good/results.json"
check "the broken results.json shows the compiler error" grep -q "error: expected" "$res/broken/results.json"
check "the crash results.json says crashed" grep -q "crashed" "$res/crash/results.json"

run_tito "$TMP/out" grade-batch "$TMP/nothing-here"
check "a missing submissions directory is a usage error" test "$rc" -eq 2
run_tito "$TMP/out" grade-batch "$subs" --modules 10
check "a bad module list is a usage error" test "$rc" -eq 2
finish
