#!/bin/bash
# make bench: overhead, measured as ratios taken in one run (untraced and traced
# runs interleaved, medians of each). Timings are printed, never asserted.
#
#   tests/bench/run.sh [NAME...]   NAME: goroutines goheap native dump redis nginx
#                                  gohttp scale (= scale-native scale-go scale-attach);
#                                  default: all of them
#   BENCH_QUICK=1      short runs (a sanity check, not figures to quote)
#   BENCH_ROUNDS=N     rounds of the micro-benchmarks (default 5)
#   BENCH_SERVER_ROUNDS=N, BENCH_SECONDS=S   rounds and seconds per load run of the
#                      server benchmarks (default 3 and 4)
#   LEAKSCOPE_BUILD=DIR   the build to measure (default build/)
#
# The server benchmarks (redis, nginx, gohttp) run a real server on a loopback port
# under a real load generator on the same machine; each prints its rows and the
# end prints them all as one table (README, "Overhead").
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
LSB=${LEAKSCOPE_BUILD:-$ROOT/build}
LS=$LSB/leakscope
B=$LSB/bench
mkdir -p "$B"
# Every file a run waits on (ready, tracing pid) is removed before the run starts: a
# redirection truncates it in the child, after the fork, and the last run's line
# could be read first (attaching to the shell before its exec, or starting the work
# before the tracer is in place).
QUICK=${BENCH_QUICK:-0}
# q FULL QUICK: the figure for this run.
q() { if [ "$QUICK" = 1 ]; then echo "$2"; else echo "$1"; fi; }
ROUNDS=${BENCH_ROUNDS:-$(q 5 2)}
SROUNDS=${BENCH_SERVER_ROUNDS:-$(q 3 2)}
SECS=${BENCH_SECONDS:-$(q 4 2)}
TABLE=$B/table.tsv
go=go
command -v go >/dev/null 2>&1 || go=/usr/lib/go-1.19/bin/go

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# traced_run ENV... -- LEAKSCOPE_ARGS... -- CMD...: run CMD (which must print "ready"
# and wait for SIGUSR1) under leakscope -p, start it once attached, wait for it.
traced_run() {
	local envs=() lsargs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	while [ "$1" != -- ]; do lsargs+=("$1"); shift; done
	shift
	rm -f "$B/ready" # else the last run's may be read before this one truncates it
	"$@" >"$B/ready" &
	local t=$!
	while ! grep -q ready "$B/ready" 2>/dev/null; do sleep 0.02; done
	rm -f "$B/ls.err"
	env "${envs[@]}" "$LS" -p $t -o /dev/null "${lsargs[@]}" 1 2>"$B/ls.err" &
	local l=$!
	while ! grep -q 'tracing pid' "$B/ls.err" 2>/dev/null; do
		kill -0 $l 2>/dev/null || { cat "$B/ls.err" >&2; kill $t; return 1; }
		sleep 0.02
	done
	kill -USR1 $t
	wait $t
	kill -INT $l
	wait $l
}

bench_goroutines() {
	(cd tests/bench/gospawn && GOTOOLCHAIN=local $go build -o "$B/gospawn" .) || return 1
	local n=$(q 500000 100000) u=() t=()
	echo "goroutine create+exit ($n goroutines per run, $ROUNDS rounds, $($go env GOVERSION))"
	for i in $(seq "$ROUNDS"); do
		"$B/gospawn" -n $n -out "$B/u" && u+=("$(cat "$B/u")")
		# The probe's own cost: on throughout (learn would pause it on a longer run).
		traced_run X=1 -- --creation-probe on -- "$B/gospawn" -n $n -wait -out "$B/t" &&
			t+=("$(cat "$B/t")")
	done
	local mu mt
	mu=$(printf '%s\n' "${u[@]}" | median)
	mt=$(printf '%s\n' "${t[@]}" | median)
	printf '  untraced                                %8.1f ns/goroutine\n' "$mu"
	printf '  leakscope --creation-probe on (probe before call runqput, -v names it) %4.1f ns/goroutine  ratio %s\n' "$mt" "$(ratio "$mt" "$mu")"
	echo "  added cost per goroutine: $(awk -v a="$mt" -v b="$mu" 'BEGIN{printf "%.0f", a-b}') ns; exits cost nothing (read from runtime.allgs)"
}

