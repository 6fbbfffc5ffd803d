/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The overlay's nftables table, inet podnet_vxlan:
 *   set peers4/peers6                 underlay addresses of known peer nodes
 *   chain input                       udp dport <port> ip saddr != @peers4 drop (and IPv6)
 *   chains raw-prerouting/raw-output  udp dport <port> notrack: the outer VXLAN packets are
 *                                     never tracked, so never NATed (no masquerade can touch them)
 *   chain postrouting                 ip saddr <cluster> ip daddr != <cluster> masquerade
 * The whole table is replaced in one transaction, so a sync never opens a gap.
 */
#ifndef VX_FIREWALL_H
#define VX_FIREWALL_H

#include "config.h"

int vx_firewall_sync(const struct vx_conf *c, struct pn_err *e);

#endif
