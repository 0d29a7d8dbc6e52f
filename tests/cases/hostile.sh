#!/bin/bash
# Hostile and malformed binaries, end to end: real processes whose executable, or a library
# they map, is a damaged copy that the kernel and ld.so still run (they read only program
# headers), while the section headers leakscope reads first lie. Each gives one line
# "cannot read symbols of X: reason" saying what is read instead, and the trace goes on with
# what is left, right; exit status 4 only when nothing is left (one line, then). The readers'
# fuzzing is tests/fuzz (make fuzz), its regression corpus tests/unit/fuzz_regress.sh.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
source "$LEAKSCOPE_ROOT/tests/lib/gotargets.sh"

tmp=$(mktemp -d /tmp/leakscope-hostile.XXXXXX)
pids=()
trap 'kill ${pids[*]} 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

# damage IN OUT HOW [SECTION]: a copy of ELF file IN, damaged:
#   shoff    e_shoff past the end of the file (the section header table is gone)
#   cut      the file cut where its section headers start (a truncated copy)
#   tail     the file cut after its last loaded byte (DWARF, .symtab gone; headers kept)
#   secoff   SECTION's sh_offset 1 TiB into the file (an absurd offset)
damage() {
	python3 - "$@" <<'EOF'
import struct, sys
src, dst, how = sys.argv[1:4]
b = bytearray(open(src, 'rb').read())
shoff, = struct.unpack_from('<Q', b, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from('<HHH', b, 0x3a)
if how == 'shoff':
    struct.pack_into('<Q', b, 0x28, len(b) + 4096)
elif how == 'cut':
    assert shoff > 0x1000
    b = b[:shoff]
elif how == 'tail':
    phoff, = struct.unpack_from('<Q', b, 0x20)
    phnum, = struct.unpack_from('<H', b, 0x38)
    end = 0
    for i in range(phnum):
        t, fl, off, va, pa, fs, ms, al = struct.unpack_from('<IIQQQQQQ', b, phoff + 56 * i)
        if t == 1:
            end = max(end, off + fs)
    b = b[:end]
elif how == 'secoff':
    names, = struct.unpack_from('<Q', b, shoff + shstrndx * shentsize + 0x18)
    hit = 0
    for i in range(shnum):
        h = shoff + i * shentsize
        n, = struct.unpack_from('<I', b, h)
        if b[names + n:b.index(0, names + n)].decode() == sys.argv[4]:
            struct.pack_into('<Q', b, h + 0x18, 1 << 40)
            hit = 1
    assert hit, 'no section ' + sys.argv[4]
open(dst, 'wb').write(b)
EOF
	chmod +x "$2"
}

# warned NAME ERRFILE PATTERN: exactly one line "cannot read symbols of" matching PATTERN.
warned() {
	local n
	n=$(grep -c 'cannot read symbols' "$2")
	if [ "$n" = 1 ] && grep -Eq "^leakscope: warning: cannot read symbols of $3" "$2"; then
		pass "$1: one line 'cannot read symbols of ...' saying what is read instead"
	else
		fail "$1: one line 'cannot read symbols of ...'" "$n warnings: $(grep -v '^$' "$2" | head -3)"
	fi
}

# Go: goleak, damaged three ways, traced as the undamaged one is: its leaking go statement
# from .gopclntab, file:line and all, wherever leakscope had to find the table.
read -r gover gocmd <<<"$(go_toolchains | head -1)"
go_case() { # NAME FLAVOUR HOW [SECTION] WARNING-PATTERN
	local name=$1 flavour=$2 how=$3 sec=$4 pattern=$5 d=$tmp/$1 bin
	mkdir -p "$d"
	bin=$(build_go goleak "$flavour" "$gover" $gocmd) || { fail "$name: build" "goleak"; return; }
	damage "$bin" "$d/goleak-$name" "$how" $sec
	"$d/goleak-$name" -pre 300 -leak 0 -churn 200 -duration 20s -status "$d/status" \
		>"$d/target.out" 2>&1 &
	local tp=$!
	pids+=($tp)
	if ! wait_for 10 grep -q 'ready 1' "$d/status"; then
		fail "$name: the damaged copy runs" "$(head -3 "$d/target.out")"
		return
	fi
	"$LEAKSCOPE" --suspects off -p $tp --json -T 0 -w goroutines 1 2 >"$d/out.json" 2>"$d/err"
	local rc=$?
	kill $tp 2>/dev/null
	if [ $rc -ne 0 ]; then
		fail "$name: traced (exit 0)" "exit $rc: $(head -3 "$d/err")"
		return
	fi
	pass "$name: traced (exit 0)"
	warned "$name" "$d/err" "$pattern"
	local leak
	leak=$(jq -c 'select(.type=="stack" and .view=="goroutines" and .report==2 and .final==false
		and .start_func=="main.blockForever")' "$d/out.json" | head -1)
	if jq -e '.live >= 300 and (.frames[0].file | endswith("tests/targets/goleak/main.go"))
		and .frames[0].line > 0' <<<"$leak" >/dev/null 2>&1; then
		pass "$name: the leaking go statement, named with file:line ($(jq .live <<<"$leak") goroutines)"
	else
		fail "$name: the leaking go statement, named with file:line" "got: ${leak:-nothing}"
	fi
}
go_case go-pclntab-offset default secoff .gopclntab \
	"goleak-go-pclntab-offset: its section .gopclntab lies outside the file \([0-9]+ bytes at offset 1099511627776, .*found in its segments, is used"
go_case go-pie-pclntab-offset pie secoff .gopclntab \
	"goleak-go-pie-pclntab-offset: its section .gopclntab lies outside the file .*found in its segments, is used"
go_case go-no-section-headers stripped shoff "" \
	"goleak-go-no-section-headers: its section headers lie past the end of the file .*found in its segments, is used"
# Cut after its last loaded byte: .symtab, DWARF and the section names (.shstrtab, last) gone.
go_case go-cut-tail default tail "" \
	"goleak-go-cut-tail: the names of its sections cannot be read .*found in its segments, is used"

# C: cleak with a copy of libc cut where its section headers start, found by ld.so through
# LD_LIBRARY_PATH. malloc is probed from libc's dynamic segment, as ld.so finds it: the
# leak is counted whole, with its stack.
libc=$(ldd /bin/true | awk '$1 == "libc.so.6" { print $3 }')
d=$tmp/libc-cut
mkdir -p "$d/lib"
gcc -O2 -g -fno-omit-frame-pointer -o "$d/cleak" "$LEAKSCOPE_ROOT/tests/targets/cleak/cleak.c" &&
	damage "$(readlink -f "$libc")" "$d/lib/libc.so.6" cut
env LD_LIBRARY_PATH="$d/lib" "$d/cleak" -status "$d/status" -count 2000 -rate 2000 -size 1000 \
	>"$d/target.out" 2>&1 &
tp=$!
pids+=($tp)
if ! wait_for 10 grep -q 'ready 1' "$d/status"; then
	fail "libc-cut: cleak runs with the cut libc" "$(head -3 "$d/target.out")"
elif ! grep -q "$d/lib/libc.so.6" /proc/$tp/maps; then
	fail "libc-cut: cleak maps the cut libc" "$(grep libc /proc/$tp/maps | head -1)"
else
	"$LEAKSCOPE" --suspects off -p $tp --json -T 0 -w native-heap 1 4 >"$d/out.json" 2>"$d/err" &
	lp=$!
	wait_for 20 grep -q 'tracing pid' "$d/err" && kill -USR1 $tp
	wait $lp
	rc=$?
	if [ $rc -eq 0 ]; then
		pass "libc-cut: traced (exit 0)"
		warned libc-cut "$d/err" "$d/lib/libc.so.6: its section headers lie past the end of the file .*truncated.*its dynamic symbols are read from its dynamic segment"
		want=$(status_get "$d/status" leaked_bytes)
		got=$(jq -s '[.[] | select(.type=="stack" and .view=="native-heap" and .report==4 and .final==false
			and .frames[0].func=="malloc" and .frames[1].func=="leak_block")] | map(.live_bytes) | add // 0' "$d/out.json")
		if [ "$(status_get "$d/status" phase)" = done ] && within 1 "$got" "$want"; then
			pass "libc-cut: malloc <- leak_block holds what cleak leaked ($got of $want bytes)"
		else
			fail "libc-cut: malloc <- leak_block holds what cleak leaked" "leakscope $got, cleak $want (phase $(status_get "$d/status" phase))"
		fi
	else
		fail "libc-cut: traced (exit 0)" "exit $rc: $(head -3 "$d/err")"
	fi
