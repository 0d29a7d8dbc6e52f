// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "elf/disasm.h"
#include "golang/runtime.h"
#include "lib/memread.h"
#include "lib/intern.h"
#include "lib/util.h"

/* Beyond this many goroutines a read of allglen is garbage, not a program. */
#define GO_MAX_GS (50u * 1000 * 1000)

/*
 * Where stripped binaries keep runtime variables: the n-th RIP-relative load in a
 * function that is never inlined, the same in Go 1.19 through 1.26 (found by
 * comparing with the symbol tables of unstripped builds of each release;
 * tests/cases/goheap.sh traces stripped builds end to end). Callers still
 * validate what they read there.
 */
static const struct var_recipe {
	const char *var, *func;
	int nth;
} var_recipes[] = {
	{"runtime.mbuckets", "runtime.mProf_FlushLocked", 0},
	{"runtime.mProfCycle", "runtime.mProf_PostSweep", 0},
	{"runtime.MemProfileRate", "runtime.profilealloc", 1},
};

uint64_t go_runtime_var(const struct go_runtime *rt, const char *name)
{
	uint64_t addr;

	if (!gobin_data_symbol(rt->gb, name, &addr))
		return addr + rt->bias;
	for (size_t i = 0; i < ARRAY_SIZE(var_recipes); i++) {
		const struct var_recipe *r = &var_recipes[i];
		struct gofunc f;
		const void *code;
		size_t len;

		if (strcmp(r->var, name) || gobin_func(rt->gb, r->func, &f))
			continue;
		code = gobin_code(rt->gb, &f, &len);
		addr = code ? disasm_nth_rip_ref(code, len, f.entry, r->nth, true) : 0;
		return addr ? addr + rt->bias : 0;
	}
	return 0;
}

/*
 * Stripped binaries: runtime.forEachGRace starts by loading allglen and then
 * allgptr with RIP-relative moves (Go 1.19 through 1.26). Take the first two
 * loads and accept them only if the memory they point at looks like the list.
 */
static int find_allgs_by_recipe(struct go_runtime *rt)
{
	struct gofunc f;
	const void *code;
	uint64_t len_addr, ptr_addr, n = 0, ptr = 0, first = 0;
	size_t len;

	if (gobin_func(rt->gb, "runtime.forEachGRace", &f))
		return -ENOENT;
	code = gobin_code(rt->gb, &f, &len);
	if (!code)
		return -ENOENT;
	len_addr = disasm_nth_rip_ref(code, len, f.entry, 0, true);
	ptr_addr = disasm_nth_rip_ref(code, len, f.entry, 1, true);
	if (!len_addr || !ptr_addr)
		return -ENOENT;
	len_addr += rt->bias;
	ptr_addr += rt->bias;
	if (mem_read(rt->pid, len_addr, &n, 8) || mem_read(rt->pid, ptr_addr, &ptr, 8))
		return -ENOENT;
	/*
	 * A list: a count and an array of g pointers. Whether the main goroutine (allgs[0]
	 * from the first instruction of main on) reads right is check_g_layout()'s to say.
	 */
	if (!n || n > GO_MAX_GS || !ptr || (ptr & 7) || mem_read(rt->pid, ptr, &first, 8) ||
	    !first || (first & 7))
		return -ENOENT;
	rt->allglen = len_addr;
	rt->allgptr = ptr_addr;
	rt->allgs_how = "forEachGRace recipe";
	return 0;
}

/* A Go string header in target memory -> interned C string. */
static const char *read_go_string(pid_t pid, uint64_t ptr, uint64_t len)
{
	char buf[128];

	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	if (len && mem_read(pid, ptr, buf, len))
		return NULL;
	buf[len] = 0;
	return intern(buf);
}

