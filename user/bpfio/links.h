/* SPDX-License-Identifier: GPL-2.0 */
/* The probes a source placed (uprobes, tracepoints, perf events), taken out together. */
#ifndef LEAKSCOPE_BPFIO_LINKS_H
#define LEAKSCOPE_BPFIO_LINKS_H

#include <stddef.h>

struct bpf_link;

struct links {
	struct bpf_link **v;
	size_t n, cap;
};

/* Keep l (NULL is not kept, so that a failed attach can be passed through); returns l. */
struct bpf_link *links_add(struct links *ls, struct bpf_link *l);
/* Take every link out, the last placed first. */
void links_destroy(struct links *ls);

#endif
