// SPDX-License-Identifier: GPL-2.0
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "bpfio/uprobe.h"
#include "elf/elffile.h"
#include "lib/util.h"

int uprobe_err_status(int err)
{
	return err == -EACCES || err == -EPERM ? EXIT_PERMISSION : EXIT_KERNEL;
}

/*
 * The perf uprobe PMU asks for CAP_SYS_ADMIN again since the fix for CVE-2025-38466
 * (Linux 6.16, and 6.15.7, 6.12.39, 6.6.99, 6.1.146, 5.15.189, 5.10.240): CAP_BPF and
 * CAP_PERFMON no longer place a uprobe there, and the refusal is EACCES.
 */
const char *uprobe_err_hint(int err)
{
	if (err != -EACCES && err != -EPERM)
		return "";
	return " (uprobes need CAP_SYS_ADMIN on Linux 6.16 and on stable kernels since July "
	       "2025: run leakscope as root or give it CAP_SYS_ADMIN and CAP_SYS_PTRACE)";
}

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
			fatal_set(f, uprobe_err_status(err), "cannot attach a uprobe to %s in %s: %s%s",
				  what, path, strerror(-err), uprobe_err_hint(err));
		else
			log_warn("cannot attach a uprobe to %s in %s: %s%s", what, path,
				 strerror(-err), uprobe_err_hint(err));
		return NULL;
	}
	log_debug("%s probed at 0x%llx (file offset 0x%llx) in %s", what,
		  (unsigned long long)vaddr, (unsigned long long)off, path);
	return l;
}

void uprobe_session_prepare(struct bpf_program *prog)
{
	bpf_program__set_expected_attach_type(prog,
					      (enum bpf_attach_type)UPROBE_SESSION_ATTACH_TYPE);
}

/*
 * Debian 12's libbpf (1.1) and uapi headers predate uprobe_multi links (Linux 6.6)
 * and sessions (6.13): BPF_LINK_CREATE is made here, with the kernel's layout of
 * bpf_attr.link_create for uprobe_multi (include/uapi/linux/bpf.h).
 */
struct link_create_uprobe_multi {
	uint32_t prog_fd, target_fd, attach_type, flags;
	uint64_t path, offsets, ref_ctr_offsets, cookies;
	uint32_t cnt, multi_flags, pid, pad;
};

int uprobe_session_attach(pid_t pid, const struct bpf_program *prog, const char *path,
			  uint64_t off, uint64_t cookie)
{
	union {
		struct link_create_uprobe_multi lc;
		char bytes[sizeof(union bpf_attr)];
	} attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.lc.prog_fd = bpf_program__fd(prog);
	attr.lc.attach_type = UPROBE_SESSION_ATTACH_TYPE;
	attr.lc.path = (uintptr_t)path;
	attr.lc.offsets = (uintptr_t)&off;
	attr.lc.cookies = (uintptr_t)&cookie;
	attr.lc.cnt = 1;
	attr.lc.pid = pid;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr.lc));
	return fd < 0 ? -errno : fd;
}
