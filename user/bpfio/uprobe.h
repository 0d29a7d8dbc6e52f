/* SPDX-License-Identifier: GPL-2.0 */
/* Uprobes at link-time addresses of the target's files. */
#ifndef LEAKSCOPE_BPFIO_UPROBE_H
#define LEAKSCOPE_BPFIO_UPROBE_H

#include <stdint.h>
#include <sys/types.h>

struct bpf_program;
struct bpf_link;
struct elf_file;
struct fatal;

/*
 * Attach prog as a uprobe at link-time address vaddr of the ELF file at path (as
 * the target sees it), filtered to process pid, with a BPF cookie. On failure,
 * NULL and either *f set (with the documented exit status) or, when f is NULL, a
 * warning naming `what`.
 */
struct bpf_link *uprobe_attach(pid_t pid, struct bpf_program *prog, const char *path,
			       const struct elf_file *elf, uint64_t vaddr, uint64_t cookie,
			       const char *what, struct fatal *f);

/*
 * A uprobe session (Linux 6.13+): prog runs at the entry at file offset off of
 * path and, when its entry run returned 0, again at that call's return. prog must
 * have been loaded with UPROBE_SESSION_ATTACH_TYPE as its expected attach type
 * (uprobe_session_prepare()). Returns the link's fd, or -errno.
 */
#define UPROBE_SESSION_ATTACH_TYPE 57 /* BPF_TRACE_UPROBE_SESSION in the kernel's uapi */
void uprobe_session_prepare(struct bpf_program *prog);
int uprobe_session_attach(pid_t pid, const struct bpf_program *prog, const char *path,
			  uint64_t off, uint64_t cookie);

/*
 * For a uprobe the kernel refused (-EACCES, -EPERM): the exit status (EXIT_PERMISSION)
 * and what to do, to append to the message (" (uprobes need CAP_SYS_ADMIN ...)"); for
 * any other error EXIT_KERNEL and "".
 */
int uprobe_err_status(int err);
const char *uprobe_err_hint(int err);

#endif
