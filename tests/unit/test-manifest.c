/* SPDX-License-Identifier: Apache-2.0 */
/* Manifests for podnet-proxy: YAML as kubectl prints it, Lists, multi-document files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../proxy/model.h"
#include "../../proxy/objects.h"
#include "../../proxy/yaml.h"

static struct px_service svcs[8];
static struct px_slice slices[8];
static int nsvc, nslice;

static void on_service(struct px_service *s, void *ctx)
{
	(void)ctx;
	if (nsvc < 8)
		svcs[nsvc++] = *s;
}

static void on_slice(struct px_slice *s, void *ctx)
{
	(void)ctx;
	if (nslice < 8)
		slices[nslice++] = *s;
	else
		px_slice_free(s);
}

static struct px_node node;
static struct px_service_cidr cidr;
static int nnode, ncidr;

static void on_node(struct px_node *n, void *ctx)
{
	(void)ctx;
	node = *n;
	nnode++;
}

static void on_cidr(struct px_service_cidr *c, void *ctx)
{
	(void)ctx;
	cidr = *c;
	ncidr++;
}

static const struct px_objects_cb cb = { .service = on_service, .slice = on_slice, .node = on_node,
					  .service_cidr = on_cidr };

static int load(const char *yaml, struct pn_err *e)
{
	json_t *docs, *d;
	size_t i;
	int r;

	for (int k = 0; k < nslice; k++)
		px_slice_free(&slices[k]);
	nsvc = nslice = 0;
	if ((r = px_yaml_load(yaml, strlen(yaml), &docs, e)) < 0)
		return r;
	json_array_foreach(docs, i, d)
		if ((r = px_objects_parse(d, &cb, e)) < 0)
			break;
	json_decref(docs);
	return r;
}

static const char *kubectl_yaml =
	"apiVersion: v1\n"
	"items:\n"
	"- apiVersion: v1\n"
	"  kind: Service\n"
	"  metadata:\n"
	"    name: web\n"
	"    namespace: shop\n"
	"  spec:\n"
	"    clusterIP: 10.96.0.10\n"
	"    clusterIPs:\n"
	"    - 10.96.0.10\n"
	"    - fd00:96::a\n"
	"    externalTrafficPolicy: Local\n"
	"    ports:\n"
	"    - name: http\n"
	"      nodePort: 30080\n"
	"      port: 80\n"
	"      protocol: TCP\n"
	"      targetPort: 8080\n"
	"    - name: dns\n"
	"      port: 53\n"
	"      protocol: UDP\n"
	"      targetPort: \"53\"\n"
	"    sessionAffinity: ClientIP\n"
	"    sessionAffinityConfig:\n"
	"      clientIP:\n"
	"        timeoutSeconds: 60\n"
	"    loadBalancerSourceRanges:\n"
	"    - \" 203.0.113.0/25 \"\n"
	"    type: LoadBalancer\n"
	"  status:\n"
	"    loadBalancer:\n"
	"      ingress:\n"
	"      - ip: 192.0.2.50\n"
	"      - hostname: lb.example\n"
	"- apiVersion: discovery.k8s.io/v1\n"
	"  kind: EndpointSlice\n"
	"  metadata:\n"
	"    labels:\n"
	"      kubernetes.io/service-name: web\n"
	"    name: web-abcde\n"
	"    namespace: shop\n"
	"  addressType: IPv4\n"
	"  endpoints:\n"
	"  - addresses: [\"10.244.1.2\"]\n"
	"    conditions: {ready: true, serving: true, terminating: false}\n"
	"    nodeName: node-a\n"
	"  - addresses:\n"
	"    - 10.244.2.3\n"
	"    conditions:\n"
	"      ready: false\n"
	"      serving: true\n"
	"      terminating: true\n"
	"    nodeName: node-b\n"
	"  - addresses: [10.244.2.4]\n"
	"  ports:\n"
	"  - name: http\n"
	"    port: 8080\n"
	"    protocol: TCP\n"
	"kind: List\n"
	"metadata:\n"
	"  resourceVersion: \"\"\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: ConfigMap\n"
	"metadata: {name: ignored}\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Service\n"
	"metadata: {name: headless}\n"
	"spec: {clusterIP: None, ports: [{port: 5432}]}\n";

static void test_kubectl_yaml(void **state)
{
	struct pn_err e;
	char a[PN_IP_STRLEN];

	(void)state;
	assert_int_equal(load(kubectl_yaml, &e), 0);
	assert_int_equal(nsvc, 2);
	assert_int_equal(nslice, 1);
	assert_string_equal(svcs[0].ns, "shop");
	assert_string_equal(svcs[0].name, "web");
	assert_int_equal(svcs[0].type, PX_LOAD_BALANCER);
	assert_int_equal(svcs[0].ncluster, 2);
	assert_string_equal(pn_ip_format(&svcs[0].cluster_ips[1], a), "fd00:96::a");
	assert_int_equal(svcs[0].nports, 2);
	assert_int_equal(svcs[0].ports[0].node_port, 30080);
	assert_int_equal(svcs[0].ports[1].proto, PX_UDP);
	assert_true(svcs[0].affinity);
	assert_int_equal(svcs[0].affinity_timeout, 60);
	assert_true(svcs[0].etp_local);
	assert_int_equal(svcs[0].nlb, 1);   /* the hostname ingress is not programmed */
	assert_int_equal(svcs[0].nranges, 1);
	assert_int_equal(svcs[0].lb_ranges[0].len, 25);
	assert_string_equal(svcs[1].name, "headless");
	assert_string_equal(svcs[1].ns, "default");
	assert_int_equal(svcs[1].ncluster, 0);
	assert_string_equal(slices[0].service, "web");
	assert_int_equal(slices[0].family, AF_INET);
	assert_int_equal(slices[0].neps, 3);
	assert_true(slices[0].eps[0].ready && !slices[0].eps[0].terminating);
	assert_true(!slices[0].eps[1].ready && slices[0].eps[1].serving && slices[0].eps[1].terminating);
	/* no conditions at all: ready, and serving follows ready */
	assert_true(slices[0].eps[2].ready && slices[0].eps[2].serving);
	assert_string_equal(slices[0].eps[0].node, "node-a");
	assert_int_equal(slices[0].ports[0].port, 8080);
}

