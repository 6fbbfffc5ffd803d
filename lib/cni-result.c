/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Result conversion between the canonical 1.x shape and every spec version, printed
 * with the reference's layout: struct field order and "dns": {} for 0.x and 1.0.0 (as
 * the plugins built on libcni 1.0/1.1, Debian's included, print them), keys sorted and
 * empty dns omitted for 1.1.0 (as the plugins that first spoke 1.1.0 print them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"
#include "ip.h"
#include "json.h"

static const char *const iface_keys_1x[] = { "name", "mac", "mtu", "sandbox", "socketPath", "pciID", NULL };
static const char *const iface_keys_04[] = { "name", "mac", "sandbox", NULL };
static const char *const route_keys[] = { "dst", "gw", "mtu", "advmss", "priority", "table", "scope", NULL };
static const char *const dns_keys[] = { "nameservers", "domain", "search", "options", NULL };

static bool is_empty(const json_t *v)
{
	return !v || json_is_null(v) || (json_is_array(v) && !json_array_size(v)) ||
	       (json_is_object(v) && !json_object_size(v)) ||
	       (json_is_string(v) && !json_string_length(v));
}

/* Copies keys in the given order, leaving out empty values (Go's omitempty). */
static json_t *copy_keys(const json_t *src, const char *const keys[])
{
	json_t *o = json_object();

	for (int i = 0; keys[i]; i++) {
		json_t *v = pn_json_get(src, keys[i]);

		if (!is_empty(v) && !(json_is_integer(v) && !json_integer_value(v)))
			json_object_set(o, keys[i], v);
	}
	return o;
}

static json_t *copy_list(const json_t *list, const char *const keys[])
{
	json_t *out = json_array(), *v;
	size_t i;

	json_array_foreach(list, i, v)
		json_array_append_new(out, copy_keys(v, keys));
	return out;
}

static int ip_family_of(const json_t *ipconf, struct pn_prefix *p)
{
	const char *addr = json_string_value(pn_json_get(ipconf, "address"));

	return addr && pn_prefix_parse(addr, p) == 0 ? p->ip.family : 0;
}

static json_t *ip_entry(const json_t *src, bool with_version)
{
	json_t *o = json_object(), *v;
	struct pn_prefix p;

	if (with_version)
		json_object_set_new(o, "version", json_string(ip_family_of(src, &p) == AF_INET6 ? "6" : "4"));
	/* interface 0 is a valid index: it is omitted only when absent */
	if ((v = pn_json_get(src, "interface")))
		json_object_set(o, "interface", v);
	if ((v = pn_json_get(src, "address")))
		json_object_set(o, "address", v);
	if (!is_empty(v = pn_json_get(src, "gateway")))
		json_object_set(o, "gateway", v);
	return o;
}

/* 0.1.0 / 0.2.0: the first address of each family, routes split by family. */
static int convert_020(const json_t *canon, json_t *out, struct pn_err *e)
{
	json_t *ips = pn_json_get(canon, "ips"), *routes = pn_json_get(canon, "routes"), *v;
	bool have[2] = { false, false };
	size_t i;

	json_array_foreach(ips, i, v) {
		struct pn_prefix p;
		int fam = ip_family_of(v, &p), k = fam == AF_INET6;
		json_t *o, *rl = json_array(), *r;
		size_t j;

		if (!fam)
			continue;
		if (have[k]) {
			json_decref(rl);
			continue;  /* the caller checked that at most one per family is asked for */
		}
		have[k] = true;
		o = json_object();
		json_object_set(o, "ip", pn_json_get(v, "address"));
		if (!is_empty(pn_json_get(v, "gateway")))
			json_object_set(o, "gateway", pn_json_get(v, "gateway"));
		json_array_foreach(routes, j, r) {
			struct pn_prefix d;
			const char *dst = json_string_value(pn_json_get(r, "dst"));

			if (dst && !pn_prefix_parse(dst, &d) && d.ip.family == fam)
				json_array_append_new(rl, copy_keys(r, route_keys));
		}
		if (json_array_size(rl))
			json_object_set(o, "routes", rl);
		json_decref(rl);
		json_object_set_new(out, k ? "ip6" : "ip4", o);
	}
	if (!have[0] && !have[1])
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "cannot convert: no valid IP addresses");
	return 0;
}

