/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a source of Kubernetes objects (the manifest directory now, the API server later)
 * tells the proxy: a Service or an EndpointSlice appeared, changed or disappeared.  A source
 * reports a change only when the object's content differs from what it reported before.
 */
#ifndef PROXY_SOURCE_H
#define PROXY_SOURCE_H

#include "objects.h"

struct px_source_cb {
	/* svc: the new content (the callee copies it), or NULL: gone (or no longer the proxy's) */
	void (*service)(const char *ns, const char *name, const struct px_service *svc, void *ctx);
	/* s: the new content (the callee takes s->eps and sets it to NULL), or NULL: gone */
	void (*slice)(const char *ns, const char *name, struct px_slice *s, void *ctx);
	/* n: a Node's new content, or NULL: gone */
	void (*node)(const char *name, const struct px_node *n, void *ctx);
	/* c: a ServiceCIDR's new content, or NULL: gone */
	void (*service_cidr)(const char *name, const struct px_service_cidr *c, void *ctx);
	void *ctx;
};

#endif
