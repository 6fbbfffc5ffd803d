/* SPDX-License-Identifier: Apache-2.0 */
/* Addresses and routes over rtnetlink. */
#include <errno.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <linux/neighbour.h>
#include <linux/netconf.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "nl-internal.h"

static struct nlmsghdr *addr_req(char *buf, uint16_t type, uint16_t flags, int index, const struct pn_prefix *p)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	int n = pn_ip_bytes(&p->ip);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = p->ip.family;
	ifa->ifa_prefixlen = p->len;
	ifa->ifa_index = (unsigned)index;
	mnl_attr_put(nlh, IFA_LOCAL, (size_t)n, p->ip.a);
	mnl_attr_put(nlh, IFA_ADDRESS, (size_t)n, p->ip.a);
	return nlh;
}

int pn_addr_add(struct pn_nl *nl, int index, const struct pn_prefix *p, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = addr_req(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, index, p);

	/* as the reference (vishvananda/netlink) does: the subnet broadcast for IPv4 below /31 */
	if (p->ip.family == AF_INET && p->len < 31) {
		struct pn_ip bcast = pn_prefix_last(p);

		mnl_attr_put(nlh, IFA_BROADCAST, 4, bcast.a);
	}
	return pn_nl_talk(nl, nlh, NULL, NULL, e);
}

int pn_addr_del(struct pn_nl *nl, int index, const struct pn_prefix *p, struct pn_err *e)
{
	char buf[BUF_SIZE];

	return pn_nl_talk(nl, addr_req(buf, RTM_DELADDR, 0, index, p), NULL, NULL, e);
}

struct addr_list {
	int index;
	struct pn_addr *out;
	size_t max, n;
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct addr_list *l = data;
	const struct nlattr *a, *local = NULL, *address = NULL;
	uint32_t flags = ifa->ifa_flags;
	struct pn_addr *o;

	if (nlh->nlmsg_type != RTM_NEWADDR || (l->index && (int)ifa->ifa_index != l->index) || l->n >= l->max)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(a) == IFA_LOCAL)
			local = a;
		else if (mnl_attr_get_type(a) == IFA_ADDRESS)
			address = a;
		else if (mnl_attr_get_type(a) == IFA_FLAGS && mnl_attr_get_payload_len(a) >= 4)
			flags = mnl_attr_get_u32(a);
	}
	a = local ? local : address;
	if (!a || mnl_attr_get_payload_len(a) != (ifa->ifa_family == AF_INET ? 4 : 16))
		return MNL_CB_OK;
	o = &l->out[l->n++];
	memset(o, 0, sizeof(*o));
	o->p.ip.family = ifa->ifa_family;
	memcpy(o->p.ip.a, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
	o->p.len = ifa->ifa_prefixlen;
	o->flags = flags;
	o->scope = ifa->ifa_scope;
	o->index = (int)ifa->ifa_index;
	return MNL_CB_OK;
}

int pn_addr_list(struct pn_nl *nl, int index, int family, struct pn_addr *out, size_t max, size_t *n,
		 struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct addr_list l = { .index = index, .out = out, .max = max };
	struct ifaddrmsg *ifa;
	int r;

	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_index = (unsigned)(index > 0 ? index : 0);
	r = pn_nl_talk(nl, nlh, addr_cb, &l, e);
	*n = l.n;
	return r;
}

static int route_msg(struct pn_nl *nl, uint16_t type, uint16_t flags, const struct pn_route *rt, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	int n = pn_ip_bytes(&rt->dst.ip);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = rt->dst.ip.family;
	rtm->rtm_dst_len = rt->dst.len;
	rtm->rtm_table = rt->table && rt->table < 256 ? (uint8_t)rt->table : RT_TABLE_MAIN;
	rtm->rtm_protocol = rt->protocol ? rt->protocol : RTPROT_BOOT;
	rtm->rtm_scope = rt->scope ? rt->scope : (rt->gw.family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	rtm->rtm_type = RTN_UNICAST;
	if (rt->onlink)
		rtm->rtm_flags |= RTNH_F_ONLINK;
	if (rt->dst.len)
		mnl_attr_put(nlh, RTA_DST, (size_t)n, rt->dst.ip.a);
	if (rt->gw.family)
		mnl_attr_put(nlh, RTA_GATEWAY, (size_t)pn_ip_bytes(&rt->gw), rt->gw.a);
	if (rt->oif)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)rt->oif);
	if (rt->table >= 256)
		mnl_attr_put_u32(nlh, RTA_TABLE, rt->table);
	if (rt->priority)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, rt->priority);
	return pn_nl_talk(nl, nlh, NULL, NULL, e);
}

