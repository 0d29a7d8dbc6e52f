#!/bin/bash
# The goroutine creation probe's three modes (--creation-probe), on tests/targets/goleak
# with a busy churn (thousands of goroutines a second, short-lived) and a leak that
# starts only after the probe has paused:
#   learn (default)  on until every creation stack is known, then paused; on again for
#                    the leak's go statement, whose full stack it then records; while
#                    paused, CREATED counts the goroutines seen made (the leak's all of
#                    them, with no exit made up), never more than the target made
#   on               never paused: CREATED as the target counts it
#   off              no probe placed: rows by go statement, live counts still exact
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh"

PRE=100
POST=1500
CHURN=3000

# run_mode NAME MODE BIN: start goleak, attach with --creation-probe MODE, start the
# leak (after the pause in learn mode), leave $dir with out.json, err, status files.
run_mode() {
	local name=$1 mode=$2 bin=$3
	dir=$(mktemp -d /tmp/leakscope-creation.XXXXXX)
	"$bin" -pre $PRE -leak $POST -rate 500 -churn $CHURN -duration 40s -status "$dir/status" \
		>"$dir/target.out" 2>&1 &
	tpid=$!
	if ! wait_for 10 grep -q 'ready 1' "$dir/status"; then
		fail "$name: target start" "goleak did not start"
		kill $tpid 2>/dev/null
		return 1
	fi
	"$LEAKSCOPE" --suspects off -v -p $tpid --json -T 0 --creation-probe $mode 2 7 \
		>"$dir/out.json" 2>"$dir/err" &
	lpid=$!
	if ! wait_for 20 grep -q 'tracing pid' "$dir/err"; then
		fail "$name: attach" "$(head -3 "$dir/err")"
		kill $lpid $tpid 2>/dev/null
		return 1
	fi
	cp "$dir/status" "$dir/status.attach"
	if [ "$mode" = learn ]; then
		if wait_for 10 grep -q 'goroutine creation probe paused' "$dir/err"; then
			pass "$name: probe paused once every creation stack was known ($(grep -m1 -o '[0-9]* goroutines/s' "$dir/err"))"
		else
			fail "$name: probe paused once every creation stack was known" "no pause line in 10 s: $(grep 'creation probe' "$dir/err" | tail -2)"
		fi
	else
		sleep 3
	fi
	kill -USR1 $tpid
	wait $lpid
	lrc=$?
	cp "$dir/status" "$dir/status.end"
	kill $tpid 2>/dev/null
	wait $tpid 2>/dev/null
	[ $lrc -eq 0 ] && pass "$name: leakscope exits 0" ||
		fail "$name: leakscope exits 0" "exit $lrc: $(tail -3 "$dir/err")"
	return 0
}

