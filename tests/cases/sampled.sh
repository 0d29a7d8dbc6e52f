#!/bin/bash
# --mode sampled, end to end: tests/targets/cleak (a known leak of 1000-byte blocks,
# a freeing path, every allocator function, blocks moved by realloc, mmap inside
# malloc) traced with a sample of its allocations, under glibc and under jemalloc.
# The estimates are checked against what the target counted itself: within four
# standard deviations (twice the 95 % bound leakscope prints), so that a correct
# estimator fails about once in 16,000 runs; blocks of R bytes and more are
# always recorded and must be exact; the freeing path must show nothing
# outstanding; the allocator's own mmap (glibc's malloc for a big block) must not
# be counted as a second block.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh" # wait_for, status_get, within

T=$LEAKSCOPE_BUILD/targets/sampled
mkdir -p "$T"
tmp=$(mktemp -d /tmp/leakscope-sampled.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

gcc -O2 -g -fno-omit-frame-pointer -Wall -o "$T/cleak" "$LEAKSCOPE_ROOT/tests/targets/cleak/cleak.c" || {
	fail "sampled: build cleak" "see above"
	testlib_status
	exit 1
}
R=8192
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2

# 20,000 blocks of 1000 bytes (p = 1000/8192 each), 200 rounds of the rest.
CLEAK_ARGS=(-count 20000 -rate 10000 -size 1000 -churn 20000)

# run NAME [ENV...]: cleak under leakscope --mode sampled, 1 s reports until it
# is done; leaves D, LRC.
run() {
	local name=$1 l
	shift
	D=$tmp/$(tr ' /' '__' <<<"$name")
	mkdir -p "$D"
	env "$@" "$T/cleak" -status "$D/status" "${CLEAK_ARGS[@]}" -no-pvalloc >"$D/target.out" 2>&1 &
	TPID=$!
	pids+=($TPID)
	if ! wait_for 10 grep -q 'ready 1' "$D/status"; then
		fail "$name: target start" "$(head -3 "$D/target.out")"
		LRC=99
		return
	fi
	"$LEAKSCOPE" --suspects off -p "$TPID" --mode sampled --sample-bytes $R -v --json -T 0 1 5 \
		>"$D/out.json" 2>"$D/err" &
	l=$!
	if wait_for 20 grep -q 'tracing pid' "$D/err"; then
		kill -USR1 "$TPID"
	fi
	wait $l
	LRC=$?
	kill "$TPID"
	wait "$TPID" 2>/dev/null
	local r
	r=$(jq -s '[.[] | select(.type=="interval") | .report] | max' "$D/out.json")
	jq -c "select(.type==\"stack\" and .view==\"native-heap\" and .report==$r and .final==false)" \
		"$D/out.json" >"$D/last.json"
}

# field FILTER FIELD: FIELD summed over the last report's stacks matching FILTER.
field() {
	jq -s "map(select($1) | .$2) | add // 0" "$D/last.json"
}

check() {
	local name=$1 st=$D/status
	if [ "$LRC" != 0 ] || [ "$(status_get "$st" phase)" != done ] || [ ! -s "$D/last.json" ]; then
		fail "$name: run" "leakscope exit $LRC, target phase $(status_get "$st" phase): $(tail -3 "$D/err")"
		return
	fi
	pass "$name: leakscope exits 0, target done"

	local sb
	sb=$(jq -s '[.[] | select(.type=="interval")] | last | .["native-heap"].sample_bytes' "$D/out.json")
	[ "$sb" = $R ] && pass "$name: the view says it is sampled (sample_bytes $sb)" ||
		fail "$name: the view says it is sampled" "sample_bytes $sb"
	if grep -qE 'native heap: malloc in .*: entry probe, return on sampled calls at' "$D/err" &&
		grep -qE 'native heap: free in .*: entry probe at' "$D/err"; then
		pass "$name: -v: malloc's return probed on sampled calls only, free an entry probe"
	else
		fail "$name: -v probe lines" "$(grep -E 'native heap: (malloc|free) in' "$D/err")"
	fi

	# The leak: an estimate, within 4 sigma (2 x the printed 95 % bound) of the truth.
	local leak='.frames[0].func=="malloc" and .frames[1].func=="leak_block"'
	local bytes err objs want wantn frames
	bytes=$(field "$leak" live_bytes)
	err=$(field "$leak" live_bytes_err)
	objs=$(field "$leak" live)
	want=$(status_get "$st" leaked_bytes)
	wantn=$(status_get "$st" leaked_blocks)
	if awk -v b="$bytes" -v e="$err" -v w="$want" 'BEGIN { d = b - w; if (d < 0) d = -d
		exit !(w > 0 && e > 0 && d <= 2 * e && e <= w * 0.10) }'; then
		pass "$name: leak's bytes estimated within the bound ($bytes ±$err of $want)"
	else
		fail "$name: leak's bytes estimated within the bound" "estimate $bytes ±$err, target $want"
	fi
	# Objects: each recorded block stands for R/1000 of them; sigma = sqrt(n (R/s - 1)), 2 % here.
	if within 8 "$objs" "$wantn"; then
		pass "$name: leak's block count estimated within 8 % ($objs of $wantn)"
	else
		fail "$name: leak's block count estimated within 8 %" "estimate $objs, target $wantn"
	fi
	frames=$(jq -r "select($leak) | [.frames[].func] | join(\" \")" "$D/last.json" | head -1)
	[[ "$frames" == "malloc leak_block leak_loop main"* ]] &&
		pass "$name: leak stack is malloc <- leak_block <- leak_loop <- main" ||
		fail "$name: leak stack is malloc <- leak_block <- leak_loop <- main" "frames: $frames"

	# Blocks of R bytes and more are always recorded: keep_mmap's 12 KiB, exact.
	local got exp
	got=$(field '.frames[0].func=="mmap" and .frames[1].func=="keep_mmap"' live_bytes)
	exp=$(status_get "$st" mmap_bytes)
	[ "$got" = "$exp" ] && [ "$exp" -gt 0 ] &&
		pass "$name: blocks from $R bytes up are exact (keep_mmap $got bytes)" ||
		fail "$name: blocks from $R bytes up are exact" "keep_mmap: leakscope $got, target $exp"
	# The allocator's own mmap is its call's, not a block of its own.
	got=$(jq -s 'map(select(.frames[0].func=="mmap" and .frames[1].func!="keep_mmap")) | length' "$D/last.json")
	[ "$got" = 0 ] && pass "$name: no mmap made inside the allocator counted as a block" ||
		fail "$name: no mmap made inside the allocator counted as a block" \
			"$(jq -c 'select(.frames[0].func=="mmap" and .frames[1].func!="keep_mmap") | [.live_bytes, [.frames[].func]]' "$D/last.json" | head -3)"

	# The freeing path: many allocations, at most a block or two in flight.
	local churned live
	churned=$(jq -s 'map(select(.type=="stack" and .view=="native-heap" and .final and .frames[1].func=="churn") | .created) | add // 0' "$D/out.json")
	live=$(field '.frames[1].func=="churn"' live_bytes)
	if [ "$churned" -gt 10000 ] && [ "$live" -le $((2 * R)) ]; then
		pass "$name: freeing path shows ~0 outstanding ($live bytes; $churned allocations estimated)"
	else
		fail "$name: freeing path shows ~0 outstanding" "$live bytes outstanding of $churned allocated"
	fi

	# realloc moves a recorded block: its first malloc holds nothing; realloc(p, 0) frees.
	got=$(field '.frames[1].func=="grow_buffer" and .frames[0].func!="realloc"' live)
	[ "$got" = 0 ] && pass "$name: a block realloc moved is not left at its first malloc" ||
		fail "$name: a block realloc moved is not left at its first malloc" "$got outstanding"
	got=$(field '.frames[1].func=="realloc_to_zero"' live)
	[ "$got" = 0 ] && pass "$name: realloc(p, 0) frees p" ||
		fail "$name: realloc(p, 0) frees p" "$got outstanding from realloc_to_zero"

	local neg
	neg=$(jq -s 'map(select(.type=="stack" and .view=="native-heap" and (.live < 0 or .live_bytes < 0 or .exited < 0))) | length' "$D/out.json")
	[ "$neg" = 0 ] && pass "$name: no negative counts" || fail "$name: no negative counts" "$neg rows"
}

