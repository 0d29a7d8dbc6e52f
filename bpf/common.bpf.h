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
 * The target as user space names it: tgid in leakscope's own PID namespace (a sidecar
 * container sees the target through its namespace, not the host's). pidns_ino == 0
 * means leakscope runs in the root namespace: host PIDs.
 */
const volatile __u32 target_tgid __weak = 0;
const volatile __u64 pidns_dev __weak = 0;
const volatile __u64 pidns_ino __weak = 0;

char LICENSE[] __weak SEC("license") = "GPL";

#define PIDNS_LEVELS 32 /* the kernel's MAX_PID_NS_LEVEL */

/*
 * pid's number in leakscope's PID namespace, 0 when it has none there (a process
 * outside it). A pid has a number in its own namespace and in each ancestor, root
 * first (struct pid's numbers[level]); ours, when it is among them, is at the same
 * level in every pid that has one. bpf_get_ns_current_pid_tgid() only answers for a
 * task whose own namespace is ours: not for one in a container nested inside it, and
 * a global PID in its place could be anyone's (the host's PID 1 is not a container's).
 */
static __always_inline __u32 pid_nr_ours(struct pid *pid)
{
	unsigned int level = BPF_CORE_READ(pid, level);
	__u64 numbers = (__u64)pid + bpf_core_field_offset(struct pid, numbers);
	__u64 upid_size = bpf_core_type_size(struct upid);

	for (unsigned int i = 0; i < PIDNS_LEVELS && i <= level; i++) {
		struct upid *u = (void *)(numbers + i * upid_size);
		struct pid_namespace *ns = BPF_CORE_READ(u, ns);

		if (ns && BPF_CORE_READ(ns, ns.inum) == pidns_ino)
			return BPF_CORE_READ(u, nr);
	}
	return 0;
}

/* The current task's process and thread ids as user space names them; 0 for a process
 * leakscope cannot see. */
static __always_inline void current_ids(__u32 *tgid, __u32 *tid)
{
	struct bpf_pidns_info ns = {};
	struct task_struct *task;
	__u64 id;

	if (!pidns_ino) {
		id = bpf_get_current_pid_tgid();
		*tgid = id >> 32;
		*tid = (__u32)id;
		return;
	}
	/* The common case (a sidecar sharing the target's namespace) in one call. */
	if (!bpf_get_ns_current_pid_tgid(pidns_dev, pidns_ino, &ns, sizeof(ns))) {
		*tgid = ns.tgid;
		*tid = ns.pid;
		return;
	}
	task = bpf_get_current_task_btf();
	*tgid = pid_nr_ours(BPF_CORE_READ(task, group_leader, thread_pid));
	*tid = pid_nr_ours(BPF_CORE_READ(task, thread_pid));
}

static __always_inline __u32 current_tgid(void)
{
	struct bpf_pidns_info ns = {};
	struct task_struct *task;

	if (!pidns_ino)
		return bpf_get_current_pid_tgid() >> 32;
	if (!bpf_get_ns_current_pid_tgid(pidns_dev, pidns_ino, &ns, sizeof(ns)))
		return ns.tgid;
	task = bpf_get_current_task_btf();
	return pid_nr_ours(BPF_CORE_READ(task, group_leader, thread_pid));
}

/* A task's thread id as user space names it (0: not visible to leakscope). */
static __always_inline __u32 task_tid_ours(struct task_struct *task)
{
	if (!pidns_ino)
		return BPF_CORE_READ(task, pid);
	return pid_nr_ours(BPF_CORE_READ(task, thread_pid));
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
