/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vxlan-overlay's configuration, a plugin object chained after bridge:
 *
 *   {"type": "vxlan-overlay", "vni": 1, "port": 8472, "device": "podnet.1",
 *    "underlayInterface": "eth0", "underlayAddress": "192.0.2.1",
 *    "podCIDR": "10.244.1.0/24", "clusterCIDR": "10.244.0.0/16",
 *    "peers": [{"nodeIP": "192.0.2.2", "podCIDR": "10.244.2.0/24", "mac": "0e:fe:c0:00:02:02"}],
 *    "peersFile": "/run/podnet/peers.json", "directRouting": false, "mtu": 0}
 *
 * Defaults are flannel's (VNI 1, port 8472); the underlay is the device holding the
 * default route; podCIDR defaults to the subnet of prevResult's first IPv4 address.
 */
#ifndef VX_CONFIG_H
#define VX_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "cni.h"
#include "ip.h"

#define VX_MAX_PEERS 1024

struct vx_peer {
	struct pn_ip node;           /* underlay address */
	struct pn_prefix pods;       /* its pod CIDR */
	uint8_t mac[6];              /* its VTEP MAC (derived from node when not given) */
};

struct vx_conf {
	uint32_t vni;
	uint16_t port;
	char device[16];
	const char *underlay_if;     /* NULL: the default route's */
	struct pn_ip underlay_addr;  /* family 0: that device's first address */
	struct pn_prefix pod_cidr;   /* family 0: from prevResult */
	struct pn_prefix cluster;    /* family 0: no masquerade by us */
	bool direct_routing;
	unsigned mtu;                /* 0: underlay MTU - 50 (IPv4) / - 70 (IPv6) */
	struct vx_peer *peers;       /* owned */
	size_t npeers;
};

/* conf: the plugin object (as on stdin); prev: canonical prevResult or NULL. */
int vx_conf_load(struct vx_conf *c, const json_t *conf, const json_t *prev, struct pn_err *e);
void vx_conf_free(struct vx_conf *c);
/* The VTEP MAC a node with this underlay address uses: 0e:fe:<last 4 address bytes>. */
void vx_mac_for(const struct pn_ip *node, uint8_t mac[6]);

#endif
