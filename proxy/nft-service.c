/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What one Service should have in one family: its elements in the shared maps (research/
 * proxy.md §1.5–§1.10, in our map layout) and, for sessionAffinity and
 * loadBalancerSourceRanges, chains and sets of its own, whose rules go into the batch here.
 */
#include <errno.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "nft-internal.h"

enum { V_NONE, V_GOTO, V_DROP };

int px_elem_cmp(const void *a, const void *b)
{
	const struct px_elem *x = a, *y = b;

	if (x->set != y->set)
		return x->set - y->set;
	if (x->klen != y->klen)
		return x->klen - y->klen;
	return memcmp(x->key, y->key, x->klen);
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	if (!(p = realloc(*v, c * size)))
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

static int push(struct px_want *w, const struct px_elem *el)
{
	if (grow((void **)&w->elems, &w->cap, w->nelems, sizeof(*el)) < 0)
		return -ENOMEM;
	w->elems[w->nelems++] = *el;
	return 0;
}

static char *own_name(char ***v, size_t *n, size_t *cap, const char *name)
{
	char *s;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], name))
			return (*v)[i];
	if (grow((void **)v, cap, *n, sizeof(**v)) < 0 || !(s = strdup(name)))
		return NULL;
	(*v)[(*n)++] = s;
	return s;
}

void px_want_free(struct px_want *w)
{
	for (size_t i = 0; i < w->nchains; i++)
		free(w->chains[i]);
	for (size_t i = 0; i < w->nsets; i++)
		free(w->sets[i]);
	for (size_t i = 0; i < w->nudp; i++)
		free(w->udp[i].keep);
	free(w->chains);
	free(w->sets);
	free(w->elems);
	free(w->udp);
	memset(w, 0, sizeof(*w));
}

static uint8_t proto_num(enum px_proto p)
{
	return p == PX_UDP ? IPPROTO_UDP : p == PX_SCTP ? IPPROTO_SCTP : IPPROTO_TCP;
}

/* ---- keys and values, laid out as the kernel's registers hold them (4-byte fields) ---- */

static uint8_t put_addr(uint8_t *k, const struct pn_ip *ip)
{
	uint8_t n = (uint8_t)pn_ip_bytes(ip);

	memcpy(k, ip->a, n);
	return n;
}

static uint8_t put_proto_port(uint8_t *k, uint8_t proto, uint16_t port)
{
	memset(k, 0, 8);
	k[0] = proto;
	k[4] = (uint8_t)(port >> 8);
	k[5] = (uint8_t)port;
	return 8;
}

static uint8_t put_u32(uint8_t *k, uint32_t v)
{
	memcpy(k, &v, 4);   /* numgen's value: host byte order */
	return 4;
}

static struct px_elem addr_key(enum px_set s, const struct pn_ip *ip, uint8_t proto, uint16_t port)
{
	struct px_elem el = { .set = (uint8_t)s };

	el.klen = put_addr(el.key, ip);
	el.klen += put_proto_port(el.key + el.klen, proto, port);
	return el;
}

static struct px_elem port_key(enum px_set s, uint8_t proto, uint16_t port)
{
	struct px_elem el = { .set = (uint8_t)s };

	el.klen = put_proto_port(el.key, proto, port);
	return el;
}

static struct px_elem with_goto(struct px_elem el, const char *chain)
{
	el.verdict = V_GOTO;
	el.chain = chain;
	return el;
}

static struct px_elem with_drop(struct px_elem el)
{
	el.verdict = V_DROP;
	return el;
}

