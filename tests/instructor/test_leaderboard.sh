#!/usr/bin/env bash
# ./tito grade-batch --leaderboard: milestone 04 part 1 on each submission's
# own libraries, when its integrated grade of 09 unlocks the milestone.
#   full   the reference sources of modules 01-09 as student files: graded
#          integrated (full marks), the milestone runs, its figures are the
#          ones its metrics.json holds
#   part   module 01 only: 09's integrated grade fails, a row says locked
# Building nine modules per submission is most of this test's time.
source "$(dirname "$0")/lib.sh"

subs="$TMP/submissions"
for dir in "$SRC"/modules/[0-9][0-9]_*/; do
  name="$(basename "$dir")"
  mkdir -p "$subs/full/modules/$name/student"
  cp "$dir"reference/* "$subs/full/modules/$name/student/"
done
mkdir -p "$subs/part/modules/01_tensor/student"
cp "$SRC"/modules/01_tensor/reference/* "$subs/part/modules/01_tensor/student/"

# Refused before anything is built.
run_tito "$TMP/out" grade-batch "$subs" --modules 01-03 --out "$TMP/gb.csv" --leaderboard "$TMP/lb.csv"
check "--leaderboard without module 09 is a usage error" test "$rc" -eq 2
check "... that names --modules 01-09" contains "$TMP/out" "--modules 01-09"
run_tito "$TMP/out" grade-batch "$subs" --out "$TMP/gb.csv" --leaderboard "$SRC/leaderboard.csv"
check "a leaderboard inside the repository is refused" test "$rc" -eq 2 -a ! -e "$SRC/leaderboard.csv"
check "nothing was graded" test ! -e "$TMP/gb.csv"

csv="$TMP/gradebook.csv"
lb="$TMP/leaderboard.csv"
run_tito "$TMP/out" grade-batch "$subs" -j 2 --out "$csv" --leaderboard "$lb"
cat "$TMP/out"
check "grade-batch exits 0" test "$rc" -eq 0
check "the leaderboard exists" test -f "$lb"
cat "$csv" "$lb"
check "--leaderboard implies the integrated column" grep -q ",integrated_09,integrated_09_max," <(head -n1 "$csv")
gfield() { grep "^$1," "$csv" | cut -d, -f"$2"; }
check "full: integrated 09 has full marks" test -n "$(gfield full 20)" -a "$(gfield full 20)" = "$(gfield full 21)"
check "part: integrated 09 is 0" test "$(gfield part 20)" = "0"

check "the leaderboard's header" grep -qx \
  "rank,id,cnn_test_accuracy,cnn_shifted_accuracy,mlp_test_accuracy,mlp_shifted_accuracy,cnn_train_seconds,mlp_train_seconds,run_seconds,status,note" \
  <(head -n1 "$lb")
check "one row per submission" test "$(wc -l < "$lb")" -eq 3
check "the run comes first, ranked 1" test "$(sed -n 2p "$lb" | cut -d, -f1-2)" = "1,full"
row() { grep "^[0-9]*,$1," "$lb"; }
field() { row "$1" | cut -d, -f"$2"; }
check "full: status ok" test "$(field full 10)" = "ok"
# Every figure is the one the run wrote to its metrics.json (kept in the results).
metrics="$TMP/gradebook-results/full/milestone-04-part1-metrics.json"
check "the run's metrics.json is kept" test -f "$metrics"
check "the run used the student libraries" grep -q '"libraries": "student"' "$metrics"
# metric MODEL KEY DIGITS: the value in metrics.json, as the CSV prints it.
metric() {
  awk -v model="\"$1\"," -v key="\"$2\":" -v digits="$3" '
    $1 == "\"name\":" { in_model = ($2 == model) }
    in_model && $1 == key { gsub(/,$/, "", $2); printf "%.*f\n", digits, $2; exit }' "$metrics"
}
check "CNN clean accuracy is the run's ($(field full 3))" test "$(field full 3)" = "$(metric CNN accuracy_a 4)"
check "CNN shifted accuracy is the run's" test "$(field full 4)" = "$(metric CNN accuracy_b 4)"
check "MLP clean accuracy is the run's" test "$(field full 5)" = "$(metric MLP accuracy_a 4)"
check "MLP shifted accuracy is the run's" test "$(field full 6)" = "$(metric MLP accuracy_b 4)"
check "CNN seconds are the run's" test "$(field full 7)" = "$(metric CNN train_seconds 2)"
check "MLP seconds are the run's" test "$(field full 8)" = "$(metric MLP train_seconds 2)"
# A trained CNN on ten classes: far above chance (0.1), at most 1.
check "the CNN learned (0.5 < accuracy <= 1)" awk -v a="$(field full 3)" 'BEGIN { exit !(a > 0.5 && a <= 1) }'
check "the whole run took longer than the CNN's training" \
  awk -v run="$(field full 9)" -v cnn="$(field full 7)" 'BEGIN { exit !(run >= cnn && run > 0) }'
check "the run's log is kept" grep -q "Results (measured in this run)" "$TMP/gradebook-results/full/milestone-04-part1.txt"

check "part: no rank, status locked" test "$(field part 1),$(field part 10)" = ",locked"
check "part: no figures" test "$(row part | cut -d, -f3-9)" = ",,,,,,"
check "part: the note says why (the gate's reason)" bash -c "grep '^,part,' '$lb' | grep -q 'every test must pass'"
check "part: the milestone did not run" test ! -e "$TMP/gradebook-results/part/milestone-04-part1.txt"
finish
