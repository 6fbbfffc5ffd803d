/* SPDX-License-Identifier: Apache-2.0 */
/* What every verb of the bridge plugin opens: netlink in the node and in the pod. */
#ifndef BRIDGE_CTX_H
#define BRIDGE_CTX_H

#include "cni.h"
#include "nl.h"

/* Sockets in the node and in the pod, and the node's netns for the veth peer. */
struct ctx {
	struct pn_nl host, pod;
	int host_ns, pod_ns;
};

/* need_pod: also the pod's netns (CNI_NETNS) and a socket in it; -ENOENT when it is gone. */
int ctx_open(struct ctx *x, const struct cni_req *req, bool need_pod, struct pn_err *e);
/* Opens the pod netns and a netlink socket inside it; -ENOENT when the netns is gone. */
int ctx_open_pod(struct ctx *x, const char *netns, struct pn_err *e);
void ctx_close(struct ctx *x);

#endif
