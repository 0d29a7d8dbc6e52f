#!/bin/bash
# The go_offsets table against the DWARF of programs built with every Go release at hand:
# for each toolchain, build a small program (plain, PIE, and stripped PIE) and run
# build/unit/test_go_offsets on it. Toolchains the module proxy cannot deliver are skipped.
#
#   LEAKSCOPE_GO_OFFSETS_VERSIONS  releases fetched with GOTOOLCHAIN (default: one per minor)
set -u
cd "$(dirname "$0")/../.."
if [ -f tests/lib/testlib.sh ]; then
	. tests/lib/testlib.sh
else
	: "${LEAKSCOPE_BUILD:=build}"
	_tl_failed=0
	pass() { printf '  PASS  %s\n' "$1"; }
	fail() { printf '  FAIL  %s: %s\n' "$1" "${*:2}"; _tl_failed=1; }
	skip() { printf '  SKIP  %s: %s\n' "$1" "${*:2}"; }
	testlib_status() { return $_tl_failed; }
fi
: "${LEAKSCOPE_GO_OFFSETS_VERSIONS=go1.20.14 go1.21.13 go1.22.12 go1.23.12 go1.24.11 go1.25.4 go1.27.3}"

test_bin=$LEAKSCOPE_BUILD/unit/test_go_offsets
work=$LEAKSCOPE_BUILD/go_offsets
if [ ! -x "$test_bin" ]; then
	fail go_offsets "$test_bin missing (make unit)"
	testlib_status
	exit
fi

mkdir -p "$work/src"
cat >"$work/src/go.mod" <<'GO'
module gooffsets

go 1.19
GO
cat >"$work/src/main.go" <<'GO'
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

# toolchains: "NAME GOCMD..." lines.
toolchains() {
	[ -x /usr/lib/go-1.19/bin/go ] && echo "go1.19 env GOTOOLCHAIN=local /usr/lib/go-1.19/bin/go"
	command -v go >/dev/null 2>&1 || return 0
	echo "local env GOTOOLCHAIN=local go"
	local v
	for v in $LEAKSCOPE_GO_OFFSETS_VERSIONS; do
		echo "$v env GOTOOLCHAIN=$v go"
	done
}

while read -r name gocmd; do
	# shellcheck disable=SC2206
	cmd=($gocmd)
	out=$work/$name
	mkdir -p "$out"
	if [ ! -x "$out/plain" ] || [ ! -x "$out/pie" ] || [ ! -x "$out/stripped-pie" ]; then
		# First use of a GOTOOLCHAIN release downloads it; a failure here means "not at hand".
		if ! (cd "$work/src" && timeout 600 "${cmd[@]}" version) >"$out/build.log" 2>&1; then
			skip "go_offsets $name" "toolchain not available ($(tail -1 "$out/build.log"))"
			continue
		fi
		if ! (cd "$work/src" &&
			"${cmd[@]}" build -o "$out/plain" . &&
			"${cmd[@]}" build -buildmode=pie -o "$out/pie" . &&
			"${cmd[@]}" build -buildmode=pie -ldflags='-s -w' -o "$out/stripped-pie" .) \
			>>"$out/build.log" 2>&1; then
			fail "go_offsets $name" "build failed: $(tail -1 "$out/build.log")"
			continue
		fi
	fi
	version=$("${cmd[@]}" version "$out/plain" 2>/dev/null | awk '{ print $2 }')
	minor=$(echo "$version" | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
	if [ -z "$minor" ]; then
		fail "go_offsets $name" "cannot read the Go version of $out/plain"
		continue
	fi
	for flavor in plain pie stripped-pie; do
		args=("$out/$flavor" "$minor")
		[ $flavor = stripped-pie ] && args+=(--no-dwarf)
		if res=$("$test_bin" "${args[@]}" 2>&1); then
			pass "go_offsets $version $flavor"
		else
			fail "go_offsets $version $flavor" "$(echo "$res" | tr -s ' ' | tr '\n' ';')"
		fi
	done
done < <(toolchains)

testlib_status
