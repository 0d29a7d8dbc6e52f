#!/bin/bash
# The report path on recorded series (tests/unit/test_report.c), and its JSON checked
# with jq: every line parses, and the fields say what README promises.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
out=$(mktemp /tmp/leakscope-report.XXXXXX)
if "$LEAKSCOPE_BUILD/unit/test_report" "$out" >"$out.txt" 2>&1; then
	pass "report: ranking, growth and totals from recorded series"
else
	fail "report: ranking, growth and totals from recorded series" "$(grep FAIL "$out.txt" | head -5)"
fi
if jq -e . "$out" >/dev/null 2>&1; then
	pass "report: every JSON line parses"
else
	fail "report: every JSON line parses" "$(head -c 300 "$out")"
fi
for cond in '.type=="stack" and .view=="goroutines" and .rank==1 and .net==100 and .rate_per_s==100' \
	'.type=="interval" and .goroutines.created==1100 and .goroutines.live==605' \
	'.type=="summary" and .end=="count" and .goroutines.created==5500' \
	'.type=="stack" and .view=="native-heap" and .final and .bytes_slope_per_s==1048576' \
	'.type=="stack" and .frames[0].func==null and .frames[0].pc==4096'; do
	if jq_any "$out" "$cond"; then
		pass "report: JSON has $cond"
	else
		fail "report: JSON has $cond" "not found"
	fi
done
if grep -q '^GOROUTINES ' "$out.txt" && grep -q 'NATIVE HEAP OUTSTANDING' "$out.txt" &&
	grep -q '=== SUMMARY' "$out.txt"; then
	pass "report: text has headers for every view and the summary"
else
	fail "report: text has headers for every view and the summary" "$(head -5 "$out.txt")"
fi
rm -f "$out" "$out.txt"
testlib_status
