#!/bin/bash
# make bench: overhead, measured as ratios taken in one run (untraced and traced
# runs interleaved, medians of each). Timings are printed, never asserted.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
LS=$ROOT/build/leakscope
B=$ROOT/build/bench
mkdir -p "$B"
ROUNDS=${BENCH_ROUNDS:-5}
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
	"$@" >"$B/ready" &
	local t=$!
	while ! grep -q ready "$B/ready" 2>/dev/null; do sleep 0.02; done
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
	local n=500000 u=() t=()
	echo "goroutine create+exit ($n goroutines per run, $ROUNDS rounds, $($go env GOVERSION))"
	for i in $(seq "$ROUNDS"); do
		"$B/gospawn" -n $n -out "$B/u" && u+=("$(cat "$B/u")")
		traced_run X=1 -- -- "$B/gospawn" -n $n -wait -out "$B/t" && t+=("$(cat "$B/t")")
	done
	local mu mt
	mu=$(printf '%s\n' "${u[@]}" | median)
	mt=$(printf '%s\n' "${t[@]}" | median)
	printf '  untraced                                %8.1f ns/goroutine\n' "$mu"
	printf '  leakscope (probe on call runqput, emulated) %4.1f ns/goroutine  ratio %s\n' "$mt" "$(ratio "$mt" "$mu")"
	echo "  added cost per goroutine: $(awk -v a="$mt" -v b="$mu" 'BEGIN{printf "%.0f", a-b}') ns; exits cost nothing (read from runtime.allgs)"
}

bench_goheap() {
	(cd tests/bench/goalloc && GOTOOLCHAIN=local $go build -o "$B/goalloc" . &&
		GOTOOLCHAIN=local $go build -tags pprof -o "$B/goalloc-pprof" .) || return 1
	local n=${GOALLOC_N:-60000000} up=() tp=() un=() tn=() tn5=()
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
	printf '  heap profiling off (fallback):     untraced %6.2f ns/alloc, leakscope %6.2f  ratio %s (sampler 999 Hz)\n' \
		"$mun" "$mtn" "$(ratio "$mtn" "$mun")"
	printf '                                                                  %6.2f  ratio %s (sampler 4999 Hz)\n' \
		"$mtn5" "$(ratio "$mtn5" "$mun")"
}

