#!/bin/bash
# make soak: leakscope against churning targets for SOAK_SECONDS (default 600):
# a Go service creating and ending goroutines (tests/targets/goleak -leak 0) and a
# C service churning malloc/free and threads (tests/targets/cservice). Every 30 s it
# prints each leakscope's anonymous resident memory and the BPF map memory it holds;
# both must level off
# after the first minutes (1 s reports: the series fill their SERIES_KEEP samples in
# about two). Not part of make test (it takes ten minutes).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
LS=${LEAKSCOPE:-$ROOT/build/leakscope}
B=$ROOT/build/soak
SECS=${SOAK_SECONDS:-600}
mkdir -p "$B"
go=go
command -v go >/dev/null 2>&1 || go=/usr/lib/go-1.19/bin/go
(cd tests/targets/goleak && GOTOOLCHAIN=local $go build -o "$B/goleak" .) || exit 1
gcc -O2 -g -fno-omit-frame-pointer -pthread -o "$B/cservice" tests/targets/cservice/cservice.c || exit 1

# Anonymous resident memory: what leakscope holds (its heap, its maps' copies), not the
# pages of its own file it happens to have touched.
rss_kib() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
bpf_kib() {
	local t=0 m f
	for f in /proc/"$1"/fdinfo/*; do
		m=$(awk '/^memlock:/ { print $2 }' "$f" 2>/dev/null)
		[ -n "$m" ] && grep -q '^map_type' "$f" 2>/dev/null && t=$((t + m))
	done
	echo $((t / 1024))
}

"$B/goleak" -pre 0 -leak 0 -churn 5000 -duration $((SECS + 60))s -status "$B/goleak.status" >/dev/null 2>&1 &
gt=$!
"$B/cservice" -duration $((SECS + 60)) >/dev/null 2>&1 &
ct=$!
trap 'kill $gt $ct $gl $cl 2>/dev/null' EXIT
sleep 1
"$LS" --suspects off -p $gt -o /dev/null --duration ${SECS}s 1 2>"$B/go.err" &
gl=$!
"$LS" --suspects off -p $ct -o /dev/null --duration ${SECS}s 1 2>"$B/c.err" &
cl=$!
echo "soak: ${SECS}s; leakscope on a Go goroutine churn (5000/s) and a C malloc/thread churn"
printf '%6s  %12s %12s  %12s %12s\n' "t (s)" "Go anon KiB" "Go BPF KiB" "C anon KiB" "C BPF KiB"
t0=$SECONDS
first=
while kill -0 $gl 2>/dev/null || kill -0 $cl 2>/dev/null; do
	sleep 30
	kill -0 $gl 2>/dev/null || kill -0 $cl 2>/dev/null || break # both ended meanwhile
	t=$((SECONDS - t0))
	line=$(printf '%6d  %12s %12s  %12s %12s' $t "$(rss_kib $gl)" "$(bpf_kib $gl)" "$(rss_kib $cl)" "$(bpf_kib $cl)")
	echo "$line"
	[ $t -ge 120 ] && [ -z "$first" ] && first=$line
	last=$line
done
echo "after 2 minutes: ${first:-n/a}"
echo "at the end:      ${last:-n/a}"
if [ -n "$first" ] && [ -n "$last" ]; then
	read -r t1 g1 _ c1 _ <<<"$first"
	read -r t2 g2 _ c2 _ <<<"$last"
	[ "$t2" -gt "$t1" ] && echo "anonymous memory growth after 2 minutes: Go $(((g2 - g1) * 60 / (t2 - t1))) KiB/min," \
		"C $(((c2 - c1) * 60 / (t2 - t1))) KiB/min"
fi
