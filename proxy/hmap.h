/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A hash table keyed by bytes (chained, power-of-two buckets, grows at load 1): the
 * proxy's indexes (Services and slices by namespace/name, nftables elements by set and
 * key) must stay O(1) per change however many objects there are.
 */
#ifndef PROXY_HMAP_H
#define PROXY_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct px_hent {
	struct px_hent *next;
	uint64_t hash;
	void *val;
	size_t klen;
	unsigned char key[];
};

struct px_hmap {
	struct px_hent **b;
	size_t nb, n;
};

uint64_t px_hash(const void *key, size_t len);
struct px_hent *px_hmap_get(const struct px_hmap *m, const void *key, size_t klen);
/* The entry for key, created (val NULL) if missing; NULL only when out of memory. */
struct px_hent *px_hmap_put(struct px_hmap *m, const void *key, size_t klen);
/* Removes and frees the entry (not its val). */
void px_hmap_del(struct px_hmap *m, struct px_hent *e);
/* Frees every entry (not the vals) and the buckets. */
void px_hmap_free(struct px_hmap *m);

#define px_hmap_foreach(m, i, e) \
	for (size_t i = 0; i < (m)->nb; i++) \
		for (struct px_hent *e = (m)->b[i], *e##_next = e ? e->next : NULL; e; \
		     e = e##_next, e##_next = e ? e->next : NULL)

#endif
