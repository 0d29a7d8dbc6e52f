// SPDX-License-Identifier: GPL-2.0
#include <capstone/capstone.h>
#include <errno.h>
#include <string.h>

#include "elf/disasm.h"
#include "lib/util.h"

static csh handle;
static bool handle_ok;

static int get_handle(csh *h)
{
	if (!handle_ok) {
		if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK)
			return -EINVAL;
		cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
		handle_ok = true;
	}
	*h = handle;
	return 0;
}

static bool in_group(csh h, const cs_insn *ci, int group)
{
	return cs_insn_group(h, ci, group);
}

static void fill(csh h, const cs_insn *ci, struct insn *in)
{
	const cs_x86 *x = &ci->detail->x86;

	memset(in, 0, sizeof(*in));
	in->addr = ci->address;
	in->size = ci->size;
	snprintf(in->mnemonic, sizeof(in->mnemonic), "%s", ci->mnemonic);
	snprintf(in->op_str, sizeof(in->op_str), "%s", ci->op_str);
	in->is_ret = in_group(h, ci, CS_GRP_RET);
	in->is_call = in_group(h, ci, CS_GRP_CALL);
	in->is_jmp = ci->id == X86_INS_JMP;
	in->is_jcc = !in->is_jmp && in_group(h, ci, CS_GRP_JUMP) && ci->id != X86_INS_LJMP;
	/* jrcxz and loop* branch too, but the kernel only emulates jcc (0x7x, 0x0f 0x8x). */
	in->jcc_emulable = in->is_jcc && ci->id != X86_INS_JRCXZ && ci->id != X86_INS_JECXZ &&
			   ci->id != X86_INS_JCXZ && ci->id != X86_INS_LOOP &&
			   ci->id != X86_INS_LOOPE && ci->id != X86_INS_LOOPNE;
	in->is_nop = ci->id == X86_INS_NOP;
	in->is_push = ci->id == X86_INS_PUSH && x->op_count == 1 && x->operands[0].type == X86_OP_REG;

	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];

		if (op->type == X86_OP_MEM && op->mem.base == X86_REG_RIP) {
			in->rip_ref = ci->address + ci->size + op->mem.disp;
			in->rip_ref_is_load = ci->id != X86_INS_LEA && (op->access & CS_AC_READ);
		}
		if ((in->is_call || in->is_jmp || in->is_jcc) && op->type == X86_OP_IMM)
			in->branch_target = op->imm;
	}
	/*
	 * What arch/x86/kernel/uprobes.c emulates rather than single-steps: push of a
	 * register, nops, and relative call/jmp/jcc (indirect ones are stepped, and
	 * so is any branch with a 0x66 operand-size prefix).
	 */
	in->emulated = in->is_push || in->is_nop ||
		       ((in->is_call || in->is_jmp || in->jcc_emulable) && in->branch_target &&
			ci->detail->x86.prefix[2] != 0x66);
}

int disasm_each(const void *code, size_t len, uint64_t vaddr,
		int (*fn)(const struct insn *in, void *ctx), void *ctx)
{
	const uint8_t *p = code;
	uint64_t addr = vaddr;
	struct insn in;
	cs_insn *ci;
	csh h;
	int ret = 0;

	if (get_handle(&h))
		return -EINVAL;
	ci = cs_malloc(h);
	if (!ci)
		return -ENOMEM;
	while (len) {
		if (!cs_disasm_iter(h, &p, &len, &addr, ci)) {
			/* Go pads functions with int3 (0xcc), which decodes fine; anything
			 * else undecodable means we are not looking at code. */
			ret = -EINVAL;
			break;
		}
		fill(h, ci, &in);
		ret = fn(&in, ctx);
		if (ret)
			break;
	}
	cs_free(ci, 1);
	return ret;
}

int disasm_one(const void *code, size_t len, uint64_t vaddr, struct insn *out)
{
	const uint8_t *p = code;
	uint64_t addr = vaddr;
	cs_insn *ci;
	csh h;
	int ret = -EINVAL;

	if (get_handle(&h))
		return -EINVAL;
	ci = cs_malloc(h);
	if (!ci)
		return -ENOMEM;
	if (cs_disasm_iter(h, &p, &len, &addr, ci)) {
		fill(h, ci, out);
		ret = 0;
	}
	cs_free(ci, 1);
	return ret;
}

struct rets {
	uint64_t *out;
	int n, max;
};

static int collect_ret(const struct insn *in, void *ctx)
{
	struct rets *r = ctx;

	if (!in->is_ret)
		return 0;
	if (r->n == r->max)
		return -E2BIG;
	r->out[r->n++] = in->addr;
	return 0;
}

int disasm_find_rets(const void *code, size_t len, uint64_t vaddr, uint64_t *out, int max)
{
	struct rets r = {.out = out, .max = max};
	int err = disasm_each(code, len, vaddr, collect_ret, &r);

	/* Trailing padding may not decode; what was found before it stands. */
	if (err && err != -EINVAL)
		return err;
	return r.n;
}

struct call_query {
	uint64_t target, found;
};

static int match_call(const struct insn *in, void *ctx)
{
	struct call_query *q = ctx;

	if (in->is_call && in->branch_target == q->target) {
		q->found = in->addr;
		return 1;
	}
	return 0;
}

uint64_t disasm_find_call(const void *code, size_t len, uint64_t vaddr, uint64_t target)
{
	struct call_query q = {.target = target};

	disasm_each(code, len, vaddr, match_call, &q);
	return q.found;
}

