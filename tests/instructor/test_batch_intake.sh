#!/usr/bin/env bash
# ./tito grade-batch on what a class really hands in (module 01 only):
#   "Doe, Jane"   the reference as student files, under a name with a comma
#   o"brien       the stub, under a name with a quote
#   =1+1          the stub, under a name a spreadsheet reads as a formula
#   twin          a copy of "Doe, Jane" with other comments and layout
#   zipped.zip    the reference, as a zip archive
#   flat          the reference's files uploaded flat, plus a misplaced src/shape.cpp
#   notes.txt     not a submission: named as skipped
#   secret        (as root) includes a root-only file: must not compile, and
#                 the file's contents appear nowhere in the results
#   borrower      its shape.cpp only #includes the reference's shape.cpp by its
#                 absolute path: the checkout is hidden from builds, so it
#                 does not compile (where a mount namespace can be made)
# Then: a symbolic link planted at a results.json is replaced, not followed;
# --single regrading with --update keeps the other rows; without --update the
# old gradebook is kept aside with a warning; outputs inside the repository
# are refused; hidden cases (the [hidden] tag) are exactly the non-visible
# ones; a killed --single run leaves a partial --live-results file.
source "$(dirname "$0")/lib.sh"

subs="$TMP/submissions"
put() {  # put SUBMISSION MODULE FROM_DIR
  mkdir -p "$subs/$1/modules/$2/student"
  cp "$3"/* "$subs/$1/modules/$2/student/"
}
REF="$SRC/modules/01_tensor/reference"
STUB="$SRC/modules/01_tensor/student"
put "Doe, Jane" 01_tensor "$REF"
put 'o"brien' 01_tensor "$STUB"
put "=1+1" 01_tensor "$STUB"
put twin 01_tensor "$REF"
for f in "$subs/twin/modules/01_tensor/student/"*.cpp; do
  sed -i 's#//.*$#// my own comment#; s/^    /\t/' "$f"
done
mkdir -p "$TMP/zipsrc/modules/01_tensor/student"
cp "$REF"/* "$TMP/zipsrc/modules/01_tensor/student/"
(cd "$TMP/zipsrc" && cmake -E tar cf "$subs/zipped.zip" --format=zip modules)
mkdir -p "$subs/flat/src"
cp "$REF"/* "$subs/flat/"
rm "$subs/flat/shape.cpp"
cp "$REF/shape.cpp" "$subs/flat/src/shape.cpp"
cp "$REF/shape.cpp" "$subs/flat/src/shape.cpp"
echo "not a submission" > "$subs/notes.txt"
secret_marker="TT-SECRET-$RANDOM$RANDOM"
if [ "$(id -u)" = 0 ]; then
  echo "$secret_marker" > "$TMP/root-only.txt"
  chmod 600 "$TMP/root-only.txt"
  put secret 01_tensor "$STUB"
  echo "#include \"$TMP/root-only.txt\"" >> "$subs/secret/modules/01_tensor/student/shape.cpp"
fi
if unshare -m true 2>/dev/null || unshare -rm true 2>/dev/null; then can_hide=1; else can_hide=0; fi
put borrower 01_tensor "$REF"
echo "#include \"$REF/shape.cpp\"" > "$subs/borrower/modules/01_tensor/student/shape.cpp"

csv="$TMP/gradebook.csv"
res="$TMP/gradebook-results"
# A link planted where results.json goes: the write must replace it, not follow it.
mkdir -p "$res/twin"
echo "victim" > "$TMP/victim.txt"
ln -s "$TMP/victim.txt" "$res/twin/results.json"

run_tito "$TMP/out" grade-batch "$subs" -j 2 --modules 01 --out "$csv" --export-sources "$TMP/moss"
cat "$TMP/out"
check "grade-batch exits 0" test "$rc" -eq 0
cat "$csv"
check "the header has the similarity column" \
  grep -qx "id,01_tensor,01_tensor_max,total,max_total,status,reason,similarity" <(head -n1 "$csv")
check "notes.txt is named as skipped" contains "$TMP/out" "skipped notes.txt"
check "a name with a comma is one quoted cell" grep -q '^"Doe, Jane",' "$csv"
check "a name with a comma is graded (full marks)" bash -c "grep '^\"Doe, Jane\",' '$csv' | grep -q ',ok,'"
check "a name with a quote is one quoted cell" grep -q '^"o""brien",' "$csv"
check "a name with a quote configures and builds" bash -c "grep '^\"o\"\"brien\",' '$csv' | grep -q ',ok,'"
check "a formula-like name is escaped" grep -q "^'=1+1," "$csv"
check "no cell starts a formula" bash -c "! grep -qE '(^|,)[=+@]' '$csv'"
max01="$(grep '^twin,' "$csv" | cut -d, -f3)"
check "the zip submission has a row (id from the archive name)" grep -q "^zipped,$max01," "$csv"
check "the flat upload is graded in full" grep -q "^flat,$max01," "$csv"
check "the flat upload's misplaced file is named" bash -c "grep '^flat,' '$csv' | grep -q 'src/shape.cpp'"
check "twin is flagged as identical to Doe, Jane" bash -c "grep '^twin,' '$csv' | grep -q 'Doe, Jane'"
check "twin is flagged as identical to the reference" bash -c "grep '^twin,' '$csv' | grep -q '01=reference'"
check "the stub submissions are not flagged as the reference" bash -c "! grep \"^'=1+1,\" '$csv' | grep -q reference"
check "the planted link was replaced by a file" test -f "$res/twin/results.json" -a ! -L "$res/twin/results.json"
check "the link's target was not written" grep -qx victim "$TMP/victim.txt"
check "sources exported for similarity checkers" test -f "$TMP/moss/01_tensor/twin/shape.cpp"
if [ "$(id -u)" = 0 ]; then
  check "secret: a root-only include does not compile" bash -c "grep '^secret,' '$csv' | grep -q compile_error"
  check "secret: the file's contents are nowhere in the results" \
    bash -c "! grep -rq '$secret_marker' '$csv' '$res' '$TMP/out'"
else
  echo "skip: the root-only include needs root"
fi

if [ "$can_hide" = 1 ]; then
  check "borrower: the reference source by its absolute path does not compile" \
    bash -c "grep '^borrower,' '$csv' | grep -q compile_error"
else
  echo "skip: no mount namespace here, the checkout cannot be hidden from builds"
fi

# Hidden cases: exactly the cases the grader tags [hidden] are not visible.
"$BIN/tt_grade_01" "[hidden]" --list-test-names-only | sed '/^ *$/d' | sort >"$TMP/hidden.txt"
awk -F'"' '/^      "name": /{n=$4} /^      "visibility": /{if ($4 != "visible") print n}' \
  "$res/Doe, Jane/results.json" | sed 's/^01 tensor: //' | sort >"$TMP/nonvisible.txt"
cases="$(grep -c '^      "name": ' "$res/Doe, Jane/results.json")"
check "results.json has an execution_time per case" \
  test "$(grep -c '^      "execution_time": ' "$res/Doe, Jane/results.json")" -eq "$cases"
check "the grader has hidden cases" test -s "$TMP/hidden.txt"
check "every [hidden] case, and only those, is non-visible" diff "$TMP/hidden.txt" "$TMP/nonvisible.txt"

# Regrading one student: --update keeps the other rows.
rows="$(wc -l < "$csv")"
run_tito "$TMP/out" grade-batch "$subs/=1+1" --single --update --modules 01 --out "$csv" --results-dir "$res"
check "--single --update exits 0" test "$rc" -eq 0
check "--update keeps every row" test "$(wc -l < "$csv")" -eq "$rows"
check "--update keeps the other grades" grep -q "^twin,$max01," "$csv"
run_tito "$TMP/out" grade-batch "$subs/=1+1" --single --modules 01 --out "$csv" --results-dir "$res"
check "replacing a gradebook warns" contains "$TMP/out" "--update merges instead"
check "the replaced gradebook is kept aside" test "$(wc -l < "$csv.previous")" -eq "$rows"

run_tito "$TMP/out" grade-batch "$subs" --modules 01 --out "$SRC/gradebook-test-$$.csv"
check "a gradebook inside the repository is refused (2)" test "$rc" -eq 2
check "... and not written" test ! -e "$SRC/gradebook-test-$$.csv"
check "... saying why" contains "$TMP/out" "inside the repository"

# A run killed half-way still leaves a valid results.json with what finished.
live="$TMP/live/results.json"
mkdir -p "$TMP/live"
"$TITO" grade-batch "$subs/Doe, Jane" --single --modules 01 --out "$TMP/live.csv" --results-dir "$TMP/live-res" \
  --live-results "$live" >"$TMP/live.out" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [ -f "$live" ] && [ "$(grep -c '^      "status": ' "$live")" -ge 3 ] && break
  sleep 0.2
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
check "a killed run left a results.json" test -f "$live"
check "the partial results.json has the finished cases" test "$(grep -c '^      "status": ' "$live")" -ge 3
check "the partial results.json says it is incomplete" grep -q "INCOMPLETE" "$live"
check "the partial results.json is whole (ends its object)" test "$(tail -c 2 "$live")" = "}"
finish
