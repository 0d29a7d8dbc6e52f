#!/bin/bash
# Seeds for the fuzz harnesses, from real binaries: Go programs (tests/targets/pcln and
# goleak) built with every Go toolchain at hand, default, stripped and PIE; C and C++ programs
# (tests/targets) built with gcc/g++ -O2, with and without frame pointers, static, stripped;
# and a few system libraries. Whole files for the harnesses that take a file, the pieces
# (.gopclntab with its moduledata, function code) for those that take a piece, cut by
# tests/fuzz/seedtool.c. Nothing here is committed: `make fuzz` runs this when the seeds
# are missing.
#
#   tests/fuzz/seeds.sh OUT       writes OUT/bin/ (the programs), OUT/seeds/HARNESS/
#   FUZZ_GO_EXTRA                 releases fetched with GOTOOLCHAIN (default: go1.22.12
#                                 go1.24.11 go1.27.3); one the module proxy cannot give is skipped
#   FUZZ_SEED_MAX                 largest whole file taken as a seed, bytes (default 3 MiB)
#   CC, CLANG                     compilers (seedtool is built with CC)
set -u
cd "$(dirname "$0")/../.."
root=$PWD
out=${1:?usage: seeds.sh OUT}
case $out in /*) ;; *) out=$root/$out ;; esac
: "${FUZZ_GO_EXTRA=go1.22.12 go1.24.11 go1.27.3}"
: "${FUZZ_SEED_MAX:=3145728}"
: "${CC:=cc}"
bin=$out/bin
seeds=$out/seeds
mkdir -p "$bin" "$seeds"
log=$out/seeds.log
: >"$log"

note() { printf '  seeds: %s\n' "$*"; }

# seed HARNESS FILE [NAME]: a copy of FILE as a seed of HARNESS, when it is not too big.
seed() {
	local h=$1 f=$2 name=${3:-$(basename "$2")}
	[ -s "$f" ] || return 0
	[ "$(stat -c %s "$f")" -le "$FUZZ_SEED_MAX" ] || return 0
	mkdir -p "$seeds/$h"
	cp "$f" "$seeds/$h/$name"
}

# The tool that cuts pieces, built from leakscope's own readers.
$CC -O1 -g -std=gnu11 -D_GNU_SOURCE -Iuser -I. -o "$bin/seedtool" tests/fuzz/seedtool.c \
	user/elf/elffile.c user/elf/disasm.c user/golang/gobin.c user/golang/pclntab.c \
	user/golang/offsets.c user/lib/util.c -lelf -ldw -lz -lcapstone >>"$log" 2>&1 ||
	{ echo "seeds.sh: cannot build seedtool (see $log)" >&2; exit 1; }

# Go: "NAME GOCMD..." per toolchain that works.
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
	for v in $FUZZ_GO_EXTRA; do
		(cd /tmp && GOTOOLCHAIN=$v timeout 300 go version) >/dev/null 2>&1 &&
			echo "$v env GOTOOLCHAIN=$v go"
	done
}

gobins=()
while read -r version gocmd; do
	[ -n "$version" ] || continue
	for prog in pcln goleak; do
		for flavour in default stripped pie; do
			b=$bin/$prog-$version-$flavour
			case $flavour in
			default) args=() ;;
			stripped) args=(-ldflags=-s\ -w) ;;
			pie) args=(-buildmode=pie) ;;
			esac
			# shellcheck disable=SC2086 # gocmd is a command line
			if [ -s "$b" ] || (cd "tests/targets/$prog" && $gocmd build "${args[@]}" \
				-o "$b" .) >>"$log" 2>&1; then
				gobins+=("$b")
			else
				note "$prog with $version ($flavour) did not build, see $log"
			fi
		done
	done
done < <(toolchains)

# C and C++: each program in each way people build them.
cbins=()
cbuild() { # OUT COMPILER ARGS...
	local o=$1
	shift
	[ -s "$o" ] || "$@" -o "$o" >>"$log" 2>&1 || { note "$(basename "$o") did not build"; return; }
	cbins+=("$o")
}
for v in g:"-O2 -g" fp:"-O2 -g -fno-omit-frame-pointer" static:"-O2 -static" \
	strip:"-O2 -s"; do
	tag=${v%%:*} flags=${v#*:}
	# shellcheck disable=SC2086 # flags is a list
	cbuild "$bin/cleak-$tag" gcc $flags tests/targets/cleak/cleak.c
	# shellcheck disable=SC2086
	cbuild "$bin/threads-$tag" gcc $flags -pthread tests/targets/threads/threads.c
	# shellcheck disable=SC2086
	cbuild "$bin/cppleak-$tag" g++ $flags tests/targets/cppleak/cppleak.cpp
	# shellcheck disable=SC2086
	cbuild "$bin/oneshot-$tag" gcc $flags tests/targets/oneshot/oneshot.c
done
libs=()
for l in libc.so.6 libz.so.1 libstdc++.so.6; do
	p=$(ldconfig -p 2>/dev/null | awk -v l="$l" '$1 == l && /x86-64/ { print $NF; exit }')
	[ -n "$p" ] && [ -e "$p" ] && libs+=("$(readlink -f "$p")")
done

# Only the unwind sections of a big library: what the CFI reader reads, small.
cfi_only() { # IN OUT
	objcopy -j .eh_frame -j .eh_frame_hdr "$1" "$2" >>"$log" 2>&1
}

for b in "${gobins[@]}"; do
	n=$(basename "$b")
	seed gobin "$b"
	case $n in *-stripped) seed elffile "$b" ;; esac
	case $n in pcln-*-default) seed go_offsets "$b"; seed symbolize "$b" ;; esac
	"$bin/seedtool" pcln "$b" "$bin/$n.pcln" >>"$log" 2>&1 && seed gopclntab "$bin/$n.pcln"
	mkdir -p "$seeds/disasm"
	"$bin/seedtool" code "$b" "$seeds/disasm/$n" >>"$log" 2>&1
done
for b in "${cbins[@]}" "${libs[@]}"; do
	n=$(basename "$b")
	seed elffile "$b"
	seed callsites "$b"
	case $n in *-g | *-fp | lib*) seed symbolize "$b" ;; esac
	if [ "$(stat -c %s "$b")" -le "$FUZZ_SEED_MAX" ]; then
		seed cfi "$b"
	elif cfi_only "$b" "$bin/$n.cfi"; then
		seed cfi "$bin/$n.cfi"
	fi
	case $n in *-static | *-strip | libz*) ;; *)
		"$bin/seedtool" code "$b" "$seeds/disasm/$n" >>"$log" 2>&1 ;;
	esac
done
# /proc/PID/maps of real processes: this shell, and a Go program and a C++ one while they run.
mkdir -p "$seeds/maps"
cp /proc/self/maps "$seeds/maps/self"
for b in "${gobins[0]:-}" "$bin/cppleak-g"; do
	[ -x "$b" ] || continue
	"$b" >/dev/null 2>&1 &
	sleep 0.3
	cp "/proc/$!/maps" "$seeds/maps/$(basename "$b")" 2>/dev/null
	kill $! 2>/dev/null
	wait $! 2>/dev/null
done
printf '%s\n' '7f0000000000-7f0000001000 r-xp 00000000 fd:01 42 /tmp/a b\012c (deleted)' \
	'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]' \
	>"$seeds/maps/odd"

for h in "$seeds"/*/; do
	note "$(basename "$h"): $(find "$h" -type f | wc -l) files, $(du -sh "$h" | cut -f1)"
done
