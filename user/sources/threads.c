// SPDX-License-Identifier: GPL-2.0
/*
 * Live threads by creation stack, for native and Go targets. Creations are seen
 * by a uprobe where a thread is asked for (pthread_create in whichever library
 * of the target defines it; runtime.newm1 in Go, where the runtime starts an M)
 * and handed to the new thread's id by the task_newtask tracepoint; exits by the
 * sched_process_exit tracepoint (bpf/threads.bpf.c). The BPF threads map thus
 * holds the live threads: each interval it is read whole and grouped by site.
 * /proc/PID/task gives thread names and catches any thread the map lacks, so a
 * thread is never silently left out.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpfio/bpfmap.h"
#include "elf/disasm.h"
#include "target/proc.h"
#include "session.h"
#include "stacks.h"
#include "threads.h"
#include "threads.skel.h"

struct file_id {
	uint64_t maj, min, ino;
};

/* Per BPF site key: the counts as last read, and the series site it maps to. */
struct site_rec {
	struct thr_site_key key;
	struct thr_counts c; /* cumulative, as read last interval */
	struct site *site;   /* NULL until known */
	bool used;
};

struct task {
	uint32_t tid;
	bool zombie;
	bool in_map; /* matched to a threads map entry this interval */
	char name[64];
};

struct task_list {
	struct task *v;
	size_t n, cap;
};

struct name_slot {
	char *name;
	uint64_t hash;
};

/* A pthread_create to probe: the file (as the target maps it) and the probe's address. */
struct lib_probe {
	char *path;
	const struct elf_file *elf;
	uint64_t vaddr;
};

struct tsrc {
	struct threads_bpf *skel;
	bool entry_loaded; /* thr_creator_entry loaded (not every target needs it) */
	struct bpf_link **links; /* uprobes */
	int nlinks;
	struct bpf_link *newtask_link, *exit_link;
	struct file_id *seen; /* mapped files already looked at for pthread_create */
	size_t nseen;
	struct lib_probe *libs; /* files defining pthread_create; the first nlibs_done probed */
	size_t nlibs, nlibs_done;
	bool go;
	struct stack_store stacks;
	struct map_dump tmap, smap;
	struct site_rec *recs; /* open-addressed by key hash */
	size_t nrecs, cap_recs;
	struct task_list tasks;
	struct name_slot *names; /* folded thread names, stable pointers for site states */
	size_t nnames, cap_names;
	int64_t untracked_prev; /* live in the "not seen at creation" site last interval */
};

/* ---- where to probe ---------------------------------------------------------------- */

/*
 * Where to probe a C function so that its caller is still at [rsp]: the first
 * instruction the kernel emulates before anything moves rsp (pthread_create in
 * Debian's glibc starts with `push r15`), else the entry, single-stepped, which
 * for something as rare as a thread creation is still cheap enough.
 */
static uint64_t native_entry_probe(const struct elf_file *elf, const struct elf_symbol *sym)
{
	size_t len = sym->size ? MIN(sym->size, (uint64_t)64) : 16;
	const void *code = elf_vaddr_ptr(elf, sym->addr, len);

	return code ? disasm_first_emulated(code, len, sym->addr, 0) : sym->addr;
}

struct body_scan {
	bool frame_ready; /* past `lea rbp, [rsp+N]` */
	int seen;
	uint64_t first, found;
};

static int scan_body(const struct insn *in, void *ctx)
{
	struct body_scan *b = ctx;

	if (++b->seen > 16)
		return 1;
	if (!b->frame_ready) {
		if (!strcmp(in->mnemonic, "lea") && !strncmp(in->op_str, "rbp, ", 5))
			b->frame_ready = true;
		return 0;
	}
	if (!b->first)
		b->first = in->addr;
	if (in->emulated) {
		b->found = in->addr;
		return 1;
	}
	/* Only the straight line from the frame setup is sure to run on every call. */
	return in->is_ret || in->is_jmp || in->is_jcc || in->is_call;
}

