#!/bin/bash
# Growth mode (--mode growth), end to end: tests/targets/cgrowth leaks small
# records from remember(), grows a table with mremap from grow_table(), and beside
# them churns small heap blocks (handle_request) and 1 MiB mappings
# (render_scratch) that it gives back. Nothing is probed per malloc; growth is
# charged to the stack that first writes new memory or maps it. Checked against
# the target's own counts: the leak tops the list with its calling function and
# most of its bytes, mremap growth is followed to the byte, the churn nets ~0.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh" # wait_for, status_get, within

T=$LEAKSCOPE_BUILD/targets/native
mkdir -p "$T"
tmp=$(mktemp -d /tmp/leakscope-growth.XXXXXX)
tp=
cleanup() {
	[ -n "$tp" ] && kill "$tp" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

if ! gcc -O2 -g -fno-omit-frame-pointer -Wall -o "$T/cgrowth" \
	"$LEAKSCOPE_ROOT/tests/targets/cgrowth/cgrowth.c"; then
	fail "growth: build target" "see above"
	testlib_status
	exit 1
fi

# 20000 records of 200 bytes at 5000/s: 4 s of leaking, inside 3 reports of 2 s.
"$T/cgrowth" -count 20000 -rate 5000 -size 200 -status "$tmp/status" >"$tmp/target.out" 2>&1 &
tp=$!
if ! wait_for 10 grep -q 'ready 1' "$tmp/status"; then
	fail "growth: target start" "$(head -3 "$tmp/target.out")"
	testlib_status
	exit 1
fi
"$LEAKSCOPE" --suspects off --mode growth --json -T 0 -p $tp 2 3 >"$tmp/out.json" 2>"$tmp/err" &
l=$!
if wait_for 20 grep -q 'tracing pid' "$tmp/err"; then
	kill -USR1 $tp
fi
wait $l
rc=$?
phase=$(status_get "$tmp/status" phase)
if [ $rc != 0 ] || [ "$phase" != done ]; then
	fail "growth: leakscope --mode growth runs and exits 0" "exit $rc, target phase '$phase': $(tail -3 "$tmp/err")"
	testlib_status
	exit 1
fi
pass "growth: leakscope --mode growth runs and exits 0"

# The session summary's growth stacks.
jq -c 'select(.type=="stack" and .view=="native-growth" and .final)' "$tmp/out.json" >"$tmp/final.json"
# net CALLER [FRAME0]: bytes grown since attach by stacks whose frame 1 is CALLER.
net() {
	jq -s "map(select(.frames[1].func==\"$1\" and (\"${2:-}\" == \"\" or .frames[0].func==\"${2:-}\")) | .net_bytes) | add // 0" \
		"$tmp/final.json"
}

note=$(jq -rs '[.[] | select(.type=="interval")] | last | .["native-growth"].note' "$tmp/out.json")
if [[ "$note" == "growth attribution, not outstanding allocations"* ]]; then
	pass "growth: the view says it is growth attribution"
else
	fail "growth: the view says it is growth attribution" "note: $note"
fi

top=$(jq -s -r 'sort_by(-.net_bytes) | .[0] | [.frames[].func] | join(" ")' "$tmp/final.json")
if [[ "$top" == "malloc remember serve main" ]]; then
	pass "growth: the leak tops the list: malloc <- remember <- serve <- main"
else
	fail "growth: the leak tops the list" "top stack: $top"
fi

# First-write attribution: the heap's new pages go to whoever writes them first,
# mostly the leak; neighbours freed at once (stdio buffers) take a few.
got=$(net remember malloc)
want=$(status_get "$tmp/status" leaked_bytes)
if awk -v g="$got" -v w="$want" 'BEGIN { exit !(g >= 0.8 * w && g <= 1.05 * w) }'; then
	pass "growth: the leak's growth is most of what it leaked ($got of $want bytes)"
else
	fail "growth: the leak's growth is most of what it leaked" "$got bytes charged, target leaked $want"
fi

got=$(net grow_table)
want=$(status_get "$tmp/status" table_bytes)
if [ "$got" = "$want" ] && [ "$want" -gt 0 ]; then
	pass "growth: mmap then mremap growth followed to the byte ($got)"
else
	fail "growth: mmap then mremap growth followed" "$got bytes charged to grow_table, its table is $want"
fi

# Mappings made and unmapped: seen (created), given back (net at most the one in flight).
made=$(jq -s 'map(select(.frames[1].func=="render_scratch") | .created_bytes) | add // 0' "$tmp/final.json")
got=$(net render_scratch)
if [ "$made" -ge $((10 << 20)) ] && [ "$got" -le $((1 << 20)) ]; then
	pass "growth: mappings unmapped again net ~0 ($got of $made bytes)"
else
	fail "growth: mappings unmapped again net ~0" "net $got of $made bytes mapped"
fi

got=$(net handle_request)
leak=$(net remember malloc)
if [ "$got" -le $((leak / 20)) ]; then
	pass "growth: heap churn the allocator reuses shows no growth ($got bytes)"
else
	fail "growth: heap churn the allocator reuses shows no growth" "$got bytes charged to handle_request, leak $leak"
fi

if jq_any "$tmp/final.json" '.frames[1].func=="remember" and (.frames[1].file | endswith("/cgrowth.c")) and .frames[1].line > 0'; then
	pass "growth: frames carry file:line"
else
	fail "growth: frames carry file:line" "$(jq -c 'select(.frames[1].func=="remember") | .frames[1]' "$tmp/final.json" | head -1)"
fi

testlib_status