static struct px_elem with_backend(struct px_elem el, uint32_t i, const struct px_backend *be)
{
	el.set = (uint8_t)(el.set == S_CLUSTER_LB ? S_CLUSTER_BACKENDS : el.set == S_LOCAL_LB ? S_LOCAL_BACKENDS :
			   el.set == S_NP_CLUSTER_LB ? S_NP_CLUSTER_BACKENDS : S_NP_LOCAL_BACKENDS);
	el.klen += put_u32(el.key + el.klen, i);
	el.dlen = put_addr(el.data, &be->addr);
	memset(el.data + el.dlen, 0, 4);
	el.data[el.dlen] = (uint8_t)(be->port >> 8);
	el.data[el.dlen + 1] = (uint8_t)be->port;
	el.dlen += 4;
	return el;
}

/* ---- per-Service chains (sessionAffinity, loadBalancerSourceRanges) ---- */

struct ctx {
	struct px_nft *b;
	struct px_fam *f;
	const struct px_svc_state *s;
	const struct px_service *svc;     /* unpacked, for the time of px_service_want */
	const struct px_svc_port *port;
	struct px_want *w;
	char base[200];                /* ns/name/proto/port, for chain names */
};

static void chain_fresh(struct ctx *c, const char *name)
{
	struct nftnl_chain *ch = pn_nft_chain_new((int)px_nfproto(c->f->family), c->f->table, name);

	pn_nft_add_chain(&c->b->nft, ch, false);
	nftnl_chain_free(ch);
	pn_nft_flush_chain(&c->b->nft, (int)px_nfproto(c->f->family), c->f->table, name);
}

static struct nftnl_rule *rule(struct ctx *c, const char *chain)
{
	return pn_nft_rule_new((int)px_nfproto(c->f->family), c->f->table, chain);
}

static void add(struct ctx *c, struct nftnl_rule *r)
{
	pn_nft_add_rule(&c->b->nft, r);
	nftnl_rule_free(r);
}

static void ep_text(char *buf, size_t size, const struct px_backend *be)
{
	char ip[PN_IP_STRLEN];

	pn_ip_format(&be->addr, ip);
	for (char *p = ip; *p; p++)
		if (*p == ':')
			*p = '.';
	snprintf(buf, size, "%s/%u", ip, be->port);
}

/*
 * sessionAffinity ClientIP, as kube-proxy does it: per endpoint a dynamic set of client
 * addresses (timeout = timeoutSeconds) and a chain that refreshes it and DNATs; per policy a
 * chain that follows a pinned client, else picks at random.  Returns that chain's name.
 */
