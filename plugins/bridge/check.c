/* SPDX-License-Identifier: Apache-2.0 */
/* CHECK: what the reference verifies (research/cni.md §2), against prevResult. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "ctx.h"
#include "json.h"

#define MAX_ADDRS 64

static json_t *find_iface(json_t *ifaces, const char *name, const char *sandbox)
{
	json_t *i;
	size_t k;

	json_array_foreach(ifaces, k, i) {
		const char *n = json_string_value(pn_json_get(i, "name"));
		const char *s = json_string_value(pn_json_get(i, "sandbox"));

		if (n && !strcmp(n, name) && (!sandbox || (s && !strcmp(s, sandbox))))
			return i;
	}
	return NULL;
}

static bool mac_matches(const json_t *iface, const uint8_t mac[6])
{
	const char *m = json_string_value(pn_json_get(iface, "mac"));
	uint8_t want[6];

	return !m || !*m || (pn_mac_parse(m, want) == 0 && !memcmp(want, mac, 6));
}

int br_check(const struct cni_req *req, struct pn_err *e)
{
	json_t *prev = pn_json_get(req->conf, "prevResult"), *canon = NULL, *ifaces, *bi, *ci, *ip, *it;
	struct pn_addr addrs[MAX_ADDRS];
	struct pn_link br, ctr, hv;
	struct br_conf c;
	struct ctx x;
	size_t n = 0, i;
	bool found = false;
	int r;

	if ((r = br_conf_load(&c, req, e)) < 0)
		return r;
	if ((r = ctx_open(&x, req, true, e)) < 0)
		goto out;
	if (br_l3(&c) && (r = cni_delegate(req, c.ipam_type, CNI_CMD_CHECK, NULL, e)) < 0)
		goto out;
	if (!prev) {
		r = pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "Required prevResult missing");
		goto out;
	}
	if ((r = cni_result_parse(prev, req->version, &canon, e)) < 0)
		goto out;
	ifaces = pn_json_get(canon, "interfaces");
	bi = find_iface(ifaces, c.bridge, NULL);
	ci = find_iface(ifaces, req->ifname, req->netns);
	if (!bi || pn_link_get(&x.host, c.bridge, 0, &br, e) < 0 || strcmp(br.kind, "bridge") || !mac_matches(bi, br.mac) ||
	    !!(br.flags & IFF_PROMISC) != c.promisc) {
		r = pn_err_set(e, CNI_ERR_INTERNAL, -ENOENT, "CNI created bridge %s in host namespace was not found", c.bridge);
		goto out;
	}
	if (!ci || pn_link_get(&x.pod, req->ifname, 0, &ctr, e) < 0 || strcmp(ctr.kind, "veth") || !mac_matches(ci, ctr.mac)) {
		r = pn_err_set(e, CNI_ERR_INTERNAL, -ENOENT, "CNI created interface in container %s not found", req->ifname);
		goto out;
	}
	json_array_foreach(ifaces, i, it) {
		const char *name = json_string_value(pn_json_get(it, "name"));

		if (!name || it == bi || it == ci || pn_json_get(it, "sandbox"))
			continue;
		if (pn_link_get(&x.host, name, 0, &hv, e) == 0 && !strcmp(hv.kind, "veth") && hv.index == ctr.peer &&
		    hv.master == br.index && mac_matches(it, hv.mac))
			found = true;
	}
	if (!found) {
		r = pn_err_set(e, CNI_ERR_INTERNAL, -ENOENT, "CNI veth created for bridge %s was not found", c.bridge);
		goto out;
	}
	if ((r = pn_addr_list(&x.pod, ctr.index, AF_UNSPEC, addrs, MAX_ADDRS, &n, e)) < 0)
		goto out;
	json_array_foreach(pn_json_get(canon, "ips"), i, ip) {
		struct pn_prefix p;
		bool have = false;
		char a[PN_PREFIX_STRLEN];

		if (pn_prefix_parse(json_string_value(pn_json_get(ip, "address")), &p) < 0)
			continue;
		for (size_t k = 0; k < n; k++)
			have |= pn_ip_eq(&addrs[k].p.ip, &p.ip) && addrs[k].p.len == p.len;
		if (!have) {
			r = pn_err_set(e, CNI_ERR_INTERNAL, -ENOENT, "Failed to match addr %s on interface %s",
				       pn_prefix_format(&p, a), req->ifname);
			goto out;
		}
	}
	json_array_foreach(pn_json_get(canon, "routes"), i, it) {
		struct pn_route routes[256];
		struct pn_prefix d;
		size_t nr = 0;
		bool have = false;
		char a[PN_PREFIX_STRLEN];

		if (pn_prefix_parse(json_string_value(pn_json_get(it, "dst")), &d) < 0)
			continue;
		d.ip = pn_prefix_network(&d);
		if ((r = pn_route_list(&x.pod, d.ip.family, routes, 256, &nr, e)) < 0)
			goto out;
		for (size_t k = 0; k < nr; k++)
			have |= routes[k].dst.len == d.len && pn_ip_eq(&routes[k].dst.ip, &d.ip);
		if (!have) {
			r = pn_err_set(e, CNI_ERR_INTERNAL, -ENOENT, "Failed to match route %s on interface %s",
				       pn_prefix_format(&d, a), req->ifname);
			goto out;
		}
	}
	r = 0;
out:
	json_decref(canon);
	ctx_close(&x);
	return r;
}