int cni_result_convert(const json_t *canon, const char *version, json_t **out, struct pn_err *e)
{
	json_t *o = json_object(), *v;
	bool bad, v1 = cni_version_cmp(version, "1.0.0", &bad) >= 0;
	bool v11 = cni_version_cmp(version, "1.1.0", &bad) >= 0;
	json_t *dns = copy_keys(pn_json_get(canon, "dns"), dns_keys);

	*out = NULL;
	json_object_set_new(o, "cniVersion", json_string(version));
	if (cni_version_cmp(version, "0.3.0", &bad) < 0) {
		if (convert_020(canon, o, e) < 0) {
			json_decref(o);
			json_decref(dns);
			return -EINVAL;
		}
	} else {
		if (!is_empty(v = pn_json_get(canon, "interfaces")))
			json_object_set_new(o, "interfaces", copy_list(v, v1 ? iface_keys_1x : iface_keys_04));
		if (!is_empty(v = pn_json_get(canon, "ips"))) {
			json_t *l = json_array(), *ip;
			size_t i;

			json_array_foreach(v, i, ip)
				json_array_append_new(l, ip_entry(ip, !v1));
			json_object_set_new(o, "ips", l);
		}
		if (!is_empty(v = pn_json_get(canon, "routes")))
			json_object_set_new(o, "routes", copy_list(v, route_keys));
	}
	if (json_object_size(dns) || !v11)
		json_object_set(o, "dns", dns);
	json_decref(dns);
	*out = o;
	return 0;
}

int cni_result_print(const json_t *canon, const char *version, struct pn_err *e)
{
	json_t *o;
	char *s;
	bool bad;
	size_t flags = JSON_INDENT(4);

	if (cni_result_convert(canon, version, &o, e) < 0)
		return -EINVAL;
	if (cni_version_cmp(version, "1.1.0", &bad) >= 0)
		flags |= JSON_SORT_KEYS;
	s = json_dumps(o, flags);
	json_decref(o);
	if (!s)
		return pn_err_set(e, CNI_ERR_IO, -ENOMEM, "failed to encode result");
	fputs(s, stdout);
	free(s);
	return 0;
}

void cni_error_print(const struct pn_err *e)
{
	json_t *o = json_pack("{s:i, s:s}", "code", e->code ? e->code : CNI_ERR_INTERNAL, "msg", e->msg);
	char *s;

	if (e->details[0])
		json_object_set_new(o, "details", json_string(e->details));
	s = json_dumps(o, JSON_INDENT(4));
	if (s)
		fputs(s, stdout);
	fflush(stdout);
	free(s);
	json_decref(o);
}

static int check_ips(const json_t *ips, struct pn_err *e)
{
	json_t *v;
	size_t i;

	if (ips && !json_is_array(ips))
		return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "failed to parse result: ips is not a list");
	json_array_foreach(ips, i, v) {
		struct pn_prefix p;
		struct pn_ip gw;
		json_t *g = pn_json_get(v, "gateway");

		if (!ip_family_of(v, &p))
			return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "failed to parse result: ips[%zu]: invalid address", i);
		if (g && (!json_is_string(g) || pn_ip_parse(json_string_value(g), &gw) < 0))
			return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "failed to parse result: ips[%zu]: invalid gateway", i);
	}
	return 0;
}

int cni_result_parse(const json_t *in, const char *version, json_t **canon, struct pn_err *e)
{
	json_t *o, *ips = json_array(), *routes = json_array(), *v;
	bool bad;

	*canon = NULL;
	if (!json_is_object(in)) {
		json_decref(ips);
		json_decref(routes);
		return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "failed to parse result: not an object");
	}
	o = json_object();
	if (cni_version_cmp(version, "0.3.0", &bad) < 0) {
		const char *fam[] = { "ip4", "ip6" };

		for (int k = 0; k < 2; k++) {
			json_t *ipc = pn_json_get(in, fam[k]), *r;
			size_t i;

			if (!json_is_object(ipc))
				continue;
			json_array_append_new(ips, json_pack("{s:O*, s:O*}", "address", pn_json_get(ipc, "ip"),
							     "gateway", pn_json_get(ipc, "gateway")));
			json_array_foreach(pn_json_get(ipc, "routes"), i, r)
				json_array_append_new(routes, copy_keys(r, route_keys));
		}
	} else {
		json_t *ip;
		size_t i;

		if ((v = pn_json_get(in, "interfaces")) && json_is_array(v))
			json_object_set_new(o, "interfaces", copy_list(v, iface_keys_1x));
		json_array_foreach(pn_json_get(in, "ips"), i, ip)
			json_array_append_new(ips, ip_entry(ip, false));
		if ((v = pn_json_get(in, "routes")) && json_is_array(v)) {
			json_decref(routes);
			routes = copy_list(v, route_keys);
		}
	}
	json_object_set_new(o, "ips", ips);
	json_object_set_new(o, "routes", routes);
	if ((v = pn_json_get(in, "dns")) && json_is_object(v))
		json_object_set_new(o, "dns", copy_keys(v, dns_keys));
	if (check_ips(pn_json_get(in, "ips") && !json_is_array(pn_json_get(in, "ips")) ?
		      pn_json_get(in, "ips") : ips, e) < 0) {
		json_decref(o);
		return -EINVAL;
	}
	*canon = o;
	return 0;
}
