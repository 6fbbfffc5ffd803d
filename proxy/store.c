/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pack.h"
#include "store.h"

struct px_slice_ent {
	struct px_svc_state *owner;          /* the Service it is linked to */
	struct px_packed *p;                 /* the slice (eps NULL), then its endpoints */
};

static size_t keyof(char *buf, size_t size, const char *ns, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", ns, name);

	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

/* a and b packed one after the other */
static struct px_packed *packed(const void *a, size_t alen, const void *b, size_t blen)
{
	unsigned char *tmp = malloc(PX_PACK_BOUND(alen) + PX_PACK_BOUND(blen));
	struct px_packed *p = NULL;
	size_t len;

	if (!tmp)
		return NULL;
	len = px_pack(a, alen, tmp);
	len += px_pack(b, blen, tmp + len);
	if ((p = malloc(sizeof(*p) + len))) {
		p->len = len;
		memcpy(p->blob, tmp, len);
	}
	free(tmp);
	return p;
}

static struct px_svc_state *state(struct px_store *st, const char *ns, const char *name)
{
	char key[PX_NAME_MAX + 80];
	size_t len = keyof(key, sizeof(key), ns, name);
	struct px_hent *e = px_hmap_put(&st->services, key, len);
	struct px_svc_state *s;

	if (!e)
		return NULL;
	if (!e->val) {
		if (!(s = calloc(1, sizeof(*s)))) {
			px_hmap_del(&st->services, e);
			return NULL;
		}
		snprintf(s->ns, sizeof(s->ns), "%s", ns);
		snprintf(s->name, sizeof(s->name), "%s", name);
		e->val = s;
	}
	return e->val;
}

static void mark(struct px_store *st, struct px_svc_state *s)
{
	if (s->dirty)
		return;
	s->dirty = true;
	s->next_dirty = st->dirty;
	st->dirty = s;
	st->ndirty++;
}

static void service_cb(const char *ns, const char *name, const struct px_service *svc, void *ctx)
{
	struct px_store *st = ctx;
	struct px_svc_state *s = state(st, ns, name);
	struct px_packed *p = NULL;

	if (!s || (svc && !(p = packed(svc, sizeof(*svc), NULL, 0)))) {
		pn_log("podnet-proxy: out of memory for Service %s/%s", ns, name);
		return;
	}
	free(s->svc);
	s->svc = p;
	mark(st, s);
}

static void unlink_slice(struct px_store *st, struct px_slice_ent *sl)
{
	struct px_svc_state *s = sl->owner;

	for (size_t i = 0; i < s->nslices; i++) {
		if (s->slices[i] == sl) {
			s->slices[i] = s->slices[--s->nslices];
			break;
		}
	}
	mark(st, s);
}

static void slice_cb(const char *ns, const char *name, struct px_slice *in, void *ctx)
{
	struct px_store *st = ctx;
	char key[PX_NAME_MAX + 80];
	size_t len = keyof(key, sizeof(key), ns, name);
	struct px_hent *e = in ? px_hmap_put(&st->slices, key, len) : px_hmap_get(&st->slices, key, len);
	struct px_slice_ent *sl;
	struct px_svc_state *s;
	struct px_endpoint *eps;

	if (!e)
		goto fail;
	if ((sl = e->val)) {
		unlink_slice(st, sl);
		free(sl->p);
		free(sl);
		e->val = NULL;
		st->nslices--;
	}
	if (!in) {
		px_hmap_del(&st->slices, e);
		return;
	}
	if (!(sl = calloc(1, sizeof(*sl))) || !(s = state(st, in->ns, in->service)))
		goto fail_ent;
	eps = in->eps;
	in->eps = NULL;          /* not content */
	sl->p = packed(in, sizeof(*in), eps, in->neps * sizeof(*eps));
	free(eps);
	in->neps = 0;
	if (!sl->p)
		goto fail_ent;
	if (s->nslices == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 2;
		struct px_slice_ent **v = realloc(s->slices, cap * sizeof(*v));

		if (!v)
			goto fail_ent;
		s->slices = v;
		s->cap = cap;
	}
	sl->owner = s;
	s->slices[s->nslices++] = sl;
	e->val = sl;
	st->nslices++;
	mark(st, s);
	return;
fail_ent:
	if (sl)
		free(sl->p);
	free(sl);
	px_hmap_del(&st->slices, e);
fail:
	pn_log("podnet-proxy: out of memory for EndpointSlice %s/%s", ns, name);
	if (in)
		px_slice_free(in);
}

/* Only this node's Node matters (its zone); a change of it changes every Service's endpoints. */
static void node_cb(const char *name, const struct px_node *n, void *ctx)
{
	struct px_store *st = ctx;
	const char *zone = n ? n->zone : "";

	if (strcmp(name, st->self) || !strcmp(zone, st->self_zone))
		return;
	pn_log("podnet-proxy: node %s: zone \"%s\"", name, zone);
	snprintf(st->self_zone, sizeof(st->self_zone), "%s", zone);
	px_store_all_dirty(st);
}

static void service_cidr_cb(const char *name, const struct px_service_cidr *c, void *ctx)
{
	struct px_store *st = ctx;
	struct px_hent *e = c ? px_hmap_put(&st->cidrs, name, strlen(name)) : px_hmap_get(&st->cidrs, name, strlen(name));

	if (!e)
		return;
	free(e->val);
	e->val = NULL;
	if (!c)
		px_hmap_del(&st->cidrs, e);
	else if ((e->val = malloc(sizeof(*c))))
		memcpy(e->val, c, sizeof(*c));
	st->cidrs_changed = true;
}

size_t px_store_service_cidrs(const struct px_store *st, int family, struct pn_prefix *out, size_t max)
{
	size_t n = 0;

	px_hmap_foreach(&st->cidrs, i, e) {
		const struct px_service_cidr *c = e->val;

		for (size_t k = 0; c && k < c->ncidrs; k++)
			if (c->cidrs[k].ip.family == family && n < max)
				out[n++] = c->cidrs[k];
	}
	return n;
}

const struct px_source_cb px_store_cb = { .service = service_cb, .slice = slice_cb, .node = node_cb,
					  .service_cidr = service_cidr_cb };

void px_store_set_self(struct px_store *st, const char *node)
{
	snprintf(st->self, sizeof(st->self), "%s", node);
}

void px_store_init(struct px_store *st)
{
	memset(st, 0, sizeof(*st));
}

void px_store_all_dirty(struct px_store *st)
{
	px_hmap_foreach(&st->services, i, e)
		mark(st, e->val);
}

struct px_svc_state *px_store_take_dirty(struct px_store *st)
{
	struct px_svc_state *d = st->dirty;

	st->dirty = NULL;
	st->ndirty = 0;
	return d;
}

void px_store_view_free(struct px_svc_view *v)
{
	for (size_t i = 0; v->slices && i < v->nslices; i++)
		free(v->slices[i].eps);
	free(v->slices);
	free(v->refs);
	memset(v, 0, sizeof(*v));
}

int px_store_service(const struct px_svc_state *s, struct px_service *out)
{
	size_t pos = 0;

	if (!s->svc || px_unpack(s->svc->blob, s->svc->len, &pos, (unsigned char *)out, sizeof(*out)) < 0)
		return -EINVAL;
	return 0;
}

int px_store_view(const struct px_svc_state *s, struct px_svc_view *v)
{
	size_t pos;

	memset(v, 0, sizeof(*v));
	if (px_store_service(s, &v->svc) < 0)
		return -EINVAL;
	if (!(v->slices = calloc(s->nslices + 1, sizeof(*v->slices))) ||
	    !(v->refs = calloc(s->nslices + 1, sizeof(*v->refs))))
		goto nomem;
	for (size_t i = 0; i < s->nslices; i++) {
		const struct px_packed *p = s->slices[i]->p;
		struct px_slice *sl = &v->slices[i];

		pos = 0;
		if (px_unpack(p->blob, p->len, &pos, (unsigned char *)sl, sizeof(*sl)) < 0)
			goto bad;
		sl->eps = NULL;
		v->nslices++;
		if (sl->neps && !(sl->eps = calloc(sl->neps, sizeof(*sl->eps))))
			goto nomem;
		if (px_unpack(p->blob, p->len, &pos, (unsigned char *)sl->eps, sl->neps * sizeof(*sl->eps)) < 0)
			goto bad;
		v->refs[i] = sl;
	}
	return 0;
bad:
	px_store_view_free(v);
	return -EINVAL;
nomem:
	px_store_view_free(v);
	return -ENOMEM;
}

void px_store_forget(struct px_store *st, struct px_svc_state *s)
{
	char key[PX_NAME_MAX + 80];
	size_t len = keyof(key, sizeof(key), s->ns, s->name);
	struct px_hent *e;

	if (s->svc || s->nslices || s->be[0] || s->be[1] || s->dirty)
		return;
	if ((e = px_hmap_get(&st->services, key, len)))
		px_hmap_del(&st->services, e);
	free(s->slices);
	free(s);
}

void px_store_free(struct px_store *st)
{
	px_hmap_foreach(&st->slices, i, e) {
		struct px_slice_ent *sl = e->val;

		free(sl->p);
		free(sl);
	}
	px_hmap_foreach(&st->services, i, e) {
		struct px_svc_state *s = e->val;

		free(s->svc);
		free(s->slices);
		free(s);
	}
	px_hmap_foreach(&st->cidrs, i, e)
		free(e->val);
	px_hmap_free(&st->cidrs);
	px_hmap_free(&st->slices);
	px_hmap_free(&st->services);
	memset(st, 0, sizeof(*st));
}
