/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "nl.h"

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* vlanTrunk: [{"id": N} | {"minID": A, "maxID": B}], with the reference's messages. */
static int parse_trunk(struct br_conf *c, const json_t *list, struct pn_err *e)
{
	bool seen[BR_MAX_TRUNK + 1] = { false };
	json_t *t;
	size_t i;
	int r;

	json_array_foreach(list, i, t) {
		json_t *id, *min, *max;
		long long lo, hi;

		if ((r = pn_json_want(t, JSON_OBJECT, "NetConf.vlanTrunk", e)) < 0)
			return r;
		id = pn_json_get(t, "id");
		min = pn_json_get(t, "minID");
		max = pn_json_get(t, "maxID");
		if ((id && !json_is_integer(id)) || (min && !json_is_integer(min)) || (max && !json_is_integer(max)))
			return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL,
					  "failed to load netconf: json: cannot unmarshal into Go struct field NetConf.vlanTrunk of type int");
		if (min || max) {
			if (!min)
				return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL,
						  "minID and maxID should be configured simultaneously, minID is missing");
			if (!max)
				return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL,
						  "minID and maxID should be configured simultaneously, maxID is missing");
			lo = json_integer_value(min);
			hi = json_integer_value(max);
			if (lo <= 0 || lo > 4094)
				return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "incorrect trunk minID parameter");
			if (hi <= 0 || hi > 4094)
				return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "incorrect trunk maxID parameter");
			if (hi < lo)
				return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "minID is greater than maxID in trunk parameter");
		} else {
			lo = hi = id ? json_integer_value(id) : 0;
		}
		if (id && !min && (lo <= 0 || lo > 4094))
			return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "incorrect trunk id parameter");
		for (long long v = lo; v >= 1 && v <= hi; v++)
			seen[v] = true;
	}
	c->ntrunk = 0;
	for (int v = 1; v <= BR_MAX_TRUNK; v++)
		if (seen[v])
			c->trunk[c->ntrunk++] = (uint16_t)v;
	qsort(c->trunk, c->ntrunk, sizeof(c->trunk[0]), cmp_u16);
	return 0;
}

static int on_cni_arg(const char *key, const char *value, void *ctx, struct pn_err *e)
{
	struct br_conf *c = ctx;

	(void)key;   /* only "MAC" is known */
	if (pn_mac_parse(value, c->mac) < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "invalid MAC address %s", value);
	c->has_mac = true;
	return 0;
}

static int take_mac(struct br_conf *c, const char *s, struct pn_err *e)
{
	if (!s)
		return 0;
	if (pn_mac_parse(s, c->mac) < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "failed to parse MAC address %s", s);
	c->has_mac = true;
	return 0;
}

