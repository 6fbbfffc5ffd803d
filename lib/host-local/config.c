/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"

static int parse_ip_field(const json_t *obj, const char *ctx, const char *key, struct pn_ip *ip,
			  bool *has, struct pn_err *e)
{
	const char *s = NULL;
	int r = pn_json_string(obj, ctx, key, &s, e);

	if (r < 0 || !s)
		return r;
	if (pn_ip_parse(s, ip) < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "invalid IP address: %s", s);
	*has = true;
	return 0;
}

static int parse_range(const json_t *o, struct hl_range *r, struct pn_err *e)
{
	const char *subnet = NULL;
	int ret;

	memset(r, 0, sizeof(*r));
	if ((ret = pn_json_want(o, JSON_OBJECT, "IPAMConfig.ranges", e)) < 0 ||
	    (ret = pn_json_string(o, "Range", "subnet", &subnet, e)) < 0 ||
	    (ret = parse_ip_field(o, "Range", "rangeStart", &r->start, &r->has_start, e)) < 0 ||
	    (ret = parse_ip_field(o, "Range", "rangeEnd", &r->end, &r->has_end, e)) < 0 ||
	    (ret = parse_ip_field(o, "Range", "gateway", &r->gw, &r->has_gw, e)) < 0)
		return ret;
	if (!subnet)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "IP <nil> not v4 nor v6");
	if (pn_prefix_parse(subnet, &r->subnet) < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "invalid CIDR address: %s", subnet);
	return 0;
}

/* Appends the range sets of a [][]Range JSON value. */
static int parse_sets(struct hl_config *c, const json_t *sets, struct pn_err *e)
{
	json_t *set, *rj;
	size_t i, j;

	json_array_foreach(sets, i, set) {
		struct hl_rangeset *s;
		int r;

		if ((r = pn_json_want(set, JSON_ARRAY, "IPAMConfig.ranges", e)) < 0)
			return r;
		if (c->nsets == HL_MAX_RANGE_SETS)
			return pn_err_set(e, CNI_ERR_INTERNAL, -E2BIG, "more than %d range sets", HL_MAX_RANGE_SETS);
		s = &c->sets[c->nsets++];
		s->n = json_array_size(set);
		s->r = s->n ? calloc(s->n, sizeof(*s->r)) : NULL;
		if (s->n && !s->r)
			return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
		json_array_foreach(set, j, rj)
			if ((r = parse_range(rj, &s->r[j], e)) < 0)
				return r;
	}
	return 0;
}

static int add_requested(struct hl_config *c, const char *s, struct pn_err *e)
{
	struct pn_prefix p;
	struct pn_ip ip;

	/* "ip" or "ip/len": the length is parsed and dropped */
	if (strchr(s, '/') ? pn_prefix_parse(s, &p) < 0 : pn_ip_parse(s, &p.ip) < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "invalid IP address %s", s);
	ip = p.ip;
	if (c->nrequested == HL_MAX_REQUESTED)
		return pn_err_set(e, CNI_ERR_INTERNAL, -E2BIG, "more than %d requested IPs", HL_MAX_REQUESTED);
	c->requested[c->nrequested++] = ip;
	return 0;
}

static int on_cni_arg(const char *key, const char *value, void *ctx, struct pn_err *e)
{
	(void)key;   /* only "IP" is known */
	return add_requested(ctx, value, e);
}

static int add_requested_list(struct hl_config *c, const json_t *list, const char *ctx, struct pn_err *e)
{
	json_t *v;
	size_t i;
	int r;

	json_array_foreach(list, i, v) {
		if ((r = pn_json_want(v, JSON_STRING, ctx, e)) < 0 ||
		    (r = add_requested(c, json_string_value(v), e)) < 0)
			return r;
	}
	return 0;
}

