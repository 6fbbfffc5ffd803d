/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fixed part of our table: sets and maps, the shared chains and their rules, the base
 * chains, and the dnat-<kind>-N chains made on demand.  Every rule is written as nft would
 * write it (see the text form in each comment), so `nft list table ip podnet-proxy` reads
 * like a hand-written ruleset.
 */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft-internal.h"
#include "nft-typeof.h"

#define MASQ_MARK 0x4000u

/* nft's datatype ids, concatenated 6 bits at a time */
enum { T_VERDICT = 1, T_INTEGER = 4, T_IPADDR = 7, T_IP6ADDR = 8, T_PROTO = 12, T_SERVICE = 13 };
#define CAT2(a, b) (((a) << 6) | (b))
#define CAT3(a, b, c) ((CAT2(a, b) << 6) | (c))
#define CAT4(a, b, c, d) ((CAT3(a, b, c) << 6) | (d))

const char *const px_set_names[S_MAX] = {
	[S_SERVICE_IPS] = "service-ips", [S_SERVICE_NODEPORTS] = "service-nodeports",
	[S_NOEP_SERVICES] = "no-endpoint-services", [S_NOEP_NODEPORTS] = "no-endpoint-nodeports",
	[S_FIREWALL_IPS] = "firewall-ips",
	[S_CLUSTER_LB] = "cluster-lb", [S_LOCAL_LB] = "local-lb",
	[S_NP_CLUSTER_LB] = "nodeport-cluster-lb", [S_NP_LOCAL_LB] = "nodeport-local-lb",
	[S_CLUSTER_BACKENDS] = "cluster-backends", [S_LOCAL_BACKENDS] = "local-backends",
	[S_NP_CLUSTER_BACKENDS] = "nodeport-cluster-backends", [S_NP_LOCAL_BACKENDS] = "nodeport-local-backends",
	[S_CLUSTER_IPS] = "cluster-ips", [S_HAIRPIN] = "hairpin", [S_NODEPORT_IPS] = "nodeport-ips",
};

static const char *const pick_kind[P_MAX] = { "cluster", "local", "nodeport-cluster", "nodeport-local" };
static const enum px_set pick_backends[P_MAX] = { S_CLUSTER_BACKENDS, S_LOCAL_BACKENDS, S_NP_CLUSTER_BACKENDS,
						  S_NP_LOCAL_BACKENDS };

int px_fam_addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

uint32_t px_nfproto(int family)
{
	return family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
}

struct nftnl_set *px_layout_set(const struct px_fam *f, const char *table, enum px_set s)
{
	struct nftnl_set *set = nftnl_set_alloc();
	uint32_t a = (uint32_t)px_fam_addr_len(f->family), ta = f->family == AF_INET ? T_IPADDR : T_IP6ADDR;
	uint32_t ktype, klen, dtype = 0, dlen = 0, flags = 0, udlen = 0;
	const uint8_t *ud = NULL;