int br_conf_load(struct br_conf *c, const struct cni_req *req, struct pn_err *e)
{
	static const char *const known_args[] = { "MAC", NULL };
	const json_t *conf = req->conf;
	json_t *ipam = NULL, *trunk = NULL, *rc = NULL, *args = NULL, *acni = NULL, *dns = NULL;
	const char *mac = NULL;
	long long mtu = 0, vlan = 0;
	int r;

	memset(c, 0, sizeof(*c));
	c->name = req->name;
	c->version = req->version;
	c->bridge = "cni0";
	if ((r = pn_json_string(conf, "NetConf", "bridge", &c->bridge, e)) < 0 ||
	    (r = pn_json_bool(conf, "NetConf", "isGateway", &c->is_gw, e)) < 0 ||
	    (r = pn_json_bool(conf, "NetConf", "isDefaultGateway", &c->is_default_gw, e)) < 0 ||
	    (r = pn_json_bool(conf, "NetConf", "forceAddress", &c->force_address, e)) < 0 ||
	    (r = pn_json_bool(conf, "NetConf", "ipMasq", &c->ip_masq, e)) < 0 ||
	    (r = pn_json_string(conf, "NetConf", "ipMasqBackend", &c->ipmasq_backend, e)) < 0 ||
	    (r = pn_json_int(conf, "NetConf", "mtu", &mtu, e)) < 0 ||
	    (r = pn_json_bool(conf, "NetConf", "hairpinMode", &c->hairpin, e)) < 0 ||
	    (r = pn_json_bool(conf, "NetConf", "promiscMode", &c->promisc, e)) < 0 ||
	    (r = pn_json_int(conf, "NetConf", "vlan", &vlan, e)) < 0 ||
	    (r = pn_json_array(conf, "NetConf", "vlanTrunk", &trunk, e)) < 0 ||
	    (r = pn_json_bool(conf, "NetConf", "preserveDefaultVlan", &c->preserve_default_vlan, e)) < 0 ||
	    (r = pn_json_bool(conf, "NetConf", "enabledad", &c->enable_dad, e)) < 0 ||
	    (r = pn_json_bool(conf, "NetConf", "macspoofchk", &c->macspoofchk, e)) < 0 ||
	    (r = pn_json_bool(conf, "NetConf", "disableContainerInterface", &c->disable_ctr_iface, e)) < 0 ||
	    (r = pn_json_bool(conf, "NetConf", "portIsolation", &c->port_isolation, e)) < 0 ||
	    (r = pn_json_object(conf, "NetConf", "ipam", &ipam, e)) < 0 ||
	    (r = pn_json_string(ipam, "IPAM", "type", &c->ipam_type, e)) < 0 ||
	    (r = pn_json_object(conf, "NetConf", "dns", &dns, e)) < 0 ||
	    (r = pn_json_object(conf, "NetConf", "runtimeConfig", &rc, e)) < 0 ||
	    (r = pn_json_object(conf, "NetConf", "args", &args, e)) < 0)
		return pn_err_prefix(e, r, "failed to load netconf");
	if (!*c->bridge)
		c->bridge = "cni0";
	if (strlen(c->bridge) >= IFNAMSIZ || strchr(c->bridge, '/') || strpbrk(c->bridge, " \t\n:"))
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "invalid bridge name \"%s\"", c->bridge);
	if (vlan < 0 || vlan > 4094)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "invalid VLAN ID %lld (must be between 0 and 4094)", vlan);
	c->vlan = (uint16_t)vlan;
	if (mtu < 0 || mtu > 65535)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "invalid MTU %lld", mtu);
	c->mtu = (unsigned)mtu;
	if (trunk) {
		c->trunk_set = true;
		if ((r = parse_trunk(c, trunk, e)) < 0)
			return r;
	}
	if (c->ipmasq_backend && strcmp(c->ipmasq_backend, "iptables") && strcmp(c->ipmasq_backend, "nftables"))
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "unknown ipmasq backend \"%s\"", c->ipmasq_backend);
	/* MAC: CNI_ARGS, overridden by args.cni.mac, overridden by runtimeConfig.mac */
	if ((r = cni_args_parse(req->args, known_args, on_cni_arg, c, e)) < 0)
		return r;
	if ((r = pn_json_object(args, "Args", "cni", &acni, e)) < 0 ||
	    (r = pn_json_string(acni, "BridgeArgs", "mac", &mac, e)) < 0 || (r = take_mac(c, mac, e)) < 0)
		return r;
	mac = NULL;
	if ((r = pn_json_string(rc, "RuntimeConfig", "mac", &mac, e)) < 0 || (r = take_mac(c, mac, e)) < 0)
		return r;
	if (dns && (pn_json_get(dns, "nameservers") || pn_json_get(dns, "search") || pn_json_get(dns, "options") ||
		    (json_is_string(pn_json_get(dns, "domain")) && *json_string_value(pn_json_get(dns, "domain")))))
		c->dns = dns;
	if (c->is_default_gw)
		c->is_gw = true;
	if (c->hairpin && c->promisc)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "cannot set hairpin mode and promiscuous mode at the same time");
	if (br_l3(c) && c->disable_ctr_iface)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "cannot use IPAM when DisableContainerInterface flag is set");
	return 0;
}
