/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP engine under the daemon's servers: one thread serving a set of listening
 * sockets that may change while it runs.  http.c puts /metrics and /healthz on it (two
 * fixed listeners), healthcheck.c the per-Service health-check ports (listeners that come
 * and go with Services).
 *
 * Deliberately minimal HTTP/1.1: one request per connection, then `Connection: close`.
 * 400 for a request line that is not HTTP, 431 for a head over 8 KiB; everything else
 * (paths, methods) is the route callback's.  Each connection gets 2 s to send its request
 * head and 5 s to take the answer, and at most 16 are open at once per server, so slow or
 * hostile clients cost bounded memory and time and never stall the sync loop.  The thread
 * blocks all signals; peers that hang up never raise SIGPIPE.
 */
#ifndef PROXY_HTTPD_H
#define PROXY_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"

struct px_httpd;
struct px_httpd_conn;

/* One complete request, handed to the route callback on the server thread. */
struct px_httpd_req {
	const char *method, *path;   /* path without query or fragment */
	bool head;                   /* a HEAD request: px_httpd_respond() leaves the body out */
	uintptr_t tag;               /* the tag of the listener that accepted the connection */
	struct px_httpd_conn *conn;  /* internal */
	double now;                  /* internal */
};

/*
 * Answers with px_httpd_respond() or px_httpd_error() (a request left unanswered gets a
 * 500).  Runs on the server thread, never under the server's own lock: it may take the
 * caller's locks, and the caller may call px_httpd_listen/unlisten while holding them.
 */
typedef void px_httpd_route_fn(void *ctx, struct px_httpd_req *rq);

/* name: for log lines ("health-check").  Returns 0 or a negative errno (e filled). */
int px_httpd_start(const char *name, px_httpd_route_fn *route, void *ctx, struct px_httpd **out,
		   struct pn_err *e);
/* Wakes the thread, joins it, closes every socket and frees d.  NULL is a no-op. */
void px_httpd_stop(struct px_httpd *d);

/* Serves the listening socket fd (taken over: closed by unlisten or stop, or here on -ENOMEM). */
int px_httpd_listen(struct px_httpd *d, int fd, uintptr_t tag);
/* Closes every listener with this tag.  Connections already accepted still get their answer. */
void px_httpd_unlisten(struct px_httpd *d, uintptr_t tag);

/*
 * A non-blocking TCP listening socket bound to *ss (its port included).  dual: an IPv6
 * wildcard that takes IPv4 too.  SO_REUSEADDR, so that a restarted daemon does not fail
 * on its predecessor's TIME_WAIT connections.  *port: the port bound (for port 0).
 * Returns 0 or a negative errno, with *step the call that failed ("bind"...).
 */
int px_httpd_socket(const struct sockaddr_storage *ss, bool dual, int *fd, int *port,
		    const char **step);

/* The answer; extra: more header lines, each ending in "\r\n", or NULL. */
void px_httpd_respond(struct px_httpd_req *rq, int status, const char *ctype, const char *extra,
		      const char *body, size_t blen);
/* Go's http.Error: "STATUS Reason\n" as text/plain with nosniff. */
void px_httpd_error(struct px_httpd_req *rq, int status, const char *extra);

#endif