static int load_waitreasons_at(struct go_runtime *rt, uint64_t arr, int max)
{
	uint64_t hdr[2 * 64];
	int n = MIN(max, 64);

	if (mem_read(rt->pid, arr, hdr, n * 16))
		return -EFAULT;
	rt->waitreasons = xcalloc(n, sizeof(*rt->waitreasons));
	for (int i = 0; i < n; i++) {
		/* The array ends where something stops looking like a short string. */
		if ((hdr[2 * i + 1] > 80) || (hdr[2 * i + 1] && !hdr[2 * i]))
			break;
		rt->waitreasons[i] = read_go_string(rt->pid, hdr[2 * i], hdr[2 * i + 1]);
		if (!rt->waitreasons[i])
			break;
		rt->nwaitreasons = i + 1;
	}
	return rt->nwaitreasons > 1 ? 0 : -ENOENT;
}

/*
 * runtime.waitReasonStrings, entry 0 "" and entry 1 "GC assist marking" in every
 * release we know. Stripped: find that text in the file, then the array that
 * points at it in the writable data of the live process (PIE pointers are only
 * right after relocation, so read memory, not the file).
 */
static int find_waitreasons(struct go_runtime *rt)
{
	static const char needle[] = "GC assist marking";
	const size_t nlen = sizeof(needle) - 1;
	struct elf_section rodata, data;
	uint64_t arr = go_runtime_var(rt, "runtime.waitReasonStrings");
	int max = rt->gb->off.nwaitreasons ? (int)rt->gb->off.nwaitreasons : 64;

	if (arr) {
		rt->waitreasons_how = "symbol table";
		return load_waitreasons_at(rt, arr, max);
	}
	/* The copy below is as large as .data: a crafted size must not size it. */
	if (elf_find_section(rt->gb->elf, ".rodata", &rodata) || !rodata.data ||
	    elf_find_section(rt->gb->elf, ".data", &data) || data.size > (64u << 20))
		return -ENOENT;
	uint64_t *mem = xmalloc(data.size + 16);
	if (mem_read(rt->pid, data.vaddr + rt->bias, mem, data.size)) {
		free(mem);
		return -EFAULT;
	}
	const char *p = rodata.data, *end = p + rodata.size;
	int err = -ENOENT;
	while (err && (p = memmem(p, end - p, needle, nlen))) {
		uint64_t str = rodata.vaddr + (p - (const char *)rodata.data) + rt->bias;

		for (size_t i = 2; i + 1 < data.size / 8; i += 2) {
			if (mem[i] != str || mem[i + 1] != nlen || mem[i - 1] != 0)
				continue;
			err = load_waitreasons_at(rt, data.vaddr + rt->bias + (i - 2) * 8, max);
			if (!err) {
				rt->waitreasons_how = "content of .data";
				break;
			}
		}
		p++;
	}
	free(mem);
	return err;
}

/*
 * The layout of runtime.g against the live process: the main goroutine, allgs[0]
 * from the first instruction of main on, has goid 1, a status the runtime knows
 * and runs runtime.main. -EAGAIN before the runtime made it (a launched program).
 */
static int check_g_layout(struct go_runtime *rt)
{
	const struct go_offsets *o = &rt->gb->off;
	uint64_t n = 0, ptr = 0, first = 0, goid = 0, startpc = 0;
	uint32_t status = 0;
	struct gofunc mainf;
	char lay[96];

	if (mem_read(rt->pid, rt->allglen, &n, 8) || mem_read(rt->pid, rt->allgptr, &ptr, 8))
		return -EFAULT;
	if (!n)
		return -EAGAIN;
	if (n > GO_MAX_GS || !ptr || mem_read(rt->pid, ptr, &first, 8) || !first ||
	    mem_read(rt->pid, first + o->g_goid, &goid, 8) ||
	    mem_read(rt->pid, first + o->g_atomicstatus, &status, 4) ||
	    mem_read(rt->pid, first + o->g_startpc, &startpc, 8) ||
	    gobin_func(rt->gb, "runtime.main", &mainf) || goid != 1 ||
	    (status & ~GO_GSTATUS_SCAN) > GO_G_DEADEXTRA || startpc != mainf.entry + rt->bias) {
		snprintf(rt->why_buf, sizeof(rt->why_buf),
			 "runtime.g does not fit %s: the main goroutine (allgs[0], found by the "
			 "%s) reads as goid %llu, status %u, start 0x%llx",
			 gobin_layout_desc(rt->gb, GO_LAYOUT_G, lay, sizeof(lay)), rt->allgs_how,
			 (unsigned long long)goid, status, (unsigned long long)startpc);
		return -EBADMSG;
	}
	return 0;
}

