/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "conntrack.h"
#include "nl.h"

/* libmnl >= 1.0.5 calls this MNL_SOCKET_DUMP_SIZE: the kernel fills dump replies up to the
   size of our receive buffer (at most 32 KiB), so a large one means fewer system calls */
#define DUMP_BUF 32768
/* the kernel's CTA_FILTER_F_CTA_PROTO_NUM (net/netfilter/nf_internals.h, not in the uapi):
   the CTA_FILTER flag that compares the original tuple's protocol (Linux >= 5.9) */
#define FILTER_PROTO_NUM (1u << 3)
/* deletes sent in one datagram: each is acked in a message of its own, and all acks of a
   batch must fit the socket's receive buffer (~200 KiB by default) or the kernel drops some */
#define DEL_BATCH 64
#define DEL_MSG_MAX 256
#define DUMP_TRIES 3

static struct nlmsghdr *ct_msg(void *buf, uint16_t type, uint16_t flags, int family, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (uint8_t)family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

static int ct_send(struct pn_nl *nl, const void *buf, size_t len, const char *what, struct pn_err *e)
{
	if (mnl_socket_sendto(nl->sock, buf, len) < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "conntrack %s: send: %s", what, strerror(errno));
	return 0;
}

/* The length received, or a negative errno. */
static int ct_recv(struct pn_nl *nl, char *buf, const char *what, struct pn_err *e)
{
	ssize_t n;

	do
		n = mnl_socket_recvfrom(nl->sock, buf, DUMP_BUF);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "conntrack %s: receive: %s", what,
				  errno == EAGAIN ? "timed out" : strerror(errno));
	return (int)n;
}

/* The -errno of an NLMSG_ERROR that is no ACK, the kernel's own text too when it sent one. */
static int nl_error(const struct nlmsghdr *nlh, const char *what, struct pn_err *e)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	char ext[256] = "";
	int r = -EBADMSG;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*err)) {
		r = err->error > 0 ? -EIO : err->error;
		pn_nl_ext_ack(nlh, ext, sizeof(ext));
	}
	return pn_err_set(e, CNI_ERR_INTERNAL, r, "conntrack %s: %s%s%s%s", what, strerror(-r),
			  ext[0] ? " (" : "", ext, ext[0] ? ")" : "");
}

/* --- parsing one entry -------------------------------------------------------------- */

/* more than any nest of a conntrack message has (CTA_MAX, CTA_TUPLE_MAX, CTA_PROTO_MAX...) */
#define TB_MAX 64

static int tb_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(a) < TB_MAX)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

/* a, if it is there with the type and length expected (len 0: any), else NULL.  What is
   not as expected counts as absent: the entry then lacks something and is skipped, never
   misread. */
static const struct nlattr *valid(const struct nlattr *a, enum mnl_attr_data_type type, size_t len)
{
	return a && mnl_attr_validate2(a, type, len) == 0 ? a : NULL;
}

enum { HAVE_PROTO = 1, HAVE_PORTS = 2 };

struct tuple {
	unsigned have;
	struct pn_ip src, dst;
	uint8_t proto;
	uint16_t sport, dport;
	const struct nlattr *zone;
};

/* 0 when the tuple has both addresses, or -EINVAL. */
static int parse_tuple(const struct nlattr *nest, int family, struct tuple *t)
{
	const struct nlattr *tb[TB_MAX] = { 0 }, *ip[TB_MAX] = { 0 }, *pr[TB_MAX] = { 0 }, *s, *d;
	bool v4 = family == AF_INET;
	size_t alen = v4 ? 4 : 16;

	memset(t, 0, sizeof(*t));
	if (!valid(nest, MNL_TYPE_NESTED, 0))
		return -EINVAL;
	mnl_attr_parse_nested(nest, tb_attr, tb);
	if (!valid(tb[CTA_TUPLE_IP], MNL_TYPE_NESTED, 0))
		return -EINVAL;
	mnl_attr_parse_nested(tb[CTA_TUPLE_IP], tb_attr, ip);
	s = valid(ip[v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC], MNL_TYPE_BINARY, alen);
	d = valid(ip[v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST], MNL_TYPE_BINARY, alen);
	if (!s || !d)
		return -EINVAL;
	t->src.family = t->dst.family = (uint8_t)family;
	memcpy(t->src.a, mnl_attr_get_payload(s), alen);
	memcpy(t->dst.a, mnl_attr_get_payload(d), alen);
	if (valid(tb[CTA_TUPLE_PROTO], MNL_TYPE_NESTED, 0)) {
		mnl_attr_parse_nested(tb[CTA_TUPLE_PROTO], tb_attr, pr);
		if (valid(pr[CTA_PROTO_NUM], MNL_TYPE_U8, 1)) {
			t->proto = mnl_attr_get_u8(pr[CTA_PROTO_NUM]);
			t->have |= HAVE_PROTO;
		}
		s = valid(pr[CTA_PROTO_SRC_PORT], MNL_TYPE_U16, 2);
		d = valid(pr[CTA_PROTO_DST_PORT], MNL_TYPE_U16, 2);
		if (s && d) {
			t->sport = ntohs(mnl_attr_get_u16(s));
			t->dport = ntohs(mnl_attr_get_u16(d));
			t->have |= HAVE_PORTS;
		}
	}
	t->zone = valid(tb[CTA_TUPLE_ZONE], MNL_TYPE_U16, 2);
	return 0;
}

