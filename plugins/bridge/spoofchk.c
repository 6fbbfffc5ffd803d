/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "nft.h"
#include "spoofchk.h"

#define TABLE "podnet_spoofchk"
#define TYPE_IFNAME 41   /* nft's datatype number for interface names */

static struct nftnl_set *ports_elem(const char *veth, const char *chain, const char *comment)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();
	char key[IFNAMSIZ] = { 0 };

	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_BRIDGE);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "ports");
	snprintf(key, sizeof(key), "%s", veth);
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, sizeof(key));
	if (chain) {
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, NFT_JUMP);
		nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, chain);
	}
	if (comment)
		pn_nft_elem_comment(el, comment);
	nftnl_set_elem_add(s, el);
	return s;
}

static struct nftnl_chain *chain_new(const char *name)
{
	return pn_nft_chain_new(NFPROTO_BRIDGE, TABLE, name);
}

static struct nftnl_rule *rule_new(const char *chain)
{
	return pn_nft_rule_new(NFPROTO_BRIDGE, TABLE, chain);
}

static int ensure_table(struct pn_nft *n, struct pn_err *e)
{
	struct nftnl_table *t;
	struct nftnl_chain *c;
	struct nftnl_set *s;
	struct nftnl_rule *r;
	int ret;

	/* a failing transaction (EEXIST) costs an abort: look first */
	if (pn_nft_chain_exists(n, NFPROTO_BRIDGE, TABLE, "prerouting"))
		return 0;
	t = nftnl_table_alloc();
	c = chain_new("prerouting");
	s = nftnl_set_alloc();
	r = rule_new("prerouting");
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_BRIDGE);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, TABLE);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_BRIDGE);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "ports");
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, TYPE_IFNAME);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, IFNAMSIZ);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
	/* the bridge family numbers its hooks like inet: prerouting is 0 */
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_PRE_ROUTING);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, -300);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	pn_nft_expr_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	pn_nft_expr_lookup(r, "ports", NFT_REG_1, NFT_REG_VERDICT, false);
	pn_nft_begin(n);
	pn_nft_add_table(n, t, false);
	pn_nft_add_set(n, s);
	pn_nft_add_chain(n, c, true);   /* exclusive: an existing chain has its rule */
	pn_nft_add_rule(n, r);
	ret = pn_nft_commit(n, e);
	nftnl_table_free(t);
	nftnl_chain_free(c);
	nftnl_set_free(s);
	nftnl_rule_free(r);
	return ret == -EEXIST ? 0 : ret;
}

int br_spoofchk_add(const struct cni_req *req, const char *hostveth, const uint8_t mac[6], struct pn_err *e)
{
	char chain[64], comment[256];
	struct nftnl_chain *c;
	struct nftnl_rule *r;
	struct nftnl_set *s;
	struct pn_nft n;
	int ret;

	if ((ret = pn_nft_open(&n, e)) < 0)
		return ret;
	if ((ret = ensure_table(&n, e)) < 0)
		goto out;
	snprintf(chain, sizeof(chain), "port-%s", hostveth);
	cni_owner_comment(req, comment, sizeof(comment));
	c = chain_new(chain);
	r = rule_new(chain);
	pn_nft_expr_payload(r, NFT_PAYLOAD_LL_HEADER, 6, 6, NFT_REG_1);
	pn_nft_expr_cmp(r, NFT_CMP_NEQ, mac, 6);
	pn_nft_expr_verdict(r, NF_DROP, NULL);
	s = ports_elem(hostveth, chain, comment);
	/* one transaction: the port's chain, emptied (a stale one may exist), its rule, its element */
	pn_nft_begin(&n);
	pn_nft_add_chain(&n, c, false);
	pn_nft_flush_chain(&n, NFPROTO_BRIDGE, TABLE, chain);
	pn_nft_add_rule(&n, r);
	pn_nft_set_elems(&n, s, true);
	ret = pn_nft_commit(&n, e);
	nftnl_chain_free(c);
	nftnl_rule_free(r);
	nftnl_set_free(s);
out:
	pn_nft_close(&n);
	return ret < 0 ? pn_err_prefix(e, ret, "failed to set up macspoofchk") : 0;
}

static int del_port(struct pn_nft *n, const char *veth, struct pn_err *e)
{
	struct nftnl_set *s = ports_elem(veth, NULL, NULL);
	char chain[64];
	int r;

	snprintf(chain, sizeof(chain), "port-%s", veth);
	if (!pn_nft_chain_exists(n, NFPROTO_BRIDGE, TABLE, chain)) {
		nftnl_set_free(s);
		return 0;
	}
	pn_nft_begin(n);
	pn_nft_set_elems(n, s, false);
	r = pn_nft_commit(n, e);
	nftnl_set_free(s);
	if (r < 0 && r != -ENOENT)
		return r;
	pn_nft_begin(n);
	pn_nft_flush_chain(n, NFPROTO_BRIDGE, TABLE, chain);
	pn_nft_del_chain(n, NFPROTO_BRIDGE, TABLE, chain);
	r = pn_nft_commit(n, e);
	return r == -ENOENT ? 0 : r;
}

struct find {
	const char *comment;     /* the owner to find, or NULL: owners not in valid */
	const struct cni_req *req;
	const json_t *valid;
	char veth[8][IFNAMSIZ];
	int n;
};

static int find_cb(const void *key, uint32_t klen, const char *comment, void *ctx)
{
	struct find *f = ctx;

	bool match = f->comment ? !strcmp(comment, f->comment) : !cni_owner_valid(f->req, f->valid, comment);

	if (match && f->n < 8 && klen <= IFNAMSIZ)
		snprintf(f->veth[f->n++], IFNAMSIZ, "%.*s", (int)klen, (const char *)key);
	return 0;
}

int br_spoofchk_del(const struct cni_req *req, const char *hostveth, struct pn_err *e)
{
	char comment[256];
	struct find f = { .comment = comment };
	struct pn_nft n;
	int r;

	if ((r = pn_nft_open(&n, e)) < 0)
		return r;
	if (hostveth) {
		r = del_port(&n, hostveth, e);
	} else {
		cni_owner_comment(req, comment, sizeof(comment));
		r = pn_nft_dump_elems(&n, NFPROTO_BRIDGE, TABLE, "ports", find_cb, &f, e);
		for (int i = 0; r == 0 && i < f.n; i++)
			r = del_port(&n, f.veth[i], e);
	}
	pn_nft_close(&n);
	return r;
}

int br_spoofchk_gc(const struct cni_req *req, const json_t *valid, struct pn_err *e)
{
	struct find f = { .req = req, .valid = valid };
	struct pn_nft n;
	int r;

	if ((r = pn_nft_open(&n, e)) < 0)
		return r;
	/* a pass collects at most 8 ports; repeat until none is left to collect */
	do {
		f.n = 0;
		r = pn_nft_dump_elems(&n, NFPROTO_BRIDGE, TABLE, "ports", find_cb, &f, e);
		for (int i = 0; r == 0 && i < f.n; i++)
			r = del_port(&n, f.veth[i], e);
	} while (r == 0 && f.n == 8);
	pn_nft_close(&n);
	return r;
}
