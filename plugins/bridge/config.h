/* SPDX-License-Identifier: Apache-2.0 */
/* bridge's configuration: every key of the reference with its default (research/cni.md §2.1). */
#ifndef BR_CONFIG_H
#define BR_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cni.h"

#define BR_MAX_TRUNK 4094

struct br_conf {
	const char *name, *version;
	const char *bridge;            /* default "cni0" */
	bool is_gw, is_default_gw, force_address, ip_masq, hairpin, promisc;
	bool enable_dad, macspoofchk, disable_ctr_iface, port_isolation, preserve_default_vlan;
	const char *ipmasq_backend;    /* NULL (auto), "iptables" or "nftables" */
	unsigned mtu;
	uint16_t vlan;
	uint16_t trunk[BR_MAX_TRUNK];  /* sorted, unique */
	size_t ntrunk;
	bool trunk_set;                /* vlanTrunk present, even if [] */
	const char *ipam_type;         /* NULL or "": layer 2 only */
	json_t *dns;                   /* replaces IPAM's dns when set (borrowed) */
	uint8_t mac[6];
	bool has_mac;
};

int br_conf_load(struct br_conf *c, const struct cni_req *req, struct pn_err *e);
static inline bool br_l3(const struct br_conf *c) { return c->ipam_type && *c->ipam_type; }
static inline bool br_vlan_filtering(const struct br_conf *c) { return c->vlan || c->trunk_set; }

#endif
