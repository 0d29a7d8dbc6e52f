#!/bin/sh
# Regenerate vmlinux/vmlinux.h from the running kernel's BTF.
# The header is checked in so that builds do not depend on the build host's
# kernel; run this only when a newer kernel type is needed by bpf/*.bpf.c.
set -eu
btf=${1:-/sys/kernel/btf/vmlinux}
out=$(dirname "$0")/../vmlinux/vmlinux.h
if [ ! -r "$btf" ]; then
	echo "gen-vmlinux: $btf not readable: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF)" >&2
	exit 1
fi
bpftool btf dump file "$btf" format c > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out ($(wc -l < "$out") lines) from $btf"
