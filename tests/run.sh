#!/bin/bash
# Runs the whole suite: unit tests (tests/unit/*.sh) then end-to-end cases (tests/cases/*.sh).
# Each script reports results through tests/lib/testlib.sh; this prints the closing line
# "N passed, N failed, N skipped" and exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
export LEAKSCOPE_BUILD=${LEAKSCOPE_BUILD:-$PWD/build}
export LEAKSCOPE=${LEAKSCOPE:-$LEAKSCOPE_BUILD/leakscope}
export LEAKSCOPE_RESULTS=$(mktemp /tmp/leakscope-results.XXXXXX)
export LEAKSCOPE_ROOT=$PWD
start=$(date +%s)
only=${1:-}
crashed=0

for t in tests/unit/*.sh tests/cases/*.sh; do
	[ -e "$t" ] || continue
	case "$t" in *"$only"*) ;; *) continue ;; esac
	echo "== $t"
	before=$(wc -l <"$LEAKSCOPE_RESULTS")
	t0=$(date +%s)
	bash "$t"
	rc=$?
	echo "   ($t: $(($(date +%s) - t0)) s)"
	after=$(wc -l <"$LEAKSCOPE_RESULTS")
	# A script that dies without reporting anything must not pass silently.
	if [ "$rc" -ne 0 ] && ! grep -q '^fail ' <(tail -n +$((before + 1)) "$LEAKSCOPE_RESULTS"); then
		echo "  FAIL  $t: exited $rc without reporting a failure"
		echo "fail $t" >>"$LEAKSCOPE_RESULTS"
		crashed=$((crashed + 1))
	elif [ "$after" -eq "$before" ]; then
		echo "  FAIL  $t: reported no results"
		echo "fail $t" >>"$LEAKSCOPE_RESULTS"
	fi
done

p=$(grep -c '^pass ' "$LEAKSCOPE_RESULTS")
f=$(grep -c '^fail ' "$LEAKSCOPE_RESULTS")
s=$(grep -c '^skip ' "$LEAKSCOPE_RESULTS")
if [ "$f" -gt 0 ]; then
	echo
	echo "failed:"
	grep '^fail ' "$LEAKSCOPE_RESULTS" | sed 's/^fail /  /'
fi
rm -f "$LEAKSCOPE_RESULTS"
echo
echo "$p passed, $f failed, $s skipped ($(($(date +%s) - start))s)"
[ "$f" -eq 0 ]
