/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index.h"

#define STAMP_NAME ".stamp"

int hl_index_open(struct hl_index *ix, const char *data_dir, const char *network)
{
	char path[PATH_MAX];

	ix->fd = -1;
	ix->stamp_dirty = false;
	snprintf(path, sizeof(path), "%s/.podnet-index", data_dir);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/.podnet-index/%s", data_dir, network);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	ix->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return ix->fd < 0 ? -errno : 0;
}

void hl_index_close(struct hl_index *ix)
{
	if (ix->fd >= 0)
		close(ix->fd);
	ix->fd = -1;
}

int hl_index_key(char *buf, size_t len, const char *id, const char *ifname)
{
	int n = snprintf(buf, len, "%s@%s", id, ifname ? ifname : "");

	if (n < 0 || (size_t)n >= len || n > HL_KEY_MAX)
		return -ENAMETOOLONG;
	/* a key is a file name: owners read from disk may hold anything */
	if (strchr(buf, '/') || buf[0] == '.' || !id[0])
		return -EINVAL;
	return 0;
}

int hl_index_get(struct hl_index *ix, const char *key, struct pn_ip *ips, size_t max, size_t *n)
{
	char target[PATH_MAX], *p, *next;
	ssize_t len;

	*n = 0;
	if (ix->fd < 0)
		return -EBADF;
	len = readlinkat(ix->fd, key, target, sizeof(target) - 1);
	if (len < 0)
		return errno == ENOENT ? 0 : -errno;
	target[len] = '\0';
	for (p = target; p && *p && *n < max; p = next) {
		next = strchr(p, ',');
		if (next)
			*next++ = '\0';
		if (pn_ip_parse(p, &ips[*n]) == 0)
			(*n)++;
	}
	return 0;
}

int hl_index_put(struct hl_index *ix, const char *key, const struct pn_ip *ips, size_t n)
{
	char target[PATH_MAX];
	size_t len = 0;

	if (ix->fd < 0)
		return -EBADF;
	if (unlinkat(ix->fd, key, 0) < 0 && errno != ENOENT)
		return -errno;
	if (!n)
		return 0;
	for (size_t i = 0; i < n && len + PN_IP_STRLEN + 1 < sizeof(target); i++) {
		char a[PN_IP_STRLEN];

		len += (size_t)snprintf(target + len, sizeof(target) - len, "%s%s", i ? "," : "",
					pn_ip_format(&ips[i], a));
	}
	return symlinkat(target, ix->fd, key) < 0 ? -errno : 0;
}

int hl_index_clear(struct hl_index *ix)
{
	int fd = openat(ix->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *d;
	DIR *dir;

	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	while ((d = readdir(dir)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			unlinkat(ix->fd, d->d_name, 0);
	closedir(dir);
	return 0;
}

bool hl_index_stamp_matches(struct hl_index *ix, const char *stamp)
{
	char target[PATH_MAX];
	ssize_t len;

	if (ix->fd < 0)
		return false;
	len = readlinkat(ix->fd, STAMP_NAME, target, sizeof(target) - 1);
	if (len < 0)
		return false;
	target[len] = '\0';
	return !strcmp(target, stamp);
}

/* Called before a change that the stamp does not cover yet: a crash leaves no stamp. */
void hl_index_invalidate(struct hl_index *ix)
{
	if (ix->fd >= 0 && !ix->stamp_dirty)
		unlinkat(ix->fd, STAMP_NAME, 0);
	ix->stamp_dirty = true;
}

void hl_index_stamp_write(struct hl_index *ix, const char *stamp)
{
	if (ix->fd < 0)
		return;
	unlinkat(ix->fd, STAMP_NAME, 0);
	if (symlinkat(stamp, ix->fd, STAMP_NAME) == 0)
		ix->stamp_dirty = false;
}
