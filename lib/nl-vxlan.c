/* SPDX-License-Identifier: Apache-2.0 */
/* VXLAN devices, neighbours and bridge FDB entries over rtnetlink; MAC addresses as text. */
#include <errno.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <linux/neighbour.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "nl-internal.h"

int pn_link_add_vxlan(struct pn_nl *nl, const char *name, const struct pn_vxlan *v, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = pn_nl_link_req(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0);
	struct nlattr *info, *data;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, v->mac);
	if (v->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vxlan");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_VXLAN_ID, v->vni);
	mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons(v->port));
	if (v->local.family == AF_INET)
		mnl_attr_put(nlh, IFLA_VXLAN_LOCAL, 4, v->local.a);
	else if (v->local.family == AF_INET6)
		mnl_attr_put(nlh, IFLA_VXLAN_LOCAL6, 16, v->local.a);
	if (v->dev)
		mnl_attr_put_u32(nlh, IFLA_VXLAN_LINK, (uint32_t)v->dev);
	mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, 0);
	/* explicit, whatever the kernel's default: peers must agree on checksums */
	if (v->local.family == AF_INET6) {
		mnl_attr_put_u8(nlh, IFLA_VXLAN_UDP_ZERO_CSUM6_TX, !v->udp_csum);
		mnl_attr_put_u8(nlh, IFLA_VXLAN_UDP_ZERO_CSUM6_RX, !v->udp_csum);
	} else {
		mnl_attr_put_u8(nlh, IFLA_VXLAN_UDP_CSUM, v->udp_csum);
	}
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return pn_nl_talk(nl, nlh, NULL, NULL, e);
}

struct vxlan_get {
	struct pn_link *l;
	struct pn_vxlan *v;
};

static int vxlan_data_attr(const struct nlattr *a, void *data)
{
	struct pn_vxlan *v = data;
	uint16_t len = mnl_attr_get_payload_len(a);

	switch (mnl_attr_get_type(a)) {
	case IFLA_VXLAN_ID:
		if (len >= 4)
			v->vni = mnl_attr_get_u32(a);
		break;
	case IFLA_VXLAN_PORT:
		if (len >= 2)
			v->port = ntohs(mnl_attr_get_u16(a));
		break;
	case IFLA_VXLAN_LOCAL:
		if (len == 4) {
			v->local.family = AF_INET;
			memcpy(v->local.a, mnl_attr_get_payload(a), 4);
		}
		break;
	case IFLA_VXLAN_LOCAL6:
		if (len == 16) {
			v->local.family = AF_INET6;
			memcpy(v->local.a, mnl_attr_get_payload(a), 16);
		}
		break;
	case IFLA_VXLAN_LINK:
		if (len >= 4)
			v->dev = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_VXLAN_LEARNING:
		if (len >= 1)
			v->learning = mnl_attr_get_u8(a);
		break;
	case IFLA_VXLAN_UDP_CSUM:
		if (len >= 1)
			v->udp_csum = mnl_attr_get_u8(a);
		break;
	}
	return MNL_CB_OK;
}

static int vxlan_info_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == IFLA_INFO_DATA)
		mnl_attr_parse_nested(a, vxlan_data_attr, data);
	return MNL_CB_OK;
}

static int vxlan_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vxlan_get *g = data;
	const struct nlattr *a;

	pn_nl_link_cb(nlh, g->l);
	mnl_attr_for_each(a, nlh, sizeof(struct ifinfomsg))
		if (mnl_attr_get_type(a) == IFLA_LINKINFO)
			mnl_attr_parse_nested(a, vxlan_info_attr, g->v);
	return MNL_CB_OK;
}

int pn_vxlan_get(struct pn_nl *nl, const char *name, struct pn_link *l, struct pn_vxlan *v, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = pn_nl_link_req(buf, RTM_GETLINK, 0, AF_UNSPEC, 0);
	struct vxlan_get g = { l, v };
	struct pn_err tmp;
	int r;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	memset(v, 0, sizeof(*v));
	r = pn_nl_talk(nl, nlh, vxlan_cb, &g, &tmp);
	if (r == -ENODEV)
		return r;
	if (r < 0) {
		*e = tmp;
		return r;
	}
	memcpy(v->mac, l->mac, 6);
	v->mtu = l->mtu;
	return strcmp(l->kind, "vxlan") ? -EMEDIUMTYPE : 0;
}

