/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HL_DNS_H
#define HL_DNS_H

#include <jansson.h>

#include "err.h"

/* Parses a resolv.conf into a result "dns" object {nameservers, domain, search, options}. */
int hl_dns_parse(const char *path, json_t **dns, struct pn_err *e);

#endif
