/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "masq.h"
#include "nft.h"

#define TYPE_IPADDR 7   /* nft's datatype numbers, which `nft list` uses to print keys */
#define TYPE_IP6ADDR 8

static const char *map_name(int family) { return family == AF_INET ? "pods4" : "pods6"; }

static struct nftnl_chain *chain_new(const char *name)
{
	return pn_nft_chain_new(NFPROTO_INET, BR_MASQ_TABLE, name);
}

static struct nftnl_rule *rule_new(const char *chain)
{
	return pn_nft_rule_new(NFPROTO_INET, BR_MASQ_TABLE, chain);
}

static struct nftnl_set *map_new(int family)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, BR_MASQ_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, map_name(family));
	return s;
}

/*
 * Table, maps, and the postrouting chain with its two vmap rules, once.  Looked up
 * first: a transaction that fails (EEXIST) costs the kernel an abort, ~10 ms here,
 * where a lookup costs microseconds.
 */
static int ensure_table(struct pn_nft *n, struct pn_err *e)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_chain *c = chain_new("postrouting");
	int fams[2] = { AF_INET, AF_INET6 }, r;

	if (pn_nft_chain_exists(n, NFPROTO_INET, BR_MASQ_TABLE, "postrouting")) {
		nftnl_table_free(t);
		nftnl_chain_free(c);
		return 0;
	}
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, BR_MASQ_TABLE);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_POST_ROUTING);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 100);   /* srcnat */
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "nat");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	pn_nft_begin(n);
	pn_nft_add_table(n, t, false);
	for (int i = 0; i < 2; i++) {
		struct nftnl_set *s = map_new(fams[i]);

		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, fams[i] == AF_INET ? TYPE_IPADDR : TYPE_IP6ADDR);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, fams[i] == AF_INET ? 4 : 16);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)i + 1);
		pn_nft_add_set(n, s);
		nftnl_set_free(s);
	}
	/* exclusive: if postrouting exists, so do its rules, and the batch is dropped */
	pn_nft_add_chain(n, c, true);
	for (int i = 0; i < 2; i++) {
		struct nftnl_rule *rl = rule_new("postrouting");

		pn_nft_expr_nfproto(rl, fams[i]);
		pn_nft_expr_payload(rl, NFT_PAYLOAD_NETWORK_HEADER, fams[i] == AF_INET ? 12 : 8,
				    fams[i] == AF_INET ? 4 : 16, NFT_REG_1);
		pn_nft_expr_lookup(rl, map_name(fams[i]), NFT_REG_1, NFT_REG_VERDICT, false);
		pn_nft_add_rule(n, rl);
		nftnl_rule_free(rl);
	}
	r = pn_nft_commit(n, e);
	nftnl_table_free(t);
	nftnl_chain_free(c);
	return r == -EEXIST ? 0 : r;
}

static void chain_name(const char *net, const struct pn_prefix *subnet, char *buf, size_t len)
{
	char a[PN_IP_STRLEN];

	pn_ip_format(&subnet->ip, a);
	for (char *p = a; *p; p++)
		if (*p == ':')
			*p = '.';
	snprintf(buf, len, "masq-%s-%s-%u", net, a, subnet->len);
}

/* masq-<net>-<subnet>: everything leaving the subnet, but multicast, is masqueraded */
static int ensure_subnet_chain(struct pn_nft *n, const char *name, const struct pn_prefix *subnet, struct pn_err *e)
{
	struct nftnl_chain *c;
	struct nftnl_rule *rl;
	struct pn_prefix mcast;
	int fam = subnet->ip.family, r;
	uint32_t daddr = fam == AF_INET ? 16 : 24;

	if (pn_nft_chain_exists(n, NFPROTO_INET, BR_MASQ_TABLE, name))
		return 0;
	c = chain_new(name);
	rl = rule_new(name);
	pn_prefix_parse(fam == AF_INET ? "224.0.0.0/4" : "ff00::/8", &mcast);
	pn_nft_expr_nfproto(rl, fam);
	pn_nft_expr_prefix(rl, daddr, subnet, true);
	pn_nft_expr_prefix(rl, daddr, &mcast, true);
	pn_nft_expr_masq(rl, 0);
	pn_nft_begin(n);
	pn_nft_add_chain(n, c, true);
	pn_nft_add_rule(n, rl);
	r = pn_nft_commit(n, e);
	nftnl_chain_free(c);
	nftnl_rule_free(rl);
	return r == -EEXIST ? 0 : r;
}

static struct nftnl_set *elem_set(const struct pn_ip *ip, const char *chain, const char *comment)
{
	struct nftnl_set *s = map_new(ip->family);
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();

	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, ip->a, (uint32_t)pn_ip_bytes(ip));
	if (chain) {
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, NFT_JUMP);
		nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, chain);
	}
	if (comment)
		pn_nft_elem_comment(el, comment);
	nftnl_set_elem_add(s, el);
	return s;
}