	switch (s) {
	case S_SERVICE_IPS: case S_NOEP_SERVICES: case S_FIREWALL_IPS: case S_CLUSTER_LB: case S_LOCAL_LB:
		ktype = CAT3(ta, T_PROTO, T_SERVICE), klen = a + 8, dtype = NFT_DATA_VERDICT;
		break;
	case S_SERVICE_NODEPORTS: case S_NOEP_NODEPORTS: case S_NP_CLUSTER_LB: case S_NP_LOCAL_LB:
		ktype = CAT2(T_PROTO, T_SERVICE), klen = 8, dtype = NFT_DATA_VERDICT;
		break;
	case S_CLUSTER_BACKENDS: case S_LOCAL_BACKENDS:
		ktype = CAT4(ta, T_PROTO, T_SERVICE, T_INTEGER), klen = a + 12;
		dtype = CAT2(ta, T_SERVICE), dlen = a + 4;
		if (f->family == AF_INET)
			ud = ud_addr4, udlen = sizeof(ud_addr4);
		else
			ud = ud_addr6, udlen = sizeof(ud_addr6);
		break;
	case S_NP_CLUSTER_BACKENDS: case S_NP_LOCAL_BACKENDS:
		ktype = CAT3(T_PROTO, T_SERVICE, T_INTEGER), klen = 12;
		dtype = CAT2(ta, T_SERVICE), dlen = a + 4;
		if (f->family == AF_INET)
			ud = ud_np4, udlen = sizeof(ud_np4);
		else
			ud = ud_np6, udlen = sizeof(ud_np6);
		break;
	case S_HAIRPIN:
		ktype = CAT2(ta, ta), klen = 2 * a;
		break;
	default:   /* cluster-ips, nodeport-ips */
		ktype = ta, klen = a;
		break;
	}
	if (dtype)
		flags |= NFT_SET_MAP;
	nftnl_set_set_u32(set, NFTNL_SET_FAMILY, px_nfproto(f->family));
	nftnl_set_set_str(set, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(set, NFTNL_SET_NAME, px_set_names[s]);
	nftnl_set_set_u32(set, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(set, NFTNL_SET_KEY_TYPE, ktype);
	nftnl_set_set_u32(set, NFTNL_SET_KEY_LEN, klen);
	if (ud)
		nftnl_set_set_data(set, NFTNL_SET_USERDATA, ud, udlen);
	if (dtype) {
		nftnl_set_set_u32(set, NFTNL_SET_DATA_TYPE, dtype);
		if (dlen)
			nftnl_set_set_u32(set, NFTNL_SET_DATA_LEN, dlen);
	}
	return set;
}

/* ---- expressions used by several rules ---- */

static uint32_t daddr_off(int family) { return family == AF_INET ? 16 : 24; }
static uint32_t saddr_off(int family) { return family == AF_INET ? 12 : 8; }

/* ip daddr . meta l4proto . th dport -> registers from 1 */
static void key_addr_proto_port(struct nftnl_rule *r, int family)
{
	uint32_t w = (uint32_t)px_fam_addr_len(family) / 4;

	pn_nft_expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, daddr_off(family), w * 4, NFT_REG_1);
	pn_nft_expr_meta(r, NFT_META_L4PROTO, pn_nft_reg(w));
	pn_nft_expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, pn_nft_reg(w + 1));
}

/* meta l4proto . th dport */
static void key_proto_port(struct nftnl_rule *r)
{
	pn_nft_expr_meta(r, NFT_META_L4PROTO, NFT_REG_1);
	pn_nft_expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, pn_nft_reg(1));
}

static void vmap(struct nftnl_rule *r, enum px_set s)
{
	pn_nft_expr_lookup(r, px_set_names[s], NFT_REG_1, NFT_REG_VERDICT, false);
}

static void mark_test_zero(struct nftnl_rule *r)
{
	uint32_t m = MASQ_MARK, zero = 0;

	pn_nft_expr_meta(r, NFT_META_MARK, NFT_REG_1);
	pn_nft_expr_bitwise(r, NFT_REG_1, &m, &zero, 4);
	pn_nft_expr_cmp(r, NFT_CMP_EQ, &zero, 4);
}

/* meta mark set meta mark | 0x4000 (or ^ 0x4000 with clear) */
static void mark_set(struct nftnl_rule *r, bool clear)
{
	uint32_t mask = clear ? 0xffffffffu : ~MASQ_MARK, x = MASQ_MARK;

	pn_nft_expr_meta(r, NFT_META_MARK, NFT_REG_1);
	pn_nft_expr_bitwise(r, NFT_REG_1, &mask, &x, 4);
	pn_nft_expr_meta_set(r, NFT_META_MARK, NFT_REG_1);
}

/* ip saddr <cluster CIDR> (neq: !=), for each CIDR of the family; false when there is none */
static bool cluster_cidr(const struct px_nft *b, int family, struct nftnl_rule *r, bool neq)
{
	for (size_t i = 0; i < b->cfg.ncluster_cidr; i++) {
		if (b->cfg.cluster_cidr[i].ip.family == family) {
			pn_nft_expr_prefix(r, saddr_off(family), &b->cfg.cluster_cidr[i], neq);
			return true;
		}
	}
	return false;
}

/* NodePort destinations: ip daddr @nodeport-ips, or fib daddr type local ip daddr != 127.0.0.0/8 */
static void nodeport_dst(const struct px_nft *b, int family, struct nftnl_rule *r)
{
	if (b->cfg.nnodeport_cidr) {
		pn_nft_expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, daddr_off(family), (uint32_t)px_fam_addr_len(family),
				    NFT_REG_1);
		pn_nft_expr_lookup(r, px_set_names[S_NODEPORT_IPS], NFT_REG_1, -1, false);
	} else {
		struct pn_prefix lo;

		pn_prefix_parse(family == AF_INET ? "127.0.0.0/8" : "::1/128", &lo);
		pn_nft_expr_fib_local(r, false);
		pn_nft_expr_prefix(r, daddr_off(family), &lo, true);
	}
}

