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
#include <stdarg.h>
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
	uint8_t raw[GO_MAX_MEMRECORD]; /* the memRecord as read, memrecord_size bytes */
	struct mem_record rec;	       /* parsed by the layout */
	bool rec_ok;
	uint64_t prev_active_allocs, prev_active_frees; /* cumulative: never go down */
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
	uint64_t total_alloc; /* runtime's bytes allocated since start, when read (pacer) */
	bool pacer_ok, objects_ok; /* their data passed the checks so far */
};

/* Validation bounds for what is read through recipes. */
#define MAX_NSTK 1026
#define MAX_BUCKETS (4u << 20)

static int read_u64(struct ghsrc *h, uint64_t addr, uint64_t *v)
{
	return addr ? mem_read(h->s->pid, addr, v, 8) : -ENOENT;
}

/* What a runtime.bucket's header says, read into a buffer the layout's checks bound. */
struct bucket_hdr {
	uint64_t typ, size, nstk, allnext;
};

static int read_bucket_header(struct ghsrc *h, uint64_t addr, struct bucket_hdr *out)
{
	const struct go_offsets *o = &h->gb->off;
	uint8_t hdr[GO_MAX_BUCKET_HDR];

	if (o->bucket_hdr > sizeof(hdr))
		return -EINVAL; /* go_offsets_check() keeps it from happening */
	if (mem_read(h->s->pid, addr, hdr, o->bucket_hdr))
		return -EIO;
	memcpy(&out->typ, hdr + o->bucket_typ, 8);
	memcpy(&out->size, hdr + o->bucket_size, 8);
	memcpy(&out->nstk, hdr + o->bucket_nstk, 8);
	memcpy(&out->allnext, hdr + o->bucket_allnext, 8);
	return 0;
}

/* The four cycles of a memRecord as read (raw), by the layout. */
static void parse_record(const struct go_offsets *o, const uint8_t *raw, uint64_t size,
			 struct mem_record *rec)
{
	for (int k = 0; k < 4; k++) {
		const uint8_t *c = raw + k * o->mrc_size;
		struct mem_cycle *m = k ? &rec->future[k - 1] : &rec->active;

		memcpy(&m->allocs, c + o->mrc_allocs, 8);
		memcpy(&m->frees, c + o->mrc_frees, 8);
		if (o->mrc_alloc_bytes) {
			memcpy(&m->alloc_bytes, c + o->mrc_alloc_bytes, 8);
			memcpy(&m->free_bytes, c + o->mrc_free_bytes, 8);
		} else {
			/* Go 1.27 keeps counts only: a bucket is one size. */
			m->alloc_bytes = m->allocs * size;
			m->free_bytes = m->frees * size;
		}
	}
}

