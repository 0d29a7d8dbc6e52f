// SPDX-License-Identifier: GPL-2.0
/*
 * The report path fed recorded series, without BPF or a target: ranking, net
 * and rates, session growth and totals, and that both writers produce what they
 * promise (the JSON is checked by tests/unit/report.sh with jq).
 *
 * usage: test_report OUT.json
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "target/maps.h"

static int checks, failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			fprintf(stderr, "test_report: FAIL %s:%d: ", __FILE__, __LINE__);          \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

/* Sites: a leak growing by 100 per interval, a steady site, one that shrinks. */
static const uint64_t leak_pcs[] = {0x1000, 0x2000};
static const uint64_t steady_pcs[] = {0x3000};
static const uint64_t shrink_pcs[] = {0x4000, 0x5000};

/* What a session would hand the report path: recorded series, no BPF, no target. */
struct recorded {
	struct series series;
	struct view_info views[VIEW__MAX];
	struct target_info target;
	struct maps_watch maps;
	struct symbolizer sym;
};

static void record(struct recorded *s, int intervals)
{
	for (int i = 0; i <= intervals; i++) {
		struct sample *sm;
		struct site *site;

		series_next_interval(&s->series);
		/* Interval lengths come from the clock; make them exactly 1 s. */
		s->series.intervals[i].mono_ns = s->series.start_mono_ns + (i + 1) * 1000000000ull;
		s->series.intervals[i].seconds = 1.0;

		site = series_site(&s->series, VIEW_GOROUTINES, leak_pcs, 2, 0, 0);
		sm = site_now(&s->series, site);
		sm->live = 100 * (i + 1);
		sm->created = i ? 100 : 0;
		site_add_state(&s->series, site, "chan receive", sm->live);
		sm = site_now(&s->series, series_site(&s->series, VIEW_GOROUTINES, steady_pcs, 1, 0, 0));
		sm->live = 5;
		sm->created = sm->freed = 1000;
		sm = site_now(&s->series, series_site(&s->series, VIEW_GOROUTINES, shrink_pcs, 2, 0, 0));
		sm->live = 50 - 10 * i;
		sm->freed = i ? 10 : 0;
		/* A heap site: 1 MiB more per interval. */
		sm = site_now(&s->series, series_site(&s->series, VIEW_NATIVE_HEAP, leak_pcs, 2, 0, 0));
		sm->live = i + 1;
		sm->live_bytes = (i + 1) << 20;
		sm->created = 1;
		sm->created_bytes = 1 << 20;
	}
}

/*
 * The Go heap's trend over recorded GC points, one every 0.2 s, live heaps in KiB:
 * what report after report would say (dirs[k]: with the first k + 1 points).
 */
static void heap_trends(const double *kib, int n, enum trend_dir *dirs)
{
	static struct series hs;
	struct report_ctx rc = {.series = &hs};
	struct heap_trend t;

	series_init(&hs);
	series_next_interval(&hs);
	hs.intervals[0].heap.valid = true;
	for (int i = 0; i < n; i++) {
		series_add_gc(&hs, hs.start_mono_ns + (uint64_t)(i + 1) * 200000000ull,
			      (uint64_t)(kib[i] * 1024), i + 1);
		dirs[i] = heap_trend_build(&rc, &t) ? t.heap_dir : (enum trend_dir)-1;
	}
	series_free(&hs);
}

/* Deterministic noise in [-1, 1). */
static double noise(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return ((*state >> 8) & 0xffff) / 32768.0 - 1;
}

/* Which of the reports from the k-th on call the heap d (counting them). */
static int count_dir(const enum trend_dir *dirs, int from, int n, enum trend_dir d)
{
	int c = 0;

	for (int i = from; i < n; i++)
		c += dirs[i] == d;
	return c;
}

