/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <string.h>

#include "nft.h"
#include "refclean.h"
#include "sha512.h"

#define MAX_HANDLES 64

struct handles {
	const char *jump_to;     /* iptables: rules jumping to this chain */
	const char *prefix;      /* nftables backend: rules whose comment starts so */
	uint64_t h[MAX_HANDLES];
	int n;
};

static bool jumps_to(struct nftnl_rule *r, const char *chain)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *x;
	bool found = false;

	while (it && !found && (x = nftnl_expr_iter_next(it))) {
		const char *name = nftnl_expr_get_str(x, NFTNL_EXPR_NAME);

		if (name && !strcmp(name, "immediate") && nftnl_expr_is_set(x, NFTNL_EXPR_IMM_CHAIN))
			found = !strcmp(nftnl_expr_get_str(x, NFTNL_EXPR_IMM_CHAIN), chain);
	}
	if (it)
		nftnl_expr_iter_destroy(it);
	return found;
}

static bool comment_starts(struct nftnl_rule *r, const char *prefix)
{
	uint32_t len = 0;
	const uint8_t *ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);

	/* TLVs: type, length, value; the comment is NUL-terminated text */
	for (uint32_t off = 0; ud && off + 2 <= len; off += 2u + ud[off + 1]) {
		if (ud[off] == NFTNL_UDATA_RULE_COMMENT && off + 2u + ud[off + 1] <= len)
			return !strncmp((const char *)ud + off + 2, prefix, strlen(prefix));
	}
	return false;
}

static int collect(struct nftnl_rule *r, void *ctx)
{
	struct handles *h = ctx;
	bool match = h->jump_to ? jumps_to(r, h->jump_to) : comment_starts(r, h->prefix);

	if (match && h->n < MAX_HANDLES)
		h->h[h->n++] = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	return 0;
}

static int clean_iptables(struct pn_nft *n, int family, const char *chain, struct pn_err *e)
{
	struct handles h = { .jump_to = chain };
	int r;

	if (!pn_nft_chain_exists(n, family, "nat", chain))
		return 0;
	if ((r = pn_nft_dump_rules(n, family, "nat", "POSTROUTING", collect, &h)) < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, r, "listing nat POSTROUTING: %s", strerror(-r));
	pn_nft_begin(n);
	for (int i = 0; i < h.n; i++)
		pn_nft_del_rule(n, family, "nat", "POSTROUTING", h.h[i]);
	pn_nft_flush_chain(n, family, "nat", chain);
	pn_nft_del_chain(n, family, "nat", chain);
	r = pn_nft_commit(n, e);
	return r == -ENOENT ? 0 : r;
}

static int clean_nftables(struct pn_nft *n, const struct cni_req *req, struct pn_err *e)
{
	char net[17], inst[17], key[256], prefix[40];
	struct handles h = { .prefix = prefix };
	int r;

	if (!pn_nft_chain_exists(n, NFPROTO_INET, "cni_plugins_masquerade", "masq_checks"))
		return 0;
	pn_sha512_hex(req->name, "", 16, net);
	snprintf(key, sizeof(key), "%s:", req->ifname);
	pn_sha512_hex(key, req->container_id, 16, inst);
	snprintf(prefix, sizeof(prefix), "%s-%s", net, inst);
	if ((r = pn_nft_dump_rules(n, NFPROTO_INET, "cni_plugins_masquerade", "masq_checks", collect, &h)) < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, r, "listing cni_plugins_masquerade: %s", strerror(-r));
	if (!h.n)
		return 0;
	pn_nft_begin(n);
	for (int i = 0; i < h.n; i++)
		pn_nft_del_rule(n, NFPROTO_INET, "cni_plugins_masquerade", "masq_checks", h.h[i]);
	r = pn_nft_commit(n, e);
	return r == -ENOENT ? 0 : r;
}

int br_refclean_spoofchk(const struct cni_req *req, struct pn_err *e)
{
	char chain[512], mac_chain[520];
	struct handles h = { .jump_to = chain };
	struct pn_nft n;
	int r;

	/* the reference's chains: cni-br-iface-<containerID>-<ifname> and its -mac chain */
	snprintf(chain, sizeof(chain), "cni-br-iface-%s-%s", req->container_id, req->ifname);
	snprintf(mac_chain, sizeof(mac_chain), "%s-mac", chain);
	if ((r = pn_nft_open(&n, e)) < 0)
		return r;
	if (!pn_nft_chain_exists(&n, NFPROTO_BRIDGE, "nat", chain))
		goto out;
	if ((r = pn_nft_dump_rules(&n, NFPROTO_BRIDGE, "nat", "PREROUTING", collect, &h)) < 0) {
		pn_err_set(e, CNI_ERR_INTERNAL, r, "listing bridge nat PREROUTING: %s", strerror(-r));
		goto out;
	}
	pn_nft_begin(&n);
	for (int i = 0; i < h.n; i++)
		pn_nft_del_rule(&n, NFPROTO_BRIDGE, "nat", "PREROUTING", h.h[i]);
	/* the iface chain jumps to the mac chain: empty both, then delete the referrer first */
	pn_nft_flush_chain(&n, NFPROTO_BRIDGE, "nat", chain);
	pn_nft_flush_chain(&n, NFPROTO_BRIDGE, "nat", mac_chain);
	pn_nft_del_chain(&n, NFPROTO_BRIDGE, "nat", chain);
	pn_nft_del_chain(&n, NFPROTO_BRIDGE, "nat", mac_chain);
	r = pn_nft_commit(&n, e);
	if (r == -ENOENT)
		r = 0;
out:
	pn_nft_close(&n);
	return r < 0 ? pn_err_prefix(e, r, "failed to remove the reference plugin's macspoofchk rules") : 0;
}

int br_refclean_masq(const struct cni_req *req, struct pn_err *e)
{
	char hash[25], chain[32];
	struct pn_nft n;
	int r;

	if ((r = pn_nft_open(&n, e)) < 0)
		return r;
	pn_sha512_hex(req->name, req->container_id, 24, hash);
	snprintf(chain, sizeof(chain), "CNI-%s", hash);
	if ((r = clean_iptables(&n, NFPROTO_IPV4, chain, e)) == 0 && (r = clean_iptables(&n, NFPROTO_IPV6, chain, e)) == 0)
		r = clean_nftables(&n, req, e);
	pn_nft_close(&n);
	return r < 0 ? pn_err_prefix(e, r, "failed to remove the reference plugin's masquerade") : 0;
}
