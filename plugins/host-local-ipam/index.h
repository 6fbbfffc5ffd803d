/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An index from owner to addresses, beside the reference's files:
 *
 *   <dataDir>/.podnet-index/<network>/<id>@<ifname>  symlink -> "10.1.2.2,2001:db8::2"
 *   <dataDir>/.podnet-index/<network>/<id>@          the same for legacy id-only files
 *   <dataDir>/.podnet-index/<network>/.stamp         symlink -> state of last_reserved_ip.*
 *
 * Symlinks because one readlink or symlink call reads or writes an entry.  Network
 * names cannot start with '.', so the index never collides with a network's folder.
 *
 * The index may only be trusted to be complete while .stamp matches the files it
 * describes: every ADD, ours or the reference's, rewrites a last_reserved_ip.N, so a
 * reservation made behind our back changes them, and we rebuild from the files.  An
 * entry can still name an address that was released behind our back (the reference's
 * DEL, an admin's rm): callers check each address against its file.
 */
#ifndef HL_INDEX_H
#define HL_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "ip.h"

#define HL_KEY_MAX 200   /* longer owners are not indexed: their lookups read the files */

struct hl_index {
	int fd;              /* -1 when the index cannot be used */
	bool stamp_dirty;    /* .stamp was removed and must be rewritten on close */
};

int hl_index_open(struct hl_index *ix, const char *data_dir, const char *network);
void hl_index_close(struct hl_index *ix);
/* "<id>@<ifname>" or "<id>@" (ifname NULL); -ENAMETOOLONG or -EINVAL when not indexable. */
int hl_index_key(char *buf, size_t len, const char *id, const char *ifname);
/* Addresses under key (0 found is fine). */
int hl_index_get(struct hl_index *ix, const char *key, struct pn_ip *ips, size_t max, size_t *n);
/* Replaces the entry; n == 0 removes it. */
int hl_index_put(struct hl_index *ix, const char *key, const struct pn_ip *ips, size_t n);
/* Removes every entry (before a rebuild). */
int hl_index_clear(struct hl_index *ix);
/* Compares/records .stamp against the given stamp text. */
bool hl_index_stamp_matches(struct hl_index *ix, const char *stamp);
void hl_index_invalidate(struct hl_index *ix);
void hl_index_stamp_write(struct hl_index *ix, const char *stamp);

#endif
