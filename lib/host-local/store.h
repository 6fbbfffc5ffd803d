/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reference's on-disk store, byte for byte (research/cni.md §3.4):
 *
 *   <dataDir>/<network>/<ip>                  "<containerID>\r\n<ifname>" (legacy: "<containerID>")
 *   <dataDir>/<network>/last_reserved_ip.<N>  the last address reserved in range set N
 *   <dataDir>/<network>/lock                  flock(LOCK_EX) around every operation
 *
 * The reference finds a container's addresses by reading every file of the network.
 * We keep an index beside it (index.c) so that lookups cost the same with 3 or 3,000
 * reservations, and fall back to reading the files whenever the index may be stale.
 * All calls require the lock, which hl_store_open() takes and hl_store_close() drops.
 */
#ifndef HL_STORE_H
#define HL_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "index.h"
#include "ip.h"

#define HL_MAX_OWNED 64   /* addresses one (container, ifname) can hold in a network */

struct hl_store {
	int dirfd;            /* <dataDir>/<network> */
	int lockfd;
	size_t nsets;         /* last_reserved_ip.0 .. nsets-1 guard the index */
	struct hl_index index;
};

int hl_store_open(struct hl_store *s, const char *data_dir, const char *network, size_t nsets,
		  struct pn_err *e);
/* Writes the index stamp if the index changed, unlocks, closes. */
void hl_store_close(struct hl_store *s);

/* Creates <ip> for the owner; 1 reserved, 0 already taken, <0 error. Updates last_reserved_ip.<set>. */
int hl_store_reserve(struct hl_store *s, const char *id, const char *ifname, const struct pn_ip *ip,
		     size_t set, struct pn_err *e);
/* 0 and *ip, or -ENOENT when absent or unparsable (then allocation starts at the range start). */
int hl_store_last_reserved(struct hl_store *s, size_t set, struct pn_ip *ip);
/* Addresses held by (id, ifname) or by a legacy file holding just id. */
int hl_store_get_by_id(struct hl_store *s, const char *id, const char *ifname,
		       struct pn_ip *ips, size_t *n, struct pn_err *e);
/* Releases (id, ifname)'s addresses, or the legacy id-only ones if there are none. */
int hl_store_release_by_id(struct hl_store *s, const char *id, const char *ifname, struct pn_err *e);
/* Releases one address this ADD reserved for (id, ifname). */
int hl_store_release_ip(struct hl_store *s, const char *id, const char *ifname, const struct pn_ip *ip);

/* Removes a reservation whoever holds it (GC). */
int hl_store_remove(struct hl_store *s, const struct pn_ip *ip, struct pn_err *e);
/* Rebuilds the index from the files. */
int hl_store_reindex(struct hl_store *s, struct pn_err *e);

/* Every reservation: cb(ip, owner id, owner ifname or NULL for legacy files, ctx). Non-zero stops. */
int hl_store_foreach(struct hl_store *s,
		     int (*cb)(const struct pn_ip *ip, const char *id, const char *ifname, void *ctx),
		     void *ctx, struct pn_err *e);

#endif
