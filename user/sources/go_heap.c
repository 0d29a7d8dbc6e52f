// SPDX-License-Identifier: GPL-2.0
/*
 * The Go heap from outside.
 *
 * In use by allocation stack: the runtime already keeps a heap profile (one
 * bucket per stack and size, with per-GC-cycle alloc/free counts) whenever its
 * heap sampling is on; leakscope walks those buckets in the target's memory each
 * interval, so the view costs the target nothing, has the same meaning and
 * scaling as pprof's inuse/alloc views, and includes objects allocated before
 * attach.
 *
 * The trend: one uprobe per GC cycle (resetLive, on g0) gives the live heap
 * after marking; HeapObjects and the allocation rate are read from runtime
 * counters.
 *
 * Profiling off (the linker turns it off unless runtime/pprof is linked): a
 * CPU-clock sampler notes which stacks are inside the allocator, and the
 * runtime's own byte counter is shared out among them: an estimate of the
 * allocation rate by stack, at a cost set by the sampling rate.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <linux/perf_event.h>
#include <linux/types.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpfio/deltas.h"
#include "bpfio/links.h"
#include "bpfio/mapdump.h"
#include "bpfio/object.h"
#include "bpfio/stackstore.h"
#include "bpfio/uprobe.h"
#include "elf/disasm.h"
#include "bpf/go_heap.h"
#include "leakscope.skel.h"
#include "golang/runtime.h"
#include "lib/memread.h"
#include "target/proc.h"
#include "session.h"
#include "target/maps.h"
#include "bpf/stacks.h"

/* runtime.bucket: header, then stk[nstk], then memRecord {active, future[3]}. */
struct mem_cycle {
	uint64_t allocs, frees, alloc_bytes, free_bytes;
};

struct mem_record {
	struct mem_cycle active, future[3];
};

struct bucket {
	uint64_t addr;
	uint64_t size;
	int nstk;
	uint64_t *pcs;
	struct site *site;
	struct mem_record rec;
	bool rec_ok;
	/* Scaled cumulative counts at the previous interval, for per-interval deltas. */
	double prev_allocs, prev_alloc_bytes, prev_frees, prev_free_bytes;
	bool have_prev;
};

struct ghsrc {
	struct leakscope_bpf *skel;
	uint64_t gc_probe; /* where GC cycles are caught (resetLive), 0 when not found */
	uint64_t alloc_lo[GO_ALLOC_RANGES], alloc_hi[GO_ALLOC_RANGES];
	int nalloc;	   /* the allocator's functions, for the sampler */
	bool want_sampler;
	struct links links; /* the GC probe, the samplers */
	int nperf;
	struct ring_buffer *rb;
	struct session *s;
	struct modfile *mf;
	const struct gobin *gb;
	struct go_runtime rt; /* pid, gb, bias: for variable lookup only */
	struct heap_state st; /* as of the last interval, copied into each */
	bool ready;
	bool linked; /* heap profiling code linked in */
	uint64_t mbuckets, mprofcycle, memprofilerate, gccontroller, memstats;
	struct bucket *b; /* newest first, like the runtime's list */
	size_t nb, cap;
	uint64_t stacks_missing;
	struct map_dump samples;
	struct cum_deltas samples_seen; /* per stack hash */
	uint64_t prev_total_alloc, prev_total_alloc_ns;
	bool have_total_alloc;
};

/* Validation bounds for what is read through recipes. */
#define MAX_NSTK 1026
#define MAX_BUCKETS (4u << 20)

static int read_u64(struct ghsrc *h, uint64_t addr, uint64_t *v)
{
	return addr ? mem_read(h->s->pid, addr, v, 8) : -ENOENT;
}

