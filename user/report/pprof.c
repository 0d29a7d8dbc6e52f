// SPDX-License-Identifier: GPL-2.0
/*
 * pprof profiles from a view's rows. Field numbers are profile.proto's
 * (github.com/google/pprof/proto/profile.proto). What each view's file holds:
 *
 *   go-heap        alloc_objects, alloc_space, inuse_objects, inuse_space (what the
 *                  runtime's /debug/pprof/heap writes: since the program started,
 *                  scaled by the source like pprof scales), period = MemProfileRate,
 *                  a numeric label "bytes" (the bucket's object size) as Go adds;
 *                  every bucket, also those no row shows (freed, idle), and the
 *                  runtime's frames on top hidden, as Go's writer does
 *   native-heap    alloc_objects, alloc_space (allocated in the interval, or since
 *                  attach for the summary), inuse_objects, inuse_space (outstanding)
 *   native-growth  events, event_space (in the interval / since attach), growth,
 *                  growth_space (grown since attach and not given back)
 *   go-alloc       samples (allocator samples), alloc_space (bytes estimated from
 *                  them), in the interval / since attach
 *   goroutines     goroutine: one sample per group of the row's dump, its current
 *                  stack on top of the creation stack, labels "state" and "blocked_s";
 *                  rows without a dump: one sample per state on the creation stack
 *   threads        thread: live threads by creation stack, label "thread_name"
 *
 * Samples with nothing in them (all values 0) are left out. Time is when the
 * report's state was read (the end of its interval), duration the interval's (the
 * session's for the summary). The stacks are the display stacks (the same frames
 * the text report prints, the view's plumbing trimmed), regrouped into one Location
 * per pc: the frames inlined at a pc are its lines, innermost first, as pprof wants.
 * Mappings come from the frames (file name and offset): no build ID, no bounds.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hashmap.h"
#include "lib/intern.h"
#include "lib/pbenc.h"
#include "lib/util.h"
#include "report/pprof.h"

enum {
	PROFILE_SAMPLE_TYPE = 1,
	PROFILE_SAMPLE = 2,
	PROFILE_MAPPING = 3,
	PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5,
	PROFILE_STRING_TABLE = 6,
	PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS = 10,
	PROFILE_PERIOD_TYPE = 11,
	PROFILE_PERIOD = 12,
	PROFILE_COMMENT = 13,
	PROFILE_DEFAULT_SAMPLE_TYPE = 14,
	VALUETYPE_TYPE = 1,
	VALUETYPE_UNIT = 2,
	SAMPLE_LOCATION_ID = 1,
	SAMPLE_VALUE = 2,
	SAMPLE_LABEL = 3,
	LABEL_KEY = 1,
	LABEL_STR = 2,
	LABEL_NUM = 3,
	LABEL_NUM_UNIT = 4,
	MAPPING_ID = 1,
	MAPPING_MEMORY_START = 2,
	MAPPING_MEMORY_LIMIT = 3,
	MAPPING_FILE_OFFSET = 4,
	MAPPING_FILENAME = 5,
	MAPPING_BUILD_ID = 6,
	MAPPING_HAS_FUNCTIONS = 7,
	MAPPING_HAS_FILENAMES = 8,
	MAPPING_HAS_LINE_NUMBERS = 9,
	MAPPING_HAS_INLINE_FRAMES = 10,
	LOCATION_ID = 1,
	LOCATION_MAPPING_ID = 2,
	LOCATION_ADDRESS = 3,
	LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1,
	LINE_LINE = 2,
	FUNCTION_ID = 1,
	FUNCTION_NAME = 2,
	FUNCTION_SYSTEM_NAME = 3,
	FUNCTION_FILENAME = 4,
};

#define MAX_VALUES 4

struct value_type {
	const char *type, *unit;
};

/* What a view's samples hold. */
struct schema {
	struct value_type types[MAX_VALUES];
	int ntypes;
	const char *default_type; /* NULL: pprof's default, the last type */
	struct value_type period_type;
};

