#!/bin/bash
# The .gopclntab reader against the Go runtime itself: builds tests/targets/pcln with every Go
# toolchain at hand, in each flavour (default, stripped, PIE, and externally linked when a C
# linker works), runs it to get the runtime's own view of its pcs (the oracle), and checks
# build/unit/test_gopclntab against that. One result per toolchain x flavour.
#
#   LEAKSCOPE_PCLN_GO_EXTRA  releases fetched with GOTOOLCHAIN (default: go1.22.12 go1.24.11);
#                            a release the module proxy cannot deliver is skipped.
set -u
cd "$(dirname "$0")/../.."
root=$PWD
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
# Older testlib.sh versions may lack skip: a skipped toolchain is not a failure.
type skip >/dev/null 2>&1 || skip() { printf '  SKIP  %s: %s\n' "$1" "${*:2}"; }
: "${LEAKSCOPE_PCLN_GO_EXTRA=go1.22.12 go1.24.11}"

build=$LEAKSCOPE_BUILD
case $build in /*) ;; *) build=$root/$build ;; esac
test_bin=$build/unit/test_gopclntab
src=$root/tests/targets/pcln
if [ ! -x "$test_bin" ]; then
	fail gopclntab "$test_bin missing (make unit)"
	testlib_status
	exit
fi

# "GOVERSION GOCMD..." lines, one per working toolchain; "- RELEASE" for one unavailable.
toolchains() {
	local v
	if command -v go >/dev/null 2>&1 && v=$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null); then
		echo "$v env GOTOOLCHAIN=local go"
	fi
	if [ -x /usr/lib/go-1.19/bin/go ] &&
		v=$(GOTOOLCHAIN=local /usr/lib/go-1.19/bin/go env GOVERSION 2>/dev/null); then
		echo "$v env GOTOOLCHAIN=local /usr/lib/go-1.19/bin/go"
	fi
	command -v go >/dev/null 2>&1 || return 0
	for v in $LEAKSCOPE_PCLN_GO_EXTRA; do
		# The first use downloads the release from the module proxy (~70 MB).
		if (cd /tmp && GOTOOLCHAIN=$v timeout 300 go version) >/dev/null 2>&1; then
			echo "$v env GOTOOLCHAIN=$v go"
		else
			echo "- $v"
		fi
	done
}

# check_one VERSION FLAVOUR GOCMD...
check_one() {
	local version=$1 flavour=$2 name="gopclntab $1 $2"
	shift 2
	local dir=$build/targets/pcln/$version
	local bin=$dir/pcln-$flavour
	local args=()
	case $flavour in
	default) ;;
	stripped) args=(-ldflags=-s\ -w) ;;
	pie) args=(-buildmode=pie) ;;
	external) args=(-ldflags=-linkmode=external\ -s\ -w) ;;
	esac
	mkdir -p "$dir"
	if ! (cd "$src" && "$@" build "${args[@]}" -o "$bin" .) >"$bin.build.log" 2>&1; then
		if [ "$flavour" = external ]; then
			# Needs a working C toolchain; the other flavours do not.
			skip "$name" "cannot link externally: $(tail -n 1 "$bin.build.log")"
		else
			fail "$name" "build failed: $(tail -n 1 "$bin.build.log")"
		fi
		return
	fi
	if ! "$bin" >"$bin.oracle" 2>"$bin.oracle.err"; then
		fail "$name" "target failed: $(tail -n 1 "$bin.oracle.err")"
		return
	fi
	if "$test_bin" "$bin" "$bin.oracle" >"$bin.test.log" 2>&1; then
		pass "$name"
	else
		fail "$name" "$(grep -m 3 -E 'FAIL|test_gopclntab:' "$bin.test.log" | tail -n 3 |
			tr '\n' ' ') (log: $bin.test.log)"
	fi
}

found=0
while read -r version gocmd; do
	[ -n "$version" ] || continue
	if [ "$version" = - ]; then
		skip "gopclntab $gocmd" "toolchain not available from the module proxy"
		continue
	fi
	found=1
	for flavour in default stripped pie external; do
		# shellcheck disable=SC2086 # gocmd is a command line
		check_one "$version" "$flavour" $gocmd
	done
done < <(toolchains)
[ $found = 1 ] || skip gopclntab "no Go toolchain"
testlib_status