int go_runtime_init(struct go_runtime *rt, pid_t pid, const struct gobin *gb, uint64_t bias,
		    const char **why)
{
	int err;

	memset(rt, 0, sizeof(*rt));
	rt->pid = pid;
	rt->gb = gb;
	rt->bias = bias;
	*why = rt->why_buf;
	if (!(gb->layout & GO_LAYOUT_G)) {
		snprintf(rt->why_buf, sizeof(rt->why_buf),
			 "the layout of runtime.g in %s is not one leakscope can vouch for (%s)",
			 gb->version[0] ? gb->version : "this Go release", gb->layout_why);
		return -ENOENT;
	}
	rt->allglen = go_runtime_var(rt, "runtime.allglen");
	rt->allgptr = go_runtime_var(rt, "runtime.allgptr");
	if (rt->allglen && rt->allgptr)
		rt->allgs_how = "symbol table";
	else if (find_allgs_by_recipe(rt)) {
		*why = "runtime.allgs not found (stripped binary, and the forEachGRace recipe "
		       "did not validate)";
		return -ENOENT;
	}
	err = check_g_layout(rt);
	if (err == -EAGAIN || err == -EFAULT) {
		*why = "the Go runtime has not started yet";
		return -EAGAIN;
	}
	if (err)
		return -ENOENT;
	{
		struct gofunc f;

		if (gb->pcln && !gopclntab_func_by_name(gb->pcln, "runtime.goexit", &f)) {
			rt->goexit_lo = f.entry;
			rt->goexit_hi = f.end;
		}
	}
	if (find_waitreasons(rt))
		log_warn("runtime.waitReasonStrings not found: waiting goroutines show as "
			 "\"waiting\" without a reason");
	log_debug("allgs via %s; wait reasons via %s (%d)", rt->allgs_how,
		  rt->waitreasons_how ? rt->waitreasons_how : "-", rt->nwaitreasons);
	return 0;
}

void go_runtime_free(struct go_runtime *rt)
{
	free(rt->waitreasons);
	free(rt->gs);
	free(rt->scan_buf);
	free(rt->scan_iov);
	free(rt->scan_first);
	free(rt->scan_gptrs);
	memset(rt, 0, sizeof(*rt));
}

/* Goroutines read per batch: bounds the buffers whatever allglen says. */
#define SCAN_BATCH 65536

/*
 * One g from the bytes of its span (b indexed by offset in struct g). 1 when it is
 * live, 0 dead or idle, -1 when it reads as impossible.
 */
static int parse_g(const struct go_offsets *o, const uint8_t *b, uint64_t addr, struct go_g *g)
{
	uint32_t status;

	memcpy(&status, b + o->g_atomicstatus, 4);
	status &= ~GO_GSTATUS_SCAN;
	if (status == GO_G_DEAD || status == GO_G_IDLE || status == GO_G_DEADEXTRA)
		return 0;
	g->addr = addr;
	g->status = status;
	memcpy(&g->goid, b + o->g_goid, 8);
	/* A live goroutine always has its goid and a status the runtime knows. */
	if (status > GO_G_DEADEXTRA || !g->goid)
		return -1;
	memcpy(&g->gopc, b + o->g_gopc, 8);
	memcpy(&g->startpc, b + o->g_startpc, 8);
	memcpy(&g->sched_sp, b + o->g_sched_sp, 8);
	memcpy(&g->sched_pc, b + o->g_sched_pc, 8);
	memcpy(&g->sched_bp, b + o->g_sched_bp, 8);
	memcpy(&g->stack_lo, b + o->g_stack_lo, 8);
	memcpy(&g->stack_hi, b + o->g_stack_hi, 8);
	memcpy(&g->waitsince, b + o->g_waitsince, 8);
	g->waitreason = b[o->g_waitreason];
	return 1;
}

