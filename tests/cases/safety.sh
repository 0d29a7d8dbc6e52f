#!/bin/bash
# leakscope-test: alone (it looks for uprobes anyone holds on libc: no other case may run)
# The target must never notice. Two targets do, deterministically, what a tracer could
# break, and print counts and checksums only: tests/targets/gostress (stack growth and
# shrinking, goroutine churn, GC pressure and finalizers, cgo calls and callbacks from C
# threads, signals, LockOSThread, panics) and tests/targets/cstress (a thread pool,
# threads made and ended, every malloc-family function, fork, exec, vfork, posix_spawn,
# signals landing in malloc). Each runs untraced for the reference, then under leakscope:
#
#  - gostress built with the machine's Go: SAFETY_RUNS (20) runs started under
#    leakscope, in turn with the default Go views and each view alone (-w), and one
#    attached with -p; built with Go 1.27 (GOTOOLCHAIN=go1.27.3): 2 runs, every view
#    and the Go views.
#    A uretprobe on a Go function that runs on a goroutine stack kills a Go program
#    ("unexpected return pc" when its stack is copied or walked): leakscope probes
#    instructions, never returns, in Go code, and these runs are what shows it.
#  - cstress: SAFETY_RUNS runs, in turn the default native view, -w threads and --mode
#    growth, and one attached.
#  Every traced run must print exactly the reference, exit the same way, never crash,
#  and leakscope must exit 0 without a warning.
#
# What a session leaves behind, ended by its count of reports, SIGINT, SIGTERM and
# SIGKILL, attached and started under leakscope, with every view, the Go views and in
# growth mode: while it traces, its uprobes, programs
# and links are visible and the target's code has breakpoints (so each check can fail);
# after it, none of its BPF programs, links or maps exists, no uprobe is on the target's
# files, the target's code is byte for byte its files again (a uprobe is an int3 written
# into the process's copy of the page: no int3, no trap), and the target runs on
# computing what it computed untraced.
#
# The target's life cycle during a session: it exits (before the first report, and
# after a few in the attached runs: the summary, a note, exit 0), it execs another
# program (one line naming it, end target_exec), its PID goes to another process
# running the same file (in a PID namespace of its own, ns_last_pid set): nothing of the
# new process may be counted.
#
# Runs go SAFETY_JOBS (6) at a time. Most of a session's time is its detach: removing
# a uprobe waits for RCU grace periods (about 0.1 s) under a lock all uprobes share, so
# sessions with the native heap's dozen and more probes are the fewer.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh"

RUNS=${SAFETY_RUNS:-20}
EXTRA_RUNS=${SAFETY_EXTRA_RUNS:-2} # gostress built with the extra Go release
ATTACH_RUNS=${SAFETY_ATTACH_RUNS:-1} # per target
ROUNDS=${SAFETY_ROUNDS:-2}
JOBS=${SAFETY_JOBS:-6}
GAP=200 # ms between the rounds of a long-running target: it leaves the CPU to the rest
EXTRA_GO=${SAFETY_EXTRA_GO:-go1.27.3}
PARTS=${SAFETY_PARTS:-runs detach life} # what to run (to work on one part)
# What a crash, or the Go runtime finding something wrong, prints.
CRASH_RE='fatal error|unexpected return pc|unexpected signal|SIGSEGV|SIGTRAP|SIGILL|SIGBUS|cstress: CRASH|^panic: |^runtime: |traceback|Segmentation fault|core dumped'

