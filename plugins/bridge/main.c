/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bridge: a veth pair from the pod to a Linux bridge on the node, addresses from any
 * IPAM plugin on CNI_PATH, gateway on the bridge, masquerade through nftables.  A
 * drop-in for the reference plugin; a failed ADD undoes all it did.
 */
#include <errno.h>
#include <linux/ip.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni.h"
#include "check.h"
#include "config.h"
#include "ctx.h"
#include "host-local-id.h"
#include "host-local/plugin.h"
#include "json.h"
#include "link.h"
#include "masq.h"
#include "netns.h"
#include "nft.h"
#include "refclean.h"
#include "nl.h"
#include "spoofchk.h"
#include "sysctl.h"

#define MAX_ADDRS 64



/*
 * Sysctls of the pod's interface, as the reference writes them: arp_notify over netlink, the
 * IPv6 ones (netlink cannot set them) below /proc/sys/net/ipv6/conf, opened once from inside
 * the pod netns (see sysctl.h for why not path by path).
 */
static int pod_sysctls(struct ctx *x, const struct br_conf *c, const struct pn_link *ctr, bool v6, struct pn_err *e)
{
	struct pn_err ignore;
	char path[IFNAMSIZ + 32];
	int saved, conf, r = 0;

	pn_link_set_ipv4_conf(&x->pod, ctr->index, IPV4_DEVCONF_ARP_NOTIFY, 1, &ignore);
	if (pn_netns_enter(x->pod_ns, &saved, e) < 0)
		return -EIO;
	conf = pn_sysctl_dir_open("net/ipv6/conf");
	if (conf >= 0) {
		snprintf(path, sizeof(path), "%s/accept_dad", ctr->name);
		pn_sysctl_write_at(conf, path, c->enable_dad ? "1" : "0");
		if (c->enable_dad) {
			snprintf(path, sizeof(path), "%s/enhanced_dad", ctr->name);
			pn_sysctl_write_at(conf, path, "1");
		}
	}
	if (v6) {
		r = conf;
		snprintf(path, sizeof(path), "%s/disable_ipv6", ctr->name);
		if (conf >= 0 && (r = pn_sysctl_ensure_at(conf, "lo/disable_ipv6", "0")) == 0 &&
		    (r = pn_sysctl_ensure_at(conf, path, "0")) == 0) {
			snprintf(path, sizeof(path), "%s/keep_addr_on_down", ctr->name);
			r = pn_sysctl_write_at(conf, path, "1");
		}
		if (r < 0)
			pn_err_set(e, CNI_ERR_INTERNAL, r, "failed to enable IPv6 on %s: %s", ctr->name, strerror(-r));
	}
	if (conf >= 0)
		close(conf);
	pn_netns_leave(&saved);
	return r < 0 ? r : 0;
}

/*
 * The bridge's MAC pinned to what it is: the kernel would otherwise follow its lowest
 * port's.  Right after the gateway address went on, as the reference's ensureAddr does,
 * and only then: setting it on every ADD would cost the kernel a walk over all ports.
 */
static void pin_bridge_mac(struct ctx *x, struct pn_link *br)
{
	struct pn_link_change pin = PN_LINK_CHANGE_NONE;
	struct pn_err ignore;

	if (pn_link_get(&x->host, NULL, br->index, br, &ignore) == 0 && memcmp(br->mac, "\0\0\0\0\0\0", 6)) {
		pin.mac = br->mac;
		pn_link_set(&x->host, br->index, &pin, &ignore);
	}
}

/* ip_forward / conf.all.forwarding on, read over netlink and written only when off */
static int ensure_forwarding(struct ctx *x, int family, struct pn_err *e)
{
	const char *path = family == AF_INET ? "net/ipv4/ip_forward" : "net/ipv6/conf/all/forwarding";
	struct pn_err ignore;
	bool on = false;
	int r;

	if (pn_netconf_forwarding(&x->host, family, &on, &ignore) == 0 && on)
		return 0;
	if ((r = pn_sysctl_ensure(path, "1")) < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, r, "failed to enable forwarding: %s", strerror(-r));
	return 0;
}

static bool has_default_route_with_gw(const json_t *routes, int family)
{
	json_t *rt;
	size_t i;

	json_array_foreach(routes, i, rt) {
		struct pn_prefix d;
		const char *dst = json_string_value(pn_json_get(rt, "dst"));

		if (dst && !pn_prefix_parse(dst, &d) && d.ip.family == family && d.len == 0 &&
		    json_is_string(pn_json_get(rt, "gw")))
			return true;
	}
	return false;
}

