/* SPDX-License-Identifier: GPL-2.0 */
/* The probes a source placed (uprobes, tracepoints, perf events), taken out together. */
#ifndef LEAKSCOPE_BPFIO_LINKS_H
#define LEAKSCOPE_BPFIO_LINKS_H

#include <stddef.h>

struct bpf_link;

struct links {
	struct bpf_link **v;
	size_t n, cap;
	/* Links libbpf has no wrapper for (uprobe sessions with this libbpf): their fds. */
	int *fds;
	size_t nfds, fdcap;
};

/* Keep l (NULL is not kept, so that a failed attach can be passed through); returns l. */
struct bpf_link *links_add(struct links *ls, struct bpf_link *l);
/* Keep a BPF link's fd (closing it takes the link out). */
void links_add_fd(struct links *ls, int fd);
/* Take every link out, the last placed first. */
void links_destroy(struct links *ls);

#endif
