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

#include "bpfio/deltas.h"
#include "bpfio/growmap.h"
#include "bpfio/links.h"
#include "bpfio/mapdump.h"
#include "bpfio/object.h"
#include "bpfio/stackstore.h"
#include "bpfio/uprobe.h"
#include "elf/callsites.h"
#include "elf/disasm.h"
#include "leakscope.skel.h"
#include "bpf/native_heap.h"
#include "target/maps.h"
#include "session.h"
#include "bpf/stacks.h"

/*
 * What to probe. Allocating functions need the return (the block's address).
 * own_heap: only in a file that defines malloc too, i.e. an allocator that serves
 * these itself (jemalloc's and tcmalloc's operator new and delete, sized and
 * aligned, and jemalloc's *allocx API). libstdc++'s operator new calls malloc,
 * which is probed already; its delete calls free.
 */
static const struct alloc_fn {
	const char *name;
	enum nat_kind kind;
	bool prefixed; /* also looked for with --alloc-prefix */
	bool own_heap;
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
	/* The size first, like malloc (the alignment or nothrow tag after it is not read). */
	{"_Znwm", NAT_MALLOC, false, true},
	{"_Znam", NAT_MALLOC, false, true},
	{"_ZnwmRKSt9nothrow_t", NAT_MALLOC, false, true},
	{"_ZnamRKSt9nothrow_t", NAT_MALLOC, false, true},
	{"_ZnwmSt11align_val_t", NAT_MALLOC, false, true},
	{"_ZnamSt11align_val_t", NAT_MALLOC, false, true},
	{"_ZnwmSt11align_val_tRKSt9nothrow_t", NAT_MALLOC, false, true},
	{"_ZnamSt11align_val_tRKSt9nothrow_t", NAT_MALLOC, false, true},
	{"mallocx", NAT_MALLOC, false, true},
	/* rallocx(ptr, size, flags): realloc's registers; a failure leaves ptr. */
	{"rallocx", NAT_REALLOC, false, true},
	/* The pointer first, like free. */
	{"_ZdlPv", NAT_FREE, false, true},
	{"_ZdaPv", NAT_FREE, false, true},
	{"_ZdlPvm", NAT_FREE, false, true},
	{"_ZdaPvm", NAT_FREE, false, true},
	{"_ZdlPvRKSt9nothrow_t", NAT_FREE, false, true},
	{"_ZdaPvRKSt9nothrow_t", NAT_FREE, false, true},
	{"_ZdlPvSt11align_val_t", NAT_FREE, false, true},
	{"_ZdaPvSt11align_val_t", NAT_FREE, false, true},
	{"_ZdlPvmSt11align_val_t", NAT_FREE, false, true},
	{"_ZdaPvmSt11align_val_t", NAT_FREE, false, true},
	{"_ZdlPvSt11align_val_tRKSt9nothrow_t", NAT_FREE, false, true},
	{"_ZdaPvSt11align_val_tRKSt9nothrow_t", NAT_FREE, false, true},
	{"dallocx", NAT_FREE, false, true},
	{"sdallocx", NAT_FREE, false, true},
	{"cfree", NAT_FREE, false, true},
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

/* Per stack hash: this interval's outstanding, its site. */
struct nstack {
	bool in_bpf;  /* has an entry in the BPF sites map */
	int idle;     /* intervals in a row with nothing allocated and nothing outstanding */
	struct site *site;
	/* This interval. */
	int64_t live, live_bytes;
	uint64_t oldest_ns;
	bool allocated;
	/* --mode sampled: objects in 1/NAT_OBJS_ONE (native_heap.h); allocations counted
	 * since attach and how many of them were reported, so that rounding never drifts. */
	uint64_t live_fp, created_fp, created_told;
	double live_var;
};

struct nsrc {
	struct leakscope_bpf *skel;
	struct links links;
	size_t news_seen; /* of the target's mapping news (target/maps.h), how many looked at */
	size_t nfixups;
	int nfuncs;		   /* allocator functions probed */
	uint64_t sample_bytes;	   /* --mode sampled: R; 0 in exact mode */
	struct growmap allocs;	   /* the outstanding blocks (BPF nat_allocs) */
	uint64_t stacks_missing;
	struct map_dump sites, allocs_now;
	struct hmap tab;	   /* stack hash -> struct nstack */
	struct cum_deltas counts;  /* stack hash -> allocs, bytes */
};

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

/* The argument registers nat_entry()/nat_free() read for each kind (bpf/native_heap.bpf.c). */
static uint64_t arg_regs(enum nat_kind kind)
{
	switch (kind) {
	case NAT_MALLOC:
	case NAT_VALLOC:
	case NAT_PVALLOC:
	case NAT_FREE:
		return DISASM_RDI;
	case NAT_CALLOC:
	case NAT_REALLOC:
		return DISASM_RDI | DISASM_RSI;
	case NAT_REALLOCARRAY:
		return DISASM_RDI | DISASM_RSI | DISASM_RDX;
	case NAT_POSIX_MEMALIGN:
		return DISASM_RDI | DISASM_RDX;
	case NAT_MEMALIGN:
		return DISASM_RSI;
	case NAT_MMAP:
		return DISASM_RSI | DISASM_RDX | DISASM_RCX;
	case NAT_MUNMAP:
		/* Also rax: its body is `mov eax, 11; syscall; ...`, and a probe after the
		 * syscall would see an address another thread may already have from mmap. */
		return DISASM_RDI | DISASM_RSI | DISASM_RAX;
	default:
		return ~0ull;
	}
}

/*
 * Where a probe on fn goes: the first instruction the kernel emulates on every
 * path, before the argument registers read by the BPF program or rsp change
 * (disasm_first_emulated()). A return probe can sit there too: the kernel takes
 * the return address from [rsp] when the probe fires, and rsp is still what it
 * was at the call. jemalloc's malloc starts with `cmp rdi, 0x1000` (which the
 * kernel single-steps, ~4x the cost) and reaches the `ja` after it; glibc's free,
 * posix_memalign and memalign start with a test or cmp too. The entry itself
 * when nothing better qualifies (-v says which).
 */
static uint64_t probe_vaddr(const struct elf_file *elf, const struct elf_symbol *sym,
			    enum nat_kind kind)
{
	size_t len = sym->size ? MIN(sym->size, (uint64_t)64) : 16;
	const void *code = elf_vaddr_ptr(elf, sym->addr, len);

	return code ? disasm_first_emulated(code, len, sym->addr, arg_regs(kind)) : sym->addr;
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
	if (n->sample_bytes && has_return(kind)) {
		int fd = uprobe_session_attach(s->pid, n->skel->progs.nat_sampled, path, off, kind);

		if (fd < 0) {
			log_warn("native heap: cannot attach a uprobe session to %s in %s: %s%s%s",
				 what, path, strerror(-fd), uprobe_err_hint(fd),
				 fd == -EINVAL || fd == -EOPNOTSUPP
					 ? " (--mode sampled needs Linux 6.13 or later; use --mode exact)"
					 : "");
			return fd;
		}
		links_add_fd(&n->links, fd);
		return 0;
	}
	prog = retprobe ? n->skel->progs.nat_return
			: has_return(kind) ? n->skel->progs.nat_entry : n->skel->progs.nat_free;
	l = bpf_program__attach_uprobe_opts(prog, s->pid, path, off, &opts);
	if (!l) {
		int err = -errno;

		log_warn("native heap: cannot attach a uprobe to %s in %s: %s%s", what, path,
			 strerror(-err), uprobe_err_hint(err));
		return err;
	}
	links_add(&n->links, l);
	return 0;
}

/*
 * A function that starts by jumping elsewhere (jemalloc's operator delete: `jmp
 * free@plt`; operator new[]: `jmp operator new`) is a wrapper: where it lands is
 * probed already, and a probe here would be a second trap for the same call.
 */
static bool tail_call_only(const struct elf_file *elf, const struct elf_symbol *sym)
{
	const void *code = elf_vaddr_ptr(elf, sym->addr, 16);
	struct insn in;

	return code && !disasm_one(code, 16, sym->addr, &in) && in.is_jmp && in.branch_target;
}

/*
 * Probe every allocator function file defines (not imports). Functions sharing an
 * address (glibc's memalign and aligned_alloc) are probed once. Returns how many
 * functions were probed (dry: would be), or -errno when attaching failed.
 */
static int probe_file(struct session *s, struct nsrc *n, const char *path, struct modfile *mf,
		      const char *prefix, bool dry)
{
	uint64_t done[2 * ARRAY_SIZE(alloc_fns)];
	int ndone = 0, probed = 0;
	struct elf_symbol msym;
	bool has_malloc = !elf_find_symbol(mf->elf, "malloc", &msym) && msym.type == STT_FUNC &&
			  msym.addr;

	for (int pass = 0; pass < (prefix ? 2 : 1); pass++) {
		for (size_t i = 0; i < ARRAY_SIZE(alloc_fns); i++) {
			const struct alloc_fn *fn = &alloc_fns[i];
			struct elf_symbol sym;
			char name[128], desc[200];
			uint64_t at;
			bool dup = false;
			int err;

			if ((pass == 1 && !fn->prefixed) || (fn->own_heap && !has_malloc))
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
			if (dup || (fn->own_heap && tail_call_only(mf->elf, &sym)))
				continue;
			done[ndone++] = sym.addr;
			if (dry) {
				probed++;
				continue;
			}
			at = probe_vaddr(mf->elf, &sym, fn->kind);
			err = attach_one(s, n, path, mf->elf, at, false, fn->kind, name);
			/* Sampled: the entry's session also runs at the return. */
			if (!err && has_return(fn->kind) && !n->sample_bytes)
				err = attach_one(s, n, path, mf->elf, at, true, fn->kind, name);
			if (err)
				return err;
			probed++;
			log_debug("native heap: %s in %s: %s at +%llu (%s)", name, path,
				  !has_return(fn->kind) ? "entry probe"
				  : n->sample_bytes     ? "entry probe, return on sampled calls"
							: "entry and return probe",
				  (unsigned long long)(at - sym.addr),
				  insn_desc(mf->elf, at, desc, sizeof(desc)));
		}
	}
	return probed;
}

/*
 * Tell BPF how to step over the frames of functions without frame pointers that
 * call an allocator, in one mapped file (see callsites.h). Once per file and load
 * address (bias).
 */
static void install_fixups(struct session *s, struct nsrc *n, const char *path, struct modfile *mf,
			   uint64_t bias)
{
	const char *names[2 * ARRAY_SIZE(alloc_fns) + ARRAY_SIZE(cxx_new)];
	char prefixed[ARRAY_SIZE(alloc_fns)][128];
	const char *prefix = s->cfg->alloc_prefix;
	int fd = bpf_map__fd(n->skel->maps.nat_fixups), cnt, added = 0;
	struct callsite *cs;
	size_t nn = 0;

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
 * Look at what the target mapped since the last look (target/maps.h: the
 * executable itself before a launched program maps it, then every file once per
 * load address) for allocator functions to probe and frameless call sites to
 * step over. Returns the number of functions newly probed, or -errno when
 * attaching failed. dry: only count what there is to probe, from the start.
 */
static int scan_files(struct session *s, struct nsrc *n, bool dry)
{
	const struct maps_watch *w = &s->maps;
	int total = 0, r;

	for (size_t i = dry ? 0 : n->news_seen; i < w->nlog; i++) {
		const struct mapping_news *e = &w->log[i];

		if (!dry && e->bias_ok)
			install_fixups(s, n, e->open_path, e->mf, e->bias);
		if (!e->new_file)
			continue;
		r = probe_file(s, n, e->open_path, e->mf, s->cfg->alloc_prefix, dry);
		if (r < 0)
			return r;
		total += r;
	}
	if (!dry)
		n->news_seen = w->nlog;
	return total;
}

static void nsrc_free(struct nsrc *n)
{
	links_destroy(&n->links);
	growmap_free(&n->allocs);
	map_dump_free(&n->sites);
	map_dump_free(&n->allocs_now);
	hmap_free(&n->tab);
	cum_deltas_free(&n->counts);
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
	       !mf->elf->has_symtab && !mf->elf->sym_why[0] &&
	       elf_find_symbol(mf->elf, "malloc", &sym);
}

static int nsrc_probe(struct session *s, void **state)
{
	struct nsrc *n;

	if (s->cfg->native_mode != NATIVE_EXACT && s->cfg->native_mode != NATIVE_SAMPLED)
		return -ENOTSUP;
	n = xcalloc(1, sizeof(*n));
	if (s->cfg->native_mode == NATIVE_SAMPLED)
		n->sample_bytes = s->cfg->sample_bytes;
	hmap_init(&n->tab, sizeof(uint64_t), sizeof(struct nstack));
	cum_deltas_init(&n->counts, sizeof(uint64_t), 2);
	*state = n;
	if (scan_files(s, n, true) > 0)
		return 0;
	if (!s->target.is_go && static_without_symbols(s)) {
		fatal_set(&s->fatal, EXIT_UNSUPPORTED,
			  "%s is not a Go program, and it is statically linked without a "
			  "symbol table, so its malloc and free cannot be found: trace a "
			  "build that is not stripped, or use --mode growth (no symbols "
			  "needed)",
			  s->target.exe);
		return -ENOENT;
	}
	/* A pure Go program, or nothing with an allocator: not ours. */
	return -ENOTSUP;
}

static int nsrc_configure(struct session *s, void *state, struct leakscope_bpf *skel)
{
	struct nsrc *n = state;

	n->skel = skel;
	bpfobj_use_map(skel->maps.nat_pending, 0);
	bpfobj_use_map(skel->maps.nat_allocs, 0);
	bpfobj_use_map(skel->maps.nat_sites, s->cfg->max_stacks);
	bpfobj_use_map(skel->maps.nat_fixups, 0);
	if (n->sample_bytes) {
		skel->rodata->nat_sample_bytes = n->sample_bytes;
		uprobe_session_prepare(skel->progs.nat_sampled);
		bpfobj_use_prog(skel->progs.nat_sampled);
		s->views[VIEW_NATIVE_HEAP].sample_bytes = n->sample_bytes;
	} else {
		bpfobj_use_prog(skel->progs.nat_entry);
		bpfobj_use_prog(skel->progs.nat_return);
	}
	bpfobj_use_prog(skel->progs.nat_free);
	return 0;
}

/* The most outstanding blocks tracked, and how many the allocs map starts with room for. */
#define FIRST_ALLOCS 65536

static int nsrc_attach(struct session *s, void *state)
{
	struct nsrc *n = state;
	int err;

	err = growmap_init(&n->allocs, n->skel->maps.nat_allocs, sizeof(uint64_t),
			   sizeof(struct nat_alloc), s->cfg->max_allocs,
			   MIN(FIRST_ALLOCS, s->cfg->max_allocs),
			   (const volatile uint64_t *)&n->skel->bss->nat_counters[NAT_CNT_TRACKED]);
	if (err) {
		fatal_set(&s->fatal, EXIT_KERNEL, "cannot make the native heap's allocation map: %s",
			  strerror(-err));
		return err;
	}
	err = scan_files(s, n, false);
	if (err < 0) {
		fatal_set(&s->fatal, uprobe_err_status(err), "cannot attach the native heap probes: %s",
			  strerror(-err));
		return err;
	}
	n->nfuncs = err;
	s->views[VIEW_NATIVE_HEAP].active = true;
	return 0;
}

static struct site *site_of(struct session *s, struct nsrc *n, uint64_t hash, struct nstack *e)
{
	const uint64_t *pcs;
	int npcs;

	if (e->site)
		return e->site;
	pcs = stack_store_get(&s->stacks, hash, &npcs, &n->stacks_missing);
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
static void prune(struct session *s, struct nsrc *n)
{
	int sites_fd = bpf_map__fd(n->skel->maps.nat_sites);
	struct nstack *e;
	uint64_t *hash;

	for (size_t it = 0; hmap_next(&n->tab, &it, (void **)&hash, (void **)&e);) {
		if (!e->site)
			continue;
		if (e->live || e->allocated) {
			e->idle = 0;
			continue;
		}
		if (++e->idle < 2 || !e->in_bpf)
			continue;
		if (!bpf_map_delete_elem(sites_fd, hash) || errno == ENOENT) {
			e->in_bpf = false;
			cum_deltas_restart(&n->counts, hash);
			stack_store_release(&s->stacks, *hash);
		}
	}
}

static int nsrc_collect(struct session *s, void *state)
{
	struct nsrc *n = state;
	struct view_info *vi = &s->views[VIEW_NATIVE_HEAP];
	struct series *ser = &s->series;
	struct nstack *e;
	uint64_t t1, *hash;
	int err;

	/* Libraries loaded since (dlopen; a launched program after its exec). */
	err = scan_files(s, n, false);
	if (err > 0)
		n->nfuncs += err;

	for (size_t it = 0; hmap_next(&n->tab, &it, NULL, (void **)&e);) {
		e->live = e->live_bytes = 0;
		e->oldest_ns = 0;
		e->allocated = false;
		e->live_fp = 0;
		e->live_var = 0;
	}

	/*
	 * Allocations counted up to t1; blocks born after t1 are left for the next
	 * interval, so that allocated, outstanding and freed agree.
	 */
	t1 = now_ns();
	err = map_dump_read(bpf_map__fd(n->skel->maps.nat_sites), sizeof(uint64_t),
			    sizeof(struct nat_site), &n->sites);
	if (err)
		log_warn("native heap: reading the sites map: %s", strerror(-err));
	for (size_t i = 0; i < n->sites.n; i++) {
		uint64_t *key = map_dump_key(&n->sites, i);
		const struct nat_site *c = map_dump_value(&n->sites, i);
		struct nat_site d;
		struct sample *sm;

		e = hmap_put(&n->tab, key, NULL);
		e->in_bpf = true;
		if (!cum_delta(&n->counts, key, (const uint64_t *)c, (uint64_t *)&d) || !d.allocs)
			continue;
		sm = site_now(ser, site_of(s, n, *key, e));
		if (n->sample_bytes) {
			uint64_t told;

			e->created_fp += d.allocs;
			told = (e->created_fp + NAT_OBJS_ONE / 2) / NAT_OBJS_ONE;
			sm->created += told - e->created_told;
			e->created_told = told;
		} else {
			sm->created += d.allocs;
		}
		sm->created_bytes += d.bytes;
		e->allocated = true;
	}

	growmap_tick(&n->allocs);
	err = growmap_dump(&n->allocs, &n->allocs_now);
	if (err)
		log_warn("native heap: reading the allocs map: %s", strerror(-err));
	for (size_t i = 0; i < n->allocs_now.n; i++) {
		const struct nat_alloc *a = map_dump_value(&n->allocs_now, i);

		if (a->born_ns > t1)
			continue;
		e = hmap_put(&n->tab, &a->stack, NULL);
		if (n->sample_bytes) {
			uint64_t r = n->sample_bytes;

			e->live_fp += nat_weight_objs_fp(a->size, r);
			e->live_bytes += nat_weight_bytes(a->size, r);
			if (a->size < r)
				e->live_var += (double)r * (double)(r - a->size);
		} else {
			e->live++;
			e->live_bytes += a->size;
		}
		if (!e->oldest_ns || a->born_ns < e->oldest_ns)
			e->oldest_ns = a->born_ns;
	}
	for (size_t it = 0; hmap_next(&n->tab, &it, (void **)&hash, (void **)&e);) {
		struct sample *sm;

		if (e->live_fp)
			e->live = (e->live_fp + NAT_OBJS_ONE / 2) / NAT_OBJS_ONE;
		if (!e->live)
			continue;
		sm = site_now(ser, site_of(s, n, *hash, e));
		sm->live += e->live;
		sm->live_bytes += e->live_bytes;
		sm->live_bytes_var += e->live_var;
		if (!sm->oldest_ns || t1 - e->oldest_ns > sm->oldest_ns)
			sm->oldest_ns = t1 - e->oldest_ns;
	}

	/* Frees follow from the books: before + allocated - now. */
	series_freed_from_books(ser, VIEW_NATIVE_HEAP);
	prune(s, n);

	__u64 *c = n->skel->bss->nat_counters;
	view_drop(vi, c[NAT_CNT_ALLOCS_FULL], "allocations not tracked", "--max-allocs",
		  s->cfg->max_allocs);
	view_drop(vi, c[NAT_CNT_SITES_FULL], "allocations not counted by stack", "--max-stacks",
		  s->cfg->max_stacks);
	view_drop(vi, c[NAT_CNT_STACK_FULL], "allocation stacks not kept", "--max-stacks",
		  s->cfg->max_stacks);
	view_drop(vi, n->stacks_missing, "allocation stacks unreadable", NULL, 0);
	view_note(vi,
		  "blocks allocated since attach and not freed yet (%d allocator functions "
		  "probed); %llu failed allocations not counted",
		  n->nfuncs, (unsigned long long)c[NAT_CNT_FAILED]);
	if (n->sample_bytes) {
		uint64_t r = n->sample_bytes;
		char rs[32];

		if (r % (1 << 20) == 0)
			snprintf(rs, sizeof(rs), "%llu MiB", (unsigned long long)(r >> 20));
		else if (r % 1024 == 0)
			snprintf(rs, sizeof(rs), "%llu KiB", (unsigned long long)(r >> 10));
		else
			snprintf(rs, sizeof(rs), "%llu bytes", (unsigned long long)r);
		view_note_add(vi,
			      "sampled (--mode sampled): a block of N bytes recorded with "
			      "probability N/%s, every one from %s up; bytes and objects are "
			      "estimates, each stack's within its ± bound 95%% of the time",
			      rs, rs);
	}
	return 0;
}

static void nsrc_remap(struct session *s, void *state)
{
	struct nsrc *n = state;
	int r = scan_files(s, n, false);

	if (r > 0)
		n->nfuncs += r;
}

static void nsrc_tick(struct session *s, void *state)
{
	struct nsrc *n = state;

	growmap_tick(&n->allocs);
}

static void nsrc_detach(void *state)
{
	nsrc_free(state);
}

const struct source_ops native_source =
	SOURCE_OPS(nsrc, "native heap", VIEW_BIT(VIEW_NATIVE_HEAP), .tick = nsrc_tick,
		   .after_exit = true, .remap = nsrc_remap);
