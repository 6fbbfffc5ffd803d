/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An index from owner to addresses, beside the reference's files, in one file per
 * network: <dataDir>/.podnet-index/<network>.  Network names cannot start with '.',
 * so it never collides with a network's folder, and the reference never reads it.
 *
 * The file is a hash table of fixed-size slots keyed by "<id>@<ifname>" ("<id>@" for
 * legacy id-only files), updated in place with pwrite: creating a file or symlink per
 * owner costs a new inode per ADD, several times the cost of a write on ext4.
 *
 * The index may only be trusted to be complete while its stamp matches the files it
 * describes: every ADD, ours or the reference's, rewrites a last_reserved_ip.N, so a
 * reservation made behind our back changes them, and we rebuild from the files.  An
 * entry can still name an address released behind our back (the reference's DEL, an
 * admin's rm): callers check each address against its file.
 */
#ifndef HL_INDEX_H
#define HL_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip.h"

#define HL_KEY_MAX 96    /* longer owners are not indexed: their lookups read the files */
#define HL_INDEX_IPS 8   /* addresses one slot holds; more make lookups read the files */

struct hl_index {
	int fd;              /* -1 when the index cannot be used */
	int dirfd;           /* <dataDir>/.podnet-index */
	const char *name;    /* the network's, borrowed */
	bool stamp_dirty;    /* the stamp was invalidated and must be rewritten on close */
	uint32_t nslots;     /* a power of two */
	uint32_t used;       /* live and deleted slots: probing stops only at empty ones */
};

int hl_index_open(struct hl_index *ix, const char *data_dir, const char *network);
void hl_index_close(struct hl_index *ix);
/* "<id>@<ifname>" or "<id>@" (ifname NULL); -ENAMETOOLONG or -EINVAL when not indexable. */
int hl_index_key(char *buf, size_t len, const char *id, const char *ifname);
/* Addresses under key (0 found is fine); -E2BIG when the entry overflowed a slot. */
int hl_index_get(struct hl_index *ix, const char *key, struct pn_ip *ips, size_t max, size_t *n);
/* Replaces the entry; n == 0 removes it. */
int hl_index_put(struct hl_index *ix, const char *key, const struct pn_ip *ips, size_t n);
/* Empties the table, sized for `owners` entries (before a rebuild). */
int hl_index_clear(struct hl_index *ix, size_t owners);
/* Compares/records the stamp: the state of the files the index was last true to. */
bool hl_index_stamp_matches(struct hl_index *ix, const char *stamp);
void hl_index_invalidate(struct hl_index *ix);
void hl_index_stamp_write(struct hl_index *ix, const char *stamp);

#endif
