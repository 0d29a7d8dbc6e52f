// SPDX-License-Identifier: GPL-2.0
/*
 * pprof profiles from recorded series (no BPF, no target), and the protobuf
 * encoder under them. The encoder is checked here by decoding what it wrote;
 * the profiles are written to OUTDIR and checked by tests/unit/pprof.sh with
 * `go tool pprof`. Frames are installed in the symbolizer's cache (pc -> frames,
 * as symbolize_pc keeps them), so the stacks in the files are known exactly:
 * a Go heap bucket with a function inlined and the runtime's extra pc for it,
 * goroutines blocked in groups, a C heap with an unresolved frame, threads.
 *
 * usage: test_pprof OUTDIR
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/intern.h"
#include "lib/pbenc.h"
#include "lib/util.h"
#include "report/pprof.h"
#include "target/maps.h"

static int checks, failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			fprintf(stderr, "test_pprof: FAIL %s:%d: ", __FILE__, __LINE__);           \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

/* ---- the encoder, decoded back ------------------------------------------------------ */

struct reader {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t rd_varint(struct reader *r)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 70; shift += 7) {
		if (r->p >= r->end) {
			r->bad = true;
			return 0;
		}
		v |= (uint64_t)(*r->p & 0x7f) << shift;
		if (!(*r->p++ & 0x80))
			return v;
	}
	r->bad = true;
	return v;
}

/* The next field: its number, wire type, and for PB_LEN a reader of its body. */
static uint32_t rd_field(struct reader *r, int *wire, uint64_t *v, struct reader *body)
{
	uint64_t tag = rd_varint(r);

	*wire = tag & 7;
	if (*wire == PB_VARINT) {
		*v = rd_varint(r);
	} else if (*wire == PB_LEN) {
		*v = rd_varint(r);
		if (*v > (uint64_t)(r->end - r->p)) {
			r->bad = true;
			return 0;
		}
		*body = (struct reader){r->p, r->p + *v, false};
		r->p += *v;
	} else {
		r->bad = true;
	}
	return tag >> 3;
}

static bool bytes_are(const struct pbuf *b, const char *hex)
{
	char got[64] = "";

	for (size_t i = 0; i < b->len && 2 * i + 2 < sizeof(got); i++)
		snprintf(got + 2 * i, 3, "%02x", b->p[i]);
	return !strcmp(got, hex);
}

