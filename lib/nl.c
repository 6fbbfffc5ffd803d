/* SPDX-License-Identifier: Apache-2.0 */
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

#include "nl.h"

#define BUF_SIZE 8192

int pn_nl_open(struct pn_nl *nl, struct pn_err *e)
{
	int one = 1;

	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "netlink socket: %s", strerror(errno));
	/* older kernels ignore these: the kernel's own error text, and short error replies */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	/* dumps filtered by the kernel (an address dump of one link, not of all 250 ports) */
	mnl_socket_setsockopt(nl->sock, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return pn_err_set(e, CNI_ERR_INTERNAL, -err, "netlink bind: %s", strerror(err));
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

void pn_nl_close(struct pn_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

struct talk {
	mnl_cb_t cb;
	void *data;
	char ext[256];
};

struct ext_msg {
	char *buf;
	size_t len;
};

static int ext_attr(const struct nlattr *attr, void *data)
{
	struct ext_msg *m = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(m->buf, m->len, "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

void pn_nl_ext_ack(const struct nlmsghdr *nlh, char *buf, size_t len)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	struct ext_msg m = { buf, len };
	unsigned off = sizeof(*err);

	buf[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* the TLVs follow the request echoed back, unless the kernel capped it */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	mnl_attr_parse(nlh, off, ext_attr, &m);
}

static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	struct talk *t = data;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err)))
		return MNL_CB_ERROR;
	if (err->error == 0)
		return MNL_CB_STOP;
	pn_nl_ext_ack(nlh, t->ext, sizeof(t->ext));
	errno = -err->error;
	return MNL_CB_ERROR;
}

static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_STOP;
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;

	return t->cb ? t->cb(nlh, t->data) : MNL_CB_OK;
}

int pn_nl_talk(struct pn_nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data, struct pn_err *e)
{
	/* a dump ends with NLMSG_DONE, anything else with its ACK */
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = error_cb, [NLMSG_DONE] = done_cb };
	char buf[BUF_SIZE];
	struct talk t = { .cb = cb, .data = data };
	ssize_t n;
	int r = MNL_CB_OK;

	req->nlmsg_flags |= NLM_F_ACK;
	req->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "netlink send: %s", strerror(errno));
	while (r > MNL_CB_STOP) {
		n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "netlink receive: %s", strerror(errno));
		}
		r = mnl_cb_run2(buf, (size_t)n, req->nlmsg_seq, nl->portid, data_cb, &t, ctl, NLMSG_MIN_TYPE);
	}
	if (r == MNL_CB_ERROR) {
		int err = errno ? errno : EIO;

		if (t.ext[0])
			return pn_err_set(e, CNI_ERR_INTERNAL, -err, "%s (%s)", strerror(err), t.ext);
		return pn_err_set(e, CNI_ERR_INTERNAL, -err, "%s", strerror(err));
	}
	return 0;
}

static struct nlmsghdr *link_req(char *buf, uint16_t type, uint16_t flags, int family, int index)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = (uint8_t)family;
	ifm->ifi_index = index;
	return nlh;
}

static int linkinfo_attr(const struct nlattr *a, void *data)
{
	struct pn_link *l = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
		snprintf(l->kind, sizeof(l->kind), "%.*s", (int)mnl_attr_get_payload_len(a),
			 (const char *)mnl_attr_get_payload(a));
	if (mnl_attr_get_type(a) == IFLA_INFO_DATA && !strcmp(l->kind, "bridge")) {
		const struct nlattr *b;

		mnl_attr_for_each_nested(b, a)
			if (mnl_attr_get_type(b) == IFLA_BR_VLAN_FILTERING && mnl_attr_get_payload_len(b) >= 1)
				l->vlan_filtering = mnl_attr_get_u8(b);
	}
	return MNL_CB_OK;
}

static int link_attr(const struct nlattr *a, void *data)
{
	struct pn_link *l = data;
	uint16_t len = mnl_attr_get_payload_len(a);

	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(a));
		break;
	case IFLA_ADDRESS:
		if (len == 6)
			memcpy(l->mac, mnl_attr_get_payload(a), 6);
		break;
	case IFLA_MTU:
		if (len >= 4)
			l->mtu = mnl_attr_get_u32(a);
		break;
	case IFLA_MASTER:
		if (len >= 4)
			l->master = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_LINK:
		if (len >= 4)
			l->peer = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_OPERSTATE:
		if (len >= 1)
			l->operstate = mnl_attr_get_u8(a);
		break;
	case IFLA_LINKINFO:
		mnl_attr_parse_nested(a, linkinfo_attr, l);
		break;
	}
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct pn_link *l = data;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	memset(l, 0, sizeof(*l));
	l->index = ifm->ifi_index;
	l->flags = ifm->ifi_flags;
	mnl_attr_parse(nlh, sizeof(*ifm), link_attr, l);
	return MNL_CB_OK;
}