tmp=$(mktemp -d /tmp/leakscope-safety.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
t_start=$SECONDS

# ---- a pool of background jobs ----

# spawn LOG COMMAND...: run COMMAND in the background, at most JOBS at a time, its
# output into LOG (printed by show_logs, in the order spawned).
logs=()
spawn() {
	local log=$1
	shift
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
	logs+=("$log")
	"$@" >"$log" 2>&1 &
}
# show_logs: wait for every job, print their output; a FAIL in any fails the script
# (pass and fail in a job append to the results file themselves).
show_logs() {
	local log
	wait
	for log in "${logs[@]}"; do
		cat "$log"
		grep -q '^  FAIL  ' "$log" && _tl_failed=1
	done
	logs=()
}

# ---- the targets ----

cbin=$LEAKSCOPE_BUILD/targets/cstress/cstress
csrc=$LEAKSCOPE_ROOT/tests/targets/cstress/cstress.c
if [ ! -x "$cbin" ] || [ "$csrc" -nt "$cbin" ]; then
	mkdir -p "$(dirname "$cbin")"
	gcc -O2 -g -fno-omit-frame-pointer -Wall -pthread -o "$cbin" "$csrc" || cbin=
fi
[ -n "$cbin" ] || fail "safety: build cstress" "gcc failed"
# Another program file (its own inode) for the exec and PID-reuse cases.
other=$tmp/cstress-other
[ -n "$cbin" ] && cp "$cbin" "$other"

# Both Go builds at once (cgo: a minute on a clean cache).
gbin= xbin= gover= xver=
if command -v go >/dev/null 2>&1; then
	gover=$(GOTOOLCHAIN=local go env GOVERSION)
	build_go gostress default "$gover" env CGO_ENABLED=1 GOTOOLCHAIN=local go >"$tmp/gbin" &
	if LEAKSCOPE_GO_EXTRA=$EXTRA_GO go_toolchains | grep -q "^$EXTRA_GO "; then
		xver=$EXTRA_GO
		build_go gostress default "$xver" env CGO_ENABLED=1 GOTOOLCHAIN=$xver go >"$tmp/xbin" &
	fi
	wait
	gbin=$(cat "$tmp/gbin")
	[ -x "$gbin" ] || { fail "safety: build gostress ($gover, cgo)" "see above"; gbin=; }
	if [ -n "$xver" ]; then
		xbin=$(cat "$tmp/xbin")
		[ -x "$xbin" ] || { fail "safety: build gostress ($xver, cgo)" "see above"; xbin=; }
	else
		skip "safety: gostress built with $EXTRA_GO" "the toolchain is not at hand"
	fi
else
	skip "safety: gostress" "no go toolchain"
fi
echo "  (targets built: $((SECONDS - t_start))s)"

# ---- helpers ----

# crashes FILE: the lines of FILE that show a crash.
crashes() { grep -E "$CRASH_RE" "$1" 2>/dev/null | head -3; }

# leakscope_complaints FILE: leakscope's warnings and errors in FILE.
leakscope_complaints() { grep -E '^leakscope: (warning|error)' "$1" | head -3; }

# first_diff REF OUT: the first lines that differ.
first_diff() { diff "$1" "$2" | head -6 | tr '\n' ' ' | cut -c1-400; }

# reference NAME DIR WANT_RC BIN ARGS...: two untraced runs, into DIR/ref.out; both must
# print the same and exit WANT_RC without a crash (else nothing traced can be judged).
reference() {
	local name=$1 dir=$2 want=$3 rc1 rc2
	shift 3
	mkdir -p "$dir"
	"$@" >"$dir/ref.out" 2>"$dir/ref.err"
	rc1=$?
	"$@" >"$dir/ref2.out" 2>"$dir/ref2.err"
	rc2=$?
	if [ $rc1 -eq "$want" ] && [ $rc2 -eq "$want" ] && cmp -s "$dir/ref.out" "$dir/ref2.out" &&
		[ "$(tail -1 "$dir/ref.out")" = "exit $want" ] && [ -z "$(crashes "$dir/ref.err")" ]; then
		pass "$name: untraced reference is deterministic ($(wc -l <"$dir/ref.out") lines, exit $want, twice)"
		return 0
	fi
	fail "$name: untraced reference is deterministic" \
		"exits $rc1 $rc2 (want $want), $(first_diff "$dir/ref.out" "$dir/ref2.out") $(crashes "$dir/ref.err")"
	return 1
}

# problem D KIND TEXT: record a problem of a traced run (KIND: ls, out, crash, rc, warn,
# end, totals), judged by verdicts.
problem() { echo "$2 $(basename "$1"): $3" >>"$1/problems"; }

# launched_run D REF BIN LEAKSCOPE_OPTS...: one run of `leakscope OPTS -- BIN -rounds
# $ROUNDS`. (leakscope is the target's parent and reaps it: the target's exit status is
# not ours to see, but its output ends with "exit N".)
launched_run() {
	local d=$1 ref=$2 bin=$3 lrc
	shift 3
	mkdir -p "$d"
	: >"$d/problems"
	echo "$*" >"$d/opts"
	timeout -s KILL 120 "$LEAKSCOPE" --suspects off "$@" -o /dev/null 0.2 -- "$bin" -rounds "$ROUNDS" \
		>"$d/out" 2>"$d/err"
	lrc=$?
	[ $lrc -eq 0 ] || problem "$d" ls "exit $lrc ($*): $(grep -v '^leakscope: tracing' "$d/err" | tail -2 | tr '\n' ' ')"
	cmp -s "$ref" "$d/out" || problem "$d" out "($*) $(first_diff "$ref" "$d/out")"
	[ -z "$(crashes "$d/err")" ] || problem "$d" crash "($*) $(crashes "$d/err" | tr '\n' ' ')"
	[ -z "$(leakscope_complaints "$d/err")" ] || problem "$d" warn "($*) $(leakscope_complaints "$d/err" | tr '\n' ' ')"
}

# start_waiting BIN STATUS OUT ERR ARGS...: start a target that waits for SIGUSR1
# (-status); sets tpid. False if it never says ready.
start_waiting() {
	local bin=$1 st=$2 out=$3 err=$4
	shift 4
	rm -f "$st"
	"$bin" -status "$st" "$@" >"$out" 2>"$err" &
	tpid=$!
	wait_for 10 grep -q 'ready 1' "$st" && return 0
	kill $tpid 2>/dev/null
	wait $tpid 2>/dev/null
	return 1
}

# attach_start OUT ERR OPTS...: leakscope -p $tpid OPTS in the background, until it
# says it traces; sets lpid.
attach_start() {
	local out=$1 err=$2
	shift 2
	"$LEAKSCOPE" --suspects off -p "$tpid" "$@" >"$out" 2>"$err" &
	lpid=$!
	wait_for 60 grep -q 'tracing pid' "$err" && return 0
	kill $lpid 2>/dev/null
	wait $lpid 2>/dev/null
	return 1
}

# sane_totals JSON: every view's totals in the reports and the summary look like
# counts (a garbage value is 10^9 and more).
sane_totals() {
	jq -s -e '[.[] | select(.type=="interval" or .type=="summary") | to_entries[]
		| select(.value | type == "object") | .value.live // 0] | all(. >= 0 and . < 100000000)' "$1" >/dev/null
}
totals_of() {
	jq -s -c '[.[] | select(.type=="interval" or .type=="summary") | {r: .report, t: .type[0:1], e: .end,
		v: (to_entries | map(select(.value | type == "object")) | map({(.key): .value.live}) | add)}] | .[-2:]' "$1" | cut -c1-400
}

