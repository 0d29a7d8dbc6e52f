#!/bin/bash
# Native heap, end to end: tests/targets/cleak leaks from one call path, frees
# everything on another, and uses every allocator function leakscope traces
# (including realloc in all its forms and allocations that must fail), counting
# what it keeps itself; leakscope's numbers are checked against those counts. The
# same target runs plain, statically linked, started by leakscope, in its own mount
# namespace with its own libc, and with a stripped libc; a C++ target checks
# demangled names through operator new; a program with its own prefixed allocator
# checks --alloc-prefix; bad inputs and a target exiting mid-run end cleanly. The
# plain target runs again with Debian's jemalloc and tcmalloc preloaded (redis is
# built on that jemalloc): the same exact counts, from those allocators' probes.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh" # wait_for, status_get, within

T=$LEAKSCOPE_BUILD/targets/native
mkdir -p "$T"
tmp=$(mktemp -d /tmp/leakscope-native.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	umount "$tmp/ns" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

CFLAGS=(-O2 -g -fno-omit-frame-pointer -Wall)
src=$LEAKSCOPE_ROOT/tests/targets
gcc "${CFLAGS[@]}" -o "$T/cleak" "$src/cleak/cleak.c" &&
	gcc "${CFLAGS[@]}" -static -o "$T/cleak-static" "$src/cleak/cleak.c" &&
	gcc "${CFLAGS[@]}" -static -s -o "$T/cleak-static-stripped" "$src/cleak/cleak.c" &&
	gcc "${CFLAGS[@]}" -o "$T/prefixed" "$src/cleak/prefixed.c" &&
	g++ "${CFLAGS[@]}" -o "$T/cppleak" "$src/cppleak/cppleak.cpp" || {
	fail "native: build targets" "see above"
	testlib_status
	exit 1
}
libc=$(ldd "$T/cleak" | awk '$1 == "libc.so.6" { print $3 }')

# cleak's leak: 2000 blocks of 1000 bytes in about a second, 20 rounds of the rest.
CLEAK_ARGS=(-count 2000 -rate 2000 -size 1000)

# start DIR CMD...: run CMD in the background until it writes "ready 1" to
# DIR/status; sets TPID. Fails (returns 1) if it does not.
start() {
	local dir=$1
	shift
	"$@" >"$dir/target.out" 2>&1 &
	TPID=$!
	pids+=($TPID)
	wait_for 10 grep -q 'ready 1' "$dir/status" && return 0
	fail "$(basename "$dir"): target start" "$(head -3 "$dir/target.out")"
	return 1
}

# trace DIR ARGS...: leakscope -p $TPID --json -T 0 ARGS, start the target's leak
# (SIGUSR1) once attached, wait; sets LRC.
trace() {
	local dir=$1
	shift
	"$LEAKSCOPE" --suspects off -p "$TPID" --json -T 0 "$@" >"$dir/out.json" 2>"$dir/err" &
	local l=$!
	if ! wait_for 20 grep -q 'tracing pid' "$dir/err"; then
		kill $l 2>/dev/null
		wait $l
		LRC=$?
		return
	fi
	kill -USR1 "$TPID"
	wait $l
	LRC=$?
}

# Native-heap stacks of the last periodic report, as JSON lines.
last_stacks() {
	local r
	r=$(jq -s '[.[] | select(.type=="interval") | .report] | max' "$1/out.json")
	jq -c "select(.type==\"stack\" and .view==\"native-heap\" and .report==$r and .final==false)" \
		"$1/out.json"
}

# sum FIELD CALLER: total of FIELD over the last report's stacks whose frame 1
# (the allocator's caller) is CALLER.
sum() {
	jq -s "map(select(.frames[1].func==\"$2\") | .$1) | add // 0" "$D/last.json"
}

# allocators CALLER: the functions in frame 0 of CALLER's stacks (outstanding or not).
allocators() {
	jq -r "select(.frames[1].func==\"$1\") | .frames[0].func" "$D/last.json" | sort -u | xargs
}

# check_cleak NAME DIR [launched]: what leakscope saw against what cleak counted.
check_cleak() {
	local name=$1 launched=${3:-}
	D=$2
	if [ "$LRC" != 0 ]; then
		fail "$name: leakscope exits 0" "exit $LRC: $(tail -3 "$D/err")"
		return
	fi
	pass "$name: leakscope exits 0"
	last_stacks "$D" >"$D/last.json"
	local st=$D/status phase
	phase=$(status_get "$st" phase)
	if [ "$phase" != done ] || [ ! -s "$D/last.json" ]; then
		fail "$name: run shape" "target phase '$phase', $(wc -l <"$D/last.json") stacks in the last report"
		return
	fi

	# The leak, with the function that called malloc.
	local bytes blocks want wantn frames
	bytes=$(jq -s 'map(select(.frames[0].func=="malloc" and .frames[1].func=="leak_block") | .live_bytes) | add // 0' "$D/last.json")
	blocks=$(jq -s 'map(select(.frames[0].func=="malloc" and .frames[1].func=="leak_block") | .live) | add // 0' "$D/last.json")
	want=$(status_get "$st" leaked_bytes)
	wantn=$(status_get "$st" leaked_blocks)
	if within 1 "$bytes" "$want" && [ "$blocks" = "$wantn" ]; then
		pass "$name: leaking stack holds the target's own count ($bytes of $want bytes, $blocks blocks)"
	else
		fail "$name: leaking stack holds the target's own count" "leakscope $bytes bytes in $blocks blocks, target $want in $wantn"
	fi
	frames=$(jq -r 'select(.frames[1].func=="leak_block") | [.frames[].func] | join(" ")' "$D/last.json" | head -1)
	if [[ "$frames" == "malloc leak_block leak_loop main"* ]]; then
		pass "$name: leak stack is malloc <- leak_block <- leak_loop <- main"
	else
		fail "$name: leak stack is malloc <- leak_block <- leak_loop <- main" "frames: $frames"
	fi
	if jq_any "$D/last.json" '.frames[1].func=="leak_block" and (.frames[1].file | endswith("/cleak.c")) and .frames[1].line > 0'; then
		pass "$name: frames carry file:line from DWARF"
	else
		fail "$name: frames carry file:line from DWARF" "$(jq -c 'select(.frames[1].func=="leak_block") | .frames[1]' "$D/last.json")"
	fi
	local age
	age=$(jq -s 'map(select(.frames[1].func=="leak_block") | .oldest_age_s) | max' "$D/last.json")
	if awk -v a="$age" 'BEGIN { exit !(a >= 1 && a < 30) }'; then
		pass "$name: oldest outstanding block's age reported (${age}s)"
	else
		fail "$name: oldest outstanding block's age reported" "oldest_age_s $age"
	fi

	# The freeing path: busy, nothing outstanding.
	local churned live
	churned=$(jq -s 'map(select(.type=="stack" and .view=="native-heap" and .final and .frames[1].func=="churn") | .created) | add // 0' "$D/out.json")
	live=$(sum live churn)
	if [ "$churned" -gt 1000 ] && [ "$live" -le 2 ]; then
		pass "$name: freeing path shows ~0 outstanding ($live of $churned allocations)"
	else
		fail "$name: freeing path shows ~0 outstanding" "$live outstanding of $churned allocated"
	fi

	# Every allocator function, from the function that called it.
	local spec caller fn key got exp fns
	for spec in keep_calloc:calloc:calloc_bytes keep_posix_memalign:posix_memalign:posix_memalign_bytes \
		keep_aligned_alloc:aligned_alloc:aligned_alloc_bytes keep_memalign:${MEMALIGN_FN:-aligned_alloc}:memalign_bytes \
		keep_valloc:${VALLOC_FN:-valloc}:valloc_bytes ${NO_PVALLOC:-keep_pvalloc:pvalloc:pvalloc_bytes} \
		keep_reallocarray:reallocarray:reallocarray_bytes keep_mmap:mmap:mmap_bytes \
		grow_buffer:realloc:grow_bytes realloc_from_null:realloc:from_null_bytes \
		try_huge:malloc:huge_kept_bytes; do
		IFS=: read -r caller fn key <<<"$spec"
		got=$(jq -s "map(select(.frames[0].func==\"$fn\" and .frames[1].func==\"$caller\") | .live_bytes) | add // 0" "$D/last.json")
		exp=$(status_get "$st" "$key")
		if [ "$got" = "$exp" ] && [ "$exp" -gt 0 ]; then
			pass "$name: $fn from $caller: $got bytes outstanding, as counted"
		else
			fail "$name: $fn from $caller" "leakscope $got bytes, target $exp; frame 0 seen: $(allocators "$caller")"
		fi
	done
	# (glibc's memalign and aligned_alloc are one function; it shows as aligned_alloc.
	# MEMALIGN_FN names it for allocators where memalign is a function of its own,
	# VALLOC_FN for those whose valloc symbolizes under another name; NO_PVALLOC
	# set (to anything but a spec) when the target ran with -no-pvalloc.)

	# realloc: growing, moving into an mmapped chunk and back keeps one block, at
	# the last realloc; the malloc it started from holds nothing; realloc(p, 0) frees.
	fns=$(jq -s 'map(select(.frames[1].func=="grow_buffer" and .frames[0].func!="realloc") | .live) | add // 0' "$D/last.json")
	if [ "$fns" = 0 ]; then
		pass "$name: realloc moved the block: its first malloc holds nothing"
	else
		fail "$name: realloc moved the block: its first malloc holds nothing" "$fns outstanding"
	fi
	got=$(sum live realloc_to_zero)
	[ "$got" = 0 ] && pass "$name: realloc(p, 0) frees p" ||
		fail "$name: realloc(p, 0) frees p" "$got outstanding from realloc_to_zero"

	# Failed allocations: nothing outstanding, and counted.
	got=$(jq -s 'map(select(.frames[1].func=="try_huge" and .frames[0].func!="malloc") | .live) | add // 0' "$D/last.json")
	local nfailed note
	note=$(jq -rs '[.[] | select(.type=="interval")] | last | .["native-heap"].note' "$D/out.json")
	nfailed=$(sed -n 's/.*; \([0-9]*\) failed allocations.*/\1/p' <<<"$note")
	exp=$(status_get "$st" failed_calls)
	if [ "$got" = 0 ] && [ "$nfailed" = "$exp" ]; then
		pass "$name: failed allocations are not outstanding, and counted ($nfailed)"
	else
		fail "$name: failed allocations" "$got outstanding from try_huge's failing calls; $nfailed counted failures, target $exp; note: $note"
	fi

	# Blocks allocated before attach and freed since: not there, nothing negative.
	# (Started by leakscope, the program allocated them while traced.)
	got=0
	[ -n "$launched" ] ||
		got=$(jq -s 'map(select(.frames[1].func=="pre_attach_alloc")) | length' "$D/out.json")
	local neg
	neg=$(jq -s 'map(select(.type=="stack" and .view=="native-heap" and (.live < 0 or .live_bytes < 0 or .exited < 0))) | length' "$D/out.json")
	if [ "$got" = 0 ] && [ "$neg" = 0 ]; then
		pass "$name: frees of blocks allocated before attach are ignored"
	else
		fail "$name: frees of blocks allocated before attach are ignored" "$got pre-attach stacks, $neg negative rows"
	fi
}

# run_cleak NAME CMD...: start cleak (CMD) and check it, 4 one-second reports.
run_cleak() {
	local name=$1 dir
	shift
	dir=$tmp/$(tr ' /' '__' <<<"$name")
	mkdir -p "$dir"
	start "$dir" "$@" -status "$dir/status" "${CLEAK_ARGS[@]}" || return
	trace "$dir" 1 4
	check_cleak "$name" "$dir"
	kill "$TPID"
	wait "$TPID" 2>/dev/null
}

run_cleak "native" "$T/cleak"
run_cleak "native static" "$T/cleak-static"

# Other allocators, preloaded: every function they define is probed in their file
# (at the first instruction the kernel emulates: jemalloc's malloc starts with a
# cmp), the rest stays glibc's (jemalloc has no pvalloc, whose glibc block its free
# could not take: -no-pvalloc). Exact counts, as above.
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4

# placement NAME LIB CMD...: -v's probe lines for the functions LIB defines (the
# target opens it through /proc/PID/map_files/RANGE): malloc and free among them,
# every one on an instruction the kernel emulates.
placement() {
	local name=$1 lib=$2 dir ranges lines n bad
	shift 2
	dir=$tmp/$(tr ' /' '__' <<<"$name")
	mkdir -p "$dir"
	start "$dir" "$@" -status "$dir/status" || return
	"$LEAKSCOPE" --suspects off -p "$TPID" -v -o /dev/null 1 1 2>"$dir/err"
	ranges=$(awk -v l="$(readlink -f "$lib")" '$6 == l { print $1 }' "/proc/$TPID/maps" | paste -sd'|')
	lines=$(grep -E "native heap: [a-z_]+ in /proc/$TPID/map_files/($ranges): .*probe" "$dir/err")
	n=$(grep -cE ': (malloc|free) in ' <<<"$lines")
	bad=$(grep -v ', emulated)$' <<<"$lines")
	if [ -n "$ranges" ] && [ "$n" = 2 ] && [ -z "$bad" ]; then
		pass "$name: every probe in $(basename "$lib") on an emulated instruction ($(wc -l <<<"$lines") functions)"
	else
		fail "$name: every probe in $(basename "$lib") on an emulated instruction" \
			"malloc+free lines $n; not emulated: ${bad:-none}; $(grep -c 'native heap' "$dir/err") lines in all"
	fi
	kill "$TPID"
	wait "$TPID" 2>/dev/null
}
if [ -e "$jemalloc" ]; then
	MEMALIGN_FN=memalign NO_PVALLOC=" " run_cleak "native jemalloc" \
		env LD_PRELOAD="$jemalloc" "$T/cleak" -no-pvalloc
	placement "native jemalloc" "$jemalloc" env LD_PRELOAD="$jemalloc" "$T/cleak" -no-pvalloc
else
	fail "native jemalloc" "$jemalloc missing: apt-get install libjemalloc2 (make deps)"
fi
if [ -e "$tcmalloc" ]; then
	VALLOC_FN=tc_valloc run_cleak "native tcmalloc" env LD_PRELOAD="$tcmalloc" "$T/cleak"
	placement "native tcmalloc" "$tcmalloc" env LD_PRELOAD="$tcmalloc" "$T/cleak"
else
	fail "native tcmalloc" "$tcmalloc missing: apt-get install libtcmalloc-minimal4 (make deps)"
fi

# Started by leakscope: the probes go in before the program's exec.
dir=$tmp/launched
mkdir -p "$dir"
"$LEAKSCOPE" --suspects off --json -T 0 1 4 -- "$T/cleak" -status "$dir/status" "${CLEAK_ARGS[@]}" \
	>"$dir/out.json" 2>"$dir/err" &
l=$!
if wait_for 20 grep -q 'tracing pid' "$dir/err" && wait_for 10 grep -q 'ready 1' "$dir/status"; then
	TPID=$(sed -n 's/.*tracing pid \([0-9]*\).*/\1/p' "$dir/err")
	pids+=($TPID)
	kill -USR1 "$TPID"
	wait $l
	LRC=$?
	check_cleak "native -- COMMAND" "$dir" launched
	kill "$TPID"
else
	fail "native -- COMMAND: start" "$(head -3 "$dir/err")"
	kill $l
fi

# Its own mount namespace, with a libc copied to a path that exists only there.
dir=$tmp/mountns
ns=$tmp/ns
mkdir -p "$dir" "$ns"
if start "$dir" unshare -m --propagation private sh -c \
	"mount -t tmpfs leakscope-test '$ns' && cp '$libc' '$ns/' && exec env LD_LIBRARY_PATH='$ns' '$T/cleak' -status '$dir/status' ${CLEAK_ARGS[*]}"; then
	if grep -q " $ns/libc.so.6\$" "/proc/$TPID/maps" && [ ! -e "$ns/libc.so.6" ]; then
		pass "mount namespace: the target maps a libc leakscope cannot see at its path"
	else
		fail "mount namespace: setup" "target maps: $(grep libc "/proc/$TPID/maps" | head -1)"
	fi
	trace "$dir" 1 4
	check_cleak "native in own mount namespace" "$dir"
	kill "$TPID"
fi

# A stripped libc: symbols come from .dynsym.
dir=$tmp/stripped
mkdir -p "$dir/lib"
cp "$libc" "$dir/lib/" && strip "$dir/lib/libc.so.6"
if readelf -S "$dir/lib/libc.so.6" | grep -q '\.symtab'; then
	fail "stripped libc: setup" "strip left a .symtab"
elif start "$dir" env LD_LIBRARY_PATH="$dir/lib" "$T/cleak" -status "$dir/status" "${CLEAK_ARGS[@]}"; then
	trace "$dir" 1 4
	check_cleak "native with a stripped libc" "$dir"
	kill "$TPID"
fi

# C++: demangled names, and the function that called operator new.
dir=$tmp/cpp
mkdir -p "$dir"
"$T/cppleak" -n 800 -status "$dir/status" >"$dir/target.out" &
TPID=$!
pids+=($TPID)
if wait_for 10 grep -q ready "$dir/target.out"; then
	trace "$dir" 1 3
	D=$dir
	last_stacks "$dir" >"$dir/last.json"
	n=$(status_get "$dir/status" inserted)
	row=$(jq -c 'select(.live_bytes == .live * 1024 and (.frames | map(.func) | index("Cache::insert(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&)")))' "$dir/last.json" | head -1)
	frames=$(jq -r '[.frames[].func] | join(" | ")' <<<"$row")
	if [ "$LRC" = 0 ] && [ -n "$row" ] && [ "$(jq .live <<<"$row")" = "$n" ] &&
		[[ "$frames" == "malloc | operator new(unsigned long) | Cache::insert("* ]]; then
		pass "C++: Cache::insert(std::string const&) demangled, above operator new (new[] tail-calls it), $n blocks"
	else
		fail "C++: Cache::insert demangled above operator new" "exit $LRC, inserted $n, row: ${row:0:300}"
		jq -c '[.live, [.frames[].func]]' "$dir/last.json" | head -5
	fi
	got=$(jq -s 'map(select(.frames | map(.func) | index("Cache::lookup(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&)")) | .live) | add // 0' "$dir/last.json")
	[ "$got" = 0 ] && pass "C++: Cache::lookup's temporaries are not outstanding" ||
		fail "C++: Cache::lookup's temporaries are not outstanding" "$got outstanding"
	kill "$TPID"
else
	fail "C++: target start" "$(head -3 "$dir/target.out")"
fi

# C++ under jemalloc, whose operator new and delete are its own (they never call
# malloc or free): probed in its file, the same blocks and no temporaries left.
dir=$tmp/cpp-jemalloc
mkdir -p "$dir"
if [ -e "$jemalloc" ]; then
	env LD_PRELOAD="$jemalloc" "$T/cppleak" -n 800 -status "$dir/status" >"$dir/target.out" &
	TPID=$!
	pids+=($TPID)
	if wait_for 10 grep -q ready "$dir/target.out"; then
		trace "$dir" 1 3
		D=$dir
		last_stacks "$dir" >"$dir/last.json"
		n=$(status_get "$dir/status" inserted)
		row=$(jq -c 'select(.live_bytes == .live * 1024 and (.frames | map(.func) | index("Cache::insert(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&)")))' "$dir/last.json" | head -1)
		frames=$(jq -r '[.frames[].func] | join(" | ")' <<<"$row")
		if [ "$LRC" = 0 ] && [ -n "$row" ] && [ "$(jq .live <<<"$row")" = "$n" ] &&
			[[ "$frames" == "operator new(unsigned long) | Cache::insert("* ]]; then
			pass "C++ with jemalloc: its own operator new probed, Cache::insert holds $n blocks"
		else
			fail "C++ with jemalloc: its own operator new probed" "exit $LRC, inserted $n, row: ${row:0:300}"
			jq -c '[.live, [.frames[].func]]' "$dir/last.json" | head -5
		fi
		got=$(jq -s 'map(select(.frames | map(.func) | index("Cache::lookup(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&) [clone .isra.0]", "Cache::lookup(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&)")) | .live) | add // 0' "$dir/last.json")
		# Made (in some report) and all given back.
		nl=$(jq -s 'map(select(.type == "stack" and .view == "native-heap" and .final and (.frames | map(.func // "") | any(startswith("Cache::lookup(")))) | .created) | add // 0' "$dir/out.json")
		[ "$got" = 0 ] && [ "$nl" -gt 0 ] && pass "C++ with jemalloc: its operator delete seen (Cache::lookup's $nl temporaries: 0 outstanding)" ||
			fail "C++ with jemalloc: its operator delete seen" "$got outstanding from Cache::lookup, $nl made"
		kill "$TPID"
	else
		fail "C++ with jemalloc: target start" "$(head -3 "$dir/target.out")"
	fi
fi

# An allocator of its own under prefixed names (like a prefixed jemalloc build).
dir=$tmp/prefix
mkdir -p "$dir"
"$T/prefixed" -n 1000 -status "$dir/status" >"$dir/target.out" &
TPID=$!
pids+=($TPID)
if wait_for 10 grep -q ready "$dir/target.out"; then
	trace "$dir" --alloc-prefix pa_ 1 3
	D=$dir
	last_stacks "$dir" >"$dir/last.json"
	got=$(jq -s 'map(select(.frames[0].func=="pa_malloc" and .frames[1].func=="leak_pa") | .live_bytes) | add // 0' "$dir/last.json")
	exp=$(status_get "$dir/status" leaked_bytes)
	churn=$(sum live churn_pa)
	if [ "$LRC" = 0 ] && [ "$got" = "$exp" ] && [ "$churn" = 0 ]; then
		pass "--alloc-prefix pa_: pa_malloc leak from leak_pa ($got bytes), pa_free seen"
	else
		fail "--alloc-prefix pa_" "exit $LRC, leak_pa $got bytes of $exp, churn_pa $churn outstanding"
	fi
	kill "$TPID"
else
	fail "--alloc-prefix: target start" "$(head -3 "$dir/target.out")"
fi

# Bad input: a static binary without symbols has no malloc to find.
dir=$tmp/static-stripped
mkdir -p "$dir"
if start "$dir" "$T/cleak-static-stripped" -status "$dir/status"; then
	"$LEAKSCOPE" --suspects off -p "$TPID" 1 1 >"$dir/out" 2>"$dir/err"
	rc=$?
	if [ $rc = 4 ] && [ "$(grep -c . "$dir/err")" = 1 ] &&
		grep -q '^leakscope: error: .*statically linked without a symbol table' "$dir/err"; then
		pass "static binary without symbols: one-line error, exit 4"
	else
		fail "static binary without symbols: one-line error, exit 4" "exit $rc: $(head -3 "$dir/err")"
	fi
	kill "$TPID"
fi

# The target exits mid-run: the summary keeps what it held, exit 0.
dir=$tmp/exits
mkdir -p "$dir"
if start "$dir" "$T/cleak" -status "$dir/status" -count 1000 -rate 2000 -duration 3 -exit; then
	trace "$dir" 1
	exp=$(status_get "$dir/status" leaked_bytes)
	got=$(jq -s 'map(select(.type=="stack" and .view=="native-heap" and .final and .frames[1].func=="leak_block") | .live_bytes) | add // 0' "$dir/out.json")
	if [ "$LRC" = 0 ] && jq_any "$dir/out.json" '.type=="summary" and .end=="target_exited"' &&
		grep -q "target $TPID exited" "$dir/err" && [ "$got" = "$exp" ]; then
		pass "target exits mid-run: summary with the leak ($got bytes), exit 0"
	else
		fail "target exits mid-run" "exit $LRC, summary leak $got of $exp bytes; $(tail -2 "$dir/err")"
	fi
fi
testlib_status
