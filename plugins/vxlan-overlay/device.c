/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "log.h"

#define MAX_ADDRS 256
#define MAX_ROUTES 4096

static int first_address(struct pn_nl *nl, int index, int family, struct pn_ip *out, struct pn_err *e)
{
	struct pn_addr addrs[MAX_ADDRS];
	size_t n = 0;
	int r = pn_addr_list(nl, index, family, addrs, MAX_ADDRS, &n, e);

	for (size_t i = 0; r == 0 && i < n; i++) {
		if (addrs[i].scope == RT_SCOPE_UNIVERSE) {
			*out = addrs[i].p.ip;
			return 0;
		}
	}
	return r < 0 ? r : -EADDRNOTAVAIL;
}

static int find_underlay(struct pn_nl *nl, const struct vx_conf *c, struct vx_node *node, struct pn_err *e)
{
	struct pn_link l;
	int r;

	if (c->underlay_addr.family) {
		struct pn_addr addrs[MAX_ADDRS];
		size_t n = 0;

		if ((r = pn_addr_list(nl, 0, c->underlay_addr.family, addrs, MAX_ADDRS, &n, e)) < 0)
			return r;
		node->underlay = 0;
		for (size_t i = 0; i < n && !node->underlay; i++)
			if (pn_ip_eq(&addrs[i].p.ip, &c->underlay_addr))
				node->underlay = addrs[i].index;
		if (!node->underlay) {
			char a[PN_IP_STRLEN];

			return pn_err_set(e, CNI_ERR_INTERNAL, -EADDRNOTAVAIL, "underlayAddress %s is not on this node",
					  pn_ip_format(&c->underlay_addr, a));
		}
		node->local = c->underlay_addr;
	}
	if (c->underlay_if) {
		if ((r = pn_link_get(nl, c->underlay_if, 0, &l, e)) < 0)
			return r == -ENODEV ? pn_err_set(e, CNI_ERR_INTERNAL, r, "underlayInterface %s not found", c->underlay_if) : r;
		node->underlay = l.index;
	} else if (node->underlay) {
		if ((r = pn_link_get(nl, NULL, node->underlay, &l, e)) < 0)
			return r;
	} else {
		struct pn_route routes[256];
		size_t n = 0;

		/* the device holding the default route, as flannel picks it */
		if ((r = pn_route_list(nl, node->local.family ? node->local.family : AF_INET, routes, 256, &n, e)) < 0)
			return r;
		node->underlay = 0;
		for (size_t i = 0; i < n && !node->underlay; i++)
			if (routes[i].dst.len == 0 && routes[i].oif)
				node->underlay = routes[i].oif;
		if (!node->underlay)
			return pn_err_set(e, CNI_ERR_INTERNAL, -ENETUNREACH,
					  "no underlay: no default route, and neither underlayInterface nor underlayAddress set");
		if ((r = pn_link_get(nl, NULL, node->underlay, &l, e)) < 0)
			return r;
	}
	node->underlay_mtu = l.mtu;
	if (!node->local.family && (r = first_address(nl, node->underlay, AF_INET, &node->local, e)) < 0 &&
	    (r = first_address(nl, node->underlay, AF_INET6, &node->local, e)) < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, r, "underlay device %s has no address", l.name);
	return 0;
}

static void desired(const struct vx_conf *c, const struct vx_node *node, struct pn_vxlan *v)
{
	memset(v, 0, sizeof(*v));
	v->vni = c->vni;
	v->port = c->port;
	v->local = node->local;
	v->dev = node->underlay;
	v->udp_csum = false;   /* flannel's default; set explicitly on the device */
	vx_mac_for(&node->local, v->mac);
	v->mtu = c->mtu ? c->mtu : node->underlay_mtu - (node->local.family == AF_INET ? 50 : 70);
}