int pn_link_get(struct pn_nl *nl, const char *name, int index, struct pn_link *out, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = link_req(buf, RTM_GETLINK, 0, AF_UNSPEC, index);
	struct pn_err tmp;
	int r;

	if (!index)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	memset(out, 0, sizeof(*out));
	r = pn_nl_talk(nl, nlh, link_cb, out, &tmp);
	if (r == -ENODEV)
		return -ENODEV;
	if (r < 0)
		*e = tmp;
	return r;
}

struct nlmsghdr *pn_nl_msg_add_bridge(char *buf, const char *name, unsigned mtu, bool vlan_filtering)
{
	struct nlmsghdr *nlh = link_req(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0);
	struct nlattr *info, *data;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	if (vlan_filtering) {
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put_u8(nlh, IFLA_BR_VLAN_FILTERING, 1);
		mnl_attr_nest_end(nlh, data);
	}
	mnl_attr_nest_end(nlh, info);
	return nlh;
}

int pn_link_add_bridge(struct pn_nl *nl, const char *name, unsigned mtu, bool vlan_filtering, struct pn_err *e)
{
	char buf[BUF_SIZE];

	return pn_nl_talk(nl, pn_nl_msg_add_bridge(buf, name, mtu, vlan_filtering), NULL, NULL, e);
}

int pn_link_add_veth(struct pn_nl *nl, const char *name, unsigned mtu, const uint8_t *mac,
		     const char *peer, unsigned peer_mtu, int peer_ns_fd, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = link_req(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0);
	struct nlattr *info, *data, *peer_nest;
	struct ifinfomsg *pifm;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer_nest = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* the peer's attributes follow its own ifinfomsg */
	pifm = (struct ifinfomsg *)((char *)nlh + nlh->nlmsg_len);
	memset(pifm, 0, sizeof(*pifm));
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*pifm));
	(void)pifm;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	if (peer_mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, peer_mtu);
	if (peer_ns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_ns_fd);
	mnl_attr_nest_end(nlh, peer_nest);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return pn_nl_talk(nl, nlh, NULL, NULL, e);
}

int pn_link_del(struct pn_nl *nl, int index, struct pn_err *e)
{
	char buf[BUF_SIZE];

	return pn_nl_talk(nl, link_req(buf, RTM_DELLINK, 0, AF_UNSPEC, index), NULL, NULL, e);
}

int pn_link_set(struct pn_nl *nl, int index, const struct pn_link_change *c, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = link_req(buf, RTM_NEWLINK, 0, AF_UNSPEC, index);
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	if (c->up >= 0) {
		ifm->ifi_change |= IFF_UP;
		ifm->ifi_flags |= c->up ? IFF_UP : 0;
	}
	if (c->promisc >= 0) {
		ifm->ifi_change |= IFF_PROMISC;
		ifm->ifi_flags |= c->promisc ? IFF_PROMISC : 0;
	}
	if (c->master >= 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)c->master);
	if (c->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, c->mtu);
	if (c->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, c->mac);
	return pn_nl_talk(nl, nlh, NULL, NULL, e);
}

int pn_brport_set(struct pn_nl *nl, int index, bool hairpin, bool isolated, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = link_req(buf, RTM_SETLINK, 0, AF_BRIDGE, index);
	struct nlattr *nest = mnl_attr_nest_start(nlh, IFLA_PROTINFO | NLA_F_NESTED);

	mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, hairpin);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_ISOLATED, isolated);
	mnl_attr_nest_end(nlh, nest);
	return pn_nl_talk(nl, nlh, NULL, NULL, e);
}

struct nlmsghdr *pn_nl_msg_bridge_vlan(char *buf, int index, uint16_t vid, uint16_t flags, bool add)
{
	struct nlmsghdr *nlh = link_req(buf, add ? RTM_SETLINK : RTM_DELLINK, 0, AF_BRIDGE, index);
	struct bridge_vlan_info info = { .flags = flags, .vid = vid };
	struct nlattr *nest = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);

	mnl_attr_put_u16(nlh, IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_MASTER);
	mnl_attr_put(nlh, IFLA_BRIDGE_VLAN_INFO, sizeof(info), &info);
	mnl_attr_nest_end(nlh, nest);
	return nlh;
}

int pn_bridge_vlan(struct pn_nl *nl, int index, uint16_t vid, uint16_t flags, bool add, struct pn_err *e)
{
	char buf[BUF_SIZE];

	return pn_nl_talk(nl, pn_nl_msg_bridge_vlan(buf, index, vid, flags, add), NULL, NULL, e);
}

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

int pn_link_add_vxlan(struct pn_nl *nl, const char *name, const struct pn_vxlan *v, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = link_req(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0);
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

	link_cb(nlh, g->l);
	mnl_attr_for_each(a, nlh, sizeof(struct ifinfomsg))
		if (mnl_attr_get_type(a) == IFLA_LINKINFO)
			mnl_attr_parse_nested(a, vxlan_info_attr, g->v);
	return MNL_CB_OK;
}

int pn_vxlan_get(struct pn_nl *nl, const char *name, struct pn_link *l, struct pn_vxlan *v, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = link_req(buf, RTM_GETLINK, 0, AF_UNSPEC, 0);
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
