// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "lib/intern.h"
#include "lib/util.h"
#include "target/maps.h"
#include "target/proc.h"

struct load_key {
	uint64_t dev, ino, bias;
};

void maps_watch_init(struct maps_watch *w, pid_t pid)
{
	memset(w, 0, sizeof(*w));
	w->pid = pid;
	hmap_init(&w->files, 2 * sizeof(uint64_t), 0);
	hmap_init(&w->loads, sizeof(struct load_key), 0);
}

void maps_watch_free(struct maps_watch *w)
{
	free(w->cur);
	free(w->log);
	hmap_free(&w->files);
	hmap_free(&w->loads);
	memset(w, 0, sizeof(*w));
}

static void log_news(struct maps_watch *w, struct modfile *mf, const char *open_path,
		     uint64_t start, uint64_t pgoff, uint64_t bias, bool bias_ok)
{
	uint64_t file[2] = {mf->dev, mf->ino};
	struct load_key k = {mf->dev, mf->ino, bias_ok ? bias : ~0ull};
	bool new_file, new_load;

	hmap_put(&w->loads, &k, &new_load);
	if (!new_load)
		return;
	hmap_put(&w->files, file, &new_file);
	if (w->nlog == w->cap_log) {
		w->cap_log = w->cap_log ? 2 * w->cap_log : 32;
		w->log = xrealloc(w->log, w->cap_log * sizeof(*w->log));
	}
	w->log[w->nlog++] = (struct mapping_news){mf, intern(open_path), start, pgoff, bias,
						  bias_ok, new_file};
}

void maps_watch_expect(struct maps_watch *w, const char *open_path)
{
	struct modfile *mf;
	int err;

	mf = modfile_get(open_path, &err);
	if (mf)
		log_news(w, mf, open_path, 0, 0, 0, false);
}

/*
 * A file the target maps code from that leakscope cannot open: said once per file
 * when it is there but unreadable (not ELF, damaged); a vanished one only in debug.
 */
static void cannot_open(const struct proc_map *m, const char *path, int err)
{
	static struct hmap said; /* {dev, inode} */
	uint64_t k[2] = {makedev(m->dev_major, m->dev_minor), m->inode};
	bool created;

	if (err == -ENOENT) {
		log_debug("cannot open %s (%s): its frames stay unresolved", path, strerror(-err));
		return;
	}
	if (!said.slot_size)
		hmap_init(&said, sizeof(k), 0);
	hmap_put(&said, k, &created);
	if (created)
		log_warn("cannot read symbols of %s: %s; its frames show as addresses", m->path,
			 err == -ENOEXEC ? "it is not a 64-bit ELF file leakscope can read"
					 : strerror(-err));
}

/* Same mappings as before: nothing to redo. */
static bool same_as_cur(const struct maps_watch *w, const struct proc_maps *maps)
{
	size_t k = 0;

	for (size_t i = 0; i < maps->n; i++) {
		const struct proc_map *m = &maps->v[i];

		if (m->perms[2] != 'x')
			continue;
		if (k == w->ncur || w->cur[k].start != m->start || w->cur[k].end != m->end ||
		    w->cur[k].ino != m->inode || w->cur[k].pgoff != m->pgoff)
			return false;
		k++;
	}
	return k == w->ncur;
}

int maps_watch_refresh(struct maps_watch *w)
{
	struct proc_maps maps;
	size_t n = 0;

	if (proc_maps_read(w->pid, &maps))
		return -ESRCH;
	/* A process that has exited (a zombie) maps nothing: keep what it mapped, for the
	 * frames of what it left behind. */
	if (!maps.n && w->ncur) {
		proc_maps_free(&maps);
		return -ESRCH;
	}
	w->last_ns = now_ns();
	if (same_as_cur(w, &maps)) {
		proc_maps_free(&maps);
		return 0;
	}
	free(w->cur);
	w->cur = xcalloc(maps.n ? maps.n : 1, sizeof(*w->cur));
	for (size_t i = 0; i < maps.n; i++) {
		const struct proc_map *m = &maps.v[i];
		struct mapping *c;
		const char *base;
		char *path;
		int err;

		if (m->perms[2] != 'x')
			continue;
		c = &w->cur[n++];
		c->start = m->start;
		c->end = m->end;
		c->pgoff = m->pgoff;
		c->ino = m->inode;
		c->dev = makedev(m->dev_major, m->dev_minor);
		base = strrchr(m->path, '/');
		c->name = intern(base ? base + 1 : m->path);
		c->path = intern(m->path);
		if (m->path[0] != '/')
			continue; /* [vdso], anonymous JIT code */
		path = proc_map_open_path(w->pid, m);
		c->mf = modfile_get(path, &err);
		if (!c->mf)
			cannot_open(m, path, err);
		else if (!elf_load_bias(c->mf->elf, m->start, m->pgoff, &c->bias))
			c->bias_ok = true;
		if (c->mf)
			modfile_warn(c->mf, m->path);
		if (c->mf)
			log_news(w, c->mf, path, m->start, m->pgoff, c->bias, c->bias_ok);
		free(path);
	}
	w->ncur = n;
	w->gen++;
	proc_maps_free(&maps);
	return 0;
}

const struct mapping *maps_watch_find(const struct maps_watch *w, uint64_t pc)
{
	size_t lo = 0, hi = w->ncur;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pc < w->cur[mid].start)
			hi = mid;
		else if (pc >= w->cur[mid].end)
			lo = mid + 1;
		else
			return &w->cur[mid];
	}
	return NULL;
}

int maps_watch_bias(const struct maps_watch *w, const struct modfile *mf, uint64_t *bias)
{
	/* Executable mappings only: a read-only mapping of the same file may be anyone's
	 * mmap (ours, inherited by a launched child before exec). */
	for (size_t i = 0; i < w->ncur; i++) {
		const struct mapping *m = &w->cur[i];

		if (m->mf == mf && m->bias_ok) {
			*bias = m->bias;
			return 0;
		}
		/* The same file, seen through a path we could not open. */
		if (!m->mf && m->ino == mf->ino && m->dev == mf->dev &&
		    !elf_load_bias(mf->elf, m->start, m->pgoff, bias))
			return 0;
	}
	return -ENOENT;
}