# attached_run D REF BIN: a run attached with -p to a target waiting for SIGUSR1,
# signalled once leakscope traces it; the target then works and exits while leakscope
# traces it: the session must end "target_exited" with its summary and the note, exit 0.
attached_run() {
	local d=$1 ref=$2 bin=$3 lrc trc want
	want=$(tail -1 "$ref" | awk '{print $2}')
	mkdir -p "$d"
	: >"$d/problems"
	# A pause after each round (the output is the same): the rounds outlast two reports
	# however fast the machine runs them.
	if ! start_waiting "$bin" "$d/status" "$d/out" "$d/target.err" -rounds "$ROUNDS" -gap 500; then
		problem "$d" out "the target did not start"
		return
	fi
	if ! attach_start "$d/out.json" "$d/err" -j -T 0 0.2; then
		problem "$d" ls "did not attach: $(head -2 "$d/err" | tr '\n' ' ')"
		kill $tpid
		wait $tpid
		return
	fi
	kill -USR1 $tpid
	wait $tpid
	trc=$?
	wait $lpid
	lrc=$?
	[ $lrc -eq 0 ] || problem "$d" ls "exit $lrc: $(tail -2 "$d/err" | tr '\n' ' ')"
	[ "$trc" = "$want" ] || problem "$d" rc "exit $trc, untraced $want"
	cmp -s "$ref" "$d/out" || problem "$d" out "$(first_diff "$ref" "$d/out")"
	[ -z "$(crashes "$d/target.err")" ] || problem "$d" crash "$(crashes "$d/target.err" | tr '\n' ' ')"
	[ -z "$(leakscope_complaints "$d/err")" ] || problem "$d" warn "$(leakscope_complaints "$d/err" | tr '\n' ' ')"
	jq_any "$d/out.json" '.type=="summary" and .end=="target_exited"' &&
		grep -q "target $tpid exited; the summary above covers the session" "$d/err" ||
		problem "$d" end "$(jq -c 'select(.type=="summary") | .end' "$d/out.json") $(tail -1 "$d/err")"
	[ "$(jq -s '[.[] | select(.type=="interval")] | length' "$d/out.json")" -ge 2 ] ||
		problem "$d" end "fewer than 2 reports before the exit"
	sane_totals "$d/out.json" || problem "$d" totals "$(totals_of "$d/out.json")"
}

# verdicts NAME WHAT DIR...: one pass/fail per property over the runs in DIR...
verdicts() {
	local name=$1 what=$2 kind n bad
	shift 2
	n=$#
	# kind|property
	local props=("ls|leakscope exits 0"
		"out|the target prints exactly the untraced output"
		"crash|no crash and no runtime complaint"
		"warn|leakscope warns about nothing")
	if [ -f "$1/out.json" ]; then
		props+=("rc|the target's exit status is the untraced one"
			"end|the target exits mid-session: summary with end target_exited and the note"
			"totals|the reports' and the summary's totals are counts")
	fi
	local p
	for p in "${props[@]}"; do
		kind=${p%%|*}
		bad=$(cat "${@/%//problems}" | grep "^$kind " | cut -d' ' -f2-)
		if [ -z "$bad" ]; then
			pass "$name: ${p#*|} in all $n $what"
		else
			fail "$name: ${p#*|} in all $n $what" "$(echo "$bad" | wc -l) runs: $(echo "$bad" | head -3 | tr '\n' ' ' | cut -c1-900)"
		fi
	done
}

