/* SPDX-License-Identifier: GPL-2.0 */
/*
 * leakscope's one BPF object (every bpf/NAME.bpf.c linked together, one skeleton):
 * opened with every program and map switched off, each source switches on and
 * sizes what it uses, then it is loaded once. The stack store and the filter on
 * the target's process are shared by all.
 */
#ifndef LEAKSCOPE_BPFIO_OBJECT_H
#define LEAKSCOPE_BPFIO_OBJECT_H

#include <stdint.h>
#include <sys/types.h>

struct leakscope_bpf;
struct bpf_program;
struct bpf_map;
struct fatal;

/*
 * Open the object for target tgid as seen from PID namespace pidns_dev/ino (leakscope's
 * own: a sidecar's, or the host's), with room for max_stacks stacks. NULL with *f set
 * on failure.
 */
struct leakscope_bpf *bpfobj_open(pid_t tgid, uint64_t pidns_dev, uint64_t pidns_ino,
				  uint32_t max_stacks, struct fatal *f);
/* Switch on a program, or a map (max_entries 0 keeps the declared size). */
void bpfobj_use_prog(struct bpf_program *p);
void bpfobj_use_map(struct bpf_map *m, uint32_t max_entries);
/* Load what was switched on. 0, or -errno with *f set (message and exit status). */
int bpfobj_load(struct leakscope_bpf *skel, struct fatal *f);
void bpfobj_destroy(struct leakscope_bpf *skel);

/* Maps made outside the object (shards of a growing map) count as its memory too. */
void bpfobj_track_fd(int fd);
void bpfobj_untrack_fd(int fd);
/* BPF map memory held now, as the kernel charges it (memlock), and in how many maps. */
uint64_t bpfobj_memory(const struct leakscope_bpf *skel, int *nmaps);

#endif
