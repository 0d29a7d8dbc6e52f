#!/bin/bash
# pprof profiles from recorded series (tests/unit/test_pprof.c, which also checks the
# protobuf encoder by decoding it), read back with `go tool pprof`: sample types and
# period, the values of every stack, function names and file:line, labels, and that
# -diff_base between two reports shows what grew.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
dir=$(mktemp -d /tmp/leakscope-pprof.XXXXXX)
trap 'rm -rf "$dir"' EXIT

if "$LEAKSCOPE_BUILD/unit/test_pprof" "$dir" >"$dir/out.txt" 2>&1; then
	pass "pprof: encoder round trips, gzip, a profile per view from recorded series"
else
	fail "pprof: encoder round trips, gzip, a profile per view from recorded series" \
		"$(grep FAIL "$dir/out.txt" | head -5)"
fi

views="goroutines go-heap go-alloc native-heap native-growth threads"
bad=""
for v in $views go-heap-1 native-heap-1 native-heap-summary empty; do
	gzip -t "$dir/$v.pb.gz" 2>/dev/null || bad+=" $v"
done
if [ -z "$bad" ]; then pass "pprof: every file is valid gzip"; else fail "pprof: every file is valid gzip" "bad:$bad"; fi

# The machine's go, else Debian's golang-1.19 (what make deps installs).
GO=$(command -v go || echo /usr/lib/go-1.19/bin/go)
if ! [ -x "$GO" ]; then
	skip "pprof: go tool pprof reads the files" "no go command"
	testlib_status
	exit
fi

# traces FILE ARGS...: one line per sample, "VALUE<tab>LABELS<tab>FRAMES", values in
# plain units (bytes, counts), labels as key=value joined by ",", frames innermost
# first joined by ";" (from -traces).
traces() {
	local f=$1
	shift
	"$GO" tool pprof -traces -unit=B "$@" "$f" 2>/dev/null | awk '
	function flush() {
		if (val != "") print val "\t" labels "\t" frames
		val = ""; labels = ""; frames = ""
	}
	/^-----------\+/ { flush(); next }
	val == "" && /^ *[^ ]+:  / {
		k = $0; sub(/^ */, "", k); v = k; sub(/:  .*/, "", k); sub(/^[^ ]+:  /, "", v)
		labels = labels (labels == "" ? "" : ",") k "=" v
		next
	}
	val == "" && /^ *-?[0-9]/ {
		val = $1; sub(/B$/, "", val); fr = $0; sub(/^ *[^ ]+ +/, "", fr); frames = fr
		next
	}
	val != "" { fr = $0; sub(/^ */, "", fr); frames = frames ";" fr }
	END { flush() }'
}

# has_trace NAME FILE LINE ARGS...: the sample line is among FILE's traces.
has_trace() {
	local name=$1 f=$2 want=$3
	shift 3
	local got
	got=$(traces "$dir/$f.pb.gz" "$@")
	if grep -qxF "$want" <<<"$got"; then
		pass "$name"
	else
		fail "$name" "want [$want] in: $(tr '\n\t' '| ' <<<"$got")"
	fi
}

# has_line NAME TEXT COMMAND...: the command's output has the exact line TEXT.
has_line() {
	local name=$1 want=$2
	shift 2
	local got
	got=$("$@" 2>/dev/null)
	if grep -qxF -- "$want" <<<"$got"; then
		pass "$name"
	else
		fail "$name" "want [$want] in: $(head -c 600 <<<"$got" | tr '\n' '|')"
	fi
}

# lacks NAME PATTERN COMMAND...: the command succeeds and prints nothing matching PATTERN.
lacks() {
	local name=$1 pat=$2
	shift 2
	local got
	if got=$("$@" 2>/dev/null) && [ -n "$got" ] && ! grep -qE -- "$pat" <<<"$got"; then
		pass "$name"
	else
		fail "$name" "$(grep -E -- "$pat" <<<"$got" | head -3 | tr '\n' '|') (or pprof failed)"
	fi
}

pp() { "$GO" tool pprof "$@"; }
# -raw, the same in every pprof release: no column numbers (Go 1.2x adds ":0"), no
# mapping numbers (older releases number mappings their own way).
raw() { "$GO" tool pprof -raw "$@" | sed -E 's/ M=[0-9]+//; s/(:[0-9]+):0 s=/\1 s=/'; }

