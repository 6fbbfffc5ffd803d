/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What podnet-proxy reports on /metrics and answers on /healthz and /livez
 * (research/proxy.md §1.14, §1.15).  One mutex guards everything: the sync loop writes a
 * handful of numbers per sync and the HTTP thread reads them per scrape, so contention is
 * nil and a single lock keeps every rendering self-consistent.
 *
 * Names follow kube-proxy's with "kubeproxy_" replaced by "podnet_proxy_", so dashboards
 * port by a prefix change.  Like kube-proxy there are three duration histograms, every
 * sync in the first and each sync again in either the full or the partial one:
 *   podnet_proxy_sync_proxy_rules_duration_seconds
 *   podnet_proxy_sync_full_proxy_rules_duration_seconds
 *   podnet_proxy_sync_partial_proxy_rules_duration_seconds
 * (no ip_family label: the daemon programs both families in one sync).
 *
 * Time comes as a struct px_time holding both clocks: wall-clock seconds are what the
 * gauges and JSON show, monotonic seconds decide staleness, so a clock step can neither
 * fake nor hide a stuck sync loop.  The *_at() variants take the time from the caller
 * (tests); the others read the clocks.
 */
#ifndef PROXY_METRICS_H
#define PROXY_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* kube-proxy's SyncProxyRulesLatency: metrics.ExponentialBuckets(0.001, 2, 15), 1 ms .. 16.384 s */
#define PX_METRICS_NBUCKETS 15
#define PX_METRICS_BUCKET_START 0.001
#define PX_METRICS_BUCKET_FACTOR 2.0

/* kube-proxy's healthTimeout is 2 x syncPeriod; its default syncPeriod is 30 s */
#define PX_HEALTH_TIMEOUT_DEFAULT 60.0

struct px_time {
	double real;   /* CLOCK_REALTIME, seconds since the epoch */
	double mono;   /* CLOCK_MONOTONIC, seconds */
};

struct px_histogram {
	uint64_t buckets[PX_METRICS_NBUCKETS];   /* per bucket, not cumulative */
	uint64_t count;                          /* includes observations above the last bound */
	double sum;
};

enum px_health_kind {
	PX_HEALTHZ,   /* sync loop healthy and node eligible */
	PX_LIVEZ,     /* sync loop healthy; node eligibility ignored (kube-proxy's /livez) */
};

struct px_metrics {
	pthread_mutex_t lock;
	struct px_histogram sync_all, sync_full, sync_partial;
	uint64_t sync_failures;
	uint64_t healthz[2], livez[2];           /* answers given: [0] = 200, [1] = 503 */
	bool synced;                             /* a sync has succeeded */
	struct px_time last_sync;                /* end of the last successful sync */
	bool pending;                            /* an update is waiting to be applied */
	struct px_time oldest_pending;           /* when the oldest waiting update was queued */
	double last_queued_real;                 /* the newest queued update (gauge) */
	uint64_t services, endpoints, elements;  /* what the last successful sync programmed */
	double health_timeout;                   /* seconds */
	bool node_eligible;
};

/* Reads both clocks. */
struct px_time px_time_now(void);

/* Returns 0 or a negative errno (pthread_mutex_init). Health timeout 60 s, node eligible. */
int px_metrics_init(struct px_metrics *m);
void px_metrics_destroy(struct px_metrics *m);

/* How long a queued update may wait before /healthz and /livez answer 503. */
void px_metrics_set_health_timeout(struct px_metrics *m, double seconds);
/* False while the node is being deleted or drained (KEP-3836): /healthz 503, /livez unaffected. */
void px_metrics_set_node_eligible(struct px_metrics *m, bool eligible);

/*
 * Records one sync that took `seconds`.  Observed in the histograms whether or not it
 * succeeded (as kube-proxy does).  ok: last timestamp set, pending update cleared.
 * !ok: failure counter incremented, and an update counts as pending from now on if none
 * was: what the sync meant to program is not in the kernel, whatever queued it.
 */
void px_metrics_sync(struct px_metrics *m, double seconds, bool full, bool ok);
void px_metrics_sync_at(struct px_metrics *m, const struct px_time *now, double seconds,
			bool full, bool ok);

/* Sizes of what the last successful sync programmed (service ports, endpoints, set/map elements). */
void px_metrics_programmed(struct px_metrics *m, size_t services, size_t endpoints,
			   size_t elements);

/* A change arrived and a sync is queued for it.  Call on every change; the oldest counts. */
void px_metrics_queued(struct px_metrics *m);
void px_metrics_queued_at(struct px_metrics *m, const struct px_time *now);

/*
 * Prometheus text exposition format 0.0.4.  *text is malloc'ed and NUL-terminated,
 * *len its length.  Returns 0 or -ENOMEM.
 */
int px_metrics_render(struct px_metrics *m, char **text, size_t *len);

/*
 * Answer to a health probe: *status 200 or 503, *json malloc'ed:
 *   {"lastUpdated": "<RFC 3339>","currentTime": "<RFC 3339>", "nodeEligible": true}
 * (no nodeEligible for PX_LIVEZ).  503 before the first successful sync, when an update
 * has been pending for health_timeout or longer, and (PX_HEALTHZ) when the node is not
 * eligible.  As in kube-proxy, a healthy answer shows lastUpdated = currentTime (older
 * clients read it as "the loop is alive"); an unhealthy one shows the last successful
 * sync, or 0001-01-01T00:00:00Z if none.  The answer is counted in
 * podnet_proxy_{healthz,livez}_total{code}.  Returns 0 or -ENOMEM.
 */
int px_metrics_health(struct px_metrics *m, enum px_health_kind kind, int *status,
		      char **json);
int px_metrics_health_at(struct px_metrics *m, const struct px_time *now,
			 enum px_health_kind kind, int *status, char **json);

/*
 * What /healthz would answer (true: 200), without counting an answer: the per-Service
 * health-check servers report it as serviceProxyHealthy.
 */
bool px_metrics_healthy(struct px_metrics *m);
bool px_metrics_healthy_at(struct px_metrics *m, const struct px_time *now);

#endif
