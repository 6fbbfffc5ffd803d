/* SPDX-License-Identifier: Apache-2.0 */
/*
 * podnet-proxy's metrics registry, health answers and the HTTP server in front of them.
 * The HTTP tests listen on 127.0.0.1 with kernel-chosen ports: loopback of the current
 * netns only, nothing reachable from outside, no root needed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../proxy/http.h"
#include "../../proxy/metrics.h"

#define HAS(text, s) assert_non_null(strstr((text), (s)))
#define STARTS(text, s) assert_memory_equal((text), (s), strlen(s))

static const struct px_time t0 = { .real = 1700000000.0, .mono = 500.0 };

static struct px_time at(double dt)
{
	return (struct px_time){ .real = t0.real + dt, .mono = t0.mono + dt };
}

static void test_render(void **state)
{
	struct px_metrics m;
	struct px_time t;
	size_t len;
	char *s;

	(void)state;
	assert_int_equal(px_metrics_init(&m), 0);
	t = at(0);
	px_metrics_sync_at(&m, &t, 0.0005, true, true);    /* le=0.001 */
	px_metrics_sync_at(&m, &t, 0.003, false, true);    /* le=0.004 */
	px_metrics_sync_at(&m, &t, 0.004, false, true);    /* le=0.004: bounds are inclusive */
	t = at(1.5);
	px_metrics_sync_at(&m, &t, 20.0, true, false);     /* above 16.384: only +Inf */
	px_metrics_programmed(&m, 12, 34, 56);
	t = at(2.25);
	px_metrics_queued_at(&m, &t);

	assert_int_equal(px_metrics_render(&m, &s, &len), 0);
	assert_int_equal(strlen(s), len);
	assert_int_equal(s[len - 1], '\n');
#define ALL "podnet_proxy_sync_proxy_rules_duration_seconds"
	HAS(s, "# HELP " ALL " SyncProxyRules latency in seconds\n# TYPE " ALL " histogram\n");
	HAS(s, "\n" ALL "_bucket{le=\"0.001\"} 1\n" ALL "_bucket{le=\"0.002\"} 1\n"
	       ALL "_bucket{le=\"0.004\"} 3\n" ALL "_bucket{le=\"0.008\"} 3\n");
	HAS(s, "\n" ALL "_bucket{le=\"8.192\"} 3\n" ALL "_bucket{le=\"16.384\"} 3\n"
	       ALL "_bucket{le=\"+Inf\"} 4\n" ALL "_sum 20.0075\n" ALL "_count 4\n");
#define FULL "podnet_proxy_sync_full_proxy_rules_duration_seconds"
	HAS(s, "# TYPE " FULL " histogram\n" FULL "_bucket{le=\"0.001\"} 1\n");
	HAS(s, FULL "_bucket{le=\"16.384\"} 1\n" FULL "_bucket{le=\"+Inf\"} 2\n"
	       FULL "_sum 20.0005\n" FULL "_count 2\n");
#define PART "podnet_proxy_sync_partial_proxy_rules_duration_seconds"
	HAS(s, PART "_bucket{le=\"0.002\"} 0\n" PART "_bucket{le=\"0.004\"} 2\n");
	HAS(s, PART "_bucket{le=\"+Inf\"} 2\n" PART "_sum 0.007\n" PART "_count 2\n");
	HAS(s, "# TYPE podnet_proxy_sync_proxy_rules_nftables_sync_failures_total counter\n"
	       "podnet_proxy_sync_proxy_rules_nftables_sync_failures_total 1\n");
	/* the failed sync at 1.5 s does not move the last successful sync */
	HAS(s, "# TYPE podnet_proxy_sync_proxy_rules_last_timestamp_seconds gauge\n"
	       "podnet_proxy_sync_proxy_rules_last_timestamp_seconds 1.7e+09\n");
	HAS(s, "\npodnet_proxy_sync_proxy_rules_last_queued_timestamp_seconds 1.70000000225e+09\n");
	HAS(s, "\npodnet_proxy_sync_proxy_rules_service_ports 12\n");
	HAS(s, "\npodnet_proxy_sync_proxy_rules_endpoints 34\n");
	HAS(s, "\npodnet_proxy_sync_proxy_rules_nftables_elements 56\n");
	HAS(s, "\npodnet_proxy_healthz_total{code=\"200\"} 0\n");

	/* every line is a comment or "name[{labels}] value" */
	for (char *line = s, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		if (line[0] == '#') {
			assert_true(!strncmp(line, "# HELP ", 7) || !strncmp(line, "# TYPE ", 7));
			continue;
		}
		assert_true(line[0] >= 'a' && line[0] <= 'z');
		assert_non_null(memchr(line, ' ', (size_t)(nl - line)));
	}
	free(s);
	px_metrics_destroy(&m);
}

