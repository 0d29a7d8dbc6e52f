/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Growing maps, shared between BPF and user space: a BPF_MAP_TYPE_ARRAY_OF_MAPS
 * whose slots hold hash maps (shards) that user space adds as the entries grow
 * (user/bpfio/growmap.c), so that a map sized for millions of entries holds the
 * memory of what it holds, not of its capacity.
 */
#ifndef LEAKSCOPE_GROWMAP_H
#define LEAKSCOPE_GROWMAP_H

#define GROWMAP_SHARDS 16

#endif
