/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "hmap.h"

/* FNV-1a, 64 bits: keys are names and packed addresses, not attacker-chosen at scale */
uint64_t px_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

struct px_hent *px_hmap_get(const struct px_hmap *m, const void *key, size_t klen)
{
	uint64_t h;

	if (!m->nb)
		return NULL;
	h = px_hash(key, klen);
	for (struct px_hent *e = m->b[h & (m->nb - 1)]; e; e = e->next)
		if (e->hash == h && e->klen == klen && !memcmp(e->key, key, klen))
			return e;
	return NULL;
}

static int grow(struct px_hmap *m)
{
	size_t nb = m->nb ? m->nb * 2 : 64;
	struct px_hent **b = calloc(nb, sizeof(*b));

	if (!b)
		return -1;
	for (size_t i = 0; i < m->nb; i++) {
		for (struct px_hent *e = m->b[i], *next; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
	return 0;
}

struct px_hent *px_hmap_put(struct px_hmap *m, const void *key, size_t klen)
{
	struct px_hent *e = px_hmap_get(m, key, klen);
	size_t i;

	if (e)
		return e;
	if (m->n >= m->nb && grow(m) < 0)
		return NULL;
	if (!(e = calloc(1, sizeof(*e) + klen)))
		return NULL;
	e->hash = px_hash(key, klen);
	e->klen = klen;
	memcpy(e->key, key, klen);
	i = e->hash & (m->nb - 1);
	e->next = m->b[i];
	m->b[i] = e;
	m->n++;
	return e;
}

void px_hmap_del(struct px_hmap *m, struct px_hent *e)
{
	struct px_hent **pp = &m->b[e->hash & (m->nb - 1)];

	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = e->next;
		m->n--;
	}
	free(e);
}

void px_hmap_free(struct px_hmap *m)
{
	for (size_t i = 0; i < m->nb; i++) {
		for (struct px_hent *e = m->b[i], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(m->b);
	memset(m, 0, sizeof(*m));
}