bench_goheap() {
	(cd tests/bench/goalloc && GOTOOLCHAIN=local $go build -o "$B/goalloc" . &&
		GOTOOLCHAIN=local $go build -tags pprof -o "$B/goalloc-pprof" .) || return 1
	local n=${GOALLOC_N:-$(q 60000000 10000000)} up=() tp=() un=() tn=() tn5=()
	echo "Go allocation loop, 96-byte objects ($n per run, $ROUNDS rounds, $($go env GOVERSION))"
	for i in $(seq "$ROUNDS"); do
		"$B/goalloc-pprof" -n $n -out "$B/u" && up+=("$(cat "$B/u")")
		traced_run X=1 -- -- "$B/goalloc-pprof" -n $n -wait -out "$B/t" && tp+=("$(cat "$B/t")")
		"$B/goalloc" -n $n -out "$B/u" && un+=("$(cat "$B/u")")
		traced_run X=1 -- -- "$B/goalloc" -n $n -wait -out "$B/t" && tn+=("$(cat "$B/t")")
		traced_run X=1 -- --sample-hz 4999 -- "$B/goalloc" -n $n -wait -out "$B/t" &&
			tn5+=("$(cat "$B/t")")
	done
	local mup mtp mun mtn mtn5
	mup=$(printf '%s\n' "${up[@]}" | median)
	mtp=$(printf '%s\n' "${tp[@]}" | median)
	mun=$(printf '%s\n' "${un[@]}" | median)
	mtn=$(printf '%s\n' "${tn[@]}" | median)
	mtn5=$(printf '%s\n' "${tn5[@]}" | median)
	printf '  heap profiling on (pprof linked):  untraced %6.2f ns/alloc, leakscope %6.2f  ratio %s\n' \
		"$mup" "$mtp" "$(ratio "$mtp" "$mup")"
	printf '  heap profiling off (fallback):     untraced %6.2f ns/alloc, leakscope %6.2f  ratio %s (sampler at the default, 99 Hz)\n' \
		"$mun" "$mtn" "$(ratio "$mtn" "$mun")"
	printf '                                                                  %6.2f  ratio %s (sampler 4999 Hz)\n' \
		"$mtn5" "$(ratio "$mtn5" "$mun")"
}

# The peer, a bpftrace script doing what BCC's memleak does for process PID and the
# allocator in LIB: entry and return probes on malloc, calloc, realloc and
# posix_memalign (pending size by thread, then address -> size, time, user stack),
# an entry probe on free (delete). bpftrace 0.17 places its uprobes in every process
# that maps LIB (its -p filters nothing; memleak's probes are the target's alone):
# the script keeps to PID, but other processes using LIB trap too.
peer_script() {
	local lib=$1 pid=$2
	cat <<EOF
uprobe:$lib:malloc /pid == $pid/ { @size[tid] = arg0; }
uretprobe:$lib:malloc /@size[tid]/ { @allocs[retval] = (@size[tid], nsecs, ustack); delete(@size[tid]); }
uprobe:$lib:calloc /pid == $pid/ { @size[tid] = arg0 * arg1; }
uretprobe:$lib:calloc /@size[tid]/ { @allocs[retval] = (@size[tid], nsecs, ustack); delete(@size[tid]); }
uprobe:$lib:realloc /pid == $pid/ { delete(@allocs[arg0]); @size[tid] = arg1; }
uretprobe:$lib:realloc /@size[tid]/ { @allocs[retval] = (@size[tid], nsecs, ustack); delete(@size[tid]); }
uprobe:$lib:posix_memalign /pid == $pid/ { @memptr[tid] = arg0; @size[tid] = arg2; }
uretprobe:$lib:posix_memalign /@memptr[tid]/ { @allocs[*(uint64 *)@memptr[tid]] = (@size[tid], nsecs, ustack); delete(@size[tid]); delete(@memptr[tid]); }
uprobe:$lib:free /pid == $pid/ { delete(@allocs[arg0]); }
END { clear(@allocs); clear(@size); clear(@memptr); }
EOF
}

# bpftrace_run SCRIPT -- CMD...: run CMD (prints "ready", waits for SIGUSR1) with the
# bpftrace SCRIPT attached to it (-p; @PID@ in SCRIPT is its PID), start it once the
# probes are in, wait for it.
bpftrace_run() {
	local script=$1
	shift 2
	rm -f "$B/ready" # else the last run's may be read before this one truncates it
	"$@" >"$B/ready" &
	local t=$!
	while ! grep -q ready "$B/ready" 2>/dev/null; do sleep 0.02; done
	rm -f "$B/bt.out"
	bpftrace -p $t -e "${script//@PID@/$t}" >"$B/bt.out" 2>&1 &
	local b=$!
	while ! grep -q Attaching "$B/bt.out" 2>/dev/null; do
		kill -0 $b 2>/dev/null || { cat "$B/bt.out" >&2; kill $t; return 1; }
		sleep 0.02
	done
	# "Attaching N probes..." comes before the attaching itself.
	sleep 1
	kill -USR1 $t
	wait $t
	kill -INT $b
	wait $b 2>/dev/null
}

