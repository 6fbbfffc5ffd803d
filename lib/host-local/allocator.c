/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "allocator.h"

void hl_iter_init(struct hl_iter *it, const struct hl_rangeset *set, const struct pn_ip *last)
{
	*it = (struct hl_iter){ .set = set };
	for (size_t i = 0; last && i < set->n; i++) {
		if (hl_range_contains(&set->r[i], last)) {
			/* the first next() returns last + 1 */
			it->range = i;
			it->cur = *last;
			it->have_cur = true;
			return;
		}
	}
}

bool hl_iter_next(struct hl_iter *it, struct hl_lease *out)
{
	const struct hl_range *r = &it->set->r[it->range];

	for (;;) {
		if (!it->have_cur) {
			it->cur = it->start = r->start;
			it->have_cur = it->have_start = true;
		} else {
			if (pn_ip_eq(&it->cur, &r->end)) {
				it->range = (it->range + 1) % it->set->n;
				r = &it->set->r[it->range];
				it->cur = r->start;
			} else {
				it->cur = pn_ip_add(&it->cur, 1);
			}
			if (!it->have_start) {
				it->start = it->cur;
				it->have_start = true;
			} else if (pn_ip_eq(&it->cur, &it->start)) {
				return false;   /* back where we started */
			}
		}
		if (!pn_ip_eq(&it->cur, &r->gw))
			break;
	}
	out->addr.ip = it->cur;
	out->addr.len = r->subnet.len;
	out->gw = r->gw;
	return true;
}

static int allocate_requested(struct hl_store *s, const struct hl_rangeset *set, size_t idx, const char *id,
			      const char *ifname, const struct pn_ip *ip, struct hl_lease *out, struct pn_err *e)
{
	const struct hl_range *r = hl_rangeset_find(set, ip);
	char a[PN_IP_STRLEN], rs[1024];
	int ret;

	if (!r)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "%s not in range set %s", pn_ip_format(ip, a),
				  hl_rangeset_format(set, rs, sizeof(rs)));
	if (pn_ip_eq(ip, &r->gw))
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "requested ip %s is subnet's gateway", pn_ip_format(ip, a));
	ret = hl_store_reserve(s, id, ifname, ip, idx, e);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EADDRINUSE,
				  "requested IP address %s is not available in range set %s", pn_ip_format(ip, a),
				  hl_rangeset_format(set, rs, sizeof(rs)));
	out->addr.ip = *ip;
	out->addr.len = r->subnet.len;
	out->gw = r->gw;
	return 0;
}

int hl_allocate(struct hl_store *s, const struct hl_rangeset *set, size_t idx, const char *id,
		const char *ifname, const struct pn_ip *requested, struct hl_lease *out, struct pn_err *e)
{
	struct pn_ip owned[HL_MAX_OWNED], last;
	char a[PN_IP_STRLEN], rs[1024];
	struct hl_iter it;
	size_t n = 0;
	int r;

	if (requested)
		return allocate_requested(s, set, idx, id, ifname, requested, out, e);
	/* one address per (container, ifname) and range set: a second ADD is a runtime bug */
	if ((r = hl_store_get_by_id(s, id, ifname, owned, &n, e)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (hl_rangeset_find(set, &owned[i]))
			return pn_err_set(e, CNI_ERR_INTERNAL, -EEXIST,
					  "%s has been allocated to %s, duplicate allocation is not allowed",
					  pn_ip_format(&owned[i], a), id);
	hl_iter_init(&it, set, hl_store_last_reserved(s, idx, &last) == 0 ? &last : NULL);
	while (hl_iter_next(&it, out)) {
		r = hl_store_reserve(s, id, ifname, &out->addr.ip, idx, e);
		if (r < 0)
			return r;
		if (r == 1)
			return 0;
	}
	return pn_err_set(e, CNI_ERR_INTERNAL, -ENOSPC, "no IP addresses available in range set: %s",
			  hl_rangeset_format(set, rs, sizeof(rs)));
}