/* ---- building blocks of the batch ---- */

struct rules {
	struct px_nft *b;
	const struct px_fam *f;
	const char *table, *chain;
	struct nftnl_rule *r;
};

static struct nftnl_rule *rule(struct rules *c)
{
	return c->r = pn_nft_rule_new((int)px_nfproto(c->f->family), c->table, c->chain);
}

static void done(struct rules *c)
{
	pn_nft_add_rule(&c->b->nft, c->r);
	nftnl_rule_free(c->r);
	c->r = NULL;
}

static void chain(struct px_nft *b, const struct px_fam *f, const char *table, const char *name)
{
	struct nftnl_chain *c = pn_nft_chain_new((int)px_nfproto(f->family), table, name);

	pn_nft_add_chain(&b->nft, c, false);
	nftnl_chain_free(c);
}

static void jump_rule(struct rules *c, int verdict, const char *to)
{
	rule(c);
	pn_nft_expr_verdict(c->r, verdict, to);
	done(c);
}

/* the destination key: ip daddr . meta l4proto . th dport, or for NodePorts meta l4proto . th dport */
static void dst_key(struct nftnl_rule *r, int family, bool nodeport)
{
	if (nodeport)
		key_proto_port(r);
	else
		key_addr_proto_port(r, family);
}

/*
 * eTP Cluster (`cluster_name`): always masqueraded, Cluster endpoints.  eTP Local
 * (`local_name`): pods and the node itself get the Cluster policy (kube-proxy's
 * short-circuit, its #131765 fix), the node's traffic masqueraded; others only reach local
 * endpoints, unmasqueraded.
 */
static void external_chains(struct px_nft *b, struct rules *c, const char *cluster_name, const char *local_name,
			    bool nodeport, enum px_set cluster_lb, enum px_set local_lb)
{
	int fam = c->f->family;

	c->chain = cluster_name;
	jump_rule(c, NFT_JUMP, "mark-for-masquerade");
	dst_key(rule(c), fam, nodeport);
	vmap(c->r, cluster_lb);
	done(c);

	c->chain = local_name;
	if (cluster_cidr(b, fam, rule(c), false)) {
		dst_key(c->r, fam, nodeport);
		vmap(c->r, cluster_lb);
		done(c);
	} else {
		nftnl_rule_free(c->r);
	}
	pn_nft_expr_fib_local(rule(c), true);
	pn_nft_expr_verdict(c->r, NFT_JUMP, "mark-for-masquerade");
	done(c);
	pn_nft_expr_fib_local(rule(c), true);
	dst_key(c->r, fam, nodeport);
	vmap(c->r, cluster_lb);
	done(c);
	dst_key(rule(c), fam, nodeport);
	vmap(c->r, local_lb);
	done(c);
}