/* 0 and *ce filled, or -EINVAL for an entry that lacks what a delete would need. */
static int parse_entry(const struct nlmsghdr *nlh, int family, struct px_ct_entry *ce)
{
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[TB_MAX] = { 0 }, *zone, *id;
	struct tuple orig, reply;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*nfg) || nfg->nfgen_family != family)
		return -EINVAL;
	mnl_attr_parse(nlh, sizeof(*nfg), tb_attr, tb);
	if (parse_tuple(tb[CTA_TUPLE_ORIG], family, &orig) < 0 || !(orig.have & HAVE_PROTO) ||
	    parse_tuple(tb[CTA_TUPLE_REPLY], family, &reply) < 0)
		return -EINVAL;
	/* the ports are part of the tuple a delete names */
	if ((orig.proto == IPPROTO_UDP || orig.proto == IPPROTO_TCP) && !(orig.have & HAVE_PORTS))
		return -EINVAL;
	memset(ce, 0, sizeof(*ce));
	ce->proto = orig.proto;
	ce->src = orig.src;
	ce->dst = orig.dst;
	ce->sport = orig.sport;
	ce->dport = orig.dport;
	ce->reply_src = reply.src;
	ce->reply_sport = reply.sport;
	/* the kernel reports a zone of both directions as CTA_ZONE, one of the original
	   direction only inside that tuple, and one of the reply direction only inside the
	   reply tuple (which a lookup by original tuple does not compare) */
	zone = valid(tb[CTA_ZONE], MNL_TYPE_U16, 2);
	if (orig.zone) {
		ce->zone = ntohs(mnl_attr_get_u16(orig.zone));
		ce->zone_orig = true;
	} else if (zone) {
		ce->zone = ntohs(mnl_attr_get_u16(zone));
	}
	id = valid(tb[CTA_ID], MNL_TYPE_U32, 4);
	ce->has_id = id != NULL;
	ce->id = id ? mnl_attr_get_u32(id) : 0;
	return 0;
}

/* --- the dump ----------------------------------------------------------------------- */

struct dump {
	int family;
	uint8_t proto;
	int (*cb)(const struct px_ct_entry *ce, void *data);
	void *data;
	unsigned nmsgs;
	bool intr;
};