# Native heap: malloc+free pairs untraced, under leakscope (exact and growth mode) and
# under the peer (peer_script). Then where the cost goes: empty probes (bpftrace) and
# leakscope's own BPF programs (one more run, with kernel.bpf_stats_enabled).
bench_native() {
	command -v bpftrace >/dev/null || { echo "native: bpftrace not installed, skipped"; return 0; }
	gcc -O2 -fno-omit-frame-pointer -o "$B/mallocpairs" tests/bench/mallocpairs/mallocpairs.c ||
		return 1
	# Short runs where each pair costs microseconds; long ones to see a few percent.
	local libc n=$(q 200000 50000) nfast=$(q 20000000 5000000) u=() t=() sa=() g=() p=() e_m=() e_mr=() e_f=()
	libc=$(ldd "$B/mallocpairs" | awk '$1 == "libc.so.6" { print $3 }')
	local peer
	peer=$(peer_script "$libc" @PID@)
	local mp=("$B/mallocpairs" -n $n -wait -out "$B/t")
	echo "native malloc+free pairs ($n per traced run, $nfast untraced/growth, $ROUNDS rounds, $libc)"
	for i in $(seq "$ROUNDS"); do
		"$B/mallocpairs" -n $nfast -out "$B/u" >/dev/null && u+=("$(cat "$B/u")")
		traced_run X=1 -- -- "${mp[@]}" && t+=("$(cat "$B/t")")
		traced_run X=1 -- --mode sampled -- "${mp[@]}" && sa+=("$(cat "$B/t")")
		bpftrace_run "$peer" -- "${mp[@]}" && p+=("$(cat "$B/t")")
		traced_run X=1 -- --mode growth -- "$B/mallocpairs" -n $nfast -wait -out "$B/t" &&
			g+=("$(cat "$B/t")")
		bpftrace_run "uprobe:$libc:malloc {}" -- "${mp[@]}" && e_m+=("$(cat "$B/t")")
		bpftrace_run "uprobe:$libc:malloc {} uretprobe:$libc:malloc {}" -- "${mp[@]}" &&
			e_mr+=("$(cat "$B/t")")
		bpftrace_run "uprobe:$libc:free {}" -- "${mp[@]}" && e_f+=("$(cat "$B/t")")
	done
	local mu mt msa mpe mg mm mmr mf
	mu=$(printf '%s\n' "${u[@]}" | median)
	mt=$(printf '%s\n' "${t[@]}" | median)
	msa=$(printf '%s\n' "${sa[@]}" | median)
	mpe=$(printf '%s\n' "${p[@]}" | median)
	mg=$(printf '%s\n' "${g[@]}" | median)
	mm=$(printf '%s\n' "${e_m[@]}" | median)
	mmr=$(printf '%s\n' "${e_mr[@]}" | median)
	mf=$(printf '%s\n' "${e_f[@]}" | median)
	printf '  untraced                                 %8.1f ns/pair\n' "$mu"
	printf '  leakscope (exact)                        %8.1f ns/pair  ratio %s\n' "$mt" "$(ratio "$mt" "$mu")"
	printf '  leakscope --mode sampled (64 KiB)        %8.1f ns/pair  ratio %s\n' "$msa" "$(ratio "$msa" "$mu")"
	printf '  peer: bpftrace doing what memleak does   %8.1f ns/pair  ratio %s\n' "$mpe" "$(ratio "$mpe" "$mu")"
	printf '  leakscope --mode growth                  %8.1f ns/pair  ratio %s\n' "$mg" "$(ratio "$mg" "$mu")"
	awk -v t="$mt" -v p="$mpe" -v u="$mu" 'BEGIN { printf "  added cost per pair: leakscope %.0f ns, peer %.0f ns; added cost ours/peer %.2f\n", t - u, p - u, (t - u) / (p - u) }'
	awk -v t="$msa" -v p="$mpe" -v u="$mu" 'BEGIN { printf "  added cost per pair, --mode sampled: %.0f ns; ours/peer %.2f\n", t - u, (t - u) / (p - u) }'

	# One more leakscope run with BPF run-time accounting on.
	local stats_was bodies
	stats_was=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
	rm -f "$B/ready" # else the last run's may be read before this one truncates it
	"${mp[@]}" >"$B/ready" &
	local tp=$!
	while ! grep -q ready "$B/ready" 2>/dev/null; do sleep 0.02; done
	rm -f "$B/ls.err"
	"$LS" -p $tp -o /dev/null 1 2>"$B/ls.err" &
	local l=$!
	while ! grep -q 'tracing pid' "$B/ls.err" 2>/dev/null; do sleep 0.02; done
	kill -USR1 $tp
	wait $tp
	# This leakscope's programs only (by the ids its descriptors hold: others may run).
	local ids
	ids=$(grep -h '^prog_id:' /proc/$l/fdinfo/* 2>/dev/null | awk '{ print $2 }' | sort -un | jq -s -c .)
	bodies=$(bpftool prog show -j | jq -r --argjson ids "${ids:-[]}" '[.[] | select(.id as $i | $ids | index($i))
		| select(.name | startswith("nat_")) | select(.run_cnt > 0)] |
		map("\(.name) \(.run_time_ns / .run_cnt | floor)") | join(", ")')
	local bsum
	bsum=$(bpftool prog show -j | jq --argjson ids "${ids:-[]}" '[.[] | select(.id as $i | $ids | index($i))
		| select(.name | startswith("nat_")) | select(.run_cnt > 0) | .run_time_ns / .run_cnt] | add // 0 | floor')
	kill -INT $l
	wait $l
	sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	echo "  where it goes (ns per pair):"
	awk -v m="$mm" -v mr="$mmr" -v f="$mf" -v u="$mu" 'BEGIN {
		printf "    empty uprobe, malloc entry (push r12, emulated)      %6.0f\n", m - u
		printf "    empty uprobe + uretprobe, malloc                     %6.0f\n", mr - u
		printf "    empty uprobe, free entry (test rdi,rdi, stepped)     %6.0f\n", f - u }'
	echo "    leakscope BPF programs (run time per call): $bodies"
	awk -v t="$mt" -v u="$mu" -v mr="$mmr" -v b="$bsum" 'BEGIN {
		printf "    so leakscope'"'"'s free probe (je at free+3, emulated) traps for about %.0f\n", (t - u) - (mr - u) - b }'
}

bench_dump() {
	(cd tests/targets/goblock && GOTOOLCHAIN=local $go build -o "$B/goblock" .) || return 1
	local per=$(q 8334 2000) kinds=12 tp addr d1 t0 t1
	echo "goroutine dump of $((per * kinds)) blocked goroutines ($($go env GOVERSION))"
	rm -f "$B/goblock.status"
	"$B/goblock" -pre $per -post 0 -duration 300s -status "$B/goblock.status" >/dev/null 2>&1 &
	tp=$!
	while ! grep -q 'ready 1' "$B/goblock.status" 2>/dev/null; do sleep 0.05; done
	addr=$(awk '$1 == "pprof_addr" { print $2 }' "$B/goblock.status")
	local dumps=()
	for i in 1 2 3; do
		"$LS" --dump -p $tp -v -o /dev/null 2>"$B/dump.err"
		dumps+=("$(sed -n 's/.*interval 0 collected in \([0-9.]*\) ms/\1/p' "$B/dump.err")")
	done
	d1=$(printf '%s\n' "${dumps[@]}" | median)
	"$LS" -p $tp -v -o /dev/null 1 4 2>"$B/rep.err"
	"$LS" -p $tp -v --unwind-max 1000000 -o /dev/null 1 4 2>"$B/all.err"
	# The peer: the program's own debug=2 dump (which stops the world while it writes).
	local peer=()
	for i in 1 2 3; do
		t0=$(date +%s%N)
		exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}"
		printf 'GET /debug/pprof/goroutine?debug=2 HTTP/1.0\r\n\r\n' >&3
		cat <&3 >/dev/null
		exec 3<&-
		t1=$(date +%s%N)
		peer+=("$(((t1 - t0) / 1000000))")
	done
	kill $tp
	local first steady allfirst allsteady mp
	first=$(sed -n 's/.*interval 0 collected in \([0-9.]*\) ms/\1/p' "$B/rep.err")
	steady=$(sed -n 's/.*interval [2-4] collected in \([0-9.]*\) ms/\1/p' "$B/rep.err" | median)
	allfirst=$(sed -n 's/.*interval 0 collected in \([0-9.]*\) ms/\1/p' "$B/all.err")
	allsteady=$(sed -n 's/.*interval [2-4] collected in \([0-9.]*\) ms/\1/p' "$B/all.err" | median)
	mp=$(printf '%s\n' "${peer[@]}" | median)
	printf '  leakscope --dump (every stack read, median of 3) %8.1f ms, nothing stopped\n' "$d1"
	printf '  one report, --unwind-max 100 (default): first    %8.1f ms, then %.1f ms (cached)\n' "$first" "$steady"
	printf '  one report, every stack: first                   %8.1f ms, then %.1f ms (cached)\n' "$allfirst" "$allsteady"
	printf '  peer: the program'"'"'s own /debug/pprof/goroutine?debug=2 (median of 3) %d ms, its world stopped\n' "$mp"
	echo "  ratio --dump / peer: $(ratio "$d1" "$mp")"
}

# ---- Real servers under real load generators ----------------------------------
#
# One server per benchmark, on a loopback port; load runs untraced and traced (one
# mode attached for the run, leakscope with its default 5 s reports), in rounds: in
# a round an untraced run comes before and after every two traced ones, and each
# traced run is compared with the mean of the untraced runs either side of it. The
# ratio printed is the median over the rounds (range in brackets). A LOAD function
# prints "TEST REQ/S P99_MS" lines; "all" is the row's figure.

# mode_on PID SPEC: attach SPEC to PID (leakscope arguments, or @peer:LIB for the
# peer on the allocator in LIB) and return once its probes are in; 1 if it cannot
# (its message in $B/att.err). mode_off detaches.
mode_on() {
	local pid=$1 spec=$2 n=0
	if [ "${spec#@peer:}" != "$spec" ]; then
		bpftrace -p "$pid" -e "$(peer_script "${spec#@peer:}" "$pid")" >"$B/att.err" 2>&1 &
		ATT=$!
		# Attached when bpftrace holds its 9 uprobes (it says "Attaching" before).
		while [ "$n" -lt 9 ]; do
			kill -0 $ATT 2>/dev/null || { wait $ATT; return 1; }
			sleep 0.1
			n=$(bpftool perf show -j 2>/dev/null | jq "[.[] | select(.pid == $ATT)] | length")
		done
		return 0
	fi
	# shellcheck disable=SC2086
	rm -f "$B/att.err"
	"$LS" -p "$pid" -o /dev/null $spec 2>"$B/att.err" &
	ATT=$!
	until grep -q 'tracing pid' "$B/att.err" 2>/dev/null; do
		kill -0 $ATT 2>/dev/null || { wait $ATT; return 1; }
		sleep 0.05
	done
}
mode_off() {
	kill -INT $ATT
	wait $ATT 2>/dev/null
}

# cpu_load PID LOAD: LOAD's lines, and "cpu US 0": the server's own CPU time (user +
# system, /proc/PID/stat) per request in microseconds, requests = the run's overall
# rate x its wall time. Less noisy than throughput on a shared machine: what the
# probes cost the server itself, whatever else competes for the CPUs.
cpu_load() {
	local pid=$1 load=$2 c0 c1 w0 w1 out
	c0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	w0=$(date +%s.%N)
	out=$($load)
	w1=$(date +%s.%N)
	c1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	echo "$out"
	awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v w0="$w0" -v w1="$w1" \
		'$1 == "all" && $2 > 0 { printf "cpu %.3f 0\n", c / hz * 1e6 / ($2 * (w1 - w0)) }' <<<"$out"
}

# srv_rounds NAME PID LOAD LABEL=SPEC...: the rounds, into $B/NAME.runs as
# "ROUND SEQ LABEL u|t TEST REQ/S P99_MS".
srv_rounds() {
	local name=$1 pid=$2 load=$3 r i seq label spec
	shift 3
	: >"$B/$name.runs"
	for r in $(seq "$SROUNDS"); do
		seq=0
		cpu_load "$pid" $load | sed "s/^/$r $seq - u /" >>"$B/$name.runs"
		for ((i = 1; i <= $#; i++)); do
			label=${!i%%=*}
			seq=$((seq + 1))
			spec=${!i#*=}
			if mode_on "$pid" "${spec#@settle:}"; then
				# @settle: one run under load first, not measured (the creation
				# probe learns, then pauses: a session's first seconds).
				[ "${spec#@settle:}" != "$spec" ] && $load >/dev/null
				cpu_load "$pid" $load | sed "s/^/$r $seq $label t /" >>"$B/$name.runs"
				mode_off
			else
				echo "  $label: not measured: $(grep -v '^$' "$B/att.err" | tail -1)"
			fi
			if [ $((i % 2)) = 0 ] || [ $i = $# ]; then
				seq=$((seq + 1))
				cpu_load "$pid" $load | sed "s/^/$r $seq - u /" >>"$B/$name.runs"
			fi
		done
	done
}

# srv_summary NAME WORKLOAD LABEL...: a line per mode (and per test when LOAD has
# several), and the row of the final table (TABLE: WORKLOAD, column, cell).
srv_summary() {
	local name=$1 workload=$2
	shift 2
	awk -v labels="$*" -v workload="$workload" -v table="$TABLE" '
	function med(list,   n, a, i, j, t) {
		n = split(list, a, " ")
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		lo = a[1]; hi = a[n]
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{
		key = $1 SUBSEP $2 SUBSEP $5
		if ($4 == "u") { urps[key] = $6; up99[key] = $7; u_all[$5] = u_all[$5] " " $6; u_p99[$5] = u_p99[$5] " " $7 }
		else { t[NR] = $0 }
		if (!($5 in seen)) { seen[$5] = 1; tests[++ntests] = $5 }
	}
	END {
		for (nr in t) {
			split(t[nr], f, " ")
			# The untraced runs either side of it, in its round.
			b = ""; a = ""
			for (k = f[2] - 1; k >= 0 && b == ""; k--) if ((f[1], k, f[5]) in urps) b = urps[f[1], k, f[5]]
			for (k = f[2] + 1; k <= f[2] + 2 && a == ""; k++) if ((f[1], k, f[5]) in urps) a = urps[f[1], k, f[5]]
			ref = b != "" && a != "" ? (a + b) / 2 : b != "" ? b : a
			if (ref == "" || ref == 0) continue
			id = f[3] SUBSEP f[5]
			ratios[id] = ratios[id] " " f[6] / ref
			trps[id] = trps[id] " " f[6]
			tp99[id] = tp99[id] " " f[7]
		}
		nl = split(labels, L, " ")
		for (ti = 1; ti <= ntests; ti++) {
			test = tests[ti]
			if (test == "cpu")
				continue # with the "all" lines
			mu = med(u_all[test]); mup = med(u_p99[test])
			if (ntests > 2 || test != "all")
				printf "  %s\n", test
			printf "    %-12s %10.0f req/s                      p99 %7.2f ms\n", "untraced", mu, mup
			for (li = 1; li <= nl; li++) {
				id = L[li] SUBSEP test
				if (!(id in ratios)) {
					if (test == "all") printf "%s\t%s\t%s\n", workload, L[li], "n/a" >> table
					continue
				}
				r = med(ratios[id]); rlo = lo; rhi = hi
				mt = med(trps[id]); mtp = med(tp99[id])
				# The server CPU time per request, traced / untraced (higher costs more).
				cpu = ""
				if (test == "all" && (L[li] SUBSEP "cpu") in ratios) {
					c = med(ratios[L[li] SUBSEP "cpu"])
					cpu = sprintf("; server CPU/request x%.2f (%.2f-%.2f)", c, lo, hi)
				}
				printf "    %-12s %10.0f req/s  ratio %.2f (%.2f-%.2f)  p99 %7.2f ms%s\n", L[li], mt, r, rlo, rhi, mtp, cpu
				if (test == "all")
					printf "%s\t%s\t%.2f (%.2f-%.2f), p99 %.1f -> %.1f ms%s\n", workload, L[li], r, rlo, rhi, mup, mtp, cpu >> table
			}
		}
	}' "$B/$name.runs"
}

need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || { echo "  $c not installed (make bench installs it): skipped"; return 1; }
	done
}

# The library a process takes malloc from: jemalloc or tcmalloc when it maps one.
alloc_lib() {
	local l
	l=$(awk '$6 ~ /\/lib(jemalloc|tcmalloc)[^\/]*\.so/ { print $6; exit }' "/proc/$1/maps")
	[ -n "$l" ] || l=$(awk '$6 ~ /\/libc\.so\.6$/ { print $6; exit }' "/proc/$1/maps")
	echo "$l"
}

RPORT=${BENCH_REDIS_PORT:-16379}
redis_load() {
	redis-benchmark -h 127.0.0.1 -p "$RPORT" -t set,get,lpush,lpop -n "$RN" -r 100000 -c 50 \
		--csv 2>/dev/null | awk -F'"' 'NR > 1 && $2 != "" {
		print $2, $4, $14; inv += 1 / $4; n++; if ($14 > p) p = $14 }
		END { if (n) print "all", n / inv, p }'
}

bench_redis() {
	need redis-server redis-benchmark redis-cli bpftrace || return 0
	RN=$(q 20000 5000)
	redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$B" \
		--logfile "$B/redis.log" >/dev/null &
	local srv=$! lib
	until redis-cli -p "$RPORT" ping 2>/dev/null | grep -q PONG; do
		kill -0 $srv 2>/dev/null || { echo "redis: redis-server did not start ($B/redis.log)"; return 1; }
		sleep 0.1
	done
	kill -0 $srv 2>/dev/null || { echo "redis: port $RPORT is taken (BENCH_REDIS_PORT)"; return 1; }
	lib=$(alloc_lib $srv)
	echo "redis: $(redis-server --version | awk '{ print $1, $2, $3 }'), persistence off, port $RPORT;" \
		"redis-benchmark -c 50 -r 100000 -n $RN per test; $SROUNDS rounds; malloc from $lib"
	redis_load >/dev/null # warm up: the keys exist before the first measured run
	srv_rounds redis $srv redis_load exact= sampled="--mode sampled" growth="--mode growth" \
		threads="-w threads" peer="@peer:$lib"
	kill $srv
	wait $srv
	srv_summary redis "redis-server $(redis-server --version | sed 's/.*v=\([0-9.]*\).*/\1/') (jemalloc), redis-benchmark SET/GET/LPUSH/LPOP" \
		exact sampled growth threads peer
}

# wrk_load URL [HEADER]: wrk for SECS seconds, 8 connections; with
# HEADER "Connection: close" every request is a connection of its own.
WURL= WHDR=
wrk_load() {
	local h=()
	[ -n "$WHDR" ] && h=(-H "$WHDR")
	wrk -t1 -c8 -d"${SECS}s" --latency "${h[@]}" "$WURL" 2>&1 | awk '
		/Requests\/sec/ { rps = $2 }
		$1 == "99%" { v = $2; p = v ~ /us$/ ? v / 1000 : v ~ /ms$/ ? v + 0 : v * 1000 }
		END { if (rps) print "all", rps, p }'
}

NPORT=${BENCH_NGINX_PORT:-18080}
bench_nginx() {
	need nginx wrk bpftrace || return 0
	local d=$B/nginx master w lib
	mkdir -p "$d/html" "$d/tmp"
	head -c 459 /dev/zero | tr '\0' x | fold -w 76 >"$d/html/index.html" # 465 bytes
	cat >"$d/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 1000000;
	client_body_temp_path $d/tmp;
	proxy_temp_path $d/tmp;
	fastcgi_temp_path $d/tmp;
	uwsgi_temp_path $d/tmp;
	scgi_temp_path $d/tmp;
	server {
		listen 127.0.0.1:$NPORT;
		root $d/html;
	}
}
EOF
	nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" &
	master=$!
	until w=$(pgrep -P $master) && [ -n "$w" ] && wrk -t1 -c1 -d1s "http://127.0.0.1:$NPORT/" >/dev/null 2>&1; do
		kill -0 $master 2>/dev/null || { echo "nginx: did not start ($d/error.log)"; return 1; }
		sleep 0.1
	done
	lib=$(alloc_lib "$w")
	echo "nginx: $(nginx -v 2>&1 | sed 's/.*: //'), one worker (pid $w, traced), a $(stat -c %s "$d/html/index.html")-byte file, port $NPORT;" \
		"wrk -t1 -c8 ${SECS}s per run; $SROUNDS rounds"
	WURL=http://127.0.0.1:$NPORT/index.html
	echo " keep-alive"
	WHDR=
	srv_rounds nginx-ka "$w" wrk_load exact= sampled="--mode sampled" growth="--mode growth" \
		threads="-w threads" peer="@peer:$lib"
	srv_summary nginx-ka "nginx $(nginx -v 2>&1 | sed 's/.*\///'), small static file, keep-alive (wrk)" \
		exact sampled growth threads peer
	echo " one connection per request"
	WHDR="Connection: close"
	srv_rounds nginx-close "$w" wrk_load exact= sampled="--mode sampled" growth="--mode growth" \
		threads="-w threads" peer="@peer:$lib"
	srv_summary nginx-close "nginx, one connection per request" exact sampled growth threads peer
	kill $master
	wait $master
}