/* A runtime variable, checked by reading it: symbol table first, recipes otherwise. */
static void find_vars(struct ghsrc *h)
{
	const struct go_offsets *o = &h->gb->off;
	uint64_t v = 0;

	h->mbuckets = go_runtime_var(&h->rt, "runtime.mbuckets");
	if (h->mbuckets && (read_u64(h, h->mbuckets, &v) || (v & 7)))
		h->mbuckets = 0;
	if (h->mbuckets && v) {
		uint64_t hdr[6];

		/* The head bucket must look like a memory bucket. */
		if (mem_read(h->s->pid, v, hdr, sizeof(hdr)) ||
		    hdr[o->bucket_typ / 8] != 1 || !hdr[o->bucket_nstk / 8] ||
		    hdr[o->bucket_nstk / 8] > MAX_NSTK)
			h->mbuckets = 0;
	}
	h->mprofcycle = go_runtime_var(&h->rt, "runtime.mProfCycle");
	h->memprofilerate = go_runtime_var(&h->rt, "runtime.MemProfileRate");
	if (h->memprofilerate && (read_u64(h, h->memprofilerate, &v) || v > (1ull << 40)))
		h->memprofilerate = 0;
	/* Stripped binaries: learnt from the first GC event (resetLive's receiver). */
	h->gccontroller = go_runtime_var(&h->rt, "runtime.gcController");
	h->memstats = go_runtime_var(&h->rt, "runtime.memstats");
}

static int64_t profile_rate(struct ghsrc *h)
{
	uint64_t v;

	if (read_u64(h, h->memprofilerate, &v))
		return -1;
	return (int64_t)v;
}

static void describe_profiling(struct ghsrc *h)
{
	struct heap_state *t = &h->st;
	char *note = h->s->views[VIEW_GO_HEAP].header_note;
	size_t len = sizeof(h->s->views[VIEW_GO_HEAP].header_note);
	int64_t rate = profile_rate(h);

	t->profile_rate = rate;
	t->profiling = h->linked && rate > 0 && h->mbuckets;
	if (t->profiling)
		snprintf(note, len,
			 "heap profiling on: the runtime samples an allocation every %lld KiB "
			 "on average; in-use by stack is its profile, scaled like pprof, objects "
			 "from before attach included",
			 (long long)rate / 1024);
	else if (!h->linked)
		snprintf(note, len,
			 "heap profiling is off in this binary: neither runtime/pprof nor "
			 "net/http/pprof is linked, so the Go linker switched the runtime's "
			 "allocation sampling off and in-use memory by stack cannot be known. "
			 "Shown instead: the live heap after each GC, and an estimated allocation "
			 "rate by stack (GO ALLOCATION RATE). For in-use by stack, link "
			 "net/http/pprof");
	else if (rate == 0)
		snprintf(note, len,
			 "heap profiling is off: the program set runtime.MemProfileRate to 0. "
			 "Shown instead: the live heap after each GC, and an estimated allocation "
			 "rate by stack (GO ALLOCATION RATE)");
	else
		snprintf(note, len,
			 "the runtime's heap profile could not be located in this binary; shown "
			 "instead: the live heap after each GC and an estimated allocation rate by "
			 "stack");
}

/* The runtime's allocator entry points, whose presence in a stack means "allocating". */
static int alloc_ranges(const struct gobin *gb, uint64_t *lo, uint64_t *hi, int max)
{
	size_t nfunc = gopclntab_nfunc(gb->pcln);
	int n = 0;

	for (size_t i = 0; i < nfunc && n < max; i++) {
		struct gofunc f;

		if (gopclntab_func_by_index(gb->pcln, i, &f) ||
		    strncmp(f.name, "runtime.mallocgc", 16))
			continue;
		lo[n] = f.entry;
		hi[n] = f.end;
		n++;
	}
	return n;
}

static int attach_sampler(struct ghsrc *h, struct session *s)
{
	int ncpu = libbpf_num_possible_cpus();
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.sample_freq = s->cfg->alloc_sample_hz,
		.freq = 1,
	};

	if (ncpu <= 0)
		return -EINVAL;
	for (int cpu = 0; cpu < ncpu; cpu++) {
		int fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		struct bpf_link *l;

		if (fd < 0)
			continue; /* offline CPU */
		l = bpf_program__attach_perf_event(h->skel->progs.go_alloc_sample, fd);
		if (!l) {
			close(fd);
			continue;
		}
		links_add(&h->links, l);
		h->nperf++;
	}
	return h->nperf ? 0 : -ENODEV;
}