run "sampled glibc"
check "sampled glibc"
# The text report: ~ on the total, the bound column.
if [ "$LRC" = 0 ]; then
	start_txt=$tmp/txt
	mkdir -p "$start_txt"
	"$T/cleak" -status "$start_txt/status" -count 2000 -rate 4000 -size 1000 >/dev/null 2>&1 &
	TPID=$!
	pids+=($TPID)
	if wait_for 10 grep -q 'ready 1' "$start_txt/status"; then
		"$LEAKSCOPE" --suspects off -p "$TPID" --mode sampled 1 2 >"$start_txt/out" 2>"$start_txt/err" &
		l=$!
		wait_for 20 grep -q 'tracing pid' "$start_txt/err" && kill -USR1 "$TPID"
		wait $l
		if grep -qE '^NATIVE HEAP OUTSTANDING  ~[0-9.]+ [KM]iB' "$start_txt/out" &&
			grep -q 'BYTES ±(95%)' "$start_txt/out" &&
			grep -qE '^ +[0-9.]+ [KM]iB .* ±[0-9.]+ [KM]iB$' "$start_txt/out" &&
			grep -q 'sampled (--mode sampled): a block of N bytes recorded with probability N/64 KiB' "$start_txt/out"; then
			pass "sampled text: estimates marked ~, a ± column, the note says how (64 KiB default)"
		else
			fail "sampled text report" "$(grep -E 'NATIVE|BYTES|±|note' "$start_txt/out" | head -5)"
		fi
	else
		fail "sampled text: target start" ""
	fi
	kill "$TPID" 2>/dev/null
fi

if [ -e "$jemalloc" ]; then
	run "sampled jemalloc" LD_PRELOAD="$jemalloc"
	check "sampled jemalloc"
else
	fail "sampled jemalloc" "$jemalloc missing: apt-get install libjemalloc2 (make deps)"
fi
testlib_status
