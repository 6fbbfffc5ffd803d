/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <string.h>

#include "firewall.h"
#include "nft.h"

#define TABLE "podnet_vxlan"

static struct nftnl_rule *udp_port_rule(const char *chain, uint16_t port)
{
	struct nftnl_rule *r = pn_nft_rule_new(NFPROTO_INET, TABLE, chain);
	uint8_t udp = IPPROTO_UDP;
	uint16_t be = htons(port);

	pn_nft_expr_meta(r, NFT_META_L4PROTO, NFT_REG_1);
	pn_nft_expr_cmp(r, NFT_CMP_EQ, &udp, 1);
	pn_nft_expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
	pn_nft_expr_cmp(r, NFT_CMP_EQ, &be, 2);
	return r;
}

static void base_chain(struct pn_nft *n, const char *name, uint32_t hook, int prio, const char *type)
{
	struct nftnl_chain *c = pn_nft_chain_new(NFPROTO_INET, TABLE, name);

	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	pn_nft_add_chain(n, c, false);
	nftnl_chain_free(c);
}

static struct nftnl_set *peer_set(int family)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, family == AF_INET ? "peers4" : "peers6");
	return s;
}

int vx_firewall_sync(const struct vx_conf *c, struct pn_err *e)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct pn_nft n;
	int r;

	if ((r = pn_nft_open(&n, e)) < 0) {
		nftnl_table_free(t);
		return r;
	}
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, TABLE);
	pn_nft_begin(&n);
	/* create-or-keep, then empty: the rules below are then the only ones */
	pn_nft_add_table(&n, t, false);
	for (int f = 0; f < 2; f++) {
		struct nftnl_set *s = peer_set(f ? AF_INET6 : AF_INET), *el = peer_set(f ? AF_INET6 : AF_INET);
		int fam = f ? AF_INET6 : AF_INET;

		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, f ? 8 : 7);   /* nft's ipv6_addr / ipv4_addr */
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, f ? 16 : 4);
		nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)f + 1);
		pn_nft_add_set(&n, s);
		size_t k = 0;

		pn_nft_set_elems(&n, el, false);   /* no elements: flush */
		for (size_t i = 0; i < c->npeers; i++) {
			struct nftnl_set_elem *x;

			if (c->peers[i].node.family != fam)
				continue;
			x = nftnl_set_elem_alloc();
			nftnl_set_elem_set(x, NFTNL_SET_ELEM_KEY, c->peers[i].node.a, (uint32_t)pn_ip_bytes(&c->peers[i].node));
			nftnl_set_elem_add(el, x);
			k++;
		}
		if (k)
			pn_nft_set_elems(&n, el, true);
		nftnl_set_free(s);
		nftnl_set_free(el);
	}
	base_chain(&n, "input", NF_INET_LOCAL_IN, 0, "filter");
	base_chain(&n, "raw-prerouting", NF_INET_PRE_ROUTING, -300, "filter");
	base_chain(&n, "raw-output", NF_INET_LOCAL_OUT, -300, "filter");
	base_chain(&n, "postrouting", NF_INET_POST_ROUTING, 100, "nat");
	const char *chains[] = { "input", "raw-prerouting", "raw-output", "postrouting" };
	for (int i = 0; i < 4; i++)
		pn_nft_flush_chain(&n, NFPROTO_INET, TABLE, chains[i]);
	for (int f = 0; f < 2; f++) {
		struct nftnl_rule *rl = udp_port_rule("input", c->port);

		pn_nft_expr_nfproto(rl, f ? AF_INET6 : AF_INET);
		pn_nft_expr_payload(rl, NFT_PAYLOAD_NETWORK_HEADER, f ? 8 : 12, f ? 16 : 4, NFT_REG_1);
		pn_nft_expr_lookup(rl, f ? "peers6" : "peers4", NFT_REG_1, -1, true);
		pn_nft_expr_verdict(rl, NF_DROP, NULL);
		pn_nft_add_rule(&n, rl);
		nftnl_rule_free(rl);
	}
	for (int i = 1; i <= 2; i++) {
		struct nftnl_rule *rl = udp_port_rule(chains[i], c->port);
		struct nftnl_expr *x = nftnl_expr_alloc("notrack");

		nftnl_rule_add_expr(rl, x);
		pn_nft_add_rule(&n, rl);
		nftnl_rule_free(rl);
	}
	if (c->cluster.ip.family) {
		struct nftnl_rule *rl = pn_nft_rule_new(NFPROTO_INET, TABLE, "postrouting");
		int fam = c->cluster.ip.family;

		pn_nft_expr_nfproto(rl, fam);
		pn_nft_expr_prefix(rl, fam == AF_INET ? 12 : 8, &c->cluster, false);
		pn_nft_expr_prefix(rl, fam == AF_INET ? 16 : 24, &c->cluster, true);
		pn_nft_expr_masq(rl, 0);
		pn_nft_add_rule(&n, rl);
		nftnl_rule_free(rl);
	}
	r = pn_nft_commit(&n, e);
	pn_nft_close(&n);
	nftnl_table_free(t);
	return r < 0 ? pn_err_prefix(e, r, "failed to program the overlay's nftables table") : 0;
}
