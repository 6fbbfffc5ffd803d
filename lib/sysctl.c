/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sysctl.h"

int pn_sysctl_dir_open(const char *dir)
{
	char full[256];
	int fd;

	snprintf(full, sizeof(full), "/proc/sys/%s", dir);
	fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int pn_sysctl_write_at(int dirfd, const char *path, const char *value)
{
	size_t len = strlen(value);
	int fd, r = 0;

	fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, len) != (ssize_t)len)
		r = errno ? -errno : -EIO;
	close(fd);
	return r;
}

static int read_at(int dirfd, const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

int pn_sysctl_ensure_at(int dirfd, const char *path, const char *value)
{
	char cur[64];

	if (read_at(dirfd, path, cur, sizeof(cur)) == 0 && !strcmp(cur, value))
		return 0;
	return pn_sysctl_write_at(dirfd, path, value);
}

static int root_path(const char *path, char *full, size_t len)
{
	return (size_t)snprintf(full, len, "/proc/sys/%s", path) < len ? 0 : -ENAMETOOLONG;
}

int pn_sysctl_write(const char *path, const char *value)
{
	char full[256];

	return root_path(path, full, sizeof(full)) ?: pn_sysctl_write_at(AT_FDCWD, full, value);
}

int pn_sysctl_ensure(const char *path, const char *value)
{
	char full[256];

	return root_path(path, full, sizeof(full)) ?: pn_sysctl_ensure_at(AT_FDCWD, full, value);
}