static const struct schema schemas[VIEW__MAX] = {
	[VIEW_GOROUTINES] = {{{"goroutine", "count"}}, 1, NULL, {"goroutine", "count"}},
	[VIEW_GO_HEAP] = {{{"alloc_objects", "count"},
			   {"alloc_space", "bytes"},
			   {"inuse_objects", "count"},
			   {"inuse_space", "bytes"}},
			  4, "inuse_space", {"space", "bytes"}},
	[VIEW_GO_ALLOC] = {{{"samples", "count"}, {"alloc_space", "bytes"}},
			   2, "alloc_space", {"space", "bytes"}},
	[VIEW_NATIVE_HEAP] = {{{"alloc_objects", "count"},
			       {"alloc_space", "bytes"},
			       {"inuse_objects", "count"},
			       {"inuse_space", "bytes"}},
			      4, "inuse_space", {"space", "bytes"}},
	[VIEW_NATIVE_GROWTH] = {{{"events", "count"},
				 {"event_space", "bytes"},
				 {"growth", "count"},
				 {"growth_space", "bytes"}},
				4, "growth_space", {"space", "bytes"}},
	[VIEW_THREADS] = {{{"thread", "count"}}, 1, NULL, {"thread", "count"}},
};

/* A file the profile's pcs lie in, from the frames (their module and offset in it). */
struct pmapping {
	const char *module;
	uint64_t base; /* the mapping's start; else where offset 0 of the file is */
	uint64_t limit;
	uint64_t pgoff;	      /* file offset at base */
	const char *path;     /* NULL: the module's name stands for it */
	const char *build_id; /* NULL or "" when unknown */
	bool funcs, files, lines;
};

struct loc_key {
	uint64_t addr;
	uint64_t lines; /* hash of its lines: the same pc can keep fewer after a trim */
	uint64_t n;
};

struct func_key {
	const char *name, *file; /* interned */
};

struct label {
	const char *key, *str; /* str NULL: numeric */
	int64_t num;
	const char *unit;
};

struct prof {
	struct pbuf samples, locations, functions; /* encoded Profile fields */
	struct hmap strings;			    /* interned string -> index */
	const char **strv;
	size_t nstr;
	struct hmap funcs; /* struct func_key -> id */
	uint64_t nfunc;
	struct hmap locs; /* struct loc_key -> id */
	uint64_t nloc;
	struct pmapping *maps; /* id = index + 1 */
	size_t nmaps;
	uint64_t *stack; /* location ids of the sample being built, leaf first */
	size_t nstack, cap_stack;
	struct symbolizer *sym; /* the target's mappings, for the Mapping messages */
};

static int64_t str_idx(struct prof *p, const char *s)
{
	const char *k = intern(s ? s : "");
	int64_t *idx;
	bool created;

	idx = hmap_put(&p->strings, &k, &created);
	if (created) {
		p->strv = xrealloc(p->strv, (p->nstr + 1) * sizeof(*p->strv));
		p->strv[p->nstr] = k;
		*idx = p->nstr++;
	}
	return *idx;
}

static uint64_t func_id(struct prof *p, const char *name, const char *file)
{
	struct func_key k = {intern(name), intern(file ? file : "")};
	uint64_t *id;
	bool created;
	size_t m;

	id = hmap_put(&p->funcs, &k, &created);
	if (created) {
		*id = ++p->nfunc;
		m = pb_begin(&p->functions, PROFILE_FUNCTION);
		pb_uint64(&p->functions, FUNCTION_ID, *id);
		pb_int64(&p->functions, FUNCTION_NAME, str_idx(p, k.name));
		/* Only the display name is known (demangled): it is the system name too. */
		pb_int64(&p->functions, FUNCTION_SYSTEM_NAME, str_idx(p, k.name));
		if (*k.file)
			pb_int64(&p->functions, FUNCTION_FILENAME, str_idx(p, k.file));
		pb_end(&p->functions, m);
	}
	return *id;
}

/*
 * The file a frame's pc lies in: the mapping as the target mapped it (bounds, file
 * offset, path, build ID, for pprof to find the binary), else as the frame knows it
 * (its module's name and offset).
 */
static uint64_t mapping_id(struct prof *p, const struct frame *f)
{
	struct module_info mi = {0};
	bool known = p->sym && f->pc && symbolizer_module_info(p->sym, f->pc, &mi);
	uint64_t base = known ? mi.start : f->pc - f->module_off;
	size_t i;

	if (!known && (!f->module || !*f->module))
		return 0;
	for (i = 0; i < p->nmaps; i++)
		if (p->maps[i].base == base && (known || !strcmp(p->maps[i].module, f->module)))
			break;
	if (i == p->nmaps) {
		p->maps = xrealloc(p->maps, (p->nmaps + 1) * sizeof(*p->maps));
		p->maps[p->nmaps++] = (struct pmapping){.module = f->module, .base = base};
		if (known) {
			p->maps[i].limit = mi.end;
			p->maps[i].pgoff = mi.pgoff;
			p->maps[i].path = mi.path;
			p->maps[i].build_id = mi.build_id;
		}
	}
	p->maps[i].limit = MAX(p->maps[i].limit, f->pc + 1);
	return i + 1;
}

