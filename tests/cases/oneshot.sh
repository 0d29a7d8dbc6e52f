#!/bin/bash
# One-shot sessions that lose nothing (issue: run under leakscope the way one runs
# valgrind): programs that leak a known number of bytes and exit at once, started
# with -- PROG. What they still had at exit is in the last report and the summary,
# exactly, by the right functions; the baseline is before they ran; C++ stacks keep
# the function that called new; -j keeps the program's output out of the JSON.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"

tmp=$(mktemp -d /tmp/leakscope-oneshot.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
T=$LEAKSCOPE_BUILD/targets/native
mkdir -p "$T"
src=$LEAKSCOPE_ROOT/tests/targets/oneshot
# Like the rest of the native targets: optimised, with frame pointers; libstdc++'s
# operator new has none (leakscope steps over it).
if ! gcc -O2 -g -fno-omit-frame-pointer -Wall -o "$T/oneshot" "$src/oneshot.c" ||
	! g++ -O2 -g -fno-omit-frame-pointer -Wall -o "$T/oneshot-cpp" "$src/oneshot.cpp"; then
	fail "oneshot: build targets" "see above"
	testlib_status
	exit 1
fi

# A C program that is over in milliseconds.
name="one-shot C"
t0=$(date +%s%N)
"$LEAKSCOPE" -j -T 0 -- "$T/oneshot" >"$tmp/c.json" 2>"$tmp/c.err"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ $rc -eq 0 ] && pass "$name: exit 0 ($ms ms for the whole session)" || fail "$name: exit 0" "exit $rc: $(tail -2 "$tmp/c.err")"
if jq -e . "$tmp/c.json" >/dev/null 2>&1 && ! grep -q 'oneshot: done' "$tmp/c.json" &&
	grep -q 'oneshot: done' "$tmp/c.err"; then
	pass "$name: -j: every stdout line is JSON, the program's own output went to stderr"
else
	fail "$name: -j keeps the program's output out of the JSON" "$(grep -v '^{' "$tmp/c.json" | head -2)"
fi
for final in false true; do
	row=$(jq -c "select(.type==\"stack\" and .view==\"native-heap\" and .final==$final)
		| select(.frames | map(.func) | index(\"leak_here\"))" "$tmp/c.json" | tail -1)
	what=$([ $final = true ] && echo summary || echo "last report")
	if [ "$(jq .live_bytes <<<"$row")" = 100000 ] && [ "$(jq .live <<<"$row")" = 100 ] &&
		[ "$(jq -r '.frames | map(.func) | index("main") != null' <<<"$row")" = true ]; then
		pass "$name: $what holds exactly what it had at exit: 100 blocks, 100000 bytes at leak_here <- main"
	else
		fail "$name: $what holds what it had at exit" "${row:0:300}"
	fi
done
churn=$(jq -s '[.[] | select(.type=="stack" and .view=="native-heap" and .final)
	| select(.frames | map(.func) | index("churn")) | .live] | add // 0' "$tmp/c.json")
at_attach=$(jq -s '[.[] | select(.type=="stack" and .view=="native-heap" and .final) | .live_bytes_at_attach] | add // 0' "$tmp/c.json")
[ "$churn" = 0 ] && [ "$at_attach" = 0 ] &&
	pass "$name: freed blocks are not outstanding; nothing counted at attach (the baseline is before it ran)" ||
	fail "$name: churn and baseline" "churn outstanding $churn, bytes at attach $at_attach"
if jq_any "$tmp/c.json" '.type=="summary" and .end=="target_exited"' &&
	! grep -q 'nothing to summarise' "$tmp/c.err" && grep -q 'summary above covers' "$tmp/c.err"; then
	pass "$name: a report and the summary, no 'nothing to summarise'"
else
	fail "$name: a report and the summary" "$(cat "$tmp/c.err")"
fi
if grep -Eq '^leakscope: tracing pid [0-9]+ \(oneshot(, PIE)?\); ' "$tmp/c.err"; then
	pass "$name: the tracing line has no empty Go field"
else
	fail "$name: the tracing line has no empty Go field" "$(grep tracing "$tmp/c.err")"
fi
# Its main thread is its own, made with it.
main=$(jq -s '[.[] | select(.type=="stack" and .view=="threads" and .final and .main_thread)] | length' "$tmp/c.json")
pre=$(jq -s '[.[] | select(.type=="stack" and .view=="threads" and .pre_attach)] | length' "$tmp/c.json")
[ "$pre" = 0 ] && pass "$name: no thread 'existed before attach' (main thread rows: $main)" ||
	fail "$name: no thread existed before attach" "$pre pre-attach rows"

# C++: new in libstdc++ has no frame pointer; the function that called it must stay.
name="one-shot C++"
"$LEAKSCOPE" -j -T 0 -- "$T/oneshot-cpp" >"$tmp/cpp.json" 2>"$tmp/cpp.err"
rc=$?
row=$(jq -c 'select(.type=="stack" and .view=="native-heap" and .final)
	| select(.frames | map(.func) | index("make_node()"))' "$tmp/cpp.json" | head -1)
funcs=$(jq -r '.frames | map(.func // "?") | join(" <- ")' <<<"$row")
if [ $rc -eq 0 ] && [ "$(jq .live_bytes <<<"$row")" = 10400 ] && [ "$(jq .live <<<"$row")" = 50 ] &&
	[[ "$funcs" == *"operator new(unsigned long) <- make_node() <- keep("* ]]; then
	pass "$name: 50 Nodes, 10400 bytes, at operator new <- make_node() <- keep()"
else
	fail "$name: leak through new with its caller" "exit $rc; $funcs; ${row:0:200}"
fi
deleted=$(jq -s '[.[] | select(.type=="stack" and .view=="native-heap" and .final)
	| select((.frames | map(.func) | index("main")) and (.frames | map(.func) | index("make_node()") | not) and .live_bytes == 208) ] | length' "$tmp/cpp.json")
[ "$deleted" = 0 ] && pass "$name: the deleted Nodes are not outstanding" || fail "$name: deleted Nodes" "$deleted rows"
testlib_status
