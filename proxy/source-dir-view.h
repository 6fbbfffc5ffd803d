/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The merged view behind source-dir.c (internal to it): which file defines which object, and
 * what was reported for each.  Files hand in their parsed objects as a list of definitions;
 * replacing a file's list marks its objects dirty, and px_dirview_resolve() reports the dirty
 * objects whose winning content differs from what was reported before.  The work is
 * O(objects in the changed files), however many objects the view holds.
 *
 * Winner: the definition from the file with the greatest name (strcmp); within one file that
 * lists an object twice, the later one.
 */
#ifndef PROXY_SOURCE_DIR_VIEW_H
#define PROXY_SOURCE_DIR_VIEW_H

#include <stddef.h>

#include "hmap.h"
#include "source.h"

enum { PX_DIRVIEW_SERVICE = 'S', PX_DIRVIEW_SLICE = 'E', PX_DIRVIEW_NODE = 'N', PX_DIRVIEW_CIDR = 'C' };

struct px_dirview_def;
struct px_dirview_obj;

struct px_dirview {
	const char *dir;                           /* for log messages */
	struct px_hmap objs;
	struct px_dirview_obj *dirty, **dirty_tail;
	struct px_dirview_def *grave;              /* replaced definitions, freed by resolve */
	unsigned char *scratch;
	size_t scratch_size;
};

/* A file's definitions (head NULL: none). */
struct px_dirview_list {
	struct px_dirview_def *head, **tail;
};

void px_dirview_init(struct px_dirview *v, const char *dir);
static inline void px_dirview_list_init(struct px_dirview_list *l) { l->head = NULL; l->tail = &l->head; }
/*
 * Appends to l the object (kind, ns, name) defined by file `file` (a name that must live as
 * long as the definition) with content a (and b: a slice's endpoints), both zeroed structs
 * as objects.h makes them.  0 or -ENOMEM.
 */
int px_dirview_add(struct px_dirview *v, struct px_dirview_list *l, const char *file, char kind,
		   const char *ns, const char *name, const void *a, size_t alen, const void *b, size_t blen);
/* Frees a list that was never applied. */
void px_dirview_discard(struct px_dirview_list *l);
/* The file's definitions *cur become *next (which is emptied). */
void px_dirview_replace(struct px_dirview *v, struct px_dirview_list *cur, struct px_dirview_list *next);
/* Reports the dirty objects that changed: their number, or -ENOMEM (the rest is retried next time). */
int px_dirview_resolve(struct px_dirview *v, const struct px_source_cb *cb);
/* Frees the objects; the files free their lists with px_dirview_discard first. */
void px_dirview_free(struct px_dirview *v);

#endif
