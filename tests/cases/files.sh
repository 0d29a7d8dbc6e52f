#!/bin/bash
# Files for the tools people already use (issue: pprof and flame-graph files):
# --pprof and --folded on real targets, read back with go tool pprof and checked
# against leakscope's own JSON and against the target's own profiles.
#   - goheap (pprof build): the Go heap file against the target's /debug/pprof/heap,
#     -diff_base between two reports, and against the target's own file;
#   - goblock: the goroutine file against the target's /debug/pprof/goroutine;
#   - cservice -leak (started under leakscope, ended by --duration): native heap and
#     threads files and folded stacks against the summary's JSON.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh"

tmp=$(mktemp -d /tmp/leakscope-files.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

GO=$(command -v go || echo /usr/lib/go-1.19/bin/go)
read -r gover gocmd <<<"$(go_toolchains | head -1)"
# top FILE FUNC ARGS...: FUNC's cumulative value in `go tool pprof -top` (bytes for
# byte profiles), 0 when absent.
top() {
	local f=$1 fn=$2
	shift 2
	"$GO" tool pprof -top -unit=B -nodefraction=0 -nodecount=100000 "$@" "$f" 2>/dev/null |
		awk -v fn="$fn" '$NF == fn { v = $4; gsub(/B$/, "", v); print v + 0; found = 1; exit }
			END { if (!found) print 0 }'
}

# The Go heap.
# shellcheck disable=SC2086
bin=$(build_go goheap default+pprof $gover $gocmd) || { fail "files: build goheap" "see above"; testlib_status; exit 1; }
dir=$tmp/goheap
mkdir -p "$dir"
tpid=$(start_target "$bin" "$dir" -leak 30000 -rate 10000 -duration 40s)
pids+=($tpid)
"$LEAKSCOPE" --suspects off -p $tpid --json -T 0 --pprof "$dir/prof" --folded "$dir/f" 1 4 >"$dir/out.json" 2>"$dir/err" &
lpid=$!
wait_for 20 grep -q 'tracing pid' "$dir/err"
sleep 0.3
kill -USR1 $tpid
wait $lpid
addr=$(status_get "$dir/status" pprof_addr)
http_get "$addr" '/debug/pprof/heap' >"$dir/theirs.pb.gz"
n=$(ls "$dir/prof" | grep -c '^go-heap\.[0-9]*\.pb\.gz$')
[ "$n" = 4 ] && [ -s "$dir/prof/go-heap.final.pb.gz" ] && [ -s "$dir/prof/goroutines.final.pb.gz" ] &&
	pass "files: --pprof wrote VIEW.N.pb.gz for each of 4 reports and VIEW.final.pb.gz" ||
	fail "files: --pprof files" "$(ls "$dir/prof" | tr '\n' ' ')"
ours=$(top "$dir/prof/go-heap.final.pb.gz" main.newSession -sample_index=inuse_space)
json=$(jq -s '[.[] | select(.type=="stack" and .view=="go-heap" and .final)
	| select(.frames | map(.func) | index("main.newSession")) | .live_bytes] | add // 0' "$dir/out.json")
theirs=$(top "$dir/theirs.pb.gz" main.newSession -sample_index=inuse_space)
within 1 "$ours" "$json" && [ "$ours" -gt 1000000 ] &&
	pass "files: go tool pprof -top on the Go heap file: main.newSession $ours B in use, as the JSON says ($json)" ||
	fail "files: Go heap file's leak value" "pprof $ours B, JSON $json B"
within 5 "$ours" "$theirs" && pass "files: the Go heap file agrees with the target's own /debug/pprof/heap within 5 % ($ours vs $theirs B)" ||
	fail "files: the Go heap file agrees with the target's own" "ours $ours B, theirs $theirs B"
alloc=$(top "$dir/prof/go-heap.final.pb.gz" main.newSession -sample_index=alloc_space)
talloc=$(top "$dir/theirs.pb.gz" main.newSession -sample_index=alloc_space)
within 5 "$alloc" "$talloc" && pass "files: alloc_space agrees too ($alloc vs $talloc B)" ||
	fail "files: alloc_space agrees" "ours $alloc B, theirs $talloc B"
grow=$(top "$dir/prof/go-heap.4.pb.gz" main.newSession -sample_index=inuse_space -diff_base "$dir/prof/go-heap.1.pb.gz")
[ "$grow" -gt 1000000 ] && pass "files: -diff_base report 1 vs report 4 shows the growth (+$grow B at main.newSession)" ||
	fail "files: -diff_base between reports" "+$grow B"
diff=$(top "$dir/prof/go-heap.final.pb.gz" main.newSession -sample_index=inuse_space -diff_base "$dir/theirs.pb.gz")
[ "${diff#-}" -le $((theirs / 20)) ] && pass "files: -diff_base against the target's own profile: $diff B at main.newSession" ||
	fail "files: -diff_base against the target's own profile" "$diff B of $theirs"
if grep -q ';main.newSession' "$dir/f.go-heap.folded" && ! grep -Evq '^[^ ].* [0-9]+$' "$dir/f.go-heap.folded"; then
	pass "files: --folded PREFIX.go-heap.folded: every line 'root;...;leaf value'"
else
	fail "files: folded format" "$(grep -Ev '^[^ ].* [0-9]+$' "$dir/f.go-heap.folded" | head -2)"
fi
kill $tpid

# Goroutines: the file against the target's own goroutine profile.
# shellcheck disable=SC2086
bin=$(build_go goblock default $gover $gocmd) || { fail "files: build goblock" "see above"; testlib_status; exit 1; }
dir=$tmp/goblock
mkdir -p "$dir"
tpid=$(start_target "$bin" "$dir" -pre 40 -post 0 -duration 30s)
pids+=($tpid)
"$LEAKSCOPE" --suspects off -p $tpid -o /dev/null --pprof "$dir/prof" --folded "$dir/f" 1 2 2>"$dir/err"
http_get "$(status_get "$dir/status" pprof_addr)" '/debug/pprof/goroutine' >"$dir/theirs.pb.gz"
kill $tpid
bad=
for fn in main.sendForever main.recvForever main.startKinds.func1 main.waitForever main.lockForever \
	main.condForever main.sleepForever 'main.(*worker).Run' main.blockFunc; do
	o=$(top "$dir/prof/goroutines.final.pb.gz" "$fn")
	t=$(top "$dir/theirs.pb.gz" "$fn")
	[ "$o" = 40 ] && [ "$t" = 40 ] || bad+=" $fn: ours $o theirs $t;"
done
[ -z "$bad" ] && pass "files: the goroutine file counts each kind as the target's own profile does (40 each)" ||
	fail "files: goroutine file against the target's" "$bad"
st=$("$GO" tool pprof -top -tagfocus=state=sync.Mutex.Lock "$dir/prof/goroutines.final.pb.gz" 2>/dev/null |
	awk '$NF == "main.lockForever" { print $4 }')
[ "$st" = 40 ] && pass "files: goroutine samples carry their wait state as a label (-tagfocus state=sync.Mutex.Lock)" ||
	fail "files: goroutine state label" "main.lockForever under the tag: '$st'"
line=$(grep -E '(^|;)main\.startKinds;main\.sendForever;runtime\.chansend1;runtime\.chansend 40$' "$dir/f.goroutines.folded")
[ -n "$line" ] && pass "files: folded goroutines: creation stack, then where they wait, then the count" ||
	fail "files: folded goroutines" "$(grep sendForever "$dir/f.goroutines.folded" | head -2)"

# Native heap and threads, a program started under leakscope and ended by --duration.
T=$LEAKSCOPE_BUILD/targets/native
mkdir -p "$T"
gcc -O2 -g -fno-omit-frame-pointer -Wall -pthread -o "$T/cservice" "$LEAKSCOPE_ROOT/tests/targets/cservice/cservice.c"
dir=$tmp/cservice
mkdir -p "$dir"
"$LEAKSCOPE" --suspects off --json -T 0 --duration 7s --pprof "$dir/prof" --folded "$dir/f" 2 -- "$T/cservice" -leak -duration 9 \
	>"$dir/out.json" 2>"$dir/err"
rc=$?
json=$(jq -s '[.[] | select(.type=="stack" and .view=="native-heap" and .final)
	| select(.frames | map(.func // "") | any(startswith("leak_remember"))) | .live_bytes] | add // 0' "$dir/out.json")
fn=$("$GO" tool pprof -top -nodecount=1000 "$dir/prof/native-heap.final.pb.gz" 2>/dev/null | awk '$NF ~ /^leak_remember/ { print $NF; exit }')
ours=$(top "$dir/prof/native-heap.final.pb.gz" "$fn" -sample_index=inuse_space)
[ $rc = 0 ] && [ -n "$fn" ] && [ "$ours" = "$json" ] && [ "$json" -gt 100000 ] &&
	pass "files: native heap file: $fn holds $ours B, as the summary says; --duration closed it" ||
	fail "files: native heap file" "exit $rc, '$fn' $ours B, JSON $json B"
tj=$(jq -s '[.[] | select(.type=="stack" and .view=="threads" and .final)
	| select(.frames | map(.func) | index("main")) | .live] | add // 0' "$dir/out.json")
tp=$(top "$dir/prof/threads.final.pb.gz" main)
[ "$tp" = "$tj" ] && [ "$tj" -ge 3 ] && pass "files: threads file: $tp threads made in main, as the summary says" ||
	fail "files: threads file" "pprof $tp, JSON $tj"
bid=$(readelf -n "$T/cservice" | awk '/Build ID/ { print $3 }')
if "$GO" tool pprof -raw "$dir/prof/native-heap.final.pb.gz" 2>/dev/null |
	grep -Eq "^[0-9]+: 0x[0-9a-f]+/0x[0-9a-f]+/0x[0-9a-f]+ $T/cservice $bid "; then
	pass "files: mappings carry the program's path, bounds, file offset and build ID ($bid)"
else
	fail "files: mappings with build IDs" "$("$GO" tool pprof -raw "$dir/prof/native-heap.final.pb.gz" 2>/dev/null | sed -n '/^Mappings/,$p' | head -3)"
fi
fl=$(awk -v fn="$fn" 'index($0, ";" fn " ") || index($0, ";" fn ";") { v += $NF } END { print v + 0 }' "$dir/f.native-heap.folded")
[ "$fl" = "$json" ] && ! grep -Evq '^[^ ].* [0-9]+$' "$dir/f.native-heap.folded" &&
	pass "files: folded native heap: the leak's lines carry its bytes ($fl)" ||
	fail "files: folded native heap" "$fl B vs $json B; $(head -2 "$dir/f.native-heap.folded")"
testlib_status
