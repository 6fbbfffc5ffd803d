/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "healthcheck.h"
#include "hmap.h"
#include "httpd.h"
#include "log.h"
#include "objects.h"

struct hc_svc {
	char ns[64], name[PX_NAME_MAX];
	uint16_t port;             /* wanted; never 0 */
	bool bound;                /* listening: by_port[port] is this one */
	unsigned local_ready;
};

struct px_hc {
	pthread_mutex_t lock;      /* the maps, every hc_svc and v4_only (set vs. the route) */
	struct px_hmap by_name;    /* "ns/name" -> struct hc_svc */
	struct px_hmap by_port;    /* uint16_t port -> the struct hc_svc listening on it */
	size_t nwaiting;           /* Services whose port is not bound */
	struct px_httpd *d;
	struct px_metrics *m;
	struct pn_ip *ips;
	size_t nips;
	bool any;                  /* no ips given: the wildcard address */
	bool v4_only;              /* the wildcard socket is IPv4's */
};

int px_hc_answer(const char *ns, const char *name, unsigned local_ready, bool proxy_healthy,
		 int *status, char **json)
{
	json_t *o = json_pack("{s:{s:s,s:s},s:I,s:b}", "service", "namespace", ns, "name", name,
			      "localEndpoints", (json_int_t)local_ready,
			      "serviceProxyHealthy", proxy_healthy);

	*json = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!*json)
		return -ENOMEM;
	/* kube-proxy's rule: traffic only to a node that has somewhere ready to send it */
	*status = local_ready > 0 && proxy_healthy ? 200 : 503;
	return 0;
}

static void route(void *ctx, struct px_httpd_req *rq)
{
	static const char hdrs[] = "X-Content-Type-Options: nosniff\r\n";
	struct px_hc *hc = ctx;
	uint16_t port = (uint16_t)rq->tag;
	char ns[64], name[PX_NAME_MAX], *json = NULL;
	struct px_hent *e;
	unsigned n = 0;
	bool found;
	int status;

	pthread_mutex_lock(&hc->lock);
	if ((found = (e = px_hmap_get(&hc->by_port, &port, sizeof(port))) != NULL)) {
		struct hc_svc *s = e->val;

		memcpy(ns, s->ns, sizeof(ns));
		memcpy(name, s->name, sizeof(name));
		n = s->local_ready;
	}
	pthread_mutex_unlock(&hc->lock);
	/* any method, any path, as kube-proxy's handler; a server closed after this
	   connection was accepted has nothing to report */
	if (!found)
		px_httpd_error(rq, 503, NULL);
	else if (px_hc_answer(ns, name, n, px_metrics_healthy(hc->m), &status, &json) < 0)
		px_httpd_error(rq, 500, NULL);
	else
		px_httpd_respond(rq, status, "application/json", hdrs, json, strlen(json));
	free(json);
}

static int listen_on(struct px_hc *hc, const struct pn_ip *ip, uint16_t port, const char **step)
{
	struct sockaddr_storage ss = { 0 };
	int fd, bound, r;

	if (!ip) {
		/* all addresses of both families: one dual-stack socket, IPv4 only without IPv6 */
		ss.ss_family = hc->v4_only ? AF_INET : AF_INET6;
	} else {
		ss.ss_family = ip->family;
	}
	if (ss.ss_family == AF_INET) {
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		if (ip)
			memcpy(&((struct sockaddr_in *)&ss)->sin_addr, ip->a, 4);
	} else {
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		if (ip)
			memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, ip->a, 16);
	}
	r = px_httpd_socket(&ss, !ip && ss.ss_family == AF_INET6, &fd, &bound, step);
	if (r == -EAFNOSUPPORT && !ip && !hc->v4_only) {
		hc->v4_only = true;   /* a kernel without IPv6: learnt once */
		return listen_on(hc, NULL, port, step);
	}
	if (r < 0)
		return r;
	*step = "listen";
	return px_httpd_listen(hc->d, fd, port);
}

/* Called with hc->lock held.  Leaves s waiting (logged) when the port cannot be had. */
static int try_bind(struct px_hc *hc, struct hc_svc *s)
{
	struct px_hent *e = px_hmap_get(&hc->by_port, &s->port, sizeof(s->port));
	const char *step = "";
	char a[PN_IP_STRLEN] = "*";
	int r = 0;

	if (e) {
		const struct hc_svc *o = e->val;

		pn_log("podnet-proxy: health check of %s/%s: port %u is already %s/%s's; "
		       "waiting for it", s->ns, s->name, s->port, o->ns, o->name);
		return 0;
	}
	if (!hc->any && !hc->nips) {
		pn_log("podnet-proxy: health check of %s/%s: no local address in "
		       "--nodeport-addresses to listen on", s->ns, s->name);
		return 0;
	}
	for (size_t i = 0; i < (hc->any ? 1 : hc->nips) && r == 0; i++) {
		if (!hc->any)
			pn_ip_format(&hc->ips[i], a);
		r = listen_on(hc, hc->any ? NULL : &hc->ips[i], s->port, &step);
	}
	if (r < 0) {
		px_httpd_unlisten(hc->d, s->port);   /* all of the port or nothing */
		pn_log("podnet-proxy: health check of %s/%s: %s port %u: %s: %s; retried at the "
		       "next change", s->ns, s->name, a, s->port, step, strerror(-r));
		return r == -ENOMEM ? r : 0;
	}
	if (!(e = px_hmap_put(&hc->by_port, &s->port, sizeof(s->port)))) {
		px_httpd_unlisten(hc->d, s->port);
		return -ENOMEM;
	}
	e->val = s;
	s->bound = true;
	hc->nwaiting--;
	return 0;
}

