// SPDX-License-Identifier: GPL-2.0
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "lib/hashmap.h"
#include "lib/util.h"
#include "target/modfile.h"

struct file_key {
	uint64_t dev, ino;
};

struct modfile *modfile_get(const char *path, int *err)
{
	static struct hmap files; /* struct file_key -> struct modfile * */
	struct modfile **slot, *mf;
	struct file_key k;
	struct stat st;

	if (stat(path, &st) < 0) {
		*err = -errno;
		return NULL;
	}
	if (!files.slot_size)
		hmap_init(&files, sizeof(k), sizeof(mf));
	k = (struct file_key){st.st_dev, st.st_ino};
	slot = hmap_get(&files, &k);
	if (slot)
		return *slot;
	mf = xcalloc(1, sizeof(*mf));
	*err = elf_open(path, &mf->elf);
	if (*err) {
		free(mf);
		return NULL;
	}
	mf->dev = mf->elf->dev;
	mf->ino = mf->elf->ino;
	if (gobin_open(mf->elf, &mf->gb))
		mf->gb = NULL;
	*(struct modfile **)hmap_put(&files, &k, NULL) = mf;
	return mf;
}

int modfile_func_entry(const struct modfile *mf, uint64_t addr, uint64_t *entry)
{
	struct elf_symbol s = {0};
	struct gofunc f;
	int r;

	if (mf->gb && mf->gb->pcln && !gopclntab_func_at(mf->gb->pcln, addr, &f)) {
		*entry = f.entry;
		return 0;
	}
	/* As the symbolizer decides: a sized symbol that ends before addr is not it. */
	r = elf_symbol_at(mf->elf, addr, &s);
	if (s.type != STT_FUNC || !(r == 0 || (r == 1 && !s.size)))
		return -ENOENT;
	*entry = s.addr;
	return 0;
}

const char *modfile_problem(const struct modfile *mf, char *buf, size_t len)
{
	const struct elf_file *e = mf->elf;

	if (mf->gb && !mf->gb->pcln) {
		if (mf->gb->pcln_why[0])
			snprintf(buf, len, "%s", mf->gb->pcln_why);
		else if (e->sym_why[0])
			snprintf(buf, len, "%s, and its Go symbol table is not in its segments",
				 e->sym_why);
		else
			snprintf(buf, len, "its Go symbol table (.gopclntab) cannot be read (%s)",
				 mf->gb->pcln_err == -ENOENT ? "not found"
							     : strerror(-mf->gb->pcln_err));
		return buf;
	}
	if (mf->gb && mf->gb->from_segments) {
		snprintf(buf, len, "%s; its Go symbol table, found in its segments, is used",
			 mf->gb->pcln_why[0] ? mf->gb->pcln_why
			 : e->sym_why[0]     ? e->sym_why
					     : "its section headers do not lead to its Go symbol table");
		return buf;
	}
	if (mf->gb || !e->sym_why[0])
		return NULL; /* Go: .gopclntab has every name; a damaged .symtab takes nothing */
	snprintf(buf, len, "%s; %s", e->sym_why,
		 e->ndsym ? "its dynamic symbols are read from its dynamic segment"
			  : "its frames show as addresses");
	return buf;
}

void modfile_warn(struct modfile *mf, const char *name)
{
	char why[512];

	if (mf->warned)
		return;
	mf->warned = true;
	if (modfile_problem(mf, why, sizeof(why)))
		log_warn("cannot read symbols of %s: %s", name, why);
}
