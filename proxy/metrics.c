/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

static double clock_seconds(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct px_time px_time_now(void)
{
	return (struct px_time){ .real = clock_seconds(CLOCK_REALTIME),
				 .mono = clock_seconds(CLOCK_MONOTONIC) };
}

/*
 * The bounds are computed, not tabled, the way client_golang's ExponentialBuckets does
 * (start * factor^i), so the `le` labels print exactly as kube-proxy's do.
 */
static double bucket_bound(int i)
{
	double b = PX_METRICS_BUCKET_START;

	for (int k = 0; k < i; k++)
		b *= PX_METRICS_BUCKET_FACTOR;
	return b;
}

int px_metrics_init(struct px_metrics *m)
{
	int r;

	memset(m, 0, sizeof(*m));
	m->health_timeout = PX_HEALTH_TIMEOUT_DEFAULT;
	m->node_eligible = true;
	if ((r = pthread_mutex_init(&m->lock, NULL)) != 0)
		return -r;
	return 0;
}

void px_metrics_destroy(struct px_metrics *m)
{
	pthread_mutex_destroy(&m->lock);
}

void px_metrics_set_health_timeout(struct px_metrics *m, double seconds)
{
	pthread_mutex_lock(&m->lock);
	m->health_timeout = seconds;
	pthread_mutex_unlock(&m->lock);
}

void px_metrics_set_node_eligible(struct px_metrics *m, bool eligible)
{
	pthread_mutex_lock(&m->lock);
	m->node_eligible = eligible;
	pthread_mutex_unlock(&m->lock);
}

static void observe(struct px_histogram *h, double v)
{
	/* Prometheus buckets are "less than or equal": v lands in the first bound >= v */
	for (int i = 0; i < PX_METRICS_NBUCKETS; i++) {
		if (v <= bucket_bound(i)) {
			h->buckets[i]++;
			break;
		}
	}
	h->count++;
	h->sum += v;
}

void px_metrics_sync_at(struct px_metrics *m, const struct px_time *now, double seconds,
			bool full, bool ok)
{
	pthread_mutex_lock(&m->lock);
	observe(&m->sync_all, seconds);
	observe(full ? &m->sync_full : &m->sync_partial, seconds);
	if (ok) {
		m->synced = true;
		m->last_sync = *now;
		m->pending = false;
	} else {
		m->sync_failures++;
		if (!m->pending) {
			m->pending = true;
			m->oldest_pending = *now;
		}
	}
	pthread_mutex_unlock(&m->lock);
}

void px_metrics_sync(struct px_metrics *m, double seconds, bool full, bool ok)
{
	struct px_time now = px_time_now();

	px_metrics_sync_at(m, &now, seconds, full, ok);
}

void px_metrics_programmed(struct px_metrics *m, size_t services, size_t endpoints,
			   size_t elements)
{
	pthread_mutex_lock(&m->lock);
	m->services = services;
	m->endpoints = endpoints;
	m->elements = elements;
	pthread_mutex_unlock(&m->lock);
}

void px_metrics_queued_at(struct px_metrics *m, const struct px_time *now)
{
	pthread_mutex_lock(&m->lock);
	m->last_queued_real = now->real;
	/* health measures how long the oldest unapplied change has waited, not the newest */
	if (!m->pending) {
		m->pending = true;
		m->oldest_pending = *now;
	}
	pthread_mutex_unlock(&m->lock);
}

void px_metrics_queued(struct px_metrics *m)
{
	struct px_time now = px_time_now();

	px_metrics_queued_at(m, &now);
}

/*
 * Go's strconv.FormatFloat(v, 'g', -1, 64), which client_golang prints values and `le`
 * labels with: the fewest digits that read back as the same double, in exponent form
 * when the decimal exponent is < -4 or >= 6 (so 0.001, 16.384, 1.7e+09).  Matching it
 * matters for `le`: a different spelling would be a different series to Prometheus.
 */
static void fmt_double(char *buf, size_t size, double v)
{
	int prec, exp;

	if (!isfinite(v)) {
		snprintf(buf, size, "%s", isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, size, "%.*e", prec - 1, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	snprintf(buf, size, "%.*e", prec - 1, v);
	exp = atoi(strchr(buf, 'e') + 1);
	if (v == 0 || (exp >= -4 && exp < 6))
		snprintf(buf, size, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, v);
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(FILE *f, const char *name, const char *help, double v)
{
	char num[40];

	fmt_double(num, sizeof(num), v);
	header(f, name, "gauge", help);
	fprintf(f, "%s %s\n", name, num);
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	header(f, name, "counter", help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void codes(FILE *f, const char *name, const char *help, const uint64_t v[2])
{
	header(f, name, "counter", help);
	fprintf(f, "%s{code=\"200\"} %" PRIu64 "\n%s{code=\"503\"} %" PRIu64 "\n",
		name, v[0], name, v[1]);
}

static void histogram(FILE *f, const char *name, const char *help, const struct px_histogram *h)
{
	uint64_t cum = 0;
	char num[40];

	header(f, name, "histogram", help);
	for (int i = 0; i < PX_METRICS_NBUCKETS; i++) {
		cum += h->buckets[i];
		fmt_double(num, sizeof(num), bucket_bound(i));
		fprintf(f, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", name, num, cum);
	}
	fprintf(f, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, h->count);
	fmt_double(num, sizeof(num), h->sum);
	fprintf(f, "%s_sum %s\n%s_count %" PRIu64 "\n", name, num, name, h->count);
}

int px_metrics_render(struct px_metrics *m, char **text, size_t *len)
{
	struct px_metrics s;
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	/* copy under the lock, format outside it: the sync loop never waits for a slow malloc */
	pthread_mutex_lock(&m->lock);
	s = *m;
	pthread_mutex_unlock(&m->lock);

	if (!(f = open_memstream(&buf, &n)))
		return -ENOMEM;
	histogram(f, "podnet_proxy_sync_proxy_rules_duration_seconds",
		  "SyncProxyRules latency in seconds", &s.sync_all);
	histogram(f, "podnet_proxy_sync_full_proxy_rules_duration_seconds",
		  "SyncProxyRules latency in seconds for full resyncs", &s.sync_full);
	histogram(f, "podnet_proxy_sync_partial_proxy_rules_duration_seconds",
		  "SyncProxyRules latency in seconds for partial resyncs", &s.sync_partial);
	counter(f, "podnet_proxy_sync_proxy_rules_nftables_sync_failures_total",
		"Number of failed syncs of the proxy rules (failed nftables transactions)",
		s.sync_failures);
	gauge(f, "podnet_proxy_sync_proxy_rules_last_timestamp_seconds",
	      "The last time proxy rules were successfully synced",
	      s.synced ? s.last_sync.real : 0);
	gauge(f, "podnet_proxy_sync_proxy_rules_last_queued_timestamp_seconds",
	      "The last time a sync of proxy rules was queued", s.last_queued_real);
	gauge(f, "podnet_proxy_sync_proxy_rules_service_ports",
	      "Service ports programmed by the last successful sync", (double)s.services);
	gauge(f, "podnet_proxy_sync_proxy_rules_endpoints",
	      "Endpoints programmed by the last successful sync", (double)s.endpoints);
	gauge(f, "podnet_proxy_sync_proxy_rules_nftables_elements",
	      "Set and map elements programmed by the last successful sync", (double)s.elements);
	codes(f, "podnet_proxy_healthz_total", "Cumulative proxy healthz HTTP status", s.healthz);
	codes(f, "podnet_proxy_livez_total", "Cumulative proxy livez HTTP status", s.livez);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return -ENOMEM;
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*text = buf;
	*len = n;
	return 0;
}

/* RFC 3339 in UTC, whole seconds, like Go's time.RFC3339 */
static void fmt_rfc3339(char *buf, size_t size, bool set, double t)
{
	struct tm tm;
	time_t secs = (time_t)t;

	if (!set || !gmtime_r(&secs, &tm)) {
		/* Go's zero time.Time, which is what kube-proxy shows before any update */
		snprintf(buf, size, "0001-01-01T00:00:00Z");
		return;
	}
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Called with m->lock held. */
static bool healthy_locked(const struct px_metrics *m, const struct px_time *now,
			   enum px_health_kind kind)
{
	bool healthy = m->synced &&
		       !(m->pending && now->mono - m->oldest_pending.mono >= m->health_timeout);

	return kind == PX_HEALTHZ ? healthy && m->node_eligible : healthy;
}

bool px_metrics_healthy_at(struct px_metrics *m, const struct px_time *now)
{
	bool healthy;

	pthread_mutex_lock(&m->lock);
	healthy = healthy_locked(m, now, PX_HEALTHZ);
	pthread_mutex_unlock(&m->lock);
	return healthy;
}

bool px_metrics_healthy(struct px_metrics *m)
{
	struct px_time now = px_time_now();

	return px_metrics_healthy_at(m, &now);
}

int px_metrics_health_at(struct px_metrics *m, const struct px_time *now,
			 enum px_health_kind kind, int *status, char **json)
{
	char last[40], cur[40];
	bool healthy, eligible;
	int r;

	pthread_mutex_lock(&m->lock);
	eligible = m->node_eligible;
	healthy = healthy_locked(m, now, kind);
	fmt_rfc3339(last, sizeof(last), m->synced, m->last_sync.real);
	if (kind == PX_HEALTHZ)
		m->healthz[healthy ? 0 : 1]++;
	else
		m->livez[healthy ? 0 : 1]++;
	pthread_mutex_unlock(&m->lock);

	fmt_rfc3339(cur, sizeof(cur), true, now->real);
	if (healthy)
		memcpy(last, cur, sizeof(last));
	if (kind == PX_HEALTHZ)
		r = asprintf(json, "{\"lastUpdated\": \"%s\",\"currentTime\": \"%s\", "
			     "\"nodeEligible\": %s}", last, cur, eligible ? "true" : "false");
	else
		r = asprintf(json, "{\"lastUpdated\": \"%s\",\"currentTime\": \"%s\"}", last, cur);
	if (r < 0) {
		*json = NULL;
		return -ENOMEM;
	}
	*status = healthy ? 200 : 503;
	return 0;
}

int px_metrics_health(struct px_metrics *m, enum px_health_kind kind, int *status,
		      char **json)
{
	struct px_time now = px_time_now();

	return px_metrics_health_at(m, &now, kind, status, json);
}
