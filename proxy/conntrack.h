/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stale UDP conntrack entries (research/proxy.md §1.13, §7.1 item 8).
 *
 * A UDP "connection" has no end the kernel can see: once a client's first datagram to a
 * Service was DNAT'd to an endpoint, every later datagram of that 5-tuple follows the
 * conntrack entry to the same endpoint, however the rules change, until the entry has been
 * idle for its timeout.  A statsd-like sender never is idle, so it stays stuck on a deleted
 * pod for hours.  After each sync the proxy therefore deletes the UDP entries whose original
 * destination is a Service address:port (or a NodePort) and whose reply source is not one of
 * the serving endpoints: including Services left with no endpoint at all (kubernetes #139628).
 *
 * ctnetlink through libmnl, in the netns of the calling thread: one dump per address family
 * and call (the kernel filters it to UDP where it can), then one IPCTNL_MSG_CT_DELETE per
 * stale entry, sent in batches, by original tuple, zone and conntrack id (so an entry that
 * was replaced in between is not touched).
 */
#ifndef PROXY_CONNTRACK_H
#define PROXY_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ip.h"

struct px_ct_target {
	int family;                 /* AF_INET or AF_INET6 */
	bool any_dst;               /* NodePort: match any original destination address */
	struct pn_ip dst;           /* the Service IP (ClusterIP, externalIP, LB IP) unless any_dst */
	uint16_t port;              /* original destination port (service port or NodePort), host order */
	const struct pn_ip *keep;   /* serving endpoint IPs: entries whose reply source is one of these stay */
	size_t nkeep;               /* 0: every matching entry goes (a Service that dropped to zero endpoints) */
};

/*
 * Deletes the UDP entries of the calling thread's netns whose original destination matches
 * a target and whose reply source is not one of that target's keep addresses.  *deleted (may
 * be NULL) counts the entries this call deleted; entries that vanished on their own in the
 * meantime are not counted and are no error.
 *
 * Matching follows the DNAT rules, where Service IPs are looked up before NodePorts: a
 * target with a dst decides for the entries to that dst:port, and any_dst targets only
 * decide for entries to a port that no target with that dst names.  When several targets
 * decide, the entry goes if one of them does not keep it.
 *
 * Returns 0, -EINVAL for a malformed target, -EAGAIN when the kernel kept interrupting the
 * dump (what was seen was still cleaned: call again later), or another negative errno.
 * Deletion goes on past a failed delete; the first failure is returned.
 */
int px_ct_clean_udp(const struct px_ct_target *t, size_t n, unsigned *deleted, struct pn_err *e);

/* One conntrack entry as the dump shows it; addresses of the dump's family. */
struct px_ct_entry {
	uint8_t proto;              /* IPPROTO_* of the original tuple */
	struct pn_ip src, dst;      /* original direction: the client and what it sent to */
	uint16_t sport, dport;      /* host order; 0 for protocols without ports */
	struct pn_ip reply_src;     /* where replies come from: the endpoint after DNAT */
	uint16_t reply_sport;
	uint16_t zone;              /* 0 = the default zone */
	bool zone_orig;             /* the zone is of the original direction only (CTA_TUPLE_ZONE) */
	bool has_id;
	uint32_t id;                /* the kernel's conntrack id (network order, as sent back) */
};

/*
 * Calls cb for each entry of family (AF_INET or AF_INET6) and protocol proto (0: every
 * protocol) in the calling thread's netns; cb returns 0 to go on or a negative errno to
 * stop, which px_ct_list returns (with e untouched).  An entry may be seen twice, or not at
 * all, when the table changes during the dump (conntrack's hash table is walked live).
 */
int px_ct_list(int family, uint8_t proto, int (*cb)(const struct px_ct_entry *ce, void *data),
	       void *data, struct pn_err *e);

#endif
