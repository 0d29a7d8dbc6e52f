#!/bin/bash
# The goroutine dump from outside (issue: where goroutines are stuck, and since when):
# tests/targets/goblock leaks goroutines blocked in every common way (chan send and
# receive, select, select{}, WaitGroup, Mutex, Cond, a nil channel, sleep), from go
# statements of every form whose start function is easy to get wrong (a closure with
# arguments and captures, an interface method, a func value, an inlined method), some
# before attach and some while traced. leakscope's groups are checked against the
# target's own /debug/pprof/goroutine?debug=2 and ?debug=1: per go statement, the
# count per (wait reason, stack), the name, how long they have waited; and the books
# of every row. Every Go toolchain at hand, stripped+PIE and without inlining too.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh"

PRE=20
POST=30
KINDS=12
DUMP_AWK=$LEAKSCOPE_ROOT/tests/lib/goroutine-dump.awk

tmp=$(mktemp -d /tmp/leakscope-godump.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

# The blocking call each kind's stack must hold, by the function it runs.
declare -A BLOCKS=(
	[main.sendForever]=runtime.chansend1 [main.recvForever]=runtime.chanrecv1
	[main.startKinds.func1]=runtime.selectgo [main.startKinds.func2]=runtime.block
	[main.waitForever]='sync.(*WaitGroup).Wait' [main.lockForever]='sync.(*Mutex).Lock'
	[main.condForever]='sync.(*Cond).Wait' [main.nilChanForever]=runtime.chanrecv1
	[main.sleepForever]=time.Sleep ['main.(*worker).Run']=runtime.chanrecv1
	[main.blockFunc]=runtime.chanrecv1 ['main.(*cache).wait']=runtime.chanrecv1
)

# ours JSON: "CREATED_AT \t STATE \t FRAMES \t COUNT" per group of the last report's
# rows made by goblock's go statements, frames filtered as Go's traceback shows them
# (runtime.* hidden unless exported), so that they compare with the dump's.
ours() {
	jq -r -s '(map(select(.type=="interval")) | map(.report) | max) as $r
		| .[] | select(.type=="stack" and .view=="goroutines" and .report==$r and .final==false)
		| select(.frames[0].file // "" | endswith("goblock/main.go"))
		| (.frames[0].file + ":" + (.frames[0].line | tostring)) as $at
		| .blocked[]
		| [$at, .state,
		   ([.frames[].func | select(test("^runtime\\.[^A-Z]") | not)] | join(" ")),
		   (.count | tostring)] | join("\t")' "$1"
}

# theirs DUMP: the same lines from the target's debug=2 dump.
theirs() {
	awk -f "$DUMP_AWK" "$1" | awk -F'\t' '$1 ~ /goblock\/main.go:/ { print $1 "\t" $2 "\t" $5 }' |
		sort | uniq -c | awk '{ n = $1; sub(/^ *[0-9]+ /, ""); print $0 "\t" n }'
}

# compare_groups NAME OURS.tsv THEIRS.tsv: same keys, counts within 2 %.
compare_groups() {
	local name=$1 bad
	bad=$(awk -F'\t' 'NR == FNR { want[$1 "\t" $2 "\t" $3] = $4; next }
		{ k = $1 "\t" $2 "\t" $3; got[k] += $4 }
		END {
			for (k in want) {
				d = got[k] - want[k]; if (d < 0) d = -d
				if (d * 50 > want[k] || !(k in got)) printf "want %d got %d: %s\n", want[k], got[k], k
			}
			for (k in got) if (!(k in want)) printf "unexpected %d: %s\n", got[k], k
		}' "$3" "$2" | head -5)
	if [ -z "$bad" ] && [ -s "$3" ]; then
		pass "$name: groups per go statement match the target's debug=2 dump ($(wc -l <"$3") groups)"
	else
		fail "$name: groups per go statement match the target's debug=2 dump" "$bad"
	fi
}

run_case() {
	local name=$1 bin=$2 dir=$tmp/$3 tpid lpid lrc addr
	mkdir -p "$dir"
	tpid=$(start_target "$bin" "$dir" -pre $PRE -post $POST -spin 4 -duration 60s) || {
		fail "$name: target start" "$(tail -3 "$dir/target.out")"
		return
	}
	pids+=($tpid)
	"$LEAKSCOPE" --suspects off -p $tpid --json -T 0 -v --unwind-max 1000 1 4 >"$dir/out.json" 2>"$dir/err" &
	lpid=$!
	if ! wait_for 20 grep -q 'tracing pid' "$dir/err"; then
		fail "$name: attach" "$(head -3 "$dir/err")"
		kill $lpid $tpid
		return
	fi
	sleep 0.3
	kill -USR1 $tpid
	wait $lpid
	lrc=$?
	[ $lrc -eq 0 ] && pass "$name: leakscope exits 0" ||
		fail "$name: leakscope exits 0" "exit $lrc: $(tail -3 "$dir/err")"
	if ! wait_for 10 grep -q 'phase done' "$dir/status"; then
		fail "$name: run shape" "the target never leaked its post-attach goroutines"
		kill $tpid
		return
	fi
	addr=$(status_get "$dir/status" pprof_addr)
	# One dump, then their dump: the goroutines compared have not moved in between.
	"$LEAKSCOPE" --suspects off -p $tpid --dump --json >"$dir/dump.json" 2>"$dir/dump.err"
	lrc=$?
	http_get "$addr" '/debug/pprof/goroutine?debug=2' >"$dir/debug2.txt"
	http_get "$addr" '/debug/pprof/goroutine?debug=1' >"$dir/debug1.txt"
	"$LEAKSCOPE" --suspects off -p $tpid --dump --top 0 >"$dir/dump.txt" 2>&1
	kill $tpid

	[ $lrc -eq 0 ] && [ "$(jq -r .type "$dir/dump.json" | sort -u | tr '\n' ' ')" = "interval stack " ] &&
		[ "$(jq -s 'map(select(.type=="interval")) | length' "$dir/dump.json")" = 1 ] &&
		pass "$name: --dump prints one report and exits 0" ||
		fail "$name: --dump prints one report and exits 0" "exit $lrc: $(tail -2 "$dir/dump.err")"

	ours "$dir/out.json" >"$dir/ours.tsv"
	ours "$dir/dump.json" >"$dir/ours-dump.tsv"
	theirs "$dir/debug2.txt" >"$dir/theirs.tsv"
	# The spinners run or wait to run: compared apart (below), not as groups.
	grep -v $'\t''\(runnable\|running\)'$'\t' "$dir/ours.tsv" >"$dir/ours-blocked.tsv"
	grep -v $'\t''\(runnable\|running\)'$'\t' "$dir/ours-dump.tsv" >"$dir/ours-dump-blocked.tsv"
	grep -v $'\t''runnable'$'\t' "$dir/theirs.tsv" >"$dir/theirs-blocked.tsv"
	compare_groups "$name" "$dir/ours-blocked.tsv" "$dir/theirs-blocked.tsv"
	compare_groups "$name --dump" "$dir/ours-dump-blocked.tsv" "$dir/theirs-blocked.tsv"

	# Names: each go statement's row is named as the dump names its goroutines.
	local bad
	bad=$(join -t $'\t' \
		<(jq -r -s '(map(select(.type=="interval")) | map(.report) | max) as $r | .[]
			| select(.type=="stack" and .report==$r and .final==false)
			| select(.frames[0].file // "" | endswith("goblock/main.go"))
			| [.frames[0].file + ":" + (.frames[0].line | tostring), .start_func] | join("\t")' \
			"$dir/dump.json" | sort -u) \
		<(awk -f "$DUMP_AWK" "$dir/debug2.txt" | awk -F'\t' '$1 ~ /goblock\/main.go:/ { print $1 "\t" $4 }' | sort -u) |
		awk -F'\t' '$2 != $3 { print $1 ": ours " $2 ", theirs " $3 }' | head -3)
	local named
	named=$(jq -r -s '[.[] | select(.type=="stack" and (.frames[0].file // "" | endswith("goblock/main.go")))
		| .start_func] | unique | length' "$dir/dump.json")
	if [ -z "$bad" ] && [ "$named" = $((KINDS + 2)) ]; then
		pass "$name: every go statement named as the target's own dump names it ($named)"
	else
		fail "$name: every go statement named as the target's own dump names it" "$named names; $bad"
	fi

	# The blocking call is in each kind's stack.
	local f missing=
	for f in "${!BLOCKS[@]}"; do
		jq -e -s --arg f "$f" --arg b "${BLOCKS[$f]}" 'any(.[]; .type=="stack" and .start_func==$f
			and (.blocked | length) == 1 and (.blocked[0].frames | map(.func) | index($b)))' \
			"$dir/dump.json" >/dev/null || missing+=" $f/${BLOCKS[$f]}"
	done
	[ -z "$missing" ] && pass "$name: each kind's stack holds its blocking call" ||
		fail "$name: each kind's stack holds its blocking call" "missing:$missing"

	# One row per go statement, before and after attach together; books balance.
	local rows
	rows=$(jq -s --argjson pre $PRE --argjson n $((PRE + POST)) '[.[] | select(.type=="stack" and .final
		and (.start_func as $f | ["main.sendForever", "main.(*cache).wait", "main.startKinds.func1"] | index($f)))
		| select(.live == $n and .created_before_attach == $pre and .live_at_attach == $pre
			and .created == $n - $pre and .exited == 0)] | length' "$dir/out.json")
	[ "$rows" = 3 ] && pass "$name: one row per go statement, $PRE created before attach inside it" ||
		fail "$name: one row per go statement, $PRE created before attach inside it" \
			"$(jq -c -s '.[] | select(.type=="stack" and .final and .start_func=="main.sendForever")
				| {live, created_before_attach, live_at_attach, created, exited}' "$dir/out.json")"
	bad=$(jq -r -s '.[] | select(.type=="stack" and .view=="goroutines")
		| select(if .final then .live_at_attach + .created - .exited != .live
			else .live_prev + .created - .exited != .live end)
		| "report \(.report) final=\(.final) \(.start_func): \(.live_at_attach) at attach/\(.live_prev) before + \(.created) - \(.exited) != \(.live)"' \
		"$dir/out.json" | head -3)
	[ -z "$bad" ] && pass "$name: books balance on every row (at attach + created - exited = live)" ||
		fail "$name: books balance on every row" "$bad"

	# Blocked for: the GC stamped them all at gc_unix_ns (GC off otherwise).
	local gcns tns want
	gcns=$(status_get "$dir/status" gc_unix_ns)
	tns=$(date -d "$(jq -r -s 'map(select(.type=="interval")) | .[0].time' "$dir/dump.json")" +%s%N)
	want=$(((tns - gcns) / 1000000))
	bad=$(jq -r -s --argjson want "$want" '.[] | select(.type=="stack")
		| select(.frames[0].file // "" | endswith("goblock/main.go")) | .blocked[] | select(.waiting)
		| select(.waiting_s_min == null or (.waiting_s_min * 1000 - $want | fabs) > 1000
			or (.waiting_s_max * 1000 - $want | fabs) > 1000)
		| "\(.state): \(.waiting_s_min)-\(.waiting_s_max) s"' "$dir/dump.json" | head -3)
	[ -z "$bad" ] && pass "$name: blocked for = since the GC that stamped them ($((want / 1000)) s, within 1 s)" ||
		fail "$name: blocked for = since the GC that stamped them" "want $((want / 1000)).$((want % 1000)) s; $bad"

	# A backlog is runnable, not blocked.
	local spin
	spin=$(jq -r -s '[.[] | select(.type=="stack" and .start_func=="main.spinForever") | .blocked[]]
		| [(map(select(.state=="runnable" or .state=="running") | .count) | add),
		   (map(select(.waiting)) | length)] | join(" ")' "$dir/dump.json")
	[ "$spin" = "4 0" ] && grep -qE '^ +[0-9]+  runnable  at main\.spinForever ' "$dir/dump.txt" &&
		pass "$name: spinning goroutines shown runnable, not blocked" ||
		fail "$name: spinning goroutines shown runnable, not blocked" "runnable+running, waiting groups: $spin"

	# debug=1: the total, and the groups' counts by stack.
	local total ourtotal
	total=$(sed -n 's/^goroutine profile: total \([0-9]*\)/\1/p' "$dir/debug1.txt")
	ourtotal=$(jq -s 'map(select(.type=="interval")) | .[0].goroutines | .live - .hidden_live' "$dir/dump.json")
	within 2 "$ourtotal" "$total" && pass "$name: total matches debug=1 ($ourtotal vs $total)" ||
		fail "$name: total matches debug=1" "leakscope $ourtotal, target $total"

	# Stacks are read once per goroutine that has not moved (4 reports, one read each).
	local unwound
	unwound=$(sed -n 's/.*goroutine stacks: \([0-9]*\) read since attach.*/\1/p' "$dir/err" | tail -1)
	[ -n "$unwound" ] && [ "$unwound" -le $((KINDS * (PRE + POST) * 3 / 2)) ] &&
		pass "$name: stacks of goroutines that did not move are read once ($unwound reads)" ||
		fail "$name: stacks of goroutines that did not move are read once" "${unwound:-no count} reads over 4 reports"
	# The text: one line per group, with the time and the place.
	grep -qE '^ +50  chan send  blocked [0-9.]+s  at main\.sendForever  .*goblock/main\.go:[0-9]+$' "$dir/dump.txt" &&
		pass "$name: text dump line: count, state, blocked for, at" ||
		fail "$name: text dump line: count, state, blocked for, at" "$(grep -m2 'chan send' "$dir/dump.txt")"
}

# Sampling: at most N stacks read per row, groups scaled and marked.
sampled_case() {
	local name=$1 bin=$2 dir=$tmp/sampled tpid
	mkdir -p "$dir"
	tpid=$(start_target "$bin" "$dir" -pre 300 -post 0 -duration 30s) || {
		fail "$name: target start" "$(tail -3 "$dir/target.out")"
		return
	}
	pids+=($tpid)
	"$LEAKSCOPE" --suspects off -p $tpid --json -T 0 --unwind-max 7 1 1 >"$dir/out.json" 2>"$dir/err"
	kill $tpid
	local bad
	bad=$(jq -r -s '.[] | select(.type=="stack" and .final==false and .live == 300)
		| select((.blocked | length) != 1 or .blocked[0].sampled != true or .blocked[0].count != 300)
		| "\(.start_func): \(.blocked | map({count, sampled}))"' "$dir/out.json" | head -3)
	local n
	n=$(jq -s '[.[] | select(.type=="stack" and .final==false and .live == 300)] | length' "$dir/out.json")
	[ -z "$bad" ] && [ "$n" = $KINDS ] && pass "$name: --unwind-max 7 samples, scales and marks ($n rows of 300)" ||
		fail "$name: --unwind-max 7 samples, scales and marks" "$n rows; $bad"
}

# Long waits: the dump prints "N minutes" after a minute; leakscope says the same.
# Started first, checked last, so the other cases pass the minute.
long_start() {
	local dir=$tmp/long
	mkdir -p "$dir"
	LONG_T0=$SECONDS
	LONG_PID=$(start_target "$1" "$dir" -pre 10 -post 10 -duration 400s) || return 1
	pids+=($LONG_PID)
	kill -USR1 $LONG_PID
}

long_check() {
	local name=$1 dir=$tmp/long bad
	[ -n "${LONG_PID:-}" ] || { fail "$name: target start" "$(tail -3 "$dir/target.out")"; return; }
	[ $((SECONDS - LONG_T0)) -ge 66 ] || sleep $((66 - (SECONDS - LONG_T0)))
	"$LEAKSCOPE" --suspects off -p $LONG_PID --dump --json >"$dir/dump.json" 2>"$dir/err"
	http_get "$(status_get "$dir/status" pprof_addr)" '/debug/pprof/goroutine?debug=2' >"$dir/debug2.txt"
	kill $LONG_PID
	# (Rows the dump prints minutes for: the pprof request itself wakes http.Serve.)
	join -t $'\t' \
		<(jq -r -s '.[] | select(.type=="stack" and (.frames[0].file // "" | endswith("goblock/main.go")))
			| (.frames[0].file + ":" + (.frames[0].line | tostring)) as $at | .blocked[] | select(.waiting)
			| [$at, .state, .waiting_s_min, .waiting_s_max] | map(tostring) | join("\t")' "$dir/dump.json" | sort) \
		<(awk -f "$DUMP_AWK" "$dir/debug2.txt" | awk -F'\t' '$1 ~ /goblock\/main.go:/ && $3 >= 0 { print $1 "\t" $2 "\t" $3 }' | sort -u) \
		>"$dir/joined.tsv"
	bad=$(awk -F'\t' '{ m = $6; if ($2 != $5 || $3 == "null" || $4 < m * 60 - 2 || $3 > (m + 1) * 60 + 2) print }' "$dir/joined.tsv" | head -3)
	local n k
	n=$(awk -f "$DUMP_AWK" "$dir/debug2.txt" | awk -F'\t' '$1 ~ /goblock\/main.go:/ && $3 >= 1' | wc -l)
	k=$(wc -l <"$dir/joined.tsv")
	[ -z "$bad" ] && [ "$n" -ge $((KINDS * 20)) ] && [ "$k" -ge $KINDS ] &&
		pass "$name: blocked for agrees with the dump's \"N minutes\" ($n goroutines, $k groups)" ||
		fail "$name: blocked for agrees with the dump's \"N minutes\"" "$n with minutes, $k groups; $bad"
}

first=1
while read -r version gocmd; do
	[ -n "$version" ] || continue
	flavors="default stripped-pie"
	[ $first = 1 ] || [ "$version" = go1.27.3 ] && flavors+=" noinline"
	for flavor in $flavors; do
		# shellcheck disable=SC2086
		bin=$(build_go goblock $flavor $version $gocmd) || {
			fail "godump $version/$flavor: build" "see above"
			continue
		}
		if [ $first = 1 ]; then
			long_start "$bin"
			sampled_case "godump $version/$flavor" "$bin"
			first=0
		fi
		run_case "godump $version/$flavor" "$bin" "$version-$flavor"
	done
done <<<"$(go_toolchains)"
long_check "godump long wait"
testlib_status
