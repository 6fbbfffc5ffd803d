/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Removing what the reference bridge set up for an attachment, so that a node can
 * switch to podnet while pods run: DEL of a pod the reference added leaves none of
 * its masquerade rules (research/cni.md §2.7):
 *   - iptables (iptables-nft): chain CNI-<sha512(net+id)[:24]> in table nat and the
 *     POSTROUTING rules that jump to it, IPv4 and IPv6;
 *   - its nftables backend: rules of inet cni_plugins_masquerade masq_checks whose
 *     comment starts with <sha512(net)[:16]>-<sha512(ifname:id)[:16]>.
 *   - its macspoofchk: bridge nat chains cni-br-iface-<id>-<ifname>(-mac) and the
 *     PREROUTING rule jumping to them (research/cni.md §2.8).
 * Each costs one lookup when the reference never set anything up for the pod.
 */
#ifndef BR_REFCLEAN_H
#define BR_REFCLEAN_H

#include "cni.h"

int br_refclean_masq(const struct cni_req *req, struct pn_err *e);
int br_refclean_spoofchk(const struct cni_req *req, struct pn_err *e);

#endif
