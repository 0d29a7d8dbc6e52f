#!/bin/bash
# Runs the fuzz harnesses (`make fuzz` calls it once they are built): each for SECONDS on its
# corpus (DIR/corpus/HARNESS, kept between runs) and its seeds (DIR/seeds/HARNESS, made by
# tests/fuzz/seeds.sh when missing). Crashes, leaks, timeouts and sanitizer reports are saved
# as DIR/crashes/HARNESS/{crash,leak,timeout,oom}-SHA1, logs as DIR/logs/HARNESS.log. Exits
# non-zero when a harness found something: minimize it (BIN -minimize_crash=1 -runs=10000
# FILE), fix the reader, add the input to tests/fuzz/regress/HARNESS/.
#
#   tests/fuzz/run.sh DIR SECONDS HARNESS...
#   FUZZ_JOBS   parallel workers per harness (libFuzzer -fork; default 1). With more than
#               one, a crash does not stop the run: every distinct one is saved.
#   FUZZ_ARGS   more libFuzzer flags
set -u
cd "$(dirname "$0")/../.."
dir=${1:?usage: run.sh DIR SECONDS HARNESS...}
secs=${2:?usage: run.sh DIR SECONDS HARNESS...}
shift 2
: "${FUZZ_JOBS:=1}"
: "${FUZZ_ARGS:=}"

[ -d "$dir/seeds" ] || tests/fuzz/seeds.sh "$dir" || exit 1
# A leak in libdw no caller can free (see the file).
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0
# Full malloc stacks: libdw has no frame pointers, and the suppression names its function.
export ASAN_OPTIONS=${ASAN_OPTIONS:-fast_unwind_on_malloc=0}
mkdir -p "$dir/logs"
found=0
for h in "$@"; do
	name=${h#fuzz_}
	bin=$dir/$h
	corpus=$dir/corpus/$name
	crashes=$dir/crashes/$name
	mkdir -p "$corpus" "$crashes" "$dir/seeds/$name"
	# Whole files for most; the seeds are capped at 3 MiB (FUZZ_SEED_MAX), Go binaries with
	# DWARF for go_offsets are larger.
	case $name in
	disasm) maxlen=4112 ;;
	go_offsets) maxlen=4000000 ;;
	*) maxlen=3200000 ;;
	esac
	args=(-max_total_time="$secs" -max_len="$maxlen" -timeout=30 -rss_limit_mb=4096
		-malloc_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/")
	if [ "$FUZZ_JOBS" -gt 1 ]; then
		args+=(-fork="$FUZZ_JOBS" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
	fi
	before=$(find "$crashes" -type f | wc -l)
	echo "== $h: ${secs}s, corpus $corpus"
	# shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
	"$bin" "${args[@]}" $FUZZ_ARGS "$corpus" "$dir/seeds/$name" >"$dir/logs/$name.log" 2>&1
	rc=$?
	grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' \
		"$dir/logs/$name.log" | tail -n 3 | sed 's/^/  /'
	after=$(find "$crashes" -type f | wc -l)
	if [ "$after" -gt "$before" ] || [ "$rc" -ne 0 ]; then
		echo "  FOUND: $((after - before)) new input(s) in $crashes (exit $rc), log $dir/logs/$name.log"
		grep -m 3 -E 'ERROR: |runtime error|SUMMARY' "$dir/logs/$name.log" | sed 's/^/    /'
		found=1
	fi
done
exit $found
