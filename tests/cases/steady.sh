#!/bin/bash
# Steady programs must not look leaky (issue: what users saw on steady servers under
# load). Traced at once, about 8 s each, without --suspects off:
#  - tests/targets/gohttp, a net/http server under one-connection-per-request load
#    from the same program, its memory and goroutines flat, traced twice (JSON and
#    text): the live heap's trend is called flat, not given a slope; every goroutine
#    row's books balance, its creation stack is captured, and every group under it
#    stands in a stack of its own go statement's goroutines (net/http's goroutines
#    reuse each other's g within milliseconds); no suspect, exit 0.
#  - the same server idle at attach, its load started after (short requests: the
#    load reaches its level without a ramp that could pass for growth): no goroutine
#    made after attach is counted as made before (goids come in per-P batches).
#  - the same server keeping 2 KiB a request: the trend does say growing.
#  - tests/targets/cpool, a C service whose pool rises and falls back to nothing
#    within the session (one for the JSON session, one for the text session, each
#    signalled when its own session is attached), started through a symlink:
#    GROWTH/s shows no growth for it
#    (nor for any row whose slope disagrees with its net), still shows the trickle
#    that grows; the report names the program by the symlink it runs as.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh"

tmp=$(mktemp -d /tmp/leakscope-steady.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

T=$LEAKSCOPE_BUILD/targets/native
mkdir -p "$T"
if ! gcc -O2 -g -fno-omit-frame-pointer -Wall -o "$T/cpool" "$LEAKSCOPE_ROOT/tests/targets/cpool/cpool.c"; then
	fail "steady: build cpool" "see above"
	testlib_status
	exit 1
fi
# The machine's Go only: the other releases are the other cases' business.
read -r gover gocmd <<<"$(LEAKSCOPE_GO_EXTRA='' go_toolchains | head -1)"
# shellcheck disable=SC2086
gobin=$(build_go gohttp default $gover $gocmd) || {
	fail "steady: build gohttp" "see above"
	testlib_status
	exit 1
}

N=8 # reports per session, 1 s each
# session NAME ARGS...: leakscope ARGS in the background, its exit status in NAME.rc.
session() {
	local name=$1
	shift
	("$LEAKSCOPE" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"; echo $? >"$tmp/$name.rc") &
}
attached() { grep -q 'tracing pid' "$tmp/$1.err" 2>/dev/null || grep -q 'tracing pid' "$tmp/$1.out" 2>/dev/null; }
rc() { cat "$tmp/$1.rc" 2>/dev/null || echo none; }

mkdir -p "$tmp/steady" "$tmp/idle" "$tmp/keep" "$tmp/poolj" "$tmp/poolt"
steady=$(start_target "$gobin" "$tmp/steady" -load 500 -duration 40s) &&
	idle=$(start_target "$gobin" "$tmp/idle" -load 200 -latency 10ms -idle -duration 40s) &&
	keep=$(start_target "$gobin" "$tmp/keep" -load 200 -keep 2048 -duration 40s) || {
	fail "steady: start gohttp" "$(cat "$tmp"/*/target.out)"
	testlib_status
	exit 1
}
pids+=($steady $idle $keep)
# The C service is started through a symlink, as Debian starts redis-server (a link
# to redis-check-rdb).
# The pool fills from 4 s after the signal for 2 s, then drains: late in the session
# (8 s), so that a least-squares slope through it tilts up although it ends at 0.
ln -s "$T/cpool" "$tmp/pool-server"
for p in poolj poolt; do
	"$tmp/pool-server" -status "$tmp/$p/status" -fill-after 4 -fill-for 2 -duration 30 >/dev/null 2>&1 &
	pids+=($!)
	eval "$p=$!"
	wait_for 10 grep -q 'ready 1' "$tmp/$p/status" || fail "steady: start cpool" "no status"
done

# The servers warm up: they are steady when leakscope looks, as in production, i.e.
# they answer their load's rate (a machine this busy may take a while to get there).
serving() { # DIR RATE: the last second's answers reach 90 % of RATE
	local a b
	a=$(status_get "$1/status" served)
	sleep 1
	b=$(status_get "$1/status" served)
	[ $((b - a)) -ge $(($2 * 9 / 10)) ]
}
sleep 1
for s in steady:500 keep:200; do
	wait_for 20 serving "$tmp/${s%:*}" "${s#*:}" ||
		echo "steady: the $s server does not keep up with its load (a busy machine)" >&2
done
session gojson --json -T 0 -p $steady 1 $N
session gotext -T 0 -p $steady 1 $N
session goidle --json -T 0 -w goroutines -p $idle 1 $N
session gokeep --json -w go-heap -p $keep 1 $N
session cjson --json -T 0 -p $poolj 1 $N
session ctext -T 0 -p $poolt 1 $N
wait_for 20 attached goidle && kill -USR1 $idle
# Each pool is signalled as soon as its session is attached.
for s in cjson:$poolj ctext:$poolt; do
	(wait_for 20 attached ${s%:*} && kill -USR1 ${s#*:}) &
done
wait_for 60 test -s "$tmp/gojson.rc" -a -s "$tmp/gotext.rc" -a -s "$tmp/goidle.rc" \
	-a -s "$tmp/gokeep.rc" -a -s "$tmp/cjson.rc" -a -s "$tmp/ctext.rc"

# ---- no suspect in a steady program -------------------------------------------------
for s in gojson gotext goidle cjson ctext; do
	[ "$(rc $s)" = 0 ] && pass "steady: $s: leakscope exits 0 (no suspect)" ||
		fail "steady: $s: leakscope exits 0" "exit $(rc $s): $(tail -2 "$tmp/$s.err")"
done
for s in gojson goidle cjson; do
	bad=$(jq -c 'select(.type=="suspect") | [.report, .view, .rule, .func]' "$tmp/$s.out" | head -3)
	[ -z "$bad" ] && pass "steady: $s: no suspect in any report" ||
		fail "steady: $s: no suspect in any report" "$bad"
done
for s in gotext ctext; do
	n=$(grep -c '^SUSPECTS  none: nothing grows steadily' "$tmp/$s.out")
	bad=$(grep -A2 '^SUSPECTS  [0-9]' "$tmp/$s.out" | head -3)
	# Reports 1 and 2 say "not yet"; from 3 on, and the summary, "none".
	[ "$n" -eq $((N - 2 + 1)) ] && [ -z "$bad" ] &&
		pass "steady: $s: SUSPECTS none in every report from the third on ($n)" ||
		fail "steady: $s: SUSPECTS none from the third report on" "$n 'none' lines; $bad"
done

# ---- 1. the Go heap's trend: flat, not a slope through noise -------------------------
name="steady: Go heap trend"
gcs=$(jq -s '[.[] | select(.type=="gc") | .live_after_gc]' "$tmp/gojson.out")
band=$(jq -r 'if length > 0 then "\(length) GCs, \(min) to \(max) bytes" else "no GC" end' <<<"$gcs")
trends=$(jq -r -s '[.[] | select(.type=="interval" or .type=="summary") | .go_heap.trend // "null"] | join(" ")' "$tmp/gojson.out")
# Every report with three GCs or more says flat; none says growing or shrinking.
if jq -e -s '[.[] | select(.type=="interval" or .type=="summary") | .go_heap]
	| all(has("trend")) and all(if .gcs_since_attach >= 3 then .trend == "flat" else .trend == null end)
	and (map(select(.gcs_since_attach >= 3)) | length >= 6)' "$tmp/gojson.out" >/dev/null; then
	pass "$name: JSON says flat in every report ($band)"
else
	fail "$name: JSON says flat in every report" "trend by report: $trends ($band)"
fi
lines=$(grep -c '^  trend: live heap flat over [0-9]* GCs' "$tmp/gotext.out")
slopes=$(grep '^  trend: live heap [-+]' "$tmp/gotext.out" | head -2)
[ "$lines" -ge 6 ] && [ -z "$slopes" ] &&
	pass "$name: the text says flat, with the band, and gives no slope ($lines reports)" ||
	fail "$name: the text says flat and gives no slope" "$lines flat lines; $slopes"
# The contrast: a heap that grows 400 KiB/s is called growing, with its slope.
last=$(jq -c -s '[.[] | select(.type=="interval")] | last | .go_heap | [.trend, .live_slope_bytes_per_s]' "$tmp/gokeep.out")
jq -e '.[0] == "growing" and .[1] > 100000' <<<"$last" >/dev/null &&
	pass "$name: a leaking heap is called growing ($last)" ||
	fail "$name: a leaking heap is called growing" "last report: $last; exit $(rc gokeep)"

# ---- 2. goroutines under one-connection-per-request load ----------------------------
name="steady: goroutines"
G='select(.type=="stack" and .view=="goroutines")'
for s in gojson goidle; do
	bad=$(jq -c "$G | select(.final == false and (.live_prev + .created - .exited != .live or .created < .net))
		| [.report, .start_func, .live_prev, .created, .exited, .live]" "$tmp/$s.out" | head -3)
	[ -z "$bad" ] && pass "$name: $s: every row's books balance, CREATED covers NET" ||
		fail "$name: $s: books balance" "$bad"
	bad=$(jq -c "$G | select(.stack_captured == false and .live > .created_before_attach)
		| [.report, .start_func, .live, .created, .created_before_attach]" "$tmp/$s.out" | head -3)
	[ -z "$bad" ] && pass "$name: $s: no row made after attach lacks its creation stack" ||
		fail "$name: $s: creation stacks captured" "$bad"
	# Each group is goroutines of the row: the outermost frame of where they stand is
	# the function the row's go statement starts (or runtime.goexit alone: one that has
	# not run yet, started at a go wrapper, which is glue).
	bad=$(jq -c "$G | . as \$r | .blocked[] | select((.frames | length) > 0
		and .frames[-1].func != \$r.start_func and .frames[-1].func != \"runtime.goexit\")
		| [\$r.report, \$r.start_func, .count, .state, .frames[-1].func]" "$tmp/$s.out" | head -3)
	[ -z "$bad" ] && pass "$name: $s: every group stands in its own row's goroutines' stacks" ||
		fail "$name: $s: groups stand in their own row's stacks" "$bad"
	# A row is named by what its goroutines run, never by the compiler's go wrapper
	# (where a goroutine not run yet stands: under load, often most of a row's).
	bad=$(jq -c "$G | select(.start_func // \"\" | test(\"[.]gowrap[0-9]*$\"))
		| [.report, .start_func, .live, .frames[0].func]" "$tmp/$s.out" | head -3)
	[ -z "$bad" ] && pass "$name: $s: no row is named by a go wrapper" ||
		fail "$name: $s: no row is named by a go wrapper" "$bad"
done
serve=$(jq -r -s "[.[] | $G | select(.final) | select(.start_func == \"net/http.(*conn).serve\")
	| .frames[0].func] | unique | join(\" \")" "$tmp/gojson.out")
[ "$serve" = 'net/http.(*Server).Serve' ] &&
	pass "$name: net/http.(*conn).serve names one row, the one net/http.(*Server).Serve makes" ||
	fail "$name: net/http.(*conn).serve names only Serve's row" "rows so named are made at: $serve"
# Idle at attach: every row the load made was born after attach.
bad=$(jq -c "$G | select(.live_at_attach == 0 and (.created_before_attach > 0 or .pre_attach))
	| [.report, .start_func, .live, .created_before_attach]" "$tmp/goidle.out" | head -3)
born=$(jq -s "[.[] | $G | select(.final and .live_at_attach == 0 and .created > 0)] | length" "$tmp/goidle.out")
[ -z "$bad" ] && [ "$born" -ge 4 ] &&
	pass "$name: load started after attach: none of its goroutines counted as from before attach ($born rows)" ||
	fail "$name: goroutines made after attach are not from before attach" "$born rows born; $bad"

# ---- 3. the summary's GROWTH/s claims no growth a row does not have -----------------
name="steady: summary growth"
for s in gojson goidle cjson; do
	bad=$(jq -c 'select(.type=="stack" and .final)
		| select((.net <= 0 and .slope_per_s > 0) or (.net >= 0 and .slope_per_s < 0)
			or (has("net_bytes") and ((.net_bytes <= 0 and .bytes_slope_per_s > 0)
				or (.net_bytes >= 0 and .bytes_slope_per_s < 0))))
		| [.view, .net, .slope_per_s, .net_bytes, .bytes_slope_per_s, (.frames[1].func // .start_func)]' \
		"$tmp/$s.out" | head -3)
	[ -z "$bad" ] && pass "$name: $s: no row's slope disagrees with its net change" ||
		fail "$name: $s: slopes agree with net changes" "$bad"
done
pool_row=$(jq -c -s '[.[] | select(.type=="stack" and .final and .view=="native-heap")
	| select(any(.frames[]; .func == "pool_fill"))] | .[0] | [.live_bytes, .net_bytes, .bytes_slope_per_s, .created]' "$tmp/cjson.out")
trickle=$(jq -s '[.[] | select(.type=="stack" and .final and .view=="native-heap")
	| select(.frames[0].func == "malloc" and (.frames[1].func // "" | startswith("leak_trickle")))]
	| .[0].bytes_slope_per_s // 0' "$tmp/cjson.out")
jq -e '.[0] == 0 and .[1] == 0 and .[2] == 0 and .[3] >= 20' <<<"$pool_row" >/dev/null &&
	awk -v t="$trickle" 'BEGIN { exit !(t > 500) }' &&
	pass "$name: the pool that rose and fell back grows 0/s ($pool_row); the trickle still +$trickle B/s" ||
	fail "$name: the pool that rose and fell back grows 0/s" "pool [bytes, net, slope, allocs] $pool_row; trickle $trickle B/s; $(cat "$tmp/poolj/status")"
# The text row: BYTES 0, NET 0, GROWTH/s 0/s, above pool_fill's stack.
row=$(awk '/^=== SUMMARY/ { s = 1 } s && /^ +[0-9]/ { r = $0 } s && /pool_fill/ { print r; exit }' "$tmp/ctext.out")
[[ "$row" =~ ^\ +0\ B\ +[0-9.]+\ [KM]?i?B\ +0\ +0/s\  ]] &&
	pass "$name: the text summary row says 0 B, net 0, 0/s" ||
	fail "$name: the text summary row says 0 B, net 0, 0/s" "row: '$row'"

# ---- 4. the name the program runs as --------------------------------------------------
name="steady: target name"
hdr=$(grep -m1 -E '^[0-9:]+  pid [0-9]+  ' "$tmp/ctext.out")
sum=$(grep -m1 '^=== SUMMARY' "$tmp/ctext.out")
exe=$(jq -r -s '[.[] | select(.type=="interval" or .type=="summary") | .exe] | unique | join(" ")' "$tmp/cjson.out")
[[ "$hdr" == *"  pid $poolt  pool-server  "* ]] && [[ "$sum" == *"  pid $poolt  pool-server"* ]] &&
	[ "$exe" = pool-server ] && grep -q "tracing pid $poolj (pool-server" "$tmp/cjson.err" &&
	pass "$name: started through a symlink, it is called by the symlink's name (header, summary, JSON exe)" ||
	fail "$name: called by the symlink's name" "header '$hdr'; summary '$sum'; JSON exe '$exe'; $(head -1 "$tmp/cjson.err")"
# Both pools did fill and drain (the rows above are the JSON one's).
phases="$(status_get "$tmp/poolj/status" phase) $(status_get "$tmp/poolt/status" phase)"
[ "$phases" = "drained drained" ] &&
	pass "$name: the pools filled and drained" ||
	fail "$name: the pools filled and drained" "phases $phases"
testlib_status
