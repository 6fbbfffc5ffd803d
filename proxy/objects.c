/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objects.h"

const char *px_proto_name(enum px_proto p)
{
	return p == PX_UDP ? "UDP" : p == PX_SCTP ? "SCTP" : "TCP";
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static int proto(const json_t *o, enum px_proto *p, const char *what, struct pn_err *e)
{
	const char *s = str(o, "protocol");

	if (!*s || !strcmp(s, "TCP"))
		*p = PX_TCP;
	else if (!strcmp(s, "UDP"))
		*p = PX_UDP;
	else if (!strcmp(s, "SCTP"))
		*p = PX_SCTP;
	else
		return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "%s: unknown protocol \"%s\"", what, s);
	return 0;
}

static int port_number(const json_t *v, bool allow_zero, const char *what, uint16_t *out, struct pn_err *e)
{
	json_int_t n;

	if (!v) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || (n = json_integer_value(v)) < (allow_zero ? 0 : 1) || n > 65535)
		return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "%s: invalid port", what);
	*out = (uint16_t)n;
	return 0;
}

static int ip_list(const json_t *list, struct pn_ip *out, size_t max, size_t *n, const char *what, struct pn_err *e)
{
	json_t *v;
	size_t i;

	*n = 0;
	json_array_foreach(list, i, v) {
		if (*n == max)
			break;
		if (!json_is_string(v) || pn_ip_parse(json_string_value(v), &out[*n]) < 0)
			return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "%s: invalid address %s", what,
					  json_is_string(v) ? json_string_value(v) : "(not a string)");
		(*n)++;
	}
	return 0;
}

/*
 * kube-proxy lists Services and EndpointSlices with the label selector
 * "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless" (KEP-2447):
 * objects carrying either label, whatever its value, belong to another proxy or to none.
 */
static bool excluded_by_label(const json_t *meta)
{
	const json_t *labels = json_object_get(meta, "labels");

	return json_object_get(labels, "service.kubernetes.io/service-proxy-name") ||
	       json_object_get(labels, "service.kubernetes.io/headless");
}

static int parse_service(const json_t *o, struct px_service *s, struct pn_err *e)
{
	const json_t *meta = json_object_get(o, "metadata"), *spec = json_object_get(o, "spec"), *v, *p;
	const char *type, *ip;
	char what[PX_NAME_MAX + 80];
	size_t i;
	int r;

	memset(s, 0, sizeof(*s));
	snprintf(s->ns, sizeof(s->ns), "%s", *str(meta, "namespace") ? str(meta, "namespace") : "default");
	snprintf(s->name, sizeof(s->name), "%s", str(meta, "name"));
	snprintf(what, sizeof(what), "Service %s/%s", s->ns, s->name);
	if (!s->name[0])
		return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "Service without metadata.name");
	/* before any validation: kube-proxy never sees such an object, so it cannot fail a file */
	if (excluded_by_label(meta))
		return 1;   /* not the proxy's */
	type = str(spec, "type");
	if (!*type || !strcmp(type, "ClusterIP"))
		s->type = PX_CLUSTER_IP;
	else if (!strcmp(type, "NodePort"))
		s->type = PX_NODE_PORT;
	else if (!strcmp(type, "LoadBalancer"))
		s->type = PX_LOAD_BALANCER;
	else if (!strcmp(type, "ExternalName"))
		return 1;   /* not the proxy's */
	else
		return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "%s: unknown type \"%s\"", what, type);
	/* clusterIPs[0] is the primary; clusterIP alone for older manifests; None: headless */
	if ((v = json_object_get(spec, "clusterIPs")) && json_is_array(v) && json_array_size(v)) {
		const char *first = json_string_value(json_array_get(v, 0));

		if ((!first || strcmp(first, "None")) && (r = ip_list(v, s->cluster_ips, 2, &s->ncluster, what, e)) < 0)
			return r;
	} else if (*(ip = str(spec, "clusterIP")) && strcmp(ip, "None")) {
		if (pn_ip_parse(ip, &s->cluster_ips[0]) < 0)
			return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "%s: invalid clusterIP %s", what, ip);
		s->ncluster = 1;
	}
	if ((r = ip_list(json_object_get(spec, "externalIPs"), s->external_ips, PX_MAX_ADDRS, &s->nexternal, what, e)) < 0)
		return r;
	json_array_foreach(json_object_get(json_object_get(json_object_get(o, "status"), "loadBalancer"), "ingress"), i, v) {
		const char *mode = str(v, "ipMode");

		if (*str(v, "ip") && (!*mode || !strcmp(mode, "VIP")) && s->nlb < PX_MAX_ADDRS &&
		    pn_ip_parse(str(v, "ip"), &s->lb_ips[s->nlb]) == 0)
			s->nlb++;
	}
	json_array_foreach(json_object_get(spec, "loadBalancerSourceRanges"), i, v) {
		char buf[64];
		const char *t = json_string_value(v);

		if (!t || s->nranges == PX_MAX_ADDRS)
			continue;
		/* kube-proxy trims whitespace; a bare address is a /32 or /128 */
		while (*t == ' ')
			t++;
		snprintf(buf, sizeof(buf), "%s", t);
		buf[strcspn(buf, " ")] = '\0';
		if (pn_prefix_parse(buf, &s->lb_ranges[s->nranges]) < 0) {
			if (pn_ip_parse(buf, &s->lb_ranges[s->nranges].ip) < 0)
				return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "%s: invalid loadBalancerSourceRange %s", what, buf);
			s->lb_ranges[s->nranges].len = (uint8_t)pn_ip_bits(&s->lb_ranges[s->nranges].ip);
		}
		s->nranges++;
	}
	s->affinity = !strcmp(str(spec, "sessionAffinity"), "ClientIP");
	s->affinity_timeout = 10800;
	v = json_object_get(json_object_get(json_object_get(spec, "sessionAffinityConfig"), "clientIP"), "timeoutSeconds");
	if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) <= 86400)
		s->affinity_timeout = (uint32_t)json_integer_value(v);
	s->etp_local = !strcmp(str(spec, "externalTrafficPolicy"), "Local");
	s->itp_local = !strcmp(str(spec, "internalTrafficPolicy"), "Local");
	if ((r = port_number(json_object_get(spec, "healthCheckNodePort"), true, what, &s->health_check_node_port, e)) < 0)
		return r;
	json_array_foreach(json_object_get(spec, "ports"), i, p) {
		struct px_svc_port *sp;

		if (s->nports == PX_MAX_PORTS)
			return pn_err_set(e, CNI_ERR_DECODE, -E2BIG, "%s: more than %d ports", what, PX_MAX_PORTS);
		sp = &s->ports[s->nports];
		snprintf(sp->name, sizeof(sp->name), "%s", str(p, "name"));
		if ((r = proto(p, &sp->proto, what, e)) < 0 ||
		    (r = port_number(json_object_get(p, "port"), false, what, &sp->port, e)) < 0 ||
		    (r = port_number(json_object_get(p, "nodePort"), true, what, &sp->node_port, e)) < 0)
			return r;
		if (!sp->port)
			return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "%s: a port without a number", what);
		s->nports++;
	}
	return 0;
}

