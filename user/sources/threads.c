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

#include "bpfio/deltas.h"
#include "bpfio/links.h"
#include "bpfio/mapdump.h"
#include "bpfio/object.h"
#include "bpfio/stackstore.h"
#include "bpfio/uprobe.h"
#include "lib/intern.h"
#include "elf/disasm.h"
#include "target/maps.h"
#include "target/proc.h"
#include "session.h"
#include "leakscope.skel.h"
#include "bpf/stacks.h"
#include "bpf/threads.h"

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

/* A pthread_create to probe: the file (as the target maps it) and the probe's address. */
struct lib_probe {
	const char *path; /* interned */
	const struct elf_file *elf;
	uint64_t vaddr;
};

struct tsrc {
	struct leakscope_bpf *skel;
	bool entry_loaded; /* thr_creator_entry loaded (not every target needs it) */
	uint64_t go_probe; /* where the Go runtime starts an M (0: not found) */
	bool go_at_entry;
	const char *go_func;
	struct links links; /* uprobes, then the tracepoints */
	size_t news_seen; /* of the target's mapping news (target/maps.h), how many looked at */
	uint64_t mstart_lo, mstart_hi; /* runtime.mstart, link-time (Go) */
	struct lib_probe *libs; /* files defining pthread_create; the first nlibs_done probed */
	size_t nlibs, nlibs_done;
	bool go;
	uint64_t stacks_missing;
	struct map_dump tmap, smap;
	struct cum_deltas counts; /* per thr_site_key: created, exited */
	struct hmap sites;	  /* thr_site_key -> struct site *, once known */
	struct task_list tasks;
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
	struct bpf_link *l = uprobe_attach(s->pid, prog, path, elf, vaddr, kind, what, f);

	if (!l)
		return -ENOENT; /* *f says why */
	links_add(&t->links, l);
	return 0;
}

/*
 * pthread_create in every file the target maps that defines it: libc.so.6 (glibc
 * 2.34+), libpthread.so.0 (older glibc), musl's libc, or the executable itself when
 * static. Files are opened through /proc/PID/map_files, i.e. the target's own
 * view, so a container's libc is the one probed. Looked for in what the target
 * mapped since the last look (dlopen, or a launched program after its exec).
 * Appends to t->libs what is new.
 */
