#!/bin/bash
# Leak suspects (issue: verdicts people act on): a leaking and a steady Go service
# (tests/targets/goservice) and a leaking and a steady C service
# (tests/targets/cservice), each traced for 60 s with --duration, all at once. Every
# leak is named with its site within a few reports; steady work (goroutines made and
# ended, garbage, malloc/free churn, threads made and joined) never is; the exit
# status is 7 with a suspect and 0 without.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh"

tmp=$(mktemp -d /tmp/leakscope-suspects.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

T=$LEAKSCOPE_BUILD/targets/native
mkdir -p "$T"
if ! gcc -O2 -g -fno-omit-frame-pointer -Wall -pthread -o "$T/cservice" \
	"$LEAKSCOPE_ROOT/tests/targets/cservice/cservice.c"; then
	fail "suspects: build cservice" "see above"
	testlib_status
	exit 1
fi
read -r gover gocmd <<<"$(go_toolchains | head -1)"
# shellcheck disable=SC2086
gobin=$(build_go goservice default $gover $gocmd) || {
	fail "suspects: build goservice" "see above"
	testlib_status
	exit 1
}

DUR=60
# session NAME ARGS...: leakscope ARGS in the background, its exit status in NAME.rc.
session() {
	local name=$1
	shift
	("$LEAKSCOPE" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"; echo $? >"$tmp/$name.rc") &
}
# The Go services are attached to (-p): they have warmed up before leakscope looks.
"$gobin" -leak -duration $((DUR + 30))s >/dev/null 2>&1 &
goleak=$!
"$gobin" -duration $((DUR + 30))s >/dev/null 2>&1 &
gosteady=$!
pids+=($goleak $gosteady)
sleep 2
session goleak --json -T 0 --duration ${DUR}s -p $goleak 3
session gosteady --duration ${DUR}s -p $gosteady 3
# The C services are started under leakscope (-- COMMAND).
session cleak --json -T 0 --duration ${DUR}s 3 -- "$T/cservice" -leak -duration $((DUR + 3))
session csteady --json -T 0 --duration ${DUR}s 3 -- "$T/cservice" -duration $((DUR + 3))
session cleaktext --duration 20s 3 -- "$T/cservice" -leak -duration 23
wait_for $((DUR + 60)) test -s "$tmp/goleak.rc" -a -s "$tmp/gosteady.rc" -a -s "$tmp/cleak.rc" \
	-a -s "$tmp/csteady.rc" -a -s "$tmp/cleaktext.rc"

rc() { cat "$tmp/$1.rc" 2>/dev/null || echo none; }
# first NAME VIEW RULE FUNC_PREFIX: the first report naming it (0 if none).
first() {
	jq -s --arg v "$2" --arg r "$3" --arg f "$4" '[.[] | select(.type=="suspect" and .final==false
		and .view==$v and .rule==$r and (.func // "" | startswith($f))) | .report] | min // 0' \
		"$tmp/$1.out"
}
# final NAME VIEW FUNC_PREFIX FIELD: FIELD of the summary's suspect for it.
final() {
	jq -s -r --arg v "$2" --arg f "$3" "[.[] | select(.type==\"suspect\" and .final and .view==\$v
		and (.func // \"\" | startswith(\$f)))] | .[0].$4 // \"none\"" "$tmp/$1.out"
}
in_range() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }

# The leaking Go service: the goroutines from lookup's go statement and the heap kept
# by remember, named early, with their rates.
name="suspects Go leak"
[ "$(rc goleak)" = 7 ] && pass "$name: exit status 7 (a suspect at the end)" ||
	fail "$name: exit status 7" "exit $(rc goleak): $(tail -2 "$tmp/goleak.err")"
r=$(first goleak goroutines goroutines-blocked-growth main.lookup.func1)
[ "$r" -ge 1 ] && [ "$r" -le 5 ] && pass "$name: goroutine leak named by report $r (main.lookup.func1, blocked and growing)" ||
	fail "$name: goroutine leak named early" "first report $r; $(jq -c 'select(.type=="suspect")' "$tmp/goleak.out" | head -2)"
line=$(final goleak goroutines main.lookup.func1 line)
st=$(final goleak goroutines main.lookup.func1 state)
rate=$(final goleak goroutines main.lookup.func1 rate_per_min)
[ "$line" -gt 0 ] && [ "$st" = "chan send" ] && in_range "$rate" 600 1500 &&
	pass "$name: goroutine suspect: go statement line $line, waiting in chan send, +$rate/min (target: up to 1200)" ||
	fail "$name: goroutine suspect's where, state and rate" "line $line, state $st, rate $rate/min"
r=$(jq -s '[.[] | select(.type=="suspect" and .final==false and .view=="go-heap" and .func=="main.remember") | .report] | min // 0' "$tmp/goleak.out")
[ "$r" -ge 1 ] && [ "$r" -le 8 ] && pass "$name: heap leak named by report $r (main.remember)" ||
	fail "$name: heap leak named early" "first report $r"
bpm=$(final goleak go-heap main.remember bytes_per_min)
in_range "$bpm" 10000000 30000000 && pass "$name: heap suspect grows $bpm bytes/min (the target keeps about 16 MB/min)" ||
	fail "$name: heap suspect's rate" "$bpm bytes/min"
others=$(jq -r -s '[.[] | select(.type=="suspect" and .func != "main.lookup.func1" and .func != "main.remember")
	| "\(.view)/\(.rule) \(.func) [\(.frames[:5] | map(.func) | join(" <- "))]"] | unique | join("; ")' "$tmp/goleak.out")
[ -z "$others" ] && pass "$name: nothing else suspected (serve, workers, garbage)" ||
	fail "$name: nothing else suspected" "also: $others"
jq -e -s 'map(select(.type=="suspect")) | all(has("view") and has("rule") and has("func") and has("file")
	and has("line") and has("rate_per_min") and has("bytes_per_min") and has("since_s") and has("live")
	and has("live_bytes") and (.frames | length > 0))' "$tmp/goleak.out" >/dev/null &&
	jq_any "$tmp/goleak.out" '.type=="summary" and .end=="duration"' &&
	pass "$name: JSON suspect records carry every field; the summary ends by --duration" ||
	fail "$name: JSON suspect records and summary" "$(jq -c 'select(.type=="suspect")' "$tmp/goleak.out" | head -1)"

name="suspects Go steady"
[ "$(rc gosteady)" = 0 ] && pass "$name: exit status 0 (no suspect)" ||
	fail "$name: exit status 0" "exit $(rc gosteady)"
n=$(grep -c '^SUSPECTS  none: nothing grows steadily' "$tmp/gosteady.out")
bad=$(grep -A3 '^SUSPECTS  [0-9]' "$tmp/gosteady.out" | head -4)
[ "$n" -ge 18 ] && [ -z "$bad" ] && pass "$name: every report says no suspect ($n reports)" ||
	fail "$name: every report says no suspect" "$n 'none' lines; $bad"

name="suspects C leak"
[ "$(rc cleak)" = 7 ] && pass "$name: exit status 7" || fail "$name: exit status 7" "exit $(rc cleak): $(tail -2 "$tmp/cleak.err")"
r=$(first cleak native-heap native-growth leak_remember)
bpm=$(final cleak native-heap leak_remember bytes_per_min)
[ "$r" -ge 1 ] && [ "$r" -le 5 ] && in_range "$bpm" 2500000 4500000 &&
	pass "$name: malloc leak named by report $r at leak_remember, $bpm bytes/min (target: up to 3.84 MB/min)" ||
	fail "$name: malloc leak named early" "first report $r, $bpm bytes/min"
r=$(first cleak threads threads-growth main)
rate=$(final cleak threads main rate_per_min)
[ "$r" -ge 1 ] && [ "$r" -le 6 ] && in_range "$rate" 20 40 &&
	pass "$name: thread leak named by report $r at its pthread_create in main, +$rate/min (target: 30)" ||
	fail "$name: thread leak named early" "first report $r, +$rate/min"
others=$(jq -r -s '[.[] | select(.type=="suspect") | "\(.view):\(.func)"] | unique
	| map(select(test("^native-heap:leak_remember|^threads:main$") | not)) | join(" ")' "$tmp/cleak.out")
[ -z "$others" ] && pass "$name: the churn is not suspected" || fail "$name: the churn is not suspected" "also: $others"
# The text: one line per suspect, before the detail.
if grep -Eq '^  native-heap leak_remember[^ ]* cservice\.c:[0-9]+  \+[0-9.]+ MiB/min .* \[native-growth\]$' "$tmp/cleaktext.out" &&
	grep -Eq '^  threads +main cservice\.c:[0-9]+  \+[0-9]+/min .* \[threads-growth\]$' "$tmp/cleaktext.out" &&
	[ "$(rc cleaktext)" = 7 ]; then
	pass "$name: text reports lead with one line per suspect"
else
	fail "$name: text reports lead with one line per suspect" "exit $(rc cleaktext): $(grep -A3 '^SUSPECTS' "$tmp/cleaktext.out" | tail -4)"
fi

name="suspects C steady"
[ "$(rc csteady)" = 0 ] && ! jq_any "$tmp/csteady.out" '.type=="suspect"' &&
	pass "$name: exit status 0, no suspect in any report (malloc/free and thread churn)" ||
	fail "$name: no suspect" "exit $(rc csteady): $(jq -c 'select(.type=="suspect") | [.report, .view, .func]' "$tmp/csteady.out" | head -3)"
testlib_status
