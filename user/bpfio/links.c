// SPDX-License-Identifier: GPL-2.0
#include <bpf/libbpf.h>
#include <stdlib.h>

#include "bpfio/links.h"
#include "lib/util.h"

struct bpf_link *links_add(struct links *ls, struct bpf_link *l)
{
	if (!l)
		return NULL;
	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? 2 * ls->cap : 8;
		ls->v = xrealloc(ls->v, ls->cap * sizeof(*ls->v));
	}
	ls->v[ls->n++] = l;
	return l;
}

void links_destroy(struct links *ls)
{
	while (ls->n)
		bpf_link__destroy(ls->v[--ls->n]);
	free(ls->v);
	ls->v = NULL;
	ls->cap = 0;
}
