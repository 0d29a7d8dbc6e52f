// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "target/proc.h"
#include "lib/util.h"

int proc_check(pid_t pid)
{
	char path[64];
	struct stat st;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	if (access(path, R_OK) < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	return 0;
}

int proc_maps_read(pid_t pid, struct proc_maps *m)
{
	char path[64], *line = NULL;
	size_t cap = 0, lcap = 0;
	FILE *fp;

	m->v = NULL;
	m->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fp = fopen(path, "re");
	if (!fp)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &lcap, fp) > 0) {
		struct proc_map e = {0};
		unsigned long long start, end, pgoff, ino;
		unsigned int maj, min;
		int pos = 0;

		if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, e.perms, &pgoff,
			   &maj, &min, &ino, &pos) < 7)
			continue;
		e.start = start;
		e.end = end;
		e.pgoff = pgoff;
		e.dev_major = maj;
		e.dev_minor = min;
		e.inode = ino;
		line[strcspn(line, "\n")] = 0;
		e.path = xstrdup(pos ? line + pos : "");
		if (m->n == cap) {
			cap = cap ? 2 * cap : 64;
			m->v = xrealloc(m->v, cap * sizeof(*m->v));
		}
		m->v[m->n++] = e;
	}
	free(line);
	fclose(fp);
	return 0;
}

void proc_maps_free(struct proc_maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

char *proc_map_open_path(pid_t pid, const struct proc_map *m)
{
	char *p = xasprintf("/proc/%d/map_files/%llx-%llx", pid, (unsigned long long)m->start,
			    (unsigned long long)m->end);

	if (access(p, R_OK) == 0)
		return p;
	free(p);
	return xasprintf("/proc/%d/root%s", pid, m->path);
}

void proc_exe_name(pid_t pid, char *buf, size_t len)
{
	char path[64], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0) {
		snprintf(buf, len, "?");
		return;
	}
	target[n] = 0;
	/* " (deleted)" after an upgrade in place is worth keeping: it explains odd symbols. */
	const char *base = strrchr(target, '/');
	snprintf(buf, len, "%s", base ? base + 1 : target);
}

void proc_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0) {
		buf[0] = 0;
		return;
	}
	buf[n] = 0;
	for (ssize_t i = 0; i < n - 1; i++)
		if (!buf[i])
			buf[i] = ' ';
}

int proc_exit_fd(pid_t pid)
{
	int fd = syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : fd;
}

int proc_self_pidns(uint64_t *dev, uint64_t *ino)
{
	struct stat st;

	if (stat("/proc/self/ns/pid", &st) < 0)
		return -errno;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}
