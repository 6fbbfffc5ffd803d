/* SPDX-License-Identifier: Apache-2.0 */
/*
 * podnet-proxy's model and nftables elements without a kernel: the hash table, packing,
 * the store (slices follow their Service, changes mark it dirty), and the elements one
 * Service gets in each policy (research/proxy.md §1.5–§1.10 in our map layout).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/netfilter/nf_tables.h>
#include "../../proxy/hmap.h"
#include "../../proxy/nft-internal.h"
#include "../../proxy/pack.h"
#include "../../proxy/store.h"

static void test_hmap(void **state)
{
	struct px_hmap m = { 0 };
	char k[32];

	(void)state;
	for (int i = 0; i < 10000; i++) {
		int n = snprintf(k, sizeof(k), "key-%d", i);

		px_hmap_put(&m, k, (size_t)n)->val = (void *)(intptr_t)(i + 1);
	}
	assert_int_equal(m.n, 10000);
	assert_ptr_equal(px_hmap_get(&m, "key-4242", 8)->val, (void *)4243);
	px_hmap_del(&m, px_hmap_get(&m, "key-4242", 8));
	assert_null(px_hmap_get(&m, "key-4242", 8));
	assert_int_equal(m.n, 9999);
	px_hmap_free(&m);
}

static void test_pack(void **state)
{
	unsigned char in[3000] = { 0 }, out[PX_PACK_BOUND(3000)], back[3000];
	size_t len, pos = 0;

	(void)state;
	memcpy(in + 10, "web", 3);
	in[2999] = 7;
	in[500] = in[501] = 1;
	len = px_pack(in, sizeof(in), out);
	assert_true(len < 40);
	assert_int_equal(px_unpack(out, len, &pos, back, sizeof(back)), 0);
	assert_memory_equal(in, back, sizeof(in));
	pos = 0;
	assert_int_equal(px_unpack(out, len - 1, &pos, back, sizeof(back)), -EINVAL);
}

/* ---- a Service and its slice, as a source reports them ---- */

static struct px_store st;
static struct px_source_cb cb;

static void ip(struct pn_ip *out, const char *s)
{
	assert_int_equal(pn_ip_parse(s, out), 0);
}

static void service(const char *name, const char *cip, enum px_svc_type type, uint16_t np, bool affinity,
		    bool etp_local, bool itp_local)
{
	struct px_service s = { 0 };

	snprintf(s.ns, sizeof(s.ns), "default");
	snprintf(s.name, sizeof(s.name), "%s", name);
	s.type = type;
	ip(&s.cluster_ips[0], cip);
	s.ncluster = 1;
	s.affinity = affinity;
	s.affinity_timeout = 10800;
	s.etp_local = etp_local;
	s.itp_local = itp_local;
	s.nports = 1;
	snprintf(s.ports[0].name, sizeof(s.ports[0].name), "p");
	s.ports[0].proto = PX_TCP;
	s.ports[0].port = 80;
	s.ports[0].node_port = np;
	cb.service("default", name, &s, cb.ctx);
}

/* endpoints "IP@NODE", all ready */
static void slice(const char *svc, const char *name, int n, const char *const *eps)
{
	struct px_slice s = { 0 };

	snprintf(s.ns, sizeof(s.ns), "default");
	snprintf(s.name, sizeof(s.name), "%s", name);
	snprintf(s.service, sizeof(s.service), "%s", svc);
	s.family = AF_INET;
	s.nports = 1;
	snprintf(s.ports[0].name, sizeof(s.ports[0].name), "p");
	s.ports[0].proto = PX_TCP;
	s.ports[0].port = 8080;
	s.eps = calloc((size_t)n + 1, sizeof(*s.eps));
	for (int i = 0; i < n; i++) {
		const char *at = strchr(eps[i], '@');
		char addr[64];

		snprintf(addr, sizeof(addr), "%.*s", (int)(at - eps[i]), eps[i]);
		ip(&s.eps[i].addr, addr);
		snprintf(s.eps[i].node, sizeof(s.eps[i].node), "%s", at + 1);
		s.eps[i].ready = s.eps[i].serving = true;
	}
	s.neps = (size_t)n;
	cb.slice("default", name, &s, cb.ctx);
	free(s.eps);
}

static struct px_svc_state *get(const char *name)
{
	char key[128];
	int n = snprintf(key, sizeof(key), "default/%s", name);
	struct px_hent *e = px_hmap_get(&st.services, key, (size_t)n);

	return e ? e->val : NULL;
}

static int setup(void **state)
{
	(void)state;
	px_store_init(&st);
	cb = px_store_cb;
	cb.ctx = &st;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	px_store_free(&st);
	return 0;
}