static void health(struct px_metrics *m, double dt, enum px_health_kind kind, int want,
		   const char *want_json)
{
	struct px_time t = at(dt);
	char *json;
	int status;

	assert_int_equal(px_metrics_health_at(m, &t, kind, &status, &json), 0);
	assert_int_equal(status, want);
	if (want_json)
		assert_string_equal(json, want_json);
	free(json);
}

static void test_health(void **state)
{
	struct px_metrics m;
	struct px_time t;
	size_t len;
	char *s;

	(void)state;
	assert_int_equal(px_metrics_init(&m), 0);
	/* nothing programmed yet: a load balancer must not send traffic here */
	health(&m, 0, PX_HEALTHZ, 503, "{\"lastUpdated\": \"0001-01-01T00:00:00Z\",\"currentTime\": "
	       "\"2023-11-14T22:13:20Z\", \"nodeEligible\": true}");
	health(&m, 0, PX_LIVEZ, 503, "{\"lastUpdated\": \"0001-01-01T00:00:00Z\",\"currentTime\": "
	       "\"2023-11-14T22:13:20Z\"}");
	t = at(0);
	px_metrics_queued_at(&m, &t);
	t = at(1);
	px_metrics_sync_at(&m, &t, 0.01, true, true);
	/* healthy: lastUpdated is currentTime, as kube-proxy answers */
	health(&m, 100, PX_HEALTHZ, 200, "{\"lastUpdated\": \"2023-11-14T22:15:00Z\",\"currentTime\": "
	       "\"2023-11-14T22:15:00Z\", \"nodeEligible\": true}");

	/* an update waits: fine until the timeout (60 s), then 503 with the real last sync */
	t = at(200);
	px_metrics_queued_at(&m, &t);
	t = at(230);
	px_metrics_queued_at(&m, &t);   /* the oldest pending update counts, not this one */
	health(&m, 259.9, PX_HEALTHZ, 200, NULL);
	health(&m, 260, PX_HEALTHZ, 503, "{\"lastUpdated\": \"2023-11-14T22:13:21Z\",\"currentTime\": "
	       "\"2023-11-14T22:17:40Z\", \"nodeEligible\": true}");
	health(&m, 260, PX_LIVEZ, 503, NULL);
	t = at(261);
	px_metrics_sync_at(&m, &t, 0.01, false, true);
	health(&m, 262, PX_HEALTHZ, 200, NULL);

	/* a failed sync leaves the kernel behind: pending from then on */
	t = at(300);
	px_metrics_sync_at(&m, &t, 0.01, false, false);
	health(&m, 359, PX_HEALTHZ, 200, NULL);
	health(&m, 360, PX_HEALTHZ, 503, NULL);
	t = at(361);
	px_metrics_sync_at(&m, &t, 0.5, true, true);
	health(&m, 362, PX_HEALTHZ, 200, NULL);

	/* a shorter timeout from the daemon */
	px_metrics_set_health_timeout(&m, 5);
	t = at(400);
	px_metrics_queued_at(&m, &t);
	health(&m, 404, PX_HEALTHZ, 200, NULL);
	health(&m, 405, PX_HEALTHZ, 503, NULL);
	t = at(406);
	px_metrics_sync_at(&m, &t, 0.01, false, true);

	/* node being deleted: /healthz fails, /livez does not */
	px_metrics_set_node_eligible(&m, false);
	health(&m, 407, PX_HEALTHZ, 503, "{\"lastUpdated\": \"2023-11-14T22:20:06Z\",\"currentTime\": "
	       "\"2023-11-14T22:20:07Z\", \"nodeEligible\": false}");
	health(&m, 407, PX_LIVEZ, 200, NULL);

	assert_int_equal(px_metrics_render(&m, &s, &len), 0);
	HAS(s, "\npodnet_proxy_healthz_total{code=\"200\"} 6\npodnet_proxy_healthz_total{code=\"503\"} 5\n");
	HAS(s, "\npodnet_proxy_livez_total{code=\"200\"} 1\npodnet_proxy_livez_total{code=\"503\"} 2\n");
	HAS(s, "\npodnet_proxy_sync_proxy_rules_nftables_sync_failures_total 1\n");
	free(s);
	px_metrics_destroy(&m);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { .tv_sec = 10 };   /* a broken server fails the test, not hangs it */
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Reads until the server closes; returns the length (the answer is NUL-terminated). */
static size_t read_all(int fd, char *buf, size_t size)
{
	size_t used = 0;
	ssize_t n;

	while (used + 1 < size && (n = recv(fd, buf + used, size - 1 - used, 0)) > 0)
		used += (size_t)n;
	assert_true(used + 1 < size);
	buf[used] = '\0';
	return used;
}

static char *request(int port, const char *req, size_t reqlen)
{
	static char resp[65536];
	int fd = dial(port);

	assert_int_equal(send(fd, req, reqlen, MSG_NOSIGNAL), (ssize_t)reqlen);
	read_all(fd, resp, sizeof(resp));
	close(fd);
	return resp;
}

#define GET(port, req) request((port), (req), strlen(req))

static void test_http(void **state)
{
	struct px_metrics m;
	struct px_http *h;
	struct pn_err e;
	int mp, hp, fd, fd2;
	double t;
	char *r, buf[16384];

	(void)state;
	assert_int_equal(px_metrics_init(&m), 0);
	assert_int_equal(px_http_start_flags("127.0.0.1:0", "127.0.0.1:0", &m, PX_HTTP_EPHEMERAL,
					     &h, &e), 0);
	mp = px_http_port(h, PX_HTTP_METRICS);
	hp = px_http_port(h, PX_HTTP_HEALTHZ);
	assert_true(mp > 0 && hp > 0 && mp != hp);

	r = GET(hp, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	STARTS(r, "HTTP/1.1 503 Service Unavailable\r\n");
	HAS(r, "\r\nContent-Type: application/json\r\n");
	HAS(r, "\r\nX-Content-Type-Options: nosniff\r\n");
	HAS(r, "\r\nConnection: close\r\n");
	HAS(r, "\r\n\r\n{\"lastUpdated\": \"0001-01-01T00:00:00Z\",\"currentTime\": \"");

	px_metrics_sync(&m, 0.002, true, true);
	r = GET(hp, "GET /healthz HTTP/1.1\r\n\r\n");
	STARTS(r, "HTTP/1.1 200 OK\r\n");
	HAS(r, "\"nodeEligible\": true}");
	r = GET(hp, "GET /livez?verbose HTTP/1.0\r\n\r\n");   /* query ignored, HTTP/1.0 fine */
	STARTS(r, "HTTP/1.1 200 OK\r\n");
	r = GET(hp, "GET /metrics HTTP/1.1\r\n\r\n");          /* not on the health port */
	STARTS(r, "HTTP/1.1 404 Not Found\r\n");

	r = GET(mp, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n");
	STARTS(r, "HTTP/1.1 200 OK\r\n");
	HAS(r, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n");
	HAS(r, "\npodnet_proxy_sync_full_proxy_rules_duration_seconds_bucket{le=\"0.002\"} 1\n");
	HAS(r, "\npodnet_proxy_healthz_total{code=\"200\"} 1\n");
	/* Content-Length matches the body */
	{
		char *body = strstr(r, "\r\n\r\n") + 4;
		size_t cl = strtoul(strstr(r, "Content-Length: ") + 16, NULL, 10);

		assert_int_equal(cl, strlen(body));
	}
	r = GET(mp, "HEAD /metrics HTTP/1.1\r\n\r\n");
	STARTS(r, "HTTP/1.1 200 OK\r\n");
	assert_true(strtoul(strstr(r, "Content-Length: ") + 16, NULL, 10) > 1000);
	assert_string_equal(strstr(r, "\r\n\r\n"), "\r\n\r\n");   /* no body */
	r = GET(mp, "GET /healthz HTTP/1.1\r\n\r\n");
	STARTS(r, "HTTP/1.1 200 OK\r\n");
	assert_string_equal(strstr(r, "\r\n\r\n"), "\r\n\r\nok");
	r = GET(mp, "GET http://127.0.0.1:10249/metrics HTTP/1.1\r\n\r\n");   /* absolute form */
	STARTS(r, "HTTP/1.1 200 OK\r\n");

	r = GET(mp, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	STARTS(r, "HTTP/1.1 405 Method Not Allowed\r\n");
	HAS(r, "\r\nAllow: GET, HEAD\r\n");
	r = GET(mp, "GET /nope HTTP/1.1\r\n\r\n");
	STARTS(r, "HTTP/1.1 404 Not Found\r\n");
	r = GET(mp, "\x01\x02 hello there\r\n\r\n");
	STARTS(r, "HTTP/1.1 400 Bad Request\r\n");
	r = GET(mp, "GET /metrics HTTP/9.9\r\n\r\n");
	STARTS(r, "HTTP/1.1 400 Bad Request\r\n");
	/* a bad request line is answered at once, without waiting for the rest of the head */
	t = now_s();
	r = GET(mp, "GET  /metrics HTTP/1.1\r\nHost: x\r\n");
	STARTS(r, "HTTP/1.1 400 Bad Request\r\n");
	assert_true(now_s() - t < 1.0);
	r = request(mp, "GET /metrics\0 HTTP/1.1\r\n\r\n", 26);
	STARTS(r, "HTTP/1.1 400 Bad Request\r\n");

	/* a head that never ends is cut at 8 KiB */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /metrics HTTP/1.1\r\nX-Big: ", 30);
	r = request(mp, buf, 9000);
	STARTS(r, "HTTP/1.1 431 ");

	/*
	 * Slow clients: one says nothing, one stops half-way.  Others are served meanwhile,
	 * and both are dropped after the 2 s read timeout.
	 */
	t = now_s();
	fd = dial(hp);
	fd2 = dial(mp);
	assert_int_equal(send(fd2, "GET /met", 8, MSG_NOSIGNAL), 8);
	r = GET(hp, "GET /livez HTTP/1.1\r\n\r\n");
	STARTS(r, "HTTP/1.1 200 OK\r\n");
	assert_true(now_s() - t < 1.0);
	assert_int_equal(read_all(fd, buf, sizeof(buf)), 0);
	assert_int_equal(read_all(fd2, buf, sizeof(buf)), 0);
	t = now_s() - t;
	assert_true(t > 1.5 && t < 4.0);
	close(fd);
	close(fd2);

	/* a client that resets before reading its answer costs the server nothing (no SIGPIPE) */
	for (int i = 0; i < 20; i++) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		fd = dial(mp);
		assert_int_equal(send(fd, "GET /metrics HTTP/1.1\r\n\r\n", 25, MSG_NOSIGNAL), 25);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
	}
	r = GET(mp, "GET /metrics HTTP/1.1\r\n\r\n");
	STARTS(r, "HTTP/1.1 200 OK\r\n");

	/* the port is taken: the second server fails in px_http_start, not later */
	{
		char addr[32];
		struct px_http *h2 = (struct px_http *)&h2;

		snprintf(addr, sizeof(addr), "127.0.0.1:%d", hp);
		assert_int_equal(px_http_start("", addr, &m, &h2, &e), -EADDRINUSE);
		assert_null(h2);
		HAS(e.msg, "healthz address 127.0.0.1:");
		HAS(e.msg, ": bind: ");
	}
	t = now_s();
	px_http_stop(h);
	assert_true(now_s() - t < 1.0);
	px_metrics_destroy(&m);
}

static void test_addresses(void **state)
{
	struct px_metrics m;
	struct px_http *h;
	struct pn_err e;
	int r;

	(void)state;
	assert_int_equal(px_metrics_init(&m), 0);
	/* disabled: empty, "0", or port 0 without PX_HTTP_EPHEMERAL */
	assert_int_equal(px_http_start("", NULL, &m, &h, &e), 0);
	assert_null(h);
	assert_int_equal(px_http_start("0", "127.0.0.1:0", &m, &h, &e), 0);
	assert_null(h);
	assert_int_equal(px_http_port(NULL, PX_HTTP_METRICS), 0);
	px_http_stop(NULL);

	static const char *const bad[] = {
		"localhost:10249", "::1:10249", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
		"127.0.0.1:-1", "127.0.0.1:+80", "[::1]10249", "[::1:10249", "1.2.3:80", "[1.2.3.4]:80x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = px_http_start(bad[i], "", &m, &h, &e);
		if (r != -EINVAL)
			fail_msg("%s: %d", bad[i], r);
		HAS(e.msg, "metrics address \"");
	}

	/* one server only; IPv6 loopback where the kernel has it */
	assert_int_equal(px_http_start_flags("", "127.0.0.1:0", &m, PX_HTTP_EPHEMERAL, &h, &e), 0);
	assert_int_equal(px_http_port(h, PX_HTTP_METRICS), 0);
	assert_true(px_http_port(h, PX_HTTP_HEALTHZ) > 0);
	px_http_stop(h);
	r = px_http_start_flags("[::1]:0", ":0", &m, PX_HTTP_EPHEMERAL, &h, &e);
	if (r == 0) {
		assert_true(px_http_port(h, PX_HTTP_METRICS) > 0);
		assert_true(px_http_port(h, PX_HTTP_HEALTHZ) > 0);
		/* ":PORT" listens on IPv4 too */
		char *resp = GET(px_http_port(h, PX_HTTP_HEALTHZ), "GET /livez HTTP/1.1\r\n\r\n");
		STARTS(resp, "HTTP/1.1 503 ");
		px_http_stop(h);
	} else {
		assert_int_equal(r, -EADDRNOTAVAIL);   /* no IPv6 on lo */
	}
	px_metrics_destroy(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_addresses),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