/* Fills gateways (isGateway), default routes (isDefaultGateway) and interface indexes. */
static void calc_gateways(const struct br_conf *c, json_t *result, struct pn_prefix gws[], size_t *ngws)
{
	json_t *ips = pn_json_get(result, "ips"), *routes = pn_json_get(result, "routes"), *ip;
	bool default_done[2] = { false, false };
	size_t i;

	*ngws = 0;
	json_array_foreach(ips, i, ip) {
		const char *a = json_string_value(pn_json_get(ip, "address"));
		const char *g = json_string_value(pn_json_get(ip, "gateway"));
		struct pn_prefix p, gw;
		int k;

		json_object_set_new(ip, "interface", json_integer(2));
		if (!a || pn_prefix_parse(a, &p) < 0)
			continue;
		k = p.ip.family == AF_INET6;
		gw.len = p.len;
		if (g) {
			pn_ip_parse(g, &gw.ip);
		} else if (c->is_gw) {
			char buf[PN_IP_STRLEN];

			gw.ip = pn_ip_add(&(struct pn_ip){ 0 }, 0);
			gw.ip = pn_prefix_network(&p);
			gw.ip = pn_ip_add(&gw.ip, 1);
			json_object_set_new(ip, "gateway", json_string(pn_ip_format(&gw.ip, buf)));
		} else {
			continue;
		}
		if (c->is_default_gw && !default_done[k]) {
			default_done[k] = true;
			if (!has_default_route_with_gw(routes, p.ip.family)) {
				char buf[PN_IP_STRLEN];

				json_array_append_new(routes, json_pack("{s:s, s:s}", "dst", k ? "::/0" : "0.0.0.0/0",
									"gw", pn_ip_format(&gw.ip, buf)));
			}
		}
		if (c->is_gw && *ngws < MAX_ADDRS)
			gws[(*ngws)++] = gw;
	}
}

/* Addresses, link up and routes inside the pod, as the reference's ConfigureIface. */
static int configure_pod(struct ctx *x, const struct br_conf *c, const char *ifname, const struct pn_link *ctr,
			 const json_t *result, struct pn_err *e)
{
	struct pn_link_change up = PN_LINK_CHANGE_NONE;
	struct pn_ip gw4 = { 0 }, gw6 = { 0 };
	json_t *ip, *rt;
	bool v6 = false;
	size_t i;
	int r;

	json_array_foreach(pn_json_get(result, "ips"), i, ip) {
		struct pn_prefix p;

		if (!pn_prefix_parse(json_string_value(pn_json_get(ip, "address")), &p))
			v6 |= p.ip.family == AF_INET6;
	}
	if ((r = pod_sysctls(x, c, ctr, v6, e)) < 0)
		return r;
	json_array_foreach(pn_json_get(result, "ips"), i, ip) {
		struct pn_prefix p;
		struct pn_ip g;
		const char *gs = json_string_value(pn_json_get(ip, "gateway"));
		char a[PN_PREFIX_STRLEN];

		if (pn_prefix_parse(json_string_value(pn_json_get(ip, "address")), &p) < 0)
			continue;
		if ((r = pn_addr_add(&x->pod, ctr->index, &p, e)) < 0)
			return pn_err_prefix(e, r, "failed to add IP addr %s to \"%s\"", pn_prefix_format(&p, a), ifname);
		if (gs && !pn_ip_parse(gs, &g)) {
			if (g.family == AF_INET && !gw4.family)
				gw4 = g;
			if (g.family == AF_INET6 && !gw6.family)
				gw6 = g;
		}
	}
	up.up = 1;
	if ((r = pn_link_set(&x->pod, ctr->index, &up, e)) < 0)
		return pn_err_prefix(e, r, "failed to set %s UP", ifname);
	json_array_foreach(pn_json_get(result, "routes"), i, rt) {
		struct pn_route route = { .oif = ctr->index };
		const char *gs = json_string_value(pn_json_get(rt, "gw"));
		json_t *v;
		char a[PN_PREFIX_STRLEN];

		if (pn_prefix_parse(json_string_value(pn_json_get(rt, "dst")), &route.dst) < 0)
			continue;
		route.dst.ip = pn_prefix_network(&route.dst);
		if (gs)
			pn_ip_parse(gs, &route.gw);
		else
			route.gw = route.dst.ip.family == AF_INET ? gw4 : gw6;
		if ((v = pn_json_get(rt, "priority")) && json_is_integer(v))
			route.priority = (uint32_t)json_integer_value(v);
		if ((v = pn_json_get(rt, "table")) && json_is_integer(v))
			route.table = (uint32_t)json_integer_value(v);
		if ((v = pn_json_get(rt, "scope")) && json_is_integer(v))
			route.scope = (uint8_t)json_integer_value(v);
		r = pn_route_add(&x->pod, &route, e);
		if (r < 0 && r != -EEXIST)
			return pn_err_prefix(e, r, "failed to add route %s", pn_prefix_format(&route.dst, a));
	}
	return 0;
}

