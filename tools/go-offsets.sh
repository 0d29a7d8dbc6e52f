#!/bin/bash
# Print the user/golang/offsets.c table row for a Go release, read from the DWARF of a
# program built with that release, and say how it differs from the row already there.
#
#   tools/go-offsets.sh go1.27.0            toolchain fetched by the go command (GOTOOLCHAIN)
#   tools/go-offsets.sh /usr/lib/go-1.19/bin/go   a go command at hand
#   tools/go-offsets.sh local               the go on PATH
#
# Exit status: 0 row printed (same as the table's, or no row yet), 3 the table's row
# differs, 1 build or DWARF failure, 2 usage.
set -euo pipefail

if [ $# -ne 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
	sed -n '2,10s/^# \{0,1\}//p' "$0"
	exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
tc=$1
tmp=$(mktemp -d /tmp/go-offsets.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ -x "$tc" ] && [ "${tc#*/}" != "$tc" ]; then
	gocmd=("$tc")
	export GOTOOLCHAIN=local
else
	gocmd=(go)
	export GOTOOLCHAIN=$tc
fi

# A program that allocates, starts a goroutine and collects: every runtime type the
# table needs is linked into any Go program, so it can stay this small.
mkdir -p "$tmp/prog"
cat >"$tmp/prog/go.mod" <<'GO'
module offsetsprobe

go 1.19
GO
cat >"$tmp/prog/main.go" <<'GO'
package main

import (
	"fmt"
	"runtime"
)

var sink [][]byte

func main() {
	done := make(chan bool)
	go func() {
		sink = append(sink, make([]byte, 1<<20))
		done <- true
	}()
	<-done
	runtime.GC()
	fmt.Println(len(sink))
}
GO
if ! (cd "$tmp/prog" && GOFLAGS= "${gocmd[@]}" build -o "$tmp/probe" .) >"$tmp/build.log" 2>&1; then
	echo "go-offsets: building with $tc failed:" >&2
	cat "$tmp/build.log" >&2
	exit 1
fi
version=$("${gocmd[@]}" version "$tmp/probe" | awk '{ print $2 }')
case $version in
go1.*) ;;
*) echo "go-offsets: cannot tell the Go version of the probe ($version)" >&2; exit 1 ;;
esac

${CC:-cc} -std=gnu11 -O2 -D_GNU_SOURCE -I"$root/user" "$root/tools/go-offsets-dump.c" \
	"$root/user/golang/offsets.c" -ldw -lelf -lz -o "$tmp/dump"
"$tmp/dump" "$tmp/probe" "$version"