# text_changed PID: bytes of the process's file-backed executable mappings that differ
# from their files (a uprobe is an int3 written into the process's copy of the page):
# prints "BYTES MAPPINGS FIRST-FILE".
text_changed() {
	local pid=$1 range perms off dev ino path start end len size n total=0 maps=0 first=
	while read -r range perms off dev ino path; do
		[ "$perms" = r-xp ] && [ "${path:0:1}" = / ] && [ -f "$path" ] || continue
		start=$((16#${range%-*})) end=$((16#${range#*-})) off=$((16#$off))
		size=$(stat -c %s "$path")
		len=$((end - start))
		[ $((off + len)) -gt "$size" ] && len=$((size - off))
		[ "$len" -gt 0 ] || continue
		n=$(cmp -l -n "$len" \
			<(dd if="/proc/$pid/mem" bs=4096 skip=$((start / 4096)) count=$(((len + 4095) / 4096)) status=none) \
			<(dd if="$path" bs=4096 skip=$((off / 4096)) count=$(((len + 4095) / 4096)) status=none) 2>/dev/null | wc -l)
		if [ "$n" -gt 0 ]; then
			total=$((total + n)) maps=$((maps + 1))
			[ -n "$first" ] || first=$path
		fi
	done <"/proc/$pid/maps"
	echo "$total $maps $first"
}

# bpf_ids PID: "prog N", "link N", "map N" for every BPF object PID holds.
bpf_ids() {
	awk '$1 == "prog_id:" { print "prog", $2 } $1 == "link_id:" { print "link", $2 }
		$1 == "map_id:" { print "map", $2 }' /proc/"$1"/fdinfo/* 2>/dev/null | sort -u
}

# bpf_left IDS_FILE: the objects of IDS_FILE that still exist.
bpf_left() {
	local kind id
	while read -r kind id; do
		bpftool "$kind" show id "$id" >/dev/null 2>&1 && echo "$kind $id"
	done <"$1"
}

# uprobes_on PID: perf events (uprobes) anyone holds on PID's files, from bpftool.
uprobes_on() {
	bpftool -j perf list 2>/dev/null |
		jq -r --arg p "/proc/$1/" '.[] | select((.filename // "") | startswith($p)) | "\(.pid) \(.fd_type) \(.filename)"'
}

# tracefs_uprobes PATTERN: uprobe_events lines matching PATTERN (libbpf falls back to
# them where the kernel has no uprobe PMU), or nothing without tracefs.
tracefs_uprobes() {
	local f
	for f in /sys/kernel/tracing/uprobe_events /sys/kernel/debug/tracing/uprobe_events; do
		[ -r "$f" ] && grep -E "$1" "$f"
	done
}

# rounds_of FILE: the distinct round lines of a target's output, round numbers left out.
rounds_of() { sed -n 's/^round [0-9]*\(:\| checksum\)/\1/p' "$1" | sort -u; }

# rounds_at_least STATUS N: the target's status file says it finished N rounds or more.
rounds_at_least() { [ "$(status_get "$1" rounds)" -ge "$2" ]; }

# gone PID: the process has exited (a zombie counts as gone).
gone() { [ ! -e "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# reports_at_least JSON N: leakscope has written N reports.
reports_at_least() { [ "$(grep -c '"type":"interval"' "$1")" -ge "$2" ]; }

# leaves_nothing NAME REFDIR BIN MODE END [OPTS...]: a long-running target (-rounds 0) traced by -p
# (MODE attach) or started under leakscope (launch: it stays running after leakscope
# leaves), the session ended by END: "count" (two reports), int, term or kill (that
# signal to leakscope after its first report). During the session the probes must be
# visible (so every check below can fail); after it, nothing of leakscope's may remain,
# and the target must run on computing what it did untraced.
leaves_nothing() {
	local name="$1 ($4${6:+ $6 $7}, ended by ${5/count/its count of reports})" dir=$2 bin=$3 mode=$4 endby=$5
	local d=$dir/detach-$mode-$endby lrc before during after n0 left count=
	shift 5
	mkdir -p "$d"
	[ "$endby" = count ] && count=2
	if [ "$mode" = attach ]; then
		if ! start_waiting "$bin" "$d/status" "$d/out" "$d/target.err" -rounds 0 -gap "$GAP"; then
			fail "$name: long-running target starts" "$(head -2 "$d/target.err")"
			return
		fi
		kill -USR1 $tpid
		wait_for 10 grep -q 'rounds [1-9]' "$d/status"
		before=$(text_changed $tpid)
		attach_start "$d/out.json" "$d/err" -j "$@" 0.5 $count || {
			fail "$name: attach" "$(head -2 "$d/err")"
			kill $tpid
			return
		}
	else
		# Started under leakscope: the target's output is leakscope's standard output.
		rm -f "$d/status"
		"$LEAKSCOPE" --suspects off -j -o "$d/out.json" "$@" 0.5 $count -- "$bin" -status "$d/status" -rounds 0 -gap "$GAP" \
			>"$d/out" 2>"$d/err" &
		lpid=$!
		if ! wait_for 60 grep -q 'tracing pid' "$d/err" || ! wait_for 10 grep -q 'ready 1' "$d/status"; then
			fail "$name: start under leakscope" "$(head -2 "$d/err")"
			kill $lpid
			return
		fi
		tpid=$(sed -n 's/^leakscope: tracing pid \([0-9]*\).*/\1/p' "$d/err")
		kill -USR1 $tpid
		before="(started traced)"
	fi
	bpf_ids $lpid >"$d/ids"
	during=$(text_changed $tpid)
	local nup nids
	nup=$(uprobes_on $tpid | wc -l)
	nids=$(wc -l <"$d/ids")
	[ "$endby" = count ] || wait_for 20 reports_at_least "$d/out.json" 1
	case $endby in
	int) kill -INT $lpid ;;
	term) kill -TERM $lpid ;;
	kill) kill -KILL $lpid ;;
	esac
	{ wait $lpid; } 2>/dev/null # no "Killed" from the shell
	lrc=$?
	n0=$(status_get "$d/status" rounds)
	case $endby in
	count | int | term)
		local want_end=interrupted
		[ "$endby" = count ] && want_end=count
		[ $lrc -eq 0 ] && jq_any "$d/out.json" ".type==\"summary\" and .end==\"$want_end\"" &&
			pass "$name: the session ends with its summary (end $want_end), exit 0" ||
			fail "$name: the session ends with its summary (end $want_end), exit 0" \
				"exit $lrc, ends $(jq -c 'select(.type=="summary") | .end' "$d/out.json"): $(tail -2 "$d/err" | tr '\n' ' ')"
		;;
	kill)
		[ $lrc -eq 137 ] && pass "$name: leakscope is killed (exit 137)" || fail "$name: leakscope is killed" "exit $lrc"
		;;
	esac
	if [ "${during%% *}" -gt 0 ] && [ "$nup" -gt 0 ] && [ "$nids" -gt 0 ] && { [ "$mode" = launch ] || [ "${before%% *}" = 0 ]; }; then
		pass "$name: while traced the probes show (code bytes changed: ${during% *}; $nup uprobes, $nids BPF objects of leakscope's)"
	else
		fail "$name: while traced the probes show" "code changed before: $before, during: $during; uprobes $nup, BPF objects $nids"
	fi
	# Programs, links and maps are freed by the kernel shortly after the last reference.
	wait_for 10 test -z "$(bpf_left "$d/ids")"
	left=$(bpf_left "$d/ids" | head -5 | tr '\n' ' ')
	[ -z "$left" ] && pass "$name: none of leakscope's $nids BPF programs, links and maps is left" ||
		fail "$name: no BPF program, link or map of leakscope's is left" "$left"
	left="$(uprobes_on $tpid | head -3 | tr '\n' ' ')$(tracefs_uprobes "/proc/$tpid/|libbpf_${lpid}_" | head -3 | tr '\n' ' ')"
	[ -z "$left" ] && pass "$name: no uprobe is left on the target's files" ||
		fail "$name: no uprobe is left on the target's files" "$left"
	if [ "$mode" = launch ]; then
		left=$(ls -l /proc/$tpid/fd 2>/dev/null | grep -E 'bpf|perf_event|pidfd' | head -3 | awk '{print $NF}' | tr '\n' ' ')
		[ -z "$left" ] && pass "$name: the target holds none of leakscope's descriptors" ||
			fail "$name: the target holds none of leakscope's descriptors" "$left"
	fi
	after=$(text_changed $tpid)
	[ "${after%% *}" = 0 ] && pass "$name: the target's code is byte for byte its files again" ||
		fail "$name: the target's code is byte for byte its files again" "$after (bytes, mappings, first)"
	# It runs on: two more rounds after leakscope left, then it stops on SIGTERM.
	if kill -0 $tpid 2>/dev/null && wait_for 20 rounds_at_least "$d/status" $((n0 + 2)); then
		pass "$name: the target runs on after leakscope left (rounds $n0 -> $((n0 + 2))+)"
	else
		fail "$name: the target runs on after leakscope left" "rounds $n0 -> $(status_get "$d/status" rounds)"
	fi
	kill -TERM $tpid 2>/dev/null
	local trc=?
	if [ "$mode" = attach ]; then
		wait $tpid
		trc=$?
	else
		wait_for 20 gone $tpid # not our child: leakscope started it
	fi
	# Every round computed what an untraced round computes, before, during and after.
	local want rounds_done
	want=$(tail -1 "$dir/ref.out" | awk '{print $2}')
	rounds_done=$(grep -c '^round [0-9]* checksum' "$d/out")
	if [ "$rounds_done" -ge $((n0 + 2)) ] && diff <(rounds_of "$dir/ref.out") <(rounds_of "$d/out") >/dev/null &&
		[ -z "$(crashes "$d/target.err")" ] && [ -z "$(crashes "$d/err")" ] &&
		grep -qx "exit $want" "$d/out" && { [ "$trc" = "?" ] || [ "$trc" = "$want" ]; }; then
		pass "$name: all $rounds_done rounds, before, during and after the session, computed the untraced result; exit ${trc/\?/as untraced}"
	else
		fail "$name: every round computes the untraced result" \
			"$rounds_done rounds, exit $trc (want $want); distinct: $(rounds_of "$d/out" | cut -c1-120 | tr '\n' ' ') $(crashes "$d/err")"
	fi
}

