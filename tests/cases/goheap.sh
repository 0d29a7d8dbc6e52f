#!/bin/bash
# The Go heap, end to end. tests/targets/goheap leaks sessions (1 KiB buffers kept in
# a map, from main.newSession) beside steady garbage (main.churnGarbage).
#  - Built with net/http/pprof: leakscope's in-use by stack must match the target's
#    own /debug/pprof/heap (fetched from 127.0.0.1) within 5%, the leak must top the
#    in-use list, the garbage must not grow.
#  - Built without: leakscope must say heap profiling is off, still show the live
#    heap after GC rising, and name the leaking function among the top allocation
#    stacks of its sampled fallback.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh"

LEAK=20000

# pprof_inuse FILE FUNC: scaled in-use bytes of the records whose stack holds FUNC,
# from a debug=1 heap profile (the header prints heap/<2*MemProfileRate>).
profiled_case() {
	local name=$1 bin=$2 dir tpid
	dir=$(mktemp -d /tmp/leakscope-goheap.XXXXXX)
	tpid=$(start_target "$bin" "$dir" -leak $LEAK -rate 10000 -duration 20s) ||
		{ fail "$name: target start" "$(cat "$dir/target.out")"; return; }
	"$LEAKSCOPE" --suspects off -p $tpid --json -T 0 -w go-heap 1 5 >"$dir/out.json" 2>"$dir/err" &
	local lpid=$!
	wait_for 20 grep -q 'tracing pid' "$dir/err" ||
		{ fail "$name: attach" "$(head -3 "$dir/err")"; kill $lpid $tpid; return; }
	sleep 1
	kill -USR1 $tpid
	wait $lpid
	local lrc=$?
	# The target's own profile, right after leakscope's last report.
	http_get "$(status_get "$dir/status" pprof_addr)" '/debug/pprof/heap?debug=1' >"$dir/heap.txt"
	kill $tpid
	wait $tpid 2>/dev/null

	[ $lrc -eq 0 ] || { fail "$name: leakscope exits 0" "exit $lrc: $(tail -3 "$dir/err")"; return; }
	if [ "$(status_get "$dir/status" phase)" != done ]; then
		fail "$name: run shape" "the leak did not finish during the session"
		return
	fi
	local R ours theirs
	R=$(jq -s '[.[] | select(.type=="interval") | .report] | max' "$dir/out.json")
	ours=$(stack_sum "$dir/out.json" ".view==\"go-heap\" and .report==$R and .final==false" \
		live_bytes main.newSession)
	theirs=$(pprof_inuse "$dir/heap.txt" main.newSession)
	if within 5 "$ours" "$theirs"; then
		pass "$name: in-use of the leak matches the target's own pprof heap profile ($ours vs $theirs bytes)"
	else
		fail "$name: in-use of the leak matches the target's pprof" "leakscope $ours, pprof $theirs"
	fi
	# The leak is real memory: ~1 KiB per leaked session (sampled, so loosely).
	local leaked
	leaked=$(status_get "$dir/status" leaked)
	if awk -v o="$ours" -v n="$leaked" 'BEGIN { exit !(o > n * 1024 * 0.7 && o < n * 1200 * 1.3) }'; then
		pass "$name: in-use of the leak is about what the target leaked ($leaked sessions)"
	else
		fail "$name: in-use of the leak is about what the target leaked" "$ours bytes for $leaked sessions"
	fi
	# Top of the in-use list, now and over the session.
	local top_now top_session
	top_now=$(jq -rs "[.[] | select(.type==\"stack\" and .view==\"go-heap\" and .report==$R and .final==false)]
		| max_by(.live_bytes) | .frames | map(.func) | join(\" \")" "$dir/out.json")
	top_session=$(jq -rs '[.[] | select(.type=="stack" and .view=="go-heap" and .final and .rank==1)]
		| .[0].frames | map(.func) | join(" ")' "$dir/out.json")
	if [[ "$top_now" == "main.newSession main.leakSessions"* ]] &&
		[[ "$top_session" == "main.newSession main.leakSessions"* ]]; then
		pass "$name: the leak tops the in-use list, with its calling function"
	else
		fail "$name: the leak tops the in-use list" "largest now: $top_now; top of session: $top_session"
	fi
	# Steady garbage: no in-use growth over the session. Its in-use is, as in the
	# runtime's profile, whatever was sampled and not yet swept at the last GC: it
	# jitters by whole samples (~67 KB at this rate) around a flat line. So: it must
	# not grow in every report, and its net must stay far below the leak's growth.
	local gnet lnet ggrew gobs
	gnet=$(stack_sum "$dir/out.json" '.view=="go-heap" and .final' net_bytes main.churnGarbage)
	lnet=$(stack_sum "$dir/out.json" '.view=="go-heap" and .final' net_bytes main.newSession)
	ggrew=$(stack_sum "$dir/out.json" '.view=="go-heap" and .final' grew_intervals main.churnGarbage)
	gobs=$(jq -s '[.[] | select(.type=="stack" and .view=="go-heap" and .final)] | .[0].intervals' "$dir/out.json")
	if awk -v g="$gnet" -v l="$lnet" 'BEGIN { if (g < 0) g = -g; exit !(l > 0 && g < l / 10) }' &&
		[ "$ggrew" -lt $((gobs - 1)) ]; then
		pass "$name: steady garbage shows no in-use growth (net $gnet bytes vs leak $lnet, grew in $ggrew of $((gobs - 1)) reports)"
	else
		fail "$name: steady garbage shows no in-use growth" "net $gnet bytes (leak $lnet), grew in $ggrew of $((gobs - 1)) reports"
	fi
	trend_checks "$name" "$dir" true
	rm -rf "$dir"
}

# trend_checks NAME DIR PROFILING: the heap trend after GC, from the gc lines.
trend_checks() {
	local name=$1 dir=$2 want=$3 first last n
	n=$(jq -s '[.[] | select(.type=="gc")] | length' "$dir/out.json")
	first=$(jq -s '[.[] | select(.type=="gc")] | first | .live_after_gc' "$dir/out.json")
	last=$(jq -s '[.[] | select(.type=="gc")] | last | .live_after_gc' "$dir/out.json")
	if [ "$n" -ge 10 ] && awk -v a="$first" -v b="$last" -v l=$LEAK 'BEGIN { exit !(b - a > l * 1024 * 0.7) }'; then
		pass "$name: live heap after GC rises with the leak over $n GCs ($first -> $last)"
	else
		fail "$name: live heap after GC rises with the leak" "$n GCs, $first -> $last"
	fi
	if jq_any "$dir/out.json" ".type==\"interval\" and .go_heap.profiling==$want"; then
		pass "$name: heap profiling reported as $want"
	else
		fail "$name: heap profiling reported as $want" "$(jq -c 'select(.type=="interval") | .go_heap' "$dir/out.json" | head -1)"
	fi
}

unprofiled_case() {
	local name=$1 bin=$2 dir tpid
	dir=$(mktemp -d /tmp/leakscope-goheap.XXXXXX)
	tpid=$(start_target "$bin" "$dir" -leak $LEAK -rate 10000 -duration 20s) ||
		{ fail "$name: target start" "$(cat "$dir/target.out")"; return; }
	"$LEAKSCOPE" --suspects off -p $tpid --json -T 0 -w go-heap,go-alloc --sample-hz 4999 1 5 >"$dir/out.json" 2>"$dir/err" &
	local lpid=$!
	wait_for 20 grep -q 'tracing pid' "$dir/err" ||
		{ fail "$name: attach" "$(head -3 "$dir/err")"; kill $lpid $tpid; return; }
	sleep 1
	kill -USR1 $tpid
	wait $lpid
	local lrc=$?
	kill $tpid
	wait $tpid 2>/dev/null
	[ $lrc -eq 0 ] || { fail "$name: leakscope exits 0" "exit $lrc: $(tail -3 "$dir/err")"; return; }

	if jq_any "$dir/out.json" '.type=="interval" and (.go_heap.profiling_note | test("heap profiling is off"))'; then
		pass "$name: says heap profiling is off in this binary"
	else
		fail "$name: says heap profiling is off" "$(jq -c 'select(.type=="interval") | .go_heap.profiling_note' "$dir/out.json" | head -1)"
	fi
	trend_checks "$name" "$dir" false
	# The fallback names the leaking function among the top allocation stacks.
	local top
	top=$(jq -rs '[.[] | select(.type=="stack" and .view=="go-alloc" and .final and .rank <= 5)]
		| map(.frames | map(.func) | join(" ")) | join("\n")' "$dir/out.json")
	if grep -q '^main.newSession main.leakSessions' <<<"$top"; then
		pass "$name: sampled allocation view names the leaking function among the top 5"
	else
		fail "$name: sampled allocation view names the leaking function" "top 5: $(tr '\n' '|' <<<"$top")"
	fi
	rm -rf "$dir"
}

while read -r version gocmd; do
	[ -n "$version" ] || continue
	wide="default stripped pie" few=default
	go_wide $version || wide=$few
	for flavor in $wide; do
		# shellcheck disable=SC2086
		bin=$(build_go goheap $flavor+pprof $version $gocmd) ||
			{ fail "goheap $version/$flavor+pprof: build" "see above"; continue; }
		profiled_case "goheap $version/$flavor+pprof" "$bin"
	done
	wide="default stripped"
	go_wide $version || wide=$few
	for flavor in $wide; do
		# shellcheck disable=SC2086
		bin=$(build_go goheap $flavor $version $gocmd) ||
			{ fail "goheap $version/$flavor: build" "see above"; continue; }
		unprofiled_case "goheap $version/$flavor (no pprof)" "$bin"
	done
done <<<"$(go_toolchains)"
testlib_status
