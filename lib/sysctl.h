/* SPDX-License-Identifier: Apache-2.0 */
/* /proc/sys of the current network namespace (the one the process is in when it writes). */
#ifndef PODNET_SYSCTL_H
#define PODNET_SYSCTL_H

#include <stddef.h>

/* path relative to /proc/sys, e.g. "net/ipv4/ip_forward"; written without a newline */
int pn_sysctl_write(const char *path, const char *value);
/* Writes only when the value differs (the reference does this for forwarding). */
int pn_sysctl_ensure(const char *path, const char *value);

/*
 * The same below a directory opened once, e.g. "net/ipv6/conf".  Every walk down from
 * /proc/sys/net compares against the entries of every network namespace on the machine
 * (one per pod), ~0.1-0.3 ms each on a node with 250 pods; below a netns's own directory a
 * lookup is cheap.  Use the fd only while in the netns it was opened in.
 * pn_sysctl_dir_open returns the fd or -errno.
 */
int pn_sysctl_dir_open(const char *dir);
int pn_sysctl_write_at(int dirfd, const char *path, const char *value);
int pn_sysctl_ensure_at(int dirfd, const char *path, const char *value);

#endif
