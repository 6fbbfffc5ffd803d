/* SPDX-License-Identifier: Apache-2.0 */
/*
 * px_ct_clean_udp() and px_ct_list() from the shell, in the netns it runs in; for
 * tests/netns/proxy-conntrack.sh.
 *
 *   pn-ct-clean 4|6 DST|any PORT [KEEP...] [-- 4|6 DST|any PORT [KEEP...]]...
 *        one call with these targets; prints the number of entries deleted
 *   pn-ct-clean list 4|6 [udp|tcp|icmp|icmpv6|all]
 *        one line per entry: "udp src=.. dst=.. sport=.. dport=.. reply-src=.. reply-sport=.."
 *   pn-ct-clean send SPORT DST DPORT MSG [COUNT]
 *        one UDP datagram from local port SPORT (the same 5-tuple every time), or one
 *        from each of the COUNT ports from SPORT on
 *   pn-ct-clean recv ADDR PORT SECONDS
 *        prints the first datagram that ADDR:PORT receives within SECONDS; exit 1 if none
 *
 * Exit 0, 1 on failure (message on stderr), 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../proxy/conntrack.h"

static int usage(void)
{
	fprintf(stderr, "usage: pn-ct-clean 4|6 DST|any PORT [KEEP...] [-- 4|6 DST|any PORT [KEEP...]]...\n"
			"       pn-ct-clean list 4|6 [udp|tcp|icmp|icmpv6|all]\n"
			"       pn-ct-clean send SPORT DST DPORT MSG [COUNT]\n"
			"       pn-ct-clean recv ADDR PORT SECONDS\n");
	return 2;
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int parse_family(const char *s)
{
	if (!strcmp(s, "4"))
		return AF_INET;
	if (!strcmp(s, "6"))
		return AF_INET6;
	return -1;
}

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case IPPROTO_UDP: return "udp";
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	default: return "other";
	}
}

static int print_entry(const struct px_ct_entry *ce, void *data)
{
	char src[PN_IP_STRLEN], dst[PN_IP_STRLEN], rsrc[PN_IP_STRLEN];

	(void)data;
	printf("%s src=%s dst=%s sport=%u dport=%u reply-src=%s reply-sport=%u", proto_name(ce->proto),
	       pn_ip_format(&ce->src, src), pn_ip_format(&ce->dst, dst), ce->sport, ce->dport,
	       pn_ip_format(&ce->reply_src, rsrc), ce->reply_sport);
	if (ce->zone)
		printf(" zone=%u%s", ce->zone, ce->zone_orig ? "-orig" : "");
	printf("\n");
	return 0;
}

static int list(int argc, char **argv)
{
	struct pn_err e = { 0 };
	const char *p = argc > 3 ? argv[3] : "all";
	int family = argc > 2 ? parse_family(argv[2]) : -1;
	uint8_t proto;

	if (family < 0 || argc > 4)
		return usage();
	if (!strcmp(p, "all"))
		proto = 0;
	else if (!strcmp(p, "udp"))
		proto = IPPROTO_UDP;
	else if (!strcmp(p, "tcp"))
		proto = IPPROTO_TCP;
	else if (!strcmp(p, "icmp"))
		proto = IPPROTO_ICMP;
	else if (!strcmp(p, "icmpv6"))
		proto = IPPROTO_ICMPV6;
	else
		return usage();
	if (px_ct_list(family, proto, print_entry, NULL, &e) < 0) {
		fprintf(stderr, "pn-ct-clean: %s\n", e.msg);
		return 1;
	}
	return 0;
}

static int sockaddr_of(const char *ip, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return AF_INET6;
	}
	return -1;
}

/* From each of COUNT consecutive local ports: a new socket per port, as a new client. */
static int send_udp(int argc, char **argv)
{
	struct sockaddr_storage to, local;
	socklen_t tolen, llen;
	uint16_t sport, port;
	long i, count = argc > 6 ? strtol(argv[6], NULL, 10) : 1;
	int fd, family;

	if (argc < 6 || argc > 7 || parse_port(argv[2], &sport) < 0 || parse_port(argv[4], &port) < 0 ||
	    count < 1 || sport + count > 65536 || (family = sockaddr_of(argv[3], port, &to, &tolen)) < 0)
		return usage();
	for (i = 0; i < count; i++) {
		/* the wildcard address of the family, at the given port */
		sockaddr_of(family == AF_INET ? "0.0.0.0" : "::", (uint16_t)(sport + i), &local, &llen);
		fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&local, llen) < 0 ||
		    sendto(fd, argv[5], strlen(argv[5]), 0, (struct sockaddr *)&to, tolen) < 0) {
			perror("pn-ct-clean: send");
			if (fd >= 0)
				close(fd);
			return 1;
		}
		close(fd);
	}
	return 0;
}

static int recv_udp(int argc, char **argv)
{
	struct sockaddr_storage local;
	socklen_t llen;
	struct pollfd pfd = { .events = POLLIN };
	uint16_t port;
	char buf[512];
	ssize_t n = -1;
	int family;

	if (argc != 5 || parse_port(argv[3], &port) < 0 || atoi(argv[4]) <= 0 ||
	    (family = sockaddr_of(argv[2], port, &local, &llen)) < 0)
		return usage();
	pfd.fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (pfd.fd < 0 || bind(pfd.fd, (struct sockaddr *)&local, llen) < 0) {
		perror("pn-ct-clean: recv");
		return 1;
	}
	if (poll(&pfd, 1, atoi(argv[4]) * 1000) == 1)
		n = recv(pfd.fd, buf, sizeof(buf) - 1, 0);
	close(pfd.fd);
	if (n < 0)
		return 1;
	buf[n] = '\0';
	printf("%s\n", buf);
	return 0;
}

static int clean(int argc, char **argv)
{
	struct px_ct_target *t = calloc((size_t)argc, sizeof(*t));
	struct pn_ip *keep = calloc((size_t)argc, sizeof(*keep));
	struct pn_err e = { 0 };
	size_t n = 0, nkeep = 0;
	unsigned deleted = 0;
	int i = 1, rc = 2;

	if (!t || !keep)
		goto out;
	while (i < argc) {
		struct px_ct_target *x = &t[n++];

		if (i + 3 > argc || (x->family = parse_family(argv[i])) < 0 || parse_port(argv[i + 2], &x->port) < 0)
			goto out;
		x->any_dst = !strcmp(argv[i + 1], "any");
		/* a wrong family is for px_ct_clean_udp to refuse, not for us */
		if (!x->any_dst && pn_ip_parse(argv[i + 1], &x->dst) < 0)
			goto out;
		x->keep = keep + nkeep;
		for (i += 3; i < argc && strcmp(argv[i], "--"); i++, nkeep++, x->nkeep++)
			if (pn_ip_parse(argv[i], &keep[nkeep]) < 0)
				goto out;
		i++;
	}
	if (px_ct_clean_udp(t, n, &deleted, &e) < 0) {
		fprintf(stderr, "pn-ct-clean: %s (%u deleted)\n", e.msg, deleted);
		rc = 1;
		goto out;
	}
	printf("%u\n", deleted);
	rc = 0;
out:
	if (rc == 2)
		usage();
	free(keep);
	free(t);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "list"))
		return list(argc, argv);
	if (!strcmp(argv[1], "send"))
		return send_udp(argc, argv);
	if (!strcmp(argv[1], "recv"))
		return recv_udp(argc, argv);
	return clean(argc, argv);
}