GPORT=${BENCH_GOHTTP_PORT:-18090}
bench_gohttp() {
	need wrk || return 0
	(cd tests/bench/gohttp && GOTOOLCHAIN=local $go build -o "$B/gohttp" . &&
		GOTOOLCHAIN=local $go build -tags pprof -o "$B/gohttp-pprof" .) || return 1
	local bin srv what
	echo "Go net/http JSON service ($($go env GOVERSION), GOMAXPROCS 2), port $GPORT; wrk -t1 -c8" \
		"${SECS}s per run; $SROUNDS rounds"
	WURL="http://127.0.0.1:$GPORT/item?id=42"
	for bin in gohttp gohttp-pprof; do
		what="pprof not linked"
		[ $bin = gohttp-pprof ] && what="pprof linked"
		rm -f "$B/gohttp.ready"
		"$B/$bin" -addr "127.0.0.1:$GPORT" >"$B/gohttp.ready" 2>"$B/gohttp.err" &
		srv=$!
		until grep -q ready "$B/gohttp.ready" 2>/dev/null; do
			kill -0 $srv 2>/dev/null || { cat "$B/gohttp.err"; return 1; }
			sleep 0.05
		done
		WHDR=
		wrk_load >/dev/null # warm up
		echo " keep-alive, $what"
		srv_rounds "$bin-ka" $srv wrk_load go-default=@settle: go-learning= \
			probe-on="--creation-probe on" goroutines="@settle:-w goroutines" \
			go-heap="-w go-heap" go-alloc="-w go-alloc" alloc-999="-w go-alloc --sample-hz 999" \
			threads="-w threads"
		srv_summary "$bin-ka" "Go net/http JSON service, keep-alive, $what" \
			go-default go-learning probe-on goroutines go-heap go-alloc alloc-999 threads
		echo " one connection per request, $what"
		WHDR="Connection: close"
		srv_rounds "$bin-close" $srv wrk_load go-default=@settle: probe-on="--creation-probe on"
		srv_summary "$bin-close" "same, one connection per request, $what" go-default probe-on
		kill $srv
		wait $srv 2>/dev/null
	done
}