/*
 * Reading a million g's one iovec each is most of a report: the kernel pins the
 * pages of every remote range on its own. allgs lists g's mostly in the order they
 * were allocated, side by side in the same spans: entries that follow each other
 * in allgs and in memory (at most SCAN_GAP apart, going up) are read as one run of
 * at most SCAN_RUN bytes, the bytes between them read and ignored. A run that
 * fails (memory gone) is read again g by g.
 */
#define SCAN_GAP 1024
#define SCAN_RUN (64u << 10)
#define SCAN_BUF (4u << 20)

/* Parse the g's of runs [0, nrun): run r holds gptrs[first[r]] up to the next run's. */
static void scan_runs(struct go_runtime *rt, const uint64_t *gptrs, size_t nrun, size_t end,
		      uint32_t lo, uint32_t hi, uint64_t base)
{
	const struct go_offsets *o = &rt->gb->off;
	struct mem_iov *iov = rt->scan_iov;

	mem_readv(rt->pid, iov, nrun);
	rt->scan_reads += nrun;
	for (size_t r = 0; r < nrun; r++) {
		size_t last = r + 1 < nrun ? rt->scan_first[r + 1] : end;

		for (size_t j = rt->scan_first[r]; j < last; j++) {
			uint8_t one[GO_MAX_G_SIZE];
			const uint8_t *b;
			int ok;

			if (iov[r].ok)
				b = (const uint8_t *)iov[r].buf + (gptrs[j] + lo - iov[r].addr);
			else if (hi <= sizeof(one) && !mem_read(rt->pid, gptrs[j] + lo, one, hi - lo))
				b = one;
			else
				continue;
			ok = parse_g(o, b - lo, gptrs[j], &rt->gs[rt->ngs]);
			rt->gs[rt->ngs].slot = (uint32_t)(base + j);
			if (ok < 0)
				rt->implausible++;
			rt->ngs += ok > 0;
		}
	}
}

/* One batch of g pointers into rt->gs, in allgs order. */
static void scan_batch(struct go_runtime *rt, const uint64_t *gptrs, size_t n, uint32_t lo,
		       uint32_t hi, uint64_t base)
{
	size_t nrun = 0, used = 0;

	for (size_t j = 0; j < n; j++) {
		uint64_t a = gptrs[j];
		struct mem_iov *v = nrun ? &rt->scan_iov[nrun - 1] : NULL;

		/* Joins the run before it: just past its end, and the run stays short. */
		if (v && a + lo >= v->addr + v->len && a + lo <= v->addr + v->len + SCAN_GAP &&
		    a + hi - v->addr <= SCAN_RUN) {
			used += a + hi - v->addr - v->len;
			v->len = a + hi - v->addr;
			continue;
		}
		if (used + SCAN_RUN > SCAN_BUF) { /* the buffer is full: read what it holds */
			scan_runs(rt, gptrs, nrun, j, lo, hi, base);
			nrun = used = 0;
		}
		rt->scan_first[nrun] = j;
		rt->scan_iov[nrun++] = (struct mem_iov){a + lo, rt->scan_buf + used, hi - lo, false};
		used += hi - lo;
	}
	if (nrun)
		scan_runs(rt, gptrs, nrun, n, lo, hi, base);
}

/* The span of struct g that holds the fields we use (the layout's checks keep every
 * one inside struct g, at most GO_MAX_G_SIZE bytes). */