/* What the text report prints for a frame nothing could name. */
static const char *frame_func(const struct frame *f)
{
	char buf[256];

	if (f->func)
		return f->func;
	snprintf(buf, sizeof(buf), "%s+0x%" PRIx64, f->module && *f->module ? f->module : "?",
		 f->module_off);
	return intern(buf);
}

/* A Location: n frames of one pc, innermost first, the last one the physical function. */
static uint64_t location_id(struct prof *p, const struct frame *fr, int n, bool exact)
{
	/* Like Go's profiles: a return address stands for its call, the instruction before. */
	struct loc_key k = {.addr = exact || !fr->pc ? fr->pc : fr->pc - 1, .n = n};
	uint64_t mid, *id;
	bool created;
	size_t m;

	for (int i = 0; i < n; i++) {
		const char *file = intern(fr[i].file ? fr[i].file : "");
		const void *v[2] = {intern(frame_func(&fr[i])), file};

		k.lines = hash_bytes(v, sizeof(v), k.lines ^ (uint64_t)fr[i].line);
	}
	id = hmap_put(&p->locs, &k, &created);
	if (!created)
		return *id;
	*id = ++p->nloc;
	mid = mapping_id(p, fr);
	m = pb_begin(&p->locations, PROFILE_LOCATION);
	pb_uint64(&p->locations, LOCATION_ID, *id);
	if (mid)
		pb_uint64(&p->locations, LOCATION_MAPPING_ID, mid);
	pb_uint64(&p->locations, LOCATION_ADDRESS, k.addr);
	for (int i = 0; i < n; i++) {
		size_t l = pb_begin(&p->locations, LOCATION_LINE);

		uint64_t fid = func_id(p, frame_func(&fr[i]), fr[i].file);

		pb_uint64(&p->locations, LINE_FUNCTION_ID, fid);
		if (fr[i].line)
			pb_int64(&p->locations, LINE_LINE, fr[i].line);
		pb_end(&p->locations, l);
		if (mid) {
			p->maps[mid - 1].funcs |= fr[i].func != NULL;
			p->maps[mid - 1].files |= fr[i].file != NULL;
			p->maps[mid - 1].lines |= fr[i].line != 0;
		}
	}
	pb_end(&p->locations, m);
	return *id;
}

static void push_loc(struct prof *p, uint64_t id)
{
	if (p->nstack == p->cap_stack) {
		p->cap_stack = MAX(16, p->cap_stack * 2);
		p->stack = xrealloc(p->stack, p->cap_stack * sizeof(*p->stack));
	}
	p->stack[p->nstack++] = id;
}

/*
 * Display frames (flat, innermost first) back into Locations: a pc's frames end
 * at its physical function (the first frame not inlined). An inlined frame whose
 * caller comes from the next pc (the runtime's heap profile has a pc per inlined
 * frame) runs on into it, which is how Go's own profiles group them too.
 * pcs[0] is an exact instruction when frame0_is_pc, every other pc a return address.
 */
static void push_frames(struct prof *p, const struct frames *fr, const uint64_t *pcs, int npcs,
			bool frame0_is_pc)
{
	size_t first = p->nstack;

	for (int i = 0, j; fr && i < fr->n; i = j + 1) {
		for (j = i; j + 1 < fr->n && fr->v[j].inlined; j++)
			;
		push_loc(p, location_id(p, &fr->v[i], j - i + 1,
					frame0_is_pc && npcs && fr->v[i].pc == pcs[0] &&
						p->nstack == first));
	}
}

/* A row with no stack still shows up under a name that says why. */
static void push_placeholder(struct prof *p, const struct site *site)
{
	struct frame f = {.module = ""};

	if (site->view == VIEW_GOROUTINES)
		f.func = "(no go statement: started by the runtime)";
	else if (site->flags & SITE_PRE_ATTACH)
		f.func = "(created before attach: no stack)";
	else
		f.func = "(no stack)";
	push_loc(p, location_id(p, &f, 1, true));
}

