/* SPDX-License-Identifier: GPL-2.0 */
/* Stack records shared by every BPF object and user space. */
#ifndef LEAKSCOPE_STACKS_H
#define LEAKSCOPE_STACKS_H

#define LS_MAX_STACK_DEPTH 127

struct ls_stack {
	__u64 depth;
	__u64 pcs[LS_MAX_STACK_DEPTH]; /* pcs[0] = probed instruction, then return addresses */
};

enum ls_stack_err {
	LS_STACK_ERR_WALK, /* unused: a walk always yields frame 0 */
	LS_STACK_ERR_FULL, /* stacks map full */
	LS_STACK_ERR__MAX,
};

#endif
