/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The target's executable mappings, read from /proc/PID/maps in one place (once
 * per interval, and when the symbolizer meets an address it cannot place), for
 * everyone: the symbolizer and the sources see the same list, and learn what is
 * new from one log instead of each keeping its own list of files already seen.
 */
#ifndef LEAKSCOPE_TARGET_MAPS_H
#define LEAKSCOPE_TARGET_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/hashmap.h"
#include "target/modfile.h"

/* One executable mapping of the target, as of the last look. */
struct mapping {
	uint64_t start, end, pgoff;
	uint64_t dev, ino;     /* of the mapped file (0 for anonymous code, [vdso]) */
	struct modfile *mf;    /* NULL when there is no file or it cannot be opened */
	uint64_t bias;	       /* runtime address = link-time address + bias */
	bool bias_ok;
	const char *name;      /* basename, interned: frames keep it */
	const char *path;      /* the path the target maps it by, interned */
};

/*
 * A file the target maps at a load address not seen before in the session:
 * appended to the log once per (file, load bias). new_file marks the first entry
 * of a file. Readers keep their own position in the log.
 */
struct mapping_news {
	struct modfile *mf;
	const char *open_path; /* how leakscope opens it (interned) */
	uint64_t start, pgoff; /* the executable mapping that brought it */
	uint64_t bias;
	bool bias_ok;	       /* false for a file expected before it is mapped */
	bool new_file;
};

struct maps_watch {
	pid_t pid;
	struct mapping *cur; /* executable mappings now, in address order */
	size_t ncur;
	unsigned gen;	     /* changes whenever cur does */
	struct mapping_news *log;
	size_t nlog, cap_log;
	struct hmap files, loads; /* what the log has seen: (dev, ino), (dev, ino, bias) */
	uint64_t last_ns;	  /* of the last refresh */
};

void maps_watch_init(struct maps_watch *w, pid_t pid);
void maps_watch_free(struct maps_watch *w);
/*
 * A file the target is about to map (a launched program's executable, before its
 * exec), logged as new now so that probes can be placed before it runs.
 */
void maps_watch_expect(struct maps_watch *w, const char *open_path);
/* Read the target's maps again. 0, or -ESRCH when it has gone. */
int maps_watch_refresh(struct maps_watch *w);
/* The mapping holding pc, as of the last refresh, or NULL. */
const struct mapping *maps_watch_find(const struct maps_watch *w, uint64_t pc);
/* Where mf is loaded now (its executable mapping). 0 or -ENOENT. */
int maps_watch_bias(const struct maps_watch *w, const struct modfile *mf, uint64_t *bias);

#endif
