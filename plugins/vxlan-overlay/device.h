/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's VXLAN device and, per peer node, what flannel programs: a permanent
 * neighbour (peer VTEP address -> peer VTEP MAC), an FDB entry (peer VTEP MAC -> peer
 * underlay address) and an onlink route to the peer's pod CIDR, so podnet and flannel
 * nodes with the same VNI and port exchange traffic.  Routes carry our protocol number;
 * a sync sweeps our routes, permanent neighbours and FDB entries that are no longer wanted.
 */
#ifndef VX_DEVICE_H
#define VX_DEVICE_H

#include "config.h"
#include "nl.h"

#define VX_RTPROT 152   /* our routes' protocol (ip route shows "proto 152") */

struct vx_node {
	int underlay;            /* underlay device index */
	struct pn_ip local;      /* underlay address */
	unsigned underlay_mtu;
	struct pn_link dev;      /* the VXLAN device */
};

/* Finds the underlay and makes the device right (created, or replaced if its settings differ). */
int vx_ensure_device(struct pn_nl *nl, const struct vx_conf *c, struct vx_node *node, bool *created, struct pn_err *e);
/* Programs every peer and removes what no peer wants any more. */
int vx_sync_peers(struct pn_nl *nl, const struct vx_conf *c, const struct vx_node *node, struct pn_err *e);
/* Verifies the device and every peer's entries (CHECK). */
int vx_check(struct pn_nl *nl, const struct vx_conf *c, struct pn_err *e);

#endif