static json_t *iface_json(const char *name, const uint8_t *mac, const char *sandbox)
{
	char m[18];

	return json_pack("{s:s, s:s, s:s*}", "name", name, "mac", pn_mac_format(mac, m), "sandbox", sandbox);
}

/* Global addresses on the pod's interface (for the masquerade teardown). */
static size_t pod_addresses(struct ctx *x, int index, struct pn_prefix *out, size_t max)
{
	struct pn_addr addrs[MAX_ADDRS];
	struct pn_err ignore;
	size_t n = 0, k = 0;

	if (pn_addr_list(&x->pod, index, AF_UNSPEC, addrs, MAX_ADDRS, &n, &ignore) < 0)
		return 0;
	for (size_t i = 0; i < n && k < max; i++)
		if (addrs[i].scope == 0)   /* RT_SCOPE_UNIVERSE */
			out[k++] = addrs[i].p;
	return k;
}

static int br_add(const struct cni_req *req, json_t **result, struct pn_err *e)
{
	struct pn_link br, hostveth, ctr, vlan_gw = { .index = 0 };
	struct pn_prefix gws[MAX_ADDRS];
	struct br_conf c;
	struct ctx x;
	bool veth_made = false, ipam_done = false, masq_done = false, spoof_done = false;
	struct cni_job ipam = { .running = false };
	size_t ngws = 0;
	json_t *res = NULL, *ifaces;
	int r;

	*result = NULL;
	if ((r = br_conf_load(&c, req, e)) < 0)
		return r;
	if ((r = ctx_open(&x, req, true, e)) < 0)
		goto out;
	/* the IPAM plugin runs while we make the bridge and the veth pair */
	if (br_l3(&c) && (r = cni_delegate_start(req, c.ipam_type, CNI_CMD_ADD, &ipam, e)) < 0)
		goto out;
	if ((r = br_ensure_bridge(&x, &c, &br, e)) < 0)
		goto fail;
	r = br_setup_veth(&x, &c, req->ifname, &br, &hostveth, &ctr, e);
	veth_made = ctr.index > 0 && r != -EEXIST;
	if (r < 0)
		goto fail;
	if (c.macspoofchk) {
		spoof_done = true;
		if ((r = br_spoofchk_add(req, hostveth.name, ctr.mac, e)) < 0)
			goto fail;
	}
	if (br_l3(&c)) {
		/* a failed IPAM ADD is followed by its DEL too, as the spec asks */
		ipam_done = true;
		if ((r = cni_delegate_finish(req, &ipam, &res, e)) < 0)
			goto fail;
		if (!json_array_size(pn_json_get(res, "ips"))) {
			r = pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "IPAM plugin returned missing IP config");
			goto fail;
		}
		calc_gateways(&c, res, gws, &ngws);
		if ((r = configure_pod(&x, &c, req->ifname, &ctr, res, e)) < 0)
			goto fail;
		if (ngws && c.vlan && (r = br_ensure_vlan_gateway(&x.host, &c, &br, &vlan_gw, e)) < 0)
			goto fail;
		for (size_t i = 0; i < ngws; i++) {
			bool added = false;

			if ((r = br_ensure_addr(&x.host, vlan_gw.index ? &vlan_gw : &br, &gws[i], c.force_address,
						&added, e)) < 0)
				goto fail;
			if (added)
				pin_bridge_mac(&x, &br);
			if ((r = ensure_forwarding(&x, gws[i].ip.family, e)) < 0)
				goto fail;
		}
		if (c.ip_masq) {
			masq_done = true;
			if ((r = br_masq_add(req, pn_json_get(res, "ips"), e)) < 0)
				goto fail;
		}
	} else {
		struct pn_link_change up = PN_LINK_CHANGE_NONE;

		res = json_object();
		up.up = c.disable_ctr_iface ? -1 : 1;
		if (up.up == 1 && (r = pn_link_set(&x.pod, ctr.index, &up, e)) < 0)
			goto fail;
	}
	if (!c.disable_ctr_iface && (r = br_wait_oper_up(&x.host, hostveth.index, e)) < 0)
		goto fail;
	/* MACs can change when a port joins a bridge: report what they are now */
	pn_link_get(&x.host, NULL, br.index, &br, e);
	pn_link_get(&x.host, NULL, hostveth.index, &hostveth, e);
	ifaces = json_array();
	json_array_append_new(ifaces, iface_json(br.name, br.mac, NULL));
	json_array_append_new(ifaces, iface_json(hostveth.name, hostveth.mac, NULL));
	json_array_append_new(ifaces, iface_json(req->ifname, ctr.mac, req->netns));
	if (vlan_gw.index)
		json_array_append_new(ifaces, iface_json(vlan_gw.name, vlan_gw.mac, NULL));
	json_object_set_new(res, "interfaces", ifaces);
	if (c.dns)
		json_object_set(res, "dns", c.dns);
	*result = res;
	res = NULL;
	r = 0;
	goto out;
