/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by every BPF program: which task is the target, and drop
 * accounting. Every bpf/NAME.bpf.c is linked into one object (build/leakscope.bpf.o,
 * one skeleton): what several of them define is __weak, and the linker keeps one.
 */
#ifndef LEAKSCOPE_COMMON_BPF_H
#define LEAKSCOPE_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

/* uapi constants vmlinux.h does not carry (they are macros). */
#define PAGE_SIZE 4096
#define MAP_ANONYMOUS 0x20
#define PROT_NONE 0

/*
 * The target as user space names it: tgid in leakscope's own PID namespace
 * (a sidecar container sees the target through its namespace, not the
 * host's). pidns_ino == 0 means "use host PIDs".
 */
const volatile __u32 target_tgid __weak = 0;
const volatile __u64 pidns_dev __weak = 0;
const volatile __u64 pidns_ino __weak = 0;

char LICENSE[] __weak SEC("license") = "GPL";

static __always_inline __u32 current_tgid(void)
{
	struct bpf_pidns_info ns = {};

	if (pidns_ino && !bpf_get_ns_current_pid_tgid(pidns_dev, pidns_ino, &ns, sizeof(ns)))
		return ns.tgid;
	return bpf_get_current_pid_tgid() >> 32;
}

/*
 * The program traced, by the identity of its executable (set by user space): after
 * an exec the process runs another file, and what the new program does is not the
 * traced one's. 0: not checked.
 */
const volatile __u64 target_exe_ino __weak = 0;
const volatile __u32 target_exe_dev __weak = 0;

static __always_inline bool runs_target_exe(void)
{
	struct file *exe;
	struct inode *ino;

	if (!target_exe_ino)
		return true;
	exe = bpf_get_current_task_btf()->mm->exe_file;
	if (!exe)
		return false;
	/* The path's inode, as stat(/proc/PID/exe) sees it (on overlayfs f_inode is the
	 * layer's file, not the one user space can name). */
	ino = exe->f_path.dentry->d_inode;
	return ino && ino->i_ino == target_exe_ino && ino->i_sb->s_dev == target_exe_dev;
}

/*
 * The process traced, by when it started (its leader's start_boottime, in the window
 * of the clock tick /proc/PID/stat shows, set by user space): once it exits its PID
 * may go to another process, even one running the same file. 0: not checked.
 */
const volatile __u64 target_start_min __weak = 0;
const volatile __u64 target_start_max __weak = 0;

static __always_inline bool started_as_target(void)
{
	__u64 t;

	if (!target_start_max)
		return true;
	t = BPF_CORE_READ(bpf_get_current_task_btf(), group_leader, start_boottime);
	return t >= target_start_min && t < target_start_max;
}

static __always_inline bool is_target(void)
{
	return current_tgid() == target_tgid && runs_target_exe() && started_as_target();
}

/*
 * Add n to the counter of key in a hash map of __u64, creating it when missing
 * (another CPU may create it first: then add to theirs). False when the map is
 * full, for the caller to count as a drop.
 */
static __always_inline bool count_key(void *map, const void *key, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(map, key);

	if (v) {
		__sync_fetch_and_add(v, n);
		return true;
	}
	if (!bpf_map_update_elem(map, key, &n, BPF_NOEXIST))
		return true;
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		return false;
	__sync_fetch_and_add(v, n);
	return true;
}

#endif
