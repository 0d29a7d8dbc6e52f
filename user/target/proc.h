/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The target process seen through /proc: its memory map, its files (through
 * its own root, so containers work), and notification when it exits. Its memory
 * is read through lib/memread.h.
 */
#ifndef LEAKSCOPE_PROC_H
#define LEAKSCOPE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct proc_map {
	uint64_t start, end, pgoff;
	uint64_t dev_major, dev_minor, inode;
	char perms[5];
	char *path; /* as the target sees it; "" for anonymous */
};

struct proc_maps {
	struct proc_map *v;
	size_t n;
};

/* 0, -ESRCH (no such process), -EACCES. */
int proc_check(pid_t pid);

/* Parse /proc/PID/maps; proc_maps_parse() the same from a stream (tests, fuzzing). */
int proc_maps_read(pid_t pid, struct proc_maps *m);
int proc_maps_parse(FILE *fp, struct proc_maps *m);
void proc_maps_free(struct proc_maps *m);

/*
 * A path that opens the file behind a mapping from leakscope's side, whatever mount
 * namespace the target is in: /proc/PID/map_files/START-END when available, else
 * /proc/PID/root/PATH. Heap-allocated.
 */
char *proc_map_open_path(pid_t pid, const struct proc_map *m);

/*
 * The name the process runs as into buf: argv[0]'s basename (a symlink's name, not
 * the file it points to), else /proc/PID/comm. Probes use /proc/PID/exe.
 */
void proc_exe_name(pid_t pid, char *buf, size_t len);
/* Full command line, spaces between args, truncated to len. */
void proc_cmdline(pid_t pid, char *buf, size_t len);

/* A pollable fd that becomes readable when pid exits (pidfd), or -errno. */
int proc_exit_fd(pid_t pid);

/* Identity of our own PID namespace, for filtering in BPF by the PIDs users see. */
int proc_self_pidns(uint64_t *dev, uint64_t *ino);

#endif
