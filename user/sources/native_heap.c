// SPDX-License-Identifier: GPL-2.0
/*
 * Native heap: outstanding malloc-family allocations by allocation stack, for C,
 * C++, Rust and the C parts of Go programs (bpf/native.bpf.c does the tracing).
 *
 * The allocator is looked for in every file the target maps, opened through
 * /proc/PID/map_files (the target's own view: a container's libc is the one
 * probed), and again each interval for libraries loaded since. Each interval the
 * per-stack counters give what was allocated, the allocs map (read whole, in
 * batches) what is still outstanding and how old it is; what was freed follows:
 * outstanding before + allocated - outstanding now. Every interval is therefore
 * exact without a probe having to find the stack of what it frees.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <elf.h>
#include <errno.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>

#include "bpfio/bpfmap.h"
#include "elf/callsites.h"
#include "elf/disasm.h"
#include "native.h"
#include "native.skel.h"
#include "target/proc.h"
#include "session.h"
#include "stacks.h"

/* What to probe. Allocating functions need the return (the block's address). */
static const struct alloc_fn {
	const char *name;
	enum nat_kind kind;
	bool prefixed; /* also looked for with --alloc-prefix */
} alloc_fns[] = {
	{"malloc", NAT_MALLOC, true},
	{"calloc", NAT_CALLOC, true},
	{"realloc", NAT_REALLOC, true},
	{"reallocarray", NAT_REALLOCARRAY, true},
	{"posix_memalign", NAT_POSIX_MEMALIGN, true},
	{"aligned_alloc", NAT_MEMALIGN, true},
	{"memalign", NAT_MEMALIGN, true},
	{"valloc", NAT_VALLOC, true},
	{"pvalloc", NAT_PVALLOC, true},
	{"free", NAT_FREE, true},
	{"mmap", NAT_MMAP, false},
	{"munmap", NAT_MUNMAP, false},
};

/* libstdc++'s operator new family: frameless, and between malloc and its caller. */
static const char *const cxx_new[] = {
	"_Znwm",
	"_Znam",
	"_ZnwmRKSt9nothrow_t",
	"_ZnamRKSt9nothrow_t",
	"_ZnwmSt11align_val_t",
	"_ZnamSt11align_val_t",
	"_ZnwmSt11align_val_tRKSt9nothrow_t",
	"_ZnamSt11align_val_tRKSt9nothrow_t",
};

static bool has_return(enum nat_kind k)
{
	return k != NAT_FREE && k != NAT_MUNMAP;
}

/* Per stack hash: counts as last read, this interval's outstanding, its site. */
struct nstack {
	uint64_t hash;
	bool used;
	bool in_bpf;  /* has an entry in the BPF sites map */
	int idle;     /* intervals in a row with nothing allocated and nothing outstanding */
	struct nat_site cum; /* cumulative, as read last interval */
	struct site *site;
	/* This interval. */
	int64_t live, live_bytes;
	uint64_t oldest_ns;
	bool allocated;
};

struct probe_file {
	uint64_t dev, ino;
};

/* A mapped file whose frameless call sites are in the fixups map. */
struct fixed_file {
	uint64_t dev, ino, bias;
};

struct nsrc {
	struct native_bpf *skel;
	struct bpf_link **links;
	size_t nlinks;
	struct probe_file *files; /* files already looked at */
	size_t nfiles;
	struct fixed_file *fixed;
	size_t nfixed;
	size_t nfixups;
	int nfuncs;		   /* allocator functions probed */
	struct stack_store stacks;
	struct map_dump sites, allocs;
	struct nstack *tab; /* open addressing by hash */
	size_t ntab, cap_tab;
};

static struct nstack *nstack_get(struct nsrc *n, uint64_t hash)
{
	size_t k;

	if (2 * (n->ntab + 1) > n->cap_tab) {
		struct nstack *old = n->tab;
		size_t oldcap = n->cap_tab;

		n->cap_tab = n->cap_tab ? 2 * n->cap_tab : 1024;
		n->tab = xcalloc(n->cap_tab, sizeof(*n->tab));
		for (size_t i = 0; i < oldcap; i++) {
			if (!old[i].used)
				continue;
			for (k = old[i].hash * 0x9e3779b97f4a7c15ull >> 17;
			     n->tab[k & (n->cap_tab - 1)].used; k++)
				;
			n->tab[k & (n->cap_tab - 1)] = old[i];
		}
		free(old);
	}
	for (k = hash * 0x9e3779b97f4a7c15ull >> 17;; k++) {
		struct nstack *e = &n->tab[k & (n->cap_tab - 1)];

		if (e->used && e->hash == hash)
			return e;
		if (!e->used) {
			e->used = true;
			e->hash = hash;
			n->ntab++;
			return e;
		}
	}
}

