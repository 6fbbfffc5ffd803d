/* SPDX-License-Identifier: Apache-2.0 */
/*
 * podnet-proxy: a kube-proxy replacement.  Services and EndpointSlices come from a source
 * (a manifest directory, watched with inotify), live in the store, and the nftables
 * backend programs what changed.  Logs go to stderr.  SIGTERM / SIGINT end the daemon and
 * leave the rules in place (Services keep working while it restarts); --cleanup removes
 * every table of ours.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "conntrack.h"
#include "healthcheck.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "model.h"
#include "nl.h"
#include "source-dir.h"
#include "store.h"

struct opts {
	const char *backend, *manifests, *metrics_addr, *healthz_addr;
	char node[256];
	bool cleanup;
	int verbosity;
	int sync_period_ms;
	struct px_nft_config nft;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: podnet-proxy --manifests DIR [options]\n"
		"       podnet-proxy --cleanup\n"
		"  --backend nftables              the data plane (nftables; eBPF comes later)\n"
		"  --manifests DIR                 Services and EndpointSlices as YAML/JSON files, watched\n"
		"  --node-name NAME                this node (default: the host name), for local endpoints\n"
		"  --cluster-cidr CIDR[,CIDR]      pod addresses: ClusterIP traffic from elsewhere is masqueraded\n"
		"  --nodeport-addresses CIDR[,..]  NodePorts only on local addresses in these (default: all)\n"
		"  --masquerade-all                masquerade all ClusterIP traffic\n"
		"  --metrics-bind-address A:P      /metrics (default 127.0.0.1:10249; port 0 disables)\n"
		"  --healthz-bind-address A:P      /healthz, /livez (default 127.0.0.1:10256; port 0 disables)\n"
		"  --ip-families 4|6|4,6           families to program (default both)\n"
		"  --sync-period DURATION          how often to check that our tables are intact (default 30s)\n"
		"  --cleanup                       remove every nftables table of ours and exit\n"
		"  -v, --v N                       2: log every sync with its duration\n");
}

static int prefixes(const char *arg, struct pn_prefix *out, size_t max, size_t *n, const char *flag)
{
	char buf[1024], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", arg);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		if (*n == max || pn_prefix_parse(t, &out[*n]) < 0) {
			fprintf(stderr, "podnet-proxy: %s: invalid CIDR \"%s\"\n", flag, t);
			return -EINVAL;
		}
		(*n)++;
	}
	return 0;
}

/* "30s", "500ms", "1m", "2h" (Go's time.Duration, one unit) in ms; <= 0 when malformed */
static int duration_ms(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v <= 0)
		return -1;
	if (!strcmp(end, "ms"))
		return v > 86400000 ? -1 : (int)v;
	if (!strcmp(end, "s"))
		return v > 86400 ? -1 : (int)(v * 1000);
	if (!strcmp(end, "m"))
		return v > 1440 ? -1 : (int)(v * 60000);
	if (!strcmp(end, "h"))
		return v > 24 ? -1 : (int)(v * 3600000);
	return -1;
}

