/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ranges and range sets, canonicalised and validated with the reference's rules and
 * messages (research/cni.md §3.2): a range set is a pool of disjoint ranges of one
 * family, and one address is allocated from every range set.
 */
#ifndef HL_RANGE_H
#define HL_RANGE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "ip.h"

struct hl_range {
	struct pn_prefix subnet;
	struct pn_ip start, end, gw;
	bool has_start, has_end, has_gw;   /* as configured, before defaults */
};

struct hl_rangeset {
	struct hl_range *r;
	size_t n;
};

/* Fills defaults and validates one range. */
int hl_range_canonicalize(struct hl_range *r, struct pn_err *e);
/* Same family, inside the subnet, and within start..end where those are set. */
bool hl_range_contains(const struct hl_range *r, const struct pn_ip *ip);
bool hl_range_overlaps(const struct hl_range *a, const struct hl_range *b);
/* "start-end" */
const char *hl_range_format(const struct hl_range *r, char *buf, size_t len);

int hl_rangeset_canonicalize(struct hl_rangeset *s, struct pn_err *e);
/* The range of s holding ip, or NULL. */
const struct hl_range *hl_rangeset_find(const struct hl_rangeset *s, const struct pn_ip *ip);
bool hl_rangeset_overlaps(const struct hl_rangeset *a, const struct hl_rangeset *b);
/* "start-end,start-end" */
const char *hl_rangeset_format(const struct hl_rangeset *s, char *buf, size_t len);
static inline int hl_rangeset_family(const struct hl_rangeset *s) { return s->r[0].start.family; }

#endif