# never_counted NAME JSON LIMIT: nothing of what the exec'd program (or the process that
# got the PID) did is in the report: no allocation at leak_after_exec or leak_main, no
# thread named afterexec, and far less than its 2 MB (20 MB for PID reuse) outstanding.
never_counted() {
	local name=$1 json=$2 limit=$3 leaked threads most
	leaked=$(jq -s '[.[] | select(.type=="stack") | select(any(.frames[]?; (.func // "") | test("leak_after_exec|leak_main")))] | length' "$json")
	threads=$(jq -s '[.[] | select(.type=="stack" and .view=="threads") | select(((.names // {}) | has("afterexec")) or (tostring | test("afterexec")))] | length' "$json")
	most=$(jq -s '[.[] | select(.type=="interval" or .type=="summary") | (.["native-heap"].live_bytes // 0), (.["native-growth"].live_bytes // 0)] | max // 0' "$json")
	if [ "$leaked" = 0 ] && [ "$threads" = 0 ] && [ "$most" -lt "$limit" ]; then
		pass "$name: the new program's allocations and threads are not counted as the old one's (at most $most bytes)"
	else
		fail "$name: the new program's allocations and threads are not counted as the old one's" \
			"$leaked stack records at leak_after_exec/leak_main, $threads thread rows named afterexec, up to $most bytes outstanding (limit $limit)"
	fi
}