/*
 * The probe in a Go function: the `push rbp` after the stack-bound check (Go 1.21+;
 * emulated, caller at [rsp], never re-entered through morestack), else (1.19, 1.20,
 * whose prologue is sub/mov/lea) the first emulated instruction once rbp holds the
 * function's own frame, else the first instruction there.
 */
static uint64_t go_entry_probe(const struct gobin *gb, const struct gofunc *f, bool *caller_at_sp)
{
	struct body_scan b = {0};
	const void *code;
	uint64_t a;
	size_t len;

	code = gobin_code(gb, f, &len);
	if (!code)
		return 0;
	a = disasm_go_after_stack_check(code, len, f->entry);
	if (a) {
		*caller_at_sp = true;
		return a;
	}
	disasm_each(code, MIN(len, (size_t)128), f->entry, scan_body, &b);
	*caller_at_sp = false;
	return b.found ? b.found : b.first;
}

/*
 * Attach prog at vaddr of elf (opened as path). Failures at attach are fatal (f set);
 * later ones, for a library loaded since, are warnings (f NULL).
 */
static int attach_probe(struct session *s, struct tsrc *t, struct bpf_program *prog,
			const char *path, const struct elf_file *elf, uint64_t vaddr,
			enum thr_kind kind, const char *what, struct fatal *f)
{
	struct bpf_link *l = uprobe_attach(s, prog, path, elf, vaddr, kind, what, f);

	if (!l)
		return -ENOENT; /* *f says why */
	t->links = xrealloc(t->links, (t->nlinks + 1) * sizeof(*t->links));
	t->links[t->nlinks++] = l;
	return 0;
}

static bool seen_file(struct tsrc *t, const struct proc_map *m)
{
	for (size_t i = 0; i < t->nseen; i++)
		if (t->seen[i].ino == m->inode && t->seen[i].maj == m->dev_major &&
		    t->seen[i].min == m->dev_minor)
			return true;
	t->seen = xrealloc(t->seen, (t->nseen + 1) * sizeof(*t->seen));
	t->seen[t->nseen++] = (struct file_id){m->dev_major, m->dev_minor, m->inode};
	return false;
}

/*
 * pthread_create in every file the target maps that defines it: libc.so.6 (glibc
 * 2.34+), libpthread.so.0 (older glibc), musl's libc, or the executable itself when
 * static. Files are opened through /proc/PID/map_files, i.e. the target's own
 * view, so a container's libc is the one probed. Looked for again each interval,
 * for libraries loaded since (dlopen, or a launched program after its exec).
 * Appends to t->libs what is new. -ESRCH when the target is gone.
 */
static int find_pthread_create(struct session *s, struct tsrc *t)
{
	struct proc_maps maps;

	if (proc_maps_read(s->pid, &maps))
		return -ESRCH;
	for (size_t i = 0; i < maps.n; i++) {
		const struct proc_map *m = &maps.v[i];
		struct elf_symbol sym;
		struct modfile *mf;
		char *path;
		int e;

		if (m->perms[2] != 'x' || m->path[0] != '/' || seen_file(t, m))
			continue;
		path = proc_map_open_path(s->pid, m);
		mf = modfile_get(path, &e);
		if (mf && !elf_find_symbol(mf->elf, "pthread_create", &sym) &&
		    (sym.type == STT_FUNC || sym.type == STT_GNU_IFUNC) && sym.addr) {
			t->libs = xrealloc(t->libs, (t->nlibs + 1) * sizeof(*t->libs));
			t->libs[t->nlibs++] = (struct lib_probe){
				path, mf->elf, native_entry_probe(mf->elf, &sym)};
		} else {
			free(path);
		}
	}
	proc_maps_free(&maps);
	return 0;
}