/* One dump, to its end; kfilter: ask the kernel to leave out other protocols. */
static int dump_once(struct pn_nl *nl, struct dump *d, bool kfilter, char *buf, struct pn_err *e)
{
	struct nlmsghdr *nlh = ct_msg(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, d->family, ++nl->seq);
	struct px_ct_entry ce;
	char what[32];
	int r, len;

	if (kfilter && d->proto) {
		struct nlattr *tup = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG), *proto;

		proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
		mnl_attr_put_u8(nlh, CTA_PROTO_NUM, d->proto);
		mnl_attr_nest_end(nlh, proto);
		mnl_attr_nest_end(nlh, tup);
		tup = mnl_attr_nest_start(nlh, CTA_FILTER);
		mnl_attr_put_u32(nlh, CTA_FILTER_ORIG_FLAGS, FILTER_PROTO_NUM);
		mnl_attr_nest_end(nlh, tup);
	}
	snprintf(what, sizeof(what), "dump (%s)", d->family == AF_INET ? "IPv4" : "IPv6");
	d->intr = false;
	d->nmsgs = 0;
	r = ct_send(nl, nlh, nlh->nlmsg_len, what, e);
	while (r == 0) {
		len = r = ct_recv(nl, buf, what, e);
		if (r < 0)
			break;
		r = 0;
		for (nlh = (struct nlmsghdr *)buf; r == 0 && mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != nl->seq || nlh->nlmsg_pid != nl->portid)
				continue;      /* not ours: a late answer to an abandoned request */
			/* the kernel changed the table in a way that made the walk unreliable */
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				d->intr = true;
			if (nlh->nlmsg_type == NLMSG_ERROR)
				return nl_error(nlh, what, e);
			/* the end; a dump that failed half-way says so in its NLMSG_DONE */
			if (nlh->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err))
					memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
				if (err < 0)
					return pn_err_set(e, CNI_ERR_INTERNAL, err, "conntrack %s: %s", what, strerror(-err));
				return 0;
			}
			d->nmsgs++;
			if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK ||
			    parse_entry(nlh, d->family, &ce) < 0 || (d->proto && ce.proto != d->proto))
				continue;
			r = d->cb(&ce, d->data);
		}
	}
	return r;
}

static int dump(struct pn_nl *nl, struct dump *d, char *buf, struct pn_err *e)
{
	int r = dump_once(nl, d, true, buf, e);

	/* a kernel that knows CTA_FILTER but refuses this one: filter here instead (an older
	   kernel ignores the attribute and dumps everything, filtered here all the same) */
	if ((r == -EINVAL || r == -EOPNOTSUPP) && d->proto && d->nmsgs == 0)
		r = dump_once(nl, d, false, buf, e);
	return r;
}

static int ct_open(struct pn_nl *nl, char **buf, struct pn_err *e)
{
	struct timeval timeout = { .tv_sec = 10 };
	int one = 1;

	*buf = malloc(DUMP_BUF);
	if (!*buf)
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "conntrack: out of memory");
	nl->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl->sock)
		return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "conntrack netlink socket: %s", strerror(errno));
	/* older kernels ignore these: the kernel's own error text, and short error replies */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	/* the kernel answers every request and never stalls a dump: a silent socket is a bug
	   somewhere, and the proxy's sync loop must not hang on it */
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "conntrack netlink bind: %s", strerror(errno));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

int px_ct_list(int family, uint8_t proto, int (*cb)(const struct px_ct_entry *ce, void *data),
	       void *data, struct pn_err *e)
{
	struct pn_nl nl = { 0 };
	struct dump d = { .family = family, .proto = proto, .cb = cb, .data = data };
	char *buf = NULL;
	int r;

	if (family != AF_INET && family != AF_INET6)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "conntrack dump: address family %d", family);
	r = ct_open(&nl, &buf, e);
	if (r == 0)
		r = dump(&nl, &d, buf, e);
	pn_nl_close(&nl);
	free(buf);
	return r;
}

/* --- matching ----------------------------------------------------------------------- */

struct tgt {
	int family;
	uint16_t port;
	bool any;
	struct pn_ip dst;             /* zero when any */
	struct pn_ip *keep;           /* sorted; points into the pool */
	size_t nkeep;
};

static int ip_cmp(const void *a, const void *b)
{
	return pn_ip_cmp(a, b);
}

/* by family, port, then the targets with a dst (ordered by dst) before the any_dst ones */
static int tgt_cmp(const void *pa, const void *pb)
{
	const struct tgt *a = pa, *b = pb;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if (a->any != b->any)
		return a->any ? 1 : -1;
	return pn_ip_cmp(&a->dst, &b->dst);
}

