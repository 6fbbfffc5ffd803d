/* SPDX-License-Identifier: Apache-2.0 */
/*
 * podnet-proxy's per-Service health-check servers: the answer (JSON and status), and the
 * servers over loopback: one that opens, answers any path and method, follows its
 * Service's endpoint count and the proxy's health, moves, closes, and a port claimed by
 * two Services.  Servers listen on 127.0.0.1 only (as with --nodeport-addresses), on ports
 * the kernel just had free: nothing reachable from outside, no root needed.
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
#include <unistd.h>
#include <cmocka.h>

#include "../../proxy/healthcheck.h"

#define HAS(text, s) assert_non_null(strstr((text), (s)))
#define STARTS(text, s) assert_memory_equal((text), (s), strlen(s))

static void test_answer(void **state)
{
	char *j;
	int status;

	(void)state;
	assert_int_equal(px_hc_answer("default", "web", 2, true, &status, &j), 0);
	assert_int_equal(status, 200);
	assert_string_equal(j, "{\"service\":{\"namespace\":\"default\",\"name\":\"web\"},"
			       "\"localEndpoints\":2,\"serviceProxyHealthy\":true}");
	free(j);
	/* no ready local endpoint (none, or only terminating ones): drain this node */
	assert_int_equal(px_hc_answer("ns", "lb", 0, true, &status, &j), 0);
	assert_int_equal(status, 503);
	assert_string_equal(j, "{\"service\":{\"namespace\":\"ns\",\"name\":\"lb\"},"
			       "\"localEndpoints\":0,\"serviceProxyHealthy\":true}");
	free(j);
	/* the proxy itself unhealthy: its rules may be stale, whatever the endpoints */
	assert_int_equal(px_hc_answer("ns", "lb", 3, false, &status, &j), 0);
	assert_int_equal(status, 503);
	HAS(j, "\"localEndpoints\":3,\"serviceProxyHealthy\":false}");
	free(j);
	/* JSON strings are escaped (names are DNS labels, but the JSON must never break) */
	assert_int_equal(px_hc_answer("a\"b", "c\\d", 1, true, &status, &j), 0);
	HAS(j, "\"namespace\":\"a\\\"b\",\"name\":\"c\\\\d\"");
	free(j);
}

/* A port free a moment ago. */
static uint16_t free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* The answer to req on 127.0.0.1:port, or NULL when the connection is refused. */
static char *ask(uint16_t port, const char *req)
{
	static char resp[8192];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 10 };   /* a broken server fails the test, not hangs it */
	size_t used = 0;
	ssize_t n;
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		assert_int_equal(errno, ECONNREFUSED);
		close(fd);
		return NULL;
	}
	assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	while (used + 1 < sizeof(resp) && (n = recv(fd, resp + used, sizeof(resp) - 1 - used, 0)) > 0)
		used += (size_t)n;
	resp[used] = '\0';
	close(fd);
	return resp;
}

