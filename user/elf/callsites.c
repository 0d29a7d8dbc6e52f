// SPDX-License-Identifier: GPL-2.0
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "elf/callsites.h"
#include "lib/util.h"

#define REG_RSP 7
#define REG_RBP 6

struct addrset {
	uint64_t *v;
	size_t n, cap;
};

static void set_add(struct addrset *s, uint64_t a)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = a;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void set_sort(struct addrset *s)
{
	if (s->n) /* an empty set has no array: qsort's is declared non-null */
		qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
}

static bool set_has(const struct addrset *s, uint64_t a)
{
	return s->n && bsearch(&a, s->v, s->n, sizeof(*s->v), cmp_u64);
}

static bool wanted(const char *name, const char *const *names, size_t nnames)
{
	for (size_t i = 0; i < nnames; i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/* GOT slots the dynamic linker fills with the address of one of names. */
static void find_got_slots(struct elf_file *f, const char *const *names, size_t nnames,
			   struct addrset *got)
{
	Elf *e = f->elf;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d, *symd;
		GElf_Shdr symsh;
		Elf_Scn *symscn;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
			continue;
		symscn = elf_getscn(e, sh.sh_link);
		if (!symscn || !gelf_getshdr(symscn, &symsh))
			continue;
		d = elf_getdata(scn, NULL);
		symd = elf_getdata(symscn, NULL);
		if (!d || !symd)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;
			GElf_Sym sym;
			const char *name;
			int type;

			if (!gelf_getrela(d, i, &r))
				continue;
			type = GELF_R_TYPE(r.r_info);
			if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) ||
			    !gelf_getsym(symd, GELF_R_SYM(r.r_info), &sym))
				continue;
			name = elf_strptr(e, symsh.sh_link, sym.st_name);
			if (name && wanted(name, names, nnames))
				set_add(got, r.r_offset);
		}
	}
}

static const char *section_name(struct elf_file *f, const GElf_Shdr *sh)
{
	size_t shstrndx;

	if (elf_getshdrstrndx(f->elf, &shstrndx))
		return "";
	const char *n = elf_strptr(f->elf, shstrndx, sh->sh_name);
	return n ? n : "";
}

/* Whether a section's bytes lie in the file (by subtraction: the sum can wrap). */
static bool in_file(const struct elf_file *f, const GElf_Shdr *sh)
{
	return sh->sh_offset <= f->size && sh->sh_size <= f->size - sh->sh_offset;
}

static int32_t rd32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * PLT entries that jump through one of the GOT slots: `jmp *slot(%rip)` (ff 25),
 * maybe `bnd`-prefixed and after an endbr64 (.plt.sec with IBT). Calls go to the
 * entry's first byte, which is any of those.
 */
static void find_plt_stubs(struct elf_file *f, const struct addrset *got, struct addrset *targets)
{
	static const uint8_t endbr64[] = {0xf3, 0x0f, 0x1e, 0xfa};
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(f->elf, scn))) {
		const uint8_t *p;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    strncmp(section_name(f, &sh), ".plt", 4) || !in_file(f, &sh))
			continue;
		p = (const uint8_t *)f->map + sh.sh_offset;
		for (uint64_t i = 0; i + 6 <= sh.sh_size; i++) {
			uint64_t a = sh.sh_addr + i;

			if (p[i] != 0xff || p[i + 1] != 0x25 ||
			    !set_has(got, a + 6 + rd32(p + i + 2)))
				continue;
			set_add(targets, a);
			if (i >= 1 && p[i - 1] == 0xf2) {
				set_add(targets, a - 1);
				if (i >= 5 && !memcmp(p + i - 5, endbr64, 4))
					set_add(targets, a - 5);
			} else if (i >= 4 && !memcmp(p + i - 4, endbr64, 4)) {
				set_add(targets, a - 4);
			}
		}
	}
}

/* Where the caller's return address and rbp are at ret, if the code there keeps no frame. */
static bool frameless_rule(Dwarf_CFI *cfi, uint64_t ret, struct callsite *cs)
{
	Dwarf_Frame *fr;
	Dwarf_Op *ops, mem[3];
	size_t nops;
	bool ok = false;

	/* ret - 1: still inside the call, whatever follows it. */
	if (dwarf_cfi_addrframe(cfi, ret - 1, &fr))
		return false;
	if (!dwarf_frame_cfa(fr, &ops, &nops) && nops == 1 && ops[0].atom == DW_OP_bregx &&
	    ops[0].number == REG_RSP && (int64_t)ops[0].number2 >= 8 &&
	    (int64_t)ops[0].number2 < (1 << 20)) {
		cs->ret = ret;
		cs->cfa_off = (int32_t)ops[0].number2;
		cs->rbp_off = 0;
		ok = true;
		if (!dwarf_frame_register(fr, REG_RBP, mem, &ops, &nops) && ops && nops == 2 &&
		    ops[0].atom == DW_OP_call_frame_cfa && ops[1].atom == DW_OP_plus_uconst)
			cs->rbp_off = (int32_t)(int64_t)ops[1].number;
		else if (ops && nops)
			ok = false; /* rbp kept some other way: do not guess */
	}
	free(fr);
	return ok;
}

int callsites_find(struct elf_file *f, const char *const *names, size_t nnames,
		   struct callsite **out)
{
	struct addrset targets = {0}, got = {0};
	struct callsite *v = NULL;
	size_t n = 0, cap = 0;
	Dwarf_CFI *cfi;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	*out = NULL;
	cfi = dwarf_getcfi_elf(f->elf);
	if (!cfi)
		return 0; /* no .eh_frame: nothing to go by */
	for (size_t i = 0; i < nnames; i++) {
		struct elf_symbol s;

		if (!elf_find_symbol(f, names[i], &s) && s.addr)
			set_add(&targets, s.addr);
	}
	find_got_slots(f, names, nnames, &got);
	set_sort(&got);
	find_plt_stubs(f, &got, &targets);
	set_sort(&targets);

	/*
	 * Every `call rel32` (e8) to a target and `call *slot(%rip)` (ff 15) through a
	 * slot, found by bytes rather than decoding: a false match inside another
	 * instruction only adds an entry for an address that is never a return
	 * address, and the rule stored is right for the address whatever called there.
	 */
	while ((scn = elf_nextscn(f->elf, scn))) {
		const uint8_t *p;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR) || !strncmp(section_name(f, &sh), ".plt", 4) ||
		    !in_file(f, &sh))
			continue;
		p = (const uint8_t *)f->map + sh.sh_offset;
		for (uint64_t i = 0; i + 6 <= sh.sh_size; i++) {
			uint64_t a = sh.sh_addr + i, ret = 0;
			struct callsite cs;

			if (p[i] == 0xe8 && set_has(&targets, a + 5 + rd32(p + i + 1)))
				ret = a + 5;
			else if (p[i] == 0xff && p[i + 1] == 0x15 && set_has(&got, a + 6 + rd32(p + i + 2)))
				ret = a + 6;
			if (!ret || !frameless_rule(cfi, ret, &cs))
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 256;
				v = xrealloc(v, cap * sizeof(*v));
			}
			v[n++] = cs;
		}
	}
	dwarf_cfi_end(cfi);
	free(targets.v);
	free(got.v);
	*out = v;
	return n;
}
