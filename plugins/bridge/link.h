/* SPDX-License-Identifier: Apache-2.0 */
/* The bridge, the veth pair, the bridge port and the gateway address (research/cni.md §2.2). */
#ifndef BR_LINK_H
#define BR_LINK_H

#include "config.h"
#include "ctx.h"
#include "nl.h"

/* Creates the bridge if missing (and brings it up); fills br. */
int br_ensure_bridge(struct ctx *x, const struct br_conf *c, struct pn_link *br, struct pn_err *e);
/*
 * Creates the pair from inside the pod (pod socket): ifname there, a random veth%08x
 * born in the host netns (host_ns_fd); brings the host end up and attaches it to br.
 */
int br_setup_veth(struct ctx *x, const struct br_conf *c, const char *ifname, const struct pn_link *br,
		  struct pn_link *hostveth, struct pn_link *ctr, struct pn_err *e);
/* Puts gw/len on the bridge unless it is there (*added set when this call put it there);
 * another address conflicts unless force. */
int br_ensure_addr(struct pn_nl *host, const struct pn_link *br, const struct pn_prefix *gw, bool force,
		   bool *added, struct pn_err *e);
/*
 * With vlan and isGateway the gateway lives on "<bridge>.<vlan>": a veth pair in the node
 * whose peer is a bridge port with the VLAN as PVID/untagged (the reference's layout).
 * Creates it if missing; fills gwlink.
 */
int br_ensure_vlan_gateway(struct pn_nl *host, const struct br_conf *c, const struct pn_link *br,
			   struct pn_link *gwlink, struct pn_err *e);
/* Waits (bounded, ~2.5 s) for a link of nl's netns, the caller's, to be operationally up. */
int br_wait_oper_up(struct pn_nl *nl, int index, struct pn_err *e);

#endif
