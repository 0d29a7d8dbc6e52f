#!/bin/bash
# Go releases and layouts leakscope must not take on trust (issue: right numbers or a
# clear refusal): Go 1.27's own leak detection shown beside the wait reason; a binary
# whose DWARF lies about the runtime (leakscope falls back to its own layout, or, for a
# release it does not know, checks the live process and switches off what does not
# fit); layouts forced wrong on a known release; a release leakscope does not know.
# Each time: no crash, one clear line, and the other views still report.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh"

tmp=$(mktemp -d /tmp/leakscope-gorelease.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
LEAK=20000

read -r lgover lgocmd <<<"$(go_toolchains | head -1)" # the machine's own Go
lminor=$(sed -n 's/^go1\.\([0-9]*\).*/\1/p' <<<"$lgover")

# run_heap NAME BIN [ENV...]: the goheap target leaking LEAK sessions while leakscope
# reports 4 times; output in $tmp/NAME.{json,err,heap.txt}; LRC its exit status.
run_heap() {
	local name=$1 bin=$2 dir=$tmp/$1 tpid lpid
	shift 2
	mkdir -p "$dir"
	tpid=$(start_target "$bin" "$dir" -leak $LEAK -rate 10000 -duration 20s) || {
		LRC=99
		return
	}
	pids+=($tpid)
	env "$@" "$LEAKSCOPE" --suspects off -p $tpid --json -T 0 1 4 >"$dir/out.json" 2>"$dir/err" &
	lpid=$!
	if ! wait_for 20 grep -q 'tracing pid' "$dir/err"; then
		kill $lpid
		LRC=98
		return
	fi
	sleep 0.5
	kill -USR1 $tpid
	wait $lpid
	LRC=$?
	http_get "$(status_get "$dir/status" pprof_addr)" '/debug/pprof/heap?debug=1' >"$dir/heap.txt"
	kill $tpid
}

# expect_line NAME FILE REGEX: the clear line is there, once.
expect_line() {
	local n
	n=$(grep -cE "$3" "$2")
	if [ "$n" = 1 ]; then
		pass "$1"
	else
		fail "$1" "$n lines match /$3/ in $(basename "$2"): $(head -c 400 "$2")"
	fi
}

goroutines_go_on() {
	local name=$1 json=$2
	if jq_any "$json" '.type=="stack" and .view=="goroutines" and .final==false'; then
		pass "$name: the goroutines view still reports"
	else
		fail "$name: the goroutines view still reports" "no goroutines stack record"
	fi
}

# 1. Go 1.27: goroutines the runtime proved leaked keep their wait reason, marked.
while read -r version gocmd; do
	minor=$(sed -n 's/^go1\.\([0-9]*\).*/\1/p' <<<"$version")
	[ -n "$minor" ] && [ "$minor" -ge 27 ] || continue
	name="gorelease $version: proven leaks"
	# shellcheck disable=SC2086
	bin=$(build_go goleak default+leakprofile $version $gocmd) || { fail "$name: build" "see above"; continue; }
	d=$tmp/leakprofile-$version
	mkdir -p "$d"
	"$bin" -pre 100 -leak 500 -rate 5000 -churn 0 -unreachable -leakprofile -duration 30s \
		-status "$d/status" >"$d/target.out" 2>&1 &
	tp=$!
	pids+=($tp)
	wait_for 10 grep -q 'ready 1' "$d/status" && kill -USR1 $tp
	if ! wait_for 20 grep -q 'leak_profile 1' "$d/status"; then
		fail "$name: the target took its goroutine leak profile" "$(cat "$d/status" "$d/target.out" | tr '\n' ' ')"
		continue
	fi
	"$LEAKSCOPE" --suspects off -p $tp --json -T 0 -w goroutines 1 2 >"$d/out.json" 2>"$d/err"
	lrc=$?
	kill $tp
	q='select(.type=="stack" and .view=="goroutines" and .report==2 and .final==false and .start_func=="main.blockForever")'
	proven=$(jq -s "[.[] | $q | .states[\"chan receive, proven leaked by the runtime\"] // 0] | add // 0" "$d/out.json")
	others=$(jq -rs "[.[] | $q | .states | keys[]] | unique | map(select(startswith(\"chan receive\") | not)) | join(\",\")" "$d/out.json")
	if [ $lrc -eq 0 ] && [ "$proven" -ge 540 ] && [ -z "$others" ]; then
		pass "$name: $proven of 600 shown as \"chan receive, proven leaked by the runtime\""
	else
		fail "$name: leaked goroutines marked beside their wait reason" \
			"exit $lrc, proven $proven of 600, other states: '$others'"
	fi
done <<<"$(go_toolchains)"

# 2. DWARF that lies about runtime.bucket (a field past the struct's end).
cc -O2 -o "$tmp/dwarf-lie" "$LEAKSCOPE_ROOT/tests/lib/dwarf-lie.c" -ldw -lelf || fail "gorelease: dwarf-lie builds" "see above"
# shellcheck disable=SC2086
ubin=$(build_go goheap uncompressed+pprof $lgover $lgocmd)
if [ -x "$tmp/dwarf-lie" ] && [ -n "$ubin" ]; then
	cp "$ubin" "$tmp/goheap-lie"
	"$tmp/dwarf-lie" "$tmp/goheap-lie" runtime.bucket nstk 120 >/dev/null ||
		fail "gorelease: the lie is in place" "dwarf-lie failed"

	name="gorelease lying DWARF ($lgover)"
	run_heap lie "$tmp/goheap-lie"
	[ "$LRC" = 0 ] && pass "$name: leakscope exits 0" || fail "$name: leakscope exits 0" "exit $LRC: $(tail -2 "$tmp/lie/err")"
	expect_line "$name: says the DWARF fails and the table's layout is used" "$tmp/lie/err" \
		"its DWARF describes the heap profile \(runtime.bucket\) in a way that fails leakscope's checks \(runtime.bucket.nstk at 120 .* past the struct's end \(48\)\): using leakscope's own go1.$lminor layout"
	R=$(jq -s '[.[] | select(.type=="interval") | .report] | max' "$tmp/lie/out.json")
	ours=$(stack_sum "$tmp/lie/out.json" ".view==\"go-heap\" and .report==$R and .final==false" live_bytes main.newSession)
	theirs=$(pprof_inuse "$tmp/lie/heap.txt" main.newSession)
	if within 5 "$ours" "$theirs"; then
		pass "$name: in-use of the leak still matches the target's pprof ($ours vs $theirs bytes)"
	else
		fail "$name: in-use of the leak still matches the target's pprof" "leakscope $ours, pprof $theirs"
	fi
	goroutines_go_on "$name" "$tmp/lie/out.json"

	# The same lie in a release leakscope does not know: no table to fall back to.
	cp "$tmp/goheap-lie" "$tmp/goheap-lie99"
	GOVER=$lgover perl -pi -e 's/\Q$ENV{GOVER}\E(?=[^0-9])/go1.99.1/g' "$tmp/goheap-lie99"
	name="gorelease lying DWARF, unknown release"
	run_heap lie99 "$tmp/goheap-lie99"
	[ "$LRC" = 0 ] && pass "$name: leakscope exits 0" || fail "$name: leakscope exits 0" "exit $LRC: $(tail -2 "$tmp/lie99/err")"
	expect_line "$name: names the release it does not know" "$tmp/lie99/err" \
		"built with go1.99.1, which this leakscope does not know"
	expect_line "$name: switches in use by stack off, with its reason" "$tmp/lie99/err" \
		"go-heap: in use by stack switched off: the runtime's heap profile does not fit go1.[0-9]+'s layout, assumed for go1.99.1: "
	if ! jq_any "$tmp/lie99/out.json" '.type=="stack" and .view=="go-heap"' &&
		jq_any "$tmp/lie99/out.json" '.type=="interval" and .go_heap.profiling==false'; then
		pass "$name: no in-use row is printed from data that failed"
	else
		fail "$name: no in-use row is printed from data that failed" "go-heap rows or profiling still true"
	fi
	if [ "$(jq -s '[.[] | select(.type=="gc")] | length' "$tmp/lie99/out.json")" -ge 5 ]; then
		pass "$name: the heap trend goes on"
	else
		fail "$name: the heap trend goes on" "no gc lines"
	fi
	goroutines_go_on "$name" "$tmp/lie99/out.json"
else
	fail "gorelease lying DWARF: set-up" "no dwarf-lie or no uncompressed build"
fi

# 3. Layouts forced wrong on a known release (LEAKSCOPE_TEST_LAYOUT), each part alone.
# shellcheck disable=SC2086
sbin=$(build_go goheap stripped+pprof $lgover $lgocmd)
name="gorelease forced profile layout"
run_heap forced "$sbin" LEAKSCOPE_TEST_LAYOUT=mrc_allocs=8,mrc_frees=0
[ "$LRC" = 0 ] && pass "$name: leakscope exits 0" || fail "$name: leakscope exits 0" "exit $LRC: $(tail -2 "$tmp/forced/err")"
expect_line "$name: in use by stack switched off, with its reason" "$tmp/forced/err" \
	"go-heap: in use by stack switched off: the runtime's heap profile does not fit $lgover's layout: a bucket "
if ! jq_any "$tmp/forced/out.json" '.type=="stack" and .view=="go-heap"'; then
	pass "$name: no in-use row is printed from data that failed"
else
	fail "$name: no in-use row is printed from data that failed" "$(jq -c 'select(.type=="stack" and .view=="go-heap")' "$tmp/forced/out.json" | head -2)"
fi
goroutines_go_on "$name" "$tmp/forced/out.json"

name="gorelease forced g layout"
run_heap forcedg "$sbin" LEAKSCOPE_TEST_LAYOUT=g_goid=160
[ "$LRC" = 0 ] && pass "$name: leakscope exits 0" || fail "$name: leakscope exits 0" "exit $LRC: $(tail -2 "$tmp/forcedg/err")"
expect_line "$name: the goroutines view is left out, with its reason" "$tmp/forcedg/err" \
	"goroutines view left out: runtime.g does not fit $lgover's layout: the main goroutine"
if ! jq_any "$tmp/forcedg/out.json" '.type=="stack" and .view=="goroutines"' &&
	jq_any "$tmp/forcedg/out.json" '.type=="stack" and .view=="go-heap"'; then
	pass "$name: no goroutine is printed, the heap views go on"
else
	fail "$name: no goroutine is printed, the heap views go on" "goroutine rows, or no go-heap rows"
fi

# 4. A release leakscope does not know and no DWARF: each view checks the live process.
# shellcheck disable=SC2086
gbin=$(build_go goleak stripped $lgover $lgocmd)
cp "$gbin" "$tmp/goleak-99"
GOVER=$lgover perl -pi -e 's/\Q$ENV{GOVER}\E(?=[^0-9])/go1.99.1/g' "$tmp/goleak-99"
d=$tmp/unknown
mkdir -p "$d"
"$tmp/goleak-99" -pre 300 -leak 0 -churn 0 -duration 30s -status "$d/status" >"$d/target.out" 2>&1 &
tp=$!
pids+=($tp)
name="gorelease unknown release, no DWARF"
if wait_for 10 grep -q 'ready 1' "$d/status"; then
	"$LEAKSCOPE" --suspects off -p $tp --json -T 0 1 2 >"$d/out.json" 2>"$d/err"
	lrc=$?
	[ $lrc = 0 ] && pass "$name: leakscope exits 0" || fail "$name: leakscope exits 0" "exit $lrc: $(tail -2 "$d/err")"
	expect_line "$name: names the release it does not know" "$d/err" \
		"built with go1.99.1, which this leakscope does not know, and it has no DWARF"
	live=$(jq -s '[.[] | select(.type=="stack" and .view=="goroutines" and .report==2 and .final==false and .start_func=="main.blockForever") | .live] | add // 0' "$d/out.json")
	if [ "$live" = 300 ] && jq_any "$d/out.json" '.type=="interval" and (.goroutines.note | test("runtime.g read with go1.[0-9]+.s layout, assumed for go1.99.1, checked on the live process"))'; then
		pass "$name: goroutines checked on the live process and counted right ($live of 300)"
	else
		fail "$name: goroutines checked on the live process and counted right" "live $live of 300; note $(jq -c 'select(.type=="interval") | .goroutines.note' "$d/out.json" | head -1)"
	fi
else
	fail "$name: target start" "$(head -3 "$d/target.out")"
fi
testlib_status
