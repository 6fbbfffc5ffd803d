/* SPDX-License-Identifier: Apache-2.0 */
/* /proc/sys of the current network namespace (the one the process is in when it writes). */
#ifndef PODNET_SYSCTL_H
#define PODNET_SYSCTL_H

#include <stddef.h>

/* path relative to /proc/sys, e.g. "net/ipv4/ip_forward"; written without a newline */
int pn_sysctl_write(const char *path, const char *value);
int pn_sysctl_read(const char *path, char *buf, size_t len);
/* Writes only when the value differs (the reference does this for forwarding). */
int pn_sysctl_ensure(const char *path, const char *value);

#endif
