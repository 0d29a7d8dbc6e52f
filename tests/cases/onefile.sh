#!/bin/bash
# One file to deploy: build/leakscope-static copied alone into an empty directory and run
# chrooted there (no libc, no /usr, no /etc: the binary, /proc, and of /sys only the three
# entries leakscope reads, read-only: kernel/btf/vmlinux, bus/event_source/devices/uprobe,
# devices/system/cpu; no tracefs, no debugfs, no bpffs), tracing targets that run outside
# the chroot, a Go program and a C program. It runs beside the
# dynamic build on the same target at the same time, and both must report the same rows:
# sites, counts, symbols, files and lines. The target's files are reached only through
# /proc/PID (map_files, exe, root); a reduced capability set (no CAP_SYS_ADMIN, so
# /proc/PID/map_files is closed) checks the /proc/PID/root route from inside the chroot.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
LEAKSCOPE_GO_EXTRA= # the machine's go is enough here: no toolchain downloads
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh" # build_go, wait_for, status_get, within

STATIC=${LEAKSCOPE_STATIC:-$LEAKSCOPE_BUILD/leakscope-static}
T=$LEAKSCOPE_BUILD/targets/native
mkdir -p "$T"
tmp=$(mktemp -d /tmp/leakscope-onefile.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -x "$STATIC" ]; then
	# ASan's runtime (linked in by clang, a library with gcc): its symbols are in either.
	if readelf -sW --dyn-syms "$LEAKSCOPE" 2>/dev/null | grep -qw __asan_init; then
		skip "onefile" "a sanitizer build (SANITIZE=1) makes no static binary"
	else
		fail "onefile: static binary" "$STATIC missing: make builds it"
	fi
	testlib_status
	exit
fi

# The binary itself: no interpreter, no DT_NEEDED, whatever ldd and file call it.
interp=$(readelf -lW "$STATIC" | grep -c 'Requesting program interpreter')
needed=$(readelf -dW "$STATIC" | grep '(NEEDED)')
lddout=$(ldd "$STATIC" 2>&1 | tr -s ' \t' ' ')
fileout=$(file -bL "$STATIC" 2>/dev/null || echo "static-pie linked (no file(1) here)")
if [ "$interp" = 0 ] && [ -z "$needed" ] &&
	[[ "$lddout" == *"not a dynamic executable"* || "$lddout" == *"statically linked"* ]] &&
	[[ "$fileout" == *"static-pie linked"* || "$fileout" == *"statically linked"* ]]; then
	pass "onefile: $(basename "$STATIC") needs no interpreter and no shared library (ldd:$lddout; file: $(cut -d, -f1-5 <<<"$fileout"))"
else
	fail "onefile: no interpreter, no shared library" "interpreter $interp, $(grep -c NEEDED <<<"$needed") NEEDED: $(grep -o '\[.*\]' <<<"$needed" | xargs); file: $fileout"
fi

# The chroot: the binary and two empty mount points. The dynamic build cannot even start in
# it (the control: nothing else is there); the static one can, before anything is mounted.
root=$tmp/root
mkdir -p "$root/proc" "$root/sys"
cp "$LEAKSCOPE" "$root/leakscope-dynamic"
cp "$STATIC" "$root/leakscope"
chroot "$root" /leakscope-dynamic --help >"$tmp/dyn.out" 2>&1
drc=$?
rm "$root/leakscope-dynamic"
chroot "$root" /leakscope --help >"$tmp/help.out" 2>&1
src=$?
contents=$(cd "$root" && find . -mindepth 1 | sort | xargs)
if [ "$drc" -ne 0 ] && [ "$src" -eq 0 ] && grep -q '^Usage: leakscope' "$tmp/help.out" &&
	[ "$contents" = "./leakscope ./proc ./sys" ]; then
	pass "onefile: alone in an empty chroot it starts, the dynamic build does not (exit $drc)"
else
	fail "onefile: alone in an empty chroot" "dynamic exit $drc, static exit $src ($(head -c 200 "$tmp/help.out")), chroot holds: $contents"
fi

# What leakscope reads of /sys: the kernel's BTF (CO-RE), the perf uprobe PMU's type and
# format (libbpf attaches uprobes through it, not through tracefs), the possible CPUs (a
# perf event per CPU samples the Go allocator when the program has no heap profiling).
SYS_NEEDED="kernel/btf/vmlinux bus/event_source/devices/uprobe devices/system/cpu"