# ---- The tracer at scale -------------------------------------------------------
#
# What one report costs leakscope itself when the target is big: time to collect
# (drain the maps, read new stacks) and to write (symbolize, rank, print), its CPU
# over the interval, its RSS and the BPF maps, from its -v lines (goals: a report
# <= 200 ms, RSS <= 200 MB, attach <= 1 s). Wall times on a loaded machine stretch
# with the load; the CPU column does not.

# scale_reports FILE: a line per report from leakscope -v's lines in FILE.
scale_reports() {
	awk '
	/ attach: the target/ { attach = $0; sub(/.*attach: /, "", attach) }
	/ms after leakscope started/ { for (i = 1; i <= NF; i++) if ($i == "tracing") t = $(i + 1) }
	/interval [0-9]+ collected in/ { for (i = 1; i <= NF; i++) if ($i == "interval") iv = $(i + 1); c = $(NF - 1) }
	/report written in/ { w = $(NF - 1) }
	/leakscope itself/ {
		for (i = 1; i <= NF; i++) if ($i == "CPU") cpu = $(i + 1) + $(i + 5); else if ($i == "RSS") j = i; else if ($i == "system") k = i
		rss = $(j + 1); peak = $(j + 4); bpf = $(j + 8); wait = substr($(k + 1), 2)
		if ($0 ~ /at attach/)
			printf "    attach: tracing %.0f ms after start (%s); leakscope CPU %.2f s, RSS %.1f MiB (peak %.1f), BPF maps %.1f MiB\n", t, attach, cpu, rss, peak, bpf
		else if ($0 ~ /after this report/)
			printf "    report %d: collect %7.1f ms + write %7.1f ms = %7.1f ms wall, leakscope CPU %.2f s (+%.2f s waiting for a CPU); RSS %.1f MiB (peak %.1f), BPF maps %.1f MiB\n", iv, c, w, c + w, cpu - lastcpu, wait - lastwait, rss, peak, bpf
		else
			printf "    summary: write %.1f ms; RSS %.1f MiB (peak %.1f), BPF maps %.1f MiB\n", w, rss, peak, bpf
		lastcpu = cpu; lastwait = wait
	}' "$1"
}

