#!/bin/bash
# Growth mode on a real jemalloc server: Debian's redis-server under redis-benchmark.
#   1. steady: after a warm-up (the keyspace full), a 60 s session of --mode growth
#      must end without a suspect (exit 0), with growth stacks netting little and
#      releases seen (jemalloc gives memory back with madvise);
#   2. overhead (informative, noisy shared VMs): redis-benchmark throughput untraced
#      and under --mode growth, ROUNDS interleaved pairs, ratio traced/untraced.
# Usage: tests/bench/growth_redis.sh [ROUNDS]   (LEAKSCOPE: the binary to use)
# Needs redis-server and redis-tools (apt-get install redis-server redis-tools).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LEAKSCOPE=${LEAKSCOPE:-$ROOT/build/leakscope}
ROUNDS=${1:-3}
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server redis-tools >/dev/null
tmp=$(mktemp -d /tmp/leakscope-growth-redis.XXXXXX)
sock=$tmp/redis.sock
rp=
cleanup() {
	[ -n "$rp" ] && kill "$rp" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
redis-server --port 0 --unixsocket "$sock" --save '' --appendonly no >"$tmp/redis.log" 2>&1 &
rp=$!
for _ in $(seq 50); do redis-cli -s "$sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
B=(redis-benchmark -s "$sock" -q -n 400000 -t set,get,lpush,lpop -r 10000 -c 20)
"${B[@]}" >/dev/null 2>&1 # warm-up: every key set, lists at their size

# requests/s summed over the four tests of one benchmark run
rps() { "${B[@]/#400000/100000}" 2>/dev/null | tr '\r' '\n' | awk '/requests per second/ {s += $2} END {print s}'; }

echo "== steady redis, 60 s of --mode growth"
timeout 62 bash -c "while :; do ${B[*]} >/dev/null 2>&1; done" &
load=$!
"$LEAKSCOPE" --mode growth --json -T 0 -p $rp 10 6 >"$tmp/g.json" 2>"$tmp/g.err"
rc=$?
wait $load 2>/dev/null
net=$(jq -s 'map(select(.type=="stack" and .final and .view=="native-growth") | .net_bytes) | add // 0' "$tmp/g.json")
freed=$(jq -s 'map(select(.type=="stack" and .final and .view=="native-growth") | .freed_bytes) | add // 0' "$tmp/g.json")
sus=$(jq -s 'map(select(.type=="suspect" and .view=="native-growth")) | length' "$tmp/g.json")
echo "exit $rc, suspects $sus, growth net $net bytes, released $freed bytes"
jq -rs '[.[] | select(.type=="interval")] | last | .["native-growth"].note' "$tmp/g.json"
verdict=ok
[ "$rc" = 0 ] && [ "$sus" = 0 ] && [ "$freed" -gt 0 ] && [ "$net" -le $((1 << 20)) ] || verdict=FAILED
echo "steady redis: $verdict"

echo "== overhead: redis-benchmark requests/s, untraced vs --mode growth, $ROUNDS pairs"
for r in $(seq "$ROUNDS"); do
	u=$(rps)
	"$LEAKSCOPE" --mode growth -p $rp >/dev/null 2>&1 &
	l=$!
	sleep 3
	t=$(rps)
	kill -INT $l
	wait $l 2>/dev/null
	awk -v u="$u" -v t="$t" -v r="$r" 'BEGIN { printf "pair %d: untraced %.0f, growth %.0f, ratio %.2f\n", r, u, t, t / u }'
done
[ "$verdict" = ok ]
