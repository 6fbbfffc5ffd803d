/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nft.h"
#include "nl.h"

int pn_nft_open(struct pn_nft *n, struct pn_err *e)
{
	int one = 1;

	memset(n, 0, sizeof(*n));
	n->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!n->sock)
		return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "nftables netlink socket: %s", strerror(errno));
	mnl_socket_setsockopt(n->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(n->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(n->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		pn_nft_close(n);
		return pn_err_set(e, CNI_ERR_INTERNAL, -err, "nftables netlink bind: %s", strerror(err));
	}
	n->portid = mnl_socket_get_portid(n->sock);
	n->seq = (uint32_t)time(NULL);
	return 0;
}

static struct {
	bool on;
	size_t n;
	struct mnl_socket *socks[16];
} deferred;

void pn_nft_defer_close(void)
{
	deferred.on = true;
}

void pn_nft_close_deferred(void)
{
	for (size_t i = 0; i < deferred.n; i++)
		mnl_socket_close(deferred.socks[i]);
	deferred.n = 0;
	deferred.on = false;
}

void pn_nft_close(struct pn_nft *n)
{
	if (n->batch)
		nftnl_batch_free(n->batch);
	if (n->sock && deferred.on && deferred.n < sizeof(deferred.socks) / sizeof(deferred.socks[0]))
		deferred.socks[deferred.n++] = n->sock;
	else if (n->sock)
		mnl_socket_close(n->sock);
	n->batch = NULL;
	n->sock = NULL;
}

void pn_nft_begin(struct pn_nft *n)
{
	pn_nft_begin_paged(n, MNL_SOCKET_BUFFER_SIZE);
}

void pn_nft_begin_paged(struct pn_nft *n, uint32_t page)
{
	if (n->batch)
		nftnl_batch_free(n->batch);
	/* a message may overrun a page by up to one more page */
	n->batch = nftnl_batch_alloc(page, page);
	n->nmsgs = 0;
	nftnl_batch_begin(nftnl_batch_buffer(n->batch), n->seq++);
	nftnl_batch_update(n->batch);
}

static struct nlmsghdr *msg(struct pn_nft *n, uint16_t type, uint16_t family, uint16_t flags)
{
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(nftnl_batch_buffer(n->batch), type, family,
						     flags | NLM_F_ACK, n->seq++);
	n->nmsgs++;
	return nlh;
}

void pn_nft_add_table(struct pn_nft *n, const struct nftnl_table *t, bool excl)
{
	struct nlmsghdr *nlh = msg(n, NFT_MSG_NEWTABLE, (uint16_t)nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY),
				   NLM_F_CREATE | (excl ? NLM_F_EXCL : 0));

	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_batch_update(n->batch);
}

void pn_nft_add_chain(struct pn_nft *n, const struct nftnl_chain *c, bool excl)
{
	struct nlmsghdr *nlh = msg(n, NFT_MSG_NEWCHAIN, (uint16_t)nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY),
				   NLM_F_CREATE | (excl ? NLM_F_EXCL : 0));

	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_batch_update(n->batch);
}

void pn_nft_add_rule(struct pn_nft *n, struct nftnl_rule *r)
{
	struct nlmsghdr *nlh = msg(n, NFT_MSG_NEWRULE, (uint16_t)nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY),
				   NLM_F_CREATE | NLM_F_APPEND);

	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_batch_update(n->batch);
}

struct nftnl_chain *pn_nft_chain_new(int family, const char *table, const char *name)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, (uint32_t)family);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	return c;
}

struct nftnl_rule *pn_nft_rule_new(int family, const char *table, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, (uint32_t)family);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	return r;
}

void pn_nft_flush_chain(struct pn_nft *n, int family, const char *table, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh = msg(n, NFT_MSG_DELRULE, (uint16_t)family, 0);

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_batch_update(n->batch);
	nftnl_rule_free(r);
}

void pn_nft_del_chain(struct pn_nft *n, int family, const char *table, const char *chain)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh = msg(n, NFT_MSG_DELCHAIN, (uint16_t)family, 0);

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_batch_update(n->batch);
	nftnl_chain_free(c);
}

