/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "nl.h"

void vx_mac_for(const struct pn_ip *node, uint8_t mac[6])
{
	int n = pn_ip_bytes(node);

	/* locally administered, unicast; the same on every node that knows the address */
	mac[0] = 0x0e;
	mac[1] = 0xfe;
	memcpy(mac + 2, node->a + n - 4, 4);
}

static int parse_prefix(const json_t *o, const char *ctx, const char *key, struct pn_prefix *p, bool network,
			struct pn_err *e)
{
	const char *s = NULL;
	int r = pn_json_string(o, ctx, key, &s, e);

	if (r < 0 || !s)
		return r;
	if (pn_prefix_parse(s, p) < 0)
		return pn_err_set(e, CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid %s \"%s\": not a CIDR", key, s);
	if (network && pn_prefix_has_host_bits(p))
		return pn_err_set(e, CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid %s \"%s\": host bits set", key, s);
	return 0;
}

static int parse_peers(struct vx_conf *c, const json_t *list, const char *ctx, struct pn_err *e)
{
	json_t *p;
	size_t i;
	int r;

	json_array_foreach(list, i, p) {
		struct vx_peer *v;
		const char *node = NULL, *mac = NULL;

		if ((r = pn_json_want(p, JSON_OBJECT, ctx, e)) < 0)
			return r;
		if (c->npeers == VX_MAX_PEERS)
			return pn_err_set(e, CNI_ERR_INVALID_CONFIG, -E2BIG, "more than %d peers", VX_MAX_PEERS);
		v = &c->peers[c->npeers];
		memset(v, 0, sizeof(*v));
		if ((r = pn_json_string(p, "Peer", "nodeIP", &node, e)) < 0 ||
		    (r = pn_json_string(p, "Peer", "mac", &mac, e)) < 0 ||
		    (r = parse_prefix(p, "Peer", "podCIDR", &v->pods, true, e)) < 0)
			return r;
		if (!node || pn_ip_parse(node, &v->node) < 0)
			return pn_err_set(e, CNI_ERR_INVALID_CONFIG, -EINVAL, "%s[%zu]: invalid or missing nodeIP", ctx, i);
		if (!v->pods.ip.family)
			return pn_err_set(e, CNI_ERR_INVALID_CONFIG, -EINVAL, "%s[%zu]: missing podCIDR", ctx, i);
		if (mac && pn_mac_parse(mac, v->mac) < 0)
			return pn_err_set(e, CNI_ERR_INVALID_CONFIG, -EINVAL, "%s[%zu]: invalid mac \"%s\"", ctx, i, mac);
		if (!mac)
			vx_mac_for(&v->node, v->mac);
		c->npeers++;
	}
	return 0;
}

static int read_peers_file(struct vx_conf *c, const char *path, struct pn_err *e)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr), *list;
	int r;

	if (!doc) {
		/* a node agent may not have written it yet: no peers */
		if (jerr.position == 0 && strstr(jerr.text, "unable to open"))
			return 0;
		return pn_err_set(e, CNI_ERR_INVALID_CONFIG, -EINVAL, "peers file %s: %s (line %d)", path, jerr.text, jerr.line);
	}
	list = json_is_array(doc) ? doc : pn_json_get(doc, "peers");
	r = list ? pn_json_want(list, JSON_ARRAY, "peersFile.peers", e) : 0;
	if (r == 0 && list)
		r = parse_peers(c, list, "peersFile.peers", e);
	json_decref(doc);
	return r;
}

int vx_conf_load(struct vx_conf *c, const json_t *conf, const json_t *prev, struct pn_err *e)
{
	const char *dev = NULL, *addr = NULL, *file = NULL;
	long long vni = 1, port = 8472, mtu = 0;
	json_t *peers = NULL, *ip;
	size_t i;
	int r;

	memset(c, 0, sizeof(*c));
	c->peers = calloc(VX_MAX_PEERS, sizeof(*c->peers));
	if (!c->peers)
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	if ((r = pn_json_int(conf, "NetConf", "vni", &vni, e)) < 0 ||
	    (r = pn_json_int(conf, "NetConf", "port", &port, e)) < 0 ||
	    (r = pn_json_int(conf, "NetConf", "mtu", &mtu, e)) < 0 ||
	    (r = pn_json_string(conf, "NetConf", "device", &dev, e)) < 0 ||
	    (r = pn_json_string(conf, "NetConf", "underlayInterface", &c->underlay_if, e)) < 0 ||
	    (r = pn_json_string(conf, "NetConf", "underlayAddress", &addr, e)) < 0 ||
	    (r = pn_json_string(conf, "NetConf", "peersFile", &file, e)) < 0 ||
	    (r = pn_json_bool(conf, "NetConf", "directRouting", &c->direct_routing, e)) < 0 ||
	    (r = pn_json_array(conf, "NetConf", "peers", &peers, e)) < 0 ||
	    (r = parse_prefix(conf, "NetConf", "podCIDR", &c->pod_cidr, true, e)) < 0 ||
	    (r = parse_prefix(conf, "NetConf", "clusterCIDR", &c->cluster, true, e)) < 0)
		return r;
	if (vni < 0 || vni > 0xffffff)
		return pn_err_set(e, CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid vni %lld (must be between 0 and 16777215)", vni);
	if (port < 1 || port > 65535)
		return pn_err_set(e, CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid port %lld", port);
	if (mtu < 0 || mtu > 65535)
		return pn_err_set(e, CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid mtu %lld", mtu);
	c->vni = (uint32_t)vni;
	c->port = (uint16_t)port;
	c->mtu = (unsigned)mtu;
	if (dev && (!*dev || strlen(dev) > 15 || strpbrk(dev, "/: \t\n")))
		return pn_err_set(e, CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid device name \"%s\"", dev);
	if (dev)
		snprintf(c->device, sizeof(c->device), "%s", dev);
	else
		snprintf(c->device, sizeof(c->device), "podnet.%u", c->vni);
	if (addr && pn_ip_parse(addr, &c->underlay_addr) < 0)
		return pn_err_set(e, CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid underlayAddress \"%s\"", addr);
	if ((r = parse_peers(c, peers, "peers", e)) < 0 || (file && (r = read_peers_file(c, file, e)) < 0))
		return r;
	/* the node's pod CIDR: the subnet of the pod's IPv4 address, as bridge + host-local gave it */
	json_array_foreach(pn_json_get(prev, "ips"), i, ip) {
		struct pn_prefix p;

		if (c->pod_cidr.ip.family || pn_prefix_parse(json_string_value(pn_json_get(ip, "address")), &p) < 0 ||
		    p.ip.family != AF_INET)
			continue;
		c->pod_cidr = p;
		c->pod_cidr.ip = pn_prefix_network(&p);
	}
	return 0;
}

void vx_conf_free(struct vx_conf *c)
{
	free(c->peers);
	c->peers = NULL;
}
