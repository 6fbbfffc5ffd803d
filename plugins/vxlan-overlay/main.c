/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vxlan-overlay: pod traffic between nodes over VXLAN, flannel-compatible on the wire.
 * As a CNI plugin (chained after bridge) it makes sure the node's VXLAN device exists
 * and is right, and passes prevResult through with the device added.  As
 * `vxlan-overlay sync CONF` (a node agent's call, or cron's) it reconciles the peers:
 * adds new ones, removes stale ones, follows a moved underlay address.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"
#include "config.h"
#include "device.h"
#include "firewall.h"
#include "json.h"
#include "nl.h"

static int load(const struct cni_req *req, struct vx_conf *c, json_t **prev, struct pn_err *e)
{
	json_t *p = pn_json_get(req->conf, "prevResult");
	int r;

	*prev = NULL;
	if (p && (r = cni_result_parse(p, req->version, prev, e)) < 0)
		return r;
	return vx_conf_load(c, req->conf, *prev, e);
}

/* Device, and on first creation (or always, for sync) the peers and the firewall. */
static int setup(const struct vx_conf *c, bool full, struct pn_link *dev, struct pn_err *e)
{
	struct vx_node node;
	struct pn_nl nl;
	bool created;
	int r;

	if ((r = pn_nl_open(&nl, e)) < 0)
		return r;
	r = vx_ensure_device(&nl, c, &node, &created, e);
	if (r == 0 && (created || full) && (r = vx_sync_peers(&nl, c, &node, e)) == 0)
		r = vx_firewall_sync(c, e);
	if (r == 0 && dev)
		*dev = node.dev;
	pn_nl_close(&nl);
	return r;
}

static int vx_add(const struct cni_req *req, json_t **result, struct pn_err *e)
{
	struct pn_link dev;
	struct vx_conf c;
	json_t *prev = NULL, *ifaces;
	char mac[18];
	int r;

	*result = NULL;
	if ((r = load(req, &c, &prev, e)) < 0 || (r = setup(&c, false, &dev, e)) < 0)
		goto out;
	if (!prev)
		prev = json_object();
	ifaces = pn_json_get(prev, "interfaces");
	if (!ifaces) {
		ifaces = json_array();
		json_object_set_new(prev, "interfaces", ifaces);
	}
	json_array_append_new(ifaces, json_pack("{s:s, s:s}", "name", dev.name, "mac", pn_mac_format(dev.mac, mac)));
	*result = prev;
	prev = NULL;
out:
	json_decref(prev);
	vx_conf_free(&c);
	return r;
}

/* The device is the node's, shared by every pod: DEL leaves it. */
static int vx_del(const struct cni_req *req, struct pn_err *e)
{
	(void)req;
	(void)e;
	return 0;
}

static int vx_check_verb(const struct cni_req *req, struct pn_err *e)
{
	struct vx_conf c;
	struct pn_nl nl;
	json_t *prev = NULL;
	int r;

	if ((r = load(req, &c, &prev, e)) == 0 && (r = pn_nl_open(&nl, e)) == 0) {
		r = vx_check(&nl, &c, e);
		pn_nl_close(&nl);
	}
	json_decref(prev);
	vx_conf_free(&c);
	return r;
}

/* Ready when the device and the peers are right: what CHECK verifies, as code 50. */
static int vx_status(const struct cni_req *req, struct pn_err *e)
{
	int r = vx_check_verb(req, e);

	if (r < 0 && e->code == CNI_ERR_INTERNAL)   /* a config error keeps its own code */
		e->code = CNI_ERR_NOT_AVAILABLE;
	return r;
}

static int vx_gc(const struct cni_req *req, struct pn_err *e)
{
	(void)req;
	(void)e;
	return 0;   /* nothing per attachment */
}

/* `vxlan-overlay sync FILE`: FILE is the plugin object or a conflist holding one. */
static int sync_main(const char *path)
{
	struct pn_err e = { .code = CNI_ERR_INTERNAL };
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr), *conf = doc, *p;
	struct vx_conf c = { 0 };
	size_t i;
	int r;

	if (!doc) {
		pn_err_set(&e, CNI_ERR_DECODE, -EINVAL, "%s: %s (line %d)", path, jerr.text, jerr.line);
		r = -EINVAL;
		goto out;
	}
	json_array_foreach(pn_json_get(doc, "plugins"), i, p)
		if (json_is_string(pn_json_get(p, "type")) && !strcmp(json_string_value(pn_json_get(p, "type")), "vxlan-overlay"))
			conf = p;
	if ((r = vx_conf_load(&c, conf, NULL, &e)) == 0)
		r = setup(&c, true, NULL, &e);
out:
	if (r < 0)
		cni_error_print(&e);
	json_decref(doc);
	vx_conf_free(&c);
	return r < 0 ? 1 : 0;
}

static const struct cni_plugin vxlan_overlay = {
	.name = "vxlan-overlay",
	.add = vx_add,
	.del = vx_del,
	.check = vx_check_verb,
	.status = vx_status,
	.gc = vx_gc,
};

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "sync"))
		return sync_main(argv[2]);
	if (argc > 1) {
		fprintf(stderr, "usage: vxlan-overlay                 (a CNI plugin: CNI_* env, config on stdin)\n"
				"       vxlan-overlay sync CONF       (reconcile the node's VXLAN peers from CONF)\n");
		return 2;
	}
	return cni_main(&vxlan_overlay);
}