static int on_gc(void *ctx, void *data, size_t len)
{
	struct ghsrc *h = ctx;
	const struct go_gc_event *e = data;
	struct series *ser = &h->s->series;
	uint32_t numgc = 0;

	if (len < sizeof(*e))
		return 0;
	if (!h->gccontroller && e->controller)
		h->gccontroller = e->controller;
	/* The cycle number: one more than the previous one we saw, or counted on below. */
	if (ser->ngc)
		numgc = ser->gc[ser->ngc - 1].numgc + 1;
	series_add_gc(ser, e->ts_ns, e->heap_marked, numgc);
	return 0;
}

static bool resolve(struct session *s, struct ghsrc *h)
{
	uint64_t bias;

	if (h->ready)
		return true;
	if (maps_watch_bias(&s->maps, h->mf, &bias))
		return false; /* launched target not exec'd yet */
	h->rt.pid = s->pid;
	h->rt.gb = h->gb;
	h->rt.bias = bias;
	find_vars(h);
	describe_profiling(h);
	if (h->skel) {
		h->skel->bss->go_text_bias = bias;
		h->skel->bss->go_bias_known = 1;
	}
	if (h->gccontroller) {
		uint64_t v;

		if (!read_u64(h, h->gccontroller + h->gb->off.gcc_heap_marked, &v)) {
			h->st.marked_before = v;
			h->st.have_marked_before = true;
		}
	}
	h->ready = true;
	return true;
}

/* Like pprof: the allocator's own frames are not where memory is allocated. */
static void trim_allocator(void *ctx, const struct site *site, struct frames *fr)
{
	int k = 0;

	while (k < fr->n && fr->v[k].func && !strncmp(fr->v[k].func, "runtime.", 8))
		k++;
	if (k < fr->n) {
		memmove(fr->v, fr->v + k, (fr->n - k) * sizeof(*fr->v));
		fr->n -= k;
	}
}

static const struct view_hooks heap_hooks = {.trim = trim_allocator};

static int ghsrc_probe(struct session *s, void **state)
{
	struct gofunc reset;
	struct ghsrc *h;
	const void *code;
	size_t len;
	int err;

	h = xcalloc(1, sizeof(*h));
	h->s = s;
	cum_deltas_init(&h->samples_seen, sizeof(uint64_t), 1);
	*state = h;
	h->mf = modfile_get(s->exe_path, &err);
	if (!h->mf || !h->mf->gb || !h->mf->gb->pcln)
		return -ENOTSUP;
	h->gb = h->mf->gb;
	h->linked = !gobin_func(h->gb, "runtime.memProfileInternal", &reset) ||
		    !gobin_func(h->gb, "runtime.MemProfile", &reset);
	h->nalloc = alloc_ranges(h->gb, h->alloc_lo, h->alloc_hi, GO_ALLOC_RANGES);

	/* Once per GC: resetLive, RBX = bytes marked, on the first emulated instruction. */
	if (gobin_func(h->gb, "runtime.(*gcControllerState).resetLive", &reset) ||
	    !(code = gobin_code(h->gb, &reset, &len))) {
		log_warn("runtime.(*gcControllerState).resetLive not found: no heap trend after GC");
	} else {
		h->gc_probe = disasm_first_emulated(code, len, reset.entry, DISASM_RAX | DISASM_RBX);
		log_debug("GC probe at resetLive+%llu",
			  (unsigned long long)(h->gc_probe - reset.entry));
	}

	resolve(s, h);
	/*
	 * Sample the allocator when the runtime's profile is missing, or when asked to.
	 * A launched target is not running yet: go by what the binary links.
	 */
	switch (session_view_choice(s, VIEW_GO_ALLOC)) {
	case VIEW_BY_DEFAULT:
		h->want_sampler = !h->linked || (h->ready && !h->st.profiling);
		break;
	case VIEW_ASKED:
		h->want_sampler = true;
		break;
	case VIEW_LEFT_OUT:
		h->want_sampler = false;
		break;
	}
	return 0;
}

