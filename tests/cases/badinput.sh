#!/bin/bash
# Bad input and odd endings: each gives one clear line on stderr and its documented
# exit status (README, --help), and nothing already collected is lost.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh"

tmp=$(mktemp -d /tmp/leakscope-badinput.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

# expect NAME STATUS PATTERN COMMAND...: exit status, one-line error matching PATTERN.
expect() {
	local name=$1 want=$2 pattern=$3
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$? lines
	lines=$(grep -c . "$tmp/err")
	if [ $rc -ne "$want" ]; then
		fail "$name" "exit $rc, want $want; stderr: $(head -3 "$tmp/err")"
	elif [ "$lines" -ne 1 ] || ! grep -Eq "^leakscope: error: .*$pattern" "$tmp/err"; then
		fail "$name" "want one line matching '$pattern', got: $(head -3 "$tmp/err")"
	else
		pass "$name (exit $rc)"
	fi
}

# Command line.
expect "no target" 2 "no target; give -p PID" "$LEAKSCOPE"
expect "bad interval" 2 "INTERVAL 'soon' is not a number" "$LEAKSCOPE" --suspects off -p 1 soon
expect "bad count" 2 "COUNT 'x' is not a number" "$LEAKSCOPE" --suspects off -p 1 1 x
expect "bad pid" 2 "PID 'abc' is not a process ID" "$LEAKSCOPE" --suspects off -p abc
expect "pid and command" 2 "-p and -- COMMAND both given" "$LEAKSCOPE" --suspects off -p 1 -- /bin/true
expect "unknown view" 2 "unknown view 'heapz'" "$LEAKSCOPE" -w heapz -p 1
expect "--dump with a command" 2 "--dump looks at a running program" "$LEAKSCOPE" --dump -- /bin/true
expect "bad --creation-probe" 2 "--creation-probe 'sometimes' unknown; give learn, on or off" \
	"$LEAKSCOPE" --creation-probe sometimes -p 1
expect "bad --sample-bytes" 2 "--sample-bytes '0' out of range; give 1 to 1073741824 bytes" \
	"$LEAKSCOPE" --mode sampled --sample-bytes 0 -p 1
expect "bad --sample-bytes suffix" 2 "--sample-bytes '64Q' out of range" \
	"$LEAKSCOPE" --mode sampled --sample-bytes 64Q -p 1
expect "--sample-bytes without --mode sampled" 2 "--sample-bytes sets how --mode sampled samples" \
	"$LEAKSCOPE" --sample-bytes 16K -p 1
expect "bad --unwind-max" 2 "--unwind-max '0' out of range" "$LEAKSCOPE" --unwind-max 0 -p 1
"$LEAKSCOPE" --frobnicate >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && pass "unknown option (exit 2)" || fail "unknown option" "$(head -2 "$tmp/err")"
"$LEAKSCOPE" --help >"$tmp/out" 2>&1
if [ $? -eq 0 ] && grep -q 'INTERVAL' "$tmp/out" && grep -q 'Exit status' "$tmp/out"; then
	pass "--help explains interval/count and exit statuses"
else
	fail "--help explains interval/count and exit statuses" "$(head -3 "$tmp/out")"
fi

# Targets.
expect "no such pid" 3 "no process with PID 999999" "$LEAKSCOPE" --suspects off -p 999999
sleep 30 &
expect "--dump on a program that is not Go" 4 "--dump shows a Go program's goroutines, and sleep .* is not a Go program" \
	"$LEAKSCOPE" --dump -p $!
kill $!
expect "no such command" 3 "cannot run '/nonexistent/server'" "$LEAKSCOPE" -- /nonexistent/server
# Static and stripped: no Go, and no symbol (pthread_create, malloc) to probe natively.
printf '#include <unistd.h>\nint main(void) { for (;;) pause(); }\n' >"$tmp/idle.c"
if gcc -static -s -O2 -o "$tmp/idle-static" "$tmp/idle.c" 2>"$tmp/gcc.err"; then
	"$tmp/idle-static" &
	idle=$!
	expect "nothing to trace (static, stripped, not Go)" 4 "is not a Go program" "$LEAKSCOPE" --suspects off -p $idle
	kill $idle
else
	fail "nothing to trace (static, stripped, not Go)" "cannot build a static program: $(head -2 "$tmp/gcc.err")"
fi

# A Go release older than leakscope supports: a Go binary without DWARF whose build
# info claims go1.16 (same length, so the file stays valid). Releases newer than it
# knows are traced view by view: tests/cases/gorelease.sh.
read -r gover gocmd <<<"$(go_toolchains | head -1)"
bin=$(build_go goleak stripped "$gover" $gocmd)
fake=go1.16.9
cp "$bin" "$tmp/goleak-$fake"
GOVER=$gover FAKE=$fake perl -pi -e 's/\Q$ENV{GOVER}\E(?=[^0-9])/$ENV{FAKE}/g' "$tmp/goleak-$fake"
"$tmp/goleak-$fake" -pre 1 -leak 0 -duration 20s &
p=$!
sleep 0.3
expect "too old Go version" 4 "built with go1.16.9, older than the oldest Go leakscope supports" "$LEAKSCOPE" --suspects off -p $p
kill $p 2>/dev/null
wait $p 2>/dev/null

# Environment.
bin=$(build_go goleak default "$gover" $gocmd)
"$bin" -pre 1 -leak 0 -duration 30s &
gl=$!
sleep 0.3
if command -v setpriv >/dev/null; then
	expect "not root" 5 "run leakscope as root" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all --bounding-set=-all "$LEAKSCOPE" --suspects off -p $gl
else
	skip "not root" "setpriv (util-linux) not installed"
fi
LEAKSCOPE_SYSFS_BTF=/nonexistent/btf expect "kernel without BTF" 6 "this kernel has no BTF" \
	"$LEAKSCOPE" --suspects off -p $gl
LEAKSCOPE_TEST_KERNEL_LACKS=bpf_loop expect "kernel without bpf_loop" 6 \
	"this kernel \\(.*\\) lacks bpf_loop \\(Linux 5.17\\): leakscope needs Linux 5.17 or newer" \
	"$LEAKSCOPE" --suspects off -p $gl
LEAKSCOPE_TEST_KERNEL_LACKS=uprobe expect "kernel without uprobes" 6 "has no uprobe events" \
	"$LEAKSCOPE" --suspects off -p $gl

# Ctrl-C: the report in progress and the summary are printed, exit 0.
"$LEAKSCOPE" --suspects off --json -p $gl 2 >"$tmp/int.json" 2>"$tmp/int.err" &
lp=$!
wait_for 20 grep -q 'tracing pid' "$tmp/int.err"
sleep 1
kill -INT $lp
wait $lp
rc=$?
if [ $rc -eq 0 ] && jq_any "$tmp/int.json" '.type=="summary" and .end=="interrupted"' &&
	jq_any "$tmp/int.json" '.type=="interval" and .report==1'; then
	pass "Ctrl-C prints the report in progress and the summary, exit 0"
else
	fail "Ctrl-C prints the report in progress and the summary" "exit $rc; $(head -c 300 "$tmp/int.json")"
fi

# Ctrl-C twice always ends it.
"$LEAKSCOPE" --suspects off -p $gl 60 >/dev/null 2>"$tmp/int2.err" &
lp=$!
wait_for 20 grep -q 'tracing pid' "$tmp/int2.err"
kill -INT $lp
kill -INT $lp
if wait_for 3 bash -c "! kill -0 $lp"; then
	pass "Ctrl-C twice ends leakscope"
else
	fail "Ctrl-C twice ends leakscope" "still running after 3 s"
	kill -9 $lp
fi
wait $lp 2>/dev/null
kill $gl

# The target exits mid-session: final report printed, exit 0 with a note.
"$bin" -pre 20 -leak 0 -duration 5s >/dev/null &
gl=$!
sleep 0.3
"$LEAKSCOPE" --suspects off --json -p $gl 1 >"$tmp/exit.json" 2>"$tmp/exit.err"
rc=$?
if [ $rc -eq 0 ] && jq_any "$tmp/exit.json" '.type=="summary" and .end=="target_exited"' &&
	grep -q "target $gl exited" "$tmp/exit.err" &&
	[ "$(jq -s '[.[] | select(.type=="stack" and .final and .start_func=="main.blockForever") | .live] | add' "$tmp/exit.json")" = 20 ]; then
	pass "target exits mid-session: summary kept, exit 0, note on stderr"
else
	fail "target exits mid-session" "exit $rc; err: $(head -2 "$tmp/exit.err")"
fi

# Started under leakscope: every goroutine has its full creation stack.
"$LEAKSCOPE" --suspects off --json -T 0 1 3 -- "$bin" -pre 50 -leak 0 -duration 10s >"$tmp/launch.json" 2>"$tmp/launch.err"
rc=$?
live=$(jq -s '[.[] | select(.type=="stack" and .final and .start_func=="main.blockForever" and .stack_captured) | .live] | add // 0' "$tmp/launch.json")
pre=$(jq -s '[.[] | select(.type=="stack" and .view=="goroutines" and .final and .pre_attach) | .live] | add // 0' "$tmp/launch.json")
if [ $rc -eq 0 ] && [ "$live" = 50 ] && [ "$pre" = 0 ]; then
	pass "-- COMMAND: all goroutines attributed with full stacks"
else
	fail "-- COMMAND: all goroutines attributed with full stacks" "exit $rc, live $live, pre-attach $pre; $(head -2 "$tmp/launch.err")"
fi
pkill -f "$bin -pre 50" 2>/dev/null
testlib_status
