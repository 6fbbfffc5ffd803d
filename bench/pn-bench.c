/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pn-bench: run a CNI plugin many times the way a container runtime does (fork+exec with
 * the request on stdin and CNI_* in the environment) and report per-op latency and the
 * children's peak RSS.
 *
 *   pn-bench --plugin PATH --conf FILE --runs N [--label TEXT] [--prefix ID] [--first K]
 *            [--add-only | --del-only] [--netns-prefix PATH]
 *   pn-bench --floor-veth POD_NETNS --node NODE_NETNS --runs N [--label TEXT] [--bridge NAME]
 *
 * Runs ADD for CNI_CONTAINERID=<prefix>K..K+N-1 (K = --first, default 0), then DEL for the same
 * IDs (--add-only: ADD alone, --del-only: DEL alone), and prints "LABEL  OP  p50_ms  p95_ms
 * max_rss_kib" per op (nearest-rank percentiles of the fork..wait4 wall time; max_rss = the largest
 * ru_maxrss of the children, which includes what they waited for, e.g. an IPAM plugin or iptables).
 * With --netns-prefix, run i also gets CNI_NETNS=<PATH><i> (the caller makes those netns).
 * Exits 1 with a message if any run fails.
 *
 * --floor-veth measures the kernel's own cost under every bridge ADD/DEL, in this process, over
 * netlink, without exec: the veth pair made the way the plugins make it -- "eth0" created from a
 * socket in POD_NETNS with its peer "pnfloor0" born in NODE_NETNS (IFLA_NET_NS_FD) -- and deleted
 * again by name (RTM_DELLINK of eth0, which takes the peer with it), N times; each sample is one
 * create + delete (two netlink round trips).  With --bridge (the node's bridge NAME), the create
 * half also has the peer join that bridge and come up (no IPv6 address, as bridge makes it), eth0
 * come up, and waits until the port is operationally up: what the kernel does for every bridge
 * ADD with that bridge's ports, without the plugin's own work.  Prints "LABEL  VETH  p50  p95  0", then the same for
 * the two halves alone (VETH_ADD, VETH_DEL; their p50s need not add up).  Links are only ever made
 * in the two named netns (which must differ), never in this process's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "netns.h"
#include "nl.h"

extern char **environ;

struct opts {
	const char *plugin, *conf, *label, *prefix, *netns_prefix, *floor_ns, *floor_node, *floor_bridge;
	long runs, first;
	int add_only, del_only;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* nearest-rank percentile of a sorted array */
static double pct(const double *v, long n, double q)
{
	long k = (long)ceil(q * (double)n) - 1;

	return v[k < 0 ? 0 : k];
}

/*
 * Run the plugin once with stdin = conf_fd (rewound) and stdout/stderr = null_fd; on success store
 * the wall time and the child's ru_maxrss.  fork() rather than posix_spawn(): a CLONE_VM child
 * inherits our RSS high-water mark into its ru_maxrss, a forked one only the pages it touches.
 */
static int run_one(const struct opts *o, const char *cmd, long i, char **envp, size_t nenv,
		   int conf_fd, int null_fd, double *ms, long *rss_kib)
{
	char env_cmd[64], env_id[512], env_ns[600];
	char *argv[] = { (char *)o->plugin, NULL };
	struct rusage ru;
	int status;
	double t0;
	pid_t pid;

	snprintf(env_cmd, sizeof(env_cmd), "CNI_COMMAND=%s", cmd);
	snprintf(env_id, sizeof(env_id), "CNI_CONTAINERID=%s%ld", o->prefix, i);
	envp[nenv] = env_cmd;
	envp[nenv + 1] = env_id;
	envp[nenv + 2] = NULL;
	if (o->netns_prefix) {
		snprintf(env_ns, sizeof(env_ns), "CNI_NETNS=%s%ld", o->netns_prefix, i);
		envp[nenv + 2] = env_ns;
		envp[nenv + 3] = NULL;
	}
	if (lseek(conf_fd, 0, SEEK_SET) < 0)
		return -errno;

	t0 = now_ms();
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (dup2(conf_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0)
			_exit(126);
		execve(o->plugin, argv, envp);
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return -errno;
	*ms = now_ms() - t0;
	*rss_kib = ru.ru_maxrss;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "pn-bench: %s %s CNI_CONTAINERID=%s%ld failed (%s %d)\n", o->plugin, cmd,
			o->prefix, i, WIFEXITED(status) ? "exit" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -ECHILD;
	}
	return 0;
}

static int run_op(const struct opts *o, const char *cmd, char **envp, size_t nenv, int conf_fd,
		  int null_fd, double *ms)
{
	long i, rss, max_rss = 0;
	int r;

	for (i = 0; i < o->runs; i++) {
		if ((r = run_one(o, cmd, o->first + i, envp, nenv, conf_fd, null_fd, &ms[i], &rss)) < 0)
			return r;
		if (rss > max_rss)
			max_rss = rss;
	}
	qsort(ms, o->runs, sizeof(*ms), cmp_double);
	printf("%s  %s  %.3f  %.3f  %ld\n", o->label, cmd, pct(ms, o->runs, 0.50), pct(ms, o->runs, 0.95),
	       max_rss);
	fflush(stdout);
	return 0;
}

/* RTM_DELLINK by name: one round trip, as a plugin that knows the name does it */
static int link_del_name(struct pn_nl *nl, const char *name, struct pn_err *e)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = RTM_DELLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return pn_nl_talk(nl, nlh, NULL, NULL, e);
}

/*
 * The kernel's floor: "eth0" made from a socket in the pod netns with its peer born in the node
 * netns, then deleted, N times.  Both netns are named; this process's own is never touched.
 */
/* --bridge: the peer joins the bridge and comes up, then eth0; until the port is oper-up */
static int port_up(struct pn_nl *node, struct pn_nl *mon, struct pn_nl *pod, int bridge, struct pn_err *e)
{
	struct pn_link_change ch = PN_LINK_CHANGE_NONE;
	struct pn_link peer, eth0;
	uint8_t state;
	int r;

	if ((r = pn_link_get(node, "pnfloor0", 0, &peer, e)) < 0 || (r = pn_link_get(pod, "eth0", 0, &eth0, e)) < 0)
		return r;
	ch.master = bridge;
	ch.up = 1;
	ch.addr_gen_mode = peer.accept_ra >= 0 ? IN6_ADDR_GEN_MODE_NONE : -1;
	if ((r = pn_link_set(node, peer.index, &ch, e)) < 0)
		return r;
	ch = (struct pn_link_change)PN_LINK_CHANGE_NONE;
	ch.up = 1;
	if ((r = pn_link_set(pod, eth0.index, &ch, e)) < 0)
		return r;
	return pn_link_wait_operstate(node, mon, peer.index, 6 /* IF_OPER_UP */, 2550, &state, e);
}

static int floor_veth(const struct opts *o, double *ms, double *ms_add, double *ms_del)
{
	struct pn_nl pod = { 0 }, node = { 0 }, mon = { 0 };
	int bridge_index = 0;
	struct pn_err e = { 0 };
	int pod_fd = -1, node_fd = -1, saved = -1, r;
	long i;

	if ((r = pn_netns_open(o->floor_node, &node_fd, &e)) < 0 || (r = pn_netns_open(o->floor_ns, &pod_fd, &e)) < 0)
		goto fail;
	if ((r = pn_netns_same(node_fd, pod_fd)) != 0) {
		if (r > 0)
			pn_err_set(&e, 0, -EINVAL, "the pod and the node netns are the same");
		r = r > 0 ? -EINVAL : r;
		goto fail;
	}
	/* a socket stays in the netns it was opened in */
	if ((r = pn_netns_enter(pod_fd, &saved, &e)) < 0)
		goto fail;
	r = pn_nl_open(&pod, &e);
	if (pn_netns_leave(&saved) < 0) {
		fprintf(stderr, "pn-bench: floor: cannot return to the original netns\n");
		exit(1);
	}
	if (r < 0)
		goto fail;
	if (o->floor_bridge) {
		struct pn_link br;

		/* the node's sockets are opened in the node netns, whichever this process is in */
		if ((r = pn_netns_enter(node_fd, &saved, &e)) < 0)
			goto fail;
		if ((r = pn_nl_open(&node, &e)) == 0)
			r = pn_nl_open_monitor(&mon, RTMGRP_LINK, &e);
		if (pn_netns_leave(&saved) < 0) {
			fprintf(stderr, "pn-bench: floor: cannot return to the original netns\n");
			exit(1);
		}
		if (r < 0 || (r = pn_link_get(&node, o->floor_bridge, 0, &br, &e)) < 0)
			goto fail;
		bridge_index = br.index;
	}
	for (i = 0; i < o->runs; i++) {
		double t0, t1;
		char drain[8192];

		/* the last run's events are not this run's work */
		while (bridge_index && mnl_socket_recvfrom(mon.sock, drain, sizeof(drain)) > 0)
			;
		t0 = now_ms();
		if ((r = pn_link_add_veth(&pod, "eth0", 0, NULL, "pnfloor0", 0, node_fd, &e)) < 0)
			goto fail;
		if (bridge_index && (r = port_up(&node, &mon, &pod, bridge_index, &e)) < 0) {
			struct pn_err ignore;

			link_del_name(&pod, "eth0", &ignore);
			goto fail;
		}
		t1 = now_ms();
		if ((r = link_del_name(&pod, "eth0", &e)) < 0)
			goto fail;
		ms[i] = now_ms() - t0;
		ms_add[i] = t1 - t0;
		ms_del[i] = ms[i] - ms_add[i];
	}
	qsort(ms, o->runs, sizeof(*ms), cmp_double);
	qsort(ms_add, o->runs, sizeof(*ms), cmp_double);
	qsort(ms_del, o->runs, sizeof(*ms), cmp_double);
	printf("%s  VETH  %.3f  %.3f  0\n", o->label, pct(ms, o->runs, 0.50), pct(ms, o->runs, 0.95));
	printf("%s  VETH_ADD  %.3f  %.3f  0\n", o->label, pct(ms_add, o->runs, 0.50), pct(ms_add, o->runs, 0.95));
	printf("%s  VETH_DEL  %.3f  %.3f  0\n", o->label, pct(ms_del, o->runs, 0.50), pct(ms_del, o->runs, 0.95));
	r = 0;
	goto out;
fail:
	fprintf(stderr, "pn-bench: floor: %s\n", e.msg[0] ? e.msg : strerror(-r));
	r = -ECHILD;
out:
	pn_nl_close(&pod);
	pn_nl_close(&node);
	pn_nl_close(&mon);
	if (pod_fd >= 0)
		close(pod_fd);
	if (node_fd >= 0)
		close(node_fd);
	return r;
}

static int usage(void)
{
	fprintf(stderr, "usage: pn-bench --plugin PATH --conf FILE --runs N [--label TEXT] [--prefix ID]\n"
			"                [--first K] [--add-only | --del-only] [--netns-prefix PATH]\n"
			"       pn-bench --floor-veth POD_NETNS --node NODE_NETNS --runs N [--label TEXT] [--bridge NAME]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "plugin", required_argument, NULL, 'p' }, { "conf", required_argument, NULL, 'c' },
		{ "runs", required_argument, NULL, 'n' },   { "label", required_argument, NULL, 'l' },
		{ "prefix", required_argument, NULL, 'x' }, { "add-only", no_argument, NULL, 'a' },
		{ "netns-prefix", required_argument, NULL, 's' }, { "floor-veth", required_argument, NULL, 'f' },
		{ "bridge", required_argument, NULL, 'B' },
		{ "first", required_argument, NULL, 'k' },  { "del-only", no_argument, NULL, 'd' },
		{ "node", required_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .label = "bench", .prefix = "bench-" };
	char **envp = NULL, *end;
	double *ms = NULL;
	int c, r = 0, conf_fd = -1, null_fd = -1;
	size_t nenv = 0, i;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'p': o.plugin = optarg; break;
		case 'c': o.conf = optarg; break;
		case 'l': o.label = optarg; break;
		case 'x': o.prefix = optarg; break;
		case 'a': o.add_only = 1; break;
		case 'd': o.del_only = 1; break;
		case 's': o.netns_prefix = optarg; break;
		case 'f': o.floor_ns = optarg; break;
		case 'N': o.floor_node = optarg; break;
		case 'B': o.floor_bridge = optarg; break;
		case 'n':
			errno = 0;
			o.runs = strtol(optarg, &end, 10);
			if (errno || *end || o.runs < 1 || o.runs > 10000000)
				return usage();
			break;
		case 'k':
			errno = 0;
			o.first = strtol(optarg, &end, 10);
			if (errno || *end || o.first < 0 || o.first > 10000000)
				return usage();
			break;
		default: return usage();
		}
	}
	if (o.add_only && o.del_only)
		return usage();
	if (optind == argc && o.floor_ns && o.floor_node && o.runs) {
		if (!(ms = calloc(3 * (size_t)o.runs, sizeof(*ms))))
			return 1;
		r = floor_veth(&o, ms, ms + o.runs, ms + 2 * o.runs);
		free(ms);
		return r < 0 ? 1 : 0;
	}
	if (optind != argc || !o.plugin || !o.conf || !o.runs)
		return usage();

	if (access(o.plugin, X_OK) < 0) {
		fprintf(stderr, "pn-bench: %s: %s\n", o.plugin, strerror(errno));
		return 1;
	}
	if ((conf_fd = open(o.conf, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0) {
		r = -errno;
		fprintf(stderr, "pn-bench: %s: %s\n", conf_fd < 0 ? o.conf : "/dev/null", strerror(-r));
		r = -ECHILD; /* reported */
		goto out;
	}

	/* the current environment minus the variables we set per run, plus room for them */
	for (i = 0; environ[i]; i++)
		;
	if (!(envp = calloc(i + 4, sizeof(*envp))) || !(ms = calloc(o.runs, sizeof(*ms)))) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; environ[i]; i++)
		if (strncmp(environ[i], "CNI_COMMAND=", 12) && strncmp(environ[i], "CNI_CONTAINERID=", 16) &&
		    (!o.netns_prefix || strncmp(environ[i], "CNI_NETNS=", 10)))
			envp[nenv++] = environ[i];

	if (!o.del_only && (r = run_op(&o, "ADD", envp, nenv, conf_fd, null_fd, ms)) < 0)
		goto out;
	if (!o.add_only && (r = run_op(&o, "DEL", envp, nenv, conf_fd, null_fd, ms)) < 0)
		goto out;
out:
	if (r < 0 && r != -ECHILD) /* already reported */
		fprintf(stderr, "pn-bench: %s: %s\n", o.label, strerror(-r));
	if (conf_fd >= 0)
		close(conf_fd);
	if (null_fd >= 0)
		close(null_fd);
	free(envp);
	free(ms);
	return r < 0 ? 1 : 0;
}
