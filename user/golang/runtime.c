// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
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
	uint64_t len_addr, ptr_addr, n = 0, ptr = 0, first = 0, goid = 0;
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
	/* The main goroutine is allgs[0] from the first instruction of main on. */
	if (!n || n > GO_MAX_GS || !ptr || (ptr & 7) || mem_read(rt->pid, ptr, &first, 8) ||
	    !first || mem_read(rt->pid, first + rt->gb->off.g_goid, &goid, 8) || goid != 1)
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
	if (elf_find_section(rt->gb->elf, ".rodata", &rodata) || !rodata.data ||
	    elf_find_section(rt->gb->elf, ".data", &data))
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

int go_runtime_init(struct go_runtime *rt, pid_t pid, const struct gobin *gb, uint64_t bias,
		    const char **why)
{
	memset(rt, 0, sizeof(*rt));
	rt->pid = pid;
	rt->gb = gb;
	rt->bias = bias;
	if (!gb->have_offsets) {
		*why = "runtime struct offsets unknown for this Go version";
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
	memset(rt, 0, sizeof(*rt));
}

int go_runtime_scan(struct go_runtime *rt)
{
	const struct go_offsets *o = &rt->gb->off;
	uint64_t n = 0, ptr = 0, *gptrs;
	uint32_t lo, hi;
	struct mem_iov *iov;
	uint8_t *buf;
	int err;

	/* allglen first: allgadd publishes the array before the length. */
	err = mem_read(rt->pid, rt->allglen, &n, 8);
	if (!err)
		err = mem_read(rt->pid, rt->allgptr, &ptr, 8);
	if (err)
		return kill(rt->pid, 0) && errno == ESRCH ? -ESRCH : err;
	if (n > GO_MAX_GS || (n && !ptr))
		return -EIO;
	rt->ngs = 0;
	if (!n)
		return 0;
	gptrs = xmalloc(n * 8);
	if (mem_read(rt->pid, ptr, gptrs, n * 8)) {
		free(gptrs);
		return -EIO;
	}

	/* Read only the span of struct g that holds the fields we use. */
	lo = MIN(MIN(o->g_atomicstatus, o->g_goid), MIN(o->g_waitreason, o->g_gopc));
	hi = MAX(MAX(o->g_atomicstatus + 4, o->g_goid + 8),
		 MAX(o->g_waitreason + 1, MAX(o->g_gopc + 8, o->g_startpc + 8)));
	lo = MIN(lo, o->g_startpc);
	buf = xmalloc(n * (hi - lo));
	iov = xmalloc(n * sizeof(*iov));
	for (uint64_t i = 0; i < n; i++)
		iov[i] = (struct mem_iov){gptrs[i] + lo, buf + i * (hi - lo), hi - lo, false};
	mem_readv(rt->pid, iov, n);

	if (rt->cap < n) {
		rt->cap = n;
		rt->gs = xrealloc(rt->gs, n * sizeof(*rt->gs));
	}
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *b = buf + i * (hi - lo) - lo;
		struct go_g *g = &rt->gs[rt->ngs];
		uint32_t status;

		if (!iov[i].ok)
			continue;
		memcpy(&status, b + o->g_atomicstatus, 4);
		status &= ~GO_GSTATUS_SCAN;
		if (status == GO_G_DEAD || status == GO_G_IDLE || status == GO_G_DEADEXTRA)
			continue;
		g->addr = gptrs[i];
		g->status = status;
		memcpy(&g->goid, b + o->g_goid, 8);
		memcpy(&g->gopc, b + o->g_gopc, 8);
		memcpy(&g->startpc, b + o->g_startpc, 8);
		g->waitreason = b[o->g_waitreason];
		rt->ngs++;
	}
	free(iov);
	free(buf);
	free(gptrs);
	return 0;
}

const char *go_g_state(const struct go_runtime *rt, const struct go_g *g)
{
	static const char *const names[] = {
		[GO_G_IDLE] = "idle",	  [GO_G_RUNNABLE] = "runnable",
		[GO_G_RUNNING] = "running", [GO_G_SYSCALL] = "syscall",
		[GO_G_WAITING] = "waiting", [5] = "moribund",
		[GO_G_DEAD] = "dead",	  [7] = "enqueue",
		[GO_G_COPYSTACK] = "copystack", [GO_G_PREEMPTED] = "preempted",
		[GO_G_LEAKED] = "leaked (GC-proven)",
	};
	char buf[32];

	if (g->status == GO_G_WAITING) {
		if (g->waitreason < rt->nwaitreasons && rt->waitreasons[g->waitreason] &&
		    rt->waitreasons[g->waitreason][0])
			return rt->waitreasons[g->waitreason];
		return "waiting";
	}
	/* A goroutine stopped to have its stack copied or to be preempted is still runnable. */
	if (g->status == GO_G_COPYSTACK || g->status == GO_G_PREEMPTED)
		return "runnable";
	if (g->status < ARRAY_SIZE(names) && names[g->status])
		return names[g->status];
	snprintf(buf, sizeof(buf), "status %u", g->status);
	return intern(buf);
}