static int ghsrc_configure(struct session *s, void *state, struct leakscope_bpf *skel)
{
	struct ghsrc *h = state;

	h->skel = skel;
	for (int i = 0; i < h->nalloc; i++) {
		skel->rodata->go_alloc_lo[i] = h->alloc_lo[i];
		skel->rodata->go_alloc_hi[i] = h->alloc_hi[i];
	}
	skel->rodata->go_nalloc_ranges = h->nalloc;
	bpfobj_use_map(skel->maps.go_gc_events, 0);
	if (h->gc_probe)
		bpfobj_use_prog(skel->progs.go_gc_done);
	if (h->want_sampler && h->nalloc) {
		bpfobj_use_map(skel->maps.go_alloc_samples, s->cfg->max_stacks);
		bpfobj_use_prog(skel->progs.go_alloc_sample);
	}
	return 0;
}

static int ghsrc_attach(struct session *s, void *state)
{
	struct ghsrc *h = state;

	if (h->gc_probe && !links_add(&h->links, uprobe_attach(s->pid, h->skel->progs.go_gc_done,
							       s->exe_path, h->mf->elf, h->gc_probe,
							       0, "the GC cycle (resetLive)",
							       &s->fatal)))
		return -ENOENT;
	h->rb = ring_buffer__new(bpf_map__fd(h->skel->maps.go_gc_events), on_gc, h, NULL);
	if (!h->rb) {
		fatal_set(&s->fatal, EXIT_ERROR, "cannot read GC events: %s", strerror(errno));
		return -errno;
	}
	if (h->ready) {
		h->skel->bss->go_text_bias = h->rt.bias;
		h->skel->bss->go_bias_known = 1;
	}
	if (h->want_sampler) {
		if (h->nalloc && attach_sampler(h, s) == 0)
			s->views[VIEW_GO_ALLOC].active = true;
		else
			log_warn("cannot sample the Go allocator (perf CPU clock): no allocation "
				 "rate by stack");
	}
	h->st.valid = true;
	s->views[VIEW_GO_HEAP].active = true;
	s->views[VIEW_GO_HEAP].hooks = heap_hooks;
	s->views[VIEW_GO_ALLOC].hooks = heap_hooks;
	return 0;
}

/* pprof's scaling of a sampled record: each sample stands for 1/(1-e^(-size/rate)). */
static void scale(double count, double bytes, int64_t rate, double *c, double *b)
{
	double avg, f;

	if (count <= 0 || bytes <= 0 || rate <= 1) {
		*c = count;
		*b = bytes;
		return;
	}
	avg = bytes / count;
	f = 1 / (1 - exp(-avg / rate));
	*c = count * f;
	*b = bytes * f;
}

