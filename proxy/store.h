/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The proxy's model: every Service and EndpointSlice a source reported, indexed so that
 * a change costs O(that Service): slices are kept per Service (by the
 * kubernetes.io/service-name label) and a changed object marks its Service dirty.  The
 * backend takes the dirty Services at the next sync and unpacks one at a time: objects
 * are kept packed (pack.h), a few hundred bytes per Service.
 */
#ifndef PROXY_STORE_H
#define PROXY_STORE_H

#include "hmap.h"
#include "source.h"

struct px_packed {
	size_t len;
	unsigned char blob[];
};

struct px_slice_ent;

struct px_svc_state {
	char ns[64], name[PX_NAME_MAX];
	struct px_packed *svc;               /* owned; NULL: no such Service (yet, or any more) */
	struct px_slice_ent **slices;        /* this Service's slices (owned by the store) */
	size_t nslices, cap;
	bool dirty;
	struct px_svc_state *next_dirty;
	void *be[2];                         /* the backend's per-family state (IPv4, IPv6) */
};

/* One Service unpacked with its slices, for as long as the backend works on it. */
struct px_svc_view {
	struct px_service svc;
	struct px_slice *slices;
	const struct px_slice **refs;
	size_t nslices;
};

struct px_store {
	struct px_hmap services;             /* "ns/name" -> struct px_svc_state */
	struct px_hmap slices;               /* "ns/name" -> struct px_slice_ent */
	struct px_svc_state *dirty;
	size_t ndirty, nslices;
	char self[PX_NAME_MAX];              /* this node's name, and its zone from its Node object */
	char self_zone[64];
	struct px_hmap cidrs;                /* ServiceCIDR name -> struct px_service_cidr */
	bool cidrs_changed;                  /* the backend rewrites its drop rules */
};

/* The source callbacks, feeding the store (ctx = the store). */
extern const struct px_source_cb px_store_cb;
void px_store_init(struct px_store *st);
/* This node's name: its Node object's zone label drives topology hints. */
void px_store_set_self(struct px_store *st, const char *node);
/* Marks every Service dirty (a full resync). */
void px_store_all_dirty(struct px_store *st);
/* Takes the dirty list (the caller clears ->dirty of each as it goes). */
struct px_svc_state *px_store_take_dirty(struct px_store *st);
/* Unpacks a Service that exists (s->svc), without its slices; -EINVAL. */
int px_store_service(const struct px_svc_state *s, struct px_service *out);
/* Unpacks a Service that exists (s->svc) and its slices; -ENOMEM or -EINVAL. */
int px_store_view(const struct px_svc_state *s, struct px_svc_view *v);
void px_store_view_free(struct px_svc_view *v);
/* Every ServiceCIDR's prefixes of family into out (at most max); their number. */
size_t px_store_service_cidrs(const struct px_store *st, int family, struct pn_prefix *out, size_t max);
/* Drops the state of a Service that is gone and whose backend state was released. */
void px_store_forget(struct px_store *st, struct px_svc_state *s);
void px_store_free(struct px_store *st);

#endif