/* Probe what find_pthread_create() found and is not probed yet. */
static int attach_pthread_create(struct session *s, struct tsrc *t, struct fatal *f)
{
	int err = 0;

	for (; t->nlibs_done < t->nlibs && !err; t->nlibs_done++) {
		const struct lib_probe *lp = &t->libs[t->nlibs_done];

		if (!t->entry_loaded) {
			/* A pure Go 1.19/1.20 program does not map a libc later; say so if one does. */
			log_warn("threads: pthread_create in %s appeared after attach: not probed",
				 lp->path);
			continue;
		}
		err = attach_probe(s, t, t->skel->progs.thr_creator_entry, lp->path, lp->elf,
				   lp->vaddr, THR_KIND_PTHREAD, "pthread_create", f);
	}
	return err;
}

/* ---- the target's threads from /proc ----------------------------------------------- */

/* Reads /proc/PID/task/TID/stat: "TID (NAME) STATE ...". */
static int read_task(int dirfd, const char *tid, struct task *out)
{
	char path[64], buf[512], *lp, *rp;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/stat", tid);
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = 0;
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!lp || !rp || rp < lp || !rp[1] || !rp[2])
		return -EINVAL;
	*rp = 0;
	snprintf(out->name, sizeof(out->name), "%s", lp + 1);
	out->zombie = rp[2] == 'Z' || rp[2] == 'X';
	out->in_map = false;
	out->tid = strtoul(buf, NULL, 10);
	return 0;
}

static int cmp_task(const void *a, const void *b)
{
	const struct task *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* The target's threads, sorted by id, zombies dropped. -ESRCH when the process is gone. */
static int tasks_read(pid_t pid, struct task_list *tl)
{
	char path[64];
	struct dirent *de;
	DIR *d;

	tl->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d))) {
		struct task tk;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (read_task(dirfd(d), de->d_name, &tk) || tk.zombie)
			continue; /* gone meanwhile; an exited leader stays as a zombie */
		if (tl->n == tl->cap) {
			tl->cap = tl->cap ? 2 * tl->cap : 256;
			tl->v = xrealloc(tl->v, tl->cap * sizeof(*tl->v));
		}
		tl->v[tl->n++] = tk;
	}
	closedir(d);
	if (!tl->n && kill(pid, 0) && errno == ESRCH)
		return -ESRCH;
	qsort(tl->v, tl->n, sizeof(*tl->v), cmp_task);
	return 0;
}

static struct task *task_find(struct task_list *tl, uint32_t tid)
{
	struct task key = {.tid = tid};

	return bsearch(&key, tl->v, tl->n, sizeof(*tl->v), cmp_task);
}

static bool task_alive(pid_t pid, uint32_t tid)
{
	char path[64], dir[64];
	struct task tk;
	int dfd;
	bool alive;

	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	snprintf(path, sizeof(path), "%u", tid);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false;
	alive = !read_task(dfd, path, &tk) && !tk.zombie;
	close(dfd);
	return alive;
}

/*
 * A thread name as shown: numbered siblings are counted together, so "worker-1" and
 * "worker-2" are both "worker-*" (a digit run ending the name after a separator).
 * Stable pointers, one per folded name, for site_add_state().
 */
static const char *fold_name(struct tsrc *t, const char *name)
{
	char buf[80];
	size_t n = strlen(name), k = n;
	uint64_t h;

	while (k > 0 && name[k - 1] >= '0' && name[k - 1] <= '9')
		k--;
	if (k < n && k > 1 && strchr("-_.:/# ", name[k - 1]))
		snprintf(buf, sizeof(buf), "%.*s*", (int)k, name);
	else
		snprintf(buf, sizeof(buf), "%s", name);
	h = hash_bytes(buf, strlen(buf), 0);
	if (2 * (t->nnames + 1) > t->cap_names) {
		struct name_slot *old = t->names;
		size_t oldcap = t->cap_names;

		t->cap_names = t->cap_names ? 2 * t->cap_names : 64;
		t->names = xcalloc(t->cap_names, sizeof(*t->names));
		for (size_t i = 0; i < oldcap; i++) {
			size_t j = old[i].hash;

			if (!old[i].name)
				continue;
			while (t->names[j & (t->cap_names - 1)].name)
				j++;
			t->names[j & (t->cap_names - 1)] = old[i];
		}
		free(old);
	}
	for (size_t j = h;; j++) {
		struct name_slot *sl = &t->names[j & (t->cap_names - 1)];

		if (!sl->name) {
			sl->name = xstrdup(buf);
			sl->hash = h;
			t->nnames++;
			return sl->name;
		}
		if (sl->hash == h && !strcmp(sl->name, buf))
			return sl->name;
	}
}