static void g_span(const struct go_offsets *o, uint32_t *lo, uint32_t *hi)
{
	const uint32_t f[][2] = {{o->g_atomicstatus, 4}, {o->g_goid, 8},   {o->g_waitreason, 1},
				 {o->g_gopc, 8},	 {o->g_startpc, 8}, {o->g_sched_sp, 8},
				 {o->g_sched_pc, 8},	 {o->g_sched_bp, 8}, {o->g_stack_lo, 8},
				 {o->g_stack_hi, 8},	 {o->g_waitsince, 8}};

	*lo = UINT32_MAX;
	*hi = 0;
	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		*lo = MIN(*lo, f[i][0]);
		*hi = MAX(*hi, f[i][0] + f[i][1]);
	}
}

int go_g_reread(const struct go_runtime *rt, uint64_t addr, struct go_g *g)
{
	uint8_t buf[GO_MAX_G_SIZE];
	uint32_t lo, hi;
	int ok;

	g_span(&rt->gb->off, &lo, &hi);
	if (hi > sizeof(buf) || mem_read(rt->pid, addr + lo, buf, hi - lo))
		return -EFAULT;
	ok = parse_g(&rt->gb->off, buf - lo, addr, g);
	return ok > 0 ? 0 : ok < 0 ? -EBADMSG : -ENOENT;
}

int go_runtime_scan(struct go_runtime *rt)
{
	const struct go_offsets *o = &rt->gb->off;
	uint64_t n = 0, ptr = 0;
	uint32_t lo, hi;
	int err = 0;

	/* allglen first: allgadd publishes the array before the length. */
	err = mem_read(rt->pid, rt->allglen, &n, 8);
	if (!err)
		err = mem_read(rt->pid, rt->allgptr, &ptr, 8);
	if (err)
		return kill(rt->pid, 0) && errno == ESRCH ? -ESRCH : err;
	if (n > GO_MAX_GS || (n && !ptr))
		return -EIO;
	rt->ngs = 0;
	rt->implausible = 0;
	rt->scan_reads = 0;
	rt->allgs_n = n;
	if (!n)
		return 0;
	if (rt->cap < n) {
		rt->cap = n;
		rt->gs = xrealloc(rt->gs, n * sizeof(*rt->gs));
	}

	g_span(o, &lo, &hi);
	/* Kept from scan to scan: fresh pages each time would be zeroed each time. */
	if (!rt->scan_buf) {
		rt->scan_buf = xmalloc(SCAN_BUF);
		/* A run holds one g at least: SCAN_BUF / (hi - lo) runs at most per read. */
		rt->scan_iov = xmalloc((SCAN_BUF / (hi - lo) + 1) * sizeof(*rt->scan_iov));
		rt->scan_first = xmalloc((SCAN_BUF / (hi - lo) + 1) * sizeof(*rt->scan_first));
		rt->scan_gptrs = xmalloc(SCAN_BATCH * sizeof(*rt->scan_gptrs));
	}
	for (uint64_t done = 0; done < n && !err; done += SCAN_BATCH) {
		size_t k = MIN(n - done, (uint64_t)SCAN_BATCH);

		if (mem_read(rt->pid, ptr + done * 8, rt->scan_gptrs, k * 8))
			err = -EIO;
		else
			scan_batch(rt, rt->scan_gptrs, k, lo, hi, done);
	}
	if (err)
		return err;
	/* One may be a goroutine caught mid-creation; more say the layout is not this one. */
	if (rt->implausible > 2 && rt->implausible * 100 > rt->ngs)
		return -EBADMSG;
	return 0;
}

