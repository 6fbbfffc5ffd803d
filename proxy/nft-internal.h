/* SPDX-License-Identifier: Apache-2.0 */
/* The nftables backend's parts: layout (nft-layout.c), per-Service elements (nft-service.c),
   the mirror and transactions (nft-sync.c). */
#ifndef PROXY_NFT_INTERNAL_H
#define PROXY_NFT_INTERNAL_H

#include "backend.h"
#include "hmap.h"
#include "model.h"
#include "nft.h"

enum px_set {
	S_SERVICE_IPS, S_SERVICE_NODEPORTS, S_NOEP_SERVICES, S_NOEP_NODEPORTS, S_FIREWALL_IPS,
	S_CLUSTER_LB, S_LOCAL_LB, S_NP_CLUSTER_LB, S_NP_LOCAL_LB,
	S_CLUSTER_BACKENDS, S_LOCAL_BACKENDS, S_NP_CLUSTER_BACKENDS, S_NP_LOCAL_BACKENDS,
	S_CLUSTER_IPS, S_HAIRPIN, S_NODEPORT_IPS, S_MAX
};

/* The dnat-<kind>-N chains: which lb map and backends map they serve. */
enum px_pick { P_CLUSTER, P_LOCAL, P_NP_CLUSTER, P_NP_LOCAL, P_MAX };
#define PX_MAX_PICK 4096
#define PX_NFT_PAGE (256 * 1024)   /* batch pages: messages of a few hundred elements */       /* endpoints per Service port and policy we load-balance over */

extern const char *const px_set_names[S_MAX];

/* One element of one of our sets or maps. */
struct px_elem {
	uint8_t set, klen, dlen;
	uint8_t verdict;               /* 0: data (or a plain set); else NFT_GOTO, NF_DROP+1 (drop) */
	uint8_t key[32];               /* the longest: an IPv6 hairpin pair */
	uint8_t data[20];
	const char *chain;             /* goto target (owned by the backend or the Service state) */
};

/* The backend's state of one Service in one family. */
struct px_svc_nft {
	struct px_elem *elems;         /* sorted by (set, key) */
	size_t nelems;
	char **chains;                 /* chains of this Service (sticky, firewall), sorted */
	size_t nchains;
	char **sets;                   /* its affinity sets, sorted */
	size_t nsets;
	size_t nendpoints;
	bool counted;                  /* counted in px_fam.nservices */
};

struct px_fam {
	int family;                    /* AF_INET / AF_INET6 */
	const char *table;             /* the table in use */
	struct px_hmap owners;         /* set+key -> owning struct px_svc_state (hairpin: refcount) */
	bool pick[P_MAX][PX_MAX_PICK + 1];
	char *pick_name[P_MAX][PX_MAX_PICK + 1];
	size_t nelems, nservices, nendpoints;
};

struct px_nft {
	struct px_nft_config cfg;
	struct pn_nft nft;
	struct px_fam fam[2];
	bool built;                    /* a full build has been swapped in */
	const char *zone;              /* this node's zone (the store's), for topology hints */
	uint32_t set_id;               /* ids of anonymous sets within a batch */
};

/* nft-sync.c */
/* Forgets what a family had programmed (its table is about to be replaced, or we exit). */
void px_fam_reset(struct px_fam *f, struct px_store *st, int fi);
bool px_fam_on(const struct px_nft *b, int fi);

/* nft-layout.c */
int px_fam_addr_len(int family);
uint32_t px_nfproto(int family);
/* Table (fresh), sets and maps, and every regular chain with its rules. */
void px_layout_base(struct px_nft *b, struct px_fam *f, const char *table);
/* cluster-ips-check: reject unserved ports of ClusterIPs, drop the rest of the ServiceCIDRs. */
void px_layout_cluster_ips_check(struct px_nft *b, struct px_fam *f, const char *table, const struct pn_prefix *cidrs,
				  size_t n, bool flush);
/* The base chains that hook the table in, each with its jump. */
void px_layout_hooks(struct px_nft *b, struct px_fam *f, const char *table);
/* Creates dnat-<kind>-N in this batch unless it exists; returns its name. */
const char *px_layout_pick(struct px_nft *b, struct px_fam *f, enum px_pick kind, size_t n);
/* A set or map description (name, types, flags) for element messages. */
struct nftnl_set *px_layout_set(const struct px_fam *f, const char *table, enum px_set s);

/* nft-service.c: the elements, chains and sets one Service should have in one family */
struct px_want {
	struct px_elem *elems;
	size_t nelems, cap;
	char **chains, **sets;         /* per-Service chains and sets, with their rules emitted */
	size_t nchains, nsets, capchains, capsets;
	size_t nendpoints;
	struct px_udp_change *udp;     /* UDP ports: the serving endpoints now */
	size_t nudp, capudp;
};
int px_service_want(struct px_nft *b, struct px_fam *f, const struct px_svc_state *s, struct px_want *w,
		    struct pn_err *e);
void px_want_free(struct px_want *w);
int px_elem_cmp(const void *a, const void *b);

#endif