# bpftrace_run SCRIPT -- CMD...: run CMD (prints "ready", waits for SIGUSR1) with the
# bpftrace SCRIPT attached to it (-p), start it once the probes are in, wait for it.
bpftrace_run() {
	local script=$1
	shift 2
	"$@" >"$B/ready" &
	local t=$!
	while ! grep -q ready "$B/ready" 2>/dev/null; do sleep 0.02; done
	bpftrace -p $t -e "$script" >"$B/bt.out" 2>&1 &
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
# under the peer, a bpftrace script doing what BCC's memleak does: entry and return
# probe on malloc (pending size by thread, then address -> size, time, user stack),
# entry probe on free (delete). Then where the cost goes: empty probes (bpftrace) and
# leakscope's own BPF programs (one more run, with kernel.bpf_stats_enabled).
bench_native() {
	command -v bpftrace >/dev/null || { echo "native: bpftrace not installed, skipped"; return 0; }
	gcc -O2 -fno-omit-frame-pointer -o "$B/mallocpairs" tests/bench/mallocpairs/mallocpairs.c ||
		return 1
	# Short runs where each pair costs microseconds; long ones to see a few percent.
	local libc n=200000 nfast=20000000 u=() t=() g=() p=() e_m=() e_mr=() e_f=()
	libc=$(ldd "$B/mallocpairs" | awk '$1 == "libc.so.6" { print $3 }')
	local peer="uprobe:$libc:malloc { @size[tid] = arg0; }
uretprobe:$libc:malloc /@size[tid]/ { @allocs[retval] = (@size[tid], nsecs, ustack); delete(@size[tid]); }
uprobe:$libc:free { delete(@allocs[arg0]); }"
	local mp=("$B/mallocpairs" -n $n -wait -out "$B/t")
	echo "native malloc+free pairs ($n per traced run, $nfast untraced/growth, $ROUNDS rounds, $libc)"
	for i in $(seq "$ROUNDS"); do
		"$B/mallocpairs" -n $nfast -out "$B/u" >/dev/null && u+=("$(cat "$B/u")")
		traced_run X=1 -- -- "${mp[@]}" && t+=("$(cat "$B/t")")
		bpftrace_run "$peer" -- "${mp[@]}" && p+=("$(cat "$B/t")")
		traced_run X=1 -- --mode growth -- "$B/mallocpairs" -n $nfast -wait -out "$B/t" &&
			g+=("$(cat "$B/t")")
		bpftrace_run "uprobe:$libc:malloc {}" -- "${mp[@]}" && e_m+=("$(cat "$B/t")")
		bpftrace_run "uprobe:$libc:malloc {} uretprobe:$libc:malloc {}" -- "${mp[@]}" &&
			e_mr+=("$(cat "$B/t")")
		bpftrace_run "uprobe:$libc:free {}" -- "${mp[@]}" && e_f+=("$(cat "$B/t")")
	done
	local mu mt mpe mg mm mmr mf
	mu=$(printf '%s\n' "${u[@]}" | median)
	mt=$(printf '%s\n' "${t[@]}" | median)
	mpe=$(printf '%s\n' "${p[@]}" | median)
	mg=$(printf '%s\n' "${g[@]}" | median)
	mm=$(printf '%s\n' "${e_m[@]}" | median)
	mmr=$(printf '%s\n' "${e_mr[@]}" | median)
	mf=$(printf '%s\n' "${e_f[@]}" | median)
	printf '  untraced                                 %8.1f ns/pair\n' "$mu"
	printf '  leakscope (exact)                        %8.1f ns/pair  ratio %s\n' "$mt" "$(ratio "$mt" "$mu")"
	printf '  peer: bpftrace doing what memleak does   %8.1f ns/pair  ratio %s\n' "$mpe" "$(ratio "$mpe" "$mu")"
	printf '  leakscope --mode growth                  %8.1f ns/pair  ratio %s\n' "$mg" "$(ratio "$mg" "$mu")"
	awk -v t="$mt" -v p="$mpe" -v u="$mu" 'BEGIN { printf "  added cost per pair: leakscope %.0f ns, peer %.0f ns; added cost ours/peer %.2f\n", t - u, p - u, (t - u) / (p - u) }'

	# One more leakscope run with BPF run-time accounting on.
	local stats_was bodies
	stats_was=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
	"${mp[@]}" >"$B/ready" &
	local tp=$!
	while ! grep -q ready "$B/ready" 2>/dev/null; do sleep 0.02; done
	"$LS" -p $tp -o /dev/null 1 2>"$B/ls.err" &
	local l=$!
	while ! grep -q 'tracing pid' "$B/ls.err" 2>/dev/null; do sleep 0.02; done
	kill -USR1 $tp
	wait $tp
	bodies=$(bpftool prog show -j | jq -r '[.[] | select(.name | startswith("nat_")) | select(.run_cnt > 0)] |
		map("\(.name) \(.run_time_ns / .run_cnt | floor)") | join(", ")')
	local bsum
	bsum=$(bpftool prog show -j | jq '[.[] | select(.name | startswith("nat_")) | select(.run_cnt > 0) | .run_time_ns / .run_cnt] | add | floor')
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
	local per=8334 kinds=12 tp addr d1 t0 t1
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

only=${1:-all}
case $only in all | goroutines) bench_goroutines ;; esac
case $only in all | goheap) bench_goheap ;; esac
case $only in all | native) bench_native ;; esac
case $only in all | dump) bench_dump ;; esac
