/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86-64 decoding (capstone) for placing probes: RET sites instead of
 * uretprobes, call sites, RIP-relative data references (to find runtime
 * variables in stripped binaries), and instructions the kernel emulates
 * instead of single-stepping (a uprobe on those costs a fraction).
 */
#ifndef LEAKSCOPE_DISASM_H
#define LEAKSCOPE_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct insn {
	uint64_t addr;
	uint16_t size;
	char mnemonic[32];
	char op_str[160];
	uint64_t branch_target; /* direct call/jmp/jcc target, 0 otherwise */
	uint64_t rip_ref;	/* absolute address of a RIP-relative memory operand, 0 if none */
	bool rip_ref_is_load;	/* memory operand read (mov reg, [rip+x]) rather than lea/store */
	bool is_ret, is_call, is_jmp, is_jcc, is_nop, is_push;
	bool jcc_emulable; /* a jcc the kernel emulates (not jrcxz or loop) */
	/* A uprobe here is emulated by the kernel (no single-step): push, nop, jmp, call, jcc. */
	bool emulated;
};

/*
 * Decode code (the bytes at link-time address vaddr). Calls fn for each instruction;
 * stops at the end, at undecodable bytes, or when fn returns non-zero (that value is
 * returned). Returns 0 at the end, -EINVAL on a decode error.
 */
int disasm_each(const void *code, size_t len, uint64_t vaddr,
		int (*fn)(const struct insn *in, void *ctx), void *ctx);

/* Addresses of RET instructions, up to max. Returns the count or -errno. */
int disasm_find_rets(const void *code, size_t len, uint64_t vaddr, uint64_t *out, int max);

/* Address of the first direct CALL to target, or 0. */
uint64_t disasm_find_call(const void *code, size_t len, uint64_t vaddr, uint64_t target);

/*
 * The nop that ends exactly at at (a padding nop before a call, say), or 0. A probe
 * there sees the registers the instruction at at would: cheaper than on a call,
 * which the kernel emulates by writing the return address to the user stack, and
 * on a 5-byte nop (0f 1f 44 00 00) Linux 6.18 replaces the trap with a call into
 * a trampoline once it has fired.
 */
uint64_t disasm_nop_before(const void *code, size_t len, uint64_t vaddr, uint64_t at);

/* The n-th (0-based) RIP-relative reference target; loads_only restricts to reads. 0 if none. */
uint64_t disasm_nth_rip_ref(const void *code, size_t len, uint64_t vaddr, int n, bool loads_only);

/*
 * A Go function's first instruction past its stack-bound check (cmp rsp,16(r14); jbe
 * morestack): the `push rbp` that the kernel emulates and that morestack never
 * re-enters. Arguments are still in their registers there. 0 if the shape differs.
 */
uint64_t disasm_go_after_stack_check(const void *code, size_t len, uint64_t vaddr);

/*
 * The cheapest place for an entry probe: the first instruction the kernel emulates
 * that every call executes, i.e. within the straight-line prefix of the function
 * (up to and including its first branch, when that branch is itself emulated),
 * before anything writes a register in clobber_mask (bit = capstone x86_reg number
 * / see disasm_reg_bit) or the stack pointer. Arguments read from those registers
 * are then intact, and [rsp] is still the return address. Returns the entry itself
 * when nothing better qualifies.
 */
uint64_t disasm_first_emulated(const void *code, size_t len, uint64_t vaddr, uint64_t clobber_mask);

/* Bits for disasm_first_emulated's mask. */
enum {
	DISASM_RAX = 1 << 0,
	DISASM_RBX = 1 << 1,
	DISASM_RCX = 1 << 2,
	DISASM_RDX = 1 << 3,
	DISASM_RSI = 1 << 4,
	DISASM_RDI = 1 << 5,
	DISASM_R8 = 1 << 6,
	DISASM_R9 = 1 << 7,
};

/* Decode the one instruction at vaddr. 0 or -EINVAL. */
int disasm_one(const void *code, size_t len, uint64_t vaddr, struct insn *out);

#endif
