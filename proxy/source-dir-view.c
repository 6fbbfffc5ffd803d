/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every object of the view (an entry of `objs`, keyed kind + namespace + name) lists the
 * definitions of all files and remembers which one it reported last.  A definition keeps the
 * parsed struct (objects.h zeroes it, so equal content is equal bytes) with its runs of zeros
 * squeezed out: a px_service is ~3.5 KiB of mostly empty arrays, packed usually < 100 bytes, which
 * matters with 10,000 Services.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pack.h"
#include "source-dir-view.h"

struct px_dirview_def {            /* one object as one file defines it */
	struct px_dirview_def *obj_next, *file_next;
	struct px_dirview_obj *obj;
	const char *file;
	size_t len;
	unsigned char blob[];       /* the struct (and a slice's endpoints), zero runs packed */
};

struct px_dirview_obj {            /* one object of the merged view */
	struct px_hent *ent;        /* key: kind, namespace, '\0', name, '\0' */
	struct px_dirview_def *defs;   /* newest first */
	const struct px_dirview_def *reported;   /* NULL: nothing reported, or reported gone */
	struct px_dirview_obj *dirty_next;
	bool dirty, warned, stale;  /* stale: a report failed, the callee's view is unknown */
};

/* --- the merged view --- */

static void mark_dirty(struct px_dirview *v, struct px_dirview_obj *o)
{
	if (o->dirty)
		return;
	o->dirty = true;
	o->dirty_next = NULL;
	*v->dirty_tail = o;
	v->dirty_tail = &o->dirty_next;
}

static struct px_dirview_obj *obj_get(struct px_dirview *v, char kind, const char *ns, const char *name)
{
	char key[1 + 64 + PX_NAME_MAX + 2];
	int n = snprintf(key, sizeof(key), "%c%s%c%s", kind, ns, '\0', name);
	struct px_hent *e;
	struct px_dirview_obj *o;

	if (n < 0 || (size_t)n >= sizeof(key) || !(e = px_hmap_put(&v->objs, key, (size_t)n + 1)))
		return NULL;
	if (!(o = e->val)) {
		if (!(o = calloc(1, sizeof(*o)))) {
			px_hmap_del(&v->objs, e);
			return NULL;
		}
		o->ent = e;
		e->val = o;
	}
	/* new ones too: the end of the sync frees those that no file defines */
	mark_dirty(v, o);
	return o;
}

static const char *obj_ns(const struct px_dirview_obj *o)
{
	return (const char *)o->ent->key + 1;
}

static const char *obj_name(const struct px_dirview_obj *o)
{
	return obj_ns(o) + strlen(obj_ns(o)) + 1;
}

static const char *kind_name(const struct px_dirview_obj *o)
{
	switch (o->ent->key[0]) {
	case PX_DIRVIEW_SERVICE: return "Service";
	case PX_DIRVIEW_NODE: return "Node";
	case PX_DIRVIEW_CIDR: return "ServiceCIDR";
	default: return "EndpointSlice";
	}
}

/* The greatest file name wins; within one file (an object listed twice) the later one. */
static const struct px_dirview_def *winner(const struct px_dirview_obj *o, const struct px_dirview_def **other)
{
	const struct px_dirview_def *w = NULL;

	*other = NULL;
	for (const struct px_dirview_def *x = o->defs; x; x = x->obj_next) {
		if (!w || strcmp(x->file, w->file) > 0) {
			*other = w;
			w = x;
		} else if (!*other) {
			*other = x;
		}
	}
	return w;
}

static bool same(const struct px_dirview_def *a, const struct px_dirview_def *b)
{
	return a->len == b->len && !memcmp(a->blob, b->blob, a->len);
}

static int report(const struct px_dirview_obj *o, const struct px_dirview_def *w, const struct px_source_cb *cb)
{
	size_t pos = 0;

	if (o->ent->key[0] == PX_DIRVIEW_SERVICE) {
		struct px_service s;

		if (!cb->service)
			return 0;
		if (w && px_unpack(w->blob, w->len, &pos, (unsigned char *)&s, sizeof(s)) < 0)
			return -EINVAL;
		cb->service(obj_ns(o), obj_name(o), w ? &s : NULL, cb->ctx);
	} else if (o->ent->key[0] == PX_DIRVIEW_NODE) {
		struct px_node n;

		if (!cb->node)
			return 0;
		if (w && px_unpack(w->blob, w->len, &pos, (unsigned char *)&n, sizeof(n)) < 0)
			return -EINVAL;
		cb->node(obj_name(o), w ? &n : NULL, cb->ctx);
	} else if (o->ent->key[0] == PX_DIRVIEW_CIDR) {
		struct px_service_cidr c;

		if (!cb->service_cidr)
			return 0;
		if (w && px_unpack(w->blob, w->len, &pos, (unsigned char *)&c, sizeof(c)) < 0)
			return -EINVAL;
		cb->service_cidr(obj_name(o), w ? &c : NULL, cb->ctx);
	} else {
		struct px_slice s;

		if (!cb->slice)
			return 0;
		if (!w) {
			cb->slice(obj_ns(o), obj_name(o), NULL, cb->ctx);
			return 0;
		}
		if (px_unpack(w->blob, w->len, &pos, (unsigned char *)&s, sizeof(s)) < 0)
			return -EINVAL;
		if (!(s.eps = calloc(s.neps + 1, sizeof(*s.eps))))
			return -ENOMEM;
		if (px_unpack(w->blob, w->len, &pos, (unsigned char *)s.eps, s.neps * sizeof(*s.eps)) < 0) {
			px_slice_free(&s);
			return -EINVAL;
		}
		cb->slice(obj_ns(o), obj_name(o), &s, cb->ctx);
		px_slice_free(&s);
	}
	return 0;
}