int pn_route_add(struct pn_nl *nl, const struct pn_route *rt, struct pn_err *e)
{
	return route_msg(nl, RTM_NEWROUTE, NLM_F_CREATE, rt, e);
}

int pn_route_replace(struct pn_nl *nl, const struct pn_route *rt, struct pn_err *e)
{
	return route_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, rt, e);
}

int pn_route_del(struct pn_nl *nl, const struct pn_route *rt, struct pn_err *e)
{
	return route_msg(nl, RTM_DELROUTE, 0, rt, e);
}

struct route_list {
	struct pn_route *out;
	size_t max, n;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct route_list *l = data;
	const struct nlattr *a;
	struct pn_route r = { 0 };

	if (nlh->nlmsg_type != RTM_NEWROUTE || l->n >= l->max)
		return MNL_CB_OK;
	r.dst.ip.family = rtm->rtm_family;
	r.dst.len = rtm->rtm_dst_len;
	r.table = rtm->rtm_table;
	r.scope = rtm->rtm_scope;
	r.protocol = rtm->rtm_protocol;
	r.onlink = rtm->rtm_flags & RTNH_F_ONLINK;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		size_t len = mnl_attr_get_payload_len(a), want = rtm->rtm_family == AF_INET ? 4 : 16;

		switch (mnl_attr_get_type(a)) {
		case RTA_DST:
			if (len == want)
				memcpy(r.dst.ip.a, mnl_attr_get_payload(a), len);
			break;
		case RTA_GATEWAY:
			if (len == want) {
				r.gw.family = rtm->rtm_family;
				memcpy(r.gw.a, mnl_attr_get_payload(a), len);
			}
			break;
		case RTA_OIF:
			if (len >= 4)
				r.oif = (int)mnl_attr_get_u32(a);
			break;
		case RTA_TABLE:
			if (len >= 4)
				r.table = mnl_attr_get_u32(a);
			break;
		case RTA_PRIORITY:
			if (len >= 4)
				r.priority = mnl_attr_get_u32(a);
			break;
		}
	}
	if (r.table == RT_TABLE_MAIN)
		l->out[l->n++] = r;
	return MNL_CB_OK;
}

int pn_route_list(struct pn_nl *nl, int family, struct pn_route *out, size_t max, size_t *n, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct route_list l = { .out = out, .max = max };
	struct rtmsg *rtm;
	int r;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	r = pn_nl_talk(nl, nlh, route_cb, &l, e);
	*n = l.n;
	return r;
}

static int netconf_attr(const struct nlattr *a, void *data)
{
	int *on = data;

	if (mnl_attr_get_type(a) == NETCONFA_FORWARDING && mnl_attr_get_payload_len(a) >= 4)
		*on = (int32_t)mnl_attr_get_u32(a) != 0;
	return MNL_CB_OK;
}

static int netconf_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWNETCONF)
		mnl_attr_parse(nlh, sizeof(struct netconfmsg), netconf_attr, data);
	return MNL_CB_OK;
}

int pn_netconf_forwarding(struct pn_nl *nl, int family, bool *on, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct netconfmsg *ncm;
	int val = -1, r;

	nlh->nlmsg_type = RTM_GETNETCONF;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ncm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ncm));
	ncm->ncm_family = (uint8_t)family;
	mnl_attr_put_u32(nlh, NETCONFA_IFINDEX, (uint32_t)NETCONFA_IFINDEX_ALL);
	if ((r = pn_nl_talk(nl, nlh, netconf_cb, &val, e)) < 0)
		return r;
	if (val < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENODATA, "no forwarding setting in the kernel's netconf answer");
	*on = val;
	return 0;
}
