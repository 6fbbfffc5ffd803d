/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtnetlink through libmnl: links, bridge ports and VLANs, addresses, routes.
 * One socket per network namespace: a socket stays bound to the netns it was opened
 * in, so a plugin opens one in the node and one in the pod and never switches back
 * and forth.  Kernel error messages (extended ACK) end up in the pn_err.
 */
#ifndef PODNET_NL_H
#define PODNET_NL_H

#include <libmnl/libmnl.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "ip.h"

struct pn_nl {
	struct mnl_socket *sock;
	uint32_t seq, portid;
};

int pn_nl_open(struct pn_nl *nl, struct pn_err *e);
/* A socket that only listens: bound to the RTMGRP_* groups, non-blocking. */
int pn_nl_open_monitor(struct pn_nl *nl, unsigned groups, struct pn_err *e);
void pn_nl_close(struct pn_nl *nl);
/* Sends req with NLM_F_ACK and runs cb (may be NULL) on every reply; 0 or -errno. */
int pn_nl_talk(struct pn_nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data, struct pn_err *e);

/* The kernel's error text (extended ACK) of an NLMSG_ERROR message, or "". */
void pn_nl_ext_ack(const struct nlmsghdr *nlh, char *buf, size_t len);

struct pn_link {
	int index;
	char name[IFNAMSIZ];
	char kind[16];          /* "bridge", "veth", ... ("" when none) */
	uint8_t mac[6];
	unsigned flags;         /* IFF_* */
	unsigned mtu;
	int master;             /* 0 when none */
	int peer;               /* IFLA_LINK: a veth's peer index (in its own netns) */
	uint8_t operstate;      /* IF_OPER_* */
	bool vlan_filtering;    /* bridges */
	int accept_ra;          /* net.ipv6.conf.<name>.accept_ra; -1 when the link has no IPv6 */
};

/* By name (index 0) or by index; -ENODEV when there is no such link. */
int pn_link_get(struct pn_nl *nl, const char *name, int index, struct pn_link *out, struct pn_err *e);
/*
 * Waits until link index reaches operstate (IF_OPER_*): asks nl once, then follows the link's
 * RTM_NEWLINK events on mon (a monitor of RTMGRP_LINK opened before the change that leads
 * there, so that no event is missed).  -ETIMEDOUT after timeout_ms; *last: the last state seen.
 */
int pn_link_wait_operstate(struct pn_nl *nl, struct pn_nl *mon, int index, uint8_t state, int timeout_ms,
			   uint8_t *last, struct pn_err *e);
int pn_link_add_bridge(struct pn_nl *nl, const char *name, unsigned mtu, bool vlan_filtering, struct pn_err *e);
/* A veth pair: `name` here, `peer` born in the netns peer_ns_fd; mac may be NULL. */
int pn_link_add_veth(struct pn_nl *nl, const char *name, unsigned mtu, const uint8_t *mac,
		     const char *peer, unsigned peer_mtu, int peer_ns_fd, struct pn_err *e);
int pn_link_del(struct pn_nl *nl, int index, struct pn_err *e);

struct pn_link_change {
	int up;                 /* -1 leave, 0 down, 1 up */
	int promisc;            /* -1 leave, 0 off, 1 on */
	int master;             /* -1 leave, else the master's index */
	unsigned mtu;           /* 0 leave */
	const uint8_t *mac;     /* NULL leave */
	int addr_gen_mode;      /* -1 leave, else IN6_ADDR_GEN_MODE_* (the link must have IPv6) */
};
#define PN_LINK_CHANGE_NONE { .up = -1, .promisc = -1, .master = -1, .addr_gen_mode = -1 }
int pn_link_set(struct pn_nl *nl, int index, const struct pn_link_change *c, struct pn_err *e);

/*
 * One net.ipv4.conf.<dev>.* value (id: IPV4_DEVCONF_*, e.g. IPV4_DEVCONF_ARP_NOTIFY) over
 * netlink: no path walk through /proc/sys (see sysctl.h).
 */
int pn_link_set_ipv4_conf(struct pn_nl *nl, int index, int id, uint32_t value, struct pn_err *e);

/* Bridge port flags of a port: hairpin (IFLA_BRPORT_MODE) and isolation. */
int pn_brport_set(struct pn_nl *nl, int index, bool hairpin, bool isolated, struct pn_err *e);
/* Adds or deletes a VLAN on a bridge port (BRIDGE_VLAN_INFO_* flags). */
int pn_bridge_vlan(struct pn_nl *nl, int index, uint16_t vid, uint16_t flags, bool add, struct pn_err *e);

