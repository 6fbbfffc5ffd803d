/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's two local HTTP servers, on one thread of their own (research/proxy.md §1.14):
 *   metrics address (kube-proxy default 127.0.0.1:10249): GET /metrics, and /healthz -> "ok"
 *     (kube-proxy's metrics server answers that too: a plain "is the process up");
 *   healthz address (kube-proxy default 0.0.0.0:10256): GET /healthz, /livez (JSON).
 *
 * GET and HEAD; 404 for other paths, 405 for other methods.  The HTTP itself (limits,
 * timeouts, 400 and 431) is httpd.h's, whose thread serves both; that thread only takes
 * the metrics mutex to copy a few numbers, so it never stalls the sync loop.
 */
#ifndef PROXY_HTTP_H
#define PROXY_HTTP_H

#include "err.h"
#include "metrics.h"

struct px_http;

enum px_http_which { PX_HTTP_METRICS, PX_HTTP_HEALTHZ };

/* "HOST:PORT" on which port 0 binds a port the kernel picks (tests); see px_http_port() */
#define PX_HTTP_EPHEMERAL 1u

/*
 * Binds and listens on both addresses, then starts the thread, so that a bad address or a
 * port in use is reported here (as CNI_ERR_INTERNAL with -errno), not lost in the thread.
 * Addresses: "1.2.3.4:PORT", "[2001:db8::1]:PORT", or ":PORT" for all addresses of both
 * families.  NULL, "" or port 0 disables that server (kube-proxy's "0 disables");
 * with PX_HTTP_EPHEMERAL in flags port 0 binds an ephemeral port instead.  Host names
 * are not resolved.  m must outlive the server.  The thread blocks all signals, so the
 * daemon's handlers run on its own threads; peers that hang up never raise SIGPIPE.
 * Returns 0 or a negative errno; *out is NULL when both are disabled.
 */
int px_http_start(const char *metrics_addr, const char *healthz_addr, struct px_metrics *m,
		  struct px_http **out, struct pn_err *e);
int px_http_start_flags(const char *metrics_addr, const char *healthz_addr,
			struct px_metrics *m, unsigned flags, struct px_http **out,
			struct pn_err *e);

/* The port one server listens on (host order), 0 if disabled. */
int px_http_port(const struct px_http *h, enum px_http_which which);

/* Wakes the thread, joins it, closes every socket and frees h.  NULL is a no-op. */
void px_http_stop(struct px_http *h);

#endif