static void sample(struct prof *p, const int64_t *v, int nv, const struct label *l, int nl)
{
	struct pbuf *b = &p->samples;
	size_t m;
	bool any = false;

	for (int i = 0; i < nv; i++)
		any |= v[i] != 0;
	if (!any)
		return; /* nothing live, nothing allocated */
	m = pb_begin(b, PROFILE_SAMPLE);
	pb_packed_u64(b, SAMPLE_LOCATION_ID, p->stack, p->nstack);
	pb_packed_i64(b, SAMPLE_VALUE, v, nv);
	for (int i = 0; i < nl; i++) {
		size_t lm = pb_begin(b, SAMPLE_LABEL);

		pb_int64(b, LABEL_KEY, str_idx(p, l[i].key));
		if (l[i].str) {
			pb_int64(b, LABEL_STR, str_idx(p, l[i].str));
		} else {
			pb_int64(b, LABEL_NUM, l[i].num);
			if (l[i].unit)
				pb_int64(b, LABEL_NUM_UNIT, str_idx(p, l[i].unit));
		}
		pb_end(b, lm);
	}
	pb_end(b, m);
}

static bool go_runtime_func(const char *func)
{
	return func && (!strncmp(func, "runtime.", 8) || !strncmp(func, "internal/runtime/", 17));
}

/* The row's own stack: its display frames, with the pcs they came from. */
static void push_row_stack(struct prof *p, const struct row *r, const struct frames *frames)
{
	const struct site *s = r->site;
	struct frames fr = frames ? *frames : (struct frames){0};
	int k = 0;

	/*
	 * Go's heap profile writer hides the runtime's frames at the top of a stack (all
	 * of them stay when nothing else is left), internal/runtime/... included: the
	 * same here, so that the file reads like the target's own.
	 */
	if (r->site->view == VIEW_GO_HEAP) {
		while (k < fr.n && go_runtime_func(fr.v[k].func))
			k++;
		if (k < fr.n) {
			fr.v += k;
			fr.n -= k;
		}
	}
	if (s->show_pcs)
		push_frames(p, &fr, s->show_pcs, s->nshow, s->show_flags & SITE_FRAME0_IS_PC);
	else
		push_frames(p, &fr, s->pcs, s->npcs, s->flags & SITE_FRAME0_IS_PC);
	if (!p->nstack)
		push_placeholder(p, s);
}

/*
 * Goroutines and threads: a count per row, split by what the row knows about its
 * members now (the goroutine dump's groups, else the states or thread names).
 */
static void count_samples(struct prof *p, const struct report_ctx *rc, const struct row *r,
			  const struct frames *fr, const char *state_key)
{
	const struct site *s = r->site;
	int64_t rest = r->now.live;

	/* The dump as of now (the latest interval), as view.c gives it to shown rows. */
	for (int k = 0; k < s->ngroups; k++) {
		const struct block_group *g = &s->groups[k];
		struct label l[2] = {{.key = "state", .str = g->state}};
		int nl = 1;

		/* Where they stand now on top of where they were made: a flame graph then
		 * sums them under the go statement, like Go's "created by". */
		p->nstack = 0;
		push_frames(p, report_group_frames(rc, s, g), g->pcs, g->npcs, true);
		push_row_stack(p, r, fr);
		if (g->wait_max_s >= 0)
			l[nl++] = (struct label){.key = "blocked_s", .num = llround(g->wait_max_s),
						 .unit = "seconds"};
		sample(p, &g->n, 1, l, nl);
	}
	if (s->ngroups)
		return;
	p->nstack = 0;
	push_row_stack(p, r, fr);
	for (int k = 0; k < s->nstates && rest > 0; k++) {
		struct label l = {.key = state_key, .str = s->states[k].state};
		int64_t n = MIN(s->states[k].n, rest);

		sample(p, &n, 1, &l, 1);
		rest -= n;
	}
	sample(p, &rest, 1, NULL, 0);
}

