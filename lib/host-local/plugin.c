/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host-local's verbs: IP address management on local disk, a drop-in for the reference
 * plugin of the same name (same keys, results, files and allocation order), with GC and
 * STATUS, and lookups that do not read every reservation.  The host-local executable runs
 * them; bridge runs them in-process in place of an exec of that very executable.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "allocator.h"
#include "cni.h"
#include "config.h"
#include "dns.h"
#include "json.h"
#include "plugin.h"

static int check_routes(const json_t *routes, struct pn_err *e)
{
	json_t *rt;
	size_t i;

	json_array_foreach(routes, i, rt) {
		const char *dst = NULL, *gw = NULL;
		struct pn_prefix p;
		struct pn_ip ip;
		int r;

		if ((r = pn_json_want(rt, JSON_OBJECT, "IPAMConfig.routes", e)) < 0 ||
		    (r = pn_json_string(rt, "Route", "dst", &dst, e)) < 0 ||
		    (r = pn_json_string(rt, "Route", "gw", &gw, e)) < 0)
			return r;
		if (!dst || pn_prefix_parse(dst, &p) < 0)
			return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "invalid CIDR address: %s", dst ? dst : "");
		if (gw && pn_ip_parse(gw, &ip) < 0)
			return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "invalid IP address: %s", gw);
	}
	return 0;
}

static json_t *lease_json(const struct hl_lease *l)
{
	char a[PN_PREFIX_STRLEN], g[PN_IP_STRLEN];

	return json_pack("{s:s, s:s}", "address", pn_prefix_format(&l->addr, a), "gateway", pn_ip_format(&l->gw, g));
}

static int hl_add(const struct cni_req *req, json_t **result, struct pn_err *e)
{
	struct hl_lease leases[HL_MAX_RANGE_SETS];
	bool used[HL_MAX_REQUESTED] = { false };
	struct hl_config c;
	struct hl_store s;
	json_t *dns = NULL, *ips;
	size_t done = 0, i;
	int r;

	*result = NULL;
	if ((r = hl_config_load(&c, req->conf, req->name, req->version, req->args, e)) < 0 ||
	    (r = check_routes(c.routes, e)) < 0)
		goto out_conf;
	if (c.resolv_conf && *c.resolv_conf && (r = hl_dns_parse(c.resolv_conf, &dns, e)) < 0)
		goto out_conf;
	if ((r = hl_store_open(&s, c.data_dir, c.name, c.nsets, e)) < 0)
		goto out_store;
	for (done = 0; done < c.nsets; done++) {
		const struct pn_ip *want = NULL;

		/* at most one requested address per range set, the first that fits */
		for (i = 0; i < c.nrequested && !want; i++) {
			if (!used[i] && hl_rangeset_find(&c.sets[done], &c.requested[i])) {
				want = &c.requested[i];
				for (size_t j = i; j < c.nrequested; j++)   /* duplicates are one request */
					used[j] |= pn_ip_eq(&c.requested[j], want);
			}
		}
		r = hl_allocate(&s, &c.sets[done], done, req->container_id, req->ifname, want, &leases[done], e);
		if (r < 0) {
			pn_err_prefix(e, r, "failed to allocate for range %zu", done);
			goto out_release;
		}
	}
	for (i = 0; i < c.nrequested; i++) {
		if (!used[i]) {
			char list[1024], a[PN_IP_STRLEN];
			size_t n = 0;

			for (size_t j = 0; j < c.nrequested; j++)
				if (!used[j])
					n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0, " %s",
							      pn_ip_format(&c.requested[j], a));
			r = pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "failed to allocate all requested IPs:%s", list);
			goto out_release;
		}
	}
	ips = json_array();
	for (i = 0; i < c.nsets; i++)
		json_array_append_new(ips, lease_json(&leases[i]));
	*result = json_pack("{s:o, s:O*, s:O*}", "ips", ips, "routes", c.routes, "dns", dns);
	r = 0;
	goto out_store;
out_release:
	/* only what this ADD reserved: an earlier reservation of the owner stays */
	while (done-- > 0)
		hl_store_release_ip(&s, req->container_id, req->ifname, &leases[done].addr.ip);
out_store:
	hl_store_close(&s);
out_conf:
	json_decref(dns);
	hl_config_free(&c);
	return r;
}

static int hl_del(const struct cni_req *req, struct pn_err *e)
{
	struct pn_err cfg_err = { .code = CNI_ERR_INTERNAL };
	const char *data_dir = HL_DEFAULT_DATA_DIR;
	struct hl_config c;
	struct hl_store s;
	int r, cfg;

	cfg = hl_config_load(&c, req->conf, req->name, req->version, req->args, &cfg_err);
	if (cfg == 0)
		data_dir = c.data_dir;
	else if (pn_json_string(pn_json_get(req->conf, "ipam"), "IPAMConfig", "dataDir", &data_dir, e) < 0 ||
		 !pn_json_get(req->conf, "ipam"))
		goto out;   /* no idea where the store is */
	if (!*data_dir)
		data_dir = HL_DEFAULT_DATA_DIR;
	/* release even when the config no longer validates: a DEL must not leak the address */
	r = hl_store_open(&s, data_dir, req->name, cfg == 0 ? c.nsets : 0, e);
	if (r == 0)
		r = hl_store_release_by_id(&s, req->container_id, req->ifname, e);
	hl_store_close(&s);
	if (r < 0 || cfg == 0) {
		hl_config_free(&c);
		return r;
	}
out:
	hl_config_free(&c);
	*e = cfg_err;
	return cfg;
}