static void test_store(void **state)
{
	const char *eps[] = { "10.244.1.2@node-a", "10.244.2.2@node-b" };
	struct px_svc_view v;
	struct px_svc_state *s;

	(void)state;
	slice("web", "web-1", 2, eps);           /* a slice before its Service */
	assert_int_equal(st.ndirty, 1);
	assert_non_null(s = get("web"));
	assert_null(s->svc);
	service("web", "10.96.0.10", PX_NODE_PORT, 30080, false, false, false);
	assert_int_equal(st.ndirty, 1);          /* the same Service, marked once */
	assert_int_equal(px_store_view(s, &v), 0);
	assert_string_equal(v.svc.name, "web");
	assert_int_equal(v.nslices, 1);
	assert_int_equal(v.refs[0]->neps, 2);
	assert_string_equal(v.refs[0]->eps[1].node, "node-b");
	px_store_view_free(&v);
	assert_non_null(px_store_take_dirty(&st));
	s->dirty = false;
	slice("web", "web-1", 0, NULL);
	assert_int_equal(st.ndirty, 1);
	cb.slice("default", "web-1", NULL, cb.ctx);
	assert_int_equal(s->nslices, 0);
}

/* ---- elements ---- */

static struct px_nft b;
static struct px_want w;

static void want(const char *name)
{
	struct pn_err e = { 0 };

	px_want_free(&w);
	assert_int_equal(px_service_want(&b, &b.fam[0], get(name), &w, &e), 0);
}

/* the element of set with key "A.B.C.D proto port" or "proto port" (NULL: none), as text */
static const struct px_elem *find(enum px_set set, const char *addr, uint16_t port, int idx)
{
	struct px_elem k = { .set = (uint8_t)set };
	size_t off = 0;

	if (addr) {
		inet_pton(AF_INET, addr, k.key);
		off = 4;
	}
	k.key[off] = 6;
	k.key[off + 4] = (uint8_t)(port >> 8);
	k.key[off + 5] = (uint8_t)port;
	off += 8;
	if (idx >= 0) {
		uint32_t i = (uint32_t)idx;

		memcpy(k.key + off, &i, 4);
		off += 4;
	}
	k.klen = (uint8_t)off;
	for (size_t i = 0; i < w.nelems; i++)
		if (!px_elem_cmp(&w.elems[i], &k))
			return &w.elems[i];
	return NULL;
}

static size_t count(enum px_set set)
{
	size_t n = 0;

	for (size_t i = 0; i < w.nelems; i++)
		n += w.elems[i].set == set;
	return n;
}

static void assert_goto(const struct px_elem *el, const char *chain)
{
	assert_non_null(el);
	assert_int_equal(el->verdict, 1);
	assert_string_equal(el->chain, chain);
}

static void assert_backend(const struct px_elem *el, const char *addr, uint16_t port)
{
	uint8_t a[4];

	assert_non_null(el);
	inet_pton(AF_INET, addr, a);
	assert_int_equal(el->dlen, 8);
	assert_memory_equal(el->data, a, 4);
	assert_int_equal(el->data[4] << 8 | el->data[5], port);
}

static int nft_setup(void **state)
{
	setup(state);
	memset(&b, 0, sizeof(b));
	b.cfg.node = "node-a";
	b.cfg.ipv4 = true;
	b.fam[0].family = AF_INET;
	b.fam[0].table = PX_TABLE_A;
	b.fam[1].family = AF_INET6;
	b.fam[1].table = PX_TABLE_A;
	pn_nft_begin_paged(&b.nft, 65536);   /* a batch that is never sent */
	return 0;
}

static int nft_teardown(void **state)
{
	px_want_free(&w);
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < P_MAX; k++)
			for (int n = 0; n <= PX_MAX_PICK; n++)
				free(b.fam[f].pick_name[k][n]);
	pn_nft_close(&b.nft);
	return teardown(state);
}

