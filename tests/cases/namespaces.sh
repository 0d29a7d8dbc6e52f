#!/bin/bash
# PID and mount namespaces, end to end: the same targets and the same assertions as the
# plain cases (goroutines.sh, goheap.sh, native.sh, threads.sh, growth.sh), in three
# situations built with unshare:
#  - sidecar: leakscope in a PID namespace of its own (unshare --pid --mount-proc) that
#    the target shares, as Kubernetes' shareProcessNamespace makes it, and is given the
#    PID as it sees it there; the target in a mount namespace of its own, its binary
#    and libc on a tmpfs mounted only there. The target's PID there is made equal
#    (kernel.ns_last_pid) to the host PID of a busy host process (a "decoy" of the same
#    kind) as happens by chance in a real pod, or always under `kubectl debug --target`
#    (the target is its container's PID 1): BPF sees host PIDs, and the decoy's threads,
#    page faults and mappings must not be counted as the target's.
#  - nested: leakscope in a PID namespace, the target in a PID namespace inside it
#    (a container's own containers: kind nodes, Docker in Docker), again with files
#    only it sees.
#  - host: leakscope on the host, the target PID 1 of its own PID and mount namespaces
#    (a container), with a binary and libc visible only there.
# Views: goroutines and threads (tests/targets/goleak), go-heap (goheap, with heap
# profiling), native heap and threads (cleak), threads by creation stack (threads),
# growth mode (cgrowth).
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
LEAKSCOPE_GO_EXTRA= # the machine's go is enough here: no toolchain downloads
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh" # build_go, wait_for, status_get, within

# ---- run inside leakscope's namespace (this script runs itself there) ------------------