/* Index of the first target not ordered before key. */
static size_t lower_bound(const struct tgt *t, size_t n, const struct tgt *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tgt_cmp(&t[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool kept(const struct tgt *t, const struct pn_ip *ip)
{
	return t->nkeep && bsearch(ip, t->keep, t->nkeep, sizeof(*t->keep), ip_cmp);
}

/* The targets equal to key on reply source rsrc: -1 none, 1 one drops it, 0 all keep it. */
static int decide(const struct tgt *t, size_t n, const struct tgt *key, const struct pn_ip *rsrc)
{
	int r = -1;

	for (size_t i = lower_bound(t, n, key); i < n && tgt_cmp(&t[i], key) == 0; i++) {
		if (!kept(&t[i], rsrc))
			return 1;
		r = 0;
	}
	return r;
}

/* Does a target say this entry goes?  See conntrack.h for which targets decide. */
static bool stale(const struct tgt *t, size_t n, const struct px_ct_entry *ce)
{
	struct tgt key = { .family = ce->dst.family, .port = ce->dport, .dst = ce->dst };
	int r = decide(t, n, &key, &ce->reply_src);

	if (r < 0) {
		key.any = true;
		memset(&key.dst, 0, sizeof(key.dst));
		r = decide(t, n, &key, &ce->reply_src);
	}
	return r == 1;
}

struct collect {
	struct tgt *t;
	size_t nt;
	struct px_ct_entry *v;
	size_t n, cap;
};

static int collect_cb(const struct px_ct_entry *ce, void *data)
{
	struct collect *c = data;

	/* the kernel filter may be missing (Linux < 5.9): check the protocol here too */
	if (ce->proto != IPPROTO_UDP || !stale(c->t, c->nt, ce))
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct px_ct_entry *v = reallocarray(c->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = *ce;
	return 0;
}

/* --- deleting ----------------------------------------------------------------------- */

/* Never called without an original tuple: a CT_DELETE without one flushes the table. */
static struct nlmsghdr *del_msg(void *buf, int family, uint32_t seq, const struct px_ct_entry *ce)
{
	struct nlmsghdr *nlh = ct_msg(buf, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, family, seq);
	struct nlattr *tup, *nest;
	bool v4 = family == AF_INET;
	size_t len = v4 ? 4 : 16;

	tup = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put(nlh, v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, len, ce->src.a);
	mnl_attr_put(nlh, v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, len, ce->dst.a);
	mnl_attr_nest_end(nlh, nest);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, ce->proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(ce->sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(ce->dport));
	mnl_attr_nest_end(nlh, nest);
	/* the kernel refuses a tuple zone next to CTA_ZONE: one or the other, as dumped */
	if (ce->zone && ce->zone_orig)
		mnl_attr_put_u16(nlh, CTA_TUPLE_ZONE, htons(ce->zone));
	mnl_attr_nest_end(nlh, tup);
	if (ce->zone && !ce->zone_orig)
		mnl_attr_put_u16(nlh, CTA_ZONE, htons(ce->zone));
	/* the kernel deletes only the entry with this id: a new one with the same tuple stays */
	if (ce->has_id)
		mnl_attr_put_u32(nlh, CTA_ID, ce->id);
	return nlh;
}

/* DUMP_BUF holds a full batch of the largest message */
_Static_assert(DEL_BATCH * DEL_MSG_MAX <= DUMP_BUF, "delete batch does not fit the buffer");

/* Sends up to DEL_BATCH deletes in one datagram and reads their acks.  A failed delete
   sets e and *first_err once, and the rest go on. */
static int del_batch(struct pn_nl *nl, int family, const struct px_ct_entry *v, size_t n, char *buf,
		     unsigned *deleted, int *first_err, struct pn_err *e)
{
	uint32_t first = nl->seq + 1;
	size_t off = 0, i, acks = 0;
	int r, len;

	for (i = 0; i < n; i++)
		off += del_msg(buf + off, family, ++nl->seq, &v[i])->nlmsg_len;
	r = ct_send(nl, buf, off, "delete", e);
	while (r == 0 && acks < n) {
		const struct nlmsghdr *nlh;

		len = r = ct_recv(nl, buf, "delete", e);
		if (r < 0)
			break;
		r = 0;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
			char what[128], src[PN_IP_STRLEN], dst[PN_IP_STRLEN];
			const struct px_ct_entry *ce;

			if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq - first >= n)
				continue;
			ce = &v[nlh->nlmsg_seq - first];
			acks++;
			/* ENOENT: gone already (timed out, deleted by someone else, or replaced by
			   a new entry of another id), which is what we wanted */
			if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*err) && err->error == 0) {
				(*deleted)++;
			} else if ((mnl_nlmsg_get_payload_len(nlh) < sizeof(*err) || err->error != -ENOENT) &&
				   *first_err == 0) {
				snprintf(what, sizeof(what), "delete udp %s:%u -> %s:%u", pn_ip_format(&ce->src, src),
					 ce->sport, pn_ip_format(&ce->dst, dst), ce->dport);
				*first_err = nl_error(nlh, what, e);
			}
		}
	}
	return r;
}