# exits_early: the target exits before the first report (attached, interval 2 s): the
# one report and the summary hold what it did, with the note.
exits_early() {
	local name="safety lifecycle: target exits before the first report" d=$tmp/life-exit lrc allocs thr
	mkdir -p "$d"
	start_waiting "$cbin" "$d/status" "$d/out" "$d/target.err" -rounds 1 &&
		attach_start "$d/out.json" "$d/err" -j -T 0 2 || {
		fail "$name: start" "$(head -2 "$d/err" "$d/target.err" 2>/dev/null | tr '\n' ' ')"
		return
	}
	kill -USR1 $tpid
	wait $tpid
	wait $lpid
	lrc=$?
	if [ $lrc -eq 0 ] && jq_any "$d/out.json" '.type=="summary" and .end=="target_exited"' &&
		grep -q "target $tpid exited; the summary above covers the session" "$d/err"; then
		pass "$name: summary with end target_exited, the note, exit 0"
	else
		fail "$name: summary with end target_exited, the note, exit 0" "exit $lrc: $(tail -2 "$d/err" | tr '\n' ' ')"
	fi
	# Its allocations since attach (the native heap is read once more after the exit).
	allocs=$(jq -s '[.[] | select(.type=="summary") | .["native-heap"].created] | add // 0' "$d/out.json")
	[ "$allocs" -gt 10000 ] &&
		pass "$name: the summary has what it did ($allocs allocations)" ||
		fail "$name: the summary has what it did" "allocations $allocs (want > 10000)"
	# Its threads too: made and ended since attach, none live after the exit (the
	# threads map is read once more after the exit, as the native heap is).
	thr=$(jq -c -s '[.[] | select(.type=="summary") | .threads] | .[0] | [.created, .exited, .live]' "$d/out.json")
	jq -e '.[0] >= 90 and .[2] == 0' <<<"$thr" >/dev/null &&
		pass "$name: the summary has its threads ($thr created, exited, live)" ||
		fail "$name: the summary has its threads (made 96, none live)" "created, exited, live: $thr"
	sane_totals "$d/out.json" && pass "$name: the report's and the summary's totals are counts" ||
		fail "$name: the report's and the summary's totals are counts" "$(totals_of "$d/out.json")"
}

