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

#include "bpfio/bpfmap.h"
#include "elf/disasm.h"
#include "goheap.h"
#include "goheap.skel.h"
#include "golang/runtime.h"
#include "target/proc.h"
#include "session.h"
#include "stacks.h"

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
	struct goheap_bpf *skel;
	struct bpf_link *gc_link;
	struct bpf_link **perf_links;
	int nperf;
	struct ring_buffer *rb;
	struct session *s;
	struct modfile *mf;
	const struct gobin *gb;
	struct go_runtime rt; /* pid, gb, bias: for variable lookup only */
	bool ready;
	bool linked; /* heap profiling code linked in */
	uint64_t mbuckets, mprofcycle, memprofilerate, gccontroller, memstats;
	struct bucket *b; /* newest first, like the runtime's list */
	size_t nb, cap;
	struct stack_store stacks;
	struct map_dump samples;
	struct cum_deltas samples_seen; /* per stack hash */
	uint64_t prev_total_alloc, prev_total_alloc_ns;
	bool have_total_alloc;
	/* HeapObjects history for its slope */
	double *obj_t, *obj_v;
	size_t nobj;
};

/* Validation bounds for what is read through recipes. */
#define MAX_NSTK 1026
#define MAX_BUCKETS (4u << 20)

static int read_u64(struct ghsrc *h, uint64_t addr, uint64_t *v)
{
	return addr ? proc_read(h->s->pid, addr, v, 8) : -ENOENT;
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
		if (proc_read(h->s->pid, v, hdr, sizeof(hdr)) ||
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
	struct go_heap_trend *t = &h->s->heap;
	int64_t rate = profile_rate(h);

	t->profile_rate = rate;
	t->profiling = h->linked && rate > 0 && h->mbuckets;
	if (t->profiling)
		snprintf(t->profiling_note, sizeof(t->profiling_note),
			 "heap profiling on: the runtime samples an allocation every %lld KiB "
			 "on average; in-use by stack is its profile, scaled like pprof, objects "
			 "from before attach included",
			 (long long)rate / 1024);
	else if (!h->linked)
		snprintf(t->profiling_note, sizeof(t->profiling_note),
			 "heap profiling is off in this binary: neither runtime/pprof nor "
			 "net/http/pprof is linked, so the Go linker switched the runtime's "
			 "allocation sampling off and in-use memory by stack cannot be known. "
			 "Shown instead: the live heap after each GC, and an estimated allocation "
			 "rate by stack (GO ALLOCATION RATE). For in-use by stack, link "
			 "net/http/pprof");
	else if (rate == 0)
		snprintf(t->profiling_note, sizeof(t->profiling_note),
			 "heap profiling is off: the program set runtime.MemProfileRate to 0. "
			 "Shown instead: the live heap after each GC, and an estimated allocation "
			 "rate by stack (GO ALLOCATION RATE)");
	else
		snprintf(t->profiling_note, sizeof(t->profiling_note),
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
	h->perf_links = xcalloc(ncpu, sizeof(*h->perf_links));
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
		h->perf_links[h->nperf++] = l;
	}
	return h->nperf ? 0 : -ENODEV;
}

static int on_gc(void *ctx, void *data, size_t len)
{
	struct ghsrc *h = ctx;
	const struct go_gc_event *e = data;
	struct go_heap_trend *t = &h->s->heap;
	uint32_t numgc = 0;

	if (len < sizeof(*e))
		return 0;
	if (!h->gccontroller && e->controller)
		h->gccontroller = e->controller;
	if (t->ngc == t->cap_gc) {
		t->cap_gc = t->cap_gc ? 2 * t->cap_gc : 256;
		t->gc = xrealloc(t->gc, t->cap_gc * sizeof(*t->gc));
	}
	/* The cycle number: one more than the previous one we saw, or counted on below. */
	if (t->ngc)
		numgc = t->gc[t->ngc - 1].numgc + 1;
	t->gc[t->ngc++] = (struct gc_point){e->ts_ns, e->heap_marked, numgc};
	return 0;
}

static bool resolve(struct session *s, struct ghsrc *h)
{
	uint64_t bias;

	if (h->ready)
		return true;
	if (module_bias(s->pid, h->mf, &bias))
		return false; /* launched target not exec'd yet */
	h->rt.pid = s->pid;
	h->rt.gb = h->gb;
	h->rt.bias = bias;
	find_vars(h);
	describe_profiling(h);
	h->skel->bss->text_bias = bias;
	h->skel->bss->bias_known = 1;
	if (h->gccontroller) {
		uint64_t v;

		if (!read_u64(h, h->gccontroller + h->gb->off.gcc_heap_marked, &v)) {
			s->heap.heap_marked_at_attach = v;
			s->heap.have_marked_at_attach = true;
		}
	}
	h->ready = true;
	return true;
}

static int ghsrc_attach(struct session *s, void **state)
{
	struct gofunc reset;
	struct ghsrc *h;
	const void *code;
	uint64_t probe, lo[GO_ALLOC_RANGES], hi[GO_ALLOC_RANGES];
	size_t len;
	int err, n;

	h = xcalloc(1, sizeof(*h));
	h->s = s;
	h->mf = modfile_get(s->exe_path, &err);
	if (!h->mf || !h->mf->gb || !h->mf->gb->pcln) {
		free(h);
		return -ENOTSUP;
	}
	h->gb = h->mf->gb;
	if (!s->cfg->views[VIEW_GO_HEAP] && !s->cfg->views[VIEW_GO_ALLOC]) {
		free(h);
		return -ENOTSUP;
	}
	h->linked = !gobin_func(h->gb, "runtime.memProfileInternal", &reset) ||
		    !gobin_func(h->gb, "runtime.MemProfile", &reset);

	h->skel = goheap_bpf__open();
	if (!h->skel) {
		err = -errno;
		fatal_set(&s->fatal, EXIT_ERROR, "cannot open the Go heap BPF object: %s",
			  strerror(errno));
		goto fail;
	}
	h->skel->rodata->target_tgid = s->pid;
	h->skel->rodata->pidns_dev = s->pidns_dev;
	h->skel->rodata->pidns_ino = s->pidns_ino;
	n = alloc_ranges(h->gb, lo, hi, GO_ALLOC_RANGES);
	for (int i = 0; i < n; i++) {
		h->skel->rodata->alloc_lo[i] = lo[i];
		h->skel->rodata->alloc_hi[i] = hi[i];
	}
	h->skel->rodata->nalloc_ranges = n;
	bpf_map__set_max_entries(h->skel->maps.stacks, s->cfg->max_stacks);
	bpf_map__set_max_entries(h->skel->maps.alloc_samples, s->cfg->max_stacks);
	err = goheap_bpf__load(h->skel);
	if (err) {
		bpf_load_error(&s->fatal, "Go heap", err);
		goto fail;
	}

	/* Once per GC: resetLive, RBX = bytes marked, on the first emulated instruction. */
	if (gobin_func(h->gb, "runtime.(*gcControllerState).resetLive", &reset) ||
	    !(code = gobin_code(h->gb, &reset, &len))) {
		log_warn("runtime.(*gcControllerState).resetLive not found: no heap trend after GC");
	} else {
		probe = disasm_first_emulated(code, len, reset.entry, DISASM_RAX | DISASM_RBX);
		h->gc_link = uprobe_attach(s, h->skel->progs.go_gc_done, s->exe_path, h->mf->elf,
					   probe, 0, "the GC cycle (resetLive)", &s->fatal);
		if (!h->gc_link) {
			err = -ENOENT;
			goto fail;
		}
		log_debug("GC probe at resetLive+%llu",
			  (unsigned long long)(probe - reset.entry));
	}
	h->rb = ring_buffer__new(bpf_map__fd(h->skel->maps.gc_events), on_gc, h, NULL);
	if (!h->rb) {
		err = -errno;
		fatal_set(&s->fatal, EXIT_ERROR, "cannot read GC events: %s", strerror(errno));
		goto fail;
	}
	stack_store_init(&h->stacks, bpf_map__fd(h->skel->maps.stacks));
	cum_deltas_init(&h->samples_seen, sizeof(uint64_t));

	resolve(s, h);
	/*
	 * Sample the allocator when the runtime's profile is missing, or when asked to.
	 * A launched target is not running yet: go by what the binary links.
	 */
	bool want = s->cfg->views_given ? s->cfg->views[VIEW_GO_ALLOC]
					: !h->linked || (h->ready && !s->heap.profiling);
	if (want) {
		if (n && attach_sampler(h, s) == 0)
			s->views[VIEW_GO_ALLOC].active = true;
		else
			log_warn("cannot sample the Go allocator (perf CPU clock): no allocation "
				 "rate by stack");
	}
	s->heap.active = true;
	s->views[VIEW_GO_HEAP].active = true;
	*state = h;
	return 0;
fail:
	bpf_link__destroy(h->gc_link);
	goheap_bpf__destroy(h->skel);
	free(h);
	return err;
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

		if (proc_read(s->pid, addr, hdr, o->bucket_hdr))
			return -EIO;
		nstk = hdr[o->bucket_nstk / 8];
		if (hdr[o->bucket_typ / 8] != 1 || nstk <= 0 || nstk > MAX_NSTK)
			break; /* not a memory bucket: the list is not what we think */
		pcs = xmalloc(nstk * sizeof(*pcs));
		if (proc_read(s->pid, addr + o->bucket_hdr, pcs, nstk * 8)) {
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
	struct proc_iov *iov;
	uint32_t cycle_word = 0;
	int64_t rate = s->heap.profile_rate;
	bool all_zero = true;
	int err;

	err = discover_buckets(s, h);
	if (err)
		return err;
	if (h->mprofcycle)
		proc_read(s->pid, h->mprofcycle, &cycle_word, 4);
	/* Every bucket's counts in a few syscalls. */
	iov = xmalloc(h->nb * sizeof(*iov));
	for (size_t i = 0; i < h->nb; i++)
		iov[i] = (struct proc_iov){h->b[i].addr + o->bucket_hdr + 8 * h->b[i].nstk,
					   &h->b[i].rec, sizeof(h->b[i].rec), false};
	proc_readv(s->pid, iov, h->nb);
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
		s->heap.numgc = cycle_word >> 1; /* the profile cycle is the GC count */
		s->heap.have_numgc = true;
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

	err = map_dump_read(bpf_map__fd(h->skel->maps.alloc_samples), sizeof(uint64_t),
			    sizeof(uint64_t), &h->samples);
	if (err) {
		log_warn("reading allocation samples: %s", strerror(-err));
		return;
	}
	/* Samples per stack since the last interval. */
	uint64_t *delta = xcalloc(h->samples.n ? h->samples.n : 1, sizeof(uint64_t));
	for (size_t i = 0; i < h->samples.n; i++) {
		delta[i] = cum_delta(&h->samples_seen, map_dump_key(&h->samples, i),
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
		pcs = stack_store_get(&h->stacks, hash, &n);
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
	if (proc_read(h->s->pid, h->memstats + o->memstats_heap_stats, buf, 3 * stride)) {
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

/* Growth of the live heap: least squares over every GC point since attach. */
static void heap_slope(struct go_heap_trend *t)
{
	double *x, *y;

	if (t->ngc < 2)
		return;
	x = xmalloc(t->ngc * sizeof(double));
	y = xmalloc(t->ngc * sizeof(double));
	for (size_t i = 0; i < t->ngc; i++) {
		x[i] = (t->gc[i].mono_ns - t->gc[0].mono_ns) / 1e9;
		y[i] = t->gc[i].heap_marked;
	}
	t->heap_slope = lsq_slope(x, y, t->ngc);
	free(x);
	free(y);
}

static int ghsrc_collect(struct session *s, void *state)
{
	struct ghsrc *h = state;
	struct go_heap_trend *t = &s->heap;
	uint64_t total_alloc = 0, now = now_ns(), alloc_delta = 0;
	bool have_delta = false;
	size_t before = t->ngc;

	t->gc_first_in_interval = t->ngc;
	ring_buffer__consume(h->rb);
	if (!resolve(s, h))
		return 0;
	if (kill(s->pid, 0) && errno == ESRCH)
		return -ESRCH;

	/* GC numbers: the events count from the runtime's own cycle counter. */
	if (h->mprofcycle) {
		uint32_t w;

		if (!proc_read(s->pid, h->mprofcycle, &w, 4)) {
			uint32_t last = w >> 1;

			for (size_t i = t->ngc; i-- > before;)
				t->gc[i].numgc = last - (uint32_t)(t->ngc - 1 - i);
			t->numgc = last;
			t->have_numgc = true;
		}
	} else if (t->ngc) {
		t->numgc = t->gc[t->ngc - 1].numgc;
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

	t->have_objects = heap_objects(h, &t->heap_objects);
	if (t->have_objects) {
		h->obj_t = xrealloc(h->obj_t, (h->nobj + 1) * sizeof(double));
		h->obj_v = xrealloc(h->obj_v, (h->nobj + 1) * sizeof(double));
		h->obj_t[h->nobj] = (now - s->series.start_mono_ns) / 1e9;
		h->obj_v[h->nobj] = t->heap_objects;
		h->nobj++;
		t->objects_slope = lsq_slope(h->obj_t, h->obj_v, h->nobj);
	}

	if (t->profiling) {
		int err = collect_profile(s, h);

		if (err == -EIO && kill(s->pid, 0) && errno == ESRCH)
			return -ESRCH;
	}
	if (h->nperf)
		collect_samples(s, h, alloc_delta, have_delta);
	heap_slope(t);

	struct view_info *vi = &s->views[VIEW_GO_ALLOC];
	__u64 *c = h->skel->bss->counters;
	vi->drops = c[GO_HEAP_CNT_SAMPLE_FULL] + h->skel->bss->stack_errors[LS_STACK_ERR_FULL];
	snprintf(vi->note, sizeof(vi->note),
		 "where the program spends CPU time allocating (%u samples/s per CPU, %llu of "
		 "%llu samples of the target in the allocator since attach), with the "
		 "runtime's total allocated bytes shared out in that proportion: an allocation "
		 "RATE by stack, not memory in use",
		 s->cfg->alloc_sample_hz, (unsigned long long)c[GO_HEAP_CNT_ALLOC_SAMPLES],
		 (unsigned long long)c[GO_HEAP_CNT_SAMPLES]);
	s->views[VIEW_GO_HEAP].drops = c[GO_HEAP_CNT_RB_FULL];
	return 0;
}

static void ghsrc_detach(void *state)
{
	struct ghsrc *h = state;

	for (int i = 0; i < h->nperf; i++)
		bpf_link__destroy(h->perf_links[i]);
	free(h->perf_links);
	bpf_link__destroy(h->gc_link);
	ring_buffer__free(h->rb);
	goheap_bpf__destroy(h->skel);
	stack_store_free(&h->stacks);
	map_dump_free(&h->samples);
	for (size_t i = 0; i < h->nb; i++)
		free(h->b[i].pcs);
	free(h->b);
	cum_deltas_free(&h->samples_seen);
	free(h->obj_t);
	free(h->obj_v);
	free(h);
}

const struct source_ops goheap_source = {
	.name = "go-heap",
	.attach = ghsrc_attach,
	.collect = ghsrc_collect,
	.detach = ghsrc_detach,
};
