#!/usr/bin/env bash
# ./tito release --gradescope: the bundle's files exist, the scripts are valid
# bash, the zip holds them, the hidden tests are in and the solution sources
# out; then run_autograder runs for real on a trial /autograder tree (module
# 01 only, with --integrated: 01 on the student's own 01 too, on this build's
# tito-cli) and writes results.json with the integrated run as its own entry.
source "$(dirname "$0")/lib.sh"

out="$TMP/bundle"
run_tito "$TMP/out" release --gradescope --modules 01 --integrated --timeout 20 --out "$out" --skip-untracked
check "release --gradescope exits 0" test "$rc" -eq 0
cat "$TMP/out"
for f in setup.sh run_autograder autograder.zip tinytorch/CMakeLists.txt tinytorch/prebuilt/release.cmake \
         tinytorch/grader/batch/CMakeLists.txt; do
  check "the bundle has $f" test -f "$out/$f"
done
check "setup.sh is executable" test -x "$out/setup.sh"
check "run_autograder is executable" test -x "$out/run_autograder"
check "setup.sh is valid bash" bash -n "$out/setup.sh"
check "run_autograder is valid bash" bash -n "$out/run_autograder"
check "setup.sh installs the packages" grep -q "apt-get install" "$out/setup.sh"
# every package ./tito setup installs (its PACKAGES list), no fewer
for pkg in $(sed -n '/^readonly PACKAGES=(/,/)/p' "$SRC/tito" | tr -d '()' | sed 's/readonly PACKAGES=//'); do
  check "setup.sh installs $pkg, as ./tito setup does" grep -qw -- "$pkg" "$out/setup.sh"
done
check "setup.sh builds the grading targets" grep -q -- "--target tt_grading" "$out/setup.sh"
check "setup.sh removes the hidden test sources after the build" grep -q 'rm -rf "$src/grader/hidden"' "$out/setup.sh"
check "setup.sh makes the tree root-only" grep -q 'chmod -R go-rwx "$src"' "$out/setup.sh"
check "run_autograder writes results as cases finish" grep -q -- '--live-results "$results/results.json"' "$out/run_autograder"
check "run_autograder grades the chosen modules" grep -q 'MODULES="01"' "$out/run_autograder"
check "run_autograder passes --integrated" grep -q 'INTEGRATED=--integrated' "$out/run_autograder"
run_tito "$TMP/out-bad" release --gradescope --modules 02-03 --integrated --out "$TMP/bad" --skip-untracked
check "--integrated without 01-NN is a usage error" test "$rc" -eq 2
check "... that says which modules" contains "$TMP/out-bad" "--modules 01-NN"
run_tito "$TMP/out-bad" release --integrated --out "$TMP/bad" --skip-untracked
check "--integrated without --gradescope is a usage error" test "$rc" -eq 2
check "... and nothing was written" test ! -e "$TMP/bad"
check "run_autograder writes results.json" grep -q "results/results.json\|results.json" "$out/run_autograder"
if [ -d "$SRC/grader/hidden" ]; then
  check "the bundle has the hidden tests" diff -r "$SRC/grader/hidden" "$out/tinytorch/grader/hidden"
fi
check "the bundle has no reference sources" test -z "$(find "$out/tinytorch/modules" -name reference)"
(cd "$out" && cmake -E tar tf autograder.zip) >"$TMP/zip.txt" 2>&1
check "the zip lists setup.sh" grep -qx "setup.sh" "$TMP/zip.txt"
check "the zip lists run_autograder" grep -qx "run_autograder" "$TMP/zip.txt"
check "the zip holds the tree" grep -q "^tinytorch/prebuilt/tt_01_tensor_reference.so" "$TMP/zip.txt"

# A trial run: /autograder/source/tinytorch with this build as its build/.
ag="$TMP/autograder"
mkdir -p "$ag/source" "$ag/submission/modules/01_tensor/student"
cp -r "$out/tinytorch" "$ag/source/"
ln -s "$(dirname "$BIN")" "$ag/source/tinytorch/build"
cp "$SRC"/modules/01_tensor/reference/* "$ag/submission/modules/01_tensor/student/"
AUTOGRADER_ROOT="$ag" bash "$out/run_autograder" >"$TMP/ag.out" 2>&1
check "run_autograder exits 0" test $? -eq 0
json="$ag/results/results.json"
check "run_autograder wrote results.json" test -f "$json"
score="$(grep -m1 -oE '"score": [0-9.]+' "$json" | grep -oE '[0-9.]+$')"
max="$(grep -m1 -oE '"max_score": [0-9.]+' "$json" | grep -oE '[0-9.]+$')"
check "a complete module 01 earns full marks ($score/$max)" test -n "$score" -a "$score" = "$max" -a "$max" != "0"
check "results.json has per-case tests" grep -q '"name": "01 tensor: ' "$json"
# The integrated run: one entry of its own, full marks, the total unchanged.
grep -A5 '"name": "01 integrated: ' "$json" >"$TMP/integrated.txt"
check "results.json has one integrated entry" test "$(grep -c '"name": "01 integrated: ' "$json")" -eq 1
check "the integrated entry passed" grep -qx '      "status": "passed",' "$TMP/integrated.txt"
check "the integrated entry has full marks ($max)" \
  bash -c "grep -qx '      \"score\": $max,' '$TMP/integrated.txt' && grep -qx '      \"max_score\": $max,' '$TMP/integrated.txt'"
check "the integrated entry says how many cases passed" \
  grep -qE 'graded on your own module 01 .*: ([0-9]+) of \1 cases passed' "$TMP/integrated.txt"
# The top-level score is the module's cases' sum: the integrated entry is not in it.
cases_sum="$(awk '/"name": "01 integrated: /{skip=1} /^      "score": /{if(!skip){gsub(/[^0-9.]/,"");s+=$0}; skip=0} END{print s}' "$json")"
check "the integrated score is not added to the total ($score = $cases_sum)" test "$score" = "$cases_sum"
# A submission with nothing in it still gets a results.json.
rm -rf "$ag/submission" "$ag/results"
mkdir -p "$ag/submission"
echo "hello" > "$ag/submission/README.txt"
AUTOGRADER_ROOT="$ag" bash "$out/run_autograder" >"$TMP/ag2.out" 2>&1
check "an empty submission still gets results.json" grep -q '"score": 0' "$ag/results/results.json"
check "an empty submission is told what to submit" grep -q "modules/NN_name/student" "$ag/results/results.json"
finish