# scale_trace PID NAME ARGS...: leakscope -v ARGS on PID, in the background; returns
# once it traces (sets ATT).
scale_trace() {
	local pid=$1 name=$2
	shift 2
	rm -f "$B/$name.err"
	"$LS" -p "$pid" -v -o "$B/$name.out" "$@" 2>"$B/$name.err" &
	ATT=$!
	until grep -q 'tracing pid' "$B/$name.err" 2>/dev/null; do
		kill -0 $ATT 2>/dev/null || { cat "$B/$name.err"; return 1; }
		sleep 0.05
	done
}

SIV=$(q 10 5)
# Native: n blocks from n distinct stacks, allocated once attached.
bench_scale_native() {
	local n iv=$SIV t top
	n=$(q 100000 20000)
	gcc -O0 -fno-omit-frame-pointer -o "$B/manystacks" tests/bench/manystacks/manystacks.c || return 1
	for top in 10 0; do
		rm -f "$B/ms.done"
		rm -f "$B/ready" # else the last run's may be read before this one truncates it
		"$B/manystacks" -n "$n" -out "$B/ms.done" >"$B/ready" &
		t=$!
		while ! grep -q ready "$B/ready" 2>/dev/null; do sleep 0.02; done
		scale_trace $t scale-native --max-stacks 262144 -T $top "$iv" 3 || { kill $t; return 1; }
		kill -USR1 $t
		wait $ATT
		echo "native heap, $n live blocks from $n distinct stacks (tests/bench/manystacks), -T $top," \
			"reports every ${iv}s, $(grep -c '' "$B/scale-native.out") lines printed:"
		[ -s "$B/ms.done" ] || echo "    (the target had not allocated all of them: $(cat "$B/ms.done" 2>/dev/null))"
		scale_reports "$B/scale-native.err"
		kill $t
		wait $t 2>/dev/null
	done
}

