/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "netns.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif
#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

int pn_netns_open(const char *path, int *fd, struct pn_err *e)
{
	struct statfs sfs;

	*fd = -1;
	if (statfs(path, &sfs) < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "failed to open netns \"%s\": %s", path, strerror(errno));
	/* a bind mount of a netns is on nsfs; a /proc/PID/ns/net link on procfs */
	if (sfs.f_type != (typeof(sfs.f_type))NSFS_MAGIC && sfs.f_type != (typeof(sfs.f_type))PROC_SUPER_MAGIC)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "failed to open netns \"%s\": unknown FS magic on \"%s\": %lx",
				  path, path, (unsigned long)sfs.f_type);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "failed to open netns \"%s\": %s", path, strerror(errno));
	return 0;
}

int pn_netns_enter(int fd, int *saved, struct pn_err *e)
{
	*saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "open /proc/self/ns/net: %s", strerror(errno));
	if (setns(fd, CLONE_NEWNET) < 0) {
		int err = errno;

		close(*saved);
		*saved = -1;
		return pn_err_set(e, CNI_ERR_INTERNAL, -err, "setns: %s", strerror(err));
	}
	return 0;
}

int pn_netns_leave(int *saved)
{
	int r = 0;

	if (*saved < 0)
		return 0;
	if (setns(*saved, CLONE_NEWNET) < 0)
		r = -errno;
	close(*saved);
	*saved = -1;
	return r;
}

int pn_netns_same(int a, int b)
{
	struct stat sa, sb;

	if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
		return -errno;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