static void row_samples(struct prof *p, const struct report_ctx *rc, const struct view_rows *vr,
			const struct row *r)
{
	uint64_t created = vr->summary ? r->created_total : r->now.created;
	uint64_t created_bytes = vr->summary ? r->created_bytes_total : r->now.created_bytes;
	/* Rows past --top were not symbolized for the report: they are now, and kept. */
	const struct frames *fr = r->frames ? r->frames : report_site_frames(rc, r->site);
	int64_t v[MAX_VALUES];
	struct label l;

	switch (vr->view) {
	case VIEW_GOROUTINES:
		count_samples(p, rc, r, fr, "state");
		return;
	case VIEW_THREADS:
		count_samples(p, rc, r, fr, "thread_name");
		return;
	case VIEW_GO_HEAP:
		/* Since the program started, as the runtime's own profile counts. */
		v[0] = r->now.total_created;
		v[1] = r->now.total_created_bytes;
		break;
	default:
		v[0] = created;
		v[1] = created_bytes;
		break;
	}
	v[2] = r->now.live;
	v[3] = r->now.live_bytes;
	p->nstack = 0;
	push_row_stack(p, r, fr);
	if (vr->view == VIEW_GO_HEAP && v[0] > 0) {
		/* A bucket holds objects of one size; Go's writer labels its samples with it. */
		l = (struct label){.key = "bytes", .num = llround((double)v[1] / v[0])};
		sample(p, v, 4, &l, 1);
	} else {
		sample(p, v, schemas[vr->view].ntypes, NULL, 0);
	}
}

static void value_type(struct pbuf *b, struct prof *p, uint32_t field, const struct value_type *t)
{
	size_t m = pb_begin(b, field);

	pb_int64(b, VALUETYPE_TYPE, str_idx(p, t->type));
	pb_int64(b, VALUETYPE_UNIT, str_idx(p, t->unit));
	pb_end(b, m);
}

static int64_t period(const struct report_ctx *rc, enum view_kind view)
{
	const struct series *ser = rc->series;

	if (view == VIEW_GO_HEAP)
		return ser->nintervals ? ser->intervals[ser->nintervals - 1].heap.profile_rate : 0;
	/* Every allocation, goroutine, thread is counted: a period of 1. Growth events and
	 * allocator samples have no period in bytes: none. */
	return view == VIEW_GO_ALLOC || view == VIEW_NATIVE_GROWTH ? 0 : 1;
}

static bool is_library(const char *name)
{
	const char *so = strstr(name, ".so");

	return so && (!so[3] || so[3] == '.' || so[3] == '_');
}

/*
 * pprof takes the first mapping for the program itself (its "File:", where it looks
 * for symbols first): the target's executable, else the first file that is not a
 * library. Ids stay as they are; only the order changes.
 */
static size_t main_mapping(const struct prof *p, const struct report_ctx *rc)
{
	for (size_t i = 0; rc->target && i < p->nmaps; i++)
		if (!strcmp(p->maps[i].module, rc->target->exe))
			return i;
	for (size_t i = 0; i < p->nmaps; i++)
		if (!is_library(p->maps[i].module) && p->maps[i].module[0] != '[')
			return i;
	return 0;
}

/* The profile around the samples, locations and functions; strings last, when all are in. */
static void assemble(struct prof *p, const struct report_ctx *rc, const struct view_rows *vr,
		     struct pbuf *out)
{
	const struct schema *sc = &schemas[vr->view];
	const struct series *ser = rc->series;
	const struct view_info *vi = &rc->views[vr->view];
	char comment[768];
	int64_t c[2], nc = 0;

