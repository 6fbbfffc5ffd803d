/* SPDX-License-Identifier: Apache-2.0 */
/*
 * More expressions as nft emits them (checked against `nft --debug=netlink`): numgen, nat
 * from registers, bitwise, meta set, ct, fib, reject, dynset, immediate data, anonymous
 * verdict maps.  The register numbering follows nft: a field at a 16-byte boundary uses
 * the 128-bit register name (NFT_REG_1..4), any other the 32-bit one (NFT_REG32_00..).
 */
#include <linux/netfilter.h>
#include <libnftnl/udata.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <string.h>

#include "nft.h"

uint32_t pn_nft_reg(uint32_t word)
{
	return word % 4 == 0 ? NFT_REG_1 + word / 4 : NFT_REG32_00 + word;
}

void pn_nft_expr_numgen(struct nftnl_rule *r, uint32_t mod, uint32_t dreg)
{
	struct nftnl_expr *x = nftnl_expr_alloc("numgen");

	nftnl_expr_set_u32(x, NFTNL_EXPR_NG_DREG, dreg);
	nftnl_expr_set_u32(x, NFTNL_EXPR_NG_MODULUS, mod);
	nftnl_expr_set_u32(x, NFTNL_EXPR_NG_TYPE, NFT_NG_RANDOM);
	nftnl_expr_set_u32(x, NFTNL_EXPR_NG_OFFSET, 0);
	nftnl_rule_add_expr(r, x);
}

void pn_nft_expr_dnat(struct nftnl_rule *r, int family, uint32_t reg_addr, uint32_t reg_port)
{
	struct nftnl_expr *x = nftnl_expr_alloc("nat");

	nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_FAMILY, family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
	nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_REG_ADDR_MIN, reg_addr);
	nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_REG_ADDR_MAX, reg_addr);
	nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_REG_PROTO_MIN, reg_port);
	nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_REG_PROTO_MAX, reg_port);
	nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED);
	nftnl_rule_add_expr(r, x);
}

void pn_nft_expr_bitwise(struct nftnl_rule *r, uint32_t reg, const void *mask, const void *xor, uint32_t len)
{
	struct nftnl_expr *x = nftnl_expr_alloc("bitwise");

	nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(x, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(x, NFTNL_EXPR_BITWISE_XOR, xor, len);
	nftnl_rule_add_expr(r, x);
}

void pn_nft_expr_meta_set(struct nftnl_rule *r, uint32_t key, uint32_t sreg)
{
	struct nftnl_expr *x = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(x, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(x, NFTNL_EXPR_META_SREG, sreg);
	nftnl_rule_add_expr(r, x);
}

void pn_nft_expr_ct(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *x = nftnl_expr_alloc("ct");

	nftnl_expr_set_u32(x, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(x, NFTNL_EXPR_CT_DREG, dreg);
	nftnl_rule_add_expr(r, x);
}

void pn_nft_expr_ct_bits(struct nftnl_rule *r, uint32_t key, uint32_t bits)
{
	uint32_t zero = 0;

	pn_nft_expr_ct(r, key, NFT_REG_1);
	pn_nft_expr_bitwise(r, NFT_REG_1, &bits, &zero, 4);
	pn_nft_expr_cmp(r, NFT_CMP_NEQ, &zero, 4);
}

void pn_nft_expr_fib_local(struct nftnl_rule *r, bool saddr)
{
	struct nftnl_expr *x = nftnl_expr_alloc("fib");
	uint32_t local = 2;   /* RTN_LOCAL */

	nftnl_expr_set_u32(x, NFTNL_EXPR_FIB_FLAGS, saddr ? NFTA_FIB_F_SADDR : NFTA_FIB_F_DADDR);
	nftnl_expr_set_u32(x, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(x, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, x);
	pn_nft_expr_cmp(r, NFT_CMP_EQ, &local, 4);
}

void pn_nft_expr_reject(struct nftnl_rule *r, int family)
{
	struct nftnl_expr *x = nftnl_expr_alloc("reject");

	/* `reject` in an ip / ip6 table: ICMP port unreachable, which connect() reports as refused */
	nftnl_expr_set_u32(x, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMP_UNREACH);
	nftnl_expr_set_u8(x, NFTNL_EXPR_REJECT_CODE, family == AF_INET ? 3 : 4);
	nftnl_rule_add_expr(r, x);
}

void pn_nft_expr_dynset_update(struct nftnl_rule *r, const char *set, uint32_t sreg)
{
	struct nftnl_expr *x = nftnl_expr_alloc("dynset");

	nftnl_expr_set_u32(x, NFTNL_EXPR_DYNSET_SREG_KEY, sreg);
	nftnl_expr_set_u32(x, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_str(x, NFTNL_EXPR_DYNSET_SET_NAME, set);
	nftnl_expr_set_u64(x, NFTNL_EXPR_DYNSET_TIMEOUT, 0);
	nftnl_rule_add_expr(r, x);
}

void pn_nft_expr_imm(struct nftnl_rule *r, uint32_t dreg, const void *data, uint32_t len)
{
	struct nftnl_expr *x = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_DREG, dreg);
	nftnl_expr_set(x, NFTNL_EXPR_IMM_DATA, data, len);
	nftnl_rule_add_expr(r, x);
}

/*
 * `numgen random mod N vmap { 0 : goto c0, ... }`: the anonymous constant map goes in the
 * batch before the rule (set id ties them together).  Keys are numgen's host-endian u32.
 */
void pn_nft_numgen_vmap(struct pn_nft *n, struct nftnl_rule *r, int family, const char *table,
			uint32_t set_id, const char *const *chains, uint32_t nchains)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	/* the kernel numbers anonymous sets: __map0, __map1, ... as for nft */
	const char *name = "__map%d";

	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, (uint32_t)family);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_ID, set_id);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, 4);     /* nft's integer */
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 4);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	if (ud) {
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, 1);   /* host endian */
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
		nftnl_udata_buf_free(ud);
	}
	pn_nft_add_set(n, s);
	for (uint32_t i = 0; i < nchains; i++) {
		struct nftnl_set_elem *el = nftnl_set_elem_alloc();

		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, &i, sizeof(i));
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, NFT_GOTO);
		nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, chains[i]);
		nftnl_set_elem_add(s, el);
	}
	pn_nft_set_elems(n, s, true);
	nftnl_set_free(s);
	pn_nft_expr_numgen(r, nchains, NFT_REG_1);
	{
		struct nftnl_expr *x = nftnl_expr_alloc("lookup");

		nftnl_expr_set_str(x, NFTNL_EXPR_LOOKUP_SET, name);
		nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
		nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
		nftnl_rule_add_expr(r, x);
	}
}
