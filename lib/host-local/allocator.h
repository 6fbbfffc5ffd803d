/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One address from one range set, in the reference's order (research/cni.md §3.3):
 * round-robin from just after last_reserved_ip.<set>, wrapping across the set's
 * ranges, skipping each range's gateway, the last reserved address tried last.
 */
#ifndef HL_ALLOCATOR_H
#define HL_ALLOCATOR_H

#include "range.h"
#include "store.h"

struct hl_lease {
	struct pn_prefix addr;    /* the address with its subnet's prefix length */
	struct pn_ip gw;
};

/* The address sequence, separate from the store so that it can be tested alone. */
struct hl_iter {
	const struct hl_rangeset *set;
	size_t range;
	struct pn_ip cur, start;
	bool have_cur, have_start;
};

/* Starts after `last` when the set contains it (last may be NULL). */
void hl_iter_init(struct hl_iter *it, const struct hl_rangeset *set, const struct pn_ip *last);
/* The next candidate; false when the set has been walked once. */
bool hl_iter_next(struct hl_iter *it, struct hl_lease *out);

/* Reserves `requested` (may be NULL: the next free address) in set number idx for the owner. */
int hl_allocate(struct hl_store *s, const struct hl_rangeset *set, size_t idx, const char *id,
		const char *ifname, const struct pn_ip *requested, struct hl_lease *out, struct pn_err *e);

#endif
