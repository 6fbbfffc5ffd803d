/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <linux/neighbour.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nl-internal.h"

/* A NETLINK_ROUTE socket bound to groups (0: requests only); requests get the options. */
static int nl_socket(struct pn_nl *nl, int flags, unsigned groups, struct pn_err *e)
{
	int one = 1;

	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | flags);
	if (!nl->sock)
		return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "netlink socket: %s", strerror(errno));
	if (!groups) {
		/* older kernels ignore these: the kernel's own error text, and short error replies */
		mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
		mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
		/* dumps filtered by the kernel (an address dump of one link, not of all 250 ports) */
		mnl_socket_setsockopt(nl->sock, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	}
	if (mnl_socket_bind(nl->sock, groups, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return pn_err_set(e, CNI_ERR_INTERNAL, -err, "netlink bind: %s", strerror(err));
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

int pn_nl_open(struct pn_nl *nl, struct pn_err *e)
{
	return nl_socket(nl, 0, 0, e);
}

int pn_nl_open_monitor(struct pn_nl *nl, unsigned groups, struct pn_err *e)
{
	return nl_socket(nl, SOCK_NONBLOCK, groups, e);
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

struct nlmsghdr *pn_nl_link_req(char *buf, uint16_t type, uint16_t flags, int family, int index)
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

/* IFLA_AF_SPEC: the IPv6 devconf array, indexed by DEVCONF_* */
static void link_af_spec(const struct nlattr *spec, struct pn_link *l)
{
	const struct nlattr *af, *a;

	mnl_attr_for_each_nested(af, spec) {
		if (mnl_attr_get_type(af) != AF_INET6)
			continue;
		mnl_attr_for_each_nested(a, af) {
			const int32_t *conf = mnl_attr_get_payload(a);

			if (mnl_attr_get_type(a) == IFLA_INET6_CONF &&
			    mnl_attr_get_payload_len(a) >= (DEVCONF_ACCEPT_RA + 1) * sizeof(int32_t))
				l->accept_ra = conf[DEVCONF_ACCEPT_RA];
		}
	}
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
	case IFLA_AF_SPEC:
		link_af_spec(a, l);
		break;
	}
	return MNL_CB_OK;
}

int pn_nl_link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct pn_link *l = data;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	memset(l, 0, sizeof(*l));
	l->index = ifm->ifi_index;
	l->flags = ifm->ifi_flags;
	l->accept_ra = -1;
	mnl_attr_parse(nlh, sizeof(*ifm), link_attr, l);
	return MNL_CB_OK;
}

int pn_link_get(struct pn_nl *nl, const char *name, int index, struct pn_link *out, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = pn_nl_link_req(buf, RTM_GETLINK, 0, AF_UNSPEC, index);
	struct pn_err tmp;
	int r;

	if (!index)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	memset(out, 0, sizeof(*out));
	r = pn_nl_talk(nl, nlh, pn_nl_link_cb, out, &tmp);
	if (r == -ENODEV)
		return -ENODEV;
	if (r < 0)
		*e = tmp;
	return r;
}

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int pn_link_wait_operstate(struct pn_nl *nl, struct pn_nl *mon, int index, uint8_t state, int timeout_ms,
			   uint8_t *last, struct pn_err *e)
{
	double deadline = mono_ms() + timeout_ms;
	bool ask = true;
	int r;

	for (;;) {
		char buf[BUF_SIZE];
		struct pollfd pfd = { .fd = mnl_socket_get_fd(mon->sock), .events = POLLIN };
		double left;
		ssize_t n;

		if (ask) {
			struct pn_link l;

			/* first, and after a lost event: the state as it is now */
			if ((r = pn_link_get(nl, NULL, index, &l, e)) < 0)
				return r;
			*last = l.operstate;
			if (l.operstate == state)
				return 0;
			ask = false;
		}
		while ((n = mnl_socket_recvfrom(mon->sock, buf, sizeof(buf))) > 0) {
			int len = (int)n;

			for (const struct nlmsghdr *h = (const void *)buf; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
				struct pn_link l;

				if (h->nlmsg_type != RTM_NEWLINK)
					continue;
				pn_nl_link_cb(h, &l);
				if (l.index != index)
					continue;
				*last = l.operstate;
				if (l.operstate == state)
					return 0;
			}
		}
		/* the socket overflowed, or a message (a port with many VLANs) did not fit: an
		 * event may be lost, so the state is asked again */
		if (n < 0 && (errno == ENOBUFS || errno == ENOSPC))
			ask = true;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "netlink receive: %s", strerror(errno));
		left = deadline - mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (!ask && poll(&pfd, 1, (int)left + 1) < 0 && errno != EINTR)
			return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "poll: %s", strerror(errno));
	}
}

struct nlmsghdr *pn_nl_msg_add_bridge(char *buf, const char *name, unsigned mtu, bool vlan_filtering)
{
	struct nlmsghdr *nlh = pn_nl_link_req(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0);
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
	struct nlmsghdr *nlh = pn_nl_link_req(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0);
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

	return pn_nl_talk(nl, pn_nl_link_req(buf, RTM_DELLINK, 0, AF_UNSPEC, index), NULL, NULL, e);
}

int pn_link_set(struct pn_nl *nl, int index, const struct pn_link_change *c, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = pn_nl_link_req(buf, RTM_NEWLINK, 0, AF_UNSPEC, index);
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
	if (c->addr_gen_mode >= 0) {
		struct nlattr *spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
		struct nlattr *inet6 = mnl_attr_nest_start(nlh, AF_INET6);

		mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, (uint8_t)c->addr_gen_mode);
		mnl_attr_nest_end(nlh, inet6);
		mnl_attr_nest_end(nlh, spec);
	}
	return pn_nl_talk(nl, nlh, NULL, NULL, e);
}

int pn_link_set_ipv4_conf(struct pn_nl *nl, int index, int id, uint32_t value, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = pn_nl_link_req(buf, RTM_NEWLINK, 0, AF_UNSPEC, index);
	struct nlattr *spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	struct nlattr *inet = mnl_attr_nest_start(nlh, AF_INET);
	struct nlattr *conf = mnl_attr_nest_start(nlh, IFLA_INET_CONF);

	mnl_attr_put_u32(nlh, (uint16_t)id, value);
	mnl_attr_nest_end(nlh, conf);
	mnl_attr_nest_end(nlh, inet);
	mnl_attr_nest_end(nlh, spec);
	return pn_nl_talk(nl, nlh, NULL, NULL, e);
}

int pn_brport_set(struct pn_nl *nl, int index, bool hairpin, bool isolated, struct pn_err *e)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh = pn_nl_link_req(buf, RTM_SETLINK, 0, AF_BRIDGE, index);
	struct nlattr *nest = mnl_attr_nest_start(nlh, IFLA_PROTINFO | NLA_F_NESTED);

	mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, hairpin);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_ISOLATED, isolated);
	mnl_attr_nest_end(nlh, nest);
	return pn_nl_talk(nl, nlh, NULL, NULL, e);
}

struct nlmsghdr *pn_nl_msg_bridge_vlan(char *buf, int index, uint16_t vid, uint16_t flags, bool add)
{
	struct nlmsghdr *nlh = pn_nl_link_req(buf, add ? RTM_SETLINK : RTM_DELLINK, 0, AF_BRIDGE, index);
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