void pn_nft_add_set(struct pn_nft *n, struct nftnl_set *s)
{
	struct nlmsghdr *nlh = msg(n, NFT_MSG_NEWSET, (uint16_t)nftnl_set_get_u32(s, NFTNL_SET_FAMILY), NLM_F_CREATE);

	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_batch_update(n->batch);
}

void pn_nft_set_elems(struct pn_nft *n, const struct nftnl_set *s, bool add)
{
	struct nlmsghdr *nlh = msg(n, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
				   (uint16_t)nftnl_set_get_u32(s, NFTNL_SET_FAMILY), add ? NLM_F_CREATE : 0);

	nftnl_set_elems_nlmsg_build_payload(nlh, (struct nftnl_set *)s);
	nftnl_batch_update(n->batch);
}

struct acks {
	int err;
	char ext[256];
	unsigned got;
};

static int ack_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	struct acks *a = data;

	a->got++;
	if (err->error && !a->err) {
		a->err = err->error;
		pn_nl_ext_ack(nlh, a->ext, sizeof(a->ext));
	}
	return MNL_CB_OK;
}

int pn_nft_commit(struct pn_nft *n, struct pn_err *e)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = ack_cb };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct acks a = { 0 };
	struct iovec small[64], *iov = small;
	struct msghdr mh = { 0 };
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	size_t total = 0;
	int iovlen, r;

	nftnl_batch_end(nftnl_batch_buffer(n->batch), n->seq++);
	nftnl_batch_update(n->batch);
	iovlen = nftnl_batch_iovec_len(n->batch);
	if (iovlen > 64 && !(iov = calloc((size_t)iovlen, sizeof(*iov))))
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	nftnl_batch_iovec(n->batch, iov, (uint32_t)iovlen);
	for (int i = 0; i < iovlen; i++)
		total += iov[i].iov_len;
	/* the kernel takes a batch only in one sendmsg no larger than the socket's send buffer */
	if (total > 128 * 1024) {
		int sz = (int)(total + 65536);

		setsockopt(mnl_socket_get_fd(n->sock), SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	}
	mh.msg_name = &snl;
	mh.msg_namelen = sizeof(snl);
	mh.msg_iov = iov;
	mh.msg_iovlen = (size_t)iovlen;
	r = sendmsg(mnl_socket_get_fd(n->sock), &mh, 0) < 0 ? -errno : 0;
	if (iov != small)
		free(iov);
	if (r < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, r, "nftables send: %s", strerror(-r));
	while (a.got < n->nmsgs) {
		ssize_t len = mnl_socket_recvfrom(n->sock, buf, sizeof(buf));

		if (len < 0) {
			if (errno == EINTR)
				continue;
			return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "nftables receive: %s", strerror(errno));
		}
		if (mnl_cb_run2(buf, (size_t)len, 0, n->portid, NULL, &a, ctl, NLMSG_MIN_TYPE) < 0 && !a.err)
			a.err = -errno;
	}
	nftnl_batch_free(n->batch);
	n->batch = NULL;
	if (a.err) {
		if (a.ext[0])
			return pn_err_set(e, CNI_ERR_INTERNAL, a.err, "nftables: %s (%s)", strerror(-a.err), a.ext);
		return pn_err_set(e, CNI_ERR_INTERNAL, a.err, "nftables: %s", strerror(-a.err));
	}
	return 0;
}

void pn_nft_expr_payload(struct nftnl_rule *r, uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *x = nftnl_expr_alloc("payload");

	nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_rule_add_expr(r, x);
}

void pn_nft_expr_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *x = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(x, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, x);
}

void pn_nft_expr_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *x = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(x, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(x, NFTNL_EXPR_META_DREG, dreg);
	nftnl_rule_add_expr(r, x);
}

void pn_nft_expr_nfproto(struct nftnl_rule *r, int family)
{
	uint8_t proto = family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;

	pn_nft_expr_meta(r, NFT_META_NFPROTO, NFT_REG_1);
	pn_nft_expr_cmp(r, NFT_CMP_EQ, &proto, 1);
}