/* [{name: a}, {name: b}] -> "a,b" (names that do not fit are left out) */
static void hints(const json_t *list, char *out, size_t size)
{
	const json_t *h;
	size_t i, len = 0;

	out[0] = '\0';
	json_array_foreach(list, i, h) {
		const char *name = str(h, "name");
		size_t n = strlen(name);

		if (!n || len + n + 2 > size)
			continue;
		if (len)
			out[len++] = ',';
		memcpy(out + len, name, n + 1);
		len += n;
	}
}

static int parse_node(const json_t *o, struct px_node *n, struct pn_err *e)
{
	const json_t *meta = json_object_get(o, "metadata");

	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", str(meta, "name"));
	if (!n->name[0])
		return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "Node without metadata.name");
	snprintf(n->zone, sizeof(n->zone), "%s", str(json_object_get(meta, "labels"), "topology.kubernetes.io/zone"));
	return 0;
}

static int parse_service_cidr(const json_t *o, struct px_service_cidr *c, struct pn_err *e)
{
	const json_t *v;
	size_t i;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", str(json_object_get(o, "metadata"), "name"));
	if (!c->name[0])
		return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "ServiceCIDR without metadata.name");
	json_array_foreach(json_object_get(json_object_get(o, "spec"), "cidrs"), i, v) {
		if (c->ncidrs == 2)
			return pn_err_set(e, CNI_ERR_DECODE, -E2BIG, "ServiceCIDR %s: more than 2 cidrs", c->name);
		if (!json_is_string(v) || pn_prefix_parse(json_string_value(v), &c->cidrs[c->ncidrs]) < 0)
			return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "ServiceCIDR %s: invalid CIDR", c->name);
		c->ncidrs++;
	}
	return 0;
}