static const char *insn_desc(const struct elf_file *elf, uint64_t vaddr, char *buf, size_t len)
{
	const void *code = elf_vaddr_ptr(elf, vaddr, 16);
	struct insn in;

	if (!code || disasm_one(code, 16, vaddr, &in))
		return "?";
	snprintf(buf, len, "%.31s %.100s, %s", in.mnemonic, in.op_str,
		 in.emulated ? "emulated" : "single-stepped");
	return buf;
}

/*
 * Where a probe on fn goes. With a return probe: the entry, which the kernel
 * requires (it takes the return address from [rsp] there). Entry only: the first
 * instruction the kernel emulates on every path, before the registers read by
 * the BPF program (and rsp) change. munmap also keeps rax: its body is
 * `mov eax, 11; syscall; ...`, and a probe after the syscall would see an address
 * that another thread may already have been handed by mmap.
 */
static uint64_t probe_vaddr(const struct elf_file *elf, const struct elf_symbol *sym,
			    enum nat_kind kind)
{
	uint64_t mask = DISASM_RDI;
	size_t len = sym->size ? MIN(sym->size, (uint64_t)64) : 16;
	const void *code;

	if (has_return(kind))
		return sym->addr;
	if (kind == NAT_MUNMAP)
		mask |= DISASM_RSI | DISASM_RAX;
	code = elf_vaddr_ptr(elf, sym->addr, len);
	return code ? disasm_first_emulated(code, len, sym->addr, mask) : sym->addr;
}

static int attach_one(struct session *s, struct nsrc *n, const char *path,
		      const struct elf_file *elf, uint64_t vaddr, bool retprobe, enum nat_kind kind,
		      const char *what)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = kind, .retprobe = retprobe);
	struct bpf_program *prog;
	struct bpf_link *l;
	uint64_t off;

	if (elf_vaddr_to_offset(elf, vaddr, &off))
		return -ENOENT;
	prog = retprobe ? n->skel->progs.nat_return
			: has_return(kind) ? n->skel->progs.nat_entry : n->skel->progs.nat_free;
	l = bpf_program__attach_uprobe_opts(prog, s->pid, path, off, &opts);
	if (!l) {
		int err = -errno;

		log_warn("native heap: cannot attach a uprobe to %s in %s: %s", what, path,
			 strerror(-err));
		return err;
	}
	n->links = xrealloc(n->links, (n->nlinks + 1) * sizeof(*n->links));
	n->links[n->nlinks++] = l;
	return 0;
}

/*
 * Probe every allocator function file defines (not imports). Functions sharing an
 * address (glibc's memalign and aligned_alloc) are probed once. Returns how many
 * functions were probed, or -errno when attaching failed.
 */
static int probe_file(struct session *s, struct nsrc *n, const char *path, struct modfile *mf,
		      const char *prefix)
{
	uint64_t done[2 * ARRAY_SIZE(alloc_fns)];
	int ndone = 0, probed = 0;

	for (int pass = 0; pass < (prefix ? 2 : 1); pass++) {
		for (size_t i = 0; i < ARRAY_SIZE(alloc_fns); i++) {
			const struct alloc_fn *fn = &alloc_fns[i];
			struct elf_symbol sym;
			char name[128], desc[200];
			uint64_t at;
			bool dup = false;
			int err;

			if (pass == 1 && !fn->prefixed)
				continue;
			/* A Go program with cgo maps its own heap through mmap: that memory is
			 * the Go heap views' (go-heap), not outstanding C allocations. */
			if (s->target.is_go && (fn->kind == NAT_MMAP || fn->kind == NAT_MUNMAP))
				continue;
			snprintf(name, sizeof(name), "%s%s", pass ? prefix : "", fn->name);
			if (elf_find_symbol(mf->elf, name, &sym) || sym.type != STT_FUNC ||
			    !sym.addr)
				continue;
			for (int j = 0; j < ndone; j++)
				dup |= done[j] == sym.addr;
			if (dup)
				continue;
			done[ndone++] = sym.addr;
			at = probe_vaddr(mf->elf, &sym, fn->kind);
			err = attach_one(s, n, path, mf->elf, at, false, fn->kind, name);
			if (!err && has_return(fn->kind))
				err = attach_one(s, n, path, mf->elf, sym.addr, true, fn->kind, name);
			if (err)
				return err;
			probed++;
			log_debug("native heap: %s in %s: %s at +%llu (%s)", name, path,
				  has_return(fn->kind) ? "entry and return probe" : "entry probe",
				  (unsigned long long)(at - sym.addr),
				  insn_desc(mf->elf, at, desc, sizeof(desc)));
		}
	}
	return probed;
}