int vx_ensure_device(struct pn_nl *nl, const struct vx_conf *c, struct vx_node *node, bool *created, struct pn_err *e)
{
	struct pn_link_change ch = PN_LINK_CHANGE_NONE;
	struct pn_vxlan want, have;
	int r;

	*created = false;
	memset(node, 0, sizeof(*node));
	if ((r = find_underlay(nl, c, node, e)) < 0)
		return r;
	desired(c, node, &want);
	r = pn_vxlan_get(nl, c->device, &node->dev, &have, e);
	if (r == 0 && (have.vni != want.vni || have.port != want.port || !pn_ip_eq(&have.local, &want.local) ||
		       have.dev != want.dev || have.learning || memcmp(have.mac, want.mac, 6))) {
		/* never silently reuse a device set up otherwise (a moved underlay address, another VNI) */
		pn_log("vxlan-overlay: %s has other settings (vni %u port %u): replacing it", c->device, have.vni, have.port);
		if ((r = pn_link_del(nl, node->dev.index, e)) < 0)
			return r;
		r = -ENODEV;
	} else if (r == -EMEDIUMTYPE) {
		return pn_err_set(e, CNI_ERR_INTERNAL, -EEXIST, "%s exists and is not a VXLAN device", c->device);
	}
	if (r == -ENODEV) {
		r = pn_link_add_vxlan(nl, c->device, &want, e);
		if (r == 0 || r == -EEXIST)
			*created = r == 0;
		else
			return pn_err_prefix(e, r, "failed to create %s", c->device);
		if ((r = pn_vxlan_get(nl, c->device, &node->dev, &have, e)) < 0)
			return r;
	} else if (r < 0) {
		return r;
	}
	if (node->dev.mtu != want.mtu)
		ch.mtu = want.mtu;
	if (!(node->dev.flags & IFF_UP))
		ch.up = 1;
	if ((ch.mtu || ch.up == 1) && (r = pn_link_set(nl, node->dev.index, &ch, e)) < 0)
		return pn_err_prefix(e, r, "failed to set up %s", c->device);
	if (c->pod_cidr.ip.family) {
		/* the VTEP address: the pod CIDR's network address, /32 (flannel's layout) */
		struct pn_prefix vtep = { .ip = c->pod_cidr.ip, .len = (uint8_t)pn_ip_bits(&c->pod_cidr.ip) };

		r = pn_addr_add(nl, node->dev.index, &vtep, e);
		if (r < 0 && r != -EEXIST)
			return pn_err_prefix(e, r, "failed to put the VTEP address on %s", c->device);
	}
	return 0;
}

