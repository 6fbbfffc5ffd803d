/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by lib/nl*.c only. */
#ifndef PODNET_NL_INTERNAL_H
#define PODNET_NL_INTERNAL_H

#include "nl.h"

#define BUF_SIZE 8192

/* An RTM_*LINK request for family/index (0: by name, added by the caller). */
struct nlmsghdr *pn_nl_link_req(char *buf, uint16_t type, uint16_t flags, int family, int index);
/* Parses an RTM_NEWLINK message into the struct pn_link at data. */
int pn_nl_link_cb(const struct nlmsghdr *nlh, void *data);

#endif