void pn_nft_expr_prefix(struct nftnl_rule *r, uint32_t offset, const struct pn_prefix *p, bool neq)
{
	uint32_t full = (uint32_t)pn_ip_bytes(&p->ip);
	struct pn_ip net = pn_prefix_network(p);
	uint32_t op = neq ? NFT_CMP_NEQ : NFT_CMP_EQ;

	if (p->len % 8 == 0) {
		/* a byte-aligned prefix: nft loads only the prefix bytes */
		pn_nft_expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, offset, p->len / 8, NFT_REG_1);
		pn_nft_expr_cmp(r, op, net.a, p->len / 8);
	} else {
		struct pn_prefix all = { .ip = { .family = p->ip.family }, .len = p->len };
		struct pn_ip mask = pn_prefix_last(&all), zero = { 0 };

		/* last(0.0.0.0/len) has the host bits set: invert it into the netmask */
		for (uint32_t i = 0; i < full; i++)
			mask.a[i] = (uint8_t)~mask.a[i];
		pn_nft_expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, offset, full, NFT_REG_1);
		pn_nft_expr_bitwise(r, NFT_REG_1, mask.a, zero.a, full);
		pn_nft_expr_cmp(r, op, net.a, full);
	}
}

void pn_nft_expr_lookup(struct nftnl_rule *r, const char *set, uint32_t sreg, int dreg, bool inv)
{
	struct nftnl_expr *x = nftnl_expr_alloc("lookup");

	nftnl_expr_set_str(x, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_SREG, sreg);
	if (dreg >= 0)
		nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_DREG, (uint32_t)dreg);
	if (inv)
		nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	nftnl_rule_add_expr(r, x);
}

void pn_nft_expr_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *x = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(x, NFTNL_EXPR_IMM_CHAIN, chain);
	nftnl_rule_add_expr(r, x);
}

void pn_nft_expr_masq(struct nftnl_rule *r, uint32_t flags)
{
	struct nftnl_expr *x = nftnl_expr_alloc("masq");

	if (flags)
		nftnl_expr_set_u32(x, NFTNL_EXPR_MASQ_FLAGS, flags);
	nftnl_rule_add_expr(r, x);
}

void pn_nft_elem_comment(struct nftnl_set_elem *el, const char *comment)
{
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);

	if (!ud)
		return;
	nftnl_udata_put_strz(ud, NFTNL_UDATA_SET_ELEM_COMMENT, comment);
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
}

int pn_nft_dump_elems(struct pn_nft *n, int family, const char *table, const char *set,
		      int (*cb)(const void *key, uint32_t klen, const char *comment, void *ctx), void *ctx,
		      struct pn_err *e)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it = NULL;
	struct nftnl_set_elem *el;
	struct nlmsghdr *nlh;
	ssize_t len;
	int r = 0;

	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, (uint32_t)family);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (uint16_t)family, NLM_F_DUMP | NLM_F_ACK, ++n->seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	if (mnl_socket_sendto(n->sock, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	for (bool done = false; !done && (len = mnl_socket_recvfrom(n->sock, buf, sizeof(buf))) > 0;) {
		struct nlmsghdr *m = (struct nlmsghdr *)buf;
		int left = (int)len;

		for (; !done && mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
			if (m->nlmsg_type == NLMSG_DONE) {
				done = true;
			} else if (m->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = mnl_nlmsg_get_payload(m);

				/* no such table or set: nothing to list */
				r = err->error == -ENOENT ? 0 : err->error;
				done = true;
			} else {
				nftnl_set_elems_nlmsg_parse(m, s);
			}
		}
	}
	it = nftnl_set_elems_iter_create(s);
	while (r == 0 && it && (el = nftnl_set_elems_iter_next(it))) {
		uint32_t klen = 0, ulen = 0;
		const void *key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &klen);
		const char *ud = nftnl_set_elem_get(el, NFTNL_SET_ELEM_USERDATA, &ulen);
		char comment[256] = "";

		/* userdata is TLV: type (comment = 0), length, NUL-terminated text */
		if (ud && ulen > 2 && (uint8_t)ud[0] == NFTNL_UDATA_SET_ELEM_COMMENT && (uint8_t)ud[1] + 2u <= ulen)
			snprintf(comment, sizeof(comment), "%.*s", (int)(uint8_t)ud[1], ud + 2);
		if (key)
			r = cb(key, klen, comment, ctx);
	}
	if (it)
		nftnl_set_elems_iter_destroy(it);
out:
	nftnl_set_free(s);
	if (r < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, r, "listing %s %s: %s", table, set, strerror(-r));
	return 0;
}

