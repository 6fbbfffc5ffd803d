/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The nftables backend: programs the store's Services into one table of ours per family
 * (`ip podnet-proxy`, `ip6 podnet-proxy`) with netlink batches (libnftnl + libmnl).
 *
 * Layout (research/proxy.md §1.3, reshaped so the rule count is constant): every Service
 * address, NodePort and endpoint is a map element; the chains are shared.  A packet goes
 *   services: ip daddr . meta l4proto . th dport vmap @service-ips  (NodePorts: @service-nodeports)
 *     -> a path chain (clusterip, external, external-local, nodeport, nodeport-local) that
 *        marks for masquerade as kube-proxy does and looks the destination up in @cluster-lb or
 *        @local-lb, whose value is `goto dnat-cluster-N` (N = the number of endpoints)
 *     -> dnat-cluster-N: dnat ip to ip daddr . meta l4proto . th dport . numgen random mod N
 *        map @cluster-backends
 * so one endpoint change is a few element updates, whatever the number of Services.  Only
 * Services with sessionAffinity or loadBalancerSourceRanges get chains of their own.
 *
 * A full build (start, or after a failed transaction) goes, in chunks, into a fresh table
 * without hooks, then one transaction hooks it and deletes the old one: traffic never sees
 * a partial state.  The two table names alternate (`podnet-proxy`, `podnet-proxy-b`).
 */
#ifndef PROXY_BACKEND_H
#define PROXY_BACKEND_H

#include "ip.h"
#include "store.h"

#define PX_TABLE_A "podnet-proxy"
#define PX_TABLE_B "podnet-proxy-b"

struct px_nft_config {
	const char *node;                  /* this node's name (local endpoints) */
	struct pn_prefix cluster_cidr[4];  /* pod CIDRs: traffic from elsewhere to a ClusterIP is masqueraded */
	size_t ncluster_cidr;
	bool masquerade_all;
	struct pn_prefix nodeport_cidr[8]; /* NodePorts on local addresses in these; none: every local address */
	size_t nnodeport_cidr;
	struct pn_ip nodeport_ips[32];     /* the local addresses in nodeport_cidr */
	size_t nnodeport_ips;
	bool ipv4, ipv6;                   /* families to program */
};

/* What a sync changed, for the conntrack cleanup and the metrics. */
struct px_udp_change {
	int family;
	bool any_dst;                      /* a NodePort */
	struct pn_ip dst;
	uint16_t port;
	struct pn_ip *keep;                /* serving endpoints now */
	size_t nkeep;
};

struct px_sync_stats {
	bool full;
	size_t services, endpoints, elements;   /* programmed after the sync */
	size_t ops;                             /* element operations sent (incremental syncs) */
	struct px_udp_change *udp;              /* UDP Service ports whose endpoints changed */
	size_t nudp;
};
void px_sync_stats_free(struct px_sync_stats *s);

struct px_nft;
int px_nft_open(const struct px_nft_config *c, struct px_nft **out, struct pn_err *e);
/* Programs the dirty Services (everything at the first call, or when full is set). */
int px_nft_sync(struct px_nft *b, struct px_store *st, bool full, struct px_sync_stats *stats, struct pn_err *e);
/*
 * Whether our tables are still there and hooked in (someone may run `nft flush ruleset`):
 * false means the next sync must be a full one.  Two lookups per family, not a dump.
 */
bool px_nft_intact(struct px_nft *b);
void px_nft_close(struct px_nft *b, struct px_store *st);
/* Removes every table of ours (both names, both families). */
int px_nft_cleanup(struct pn_err *e);

#endif