/* --- the whole -------------------------------------------------------------------- */

static int prepare(const struct px_ct_target *t, size_t n, struct tgt *out, struct pn_ip *pool,
		   struct pn_err *e)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		const char *bad = t[i].family != AF_INET && t[i].family != AF_INET6 ? "not IPv4 or IPv6" :
				  !t[i].any_dst && t[i].dst.family != t[i].family ? "destination of another family" :
				  t[i].port == 0 ? "port 0" : t[i].nkeep && !t[i].keep ? "no keep list" : NULL;

		if (bad)
			return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "conntrack target %zu: %s", i, bad);
		memset(&out[i], 0, sizeof(out[i]));
		out[i].family = t[i].family;
		out[i].port = t[i].port;
		out[i].any = t[i].any_dst;
		if (!t[i].any_dst)
			out[i].dst = t[i].dst;
		out[i].keep = pool;
		out[i].nkeep = t[i].nkeep;
		for (j = 0; j < t[i].nkeep; j++) {
			if (t[i].keep[j].family != t[i].family)
				return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL,
						  "conntrack target %zu: endpoint %zu of another family", i, j);
			pool[j] = t[i].keep[j];
		}
		qsort(pool, t[i].nkeep, sizeof(*pool), ip_cmp);
		pool += t[i].nkeep;
	}
	qsort(out, n, sizeof(*out), tgt_cmp);
	return 0;
}

int px_ct_clean_udp(const struct px_ct_target *t, size_t n, unsigned *deleted, struct pn_err *e)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct pn_nl nl = { 0 };
	struct collect c = { 0 };
	struct pn_ip *pool = NULL;
	char *buf = NULL;
	unsigned count = 0;
	size_t i, j, nkeep = 0;
	int r = 0, first_err = 0, intr_family = 0, try;

	if (deleted)
		*deleted = 0;
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		nkeep += t[i].nkeep;
	c.t = calloc(n, sizeof(*c.t));
	pool = calloc(nkeep ? nkeep : 1, sizeof(*pool));
	if (!c.t || !pool) {
		r = pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "conntrack: out of memory");
		goto out;
	}
	c.nt = n;
	r = prepare(t, n, c.t, pool, e);
	if (r == 0)
		r = ct_open(&nl, &buf, e);
	for (i = 0; r == 0 && i < sizeof(families) / sizeof(families[0]); i++) {
		struct tgt key = { .family = families[i] };
		struct dump d = { .family = families[i], .proto = IPPROTO_UDP, .cb = collect_cb, .data = &c };
		size_t lb = lower_bound(c.t, n, &key);

		/* targets are sorted by family first: is there one of this family? */
		if (lb == n || c.t[lb].family != families[i])
			continue;
		for (try = 0; try < DUMP_TRIES; try++) {
			/* an interrupted dump may have missed entries: start over */
			c.n = 0;
			r = dump(&nl, &d, buf, e);
			if (r == -ENOMEM)
				r = pn_err_set(e, CNI_ERR_INTERNAL, r, "conntrack dump: out of memory");
			if (r < 0 || !d.intr)
				break;
		}
		if (d.intr && !intr_family)
			intr_family = families[i];
		/* still delete what the last dump showed: each delete names one entry exactly */
		for (j = 0; j < c.n && r == 0; j += DEL_BATCH)
			r = del_batch(&nl, families[i], c.v + j, c.n - j < DEL_BATCH ? c.n - j : DEL_BATCH, buf,
				      &count, &first_err, e);
	}
	if (r == 0)
		r = first_err;
	if (r == 0 && intr_family)
		r = pn_err_set(e, CNI_ERR_TRY_AGAIN, -EAGAIN, "conntrack dump (%s) interrupted %d times by table changes",
			       intr_family == AF_INET ? "IPv4" : "IPv6", DUMP_TRIES);
out:
	if (deleted)
		*deleted = count;
	pn_nl_close(&nl);
	free(c.v);
	free(c.t);
	free(buf);
	free(pool);
	return r;
}
