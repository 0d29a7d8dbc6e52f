# Shared by every test script (sourced). Results are appended to $LEAKSCOPE_RESULTS so that
# tests/run.sh can count them; run standalone, a script just prints its own results.
: "${LEAKSCOPE_BUILD:=build}"
: "${LEAKSCOPE_RESULTS:=/dev/null}"
LEAKSCOPE=${LEAKSCOPE:-$LEAKSCOPE_BUILD/leakscope}
_tl_failed=0

pass() {
	printf '  PASS  %s\n' "$1"
	echo "pass $1" >>"$LEAKSCOPE_RESULTS"
}

# fail NAME REASON...
fail() {
	local name=$1
	shift
	printf '  FAIL  %s: %s\n' "$name" "$*"
	echo "fail $name" >>"$LEAKSCOPE_RESULTS"
	_tl_failed=1
}

skip() {
	local name=$1
	shift
	printf '  SKIP  %s: %s\n' "$name" "$*"
	echo "skip $name" >>"$LEAKSCOPE_RESULTS"
}

# check NAME COMMAND...: pass if the command succeeds.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi
}

# Exit status of a sourced test script: non-zero if anything failed in it.
testlib_status() {
	return $_tl_failed
}

# jq_any FILE FILTER: true if FILTER holds for any JSON value in FILE. (jq 1.6's -e
# looks only at the last input, so `jq -e 'select(...)'` is not this.)
jq_any() {
	jq -s -e "any(.[]; $2)" "$1" >/dev/null
}
