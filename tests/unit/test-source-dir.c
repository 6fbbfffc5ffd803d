/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The manifest-directory source in a throw-away directory: what a sync reports after the
 * ways people and tools change files (edits, atomic renames, truncate-and-write, editors'
 * temp files, ConfigMap volumes), and that it reports only what changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../proxy/source-dir.h"

#define MAX_RECS 64

/* what the callbacks saw in the last sync */
struct rec {
	char kind, key[PX_NAME_MAX + 80];   /* 'S' or 'E', "namespace/name" */
	bool present;
	struct px_service svc;
	size_t neps;
	struct px_endpoint ep0;
};

static struct rec recs[MAX_RECS];
static int nrecs, ntotal;
static char dir[] = "/tmp/podnet-test-srcdir.XXXXXX";
static struct px_dir *pd;

static struct rec *record(char kind, const char *ns, const char *name, bool present)
{
	struct rec *r = &recs[nrecs];

	ntotal++;
	if (nrecs == MAX_RECS)
		return NULL;
	nrecs++;
	memset(r, 0, sizeof(*r));   /* a gone object's content reads as zeros */
	r->kind = kind;
	snprintf(r->key, sizeof(r->key), "%s/%s", ns, name);
	r->present = present;
	return r;
}

static void on_service(const char *ns, const char *name, const struct px_service *svc, void *ctx)
{
	struct rec *r = record('S', ns, name, svc != NULL);

	(void)ctx;
	if (r && svc)
		r->svc = *svc;
}

static void on_slice(const char *ns, const char *name, struct px_slice *s, void *ctx)
{
	struct rec *r = record('E', ns, name, s != NULL);

	(void)ctx;
	if (!s)
		return;
	if (r && (r->neps = s->neps))
		r->ep0 = s->eps[0];
	/* the callee takes the endpoints: the source must have kept its own copy */
	free(s->eps);
	s->eps = NULL;
}

static const struct px_source_cb cb = { .service = on_service, .slice = on_slice };

static int sync_dir(void)
{
	nrecs = ntotal = 0;
	return px_dir_sync(pd, &cb);
}

static const struct rec *find(char kind, const char *key)
{
	for (int i = 0; i < nrecs; i++)
		if (recs[i].kind == kind && !strcmp(recs[i].key, key))
			return &recs[i];
	fail_msg("no report for %c %s", kind, key);
	return NULL;
}

/* paths and manifests are built in these; a few stay valid at once */
static char *ring(void)
{
	static char buf[16][4096];
	static int k;

	return buf[k++ % 16];
}

static const char *at(const char *name)
{
	char *b = ring();

	snprintf(b, 4096, "%s/%s", dir, name);
	return b;
}