static const char *sticky(struct ctx *c, const char *policy, const struct px_backend *eps, size_t n)
{
	int fam = c->f->family;
	uint32_t alen = (uint32_t)px_fam_addr_len(fam), saddr = fam == AF_INET ? 12 : 8;
	const char **targets = calloc(n, sizeof(*targets));
	char name[256], ep[80];
	const char *policy_chain = NULL;
	struct nftnl_rule *r;

	if (!targets)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct nftnl_set *set = nftnl_set_alloc();
		uint8_t proto = proto_num(c->port->proto);
		uint16_t port_be = htons(eps[i].port);
		const char *setname;

		ep_text(ep, sizeof(ep), &eps[i]);
		snprintf(name, sizeof(name), "affinity-%s__%s", c->base, ep);
		if (!(setname = own_name(&c->w->sets, &c->w->nsets, &c->w->capsets, name))) {
			nftnl_set_free(set);
			goto out;
		}
		nftnl_set_set_u32(set, NFTNL_SET_FAMILY, px_nfproto(fam));
		nftnl_set_set_str(set, NFTNL_SET_TABLE, c->f->table);
		nftnl_set_set_str(set, NFTNL_SET_NAME, setname);
		nftnl_set_set_u32(set, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_EVAL);
		nftnl_set_set_u32(set, NFTNL_SET_KEY_TYPE, fam == AF_INET ? 7 : 8);
		nftnl_set_set_u32(set, NFTNL_SET_KEY_LEN, alen);
		nftnl_set_set_u64(set, NFTNL_SET_TIMEOUT, (uint64_t)c->svc->affinity_timeout * 1000);
		nftnl_set_set_u32(set, NFTNL_SET_ID, ++c->b->set_id);
		pn_nft_add_set(&c->b->nft, set);
		nftnl_set_free(set);

		snprintf(name, sizeof(name), "endpoint-%s__%s", c->base, ep);
		if (!(targets[i] = own_name(&c->w->chains, &c->w->nchains, &c->w->capchains, name)))
			goto out;
		chain_fresh(c, targets[i]);
		/* update @affinity-… { ip saddr } */
		r = rule(c, targets[i]);
		pn_nft_expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, saddr, alen, NFT_REG_1);
		pn_nft_expr_dynset_update(r, setname, NFT_REG_1);
		add(c, r);
		/* meta l4proto tcp dnat ip to A:P */
		r = rule(c, targets[i]);
		pn_nft_expr_meta(r, NFT_META_L4PROTO, NFT_REG_1);
		pn_nft_expr_cmp(r, NFT_CMP_EQ, &proto, 1);
		pn_nft_expr_imm(r, NFT_REG_1, eps[i].addr.a, alen);
		pn_nft_expr_imm(r, NFT_REG_2, &port_be, 2);   /* nft: one register per immediate */
		pn_nft_expr_dnat(r, fam, NFT_REG_1, NFT_REG_2);
		add(c, r);
	}
	snprintf(name, sizeof(name), "%s-%s", policy, c->base);
	if (!(policy_chain = own_name(&c->w->chains, &c->w->nchains, &c->w->capchains, name)))
		goto out;
	chain_fresh(c, policy_chain);
	for (size_t i = 0; i < n; i++) {
		/* ip saddr @affinity-… goto endpoint-… */
		r = rule(c, policy_chain);
		pn_nft_expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, saddr, alen, NFT_REG_1);
		snprintf(name, sizeof(name), "affinity-%s", targets[i] + strlen("endpoint-"));
		pn_nft_expr_lookup(r, name, NFT_REG_1, -1, false);
		pn_nft_expr_verdict(r, NFT_GOTO, targets[i]);
		add(c, r);
	}
	/* numgen random mod N vmap { 0 : goto endpoint-…, … } */
	r = rule(c, policy_chain);
	pn_nft_numgen_vmap(&c->b->nft, r, (int)px_nfproto(fam), c->f->table, ++c->b->set_id, targets, (uint32_t)n);
	add(c, r);
out:
	free(targets);
	return policy_chain;
}

/* loadBalancerSourceRanges: ip saddr <range> return, …, drop */
static const char *firewall(struct ctx *c)
{
	const struct px_service *svc = c->svc;
	char name[256];
	const char *fw;
	struct nftnl_rule *r;

	snprintf(name, sizeof(name), "firewall-%s", c->base);
	if (!(fw = own_name(&c->w->chains, &c->w->nchains, &c->w->capchains, name)))
		return NULL;
	chain_fresh(c, fw);
	for (size_t i = 0; i < svc->nranges; i++) {
		if (svc->lb_ranges[i].ip.family != c->f->family)
			continue;
		r = rule(c, fw);
		pn_nft_expr_prefix(r, c->f->family == AF_INET ? 12 : 8, &svc->lb_ranges[i], false);
		pn_nft_expr_verdict(r, NFT_RETURN, NULL);
		add(c, r);
	}
	r = rule(c, fw);
	pn_nft_expr_verdict(r, NF_DROP, NULL);
	add(c, r);
	return fw;
}

/* ---- the elements of one Service port ---- */

static bool ranges_in_family(const struct px_service *svc, int family)
{
	for (size_t i = 0; i < svc->nranges; i++) {
		/* kube-proxy: a zero-length range (0.0.0.0/0) allows everyone */
		if (svc->lb_ranges[i].ip.family == family && svc->lb_ranges[i].len == 0)
			return false;
	}
	for (size_t i = 0; i < svc->nranges; i++)
		if (svc->lb_ranges[i].ip.family == family)
			return true;
	return false;
}