int main(int argc, char **argv)
{
	static struct recorded s;
	struct report_ctx rc = {
		.opts = {.format = OUT_JSON, .top = 10, .max_depth = 16},
		.pid = 4242,
		.target = &s.target,
		.series = &s.series,
		.views = s.views,
		.sym = &s.sym,
	};
	struct report_opts *cfg = &rc.opts;
	struct view_rows vr;
	FILE *out;

	if (argc != 2) {
		fprintf(stderr, "usage: test_report OUT.json\n");
		return 2;
	}
	snprintf(s.target.exe, sizeof(s.target.exe), "recorded");
	series_init(&s.series);
	maps_watch_init(&s.maps, 0); /* no such process: frames stay unresolved */
	symbolizer_init(&s.sym, &s.maps);
	record(&s, 5);
	s.views[VIEW_GOROUTINES].active = true;
	s.views[VIEW_NATIVE_HEAP].active = true;

	/* The last interval: the leak grew by 100 in 1 s and ranks first. */
	view_build(&rc, VIEW_GOROUTINES, false, &vr);
	CHECK(vr.n == 3, "3 goroutine rows, got %zu", vr.n);
	CHECK(vr.v[0].site->pcs[0] == 0x1000, "leak ranks first");
	CHECK(vr.v[0].net == 100 && fabs(vr.v[0].rate - 100) < 1e-9, "leak net 100, rate 100/s: %lld %f",
	      (long long)vr.v[0].net, vr.v[0].rate);
	CHECK(vr.v[2].site->pcs[0] == 0x4000 && vr.v[2].net == -10, "shrinking site last, net -10");
	CHECK(vr.tot.live == 600 + 5 + 0, "total live %lld", (long long)vr.tot.live);
	CHECK(vr.tot.created == 1100, "total created %llu", (unsigned long long)vr.tot.created);
	view_rows_free(&vr);

	/* The session: growth since attach, slope, intervals grown. */
	view_build(&rc, VIEW_GOROUTINES, true, &vr);
	CHECK(vr.v[0].site->pcs[0] == 0x1000, "leak ranks first over the session");
	CHECK(vr.v[0].live_first == 100 && vr.v[0].net == 500, "leak from 100 at attach, +500: %lld %lld",
	      (long long)vr.v[0].live_first, (long long)vr.v[0].net);
	CHECK(fabs(vr.v[0].slope - 100) < 1e-6, "leak slope 100/s, got %f", vr.v[0].slope);
	CHECK(vr.v[0].grew == 5 && vr.v[0].observed == 6, "grew 5 of 5: %d/%d", vr.v[0].grew,
	      vr.v[0].observed - 1);
	CHECK(vr.v[0].created_total == 500, "created over the session %llu",
	      (unsigned long long)vr.v[0].created_total);
	CHECK(vr.v[1].site->pcs[0] == 0x3000 && vr.v[1].net == 0 && vr.v[1].slope == 0,
	      "steady site second, flat");
	/* Books: at attach + created - exited = live, on every row and in the totals. */
	for (size_t i = 0; i < vr.n; i++) {
		const struct row *r = &vr.v[i];

		CHECK(r->live_first + (int64_t)r->created_total - (int64_t)r->freed_total == r->now.live,
		      "row %zu: %lld at attach + %llu created - %llu exited != %lld live", i,
		      (long long)r->live_first, (unsigned long long)r->created_total,
		      (unsigned long long)r->freed_total, (long long)r->now.live);
	}
	CHECK(vr.tot.created == 5500 && vr.tot.freed == 5050, "session totals %llu created, %llu exited",
	      (unsigned long long)vr.tot.created, (unsigned long long)vr.tot.freed);
	view_rows_free(&vr);

	/* Bytes views rank by bytes. */
	view_build(&rc, VIEW_NATIVE_HEAP, true, &vr);
	CHECK(vr.n == 1 && fabs(vr.v[0].bytes_slope - 1048576) < 1e-3, "heap slope 1 MiB/s, got %f",
	      vr.n ? vr.v[0].bytes_slope : 0);
	view_rows_free(&vr);

	/* --top 1 shows one row per view. */
	cfg->top = 1;
	view_build(&rc, VIEW_GOROUTINES, false, &vr);
	CHECK(vr.shown == 1 && vr.n == 3, "top 1 of 3");
	view_rows_free(&vr);
	cfg->top = 0;

	/* Suspects: the leak (blocked, growing) is one; the busy steady site and the one
	 * that shrinks are not; a heap site that grows 1 MiB a second is. */
	{
		struct view_rows views[2];
		struct report_rows rows = {.views = views, .nviews = 2, .end = END_NONE};
		bool leak = false, heap = false, other = false;

		suspect_opts_default(&cfg->sus);
		cfg->sus.heap_bytes_per_min = 1e6;
		view_build(&rc, VIEW_GOROUTINES, false, &views[0]);
		view_build(&rc, VIEW_NATIVE_HEAP, false, &views[1]);
		suspects_find(&rc, &rows);
		for (int i = 0; i < rows.nsuspects; i++) {
			const struct suspect *sp = &rows.suspects[i];

			if (sp->view == VIEW_GOROUTINES && sp->row->site->pcs[0] == 0x1000 &&
			    sp->rule == RULE_GOROUTINES_BLOCKED && fabs(sp->per_min - 6000) < 1)
				leak = true;
			else if (sp->view == VIEW_NATIVE_HEAP && sp->rule == RULE_NATIVE_GROWTH &&
				 fabs(sp->bytes_per_min - 60.0 * (1 << 20)) < 1)
				heap = true;
			else
				other = true;
		}
		CHECK(rows.suspects_ready && leak, "the blocked, growing site is a suspect at +6000/min");
		CHECK(heap, "the growing heap site is a suspect at 60 MiB/min");
		CHECK(!other, "nothing else is a suspect (%d suspects)", rows.nsuspects);
		free(rows.suspects);
		view_rows_free(&views[0]);
		view_rows_free(&views[1]);
		/* Too few reports: not yet. */
		s.series.nintervals = 3;
		view_build(&rc, VIEW_GOROUTINES, false, &views[0]);
		rows.nviews = 1;
		suspects_find(&rc, &rows);
		CHECK(!rows.suspects_ready && !rows.nsuspects, "no verdict after 2 reports");
		free(rows.suspects);
		view_rows_free(&views[0]);
		s.series.nintervals = 6;
	}

	/* A long session: samples stay bounded, the history sums stay exact, and an
	 * interval dropped (the target gone mid-collect) leaves it as it was. */
	{
		static struct series ls;
		static const uint64_t pcs[] = {0x7000};
		const int n = 3 * SERIES_KEEP + 17;
		struct site *site = NULL;
		struct site_session ss;

		series_init(&ls);
		for (int i = 0; i < n; i++) {
			struct sample *sm;

			series_next_interval(&ls);
			ls.intervals[i].mono_ns = ls.start_mono_ns + (i + 1) * 1000000000ull;
			site = series_site(&ls, VIEW_NATIVE_HEAP, pcs, 1, 0, 0);
			sm = site_now(&ls, site);
			sm->live = i;			  /* one more each second */
			sm->live_bytes = 2 * (int64_t)i;
			sm->created = i ? 3 : 0;	  /* three made, two ended */
			sm->freed = i ? 2 : 0;
		}
		site_session(&ls, site, &ss);
		CHECK(site->nsamples <= 2 * SERIES_KEEP, "%zu samples kept after %d intervals",
		      site->nsamples, n);
		CHECK(ss.created == 3ull * (n - 1) && ss.freed == 2ull * (n - 1) && ss.grew == n - 1 &&
			      ss.observed == n && ss.live_first == 0,
		      "history: created %llu freed %llu grew %d observed %d",
		      (unsigned long long)ss.created, (unsigned long long)ss.freed, ss.grew,
		      ss.observed);
		CHECK(fabs(ss.slope - 1) < 1e-6 && fabs(ss.bytes_slope - 2) < 1e-6,
		      "slopes over every interval: %f %f", ss.slope, ss.bytes_slope);
		CHECK(site_at(site, n - 1)->live == n - 1 && site_at(site, n - 2)->live == n - 2,
		      "the latest intervals are kept");
		series_next_interval(&ls);
		series_drop_interval(&ls);
		site_session(&ls, site, &ss);
		CHECK(ss.created == 3ull * (n - 1) && ss.grew == n - 1 && ss.observed == n &&
			      fabs(ss.slope - 1) < 1e-6,
		      "an interval dropped leaves the history as it was: created %llu grew %d "
		      "observed %d slope %f",
		      (unsigned long long)ss.created, ss.grew, ss.observed, ss.slope);
		series_free(&ls);
	}

	/* The target gone: each site as last seen, carried into the final interval, also
	 * when the site's samples move to make room for it (sites born one after another:
	 * their arrays lie side by side, and one that grows moves). */
	{
		static struct series cs;
		static uint64_t pcs[64];
		bool ok = true;

		series_init(&cs);
		for (int j = 0; j < 64; j++) {
			struct site *site;
			struct sample *sm;

			pcs[j] = 0x7100 + j;
			series_next_interval(&cs);
			site = series_site(&cs, VIEW_THREADS, &pcs[j], 1, 0, 0);
			sm = site_now(&cs, site);
			sm->live = 1000 + j;
			sm->created = 5;
			series_next_interval(&cs);
			series_carry_forward(&cs, VIEW_THREADS);
			sm = site_now(&cs, site);
			ok &= sm->live == 1000 + j && sm->created == 0;
		}
		CHECK(ok, "carried forward: the live count as last seen, nothing created");
		series_free(&cs);
	}

	/* GC points: a session of hours keeps the last SERIES_GC_KEEP or more, counts all. */
	{
		static struct series gs;
		struct report_ctx grc = {.series = &gs};
		struct heap_trend t;
		const size_t n = 5 * SERIES_GC_KEEP + 17;

		series_init(&gs);
		series_next_interval(&gs);
		gs.intervals[0].heap.valid = true;
		for (size_t i = 0; i < n; i++)
			series_add_gc(&gs, gs.start_mono_ns + (i + 1) * 100000000ull, (1 << 20) + i * 64,
				      i + 1);
		CHECK(gs.ngc == n && gs.ngc - gs.gc_base >= SERIES_GC_KEEP &&
			      gs.ngc - gs.gc_base <= 2 * SERIES_GC_KEEP && gs.cap_gc <= 2 * SERIES_GC_KEEP,
		      "GC points: %zu counted, %zu kept (cap %zu)", gs.ngc, gs.ngc - gs.gc_base, gs.cap_gc);
		CHECK(!series_gc(&gs, 0) && series_gc(&gs, n - 1)->numgc == n &&
			      series_gc(&gs, gs.gc_base)->numgc == gs.gc_base + 1,
		      "GC points: the first let go, the last kept in order");
		CHECK(heap_trend_build(&grc, &t) && t.ngc == n && t.ntrend == n - gs.gc_base &&
			      t.heap_dir == TREND_GROWING && fabs(t.heap_slope - 640) < 1e-6,
		      "GC points: the trend over the kept ones, %zu of %zu, %f B/s", t.ntrend, t.ngc,
		      t.heap_slope);
		series_free(&gs);
	}

	/* The Go heap's trend: flat for a steady heap's noise, a dip, a step, a drift of
	 * a few KiB; growing (shrinking) for a heap that does, also one that starts late. */
	{
		enum { N = 60 };
		double kib[N];
		enum trend_dir dirs[N];
		uint32_t st = 7;

		for (int i = 0; i < N; i++)
			kib[i] = 1500 + 300 * noise(&st); /* 1.2 to 1.8 MiB, about a level */
		heap_trends(kib, N, dirs);
		CHECK(dirs[0] == TREND_UNKNOWN && dirs[1] == TREND_UNKNOWN && dirs[2] != TREND_UNKNOWN,
		      "no trend before three GCs");
		CHECK(count_dir(dirs, 2, N, TREND_FLAT) == N - 2, "a noisy steady heap: flat in %d of %d",
		      count_dir(dirs, 2, N, TREND_FLAT), N - 2);
		for (int i = 0; i < N; i++)
			kib[i] = (i < 3 ? 1100 : 1600) + 100 * noise(&st); /* a stall early on */
		heap_trends(kib, N, dirs);
		CHECK(count_dir(dirs, 2, N, TREND_FLAT) == N - 2,
		      "a dip at the start, then the level holds: flat in %d of %d",
		      count_dir(dirs, 2, N, TREND_FLAT), N - 2);
		for (int i = 0; i < N; i++)
			kib[i] = 415 + 2.0 * i / N + 0.5 * noise(&st); /* the 415-417 KiB */
		heap_trends(kib, N, dirs);
		CHECK(count_dir(dirs, 2, N, TREND_FLAT) == N - 2, "415 to 417 KiB: flat in %d of %d",
		      count_dir(dirs, 2, N, TREND_FLAT), N - 2);
		for (int i = 0; i < N; i++)
			kib[i] = 1000 + 80 * i + 100 * noise(&st); /* 400 KiB/s, noise 200 KiB */
		heap_trends(kib, N, dirs);
		CHECK(dirs[N - 1] == TREND_GROWING && count_dir(dirs, 2, N, TREND_SHRINKING) == 0 &&
			      count_dir(dirs, 20, N, TREND_GROWING) == N - 20,
		      "a leak of 400 KiB/s: growing from the 20th GC on (%d of %d)",
		      count_dir(dirs, 20, N, TREND_GROWING), N - 20);
		for (int i = 0; i < N; i++)
			kib[i] = 6000 - 80 * i + 100 * noise(&st);
		heap_trends(kib, N, dirs);
		CHECK(dirs[N - 1] == TREND_SHRINKING && count_dir(dirs, 2, N, TREND_GROWING) == 0,
		      "a heap let go of: shrinking");
		for (int i = 0; i < 5; i++)
			kib[i] = 1024 * (i + 1);
		heap_trends(kib, 5, dirs);
		CHECK(dirs[4] == TREND_GROWING, "1, 2, 3, 4, 5 MiB: growing");
		for (int i = 0; i < N; i++) /* flat for 30 GCs, then a leak */
			kib[i] = 1500 + (i < 30 ? 0 : 80 * (i - 30)) + 100 * noise(&st);
		heap_trends(kib, N, dirs);
		CHECK(dirs[N - 1] == TREND_GROWING && count_dir(dirs, 2, 30, TREND_FLAT) == 28,
		      "a leak that starts late: flat before it, growing at the end");
	}

	/* GROWTH/s claims no growth a row did not have: a pool that rose and fell back
	 * to nothing tilts a least-squares line up, yet it grew 0; a trickle grows. */
	{
		static struct series ps;
		static const uint64_t pool_pcs[] = {0x8000}, trickle_pcs[] = {0x9000};
		static const int64_t pool[] = {0, 0, 0, 0, 0, 1, 2, 0, 0};
		struct report_ctx prc = rc;
		struct view_info pv[VIEW__MAX] = {0};
		struct site *ps_pool = NULL;
		struct view_rows pr;

		series_init(&ps);
		for (int i = 0; i < (int)(sizeof(pool) / sizeof(pool[0])); i++) {
			struct sample *sm;

			series_next_interval(&ps);
			ps.intervals[i].mono_ns = ps.start_mono_ns + (i + 1) * 1000000000ull;
			ps.intervals[i].seconds = 1.0;
			ps_pool = series_site(&ps, VIEW_NATIVE_HEAP, pool_pcs, 1, 0, 0);
			sm = site_now(&ps, ps_pool);
			sm->live = pool[i] * 16;
			sm->live_bytes = pool[i] << 20;
			sm->created = i ? 32 : 0;
			sm->created_bytes = i ? 1 << 20 : 0;
			sm = site_now(&ps, series_site(&ps, VIEW_NATIVE_HEAP, trickle_pcs, 1, 0, 0));
			sm->live = i;
			sm->live_bytes = 1024 * i;
			sm->created = i ? 1 : 0;
			sm->created_bytes = i ? 1024 : 0;
		}
		prc.series = &ps;
		prc.views = pv;
		pv[VIEW_NATIVE_HEAP].active = true;
		view_build(&prc, VIEW_NATIVE_HEAP, true, &pr);
		CHECK(pr.n == 2, "two heap rows, got %zu", pr.n);
		for (size_t i = 0; i < pr.n; i++) {
			const struct row *r = &pr.v[i];

			if (r->site == ps_pool)
				CHECK(r->net_bytes == 0 && r->bytes_slope == 0 && r->slope == 0,
				      "the pool: net %lld, %f B/s, %f/s", (long long)r->net_bytes,
				      r->bytes_slope, r->slope);
			else
				CHECK(fabs(r->bytes_slope - 1024) < 1e-6 && fabs(r->slope - 1) < 1e-6,
				      "the trickle: %f B/s, %f/s", r->bytes_slope, r->slope);
		}
		view_rows_free(&pr);
		series_free(&ps);
	}

	out = fopen(argv[1], "w");
	if (!out) {
		perror(argv[1]);
		return 2;
	}
	report_write(&rc, out, END_NONE);
	report_write(&rc, out, END_COUNT);
	fclose(out);
	cfg->format = OUT_TEXT;
	report_write(&rc, stdout, END_COUNT);

	printf("test_report: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
