/* SPDX-License-Identifier: Apache-2.0 */
/* The nftables backend's life: open, the intact check of a quiet daemon, close, --cleanup. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nft-internal.h"


int px_nft_open(const struct px_nft_config *c, struct px_nft **out, struct pn_err *e)
{
	struct px_nft *b = calloc(1, sizeof(*b));
	int r, sz = 16 << 20;

	if (!b)
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	b->cfg = *c;
	b->fam[0].family = AF_INET;
	b->fam[1].family = AF_INET6;
	if ((r = pn_nft_open(&b->nft, e)) < 0) {
		free(b);
		return r;
	}
	/* one ACK per message of a large batch */
	setsockopt(mnl_socket_get_fd(b->nft.sock), SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	pn_nft_begin_paged(&b->nft, PX_NFT_PAGE);
	*out = b;
	return 0;
}

static int count_cb(struct nftnl_rule *r, void *ctx)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

static int count_rules(struct px_nft *b, int fam, const char *table, const char *chain)
{
	int n = 0;

	return pn_nft_dump_rules(&b->nft, fam, table, chain, count_cb, &n) < 0 ? -1 : n;
}

bool px_nft_intact(struct px_nft *b)
{
	for (int fi = 0; fi < 2; fi++) {
		struct px_fam *f = &b->fam[fi];
		int fam = (int)px_nfproto(f->family);

		if (!px_fam_on(b, fi) || !b->built)
			continue;
		/* the dispatch and the hook into it: gone with `nft flush ruleset`, `nft flush table`
		   or `nft delete table` */
		if (count_rules(b, fam, f->table, "services") != 2 || count_rules(b, fam, f->table, "nat-prerouting") != 1)
			return false;
	}
	return true;
}

void px_nft_close(struct px_nft *b, struct px_store *st)
{
	if (!b)
		return;
	for (int fi = 0; fi < 2; fi++) {
		if (st)
			px_fam_reset(&b->fam[fi], st, fi);
		px_hmap_free(&b->fam[fi].owners);
		for (int k = 0; k < P_MAX; k++)
			for (int n = 0; n <= PX_MAX_PICK; n++)
				free(b->fam[fi].pick_name[k][n]);
	}
	pn_nft_close(&b->nft);
	free(b);
}

int px_nft_cleanup(struct pn_err *e)
{
	struct pn_nft n;
	int r, fams[] = { NFPROTO_IPV4, NFPROTO_IPV6 }, dels = 0;

	if ((r = pn_nft_open(&n, e)) < 0)
		return r;
	pn_nft_begin(&n);
	for (int i = 0; i < 2; i++) {
		if (pn_nft_table_exists(&n, fams[i], PX_TABLE_A))
			pn_nft_del_table(&n, fams[i], PX_TABLE_A), dels++;
		if (pn_nft_table_exists(&n, fams[i], PX_TABLE_B))
			pn_nft_del_table(&n, fams[i], PX_TABLE_B), dels++;
	}
	r = dels ? pn_nft_commit(&n, e) : 0;
	pn_nft_close(&n);
	return r;
}
