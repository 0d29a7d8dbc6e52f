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

kill "$tp" 2>/dev/null
wait "$tp" 2>/dev/null
tp=

# --- Memory given back with madvise, and how mapping calls are watched ---------
# tests/targets/cmadvise gives memory back the way jemalloc does (madvise
# DONTNEED / FREE, written again, flat RSS): none of that is growth; a fresh
# mapping is what is written of it; a leak that writes new pages still is.
if ! gcc -O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -Wall -o "$T/cmadvise" \
	"$LEAKSCOPE_ROOT/tests/targets/cmadvise/cmadvise.c" ||
	! gcc -O2 -fno-omit-frame-pointer -Wall -static -s -o "$T/cmadvise-static" \
		"$LEAKSCOPE_ROOT/tests/targets/cmadvise/cmadvise.c"; then
	fail "growth: build cmadvise" "see above"
	testlib_status
	exit 1
fi

# The BPF programs leakscope process $1 has attached (its link fds), one name a line.
attached_progs() {
	local f id
	for f in /proc/$1/fdinfo/*; do
		grep -q '^link_type:' "$f" 2>/dev/null || continue
		id=$(awk '/^prog_id:/ {print $2}' "$f")
		[ -n "$id" ] && bpftool prog show id "$id" -j 2>/dev/null | jq -r .name
	done
}

# run_cmadvise BINARY ARGS...: leakscope --mode growth on it, 3 reports of 2 s, links
# taken while attached; leaves $tmp/m.json (final stacks), $tmp/m.links, $tmp/m.status.
run_cmadvise() {
	local bin=$1 l
	shift
	rm -f "$tmp/mstatus"
	"$bin" "$@" -status "$tmp/mstatus" >"$tmp/mtarget.out" 2>&1 &
	tp=$!
	if ! wait_for 10 grep -q 'ready 1' "$tmp/mstatus"; then
		fail "growth: cmadvise start" "$(head -3 "$tmp/mtarget.out")"
		return 1
	fi
	"$LEAKSCOPE" --suspects off --mode growth --json -T 0 -p $tp 2 3 >"$tmp/m.out" 2>"$tmp/m.err" &
	l=$!
	wait_for 20 grep -q 'tracing pid' "$tmp/m.err" && kill -USR1 $tp
	sleep 1
	attached_progs $l >"$tmp/m.links"
	wait $l
	local rc=$?
	cp "$tmp/mstatus" "$tmp/m.status"
	kill $tp
	wait $tp 2>/dev/null
	tp=
	if [ $rc != 0 ]; then
		fail "growth: leakscope on $(basename "$bin") exits 0" "exit $rc: $(tail -3 "$tmp/m.err")"
		return 1
	fi
	jq -c 'select(.type=="stack" and .view=="native-growth" and .final)' "$tmp/m.out" >"$tmp/m.json"
	mnote=$(jq -rs '[.[] | select(.type=="interval")] | last | .["native-growth"].note' "$tmp/m.out")
}
# mget FIELD FUNC: FIELD summed over the final stacks with a frame named FUNC (or a
# clone of it: FUNC.constprop.0).
mget() {
	jq -s "map(select(any(.frames[]; .func == \"$2\" or (.func | startswith(\"$2.\")))) | .$1) | add // 0" "$tmp/m.json"
}

# The leak stops at 8 MiB (32 cycles, under 2 s), long before the session's end:
# what the target leaked is all there is to see (it runs on while leakscope detaches).
if run_cmadvise "$T/cmadvise" -leak -leak-mb 8; then
	# Structural, not timed: with libc mapped, mapping calls are watched by uprobes
	# in its wrappers (only the target traps); the raw syscall tracepoint, which
	# every process on the machine would run, is not attached.
	nc=$(grep -c '^growth_call$' "$tmp/m.links")
	if [ "$nc" -ge 3 ] && ! grep -q '^growth_sys_exit$' "$tmp/m.links" &&
		grep -q '^growth_fault$' "$tmp/m.links" && [[ "$mnote" == *"probes in libc.so.6"* ]]; then
		pass "growth: libc target: $nc uprobes in libc's wrappers, no syscall tracepoint attached"
	else
		fail "growth: libc target: uprobes in libc's wrappers, no syscall tracepoint" \
			"attached: $(sort "$tmp/m.links" | uniq -c | tr '\n' ' '); note: $mnote"
	fi
	got=$(mget net_bytes cycle_held)
	made=$(mget created_bytes cycle_held)
	if [ "$got" = 0 ] && [ "$made" = 0 ] && [[ "$mnote" =~ written\ again\ [1-9][0-9]*\ KiB ]]; then
		pass "growth: memory held at attach, given back by madvise and written again, is not growth"
	else
		fail "growth: memory held at attach, given back and written again, is not growth" \
			"cycle_held: net $got, created $made; note: $mnote"
	fi
	got=$(mget net_bytes cycle_churn)
	made=$(mget created_bytes cycle_churn)
	freed=$(mget freed_bytes cycle_churn)
	cycles=$(status_get "$tmp/m.status" cycles)
	if [ "$got" -le $((4 << 20)) ] && [ "$made" -ge $((5 * (4 << 20))) ] && [ "$freed" -ge $((made - (4 << 20))) ]; then
		pass "growth: a 4 MiB arena given back (madvise) and written again nets at most 4 MiB ($got of $made bytes, $cycles cycles)"
	else
		fail "growth: an arena given back (madvise) and written again nets at most its size" \
			"cycle_churn: net $got, created $made, freed $freed ($cycles cycles)"
	fi
	got=$(mget net_bytes map_partial)
	want=$(status_get "$tmp/m.status" partial_bytes)
	if [ "$got" = "$want" ] && [ "$want" -gt 0 ]; then
		pass "growth: a fresh 8 MiB mapping counts what is written of it ($got bytes)"
	else
		fail "growth: a fresh mapping counts what is written of it" "map_partial: net $got, written $want"
	fi
	got=$(mget net_bytes leak_pages)
	want=$(status_get "$tmp/m.status" leaked_bytes)
	top=$(jq -s -r 'sort_by(-.net_bytes) | .[0] | [.frames[].func] | join(" ")' "$tmp/m.json")
	if awk -v g="$got" -v w="$want" 'BEGIN { exit !(g >= 0.95 * w && g <= w && w == 8 * 1048576) }' &&
		[[ "$top" == "touch leak_pages"* ]]; then
		pass "growth: beside all that, the leak tops the list with its stack ($got of $want bytes)"
	else
		fail "growth: the leak tops the list with its stack" "leak_pages net $got of $want; top: $top"
	fi
fi

# A static binary without symbols has no wrappers to probe: the sys_exit
# tracepoint (and not the uprobe) watches its mapping calls, to the same effect.
if run_cmadvise "$T/cmadvise-static"; then
	net=$(jq -s 'map(.net_bytes) | add // 0' "$tmp/m.json")
	made=$(jq -s 'map(.created_bytes) | add // 0' "$tmp/m.json")
	if grep -q '^growth_sys_exit$' "$tmp/m.links" && ! grep -q '^growth_call$' "$tmp/m.links" &&
		[[ "$mnote" == *"sys_exit tracepoint"* ]]; then
		pass "growth: static binary: the sys_exit tracepoint, no uprobe"
	else
		fail "growth: static binary: the sys_exit tracepoint, no uprobe" \
			"attached: $(sort "$tmp/m.links" | uniq -c | tr '\n' ' '); note: $mnote"
	fi
	# At most the 4 MiB arena and the 1 MiB written of the fresh mapping, though
	# far more was written.
	if [ "$net" -le $((5 << 20)) ] && [ "$made" -ge $((5 * (4 << 20))) ]; then
		pass "growth: static binary: memory given back by madvise and written again is not growth ($net of $made bytes)"
	else
		fail "growth: static binary: memory given back and written again is not growth" "net $net of $made bytes written"
	fi
fi

testlib_status
