/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The join of a Service port with its EndpointSlices, categorised as kube-proxy's
 * CategorizeEndpoints does (research/proxy.md §1.6):
 *   cluster endpoints: ready ones; none ready -> serving and terminating ones; with topology
 *                      hints (PreferSameNode, PreferSameZone) only those for this node / zone;
 *   local endpoints:   the same, among those on this node.
 * An endpoint (address:port) that several slices list is kept once, local first.
 */
#ifndef PROXY_MODEL_H
#define PROXY_MODEL_H

#include "objects.h"

struct px_backend {
	struct pn_ip addr;
	uint16_t port;
	bool local;
};

struct px_backends {
	struct px_backend *cluster, *local;      /* owned */
	size_t ncluster, nlocal;
	bool cluster_fallback, local_fallback;   /* serving+terminating endpoints stand in */
};

/*
 * The backends of port `port` of `svc` in one address family, from the slices of that
 * Service (slices of other Services are skipped).  node: this node's name.
 */
int px_backends_for(const struct px_service *svc, const struct px_svc_port *port, int family,
		    const struct px_slice *slices, size_t nslices, const char *node,
		    struct px_backends *out, struct pn_err *e);
/*
 * The same from an array of slice pointers (the store's index of a Service's slices), with
 * topology hints (research/proxy.md §1.6): zone is this node's zone, or NULL.
 */
int px_backends_of(const struct px_service *svc, const struct px_svc_port *port, int family,
		   const struct px_slice *const *slices, size_t nslices, const char *node, const char *zone,
		   struct px_backends *out, struct pn_err *e);
void px_backends_free(struct px_backends *b);

#endif