/* ---- attach ------------------------------------------------------------------------ */

/*
 * Threads alive now were made before the probes: put them in the map under one
 * "existed at attach" site, so their exits are counted like any other.
 */
static void add_threads_at_attach(struct session *s, struct tsrc *t)
{
	int fd = bpf_map__fd(t->skel->maps.threads);
	struct thr_thread v = {.site = {.kind = THR_KIND_PRE}};
	uint32_t *added;
	size_t n = 0;

	if (tasks_read(s->pid, &t->tasks))
		return;
	added = xcalloc(t->tasks.n + 1, sizeof(*added));
	for (size_t i = 0; i < t->tasks.n; i++) {
		uint32_t tid = t->tasks.v[i].tid;

		/* Already there when created after the probes went in. */
		if (!bpf_map_update_elem(fd, &tid, &v, BPF_NOEXIST))
			added[n++] = tid;
	}
	/*
	 * One that ended between the listing and the insert would stay in the map for
	 * good. Once it is gone from /proc its exit tracepoint has run: if that was after
	 * the insert, it removed the entry and counted the exit (it did exist at attach).
	 */
	for (size_t i = 0; i < n; i++)
		if (!task_alive(s->pid, added[i]))
			bpf_map_delete_elem(fd, &added[i]);
	free(added);
}

static void free_libs(struct tsrc *t)
{
	for (size_t i = 0; i < t->nlibs; i++)
		free(t->libs[i].path);
	free(t->libs);
}

