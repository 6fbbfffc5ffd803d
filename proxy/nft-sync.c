/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The in-memory mirror of what is programmed, and the transactions.  Each Service keeps the
 * sorted list of elements it owns; a sync recomputes only the dirty Services and sends the
 * difference (never a dump of the kernel's table).  An element key claimed by two Services
 * (two Services with the same externalIP and port) stays with the first one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "log.h"
#include "nft-internal.h"

#define ELEMS_PER_MSG 256
#define CHUNK_ELEMS 20000      /* element operations per transaction of a full build */

enum { V_NONE, V_GOTO, V_DROP };

/* Element operations queued until the end of the transaction: deletes, then adds. */
struct queue {
	const struct px_elem **del[S_MAX], **add[S_MAX];
	size_t ndel[S_MAX], nadd[S_MAX], capdel[S_MAX], capadd[S_MAX];
	size_t total;
	char **stale_chains, **stale_sets;      /* owned; removed after the element changes */
	size_t nstale_chains, nstale_sets, capc, caps;
	void **garbage;                         /* old element arrays, freed after emission */
	size_t ngarbage, capg;
};

static int qpush(const void ***v, size_t *n, size_t *cap, const void *x)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		const void **p = realloc(*v, c * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*v = p;
		*cap = c;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static int q_elem(struct queue *q, const struct px_elem *el, bool add)
{
	q->total++;
	return add ? qpush((const void ***)&q->add[el->set], &q->nadd[el->set], &q->capadd[el->set], el)
		   : qpush((const void ***)&q->del[el->set], &q->ndel[el->set], &q->capdel[el->set], el);
}

static void elem_to_nftnl(struct nftnl_set *s, const struct px_elem *el, bool add)
{
	struct nftnl_set_elem *x = nftnl_set_elem_alloc();

	nftnl_set_elem_set(x, NFTNL_SET_ELEM_KEY, el->key, el->klen);
	if (add && el->verdict == V_GOTO) {
		nftnl_set_elem_set_u32(x, NFTNL_SET_ELEM_VERDICT, (uint32_t)NFT_GOTO);
		nftnl_set_elem_set_str(x, NFTNL_SET_ELEM_CHAIN, el->chain);
	} else if (add && el->verdict == V_DROP) {
		nftnl_set_elem_set_u32(x, NFTNL_SET_ELEM_VERDICT, NF_DROP);
	} else if (add && el->dlen) {
		nftnl_set_elem_set(x, NFTNL_SET_ELEM_DATA, el->data, el->dlen);
	}
	nftnl_set_elem_add(s, x);
}

static void emit_elems(struct px_nft *b, struct px_fam *f, enum px_set set, const struct px_elem **v, size_t n, bool add)
{
	for (size_t i = 0; i < n; i += ELEMS_PER_MSG) {
		struct nftnl_set *s = px_layout_set(f, f->table, set);

		for (size_t k = i; k < n && k < i + ELEMS_PER_MSG; k++)
			elem_to_nftnl(s, v[k], add);
		pn_nft_set_elems(&b->nft, s, add);
		nftnl_set_free(s);
	}
}

static void queue_emit(struct px_nft *b, struct px_fam *f, struct queue *q)
{
	int fam = (int)px_nfproto(f->family);

	for (int s = 0; s < S_MAX; s++)
		emit_elems(b, f, (enum px_set)s, q->del[s], q->ndel[s], false);
	for (int s = 0; s < S_MAX; s++)
		emit_elems(b, f, (enum px_set)s, q->add[s], q->nadd[s], true);
	/* chains first emptied (their rules may name each other), then deleted; sets last */
	for (size_t i = 0; i < q->nstale_chains; i++)
		pn_nft_flush_chain(&b->nft, fam, f->table, q->stale_chains[i]);
	for (size_t i = 0; i < q->nstale_chains; i++)
		pn_nft_del_chain(&b->nft, fam, f->table, q->stale_chains[i]);
	for (size_t i = 0; i < q->nstale_sets; i++)
		pn_nft_del_set(&b->nft, fam, f->table, q->stale_sets[i]);
}

static void queue_reset(struct queue *q)
{
	for (int s = 0; s < S_MAX; s++) {
		free(q->del[s]);
		free(q->add[s]);
	}
	for (size_t i = 0; i < q->nstale_chains; i++)
		free(q->stale_chains[i]);
	for (size_t i = 0; i < q->nstale_sets; i++)
		free(q->stale_sets[i]);
	for (size_t i = 0; i < q->ngarbage; i++)
		free(q->garbage[i]);
	free(q->stale_chains);
	free(q->stale_sets);
	free(q->garbage);
	memset(q, 0, sizeof(*q));
}

/* ---- ownership of keys ----
 * Only the keys a Service claims as its own are tracked: its addresses and ports in
 * service-ips / service-nodeports / no-endpoint-* / firewall-ips / cluster-ips.  The lb and
 * backends elements are keyed by the same address and port, so they follow their
 * service-ips / service-nodeports key.  Hairpin keys are shared and counted.
 */

static bool derived(uint8_t set)
{
	return (set >= S_CLUSTER_LB && set <= S_NP_LOCAL_BACKENDS);
}

static struct px_hent *owner(struct px_fam *f, uint8_t set, const uint8_t *key, uint8_t klen, bool create)
{
	uint8_t k[1 + sizeof(((struct px_elem *)0)->key)];

	k[0] = set;
	memcpy(k + 1, key, klen);
	return create ? px_hmap_put(&f->owners, k, 1u + klen) : px_hmap_get(&f->owners, k, 1u + klen);
}

/* Claims the key for s; false: another Service has it (or no memory). */
static bool claim(struct px_fam *f, const struct px_elem *el, struct px_svc_state *s, bool *first)
{
	struct px_hent *o;

	*first = true;
	if (derived(el->set)) {
		bool np = el->set == S_NP_CLUSTER_LB || el->set == S_NP_LOCAL_LB || el->set == S_NP_CLUSTER_BACKENDS ||
			  el->set == S_NP_LOCAL_BACKENDS;
		uint8_t plen = (uint8_t)(np ? 8 : px_fam_addr_len(f->family) + 8);

		o = owner(f, np ? S_SERVICE_NODEPORTS : S_SERVICE_IPS, el->key, plen, false);
		return o && o->val == s;
	}
	if (!(o = owner(f, el->set, el->key, el->klen, true)))
		return false;
	if (el->set == S_HAIRPIN) {
		*first = !o->val;
		o->val = (void *)((uintptr_t)o->val + 1);
		return true;
	}
	if (o->val && o->val != s)
		return false;
	*first = !o->val;
	o->val = s;
	return true;
}

/* Releases a key s had; true: nobody has it any more (delete it from the kernel). */
static bool release(struct px_fam *f, const struct px_elem *el, struct px_svc_state *s)
{
	struct px_hent *o;

	if (derived(el->set))
		return true;
	if (!(o = owner(f, el->set, el->key, el->klen, false)))
		return false;
	if (el->set == S_HAIRPIN) {
		o->val = (void *)((uintptr_t)o->val - 1);
		if (o->val)
			return false;
	} else if (o->val != s) {
		return false;
	}
	px_hmap_del(&f->owners, o);
	return true;
}

static bool same_value(const struct px_elem *a, const struct px_elem *b)
{
	if (a->verdict != b->verdict || a->dlen != b->dlen || memcmp(a->data, b->data, a->dlen))
		return false;
	return a->verdict != V_GOTO || !strcmp(a->chain, b->chain);
}

static bool in_list(char **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return true;
	return false;
}

/* Moves the names of old that want no longer has to the queue's stale list; frees the rest. */
static int stale_names(char **old, size_t nold, char **want, size_t nwant, char ***stale, size_t *n, size_t *cap)
{
	int r = 0;

	for (size_t i = 0; i < nold; i++) {
		if (r == 0 && !in_list(want, nwant, old[i]) &&
		    (r = qpush((const void ***)stale, n, cap, old[i])) == 0)
			continue;
		free(old[i]);
	}
	free(old);
	return r;
}

/* One Service in one family: compute, diff against the mirror, queue the difference. */
static int service_sync(struct px_nft *b, struct px_fam *f, struct px_svc_state *s, int fi, struct queue *q,
			struct px_sync_stats *st, struct pn_err *e)
{
	struct px_svc_nft *old = s->be[fi], *now;
	struct px_want w;
	size_t i = 0, k = 0, n = 0;
	int r;

	if ((r = px_service_want(b, f, s, &w, e)) < 0)
		return r;
	if (!(now = calloc(1, sizeof(*now)))) {
		px_want_free(&w);
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	}
	/* merge the two sorted lists; w.elems becomes the new list, minus keys we could not claim */
	while (r == 0 && (old && i < old->nelems ? 1 : 0) + (k < w.nelems ? 1 : 0)) {
		const struct px_elem *o = old && i < old->nelems ? &old->elems[i] : NULL;
		struct px_elem *x = k < w.nelems ? &w.elems[k] : NULL;
		int c = !o ? 1 : !x ? -1 : px_elem_cmp(o, x);
		bool first;

		if (c < 0) {
			if (release(f, o, s))
				r = q_elem(q, o, false);
			i++;
		} else if (c > 0) {
			if (claim(f, x, s, &first)) {
				w.elems[n++] = *x;
				if (first)   /* queued where it stays: the list only shrinks behind k */
					r = q_elem(q, &w.elems[n - 1], true);
			} else {
				pn_log("podnet-proxy: %s/%s: %s element already belongs to another Service", s->ns, s->name,
				       px_set_names[x->set]);
			}
			k++;
		} else {
			w.elems[n++] = *x;
			if (!same_value(o, x) && x->set != S_HAIRPIN) {
				if (!(r = q_elem(q, o, false)))
					r = q_elem(q, &w.elems[n - 1], true);
			}
			i++, k++;
		}
	}
	/* the queue points into w.elems (adds) and old->elems (deletes): both live until emission */
	now->elems = w.elems;
	now->nelems = n;
	now->nendpoints = w.nendpoints;
	now->chains = w.chains;
	now->nchains = w.nchains;
	now->sets = w.sets;
	now->nsets = w.nsets;
	f->nelems += n;
	f->nendpoints += w.nendpoints;
	now->counted = s->svc != NULL && n > 0;
	f->nservices += now->counted;
	if (old) {
		f->nelems -= old->nelems;
		f->nendpoints -= old->nendpoints;
		f->nservices -= old->counted;
		if (!r)
			r = stale_names(old->chains, old->nchains, w.chains, w.nchains, &q->stale_chains,
					&q->nstale_chains, &q->capc);
		if (!r)
			r = stale_names(old->sets, old->nsets, w.sets, w.nsets, &q->stale_sets, &q->nstale_sets, &q->caps);
		if (!r)
			r = qpush((const void ***)&q->garbage, &q->ngarbage, &q->capg, old->elems);
		free(old);
	}
	if (!s->svc && !n && !w.nchains) {
		free(now->elems);
		free(now->chains);
		free(now->sets);
		free(now);
		now = NULL;
	}
	s->be[fi] = now;
	/* the UDP ports, for the conntrack cleanup */
	for (size_t u = 0; u < w.nudp && r == 0; u++) {
		void *p = realloc(st->udp, (st->nudp + 1) * sizeof(*st->udp));

		if (!p) {
			r = -ENOMEM;
			break;
		}
		st->udp = p;
		st->udp[st->nudp++] = w.udp[u];
		w.udp[u].keep = NULL;
	}
	for (size_t u = 0; u < w.nudp; u++)
		free(w.udp[u].keep);
	free(w.udp);
	if (r < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, r, "out of memory");
	return 0;
}

/* ---- transactions ---- */

static void svc_nft_free(struct px_svc_nft *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nchains; i++)
		free(x->chains[i]);
	for (size_t i = 0; i < x->nsets; i++)
		free(x->sets[i]);
	free(x->chains);
	free(x->sets);
	free(x->elems);
	free(x);
}

/* Forgets what a family had programmed (its table is about to be replaced). */
void px_fam_reset(struct px_fam *f, struct px_store *st, int fi)
{
	px_hmap_foreach(&st->services, i, e) {
		struct px_svc_state *s = e->val;

		svc_nft_free(s->be[fi]);
		s->be[fi] = NULL;
	}
	px_hmap_free(&f->owners);
	memset(f->pick, 0, sizeof(f->pick));
	f->nelems = f->nservices = f->nendpoints = 0;
}

static int commit(struct px_nft *b, struct pn_err *e)
{
	int r = pn_nft_commit(&b->nft, e);

	pn_nft_begin_paged(&b->nft, PX_NFT_PAGE);
	b->set_id = 0;
	return r;
}

bool px_fam_on(const struct px_nft *b, int fi)
{
	return fi == 0 ? b->cfg.ipv4 : b->cfg.ipv6;
}

static void nodeport_ips(struct px_nft *b, struct px_fam *f)
{
	struct nftnl_set *s = px_layout_set(f, f->table, S_NODEPORT_IPS);
	size_t n = 0;

	for (size_t i = 0; i < b->cfg.nnodeport_ips; i++) {
		struct px_elem el = { .set = S_NODEPORT_IPS };

		if (b->cfg.nodeport_ips[i].family != f->family)
			continue;
		memcpy(el.key, b->cfg.nodeport_ips[i].a, (size_t)px_fam_addr_len(f->family));
		el.klen = (uint8_t)px_fam_addr_len(f->family);
		elem_to_nftnl(s, &el, true);
		n++;
	}
	if (n)
		pn_nft_set_elems(&b->nft, s, true);
	nftnl_set_free(s);
}

/*
 * Everything into a fresh table without hooks, in transactions of CHUNK_ELEMS element
 * operations (the kernel's commit lock is not held for long), then one transaction that
 * hooks it in and deletes the table in use: no packet ever sees a half-built table.
 */
static void cidrs_check(struct px_nft *b, struct px_fam *f, struct px_store *st, bool flush)
{
	struct pn_prefix cidrs[16];
	size_t n = px_store_service_cidrs(st, f->family, cidrs, 16);

	px_layout_cluster_ips_check(b, f, f->table, cidrs, n, flush);
}

static int full_build(struct px_nft *b, struct px_store *st, struct px_sync_stats *stats, struct pn_err *e)
{
	struct queue q = { 0 };
	int r = 0;

	for (int fi = 0; fi < 2 && r == 0; fi++) {
		struct px_fam *f = &b->fam[fi];
		int fam = (int)px_nfproto(f->family);
		bool has_a, has_b, hooked_a, to_a;
		const char *target;

		if (!px_fam_on(b, fi))
			continue;
		has_a = pn_nft_table_exists(&b->nft, fam, PX_TABLE_A);
		has_b = pn_nft_table_exists(&b->nft, fam, PX_TABLE_B);
		hooked_a = has_a && pn_nft_chain_exists(&b->nft, fam, PX_TABLE_A, "nat-prerouting");
		to_a = !hooked_a;
		target = to_a ? PX_TABLE_A : PX_TABLE_B;
		if (to_a ? has_a : has_b) {
			/* left over from an interrupted build: never hooked */
			pn_nft_del_table(&b->nft, fam, target);
			if ((r = commit(b, e)) < 0)
				break;
		}
		px_fam_reset(f, st, fi);
		f->table = target;
		px_layout_base(b, f, target);
		cidrs_check(b, f, st, false);
		if (b->cfg.nnodeport_cidr)
			nodeport_ips(b, f);
		px_hmap_foreach(&st->services, i, ent) {
			if ((r = service_sync(b, f, ent->val, fi, &q, stats, e)) < 0)
				break;
			if (q.total >= CHUNK_ELEMS) {
				queue_emit(b, f, &q);
				queue_reset(&q);
				if ((r = commit(b, e)) < 0)
					break;
			}
		}
		if (r < 0)
			break;
		queue_emit(b, f, &q);
		queue_reset(&q);
		px_layout_hooks(b, f, target);
		if (to_a ? has_b : has_a)
			pn_nft_del_table(&b->nft, fam, to_a ? PX_TABLE_B : PX_TABLE_A);
		r = commit(b, e);
	}
	queue_reset(&q);
	return r;
}

static int incremental(struct px_nft *b, struct px_store *st, struct px_svc_state *dirty, struct px_sync_stats *stats,
		       struct pn_err *e)
{
	struct queue q[2] = { 0 };
	int r = 0;

	for (int fi = 0; fi < 2 && st->cidrs_changed; fi++)
		if (px_fam_on(b, fi))
			cidrs_check(b, &b->fam[fi], st, true);

	for (struct px_svc_state *s = dirty; s && r == 0; s = s->next_dirty)
		for (int fi = 0; fi < 2 && r == 0; fi++)
			if (px_fam_on(b, fi))
				r = service_sync(b, &b->fam[fi], s, fi, &q[fi], stats, e);
	if (r == 0) {
		for (int fi = 0; fi < 2; fi++) {
			if (px_fam_on(b, fi)) {
				stats->ops += q[fi].total;
				queue_emit(b, &b->fam[fi], &q[fi]);
			}
		}
		r = commit(b, e);
	}
	queue_reset(&q[0]);
	queue_reset(&q[1]);
	return r;
}

void px_sync_stats_free(struct px_sync_stats *s)
{
	for (size_t i = 0; i < s->nudp; i++)
		free(s->udp[i].keep);
	free(s->udp);
	memset(s, 0, sizeof(*s));
}

int px_nft_sync(struct px_nft *b, struct px_store *st, bool full, struct px_sync_stats *stats, struct pn_err *e)
{
	struct px_svc_state *dirty = px_store_take_dirty(st), *next;
	int r;

	memset(stats, 0, sizeof(*stats));
	b->zone = st->self_zone;
	for (struct px_svc_state *s = dirty; s; s = s->next_dirty)
		s->dirty = false;
	if (b->built && !full) {
		if ((r = incremental(b, st, dirty, stats, e)) < 0) {
			pn_log("podnet-proxy: %s; rebuilding every Service", e->msg);
			full = true;
			px_sync_stats_free(stats);
		}
	} else {
		full = true;
	}
	if (full) {
		stats->full = true;
		b->built = false;
		if ((r = full_build(b, st, stats, e)) == 0)
			b->built = true;
	}
	if (r == 0)
		st->cidrs_changed = false;
	for (struct px_svc_state *s = dirty; s; s = next) {
		next = s->next_dirty;
		s->next_dirty = NULL;
		px_store_forget(st, s);
	}
	for (int fi = 0; fi < 2; fi++) {
		stats->services += b->fam[fi].nservices;
		stats->endpoints += b->fam[fi].nendpoints;
		stats->elements += b->fam[fi].nelems;
	}
	return r;
}