/* Called with hc->lock held: s lets its port go; a Service waiting for it gets it. */
static int release(struct px_hc *hc, struct hc_svc *s)
{
	uint16_t port = s->port;
	struct px_hent *e;

	if (!s->bound)
		return 0;
	px_httpd_unlisten(hc->d, port);
	if ((e = px_hmap_get(&hc->by_port, &port, sizeof(port))))
		px_hmap_del(&hc->by_port, e);
	s->bound = false;
	hc->nwaiting++;
	/* a scan, but only while some Service waits: two Services claiming one port is a
	   misconfiguration (the API server never allocates that) */
	if (hc->nwaiting > 1) {
		px_hmap_foreach(&hc->by_name, i, w) {
			struct hc_svc *o = w->val;

			if (o != s && !o->bound && o->port == port)
				return try_bind(hc, o);
		}
	}
	return 0;
}

int px_hc_set(struct px_hc *hc, const char *ns, const char *name, uint16_t port,
	      unsigned local_ready)
{
	char key[64 + PX_NAME_MAX + 1];
	struct hc_svc *s = NULL;
	struct px_hent *e;
	int klen, r = 0;

	klen = snprintf(key, sizeof(key), "%s/%s", ns, name);
	pthread_mutex_lock(&hc->lock);
	e = px_hmap_get(&hc->by_name, key, (size_t)klen);
	if (e)
		s = e->val;
	if (!port) {
		if (s) {
			r = release(hc, s);
			hc->nwaiting--;
			px_hmap_del(&hc->by_name, e);
			free(s);
		}
		goto out;
	}
	if (!s) {
		if (!(s = calloc(1, sizeof(*s))) || !(e = px_hmap_put(&hc->by_name, key, (size_t)klen))) {
			free(s);
			r = -ENOMEM;
			goto out;
		}
		snprintf(s->ns, sizeof(s->ns), "%s", ns);
		snprintf(s->name, sizeof(s->name), "%s", name);
		e->val = s;
		hc->nwaiting++;
	}
	s->local_ready = local_ready;
	if (s->port != port) {
		if ((r = release(hc, s)) < 0)
			goto out;
		s->port = port;
	}
	if (!s->bound)
		r = try_bind(hc, s);
out:
	pthread_mutex_unlock(&hc->lock);
	return r;
}

bool px_hc_listening(struct px_hc *hc, const char *ns, const char *name)
{
	char key[64 + PX_NAME_MAX + 1];
	struct px_hent *e;
	bool r;
	int klen = snprintf(key, sizeof(key), "%s/%s", ns, name);

	pthread_mutex_lock(&hc->lock);
	e = px_hmap_get(&hc->by_name, key, (size_t)klen);
	r = e && ((struct hc_svc *)e->val)->bound;
	pthread_mutex_unlock(&hc->lock);
	return r;
}

int px_hc_start(struct px_metrics *m, const struct pn_ip *ips, size_t nips, struct px_hc **out,
		struct pn_err *e)
{
	struct px_hc *hc;
	int r;

	*out = NULL;
	if (!(hc = calloc(1, sizeof(*hc))) || (nips && !(hc->ips = calloc(nips, sizeof(*ips))))) {
		free(hc);
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "health-check servers: out of memory");
	}
	if (nips)
		memcpy(hc->ips, ips, nips * sizeof(*ips));
	hc->nips = nips;
	hc->any = !ips;
	hc->m = m;
	pthread_mutex_init(&hc->lock, NULL);
	if ((r = px_httpd_start("health-check", route, hc, &hc->d, e)) < 0) {
		pthread_mutex_destroy(&hc->lock);
		free(hc->ips);
		free(hc);
		return r;
	}
	*out = hc;
	return 0;
}

void px_hc_stop(struct px_hc *hc)
{
	if (!hc)
		return;
	px_httpd_stop(hc->d);   /* closes every listener; the route runs no more */
	px_hmap_foreach(&hc->by_name, i, e)
		free(e->val);
	px_hmap_free(&hc->by_name);
	px_hmap_free(&hc->by_port);
	pthread_mutex_destroy(&hc->lock);
	free(hc->ips);
	free(hc);
}
