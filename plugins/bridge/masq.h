/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ipMasq through nftables, in a table of ours, where one pod costs one map element:
 *
 *   table inet podnet_masq
 *     map pods4 / pods6        pod address : jump masq-<network>-<subnet>   (comment: owner)
 *     chain postrouting        nat hook: ip saddr vmap @pods4; ip6 saddr vmap @pods6
 *     chain masq-<net>-<sub>   ip daddr != <subnet> ip daddr != 224.0.0.0/4 masquerade
 *
 * Adding or removing a pod adds or removes its elements: the same cost with 1 or 1,000
 * pods, and no rule is ever scanned.  The owner comment lets DEL find a pod's elements
 * when neither prevResult nor the pod's interface can name its addresses.
 */
#ifndef BR_MASQ_H
#define BR_MASQ_H

#include <jansson.h>

#include "cni.h"
#include "ip.h"

#define BR_MASQ_TABLE "podnet_masq"

/* Masquerades traffic from each address of ips (a canonical result's "ips"). */
int br_masq_add(const struct cni_req *req, const json_t *ips, struct pn_err *e);
/* Removes the pod's elements: those of addrs, or, with n == 0, those whose comment names it. */
int br_masq_del(const struct cni_req *req, const struct pn_prefix *addrs, size_t n, struct pn_err *e);
/* Removes elements of this network whose owner is not in valid (cni.dev/valid-attachments). */
int br_masq_gc(const struct cni_req *req, const json_t *valid, struct pn_err *e);

#endif
