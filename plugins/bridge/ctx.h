/* SPDX-License-Identifier: Apache-2.0 */
/* What every verb of the bridge plugin opens: netlink in the node and in the pod. */
#ifndef BRIDGE_CTX_H
#define BRIDGE_CTX_H

#include <pthread.h>
#include <stdbool.h>

#include "cni.h"
#include "nl.h"

/* Sockets in the node and in the pod, and the node's netns for the veth peer. */
struct ctx {
	struct pn_nl host, pod;
	int host_ns, pod_ns;
	/* /proc/sys/net/ipv6/conf of the node and of the pod, once opened (sysctl.h) */
	int host_v6conf, pod_v6conf;
	pthread_t opener;       /* opens both while the plugin does other work */
	bool opening;
};

/* need_pod: also the pod's netns (CNI_NETNS) and a socket in it; -ENOENT when it is gone. */
int ctx_open(struct ctx *x, const struct cni_req *req, bool need_pod, struct pn_err *e);
/* Opens the pod netns and a netlink socket inside it; -ENOENT when the netns is gone. */
int ctx_open_pod(struct ctx *x, const char *netns, struct pn_err *e);
void ctx_close(struct ctx *x);
/*
 * Starts opening the node's and the pod's /proc/sys/net/ipv6/conf on a thread (each open is
 * a walk that costs more with every netns on the machine); the two functions below wait
 * for it.  Without it they open what they need themselves.
 */
void ctx_open_v6conf_async(struct ctx *x);
/* Writes net.ipv6.conf.<dev>.<key> in the node (to be called there); 0 or -errno. */
int ctx_host_v6conf_write(struct ctx *x, const char *dev, const char *key, const char *value);
/* The pod's /proc/sys/net/ipv6/conf (an fd ctx_close closes, to be used in the pod), or -errno. */
int ctx_pod_v6conf(struct ctx *x);

#endif