static bool cond(const json_t *conds, const char *key, bool dflt)
{
	const json_t *v = json_object_get(conds, key);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static int parse_slice(const json_t *o, struct px_slice *s, struct pn_err *e)
{
	const json_t *meta = json_object_get(o, "metadata"), *v, *ep;
	const char *type = str(o, "addressType");
	char what[PX_NAME_MAX + 80];
	size_t i;
	int r;

	memset(s, 0, sizeof(*s));
	snprintf(s->ns, sizeof(s->ns), "%s", *str(meta, "namespace") ? str(meta, "namespace") : "default");
	snprintf(s->name, sizeof(s->name), "%s", str(meta, "name"));
	snprintf(s->service, sizeof(s->service), "%s", str(json_object_get(meta, "labels"), "kubernetes.io/service-name"));
	snprintf(what, sizeof(what), "EndpointSlice %s/%s", s->ns, s->name);
	if (!s->name[0])
		return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "EndpointSlice without metadata.name");
	if (excluded_by_label(meta))
		return 1;   /* not the proxy's (the controller copies the Service's labels) */
	if (!s->service[0])
		return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "%s: no kubernetes.io/service-name label", what);
	if (!strcmp(type, "IPv4"))
		s->family = AF_INET;
	else if (!strcmp(type, "IPv6"))
		s->family = AF_INET6;
	else if (!strcmp(type, "FQDN"))
		return 1;   /* not the proxy's */
	else
		return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "%s: unknown addressType \"%s\"", what, type);
	json_array_foreach(json_object_get(o, "ports"), i, v) {
		if (s->nports == PX_MAX_PORTS)
			return pn_err_set(e, CNI_ERR_DECODE, -E2BIG, "%s: more than %d ports", what, PX_MAX_PORTS);
		snprintf(s->ports[s->nports].name, sizeof(s->ports[0].name), "%s", str(v, "name"));
		if ((r = proto(v, &s->ports[s->nports].proto, what, e)) < 0 ||
		    (r = port_number(json_object_get(v, "port"), true, what, &s->ports[s->nports].port, e)) < 0)
			return r;
		if (s->ports[s->nports].port)   /* nil or 0 means "all ports": ignored, as kube-proxy does */
			s->nports++;
	}
	v = json_object_get(o, "endpoints");
	s->eps = calloc(json_array_size(v) + 1, sizeof(*s->eps));
	if (!s->eps)
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	json_array_foreach(v, i, ep) {
		const json_t *c = json_object_get(ep, "conditions");
		struct px_endpoint *x = &s->eps[s->neps];
		const char *a = json_string_value(json_array_get(json_object_get(ep, "addresses"), 0));

		if (!a || pn_ip_parse(a, &x->addr) < 0 || x->addr.family != s->family)
			return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "%s: endpoint %zu: invalid address", what, i);
		/* nil ready means ready; nil serving defers to ready; nil terminating is false */
		x->ready = cond(c, "ready", true);
		x->serving = cond(c, "serving", x->ready);
		x->terminating = cond(c, "terminating", false);
		snprintf(x->node, sizeof(x->node), "%s", str(ep, "nodeName"));
		hints(json_object_get(json_object_get(ep, "hints"), "forZones"), x->zone_hints, sizeof(x->zone_hints));
		hints(json_object_get(json_object_get(ep, "hints"), "forNodes"), x->node_hints, sizeof(x->node_hints));
		s->neps++;
	}
	return 0;
}

void px_slice_free(struct px_slice *s)
{
	free(s->eps);
	s->eps = NULL;
	s->neps = 0;
}

static int parse_one(const json_t *o, const struct px_objects_cb *cb, struct pn_err *e)
{
	const char *kind = str(o, "kind"), *api = str(o, "apiVersion");
	int r;

	if (!json_is_object(o))
		return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "not an object");
	if (!strcmp(kind, "List") || (strlen(kind) > 4 && !strcmp(kind + strlen(kind) - 4, "List"))) {
		json_t *item;
		size_t i;

		json_array_foreach(json_object_get(o, "items"), i, item)
			if ((r = parse_one(item, cb, e)) < 0)
				return r;
		return 0;
	}
	if (!strcmp(kind, "Service") && !strcmp(api, "v1")) {
		struct px_service s;

		if ((r = parse_service(o, &s, e)) == 0 && cb->service)
			cb->service(&s, cb->ctx);
		return r < 0 ? r : 0;
	}
	if (!strcmp(kind, "EndpointSlice") && !strcmp(api, "discovery.k8s.io/v1")) {
		struct px_slice s;

		r = parse_slice(o, &s, e);
		if (r == 0 && cb->slice)
			cb->slice(&s, cb->ctx);
		else
			px_slice_free(&s);
		return r < 0 ? r : 0;
	}
	if (!strcmp(kind, "Node") && !strcmp(api, "v1")) {
		struct px_node n;

		if ((r = parse_node(o, &n, e)) == 0 && cb->node)
			cb->node(&n, cb->ctx);
		return r < 0 ? r : 0;
	}
	if (!strcmp(kind, "ServiceCIDR") && !strncmp(api, "networking.k8s.io/", 18)) {
		struct px_service_cidr c;

		if ((r = parse_service_cidr(o, &c, e)) == 0 && cb->service_cidr)
			cb->service_cidr(&c, cb->ctx);
		return r < 0 ? r : 0;
	}
	return 0;   /* other kinds: not ours */
}

int px_objects_parse(const json_t *doc, const struct px_objects_cb *cb, struct pn_err *e)
{
	return parse_one(doc, cb, e);
}
