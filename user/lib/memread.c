// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/memread.h"
#include "lib/util.h"

static int mem_fd(pid_t pid)
{
	static pid_t cached_pid;
	static int fd = -1;
	char path[64];

	if (fd >= 0 && cached_pid == pid)
		return fd;
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cached_pid = pid;
	return fd;
}

int mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	ssize_t n;
	int fd;

	if (!len)
		return 0;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && errno != ENOSYS && errno != EPERM)
		return -errno;
	/* Kernels or seccomp profiles without process_vm_readv: /proc/PID/mem. */
	fd = mem_fd(pid);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, (off_t)addr);
	if (n == (ssize_t)len)
		return 0;
	return n < 0 ? -errno : -EFAULT;
}

size_t mem_readv(pid_t pid, struct mem_iov *v, size_t n)
{
	enum { BATCH = 512 };
	struct iovec local[BATCH], remote[BATCH];
	size_t ok = 0;

	for (size_t i = 0; i < n; i += BATCH) {
		size_t k = MIN((size_t)BATCH, n - i), done = 0;
		ssize_t got;

		for (size_t j = 0; j < k; j++) {
			local[j] = (struct iovec){v[i + j].buf, v[i + j].len};
			remote[j] = (struct iovec){(void *)(uintptr_t)v[i + j].addr, v[i + j].len};
			v[i + j].ok = false;
		}
		got = process_vm_readv(pid, local, k, remote, k, 0);
		/* A partial read stops at the first bad remote range: account whole entries. */
		if (got > 0) {
			for (size_t j = 0; j < k && got >= (ssize_t)v[i + j].len; j++) {
				got -= v[i + j].len;
				v[i + j].ok = true;
				done++;
				ok++;
			}
		}
		/* Retry the rest one by one (a dead goroutine's memory may be unmapped). */
		for (size_t j = done; j < k; j++) {
			if (mem_read(pid, v[i + j].addr, v[i + j].buf, v[i + j].len) == 0) {
				v[i + j].ok = true;
				ok++;
			}
		}
	}
	return ok;
}