/* The frame-pointer chain from g's saved context, as go_g_stack() says. */
int go_g_stack(const struct go_runtime *rt, const struct go_g *g, uint64_t *pcs, int max)
{
	const struct gobin *gb = rt->gb;
	uint64_t bp = g->sched_bp, lo = g->stack_lo, hi = g->stack_hi, fr[2];
	bool last_exact = false;
	struct gofunc f;
	int n = 0;

	if (g->status == GO_G_RUNNING || g->status == GO_G_SYSCALL || max < 1 || !gb->pcln)
		return 0;
	if (hi <= lo || hi - lo > (1ull << 30) || g->sched_sp < lo || g->sched_sp >= hi ||
	    gopclntab_func_at(gb->pcln, g->sched_pc - rt->bias, &f))
		return 0;
	pcs[n++] = g->sched_pc;
	/* Each frame record {saved bp, return address} lies above the last, inside the stack. */
	while (n < max && bp >= g->sched_sp && bp + 16 <= hi && !(bp & 7)) {
		/*
		 * Above an asynchronous preemption or a fault the "return address" is the
		 * interrupted instruction itself, which may be its function's entry: kept
		 * as that pc + 1, so that symbolizing it as a return address (pc - 1)
		 * lands on the instruction, as Go's traceback does.
		 */
		bool exact = !strcmp(f.name, "runtime.asyncPreempt") ||
			     !strcmp(f.name, "runtime.sigpanic");

		if (mem_read(rt->pid, bp, fr, sizeof(fr)) || !fr[1] ||
		    gopclntab_func_at(gb->pcln, fr[1] - !exact - rt->bias, &f))
			break;
		pcs[n++] = fr[1] + exact;
		last_exact = exact;
		if (fr[0] <= bp)
			break; /* the chain ends (0 at the bottom) or is torn */
		bp = fr[0];
	}
	/* A goroutine that never ran: its first function's frame is not made yet, the
	 * return address the runtime set (into goexit) is on top of the stack. */
	if (n == 1 && !g->sched_bp && !mem_read(rt->pid, g->sched_sp, fr, 8) &&
	    fr[0] - rt->bias > rt->goexit_lo && fr[0] - rt->bias <= rt->goexit_hi)
		pcs[n++] = fr[0];
	/* Every goroutine's outermost frame returns into runtime.goexit: a walk that ends
	 * elsewhere (short of max) was torn by the goroutine moving. (Unless it ends in a
	 * function interrupted before it made its frame: its caller is not in the chain.) */
	if (n < max && rt->goexit_hi && !last_exact &&
	    !(pcs[n - 1] - rt->bias > rt->goexit_lo && pcs[n - 1] - rt->bias <= rt->goexit_hi))
		return 0;
	return n;
}

const char *go_g_state(const struct go_runtime *rt, const struct go_g *g)
{
	static const char *const names[] = {
		[GO_G_IDLE] = "idle",	  [GO_G_RUNNABLE] = "runnable",
		[GO_G_RUNNING] = "running", [GO_G_SYSCALL] = "syscall",
		[GO_G_WAITING] = "waiting", [5] = "moribund",
		[GO_G_DEAD] = "dead",	  [7] = "enqueue",
		[GO_G_COPYSTACK] = "copystack", [GO_G_PREEMPTED] = "preempted",
	};
	const char *reason = "waiting";
	char buf[128];

	if (g->waitreason < rt->nwaitreasons && rt->waitreasons[g->waitreason] &&
	    rt->waitreasons[g->waitreason][0])
		reason = rt->waitreasons[g->waitreason];
	if (g->status == GO_G_WAITING)
		return reason;
	/*
	 * Go 1.27 (1.26 with GOEXPERIMENT=goroutineleakprofile): the GC of a goroutine
	 * leak profile proved it can never run again. It still waits where it waited.
	 */
	if (g->status == GO_G_LEAKED) {
		snprintf(buf, sizeof(buf), "%s, proven leaked by the runtime", reason);
		return intern(buf);
	}
	/* A goroutine stopped to have its stack copied or to be preempted is still runnable. */
	if (g->status == GO_G_COPYSTACK || g->status == GO_G_PREEMPTED)
		return "runnable";
	if (g->status < ARRAY_SIZE(names) && names[g->status])
		return names[g->status];
	snprintf(buf, sizeof(buf), "status %u", g->status);
	return intern(buf);
}
