/* SPDX-License-Identifier: Apache-2.0 */
/* Entering a network namespace by path and coming back (the plugins are single-threaded). */
#ifndef PODNET_NETNS_H
#define PODNET_NETNS_H

#include "err.h"

/* Opens a netns path (/run/netns/x, /proc/PID/ns/net); -ENOENT when it is gone. */
int pn_netns_open(const char *path, int *fd, struct pn_err *e);
/* Switches into fd; *saved receives the current netns to come back to. */
int pn_netns_enter(int fd, int *saved, struct pn_err *e);
/* Returns to saved and closes it. */
int pn_netns_leave(int *saved);
/* Whether two netns fds name the same namespace. */
int pn_netns_same(int a, int b);

#endif