/* lb element (goto the dnat chain, or the sticky chain) plus one backends element per endpoint */
static int lb_elems(struct ctx *c, struct px_elem key, const char *target, const struct px_backend *eps, size_t n,
		    bool affinity)
{
	int r;

	if ((r = push(c->w, (struct px_elem[]){ with_goto(key, target) })) < 0)
		return r;
	for (size_t i = 0; i < n && !affinity; i++)
		if ((r = push(c->w, (struct px_elem[]){ with_backend(key, (uint32_t)i, &eps[i]) })) < 0)
			return r;
	return 0;
}

static int udp_change(struct ctx *c, bool any_dst, const struct pn_ip *dst, uint16_t port, const struct px_backends *be)
{
	struct px_udp_change *u;

	if (grow((void **)&c->w->udp, &c->w->capudp, c->w->nudp, sizeof(*u)) < 0)
		return -ENOMEM;
	u = &c->w->udp[c->w->nudp];
	memset(u, 0, sizeof(*u));
	u->family = c->f->family;
	u->any_dst = any_dst;
	if (dst)
		u->dst = *dst;
	u->port = port;
	if (!(u->keep = calloc(be->ncluster + be->nlocal + 1, sizeof(*u->keep))))
		return -ENOMEM;
	for (size_t i = 0; i < be->ncluster; i++)
		u->keep[u->nkeep++] = be->cluster[i].addr;
	for (size_t i = 0; i < be->nlocal; i++)
		u->keep[u->nkeep++] = be->local[i].addr;
	c->w->nudp++;
	return 0;
}

