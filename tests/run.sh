#!/bin/bash
# Runs the whole suite: unit tests (tests/unit/*.sh) then end-to-end cases (tests/cases/*.sh).
# Each script reports results through tests/lib/testlib.sh; this prints the closing line
# "N passed, N failed, N skipped" and exits non-zero on any failure.
#
# Cases spend most of their time waiting for reports, so LEAKSCOPE_JOBS of them (default
# 2) run at once, each script's output printed whole when it ends. A script whose header
# has the line "# leakscope-test: alone" (it looks at the whole machine, e.g. that no
# probe is left behind) runs by itself after the others. LEAKSCOPE_JOBS=1: one at a time.
set -u
cd "$(dirname "$0")/.."
export LEAKSCOPE_BUILD=$(realpath -m "${LEAKSCOPE_BUILD:-$PWD/build}")
export LEAKSCOPE=$(realpath -m "${LEAKSCOPE:-$LEAKSCOPE_BUILD/leakscope}")
export LEAKSCOPE_ROOT=$PWD
jobs=${LEAKSCOPE_JOBS:-2}
start=$(date +%s)
only=${1:-}
out=$(mktemp -d /tmp/leakscope-run.XXXXXX)
trap 'rm -rf "$out"' EXIT

# case_build SCRIPT: the build directory a case sees: the build's files, and targets/ of
# its own (cases running at once rebuild no program another one is running).
case_build() {
	local cb=$LEAKSCOPE_BUILD/cases/$(basename "$1" .sh) f
	mkdir -p "$cb/targets"
	for f in "$LEAKSCOPE_BUILD"/*; do
		case ${f##*/} in targets | cases) continue ;; esac
		[ -e "$cb/${f##*/}" ] || ln -sfn "$f" "$cb/${f##*/}"
	done
	echo "$cb"
}

# run_one SCRIPT: runs it with its own results file and log, into SCRIPT's .done file.
run_one() {
	local t=$1 key rc t0 b=$LEAKSCOPE_BUILD
	key=$(tr / _ <<<"$t")
	t0=$(date +%s)
	case $t in tests/cases/*) b=$(case_build "$t") ;; esac
	LEAKSCOPE_BUILD=$b LEAKSCOPE_RESULTS=$out/$key.results bash "$t" >"$out/$key.log" 2>&1 </dev/null
	rc=$?
	touch "$out/$key.results"
	# A script that dies without reporting anything must not pass silently.
	if [ "$rc" -ne 0 ] && ! grep -q '^fail ' "$out/$key.results"; then
		echo "  FAIL  $t: exited $rc without reporting a failure" >>"$out/$key.log"
		echo "fail $t" >>"$out/$key.results"
	elif [ ! -s "$out/$key.results" ]; then
		echo "  FAIL  $t: reported no results" >>"$out/$key.log"
		echo "fail $t" >>"$out/$key.results"
	fi
	{
		echo "== $t"
		cat "$out/$key.log"
		echo "   ($t: $(($(date +%s) - t0)) s)"
	} >"$out/$key.done"
}

show() { cat "$out/$(tr / _ <<<"$1").done" && mv "$out/$(tr / _ <<<"$1").done" "$out/$(tr / _ <<<"$1").shown"; }

scripts=() alone=()
for t in tests/unit/*.sh tests/cases/*.sh; do
	[ -e "$t" ] || continue
	case "$t" in *"$only"*) ;; *) continue ;; esac
	if grep -q '^# leakscope-test: alone' "$t"; then alone+=("$t"); else scripts+=("$t"); fi
done

# Units first, one at a time (they are quick); then the cases, $jobs at a time.
running=0
for t in "${scripts[@]}"; do
	case "$t" in
	tests/unit/*)
		run_one "$t"
		show "$t"
		continue
		;;
	esac
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	run_one "$t" &
	running=$((running + 1))
	# Print whatever ended meanwhile.
	for d in "$out"/*.done; do
		[ -e "$d" ] && cat "$d" && mv "$d" "$d.shown"
	done
done
wait
for d in "$out"/*.done; do [ -e "$d" ] && cat "$d" && mv "$d" "$d.shown"; done
for t in ${alone[@]+"${alone[@]}"}; do
	run_one "$t"
	show "$t"
done

results=$(cat "$out"/*.results 2>/dev/null)
p=$(grep -c '^pass ' <<<"$results")
f=$(grep -c '^fail ' <<<"$results")
s=$(grep -c '^skip ' <<<"$results")
if [ "$f" -gt 0 ]; then
	echo
	echo "failed:"
	grep '^fail ' <<<"$results" | sed 's/^fail /  /'
fi
echo
echo "$p passed, $f failed, $s skipped ($(($(date +%s) - start))s)"
[ "$f" -eq 0 ]
