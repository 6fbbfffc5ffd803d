/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "link.h"
#include "sysctl.h"

#define IF_OPER_UP 6   /* RFC 2863; linux/if.h clashes with net/if.h */

int br_ensure_bridge(struct ctx *x, const struct br_conf *c, struct pn_link *br, struct pn_err *e)
{
	struct pn_link_change up = PN_LINK_CHANGE_NONE;
	struct pn_nl *host = &x->host;
	int r;

	r = pn_link_get(host, c->bridge, 0, br, e);
	if (r == -ENODEV) {
		r = pn_link_add_bridge(host, c->bridge, c->mtu, br_vlan_filtering(c), e);
		if (r == -EEXIST)
			r = 0;   /* a concurrent ADD made it */
		else if (r < 0 && br_vlan_filtering(c))
			return pn_err_prefix(e, r, "failed to create bridge \"%s\" with VLAN filtering "
					     "(vlan/vlanTrunk need the kernel's bridge VLAN filtering, CONFIG_BRIDGE_VLAN_FILTERING)",
					     c->bridge);
		if (r == 0)
			r = pn_link_get(host, c->bridge, 0, br, e);
	}
	if (r < 0)
		return pn_err_prefix(e, r, "failed to create bridge \"%s\"", c->bridge);
	if (strcmp(br->kind, "bridge"))
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "failed to create bridge \"%s\": \"%s\" already exists but is not a bridge",
				  c->bridge, c->bridge);
	if (br_vlan_filtering(c) && !br->vlan_filtering)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EOPNOTSUPP,
				  "bridge \"%s\" has no VLAN filtering: vlan/vlanTrunk need it (the kernel's CONFIG_BRIDGE_VLAN_FILTERING, "
				  "and a bridge created with it)", c->bridge);
	if (c->promisc && !(br->flags & IFF_PROMISC))
		up.promisc = 1;
	/* "we want to own the routes for this interface" (the reference, on every ADD) */
	if (br->accept_ra > 0) {
		char path[IFNAMSIZ + 32];

		snprintf(path, sizeof(path), "net/ipv6/conf/%s/accept_ra", c->bridge);
		pn_sysctl_write(path, "0");
	}
	if (!(br->flags & IFF_UP) || up.promisc == 1) {
		up.up = 1;
		if ((r = pn_link_set(host, br->index, &up, e)) < 0)
			return pn_err_prefix(e, r, "failed to create bridge \"%s\"", c->bridge);
	}
	return 0;
}

static int port_vlans(struct pn_nl *host, const struct br_conf *c, int index, struct pn_err *e)
{
	int r = 0;

	if (!c->vlan && !c->ntrunk)
		return 0;
	/* the bridge's default PVID 1 goes unless preserveDefaultVlan (reference default: false) */
	if (!c->preserve_default_vlan)
		pn_bridge_vlan(host, index, 1, 0, false, e);
	if (c->vlan)
		r = pn_bridge_vlan(host, index, c->vlan, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED, true, e);
	else
		r = pn_bridge_vlan(host, index, 1, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED, true, e);
	for (size_t i = 0; r == 0 && i < c->ntrunk; i++)
		r = pn_bridge_vlan(host, index, c->trunk[i], 0, true, e);
	return r < 0 ? pn_err_prefix(e, r, "failed to set up VLANs on the bridge port") : 0;
}

int br_setup_veth(struct ctx *x, const struct br_conf *c, const char *ifname, const struct pn_link *br,
		  struct pn_link *hostveth, struct pn_link *ctr, struct pn_err *e)
{
	struct pn_link_change ch = PN_LINK_CHANGE_NONE;
	struct pn_nl *host = &x->host, *pod = &x->pod;
	char peer[IFNAMSIZ];
	int r = -EEXIST;

	if (pn_link_get(pod, ifname, 0, ctr, e) == 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EEXIST, "container veth name (\"%s\") already exists", ifname);
	for (int tries = 0; tries < 10 && r == -EEXIST; tries++) {
		uint32_t rnd = 0;

		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (uint32_t)time(NULL) ^ (uint32_t)tries;
		snprintf(peer, sizeof(peer), "veth%08x", rnd);
		r = pn_link_add_veth(pod, ifname, c->mtu, c->has_mac ? c->mac : NULL, peer, c->mtu, x->host_ns, e);
	}
	if (r < 0)
		return pn_err_prefix(e, r, "failed to create veth pair");
	if ((r = pn_link_get(pod, ifname, 0, ctr, e)) < 0 || (r = pn_link_get(host, peer, 0, hostveth, e)) < 0)
		return pn_err_prefix(e, r, "failed to look up the new veth pair");
	/*
	 * The host end is a bridge port: what arrives on it is the bridge's.  An IPv6 address
	 * of its own would only bring DAD and MLD (flooded to every pod) and two more routes
	 * in the node's table, which the kernel walks whole at every link change: ~1 ms of
	 * each ADD with 250 pods.  So no link-local address (set before it can have carrier:
	 * the pod's end is still down), and no accept_ra=0 either, which the reference writes
	 * but which means nothing to an interface without addresses whose frames go to the
	 * bridge.  Unless the kernel has no IPv6 (no devconf reported), which refuses it.
	 */
	if (hostveth->accept_ra >= 0)
		ch.addr_gen_mode = IN6_ADDR_GEN_MODE_NONE;
	ch.master = br->index;
	ch.up = 1;
	if ((r = pn_link_set(host, hostveth->index, &ch, e)) < 0)
		return pn_err_prefix(e, r, "failed to connect %s to bridge %s", peer, c->bridge);
	/* written true or false on every ADD, as the reference does */
	if ((r = pn_brport_set(host, hostveth->index, c->hairpin, c->port_isolation, e)) < 0)
		return pn_err_prefix(e, r, "failed to set bridge port flags on %s", peer);
	return port_vlans(host, c, hostveth->index, e);
}