# top FUNC ARGS...: "FLAT CUM" of FUNC in `go tool pprof -top -unit=B ARGS...`.
top() {
	local fn=$1
	shift
	"$GO" tool pprof -top -unit=B -nodefraction=0 "$@" 2>/dev/null | awk -v fn="$fn" '
	NF >= 6 && $2 ~ /%$/ {
		n = $0
		for (i = 0; i < 5; i++) sub(/^ *[^ ]+ +/, "", n)
		if (n == fn) print $1, $4
	}'
}

# has_top NAME "FLAT CUM" FUNC ARGS...
has_top() {
	local name=$1 want=$2 got
	shift 2
	got=$(top "$@")
	if [ "$got" = "$want" ]; then pass "$name"; else fail "$name" "want [$want], got [$got]"; fi
}

has_line "pprof: the Go heap with its profile off: no sample" "Duration: 1s, Total samples = 0 " \
	pp -top "$dir/empty.pb.gz"
for v in $views empty; do
	if pp -raw "$dir/$v.pb.gz" >/dev/null 2>"$dir/err"; then
		pass "pprof: go tool pprof parses $v"
	else
		fail "pprof: go tool pprof parses $v" "$(head -3 "$dir/err")"
	fi
done

# The Go heap: what the runtime's own /debug/pprof/heap writes.
has_line "pprof: go-heap sample types as Go's, inuse_space the default" \
	"alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes[dflt]" \
	raw "$dir/go-heap.pb.gz"
has_line "pprof: go-heap period type space/bytes" "PeriodType: space bytes" raw "$dir/go-heap.pb.gz"
has_line "pprof: go-heap period is MemProfileRate" "Period: 524288" raw "$dir/go-heap.pb.gz"
heap_stack="main.newSession (inline);main.handle;main.serve;main.main"
has_trace "pprof: go-heap inuse_space of the leak, runtime frames trimmed, inlined frame kept" \
	go-heap "30720	bytes=1kB	$heap_stack" -sample_index=inuse_space
has_trace "pprof: go-heap inuse_objects" go-heap "30	bytes=1kB	$heap_stack" -sample_index=inuse_objects
has_trace "pprof: go-heap alloc_space since the program started" \
	go-heap "92160	bytes=1kB	$heap_stack" -sample_index=alloc_space
has_trace "pprof: go-heap alloc_objects" go-heap "90	bytes=1kB	$heap_stack" -sample_index=alloc_objects
has_trace "pprof: go-heap freed bucket: allocations, nothing in use" \
	go-heap "20480	bytes=4kB	main.serve;main.main" -sample_index=alloc_space
has_trace "pprof: go-heap buckets that are no row (freed, idle) keep their alloc_*, as Go's" \
	go-heap-1 "20480	bytes=4kB	main.serve;main.main" -sample_index=alloc_space
has_trace "pprof: go-heap hides internal/runtime/ frames too, as Go's writer" \
	go-heap "16384	bytes=8kB	main.leakSessions;main.main" -sample_index=inuse_space
has_trace "pprof: go-heap keeps a stack that is all the runtime's" \
	go-heap "512	bytes=512B	runtime.newobject;runtime.main" -sample_index=inuse_space
lacks "pprof: go-heap has no runtime frame above a program's frame" \
	'runtime\.newobject;main|maps\.newarray' traces "$dir/go-heap.pb.gz"
# One Location for the inlined call and its caller (the runtime's extra pc folded in).
has_line "pprof: go-heap inlined frames are one Location, innermost first, with file:line" \
	"             main.handle /src/demo/main.go:60 s=0" raw "$dir/go-heap.pb.gz"
has_line "pprof: go-heap location: return address as its call, file:line of the inlined frame" \
	"     1: 0x4021ff main.newSession /src/demo/main.go:45 s=0" raw "$dir/go-heap.pb.gz"
has_line "pprof: go-heap mapping: the program, with functions, files, lines, inlines" \
	"1: 0x400000/0x40a401/0x0 demo  [FN][FL][LN][IN]" raw "$dir/go-heap.pb.gz"
has_line "pprof: time is the report's, duration the interval's" \
	"Time: 2023-11-14 22:13:22 +0000 UTC" raw "$dir/go-heap.pb.gz"
has_line "pprof: duration is the interval's" "Duration: 1s" raw "$dir/go-heap.pb.gz"
has_top "pprof: -diff_base of two go-heap reports: the leak grew 10 KiB" "10240B 10240B" \
	"main.newSession (inline)" -sample_index=inuse_space -diff_base "$dir/go-heap-1.pb.gz" \
	"$dir/go-heap.pb.gz"
has_top "pprof: -diff_base of two go-heap reports: the map did not grow" "" main.leakSessions \
	-sample_index=inuse_space -diff_base "$dir/go-heap-1.pb.gz" "$dir/go-heap.pb.gz"