static void test_json_and_errors(void **state)
{
	struct pn_err e;

	(void)state;
	/* JSON is YAML: kubectl get -o json output loads the same way */
	assert_int_equal(load("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"a\"},"
			      "\"spec\":{\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"port\":443}]}}", &e), 0);
	assert_int_equal(nsvc, 1);
	assert_int_equal(svcs[0].ports[0].proto, PX_TCP);   /* the default */
	assert_int_equal(load("kind: Service\napiVersion: v1\nmetadata: {name: a}\nspec: {ports: [{port: 99999}]}\n", &e), -EINVAL);
	assert_string_equal(e.msg, "Service default/a: invalid port");
	assert_int_equal(load("kind: Service\napiVersion: v1\nmetadata: {name: a}\nspec: {clusterIP: 10.96.0.300}\n", &e), -EINVAL);
	assert_int_equal(load("kind: Service\napiVersion: v1\nmetadata: {name: a}\nspec: {ports: [{port: 80, protocol: ICMP}]}\n", &e), -EINVAL);
	assert_string_equal(e.msg, "Service default/a: unknown protocol \"ICMP\"");
	assert_int_equal(load("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv4\n", &e), -EINVAL);
	assert_string_equal(e.msg, "EndpointSlice default/s: no kubernetes.io/service-name label");
	assert_int_equal(load("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
			      "metadata: {name: s, labels: {kubernetes.io/service-name: a}}\naddressType: IPv4\n"
			      "endpoints: [{addresses: [\"fd00::1\"]}]\n", &e), -EINVAL);
	/* broken YAML: a message with the line */
	assert_int_equal(load("kind: Service\n  bad: [\n", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "line"));
	assert_int_equal(load("a: &x [1, 2]\nb: *x\n", &e), 0);   /* anchors and aliases */
}