struct nop_query {
	uint64_t at, prev, prev_end, found;
	bool prev_nop;
};

static int match_nop_before(const struct insn *in, void *ctx)
{
	struct nop_query *q = ctx;

	if (in->addr == q->at) {
		if (q->prev_nop && q->prev_end == q->at)
			q->found = q->prev;
		return 1;
	}
	if (in->addr > q->at)
		return 1;
	q->prev = in->addr;
	q->prev_end = in->addr + in->size;
	q->prev_nop = in->is_nop;
	return 0;
}

uint64_t disasm_nop_before(const void *code, size_t len, uint64_t vaddr, uint64_t at)
{
	struct nop_query q = {.at = at};

	disasm_each(code, len, vaddr, match_nop_before, &q);
	return q.found;
}

struct ref_query {
	int n;
	bool loads_only;
	uint64_t found;
};

static int match_ref(const struct insn *in, void *ctx)
{
	struct ref_query *q = ctx;

	if (!in->rip_ref || (q->loads_only && !in->rip_ref_is_load))
		return 0;
	if (q->n-- == 0) {
		q->found = in->rip_ref;
		return 1;
	}
	return 0;
}

uint64_t disasm_nth_rip_ref(const void *code, size_t len, uint64_t vaddr, int n, bool loads_only)
{
	struct ref_query q = {.n = n, .loads_only = loads_only};

	disasm_each(code, len, vaddr, match_ref, &q);
	return q.found;
}

struct prologue {
	int state;
	uint64_t found;
};

static int match_prologue(const struct insn *in, void *ctx)
{
	struct prologue *p = ctx;

	switch (p->state) {
	case 0: /* cmp rsp, [r14+0x10] (or a lea r12, [rsp-N]; cmp r12, [r14+0x10] for big frames) */
		if (!strcmp(in->mnemonic, "cmp") && strstr(in->op_str, "r14"))
			p->state = 1;
		else if (strcmp(in->mnemonic, "lea"))
			return -1;
		return 0;
	case 1: /* jbe/jb morestack */
		if (!in->is_jcc)
			return -1;
		p->state = 2;
		return 0;
	default:
		if (in->is_push && !strcmp(in->op_str, "rbp"))
			p->found = in->addr;
		return 1;
	}
}

uint64_t disasm_go_after_stack_check(const void *code, size_t len, uint64_t vaddr)
{
	struct prologue p = {0};

	/* Only the first few instructions matter. */
	disasm_each(code, MIN(len, (size_t)64), vaddr, match_prologue, &p);
	return p.found;
}

/* capstone register (any width) -> DISASM_* bit of its 64-bit register, 0 if none. */
static uint64_t reg_bit(unsigned int r)
{
	switch (r) {
	case X86_REG_RAX: case X86_REG_EAX: case X86_REG_AX: case X86_REG_AL: case X86_REG_AH:
		return DISASM_RAX;
	case X86_REG_RBX: case X86_REG_EBX: case X86_REG_BX: case X86_REG_BL: case X86_REG_BH:
		return DISASM_RBX;
	case X86_REG_RCX: case X86_REG_ECX: case X86_REG_CX: case X86_REG_CL: case X86_REG_CH:
		return DISASM_RCX;
	case X86_REG_RDX: case X86_REG_EDX: case X86_REG_DX: case X86_REG_DL: case X86_REG_DH:
		return DISASM_RDX;
	case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI: case X86_REG_SIL:
		return DISASM_RSI;
	case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI: case X86_REG_DIL:
		return DISASM_RDI;
	case X86_REG_R8: case X86_REG_R8D: case X86_REG_R8W: case X86_REG_R8B:
		return DISASM_R8;
	case X86_REG_R9: case X86_REG_R9D: case X86_REG_R9W: case X86_REG_R9B:
		return DISASM_R9;
	default:
		return 0;
	}
}

static bool writes_sp_or(csh h, const cs_insn *ci, uint64_t mask)
{
	cs_regs rd, wr;
	uint8_t nrd, nwr;

	if (cs_regs_access(h, ci, rd, &nrd, wr, &nwr))
		return true; /* cannot tell: assume the worst */
	for (int i = 0; i < nwr; i++) {
		if (wr[i] == X86_REG_RSP || wr[i] == X86_REG_ESP || wr[i] == X86_REG_SP)
			return true;
		if (reg_bit(wr[i]) & mask)
			return true;
	}
	return false;
}

uint64_t disasm_first_emulated(const void *code, size_t len, uint64_t vaddr, uint64_t clobber_mask)
{
	const uint8_t *p = code;
	uint64_t addr = vaddr, found = vaddr;
	cs_insn *ci;
	struct insn in;
	csh h;

	if (get_handle(&h))
		return vaddr;
	ci = cs_malloc(h);
	if (!ci)
		return vaddr;
	len = MIN(len, (size_t)64);
	while (len && cs_disasm_iter(h, &p, &len, &addr, ci)) {
		fill(h, ci, &in);
		/* The probe fires before the instruction runs, so even a push qualifies. */
		if (in.emulated) {
			found = in.addr;
			break;
		}
		if (in.is_call || in.is_jmp || in.is_jcc || in.is_ret ||
		    writes_sp_or(h, ci, clobber_mask))
			break;
	}
	cs_free(ci, 1);
	return found;
}
