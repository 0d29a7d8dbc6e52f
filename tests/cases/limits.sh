#!/bin/bash
# Bounded resources, nothing silent (issue: trusted next to production): when a map
# leakscope sizes fills, the loss is counted per view and the report names the flag
# that raises the limit; what is still known stays right.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh"

tmp=$(mktemp -d /tmp/leakscope-limits.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

# Native heap: 3000 blocks kept, room for 1024.
T=$LEAKSCOPE_BUILD/targets/native
mkdir -p "$T"
gcc -O2 -g -fno-omit-frame-pointer -Wall -o "$T/cleak" "$LEAKSCOPE_ROOT/tests/targets/cleak/cleak.c"
dir=$tmp/native
mkdir -p "$dir"
"$T/cleak" -status "$dir/status" -count 3000 -rate 20000 -size 100 >"$dir/target.out" 2>&1 &
tpid=$!
pids+=($tpid)
wait_for 10 grep -q 'ready 1' "$dir/status"
"$LEAKSCOPE" --suspects off -p $tpid --max-allocs 1024 1 3 >"$dir/out.txt" 2>"$dir/err" &
lpid=$!
wait_for 20 grep -q 'tracing pid' "$dir/err"
kill -USR1 $tpid
wait $lpid
rc=$?
if [ $rc = 0 ] && grep -Eq '^  warning: [0-9,]+ events lost since attach: [0-9]+ allocations not tracked \(--max-allocs is 1024: raise it\); counts are lower bounds$' "$dir/out.txt"; then
	pass "limits: a full allocation map is counted and names --max-allocs"
else
	fail "limits: a full allocation map names --max-allocs" "exit $rc: $(grep -m1 warning "$dir/out.txt")"
fi
"$LEAKSCOPE" --suspects off -p $tpid --json --max-allocs 1024 1 1 >"$dir/out.json" 2>/dev/null
why=$(jq -r 'select(.type=="interval") | ."native-heap".drops_why' "$dir/out.json" | head -1)
[ "$why" = null ] && pass "limits: a session with room loses nothing (drops_why null)" ||
	fail "limits: a session with room loses nothing" "drops_why: $why"
kill $tpid

# Goroutines: 3000 leaked while attached, room for 1024 creation records.
read -r gover gocmd <<<"$(go_toolchains | head -1)"
# shellcheck disable=SC2086
bin=$(build_go goleak default $gover $gocmd)
dir=$tmp/go
mkdir -p "$dir"
tpid=$(start_target "$bin" "$dir" -pre 0 -leak 3000 -rate 3000 -churn 0 -duration 20s)
pids+=($tpid)
"$LEAKSCOPE" --suspects off -p $tpid --json -T 0 --max-goroutines 1024 1 3 >"$dir/out.json" 2>"$dir/err" &
lpid=$!
wait_for 20 grep -q 'tracing pid' "$dir/err"
kill -USR1 $tpid
wait $lpid
why=$(jq -r 'select(.type=="summary") | .goroutines.drops_why' "$dir/out.json")
live=$(jq -s '[.[] | select(.type=="stack" and .final and .view=="goroutines" and .start_func=="main.blockForever") | .live] | add // 0' "$dir/out.json")
if [[ "$why" =~ ^[0-9]+\ goroutines\ shown\ by\ go\ statement\ only\ \(--max-goroutines\ is\ 1024:\ raise\ it\) ]] &&
	within 2 "$live" 3000; then
	pass "limits: a full goroutine map names --max-goroutines; the leak is still counted ($live)"
else
	fail "limits: a full goroutine map" "drops_why '$why', leak live $live"
fi
testlib_status