static void test_scalars(void **state)
{
	struct pn_err e;
	json_t *docs;
	char *s;
	const char *y = "a: 80\nb: \"80\"\nc: true\nd: ~\ne: 1.5\nf: 0x1f\ng: !!str 7\nh: hello world\ni: 10.96.0.1\n";

	(void)state;
	assert_int_equal(px_yaml_load(y, strlen(y), &docs, &e), 0);
	s = json_dumps(json_array_get(docs, 0), JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(s, "{\"a\":80,\"b\":\"80\",\"c\":true,\"d\":null,\"e\":1.5,\"f\":31,\"g\":\"7\",\"h\":\"hello world\",\"i\":\"10.96.0.1\"}");
	free(s);
	json_decref(docs);
}

/* kube-proxy's informer selector: !service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless */
static void test_excluded_labels(void **state)
{
	struct pn_err e;

	(void)state;
	assert_int_equal(load("apiVersion: v1\nkind: Service\nmetadata: {name: a, labels: {service.kubernetes.io/service-proxy-name: other}}\n"
			      "spec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}\n---\n"
			      /* any value, even empty, excludes */
			      "apiVersion: v1\nkind: Service\nmetadata: {name: b, labels: {service.kubernetes.io/headless: \"\"}}\n"
			      "spec: {clusterIP: 10.96.0.2, ports: [{port: 80}]}\n---\n"
			      "apiVersion: v1\nkind: Service\nmetadata: {name: c, labels: {app: c, service.kubernetes.io/other: x}}\n"
			      "spec: {clusterIP: 10.96.0.3, ports: [{port: 80}]}\n---\n"
			      "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\naddressType: IPv4\n"
			      "metadata: {name: b-1, labels: {kubernetes.io/service-name: b, service.kubernetes.io/headless: \"\"}}\n"
			      "endpoints: [{addresses: [10.244.1.2]}]\n---\n"
			      "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\naddressType: IPv4\n"
			      "metadata: {name: c-1, labels: {kubernetes.io/service-name: c}}\nendpoints: [{addresses: [10.244.1.3]}]\n", &e), 0);
	assert_int_equal(nsvc, 1);
	assert_string_equal(svcs[0].name, "c");
	assert_int_equal(nslice, 1);
	assert_string_equal(slices[0].name, "c-1");
	/* an excluded object is not validated: it cannot fail its file */
	assert_int_equal(load("apiVersion: v1\nkind: Service\nmetadata: {name: a, labels: {service.kubernetes.io/service-proxy-name: x}}\n"
			      "spec: {type: Bogus, ports: [{port: 99999}]}\n", &e), 0);
	assert_int_equal(nsvc, 0);
	/* the labels under annotations do not count */
	assert_int_equal(load("apiVersion: v1\nkind: Service\nmetadata: {name: a, annotations: {service.kubernetes.io/headless: x}}\n"
			      "spec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}\n", &e), 0);
	assert_int_equal(nsvc, 1);
}

/* kube-proxy's CategorizeEndpoints, without topology hints */
static void test_backends(void **state)
{
	struct px_backends b;
	struct pn_err e;
	char a[PN_IP_STRLEN];
	const char *two_slices =
		"apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
		"spec: {clusterIP: 10.96.0.10, ports: [{name: http, port: 80}, {name: udp, port: 53, protocol: UDP}]}\n"
		"---\n"
		"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\naddressType: IPv4\n"
		"metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}\n"
		"ports: [{name: http, port: 8080}]\n"
		"endpoints:\n"
		"- {addresses: [10.244.1.2], nodeName: node-a}\n"
		"- {addresses: [10.244.2.3], nodeName: node-b, conditions: {ready: false, serving: true, terminating: true}}\n"
		"- {addresses: [10.244.2.9], nodeName: node-b, conditions: {ready: false, serving: false}}\n"
		"---\n"
		"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\naddressType: IPv4\n"
		"metadata: {name: web-2, namespace: shop, labels: {kubernetes.io/service-name: web}}\n"
		"ports: [{name: http, port: 8080}]\n"
		"endpoints:\n"
		"- {addresses: [10.244.1.2], nodeName: node-a}\n"
		"- {addresses: [10.244.2.4], nodeName: node-b}\n"
		"---\n"
		"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\naddressType: IPv4\n"
		"metadata: {name: other-1, namespace: default, labels: {kubernetes.io/service-name: web}}\n"
		"ports: [{name: http, port: 9999}]\nendpoints: [{addresses: [10.244.3.3]}]\n";

	(void)state;
	assert_int_equal(load(two_slices, &e), 0);
	assert_int_equal(px_backends_for(&svcs[0], &svcs[0].ports[0], AF_INET, slices, (size_t)nslice, "node-a", &b, &e), 0);
	/* ready ones only, deduplicated across slices; other namespaces' slices are not this Service's */
	assert_int_equal(b.ncluster, 2);
	assert_string_equal(pn_ip_format(&b.cluster[0].addr, a), "10.244.1.2");
	assert_int_equal(b.cluster[0].port, 8080);
	assert_string_equal(pn_ip_format(&b.cluster[1].addr, a), "10.244.2.4");
	assert_int_equal(b.nlocal, 1);
	assert_false(b.cluster_fallback);
	px_backends_free(&b);
	/* on node-b: no ready local endpoint, so its serving terminating one stands in locally */
	assert_int_equal(px_backends_for(&svcs[0], &svcs[0].ports[0], AF_INET, slices, (size_t)nslice, "node-b", &b, &e), 0);
	assert_int_equal(b.nlocal, 1);
	assert_string_equal(pn_ip_format(&b.local[0].addr, a), "10.244.2.4");
	px_backends_free(&b);
	/* a port no slice serves: no backends at all (the Service then rejects) */
	assert_int_equal(px_backends_for(&svcs[0], &svcs[0].ports[1], AF_INET, slices, (size_t)nslice, "node-a", &b, &e), 0);
	assert_int_equal(b.ncluster + b.nlocal, 0);
	px_backends_free(&b);
	/* no ready endpoint anywhere: the serving terminating ones */
	assert_int_equal(load("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 10.96.0.11, ports: [{port: 80}]}\n---\n"
			      "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\naddressType: IPv4\n"
			      "metadata: {name: s-1, labels: {kubernetes.io/service-name: s}}\nports: [{port: 8080}]\n"
			      "endpoints: [{addresses: [10.244.1.7], conditions: {ready: false, serving: true, terminating: true}}]\n", &e), 0);
	assert_int_equal(px_backends_for(&svcs[0], &svcs[0].ports[0], AF_INET, slices, (size_t)nslice, "node-a", &b, &e), 0);
	assert_int_equal(b.ncluster, 1);
	assert_true(b.cluster_fallback);
	px_backends_free(&b);
}

/* topology hints: PreferSameNode, then PreferSameZone, only when every ready endpoint has them */
static void test_topology(void **state)
{
	struct px_backends b;
	struct pn_err e;
	char a[PN_IP_STRLEN];
	const struct px_slice *refs[1];
	const char *svc = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 10.96.0.11, ports: [{port: 80}]}\n---\n"
			  "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\naddressType: IPv4\n"
			  "metadata: {name: s-1, labels: {kubernetes.io/service-name: s}}\nports: [{port: 8080}]\n";
	char doc[2048];

	(void)state;
	/* zone hints on every endpoint, one for this node's zone */
	snprintf(doc, sizeof(doc), "%sendpoints:\n"
		 "- {addresses: [10.244.1.2], nodeName: node-a, hints: {forZones: [{name: z1}]}}\n"
		 "- {addresses: [10.244.2.2], nodeName: node-b, hints: {forZones: [{name: z2}]}}\n"
		 "- {addresses: [10.244.3.2], nodeName: node-c, hints: {forZones: [{name: z1}, {name: z3}]}}\n", svc);
	assert_int_equal(load(doc, &e), 0);
	assert_string_equal(slices[0].eps[2].zone_hints, "z1,z3");
	refs[0] = &slices[0];
	assert_int_equal(px_backends_of(&svcs[0], &svcs[0].ports[0], AF_INET, refs, 1, "node-a", "z1", &b, &e), 0);
	assert_int_equal(b.ncluster, 2);
	assert_string_equal(pn_ip_format(&b.cluster[0].addr, a), "10.244.1.2");
	assert_string_equal(pn_ip_format(&b.cluster[1].addr, a), "10.244.3.2");
	px_backends_free(&b);
	/* a zone no hint names, or no zone: every endpoint */
	assert_int_equal(px_backends_of(&svcs[0], &svcs[0].ports[0], AF_INET, refs, 1, "node-a", "z9", &b, &e), 0);
	assert_int_equal(b.ncluster, 3);
	px_backends_free(&b);
	assert_int_equal(px_backends_of(&svcs[0], &svcs[0].ports[0], AF_INET, refs, 1, "node-a", NULL, &b, &e), 0);
	assert_int_equal(b.ncluster, 3);
	px_backends_free(&b);

	/* node hints win over zone hints; an endpoint without hints disables them */
	snprintf(doc, sizeof(doc), "%sendpoints:\n"
		 "- {addresses: [10.244.1.2], hints: {forZones: [{name: z1}], forNodes: [{name: node-b}]}}\n"
		 "- {addresses: [10.244.2.2], hints: {forZones: [{name: z1}], forNodes: [{name: node-a}]}}\n", svc);
	assert_int_equal(load(doc, &e), 0);
	refs[0] = &slices[0];
	assert_int_equal(px_backends_of(&svcs[0], &svcs[0].ports[0], AF_INET, refs, 1, "node-a", "z1", &b, &e), 0);
	assert_int_equal(b.ncluster, 1);
	assert_string_equal(pn_ip_format(&b.cluster[0].addr, a), "10.244.2.2");
	px_backends_free(&b);
	snprintf(doc, sizeof(doc), "%sendpoints:\n"
		 "- {addresses: [10.244.1.2], hints: {forZones: [{name: z1}]}}\n"
		 "- {addresses: [10.244.2.2]}\n", svc);
	assert_int_equal(load(doc, &e), 0);
	refs[0] = &slices[0];
	assert_int_equal(px_backends_of(&svcs[0], &svcs[0].ports[0], AF_INET, refs, 1, "node-a", "z1", &b, &e), 0);
	assert_int_equal(b.ncluster, 2);
	px_backends_free(&b);
}

