/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "netns.h"

void ctx_close(struct ctx *x)
{
	pn_nl_close(&x->host);
	pn_nl_close(&x->pod);
	if (x->host_ns >= 0)
		close(x->host_ns);
	if (x->pod_ns >= 0)
		close(x->pod_ns);
}

int ctx_open_pod(struct ctx *x, const char *netns, struct pn_err *e)
{
	int saved, r;

	if ((r = pn_netns_open(netns, &x->pod_ns, e)) < 0)
		return r;
	if ((r = pn_netns_enter(x->pod_ns, &saved, e)) < 0)
		return r;
	r = pn_nl_open(&x->pod, e);
	pn_netns_leave(&saved);
	return r;
}

int ctx_open(struct ctx *x, const struct cni_req *req, bool need_pod, struct pn_err *e)
{
	int r;

	memset(x, 0, sizeof(*x));
	x->host_ns = x->pod_ns = -1;
	if ((r = pn_nl_open(&x->host, e)) < 0)
		return r;
	x->host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (x->host_ns < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "open /proc/self/ns/net: %s", strerror(errno));
	if (!need_pod)
		return 0;
	if ((r = ctx_open_pod(x, req->netns, e)) < 0)
		return r;
	if (pn_netns_same(x->host_ns, x->pod_ns) == 1)
		return pn_err_set(e, CNI_ERR_INVALID_NETNS, -EINVAL, "plugin's netns and netns from CNI_NETNS should not be the same");
	return 0;
}
