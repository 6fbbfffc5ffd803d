/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IPv4 and IPv6 addresses and prefixes: parse and print exactly as the Go reference
 * plugins do (net.ParseIP / net.IP.String / net.ParseCIDR), plus the arithmetic an
 * allocator needs.  An address is a big-endian number of 4 or 16 bytes; an IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) is an IPv4 address, as in Go.
 */
#ifndef PODNET_IP_H
#define PODNET_IP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define PN_IP_STRLEN 46          /* INET6_ADDRSTRLEN */
#define PN_PREFIX_STRLEN (PN_IP_STRLEN + 4)

struct pn_ip {
	uint8_t family;          /* AF_INET or AF_INET6; 0 = unset */
	uint8_t a[16];           /* IPv4 in a[0..3] */
};

struct pn_prefix {
	struct pn_ip ip;         /* host bits are kept, like Go's types.IPNet */
	uint8_t len;
};

static inline int pn_ip_bytes(const struct pn_ip *ip) { return ip->family == AF_INET ? 4 : 16; }
static inline int pn_ip_bits(const struct pn_ip *ip) { return pn_ip_bytes(ip) * 8; }

int pn_ip_parse(const char *s, struct pn_ip *ip);                 /* 0 or -EINVAL */
const char *pn_ip_format(const struct pn_ip *ip, char buf[PN_IP_STRLEN]);
int pn_prefix_parse(const char *s, struct pn_prefix *p);         /* "ip/len"; 0 or -EINVAL */
const char *pn_prefix_format(const struct pn_prefix *p, char buf[PN_PREFIX_STRLEN]);

/* <0, 0, >0; addresses of different families order by family. */
int pn_ip_cmp(const struct pn_ip *a, const struct pn_ip *b);
static inline bool pn_ip_eq(const struct pn_ip *a, const struct pn_ip *b) { return pn_ip_cmp(a, b) == 0; }
/* Adds delta (may be negative), wrapping within the family's address space. */
struct pn_ip pn_ip_add(const struct pn_ip *ip, int64_t delta);
/* The prefix's network address, and its last address (all host bits set). */
struct pn_ip pn_prefix_network(const struct pn_prefix *p);
struct pn_ip pn_prefix_last(const struct pn_prefix *p);
bool pn_prefix_contains(const struct pn_prefix *p, const struct pn_ip *ip);
bool pn_prefix_has_host_bits(const struct pn_prefix *p);
/* Number of addresses in [a, b], saturated at UINT64_MAX; 0 when b < a or families differ. */
uint64_t pn_ip_span(const struct pn_ip *a, const struct pn_ip *b);

#endif