static int hl_check(const struct cni_req *req, struct pn_err *e)
{
	struct pn_ip ips[HL_MAX_OWNED];
	struct hl_config c;
	struct hl_store s;
	size_t n = 0;
	int r;

	if ((r = hl_config_load(&c, req->conf, req->name, req->version, req->args, e)) < 0)
		goto out;
	if ((r = hl_store_open(&s, c.data_dir, c.name, c.nsets, e)) == 0)
		r = hl_store_get_by_id(&s, req->container_id, req->ifname, ips, &n, e);
	hl_store_close(&s);
	if (r == 0 && !n)
		r = pn_err_set(e, CNI_ERR_INTERNAL, -ENOENT, "host-local: Failed to find address added by container %s",
			       req->container_id);
out:
	hl_config_free(&c);
	return r;
}

/* GC: every reservation whose attachment is not in cni.dev/valid-attachments goes. */
struct gc_ctx {
	const json_t *valid;
	struct pn_ip *doomed;
	size_t n, cap;
};

static bool attachment_valid(const json_t *valid, const char *id, const char *ifname)
{
	json_t *a;
	size_t i;

	json_array_foreach(valid, i, a) {
		const char *vid = json_string_value(pn_json_get(a, "containerID"));
		const char *vif = json_string_value(pn_json_get(a, "ifname"));

		/* a legacy file names no ifname: any attachment of its container keeps it */
		if (vid && !strcmp(vid, id) && (!ifname || (vif && !strcmp(vif, ifname))))
			return true;
	}
	return false;
}

static int gc_collect(const struct pn_ip *ip, const char *id, const char *ifname, void *ctx)
{
	struct gc_ctx *g = ctx;

	if (attachment_valid(g->valid, id, ifname))
		return 0;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		struct pn_ip *v = realloc(g->doomed, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		g->doomed = v;
		g->cap = cap;
	}
	g->doomed[g->n++] = *ip;
	return 0;
}

static int hl_gc(const struct cni_req *req, struct pn_err *e)
{
	struct gc_ctx g = { 0 };
	struct hl_config c;
	struct hl_store s;
	json_t *a;
	size_t i;
	int r;

	if ((r = hl_config_load(&c, req->conf, req->name, req->version, req->args, e)) < 0)
		goto out;
	/* libcni sends both spellings of the key (cni#1101) */
	g.valid = pn_json_get(req->conf, "cni.dev/valid-attachments");
	if (!g.valid)
		g.valid = pn_json_get(req->conf, "cni.dev/attachments");
	if (!g.valid) {
		/* releasing everything on a missing key would empty a node by accident */
		r = pn_err_set(e, CNI_ERR_INVALID_CONFIG, -EINVAL, "GC needs cni.dev/valid-attachments");
		goto out;
	}
	if ((r = pn_json_want(g.valid, JSON_ARRAY, "cni.dev/valid-attachments", e)) < 0)
		goto out;
	json_array_foreach(g.valid, i, a)
		if ((r = pn_json_want(a, JSON_OBJECT, "cni.dev/valid-attachments", e)) < 0)
			goto out;
	if ((r = hl_store_open(&s, c.data_dir, c.name, c.nsets, e)) == 0 &&
	    (r = hl_store_foreach(&s, gc_collect, &g, e)) == 0) {
		for (i = 0; i < g.n && r == 0; i++)
			r = hl_store_remove(&s, &g.doomed[i], e);
		/* compact the index while we hold the lock and have paid for the scan */
		if (r == 0 && g.n)
			r = hl_store_reindex(&s, e);
	}
	hl_store_close(&s);
out:
	free(g.doomed);
	hl_config_free(&c);
	return r;
}

/* STATUS: unavailable (code 50) when a range set has no free address left. */
struct status_ctx {
	const struct hl_config *c;
	uint64_t used[HL_MAX_RANGE_SETS];
};

static int status_count(const struct pn_ip *ip, const char *id, const char *ifname, void *ctx)
{
	struct status_ctx *st = ctx;

	(void)id;
	(void)ifname;
	for (size_t i = 0; i < st->c->nsets; i++) {
		const struct hl_range *r = hl_rangeset_find(&st->c->sets[i], ip);

		if (r && !pn_ip_eq(ip, &r->gw))
			st->used[i]++;
	}
	return 0;
}

static int hl_status(const struct cni_req *req, struct pn_err *e)
{
	struct status_ctx st = { 0 };
	struct hl_config c;
	struct hl_store s;
	int r;

	if ((r = hl_config_load(&c, req->conf, req->name, req->version, req->args, e)) < 0)
		goto out;
	st.c = &c;
	if ((r = hl_store_open(&s, c.data_dir, c.name, c.nsets, e)) == 0)
		r = hl_store_foreach(&s, status_count, &st, e);
	hl_store_close(&s);
	for (size_t i = 0; r == 0 && i < c.nsets; i++) {
		uint64_t size = 0;
		char rs[1024];

		for (size_t k = 0; k < c.sets[i].n; k++) {
			const struct hl_range *rg = &c.sets[i].r[k];
			uint64_t span = pn_ip_span(&rg->start, &rg->end);

			if (hl_range_contains(rg, &rg->gw) && span != UINT64_MAX)
				span--;
			size = size + span < size ? UINT64_MAX : size + span;
		}
		if (st.used[i] >= size)
			r = pn_err_set(e, CNI_ERR_NOT_AVAILABLE, -ENOSPC, "no IP addresses available in range set: %s",
				       hl_rangeset_format(&c.sets[i], rs, sizeof(rs)));
	}
out:
	hl_config_free(&c);
	return r;
}

const struct cni_plugin hl_plugin = {
	.name = "host-local",
	.add = hl_add,
	.del = hl_del,
	.check = hl_check,
	.status = hl_status,
	.gc = hl_gc,
};
