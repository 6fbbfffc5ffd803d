/* SPDX-License-Identifier: Apache-2.0 */
/*
 * macspoofchk: frames entering the bridge from a pod's port must carry the pod's MAC.
 *
 *   table bridge podnet_spoofchk
 *     map ports                host veth : jump port-<veth>   (comment: owner)
 *     chain prerouting         filter hook, priority -300: iifname vmap @ports
 *     chain port-<veth>        ether saddr != <pod MAC> drop
 *
 * One element and one small chain per pod: no rule of another pod is ever read.
 */
#ifndef BR_SPOOFCHK_H
#define BR_SPOOFCHK_H

#include <jansson.h>
#include <stdint.h>

#include "cni.h"

int br_spoofchk_add(const struct cni_req *req, const char *hostveth, const uint8_t mac[6], struct pn_err *e);
/* By host veth name, or (NULL) by the owner comment. */
int br_spoofchk_del(const struct cni_req *req, const char *hostveth, struct pn_err *e);
/* Removes ports of this network whose owner is not in valid (cni.dev/valid-attachments). */
int br_spoofchk_gc(const struct cni_req *req, const json_t *valid, struct pn_err *e);

#endif