/* Read the headers and stacks of buckets we have not seen; they are prepended. */
static int discover_buckets(struct session *s, struct ghsrc *h)
{
	const struct go_offsets *o = &h->gb->off;
	uint64_t addr = 0, known = h->nb ? h->b[0].addr : 0;
	struct bucket *fresh = NULL;
	size_t nfresh = 0, cap = 0;

	if (read_u64(h, h->mbuckets, &addr))
		return -EIO;
	while (addr && addr != known && h->nb + nfresh < MAX_BUCKETS) {
		uint64_t hdr[8] = {0}, *pcs;
		struct bucket *b;
		int nstk;

		if (mem_read(s->pid, addr, hdr, o->bucket_hdr))
			return -EIO;
		nstk = hdr[o->bucket_nstk / 8];
		if (hdr[o->bucket_typ / 8] != 1 || nstk <= 0 || nstk > MAX_NSTK)
			break; /* not a memory bucket: the list is not what we think */
		pcs = xmalloc(nstk * sizeof(*pcs));
		if (mem_read(s->pid, addr + o->bucket_hdr, pcs, nstk * 8)) {
			free(pcs);
			return -EIO;
		}
		if (nfresh == cap) {
			cap = cap ? 2 * cap : 64;
			fresh = xrealloc(fresh, cap * sizeof(*fresh));
		}
		b = &fresh[nfresh++];
		memset(b, 0, sizeof(*b));
		b->addr = addr;
		b->size = hdr[o->bucket_size / 8];
		b->nstk = nstk;
		b->pcs = pcs;
		b->site = series_site(&s->series, VIEW_GO_HEAP, pcs, nstk, 0, 0);
		addr = hdr[o->bucket_allnext / 8];
	}
	if (!nfresh)
		return 0;
	if (h->nb + nfresh > h->cap) {
		h->cap = MAX(h->cap * 2, h->nb + nfresh);
		h->b = xrealloc(h->b, h->cap * sizeof(*h->b));
	}
	memmove(h->b + nfresh, h->b, h->nb * sizeof(*h->b));
	memcpy(h->b, fresh, nfresh * sizeof(*fresh));
	h->nb += nfresh;
	free(fresh);
	return 0;
}

static int collect_profile(struct session *s, struct ghsrc *h)
{
	const struct go_offsets *o = &h->gb->off;
	struct mem_iov *iov;
	uint32_t cycle_word = 0;
	int64_t rate = h->st.profile_rate;
	bool all_zero = true;
	int err;

	err = discover_buckets(s, h);
	if (err)
		return err;
	if (h->mprofcycle)
		mem_read(s->pid, h->mprofcycle, &cycle_word, 4);
	/* Every bucket's counts in a few syscalls. */
	iov = xmalloc(h->nb * sizeof(*iov));
	for (size_t i = 0; i < h->nb; i++)
		iov[i] = (struct mem_iov){h->b[i].addr + o->bucket_hdr + 8 * h->b[i].nstk,
					   &h->b[i].rec, sizeof(h->b[i].rec), false};
	mem_readv(s->pid, iov, h->nb);
	for (size_t i = 0; i < h->nb; i++) {
		h->b[i].rec_ok = iov[i].ok;
		if (iov[i].ok && (h->b[i].rec.active.allocs || h->b[i].rec.active.frees))
			all_zero = false;
	}
	free(iov);

	/*
	 * What runtime.MemProfile reports, without its locks: active plus the cycle's
	 * pending future slot (nothing else writes it until the cycle advances);
	 * before the first GC, everything recorded so far.
	 */
	for (size_t i = 0; i < h->nb; i++) {
		struct bucket *b = &h->b[i];
		struct mem_cycle c = b->rec.active;
		double io, ib, ao, ab, fo, fb;
		struct sample *sm;

		if (!b->rec_ok)
			continue;
		for (int k = 0; k < 3; k++) {
			const struct mem_cycle *f = &b->rec.future[k];

			if (!all_zero && (uint32_t)k != (cycle_word >> 1) % 3)
				continue;
			c.allocs += f->allocs;
			c.frees += f->frees;
			c.alloc_bytes += f->alloc_bytes;
			c.free_bytes += f->free_bytes;
		}
		scale((double)c.allocs - c.frees, (double)c.alloc_bytes - c.free_bytes, rate, &io,
		      &ib);
		scale(c.allocs, c.alloc_bytes, rate, &ao, &ab);
		scale(c.frees, c.free_bytes, rate, &fo, &fb);
		sm = site_now(&s->series, b->site);
		sm->live += llround(io);
		sm->live_bytes += llround(ib);
		sm->total_created += llround(ao);
		sm->total_created_bytes += llround(ab);
		if (b->have_prev) {
			sm->created += llround(MAX(ao - b->prev_allocs, 0));
			sm->created_bytes += llround(MAX(ab - b->prev_alloc_bytes, 0));
			sm->freed += llround(MAX(fo - b->prev_frees, 0));
			sm->freed_bytes += llround(MAX(fb - b->prev_free_bytes, 0));
		}
		b->prev_allocs = ao;
		b->prev_alloc_bytes = ab;
		b->prev_frees = fo;
		b->prev_free_bytes = fb;
		b->have_prev = true;
	}
	if (h->mprofcycle) {
		h->st.numgc = cycle_word >> 1; /* the profile cycle is the GC count */
		h->st.have_numgc = true;
	}
	return 0;
}