# Go: a million goroutines blocked for good, half there before attach (read from the
# runtime at attach) and half created once attached (each through the creation
# probe, with its full creation stack).
bench_scale_go() {
	local per iv=$SIV t
	(cd tests/targets/goblock && GOTOOLCHAIN=local $go build -o "$B/goblock" .) || return 1
	per=$(q 41667 2000)
	rm -f "$B/goblock.status"
	"$B/goblock" -pre $per -post $per -duration 3600s -status "$B/goblock.status" >/dev/null 2>&1 &
	t=$!
	while ! grep -q 'ready 1' "$B/goblock.status" 2>/dev/null; do sleep 0.1; done
	scale_trace $t scale-go "$iv" 3 || { kill $t; return 1; }
	kill -USR1 $t
	wait $ATT
	echo "goroutines, $((per * 12)) blocked at attach and $((per * 12)) more created once attached" \
		"(tests/targets/goblock, $($go env GOVERSION)), reports every ${iv}s; target RSS" \
		"$(awk '/VmRSS/ { printf "%.0f MiB", $2 / 1024 }' /proc/$t/status):"
	grep -q 'phase done' "$B/goblock.status" || echo "    (the target had not started all of them)"
	scale_reports "$B/scale-go.err"
	kill $t
	wait $t 2>/dev/null
}