/* The messages alone, for tests of what the kernel would be asked (buf: PN_NL_BUF bytes). */
#define PN_NL_BUF 8192
struct nlmsghdr *pn_nl_msg_add_bridge(char *buf, const char *name, unsigned mtu, bool vlan_filtering);
struct nlmsghdr *pn_nl_msg_bridge_vlan(char *buf, int index, uint16_t vid, uint16_t flags, bool add);

int pn_addr_add(struct pn_nl *nl, int index, const struct pn_prefix *p, struct pn_err *e);
int pn_addr_del(struct pn_nl *nl, int index, const struct pn_prefix *p, struct pn_err *e);
struct pn_addr {
	struct pn_prefix p;
	int index;              /* the link holding it */
	uint32_t flags;         /* IFA_F_* */
	uint8_t scope;
};
/* Addresses of a link (family AF_UNSPEC: both); at most max. */
int pn_addr_list(struct pn_nl *nl, int index, int family, struct pn_addr *out, size_t max, size_t *n,
		 struct pn_err *e);

struct pn_route {
	struct pn_prefix dst;
	struct pn_ip gw;        /* family 0: none */
	int oif;
	uint32_t table, priority;
	uint8_t scope;
	uint8_t protocol;       /* 0: RTPROT_BOOT; tools tag their routes with their own */
	bool onlink;            /* the gateway is on the link even if no prefix says so */
};
int pn_route_add(struct pn_nl *nl, const struct pn_route *r, struct pn_err *e);
/* Adds or replaces (same destination). */
int pn_route_replace(struct pn_nl *nl, const struct pn_route *r, struct pn_err *e);
int pn_route_del(struct pn_nl *nl, const struct pn_route *r, struct pn_err *e);

/* VXLAN device: learning off, UDP checksum as given, a fixed MAC; local/dev may be unset. */
struct pn_vxlan {
	uint32_t vni;
	uint16_t port;
	struct pn_ip local;     /* family 0: none */
	int dev;                /* underlay device index, 0: none */
	uint8_t mac[6];
	unsigned mtu;
	bool udp_csum;
	/* read back by pn_vxlan_get */
	bool learning;
};
int pn_link_add_vxlan(struct pn_nl *nl, const char *name, const struct pn_vxlan *v, struct pn_err *e);
/* The VXLAN settings of an existing link; -ENODEV when missing, -EMEDIUMTYPE when not VXLAN. */
int pn_vxlan_get(struct pn_nl *nl, const char *name, struct pn_link *l, struct pn_vxlan *v, struct pn_err *e);

/* Neighbours (family AF_INET/AF_INET6: ARP/ND; AF_BRIDGE: the device's FDB). */
struct pn_neigh {
	int family;
	int ifindex;
	struct pn_ip dst;       /* AF_BRIDGE: the remote VTEP */
	uint8_t mac[6];
	uint16_t state;         /* NUD_* */
	uint8_t flags;          /* NTF_* */
};
/* A permanent ARP/ND entry (replaced if present). */
int pn_neigh_set(struct pn_nl *nl, int ifindex, const struct pn_ip *ip, const uint8_t mac[6], struct pn_err *e);
/* A permanent FDB entry mac -> dst on a VXLAN device (appended: several dsts per MAC are allowed). */
int pn_fdb_add(struct pn_nl *nl, int ifindex, const uint8_t mac[6], const struct pn_ip *dst, struct pn_err *e);
int pn_neigh_del(struct pn_nl *nl, const struct pn_neigh *n, struct pn_err *e);
/* Entries of one device; at most max. */
int pn_neigh_list(struct pn_nl *nl, int family, int ifindex, struct pn_neigh *out, size_t max, size_t *n,
		  struct pn_err *e);
/* net.ipv4.ip_forward (AF_INET) or net.ipv6.conf.all.forwarding (AF_INET6), over netlink. */
int pn_netconf_forwarding(struct pn_nl *nl, int family, bool *on, struct pn_err *e);
/* Routes of the main table of one family; at most max. */
int pn_route_list(struct pn_nl *nl, int family, struct pn_route *out, size_t max, size_t *n, struct pn_err *e);

/* MAC text "aa:bb:cc:dd:ee:ff" (also '-' separated, as Go's ParseMAC); 0 or -EINVAL. */
int pn_mac_parse(const char *s, uint8_t mac[6]);
const char *pn_mac_format(const uint8_t mac[6], char buf[18]);

#endif
