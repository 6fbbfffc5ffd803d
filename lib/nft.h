/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nftables over netlink with libnftnl: one batch per change (BEGIN ... END, applied by
 * the kernel atomically), ACK per message, the kernel's error text in the pn_err.
 * Rule helpers emit the bytecode `nft` itself emits for the same rule, so that
 * `nft list ruleset` prints our tables as if they had been written with nft.
 */
#ifndef PODNET_NFT_H
#define PODNET_NFT_H

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <stdbool.h>

#include "err.h"
#include "ip.h"

struct pn_nft {
	struct mnl_socket *sock;
	uint32_t portid, seq;
	struct nftnl_batch *batch;
	unsigned nmsgs;           /* messages in the batch that will be ACKed */
};

int pn_nft_open(struct pn_nft *n, struct pn_err *e);
void pn_nft_close(struct pn_nft *n);
/*
 * Closing a netfilter netlink socket makes the kernel finish freeing what transactions
 * deleted (an RCU grace period, 10-20 ms here), under the netns's nf_tables commit mutex
 * (nft_rcv_nl_event).  Unregistering a network device of that netns takes the same mutex
 * while it holds the RTNL lock, so a close and a device delete at the same time wait for
 * each other.  Between pn_nft_defer_close() and pn_nft_close_deferred(), pn_nft_close
 * keeps the socket open; pn_nft_close_deferred() closes them, by then without a wait.
 */
void pn_nft_defer_close(void);
void pn_nft_close_deferred(void);
/* Starts a batch (of 8 KiB pages; _paged: of larger pages, for batches of many elements). */
void pn_nft_begin(struct pn_nft *n);
void pn_nft_begin_paged(struct pn_nft *n, uint32_t page);
/* Ends and sends the batch, waits for every ACK; the first error wins. */
int pn_nft_commit(struct pn_nft *n, struct pn_err *e);

/* New objects with family, table and name set (free with nftnl_*_free). */
struct nftnl_chain *pn_nft_chain_new(int family, const char *table, const char *name);
struct nftnl_rule *pn_nft_rule_new(int family, const char *table, const char *chain);

/* Batch messages; each takes ownership of nothing (objects are serialised at once). */
void pn_nft_add_table(struct pn_nft *n, const struct nftnl_table *t, bool excl);
void pn_nft_add_chain(struct pn_nft *n, const struct nftnl_chain *c, bool excl);
void pn_nft_add_rule(struct pn_nft *n, struct nftnl_rule *r);
/* Removes every rule of a chain (flush), or the chain itself (it must be empty). */
void pn_nft_flush_chain(struct pn_nft *n, int family, const char *table, const char *chain);
void pn_nft_del_chain(struct pn_nft *n, int family, const char *table, const char *chain);
void pn_nft_add_set(struct pn_nft *n, struct nftnl_set *s);
void pn_nft_set_elems(struct pn_nft *n, const struct nftnl_set *s, bool add);

/* Expressions, as nft emits them. */
void pn_nft_expr_nfproto(struct nftnl_rule *r, int family);   /* meta nfproto == family */
/* ip/ip6 saddr or daddr (offset) compared with a prefix, == or !=, byte-trimmed like nft */
void pn_nft_expr_prefix(struct nftnl_rule *r, uint32_t offset, const struct pn_prefix *p, bool neq);
void pn_nft_expr_payload(struct nftnl_rule *r, uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg);
void pn_nft_expr_lookup(struct nftnl_rule *r, const char *set, uint32_t sreg, int dreg, bool inv);
void pn_nft_expr_verdict(struct nftnl_rule *r, int verdict, const char *chain);
void pn_nft_expr_masq(struct nftnl_rule *r, uint32_t flags);
void pn_nft_expr_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg);
/* compares register 1 with data (NFT_CMP_EQ, NFT_CMP_NEQ, ...) */
void pn_nft_expr_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len);

/* lib/nft-expr.c */
uint32_t pn_nft_reg(uint32_t word);   /* register of the 32-bit word at `word` of a concatenation */
void pn_nft_expr_numgen(struct nftnl_rule *r, uint32_t mod, uint32_t dreg);
void pn_nft_expr_dnat(struct nftnl_rule *r, int family, uint32_t reg_addr, uint32_t reg_port);
void pn_nft_expr_bitwise(struct nftnl_rule *r, uint32_t reg, const void *mask, const void *xor, uint32_t len);
void pn_nft_expr_meta_set(struct nftnl_rule *r, uint32_t key, uint32_t sreg);
void pn_nft_expr_ct(struct nftnl_rule *r, uint32_t key, uint32_t dreg);
/* ct <key> & bits != 0 (`ct state new`, `ct status dnat`) */
void pn_nft_expr_ct_bits(struct nftnl_rule *r, uint32_t key, uint32_t bits);
/* fib saddr|daddr type local */
void pn_nft_expr_fib_local(struct nftnl_rule *r, bool saddr);
void pn_nft_expr_reject(struct nftnl_rule *r, int family);
void pn_nft_expr_dynset_update(struct nftnl_rule *r, const char *set, uint32_t sreg);
void pn_nft_expr_imm(struct nftnl_rule *r, uint32_t dreg, const void *data, uint32_t len);
void pn_nft_numgen_vmap(struct pn_nft *n, struct nftnl_rule *r, int family, const char *table,
			uint32_t set_id, const char *const *chains, uint32_t nchains);

/* Lists a set's elements: cb(key, key length, comment) for each; a missing set is empty. */
int pn_nft_dump_elems(struct pn_nft *n, int family, const char *table, const char *set,
		      int (*cb)(const void *key, uint32_t klen, const char *comment, void *ctx), void *ctx,
		      struct pn_err *e);
/* Other tools' rules (the reference plugins', iptables-nft's): look them up, list, delete. */
bool pn_nft_chain_exists(struct pn_nft *n, int family, const char *table, const char *chain);
/* Whether the set holds the (first) element of s, by key. */
bool pn_nft_elem_exists(struct pn_nft *n, const struct nftnl_set *s);
bool pn_nft_table_exists(struct pn_nft *n, int family, const char *table);
void pn_nft_del_table(struct pn_nft *n, int family, const char *table);
void pn_nft_del_set(struct pn_nft *n, int family, const char *table, const char *set);
/* cb(rule) for every rule of the chain; a missing table or chain has none. */
int pn_nft_dump_rules(struct pn_nft *n, int family, const char *table, const char *chain,
		      int (*cb)(struct nftnl_rule *r, void *ctx), void *ctx);
void pn_nft_del_rule(struct pn_nft *n, int family, const char *table, const char *chain, uint64_t handle);

/* A set element comment, as nft stores it (userdata). */
void pn_nft_elem_comment(struct nftnl_set_elem *el, const char *comment);

#endif