int hl_config_load(struct hl_config *c, const json_t *conf, const char *name, const char *version,
		   const char *cni_args, struct pn_err *e)
{
	static const char *const known_args[] = { "IP", NULL };
	json_t *ipam = NULL, *rc = NULL, *args = NULL, *acni = NULL, *list = NULL, *ranges = NULL;
	struct hl_range legacy;
	const char *subnet = NULL;
	size_t nv4 = 0, nv6 = 0, i, j;
	bool bad;
	int r;

	memset(c, 0, sizeof(*c));
	c->name = name;
	c->version = version;
	c->data_dir = HL_DEFAULT_DATA_DIR;
	if ((r = pn_json_object(conf, "Net", "ipam", &ipam, e)) < 0)
		return r;
	if (!ipam)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "IPAM config missing 'ipam' key");
	if ((r = pn_json_string(ipam, "IPAMConfig", "dataDir", &c->data_dir, e)) < 0 ||
	    (r = pn_json_string(ipam, "IPAMConfig", "resolvConf", &c->resolv_conf, e)) < 0 ||
	    (r = pn_json_array(ipam, "IPAMConfig", "routes", &c->routes, e)) < 0 ||
	    (r = pn_json_array(ipam, "IPAMConfig", "ranges", &ranges, e)) < 0 ||
	    (r = pn_json_string(ipam, "IPAMConfig", "subnet", &subnet, e)) < 0 ||
	    (r = pn_json_object(conf, "Net", "runtimeConfig", &rc, e)) < 0 ||
	    (r = pn_json_object(conf, "Net", "args", &args, e)) < 0)
		return r;
	if (!*c->data_dir)
		c->data_dir = HL_DEFAULT_DATA_DIR;

	/* requested addresses: CNI_ARGS IP, then args.cni.ips, then runtimeConfig.ips */
	if ((r = cni_args_parse(cni_args, known_args, on_cni_arg, c, e)) < 0)
		return r;
	if ((r = pn_json_object(args, "Args", "cni", &acni, e)) < 0 ||
	    (r = pn_json_array(acni, "IPAMArgs", "ips", &list, e)) < 0 ||
	    (r = add_requested_list(c, list, "IPAMArgs.ips", e)) < 0 ||
	    (r = pn_json_array(rc, "IPAMRuntimeConfig", "ips", &list, e)) < 0 ||
	    (r = add_requested_list(c, list, "IPAMRuntimeConfig.ips", e)) < 0)
		return r;

	/* range sets: runtimeConfig.ipRanges, then the legacy top-level range, then ranges */
	if ((r = pn_json_array(rc, "IPAMRuntimeConfig", "ipRanges", &list, e)) < 0 ||
	    (r = parse_sets(c, list, e)) < 0)
		return r;
	if (subnet && *subnet) {
		if ((r = parse_range(ipam, &legacy, e)) < 0)
			return r;
		if (c->nsets == HL_MAX_RANGE_SETS)
			return pn_err_set(e, CNI_ERR_INTERNAL, -E2BIG, "more than %d range sets", HL_MAX_RANGE_SETS);
		c->sets[c->nsets].r = malloc(sizeof(legacy));
		if (!c->sets[c->nsets].r)
			return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
		c->sets[c->nsets].r[0] = legacy;
		c->sets[c->nsets++].n = 1;
	}
	if ((r = parse_sets(c, ranges, e)) < 0)
		return r;
	if (!c->nsets)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "no IP ranges specified");
	for (i = 0; i < c->nsets; i++) {
		if ((r = hl_rangeset_canonicalize(&c->sets[i], e)) < 0)
			return pn_err_prefix(e, r, "invalid range set %zu", i);
		if (hl_rangeset_family(&c->sets[i]) == AF_INET)
			nv4++;
		else
			nv6++;
	}
	if ((nv4 > 1 || nv6 > 1) && cni_version_cmp(version, "0.3.0", &bad) < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL,
				  "CNI version %s does not support more than 1 address per family", version);
	for (i = 0; i + 1 < c->nsets; i++)
		for (j = i + 1; j < c->nsets; j++)
			if (hl_rangeset_overlaps(&c->sets[i], &c->sets[j]))
				return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "range set %zu overlaps with %zu", i, j);
	return 0;
}

void hl_config_free(struct hl_config *c)
{
	for (size_t i = 0; i < c->nsets; i++)
		free(c->sets[i].r);
	c->nsets = 0;
}
