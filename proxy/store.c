/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"

static size_t keyof(char *buf, size_t size, const char *ns, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", ns, name);

	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
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

	if (!s) {
		pn_log("podnet-proxy: out of memory for Service %s/%s", ns, name);
		return;
	}
	if (svc) {
		if (!s->svc && !(s->svc = malloc(sizeof(*s->svc))))
			return;
		*s->svc = *svc;
	} else {
		free(s->svc);
		s->svc = NULL;
	}
	mark(st, s);
}

static void unlink_slice(struct px_store *st, const struct px_slice *sl)
{
	struct px_svc_state *s = state(st, sl->ns, sl->service);

	if (!s)
		return;
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
	struct px_slice *sl;
	struct px_svc_state *s;

	if (!e)
		return;
	if ((sl = e->val)) {
		unlink_slice(st, sl);
		px_slice_free(sl);
		free(sl);
		e->val = NULL;
		st->nslices--;
	}
	if (!in) {
		px_hmap_del(&st->slices, e);
		return;
	}
	if (!(sl = malloc(sizeof(*sl))) || !(s = state(st, in->ns, in->service))) {
		free(sl);
		px_hmap_del(&st->slices, e);
		return;
	}
	*sl = *in;
	in->eps = NULL;
	in->neps = 0;
	if (s->nslices == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4;
		const struct px_slice **v = realloc(s->slices, cap * sizeof(*v));

		if (!v) {
			px_slice_free(sl);
			free(sl);
			px_hmap_del(&st->slices, e);
			return;
		}
		s->slices = v;
		s->cap = cap;
	}
	s->slices[s->nslices++] = sl;
	e->val = sl;
	st->nslices++;
	mark(st, s);
}

const struct px_source_cb px_store_cb = { .service = service_cb, .slice = slice_cb };

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
		px_slice_free(e->val);
		free(e->val);
	}
	px_hmap_foreach(&st->services, i, e) {
		struct px_svc_state *s = e->val;

		free(s->svc);
		free(s->slices);
		free(s);
	}
	px_hmap_free(&st->slices);
	px_hmap_free(&st->services);
	memset(st, 0, sizeof(*st));
}
