// SPDX-License-Identifier: GPL-2.0
/*
 * test_gopclntab BINARY ORACLE_OUTPUT_FILE
 *
 * Checks the .gopclntab reader against what the Go runtime of BINARY itself
 * said (ORACLE_OUTPUT_FILE is the output of tests/targets/pcln built as
 * BINARY): every frame of every runtime.Callers stack, inlined frames
 * included, every address of the text sweep, the entries of named
 * functions, and the consistency of lookups by index, address and name over
 * the whole function table. Prints one line per check group, the first few
 * failures of each, and a total; exits 1 on any failure, 2 on bad usage or
 * unreadable input. Run by tests/unit/gopclntab.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "golang/pclntab.h"

#define MAX_FAIL_SHOWN 8

struct group {
	const char *name;
	long checks, failures;
};

static long total_checks, total_failures;

static void check(struct group *g, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void check(struct group *g, bool ok, const char *fmt, ...)
{
	va_list ap;

	g->checks++;
	if (ok)
		return;
	if (g->failures++ < MAX_FAIL_SHOWN) {
		printf("    FAIL %s: ", g->name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		putchar('\n');
	}
}

static void group_end(struct group *g, const char *table)
{
	printf("  %-10s %-9s %6ld checks, %ld failures\n", g->name, table, g->checks, g->failures);
	total_checks += g->checks;
	total_failures += g->failures;
}

/* ---- the binary ---- */

struct section {
	const void *data;
	size_t size;
	uint64_t vaddr;
	bool found;
};

struct binary {
	const uint8_t *map;
	size_t size;
	bool is_pie;
	struct section pcln, text;
	uint64_t runtime_text; /* symbol runtime.text, 0 when stripped */
	struct gopclntab_region regions[8];
	size_t nregions;
};

static void find_runtime_text(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, struct binary *b)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	for (size_t i = 0; d && i < n; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(d, i, &sym))
			break;
		name = elf_strptr(e, sh->sh_link, sym.st_name);
		if (name && !strcmp(name, "runtime.text")) {
			b->runtime_text = sym.st_value;
			return;
		}
	}
}

static int open_binary(const char *path, struct binary *b)
{
	static const char *const region_names[] = {".go.module", ".noptrdata", ".data.rel.ro",
						   ".data", ".rodata"};
	struct stat st;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	size_t shstrndx;
	Elf *e;
	int fd;

	memset(b, 0, sizeof(*b));
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "test_gopclntab: %s: %s\n", path, strerror(errno));
		return -1;
	}
	b->size = st.st_size;
	b->map = mmap(NULL, b->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (b->map == MAP_FAILED) {
		fprintf(stderr, "test_gopclntab: mmap %s: %s\n", path, strerror(errno));
		return -1;
	}
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || !gelf_getehdr(e, &eh) || elf_getshdrstrndx(e, &shstrndx)) {
		fprintf(stderr, "test_gopclntab: %s: not ELF\n", path);
		return -1;
	}
	b->is_pie = eh.e_type == ET_DYN;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;
		struct section s;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			find_runtime_text(e, scn, &sh, b);
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (!name || sh.sh_offset > b->size || sh.sh_size > b->size - sh.sh_offset)
			continue;
		s.data = b->map + sh.sh_offset;
		s.size = sh.sh_size;
		s.vaddr = sh.sh_addr;
		s.found = true;
		/* PIE binaries of Go 1.18-1.25 rename it to .data.rel.ro.gopclntab. */
		if (!strcmp(name, ".gopclntab") || !strcmp(name, ".data.rel.ro.gopclntab"))
			b->pcln = s;
		else if (!strcmp(name, ".text"))
			b->text = s;
		for (size_t i = 0; i < sizeof(region_names) / sizeof(region_names[0]); i++) {
			if (strcmp(name, region_names[i]))
				continue;
			b->regions[b->nregions++] =
			    (struct gopclntab_region){s.data, s.size, s.vaddr};
		}
	}
	elf_end(e);
	close(fd);
	if (!b->pcln.found || !b->text.found) {
		fprintf(stderr, "test_gopclntab: %s: no .gopclntab or .text\n", path);
		return -1;
	}
	return 0;
}

