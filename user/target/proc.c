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

int proc_maps_parse(FILE *fp, struct proc_maps *m)
{
	char *line = NULL;
	size_t cap = 0, lcap = 0;

	m->v = NULL;
	m->n = 0;
	while (getline(&line, &lcap, fp) > 0) {
		struct proc_map e = {0};
		unsigned long long start, end, pgoff, ino;
		unsigned int maj, min;
		int pos = 0;

		if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, e.perms, &pgoff,
			   &maj, &min, &ino, &pos) < 7 ||
		    end < start)
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
	return 0;
}

int proc_maps_read(pid_t pid, struct proc_maps *m)
{
	char path[64];
	FILE *fp;
	int err;

	m->v = NULL;
	m->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fp = fopen(path, "re");
	if (!fp)
		return errno == ENOENT ? -ESRCH : -errno;
	err = proc_maps_parse(fp, m);
	fclose(fp);
	return err;
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

/* A small /proc/PID/NAME file into buf (NUL-terminated); its length, 0 when unreadable. */
static size_t read_small(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		buf[0] = 0;
		return 0;
	}
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n > 0 ? n : 0;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/*
 * The name the process runs as: the basename of its argv[0], as ps and top show it.
 * Not /proc/PID/exe's: that names the file a symlink led to (Debian's redis-server is
 * a link to redis-check-rdb), which is what probes are placed in (session.c opens
 * /proc/PID/exe), not what anyone calls the program. A program that wrote a title
 * over its arguments ("redis-server *:6379", "nginx: master process ...") is named
 * by the title's first word when the kernel's own name for it (comm, the file name
 * it was started by, 15 characters at most) agrees. No argv[0] (a kernel thread, a
 * zombie, a program that cleared it): comm, else the executable's name.
 */
void proc_exe_name(pid_t pid, char *buf, size_t len)
{
	char args[4096], comm[64], path[64], target[PATH_MAX];
	const char *name = NULL;
	char word[sizeof(args)];
	ssize_t n;

	read_small(pid, "cmdline", args, sizeof(args));
	read_small(pid, "comm", comm, sizeof(comm));
	comm[strcspn(comm, "\n")] = 0;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = 0;

	if (args[0] && strchr(args, ' ') && comm[0]) {
		size_t w = strcspn(args, " ");

		memcpy(word, args, w);
		word[w] = 0;
		if (w && word[w - 1] == ':')
			word[w - 1] = 0;
		if (!strncmp(base_name(word), comm, strlen(comm)))
			name = base_name(word);
	}
	if (!name && args[0] && *base_name(args))
		name = base_name(args);
	if (!name && comm[0])
		name = comm;
	if (!name && target[0])
		name = base_name(target);
	if (!name) {
		snprintf(buf, len, "?");
		return;
	}
	/* " (deleted)" after an upgrade in place is worth keeping: it explains odd symbols. */
	n = strlen(target);
	if (n > 10 && !strcmp(target + n - 10, " (deleted)") && !strstr(name, " (deleted)"))
		snprintf(buf, len, "%s (deleted)", name);
	else
		snprintf(buf, len, "%s", name);
}

void proc_cmdline(pid_t pid, char *buf, size_t len)
{
	size_t n = read_small(pid, "cmdline", buf, len);

	for (size_t i = 0; i + 1 < n; i++)
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
