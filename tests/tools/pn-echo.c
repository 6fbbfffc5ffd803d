/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A test server and client that say who answered and whom they saw, for the proxy tests.
 *
 *   pn-echo serve [-u] PORT NAME     answers every TCP connection (or UDP datagram) with
 *                                    "NAME PEER_ADDRESS\n"; IPv4 and IPv6; runs until killed
 *   pn-echo ask [-u] [-s SRCPORT] [-t MS] [-k MS] ADDRESS PORT
 *                                    prints the answer; exit 0, 7 (connection refused, as
 *                                    curl) or 28 (no answer within MS, default 2000, as curl);
 *                                    -k: keep a TCP connection open MS ms, then read (an
 *                                    established connection across a proxy restart)
 *   pn-echo time -n N ADDRESS PORT [ADDRESS2 PORT2]
 *                                    N connections one after the other (connect, read the
 *                                    answer, close); prints "p50 p90 p99" in microseconds; with
 *                                    a second target, alternates between the two (so both see
 *                                    the same machine) and prints a line for each
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: pn-echo serve [-u] PORT NAME | pn-echo ask [-u] [-s SRCPORT] [-t MS] [-k MS] ADDRESS PORT\n");
	return 2;
}

static void peer_text(const struct sockaddr_in6 *sa, char *buf, size_t size)
{
	if (IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr))
		inet_ntop(AF_INET, &sa->sin6_addr.s6_addr[12], buf, (socklen_t)size);
	else
		inet_ntop(AF_INET6, &sa->sin6_addr, buf, (socklen_t)size);
}

static int serve(bool udp, int port, const char *name)
{
	int fd = socket(AF_INET6, udp ? SOCK_DGRAM : SOCK_STREAM, 0), zero = 0, one = 1;
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };

	signal(SIGPIPE, SIG_IGN);
	if (fd < 0)
		return perror("socket"), 1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || (!udp && listen(fd, 128) < 0))
		return perror("bind"), 1;
	for (;;) {
		struct sockaddr_in6 peer;
		socklen_t len = sizeof(peer);
		char msg[128], ip[INET6_ADDRSTRLEN], buf[512];
		int n, c;

		if (udp) {
			if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len) < 0)
				continue;
			peer_text(&peer, ip, sizeof(ip));
			n = snprintf(msg, sizeof(msg), "%s %s\n", name, ip);
			sendto(fd, msg, (size_t)n, 0, (struct sockaddr *)&peer, len);
			continue;
		}
		if ((c = accept(fd, (struct sockaddr *)&peer, &len)) < 0)
			continue;
		peer_text(&peer, ip, sizeof(ip));
		n = snprintf(msg, sizeof(msg), "%s %s\n", name, ip);
		if (send(c, msg, (size_t)n, MSG_NOSIGNAL) < 0)
			perror("send");
		/* a client that keeps the connection reads the answer later: close only when it does */
		shutdown(c, SHUT_WR);
		{
			struct pollfd p = { .fd = c, .events = POLLIN };

			if (poll(&p, 1, 60000) > 0)
				(void)read(c, buf, sizeof(buf));
		}
		close(c);
	}
}

static int ask(bool udp, int src, int ms, int keep_ms, const char *addr, int port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1;
	char buf[512];
	struct pollfd p;
	ssize_t n;

	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		len = sizeof(*a6);
	} else {
		return usage();
	}
	if ((fd = socket(ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK, 0)) < 0)
		return perror("socket"), 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (src) {
		struct sockaddr_storage b = { .ss_family = ss.ss_family };

		((struct sockaddr_in *)&b)->sin_port = htons((uint16_t)src);   /* same offset in both */
		if (bind(fd, (struct sockaddr *)&b, len) < 0)
			return perror("bind"), 1;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS)
		return errno == ECONNREFUSED ? 7 : (perror("connect"), 1);
	if (!udp) {
		int err = 0;
		socklen_t el = sizeof(err);

		p = (struct pollfd){ .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, ms) <= 0)
			return 28;
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err)
			return err == ECONNREFUSED ? 7 : err == ETIMEDOUT || err == EHOSTUNREACH ? 28 : (errno = err, perror("connect"), 1);
		if (keep_ms) {
			struct timespec t = { keep_ms / 1000, (keep_ms % 1000) * 1000000L };

			nanosleep(&t, NULL);
		}
	} else if (send(fd, "?\n", 2, 0) < 0) {
		return errno == ECONNREFUSED ? 7 : (perror("send"), 1);
	}
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, ms) <= 0)
		return 28;
	if ((n = recv(fd, buf, sizeof(buf) - 1, 0)) < 0)
		return errno == ECONNREFUSED ? 7 : errno == ECONNRESET ? 56 : (perror("recv"), 1);
	buf[n] = '\0';
	fputs(buf, stdout);
	close(fd);
	return n > 0 ? 0 : 52;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void print_pct(double *us, int n)
{
	qsort(us, (size_t)n, sizeof(*us), cmp_double);
	printf("%.1f %.1f %.1f\n", us[n / 2], us[n * 9 / 10], us[n * 99 / 100]);
}

/* connect + first answer + close, N times per target, alternating; quiet but for the result */
static int timed(int n, char **targets, int ntargets)
{
	double *us = calloc((size_t)(n * ntargets), sizeof(*us));
	int saved = dup(1), null = open("/dev/null", O_WRONLY);

	if (!us || saved < 0 || null < 0)
		return 1;
	dup2(null, 1);
	for (int i = 0; i < n; i++) {
		for (int t = 0; t < ntargets; t++) {
			double t0 = now_us();
			int r = ask(false, 0, 2000, 0, targets[2 * t], atoi(targets[2 * t + 1]));

			us[t * n + i] = now_us() - t0;
			if (r != 0) {
				dup2(saved, 1);
				fprintf(stderr, "pn-echo: connection %d to %s failed (%d)\n", i, targets[2 * t], r);
				return r;
			}
		}
	}
	fflush(stdout);
	dup2(saved, 1);
	for (int t = 0; t < ntargets; t++)
		print_pct(us + t * n, n);
	free(us);
	return 0;
}

int main(int argc, char **argv)
{
	bool udp = false;
	int c, src = 0, ms = 2000, keep = 0, count = 100;

	if (argc < 2)
		return usage();
	optind = 2;
	while ((c = getopt(argc, argv, "us:t:k:n:")) != -1) {
		switch (c) {
		case 'n': count = atoi(optarg); break;
		case 'u': udp = true; break;
		case 's': src = atoi(optarg); break;
		case 't': ms = atoi(optarg); break;
		case 'k': keep = atoi(optarg); break;
		default: return usage();
		}
	}
	if (!strcmp(argv[1], "serve") && argc - optind == 2)
		return serve(udp, atoi(argv[optind]), argv[optind + 1]);
	if (!strcmp(argv[1], "time") && (argc - optind == 2 || argc - optind == 4) && count > 0)
		return timed(count, argv + optind, (argc - optind) / 2);
	if (!strcmp(argv[1], "ask") && argc - optind == 2)
		return ask(udp, src, ms, keep, argv[optind], atoi(argv[optind + 1]));
	return usage();
}
