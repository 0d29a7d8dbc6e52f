// SPDX-License-Identifier: GPL-2.0
/*
 * A program leakscope starts (-- COMMAND) stops itself at its ELF entry point: its
 * libraries are mapped by then and none of its own code has run, so user space can
 * read its mappings and place what depends on them (frameless call sites to step
 * over, symbols) before the first allocation, then let it go on (SIGCONT).
 */
#include "common.bpf.h"

#define SIGSTOP 19

SEC("uprobe")
int launch_at_entry(struct pt_regs *ctx)
{
	if (is_target())
		bpf_send_signal(SIGSTOP);
	return 0;
}