static int tsrc_attach(struct session *s, void **state)
{
	const struct config *cfg = s->cfg;
	struct gofunc newm;
	struct modfile *mf;
	struct tsrc *t;
	uint64_t go_probe = 0;
	bool go_at_entry = false;
	const char *go_func = NULL;
	int err;

	if (cfg->views_given && !cfg->views[VIEW_THREADS])
		return -ENOTSUP;
	t = xcalloc(1, sizeof(*t));
	mf = modfile_get(s->exe_path, &err);
	if (mf && mf->gb) {
		/*
		 * newm1 rather than newm: newm called on a locked M (LockOSThread, cgo
		 * callbacks) only queues the new M for the template thread, which then calls
		 * newm1; newm1 is always followed by the clone on its own thread, so what it
		 * records is never left over for an unrelated clone.
		 */
		static const char *const funcs[] = {"runtime.newm1", "runtime.newm"};

		for (size_t i = 0; i < ARRAY_SIZE(funcs) && !go_probe; i++)
			if (!gobin_func(mf->gb, funcs[i], &newm)) {
				go_probe = go_entry_probe(mf->gb, &newm, &go_at_entry);
				go_func = funcs[i];
			}
		if (!go_probe)
			log_warn("threads: runtime.newm not found in this Go binary; Go's own threads "
				 "are shown by the stack of their clone");
		t->go = true;
	}
	err = find_pthread_create(s, t);
	if (err) {
		fatal_set(&s->fatal, EXIT_NO_TARGET, "process %d exited while leakscope attached",
			  s->pid);
		goto fail;
	}
	if (!t->go && !t->nlibs) {
		/* Nothing that makes threads the usual way: not ours to report. */
		err = -ENOTSUP;
		goto fail;
	}

	t->skel = threads_bpf__open();
	if (!t->skel) {
		err = -errno;
		fatal_set(&s->fatal, EXIT_ERROR, "cannot open the threads BPF object: %s",
			  strerror(errno));
		goto fail;
	}
	t->skel->rodata->target_tgid = s->pid;
	t->skel->rodata->pidns_dev = s->pidns_dev;
	t->skel->rodata->pidns_ino = s->pidns_ino;
	bpf_map__set_map_flags(t->skel->maps.threads, BPF_F_NO_PREALLOC);
	bpf_map__set_max_entries(t->skel->maps.stacks, cfg->max_stacks);
	bpf_map__set_max_entries(t->skel->maps.sites, cfg->max_stacks);
	/* Each creator program costs a tenth of a second to verify: load only what is used. */
	t->entry_loaded = t->nlibs || !t->go || (go_probe && go_at_entry);
	bpf_program__set_autoload(t->skel->progs.thr_creator_entry, t->entry_loaded);
	bpf_program__set_autoload(t->skel->progs.thr_creator_body, go_probe && !go_at_entry);
	err = threads_bpf__load(t->skel);
	if (err) {
		bpf_load_error(&s->fatal, "threads", err);
		goto fail;
	}
	stack_store_init(&t->stacks, bpf_map__fd(t->skel->maps.stacks));

	if (go_probe) {
		err = attach_probe(s, t,
				   go_at_entry ? t->skel->progs.thr_creator_entry
					       : t->skel->progs.thr_creator_body,
				   s->exe_path, mf->elf, go_probe, THR_KIND_GO_NEWM, go_func, &s->fatal);
		if (err)
			goto fail;
	}
	err = attach_pthread_create(s, t, &s->fatal);
	if (err)
		goto fail;
	/* Tracepoints last: from here on every thread of the target is accounted for. */
	t->newtask_link = bpf_program__attach(t->skel->progs.thr_newtask);
	t->exit_link = t->newtask_link ? bpf_program__attach(t->skel->progs.thr_exit) : NULL;
	if (!t->exit_link) {
		err = -errno;
		fatal_set(&s->fatal, err == -EPERM ? EXIT_PERMISSION : EXIT_KERNEL,
			  "cannot attach the thread tracepoints (task_newtask, sched_process_exit): %s",
			  strerror(-err));
		goto fail;
	}
	add_threads_at_attach(s, t);
	s->views[VIEW_THREADS].active = true;
	*state = t;
	return 0;
fail:
	for (int i = 0; i < t->nlinks; i++)
		bpf_link__destroy(t->links[i]);
	free(t->links);
	bpf_link__destroy(t->newtask_link);
	threads_bpf__destroy(t->skel);
	stack_store_free(&t->stacks);
	free_libs(t);
	free(t->seen);
	free(t);
	return err;
}

/* ---- collect ----------------------------------------------------------------------- */

static size_t rec_slot(struct tsrc *t, const struct thr_site_key *k)
{
	size_t i = hash_bytes(k, sizeof(*k), 0);

	for (;; i++) {
		struct site_rec *p = &t->recs[i & (t->cap_recs - 1)];

		if (!p->used || !memcmp(&p->key, k, sizeof(*k)))
			return i & (t->cap_recs - 1);
	}
}

/* What we keep per BPF site key, found or made. */
static struct site_rec *rec_get(struct tsrc *t, const struct thr_site_key *k)
{
	struct site_rec *r;

	if (2 * (t->nrecs + 1) > t->cap_recs) {
		struct site_rec *old = t->recs;
		size_t oldcap = t->cap_recs;

		t->cap_recs = t->cap_recs ? 2 * t->cap_recs : 256;
		t->recs = xcalloc(t->cap_recs, sizeof(*t->recs));
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].used)
				t->recs[rec_slot(t, &old[i].key)] = old[i];
		free(old);
	}
	r = &t->recs[rec_slot(t, k)];
	if (!r->used) {
		r->used = true;
		r->key = *k;
		t->nrecs++;
	}
	return r;
}