/* ---- the oracle ---- */

struct oframe {
	char *func, *file;
	int line, inlined;
	uint64_t entry; /* runtime address */
};

struct ostack {
	char *label;
	uint64_t *pcs;
	struct oframe *per_pc; /* CallersFrames([]uintptr{pcs[i]}) */
	size_t npcs;
	struct oframe *full; /* CallersFrames(pcs) */
	size_t nfull;
};

struct ofunc {
	char *name;
	uint64_t entry;
};

struct osweep {
	uint64_t pc;
	struct oframe f;
};

struct oracle {
	char version[32];
	int minor;
	uint64_t anchor; /* runtime address of main.main */
	struct ofunc *funcs;
	size_t nfuncs;
	struct ostack *stacks;
	size_t nstacks;
	struct osweep *sweep;
	size_t nsweep;
};

#define PUSH(arr, n) (arr = realloc(arr, (n + 1) * sizeof(*arr)), &arr[n++])

/* Splits line at tabs in place; returns the number of fields. */
static int split(char *line, char **f, int max)
{
	int n = 0;

	line[strcspn(line, "\n")] = 0;
	while (n < max) {
		f[n++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = 0;
	}
	return n;
}

static int parse_frame(char **f, int n, struct oframe *o)
{
	if (n != 6)
		return -1;
	o->func = strdup(f[1]);
	o->file = strdup(f[2]);
	o->line = atoi(f[3]);
	o->inlined = atoi(f[4]);
	o->entry = strtoull(f[5], NULL, 0);
	return 0;
}

static void oframe_free(struct oframe *f)
{
	free(f->func);
	free(f->file);
}

/* What read_oracle() allocated (the suite runs under LeakSanitizer with SANITIZE=1). */
static void oracle_free(struct oracle *o)
{
	for (size_t i = 0; i < o->nfuncs; i++)
		free(o->funcs[i].name);
	for (size_t i = 0; i < o->nstacks; i++) {
		struct ostack *st = &o->stacks[i];

		for (size_t k = 0; k < st->npcs; k++)
			oframe_free(&st->per_pc[k]);
		for (size_t k = 0; k < st->nfull; k++)
			oframe_free(&st->full[k]);
		free(st->label);
		free(st->pcs);
		free(st->per_pc);
		free(st->full);
	}
	for (size_t i = 0; i < o->nsweep; i++)
		oframe_free(&o->sweep[i].f);
	free(o->funcs);
	free(o->stacks);
	free(o->sweep);
}

static int read_oracle(const char *path, struct oracle *o)
{
	FILE *fp = fopen(path, "r");
	struct ostack *st = NULL;
	char line[8192], *f[8];
	int lineno = 0;

	memset(o, 0, sizeof(*o));
	if (!fp) {
		fprintf(stderr, "test_gopclntab: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp)) {
		int n = split(line, f, 8);
		bool ok = true;

		lineno++;
		if (!strcmp(f[0], "version") && n == 2) {
			int major;

			snprintf(o->version, sizeof(o->version), "%s", f[1]);
			if (sscanf(f[1], "go%d.%d", &major, &o->minor) != 2)
				ok = false;
		} else if (!strcmp(f[0], "anchor") && n == 3) {
			o->anchor = strtoull(f[2], NULL, 0);
		} else if (!strcmp(f[0], "func") && n == 3) {
			struct ofunc *fn = PUSH(o->funcs, o->nfuncs);

			fn->name = strdup(f[1]);
			fn->entry = strtoull(f[2], NULL, 0);
		} else if (!strcmp(f[0], "stack") && n == 2) {
			st = PUSH(o->stacks, o->nstacks);
			memset(st, 0, sizeof(*st));
			st->label = strdup(f[1]);
		} else if (!strcmp(f[0], "pc") && n == 2 && st) {
			*PUSH(st->pcs, st->npcs) = strtoull(f[1], NULL, 0);
			st->per_pc = realloc(st->per_pc, st->npcs * sizeof(*st->per_pc));
			memset(&st->per_pc[st->npcs - 1], 0, sizeof(*st->per_pc));
		} else if (!strcmp(f[0], "frame") && st && st->npcs) {
			ok = !parse_frame(f, n, &st->per_pc[st->npcs - 1]);
		} else if (!strcmp(f[0], "full") && st) {
			struct oframe *fr = PUSH(st->full, st->nfull);

			ok = !parse_frame(f, n, fr);
		} else if (!strcmp(f[0], "end")) {
			st = NULL;
		} else if (!strcmp(f[0], "sweep") && n == 7) {
			struct osweep *s = PUSH(o->sweep, o->nsweep);

			s->pc = strtoull(f[1], NULL, 0);
			ok = !parse_frame(f + 1, n - 1, &s->f);
		} else {
			ok = false;
		}
		if (!ok) {
			fprintf(stderr, "test_gopclntab: %s:%d: cannot parse\n", path, lineno);
			fclose(fp);
			return -1;
		}
	}
	fclose(fp);
	if (!o->minor || !o->anchor || !o->nstacks || !o->nsweep) {
		fprintf(stderr, "test_gopclntab: %s: incomplete oracle output\n", path);
		return -1;
	}
	return 0;
}

/* ---- comparisons ---- */

/*
 * The runtime prints generic instances with "[...]" in place of their shape
 * arguments (funcNameForPrint); the table stores the shapes.
 */
static void print_name(const char *name, char *buf, size_t len)
{
	const char *open = strchr(name, '['), *close = strrchr(name, ']');

	if (!open || !close || close < open) {
		snprintf(buf, len, "%s", name);
		return;
	}
	snprintf(buf, len, "%.*s[...]%s", (int)(open - name), name, close + 1);
}

static bool same_frame(const struct goframe *m, const struct oframe *o, uint64_t bias)
{
	char name[1024];

	print_name(m->func, name, sizeof(name));
	return !strcmp(name, o->func) && !strcmp(m->file, o->file) && m->line == o->line &&
	       m->inlined == o->inlined && m->entry + bias == o->entry;
}

static const char *show(const struct goframe *m, uint64_t bias)
{
	static char buf[2][1200];
	static int k;

	k ^= 1;
	snprintf(buf[k], sizeof(buf[k]), "%s %s:%d inl=%d entry=%#llx", m->func, m->file, m->line,
		 m->inlined, (unsigned long long)(m->entry + bias));
	return buf[k];
}

static const char *oshow(const struct oframe *o)
{
	static char buf[2][1200];
	static int k;

	k ^= 1;
	snprintf(buf[k], sizeof(buf[k]), "%s %s:%d inl=%d entry=%#llx", o->func, o->file, o->line,
		 o->inlined, (unsigned long long)o->entry);
	return buf[k];
}

/*
 * The pc CallersFrames looks up for runtime pc: return addresses are backed up
 * into the call instruction unless pc is a function's entry (runtime/symtab.go,
 * Frames.Next: "if pc > entry { pc-- }").
 */
static uint64_t lookup_pc(const struct gopclntab *t, uint64_t rpc, uint64_t bias)
{
	struct gofunc f;
	uint64_t pc = rpc - bias;

	if (!gopclntab_func_at(t, pc, &f) && pc > f.entry)
		pc--;
	return pc;
}

/*
 * Each stack: runtime.Callers puts one pc per logical frame, the outer frames
 * of an inlined call as virtual pcs (entry+parentPc+1). Expanding the real pc
 * must give exactly the frames the runtime gives for it and for the virtual
 * pcs that follow it, and the whole walk must give CallersFrames(stack).
 */
static void check_stacks(const struct gopclntab *t, const struct oracle *o, uint64_t bias,
			 const char *table, bool expect_inline)
{
	struct group g = {"stacks"};
	long inlined_seen = 0, leaf_stacks = 0;

	for (size_t s = 0; s < o->nstacks; s++) {
		const struct ostack *st = &o->stacks[s];
		bool leaf = !strcmp(st->label, "leaf");
		size_t i = 0, k = 0;

		leaf_stacks += leaf;

		while (i < st->npcs) {
			struct goframe fr[32];
			int n = gopclntab_frames(t, lookup_pc(t, st->pcs[i], bias), fr, 32);

			check(&g, n > 0, "%s: pc %#llx: frames %d", st->label,
			      (unsigned long long)st->pcs[i], n);
			if (n <= 0) {
				i++;
				k++;
				continue;
			}
			for (int j = 0; j < n; j++) {
				const struct oframe *per =
				    i + j < st->npcs ? &st->per_pc[i + j] : NULL;
				const struct oframe *full =
				    k + j < st->nfull ? &st->full[k + j] : NULL;

				if (leaf && fr[j].inlined && !strncmp(fr[j].func, "main.", 5))
					inlined_seen++;
				check(&g, per && same_frame(&fr[j], per, bias),
				      "%s: pc %#llx frame %d: got %s, runtime %s", st->label,
				      (unsigned long long)st->pcs[i], j, show(&fr[j], bias),
				      per ? oshow(per) : "(no pc)");
				check(&g, full && same_frame(&fr[j], full, bias),
				      "%s: pc %#llx frame %d: got %s, CallersFrames %s", st->label,
				      (unsigned long long)st->pcs[i], j, show(&fr[j], bias),
				      full ? oshow(full) : "(none)");
			}
			i += n;
			k += n;
		}
		check(&g, k == st->nfull, "%s: %zu frames, CallersFrames %zu", st->label, k,
		      st->nfull);
	}
	/* The target is built so that its "leaf" stacks cross two inlined calls of its own. */
	if (expect_inline)
		check(&g, inlined_seen >= 2 * leaf_stacks && leaf_stacks > 0,
		      "%ld inlined frames in %ld leaf stacks", inlined_seen, leaf_stacks);
	group_end(&g, table);
}

static void check_sweep(const struct gopclntab *t, const struct oracle *o, uint64_t bias,
			const char *table)
{
	struct group g = {"sweep"};
	long inlined = 0;

	for (size_t i = 0; i < o->nsweep; i++) {
		const struct osweep *s = &o->sweep[i];
		struct goframe fr[32];
		int n = gopclntab_frames(t, s->pc - bias, fr, 32);

		check(&g, n > 0 && same_frame(&fr[0], &s->f, bias), "pc %#llx: got %s, runtime %s",
		      (unsigned long long)s->pc, n > 0 ? show(&fr[0], bias) : "nothing",
		      oshow(&s->f));
		inlined += s->f.inlined;
	}
	/* A sweep that meets no inlined code would not test the inline trees. */
	check(&g, inlined > 0, "the sweep met no inlined code");
	group_end(&g, table);
}

static void check_named(const struct gopclntab *t, const struct oracle *o, uint64_t bias,
			const char *table)
{
	struct group g = {"named"};

	for (size_t i = 0; i < o->nfuncs; i++) {
		const struct ofunc *of = &o->funcs[i];
		struct gofunc f, a;
		int err = gopclntab_func_by_name(t, of->name, &f);

		check(&g, !err && f.entry + bias == of->entry,
		      "%s: by name %d entry %#llx, runtime %#llx", of->name, err,
		      err ? 0ull : (unsigned long long)(f.entry + bias),
		      (unsigned long long)of->entry);
		err = gopclntab_func_at(t, of->entry - bias, &a);
		check(&g, !err && !strcmp(a.name, of->name) && a.entry + bias == of->entry,
		      "%s: by address %d %s", of->name, err, err ? "" : a.name);
	}
	group_end(&g, table);
}

static size_t first_index(const struct gopclntab *t, const char *name)
{
	struct gofunc f;

	for (size_t i = 0; !gopclntab_func_by_index(t, i, &f); i++)
		if (!strcmp(f.name, name))
			return i;
	return SIZE_MAX;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every function by index, by address (first and last byte) and by name. */
static void check_roundtrip(const struct gopclntab *t, const char *table)
{
	struct group g = {"roundtrip"};
	size_t n = gopclntab_nfunc(t), dups = 0;
	const char **names = calloc(n, sizeof(*names));
	struct gofunc f, a, first, last;
	struct goframe fr[4];

	check(&g, n > 100, "only %zu functions", n);
	for (size_t i = 0; i < n; i++) {
		int err = gopclntab_func_by_index(t, i, &f);

		names[i] = "?";
		check(&g, !err && f.index == i && f.entry <= f.end, "index %zu: %d", i, err);
		if (err)
			continue;
		names[i] = f.name;
		check(&g, f.name[0] != '?', "index %zu: no name", i);
		if (i + 1 < n && !gopclntab_func_by_index(t, i + 1, &a))
			check(&g, f.end == a.entry, "%s: end %#llx, next entry %#llx", f.name,
			      (unsigned long long)f.end, (unsigned long long)a.entry);
		if (f.end > f.entry) {
			err = gopclntab_func_at(t, f.entry, &a);
			check(&g, !err && a.index == i, "%s: func_at(entry) %d", f.name, err);
			err = gopclntab_func_at(t, f.end - 1, &a);
			check(&g, !err && a.index == i, "%s: func_at(end-1) %d", f.name, err);
		}
		err = gopclntab_func_by_name(t, f.name, &a);
		check(&g, !err && !strcmp(a.name, f.name) && a.index <= i, "%s: by name %d", f.name,
		      err);
	}
	/*
	 * Names held twice are ABI wrappers (runtime.newproc has one for rt0_go), which
	 * come after the real function: by name must give the first.
	 */
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(names[i], names[i - 1]))
			continue;
		dups++;
		check(&g,
		      !gopclntab_func_by_name(t, names[i], &a) &&
			  !gopclntab_func_by_index(t, a.index, &f) &&
			  first_index(t, names[i]) == a.index,
		      "%s: by name gave index %u, not the first", names[i], a.index);
	}
	check(&g, dups < n / 20, "%zu duplicated names", dups);
	free(names);

	gopclntab_func_by_index(t, 0, &first);
	gopclntab_func_by_index(t, n - 1, &last);
	check(&g, gopclntab_func_at(t, first.entry - 1, &a) == -ENOENT, "before text found");
	check(&g, gopclntab_func_at(t, last.end, &a) == -ENOENT, "after text found");
	check(&g, gopclntab_func_at(t, 0, &a) == -ENOENT, "pc 0 found");
	check(&g, gopclntab_func_at(t, UINT64_MAX, &a) == -ENOENT, "pc ~0 found");
	check(&g, gopclntab_frames(t, last.end, fr, 4) == -ENOENT, "frames after text");
	check(&g, gopclntab_frames(t, first.entry, fr, 0) == -EINVAL, "frames max 0");
	check(&g, gopclntab_func_by_index(t, n, &a) == -ENOENT, "index nfunc found");
	check(&g, gopclntab_func_by_name(t, "main.noSuchFunction", &a) == -ENOENT,
	      "unknown name found");
	check(&g, gopclntab_func_by_name(t, "", &a) == -ENOENT, "empty name found");
	check(&g, !gopclntab_func_by_name(t, "runtime.newproc1", &a), "runtime.newproc1 missing");
	check(&g, !gopclntab_func_by_name(t, "runtime.(*gcControllerState).resetLive", &a),
	      "runtime.(*gcControllerState).resetLive missing");
	group_end(&g, table);
}

/* With room for one frame only, the physical function must be that frame. */
static void check_truncation(const struct gopclntab *t, const struct oracle *o, uint64_t bias,
			     const char *table)
{
	struct group g = {"truncate"};

	for (size_t s = 0; s < o->nstacks; s++) {
		const struct ostack *st = &o->stacks[s];
		struct goframe all[32], one = {"-", "-"}, two[2];
		uint64_t pc = lookup_pc(t, st->pcs[0], bias);
		int n = gopclntab_frames(t, pc, all, 32);

		check(&g,
		      gopclntab_frames(t, pc, &one, 1) == 1 && !one.inlined && n > 0 &&
			  !strcmp(one.func, all[n - 1].func) && one.line == all[n - 1].line,
		      "%s: max 1 gave %s", st->label, show(&one, bias));
		if (n > 2)
			check(&g,
			      gopclntab_frames(t, pc, two, 2) == 2 &&
				  !strcmp(two[0].func, all[0].func) &&
				  !strcmp(two[1].func, all[n - 1].func),
			      "%s: max 2", st->label);
	}
	group_end(&g, table);
}

static void run_all(const struct gopclntab *t, const struct oracle *o, const char *table,
		    bool is_pie)
{
	struct group g = {"bias"};
	struct gofunc mm;
	uint64_t bias = 0;
	int err = gopclntab_func_by_name(t, "main.main", &mm);

	check(&g, !err, "main.main not found: %d", err);
	if (!err)
		bias = o->anchor - mm.entry;
	/* Non-PIE Go binaries run at their link addresses. */
	if (!is_pie)
		check(&g, bias == 0, "non-PIE binary with bias %#llx", (unsigned long long)bias);
	else
		check(&g, (bias & 0xfff) == 0, "bias %#llx not page aligned",
		      (unsigned long long)bias);
	group_end(&g, table);

	check_named(t, o, bias, table);
	check_stacks(t, o, bias, table, true);
	check_sweep(t, o, bias, table);
	check_truncation(t, o, bias, table);
	check_roundtrip(t, table);
}

int main(int argc, char **argv)
{
	struct gopclntab *bare = NULL, *t = NULL;
	struct group g = {"open"};
	struct binary b;
	struct oracle o;
	uint64_t want_text;
	int err, want;

	if (argc != 3) {
		fprintf(stderr, "usage: test_gopclntab BINARY ORACLE_OUTPUT_FILE\n");
		return 2;
	}
	if (open_binary(argv[1], &b) || read_oracle(argv[2], &o))
		return 2;
	printf("test_gopclntab: %s (%s%s)\n", argv[1], o.version, b.is_pie ? ", PIE" : "");

	want = o.minor >= 20 ? 120 : 118;
	err = gopclntab_open(&bare, b.pcln.data, b.pcln.size, b.text.vaddr);
	check(&g, !err, "open: %d", err);
	err = gopclntab_open(&t, b.pcln.data, b.pcln.size, b.text.vaddr);
	check(&g, !err, "open: %d", err);
	if (!bare || !t) {
		group_end(&g, "");
		printf("test_gopclntab: %ld checks, %ld failures\n", total_checks, total_failures);
		return 1;
	}
	check(&g, gopclntab_go_min_version(t) == want, "version %d, want %d for %s",
	      gopclntab_go_min_version(t), want, o.version);
	err = gopclntab_attach_moduledata(t, b.regions, b.nregions, b.pcln.vaddr);
	check(&g, !err, "moduledata: %d", err);
	check(&g, gopclntab_has_inline(t), "no inline trees after attaching moduledata");
	/*
	 * runtime.text starts .text when Go links internally; external linking puts C
	 * start-up code before it, and Go 1.26 no longer stores it in the header: then
	 * only moduledata knows.
	 */
	want_text = gopclntab_text_start(t);
	if (b.runtime_text) {
		check(&g, want_text == b.runtime_text, "text start %#llx, runtime.text %#llx",
		      (unsigned long long)want_text, (unsigned long long)b.runtime_text);
		want_text = b.runtime_text;
	} /* else the bias checks below tell whether it is right */
	/* Go 1.26 moved the inline trees into .gopclntab: found from the section alone. */
	check(&g, gopclntab_has_inline(bare) == (o.minor >= 26),
	      "inline trees %sfound from .gopclntab alone in %s",
	      gopclntab_has_inline(bare) ? "" : "not ", o.version);
	group_end(&g, "");

	run_all(t, &o, "attached", b.is_pie);
	if (!gopclntab_has_inline(bare))
		printf("  (bare: no inline trees without moduledata in %s)\n", o.version);
	else if (gopclntab_text_start(bare) != want_text)
		printf("  (bare: text start %#llx is .text, runtime.text %#llx: external link)\n",
		       (unsigned long long)gopclntab_text_start(bare),
		       (unsigned long long)want_text);
	else
		run_all(bare, &o, "bare", b.is_pie);

	gopclntab_close(bare);
	gopclntab_close(t);
	oracle_free(&o);
	printf("test_gopclntab: %ld checks, %ld failures\n", total_checks, total_failures);
	return total_failures ? 1 : 0;
}