fail:
	/* undo everything: a failed ADD leaves no interface, reservation or rule behind */
	{
		struct pn_err ignore;

		if (ipam.running) {
			cni_delegate_finish(req, &ipam, NULL, &ignore);
			ipam_done = true;
		}
		if (masq_done)
			br_masq_del(req, NULL, 0, &ignore);
		if (spoof_done)
			br_spoofchk_del(req, hostveth.name, &ignore);
		if (veth_made)
			pn_link_del(&x.pod, ctr.index, &ignore);
		if (ipam_done)
			cni_delegate(req, c.ipam_type, CNI_CMD_DEL, NULL, &ignore);
	}
out:
	json_decref(res);
	ctx_close(&x);
	return r;
}

/* Addresses of prevResult, if the runtime sent one. */
static size_t prev_addresses(const struct cni_req *req, struct pn_prefix *out, size_t max)
{
	json_t *prev = pn_json_get(req->conf, "prevResult"), *canon = NULL, *ip;
	struct pn_err ignore;
	size_t i, n = 0;

	if (!prev || cni_result_parse(prev, req->version, &canon, &ignore) < 0)
		return 0;
	json_array_foreach(pn_json_get(canon, "ips"), i, ip)
		if (n < max && !pn_prefix_parse(json_string_value(pn_json_get(ip, "address")), &out[n]))
			n++;
	json_decref(canon);
	return n;
}

/* The host end's name: from prevResult, else from the pod's veth peer. */
static void host_veth_name(const struct cni_req *req, struct ctx *x, const struct pn_link *ctr, char *out)
{
	json_t *prev = pn_json_get(req->conf, "prevResult"), *it;
	struct pn_err ignore;
	struct pn_link hv;
	size_t i;

	out[0] = '\0';
	json_array_foreach(pn_json_get(prev, "interfaces"), i, it) {
		const char *n = json_string_value(pn_json_get(it, "name"));

		if (n && !pn_json_get(it, "sandbox") && !strncmp(n, "veth", 4) && strlen(n) < IFNAMSIZ)
			strcpy(out, n);
	}
	if (!out[0] && ctr && ctr->peer && pn_link_get(&x->host, NULL, ctr->peer, &hv, &ignore) == 0)
		strcpy(out, hv.name);
}

/* The nftables part of a DEL: our masquerade and spoof check, and the reference's; all of it
 * is tried, the first error is returned. */
static int del_firewall(const struct cni_req *req, const struct br_conf *c, const struct pn_prefix *addrs, size_t n,
			bool from_prev, const char *hostveth, struct pn_err *e)
{
	struct pn_err e2;
	int r = 0, r2;

	/*
	 * Our masquerade goes even when the pod's addresses are unknown or were removed
	 * from its interface: then its elements are found by their owner comment (a
	 * listing of the maps).  prevResult, which runtimes send on DEL, is trusted whole.
	 */
	if (c->ip_masq) {
		r = br_masq_del(req, addrs, n, e);
		if (r == 0 && n && !from_prev)
			r = br_masq_del(req, NULL, 0, e);
		/* a pod the reference plugin added: its iptables or nftables masquerade goes too */
		if (r == 0)
			r = br_refclean_masq(req, e);
	}
	if (c->macspoofchk) {
		r2 = br_spoofchk_del(req, hostveth[0] ? hostveth : NULL, &e2);
		if (r2 == 0)
			r2 = br_refclean_spoofchk(req, &e2);
		if (r2 < 0 && r == 0) {
			*e = e2;
			r = r2;
		}
	}
	return r;
}

