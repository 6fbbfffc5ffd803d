/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sysctl.h"

int pn_sysctl_write(const char *path, const char *value)
{
	char full[256];
	int fd, r = 0;
	size_t len = strlen(value);

	snprintf(full, sizeof(full), "/proc/sys/%s", path);
	fd = open(full, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, len) != (ssize_t)len)
		r = -errno ? -errno : -EIO;
	close(fd);
	return r;
}

int pn_sysctl_read(const char *path, char *buf, size_t len)
{
	char full[256];
	ssize_t n;
	int fd;

	snprintf(full, sizeof(full), "/proc/sys/%s", path);
	fd = open(full, O_RDONLY | O_CLOEXEC);
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

int pn_sysctl_ensure(const char *path, const char *value)
{
	char cur[64];

	if (pn_sysctl_read(path, cur, sizeof(cur)) == 0 && !strcmp(cur, value))
		return 0;
	return pn_sysctl_write(path, value);
}