int br_ensure_vlan_gateway(struct pn_nl *host, const struct br_conf *c, const struct pn_link *br,
			   struct pn_link *gwlink, struct pn_err *e)
{
	struct pn_link_change ch = PN_LINK_CHANGE_NONE;
	struct pn_link peer;
	char name[32], peer_name[IFNAMSIZ];
	uint32_t rnd = 0;
	int r;

	if ((size_t)snprintf(name, sizeof(name), "%s.%u", c->bridge, c->vlan) >= IFNAMSIZ)
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENAMETOOLONG, "VLAN gateway name %s is too long", name);
	if ((r = pn_link_get(host, name, 0, gwlink, e)) == 0)
		return 0;
	if (r != -ENODEV)
		return r;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)time(NULL);
	snprintf(peer_name, sizeof(peer_name), "veth%08x", rnd);
	if ((r = pn_link_add_veth(host, name, c->mtu, NULL, peer_name, c->mtu, -1, e)) < 0 && r != -EEXIST)
		return pn_err_prefix(e, r, "failed to create %s", name);
	if ((r = pn_link_get(host, name, 0, gwlink, e)) < 0 || (r = pn_link_get(host, peer_name, 0, &peer, e)) < 0)
		return r;
	ch.master = br->index;
	ch.up = 1;
	if ((r = pn_link_set(host, peer.index, &ch, e)) < 0)
		return pn_err_prefix(e, r, "failed to attach %s to %s", peer_name, c->bridge);
	if (!c->preserve_default_vlan)
		pn_bridge_vlan(host, peer.index, 1, 0, false, e);
	if ((r = pn_bridge_vlan(host, peer.index, c->vlan, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED, true, e)) < 0)
		return pn_err_prefix(e, r, "failed to set VLAN %u on %s", c->vlan, peer_name);
	ch = (struct pn_link_change)PN_LINK_CHANGE_NONE;
	ch.up = 1;
	return pn_link_set(host, gwlink->index, &ch, e);
}

int br_ensure_addr(struct pn_nl *host, const struct pn_link *br, const struct pn_prefix *gw, bool force,
		   bool *added, struct pn_err *e)
{
	struct pn_addr addrs[64];
	char a[PN_PREFIX_STRLEN];
	size_t n = 0;
	int r;

	if ((r = pn_addr_list(host, br->index, gw->ip.family, addrs, 64, &n, e)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct pn_prefix net_a = addrs[i].p, net_b = *gw;
		bool conflict;

		if (addrs[i].p.ip.family != gw->ip.family)
			continue;
		if (pn_ip_eq(&addrs[i].p.ip, &gw->ip) && addrs[i].p.len == gw->len)
			return 0;
		if (gw->ip.family == AF_INET6 && addrs[i].scope != 0)
			continue;   /* link-local */
		/* IPv4: one gateway per bridge; IPv6: only an overlapping subnet conflicts */
		net_a.ip = pn_prefix_network(&addrs[i].p);
		net_b.ip = pn_prefix_network(gw);
		conflict = gw->ip.family == AF_INET || pn_prefix_contains(&net_a, &net_b.ip) ||
			   pn_prefix_contains(&net_b, &net_a.ip);
		if (!conflict)
			continue;
		if (!force)
			return pn_err_set(e, CNI_ERR_INTERNAL, -EEXIST, "\"%s\" already has an IP address different from %s",
					  br->name, pn_prefix_format(gw, a));
		if ((r = pn_addr_del(host, br->index, &addrs[i].p, e)) < 0)
			return r;
	}
	r = pn_addr_add(host, br->index, gw, e);
	if (r == -EEXIST)
		return 0;   /* a concurrent ADD put it there */
	if (r < 0)
		return pn_err_prefix(e, r, "could not add IP address %s to \"%s\"", pn_prefix_format(gw, a), br->name);
	*added = true;
	return 0;
}

int br_wait_oper_up(struct pn_nl *nl, int index, struct pn_err *e)
{
	struct pn_nl mon;
	uint8_t state = 0;
	int r;

	/* subscribed before the first look at the state: no change between them is missed */
	if ((r = pn_nl_open_monitor(&mon, RTMGRP_LINK, e)) < 0)
		return r;
	/* as long as the reference's retries (0, 50, 500, 1000, 1000 ms), without their sleeps */
	r = pn_link_wait_operstate(nl, &mon, index, IF_OPER_UP, 2550, &state, e);
	pn_nl_close(&mon);
	if (r == -ETIMEDOUT)
		return pn_err_set(e, CNI_ERR_INTERNAL, r, "bridge port in error state: operstate %u", state);
	return r;
}