# ns_run MODE DIR LEAKSCOPE-ARGS... -- FILE... -- TARGET-ARGS...: start the target
# (FILE[0], with the other FILEs beside it: its libc) from a tmpfs mounted only in the
# target's own mount namespace, in MODE: "sidecar:PID" (in this PID namespace, with that
# PID), "child" (PID 1 of a PID namespace of its own, under this one). Once it is ready,
# leakscope -p (its PID as seen from here) --json ARGS, SIGUSR1 to the target once
# attached. Leaves in DIR: tpid, out.json, err, rc, tasks (threads when leakscope ended),
# seen (what a look at the private file's path from here finds).
ns_run() {
	local mode=$1 dir=$2 args=() files=() tpid u p=$2/priv
	shift 2
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	while [ "$1" != -- ]; do files+=("$1"); shift; done
	shift
	mkdir -p "$p"
	# shellcheck disable=SC2016
	local setup='n=$0 p=$1 i=0; shift; mount -t tmpfs leakscope-ns "$p" || exit 125
		for f; do [ $i -lt $n ] && { cp "$f" "$p/" || exit 125; }; i=$((i + 1)); done
		b=$p/${1##*/}; shift $n
		exec env LD_LIBRARY_PATH="$p" "$b" "$@"'
	case $mode in
	sidecar:*)
		echo $((${mode#sidecar:} - 1)) >/proc/sys/kernel/ns_last_pid
		unshare -m --propagation private sh -c "$setup" "${#files[@]}" "$p" "${files[@]}" "$@" \
			>"$dir/target.out" 2>&1 &
		tpid=$!
		;;
	child)
		unshare --pid --fork --mount-proc --propagation private sh -c "$setup" "${#files[@]}" \
			"$p" "${files[@]}" "$@" >"$dir/target.out" 2>&1 &
		u=$!
		wait_for 5 pgrep -P $u >/dev/null
		tpid=$(pgrep -P $u | head -1)
		;;
	esac
	echo "$tpid" >"$dir/tpid"
	if ! wait_for 10 grep -q 'ready 1' "$dir/status"; then
		echo "target did not start: $(head -3 "$dir/target.out")" >"$dir/err"
		echo 125 >"$dir/rc"
		kill -KILL "$tpid" 2>/dev/null
		return
	fi
	ls -A "$p" >"$dir/seen" 2>&1
	"$LEAKSCOPE" --suspects off -p "$tpid" --json -T 0 "${args[@]}" >"$dir/out.json" 2>"$dir/err" &
	local l=$!
	wait_for 30 grep -q 'tracing pid' "$dir/err" && sleep 0.3 && kill -USR1 "$tpid"
	wait $l
	echo $? >"$dir/rc"
	ls "/proc/$tpid/task" | wc -l >"$dir/tasks"
	kill -KILL "$tpid" 2>/dev/null
	wait 2>/dev/null
}

if [ "${1:-}" = __ns_run ]; then
	shift
	ns_run "$@"
	exit 0
fi

# ---- the test ---------------------------------------------------------------------------

T=$LEAKSCOPE_BUILD/targets/native
mkdir -p "$T"
tmp=$(mktemp -d /tmp/leakscope-namespaces.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

src=$LEAKSCOPE_ROOT/tests/targets
CF=(-O2 -g -fno-omit-frame-pointer -Wall)
read -r version gocmd <<<"$(go_toolchains | head -1)"
# shellcheck disable=SC2086
if ! gcc "${CF[@]}" -o "$T/cleak" "$src/cleak/cleak.c" ||
	! gcc "${CF[@]}" -pthread -o "$T/threads" "$src/threads/threads.c" ||
	! gcc "${CF[@]}" -o "$T/cgrowth" "$src/cgrowth/cgrowth.c" ||
	[ -z "$version" ] || ! goleak=$(build_go goleak default $version $gocmd) ||
	! goheap=$(build_go goheap default+pprof $version $gocmd); then
	fail "namespaces: build targets" "see above (Go: ${version:-none})"
	testlib_status
	exit 1
fi
libc=$(ldd "$T/cleak" | awk '$1 == "libc.so.6" { print $3 }')

# The targets: NAME LEAKSCOPE-ARGS -- FILES -- TARGET-ARGS (the status file is added).
declare -A ARGS FILES TARGS DECOY
ARGS[goleak]="1 3"
FILES[goleak]="$goleak $libc"
TARGS[goleak]="-pre 500 -leak 1500 -rate 1000 -churn 1000 -duration 60s"
ARGS[goheap]="-w go-heap,go-alloc 1 3"
FILES[goheap]="$goheap $libc"
TARGS[goheap]="-leak 10000 -rate 10000 -duration 60s"
ARGS[cleak]="1 3"
FILES[cleak]="$T/cleak $libc"
TARGS[cleak]="-count 2000 -rate 2000 -size 1000"
ARGS[threads]="-w threads 1 3"
FILES[threads]="$T/threads $libc"
TARGS[threads]="-pre 8 -post 12 -churn 200 -duration 60"
ARGS[cgrowth]="--mode growth 1 3"
FILES[cgrowth]="$T/cgrowth $libc"
TARGS[cgrowth]="-count 10000 -rate 5000 -size 200"
# What runs on the host under the sidecar target's PID: busy in the views each one checks.
DECOY[goleak]="$T/threads -pre 0 -post 0 -churn 200"
DECOY[goheap]="$T/threads -pre 0 -post 0 -churn 200"
DECOY[cleak]="$T/threads -pre 0 -post 0 -churn 200"
DECOY[threads]="$T/threads -pre 0 -post 30 -churn 200"
DECOY[cgrowth]="$T/cgrowth -count 1000000 -rate 5000 -size 200"

# launch SITUATION NAME: start one run in the background (its dir: $tmp/SITUATION-NAME).
launch() {
	local sit=$1 name=$2 dir=$tmp/$1-$2 d mode
	mkdir -p "$dir"
	# shellcheck disable=SC2206
	local a=(${ARGS[$name]}) f=(${FILES[$name]}) t=(${TARGS[$name]} -status "$dir/status")
	case $sit in
	sidecar)
		# shellcheck disable=SC2086
		${DECOY[$name]} -status "$dir/decoy.status" >"$dir/decoy.out" 2>&1 &
		d=$!
		disown $d # killed at the end of its wave, and no job notice then
		pids+=($d)
		wait_for 10 grep -q 'ready 1' "$dir/decoy.status" && kill -USR1 $d
		echo $d >"$dir/decoy"
		unshare --pid --fork --mount-proc bash "$0" __ns_run "sidecar:$d" "$dir" "${a[@]}" -- \
			"${f[@]}" -- "${t[@]}" &
		;;
	nested)
		unshare --pid --fork --mount-proc bash "$0" __ns_run child "$dir" "${a[@]}" -- \
			"${f[@]}" -- "${t[@]}" &
		;;
	host)
		bash "$0" __ns_run child "$dir" "${a[@]}" -- "${f[@]}" -- "${t[@]}" &
		;;
	esac
	pids+=($!)
	wave+=($!)
}

