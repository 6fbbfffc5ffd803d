/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "range.h"

bool hl_range_contains(const struct hl_range *r, const struct pn_ip *ip)
{
	if (ip->family != r->subnet.ip.family || !pn_prefix_contains(&r->subnet, ip))
		return false;
	/* unset bounds are ignored, so this also validates start and end while canonicalising */
	if (r->has_start && pn_ip_cmp(ip, &r->start) < 0)
		return false;
	if (r->has_end && pn_ip_cmp(ip, &r->end) > 0)
		return false;
	return true;
}

int hl_range_canonicalize(struct hl_range *r, struct pn_err *e)
{
	char a[PN_IP_STRLEN], p[PN_PREFIX_STRLEN];
	int bits = pn_ip_bits(&r->subnet.ip);

	if (r->subnet.len > bits - 2)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "Network %s too small to allocate from",
				  pn_prefix_format(&r->subnet, p));
	if (pn_prefix_has_host_bits(&r->subnet)) {
		struct pn_ip net = pn_prefix_network(&r->subnet);

		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL,
				  "Network has host bits set. For a subnet mask of length %u the network address is %s",
				  r->subnet.len, pn_ip_format(&net, a));
	}
	/* an absent gateway is network+1; a given one is not checked (reference behaviour) */
	if (!r->has_gw) {
		r->gw = pn_ip_add(&r->subnet.ip, 1);
		r->has_gw = true;
	}
	if (r->has_start) {
		if (!hl_range_contains(r, &r->start))
			return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "RangeStart %s not in network %s",
					  pn_ip_format(&r->start, a), pn_prefix_format(&r->subnet, p));
	} else {
		/* network+1, which the iterator skips when it is the gateway */
		r->start = pn_ip_add(&r->subnet.ip, 1);
		r->has_start = true;
	}
	if (r->has_end) {
		if (!hl_range_contains(r, &r->end))
			return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "RangeEnd %s not in network %s",
					  pn_ip_format(&r->end, a), pn_prefix_format(&r->subnet, p));
	} else {
		r->end = pn_prefix_last(&r->subnet);
		if (r->end.family == AF_INET)
			r->end = pn_ip_add(&r->end, -1);   /* not the broadcast address */
		r->has_end = true;
	}
	return 0;
}

bool hl_range_overlaps(const struct hl_range *a, const struct hl_range *b)
{
	if (a->start.family != b->start.family)
		return false;
	return hl_range_contains(a, &b->start) || hl_range_contains(a, &b->end) ||
	       hl_range_contains(b, &a->start) || hl_range_contains(b, &a->end);
}

const char *hl_range_format(const struct hl_range *r, char *buf, size_t len)
{
	char a[PN_IP_STRLEN], b[PN_IP_STRLEN];

	snprintf(buf, len, "%s-%s", pn_ip_format(&r->start, a), pn_ip_format(&r->end, b));
	return buf;
}

int hl_rangeset_canonicalize(struct hl_rangeset *s, struct pn_err *e)
{
	char a[128], b[128];

	if (!s->n)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "empty range set");
	for (size_t i = 0; i < s->n; i++) {
		int r = hl_range_canonicalize(&s->r[i], e);

		if (r < 0)
			return r;
		if (s->r[i].start.family != s->r[0].start.family)
			return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "mixed address families");
	}
	for (size_t i = 0; i + 1 < s->n; i++)
		for (size_t j = i + 1; j < s->n; j++)
			if (hl_range_overlaps(&s->r[i], &s->r[j]))
				return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "subnets %s and %s overlap",
						  hl_range_format(&s->r[i], a, sizeof(a)),
						  hl_range_format(&s->r[j], b, sizeof(b)));
	return 0;
}

const struct hl_range *hl_rangeset_find(const struct hl_rangeset *s, const struct pn_ip *ip)
{
	for (size_t i = 0; i < s->n; i++)
		if (hl_range_contains(&s->r[i], ip))
			return &s->r[i];
	return NULL;
}

bool hl_rangeset_overlaps(const struct hl_rangeset *a, const struct hl_rangeset *b)
{
	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < b->n; j++)
			if (hl_range_overlaps(&a->r[i], &b->r[j]))
				return true;
	return false;
}

const char *hl_rangeset_format(const struct hl_rangeset *s, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->n && n < len; i++) {
		char r[128];

		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "", hl_range_format(&s->r[i], r, sizeof(r)));
	}
	return buf;
}