static void put(const char *name, const char *content)
{
	FILE *f;

	assert_non_null(f = fopen(at(name), "w"));
	assert_int_equal(fputs(content, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void mv(const char *from, const char *to)
{
	assert_int_equal(rename(at(from), at(to)), 0);
}

/* write a hidden temporary, then rename it over name: how kubectl apply-like tools save */
static void put_atomic(const char *name, const char *content)
{
	char t[256];

	snprintf(t, sizeof(t), ".%s.tmp", name);
	put(t, content);
	mv(t, name);
}

static void rm(const char *name)
{
	assert_int_equal(unlink(at(name)), 0);
}

static const char *svc(const char *name, const char *ip, int port, const char *type)
{
	char *b = ring();

	snprintf(b, 4096, "apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: shop\n"
		 "spec:\n  type: %s\n  clusterIP: %s\n  externalName: x.example\n  ports:\n  - name: http\n    port: %d\n",
		 name, type, ip, port);
	return b;
}

static const char *slice(const char *name, const char *service, const char *ep, bool ready, const char *node)
{
	char *b = ring();

	snprintf(b, 4096, "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\naddressType: IPv4\n"
		 "metadata: {name: %s, namespace: shop, labels: {kubernetes.io/service-name: %s}}\n"
		 "ports: [{name: http, port: 8080}]\n"
		 "endpoints: [{addresses: [%s], nodeName: %s, conditions: {ready: %s}}]\n",
		 name, service, ep, node, ready ? "true" : "false");
	return b;
}

/* the documents of a multi-document stream, NULL-terminated */
static const char *docs(const char *first, ...)
{
	char *o = ring();
	va_list ap;

	o[0] = '\0';
	va_start(ap, first);
	for (const char *d = first; d; d = va_arg(ap, const char *)) {
		assert_true(strlen(o) + strlen(d) + 5 < 4096);
		strcat(strcat(o, *o ? "---\n" : ""), d);
	}
	va_end(ap);
	return o;
}

static void rm_rf(const char *path)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	struct pn_err e;

	(void)state;
	strcpy(dir, "/tmp/podnet-test-srcdir.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(px_dir_open(dir, &pd, &e), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	px_dir_close(pd);
	pd = NULL;
	rm_rf(dir);
	return 0;
}

static const char *list_yml =
	"apiVersion: v1\nkind: List\nitems:\n"
	"- apiVersion: v1\n  kind: Service\n  metadata: {name: db, namespace: shop}\n"
	"  spec: {clusterIP: 10.96.0.12, ports: [{port: 5432}]}\n"
	"- apiVersion: discovery.k8s.io/v1\n  kind: EndpointSlice\n  addressType: IPv4\n"
	"  metadata: {name: db-1, namespace: shop, labels: {kubernetes.io/service-name: db}}\n"
	"  endpoints: [{addresses: [10.244.2.3]}]\n";

static void test_initial_load_and_ignored(void **state)
{
	const struct rec *r;

	(void)state;
	put("a.yaml", docs(svc("web", "10.96.0.10", 80, "ClusterIP"), slice("web-1", "web", "10.244.1.2", true, "node-a"), NULL));
	put("b.json", "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"api\",\"namespace\":\"shop\"},"
		      "\"spec\":{\"clusterIP\":\"10.96.0.11\",\"ports\":[{\"port\":443}]}}\n");
	put("c.yml", list_yml);
	/* not manifests: hidden, editor leftovers, other suffixes, a directory */
	put(".hidden.yaml", svc("hidden", "10.96.0.20", 80, "ClusterIP"));
	put("a.yaml~", svc("backup", "10.96.0.21", 80, "ClusterIP"));
	put(".a.yaml.swp", "\x01\x02binary");
	put("notes.txt", svc("notes", "10.96.0.22", 80, "ClusterIP"));
	assert_int_equal(mkdir(at("sub.yaml"), 0755), 0);
	put("sub.yaml/x.yaml", svc("nested", "10.96.0.23", 80, "ClusterIP"));

	assert_int_equal(sync_dir(), 5);
	assert_int_equal(nrecs, 5);
	assert_int_equal(find('S', "shop/web")->svc.ports[0].port, 80);
	assert_non_null(r = find('S', "shop/api"));
	assert_int_equal(r->svc.ports[0].port, 443);
	assert_non_null(find('S', "shop/db"));
	assert_non_null(r = find('E', "shop/web-1"));
	assert_int_equal(r->neps, 1);
	assert_true(r->ep0.ready);
	assert_string_equal(r->ep0.node, "node-a");
	assert_non_null(find('E', "shop/db-1"));
	/* nothing changed: nothing reported */
	assert_int_equal(sync_dir(), 0);
	/* more junk while running: still nothing */
	put(".a.yaml.swx", "junk");
	put("4913", "");
	put("c.yml~", "junk: [");
	assert_int_equal(sync_dir(), 0);
	/* the same content written again (a touch, a save without changes): nothing */
	put("c.yml", list_yml);
	/* different bytes, same objects: parsed, compared, not reported */
	put("a.yaml", docs(slice("web-1", "web", "10.244.1.2", true, "node-a"), svc("web", "10.96.0.10", 80, "ClusterIP"), NULL));
	assert_int_equal(sync_dir(), 0);
}

static const char *four(int s2_port, bool ready, const char *node)
{
	return docs(svc("s1", "10.96.0.1", 80, "ClusterIP"), svc("s2", "10.96.0.2", s2_port, "ClusterIP"),
		    svc("s3", "10.96.0.3", 80, "ClusterIP"), slice("s1-x", "s1", "10.244.1.2", ready, node), NULL);
}

static void test_one_change_reported(void **state)
{
	const struct rec *r;

	(void)state;
	put("a.yaml", four(80, true, "node-a"));
	assert_int_equal(sync_dir(), 4);
	put("a.yaml", four(8080, true, "node-a"));
	assert_int_equal(sync_dir(), 1);
	assert_int_equal(find('S', "shop/s2")->svc.ports[0].port, 8080);
	/* an endpoint condition, then a node name: the slice alone */
	put("a.yaml", four(8080, false, "node-a"));
	assert_int_equal(sync_dir(), 1);
	assert_non_null(r = find('E', "shop/s1-x"));
	assert_false(r->ep0.ready);
	put("a.yaml", four(8080, false, "node-b"));
	assert_int_equal(sync_dir(), 1);
	assert_string_equal(find('E', "shop/s1-x")->ep0.node, "node-b");
	/* an object dropped from the file: gone; the rest stays unreported */
	put("a.yaml", docs(svc("s1", "10.96.0.1", 80, "ClusterIP"), svc("s2", "10.96.0.2", 8080, "ClusterIP"), NULL));
	assert_int_equal(sync_dir(), 2);
	assert_false(find('S', "shop/s3")->present);
	assert_false(find('E', "shop/s1-x")->present);
}

static void test_broken_file_keeps_objects(void **state)
{
	(void)state;
	put("a.yaml", docs(svc("s1", "10.96.0.1", 80, "ClusterIP"), svc("s2", "10.96.0.2", 80, "ClusterIP"), NULL));
	assert_int_equal(sync_dir(), 2);
	put("a.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s1\n  bad: [\n");   /* YAML syntax */
	assert_int_equal(sync_dir(), 0);
	/* one invalid object fails the whole file: s1's change is not applied either */
	put("a.yaml", docs(svc("s1", "10.96.0.1", 81, "ClusterIP"), svc("s2", "10.96.0.2", 99999, "ClusterIP"), NULL));
	assert_int_equal(sync_dir(), 0);
	put("a.yaml", "{ not json");
	assert_int_equal(sync_dir(), 0);
	/* fixed: only what differs from the last good state */
	put("a.yaml", docs(svc("s1", "10.96.0.1", 81, "ClusterIP"), svc("s2", "10.96.0.2", 80, "ClusterIP"), NULL));
	assert_int_equal(sync_dir(), 1);
	assert_int_equal(find('S', "shop/s1")->svc.ports[0].port, 81);
	/* a broken new file defines nothing */
	put("b.json", "{\"kind\": ");
	assert_int_equal(sync_dir(), 0);
}

static void test_delete_and_rename(void **state)
{
	(void)state;
	put("a.yaml", docs(svc("s1", "10.96.0.1", 80, "ClusterIP"), slice("s1-x", "s1", "10.244.1.2", true, "n"), NULL));
	put("b.yaml", svc("s2", "10.96.0.2", 80, "ClusterIP"));
	assert_int_equal(sync_dir(), 3);
	rm("a.yaml");
	assert_int_equal(sync_dir(), 2);
	assert_false(find('S', "shop/s1")->present);
	assert_false(find('E', "shop/s1-x")->present);
	/* renamed to a name that is not a manifest's: gone; and back: there again */
	mv("b.yaml", "b.yaml.bak");
	assert_int_equal(sync_dir(), 1);
	assert_false(find('S', "shop/s2")->present);
	mv("b.yaml.bak", "b.yaml");
	assert_int_equal(sync_dir(), 1);
	assert_true(find('S', "shop/s2")->present);
	/* renamed to another manifest name: the same objects, nothing to report */
	mv("b.yaml", "c.yaml");
	assert_int_equal(sync_dir(), 0);
	rm("c.yaml");
	assert_int_equal(sync_dir(), 1);
	/* an atomic save: a temporary renamed over the file */
	put("a.yaml", docs(svc("s1", "10.96.0.1", 80, "ClusterIP"), svc("s2", "10.96.0.2", 80, "ClusterIP"), NULL));
	assert_int_equal(sync_dir(), 2);
	put_atomic("a.yaml", docs(svc("s1", "10.96.0.1", 80, "ClusterIP"), svc("s2", "10.96.0.2", 82, "ClusterIP"), NULL));
	assert_int_equal(sync_dir(), 1);
	assert_int_equal(find('S', "shop/s2")->svc.ports[0].port, 82);
	/* several saves between two syncs: read once, the last content counts */
	put_atomic("a.yaml", svc("s1", "10.96.0.1", 83, "ClusterIP"));
	put("a.yaml", svc("s1", "10.96.0.1", 84, "ClusterIP"));
	put_atomic("a.yaml", docs(svc("s1", "10.96.0.1", 85, "ClusterIP"), svc("s2", "10.96.0.2", 82, "ClusterIP"), NULL));
	assert_int_equal(sync_dir(), 1);
	assert_int_equal(find('S', "shop/s1")->svc.ports[0].port, 85);
}

static bool readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

/* `kubectl get -o yaml > f`: the shell truncates f, kubectl writes it, then closes it */
static void test_truncate_then_write(void **state)
{
	const char *s;
	FILE *f;

	(void)state;
	put("a.yaml", docs(svc("s1", "10.96.0.1", 80, "ClusterIP"), svc("s2", "10.96.0.2", 80, "ClusterIP"), NULL));
	assert_int_equal(sync_dir(), 2);
	assert_non_null(f = fopen(at("a.yaml"), "w"));
	/* a sync while f is empty, then while it is half written: neither shows */
	assert_int_equal(sync_dir(), 0);
	s = docs(svc("s1", "10.96.0.1", 80, "ClusterIP"), svc("s2", "10.96.0.2", 86, "ClusterIP"), NULL);
	assert_int_equal(fwrite(s, 1, strlen(s) / 2, f), strlen(s) / 2);
	assert_int_equal(fflush(f), 0);
	assert_int_equal(sync_dir(), 0);
	fputs(s + strlen(s) / 2, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(sync_dir(), 1);
	assert_int_equal(find('S', "shop/s2")->svc.ports[0].port, 86);
	/* a new file copied in: the fd wakes the caller, the file is read when complete */
	assert_false(readable(px_dir_fd(pd), 0));
	put("b.yaml", svc("s3", "10.96.0.3", 80, "ClusterIP"));
	assert_true(readable(px_dir_fd(pd), 2000));
	assert_int_equal(sync_dir(), 1);
	assert_false(readable(px_dir_fd(pd), 0));
}

static void test_same_object_in_two_files(void **state)
{
	(void)state;
	put("b.yaml", svc("s1", "10.96.0.1", 80, "ClusterIP"));
	assert_int_equal(sync_dir(), 1);
	/* a.yaml sorts first: b.yaml's definition stays the one that counts */
	put("a.yaml", svc("s1", "10.96.0.1", 81, "ClusterIP"));
	assert_int_equal(sync_dir(), 0);
	/* c.yaml sorts last: it wins */
	put("c.yaml", svc("s1", "10.96.0.1", 82, "ClusterIP"));
	assert_int_equal(sync_dir(), 1);
	assert_int_equal(find('S', "shop/s1")->svc.ports[0].port, 82);
	/* a.yaml changing changes nothing */
	put("a.yaml", svc("s1", "10.96.0.1", 79, "ClusterIP"));
	assert_int_equal(sync_dir(), 0);
	/* the winner gone: the next one in line, b.yaml */
	rm("c.yaml");
	assert_int_equal(sync_dir(), 1);
	assert_int_equal(find('S', "shop/s1")->svc.ports[0].port, 80);
	rm("b.yaml");
	assert_int_equal(sync_dir(), 1);
	assert_int_equal(find('S', "shop/s1")->svc.ports[0].port, 79);
	rm("a.yaml");
	assert_int_equal(sync_dir(), 1);
	assert_false(find('S', "shop/s1")->present);
	/* listed twice in one file: the later one */
	put("d.yaml", docs(svc("s1", "10.96.0.1", 70, "ClusterIP"), svc("s1", "10.96.0.1", 71, "ClusterIP"), NULL));
	assert_int_equal(sync_dir(), 1);
	assert_int_equal(find('S', "shop/s1")->svc.ports[0].port, 71);
	/* a Service and an EndpointSlice of the same name are different objects */
	put("e.yaml", slice("s1", "s1", "10.244.1.1", true, "n"));
	assert_int_equal(sync_dir(), 1);
	assert_true(find('E', "shop/s1")->present);
}

static void test_no_longer_the_proxys(void **state)
{
	(void)state;
	put("a.yaml", docs(svc("s1", "10.96.0.1", 80, "ClusterIP"), svc("s2", "10.96.0.2", 80, "ClusterIP"), NULL));
	assert_int_equal(sync_dir(), 2);
	put("a.yaml", docs(svc("s1", "10.96.0.1", 80, "ExternalName"), svc("s2", "10.96.0.2", 80, "ClusterIP"), NULL));
	assert_int_equal(sync_dir(), 1);
	assert_false(find('S', "shop/s1")->present);
	put("a.yaml", docs(svc("s1", "10.96.0.1", 80, "ClusterIP"), svc("s2", "10.96.0.2", 80, "ClusterIP"), NULL));
	assert_int_equal(sync_dir(), 1);
	assert_true(find('S', "shop/s1")->present);
	/* the label of another proxy, added at runtime */
	put("a.yaml", "apiVersion: v1\nkind: Service\n"
		      "metadata: {name: s1, namespace: shop, labels: {service.kubernetes.io/service-proxy-name: other}}\n"
		      "spec: {clusterIP: 10.96.0.1, ports: [{name: http, port: 80}]}\n---\n" );
	assert_int_equal(sync_dir(), 2);
	assert_false(find('S', "shop/s1")->present);
	assert_false(find('S', "shop/s2")->present);
}

/* A ConfigMap volume: files are symlinks into ..data, which kubelet swaps atomically. */
static void test_configmap_volume(void **state)
{
	(void)state;
	assert_int_equal(mkdir(at("..v1"), 0755), 0);
	put("..v1/svc.yaml", svc("s1", "10.96.0.1", 80, "ClusterIP"));
	assert_int_equal(symlink("..v1", at("..data")), 0);
	assert_int_equal(symlink("..data/svc.yaml", at("svc.yaml")), 0);
	assert_int_equal(sync_dir(), 1);
	assert_int_equal(mkdir(at("..v2"), 0755), 0);
	put("..v2/svc.yaml", svc("s1", "10.96.0.1", 90, "ClusterIP"));
	assert_int_equal(symlink("..v2", at("..data_tmp")), 0);
	mv("..data_tmp", "..data");
	assert_int_equal(sync_dir(), 1);
	assert_int_equal(find('S', "shop/s1")->svc.ports[0].port, 90);
	/* a key added to the ConfigMap: a new symlink */
	put("..v2/more.yaml", svc("s2", "10.96.0.2", 90, "ClusterIP"));
	assert_int_equal(symlink("..data/more.yaml", at("more.yaml")), 0);
	assert_int_equal(sync_dir(), 1);
	assert_true(find('S', "shop/s2")->present);
}

/* More events than the kernel queues: the source rescans and still ends right. */
static void test_overflow(void **state)
{
	int fd;

	(void)state;
	put("a.yaml", svc("s1", "10.96.0.1", 80, "ClusterIP"));
	put("b.yaml", svc("s2", "10.96.0.2", 80, "ClusterIP"));
	assert_int_equal(sync_dir(), 2);
	/* each open+write+close queues IN_MODIFY and IN_CLOSE_WRITE; 16384: max_queued_events' default */
	for (int i = 0; i < 16384 / 2 + 100; i++) {
		assert_true((fd = open(at("x.yml"), O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0);
		assert_int_equal(write(fd, "a: 1\n", 5), 5);
		close(fd);
	}
	rm("b.yaml");
	put("a.yaml", svc("s1", "10.96.0.1", 81, "ClusterIP"));
	assert_int_equal(sync_dir(), 2);
	assert_int_equal(find('S', "shop/s1")->svc.ports[0].port, 81);
	assert_false(find('S', "shop/s2")->present);
}

static void test_directory_gone(void **state)
{
	char other[600];

	(void)state;
	put("a.yaml", svc("s1", "10.96.0.1", 80, "ClusterIP"));
	assert_int_equal(sync_dir(), 1);
	rm_rf(dir);
	assert_int_equal(sync_dir(), -ENOENT);
	assert_int_equal(ntotal, 1);   /* its files were deleted first: their objects went */
	assert_false(find('S', "shop/s1")->present);
	assert_int_equal(sync_dir(), -ENOENT);
	assert_int_equal(ntotal, 0);
	/* back (the caller retries now and then): watched and read again */
	assert_int_equal(mkdir(dir, 0700), 0);
	put("b.yaml", svc("s2", "10.96.0.2", 80, "ClusterIP"));
	assert_int_equal(sync_dir(), 1);
	assert_true(find('S', "shop/s2")->present);
	put("b.yaml", svc("s2", "10.96.0.2", 81, "ClusterIP"));
	assert_true(readable(px_dir_fd(pd), 2000));
	assert_int_equal(sync_dir(), 1);
	rm("b.yaml");
	assert_int_equal(sync_dir(), 1);
	/* moved away: its objects stay; moved back: read again, nothing differs */
	put("a.yaml", svc("s1", "10.96.0.1", 80, "ClusterIP"));
	assert_int_equal(sync_dir(), 1);
	snprintf(other, sizeof(other), "%s.moved", dir);
	assert_int_equal(rename(dir, other), 0);
	assert_int_equal(sync_dir(), -ENOENT);
	assert_int_equal(ntotal, 0);
	assert_int_equal(rename(other, dir), 0);
	assert_int_equal(sync_dir(), 0);
	put("a.yaml", svc("s1", "10.96.0.1", 81, "ClusterIP"));
	assert_int_equal(sync_dir(), 1);
	/* replaced by another directory with other content: the differences */
	assert_int_equal(rename(dir, other), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	put("b.yaml", svc("s2", "10.96.0.2", 80, "ClusterIP"));
	assert_int_equal(sync_dir(), 2);
	assert_false(find('S', "shop/s1")->present);
	assert_true(find('S', "shop/s2")->present);
	rm_rf(other);
}

#define BIG 10000

static void write_big(int changed_port)
{
	FILE *f;

	assert_non_null(f = fopen(at("big.yaml"), "w"));
	fputs("apiVersion: v1\nkind: List\nitems:\n", f);
	for (int i = 0; i < BIG; i++) {
		fprintf(f, "- apiVersion: v1\n  kind: Service\n  metadata:\n    name: svc-%d\n    namespace: ns-%d\n"
			   "  spec:\n    type: NodePort\n    clusterIP: 10.96.%d.%d\n    clusterIPs:\n    - 10.96.%d.%d\n"
			   "    ports:\n    - name: http\n      port: %d\n      protocol: TCP\n      targetPort: 8080\n"
			   "      nodePort: %d\n",
			i, i % 50, i / 256, i % 256, i / 256, i % 256, i == 4321 ? changed_port : 80, 30000 + i % 2000);
		fprintf(f, "- apiVersion: discovery.k8s.io/v1\n  kind: EndpointSlice\n  addressType: IPv4\n"
			   "  metadata:\n    name: svc-%d-abcde\n    namespace: ns-%d\n    labels:\n"
			   "      kubernetes.io/service-name: svc-%d\n"
			   "  endpoints:\n  - addresses:\n    - 10.244.%d.%d\n    conditions:\n      ready: true\n"
			   "      serving: true\n      terminating: false\n    nodeName: node-%d\n"
			   "  - addresses:\n    - 10.245.%d.%d\n    conditions:\n      ready: true\n    nodeName: node-%d\n"
			   "  ports:\n  - name: http\n    port: 8080\n    protocol: TCP\n",
			i, i % 50, i, i / 256, i % 256, i % 7, i / 256, i % 256, i % 5);
	}
	assert_int_equal(fclose(f), 0);
}

/* a sync that must report `expect` changes within `limit` seconds */
static void timed_sync(int expect, double limit, const char *what)
{
	struct timespec a, b;
	double t;

	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(sync_dir(), expect);
	clock_gettime(CLOCK_MONOTONIC, &b);
	t = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	print_message("# %d Services + %d EndpointSlices in one file, %s: %.3f s\n", BIG, BIG, what, t);
	assert_true(t < limit);
}

static void test_large_file(void **state)
{
	double limit = 1.0;

	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	limit = 10.0;   /* ASan makes every allocation and access several times dearer */
#endif
	write_big(80);
	timed_sync(2 * BIG, limit, "first load");
	/* one Service of 10,000 changed in the same file: one report */
	write_big(81);
	timed_sync(1, limit, "one Service changed");
	assert_int_equal(find('S', "ns-21/svc-4321")->svc.ports[0].port, 81);
	rm("big.yaml");
	timed_sync(2 * BIG, limit, "file deleted");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_initial_load_and_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_change_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_file_keeps_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_and_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncate_then_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_object_in_two_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_longer_the_proxys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configmap_volume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_file, setup, teardown),
	};

	return cmocka_run_group_tests_name("source-dir", tests, NULL, NULL);
}