/*
 * A Go thread's stack begins at runtime.mstart, but the rbp chain can run on into
 * stale frames left below it (seen with Go 1.19): cut there, so that stacks that
 * differ only in such leftovers are one site.
 */
static int go_thread_depth(struct session *s, const uint64_t *pcs, int n)
{
	for (int i = 0; i < n; i++) {
		const struct frames *fr = symbolize_pc(&s->sym, pcs[i], i > 0);

		if (fr->n && fr->v[fr->n - 1].func && !strcmp(fr->v[fr->n - 1].func, "runtime.mstart"))
			return i + 1;
	}
	return n;
}

static struct site *site_for(struct session *s, struct tsrc *t, const struct thr_site_key *k)
{
	struct site_rec *r = rec_get(t, k);
	const uint64_t *pcs = NULL;
	int n = 0;

	if (r->site)
		return r->site;
	if (k->kind == THR_KIND_PRE)
		return r->site = series_site(&s->series, VIEW_THREADS, NULL, 0, 0, SITE_PRE_ATTACH);
	pcs = stack_store_get(&t->stacks, k->stack, &n);
	if (!n)
		/* Not cached: the stack may yet turn up (it is read from the map on demand). */
		return series_site(&s->series, VIEW_THREADS, NULL, 0, 0, SITE_NO_STACK);
	if (t->go)
		n = go_thread_depth(s, pcs, n);
	/* Frame 0 is the probed instruction (pthread_create, runtime.newm1, the syscall). */
	return r->site = series_site(&s->series, VIEW_THREADS, pcs, n, 0, SITE_FRAME0_IS_PC);
}

static void add_live(struct series *ser, struct site *site, const char *name)
{
	site_now(ser, site)->live++;
	if (name)
		site_add_state(ser, site, name, 1);
}