/*
 * In the reference's order: the pod's interface, then the address (so that no other pod
 * gets it while this one still holds it), then the firewall.  The firewall's nftables
 * work is done first and its sockets closed last (lib/nft.h): closing one waits for the
 * kernel to free what it deleted, under a mutex the veth's unregister needs too, so the
 * two waits overlap instead of adding up.  An IPAM error is reported first, as the
 * reference's DEL reports it.
 */
static int br_del(const struct cni_req *req, struct pn_err *e)
{
	struct pn_prefix addrs[MAX_ADDRS];
	struct pn_err ignore, fw_err;
	struct br_conf c;
	struct pn_link ctr = { 0 };
	char hostveth[IFNAMSIZ] = "";
	struct ctx x;
	size_t n;
	bool from_prev;
	int r, r_fw;

	if ((r = br_conf_load(&c, req, e)) < 0)
		return r;
	if ((r = ctx_open(&x, req, false, e)) < 0)
		goto out;
	n = prev_addresses(req, addrs, MAX_ADDRS);
	from_prev = n > 0;
	/* a missing netns or interface is fine: DEL is best effort and idempotent */
	if (*req->netns && ctx_open_pod(&x, req->netns, &ignore) == 0 &&
	    pn_link_get(&x.pod, req->ifname, 0, &ctr, &ignore) == 0) {
		if (!n)
			n = pod_addresses(&x, ctr.index, addrs, MAX_ADDRS);
		if (c.macspoofchk)
			host_veth_name(req, &x, &ctr, hostveth);
	}
	if (c.macspoofchk && !hostveth[0])
		host_veth_name(req, &x, NULL, hostveth);
	pn_nft_defer_close();
	r_fw = del_firewall(req, &c, addrs, n, from_prev, hostveth, &fw_err);
	if (ctr.index && (r = pn_link_del(&x.pod, ctr.index, e)) < 0 && r != -ENODEV) {
		pn_err_prefix(e, r, "failed to delete %s", req->ifname);
		goto out;
	}
	r = br_l3(&c) ? cni_delegate(req, c.ipam_type, CNI_CMD_DEL, NULL, e) : 0;
	if (r == 0 && r_fw < 0) {
		*e = fw_err;
		r = r_fw;
	}
out:
	pn_nft_close_deferred();
	ctx_close(&x);
	return r < 0 ? r : 0;
}

static int br_status(const struct cni_req *req, struct pn_err *e)
{
	struct br_conf c;
	int r;

	if ((r = br_conf_load(&c, req, e)) < 0)
		return r;
	return br_l3(&c) ? cni_delegate(req, c.ipam_type, CNI_CMD_STATUS, NULL, e) : 0;
}

static int br_gc(const struct cni_req *req, struct pn_err *e)
{
	json_t *valid = pn_json_get(req->conf, "cni.dev/valid-attachments");
	struct br_conf c;
	int r, r2 = 0;

	if ((r = br_conf_load(&c, req, e)) < 0)
		return r;
	if (!valid)
		valid = pn_json_get(req->conf, "cni.dev/attachments");
	/* the spec: forward GC to the IPAM plugin, and go on past errors */
	if (br_l3(&c))
		r = cni_delegate(req, c.ipam_type, CNI_CMD_GC, NULL, e);
	if (json_is_array(valid)) {
		struct pn_err e2;

		r2 = br_masq_gc(req, valid, &e2);
		if (r2 == 0)
			r2 = br_spoofchk_gc(req, valid, &e2);
		if (r2 < 0 && r == 0)
			*e = e2;
	}
	return r < 0 ? r : r2;
}

static const struct cni_plugin bridge = {
	.name = "bridge",
	.add = br_add,
	.del = br_del,
	.check = br_check,
	.status = br_status,
	.gc = br_gc,
};

int main(void)
{
	static const struct cni_builtin host_local = {
		.type = "host-local", .plugin = &hl_plugin, .build_id = PN_HOST_LOCAL_BUILD_ID,
	};

	cni_delegate_set_builtin(&host_local);
	return cni_main(&bridge);
}