fi
kill $tp 2>/dev/null

# Nothing left: a static C program (with its symbol table) cut where its section headers
# start. It runs; leakscope has no symbol to probe and says why in one line, exit 4.
d=$tmp/static-cut
mkdir -p "$d"
printf '#include <stdlib.h>\n#include <unistd.h>\nint main(void) { for (;;) { free(malloc(64)); pause(); } }\n' >"$d/idle.c"
if gcc -static -O2 -o "$d/idle" "$d/idle.c" 2>"$d/gcc.err"; then
	damage "$d/idle" "$d/idle-cut" cut
	"$d/idle-cut" &
	tp=$!
	pids+=($tp)
	sleep 0.2
	"$LEAKSCOPE" --suspects off -p $tp 1 1 >"$d/out" 2>"$d/err"
	rc=$?
	if [ $rc -eq 4 ] && [ "$(grep -c . "$d/err")" = 1 ] &&
		grep -Eq "^leakscope: error: cannot read symbols of idle-cut: its section headers lie past the end of the file .*, and nothing else in it \(pid $tp\) can be traced" "$d/err"; then
		pass "static-cut: one line 'cannot read symbols of idle-cut: ...', exit 4"
	else
		fail "static-cut: one line 'cannot read symbols of idle-cut: ...', exit 4" "exit $rc: $(head -3 "$d/err")"
	fi
	kill $tp 2>/dev/null
else
	fail "static-cut: build" "$(head -2 "$d/gcc.err")"
fi
testlib_status