/* billion laughs: aliases of aliases are refused once they would copy too much */
static void test_alias_bomb(void **state)
{
	char doc[4096];
	size_t n = 0;
	struct pn_err e;
	json_t *docs = NULL;

	(void)state;
	n += (size_t)snprintf(doc + n, sizeof(doc) - n, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (int i = 1; i < 10; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n",
				      i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	assert_int_equal(px_yaml_load(doc, n, &docs, &e), -E2BIG);
	assert_non_null(strstr(e.msg, "aliases expand"));
	assert_null(docs);
	/* a few aliases are fine */
	assert_int_equal(px_yaml_load("a: &x [1, 2]\nb: *x\n", 19, &docs, &e), 0);
	json_decref(docs);
}

/* the other kinds the proxy reads: a Node's zone, a ServiceCIDR's prefixes */
static void test_node_and_service_cidr(void **state)
{
	struct pn_err e;
	char p[PN_PREFIX_STRLEN];

	(void)state;
	nnode = ncidr = 0;
	assert_int_equal(load("apiVersion: v1\nkind: Node\nmetadata:\n  name: node-a\n  labels:\n"
			      "    topology.kubernetes.io/zone: eu-1a\n    kubernetes.io/hostname: node-a\n"
			      "---\napiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata: {name: kubernetes}\n"
			      "spec: {cidrs: [10.96.0.0/16, 'fd00:96::/112']}\n", &e), 0);
	assert_int_equal(nnode, 1);
	assert_string_equal(node.name, "node-a");
	assert_string_equal(node.zone, "eu-1a");
	assert_int_equal(ncidr, 1);
	assert_int_equal(cidr.ncidrs, 2);
	assert_string_equal(pn_prefix_format(&cidr.cidrs[1], p), "fd00:96::/112");
	assert_int_equal(load("apiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata: {name: x}\nspec: {cidrs: [bogus]}\n", &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "ServiceCIDR x: invalid CIDR"));
}

static int teardown(void **state)
{
	(void)state;
	for (int k = 0; k < nslice; k++)
		px_slice_free(&slices[k]);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubectl_yaml),
		cmocka_unit_test(test_json_and_errors),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_excluded_labels),
		cmocka_unit_test(test_backends),
		cmocka_unit_test(test_topology),
		cmocka_unit_test(test_node_and_service_cidr),
		cmocka_unit_test(test_alias_bomb),
	};

	return cmocka_run_group_tests_name("manifest", tests, NULL, teardown);
}
