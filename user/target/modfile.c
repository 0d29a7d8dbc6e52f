// SPDX-License-Identifier: GPL-2.0
#include <elf.h>
#include <errno.h>
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