/* A runtime variable, checked by reading it: symbol table first, recipes otherwise. */
static void find_vars(struct ghsrc *h)
{
	uint64_t v = 0;

	h->mbuckets = (h->gb->layout & GO_LAYOUT_PROFILE) ? go_runtime_var(&h->rt, "runtime.mbuckets")
							   : 0;
	if (h->mbuckets && (read_u64(h, h->mbuckets, &v) || (v & 7)))
		h->mbuckets = 0;
	if (h->mbuckets && v) {
		struct bucket_hdr bh;

		/* The head bucket must look like a memory bucket. */
		if (read_bucket_header(h, v, &bh) || bh.typ != 1 || !bh.nstk || bh.nstk > MAX_NSTK)
			h->mbuckets = 0;
	}
	h->mprofcycle = go_runtime_var(&h->rt, "runtime.mProfCycle");
	h->memprofilerate = go_runtime_var(&h->rt, "runtime.MemProfileRate");
	if (h->memprofilerate && (read_u64(h, h->memprofilerate, &v) || v > (1ull << 40)))
		h->memprofilerate = 0;
	/* Stripped binaries: learnt from the first GC event (resetLive's receiver). */
	h->pacer_ok = h->gb->layout & GO_LAYOUT_PACER;
	h->objects_ok = h->gb->layout & GO_LAYOUT_HEAPSTATS;
	h->gccontroller = h->pacer_ok ? go_runtime_var(&h->rt, "runtime.gcController") : 0;
	h->memstats = h->objects_ok ? go_runtime_var(&h->rt, "runtime.memstats") : 0;
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
	if (t->profiling) {
		char lay[96] = "";

		if (h->gb->assumed & GO_LAYOUT_PROFILE) {
			snprintf(lay, sizeof(lay), " (read with ");
			gobin_layout_desc(h->gb, GO_LAYOUT_PROFILE, lay + 12, sizeof(lay) - 12);
			strncat(lay, ", checked on the live process)", sizeof(lay) - strlen(lay) - 1);
		}
		snprintf(note, len,
			 "heap profiling on: the runtime samples an allocation every %lld KiB "
			 "on average; in-use by stack is its profile, scaled like pprof, objects "
			 "from before attach included%s",
			 (long long)rate / 1024, lay);
	}
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

/* No heap the tracer would believe is larger than this (1 PiB). */
#define MAX_HEAP (1ull << 50)

/* Part of the trend cannot be vouched for: off for the session, with one line. */
static void trend_off(struct ghsrc *h, const char *what, const char *why)
{
	log_warn("go-heap: %s switched off: %s; the rest goes on (please report this line with "
		 "the Go version, %s)",
		 what, why, h->gb->version[0] ? h->gb->version : "unknown");
}

static void gc_off(struct ghsrc *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void gc_off(struct ghsrc *h, const char *fmt, ...)
{
	struct series *ser = &h->s->series;
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* Nothing of it is printed again, not even the points that looked right. */
	h->st.gc_off = true;
	ser->ngc = ser->gc_base = 0;
	for (int i = 0; i < ser->nintervals; i++)
		ser->intervals[i].ngc = 0;
	trend_off(h, "the live heap after each GC", why);
}

static void pacer_off(struct ghsrc *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pacer_off(struct ghsrc *h, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	h->pacer_ok = false;
	h->gccontroller = 0;
	h->have_total_alloc = false;
	h->st.have_alloc_rate = false;
	h->st.have_marked_before = false;
	trend_off(h, "the allocation rate (runtime.gcController)", why);
}

static void objects_off(struct ghsrc *h, const char *why)
{
	h->objects_ok = false;
	h->memstats = 0;
	h->st.have_objects = false;
	trend_off(h, "the live object count (runtime.memstats)", why);
}

static int on_gc(void *ctx, void *data, size_t len)
{
	struct ghsrc *h = ctx;
	const struct go_gc_event *e = data;
	struct series *ser = &h->s->series;
	uint32_t numgc = 0;

	if (len < sizeof(*e))
		return 0;
	if (!h->gccontroller && e->controller && h->pacer_ok)
		h->gccontroller = e->controller;
	if (h->st.gc_off)
		return 0;
	/* The live heap after marking: no program holds a petabyte. */
	if (e->heap_marked > MAX_HEAP) {
		gc_off(h, "a GC reported %llu bytes live after marking",
		       (unsigned long long)e->heap_marked);
		return 0;
	}
	/* The cycle number: one more than the previous one we saw, or counted on below. */
	if (ser->ngc)
		numgc = series_gc(ser, ser->ngc - 1)->numgc + 1;
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

		if (!read_u64(h, h->gccontroller + h->gb->off.gcc_heap_marked, &v) &&
		    v <= MAX_HEAP) {
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

/*
 * The in-use view cannot vouch for what the runtime's heap profile says: it goes
 * off for the session, one line says why, the trend and the other views go on.
 */
static void profile_off(struct ghsrc *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void profile_off(struct ghsrc *h, const char *fmt, ...)
{
	struct view_info *vi = &h->s->views[VIEW_GO_HEAP];
	char why[256], lay[96];
	va_list ap;

	if (!h->st.profiling)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	h->st.profiling = false;
	snprintf(vi->header_note, sizeof(vi->header_note),
		 "in use by stack switched off: the runtime's heap profile does not fit %s: %s",
		 gobin_layout_desc(h->gb, GO_LAYOUT_PROFILE, lay, sizeof(lay)), why);
	log_warn("go-heap: %s; the heap trend and the other views go on (please report this "
		 "line with the Go version, %s)",
		 vi->header_note, h->gb->version[0] ? h->gb->version : "unknown");
}

/* Is pc in code the target maps? Every pc of a heap-profile stack is. */
static bool in_text(struct session *s, uint64_t pc)
{
	return maps_watch_find(&s->maps, pc) != NULL;
}

/* Read the headers and stacks of buckets we have not seen; they are prepended. */
static int discover_buckets(struct session *s, struct ghsrc *h)
{
	const struct go_offsets *o = &h->gb->off;
	uint64_t addr = 0, known = h->nb ? h->b[0].addr : 0;
	struct bucket *fresh = NULL;
	size_t nfresh = 0, cap = 0;
	int err = 0;

	if (read_u64(h, h->mbuckets, &addr))
		return -EIO;
	while (addr && addr != known && h->nb + nfresh < MAX_BUCKETS) {
		struct bucket_hdr bh;
		uint64_t *pcs;
		struct bucket *b;

		if (read_bucket_header(h, addr, &bh)) {
			err = -EIO;
			break;
		}
		/* The list holds memory buckets only, each with a stack the runtime took. */
		if (bh.typ != 1 || !bh.nstk || bh.nstk > MAX_NSTK || !bh.size ||
		    bh.size > (1ull << 40)) {
			profile_off(h, "a bucket of type %llu, %llu frames, %llu bytes",
				    (unsigned long long)bh.typ, (unsigned long long)bh.nstk,
				    (unsigned long long)bh.size);
			err = -EBADMSG;
			break;
		}
		pcs = xmalloc(bh.nstk * sizeof(*pcs));
		if (mem_read(s->pid, addr + o->bucket_hdr, pcs, bh.nstk * 8)) {
			free(pcs);
			err = -EIO;
			break;
		}
		for (uint64_t k = 0; k < bh.nstk && !err; k++)
			if (!in_text(s, pcs[k])) {
				profile_off(h, "a bucket's stack holds 0x%llx, which is no code of the "
					       "program",
					    (unsigned long long)pcs[k]);
				err = -EBADMSG;
			}
		if (err) {
			free(pcs);
			break;
		}
		if (nfresh == cap) {
			cap = cap ? 2 * cap : 64;
			fresh = xrealloc(fresh, cap * sizeof(*fresh));
		}
		b = &fresh[nfresh++];
		memset(b, 0, sizeof(*b));
		b->addr = addr;
		b->size = bh.size;
		b->nstk = bh.nstk;
		b->pcs = pcs;
		addr = bh.allnext;
	}
	if (err) {
		for (size_t i = 0; i < nfresh; i++)
			free(fresh[i].pcs);
		free(fresh);
		return err;
	}
	for (size_t i = 0; i < nfresh; i++)
		fresh[i].site = series_site(&s->series, VIEW_GO_HEAP, fresh[i].pcs, fresh[i].nstk, 0, 0);
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

/* Sampled objects counted per cycle, at most: a count past this is no count. */
#define MAX_SAMPLED (1ull << 40)

/*
 * What the runtime guarantees of a bucket's record: counts that fit, frees never
 * more than allocations, bytes that are counts times the bucket's size (up to
 * 1.26, where both are kept), and cumulative counts that never go down. NULL when
 * it holds, else what does not.
 */
static const char *record_implausible(const struct ghsrc *h, const struct bucket *b, char *buf,
				      size_t len)
{
	const struct mem_record *r = &b->rec;

	for (int k = 0; k < 4; k++) {
		const struct mem_cycle *c = k ? &r->future[k - 1] : &r->active;

		if (c->allocs > MAX_SAMPLED || c->frees > MAX_SAMPLED) {
			snprintf(buf, len, "a bucket counts %llu allocations, %llu frees",
				 (unsigned long long)c->allocs, (unsigned long long)c->frees);
			return buf;
		}
		if (h->gb->off.mrc_alloc_bytes && c->alloc_bytes != c->allocs * b->size) {
			snprintf(buf, len,
				 "a bucket of %llu-byte objects counts %llu allocations of %llu bytes",
				 (unsigned long long)b->size, (unsigned long long)c->allocs,
				 (unsigned long long)c->alloc_bytes);
			return buf;
		}
	}
	if (r->active.frees > r->active.allocs) {
		snprintf(buf, len, "a bucket counts more frees (%llu) than allocations (%llu)",
			 (unsigned long long)r->active.frees, (unsigned long long)r->active.allocs);
		return buf;
	}
	if (r->active.allocs < b->prev_active_allocs || r->active.frees < b->prev_active_frees) {
		snprintf(buf, len, "a bucket's counts went down (%llu -> %llu allocations)",
			 (unsigned long long)b->prev_active_allocs,
			 (unsigned long long)r->active.allocs);
		return buf;
	}
	return NULL;
}

static int collect_profile(struct session *s, struct ghsrc *h)
{
	const struct go_offsets *o = &h->gb->off;
	struct mem_iov *iov;
	uint32_t cycle_word = 0;
	int64_t rate = h->st.profile_rate;
	bool all_zero = true;
	uint64_t sampled_bytes = 0;
	char buf[160];
	int err;

	err = discover_buckets(s, h);
	if (err)
		return err;
	if (h->mprofcycle)
		mem_read(s->pid, h->mprofcycle, &cycle_word, 4);
	/* Every bucket's counts in a few syscalls; the checks bound memrecord_size. */
	if (o->memrecord_size > GO_MAX_MEMRECORD)
		return -EINVAL;
	iov = xmalloc((h->nb ? h->nb : 1) * sizeof(*iov));
	for (size_t i = 0; i < h->nb; i++)
		iov[i] = (struct mem_iov){h->b[i].addr + o->bucket_hdr + 8 * h->b[i].nstk,
					   h->b[i].raw, o->memrecord_size, false};
	mem_readv(s->pid, iov, h->nb);
	for (size_t i = 0; i < h->nb; i++) {
		struct bucket *b = &h->b[i];
		const char *bad;

		b->rec_ok = iov[i].ok;
		if (!b->rec_ok)
			continue;
		parse_record(o, b->raw, b->size, &b->rec);
		bad = record_implausible(h, b, buf, sizeof(buf));
		if (bad) {
			free(iov);
			profile_off(h, "%s", bad);
			return -EBADMSG;
		}
		if (b->rec.active.allocs || b->rec.active.frees)
			all_zero = false;
		for (int k = 0; k < 4; k++)
			sampled_bytes += (k ? b->rec.future[k - 1] : b->rec.active).allocs * b->size;
	}
	free(iov);
	/* Sampled allocations are allocations: never more bytes than the runtime allocated. */
	if (h->pacer_ok && h->have_total_alloc &&
	    sampled_bytes > h->total_alloc + h->total_alloc / 10 + (64ull << 20)) {
		profile_off(h, "its samples add up to %llu bytes, more than the %llu the runtime "
			       "ever allocated",
			    (unsigned long long)sampled_bytes, (unsigned long long)h->total_alloc);
		return -EBADMSG;
	}

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
		b->prev_active_allocs = b->rec.active.allocs;
		b->prev_active_frees = b->rec.active.frees;
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
	uint64_t total_alloc = 0, total_free = 0, now = now_ns(), alloc_delta = 0;
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

			for (size_t i = ser->ngc; i-- > MAX(before, ser->gc_base);)
				series_gc(ser, i)->numgc = last - (uint32_t)(ser->ngc - 1 - i);
			t->numgc = last;
			t->have_numgc = true;
		}
	} else if (ser->ngc) {
		t->numgc = series_gc(ser, ser->ngc - 1)->numgc;
	}

	/* Bytes allocated since the last interval, from the runtime's own counter. */
	bool read_ok = h->gccontroller &&
		       !read_u64(h, h->gccontroller + h->gb->off.gcc_total_alloc, &total_alloc) &&
		       !read_u64(h, h->gccontroller + h->gb->off.gcc_total_free, &total_free);
	if (read_ok) {
		/* Never more freed than allocated, never less allocated than before. */
		if (total_alloc > MAX_HEAP * 1024 || total_free > total_alloc ||
		    (h->have_total_alloc && total_alloc < h->prev_total_alloc))
			pacer_off(h, "it counts %llu bytes allocated (%llu before), %llu freed",
				  (unsigned long long)total_alloc,
				  (unsigned long long)h->prev_total_alloc,
				  (unsigned long long)total_free);
		else if (t->have_marked_before && t->marked_before > total_alloc)
			pacer_off(h, "%llu bytes live at attach, more than the %llu ever allocated",
				  (unsigned long long)t->marked_before,
				  (unsigned long long)total_alloc);
	}
	if (read_ok && h->pacer_ok) {
		h->total_alloc = total_alloc;
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
	/* Every object is at least 8 bytes the runtime allocated. */
	if (t->have_objects && h->have_total_alloc &&
	    (uint64_t)t->objects > h->total_alloc / 8 + (1u << 20)) {
		char why[160];

		snprintf(why, sizeof(why), "%lld live objects in %llu bytes ever allocated",
			 (long long)t->objects, (unsigned long long)h->total_alloc);
		objects_off(h, why);
	}
	/* Nor is more live after a GC than was ever allocated. */
	for (size_t i = MAX(before, ser->gc_base);
	     i < ser->ngc && h->have_total_alloc && !t->gc_off; i++)
		if (series_gc(ser, i)->heap_marked > h->total_alloc + (64ull << 20))
			gc_off(h, "a GC reported %llu bytes live, more than the %llu ever allocated",
			       (unsigned long long)series_gc(ser, i)->heap_marked,
			       (unsigned long long)h->total_alloc);

	if (t->profiling) {
		int err = collect_profile(s, h);

		if (err == -EIO && kill(s->pid, 0) && errno == ESRCH)
			return -ESRCH;
	}
	if (h->nperf)
		collect_samples(s, h, alloc_delta, have_delta);

	struct view_info *vi = &s->views[VIEW_GO_ALLOC];
	__u64 *c = h->skel->bss->go_heap_counters;
	view_drop(vi, c[GO_HEAP_CNT_SAMPLE_FULL], "samples not counted by stack", "--max-stacks",
		  s->cfg->max_stacks);
	view_drop(vi, c[GO_HEAP_CNT_STACK_FULL], "sample stacks not kept", "--max-stacks",
		  s->cfg->max_stacks);
	view_drop(vi, h->stacks_missing, "sample stacks unreadable", NULL, 0);
	view_note(vi,
		  "where the program spends CPU time allocating (%u samples/s per CPU, %llu of "
		  "%llu samples of the target in the allocator since attach), with the "
		  "runtime's total allocated bytes shared out in that proportion: an allocation "
		  "RATE by stack, not memory in use",
		  s->cfg->alloc_sample_hz, (unsigned long long)c[GO_HEAP_CNT_ALLOC_SAMPLES],
		  (unsigned long long)c[GO_HEAP_CNT_SAMPLES]);
	view_drop(&s->views[VIEW_GO_HEAP], c[GO_HEAP_CNT_RB_FULL], "GC events lost (ring buffer full)",
		  NULL, 0);
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