	for (int i = 0; i < sc->ntypes; i++)
		value_type(out, p, PROFILE_SAMPLE_TYPE, &sc->types[i]);
	pb_raw(out, p->samples.p, p->samples.len);
	for (size_t k = 0, first = main_mapping(p, rc); k < p->nmaps; k++) {
		size_t i = k == 0 ? first : k <= first ? k - 1 : k;
		const struct pmapping *m = &p->maps[i];
		size_t b = pb_begin(out, PROFILE_MAPPING);

		pb_uint64(out, MAPPING_ID, i + 1);
		pb_uint64(out, MAPPING_MEMORY_START, m->base);
		pb_uint64(out, MAPPING_MEMORY_LIMIT, m->limit);
		pb_uint64(out, MAPPING_FILE_OFFSET, m->pgoff);
		pb_int64(out, MAPPING_FILENAME, str_idx(p, m->path ? m->path : m->module));
		if (m->build_id && m->build_id[0])
			pb_int64(out, MAPPING_BUILD_ID, str_idx(p, m->build_id));
		/* pprof symbolizes a mapping again only when none of these is set. */
		pb_bool(out, MAPPING_HAS_FUNCTIONS, m->funcs);
		pb_bool(out, MAPPING_HAS_FILENAMES, m->files);
		pb_bool(out, MAPPING_HAS_LINE_NUMBERS, m->lines);
		/* file:line comes from .gopclntab or DWARF, which expand inlined calls. */
		pb_bool(out, MAPPING_HAS_INLINE_FRAMES, m->lines);
		pb_end(out, b);
	}
	pb_raw(out, p->locations.p, p->locations.len);
	pb_raw(out, p->functions.p, p->functions.len);
	if (ser->nintervals) /* the moment the report's state was read */
		pb_int64(out, PROFILE_TIME_NANOS, ser->intervals[ser->nintervals - 1].wall_ns);
	pb_int64(out, PROFILE_DURATION_NANOS, llround(vr->seconds * 1e9));
	value_type(out, p, PROFILE_PERIOD_TYPE, &sc->period_type);
	if (period(rc, vr->view))
		pb_int64(out, PROFILE_PERIOD, period(rc, vr->view));
	snprintf(comment, sizeof(comment), "leakscope %s%s, pid %d, %s", view_name(vr->view),
		 vr->summary ? " (session summary)" : "", (int)rc->pid,
		 rc->target ? rc->target->exe : "?");
	c[nc++] = str_idx(p, comment);
	if (vi->note[0])
		c[nc++] = str_idx(p, vi->note);
	pb_packed_i64(out, PROFILE_COMMENT, c, nc);
	if (sc->default_type)
		pb_int64(out, PROFILE_DEFAULT_SAMPLE_TYPE, str_idx(p, sc->default_type));
	for (size_t i = 0; i < p->nstr; i++)
		pb_string(out, PROFILE_STRING_TABLE, p->strv[i]);
}

/*
 * The runtime's heap profile has every bucket, freed ones too (their alloc_*); the
 * report's rows leave out those with nothing in use and nothing new in the interval.
 * Go's own file has them: so does this one, while the profile is read (rows a view
 * switched off for the session are not brought back).
 */
static void go_heap_idle_buckets(struct prof *p, const struct report_ctx *rc,
				 const struct view_rows *vr)
{
	const struct series *ser = rc->series;
	int cur = ser->nintervals - 1;
	struct hmap in_rows; /* struct site * */

	if (cur < 0 || !ser->intervals[cur].heap.valid || !ser->intervals[cur].heap.profiling ||
	    rc->views[VIEW_GO_HEAP].off)
		return;
	hmap_init(&in_rows, sizeof(struct site *), 1);
	for (size_t i = 0; i < vr->n; i++)
		hmap_put(&in_rows, &vr->v[i].site, NULL);
	for (size_t i = 0; i < ser->nsites; i++) {
		struct row r = {.site = ser->sites[i]};
		const struct sample *now = site_at(r.site, cur);

		if (r.site->view != VIEW_GO_HEAP || !now || !now->total_created ||
		    hmap_get(&in_rows, &r.site))
			continue;
		r.now = *now;
		row_samples(p, rc, vr, &r);
	}
	hmap_free(&in_rows);
}

int pprof_write_view(const struct report_ctx *rc, const struct view_rows *vr, const char *path)
{
	struct prof p = {.sym = rc->sym};
	struct pbuf out = {0};
	int err;

	if ((unsigned)vr->view >= VIEW__MAX)
		return -EINVAL;
	hmap_init(&p.strings, sizeof(const char *), sizeof(int64_t));
	hmap_init(&p.funcs, sizeof(struct func_key), sizeof(uint64_t));
	hmap_init(&p.locs, sizeof(struct loc_key), sizeof(uint64_t));
	str_idx(&p, ""); /* string_table[0] must be "" */
	for (size_t i = 0; i < vr->n; i++)
		row_samples(&p, rc, vr, &vr->v[i]);
	if (vr->view == VIEW_GO_HEAP)
		go_heap_idle_buckets(&p, rc, vr);
	assemble(&p, rc, vr, &out);
	err = pb_write_gzip(path, out.p, out.len);

	pb_free(&out);
	pb_free(&p.samples);
	pb_free(&p.locations);
	pb_free(&p.functions);
	hmap_free(&p.strings);
	hmap_free(&p.funcs);
	hmap_free(&p.locs);
	free(p.strv);
	free(p.maps);
	free(p.stack);
	return err;
}
