/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Services (core/v1) and EndpointSlices (discovery.k8s.io/v1) as the proxy needs them
 * (research/proxy.md §3.4, §3.5), read from the JSON of one object, a List, or any
 * document of a manifest.  Fields the proxy does not use are ignored, as kube-proxy does.
 */
#ifndef PROXY_OBJECTS_H
#define PROXY_OBJECTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "ip.h"

#define PX_NAME_MAX 254
#define PX_MAX_PORTS 32
#define PX_MAX_ADDRS 16

enum px_proto { PX_TCP, PX_UDP, PX_SCTP };
enum px_svc_type { PX_CLUSTER_IP, PX_NODE_PORT, PX_LOAD_BALANCER };

struct px_svc_port {
	char name[64];
	enum px_proto proto;
	uint16_t port, node_port;
};

struct px_service {
	char ns[64], name[PX_NAME_MAX];
	enum px_svc_type type;
	struct pn_ip cluster_ips[2];        /* none: headless */
	size_t ncluster;
	struct pn_ip external_ips[PX_MAX_ADDRS], lb_ips[PX_MAX_ADDRS];
	size_t nexternal, nlb;
	struct pn_prefix lb_ranges[PX_MAX_ADDRS];
	size_t nranges;
	bool affinity;                      /* sessionAffinity: ClientIP */
	uint32_t affinity_timeout;          /* seconds, default 10800 */
	bool etp_local, itp_local;
	uint16_t health_check_node_port;    /* LoadBalancer + eTP Local: kube-proxy's health server */
	struct px_svc_port ports[PX_MAX_PORTS];
	size_t nports;
};

struct px_endpoint {
	struct pn_ip addr;                  /* addresses[0], as kube-proxy uses */
	bool ready, serving, terminating;
	char node[PX_NAME_MAX];
	/* topology hints (hints.forZones / hints.forNodes), comma-separated; empty: none */
	char zone_hints[128], node_hints[PX_NAME_MAX];
};

/* A Node (core/v1): the proxy needs its zone (topology.kubernetes.io/zone) for hints. */
struct px_node {
	char name[PX_NAME_MAX];
	char zone[64];
};

/* A ServiceCIDR (networking.k8s.io): addresses in it that no Service holds are dropped. */
struct px_service_cidr {
	char name[PX_NAME_MAX];
	struct pn_prefix cidrs[2];
	size_t ncidrs;
};

struct px_slice {
	char ns[64], name[PX_NAME_MAX], service[PX_NAME_MAX];
	int family;                         /* AF_INET or AF_INET6 */
	struct { char name[64]; enum px_proto proto; uint16_t port; } ports[PX_MAX_PORTS];
	size_t nports;
	struct px_endpoint *eps;            /* owned */
	size_t neps;
};

struct px_objects_cb {
	void (*service)(struct px_service *s, void *ctx);   /* the callee may keep *s (a copy) */
	void (*slice)(struct px_slice *s, void *ctx);       /* the callee takes s->eps */
	void (*node)(struct px_node *n, void *ctx);
	void (*service_cidr)(struct px_service_cidr *c, void *ctx);
	void *ctx;
};

/*
 * Every Service and EndpointSlice of doc (an object or a List) goes to the callbacks;
 * other kinds are skipped, and so are objects that are not the proxy's (ExternalName
 * Services, FQDN slices, and objects labelled service.kubernetes.io/service-proxy-name or
 * service.kubernetes.io/headless, as kube-proxy's label selector excludes them).  An object
 * that does not validate fails the whole call: a file is applied whole or not at all.
 * The structs handed to the callbacks are zeroed before they are filled (padding and unused
 * array slots included), so equal content is equal bytes: source-dir.c relies on this.
 */
int px_objects_parse(const json_t *doc, const struct px_objects_cb *cb, struct pn_err *e);
void px_slice_free(struct px_slice *s);
const char *px_proto_name(enum px_proto p);

#endif
