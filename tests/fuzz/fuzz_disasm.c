// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the x86-64 decoding leakscope places probes with
 * (user/elf/disasm.c, capstone underneath). Input: an 8-byte link-time address, an
 * 8-byte word that picks the query parameters, then the code. Every query runs on it;
 * whatever the bytes, nothing may crash, and every address handed back must be one of
 * an instruction inside the code (or what the query documents for "none").
 */
#include "elf/disasm.h"
#include "fuzz.h"

struct walk {
	uint64_t vaddr, end, next;
	size_t n;
};

static int each(const struct insn *in, void *ctx)
{
	struct walk *w = ctx;

	/* Instructions follow each other without gaps or overlap, inside the code. */
	if (in->addr != w->next || !in->size || in->size > 15 || in->addr + in->size > w->end)
		abort();
	w->next = in->addr + in->size;
	fuzz_str(in->mnemonic);
	fuzz_str(in->op_str);
	if (in->emulated && !(in->is_push || in->is_nop || in->branch_target))
		abort();
	return ++w->n == 4096;
}

static void inside(uint64_t a, uint64_t vaddr, size_t len, bool zero_ok)
{
	if ((a == 0 && zero_ok) || (a >= vaddr && a - vaddr < len))
		return;
	fprintf(stderr, "address %#llx outside the code [%#llx, +%zu)\n", (unsigned long long)a,
		(unsigned long long)vaddr, len);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t vaddr, param, rets[8];
	const uint8_t *code;
	size_t len;
	uint8_t *buf;
	struct insn in;
	struct walk w;
	int n;

	if (size < 16)
		return 0;
	memcpy(&vaddr, data, 8);
	memcpy(&param, data + 8, 8);
	/* Keep the code clear of the top of the address space: a wrapped address is no pc. */
	vaddr &= 0x00007fffffffffffull;
	buf = fuzz_copy(data + 16, size - 16);
	code = buf;
	len = size - 16;

	w = (struct walk){vaddr, vaddr + len, vaddr, 0};
	disasm_each(code, len, vaddr, each, &w);
	n = disasm_find_rets(code, len, vaddr, rets, 1 + param % 8);
	for (int i = 0; i < n; i++)
		inside(rets[i], vaddr, len, false);
	inside(disasm_find_call(code, len, vaddr, vaddr + (param >> 8) % (len + 64)), vaddr, len,
	       true);
	disasm_nth_rip_ref(code, len, vaddr, (param >> 16) % 4, param & 0x100);
	inside(disasm_go_after_stack_check(code, len, vaddr), vaddr, len, true);
	inside(disasm_first_emulated(code, len, vaddr, param >> 32), vaddr, len ? len : 1, false);
	if (!disasm_one(code, len, vaddr, &in) && (in.addr != vaddr || in.size > len))
		abort();
	free(buf);
	return 0;
}