/* How many leading frames of a sampled stack are the runtime's (all but one at most). */
static int runtime_frames(struct ghsrc *h, const uint64_t *pcs, int n)
{
	int k = 0;

	while (k < n - 1) {
		struct gofunc f;
		uint64_t pc = pcs[k] - h->rt.bias - (k ? 1 : 0);

		if (gopclntab_func_at(h->gb->pcln, pc, &f) || strncmp(f.name, "runtime.", 8))
			break;
		k++;
	}
	return k;
}

static void collect_samples(struct session *s, struct ghsrc *h, uint64_t alloc_delta,
			    bool have_delta)
{
	uint64_t total = 0;
	int err;

	err = map_dump_read(bpf_map__fd(h->skel->maps.go_alloc_samples), sizeof(uint64_t),
			    sizeof(uint64_t), &h->samples);
	if (err) {
		log_warn("reading allocation samples: %s", strerror(-err));
		return;
	}
	/* Samples per stack since the last interval. */
	uint64_t *delta = xcalloc(h->samples.n ? h->samples.n : 1, sizeof(uint64_t));
	for (size_t i = 0; i < h->samples.n; i++) {
		delta[i] = cum_delta1(&h->samples_seen, map_dump_key(&h->samples, i),
				     *(uint64_t *)map_dump_value(&h->samples, i));
		total += delta[i];
	}
	for (size_t i = 0; i < h->samples.n; i++) {
		uint64_t hash = *(uint64_t *)map_dump_key(&h->samples, i);
		const uint64_t *pcs;
		struct sample *sm;
		int n, k;

		if (!delta[i])
			continue;
		pcs = stack_store_get(&s->stacks, hash, &n, &h->stacks_missing);
		if (!n)
			continue;
		/*
		 * A sample lands anywhere inside the allocator: key the site by the stack
		 * below the runtime's frames, so one allocating call is one row.
		 */
		k = runtime_frames(h, pcs, n);
		sm = site_now(&s->series,
			      series_site(&s->series, VIEW_GO_ALLOC, pcs + k, n - k, 0,
					  k ? 0 : SITE_FRAME0_IS_PC));
		sm->created += delta[i];
		if (have_delta && total)
			sm->created_bytes += (double)alloc_delta * delta[i] / total;
	}
	free(delta);
}

/* MemStats.HeapObjects: the three heapStats shards, summed (what ReadMemStats does). */
static bool heap_objects(struct ghsrc *h, int64_t *out)
{
	const struct go_offsets *o = &h->gb->off;
	size_t stride = o->hsd_size, nsc = o->nsizeclasses;
	uint8_t *buf;
	int64_t objs = 0;

	if (!h->memstats || !stride || !nsc)
		return false;
	buf = xmalloc(3 * stride);
	if (mem_read(h->s->pid, h->memstats + o->memstats_heap_stats, buf, 3 * stride)) {
		free(buf);
		return false;
	}
	for (int k = 0; k < 3; k++) {
		const uint8_t *d = buf + k * stride;
		uint64_t v;

		memcpy(&v, d + o->hsd_large_alloc_count, 8);
		objs += v;
		memcpy(&v, d + o->hsd_large_free_count, 8);
		objs -= v;
		for (size_t c = 0; c < nsc; c++) {
			memcpy(&v, d + o->hsd_small_alloc_count + 8 * c, 8);
			objs += v;
			memcpy(&v, d + o->hsd_small_free_count + 8 * c, 8);
			objs -= v;
		}
	}
	free(buf);
	*out = objs;
	return objs >= 0;
}