static struct nlmsghdr *neigh_req(char *buf, uint16_t type, uint16_t flags, int family, int ifindex,
				  uint16_t state, uint8_t ntf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (uint8_t)family;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = state;
	ndm->ndm_flags = ntf;
	return nlh;
}

int pn_neigh_set(struct pn_nl *nl, int ifindex, const struct pn_ip *ip, const uint8_t mac[6], struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = neigh_req(buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, ip->family, ifindex,
					 NUD_PERMANENT, 0);

	mnl_attr_put(nlh, NDA_DST, (size_t)pn_ip_bytes(ip), ip->a);
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	return pn_nl_talk(nl, nlh, NULL, NULL, e);
}

int pn_fdb_add(struct pn_nl *nl, int ifindex, const uint8_t mac[6], const struct pn_ip *dst, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = neigh_req(buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND, AF_BRIDGE, ifindex,
					 NUD_PERMANENT, NTF_SELF);
	int r;

	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	mnl_attr_put(nlh, NDA_DST, (size_t)pn_ip_bytes(dst), dst->a);
	r = pn_nl_talk(nl, nlh, NULL, NULL, e);
	return r == -EEXIST ? 0 : r;
}

int pn_neigh_del(struct pn_nl *nl, const struct pn_neigh *n, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = neigh_req(buf, RTM_DELNEIGH, 0, n->family, n->ifindex, 0,
					 n->family == AF_BRIDGE ? NTF_SELF : 0);

	if (n->family == AF_BRIDGE) {
		mnl_attr_put(nlh, NDA_LLADDR, 6, n->mac);
		if (n->dst.family)
			mnl_attr_put(nlh, NDA_DST, (size_t)pn_ip_bytes(&n->dst), n->dst.a);
	} else {
		mnl_attr_put(nlh, NDA_DST, (size_t)pn_ip_bytes(&n->dst), n->dst.a);
	}
	return pn_nl_talk(nl, nlh, NULL, NULL, e);
}

struct neigh_list {
	int family, ifindex;
	struct pn_neigh *out;
	size_t max, n;
};

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct neigh_list *l = data;
	const struct nlattr *a;
	struct pn_neigh n = { .family = ndm->ndm_family, .ifindex = ndm->ndm_ifindex, .state = ndm->ndm_state,
			      .flags = ndm->ndm_flags };

	if (nlh->nlmsg_type != RTM_NEWNEIGH || ndm->ndm_ifindex != l->ifindex || l->n >= l->max)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ndm)) {
		size_t len = mnl_attr_get_payload_len(a);

		if (mnl_attr_get_type(a) == NDA_DST && (len == 4 || len == 16)) {
			n.dst.family = len == 4 ? AF_INET : AF_INET6;
			memcpy(n.dst.a, mnl_attr_get_payload(a), len);
		} else if (mnl_attr_get_type(a) == NDA_LLADDR && len == 6) {
			memcpy(n.mac, mnl_attr_get_payload(a), 6);
		}
	}
	l->out[l->n++] = n;
	return MNL_CB_OK;
}

int pn_neigh_list(struct pn_nl *nl, int family, int ifindex, struct pn_neigh *out, size_t max, size_t *n,
		  struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = neigh_req(buf, RTM_GETNEIGH, NLM_F_DUMP, family, 0, 0, 0);
	struct neigh_list l = { .family = family, .ifindex = ifindex, .out = out, .max = max };
	int r;

	/* a dump filtered by device where the kernel supports it; neigh_cb filters anyway */
	mnl_attr_put_u32(nlh, NDA_IFINDEX, (uint32_t)ifindex);
	r = pn_nl_talk(nl, nlh, neigh_cb, &l, e);
	*n = l.n;
	return r;
}

int pn_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char sep = s[2], end;

	if (strlen(s) != 17 || (sep != ':' && sep != '-'))
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (i < 5 && s[3 * i + 2] != sep)
			return -EINVAL;
		if (sscanf(s + 3 * i, "%2x%c", &v[i], &end) < 1 ||
		    !strchr("0123456789abcdefABCDEF", s[3 * i]) || !strchr("0123456789abcdefABCDEF", s[3 * i + 1]))
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

const char *pn_mac_format(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}