# The leak's row in the last report, and the churn's created total over the session.
check_common() {
	local name=$1 want_stack=$2
	local R leak live funcs post
	R=$(jq -s '[.[] | select(.type=="interval") | .report] | max' "$dir/out.json")
	post=$(status_get "$dir/status.end" leaked_post)
	if [ "$post" != $POST ]; then
		fail "$name: run shape" "leaked_post=$post, want $POST (leak did not finish in the session)"
		return 1
	fi
	leak=$(jq -c "select(.type==\"stack\" and .view==\"goroutines\" and .report==$R and .final==false and .start_func==\"main.blockForever\")" "$dir/out.json" | head -1)
	live=$(jq '.live' <<<"$leak")
	if within 2 "${live:-0}" $((PRE + POST)); then
		pass "$name: leak's live count matches the target ($live vs $PRE + $POST)"
	else
		fail "$name: leak's live count matches the target" "leakscope ${live:-none}, target $PRE + $POST"
	fi
	funcs=$(jq -r '.frames | map(.func) | join(" ")' <<<"$leak")
	if [ "$want_stack" = yes ]; then
		if [ "$(jq '.stack_captured' <<<"$leak")" = true ] &&
			[[ "$funcs" == "main.spawnLeaker main.leakLoop main.main.func"* ]]; then
			pass "$name: leak started after attach shown with its full creation stack"
		else
			fail "$name: leak's full creation stack" "captured $(jq '.stack_captured' <<<"$leak"), frames: $funcs"
		fi
	else
		if [ "$(jq '.stack_captured' <<<"$leak")" = false ] && [ "$funcs" = main.spawnLeaker ]; then
			pass "$name: leak shown by its go statement alone (no creation stack)"
		else
			fail "$name: leak shown by its go statement alone" "captured $(jq '.stack_captured' <<<"$leak"), frames: $funcs"
		fi
	fi
	# The leak's books over the session: every goroutine made counted, none exited.
	local fin
	fin=$(jq -c 'select(.type=="stack" and .final and .start_func=="main.blockForever") | [.created, .exited]' "$dir/out.json" | head -1)
	if [ "$(jq '.[1]' <<<"$fin")" = 0 ] && within 2 "$(jq '.[0]' <<<"$fin")" $POST; then
		pass "$name: leak made $POST while traced and none exited: summary says created, exited $fin"
	else
		fail "$name: leak's created and exited over the session" "summary [created, exited] $fin, want [$POST, 0]"
	fi
	local books
	books=$(jq -r -s '.[] | select(.type=="stack" and .view=="goroutines")
		| select(if .final then .live_at_attach + .created - .exited != .live
			else .live_prev + .created - .exited != .live end)
		| "report \(.report) \(.start_func): \(.live_at_attach)/\(.live_prev) + \(.created) - \(.exited) != \(.live)"' "$dir/out.json" | head -3)
	[ -z "$books" ] && pass "$name: books balance on every goroutine row" ||
		fail "$name: books balance on every goroutine row" "$books"
}

# churn_ratio: leakscope's churn CREATED over the session / the target's own count.
churn_ratio() {
	local got a b
	got=$(jq -s 'map(select(.type=="stack" and .final and .start_func=="main.churnWorker") | .created) | add // 0' "$dir/out.json")
	a=$(status_get "$dir/status.attach" churn_started)
	b=$(status_get "$dir/status.end" churn_started)
	awk -v g="$got" -v a="$a" -v b="$b" 'BEGIN { printf "%.3f %d %d\n", (b > a ? g / (b - a) : 0), g, b - a }'
}

learn_case() {
	local name=$1 bin=$2 ratio got want
	if run_mode "$name" learn "$bin"; then
		if grep -q 'creation probe on again: goroutines of a go statement with no creation stack yet' "$dir/err"; then
			pass "$name: on again for the go statement first seen while paused"
		else
			fail "$name: on again for a new go statement" "$(grep 'creation probe' "$dir/err" | tail -3)"
		fi
		check_common "$name" yes
		read -r ratio got want <<<"$(churn_ratio)"
		# While paused only the goroutines a read of the list sees are counted: the churn's
		# 1 ms workers mostly not. Never more than the target made, and at least what
		# the seconds before the pause made.
		if awk -v r="$ratio" -v g="$got" 'BEGIN { exit !(r <= 1.02 && g >= 2000) }'; then
			pass "$name: churn's CREATED no more than the target made ($got of $want)"
		else
			fail "$name: churn's CREATED no more than the target made" "leakscope $got, target made $want (ratio $ratio)"
		fi
		if jq -e -s 'map(select(.type=="interval") | .goroutines.note // "") | any(test("creation probe paused [0-9.]+ s of [0-9.]+ s.*CREATED and EXITED count only the goroutines seen"))' "$dir/out.json" >/dev/null; then
			pass "$name: the report says the probe was paused and what CREATED counts then"
		else
			fail "$name: the report says the probe was paused" "$(jq -c 'select(.type=="interval") | .goroutines.note' "$dir/out.json" | tail -1)"
		fi
		[ -n "${KEEP:-}" ] || rm -rf "$dir"
	fi
}

# learn (the default), with every toolchain: paused, on again for the leak's new
# go statement.
first=
while read -r version gocmd; do
	[ -n "$version" ] || continue
	# shellcheck disable=SC2086
	b=$(build_go goleak default $version $gocmd) || {
		fail "creation probe $version: build" "see above"
		continue
	}
	[ -n "$first" ] || { first=$version; bin=$b; }
	learn_case "creation probe learn ($version)" "$b"
done <<<"$(go_toolchains)"
if [ -z "$first" ]; then
	testlib_status
	exit
fi
version=$first

# on: never paused, CREATED as counted by the target.
name="creation probe on ($version)"
if run_mode "$name" on "$bin"; then
	if grep -q 'creation probe paused' "$dir/err"; then
		fail "$name: never paused" "$(grep -m1 'creation probe paused' "$dir/err")"
	else
		pass "$name: never paused"
	fi
	check_common "$name" yes
	read -r ratio got want <<<"$(churn_ratio)"
	# Exact while attached; the target's counter is read every 50 ms around it.
	if awk -v r="$ratio" 'BEGIN { exit !(r >= 0.95 && r <= 1.02) }'; then
		pass "$name: churn's CREATED as the target counts it ($got vs $want)"
	else
		fail "$name: churn's CREATED as the target counts it" "leakscope $got, target made $want (ratio $ratio)"
	fi
	[ -n "${KEEP:-}" ] || rm -rf "$dir"
fi

# off: no probe at all.
name="creation probe off ($version)"
if run_mode "$name" off "$bin"; then
	if grep -q 'goroutine creation probed at' "$dir/err"; then
		fail "$name: no probe placed" "$(grep -m1 'goroutine creation probed at' "$dir/err")"
	else
		pass "$name: no probe placed"
	fi
	check_common "$name" no
	if jq -e -s 'map(select(.type=="interval") | .goroutines.note // "") | any(test("--creation-probe off"))' "$dir/out.json" >/dev/null; then
		pass "$name: the report says there is no creation probe"
	else
		fail "$name: the report says there is no creation probe" "$(jq -c 'select(.type=="interval") | .goroutines.note' "$dir/out.json" | tail -1)"
	fi
	[ -n "${KEEP:-}" ] || rm -rf "$dir"
fi
testlib_status