void px_layout_base(struct px_nft *b, struct px_fam *f, const char *table)
{
	int fam = f->family;
	struct nftnl_table *t = nftnl_table_alloc();
	struct rules c = { .b = b, .f = f, .table = table };
	static const char *const chains[] = {
		"services", "masquerading", "mark-for-masquerade", "service-endpoints-check",
		"nodeport-endpoints-check", "firewall-check", "cluster-ips-check", "reject-chain",
		"clusterip", "external", "external-local", "nodeport", "nodeport-local",
	};

	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, px_nfproto(fam));
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	pn_nft_add_table(&b->nft, t, false);
	nftnl_table_free(t);
	for (int s = 0; s < S_MAX; s++) {
		struct nftnl_set *set;

		if (s == S_NODEPORT_IPS && !b->cfg.nnodeport_cidr)
			continue;
		set = px_layout_set(f, table, (enum px_set)s);
		nftnl_set_set_u32(set, NFTNL_SET_ID, ++b->set_id);
		pn_nft_add_set(&b->nft, set);
		nftnl_set_free(set);
	}
	for (size_t i = 0; i < sizeof(chains) / sizeof(chains[0]); i++)
		chain(b, f, table, chains[i]);

	/* services: ip daddr . meta l4proto . th dport vmap @service-ips; <nodeport dst> meta l4proto . th dport vmap @service-nodeports */
	c.chain = "services";
	key_addr_proto_port(rule(&c), fam);
	vmap(c.r, S_SERVICE_IPS);
	done(&c);
	nodeport_dst(b, fam, rule(&c));
	key_proto_port(c.r);
	vmap(c.r, S_SERVICE_NODEPORTS);
	done(&c);

	/* masquerading: hairpin (an endpoint reaching itself through a Service), then the mark */
	c.chain = "masquerading";
	pn_nft_expr_ct_bits(rule(&c), NFT_CT_STATUS, IPS_DST_NAT);
	pn_nft_expr_payload(c.r, NFT_PAYLOAD_NETWORK_HEADER, saddr_off(fam), (uint32_t)px_fam_addr_len(fam), NFT_REG_1);
	pn_nft_expr_payload(c.r, NFT_PAYLOAD_NETWORK_HEADER, daddr_off(fam), (uint32_t)px_fam_addr_len(fam),
			    pn_nft_reg((uint32_t)px_fam_addr_len(fam) / 4));
	pn_nft_expr_lookup(c.r, px_set_names[S_HAIRPIN], NFT_REG_1, -1, false);
	pn_nft_expr_masq(c.r, NF_NAT_RANGE_PROTO_RANDOM_FULLY);
	done(&c);
	mark_test_zero(rule(&c));
	pn_nft_expr_verdict(c.r, NFT_RETURN, NULL);
	done(&c);
	mark_set(rule(&c), true);
	done(&c);
	pn_nft_expr_masq(rule(&c), NF_NAT_RANGE_PROTO_RANDOM_FULLY);
	done(&c);

	c.chain = "mark-for-masquerade";
	mark_set(rule(&c), false);
	done(&c);

	c.chain = "service-endpoints-check";
	key_addr_proto_port(rule(&c), fam);
	vmap(c.r, S_NOEP_SERVICES);
	done(&c);

	c.chain = "nodeport-endpoints-check";
	nodeport_dst(b, fam, rule(&c));
	key_proto_port(c.r);
	vmap(c.r, S_NOEP_NODEPORTS);
	done(&c);

	c.chain = "firewall-check";
	key_addr_proto_port(rule(&c), fam);
	vmap(c.r, S_FIREWALL_IPS);
	done(&c);

	c.chain = "reject-chain";
	pn_nft_expr_reject(rule(&c), fam);
	done(&c);

	/* ClusterIP: masquerade what does not come from a pod (or everything: --masquerade-all) */
	c.chain = "clusterip";
	if (b->cfg.masquerade_all) {
		jump_rule(&c, NFT_JUMP, "mark-for-masquerade");
	} else if (cluster_cidr(b, fam, rule(&c), true)) {
		pn_nft_expr_verdict(c.r, NFT_JUMP, "mark-for-masquerade");
		done(&c);
	} else {
		nftnl_rule_free(c.r);
	}
	key_addr_proto_port(rule(&c), fam);
	vmap(c.r, S_CLUSTER_LB);
	done(&c);
	key_addr_proto_port(rule(&c), fam);
	vmap(c.r, S_LOCAL_LB);
	done(&c);

	/* externalIPs and load-balancer IPs, and NodePorts, by externalTrafficPolicy */
	external_chains(b, &c, "external", "external-local", false, S_CLUSTER_LB, S_LOCAL_LB);
	external_chains(b, &c, "nodeport", "nodeport-local", true, S_NP_CLUSTER_LB, S_NP_LOCAL_LB);
}

static void base_chain(struct px_nft *b, const struct px_fam *f, const char *table, const char *name,
		       const char *type, uint32_t hook, int prio)
{
	struct nftnl_chain *c = pn_nft_chain_new((int)px_nfproto(f->family), table, name);

	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	pn_nft_add_chain(&b->nft, c, false);
	nftnl_chain_free(c);
}

/* [ct state new] jump to */
static void hook_jump(struct rules *c, bool ct_new, const char *to)
{
	rule(c);
	if (ct_new)
		pn_nft_expr_ct_bits(c->r, NFT_CT_STATE, NF_CT_STATE_BIT(IP_CT_NEW));
	pn_nft_expr_verdict(c->r, NFT_JUMP, to);
	done(c);
}

