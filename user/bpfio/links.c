// SPDX-License-Identifier: GPL-2.0
#include <bpf/libbpf.h>
#include <stdlib.h>
#include <unistd.h>

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

void links_add_fd(struct links *ls, int fd)
{
	if (ls->nfds == ls->fdcap) {
		ls->fdcap = ls->fdcap ? 2 * ls->fdcap : 8;
		ls->fds = xrealloc(ls->fds, ls->fdcap * sizeof(*ls->fds));
	}
	ls->fds[ls->nfds++] = fd;
}

void links_destroy(struct links *ls)
{
	while (ls->nfds)
		close(ls->fds[--ls->nfds]);
	while (ls->n)
		bpf_link__destroy(ls->v[--ls->n]);
	free(ls->fds);
	free(ls->v);
	ls->fds = NULL;
	ls->v = NULL;
	ls->cap = ls->fdcap = 0;
}