static int port_elems(struct ctx *c, const struct px_backends *be)
{
	const struct px_service *svc = c->svc;
	const struct px_svc_port *p = c->port;
	int fam = c->f->family, r = 0;
	uint8_t proto = proto_num(p->proto);
	bool any = be->ncluster || be->nlocal, np = p->node_port && svc->type != PX_CLUSTER_IP;
	bool ext_access, need_cluster, need_local;
	const char *cluster_pick = NULL, *local_pick = NULL, *np_cluster = NULL, *np_local = NULL, *fw = NULL;
	const struct pn_ip *ext[2 * PX_MAX_ADDRS];
	size_t next = 0, nlb_first;

	for (size_t i = 0; i < svc->nexternal; i++)
		if (svc->external_ips[i].family == fam)
			ext[next++] = &svc->external_ips[i];
	nlb_first = next;
	for (size_t i = 0; i < svc->nlb; i++)
		if (svc->lb_ips[i].family == fam)
			ext[next++] = &svc->lb_ips[i];

	/* the chains only for the policies some destination uses (kube-proxy's
	   UsesClusterEndpoints / UsesLocalEndpoints) */
	ext_access = np || next > 0;
	need_cluster = be->ncluster && (!svc->itp_local || ext_access);
	need_local = be->nlocal && (svc->itp_local || (svc->etp_local && ext_access));
	if (need_cluster)
		cluster_pick = svc->affinity ? sticky(c, "service", be->cluster, be->ncluster)
					     : px_layout_pick(c->b, c->f, P_CLUSTER, be->ncluster);
	if (need_local)
		local_pick = svc->affinity ? sticky(c, "local", be->local, be->nlocal)
					   : px_layout_pick(c->b, c->f, P_LOCAL, be->nlocal);
	if (np && need_cluster)
		np_cluster = svc->affinity ? cluster_pick : px_layout_pick(c->b, c->f, P_NP_CLUSTER, be->ncluster);
	if (np && need_local && svc->etp_local)
		np_local = svc->affinity ? local_pick : px_layout_pick(c->b, c->f, P_NP_LOCAL, be->nlocal);
	if ((need_cluster && (!cluster_pick || (np && !np_cluster))) ||
	    (need_local && (!local_pick || (np && svc->etp_local && !np_local))))
		return -ENOMEM;
	if (nlb_first < next && ranges_in_family(svc, fam) && !(fw = firewall(c)))
		return -ENOMEM;

	/* ClusterIPs: internalTrafficPolicy picks the endpoints */
	for (size_t i = 0; i < svc->ncluster && !r; i++) {
		const struct pn_ip *ip = &svc->cluster_ips[i];
		struct px_elem k;
		bool local = svc->itp_local;

		if (ip->family != fam)
			continue;
		k = addr_key(S_NOEP_SERVICES, ip, proto, p->port);
		if (!any)
			r = push(c->w, (struct px_elem[]){ with_goto(k, "reject-chain") });
		else if (local ? !be->nlocal : !be->ncluster)
			r = push(c->w, (struct px_elem[]){ with_drop(k) });
		else if (!(r = push(c->w, (struct px_elem[]){ with_goto(addr_key(S_SERVICE_IPS, ip, proto, p->port), "clusterip") })))
			r = local ? lb_elems(c, addr_key(S_LOCAL_LB, ip, proto, p->port), local_pick, be->local, be->nlocal, svc->affinity)
				  : lb_elems(c, addr_key(S_CLUSTER_LB, ip, proto, p->port), cluster_pick, be->cluster, be->ncluster, svc->affinity);
		if (!r && p->proto == PX_UDP)
			r = udp_change(c, false, ip, p->port, be);
	}
	/* externalIPs and load-balancer IPs: externalTrafficPolicy */
	for (size_t i = 0; i < next && !r; i++) {
		struct px_elem k = addr_key(S_NOEP_SERVICES, ext[i], proto, p->port);

		if (!any) {
			r = push(c->w, (struct px_elem[]){ with_goto(k, "reject-chain") });
		} else {
			r = push(c->w, (struct px_elem[]){ with_goto(addr_key(S_SERVICE_IPS, ext[i], proto, p->port),
								    svc->etp_local ? "external-local" : "external") });
			if (!r && be->ncluster)
				r = lb_elems(c, addr_key(S_CLUSTER_LB, ext[i], proto, p->port), cluster_pick, be->cluster,
					     be->ncluster, svc->affinity);
			if (!r && svc->etp_local && be->nlocal)
				r = lb_elems(c, addr_key(S_LOCAL_LB, ext[i], proto, p->port), local_pick, be->local,
					     be->nlocal, svc->affinity);
			else if (!r && svc->etp_local)
				r = push(c->w, (struct px_elem[]){ with_drop(k) });
		}
		if (!r && fw && i >= nlb_first)
			r = push(c->w, (struct px_elem[]){ with_goto(addr_key(S_FIREWALL_IPS, ext[i], proto, p->port), fw) });
		if (!r && p->proto == PX_UDP)
			r = udp_change(c, false, ext[i], p->port, be);
	}
	/* the NodePort, on the node's addresses */
	if (np && !r) {
		struct px_elem k = port_key(S_NOEP_NODEPORTS, proto, p->node_port);

		if (!any) {
			r = push(c->w, (struct px_elem[]){ with_goto(k, "reject-chain") });
		} else {
			r = push(c->w, (struct px_elem[]){ with_goto(port_key(S_SERVICE_NODEPORTS, proto, p->node_port),
								    svc->etp_local ? "nodeport-local" : "nodeport") });
			if (!r && be->ncluster)
				r = lb_elems(c, port_key(S_NP_CLUSTER_LB, proto, p->node_port), np_cluster, be->cluster,
					     be->ncluster, svc->affinity);
			if (!r && svc->etp_local && be->nlocal)
				r = lb_elems(c, port_key(S_NP_LOCAL_LB, proto, p->node_port), np_local, be->local,
					     be->nlocal, svc->affinity);
			else if (!r && svc->etp_local)
				r = push(c->w, (struct px_elem[]){ with_drop(k) });
		}
		if (!r && p->proto == PX_UDP)
			r = udp_change(c, true, NULL, p->node_port, be);
	}
	/* an endpoint reaching itself through the Service is masqueraded (hairpin); only this
	   node's endpoints can: another node's pods reach Services through that node's proxy */
	for (size_t i = 0; i < be->ncluster + be->nlocal && !r; i++) {
		const struct px_backend *x = i < be->ncluster ? &be->cluster[i] : &be->local[i - be->ncluster];
		struct px_elem h = { .set = S_HAIRPIN };

		if (!x->local)
			continue;
		h.klen = put_addr(h.key, &x->addr);
		h.klen += put_addr(h.key + h.klen, &x->addr);
		r = push(c->w, &h);
	}
	return r;
}