void px_layout_hooks(struct px_nft *b, struct px_fam *f, const char *table)
{
	struct rules c = { .b = b, .f = f, .table = table };
	static const struct {
		const char *name, *type;
		uint32_t hook;
		int prio;
		const char *jump[2];
		bool ct_new;
	} hooks[] = {
		/* before DNAT: loadBalancerSourceRanges */
		{ "filter-prerouting-pre-dnat", "filter", NF_INET_PRE_ROUTING, -110, { "firewall-check" }, true },
		{ "filter-output-pre-dnat", "filter", NF_INET_LOCAL_OUT, -110, { "firewall-check" }, true },
		{ "nat-prerouting", "nat", NF_INET_PRE_ROUTING, -100, { "services" }, false },
		{ "nat-output", "nat", NF_INET_LOCAL_OUT, -100, { "services" }, false },
		{ "nat-postrouting", "nat", NF_INET_POST_ROUTING, 100, { "masquerading" }, false },
		/* after DNAT: what was not rewritten has no endpoint (reject, drop) or no such port */
		{ "filter-forward", "filter", NF_INET_FORWARD, 0, { "service-endpoints-check", "cluster-ips-check" }, true },
		{ "filter-input", "filter", NF_INET_LOCAL_IN, 0, { "nodeport-endpoints-check", "service-endpoints-check" }, true },
		{ "filter-output", "filter", NF_INET_LOCAL_OUT, 0, { "service-endpoints-check", "cluster-ips-check" }, true },
	};

	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		base_chain(b, f, table, hooks[i].name, hooks[i].type, hooks[i].hook, hooks[i].prio);
		c.chain = hooks[i].name;
		for (int k = 0; k < 2 && hooks[i].jump[k]; k++)
			hook_jump(&c, hooks[i].ct_new, hooks[i].jump[k]);
	}
}

void px_layout_cluster_ips_check(struct px_nft *b, struct px_fam *f, const char *table, const struct pn_prefix *cidrs,
				  size_t n, bool flush)
{
	struct rules c = { .b = b, .f = f, .table = table, .chain = "cluster-ips-check" };
	int fam = f->family;

	if (flush)
		pn_nft_flush_chain(&b->nft, (int)px_nfproto(fam), table, c.chain);
	/* a ClusterIP on a port it does not serve: refused */
	pn_nft_expr_payload(rule(&c), NFT_PAYLOAD_NETWORK_HEADER, daddr_off(fam), (uint32_t)px_fam_addr_len(fam), NFT_REG_1);
	pn_nft_expr_lookup(c.r, px_set_names[S_CLUSTER_IPS], NFT_REG_1, -1, false);
	pn_nft_expr_reject(c.r, fam);
	done(&c);
	/* an address of a ServiceCIDR that no Service holds: dropped */
	for (size_t i = 0; i < n; i++) {
		pn_nft_expr_prefix(rule(&c), daddr_off(fam), &cidrs[i], false);
		pn_nft_expr_verdict(c.r, NF_DROP, NULL);
		done(&c);
	}
}

const char *px_layout_pick(struct px_nft *b, struct px_fam *f, enum px_pick kind, size_t n)
{
	struct rules c = { .b = b, .f = f, .table = f->table };
	char name[64];
	bool np = kind == P_NP_CLUSTER || kind == P_NP_LOCAL;
	uint32_t w = np ? 0 : (uint32_t)px_fam_addr_len(f->family) / 4;

	if (n == 0 || n > PX_MAX_PICK)
		return NULL;
	if (f->pick[kind][n])
		return f->pick_name[kind][n];
	if (!f->pick_name[kind][n]) {
		snprintf(name, sizeof(name), "dnat-%s-%zu", pick_kind[kind], n);
		if (!(f->pick_name[kind][n] = strdup(name)))
			return NULL;
	}
	chain(b, f, f->table, f->pick_name[kind][n]);
	/* dnat ip to ip daddr . meta l4proto . th dport . numgen random mod N map @cluster-backends */
	c.chain = f->pick_name[kind][n];
	rule(&c);
	if (np)
		key_proto_port(c.r);
	else
		key_addr_proto_port(c.r, f->family);
	pn_nft_expr_numgen(c.r, (uint32_t)n, pn_nft_reg(w + 2));
	pn_nft_expr_lookup(c.r, px_set_names[pick_backends[kind]], NFT_REG_1, NFT_REG_1, false);
	pn_nft_expr_dnat(c.r, f->family, NFT_REG_1, pn_nft_reg((uint32_t)px_fam_addr_len(f->family) / 4));
	done(&c);
	f->pick[kind][n] = true;
	return f->pick_name[kind][n];
}
