#!/bin/bash
# Replays the fuzz regression corpus (tests/fuzz/regress/HARNESS/: every input fuzzing ever
# found a bug with) and a few real binaries through the fuzz harnesses, built without
# libFuzzer (tests/fuzz/replay_main.c) with AddressSanitizer, UBSan and LeakSanitizer. An
# input that crashes, aborts, leaks or trips a sanitizer fails its harness. One result
# per harness. Builds into $LEAKSCOPE_BUILD/fuzz-replay/ (again only when a source changed).
#
#   FUZZ_REPLAY_CC   compiler (default: $CC, else gcc)
set -u
cd "$(dirname "$0")/../.."
root=$PWD
. tests/lib/testlib.sh
cc=${FUZZ_REPLAY_CC:-${CC:-gcc}}
build=$LEAKSCOPE_BUILD
case $build in /*) ;; *) build=$root/$build ;; esac
out=$build/fuzz-replay
mkdir -p "$out/obj"

# What the harnesses link: the readers and what they use (as the Makefile's FUZZ_SRCS).
srcs=(user/elf/*.c user/golang/pclntab.c user/golang/gobin.c user/golang/offsets.c
	user/target/modfile.c user/target/maps.c user/target/proc.c user/target/symbolize.c
	user/lib/util.c user/lib/hashmap.c user/lib/intern.c)
flags=(-g -O0 -std=gnu11 -D_GNU_SOURCE -Iuser -I. -Itests/fuzz -fno-omit-frame-pointer
	-fsanitize=address,undefined -fno-sanitize-recover=undefined)
libs=(-ldw -lelf -lz -lcapstone -lstdc++)
harnesses=()
for h in tests/fuzz/fuzz_*.c; do harnesses+=("$(basename "$h" .c)"); done

# Rebuild everything when any source or header is newer than the stamp.
stamp=$out/.built
if [ ! -e "$stamp" ] || [ -n "$(find user tests/fuzz -name '*.[ch]' -newer "$stamp" | head -1)" ]; then
	rm -f "$stamp"
	pids=()
	for s in "${srcs[@]}"; do
		"$cc" "${flags[@]}" -c "$s" -o "$out/obj/$(echo "${s%.c}" | tr / _).o" \
			>"$out/obj/$(echo "${s%.c}" | tr / _).log" 2>&1 &
		pids+=($!)
	done
	ok=1
	for p in "${pids[@]}"; do wait "$p" || ok=0; done
	cat "$out"/obj/*.log >"$out/build.log"
	if [ $ok = 0 ]; then
		fail "fuzz regress: build" "$(grep -m 3 error "$out/build.log")"
		testlib_status
		exit
	fi
	objs=("$out"/obj/*.o)
	for h in "${harnesses[@]}" seedtool; do
		main=tests/fuzz/replay_main.c
		[ $h = seedtool ] && main=
		# shellcheck disable=SC2086 # main is empty for seedtool
		if ! "$cc" "${flags[@]}" tests/fuzz/$h.c $main "${objs[@]}" "${libs[@]}" \
			-o "$out/$h" >>"$out/build.log" 2>&1; then
			fail "fuzz regress: build $h" "$(grep -m 3 error "$out/build.log")"
			testlib_status
			exit
		fi
	done
	touch "$stamp"
fi

# A few real binaries, whole or cut the way seeds.sh cuts them: a C program with DWARF (our
# own), system libraries, and a Go program when a toolchain is at hand.
real=$out/real
mkdir -p "$real"
files=()
for f in "$build/leakscope" /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libz.so.1; do
	[ -e "$f" ] && files+=("$f")
done
gobin=$real/pcln
if [ ! -s "$gobin" ] && command -v go >/dev/null 2>&1; then
	(cd tests/targets/pcln && GOTOOLCHAIN=local go build -o "$gobin" .) >"$real/go.log" 2>&1 ||
		rm -f "$gobin"
fi
# The replays must not write their reports where a sanitized suite collects its own.
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:allocator_may_return_null=1:fast_unwind_on_malloc=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0
pieces=()
if [ -s "$gobin" ]; then
	files+=("$gobin")
	"$out/seedtool" pcln "$gobin" "$real/pcln.pcln" >/dev/null 2>&1 && pieces+=("$real/pcln.pcln")
	rm -f "$real"/code.*
	"$out/seedtool" code "$gobin" "$real/code" >/dev/null 2>&1
fi
[ -e "$build/leakscope" ] && "$out/seedtool" code "$build/leakscope" "$real/code" >/dev/null 2>&1
for c in "$real"/code.*; do [ -e "$c" ] && pieces+=("$c"); done

for h in "${harnesses[@]}"; do
	name=${h#fuzz_}
	inputs=()
	for f in tests/fuzz/regress/"$name"/*; do [ -f "$f" ] && inputs+=("$f"); done
	nregress=${#inputs[@]}
	case $name in
	gopclntab) for f in "${pieces[@]}"; do case $f in *.pcln) inputs+=("$f") ;; esac; done ;;
	disasm) for f in "${pieces[@]}"; do case $f in */code.*) inputs+=("$f") ;; esac; done ;;
	maps) cp /proc/self/maps "$real/maps.self" && inputs+=("$real/maps.self") ;;
	*) inputs+=("${files[@]}") ;;
	esac
	test="fuzz regress: $name ($nregress regression inputs, $((${#inputs[@]} - nregress)) real)"
	if [ ${#inputs[@]} = 0 ]; then
		skip "$test" "no inputs"
		continue
	fi
	log=$out/$name.log
	if timeout 120 "$out/$h" "${inputs[@]}" >"$log" 2>&1; then
		pass "$test"
	else
		fail "$test" "exit $?: $(grep -m 2 -E 'ERROR|runtime error|outside|SUMMARY|Running' "$log" |
			tr '\n' ' ') (log: $log)"
	fi
done
testlib_status