# chrooted CAPS ARGS...: the chrooted leakscope, in a mount namespace of its own (the mounts
# go with it) with /proc and, on a tmpfs /sys, only $SYS_NEEDED bound read-only from the
# host's (LEAKSCOPE_SYS="" leaves /sys empty); CAPS, if not empty, is the capability
# bounding set it runs with (root's full set otherwise).
chrooted() {
	local caps=$1
	shift
	unshare -m --propagation private sh -c '
		r=$1 caps=$2 need=$3
		shift 3
		mount -t proc proc "$r/proc" && mount -t tmpfs -o size=64k,mode=755 sys "$r/sys" || exit 125
		for e in $need; do
			if [ -d "/sys/$e" ]; then mkdir -p "$r/sys/$e"; else mkdir -p "$r/sys/${e%/*}" && : >"$r/sys/$e"; fi
			mount --rbind -o ro "/sys/$e" "$r/sys/$e" || exit 125
		done
		[ -z "$caps" ] || exec setpriv --bounding-set="$caps" chroot "$r" /leakscope "$@"
		exec chroot "$r" /leakscope "$@"' sh "$root" "$caps" "${LEAKSCOPE_SYS-$SYS_NEEDED}" "$@"
}

# start DIR CMD...: run CMD in the background until it writes "ready 1" to DIR/status;
# sets TPID. Fails (returns 1) if it does not.
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

# beside DIR ARGS...: the dynamic build (plain.*) and the chrooted static one (chroot.*)
# on $TPID at the same time, leakscope --json ARGS; SIGUSR1 starts the target's leak once
# both are attached. Sets PRC and CRC.
beside() {
	local dir=$1 p c
	shift
	"$LEAKSCOPE" --suspects off -p "$TPID" --json -T 0 "$@" >"$dir/plain.json" 2>"$dir/plain.err" &
	p=$!
	chrooted "" --suspects off -p "$TPID" --json -T 0 "$@" >"$dir/chroot.json" 2>"$dir/chroot.err" &
	c=$!
	if wait_for 30 grep -q 'tracing pid' "$dir/plain.err" &&
		wait_for 30 grep -q 'tracing pid' "$dir/chroot.err"; then
		sleep 0.5
		kill -USR1 "$TPID"
	fi
	wait $p
	PRC=$?
	wait $c
	CRC=$?
}

# rows FILE FILTER: the summary's rows FILTER keeps, one JSON line each, with the fields
# that must match (sorted): view, what it runs, live count and bytes, every frame
# (function, file, line, module, offset).
rows() {
	jq -c "select(.type==\"stack\" and .final and .live > 0) | select($2)
		| [.view, .start_func, .live, .live_bytes, .created, .frames]" "$1" | sort
}

# views FILE: the views the reports had.
views() {
	jq -r 'select(.type=="interval") | to_entries[] | select(.value | type == "object") | .key' "$1" |
		sort -u | xargs
}

# same NAME DIR FILTER: the chrooted run's rows against the dynamic build's.
same() {
	local name=$1 dir=$2 n
	rows "$dir/plain.json" "$3" >"$dir/plain.rows"
	rows "$dir/chroot.json" "$3" >"$dir/chroot.rows"
	n=$(wc -l <"$dir/plain.rows")
	if [ "$n" -gt 0 ] && cmp -s "$dir/plain.rows" "$dir/chroot.rows" &&
		[ "$(views "$dir/plain.json")" = "$(views "$dir/chroot.json")" ]; then
		pass "$name: same rows as the dynamic build beside it ($n rows, views $(views "$dir/chroot.json"))"
	else
		fail "$name: same rows as the dynamic build beside it" "views $(views "$dir/plain.json") vs $(views "$dir/chroot.json"); $(diff "$dir/plain.rows" "$dir/chroot.rows" | head -4 | cut -c1-300)"
	fi
}

exits() {
	local name=$1 dir=$2 extra
	# Nothing it lacks in the chroot may cost a view: no warning the dynamic build has not.
	extra=$(grep -hv '^leakscope: tracing pid' "$dir/chroot.err" | grep -vxF -f <(grep -v '^leakscope: tracing pid' "$dir/plain.err") | head -2)
	if [ "$PRC" = 0 ] && [ "$CRC" = 0 ] && [ -z "$extra" ]; then
		pass "$name: chrooted static build exits 0, with nothing on stderr the dynamic one beside it lacks"
		return 0
	fi
	fail "$name: both exit 0, the same warnings" "dynamic exit $PRC: $(tail -2 "$dir/plain.err"); chrooted exit $CRC: $(tail -2 "$dir/chroot.err"); only in the chroot: $extra"
	return 1
}

