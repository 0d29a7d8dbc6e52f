#!/bin/bash
# make demo: build the bundled leaking service (tests/targets/demo), start it, and
# trace it with leakscope: 4 reports, 3 seconds apart, then the session summary, then
# a goroutine dump.
set -eu
cd "$(dirname "$0")/.."
build=$PWD/build
go=go
command -v go >/dev/null 2>&1 || go=/usr/lib/go-1.19/bin/go
mkdir -p "$build/demo"
(cd tests/targets/demo && GOTOOLCHAIN=local $go build -o "$build/demo/order-service" .)

# GOGC=25: more GC cycles in a short demo, so the heap trend has points.
GOGC=25 "$build/demo/order-service" -rate 200 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
sleep 1
echo
echo "$ leakscope -p $pid 3 4"
"$build/leakscope" -p $pid 3 4 || [ $? = 7 ]
echo
echo "The SUSPECTS lines (from the third report on) name the two leaks; the rows under"
echo "each view give the detail: main.handleOrder.func1's goroutines stuck in 'chan send',"
echo "receipts kept by main.rememberReceipt. leakscope exits 7 when a suspect remains."
echo
echo "$ leakscope --dump -p $pid -T 2"
"$build/leakscope" --dump -p $pid -T 2
echo
echo "The dump: where each go statement's goroutines stand now and for how long; the"
echo "leaked ones all wait in 'chan send' at main.handleOrder.func1 main.go:71."
echo "Machine-readable: $build/leakscope --json -p PID 3 4 (and --dump --json)"