static void test_varints(void)
{
	static const struct {
		uint64_t v;
		const char *hex;
	} cases[] = {
		{0, "00"},
		{1, "01"},
		{127, "7f"},
		{128, "8001"},
		{300, "ac02"},
		{16383, "ff7f"},
		{16384, "808001"},
		{1ull << 63, "80808080808080808001"},
		{UINT64_MAX, "ffffffffffffffffff01"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct pbuf b = {0};
		struct reader r;

		pb_varint(&b, cases[i].v);
		CHECK(bytes_are(&b, cases[i].hex), "varint %llu encodes as %s",
		      (unsigned long long)cases[i].v, cases[i].hex);
		r = (struct reader){b.p, b.p + b.len, false};
		CHECK(rd_varint(&r) == cases[i].v && !r.bad && r.p == r.end,
		      "varint %llu decodes back", (unsigned long long)cases[i].v);
		pb_free(&b);
	}

	/* A negative int64 is its two's complement: always 10 bytes. */
	struct pbuf b = {0};
	struct reader r;
	uint64_t v;
	int wire;

	pb_int64(&b, 1, -1);
	CHECK(b.len == 11 && bytes_are(&b, "08ffffffffffffffffff01"), "int64 -1: tag + 10 bytes");
	pb_free(&b);
	pb_int64(&b, 2, INT64_MIN);
	r = (struct reader){b.p, b.p + b.len, false};
	CHECK(b.len == 11 && rd_field(&r, &wire, &v, NULL) == 2 && wire == PB_VARINT &&
		      (int64_t)v == INT64_MIN && !r.bad,
	      "int64 min round trip, %zu bytes", b.len);
	pb_free(&b);

	/* Field numbers above 15 take a two-byte tag. */
	pb_uint64(&b, 16, 1);
	CHECK(bytes_are(&b, "800101"), "field 16 tag");
	pb_free(&b);
}

static void test_packed_and_nested(void)
{
	static const int64_t vals[] = {0, 1, -1, 150, 1ll << 40};
	struct pbuf b = {0};
	struct reader r, body, inner, in2;
	char big[200];
	size_t outer, mid;
	uint64_t v;
	int wire, n = 0;

	/* An outer message holding a string, a nested message with a 200-byte body (its
	 * length takes two bytes) and a packed field, then a field after it. */
	memset(big, 'x', sizeof(big));
	outer = pb_begin(&b, 1);
	pb_string(&b, 1, "");
	mid = pb_begin(&b, 2);
	pb_bytes(&b, 1, big, sizeof(big));
	pb_end(&b, mid);
	pb_packed_i64(&b, 3, vals, ARRAY_SIZE(vals));
	pb_packed_u64(&b, 4, NULL, 0); /* nothing at all for an empty list */
	pb_end(&b, outer);
	pb_uint64(&b, 5, 42);

	r = (struct reader){b.p, b.p + b.len, false};
	CHECK(rd_field(&r, &wire, &v, &body) == 1 && wire == PB_LEN &&
		      v == 1 + 1 + (1 + 2 + 1 + 2 + 200) + (1 + 1 + 1 + 1 + 10 + 2 + 6),
	      "outer message length %llu", (unsigned long long)v);
	CHECK(rd_field(&body, &wire, &v, &inner) == 1 && wire == PB_LEN && v == 0,
	      "empty string first");
	CHECK(rd_field(&body, &wire, &v, &inner) == 2 && wire == PB_LEN && v == 203,
	      "nested message of 203 bytes, got %llu", (unsigned long long)v);
	CHECK(rd_field(&inner, &wire, &v, &in2) == 1 && v == 200 && in2.p[0] == 'x' &&
		      inner.p == inner.end,
	      "its bytes field");
	CHECK(rd_field(&body, &wire, &v, &inner) == 3 && wire == PB_LEN, "packed field");
	while (inner.p < inner.end && !inner.bad) {
		int64_t x = (int64_t)rd_varint(&inner);

		CHECK(n < (int)ARRAY_SIZE(vals) && x == vals[n], "packed value %d: %lld", n,
		      (long long)x);
		n++;
	}
	CHECK(n == (int)ARRAY_SIZE(vals) && body.p == body.end && !body.bad,
	      "5 packed values, nothing after them in the outer message");
	CHECK(rd_field(&r, &wire, &v, NULL) == 5 && v == 42 && r.p == r.end && !r.bad,
	      "field after the nested message");
	pb_free(&b);
}

static void test_gzip(const char *dir)
{
	char *path = xasprintf("%s/gzip-roundtrip.gz", dir), buf[64];
	static const char text[] = "profile.proto, compressed";
	gzFile gz;
	int n;

	CHECK(pb_write_gzip(path, text, sizeof(text)) == 0, "gzip write");
	gz = gzopen(path, "rb");
	n = gz ? gzread(gz, buf, sizeof(buf)) : -1;
	if (gz)
		gzclose(gz);
	CHECK(n == (int)sizeof(text) && !memcmp(buf, text, n), "gzip reads back (%d bytes)", n);
	CHECK(pb_write_gzip("/nonexistent-dir/x.gz", text, 1) == -ENOENT, "-ENOENT for a bad path");
	free(path);
}

/* ---- recorded series ---------------------------------------------------------------- */

struct recorded {
	struct series series;
	struct view_info views[VIEW__MAX];
	struct target_info target;
	struct maps_watch maps;
	struct symbolizer sym;
};

/* A frame of the recorded program: Go's "demo" loaded at 0x400000, C's "cleak" at 0x10000. */
struct rec_frame {
	const char *func, *file;
	int line;
	bool inlined;
	uint64_t call_pc;
};

static void install(struct symbolizer *sym, const char *module, uint64_t base, uint64_t pc,
		    bool is_return, const struct rec_frame *rf, int n)
{
	uint64_t key = pc << 1 | is_return;
	struct frames *fr = hmap_put(&sym->cache, &key, NULL);

	fr->v = xcalloc(n, sizeof(*fr->v));
	fr->n = n;
	for (int i = 0; i < n; i++)
		fr->v[i] = (struct frame){rf[i].func, rf[i].file, rf[i].line, rf[i].inlined, false,
					  rf[i].call_pc, module, pc - base, pc};
}

#define INSTALL(mod, base, pc, ret, ...)                                                           \
	do {                                                                                       \
		const struct rec_frame f_[] = {__VA_ARGS__};                                       \
		install(&s->sym, mod, base, pc, ret, f_, ARRAY_SIZE(f_));                          \
	} while (0)

#define GO 0x400000ull
#define C 0x10000ull
#define LIBC 0x7f0000000000ull

/*
 * Go heap bucket: runtime.newobject <- main.newSession inlined into main.handle, with
 * the runtime's pc for the inlined frame (its call pc + 1) <- main.serve <- main.main.
 */
static const uint64_t heap_pcs[] = {0x401100, 0x402200, 0x402151, 0x403300, 0x404400};
/* A bucket allocated and freed: only in the alloc_* sample types. */
static const uint64_t freed_pcs[] = {0x403310, 0x404400};
/* A map grown by main.leakSessions (Go's writer hides internal/runtime/ too), and a
 * bucket with nothing but the runtime's frames (kept whole). */
static const uint64_t map_pcs[] = {0x40a100, 0x40a200, 0x40a300, 0x404400};
static const uint64_t rt_pcs[] = {0x401100, 0x40a400};
/* Goroutines: created at main.handleOrder <- main.serve (pcs[0] an exact pc). */
static const uint64_t go_pcs[] = {0x406600, 0x403320};
static const uint64_t grp1_pcs[] = {0x408800, 0x408900, 0x408a00, 0x408b00};
static const uint64_t grp2_pcs[] = {0x409900, 0x409910, 0x408b00};
static const uint64_t worker_pcs[] = {0x406700, 0x404410};
/* C heap: malloc <- leak_block <- leak_loop <- main <- __libc_start_main, exact frame 0. */
static const uint64_t leak_pcs[] = {LIBC + 0x1000, C + 0x1083, C + 0x1317, C + 0x1387,
				    LIBC + 0x2000};
static const uint64_t steady_pcs[] = {LIBC + 0x1000, 0x7f1000001234ull, C + 0x1388};
static const uint64_t thread_pcs[] = {LIBC + 0x3000, C + 0x1400, C + 0x1389};

static void install_frames(struct recorded *s)
{
	INSTALL("demo", GO, 0x401100, true,
		{"runtime.newobject", "/go/src/runtime/malloc.go", 1710});
	INSTALL("demo", GO, 0x402200, true,
		{"main.newSession", "/src/demo/main.go", 45, true, 0x402150},
		{"main.handle", "/src/demo/main.go", 60});
	INSTALL("demo", GO, 0x402151, true, {"main.handle", "/src/demo/main.go", 60});
	INSTALL("demo", GO, 0x403300, true, {"main.serve", "/src/demo/main.go", 87});
	INSTALL("demo", GO, 0x403310, true, {"main.serve", "/src/demo/main.go", 88});
	INSTALL("demo", GO, 0x403320, true, {"main.serve", "/src/demo/main.go", 50});
	INSTALL("demo", GO, 0x404400, true, {"main.main", "/src/demo/main.go", 110});
	INSTALL("demo", GO, 0x404410, true, {"main.main", "/src/demo/main.go", 111});
	INSTALL("demo", GO, 0x40a100, true,
		{"internal/runtime/maps.newarray", "/go/src/internal/runtime/maps/table.go", 1100});
	INSTALL("demo", GO, 0x40a200, true, {"runtime.makemap", "/go/src/runtime/map.go", 300});
	INSTALL("demo", GO, 0x40a300, true, {"main.leakSessions", "/src/demo/main.go", 30});
	INSTALL("demo", GO, 0x40a400, true, {"runtime.main", "/go/src/runtime/proc.go", 290});
	INSTALL("demo", GO, 0x406600, false, {"main.handleOrder", "/src/demo/main.go", 70});
	INSTALL("demo", GO, 0x406700, false, {"main.startWorkers", "/src/demo/main.go", 95});
	INSTALL("demo", GO, 0x408800, false, {"runtime.gopark", "/go/src/runtime/proc.go", 435});
	INSTALL("demo", GO, 0x408900, true, {"runtime.chansend", "/go/src/runtime/chan.go", 283});
	INSTALL("demo", GO, 0x408a00, true, {"main.handleOrder.func1", "/src/demo/main.go", 71});
	INSTALL("demo", GO, 0x408b00, true,
		{"runtime.goexit", "/go/src/runtime/asm_amd64.s", 1700});
	INSTALL("demo", GO, 0x409900, false, {"time.Sleep", "/go/src/runtime/time.go", 363});
	INSTALL("demo", GO, 0x409910, true,
		{"main.lookupPrice", "/src/demo/main.go", 60, true, 0x409800},
		{"main.handleOrder.func1", "/src/demo/main.go", 72});
	INSTALL("libc.so.6", LIBC, LIBC + 0x1000, false, {"malloc"});
	INSTALL("libc.so.6", LIBC, LIBC + 0x2000, true, {"__libc_start_main"});
	INSTALL("libc.so.6", LIBC, LIBC + 0x3000, false, {"pthread_create"});
	INSTALL("cleak", C, C + 0x1083, true, {"leak_block", "/src/cleak.c", 83});
	INSTALL("cleak", C, C + 0x1317, true, {"leak_loop", "/src/cleak.c", 317});
	INSTALL("cleak", C, C + 0x1387, true, {"main", "/src/cleak.c", 387});
	INSTALL("cleak", C, C + 0x1388, true, {"main", "/src/cleak.c", 388});
	INSTALL("cleak", C, C + 0x1389, true, {"main", "/src/cleak.c", 389});
	INSTALL("cleak", C, C + 0x1400, true, {"spawn", "/src/cleak.c", 140});
	/* Nothing names this one: it prints (and is named) libfoo.so+0x1234. */
	INSTALL("libfoo.so", 0x7f1000000000ull, 0x7f1000001234ull, true, {NULL});
}

/* The views' plumbing, as the sources cut it (the allocator's frames, the scheduler's). */
static void trim_runtime(void *ctx, const struct site *site, struct frames *fr)
{
	int k = 0;

	while (k < fr->n && fr->v[k].func && !strncmp(fr->v[k].func, "runtime.", 8))
		k++;
	if (k == fr->n)
		return; /* all the runtime's: kept */
	memmove(fr->v, fr->v + k, (fr->n - k) * sizeof(*fr->v));
	fr->n -= k;
}

static void trim_gopark(void *ctx, const struct block_group *g, struct frames *fr)
{
	if (fr->n > 1 && fr->v[0].func && !strcmp(fr->v[0].func, "runtime.gopark")) {
		memmove(fr->v, fr->v + 1, (fr->n - 1) * sizeof(*fr->v));
		fr->n--;
	}
}

static const char *chan_send, *sleep_state, *chan_recv, *worker_name, *parker_name;

/* Interval i (0 = the baseline at attach): every source's full state, 1 s apart. */
static void record(struct recorded *s, int i)
{
	struct series *ser = &s->series;
	struct site *site;
	struct sample *sm;

	series_next_interval(ser);
	ser->intervals[i].mono_ns = ser->start_mono_ns + (i + 1) * 1000000000ull;
	ser->intervals[i].wall_ns = 1700000000000000000ull + i * 1000000000ull;
	ser->intervals[i].seconds = 1.0;
	ser->intervals[i].heap = (struct heap_state){.valid = true, .profiling = true,
						     .profile_rate = 512 * 1024};

	/* Go heap, already scaled the way the source scales (like pprof): 1 KiB objects. */
	site = series_site(ser, VIEW_GO_HEAP, heap_pcs, ARRAY_SIZE(heap_pcs), 0, 0);
	sm = site_now(ser, site);
	sm->live = 10 * (i + 1);
	sm->live_bytes = 10240 * (i + 1);
	sm->total_created = 30 * (i + 1);
	sm->total_created_bytes = 30720 * (i + 1);
	sm->created = i ? 30 : 0;
	sm->created_bytes = i ? 30720 : 0;
	site = series_site(ser, VIEW_GO_HEAP, freed_pcs, ARRAY_SIZE(freed_pcs), 0, 0);
	sm = site_now(ser, site);
	sm->total_created = 5;
	sm->total_created_bytes = 5 * 4096;
	sm->created = i == 2 ? 5 : 0; /* (a row: something happened in the interval) */
	sm->created_bytes = i == 2 ? 5 * 4096 : 0;
	sm->freed = sm->created;
	sm->freed_bytes = sm->created_bytes;

	sm = site_now(ser, series_site(ser, VIEW_GO_HEAP, map_pcs, ARRAY_SIZE(map_pcs), 0, 0));
	sm->live = sm->total_created = 2;
	sm->live_bytes = sm->total_created_bytes = 2 * 8192;
	sm = site_now(ser, series_site(ser, VIEW_GO_HEAP, rt_pcs, ARRAY_SIZE(rt_pcs), 0, 0));
	sm->live = sm->total_created = 1;
	sm->live_bytes = sm->total_created_bytes = 512;

	/* Goroutines: a row with its dump in two groups, one with only states, one with
	 * no stack at all. */
	site = series_site(ser, VIEW_GOROUTINES, go_pcs, ARRAY_SIZE(go_pcs), 0, SITE_FRAME0_IS_PC);
	sm = site_now(ser, site);
	sm->live = 247;
	site_add_state(ser, site, chan_send, 246);
	site_add_state(ser, site, sleep_state, 1);
	site_add_group(ser, site,
		       &(struct block_group){chan_send, grp1_pcs, ARRAY_SIZE(grp1_pcs), 246, 9.2,
					     30.4, false, true, 0});
	site_add_group(ser, site,
		       &(struct block_group){sleep_state, grp2_pcs, ARRAY_SIZE(grp2_pcs), 1, -1, -1,
					     false, true, 1});
	site = series_site(ser, VIEW_GOROUTINES, worker_pcs, ARRAY_SIZE(worker_pcs), 0,
			   SITE_FRAME0_IS_PC);
	sm = site_now(ser, site);
	sm->live = 8;
	site_add_state(ser, site, sleep_state, 5);
	site_add_state(ser, site, chan_recv, 3);
	site = series_site(ser, VIEW_GOROUTINES, NULL, 0, 0, SITE_PRE_ATTACH);
	site_now(ser, site)->live = 2;

	/* C heap: a leak of 1 MiB a second, a steady site, one that holds nothing. */
	site = series_site(ser, VIEW_NATIVE_HEAP, leak_pcs, ARRAY_SIZE(leak_pcs), 0,
			   SITE_FRAME0_IS_PC);
	sm = site_now(ser, site);
	sm->live = 1000 * i;
	sm->live_bytes = 1048576 * i;
	sm->created = i ? 1000 : 0;
	sm->created_bytes = i ? 1048576 : 0;
	site = series_site(ser, VIEW_NATIVE_HEAP, steady_pcs, ARRAY_SIZE(steady_pcs), 0,
			   SITE_FRAME0_IS_PC);
	sm = site_now(ser, site);
	sm->live = 4;
	sm->live_bytes = 4096;
	sm->created = sm->freed = i ? 100 : 0;
	sm->created_bytes = sm->freed_bytes = i ? 102400 : 0;

	/* Growth and sampled allocation: one stack each. */
	site = series_site(ser, VIEW_NATIVE_GROWTH, leak_pcs, ARRAY_SIZE(leak_pcs), 0,
			   SITE_FRAME0_IS_PC);
	sm = site_now(ser, site);
	sm->live = 256 * i;
	sm->live_bytes = 4096 * 256 * i;
	sm->created = i ? 256 : 0;
	sm->created_bytes = i ? 4096 * 256 : 0;
	site = series_site(ser, VIEW_GO_ALLOC, heap_pcs + 1, ARRAY_SIZE(heap_pcs) - 1, 0, 0);
	sm = site_now(ser, site);
	sm->created = i ? 40 : 0;
	sm->created_bytes = i ? 2000000 : 0;

	/* Threads: made at spawn (named by /proc), and two from before attach. */
	site = series_site(ser, VIEW_THREADS, thread_pcs, ARRAY_SIZE(thread_pcs), 0,
			   SITE_FRAME0_IS_PC);
	sm = site_now(ser, site);
	sm->live = 5;
	site_add_state(ser, site, worker_name, 3);
	site_add_state(ser, site, parker_name, 2);
	site = series_site(ser, VIEW_THREADS, NULL, 0, 0, SITE_PRE_ATTACH);
	sm = site_now(ser, site);
	sm->live = 2;
	site_add_state(ser, site, intern("main"), 1);
	site_add_state(ser, site, intern("gc"), 1);
}

static void write_view(const struct report_ctx *rc, enum view_kind v, bool summary,
		       const char *dir, const char *suffix)
{
	struct view_rows vr;
	char *path = xasprintf("%s/%s%s.pb.gz", dir, view_name(v), suffix);
	int err;

	view_build(rc, v, summary, &vr);
	err = pprof_write_view(rc, &vr, path);
	CHECK(err == 0, "writing %s: %s", path, strerror(-err));
	view_rows_free(&vr);
	free(path);
}

int main(int argc, char **argv)
{
	static struct recorded s;
	struct report_ctx rc = {
		.opts = {.format = OUT_TEXT, .top = 1, .max_depth = 16},
		.pid = 4242,
		.target = &s.target,
		.series = &s.series,
		.views = s.views,
		.sym = &s.sym,
	};
	struct view_rows vr;

	if (argc != 2) {
		fprintf(stderr, "usage: test_pprof OUTDIR\n");
		return 2;
	}
	test_varints();
	test_packed_and_nested();
	test_gzip(argv[1]);

	chan_send = intern("chan send");
	sleep_state = intern("sleep");
	chan_recv = intern("chan receive");
	worker_name = intern("worker");
	parker_name = intern("parker");
	snprintf(s.target.exe, sizeof(s.target.exe), "demo");
	series_init(&s.series);
	maps_watch_init(&s.maps, 0); /* no such process: only the installed frames resolve */
	symbolizer_init(&s.sym, &s.maps);
	install_frames(&s);
	for (int v = 0; v < VIEW__MAX; v++)
		s.views[v].active = true;
	s.views[VIEW_GO_HEAP].hooks.trim = trim_runtime;
	s.views[VIEW_GOROUTINES].hooks.trim_group = trim_gopark;
	view_note(&s.views[VIEW_NATIVE_HEAP], "blocks allocated since attach");

	/* --top 1: the files still hold every row. Interval 1, then 2 (for -diff_base). */
	record(&s, 0);
	record(&s, 1);
	write_view(&rc, VIEW_NATIVE_HEAP, false, argv[1], "-1");
	write_view(&rc, VIEW_GO_HEAP, false, argv[1], "-1");
	/* (The freed bucket is no row yet: nothing happened to it in interval 1.) */
	view_build(&rc, VIEW_GO_HEAP, false, &vr);
	CHECK(vr.n == 3, "3 go-heap rows in interval 1, got %zu", vr.n);
	for (size_t i = 0; i < vr.n; i++)
		CHECK(vr.v[i].site->pcs != freed_pcs, "the freed bucket is not a row");
	view_rows_free(&vr);
	record(&s, 2);
	for (int v = 0; v < VIEW__MAX; v++)
		write_view(&rc, v, false, argv[1], "");
	write_view(&rc, VIEW_NATIVE_HEAP, true, argv[1], "-summary");

	/*
	 * The Go heap with its profile off: report_write leaves no row, and the idle
	 * buckets stay out too: an empty, valid profile. A bad path is an error.
	 */
	s.series.intervals[s.series.nintervals - 1].heap.profiling = false;
	view_build(&rc, VIEW_GO_HEAP, false, &vr);
	vr.n = vr.shown = 0;
	CHECK(pprof_write_view(&rc, &vr, "/nonexistent-dir/x.pb.gz") == -ENOENT,
	      "-ENOENT for a bad path");
	{
		char *path = xasprintf("%s/empty.pb.gz", argv[1]);

		CHECK(pprof_write_view(&rc, &vr, path) == 0, "empty profile");
		free(path);
	}
	view_rows_free(&vr);

	printf("test_pprof: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
