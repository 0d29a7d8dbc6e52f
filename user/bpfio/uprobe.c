// SPDX-License-Identifier: GPL-2.0
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>

#include "bpfio/uprobe.h"
#include "elf/elffile.h"
#include "lib/util.h"

struct bpf_link *uprobe_attach(pid_t pid, struct bpf_program *prog, const char *path,
			       const struct elf_file *elf, uint64_t vaddr, uint64_t cookie,
			       const char *what, struct fatal *f)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookie);
	struct bpf_link *l;
	uint64_t off;
	int err;

	if (elf_vaddr_to_offset(elf, vaddr, &off)) {
		if (f)
			fatal_set(f, EXIT_ERROR, "%s probe address 0x%llx not in %s", what,
				  (unsigned long long)vaddr, path);
		else
			log_warn("%s probe address 0x%llx not in %s", what,
				 (unsigned long long)vaddr, path);
		return NULL;
	}
	l = bpf_program__attach_uprobe_opts(prog, pid, path, off, &opts);
	if (!l) {
		err = -errno;
		if (f)
			fatal_set(f, err == -EPERM ? EXIT_PERMISSION : EXIT_KERNEL,
				  "cannot attach a uprobe to %s in %s: %s", what, path,
				  strerror(-err));
		else
			log_warn("cannot attach a uprobe to %s in %s: %s", what, path,
				 strerror(-err));
		return NULL;
	}
	log_debug("%s probed at 0x%llx (file offset 0x%llx) in %s", what,
		  (unsigned long long)vaddr, (unsigned long long)off, path);
	return l;
}