static void find_pthread_create(struct session *s, struct tsrc *t)
{
	const struct maps_watch *w = &s->maps;

	for (; t->news_seen < w->nlog; t->news_seen++) {
		const struct mapping_news *e = &w->log[t->news_seen];
		struct elf_symbol sym;

		if (!e->new_file || elf_find_symbol(e->mf->elf, "pthread_create", &sym) ||
		    (sym.type != STT_FUNC && sym.type != STT_GNU_IFUNC) || !sym.addr)
			continue;
		t->libs = xrealloc(t->libs, (t->nlibs + 1) * sizeof(*t->libs));
		t->libs[t->nlibs++] =
			(struct lib_probe){e->open_path, e->mf->elf, native_entry_probe(e->mf->elf, &sym)};
	}
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
 * Interned, as site_add_state() wants.
 */
static const char *fold_name(const char *name)
{
	char buf[80];
	size_t n = strlen(name), k = n;

	while (k > 0 && name[k - 1] >= '0' && name[k - 1] <= '9')
		k--;
	if (k < n && k > 1 && strchr("-_.:/# ", name[k - 1]))
		snprintf(buf, sizeof(buf), "%.*s*", (int)k, name);
	else
		snprintf(buf, sizeof(buf), "%s", name);
	return intern(buf);
}

/* ---- attach ------------------------------------------------------------------------ */

/*
 * Threads alive now were made before the probes: put them in the map under one
 * "existed at attach" site, so their exits are counted like any other.
 */
static void add_threads_at_attach(struct session *s, struct tsrc *t)
{
	int fd = bpf_map__fd(t->skel->maps.thr_threads);
	/* A program we start has one thread, its main one: made with it, not before. */
	struct thr_thread v = {.site = {.kind = s->launched ? THR_KIND_MAIN : THR_KIND_PRE}};
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

static int tsrc_probe(struct session *s, void **state)
{
	struct gofunc newm;
	struct modfile *mf;
	struct tsrc *t;
	int err;

	t = xcalloc(1, sizeof(*t));
	cum_deltas_init(&t->counts, sizeof(struct thr_site_key), 2);
	hmap_init(&t->sites, sizeof(struct thr_site_key), sizeof(struct site *));
	*state = t;
	mf = modfile_get(s->exe_path, &err);
	if (mf && mf->gb) {
		/*
		 * newm1 rather than newm: newm called on a locked M (LockOSThread, cgo
		 * callbacks) only queues the new M for the template thread, which then calls
		 * newm1; newm1 is always followed by the clone on its own thread, so what it
		 * records is never left over for an unrelated clone.
		 */
		static const char *const funcs[] = {"runtime.newm1", "runtime.newm"};

		for (size_t i = 0; i < ARRAY_SIZE(funcs) && !t->go_probe; i++)
			if (!gobin_func(mf->gb, funcs[i], &newm)) {
				t->go_probe = go_entry_probe(mf->gb, &newm, &t->go_at_entry);
				t->go_func = funcs[i];
			}
		if (!t->go_probe)
			log_warn("threads: runtime.newm not found in this Go binary; Go's own threads "
				 "are shown by the stack of their clone");
		if (!gobin_func(mf->gb, "runtime.mstart", &newm)) {
			t->mstart_lo = newm.entry;
			t->mstart_hi = newm.end;
		}
		t->go = true;
	}
	find_pthread_create(s, t);
	/* Nothing that makes threads the usual way: not ours to report. */
	return !t->go && !t->nlibs ? -ENOTSUP : 0;
}

static int tsrc_configure(struct session *s, void *state, struct leakscope_bpf *skel)
{
	struct tsrc *t = state;

	t->skel = skel;
	bpfobj_use_map(skel->maps.thr_threads, s->cfg->max_threads);
	bpfobj_use_map(skel->maps.thr_sites, s->cfg->max_stacks);
	bpfobj_use_map(skel->maps.thr_creators, 0);
	/* Each creator program costs a tenth of a second to verify: load only what is used. */
	t->entry_loaded = t->nlibs || !t->go || (t->go_probe && t->go_at_entry);
	if (t->entry_loaded)
		bpfobj_use_prog(skel->progs.thr_creator_entry);
	if (t->go_probe && !t->go_at_entry)
		bpfobj_use_prog(skel->progs.thr_creator_body);
	bpfobj_use_prog(skel->progs.thr_newtask);
	bpfobj_use_prog(skel->progs.thr_exit);
	return 0;
}

static int tsrc_attach(struct session *s, void *state)
{
	struct tsrc *t = state;
	struct modfile *mf;
	int err;

	if (t->go_probe) {
		mf = modfile_get(s->exe_path, &err);
		err = mf ? attach_probe(s, t,
					t->go_at_entry ? t->skel->progs.thr_creator_entry
						       : t->skel->progs.thr_creator_body,
					s->exe_path, mf->elf, t->go_probe, THR_KIND_GO_NEWM,
					t->go_func, &s->fatal)
			 : err;
		if (err)
			return err;
	}
	err = attach_pthread_create(s, t, &s->fatal);
	if (err)
		return err;
	/* Tracepoints last: from here on every thread of the target is accounted for. */
	if (!links_add(&t->links, bpf_program__attach(t->skel->progs.thr_newtask)) ||
	    !links_add(&t->links, bpf_program__attach(t->skel->progs.thr_exit))) {
		err = -errno;
		fatal_set(&s->fatal, err == -EPERM ? EXIT_PERMISSION : EXIT_KERNEL,
			  "cannot attach the thread tracepoints (task_newtask, sched_process_exit): %s",
			  strerror(-err));
		return err;
	}
	add_threads_at_attach(s, t);
	s->views[VIEW_THREADS].active = true;
	return 0;
}

/* ---- collect ----------------------------------------------------------------------- */

/*
 * A Go thread's stack begins at runtime.mstart, but the rbp chain can run on into
 * stale frames left below it (seen with Go 1.19): cut there, so that stacks that
 * differ only in such leftovers are one site.
 */
static int go_thread_depth(struct session *s, struct tsrc *t, const uint64_t *pcs, int n)
{
	struct modfile *mf;
	uint64_t bias;
	int err;

	mf = modfile_get(s->exe_path, &err);
	if (!mf || !t->mstart_hi || maps_watch_bias(&s->maps, mf, &bias))
		return n;
	for (int i = 0; i < n; i++) {
		uint64_t pc = pcs[i] - bias - (i > 0); /* return addresses: the call */

		if (pc >= t->mstart_lo && pc < t->mstart_hi)
			return i + 1;
	}
	return n;
}

static struct site *site_for(struct session *s, struct tsrc *t, const struct thr_site_key *k)
{
	struct site **known = hmap_get(&t->sites, k);
	const uint64_t *pcs = NULL;
	int n = 0;

	if (known)
		return *known;
	if (k->kind == THR_KIND_PRE || k->kind == THR_KIND_MAIN)
		return *(struct site **)hmap_put(&t->sites, k, NULL) =
			       series_site(&s->series, VIEW_THREADS, NULL, 0, k->kind,
					   k->kind == THR_KIND_PRE ? SITE_PRE_ATTACH
								   : SITE_NO_STACK | SITE_MAIN_THREAD);
	pcs = stack_store_get(&s->stacks, k->stack, &n, &t->stacks_missing);
	if (!n)
		/* Not cached: the stack may yet turn up (it is read from the map on demand). */
		return series_site(&s->series, VIEW_THREADS, NULL, 0, 0, SITE_NO_STACK);
	if (t->go)
		n = go_thread_depth(s, t, pcs, n);
	/* Frame 0 is the probed instruction (pthread_create, runtime.newm1, the syscall). */
	return *(struct site **)hmap_put(&t->sites, k, NULL) =
		       series_site(&s->series, VIEW_THREADS, pcs, n, 0, SITE_FRAME0_IS_PC);
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
	int tfd = bpf_map__fd(t->skel->maps.thr_threads);
	struct site *untracked_site = NULL;
	int64_t pre = 0, untracked = 0;
	uint64_t t1;
	int err;

	/* After the target exited or ran exec (session_collect_final), the maps still hold
	 * what it did: its threads' creations and exits up to the end, by stack. Its /proc
	 * is another program's, or gone. */
	if (!s->exited) {
		find_pthread_create(s, t);
		attach_pthread_create(s, t, NULL);
	}

	/*
	 * Creations and exits per site up to t1. Threads recorded after t1 are left for
	 * the next interval, so that created and live agree.
	 */
	t1 = now_ns();
	err = map_dump_read(bpf_map__fd(t->skel->maps.thr_sites), sizeof(struct thr_site_key),
			    sizeof(struct thr_counts), &t->smap);
	if (err)
		log_warn("reading the thread sites map: %s", strerror(-err));
	for (size_t i = 0; i < t->smap.n; i++) {
		const struct thr_site_key *k = map_dump_key(&t->smap, i);
		const struct thr_counts *cum = map_dump_value(&t->smap, i);
		struct thr_counts d;
		struct sample *now;

		if (!cum_delta(&t->counts, k, (const uint64_t *)cum, (uint64_t *)&d))
			continue;
		now = site_now(ser, site_for(s, t, k));
		now->created += d.created;
		now->freed += d.exited;
	}

	/* Names from /proc first, then the live threads as the tracepoints left them. */
	if (s->exited)
		t->tasks.n = 0; /* its /proc is gone, or another program's */
	else if (tasks_read(s->pid, &t->tasks) == -ESRCH)
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
		add_live(ser, site_for(s, t, &th->site), tk ? fold_name(tk->name) : NULL);
	}
	/*
	 * Threads in /proc but not in the map: created just now (in the map by the time we
	 * look again), or lost (map full). The lost ones are still counted, without a
	 * stack, so the total is never short.
	 */
	for (size_t i = 0; i < t->tasks.n; i++) {
		struct task *tk = &t->tasks.v[i];
		struct thr_thread th;

		/* In the map by now (made meanwhile), or gone since /proc was read: its exit
		 * took it out of the map after we read /proc (not a thread no probe saw). */
		if (tk->in_map || !bpf_map_lookup_elem(tfd, &tk->tid, &th) ||
		    !task_alive(s->pid, tk->tid))
			continue;
		if (!untracked_site)
			untracked_site = series_site(ser, VIEW_THREADS, NULL, 0, 0, SITE_NO_STACK);
		add_live(ser, untracked_site, fold_name(tk->name));
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
	/* A thread made between t1 and reading the sites: in created now, live next time. */
	series_balance_books(ser, VIEW_THREADS);

	__u64 *c = t->skel->bss->thr_counters;
	view_drop(vi, c[THR_CNT_MAP_FULL], "threads not attributed", "--max-threads",
		  s->cfg->max_threads);
	view_drop(vi, c[THR_CNT_SITE_FULL], "creations or exits not counted by stack",
		  "--max-stacks", s->cfg->max_stacks);
	view_drop(vi, c[THR_CNT_STACK_FULL], "creation stacks not kept", "--max-stacks",
		  s->cfg->max_stacks);
	view_drop(vi, t->stacks_missing, "creation stacks unreadable", NULL, 0);
	vi->untracked = pre;
	if (pre)
		view_note(vi,
			  "%lld %s existed before attach: shown together, by name, without a "
			  "creation stack",
			  (long long)pre, pre == 1 ? "thread" : "threads");
	if (untracked)
		view_note_add(vi, "%lld %s created without being seen (counted, no stack)",
			      (long long)untracked, untracked == 1 ? "thread was" : "threads were");
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

	links_destroy(&t->links);
	free(t->libs);
	map_dump_free(&t->tmap);
	map_dump_free(&t->smap);
	cum_deltas_free(&t->counts);
	hmap_free(&t->sites);
	free(t->tasks.v);
	free(t);
}

const struct source_ops thread_source =
	SOURCE_OPS(tsrc, "threads", VIEW_BIT(VIEW_THREADS), .after_exit = true);