# Attach to a big Go binary: PACKAGES x FUNCS generated functions and much of the
# standard library (tests/bench/gobig/gen.sh), built once and kept.
bench_scale_attach() {
	local np nf stamp size pcln t
	np=$(q 80 10) nf=2000
	stamp="$np $nf $(md5sum <tests/bench/gobig/gen.sh) $($go env GOVERSION)"
	if [ "$(cat "$B/gobig.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -x "$B/gobig" ]; then
		echo "building the big Go binary ($np packages x $nf functions; minutes, once)"
		rm -rf "$B/gobig.src"
		tests/bench/gobig/gen.sh "$B/gobig.src" $np $nf &&
			(cd "$B/gobig.src" && GOTOOLCHAIN=local $go build -o "$B/gobig" .) || return 1
		echo "$stamp" >"$B/gobig.stamp"
	fi
	size=$(stat -c %s "$B/gobig")
	pcln=$(readelf -SW "$B/gobig" | sed -n 's/.* \.gopclntab *PROGBITS *[0-9a-f]* [0-9a-f]* \([0-9a-f]*\) .*/\1/p')
	rm -f "$B/ready" # else the last run's may be read before this one truncates it
	"$B/gobig" >"$B/ready" &
	t=$!
	while ! grep -q ready "$B/ready" 2>/dev/null; do sleep 0.02; done
	echo "attach to a $((size / 1000000)) MB Go binary ($((np * nf)) generated functions;" \
		".gopclntab $((16#${pcln:-0} / 1000000)) MB), 3 times:"
	for i in 1 2 3; do
		scale_trace $t scale-attach 1 1 || { kill $t; return 1; }
		wait $ATT
		scale_reports "$B/scale-attach.err" | grep attach:
	done
	kill $t
	wait $t 2>/dev/null
}

bench_scale() {
	bench_scale_native
	bench_scale_go
	bench_scale_attach
}

# The table of every server row measured in this run (README, "Overhead").
print_table() {
	[ -s "$TABLE" ] || return 0
	echo
	echo "overhead under real load: throughput traced / untraced, median of $SROUNDS rounds (range), p99 untraced -> traced;" \
		"the server's own CPU time per request traced / untraced (x, from /proc/PID/stat)"
	awk -F'\t' '
	BEGIN {
		nc = split("exact sampled growth go-default go-learning probe-on peer threads goroutines go-heap go-alloc alloc-999", col, " ")
		split("exact mode|--mode sampled|--mode growth|Go views (default)|same, first seconds (learning)|--creation-probe on|memleak-style peer (bpftrace)|-w threads|-w goroutines|-w go-heap|-w go-alloc|-w go-alloc --sample-hz 999", head, "|")
	}
	{ if (!($1 in seen)) { seen[$1] = 1; rows[++nr] = $1 } cell[$1, $2] = $3; used[$2] = 1 }
	END {
		line = "| workload |"; sep = "|---|"
		for (c = 1; c <= nc; c++) if (col[c] in used) { line = line " " head[c] " |"; sep = sep "---|" }
		print line; print sep
		for (r = 1; r <= nr; r++) {
			line = "| " rows[r] " |"
			for (c = 1; c <= nc; c++) if (col[c] in used) line = line " " cell[rows[r], col[c]] " |"
			print line
		}
	}' "$TABLE"
}

names=${*:-goroutines goheap native dump redis nginx gohttp scale}
: >"$TABLE"
for name in $names; do
	case $name in
	goroutines | goheap | native | dump | redis | nginx | gohttp | scale | scale-native | scale-go | \
		scale-attach) "bench_${name//-/_}" ;;
	*)
		echo "unknown benchmark $name (goroutines goheap native dump redis nginx gohttp" \
			"scale = scale-native scale-go scale-attach)" >&2
		exit 2
		;;
	esac
done
print_table