# Without /sys (a container that mounts none): one line naming what to mount, exit 6.
LEAKSCOPE_SYS="" chrooted "" --suspects off -p $$ 1 1 >"$tmp/nosys.out" 2>"$tmp/nosys.err"
rc=$?
if [ $rc = 6 ] && [ "$(wc -l <"$tmp/nosys.err")" = 1 ] &&
	grep -q '^leakscope: error: /sys is not mounted here: .*/sys/kernel/btf/vmlinux' "$tmp/nosys.err"; then
	pass "onefile: with no /sys in the chroot, one line saying what it reads there, exit 6"
else
	fail "onefile: with no /sys in the chroot, one line, exit 6" "exit $rc: $(head -3 "$tmp/nosys.err")"
fi

# --- Go: goroutine leak (tests/targets/goleak), 500 before attach and 2500 after.
dir=$tmp/go
mkdir -p "$dir"
read -r version gocmd <<<"$(go_toolchains | head -1)"
# shellcheck disable=SC2086
if [ -z "$version" ] || ! gobin=$(build_go goleak default $version $gocmd); then
	fail "onefile go: build goleak" "no Go toolchain that works (${version:-none})"
elif start "$dir" "$gobin" -pre 500 -leak 2500 -rate 1000 -churn 2000 -duration 60s -status "$dir/status"; then
	GPID=$TPID
	beside "$dir" 1 4
	if exits "onefile go $version" "$dir"; then
		pre=$(status_get "$dir/status" leaked_pre)
		post=$(status_get "$dir/status" leaked_post)
		leak=$(jq -c 'select(.type=="stack" and .final and .start_func=="main.blockForever" and .stack_captured)' "$dir/chroot.json" | head -1)
		live=$(jq '.live // 0' <<<"${leak:-null}")
		funcs=$(jq -r '.frames // [] | map(.func) | join(" ")' <<<"${leak:-null}")
		if [ "$post" = 2500 ] && within 2 "$live" $((pre + post)) &&
			[[ "$funcs" == "main.spawnLeaker main.leakLoop main.main.func"* ]] &&
			jq -e '(.frames[0].file | endswith("tests/targets/goleak/main.go")) and .frames[0].line > 0
				and .states["chan receive"] == .live' <<<"$leak" >/dev/null; then
			pass "onefile go: the leak from inside the chroot: $live goroutines (target $pre + $post) in chan receive, created at $funcs with file:line"
		else
			fail "onefile go: the leak from inside the chroot" "live $live (target $pre + $post), frames: $funcs; row: ${leak:0:300}"
		fi
		# (Short-lived churn goroutines are in flight at any moment; the runtime starts
		# threads when it likes, between one attach and the other.)
		same "onefile go" "$dir" '.view == "goroutines" and .start_func != "main.churnWorker"'
	fi
fi

# --- C: tests/targets/cleak's leak and every allocator function (as in native.sh).
dir=$tmp/native
mkdir -p "$dir"
if ! gcc -O2 -g -fno-omit-frame-pointer -o "$T/cleak" "$LEAKSCOPE_ROOT/tests/targets/cleak/cleak.c"; then
	fail "onefile native: build cleak" "see above"
elif start "$dir" "$T/cleak" -status "$dir/status" -count 2000 -rate 2000 -size 1000; then
	beside "$dir" 1 4
	if exits "onefile native" "$dir"; then
		st=$dir/status
		q='select(.type=="stack" and .final and .view=="native-heap" and .frames[1].func=="leak_block")'
		bytes=$(jq -s "map($q | .live_bytes) | add // 0" "$dir/chroot.json")
		blocks=$(jq -s "map($q | .live) | add // 0" "$dir/chroot.json")
		funcs=$(jq -r "$q | [.frames[].func] | join(\" \")" "$dir/chroot.json" | head -1)
		if [ "$(status_get "$st" phase)" = done ] && [ "$bytes" = "$(status_get "$st" leaked_bytes)" ] &&
			[ "$blocks" = "$(status_get "$st" leaked_blocks)" ] &&
			[[ "$funcs" == "malloc leak_block leak_loop main"* ]] &&
			jq_any "$dir/chroot.json" "$q | .frames[0].module == \"libc.so.6\" and (.frames[1].file | endswith(\"/cleak.c\")) and .frames[1].line > 0"; then
			pass "onefile native: the leak from inside the chroot: $bytes bytes in $blocks blocks (as the target counted) at malloc (libc.so.6) <- leak_block cleak.c:line <- leak_loop <- main"
		else
			fail "onefile native: the leak from inside the chroot" "$bytes bytes in $blocks blocks, target $(status_get "$st" leaked_bytes) in $(status_get "$st" leaked_blocks) ($(status_get "$st" phase)); frames: $funcs"
		fi
		# What the target allocated on purpose (churn and status writes are in flight at any
		# moment), and its threads.
		same "onefile native" "$dir" '.view == "threads" or ((.frames | map(.func) | index("leak_loop")) and (.frames | map(.func) | index("churn") | not))'
	fi
	kill "$TPID" 2>/dev/null
