// SPDX-License-Identifier: GPL-2.0
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf/cfi.h"
#include "lib/util.h"

#define REG_RBP 6
#define REG_RSP 7

/* .eh_frame_hdr pointer encodings this reads (what GNU ld and lld write). */
#define PE_UDATA4 0x03
#define PE_SDATA4 0x0b
#define PE_PCREL 0x10
#define PE_DATAREL 0x30

struct rows {
	struct cfi_row *v;
	size_t n, cap;
};

static void add_row(struct rows *r, const struct cfi_row *row)
{
	if (r->n) {
		struct cfi_row *last = &r->v[r->n - 1];

		/* Same rule as the row before: nothing changes here. */
		if (last->cfa == row->cfa && last->cfa_off == row->cfa_off &&
		    last->rbp_saved == row->rbp_saved && last->rbp_off == row->rbp_off)
			return;
		if (last->pc == row->pc) {
			*last = *row;
			return;
		}
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 4096;
		r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	r->v[r->n++] = *row;
}

/* The rule in effect at addr, and the end of the range it covers. */
static bool rule_at(Dwarf_CFI *cfi, uint64_t addr, struct cfi_row *row, uint64_t *end)
{
	Dwarf_Addr start, stop;
	Dwarf_Frame *fr;
	Dwarf_Op *ops, mem[3];
	size_t nops;
	bool signalp;

	if (dwarf_cfi_addrframe(cfi, addr, &fr))
		return false;
	memset(row, 0, sizeof(*row));
	row->pc = addr;
	dwarf_frame_info(fr, &start, &stop, &signalp);
	*end = stop;
	if (dwarf_frame_cfa(fr, &ops, &nops)) {
		row->cfa = CFI_STOP;
	} else if (nops == 1 && ops[0].atom == DW_OP_bregx &&
		   (ops[0].number == REG_RSP || ops[0].number == REG_RBP) &&
		   (int64_t)ops[0].number2 >= -(1ll << 30) && (int64_t)ops[0].number2 < (1ll << 30)) {
		row->cfa = ops[0].number == REG_RSP ? CFI_RSP : CFI_RBP;
		row->cfa_off = (int32_t)ops[0].number2;
	} else {
		row->cfa = CFI_FP; /* an expression (PLT entries, signal frames) */
	}
	if (row->cfa != CFI_STOP && !dwarf_frame_register(fr, REG_RBP, mem, &ops, &nops) && ops &&
	    nops == 2 && ops[0].atom == DW_OP_call_frame_cfa && ops[1].atom == DW_OP_plus_uconst &&
	    (int64_t)ops[1].number >= -32768 && (int64_t)ops[1].number < 0) {
		row->rbp_saved = 1;
		row->rbp_off = (int16_t)(int64_t)ops[1].number;
	}
	free(fr);
	return true;
}

static bool read_encoded(const uint8_t *p, const uint8_t *end, uint8_t enc, uint64_t hdr_addr,
			 uint64_t field_addr, uint64_t *out, size_t *len)
{
	int32_t s;
	uint32_t u;

	if (p + 4 > end)
		return false;
	switch (enc & 0x0f) {
	case PE_UDATA4:
		memcpy(&u, p, 4);
		*out = u;
		break;
	case PE_SDATA4:
		memcpy(&s, p, 4);
		*out = (uint64_t)(int64_t)s;
		break;
	default:
		return false;
	}
	switch (enc & 0x70) {
	case 0:
		break;
	case PE_PCREL:
		*out += field_addr;
		break;
	case PE_DATAREL:
		*out += hdr_addr;
		break;
	default:
		return false;
	}
	*len = 4;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int cfi_table_build(struct elf_file *f, struct cfi_row **out)
{
	struct elf_section hdr;
	struct rows r = {0};
	const uint8_t *p, *end;
	uint64_t eh_frame, count, *starts;
	Dwarf_CFI *cfi;
	size_t len;

	*out = NULL;
	/* The sorted table of FDE start addresses the unwinder in libgcc uses. */
	if (elf_find_section(f, ".eh_frame_hdr", &hdr) || !hdr.data || hdr.size < 12)
		return 0;
	p = hdr.data;
	end = p + hdr.size;
	if (p[0] != 1 ||
	    !read_encoded(p + 4, end, p[1], hdr.vaddr, hdr.vaddr + 4, &eh_frame, &len) ||
	    !read_encoded(p + 8, end, p[2], hdr.vaddr, hdr.vaddr + 8, &count, &len) ||
	    (p[3] & 0x0f) != PE_SDATA4 || count > (uint64_t)(end - p - 12) / 8)
		return 0;
	starts = xmalloc((count + 1) * sizeof(*starts));
	for (uint64_t i = 0; i < count; i++) {
		uint64_t a = hdr.vaddr + 12 + 8 * i;

		if (!read_encoded(p + 12 + 8 * i, end, p[3], hdr.vaddr, a, &starts[i], &len)) {
			free(starts);
			return 0;
		}
	}
	qsort(starts, count, sizeof(*starts), cmp_u64);
	starts[count] = ~0ull;

	cfi = dwarf_getcfi_elf(f->elf);
	if (!cfi) {
		free(starts);
		return 0;
	}
	for (uint64_t i = 0; i < count; i++) {
		uint64_t a = starts[i], next = starts[i + 1], stop;
		struct cfi_row row;

		/* Rows of this FDE, each from where the last one ends. */
		while (a < next && a < (1ull << 32) && rule_at(cfi, a, &row, &stop) && stop > a) {
			add_row(&r, &row);
			a = stop;
		}
		/* A gap before the next FDE (or past the last): nothing known there. */
		if (a < next && a < (1ull << 32)) {
			row = (struct cfi_row){.pc = a, .cfa = CFI_STOP};
			add_row(&r, &row);
		}
	}
	dwarf_cfi_end(cfi);
	free(starts);
	*out = r.v;
	return r.n;
}