# Goroutines: groups on top of the creation stack, labelled; rows without a dump by state.
has_line "pprof: goroutines sample type" "goroutine/count" raw "$dir/goroutines.pb.gz"
has_trace "pprof: goroutines group: its stack on the creation stack, state and blocked_s" \
	goroutines "246	state=chan send,blocked_s=30s	runtime.chansend;main.handleOrder.func1;main.handleOrder;main.serve"
has_trace "pprof: goroutines untimed group has no blocked_s, inlined frame kept" \
	goroutines "1	state=sleep	time.Sleep;main.lookupPrice (inline);main.handleOrder.func1;main.handleOrder;main.serve"
has_trace "pprof: goroutines row without a dump: one sample per state (sleep)" \
	goroutines "5	state=sleep	main.startWorkers;main.main"
has_trace "pprof: goroutines row without a dump: one sample per state (chan receive)" \
	goroutines "3	state=chan receive	main.startWorkers;main.main"
has_trace "pprof: goroutines with no stack still counted, under a name that says why" \
	goroutines "2		(no go statement: started by the runtime)"
has_line "pprof: goroutines total is the live count" "Duration: 1s, Total samples = 257 " \
	pp -top "$dir/goroutines.pb.gz"
lacks "pprof: goroutines: no gopark (view's trim), no goexit" 'gopark|goexit' \
	pp -traces "$dir/goroutines.pb.gz"
has_trace "pprof: goroutines -tagfocus=state= selects a group" goroutines \
	"246	state=chan send,blocked_s=30s	runtime.chansend;main.handleOrder.func1;main.handleOrder;main.serve" \
	-tagfocus=state=chan.send

# Native heap: outstanding and allocated, C frames, an unresolved frame named like the text.
has_line "pprof: native-heap sample types" \
	"alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes[dflt]" \
	raw "$dir/native-heap.pb.gz"
has_trace "pprof: native-heap inuse_space of the leak, stack cut at main" \
	native-heap "2097152		malloc;leak_block;leak_loop;main" -sample_index=inuse_space
has_trace "pprof: native-heap alloc_space is the interval's" \
	native-heap "1048576		malloc;leak_block;leak_loop;main" -sample_index=alloc_space
has_trace "pprof: native-heap summary alloc_space is the session's" \
	native-heap-summary "2097152		malloc;leak_block;leak_loop;main" -sample_index=alloc_space
has_trace "pprof: native-heap unresolved frame named module+offset" \
	native-heap "4096		malloc;libfoo.so+0x1234;main" -sample_index=inuse_space
has_line "pprof: native-heap file:line of a C frame" \
	"     2: 0x11082 leak_block /src/cleak.c:83 s=0" raw "$dir/native-heap.pb.gz"
has_line "pprof: native-heap the program is the main mapping, not libc" "File: cleak" \
	pp -top "$dir/native-heap.pb.gz"
has_line "pprof: native-heap exact pc kept as is (frame 0)" \
	"     1: 0x7f0000001000 malloc :0 s=0" raw "$dir/native-heap.pb.gz"
has_top "pprof: -diff_base of two native-heap reports: the leak grew 1 MiB" "0 1048576B" \
	leak_block -diff_base "$dir/native-heap-1.pb.gz" "$dir/native-heap.pb.gz"
has_top "pprof: -diff_base of two native-heap reports: the steady stack did not" "" \
	libfoo.so+0x1234 -diff_base "$dir/native-heap-1.pb.gz" "$dir/native-heap.pb.gz"
has_top "pprof: without -diff_base the steady stack holds 4 KiB" "0 4096B" libfoo.so+0x1234 \
	"$dir/native-heap.pb.gz"

# Growth, sampled allocation, threads.
has_trace "pprof: native-growth growth_space (default) of the stack" \
	native-growth "2097152		malloc;leak_block;leak_loop;main"
has_trace "pprof: native-growth events in the interval" \
	native-growth "256		malloc;leak_block;leak_loop;main" -sample_index=events
has_trace "pprof: go-alloc alloc_space estimated from samples" \
	go-alloc "2000000		$heap_stack"
has_trace "pprof: go-alloc samples" go-alloc "40		$heap_stack" -sample_index=samples
has_line "pprof: threads sample type" "thread/count" raw "$dir/threads.pb.gz"
has_trace "pprof: threads by creation stack and name" \
	threads "3	thread_name=worker	pthread_create;spawn;main"
has_trace "pprof: threads from before attach, without a stack" \
	threads "1	thread_name=gc	(created before attach: no stack)"
testlib_status
