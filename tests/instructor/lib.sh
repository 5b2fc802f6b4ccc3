# Shared by the instructor tests: arguments, a scratch directory, checks.
#   test_X.sh SOURCE_DIR BIN_DIR LIB_DIR
set -uo pipefail
SRC="$1"
BIN="$2"
LIB="$3"
TITO="$BIN/tito-cli"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/tt-instructor-XXXXXX")"
chmod 755 "$TMP"
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT
export NO_COLOR=1 TITO_PROGRESS="$TMP/progress.json"
unset TITO_IMPL TITO_LIB_DIR TITO_SOURCE_DIR
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
# check DESCRIPTION COMMAND...: the command must succeed.
check() { local what="$1"; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
# run_tito OUTFILE ARGS...: run tito-cli, output (both streams) to OUTFILE, sets $rc.
run_tito() { local out="$1"; shift; "$TITO" "$@" >"$out" 2>&1; rc=$?; }
contains() { grep -qF -- "$2" "$1"; }
finish() {
  if [ "$failures" -gt 0 ]; then echo "$failures check(s) failed" >&2; exit 1; fi
  echo "all checks passed"
}
