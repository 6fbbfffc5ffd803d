/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "httpd.h"

struct px_http {
	struct px_httpd *d;
	int port[2];           /* indexed by enum px_http_which; 0: disabled */
	struct px_metrics *m;
};

static const char *const which_name[] = { "metrics", "healthz" };

/*
 * "HOST:PORT", "[V6]:PORT" or ":PORT" (all addresses).  Numeric hosts only: a name would
 * need a resolver at start-up and could mean different addresses on each restart.
 * *port = -1 means disabled.
 */
static int parse_addr(const char *what, const char *s, struct sockaddr_storage *ss,
		      bool *any, int *port, struct pn_err *e)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *p;
	unsigned long v;
	size_t hl;
	char *end;

	*port = -1;
	*any = false;
	memset(ss, 0, sizeof(*ss));
	if (!s || !*s || !strcmp(s, "0"))
		return 0;
	if (s[0] == '[') {
		if (!(p = strchr(s, ']')) || p[1] != ':')
			goto bad;
		hl = (size_t)(p - s - 1);
		s++;
		colon = p + 1;
	} else {
		if (!(colon = strchr(s, ':')) || strchr(colon + 1, ':'))
			goto bad;   /* no port, or an IPv6 address without brackets */
		hl = (size_t)(colon - s);
	}
	if (hl >= sizeof(host))
		goto bad;
	memcpy(host, s, hl);
	host[hl] = '\0';
	errno = 0;
	v = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end || errno || v > 65535)
		goto bad;

	if (!hl) {
		*any = true;
	} else if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
	} else {
		goto bad;
	}
	*port = (int)v;
	return 0;
bad:
	return pn_err_set(e, CNI_ERR_INVALID_CONFIG, -EINVAL,
			  "%s address \"%s\": want IPv4:PORT, [IPv6]:PORT or :PORT", what, s);
}

/* *fd = -1: disabled */
static int open_listener(enum px_http_which which, const char *addr, unsigned flags, int *fd,
			 int *bound, struct pn_err *e)
{
	const char *what = which_name[which], *step;
	struct sockaddr_storage ss;
	int port, r;
	bool any;

	*fd = -1;
	*bound = 0;
	if ((r = parse_addr(what, addr, &ss, &any, &port, e)) < 0)
		return r;
	if (port < 0 || (port == 0 && !(flags & PX_HTTP_EPHEMERAL)))
		return 0;
	if (any) {
		/* ":PORT" means both families, as Go's net.Listen reads it: one dual-stack socket */
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
		r = px_httpd_socket(&ss, true, fd, bound, &step);
		if (r != -EAFNOSUPPORT)
			goto out;
		memset(&ss, 0, sizeof(ss));
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_ANY);
	}
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	r = px_httpd_socket(&ss, false, fd, bound, &step);
out:
	if (r < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, r, "%s address %s: %s: %s", what, addr, step,
				  strerror(-r));
	return 0;
}

static void route(void *ctx, struct px_httpd_req *rq)
{
	static const char nosniff[] = "X-Content-Type-Options: nosniff\r\n";
	struct px_http *h = ctx;
	bool metrics = rq->tag == PX_HTTP_METRICS;
	bool healthz = !strcmp(rq->path, "/healthz"), livez = !strcmp(rq->path, "/livez");
	char *body = NULL;
	size_t len;
	int status;

	if (metrics ? !healthz && strcmp(rq->path, "/metrics") : !healthz && !livez)
		px_httpd_error(rq, 404, NULL);
	else if (!rq->head && strcmp(rq->method, "GET"))
		px_httpd_error(rq, 405, "Allow: GET, HEAD\r\n");
	else if (metrics && healthz)   /* kube-proxy's metrics server: "is the process up" */
		px_httpd_respond(rq, 200, "text/plain; charset=utf-8", nosniff, "ok", 2);
	else if (metrics && px_metrics_render(h->m, &body, &len) == 0)
		px_httpd_respond(rq, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, body, len);
	else if (!metrics && px_metrics_health(h->m, livez ? PX_LIVEZ : PX_HEALTHZ, &status,
					       &body) == 0)
		px_httpd_respond(rq, status, "application/json", nosniff, body, strlen(body));
	else
		px_httpd_error(rq, 500, NULL);   /* out of memory */
	free(body);
}

int px_http_start_flags(const char *metrics_addr, const char *healthz_addr,
			struct px_metrics *m, unsigned flags, struct px_http **out,
			struct pn_err *e)
{
	int fd[2] = { -1, -1 }, r;
	struct px_http *h;

	*out = NULL;
	if (!(h = calloc(1, sizeof(*h))))
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "http server: out of memory");
	h->m = m;
	/* bound before the thread starts: a bad address or a port in use is reported here */
	if ((r = open_listener(PX_HTTP_METRICS, metrics_addr, flags, &fd[0], &h->port[0], e)) < 0 ||
	    (r = open_listener(PX_HTTP_HEALTHZ, healthz_addr, flags, &fd[1], &h->port[1], e)) < 0)
		goto fail;
	if (fd[0] < 0 && fd[1] < 0) {
		free(h);
		return 0;   /* both disabled: nothing to run */
	}
	if ((r = px_httpd_start("http", route, h, &h->d, e)) < 0)
		goto fail;
	for (int w = 0; w < 2; w++) {
		if (fd[w] >= 0 && (r = px_httpd_listen(h->d, fd[w], (uintptr_t)w)) < 0) {
			fd[w] = -1;   /* closed by px_httpd_listen */
			r = pn_err_set(e, CNI_ERR_INTERNAL, r, "http server: out of memory");
			goto fail;
		}
		fd[w] = -1;
	}
	*out = h;
	return 0;
fail:
	for (int w = 0; w < 2; w++)
		if (fd[w] >= 0)
			close(fd[w]);
	px_httpd_stop(h->d);
	free(h);
	return r;
}

int px_http_start(const char *metrics_addr, const char *healthz_addr, struct px_metrics *m,
		  struct px_http **out, struct pn_err *e)
{
	return px_http_start_flags(metrics_addr, healthz_addr, m, 0, out, e);
}

int px_http_port(const struct px_http *h, enum px_http_which which)
{
	return h ? h->port[which] : 0;
}

void px_http_stop(struct px_http *h)
{
	if (!h)
		return;
	px_httpd_stop(h->d);
	free(h);
}
