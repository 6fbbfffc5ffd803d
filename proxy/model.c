/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

struct cand {
	struct px_backend b;
	bool ready, serving_terminating;
	const struct px_endpoint *ep;      /* for its topology hints */
};

/* name in a comma-separated list */
static bool has(const char *list, const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!n)
		return false;
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && !strncmp(p, name, n))
			return true;
		p += len + (end ? 1 : 0);
	}
	return false;
}

enum topo { T_NONE, T_NODE, T_ZONE };

/*
 * kube-proxy's topologyModeFromHints: when every ready endpoint has node hints and one
 * names this node, PreferSameNode; else when every one has zone hints and one names this
 * node's zone, PreferSameZone; else no filter.
 */
static enum topo topology_mode(const struct cand *c, size_t n, const char *node, const char *zone)
{
	bool any_ready = false, all_node = true, for_node = false, all_zone = true, for_zone = false;

	for (size_t i = 0; i < n; i++) {
		if (!c[i].ready)
			continue;
		any_ready = true;
		if (!c[i].ep->node_hints[0])
			all_node = false;
		else if (has(c[i].ep->node_hints, node))
			for_node = true;
		if (!c[i].ep->zone_hints[0])
			all_zone = false;
		else if (has(c[i].ep->zone_hints, zone))
			for_zone = true;
	}
	if (!any_ready)
		return T_NONE;
	if (all_node && for_node)
		return T_NODE;
	if (all_zone && for_zone)
		return T_ZONE;
	return T_NONE;
}

static bool available(const struct cand *c, enum topo mode, const char *node, const char *zone)
{
	return mode == T_NONE || (mode == T_NODE && has(c->ep->node_hints, node)) ||
	       (mode == T_ZONE && has(c->ep->zone_hints, zone));
}

static bool same(const struct px_backend *a, const struct px_backend *b)
{
	return a->port == b->port && pn_ip_eq(&a->addr, &b->addr);
}

/* Adds unless already there; a local duplicate wins over a remote one. */
static void add(struct cand *v, size_t *n, const struct cand *c)
{
	for (size_t i = 0; i < *n; i++) {
		if (same(&v[i].b, &c->b)) {
			if (c->b.local && !v[i].b.local)
				v[i] = *c;
			return;
		}
	}
	v[(*n)++] = *c;
}

int px_backends_for(const struct px_service *svc, const struct px_svc_port *port, int family,
		    const struct px_slice *slices, size_t nslices, const char *node,
		    struct px_backends *out, struct pn_err *e)
{
	const struct px_slice **refs = calloc(nslices + 1, sizeof(*refs));
	int r;

	if (!refs)
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	for (size_t i = 0; i < nslices; i++)
		refs[i] = &slices[i];
	r = px_backends_of(svc, port, family, refs, nslices, node, NULL, out, e);
	free(refs);
	return r;
}

int px_backends_of(const struct px_service *svc, const struct px_svc_port *port, int family,
		   const struct px_slice *const *slices, size_t nslices, const char *node, const char *zone,
		   struct px_backends *out, struct pn_err *e)
{
	enum topo mode;
	bool any_avail_ready = false;
	size_t total = 0, n = 0;
	struct cand *c;
	bool any_local_ready = false;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < nslices; i++)
		total += slices[i]->neps;
	c = calloc(total + 1, sizeof(*c));
	out->cluster = calloc(total + 1, sizeof(*out->cluster));
	out->local = calloc(total + 1, sizeof(*out->local));
	if (!c || !out->cluster || !out->local) {
		free(c);
		px_backends_free(out);
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < nslices; i++) {
		const struct px_slice *s = slices[i];
		uint16_t target = 0;

		if (s->family != family || strcmp(s->ns, svc->ns) || strcmp(s->service, svc->name))
			continue;
		/* the Service port name joins the slice port name; the slice port is the target */
		for (size_t k = 0; k < s->nports && !target; k++)
			if (!strcmp(s->ports[k].name, port->name) && s->ports[k].proto == port->proto)
				target = s->ports[k].port;
		if (!target)
			continue;
		for (size_t k = 0; k < s->neps; k++) {
			const struct px_endpoint *ep = &s->eps[k];
			struct cand x = {
				.b = { .addr = ep->addr, .port = target, .local = node && *node && !strcmp(ep->node, node) },
				.ready = ep->ready,
				.serving_terminating = ep->serving && ep->terminating,
				.ep = ep,
			};

			if (x.ready || x.serving_terminating)
				add(c, &n, &x);
		}
	}
	for (size_t i = 0; i < n; i++) {
		any_local_ready |= c[i].ready && c[i].b.local;
	}
	/* ready endpoints, or, when there are none, the serving terminating ones; the cluster
	   ones filtered by topology hints (the local ones are this node's anyway) */
	mode = topology_mode(c, n, node, zone);
	for (size_t i = 0; i < n; i++)
		any_avail_ready |= c[i].ready && available(&c[i], mode, node, zone);
	out->cluster_fallback = !any_avail_ready;
	out->local_fallback = !any_local_ready;
	for (size_t i = 0; i < n; i++) {
		if ((any_avail_ready ? c[i].ready : c[i].serving_terminating) && available(&c[i], mode, node, zone))
			out->cluster[out->ncluster++] = c[i].b;
		if (c[i].b.local && (any_local_ready ? c[i].ready : c[i].serving_terminating))
			out->local[out->nlocal++] = c[i].b;
	}
	free(c);
	return 0;
}

void px_backends_free(struct px_backends *b)
{
	free(b->cluster);
	free(b->local);
	b->cluster = b->local = NULL;
	b->ncluster = b->nlocal = 0;
}