static int tsrc_collect(struct session *s, void *state)
{
	struct tsrc *t = state;
	struct view_info *vi = &s->views[VIEW_THREADS];
	struct series *ser = &s->series;
	int tfd = bpf_map__fd(t->skel->maps.threads);
	struct site *untracked_site = NULL;
	int64_t pre = 0, untracked = 0;
	uint64_t t1;
	int err;

	if (!find_pthread_create(s, t))
		attach_pthread_create(s, t, NULL);

	/*
	 * Creations and exits per site up to t1. Threads recorded after t1 are left for
	 * the next interval, so that created and live agree.
	 */
	t1 = now_ns();
	err = map_dump_read(bpf_map__fd(t->skel->maps.sites), sizeof(struct thr_site_key),
			    sizeof(struct thr_counts), &t->smap);
	if (err)
		log_warn("reading the thread sites map: %s", strerror(-err));
	for (size_t i = 0; i < t->smap.n; i++) {
		const struct thr_site_key *k = map_dump_key(&t->smap, i);
		const struct thr_counts *cum = map_dump_value(&t->smap, i);
		struct site_rec *r = rec_get(t, k);
		struct sample *now;

		/* Since the last interval: cumulative now - cumulative then. */
		if (cum->created == r->c.created && cum->exited == r->c.exited)
			continue;
		now = site_now(ser, site_for(s, t, k));
		now->created += cum->created - r->c.created;
		now->freed += cum->exited - r->c.exited;
		r->c = *cum;
	}

	/* Names from /proc first, then the live threads as the tracepoints left them. */
	err = tasks_read(s->pid, &t->tasks);
	if (err == -ESRCH)
		return -ESRCH;
	err = map_dump_read(tfd, sizeof(uint32_t), sizeof(struct thr_thread), &t->tmap);
	if (err)
		log_warn("reading the threads map: %s", strerror(-err));
	for (size_t i = 0; i < t->tmap.n; i++) {
		uint32_t tid = *(uint32_t *)map_dump_key(&t->tmap, i);
		const struct thr_thread *th = map_dump_value(&t->tmap, i);
		struct task *tk = task_find(&t->tasks, tid);

		if (th->created_ns > t1)
			continue;
		if (tk)
			tk->in_map = true;
		if (th->site.kind == THR_KIND_PRE)
			pre++;
		add_live(ser, site_for(s, t, &th->site), tk ? fold_name(t, tk->name) : NULL);
	}
	/*
	 * Threads in /proc but not in the map: created just now (in the map by the time we
	 * look again), or lost (map full). The lost ones are still counted, without a
	 * stack, so the total is never short.
	 */
	for (size_t i = 0; i < t->tasks.n; i++) {
		struct task *tk = &t->tasks.v[i];
		struct thr_thread th;

		if (tk->in_map || !bpf_map_lookup_elem(tfd, &tk->tid, &th))
			continue;
		if (!untracked_site)
			untracked_site = series_site(ser, VIEW_THREADS, NULL, 0, 0, SITE_NO_STACK);
		add_live(ser, untracked_site, fold_name(t, tk->name));
		untracked++;
	}
	if (untracked || t->untracked_prev) {
		struct sample *now;

		/* No probe saw them come: their exits follow from the books. */
		if (!untracked_site)
			untracked_site = series_site(ser, VIEW_THREADS, NULL, 0, 0, SITE_NO_STACK);
		now = site_now(ser, untracked_site);
		if (t->untracked_prev > untracked)
			now->freed += t->untracked_prev - untracked;
	}
	t->untracked_prev = untracked;

	__u64 *c = t->skel->bss->counters;
	__u64 *se = t->skel->bss->stack_errors;
	vi->drops = c[THR_CNT_MAP_FULL] + c[THR_CNT_SITE_FULL] + se[LS_STACK_ERR_FULL] +
		    t->stacks.missing;
	vi->untracked = pre;
	vi->note[0] = 0;
	if (pre)
		snprintf(vi->note, sizeof(vi->note),
			 "%lld %s existed before attach: shown together, by name, without a "
			 "creation stack",
			 (long long)pre, pre == 1 ? "thread" : "threads");
	if (untracked) {
		size_t len = strlen(vi->note);

		snprintf(vi->note + len, sizeof(vi->note) - len,
			 "%s%lld %s created without being seen (counted, no stack)",
			 len ? "; " : "", (long long)untracked,
			 untracked == 1 ? "thread was" : "threads were");
	}
	log_debug("threads: %zu in the map, %zu in /proc, created %llu, exited %llu, clone "
		  "without probe %llu, unknown exits %llu",
		  t->tmap.n, t->tasks.n, (unsigned long long)c[THR_CNT_CREATED],
		  (unsigned long long)c[THR_CNT_EXITED], (unsigned long long)c[THR_CNT_NO_PROBE],
		  (unsigned long long)c[THR_CNT_EXIT_UNKNOWN]);
	return 0;
}

static void tsrc_detach(void *state)
{
	struct tsrc *t = state;

	bpf_link__destroy(t->exit_link);
	bpf_link__destroy(t->newtask_link);
	for (int i = 0; i < t->nlinks; i++)
		bpf_link__destroy(t->links[i]);
	free(t->links);
	threads_bpf__destroy(t->skel);
	stack_store_free(&t->stacks);
	free_libs(t);
	map_dump_free(&t->tmap);
	map_dump_free(&t->smap);
	free(t->recs);
	free(t->tasks.v);
	for (size_t i = 0; i < t->cap_names; i++)
		free(t->names[i].name);
	free(t->names);
	free(t->seen);
	free(t);
}

const struct source_ops thread_source = {
	.name = "threads",
	.attach = tsrc_attach,
	.collect = tsrc_collect,
	.detach = tsrc_detach,
};
