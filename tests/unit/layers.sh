#!/bin/bash
# The layout is the architecture (README, "Where things are"): includes in user/ only
# point down the layers, and nothing includes a source. One result per folder.
source "$LEAKSCOPE_ROOT/tests/lib/testlib.sh"
cd "$LEAKSCOPE_ROOT/user" || exit 1

# FOLDER: what its files may include besides themselves and system headers.
declare -A allowed=(
	[lib]="lib/"
	[elf]="lib/ elf/ bpf/"
	[golang]="lib/ elf/ golang/"
	[target]="lib/ elf/ golang/ target/"
	[report]="lib/ report/ target/symbolize.h"
	[bpfio]="lib/ elf/ bpfio/ bpf/ leakscope.skel.h"
	[sources]="lib/ elf/ golang/ target/ report/ bpfio/ bpf/ leakscope.skel.h session.h"
	[.]="lib/ elf/ golang/ target/ report/ bpfio/ bpf/ leakscope.skel.h session.h cli.h"
)

for dir in "${!allowed[@]}"; do
	bad=""
	for f in "$dir"/*.[ch]; do
		[ -e "$f" ] || continue
		while read -r inc; do
			ok=0
			for a in ${allowed[$dir]}; do
				case $inc in "$a"*) ok=1 ;; esac
			done
			[ $ok = 1 ] || bad+=" ${f#./} includes $inc;"
		done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
	done
	name="layers: user/${dir#.} includes only what lies below it"
	[ "$dir" = . ] && name="layers: user/*.c includes no source"
	if [ -z "$bad" ]; then pass "$name"; else fail "$name" "$bad"; fi
done
testlib_status