static int parse(int argc, char **argv, struct opts *o)
{
	enum { O_BACKEND = 256, O_MANIFESTS, O_NODE, O_CIDR, O_NP, O_MASQ, O_METRICS, O_HEALTHZ, O_FAM, O_CLEANUP, O_HELP,
	       O_PERIOD };
	static const struct option lo[] = {
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "manifests", required_argument, NULL, O_MANIFESTS },
		{ "node-name", required_argument, NULL, O_NODE },
		{ "hostname-override", required_argument, NULL, O_NODE },
		{ "cluster-cidr", required_argument, NULL, O_CIDR },
		{ "nodeport-addresses", required_argument, NULL, O_NP },
		{ "masquerade-all", no_argument, NULL, O_MASQ },
		{ "metrics-bind-address", required_argument, NULL, O_METRICS },
		{ "healthz-bind-address", required_argument, NULL, O_HEALTHZ },
		{ "ip-families", required_argument, NULL, O_FAM },
		{ "cleanup", no_argument, NULL, O_CLEANUP },
		{ "sync-period", required_argument, NULL, O_PERIOD },
		{ "help", no_argument, NULL, O_HELP },
		{ "v", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->backend = "nftables";
	o->metrics_addr = "127.0.0.1:10249";
	o->healthz_addr = "127.0.0.1:10256";
	o->nft.ipv4 = o->nft.ipv6 = true;
	o->sync_period_ms = 30000;
	if (gethostname(o->node, sizeof(o->node) - 1) < 0)
		o->node[0] = '\0';
	while ((c = getopt_long(argc, argv, "hv:", lo, NULL)) != -1) {
		switch (c) {
		case 'v': o->verbosity = atoi(optarg); break;
		case O_BACKEND: o->backend = optarg; break;
		case O_MANIFESTS: o->manifests = optarg; break;
		case O_NODE: snprintf(o->node, sizeof(o->node), "%s", optarg); break;
		case O_CIDR:
			if (prefixes(optarg, o->nft.cluster_cidr, 4, &o->nft.ncluster_cidr, "--cluster-cidr") < 0)
				return -EINVAL;
			break;
		case O_NP:
			if (prefixes(optarg, o->nft.nodeport_cidr, 8, &o->nft.nnodeport_cidr, "--nodeport-addresses") < 0)
				return -EINVAL;
			break;
		case O_MASQ: o->nft.masquerade_all = true; break;
		case O_METRICS: o->metrics_addr = optarg; break;
		case O_HEALTHZ: o->healthz_addr = optarg; break;
		case O_FAM:
			o->nft.ipv4 = strchr(optarg, '4') != NULL;
			o->nft.ipv6 = strchr(optarg, '6') != NULL;
			if (!o->nft.ipv4 && !o->nft.ipv6) {
				fprintf(stderr, "podnet-proxy: --ip-families: 4, 6 or 4,6\n");
				return -EINVAL;
			}
			break;
		case O_CLEANUP: o->cleanup = true; break;
		case O_PERIOD:
			if ((o->sync_period_ms = duration_ms(optarg)) <= 0) {
				fprintf(stderr, "podnet-proxy: --sync-period: a duration such as 30s, 500ms or 1m\n");
				return -EINVAL;
			}
			break;
		case O_HELP: usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "podnet-proxy: unexpected argument \"%s\"\n", argv[optind]);
		return -EINVAL;
	}
	if (strcmp(o->backend, "nftables")) {
		fprintf(stderr, "podnet-proxy: --backend %s: only nftables is available\n", o->backend);
		return -EINVAL;
	}
	if (!o->cleanup && !o->manifests) {
		fprintf(stderr, "podnet-proxy: --manifests DIR is required (the Kubernetes API source comes later)\n");
		return -EINVAL;
	}
	o->nft.node = o->node;
	return 0;
}

/* The local addresses inside --nodeport-addresses (loopback never: kube-proxy refuses it too). */
static int nodeport_ips(struct px_nft_config *c, struct pn_err *e)
{
	struct pn_addr addrs[256];
	struct pn_nl nl;
	size_t n = 0;
	int r;

	if (!c->nnodeport_cidr)
		return 0;
	if ((r = pn_nl_open(&nl, e)) < 0)
		return r;
	r = pn_addr_list(&nl, 0, AF_UNSPEC, addrs, 256, &n, e);
	pn_nl_close(&nl);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && c->nnodeport_ips < 32; i++) {
		const struct pn_ip *ip = &addrs[i].p.ip;

		if ((ip->family == AF_INET && ip->a[0] == 127) || (ip->family == AF_INET6 && addrs[i].scope == 254))
			continue;
		for (size_t k = 0; k < c->nnodeport_cidr; k++) {
			if (pn_prefix_contains(&c->nodeport_cidr[k], ip)) {
				c->nodeport_ips[c->nnodeport_ips++] = *ip;
				break;
			}
		}
	}
	return 0;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct daemon {
	struct opts o;
	struct px_store st;
	struct px_nft *nft;
	struct px_dir *dir;
	struct px_metrics m;
	struct px_hc *hc;            /* the health-check servers of eTP Local LoadBalancers */
	struct px_source_cb cb;      /* the source's callbacks, into the store */
	bool synced_once;
};

/* After a successful sync: UDP flows to endpoints that are gone are removed (#139628 too). */
static void conntrack_cleanup(const struct px_sync_stats *s)
{
	struct px_ct_target *t;
	struct pn_err e = { 0 };
	unsigned deleted = 0;

	if (!s->nudp || !(t = calloc(s->nudp, sizeof(*t))))
		return;
	for (size_t i = 0; i < s->nudp; i++) {
		t[i] = (struct px_ct_target){ .family = s->udp[i].family, .any_dst = s->udp[i].any_dst,
					      .dst = s->udp[i].dst, .port = s->udp[i].port,
					      .keep = s->udp[i].keep, .nkeep = s->udp[i].nkeep };
	}
	if (px_ct_clean_udp(t, s->nudp, &deleted, &e) < 0)
		pn_log("podnet-proxy: conntrack cleanup: %s", e.msg);
	else if (deleted)
		pn_log("podnet-proxy: removed %u stale UDP conntrack entries", deleted);
	free(t);
}

/* kube-proxy's count: distinct addresses of this node's ready endpoints over all ports. */
static int local_ready(const struct daemon *d, const struct px_svc_view *v, unsigned *n,
		       struct pn_err *e)
{
	struct pn_ip *seen = NULL;
	size_t nseen = 0, cap = 0;
	int r = 0;

	for (size_t p = 0; p < v->svc.nports && r == 0; p++) {
		for (int f = 0; f < 2 && r == 0; f++) {
			int fam = f ? AF_INET6 : AF_INET;
			struct px_backends b;

			if (!(f ? d->o.nft.ipv6 : d->o.nft.ipv4))
				continue;
			if ((r = px_backends_of(&v->svc, &v->svc.ports[p], fam, v->refs, v->nslices,
						d->o.node, NULL, &b, e)) < 0)
				break;
			/* the fallback list is terminating endpoints standing in: not ready */
			for (size_t i = 0; i < b.nlocal && !b.local_fallback; i++) {
				size_t k = 0;

				while (k < nseen && !pn_ip_eq(&seen[k], &b.local[i].addr))
					k++;
				if (k < nseen)
					continue;
				if (nseen == cap) {
					struct pn_ip *t = realloc(seen, (cap = cap ? 2 * cap : 8) * sizeof(*t));

					if (!t) {
						r = pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
						break;
					}
					seen = t;
				}
				seen[nseen++] = b.local[i].addr;
			}
			px_backends_free(&b);
		}
	}
	free(seen);
	*n = (unsigned)nseen;
	return r;
}

/*
 * The health-check servers of the Services that changed, before the backend takes the
 * dirty list: O(changed Services), and every Service at the first sync.
 */
static void health_checks(struct daemon *d)
{
	for (struct px_svc_state *s = d->st.dirty; s; s = s->next_dirty) {
		struct px_service svc;
		struct px_svc_view v;
		struct pn_err e = { 0 };
		uint16_t port = 0;
		unsigned n = 0;
		int r;

		/* the Service alone decides whether it has a server; its slices only count then */
		if (px_store_service(s, &svc) == 0 && svc.type == PX_LOAD_BALANCER && svc.etp_local &&
		    svc.health_check_node_port) {
			if ((r = px_store_view(s, &v)) < 0) {
				pn_log("podnet-proxy: health check of %s/%s: %s", s->ns, s->name, strerror(-r));
				continue;   /* the last state stays */
			}
			port = svc.health_check_node_port;
			r = local_ready(d, &v, &n, &e);
			px_store_view_free(&v);
			if (r < 0) {
				pn_log("podnet-proxy: health check of %s/%s: %s", s->ns, s->name, e.msg);
				continue;
			}
		}
		if (px_hc_set(d->hc, s->ns, s->name, port, n) < 0)
			pn_log("podnet-proxy: health check of %s/%s: out of memory", s->ns, s->name);
	}
}

static int sync_now(struct daemon *d, bool full)
{
	struct px_sync_stats s;
	struct pn_err e = { 0 };
	double t0 = now_s(), dt;
	int r;

	health_checks(d);
	r = px_nft_sync(d->nft, &d->st, full, &s, &e);

	dt = now_s() - t0;
	px_metrics_sync(&d->m, dt, s.full, r == 0);
	if (r < 0) {
		pn_log("podnet-proxy: sync failed: %s", e.msg);
	} else {
		px_metrics_programmed(&d->m, s.services, s.endpoints, s.elements);
		if (!s.full && d->o.verbosity >= 2)
			pn_log("podnet-proxy: sync: %zu element operations in %.3f ms; %zu service ports, %zu endpoints",
			       s.ops, dt * 1000, s.services, s.endpoints);
		if (s.full || !d->synced_once)
			pn_log("podnet-proxy: programmed %zu service ports, %zu endpoints (%zu elements) in %.1f ms",
			       s.services, s.endpoints, s.elements, dt * 1000);
		conntrack_cleanup(&s);
		d->synced_once = true;
	}
	px_sync_stats_free(&s);
	return r;
}

int main(int argc, char **argv)
{
	struct daemon d = { 0 };
	struct px_http *http = NULL;
	struct pn_err e = { 0 };
	sigset_t mask;
	int sfd = -1, r, rc = 1;
	bool retry = false, reread = false, reread_logged = false;

	setvbuf(stderr, NULL, _IOLBF, 0);
	if (parse(argc, argv, &d.o) < 0)
		return 2;
	if (d.o.cleanup) {
		if (px_nft_cleanup(&e) < 0) {
			pn_log("podnet-proxy: cleanup: %s", e.msg);
			return 1;
		}
		return 0;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		pn_log("podnet-proxy: signalfd: %s", strerror(errno));
		return 1;
	}
	px_store_init(&d.st);
	px_store_set_self(&d.st, d.o.node);
	d.cb = px_store_cb;
	d.cb.ctx = &d.st;
	if (px_metrics_init(&d.m) < 0)
		goto out;
	if (nodeport_ips(&d.o.nft, &e) < 0 || px_nft_open(&d.o.nft, &d.nft, &e) < 0 ||
	    px_dir_open(d.o.manifests, &d.dir, &e) < 0 ||
	    px_http_start(d.o.metrics_addr, d.o.healthz_addr, &d.m, &http, &e) < 0 ||
	    px_hc_start(&d.m, d.o.nft.nnodeport_cidr ? d.o.nft.nodeport_ips : NULL, d.o.nft.nnodeport_ips,
			&d.hc, &e) < 0) {
		pn_log("podnet-proxy: %s", e.msg);
		goto out;
	}
	pn_log("podnet-proxy: node %s, manifests %s, backend nftables", d.o.node, d.o.manifests);
	/* everything the directory holds, then one full build: never a partial state */
	if ((r = px_dir_sync(d.dir, &d.cb)) < 0) {
		pn_log("podnet-proxy: reading %s: %s", d.o.manifests, strerror(-r));
		reread = reread_logged = r == -ENOENT || r == -ENOMEM;
	}
	retry = sync_now(&d, true) < 0;
	for (;;) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN }, { .fd = px_dir_fd(d.dir), .events = POLLIN } };
		int timeout = retry || reread ? 2000 : d.o.sync_period_ms, n;

		if ((n = poll(p, 2, timeout)) < 0) {
			if (errno == EINTR)
				continue;
			pn_log("podnet-proxy: poll: %s", strerror(errno));
			goto out;
		}
		/* a quiet period: are our tables still there? (kube-proxy's "recreate its rules") */
		if (n == 0 && !retry && !px_nft_intact(d.nft)) {
			pn_log("podnet-proxy: our nftables tables were changed by someone else; rebuilding them");
			retry = true;
		}
		if (p[0].revents & POLLIN)
			break;
		if ((p[1].revents & POLLIN) || reread) {
			/* let an editor finish its save (vim renames the old file away, then writes the
			   new one): a moment's quiet avoids dropping that file's Services in between */
			struct pollfd q = { .fd = sfd, .events = POLLIN };

			if (poll(&q, 1, 50) > 0)
				break;
			r = px_dir_sync(d.dir, &d.cb);
			/* the directory is gone (no event will come) or some report failed: try again later */
			reread = r == -ENOENT || r == -ENOMEM;
			if (r < 0 && !reread_logged)
				pn_log("podnet-proxy: reading %s: %s; the last state stays", d.o.manifests, strerror(-r));
			reread_logged = reread;
		}
		if (d.st.ndirty || d.st.cidrs_changed || retry) {
			px_metrics_queued(&d.m);
			retry = sync_now(&d, retry) < 0;
		}
	}
	{
		struct signalfd_siginfo si;

		if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			pn_log("podnet-proxy: %s: exiting, rules stay in place", strsignal((int)si.ssi_signo));
	}
	rc = 0;
out:
	px_hc_stop(d.hc);
	px_http_stop(http);
	px_dir_close(d.dir);
	px_nft_close(d.nft, &d.st);
	px_store_free(&d.st);
	px_metrics_destroy(&d.m);
	if (sfd >= 0)
		close(sfd);
	return rc;
}