static int collect_heap(struct session *s, struct ghsrc *h)
{
	struct heap_state *t = &h->st;
	struct series *ser = &s->series;
	uint64_t total_alloc = 0, now = now_ns(), alloc_delta = 0;
	bool have_delta = false;
	size_t before = ser->ngc;

	ring_buffer__consume(h->rb);
	if (!resolve(s, h))
		return 0;
	if (kill(s->pid, 0) && errno == ESRCH)
		return -ESRCH;

	/* GC numbers: the events count from the runtime's own cycle counter. */
	if (h->mprofcycle) {
		uint32_t w;

		if (!mem_read(s->pid, h->mprofcycle, &w, 4)) {
			uint32_t last = w >> 1;

			for (size_t i = ser->ngc; i-- > before;)
				ser->gc[i].numgc = last - (uint32_t)(ser->ngc - 1 - i);
			t->numgc = last;
			t->have_numgc = true;
		}
	} else if (ser->ngc) {
		t->numgc = ser->gc[ser->ngc - 1].numgc;
	}

	/* Bytes allocated since the last interval, from the runtime's own counter. */
	if (h->gccontroller &&
	    !read_u64(h, h->gccontroller + h->gb->off.gcc_total_alloc, &total_alloc)) {
		if (h->have_total_alloc && total_alloc >= h->prev_total_alloc) {
			alloc_delta = total_alloc - h->prev_total_alloc;
			have_delta = true;
			t->alloc_rate = alloc_delta / ((now - h->prev_total_alloc_ns) / 1e9);
			t->have_alloc_rate = true;
		}
		h->prev_total_alloc = total_alloc;
		h->prev_total_alloc_ns = now;
		h->have_total_alloc = true;
	}

	t->have_objects = heap_objects(h, &t->objects);

	if (t->profiling) {
		int err = collect_profile(s, h);

		if (err == -EIO && kill(s->pid, 0) && errno == ESRCH)
			return -ESRCH;
	}
	if (h->nperf)
		collect_samples(s, h, alloc_delta, have_delta);

	struct view_info *vi = &s->views[VIEW_GO_ALLOC];
	__u64 *c = h->skel->bss->go_heap_counters;
	vi->drops = c[GO_HEAP_CNT_SAMPLE_FULL] + c[GO_HEAP_CNT_STACK_FULL] + h->stacks_missing;
	view_note(vi,
		  "where the program spends CPU time allocating (%u samples/s per CPU, %llu of "
		  "%llu samples of the target in the allocator since attach), with the "
		  "runtime's total allocated bytes shared out in that proportion: an allocation "
		  "RATE by stack, not memory in use",
		  s->cfg->alloc_sample_hz, (unsigned long long)c[GO_HEAP_CNT_ALLOC_SAMPLES],
		  (unsigned long long)c[GO_HEAP_CNT_SAMPLES]);
	s->views[VIEW_GO_HEAP].drops = c[GO_HEAP_CNT_RB_FULL];
	return 0;
}

static int ghsrc_collect(struct session *s, void *state)
{
	struct ghsrc *h = state;
	int err = collect_heap(s, h);

	/* The heap's state as of every interval, even one that learnt nothing new. */
	series_now(&s->series)->heap = h->st;
	return err;
}

static void ghsrc_detach(void *state)
{
	struct ghsrc *h = state;

	links_destroy(&h->links);
	ring_buffer__free(h->rb);
	map_dump_free(&h->samples);
	for (size_t i = 0; i < h->nb; i++)
		free(h->b[i].pcs);
	free(h->b);
	cum_deltas_free(&h->samples_seen);
	free(h);
}

const struct source_ops goheap_source =
	SOURCE_OPS(ghsrc, "go-heap", VIEW_BIT(VIEW_GO_HEAP) | VIEW_BIT(VIEW_GO_ALLOC));
