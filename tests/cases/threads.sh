#!/bin/bash
# Threads by creation stack, end to end. A C target parks threads from a known
# function (some before attach, the rest after a signal) beside a path that makes
# and joins short-lived threads; Go targets make the runtime start OS threads
# (goroutines blocked in read(2), goroutines locked to their thread), with every Go
# toolchain at hand; a cgo target has both Go's threads and C's own. leakscope's
# numbers are checked against the targets' own counters and /proc/PID/task.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh"

tmp=$(mktemp -d /tmp/leakscope-threads.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

# The last periodic report in a JSON file.
last_report() { jq -s '[.[] | select(.type=="interval") | .report] | max // 0' "$1"; }

# tsum FILE R FILTER: sum of .live over thread stack records of report R matching FILTER.
tsum() {
	jq -s "[.[] | select(.type==\"stack\" and .view==\"threads\" and .final==false and .report==$2) | select($3) | .live] | add // 0" "$1"
}

# Frame predicates on a thread stack record.
F0='(.frames[0].func // "")'
F1='(.frames[1].func // "")'
HAS_NEWM='any(.frames[]; .func=="runtime.newm")'
HAS_TEMPLATE='any(.frames[]; .func=="runtime.templateThread")'

# trace NAME DIR PID: leakscope on PID for 5 one-second reports, SIGUSR1 to PID after
# the first second; output in DIR/out.json, DIR/err, status in $lrc.
trace() {
	local name=$1 dir=$2 pid=$3
	"$LEAKSCOPE" --suspects off -p "$pid" --json -T 0 -w threads 1 5 >"$dir/out.json" 2>"$dir/err" &
	local lpid=$!
	if ! wait_for 20 grep -q 'tracing pid' "$dir/err"; then
		fail "$name: attach" "$(head -3 "$dir/err")"
		kill "$lpid" 2>/dev/null
		wait "$lpid" 2>/dev/null
		lrc=1
		return 1
	fi
	sleep 1.2
	kill -USR1 "$pid"
	wait "$lpid"
	lrc=$?
	[ $lrc -eq 0 ] && pass "$name: leakscope exits 0" ||
		fail "$name: leakscope exits 0" "exit $lrc: $(tail -3 "$dir/err")"
	[ $lrc -eq 0 ]
}

# Every thread created while attached has a stack; nothing was dropped.
check_complete() {
	local name=$1 out=$2 R=$3 lost drops
	lost=$(tsum "$out" "$R" '.stack_captured==false and .pre_attach==false')
	drops=$(jq -s "[.[] | select(.type==\"interval\" and .report==$R) | .threads.drops] | add // 0" "$out")
	if [ "$lost" = 0 ] && [ "$drops" = 0 ]; then
		pass "$name: every thread created while attached has its stack"
	else
		fail "$name: every thread created while attached has its stack" "$lost without a stack, $drops drops"
	fi
}

# Total live against the target's own count of /proc/self/task (a thread may be in
# flight on the steady path, so within 2).
check_total() {
	local name=$1 out=$2 R=$3 want=$4 total
	total=$(jq -s "[.[] | select(.type==\"interval\" and .report==$R) | .threads.live] | add // 0" "$out")
	if [ -n "$want" ] && [ $((total - want)) -le 2 ] && [ $((want - total)) -le 2 ]; then
		pass "$name: live threads match /proc/PID/task ($total vs $want)"
	else
		fail "$name: live threads match /proc/PID/task" "leakscope $total, target $want"
	fi
}

native_bin() {
	local src=$LEAKSCOPE_ROOT/tests/targets/threads/threads.c
	local out=$LEAKSCOPE_BUILD/targets/threads/threads
	if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
		mkdir -p "$(dirname "$out")"
		gcc -O2 -g -fno-omit-frame-pointer -pthread -o "$out" "$src" >&2 || return 1
	fi
	echo "$out"
}

native_case() {
	local name="threads C" bin=$1 dir PRE=8 POST=12
	dir=$(mktemp -d "$tmp/native.XXXXXX")
	"$bin" -pre $PRE -post $POST -churn 200 -status "$dir/status" >"$dir/target.out" 2>&1 &
	local tpid=$!
	if ! wait_for 10 grep -q 'ready 1' "$dir/status"; then
		fail "$name: target start" "$(head -3 "$dir/target.out")"
		kill $tpid
		return
	fi
	trace "$name" "$dir" $tpid
	local threads post R out=$dir/out.json
	threads=$(status_get "$dir/status" threads)
	post=$(status_get "$dir/status" parked_post)
	kill $tpid
	wait $tpid
	R=$(last_report "$out")
	if [ $lrc -ne 0 ] || [ "$R" != 5 ] || [ "$post" != $POST ]; then
		fail "$name: run shape" "exit $lrc, reports $R, parked_post $post (want 5, $POST)"
		return
	fi

	# The leak: one stack, with the function that called pthread_create, exact count.
	local live nrec names
	live=$(tsum "$out" $R "$F0==\"pthread_create\" and $F1==\"park_threads\"")
	nrec=$(jq -s "[.[] | select(.type==\"stack\" and .view==\"threads\" and .report==$R and .final==false and $F1==\"park_threads\")] | length" "$out")
	names=$(jq -s "[.[] | select(.type==\"stack\" and .view==\"threads\" and .report==$R and .final==false and $F1==\"park_threads\") | .names.parker // 0] | add // 0" "$out")
	if [ "$live" = $POST ] && [ "$nrec" = 1 ] && [ "$names" = $POST ]; then
		pass "$name: parked threads by creation stack (pthread_create <- park_threads): $live live"
	else
		fail "$name: parked threads by creation stack" "live $live in $nrec records, named parker $names (want $POST in 1)"
		jq -c "select(.type==\"stack\" and .report==$R and .final==false) | {live, pre_attach, names, f: [.frames[].func]}" "$out" | head -8
	fi
	if jq_any "$out" "select(.type==\"stack\" and .final and $F1==\"park_threads\") | .live==$POST and .live_at_attach==0 and .created==$POST and .exited==0"; then
		pass "$name: summary shows the parked threads as growth since attach"
	else
		fail "$name: summary shows the parked threads as growth since attach" \
			"$(jq -c "select(.type==\"stack\" and .final and $F1==\"park_threads\") | {live, live_at_attach, created, exited}" "$out")"
	fi

	# Threads from before attach: counted exactly, by name.
	local pre_live pre_parkers untracked
	pre_live=$(tsum "$out" $R '.pre_attach')
	pre_parkers=$(jq -s "[.[] | select(.type==\"stack\" and .view==\"threads\" and .report==$R and .final==false and .pre_attach) | .names.parker // 0] | add // 0" "$out")
	untracked=$(jq -s "[.[] | select(.type==\"interval\" and .report==$R) | .threads.untracked] | add // 0" "$out")
	# The main thread and the churner besides the parked ones.
	if [ "$pre_live" = $((PRE + 2)) ] && [ "$pre_parkers" = $PRE ] && [ "$untracked" = $((PRE + 2)) ]; then
		pass "$name: threads from before attach counted by name ($pre_parkers parker of $pre_live)"
	else
		fail "$name: threads from before attach counted by name" "live $pre_live (want $((PRE + 2))), parker $pre_parkers (want $PRE), untracked $untracked"
	fi

	# The steady path: created and exited match in every report, nothing accumulates.
	local steady="$F0==\"pthread_create\" and $F1==\"spawn_short_lived\" and .frames[2].func==\"churn_loop\""
	local created worst maxlive net
	created=$(jq -s "[.[] | select(.type==\"stack\" and .final==false and $steady) | .created] | add // 0" "$out")
	worst=$(jq -s "[.[] | select(.type==\"stack\" and .final==false and $steady) | (.created - .exited) | fabs] | max // 99" "$out")
	maxlive=$(jq -s "[.[] | select(.type==\"stack\" and .final==false and $steady) | .live] | max // 99" "$out")
	net=$(jq -s "[.[] | select(.type==\"stack\" and .final and $steady) | .net] | add // 99" "$out")
	if [ "$created" -ge 500 ] && [ "$worst" -le 2 ] && [ "$maxlive" -le 2 ] && [ "${net#-}" -le 2 ]; then
		pass "$name: steady path: created = exited, no growth (created $created, worst gap $worst, net $net)"
	else
		fail "$name: steady path: created = exited, no growth" "created $created, worst |created-exited| $worst, max live $maxlive, net $net"
	fi

	check_complete "$name" "$out" $R
	check_total "$name" "$out" $R "$threads"
}

# Started under leakscope, and the target exits mid-session: its threads are seen
# from the start (probes in place before exec), the summary is kept.
native_launch_case() {
	local name="threads C, started under leakscope" bin=$1 out=$tmp/launch.json
	"$LEAKSCOPE" --suspects off --json -T 0 -w threads -o "$out" 1 30 -- "$bin" -pre 3 -post 0 -churn 50 \
		-duration 3 >"$tmp/launch.target.out" 2>"$tmp/launch.err"
	local rc=$? R RP live pre main
	R=$(last_report "$out")
	# The parked threads' report: the last one may fall while the process exits.
	RP=$(jq -s '[.[] | select(.type=="stack" and .final==false and .frames[1].func=="park_threads")] | max_by(.live) | .report // 0' "$out")
	live=$(tsum "$out" "$RP" "$F1==\"park_threads\"")
	pre=$(tsum "$out" "$RP" '.pre_attach')
	main=$(tsum "$out" "$RP" '.main_thread')
	if [ $rc -eq 0 ] && jq_any "$out" '.type=="summary" and .end=="target_exited"' &&
		grep -q "exited; the summary above" "$tmp/launch.err" && [ "$R" -ge 1 ]; then
		pass "$name: target exits mid-session, summary kept, exit 0"
	else
		fail "$name: target exits mid-session" "exit $rc, reports $R: $(head -3 "$tmp/launch.err")"
	fi
	# Nothing predates the probes: the main thread is the program's own, since its start.
	if [ "$live" = 3 ] && [ "$pre" = 0 ] && [ "$main" = 1 ]; then
		pass "$name: every thread it made has its stack ($live parked; main thread its own, none before attach)"
	else
		fail "$name: every thread it made has its stack" "parked $live (want 3), before attach $pre (want 0), main thread $main (want 1)"
	fi
}

go_case() {
	local name=$1 bin=$2 dir PRE=10 POST=20 LOCKED=4
	dir=$(mktemp -d "$tmp/go.XXXXXX")
	"$bin" -pre $PRE -post $POST -locked $LOCKED -status "$dir/status" >"$dir/target.out" 2>&1 &
	local tpid=$!
	if ! wait_for 10 grep -q 'ready 1' "$dir/status"; then
		fail "$name: target start" "$(head -3 "$dir/target.out")"
		kill $tpid
		return
	fi
	trace "$name" "$dir" $tpid
	# The locked goroutines park their threads asynchronously: let the count settle.
	wait_for 5 grep -q "locked $LOCKED" "$dir/status"
	sleep 0.2
	local threads post R out=$dir/out.json
	threads=$(status_get "$dir/status" threads)
	post=$(status_get "$dir/status" blocked_post)
	kill $tpid
	wait $tpid
	R=$(last_report "$out")
	if [ $lrc -ne 0 ] || [ "$R" != 5 ] || [ "$post" != $POST ]; then
		fail "$name: run shape" "exit $lrc, reports $R, blocked_post $post (want 5, $POST)"
		return
	fi

	# Go's new Ms, each with the stack that made the runtime start it.
	local made bynewm plausible
	made=$(tsum "$out" $R '.pre_attach==false')
	bynewm=$(tsum "$out" $R "$F0==\"runtime.newm1\"")
	plausible=$(tsum "$out" $R "$F0==\"runtime.newm1\" and ($HAS_NEWM or $HAS_TEMPLATE)")
	# Each goroutine blocked in read(2) or locked holds a thread: POST + LOCKED more,
	# less the few idle ones from before attach the runtime may reuse.
	if [ "$made" -ge $POST ] && [ "$bynewm" = "$made" ] && [ "$plausible" = "$made" ]; then
		pass "$name: threads the runtime started are attributed to runtime.newm and its cause ($made)"
	else
		fail "$name: threads the runtime started are attributed to runtime.newm" \
			"$made made while attached, $bynewm at runtime.newm1, $plausible with newm/templateThread"
		jq -c "select(.type==\"stack\" and .report==$R and .final==false) | {live, pre_attach, f: [.frames[].func]}" "$out" | head -8
	fi
	# Starting Ms for blocked syscalls is sysmon's doing (retake -> handoffp).
	if [ "$(tsum "$out" $R "$F0==\"runtime.newm1\" and any(.frames[]; .func==\"runtime.handoffp\")")" -gt 0 ]; then
		pass "$name: threads for goroutines blocked in syscalls show runtime.handoffp"
	else
		fail "$name: threads for goroutines blocked in syscalls show runtime.handoffp" "no such stack"
	fi
	check_complete "$name" "$out" $R
	check_total "$name" "$out" $R "$threads"
}

cgo_case() {
	local name=$1 bin=$2 dir CT=6
	dir=$(mktemp -d "$tmp/cgo.XXXXXX")
	"$bin" -pre 5 -post 10 -cthreads $CT -status "$dir/status" >"$dir/target.out" 2>&1 &
	local tpid=$!
	if ! wait_for 10 grep -q 'ready 1' "$dir/status"; then
		fail "$name: target start" "$(head -3 "$dir/target.out")"
		kill $tpid
		return
	fi
	trace "$name" "$dir" $tpid
	local threads ct R out=$dir/out.json
	threads=$(status_get "$dir/status" threads)
	ct=$(status_get "$dir/status" cthreads)
	kill $tpid
	wait $tpid
	R=$(last_report "$out")
	if [ $lrc -ne 0 ] || [ "$R" != 5 ] || [ "$ct" != $CT ]; then
		fail "$name: run shape" "exit $lrc, reports $R, cthreads $ct (want 5, $CT)"
		return
	fi
	local c gos
	c=$(tsum "$out" $R "$F0==\"pthread_create\" and $F1==\"c_park_threads\"")
	# Go's Ms also go through pthread_create here, but keep runtime.newm1's stack.
	gos=$(tsum "$out" $R "$F0==\"pthread_create\"")
	if [ "$c" = $CT ] && [ "$gos" = $CT ]; then
		pass "$name: C threads by their C caller, Go's by runtime.newm1 ($c)"
	else
		fail "$name: C threads by their C caller, Go's by runtime.newm1" "c_park_threads $c (want $CT), all pthread_create $gos"
	fi
	if jq_any "$out" "select(.type==\"stack\" and .report==$R and $F1==\"c_park_threads\") | any(.frames[]; .func==\"main.main.func1\")"; then
		pass "$name: C thread stacks continue into the Go caller"
	else
		fail "$name: C thread stacks continue into the Go caller" "$(jq -c "select(.type==\"stack\" and .report==$R and $F1==\"c_park_threads\") | [.frames[].func]" "$out")"
	fi
	check_complete "$name" "$out" $R
	check_total "$name" "$out" $R "$threads"
}

if bin=$(native_bin); then
	native_case "$bin"
	native_launch_case "$bin"
else
	fail "threads C: build" "gcc failed"
fi

while read -r version gocmd; do
	[ -n "$version" ] || continue
	flavors="default"
	# The oldest and the newest prologue shapes, stripped and PIE as well.
	case $version in go1.19 | "$(go_toolchains | head -1 | cut -d' ' -f1)") flavors="default stripped-pie" ;; esac
	for flavor in $flavors; do
		# shellcheck disable=SC2086
		bin=$(build_go gothreads $flavor $version $gocmd) || {
			fail "threads $version/$flavor: build" "see above"
			continue
		}
		go_case "threads $version/$flavor" "$bin"
	done
	case $version in go1.19 | "$(go_toolchains | head -1 | cut -d' ' -f1)")
		# shellcheck disable=SC2086
		if bin=$(build_go gothreads-cgo default $version $gocmd); then
			cgo_case "threads $version/cgo" "$bin"
		else
			fail "threads $version/cgo: build" "see above"
		fi
		;;
	esac
done <<<"$(go_toolchains)"
testlib_status