static void test_servers(void **state)
{
	struct pn_ip lo = { .family = AF_INET, .a = { 127, 0, 0, 1 } };
	uint16_t p1 = free_port(), p2 = free_port();
	struct px_metrics m;
	struct px_time t = px_time_now();
	struct px_hc *hc;
	struct pn_err e;
	char *r;

	(void)state;
	assert_int_equal(px_metrics_init(&m), 0);
	assert_int_equal(px_hc_start(&m, &lo, 1, &hc, &e), 0);
	assert_null(ask(p1, "GET / HTTP/1.1\r\n\r\n"));

	/* before the proxy's first sync it is not healthy: 503 even with endpoints */
	assert_int_equal(px_hc_set(hc, "default", "lb", p1, 2), 0);
	assert_true(px_hc_listening(hc, "default", "lb"));
	r = ask(p1, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	STARTS(r, "HTTP/1.1 503 Service Unavailable\r\n");
	HAS(r, "\"serviceProxyHealthy\":false}");

	px_metrics_sync_at(&m, &t, 0.001, true, true);
	r = ask(p1, "GET /any/path?x=1 HTTP/1.1\r\n\r\n");
	STARTS(r, "HTTP/1.1 200 OK\r\n");
	HAS(r, "\r\nContent-Type: application/json\r\n");
	HAS(r, "\r\nX-Content-Type-Options: nosniff\r\n");
	HAS(r, "\r\n\r\n{\"service\":{\"namespace\":\"default\",\"name\":\"lb\"},"
	       "\"localEndpoints\":2,\"serviceProxyHealthy\":true}");
	r = ask(p1, "POST /x HTTP/1.0\r\n\r\n");   /* any method, as kube-proxy's handler */
	STARTS(r, "HTTP/1.1 200 OK\r\n");
	r = ask(p1, "HEAD / HTTP/1.1\r\n\r\n");
	STARTS(r, "HTTP/1.1 200 OK\r\n");
	assert_null(strstr(r, "{"));
	r = ask(p1, "garbage\r\n\r\n");
	STARTS(r, "HTTP/1.1 400 Bad Request\r\n");

	/* the endpoints went (or only terminating ones are left) */
	assert_int_equal(px_hc_set(hc, "default", "lb", p1, 0), 0);
	r = ask(p1, "GET / HTTP/1.1\r\n\r\n");
	STARTS(r, "HTTP/1.1 503 Service Unavailable\r\n");
	HAS(r, "\"localEndpoints\":0,\"serviceProxyHealthy\":true}");

	/* a second Service claiming the port waits for it; a moved server frees its old port */
	assert_int_equal(px_hc_set(hc, "other", "lb2", p1, 1), 0);
	assert_false(px_hc_listening(hc, "other", "lb2"));
	HAS(ask(p1, "GET / HTTP/1.1\r\n\r\n"), "\"name\":\"lb\"}");
	assert_int_equal(px_hc_set(hc, "default", "lb", p2, 1), 0);
	assert_true(px_hc_listening(hc, "default", "lb"));
	assert_true(px_hc_listening(hc, "other", "lb2"));
	HAS(ask(p1, "GET / HTTP/1.1\r\n\r\n"), "\"namespace\":\"other\",\"name\":\"lb2\"}");
	HAS(ask(p2, "GET / HTTP/1.1\r\n\r\n"), "\"namespace\":\"default\",\"name\":\"lb\"}");

	/* removed: connection refused; removing what does not exist is a no-op */
	assert_int_equal(px_hc_set(hc, "default", "lb", 0, 0), 0);
	assert_false(px_hc_listening(hc, "default", "lb"));
	assert_null(ask(p2, "GET / HTTP/1.1\r\n\r\n"));
	assert_int_equal(px_hc_set(hc, "default", "nope", 0, 0), 0);

	/* a port someone else holds: logged, retried at the next change */
	{
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(p2) };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

		/* reuse: our earlier connections to p2 are in TIME_WAIT; a listener still blocks */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(listen(fd, 1), 0);
		assert_int_equal(px_hc_set(hc, "default", "lb3", p2, 1), 0);
		assert_false(px_hc_listening(hc, "default", "lb3"));
		close(fd);
		assert_int_equal(px_hc_set(hc, "default", "lb3", p2, 1), 0);
		assert_true(px_hc_listening(hc, "default", "lb3"));
		HAS(ask(p2, "GET / HTTP/1.1\r\n\r\n"), "\"name\":\"lb3\"}");
	}
	px_hc_stop(hc);
	assert_null(ask(p1, "GET / HTTP/1.1\r\n\r\n"));
	px_hc_stop(NULL);

	/* --nodeport-addresses matching no local address: nowhere to listen, not an error */
	assert_int_equal(px_hc_start(&m, &lo, 0, &hc, &e), 0);
	assert_int_equal(px_hc_set(hc, "default", "lb", p1, 1), 0);
	assert_false(px_hc_listening(hc, "default", "lb"));
	assert_null(ask(p1, "GET / HTTP/1.1\r\n\r\n"));
	px_hc_stop(hc);
	px_metrics_destroy(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_servers),
	};

	return cmocka_run_group_tests_name("healthcheck", tests, NULL, NULL);
}