int px_dirview_resolve(struct px_dirview *v, const struct px_source_cb *cb)
{
	struct px_dirview_obj *o = v->dirty, *next, *failed = NULL, **failed_tail = &failed;
	int n = 0, r = 0;

	v->dirty = NULL;
	v->dirty_tail = &v->dirty;
	for (; o; o = next) {
		const struct px_dirview_def *other, *w = winner(o, &other);

		next = o->dirty_next;
		o->dirty = false;
		if (other && !o->warned && other->file == w->file)
			pn_log("podnet-proxy: %s/%s: %s %s/%s is listed more than once; using the last",
			       v->dir, w->file, kind_name(o), obj_ns(o), obj_name(o));
		else if (other && !o->warned)
			pn_log("podnet-proxy: %s: %s %s/%s is defined in %s and %s; using %s (the greatest file name)",
			       v->dir, kind_name(o), obj_ns(o), obj_name(o), w->file, other->file, w->file);
		o->warned = other != NULL;
		if (o->stale || (w != o->reported && !(w && o->reported && same(w, o->reported)))) {
			if (report(o, w, cb) < 0) {
				/* the callee keeps its old view; the next sync reports this one again */
				o->stale = true;
				o->reported = NULL;
				o->dirty = true;
				*failed_tail = o;
				failed_tail = &o->dirty_next;
				r = -ENOMEM;
				continue;
			}
			n++;
		}
		o->stale = false;
		o->reported = w;
		if (!w) {
			px_hmap_del(&v->objs, o->ent);
			free(o);
		}
	}
	*failed_tail = NULL;
	if (failed) {
		v->dirty = failed;
		v->dirty_tail = failed_tail;
	}
	while (v->grave) {
		struct px_dirview_def *x = v->grave;

		v->grave = x->file_next;
		free(x);
	}
	return r < 0 ? r : n;
}

int px_dirview_add(struct px_dirview *v, struct px_dirview_list *l, const char *file, char kind,
		   const char *ns, const char *name, const void *a, size_t alen, const void *b, size_t blen)
{
	size_t need = 2 * (alen + blen) + 32, len;
	struct px_dirview_def *x;
	struct px_dirview_obj *o;

	if (need > v->scratch_size) {
		free(v->scratch);
		if (!(v->scratch = malloc(need))) {
			v->scratch_size = 0;
			return -ENOMEM;
		}
		v->scratch_size = need;
	}
	len = px_pack(a, alen, v->scratch);
	len += px_pack(b, blen, v->scratch + len);
	/* the object now, even if the file fails later: resolve() frees what no file defines */
	if (!(o = obj_get(v, kind, ns, name)) || !(x = malloc(sizeof(*x) + len)))
		return -ENOMEM;
	memcpy(x->blob, v->scratch, len);
	x->len = len;
	x->obj = o;
	x->file = file;
	x->obj_next = NULL;
	x->file_next = NULL;
	*l->tail = x;
	l->tail = &x->file_next;
	return 0;
}

static void free_defs(struct px_dirview_def *x)
{
	for (struct px_dirview_def *next; x; x = next) {
		next = x->file_next;
		free(x);
	}
}

void px_dirview_discard(struct px_dirview_list *l)
{
	free_defs(l->head);
	px_dirview_list_init(l);
}

void px_dirview_replace(struct px_dirview *v, struct px_dirview_list *cur, struct px_dirview_list *next)
{
	for (struct px_dirview_def *x = cur->head, *after; x; x = after) {
		struct px_dirview_def **pp = &x->obj->defs;

		after = x->file_next;
		while (*pp != x)
			pp = &(*pp)->obj_next;
		*pp = x->obj_next;
		mark_dirty(v, x->obj);
		/* it may be what was reported: resolve() compares against it, then frees it */
		x->file_next = v->grave;
		v->grave = x;
	}
	/* in file order, newest first: of an object listed twice, the later one comes first */
	for (struct px_dirview_def *x = next->head; x; x = x->file_next) {
		x->obj_next = x->obj->defs;
		x->obj->defs = x;
		mark_dirty(v, x->obj);
	}
	*cur = *next;
	if (!cur->head)
		cur->tail = &cur->head;
	px_dirview_list_init(next);
}

void px_dirview_init(struct px_dirview *v, const char *dir)
{
	memset(v, 0, sizeof(*v));
	v->dir = dir;
	v->dirty_tail = &v->dirty;
}

void px_dirview_free(struct px_dirview *v)
{
	px_hmap_foreach(&v->objs, i, e)
		free(e->val);
	px_hmap_free(&v->objs);
	free_defs(v->grave);
	free(v->scratch);
	memset(v, 0, sizeof(*v));
}
