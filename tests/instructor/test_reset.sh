#!/usr/bin/env bash
# ./tito module reset NN: backups before every change, list, restore; the
# stubs come from the reference (instructor) or .tito/stubs (release);
# stubs generate backs up what it overwrites; stubs in a release say what
# they need.
source "$(dirname "$0")/lib.sh"

repo="$TMP/repo"
mkdir -p "$repo/modules"
cp "$SRC/CMakeLists.txt" "$repo/"
cp -r "$SRC/modules/01_tensor" "$repo/modules/"
export TITO_SOURCE_DIR="$repo"
student="$repo/modules/01_tensor/student"
backups="$repo/.tito/backups/01_tensor"

# The committed stub: nothing to do, nothing backed up.
run_tito "$TMP/out" module reset 01
check "reset on the stub exits 0" test "$rc" -eq 0
check "reset on the stub says nothing to do" contains "$TMP/out" "nothing to do"
check "reset on the stub makes no backup" test ! -e "$backups"

# The student's work is backed up, then the stub comes back.
echo "// my work on shape" >> "$student/shape.cpp"
echo "int my_helper() { return 1; }" > "$student/my_helper.cpp"
cp -r "$student" "$TMP/work"
run_tito "$TMP/out" module reset 01
check "reset exits 0" test "$rc" -eq 0
stamp="$(ls "$backups" | head -n1)"
check "a backup named by its UTC time" bash -c "[[ '$stamp' =~ ^[0-9]{8}T[0-9]{6}Z$ ]]"
check "the backup holds the student's files" diff -r -x .tito-backup "$TMP/work" "$backups/$stamp"
check "the backup says why" grep -q "reason: before reset" "$backups/$stamp/.tito-backup"
check "student/ holds the committed stub again" diff -r "$SRC/modules/01_tensor/student" "$student"
check "reset prints how to undo" contains "$TMP/out" "--restore $stamp"

run_tito "$TMP/out" module reset 01 --list-backups
check "--list-backups exits 0" test "$rc" -eq 0
check "--list-backups lists the backup" contains "$TMP/out" "$stamp"
check "--list-backups counts the files" contains "$TMP/out" "9 files"

# Restore brings the work back (the current files are the stub: no backup needed).
run_tito "$TMP/out" module reset 01 --restore "$stamp"
check "--restore exits 0" test "$rc" -eq 0
check "--restore brings the files back" diff -r "$TMP/work" "$student"
check "restoring over the stub makes no backup" test "$(ls "$backups" | wc -l)" -eq 1

# Restoring over changed files backs them up first.
echo "// later work" >> "$student/matmul.cpp"
cp -r "$student" "$TMP/later"
sleep 1
run_tito "$TMP/out" module reset 01 --restore latest
check "--restore latest exits 0" test "$rc" -eq 0
check "the changed files were backed up before the restore" test "$(ls "$backups" | wc -l)" -eq 2
newest="$(ls "$backups" | tail -n1)"
check "that backup holds the later work" diff -r -x .tito-backup "$TMP/later" "$backups/$newest"
check "the restored files are the first backup" diff -r "$TMP/work" "$student"

run_tito "$TMP/out" module reset 01 --restore 19990101T000000Z
check "an unknown backup is a usage error (2)" test "$rc" -eq 2
check "an unknown backup lists the real ones" contains "$TMP/out" "$stamp"
run_tito "$TMP/out" module reset
check "reset without NN is a usage error" test "$rc" -eq 2
run_tito "$TMP/out" module reset 10
check "reset 10 is a usage error" test "$rc" -eq 2
run_tito "$TMP/out" module frobnicate 01
check "an unknown action is a usage error" test "$rc" -eq 2

# stubs generate overwrites student files: it backs them up first.
before="$(ls "$backups" | wc -l)"
run_tito "$TMP/out" stubs generate 01
check "stubs generate exits 0" test "$rc" -eq 0
check "stubs generate backed up the student's files" test "$(ls "$backups" | wc -l)" -eq $((before + 1))
check "stubs generate says so" contains "$TMP/out" "backed up modules/01_tensor/student/"
check "the generate backup has the student's work" \
  grep -q "my work on shape" "$backups/$(ls "$backups" | tail -n1)/shape.cpp"

# A student release: no reference sources, the stubs come from .tito/stubs/.
rel="$TMP/release"
mkdir -p "$rel/modules/01_tensor" "$rel/prebuilt" "$rel/.tito/stubs"
cp "$SRC/CMakeLists.txt" "$rel/"
cp -r "$SRC/modules/01_tensor/student" "$rel/modules/01_tensor/"
cp -r "$SRC/modules/01_tensor/student" "$rel/.tito/stubs/01_tensor"
echo "set(TT_RELEASE ON)" > "$rel/prebuilt/release.cmake"
export TITO_SOURCE_DIR="$rel"
echo "// release work" >> "$rel/modules/01_tensor/student/creation.cpp"
run_tito "$TMP/out" module reset 01
check "reset in a release exits 0" test "$rc" -eq 0
check "reset in a release uses .tito/stubs" contains "$TMP/out" ".tito/stubs/01_tensor"
check "reset in a release restores the stub" diff -r "$SRC/modules/01_tensor/student" "$rel/modules/01_tensor/student"
check "reset in a release backs up" grep -rq "release work" "$rel/.tito/backups/01_tensor"
for action in check generate; do
  run_tito "$TMP/out" stubs "$action"
  check "stubs $action in a release exits 3" test "$rc" -eq 3
  check "stubs $action in a release says it needs the reference sources" contains "$TMP/out" "needs the reference sources"
done
run_tito "$TMP/out" stubs check 01
check "stubs check 01 in a release exits 3" test "$rc" -eq 3
check "stubs check 01 points at module reset" contains "$TMP/out" "./tito module reset 01"

finish
