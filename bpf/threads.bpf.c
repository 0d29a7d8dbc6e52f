// SPDX-License-Identifier: GPL-2.0
/*
 * Threads by creation stack. A uprobe where a thread is asked for (pthread_create,
 * or runtime.newm1 in Go) records the asking stack against the calling thread;
 * the task_newtask tracepoint, which runs in that same thread as the kernel
 * creates the new one, moves the record to the new thread's id. The
 * sched_process_exit tracepoint, which runs in every exiting thread, removes
 * it. So the threads map holds exactly the live threads (plus those user space
 * put there at attach), and per-site counters hold creations and exits.
 */
#include "common.bpf.h"
#include "stacks.bpf.h"
#include "threads.h"

#define CLONE_THREAD 0x00010000

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct thr_thread);
	__uint(max_entries, 131072);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} thr_threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct thr_site_key);
	__type(value, struct thr_counts);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} thr_sites SEC(".maps");

/*
 * Between a creation probe and the clone it leads to, in the same thread. LRU: a
 * pthread_create that fails never reaches the clone, and its record must not pin
 * a slot forever.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, struct thr_pending);
	__uint(max_entries, 8192);
} thr_creators SEC(".maps");

__u64 thr_counters[THR_CNT__MAX] = {};

/*
 * The current task as user space names it (see current_ids()): is it the target's?
 * The process that started when the target did (a PID reused after it exited is not
 * it); not by its executable, which an exiting thread no longer has (its mm is gone
 * at sched_process_exit), and the session ends at an exec.
 */
static __always_inline bool view_current(__u32 *tgid, __u32 *tid)
{
	current_ids(tgid, tid);
	return *tgid && *tgid == target_tgid && started_as_target();
}

static __always_inline void site_count(const struct thr_site_key *k, bool created)
{
	struct thr_counts *c = bpf_map_lookup_elem(&thr_sites, k), zero = {};

	if (!c) {
		/* Fails harmlessly when another CPU inserted it first. */
		bpf_map_update_elem(&thr_sites, k, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&thr_sites, k);
		if (!c) {
			__sync_fetch_and_add(&thr_counters[THR_CNT_SITE_FULL], 1);
			return;
		}
	}
	if (created)
		__sync_fetch_and_add(&c->created, 1);
	else
		__sync_fetch_and_add(&c->exited, 1);
}

/* pthread_create or runtime.newm1: remember who asks for a thread (the cookie says which). */
static __always_inline int creator(struct pt_regs *ctx, bool caller_at_sp)
{
	__u32 ktid = (__u32)bpf_get_current_pid_tgid();
	struct thr_pending p = {}, *old;

	if (!is_target())
		return 0;
	p.kind = bpf_get_attach_cookie(ctx);
	if (p.kind == THR_KIND_PTHREAD) {
		/*
		 * cgo: runtime.newm1 calls pthread_create through the runtime's C glue, and
		 * its record (why Go wanted an M) says more than the glue's stack. newm1 is
		 * always followed by its clone on this thread, so the record is not stale.
		 */
		old = bpf_map_lookup_elem(&thr_creators, &ktid);
		if (old && old->kind == THR_KIND_GO_NEWM)
			return 0;
	}
	p.stack = stack_take(ctx, caller_at_sp, &thr_counters[THR_CNT_STACK_FULL]);
	bpf_map_update_elem(&thr_creators, &ktid, &p, BPF_ANY);
	return 0;
}

/*
 * Two programs rather than a flag read at run time: the verifier then walks the
 * stack loop once per program, not once per value of the flag.
 */

/* At a function's first instructions: the caller is at [rsp], not yet in the rbp chain. */
SEC("uprobe")
int thr_creator_entry(struct pt_regs *ctx)
{
	return creator(ctx, true);
}

/* Past the prologue (Go 1.19 and 1.20 have no emulated instruction before it). */
SEC("uprobe")
int thr_creator_body(struct pt_regs *ctx)
{
	return creator(ctx, false);
}

/* In the creating thread, once the kernel has made the new one (not yet running). */
SEC("tp_btf/task_newtask")
int BPF_PROG(thr_newtask, struct task_struct *task, __u64 clone_flags)
{
	__u32 ktid = (__u32)bpf_get_current_pid_tgid(), tgid, tid;
	struct thr_thread t = {};
	struct thr_pending *p;

	/* Made by the program traced: not by the one it ran exec into. */
	if (!(clone_flags & CLONE_THREAD) || !view_current(&tgid, &tid) || !runs_target_exe())
		return 0;
	p = bpf_map_lookup_elem(&thr_creators, &ktid);
	if (p) {
		t.site.stack = p->stack;
		t.site.kind = p->kind;
		bpf_map_delete_elem(&thr_creators, &ktid);
	} else {
		/*
		 * No probe saw it coming (a raw clone): the creating thread's user stack at
		 * the syscall is the best there is. Complete in Go (frame pointers
		 * throughout), often cut short in C libraries built without them. The
		 * kernel's walk here, not stack_walk(): this path is rare, and our loop
		 * would cost every attach a quarter second of verification.
		 */
		struct ls_stack *st = stack_scratch_get();
		long n;

		if (st) {
			n = bpf_get_stack(ctx, st->pcs, sizeof(st->pcs), BPF_F_USER_STACK);
			if (n > 0)
				t.site.stack = stack_store(st, n / sizeof(st->pcs[0]), &thr_counters[THR_CNT_STACK_FULL]);
		}
		t.site.kind = THR_KIND_CLONE;
		__sync_fetch_and_add(&thr_counters[THR_CNT_NO_PROBE], 1);
	}
	t.created_ns = bpf_ktime_get_ns();
	/* In the creator's PID namespace (a thread cannot be made in another), so seen by us. */
	tid = task_tid_ours(task);
	if (bpf_map_update_elem(&thr_threads, &tid, &t, BPF_ANY))
		__sync_fetch_and_add(&thr_counters[THR_CNT_MAP_FULL], 1);
	site_count(&t.site, true);
	__sync_fetch_and_add(&thr_counters[THR_CNT_CREATED], 1);
	return 0;
}

/* In every exiting thread of the target, not only when the whole process ends. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(thr_exit, struct task_struct *task)
{
	__u32 ktid = (__u32)bpf_get_current_pid_tgid(), tgid, tid;
	struct thr_site_key site;
	struct thr_thread *t;

	if (!view_current(&tgid, &tid))
		return 0;
	bpf_map_delete_elem(&thr_creators, &ktid);
	t = bpf_map_lookup_elem(&thr_threads, &tid);
	if (!t) {
		__sync_fetch_and_add(&thr_counters[THR_CNT_EXIT_UNKNOWN], 1);
		return 0;
	}
	site = t->site;
	bpf_map_delete_elem(&thr_threads, &tid);
	site_count(&site, false);
	__sync_fetch_and_add(&thr_counters[THR_CNT_EXITED], 1);
	return 0;
}