/* One GET request (dump or not); every reply message goes to cb. */
static int get(struct pn_nft *n, struct nlmsghdr *nlh, int (*cb)(const struct nlmsghdr *m, void *ctx), void *ctx)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t len;
	int r = 0;

	if (mnl_socket_sendto(n->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (bool done = false; !done && (len = mnl_socket_recvfrom(n->sock, buf, sizeof(buf))) > 0;) {
		struct nlmsghdr *m = (struct nlmsghdr *)buf;
		int left = (int)len;

		for (; !done && mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
			if (m->nlmsg_type == NLMSG_DONE) {
				done = true;
			} else if (m->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = mnl_nlmsg_get_payload(m);

				r = r ? r : err->error;
				done = true;
			} else if (cb && r == 0) {
				r = cb(m, ctx);
			}
		}
	}
	return r;
}

bool pn_nft_chain_exists(struct pn_nft *n, int family, const char *table, const char *chain)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, (uint16_t)family, NLM_F_ACK, ++n->seq);
	int r;

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	r = get(n, nlh, NULL, NULL);
	return r == 0;
}

struct rule_dump {
	int (*cb)(struct nftnl_rule *r, void *ctx);
	void *ctx;
};

static int rule_cb(const struct nlmsghdr *m, void *data)
{
	struct rule_dump *d = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	int ret = 0;

	if (nftnl_rule_nlmsg_parse(m, r) == 0)
		ret = d->cb(r, d->ctx);
	nftnl_rule_free(r);
	return ret;
}

int pn_nft_dump_rules(struct pn_nft *n, int family, const char *table, const char *chain,
		      int (*cb)(struct nftnl_rule *r, void *ctx), void *ctx)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, (uint16_t)family, NLM_F_DUMP, ++n->seq);
	struct rule_dump d = { .cb = cb, .ctx = ctx };
	int ret;

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	ret = get(n, nlh, rule_cb, &d);
	return ret == -ENOENT ? 0 : ret;
}

void pn_nft_del_rule(struct pn_nft *n, int family, const char *table, const char *chain, uint64_t handle)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh = msg(n, NFT_MSG_DELRULE, (uint16_t)family, 0);

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_batch_update(n->batch);
	nftnl_rule_free(r);
}

bool pn_nft_elem_exists(struct pn_nft *n, const struct nftnl_set *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM,
						     (uint16_t)nftnl_set_get_u32(s, NFTNL_SET_FAMILY), NLM_F_ACK, ++n->seq);

	nftnl_set_elems_nlmsg_build_payload(nlh, (struct nftnl_set *)s);
	return get(n, nlh, NULL, NULL) == 0;
}

bool pn_nft_table_exists(struct pn_nft *n, int family, const char *table)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, (uint16_t)family, NLM_F_ACK, ++n->seq);
	int r;

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	r = get(n, nlh, NULL, NULL);
	return r == 0;
}

void pn_nft_del_table(struct pn_nft *n, int family, const char *table)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh = msg(n, NFT_MSG_DELTABLE, (uint16_t)family, 0);

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_batch_update(n->batch);
	nftnl_table_free(t);
}

void pn_nft_del_set(struct pn_nft *n, int family, const char *table, const char *set)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh = msg(n, NFT_MSG_DELSET, (uint16_t)family, 0);

	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_batch_update(n->batch);
	nftnl_set_free(s);
}