static bool file_seen(struct nsrc *n, const struct modfile *mf)
{
	for (size_t i = 0; i < n->nfiles; i++)
		if (n->files[i].dev == mf->dev && n->files[i].ino == mf->ino)
			return true;
	n->files = xrealloc(n->files, (n->nfiles + 1) * sizeof(*n->files));
	n->files[n->nfiles++] = (struct probe_file){mf->dev, mf->ino};
	return false;
}

/*
 * Tell BPF how to step over the frames of functions without frame pointers that
 * call an allocator, in one mapped file (see callsites.h). Once per file and load
 * address.
 */
static void install_fixups(struct session *s, struct nsrc *n, const char *path, struct modfile *mf,
			   const struct proc_map *m)
{
	const char *names[2 * ARRAY_SIZE(alloc_fns) + ARRAY_SIZE(cxx_new)];
	char prefixed[ARRAY_SIZE(alloc_fns)][128];
	const char *prefix = s->cfg->alloc_prefix;
	int fd = bpf_map__fd(n->skel->maps.fixups), cnt, added = 0;
	struct callsite *cs;
	size_t nn = 0;
	uint64_t bias;

	if (elf_load_bias(mf->elf, m->start, m->pgoff, &bias))
		return;
	for (size_t i = 0; i < n->nfixed; i++)
		if (n->fixed[i].dev == mf->dev && n->fixed[i].ino == mf->ino &&
		    n->fixed[i].bias == bias)
			return;
	n->fixed = xrealloc(n->fixed, (n->nfixed + 1) * sizeof(*n->fixed));
	n->fixed[n->nfixed++] = (struct fixed_file){mf->dev, mf->ino, bias};

	for (size_t i = 0; i < ARRAY_SIZE(alloc_fns); i++) {
		if (!has_return(alloc_fns[i].kind))
			continue;
		names[nn++] = alloc_fns[i].name;
		if (prefix && alloc_fns[i].prefixed) {
			snprintf(prefixed[i], sizeof(prefixed[i]), "%s%s", prefix, alloc_fns[i].name);
			names[nn++] = prefixed[i];
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(cxx_new); i++)
		names[nn++] = cxx_new[i];
	cnt = callsites_find(mf->elf, names, nn, &cs);
	for (int i = 0; i < cnt; i++) {
		uint64_t key = cs[i].ret + bias;
		struct nat_fixup v = {cs[i].cfa_off, cs[i].rbp_off};

		if (bpf_map_update_elem(fd, &key, &v, BPF_ANY))
			break;
		added++;
	}
	free(cs);
	n->nfixups += added;
	if (cnt > 0)
		log_debug("native heap: %s: %d call sites in code without frame pointers", path,
			  added);
}

/*
 * Look at every file the target maps executable (and the executable itself, which
 * a launched target has not mapped yet) for allocator functions not probed yet.
 * Returns the number of functions newly probed, -ESRCH when the target is gone,
 * other -errno when attaching failed.
 */
static int scan_files(struct session *s, struct nsrc *n)
{
	struct proc_maps maps;
	struct modfile *mf;
	int total = 0, r, e;

	mf = modfile_get(s->exe_path, &e);
	if (mf && !file_seen(n, mf)) {
		r = probe_file(s, n, s->exe_path, mf, s->cfg->alloc_prefix);
		if (r < 0)
			return r;
		total += r;
	}
	if (proc_maps_read(s->pid, &maps))
		return -ESRCH;
	for (size_t i = 0; i < maps.n; i++) {
		const struct proc_map *m = &maps.v[i];
		char *path;

		if (m->perms[2] != 'x' || m->path[0] != '/')
			continue;
		path = proc_map_open_path(s->pid, m);
		mf = modfile_get(path, &e);
		if (mf)
			install_fixups(s, n, path, mf, m);
		if (mf && !file_seen(n, mf)) {
			r = probe_file(s, n, path, mf, s->cfg->alloc_prefix);
			if (r < 0) {
				free(path);
				proc_maps_free(&maps);
				return r;
			}
			total += r;
		}
		free(path);
	}
	proc_maps_free(&maps);
	return total;
}

static void nsrc_free(struct nsrc *n)
{
	for (size_t i = 0; i < n->nlinks; i++)
		bpf_link__destroy(n->links[i]);
	free(n->links);
	native_bpf__destroy(n->skel);
	stack_store_free(&n->stacks);
	map_dump_free(&n->sites);
	map_dump_free(&n->allocs);
	free(n->files);
	free(n->fixed);
	free(n->tab);
	free(n);
}

/* A static executable with no symbol table: nothing to find malloc by. */
static bool static_without_symbols(struct session *s)
{
	struct elf_section sec;
	struct elf_symbol sym;
	struct modfile *mf;
	int e;

	mf = modfile_get(s->exe_path, &e);
	return mf && !mf->gb && elf_find_section(mf->elf, ".interp", &sec) &&
	       !mf->elf->has_symtab && elf_find_symbol(mf->elf, "malloc", &sym);
}

static int nsrc_attach(struct session *s, void **state)
{
	const struct config *cfg = s->cfg;
	struct nsrc *n;
	int err;

	if (cfg->native_mode != NATIVE_EXACT)
		return -ENOTSUP;
	n = xcalloc(1, sizeof(*n));
	n->skel = native_bpf__open();
	if (!n->skel) {
		fatal_set(&s->fatal, EXIT_ERROR, "cannot open the native heap BPF object: %s",
			  strerror(errno));
		free(n);
		return -ENOENT;
	}
	bpf_map__set_max_entries(n->skel->maps.stacks, cfg->max_stacks);
	bpf_map__set_max_entries(n->skel->maps.sites, cfg->max_stacks);
	err = native_bpf__load(n->skel);
	if (err) {
		bpf_load_error(&s->fatal, "native heap", err);
		goto fail;
	}
	stack_store_init(&n->stacks, bpf_map__fd(n->skel->maps.stacks));
	err = scan_files(s, n);
	if (err == -ESRCH) {
		fatal_set(&s->fatal, EXIT_NO_TARGET, "process %d exited before leakscope could "
						     "look at it", s->pid);
		goto fail;
	}
	if (err < 0) {
		fatal_set(&s->fatal, err == -EPERM ? EXIT_PERMISSION : EXIT_KERNEL,
			  "cannot attach the native heap probes: %s", strerror(-err));
		goto fail;
	}
	n->nfuncs = err;
	if (!n->nfuncs) {
		if (!s->target.is_go && static_without_symbols(s)) {
			fatal_set(&s->fatal, EXIT_UNSUPPORTED,
				  "%s is not a Go program, and it is statically linked without a "
				  "symbol table, so its malloc and free cannot be found: trace a "
				  "build that is not stripped, or use --mode growth (no symbols "
				  "needed)",
				  s->target.exe);
			err = -ENOENT;
			goto fail;
		}
		/* A pure Go program, or nothing with an allocator: not ours. */
		nsrc_free(n);
		return -ENOTSUP;
	}
	s->views[VIEW_NATIVE_HEAP].active = true;
	*state = n;
	return 0;
fail:
	nsrc_free(n);
	return err;
}

static struct site *site_of(struct session *s, struct nsrc *n, struct nstack *e)
{
	const uint64_t *pcs;
	int npcs;

	if (e->site)
		return e->site;
	pcs = stack_store_get(&n->stacks, e->hash, &npcs);
	/* pcs[0] is the allocator's first instruction, the rest return addresses. */
	e->site = series_site(&s->series, VIEW_NATIVE_HEAP, pcs, npcs, 0,
			      npcs ? SITE_FRAME0_IS_PC : SITE_NO_STACK);
	return e->site;
}

/*
 * Forget what nothing refers to any more, in BPF: the per-stack counters of a
 * stack idle for two intervals with nothing outstanding (counting restarts from
 * zero if it allocates again), and its stored stack (kept here, in the stack
 * store). Without this the maps fill and new stacks are lost.
 */
static void prune(struct nsrc *n)
{
	int sites_fd = bpf_map__fd(n->skel->maps.sites);
	int stacks_fd = bpf_map__fd(n->skel->maps.stacks);

	for (size_t i = 0; i < n->cap_tab; i++) {
		struct nstack *e = &n->tab[i];

		if (!e->used || !e->site)
			continue;
		if (e->live || e->allocated) {
			e->idle = 0;
			continue;
		}
		if (++e->idle < 2 || !e->in_bpf)
			continue;
		if (!bpf_map_delete_elem(sites_fd, &e->hash) || errno == ENOENT) {
			e->in_bpf = false;
			memset(&e->cum, 0, sizeof(e->cum));
			if (e->hash)
				bpf_map_delete_elem(stacks_fd, &e->hash);
		}
	}
}

static int nsrc_collect(struct session *s, void *state)
{
	struct nsrc *n = state;
	struct view_info *vi = &s->views[VIEW_NATIVE_HEAP];
	struct series *ser = &s->series;
	uint64_t t1;
	int err;

	/* Libraries loaded since (dlopen; a launched program after its exec). */
	err = scan_files(s, n);
	if (err == -ESRCH)
		return -ESRCH;
	if (err > 0)
		n->nfuncs += err;

	for (size_t i = 0; i < n->cap_tab; i++) {
		n->tab[i].live = n->tab[i].live_bytes = 0;
		n->tab[i].oldest_ns = 0;
		n->tab[i].allocated = false;
	}

	/*
	 * Allocations counted up to t1; blocks born after t1 are left for the next
	 * interval, so that allocated, outstanding and freed agree.
	 */
	t1 = now_ns();
	err = map_dump_read(bpf_map__fd(n->skel->maps.sites), sizeof(uint64_t),
			    sizeof(struct nat_site), &n->sites);
	if (err)
		log_warn("native heap: reading the sites map: %s", strerror(-err));
	for (size_t i = 0; i < n->sites.n; i++) {
		uint64_t hash = *(uint64_t *)map_dump_key(&n->sites, i);
		const struct nat_site *c = map_dump_value(&n->sites, i);
		struct nstack *e = nstack_get(n, hash);
		struct sample *sm;

		e->in_bpf = true;
		if (c->allocs == e->cum.allocs)
			continue;
		sm = site_now(ser, site_of(s, n, e));
		sm->created += c->allocs - e->cum.allocs;
		sm->created_bytes += c->bytes - e->cum.bytes;
		e->cum = *c;
		e->allocated = true;
	}

	err = map_dump_read(bpf_map__fd(n->skel->maps.allocs), sizeof(uint64_t),
			    sizeof(struct nat_alloc), &n->allocs);
	if (err)
		log_warn("native heap: reading the allocs map: %s", strerror(-err));
	for (size_t i = 0; i < n->allocs.n; i++) {
		const struct nat_alloc *a = map_dump_value(&n->allocs, i);
		struct nstack *e;

		if (a->born_ns > t1)
			continue;
		e = nstack_get(n, a->stack);
		e->live++;
		e->live_bytes += a->size;
		if (!e->oldest_ns || a->born_ns < e->oldest_ns)
			e->oldest_ns = a->born_ns;
	}
	for (size_t i = 0; i < n->cap_tab; i++) {
		struct nstack *e = &n->tab[i];
		struct sample *sm;

		if (!e->used || !e->live)
			continue;
		sm = site_now(ser, site_of(s, n, e));
		sm->live += e->live;
		sm->live_bytes += e->live_bytes;
		if (!sm->oldest_ns || t1 - e->oldest_ns > sm->oldest_ns)
			sm->oldest_ns = t1 - e->oldest_ns;
	}

	/* Frees follow from the books: before + allocated - now. */
	for (size_t i = 0; i < ser->nsites; i++) {
		struct site *site = ser->sites[i];
		const struct sample *prev;
		struct sample *now;
		int64_t freed, freed_bytes;

		if (site->view != VIEW_NATIVE_HEAP)
			continue;
		now = site_now(ser, site);
		prev = site_at(site, ser->nintervals - 2);
		freed = (prev ? prev->live : 0) + (int64_t)now->created - now->live;
		freed_bytes = (prev ? prev->live_bytes : 0) + (int64_t)now->created_bytes -
			      now->live_bytes;
		now->freed = freed > 0 ? freed : 0;
		now->freed_bytes = freed_bytes > 0 ? freed_bytes : 0;
	}
	prune(n);

	__u64 *c = n->skel->bss->counters;
	__u64 *se = n->skel->bss->stack_errors;
	vi->drops = c[NAT_CNT_ALLOCS_FULL] + c[NAT_CNT_SITES_FULL] + se[LS_STACK_ERR_FULL] +
		    n->stacks.missing;
	snprintf(vi->note, sizeof(vi->note),
		 "blocks allocated since attach and not freed yet (%d allocator functions "
		 "probed); %llu failed allocations not counted",
		 n->nfuncs, (unsigned long long)c[NAT_CNT_FAILED]);
	return 0;
}

static void nsrc_detach(void *state)
{
	nsrc_free(state);
}

const struct source_ops native_source = {
	.name = "native heap",
	.attach = nsrc_attach,
	.collect = nsrc_collect,
	.detach = nsrc_detach,
};
