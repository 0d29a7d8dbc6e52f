// SPDX-License-Identifier: GPL-2.0
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bpfio/object.h"
#include "leakscope.skel.h"
#include "lib/util.h"

static int extra_fds[64];
static int nextra;

/* Turn a load failure into the right message and exit status. */
static void load_error(struct fatal *f, int err)
{
	if (err == -EPERM)
		fatal_set(f, EXIT_PERMISSION,
			  "not permitted to load leakscope's BPF programs: run leakscope as root");
	else if (err == -EACCES || err == -EINVAL)
		fatal_set(f, EXIT_KERNEL,
			  "this kernel's verifier rejected leakscope's BPF programs (%s); run with "
			  "-vv for its log and please report it with `uname -r`",
			  strerror(-err));
	else
		fatal_set(f, EXIT_KERNEL, "cannot load leakscope's BPF programs: %s",
			  strerror(-err));
}

#define PIDNS_ROOT_INO 0xEFFFFFFCu

struct leakscope_bpf *bpfobj_open(pid_t tgid, uint64_t pidns_dev, uint64_t pidns_ino,
				  uint32_t max_stacks, struct fatal *f)
{
	struct leakscope_bpf *skel = leakscope_bpf__open();
	struct bpf_program *p;
	struct bpf_map *m;

	if (!skel) {
		fatal_set(f, EXIT_ERROR, "cannot open leakscope's BPF object: %s", strerror(errno));
		return NULL;
	}
	/* Off until a source that applies to the target asks: nothing is verified or
	 * allocated for what this target does not need. */
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, false);
	bpf_object__for_each_map(m, skel->obj)
		if (!bpf_map__is_internal(m))
			bpf_map__set_autocreate(m, false);
	skel->rodata->target_tgid = tgid;
	/*
	 * The root PID namespace (its inode number is fixed: PROC_PID_INIT_INO) names
	 * processes by their global ids, which BPF reads in one call; any other one by the
	 * ids it gives them (bpf/common.bpf.h, pid_nr_ours()).
	 */
	if (pidns_ino != PIDNS_ROOT_INO) {
		skel->rodata->pidns_dev = pidns_dev;
		skel->rodata->pidns_ino = pidns_ino;
	}
	bpfobj_use_map(skel->maps.stacks, max_stacks);
	bpfobj_use_map(skel->maps.stack_scratch, 0);
	bpfobj_use_map(skel->maps.stack_window, 0);
	return skel;
}

void bpfobj_use_prog(struct bpf_program *p)
{
	bpf_program__set_autoload(p, true);
}

void bpfobj_use_map(struct bpf_map *m, uint32_t max_entries)
{
	bpf_map__set_autocreate(m, true);
	if (max_entries)
		bpf_map__set_max_entries(m, max_entries);
}

int bpfobj_load(struct leakscope_bpf *skel, struct fatal *f)
{
	int err = leakscope_bpf__load(skel);

	if (err)
		load_error(f, err);
	return err;
}

void bpfobj_destroy(struct leakscope_bpf *skel)
{
	leakscope_bpf__destroy(skel);
}

void bpfobj_track_fd(int fd)
{
	if (nextra < (int)ARRAY_SIZE(extra_fds))
		extra_fds[nextra++] = fd;
}

void bpfobj_untrack_fd(int fd)
{
	for (int i = 0; i < nextra; i++)
		if (extra_fds[i] == fd)
			extra_fds[i] = extra_fds[--nextra];
}

/* What the kernel charges for the map behind fd. */
static uint64_t fd_memlock(int fd)
{
	unsigned long long v = 0;
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	file_field(path, "memlock: %llu", &v);
	return v;
}

uint64_t bpfobj_memory(const struct leakscope_bpf *skel, int *nmaps)
{
	struct bpf_map *m;
	uint64_t total = 0;

	*nmaps = 0;
	bpf_object__for_each_map(m, skel->obj) {
		int fd = bpf_map__fd(m);

		if (fd < 0)
			continue;
		total += fd_memlock(fd);
		(*nmaps)++;
	}
	for (int i = 0; i < nextra; i++) {
		total += fd_memlock(extra_fds[i]);
		(*nmaps)++;
	}
	return total;
}
