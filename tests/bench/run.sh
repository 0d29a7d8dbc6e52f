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
	local n=500000 u=() t=() r=()
	echo "goroutine create+exit ($n goroutines per run, $ROUNDS rounds, $($go env GOVERSION))"
	for i in $(seq "$ROUNDS"); do
		"$B/gospawn" -n $n -out "$B/u" && u+=("$(cat "$B/u")")
		traced_run X=1 -- -- "$B/gospawn" -n $n -wait -out "$B/t" && t+=("$(cat "$B/t")")
		traced_run LEAKSCOPE_GO_CREATE_PROBE=ret -- -- "$B/gospawn" -n $n -wait -out "$B/r" &&
			r+=("$(cat "$B/r")")
	done
	local mu mt mr
	mu=$(printf '%s\n' "${u[@]}" | median)
	mt=$(printf '%s\n' "${t[@]}" | median)
	mr=$(printf '%s\n' "${r[@]}" | median)
	printf '  untraced                                %8.1f ns/goroutine\n' "$mu"
	printf '  leakscope (probe on call runqput, emulated) %4.1f ns/goroutine  ratio %s\n' "$mt" "$(ratio "$mt" "$mu")"
	printf '  same, probe on newproc1 RET (stepped)   %8.1f ns/goroutine  ratio %s\n' "$mr" "$(ratio "$mr" "$mu")"
	echo "  added cost per goroutine: $(awk -v a="$mt" -v b="$mu" 'BEGIN{printf "%.0f", a-b}') ns (emulated) vs $(awk -v a="$mr" -v b="$mu" 'BEGIN{printf "%.0f", a-b}') ns (stepped); exits cost nothing (read from runtime.allgs)"
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

only=${1:-all}
case $only in all | goroutines) bench_goroutines ;; esac
case $only in all | goheap) bench_goheap ;; esac