fi

# --- Without CAP_SYS_ADMIN: /proc/PID/map_files is closed, so the target's files are
# opened as /proc/PID/root/PATH, from inside the chroot. Uprobes need CAP_SYS_ADMIN on
# current kernels (the fix for CVE-2025-38466: 6.16, and the stable releases of July 2025
# on: 6.15.7, 6.12.39, 6.6.99, 6.1.146, 5.15.189, 5.10.240), so on those what runs with
# CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE alone is what needs no uprobe: --dump.
REDUCED=-all,+bpf,+perfmon,+sys_ptrace
dir=$tmp/reduced
mkdir -p "$dir"
if [ -x "$T/cleak" ] && start "$dir" "$T/cleak" -status "$dir/status" -count 2000 -rate 2000 -size 1000; then
	libc_map=$(awk '$6 ~ /\/libc\.so\.6$/ { print $1; exit }' "/proc/$TPID/maps")
	if [ -n "$libc_map" ] && head -c 4 "/proc/$TPID/map_files/$libc_map" >/dev/null 2>&1 &&
		! setpriv --bounding-set="$REDUCED" head -c 4 "/proc/$TPID/map_files/$libc_map" >/dev/null 2>&1; then
		pass "onefile reduced caps: /proc/PID/map_files is closed to it (open to root)"
	else
		fail "onefile reduced caps: /proc/PID/map_files is closed to it" "libc mapping '$libc_map'"
	fi
	# A session that needs uprobes: placed (a kernel before the fix), or one line that
	# says which capability is missing and exit 5.
	chrooted "$REDUCED,+sys_chroot" --suspects off -w threads -p "$TPID" 1 1 >"$dir/uprobes.out" 2>"$dir/uprobes.err"
	rc=$?
	if [ $rc = 0 ] || { [ $rc = 5 ] && grep -q '^leakscope: error: cannot attach .*Permission denied (uprobes need CAP_SYS_ADMIN' "$dir/uprobes.err" &&
		[ "$(grep -c '^leakscope: error' "$dir/uprobes.err")" = 1 ]; }; then
		pass "onefile reduced caps: uprobes $([ $rc = 0 ] && echo "placed (this kernel predates the fix)" || echo "refused: one error naming CAP_SYS_ADMIN, exit 5")"
	else
		fail "onefile reduced caps: uprobes refused with a clear line" "exit $rc: $(grep -v '^  ' "$dir/uprobes.err" | head -3)"
	fi
	kill "$TPID" 2>/dev/null
fi
if [ -n "${GPID:-}" ] && kill -0 "$GPID" 2>/dev/null; then
	"$LEAKSCOPE" --dump --json -p "$GPID" >"$dir/plain-dump.json" 2>"$dir/plain-dump.err"
	prc=$?
	chrooted "$REDUCED,+sys_chroot" --dump --json -p "$GPID" >"$dir/chroot-dump.json" 2>"$dir/chroot-dump.err"
	crc=$?
	q='select(.type=="stack" and .start_func=="main.blockForever") | [.live, .frames, (.blocked | map(del(.waiting_s_min, .waiting_s_max)))]'
	a=$(jq -c "$q" "$dir/plain-dump.json")
	b=$(jq -c "$q" "$dir/chroot-dump.json")
	if [ "$prc" = 0 ] && [ "$crc" = 0 ] && [ -n "$a" ] && [ "$a" = "$b" ] && [ "$(jq '.[0]' <<<"$b")" -ge 2900 ]; then
		pass "onefile reduced caps: --dump from inside the chroot matches the dynamic build's ($(jq '.[0]' <<<"$b") leaked goroutines, their stacks and states)"
	else
		fail "onefile reduced caps: --dump from inside the chroot" "exit $prc/$crc: $(tail -1 "$dir/chroot-dump.err"); dynamic ${a:0:200}; chrooted ${b:0:200}"
	fi
fi
testlib_status