static bool same_l2(struct pn_nl *nl, int underlay, const struct pn_ip *peer)
{
	struct pn_addr addrs[MAX_ADDRS];
	struct pn_err ignore;
	size_t n = 0;

	if (pn_addr_list(nl, underlay, peer->family, addrs, MAX_ADDRS, &n, &ignore) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (addrs[i].scope == RT_SCOPE_UNIVERSE && pn_prefix_contains(&addrs[i].p, peer))
			return true;
	return false;
}

/* The route for a peer: via its VTEP over the device, or straight via its node IP. */
static void peer_route(const struct vx_conf *c, const struct vx_node *node, const struct vx_peer *p, bool direct,
		       struct pn_route *rt)
{
	memset(rt, 0, sizeof(*rt));
	rt->dst = p->pods;
	rt->protocol = VX_RTPROT;
	if (direct) {
		rt->gw = p->node;
		rt->oif = node->underlay;
	} else {
		rt->gw = p->pods.ip;      /* the peer's VTEP address */
		rt->oif = node->dev.index;
		rt->onlink = true;
	}
	(void)c;
}

static bool is_self(const struct vx_node *node, const struct vx_peer *p)
{
	return pn_ip_eq(&p->node, &node->local);
}

int vx_sync_peers(struct pn_nl *nl, const struct vx_conf *c, const struct vx_node *node, struct pn_err *e)
{
	struct pn_neigh *have = calloc(MAX_ROUTES, sizeof(*have));
	struct pn_route *routes = calloc(MAX_ROUTES, sizeof(*routes));
	bool *direct = calloc(c->npeers + 1, sizeof(*direct));
	size_t n = 0;
	int r = 0;

	if (!have || !routes || !direct) {
		r = pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
		goto out;
	}
	/* mark: what every peer needs */
	for (size_t i = 0; i < c->npeers && r == 0; i++) {
		const struct vx_peer *p = &c->peers[i];
		struct pn_route rt;

		if (is_self(node, p))
			continue;
		direct[i] = c->direct_routing && same_l2(nl, node->underlay, &p->node);
		if (!direct[i] && ((r = pn_neigh_set(nl, node->dev.index, &p->pods.ip, p->mac, e)) < 0 ||
				   (r = pn_fdb_add(nl, node->dev.index, p->mac, &p->node, e)) < 0))
			break;
		peer_route(c, node, p, direct[i], &rt);
		r = pn_route_replace(nl, &rt, e);
	}
	if (r < 0)
		goto out;
	/* sweep: our routes, and the device's neighbours and FDB entries, that no peer wants */
	for (int f = 0; f < 2 && r == 0; f++) {
		if ((r = pn_route_list(nl, f ? AF_INET6 : AF_INET, routes, MAX_ROUTES, &n, e)) < 0)
			break;
		for (size_t k = 0; k < n && r == 0; k++) {
			bool wanted = false;

			if (routes[k].protocol != VX_RTPROT)
				continue;
			for (size_t i = 0; i < c->npeers && !wanted; i++) {
				struct pn_route rt;

				if (is_self(node, &c->peers[i]))
					continue;
				peer_route(c, node, &c->peers[i], direct[i], &rt);
				wanted = rt.dst.len == routes[k].dst.len && pn_ip_eq(&rt.dst.ip, &routes[k].dst.ip) &&
					 rt.oif == routes[k].oif && pn_ip_eq(&rt.gw, &routes[k].gw);
			}
			if (!wanted && (r = pn_route_del(nl, &routes[k], e)) == -ESRCH)
				r = 0;
		}
	}
	for (int f = 0; f < 2 && r == 0; f++) {
		int fam = f ? AF_BRIDGE : AF_INET;

		if ((r = pn_neigh_list(nl, fam, node->dev.index, have, MAX_ROUTES, &n, e)) < 0)
			break;
		for (size_t k = 0; k < n && r == 0; k++) {
			bool wanted = false;

			if (fam == AF_INET && !(have[k].state & NUD_PERMANENT))
				continue;
			if (fam == AF_BRIDGE && !have[k].dst.family)
				continue;   /* the device's own address, not a peer */
			for (size_t i = 0; i < c->npeers && !wanted; i++) {
				const struct vx_peer *p = &c->peers[i];

				if (is_self(node, p) || direct[i])
					continue;
				wanted = fam == AF_INET ? pn_ip_eq(&have[k].dst, &p->pods.ip) && !memcmp(have[k].mac, p->mac, 6)
							: !memcmp(have[k].mac, p->mac, 6) && pn_ip_eq(&have[k].dst, &p->node);
			}
			if (!wanted && (r = pn_neigh_del(nl, &have[k], e)) == -ENOENT)
				r = 0;
		}
	}
out:
	free(have);
	free(routes);
	free(direct);
	return r < 0 ? pn_err_prefix(e, r, "failed to program the overlay's peers") : 0;
}

int vx_check(struct pn_nl *nl, const struct vx_conf *c, struct pn_err *e)
{
	struct pn_vxlan want, have;
	struct vx_node node = { 0 };
	struct pn_route *routes = NULL;
	size_t n = 0;
	int r;

	if ((r = find_underlay(nl, c, &node, e)) < 0)
		return r;
	desired(c, &node, &want);
	if ((r = pn_vxlan_get(nl, c->device, &node.dev, &have, e)) < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENODEV, "VXLAN device %s not found", c->device);
	if (have.vni != want.vni || have.port != want.port || !pn_ip_eq(&have.local, &want.local) || have.learning ||
	    memcmp(have.mac, want.mac, 6) || node.dev.mtu != want.mtu || !(node.dev.flags & IFF_UP))
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "VXLAN device %s does not have the configured settings", c->device);
	routes = calloc(MAX_ROUTES, sizeof(*routes));
	if (!routes)
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	r = pn_route_list(nl, AF_INET, routes, MAX_ROUTES, &n, e);
	for (size_t i = 0; r == 0 && i < c->npeers; i++) {
		const struct vx_peer *p = &c->peers[i];
		bool found = false;
		char a[PN_PREFIX_STRLEN];

		if (is_self(&node, p))
			continue;
		for (size_t k = 0; k < n && !found; k++)
			found = routes[k].protocol == VX_RTPROT && routes[k].dst.len == p->pods.len &&
				pn_ip_eq(&routes[k].dst.ip, &p->pods.ip);
		if (!found)
			r = pn_err_set(e, CNI_ERR_INTERNAL, -ENOENT, "no route to peer pod CIDR %s", pn_prefix_format(&p->pods, a));
	}
	free(routes);
	return r;
}
