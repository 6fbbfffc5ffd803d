/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube-proxy's per-Service health-check servers (research/proxy.md §1.14): for each
 * LoadBalancer Service with externalTrafficPolicy Local and a spec.healthCheckNodePort,
 * a TCP server on that port that answers any path with
 *   {"service":{"namespace":"NS","name":"NAME"},"localEndpoints":N,"serviceProxyHealthy":B}
 * 200 if N > 0 and the proxy is healthy (/healthz), else 503.  Cloud load balancers probe it
 * to send traffic only to nodes with a ready endpoint; N counts this node's ready
 * endpoints only, so a node whose endpoints are all terminating drains although they still
 * serve.
 *
 * Every server runs on one thread (httpd.h), one listener per node address.  The sync loop
 * says what each changed Service needs with px_hc_set(); a port that cannot be bound (in
 * use, or the address not there yet) is logged and tried again at that Service's next
 * change, or when the Service holding the port lets it go.
 */
#ifndef PROXY_HEALTHCHECK_H
#define PROXY_HEALTHCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "ip.h"
#include "metrics.h"

struct px_hc;

/*
 * Starts the (idle) server thread.  ips: the addresses to listen on (the local ones in
 * --nodeport-addresses; nips 0: none); NULL: the wildcard address of both families.  They are
 * copied; m must outlive the servers.  Returns 0 or a negative errno (e filled).
 */
int px_hc_start(struct px_metrics *m, const struct pn_ip *ips, size_t nips, struct px_hc **out,
		struct pn_err *e);

/*
 * The health-check server of Service ns/name: on port `port` with `local_ready` ready
 * endpoints on this node.  Port 0 removes it (Service gone or no longer LoadBalancer
 * with eTP Local); a changed port moves it.  Only -ENOMEM is an error: bind failures are
 * logged and the port retried later.  Thread-safe.
 */
int px_hc_set(struct px_hc *hc, const char *ns, const char *name, uint16_t port,
	      unsigned local_ready);

/* Whether ns/name's server is listening (tests). */
bool px_hc_listening(struct px_hc *hc, const char *ns, const char *name);

/* Closes every server and frees hc.  NULL is a no-op. */
void px_hc_stop(struct px_hc *hc);

/* The answer for one Service: *status 200 or 503, *json malloc'ed.  Returns 0 or -ENOMEM. */
int px_hc_answer(const char *ns, const char *name, unsigned local_ready, bool proxy_healthy,
		 int *status, char **json);

#endif
