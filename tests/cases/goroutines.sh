#!/bin/bash
# Goroutine leaks, end to end: tests/targets/goleak leaks goroutines from a known
# stack (some before attach, the rest while traced) beside a steady churn, with every
# Go toolchain at hand and in every build flavour. leakscope's numbers are checked
# against the target's own counters, every creation counted: --creation-probe on
# (the default, learn, pauses the probe on this busy churn: tests/cases/creation.sh).
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh"

PRE=500
POST=2500

# jq over the JSON report: the sum of .live over matching stack records of the last report.
last_report() { jq -s '[.[] | select(.type=="interval") | .report] | max' "$1"; }

run_case() {
	local name=$1 bin=$2 dir
	dir=$(mktemp -d /tmp/leakscope-goroutines.XXXXXX)

	"$bin" -pre $PRE -leak $POST -rate 1000 -churn 2000 -duration 10s -status "$dir/status" \
		>"$dir/target.out" 2>&1 &
	local tpid=$!
	if ! wait_for 10 grep -q 'ready 1' "$dir/status"; then
		fail "$name: target start" "goleak did not start"
		kill $tpid 2>/dev/null
		return
	fi
	"$LEAKSCOPE" --suspects off -v -p $tpid --json -T 0 --creation-probe on 1 6 >"$dir/out.json" 2>"$dir/err" &
	local lpid=$!
	if ! wait_for 20 grep -q 'tracing pid' "$dir/err"; then
		fail "$name: attach" "$(head -3 "$dir/err")"
		kill $lpid $tpid 2>/dev/null
		return
	fi
	sleep 1.2
	kill -USR1 $tpid
	wait $lpid
	local lrc=$?
	wait $tpid
	local trc=$?

	[ $lrc -eq 0 ] && pass "$name: leakscope exits 0" ||
		fail "$name: leakscope exits 0" "exit $lrc: $(tail -3 "$dir/err")"
	# The creation probe (-v): never single-stepped; on the padding nop before `call
	# runtime.runqput` when the build has one there (the symbol table says; stripped
	# builds have none to ask), else on the call.
	local probe want=
	probe=$(grep -m1 'goroutine creation probe:' "$dir/err")
	if go tool objdump -s '^runtime.newproc.func1$' "$bin" 2>/dev/null | grep -B1 'CALL runtime.runqput' |
		head -1 | grep -q NOP; then
		want="runqput call: nop"
	elif go tool objdump -s '^runtime.newproc.func1$' "$bin" 2>/dev/null | grep -q 'CALL runtime.runqput'; then
		want="runqput call: call"
	fi
	if [[ "$probe" == *", emulated)" && "$probe" == *"$want"* ]]; then
		pass "$name: creation probe on ${want:-an emulated instruction} (-v)"
	else
		fail "$name: creation probe placement" "want '${want:-emulated}': $probe"
	fi
	if [ $trc -eq 0 ] && grep -q 'goleak: done' "$dir/target.out"; then
		pass "$name: traced target runs to completion"
	else
		fail "$name: traced target runs to completion" "exit $trc: $(tail -3 "$dir/target.out")"
	fi

	local R st pre post numg
	R=$(last_report "$dir/out.json")
	st=$dir/status
	pre=$(status_get "$st" leaked_pre)
	post=$(status_get "$st" leaked_post)
	numg=$(status_get "$st" numgoroutine)
	if [ "$R" != 6 ] || [ "$post" != $POST ] || [ "$pre" != $PRE ]; then
		fail "$name: run shape" "reports=$R leaked_pre=$pre leaked_post=$post (want 6, $PRE, $POST)"
		return
	fi
	local q_last="select(.type==\"stack\" and .view==\"goroutines\" and .report==$R and .final==false)"

	# The leak traced from creation: full stack, right count, right state.
	local leak
	leak=$(jq -c "$q_last | select(.start_func==\"main.blockForever\" and .stack_captured)" "$dir/out.json")
	local live funcs state
	if [ -z "$leak" ]; then
		fail "$name: leaking stack reported" "no goroutines stack with start_func main.blockForever and a captured stack in report $R"
		jq -c "$q_last | {start_func, live, pre_attach, stack_captured}" "$dir/out.json" | head -8
		return
	fi
	live=$(jq -s 'map(.live) | add // 0' <<<"$leak")
	if within 2 "$live" $((pre + post)); then
		pass "$name: leaking stack live count matches the target ($live vs $pre before attach + $post)"
	else
		fail "$name: leaking stack live count matches the target" "leakscope $live, target $pre + $post"
	fi
	# One go statement, one row: before and after attach together, in every report.
	local rows
	rows=$(jq -s '[.[] | select(.type=="stack" and .start_func=="main.blockForever")] | group_by(.report, .final)
		| map(length) | unique' "$dir/out.json" | tr -d ' \n')
	[ "$rows" = "[1]" ] && pass "$name: one row for the leak in every report" ||
		fail "$name: one row for the leak in every report" "rows per report: $rows"
	local books
	books=$(jq -r -s '.[] | select(.type=="stack" and (.view=="goroutines" or .view=="threads"))
		| select(if .final then .live_at_attach + .created - .exited != .live
			else .live_prev + .created - .exited != .live end)
		| "\(.view) report \(.report) \(.start_func // .frames[0].func): \(.live_at_attach)/\(.live_prev) + \(.created) - \(.exited) != \(.live)"' "$dir/out.json" | head -3)
	[ -z "$books" ] && pass "$name: books balance on every goroutine and thread row (at attach + created - exited = live)" ||
		fail "$name: books balance on every row" "$books"
	funcs=$(jq -r '.frames | map(.func) | join(" ")' <<<"$leak" | head -1)
	if [[ "$funcs" == "main.spawnLeaker main.leakLoop main.main.func"* ]]; then
		pass "$name: leaking stack holds the go statement and its callers"
	else
		fail "$name: leaking stack holds the go statement and its callers" "frames: $funcs"
	fi
	if jq -e '.frames[0].file | endswith("tests/targets/goleak/main.go")' <<<"$leak" >/dev/null &&
		jq -e '.frames[0].line > 0' <<<"$leak" >/dev/null; then
		pass "$name: frames carry file:line"
	else
		fail "$name: frames carry file:line" "$(jq -c '.frames[0]' <<<"$leak" | head -1)"
	fi
	state=$(jq -s 'map(.states["chan receive"] // 0) | add // 0' <<<"$leak")
	[ "$live" -gt 0 ] && [ "$state" = "$live" ] && pass "$name: leaked goroutines wait in chan receive" ||
		fail "$name: leaked goroutines wait in chan receive" "chan receive $state of $live"

	# Growth was seen while it leaked.
	local maxrate
	maxrate=$(jq -s "map(select(.type==\"stack\" and .final==false and .start_func==\"main.blockForever\" and .stack_captured) | .rate_per_s) | max // 0" "$dir/out.json")
	if awk -v r="$maxrate" 'BEGIN { exit !(r >= 500) }'; then
		pass "$name: growth rate reported while leaking ($maxrate/s)"
	else
		fail "$name: growth rate reported while leaking" "max rate $maxrate/s, leak ran at 1000/s"
	fi

	# The ones leaked before attach, attributed by their go statement, inside its row.
	local prelive prefunc
	prelive=$(jq -s 'map(.created_before_attach) | add // 0' <<<"$leak")
	prefunc=$(jq -r '.frames[0].func' <<<"$leak" | head -1)
	if within 2 "$prelive" "$pre" && [ "$prefunc" = main.spawnLeaker ]; then
		pass "$name: goroutines from before attach attributed to their go statement ($prelive)"
	else
		fail "$name: goroutines from before attach attributed" "created before attach $prelive (want $pre), frame $prefunc"
	fi

	# The steady site: many created, nearly all exited, no growth.
	local created maxlive net
	created=$(jq -s 'map(select(.type=="stack" and .final==false and .start_func=="main.churnWorker") | .created) | add // 0' "$dir/out.json")
	maxlive=$(jq -s 'map(select(.type=="stack" and .final==false and .start_func=="main.churnWorker") | .live) | max // 0' "$dir/out.json")
	net=$(jq -s 'map(select(.type=="stack" and .final and .start_func=="main.churnWorker") | .net) | add // 0' "$dir/out.json")
	if [ "$created" -gt 5000 ] && [ "$maxlive" -lt 200 ] && [ "${net#-}" -lt 100 ]; then
		pass "$name: steady site shows no growth (created $created, max live $maxlive, net $net)"
	else
		fail "$name: steady site shows no growth" "created $created, max live $maxlive, net $net"
	fi

	# Totals agree with runtime.NumGoroutine (which leaves out runtime goroutines).
	local total
	total=$(jq -s "map(select(.type==\"interval\" and .report==$R) | .goroutines.live - .goroutines.hidden_live) | add" "$dir/out.json")
	if within 2 "$total" "$numg"; then
		pass "$name: total live matches runtime.NumGoroutine ($total vs $numg)"
	else
		fail "$name: total live matches runtime.NumGoroutine" "leakscope $total, target $numg"
	fi
	[ -n "${KEEP:-}" ] || rm -rf "$dir"
}

untraced_case() {
	local name=$1 bin=$2 out
	out=$("$bin" -pre 100 -leak 100 -duration 1s 2>&1)
	[ $? -eq 0 ] && [[ "$out" == *"goleak: done"* ]] && pass "$name: untraced target runs to completion" ||
		fail "$name: untraced target runs to completion" "$out"
}

while read -r version gocmd; do
	[ -n "$version" ] || continue
	flavors="default stripped pie"
	go_wide $version || flavors=default
	for flavor in $flavors; do
		# shellcheck disable=SC2086
		bin=$(build_go goleak $flavor $version $gocmd) || {
			fail "goroutines $version/$flavor: build" "see above"
			continue
		}
		[ $flavor = default ] && untraced_case "goroutines $version" "$bin"
		run_case "goroutines $version/$flavor" "$bin"
	done
done <<<"$(go_toolchains)"
testlib_status