# ---- checks on one run's report (the plain cases' assertions) ----

# ok NAME STATUS DETAIL: pass when STATUS (of a shell condition) is 0, else fail with DETAIL.
ok() {
	if [ "$2" = 0 ]; then pass "$1"; else fail "$1" "$3"; fi
}

# facts DIR JQ: what the checks compare, from one jq pass over DIR/out.json (jq starts
# slowly on a busy machine): JQ builds an object over the helpers below; its keys become F[KEY].
declare -A F
JQ_DEFS='
def fin: [.[] | select(.type=="stack" and .final)];
def lastr: ([.[] | select(.type=="interval") | .report] | max // 0) as $r
	| [.[] | select(.type=="stack" and .report==$r and .final==false)];
def view($v): map(select(.view==$v));
def funcs: [.frames[]?.func] | join(" ");
def has($f): (.frames | map(.func) | index($f)) != null;
def sum(f): map(f) | add // 0;
def foreign_threads: fin | view("threads")
	| map(select(.stack_captured and .created > 0 and ((.frames[0].func // "") | IN("pthread_create", "runtime.newm1") | not)))
	| map("\(.created) created at \([.frames[0:3][].func] | join(" "))") | join("; ");
'
facts() {
	local k v
	F=()
	while IFS=$'\t' read -r k v; do F[$k]=$v; done < <(jq -r -s "$JQ_DEFS $2 | to_entries[] | \"\(.key)\t\(.value)\"" "$1/out.json")
}

# Threads made while attached come from the target's own thread-making calls (its
# pthread_create, or Go's runtime.newm1), none from a foreign process's clone.
check_threads_own() {
	ok "$1: every thread made while attached is the target's own (pthread_create or runtime.newm1)" \
		"$([ -z "${F[foreign]}" ]; echo $?)" "foreign rows: ${F[foreign]}"
}

check_goleak() {
	local name=$1 dir=$2 pre post
	pre=$(status_get "$dir/status" leaked_pre)
	post=$(status_get "$dir/status" leaked_post)
	facts "$dir" '(lastr | view("goroutines") | map(select(.start_func=="main.blockForever" and .stack_captured)) | first) as $l | {
		live: ($l.live // 0), funcs: ($l | funcs), prelive: ($l.created_before_attach // 0),
		where: ($l != null and ($l.frames[0].file | endswith("tests/targets/goleak/main.go")) and $l.frames[0].line > 0),
		waiting: ($l.states["chan receive"] // 0),
		churn_created: ([.[] | select(.type=="stack" and .final==false and .start_func=="main.churnWorker") | .created] | add // 0),
		churn_net: (fin | view("goroutines") | map(select(.start_func=="main.churnWorker")) | sum(.net)),
		books: (fin | map(select((.view=="goroutines" or .view=="threads") and .live_at_attach + .created - .exited != .live))
			| map("\(.view) \(.start_func // .frames[0].func)") | join(", ")),
		foreign: foreign_threads }'
	local live=${F[live]:-0}
	ok "$name: leaked goroutines counted as the target counts them ($live, target $pre + $post)" \
		"$([ "$post" = 1500 ] && within 2 "$live" $((pre + post)); echo $?)" "leakscope $live"
	ok "$name: created at main.spawnLeaker <- main.leakLoop <- main.main.func1, with file:line, all in chan receive" \
		"$([[ "${F[funcs]}" == "main.spawnLeaker main.leakLoop main.main.func"* ]] && [ "${F[where]}" = true ] &&
			[ "${F[waiting]}" = "$live" ]; echo $?)" "frames: ${F[funcs]}; file:line ok ${F[where]}; chan receive ${F[waiting]}"
	ok "$name: goroutines from before attach attributed to their go statement (${F[prelive]})" \
		"$(within 2 "${F[prelive]}" "$pre"; echo $?)" "target $pre"
	ok "$name: steady site shows no growth (created ${F[churn_created]}, net ${F[churn_net]})" \
		"$([ "${F[churn_created]}" -gt 500 ] && [ "${F[churn_net]#-}" -lt 100 ]; echo $?)" ""
	ok "$name: books balance on every goroutine and thread row" "$([ -z "${F[books]}" ]; echo $?)" "${F[books]}"
	check_threads_own "$name"
}

check_goheap() {
	local name=$1 dir=$2 leaked phase
	leaked=$(status_get "$dir/status" leaked)
	phase=$(status_get "$dir/status" phase)
	facts "$dir" '{
		inuse: (lastr | view("go-heap") | map(select(has("main.newSession"))) | sum(.live_bytes)),
		top: (lastr | view("go-heap") | max_by(.live_bytes) | funcs),
		alloc: (fin | view("go-alloc") | max_by(.created_bytes // 0) | funcs) }'
	ok "$name: go-heap: the leak in use is about what it leaked (${F[inuse]} bytes, $leaked sessions of 1 KiB)" \
		"$([ "$phase" = done ] && awk -v o="${F[inuse]}" -v n="$leaked" \
			'BEGIN { exit !(n > 0 && o > n * 1024 * 0.7 && o < n * 1200 * 1.3) }'; echo $?)" "phase $phase"
	ok "$name: go-heap: the leak tops the list, with its calling function" \
		"$([[ "${F[top]}" == "main.newSession main.leakSessions"* ]]; echo $?)" "top: ${F[top]}"
	ok "$name: go-alloc: stacks named (${F[alloc]})" "$([[ "${F[alloc]}" == main.* ]]; echo $?)" "top: ${F[alloc]}"
}

check_cleak() {
	local name=$1 dir=$2 st=$2/status
	facts "$dir" '(lastr | view("native-heap")) as $h
		| ($h | map(select(.frames[0].func=="malloc" and .frames[1].func=="leak_block"))) as $l | {
		bytes: ($l | sum(.live_bytes)), blocks: ($l | sum(.live)), funcs: ($l | first | funcs),
		where: ($l | any(.frames[0].module == "libc.so.6" and (.frames[1].file | endswith("/cleak.c")) and .frames[1].line > 0)),
		churn: ($h | map(select(.frames[1].func=="churn")) | sum(.live)),
		threads: (fin | view("threads") | "\(sum(.live)) \(sum(.created))"),
		foreign: foreign_threads }'
	ok "$name: native heap: the leak holds the target's own count (${F[bytes]} bytes in ${F[blocks]} blocks)" \
		"$([ "$(status_get "$st" phase)" = done ] && [ "${F[bytes]}" = "$(status_get "$st" leaked_bytes)" ] &&
			[ "${F[blocks]}" = "$(status_get "$st" leaked_blocks)" ]; echo $?)" \
		"target $(status_get "$st" leaked_bytes) in $(status_get "$st" leaked_blocks), phase $(status_get "$st" phase)"
	ok "$name: native heap: malloc (libc.so.6) <- leak_block cleak.c:line <- leak_loop <- main" \
		"$([[ "${F[funcs]}" == "malloc leak_block leak_loop main"* ]] && [ "${F[where]}" = true ]; echo $?)" \
		"frames: ${F[funcs]}, module and file:line ok: ${F[where]}"
	ok "$name: native heap: the freeing path shows ~0 outstanding (${F[churn]})" "$([ "${F[churn]}" -le 2 ]; echo $?)" ""
	ok "$name: threads: its one thread, none made (live, created: ${F[threads]})" \
		"$([ "${F[threads]}" = "1 0" ]; echo $?)" "${F[foreign]}"
}

check_threads() {
	local name=$1 dir=$2 st=$2/status tasks d
	facts "$dir" '(fin | view("threads")) as $f | (lastr | view("threads")) as $l
		| ($f | map(select(.frames[0].func=="pthread_create" and .frames[1].func=="spawn_short_lived"))) as $s | {
		parked: ($l | map(select(.frames[0].func=="pthread_create" and .frames[1].func=="park_threads")) | sum(.live)),
		pre: ($l | map(select(.pre_attach)) | sum(.live)),
		live: ($l | sum(.live)),
		created: ($s | sum(.created)), exited: ($s | sum(.exited)),
		total: ($f | map(select(.stack_captured)) | sum(.created)),
		unseen: ($f | map(select(.stack_captured | not) | select(.pre_attach | not)) | sum(.created)),
		foreign: foreign_threads }'
	ok "$name: parked threads by creation stack (pthread_create <- park_threads): ${F[parked]}" \
		"$([ "${F[parked]}" = 12 ] && [ "$(status_get "$st" parked_post)" = 12 ]; echo $?)" "parked_post $(status_get "$st" parked_post)"
	ok "$name: threads from before attach counted (${F[pre]}: 8 parked, main, churner)" "$([ "${F[pre]}" = 10 ]; echo $?)" ""
	ok "$name: steady path: created = exited (${F[created]}, ${F[exited]})" \
		"$([ "${F[created]}" -ge 100 ] && [ $((F[created] - F[exited])) -le 2 ]; echo $?)" ""
	# (A thread in /proc but no longer in the map, exiting, is counted without a stack.)
	ok "$name: nothing else created threads (${F[total]} = ${F[created]} + 12, ${F[unseen]} in flight)" \
		"$([ "${F[total]}" = $((F[created] + 12)) ] && [ "${F[unseen]}" -le 2 ]; echo $?)" "${F[foreign]}"
	tasks=$(cat "$dir/tasks")
	d=$((F[live] - tasks))
	ok "$name: live threads match /proc/PID/task (${F[live]} vs $tasks)" "$([ "${d#-}" -le 2 ]; echo $?)" ""
	check_threads_own "$name"
}

check_cgrowth() {
	local name=$1 dir=$2 st=$2/status want
	facts "$dir" '(fin | view("native-growth")) as $g | {
		top: ($g | sort_by(-.net_bytes) | first | funcs),
		leak: ($g | map(select(.frames[0].func=="malloc" and .frames[1].func=="remember")) | sum(.net_bytes)),
		table: ($g | map(select(.frames[1].func=="grow_table")) | sum(.net_bytes)),
		other: ($g | map(select(has("main") | not)) | sum(.net_bytes)),
		where: ($g | any(.frames[1].func=="remember" and (.frames[1].file | endswith("/cgrowth.c")) and .frames[1].line > 0)) }'
	ok "$name: growth: the leak tops the list: malloc <- remember <- serve <- main, with file:line" \
		"$([ "${F[top]}" = "malloc remember serve main" ] && [ "${F[where]}" = true ]; echo $?)" "top: ${F[top]}, file:line ${F[where]}"
	want=$(status_get "$st" leaked_bytes)
	ok "$name: growth: the leak's growth is most of what it leaked (${F[leak]} of $want bytes)" \
		"$(awk -v g="${F[leak]}" -v w="$want" 'BEGIN { exit !(w > 0 && g >= 0.8 * w && g <= 1.05 * w) }'; echo $?)" ""
	want=$(status_get "$st" table_bytes)
	ok "$name: growth: mmap then mremap followed to the byte (${F[table]})" \
		"$([ "${F[table]}" = "$want" ] && [ "$want" -gt 0 ]; echo $?)" "its table is $want"
	ok "$name: growth: none charged outside the target's code (${F[other]} bytes on stacks without main)" \
		"$([ "${F[other]}" -le $((1 << 20)) ]; echo $?)" ""
}

# ---- the runs ---------------------------------------------------------------------------

# Three at a time: most of a run is waiting for reports.
runs=()
for sit in sidecar nested host; do
	for name in goleak goheap cleak threads cgrowth; do runs+=("$sit $name"); done
done
i=0
while [ $i -lt ${#runs[@]} ]; do
	wave=()
	# shellcheck disable=SC2086
	launch ${runs[$i]}
	# shellcheck disable=SC2086
	[ $((i + 1)) -lt ${#runs[@]} ] && launch ${runs[$((i + 1))]}
	# shellcheck disable=SC2086
	[ $((i + 2)) -lt ${#runs[@]} ] && launch ${runs[$((i + 2))]}
	wait "${wave[@]}" 2>/dev/null
	for d in "$tmp"/*/decoy; do [ -e "$d" ] && kill -KILL "$(cat "$d")" 2>/dev/null; done
	i=$((i + 3))
done

for r in "${runs[@]}"; do
	read -r sit name <<<"$r"
	dir=$tmp/$sit-$name
	label="namespaces $sit: $name"
	rc=$(cat "$dir/rc" 2>/dev/null)
	if [ "$rc" != 0 ]; then
		fail "$label: leakscope exits 0" "exit ${rc:-none}: $(grep -v '^  ' "$dir/err" 2>/dev/null | tail -3)"
		continue
	fi
	# The situation itself: the target's files are not where leakscope looks.
	setup="private files not visible to leakscope ($(xargs <"$dir/seen"))"
	tp=$(cat "$dir/tpid")
	case $sit in
	sidecar)
		[ "$tp" = "$(cat "$dir/decoy")" ] && [ ! -s "$dir/seen" ] && setup=ok ||
			setup="target PID $tp in the sidecar's namespace, decoy's host PID $(cat "$dir/decoy"); $setup"
		;;
	*) [ ! -s "$dir/seen" ] && setup=ok ;;
	esac
	if [ "$setup" = ok ]; then
		pass "$label: leakscope exits 0 (target PID $tp as leakscope sees it, its files visible only to it)"
	else
		fail "$label: setup" "$setup"
		continue
	fi
	"check_$name" "$label" "$dir"
done

# A PID namespace whose /proc is still the host's: the PIDs it shows name other processes
# there, so leakscope refuses in one line (exit 3) rather than trace the wrong one.
unshare --pid --fork "$LEAKSCOPE" --suspects off -p 1 1 1 >"$tmp/wrongproc.out" 2>"$tmp/wrongproc.err"
rc=$?
if [ $rc = 3 ] && [ "$(wc -l <"$tmp/wrongproc.err")" = 1 ] &&
	grep -q "^leakscope: error: /proc here is another PID namespace's .*unshare --mount-proc" "$tmp/wrongproc.err"; then
	pass "namespaces: a /proc of another PID namespace is refused in one line, exit 3"
else
	fail "namespaces: a /proc of another PID namespace is refused" "exit $rc: $(head -3 "$tmp/wrongproc.err")"
fi
testlib_status
