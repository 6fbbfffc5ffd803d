/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ip.h"

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int pn_ip_parse(const char *s, struct pn_ip *ip)
{
	uint8_t buf[16];

	memset(ip, 0, sizeof(*ip));
	/* glibc's inet_pton is as strict as Go: four decimal parts, no leading zeros */
	if (inet_pton(AF_INET, s, buf) == 1) {
		ip->family = AF_INET;
		memcpy(ip->a, buf, 4);
		return 0;
	}
	/* zones ("fe80::1%eth0") are not IPs to Go either; inet_pton rejects them */
	if (inet_pton(AF_INET6, s, buf) == 1) {
		if (!memcmp(buf, v4_mapped_prefix, 12)) {
			ip->family = AF_INET;
			memcpy(ip->a, buf + 12, 4);
		} else {
			ip->family = AF_INET6;
			memcpy(ip->a, buf, 16);
		}
		return 0;
	}
	return -EINVAL;
}

/* RFC 5952 as Go prints it: longest run (first on a tie) of two or more zero groups is "::". */
static void format_v6(const uint8_t *a, char *out)
{
	int best = -1, best_len = 0, i, n = 0;

	for (i = 0; i < 8;) {
		int j = i;

		while (j < 8 && !a[2 * j] && !a[2 * j + 1])
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	if (best_len < 2)
		best = -1;
	for (i = 0; i < 8; i++) {
		if (i == best) {
			n += sprintf(out + n, "::");
			i += best_len - 1;
			continue;
		}
		if (i > 0 && i != best + best_len)
			out[n++] = ':';
		n += sprintf(out + n, "%x", (unsigned)(a[2 * i] << 8 | a[2 * i + 1]));
	}
	out[n] = '\0';
}

const char *pn_ip_format(const struct pn_ip *ip, char buf[PN_IP_STRLEN])
{
	if (ip->family == AF_INET)
		snprintf(buf, PN_IP_STRLEN, "%u.%u.%u.%u", ip->a[0], ip->a[1], ip->a[2], ip->a[3]);
	else if (ip->family == AF_INET6)
		format_v6(ip->a, buf);
	else
		snprintf(buf, PN_IP_STRLEN, "<nil>");
	return buf;
}

int pn_prefix_parse(const char *s, struct pn_prefix *p)
{
	char addr[PN_IP_STRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen;
	char *end;
	long len;
	int max;

	memset(p, 0, sizeof(*p));
	if (!slash || (alen = (size_t)(slash - s)) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (pn_ip_parse(addr, &p->ip) < 0)
		return -EINVAL;
	/* a mapped IPv4 written in IPv6 syntax takes an IPv6 prefix length, as in Go */
	max = strchr(addr, ':') ? 128 : 32;
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno || *end || len < 0 || len > max)
		return -EINVAL;
	if (max == 128 && p->ip.family == AF_INET) {
		if (len < 96)
			return -EINVAL;
		len -= 96;
	}
	p->len = (uint8_t)len;
	return 0;
}

const char *pn_prefix_format(const struct pn_prefix *p, char buf[PN_PREFIX_STRLEN])
{
	char ip[PN_IP_STRLEN];

	snprintf(buf, PN_PREFIX_STRLEN, "%s/%u", pn_ip_format(&p->ip, ip), p->len);
	return buf;
}

int pn_ip_cmp(const struct pn_ip *a, const struct pn_ip *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->a, b->a, (size_t)pn_ip_bytes(a));
}

struct pn_ip pn_ip_add(const struct pn_ip *ip, int64_t delta)
{
	struct pn_ip r = *ip;
	int n = pn_ip_bytes(ip), i;
	/* two's complement addition of a sign-extended 64-bit delta over n bytes */
	uint8_t ext = delta < 0 ? 0xff : 0;
	unsigned carry = 0;

	for (i = n - 1; i >= 0; i--) {
		int shift = (n - 1 - i) * 8;
		uint8_t d = shift < 64 ? (uint8_t)((uint64_t)delta >> shift) : ext;
		unsigned sum = (unsigned)r.a[i] + d + carry;

		r.a[i] = (uint8_t)sum;
		carry = sum >> 8;
	}
	return r;
}

static struct pn_ip apply_mask(const struct pn_prefix *p, bool set_host)
{
	struct pn_ip r = p->ip;
	int i, n = pn_ip_bytes(&r);

	for (i = 0; i < n; i++) {
		int bits = (int)p->len - i * 8;
		uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));

		r.a[i] = set_host ? (r.a[i] | (uint8_t)~mask) : (r.a[i] & mask);
	}
	return r;
}

struct pn_ip pn_prefix_network(const struct pn_prefix *p) { return apply_mask(p, false); }
struct pn_ip pn_prefix_last(const struct pn_prefix *p) { return apply_mask(p, true); }

bool pn_prefix_contains(const struct pn_prefix *p, const struct pn_ip *ip)
{
	struct pn_prefix q = { .ip = *ip, .len = p->len };
	struct pn_ip a, b;

	if (ip->family != p->ip.family)
		return false;
	a = pn_prefix_network(p);
	b = pn_prefix_network(&q);
	return pn_ip_eq(&a, &b);
}

bool pn_prefix_has_host_bits(const struct pn_prefix *p)
{
	struct pn_ip net = pn_prefix_network(p);

	return !pn_ip_eq(&net, &p->ip);
}

uint64_t pn_ip_span(const struct pn_ip *a, const struct pn_ip *b)
{
	int n = pn_ip_bytes(a), i, borrow = 0;
	uint8_t d[16];

	if (a->family != b->family || pn_ip_cmp(b, a) < 0)
		return 0;
	for (i = n - 1; i >= 0; i--) {
		int v = (int)b->a[i] - (int)a->a[i] - borrow;

		borrow = v < 0;
		d[i] = (uint8_t)(v + (borrow ? 256 : 0));
	}
	for (i = 0; i < n - 8; i++)
		if (d[i])
			return UINT64_MAX;
	{
		uint64_t v = 0;

		for (i = n - 8 < 0 ? 0 : n - 8; i < n; i++)
			v = v << 8 | d[i];
		return v == UINT64_MAX ? v : v + 1;
	}
}