static void test_clusterip_nodeport(void **state)
{
	const char *eps[] = { "10.244.1.2@node-a", "10.244.2.2@node-b" };

	(void)state;
	service("web", "10.96.0.10", PX_NODE_PORT, 30080, false, false, false);
	slice("web", "web-1", 2, eps);
	want("web");
	assert_goto(find(S_SERVICE_IPS, "10.96.0.10", 80, -1), "clusterip");
	assert_goto(find(S_CLUSTER_LB, "10.96.0.10", 80, -1), "dnat-cluster-2");
	assert_backend(find(S_CLUSTER_BACKENDS, "10.96.0.10", 80, 0), "10.244.1.2", 8080);
	assert_backend(find(S_CLUSTER_BACKENDS, "10.96.0.10", 80, 1), "10.244.2.2", 8080);
	assert_null(find(S_CLUSTER_BACKENDS, "10.96.0.10", 80, 2));
	assert_goto(find(S_SERVICE_NODEPORTS, NULL, 30080, -1), "nodeport");
	assert_goto(find(S_NP_CLUSTER_LB, NULL, 30080, -1), "dnat-nodeport-cluster-2");
	assert_int_equal(count(S_NP_CLUSTER_BACKENDS), 2);
	assert_int_equal(count(S_NOEP_SERVICES) + count(S_NOEP_NODEPORTS), 0);
	assert_int_equal(count(S_CLUSTER_IPS), 1);
	assert_int_equal(count(S_HAIRPIN), 1);    /* only the endpoint on this node */
	assert_int_equal(w.nendpoints, 2);
	/* an IPv4 Service has nothing in IPv6, not even its NodePort */
	{
		struct pn_err e = { 0 };

		px_want_free(&w);
		assert_int_equal(px_service_want(&b, &b.fam[1], get("web"), &w, &e), 0);
		assert_int_equal(w.nelems, 0);
	}
}

static void test_no_endpoints(void **state)
{
	(void)state;
	service("empty", "10.96.0.11", PX_NODE_PORT, 30081, false, false, false);
	want("empty");
	assert_goto(find(S_NOEP_SERVICES, "10.96.0.11", 80, -1), "reject-chain");
	assert_goto(find(S_NOEP_NODEPORTS, NULL, 30081, -1), "reject-chain");
	assert_null(find(S_SERVICE_IPS, "10.96.0.11", 80, -1));
	assert_int_equal(count(S_CLUSTER_BACKENDS), 0);
}

static void test_traffic_policies(void **state)
{
	const char *remote[] = { "10.244.2.2@node-b" };
	const struct px_elem *el;

	(void)state;
	/* eTP Local, no local endpoint: NodePort dropped, pods still short-circuited to Cluster */
	service("etp", "10.96.0.12", PX_NODE_PORT, 30082, false, true, false);
	slice("etp", "etp-1", 1, remote);
	want("etp");
	assert_goto(find(S_SERVICE_NODEPORTS, NULL, 30082, -1), "nodeport-local");
	assert_non_null(el = find(S_NOEP_NODEPORTS, NULL, 30082, -1));
	assert_int_equal(el->verdict, 2);   /* drop */
	assert_goto(find(S_NP_CLUSTER_LB, NULL, 30082, -1), "dnat-nodeport-cluster-1");
	assert_null(find(S_NP_LOCAL_LB, NULL, 30082, -1));
	/* the ClusterIP keeps the Cluster policy */
	assert_goto(find(S_CLUSTER_LB, "10.96.0.12", 80, -1), "dnat-cluster-1");

	/* iTP Local, no local endpoint: the ClusterIP drops */
	service("itp", "10.96.0.13", PX_CLUSTER_IP, 0, false, false, true);
	slice("itp", "itp-1", 1, remote);
	want("itp");
	assert_non_null(el = find(S_NOEP_SERVICES, "10.96.0.13", 80, -1));
	assert_int_equal(el->verdict, 2);
	assert_null(find(S_SERVICE_IPS, "10.96.0.13", 80, -1));
}

static void test_affinity(void **state)
{
	const char *eps[] = { "10.244.1.2@node-a", "10.244.1.3@node-a" };

	(void)state;
	service("sticky", "10.96.0.14", PX_CLUSTER_IP, 0, true, false, false);
	slice("sticky", "sticky-1", 2, eps);
	want("sticky");
	/* a chain of its own instead of the shared dnat chains, no backends elements */
	assert_goto(find(S_CLUSTER_LB, "10.96.0.14", 80, -1), "service-default/sticky/tcp/p");
	assert_int_equal(count(S_CLUSTER_BACKENDS), 0);
	assert_int_equal(w.nsets, 2);            /* affinity-…__10.244.1.2/8080, …1.3/8080 */
	assert_string_equal(w.sets[0], "affinity-default/sticky/tcp/p__10.244.1.2/8080");
	assert_int_equal(w.nchains, 3);          /* two endpoint chains, the service chain */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmap),
		cmocka_unit_test(test_pack),
		cmocka_unit_test_setup_teardown(test_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clusterip_nodeport, nft_setup, nft_teardown),
		cmocka_unit_test_setup_teardown(test_no_endpoints, nft_setup, nft_teardown),
		cmocka_unit_test_setup_teardown(test_traffic_policies, nft_setup, nft_teardown),
		cmocka_unit_test_setup_teardown(test_affinity, nft_setup, nft_teardown),
	};

	return cmocka_run_group_tests_name("proxy-nft", tests, NULL, NULL);
}