# execs NAME BIN OPTS...: the target does a round, then execs another program (a copy of
# cstress: another file) that starts 4 threads named afterexec, allocates 2000 blocks
# at leak_after_exec and sleeps. leakscope must notice (the executable it traced is
# gone from the process), report what it had with its names, end the session with a
# one-line note naming the new program (end target_exec) while the new program still
# runs, and count nothing of the new one's.
execs() {
	local prog=$1 name="safety lifecycle: $1 execs another program" bin=$2 d=$tmp/life-exec-$1 lrc ended=0 note named
	shift 2
	mkdir -p "$d"
	# gostress: -gap 700, the round read by two 0.3 s reports before the exec: the
	# goroutines view is not read again after an exec, and a round alone can be over
	# before the first report. cstress without: its threads are read once more after
	# the exec, so a round over before the first report must still show them.
	local gap=()
	[ "$prog" = gostress ] && gap=(-gap 700)
	start_waiting "$bin" "$d/status" "$d/out" "$d/target.err" -rounds 1 "${gap[@]}" -exec "$other" -- -leak 2000 -sleep 30 &&
		attach_start "$d/out.json" "$d/err" -j -T 0 "$@" 0.3 || {
		fail "$name: start" "$(head -2 "$d/err" "$d/target.err" 2>/dev/null | tr '\n' ' ')"
		return
	}
	kill -USR1 $tpid
	if ! wait_for 20 grep -q 'leaked 2000 blocks after exec' "$d/out"; then
		fail "$name: the target execs" "$(tail -2 "$d/out" "$d/target.err" | tr '\n' ' ')"
		kill $tpid $lpid
		return
	fi
	# The new program sleeps 30 s: the session should be over well before.
	wait_for 25 gone $lpid && ! gone $tpid && ended=1
	kill $tpid 2>/dev/null
	wait $tpid
	wait $lpid
	lrc=$?
	if [ $ended = 1 ] && [ $lrc -eq 0 ] && jq_any "$d/out.json" '.type=="summary" and .end=="target_exec"'; then
		pass "$name: the session ends with its summary (end target_exec) while the new program runs, exit 0"
	else
		fail "$name: the session ends with its summary (end target_exec) while the new program runs, exit 0" \
			"ended while it ran: $ended, exit $lrc, summary end $(jq -c 'select(.type=="summary") | .end' "$d/out.json"), $(jq -s '[.[] | select(.type=="interval")] | length' "$d/out.json") reports"
	fi
	note=$(grep '^leakscope:' "$d/err" | grep -v '^leakscope: tracing' | grep "ran exec (now $other)")
	[ "$(echo "$note" | grep -c .)" = 1 ] && pass "$name: one line says the target exec'd and names the new program" ||
		fail "$name: one line says the target exec'd and names the new program" "stderr has: $(grep -v '^leakscope: tracing' "$d/err" | head -2 | tr '\n' ' ')"
	never_counted "$name" "$d/out.json" 1000000
	# What it had keeps its names (symbolized against the old program, not the new one).
	if [ "$prog" = gostress ]; then
		named=$(jq -s '[.[] | select(.type=="stack" and .final and .view=="goroutines")] as $r
			| ($r | length) > 0 and ($r | all(.frames | all(.func != null)))
			and ($r | any(.frames | any(.func == "main.deep" or .func == "main.goroutines.func1")))' "$d/out.json")
	else
		named=$(jq -s '[.[] | select(.type=="stack" and .final and .view=="threads" and (.frames[0].func // "") == "pthread_create")] as $r
			| ($r | length) > 0 and ($r | all(.frames[1].func != null))
			and ($r | any(.frames[1].func == "run_pool"))' "$d/out.json")
	fi
	[ "$named" = true ] && pass "$name: the summary shows what it had, by name" ||
		fail "$name: the summary shows what it had, by name" \
			"$(jq -s '[.[] | select(.type=="stack" and .final)] | length' "$d/out.json") rows at the end, $(jq -s '[.[] | select(.type=="interval")] | length' "$d/out.json") reports; by view and first frames: $(jq -c 'select(.type=="stack" and .final) | [.view, [.frames[].func][0:2]]' "$d/out.json" | head -6 | tr '\n' ' ' | cut -c1-500)"
}

# pid_reused MODE NEWBIN: in a PID namespace of its own (so ns_last_pid can be set), the
# target exits and a new process gets its PID within the session: the new process
# (NEWBIN: a copy of cstress, or the very same file, as a restarted service would be,
# that starts 4 threads named afterexec and touches 20 MB from leak_after_exec) must not
# be counted. leakscope is held stopped (SIGSTOP) from before the exit until the new
# process has done its work, as a slow collect or a busy machine would hold it: the
# reuse then falls inside its session for certain, and what BPF sees meanwhile is all
# the new process's.
pid_reused() {
	local mode=$1 newbin=$2 what=$3 name="safety lifecycle: PID reused by $3 ($1)" d=$tmp/life-reuse-$1-$3
	mkdir -p "$d"
	cat >"$d/inner.sh" <<'INNER'
set -u
d=$1
shift
wait_until() { local i; for i in $(seq 400); do "$@" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
"$CBIN" -status "$d/status" -rounds 1 >"$d/out" 2>"$d/target.err" &
tp=$!
wait_until grep -q 'ready 1' "$d/status" || exit 1
"$LEAKSCOPE" --suspects off -j -T 0 -p $tp "$@" 0.5 >"$d/out.json" 2>"$d/err" &
lp=$!
wait_until grep -q 'tracing pid' "$d/err" || exit 1
wait_until grep -q '"type":"interval"' "$d/out.json"
kill -STOP $lp
kill -USR1 $tp
wait $tp
echo $((tp - 1)) >/proc/sys/kernel/ns_last_pid
"$NEWBIN" -leak 20000 -sleep 8 >"$d/new.out" 2>&1 &
np=$!
echo "$tp $np" >"$d/pids"
wait_until grep -q 'leaked 20000' "$d/new.out"
kill -CONT $lp
wait $lp
echo $? >"$d/lrc"
kill $np
wait $np
INNER
	if ! CBIN=$cbin NEWBIN=$newbin LEAKSCOPE=$LEAKSCOPE unshare --pid --fork --mount-proc bash "$d/inner.sh" "$d" \
		--mode "$mode" >"$d/inner.log" 2>&1 && [ ! -s "$d/pids" ]; then
		skip "$name" "unshare --pid --fork --mount-proc failed: $(head -2 "$d/inner.log" | tr '\n' ' ')"
		return
	fi
	read -r old new <"$d/pids"
	if [ "$old" != "$new" ]; then
		fail "$name: the PID is reused" "old $old, new $new"
		return
	fi
	if [ "$(cat "$d/lrc")" = 0 ] && jq_any "$d/out.json" '.type=="summary" and .end=="target_exited"' &&
		grep -q "target $old exited; the summary above covers the session" "$d/err"; then
		pass "$name: the session ends target_exited with the note, exit 0 (pid $old exited and was reused)"
	else
		fail "$name: the session ends target_exited with the note, exit 0" "exit $(cat "$d/lrc"): $(grep -v 'tracing pid' "$d/err" | tail -2 | tr '\n' ' ')"
	fi
	never_counted "$name" "$d/out.json" 10000000
	sane_totals "$d/out.json" && pass "$name: the reports' and the summary's totals are counts" ||
		fail "$name: the reports' and the summary's totals are counts" "$(totals_of "$d/out.json")"
}

# ---- untraced references ----

gdir=$tmp/go xdir=$tmp/go-extra cdir=$tmp/c
[ -n "$gbin" ] && { reference "safety gostress $gover" "$gdir" 0 "$gbin" -rounds "$ROUNDS" || gbin=; }
[ -n "$xbin" ] && { reference "safety gostress $xver" "$xdir" 0 "$xbin" -rounds "$ROUNDS" || xbin=; }
[ -n "$cbin" ] && { reference "safety cstress" "$cdir" 3 "$cbin" -rounds "$ROUNDS" || cbin=; }

# ---- traced runs: the output must not change ----

# The view sets, in turn: the default ones, each view alone. Those with the native heap
# place a dozen uprobes and more, and removing a uprobe waits for RCU grace periods
# under a lock every uprobe in the system shares (event_mutex): they come less often.
go_views=("" "-w goroutines" "-w go-heap" "-w go-alloc" "-w native-heap" "-w threads"
	"-w goroutines" "-w go-heap" "-w go-alloc")
c_views=("" "-w threads" "--mode growth" "-w threads" "--mode growth" "" "-w threads" "--mode growth"
	"-w threads" "-w threads")
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
if [ -n "$gbin" ] && part runs; then
	for r in $(seq "$RUNS"); do
		v=${go_views[$(((r - 1) % ${#go_views[@]}))]}
		spawn "$gdir/run$r.log" launched_run "$gdir/run$r" "$gdir/ref.out" "$gbin" $v
	done
	for r in $(seq "$ATTACH_RUNS"); do
		spawn "$gdir/attach$r.log" attached_run "$gdir/attach$r" "$gdir/ref.out" "$gbin"
	done
fi
if [ -n "$xbin" ] && part runs; then
	x_views=("" "-w goroutines,go-heap,go-alloc,threads")
	for r in $(seq "$EXTRA_RUNS"); do
		v=${x_views[$(((r - 1) % ${#x_views[@]}))]}
		spawn "$xdir/run$r.log" launched_run "$xdir/run$r" "$xdir/ref.out" "$xbin" $v
	done
fi
if [ -n "$cbin" ] && part runs; then
	for r in $(seq "$RUNS"); do
		v=${c_views[$(((r - 1) % ${#c_views[@]}))]}
		spawn "$cdir/run$r.log" launched_run "$cdir/run$r" "$cdir/ref.out" "$cbin" $v
	done
	for r in $(seq "$ATTACH_RUNS"); do
		spawn "$cdir/attach$r.log" attached_run "$cdir/attach$r" "$cdir/ref.out" "$cbin"
	done
fi

# ---- what a session leaves behind, and the life cycle ----

if [ -n "$gbin" ] && part detach; then
	spawn "$tmp/ln1.log" leaves_nothing "safety gostress" "$gdir" "$gbin" attach count
	# The probes in Go code alone (the native heap's are in the other three).
	spawn "$tmp/ln2.log" leaves_nothing "safety gostress" "$gdir" "$gbin" launch term -w goroutines,go-heap,threads
fi
if [ -n "$cbin" ] && part detach; then
	spawn "$tmp/ln3.log" leaves_nothing "safety cstress" "$cdir" "$cbin" attach int --mode growth
	spawn "$tmp/ln4.log" leaves_nothing "safety cstress" "$cdir" "$cbin" launch kill
fi
if [ -n "$cbin" ] && part life; then
	spawn "$tmp/life1.log" exits_early
	spawn "$tmp/life2.log" execs cstress "$cbin"
	# The Go views: the native heap after exec is the C case's.
	[ -n "$gbin" ] && spawn "$tmp/life3.log" execs gostress "$gbin" -w goroutines,go-heap,threads
	if command -v unshare >/dev/null 2>&1; then
		# The same file: the executable's identity cannot tell the two apart.
		spawn "$tmp/life4.log" pid_reused growth "$cbin" "the same program"
		spawn "$tmp/life5.log" pid_reused exact "$cbin" "the same program"
	else
		skip "safety lifecycle: PID reused" "no unshare"
	fi
fi
wait

# ---- verdicts ----

dirs_of() { local d; for d in "$@"; do [ -d "$d" ] && echo "$d"; done; }
if [ -n "$gbin" ] && part runs; then
	verdicts "safety gostress $gover" "runs started under leakscope (default views and each view alone)" \
		$(dirs_of "$gdir"/run*/)
	verdicts "safety gostress $gover" "runs attached with -p" $(dirs_of "$gdir"/attach*/)
fi
[ -n "$xbin" ] && part runs && verdicts "safety gostress $xver" "runs started under leakscope (every view, then the Go views)" \
	$(dirs_of "$xdir"/run*/)
if [ -n "$cbin" ] && part runs; then
	verdicts "safety cstress" "runs started under leakscope (default view, threads, --mode growth)" \
		$(dirs_of "$cdir"/run*/)
	verdicts "safety cstress" "runs attached with -p" $(dirs_of "$cdir"/attach*/)
fi
show_logs
echo "  (safety.sh: $((SECONDS - t_start))s)"
testlib_status