static void dedup(struct px_want *w)
{
	size_t n = 0;

	if (!w->nelems)
		return;
	qsort(w->elems, w->nelems, sizeof(*w->elems), px_elem_cmp);
	for (size_t i = 0; i < w->nelems; i++)
		if (!n || px_elem_cmp(&w->elems[n - 1], &w->elems[i]))
			w->elems[n++] = w->elems[i];
	w->nelems = n;
}

int px_service_want(struct px_nft *b, struct px_fam *f, const struct px_svc_state *s, struct px_want *w,
		    struct pn_err *e)
{
	struct px_svc_view v;
	const struct px_service *svc = &v.svc;
	struct ctx c = { .b = b, .f = f, .s = s, .w = w, .svc = &v.svc };
	int r = 0;

	memset(w, 0, sizeof(*w));
	if (!s->svc)
		return 0;
	if ((r = px_store_view(s, &v)) < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, r, "Service %s/%s: %s", s->ns, s->name, strerror(-r));
	/* a family the Service has no ClusterIP of is not its family (ipFamilies): as for
	   kube-proxy's per-family proxiers, none of its ports exist there, NodePorts included */
	for (size_t i = 0; i < svc->ncluster; i++)
		if (svc->cluster_ips[i].family == f->family)
			goto ours;
	px_store_view_free(&v);
	return 0;
ours:
	for (size_t i = 0; i < svc->ncluster && !r; i++) {
		struct px_elem el = { .set = S_CLUSTER_IPS };

		if (svc->cluster_ips[i].family != f->family)
			continue;
		el.klen = put_addr(el.key, &svc->cluster_ips[i]);
		r = push(w, &el);
	}
	for (size_t i = 0; i < svc->nports && !r; i++) {
		struct px_backends be;

		c.port = &svc->ports[i];
		snprintf(c.base, sizeof(c.base), "%.60s/%.80s/%s/%s", svc->ns, svc->name,
			 c.port->proto == PX_UDP ? "udp" : c.port->proto == PX_SCTP ? "sctp" : "tcp",
			 c.port->name[0] ? c.port->name : "");
		if (!c.port->name[0])
			snprintf(c.base + strlen(c.base), sizeof(c.base) - strlen(c.base), "%u", c.port->port);
		if ((r = px_backends_of(svc, c.port, f->family, v.refs, v.nslices, b->cfg.node, b->zone, &be, e)) < 0)
			break;
		/* numgen's modulus is per chain: beyond PX_MAX_PICK endpoints, the first ones serve */
		if (be.ncluster > PX_MAX_PICK || be.nlocal > PX_MAX_PICK) {
			pn_log("podnet-proxy: %s/%s: more than %d endpoints for one port; using %d", s->ns, s->name,
			       PX_MAX_PICK, PX_MAX_PICK);
			be.ncluster = be.ncluster > PX_MAX_PICK ? PX_MAX_PICK : be.ncluster;
			be.nlocal = be.nlocal > PX_MAX_PICK ? PX_MAX_PICK : be.nlocal;
		}
		w->nendpoints += be.ncluster;
		r = port_elems(&c, &be);
		px_backends_free(&be);
	}
	px_store_view_free(&v);
	if (r < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, r, "Service %s/%s: %s", s->ns, s->name, strerror(-r));
	dedup(w);
	return 0;
}