static int elem_del(struct pn_nft *n, const struct pn_ip *ip, struct pn_err *e)
{
	struct nftnl_set *s = elem_set(ip, NULL, NULL);
	int r;

	/* a delete that fails aborts a transaction, which is slow: look first */
	if (!pn_nft_elem_exists(n, s)) {
		nftnl_set_free(s);
		return 0;
	}
	pn_nft_begin(n);
	pn_nft_set_elems(n, s, false);
	r = pn_nft_commit(n, e);
	nftnl_set_free(s);
	return r == -ENOENT ? 0 : r;
}

int br_masq_add(const struct cni_req *req, const json_t *ips, struct pn_err *e)
{
	struct pn_nft n;
	char comment[256];
	json_t *ip;
	size_t i;
	int r;

	if ((r = pn_nft_open(&n, e)) < 0)
		return r;
	if ((r = ensure_table(&n, e)) < 0)
		goto out;
	cni_owner_comment(req, comment, sizeof(comment));
	json_array_foreach(ips, i, ip) {
		const char *a = json_string_value(pn_json_get(ip, "address"));
		char chain[256];
		struct pn_prefix p, subnet;
		struct nftnl_set *s;

		if (!a || pn_prefix_parse(a, &p) < 0)
			continue;
		subnet = p;
		subnet.ip = pn_prefix_network(&p);
		chain_name(req->name, &subnet, chain, sizeof(chain));
		if ((r = ensure_subnet_chain(&n, chain, &subnet, e)) < 0)
			goto out;
		s = elem_set(&p.ip, chain, comment);
		pn_nft_begin(&n);
		pn_nft_set_elems(&n, s, true);
		r = pn_nft_commit(&n, e);
		if (r == -EEXIST || r == -EBUSY) {
			/* a stale element of a pod that had this address: replace it, atomically */
			struct nftnl_set *old = elem_set(&p.ip, NULL, NULL);

			pn_nft_begin(&n);
			pn_nft_set_elems(&n, old, false);
			pn_nft_set_elems(&n, s, true);
			r = pn_nft_commit(&n, e);
			nftnl_set_free(old);
		}
		nftnl_set_free(s);
		if (r < 0)
			goto out;
	}
out:
	pn_nft_close(&n);
	return r < 0 ? pn_err_prefix(e, r, "failed to set up IP masquerade") : 0;
}

struct dump_ctx {
	int family;
	int (*cb)(const struct pn_ip *ip, const char *comment, void *ctx);
	void *ctx;
};

static int dump_cb(const void *key, uint32_t klen, const char *comment, void *data)
{
	struct dump_ctx *d = data;
	struct pn_ip ip = { .family = (uint8_t)d->family };

	if (klen != (uint32_t)pn_ip_bytes(&ip))
		return 0;
	memcpy(ip.a, key, klen);
	return d->cb(&ip, comment, d->ctx);
}

/* Elements of one map: cb(ip, comment) for each. */
static int dump_elems(struct pn_nft *n, int family, int (*cb)(const struct pn_ip *ip, const char *comment, void *ctx),
		      void *ctx, struct pn_err *e)
{
	struct dump_ctx d = { .family = family, .cb = cb, .ctx = ctx };

	return pn_nft_dump_elems(n, NFPROTO_INET, BR_MASQ_TABLE, map_name(family), dump_cb, &d, e);
}

struct match {
	const char *comment;       /* owner comment to match, or NULL for GC */
	const struct cni_req *req;
	const json_t *valid;
	struct pn_ip found[64];
	size_t n;
};

static int match_cb(const struct pn_ip *ip, const char *comment, void *ctx)
{
	struct match *m = ctx;
	bool doomed = m->comment ? !strcmp(comment, m->comment) : !cni_owner_valid(m->req, m->valid, comment);

	if (doomed && m->n < sizeof(m->found) / sizeof(m->found[0]))
		m->found[m->n++] = *ip;
	return 0;
}

static int del_matching(struct match *m, struct pn_err *e)
{
	struct pn_nft n;
	int r;

	if ((r = pn_nft_open(&n, e)) < 0)
		return r;
	for (int f = 0; f < 2 && r == 0; f++)
		r = dump_elems(&n, f ? AF_INET6 : AF_INET, match_cb, m, e);
	for (size_t i = 0; i < m->n && r == 0; i++)
		r = elem_del(&n, &m->found[i], e);
	pn_nft_close(&n);
	return r;
}

int br_masq_del(const struct cni_req *req, const struct pn_prefix *addrs, size_t n, struct pn_err *e)
{
	char comment[256];
	struct pn_nft nft;
	int r;

	if (!n) {
		struct match m = { .comment = comment, .req = req };

		cni_owner_comment(req, comment, sizeof(comment));
		return del_matching(&m, e);
	}
	if ((r = pn_nft_open(&nft, e)) < 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++)
		r = elem_del(&nft, &addrs[i].ip, e);
	pn_nft_close(&nft);
	/* no table yet: nothing to remove */
	return r == -ENOENT ? 0 : r;
}

int br_masq_gc(const struct cni_req *req, const json_t *valid, struct pn_err *e)
{
	struct match m = { .req = req, .valid = valid };

	return del_matching(&m, e);
}
