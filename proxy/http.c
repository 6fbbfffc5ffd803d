/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "log.h"

#define MAX_CONNS 16
#define HEAD_MAX 8192          /* request line + headers; Go's default is 1 MiB, we need ~200 B */
#define READ_TIMEOUT 2.0       /* seconds to send the whole request head */
#define WRITE_TIMEOUT 5.0      /* seconds to take the answer */
#define LINGER_TIMEOUT 1.0     /* seconds to drain after answering, see conn_written() */
#define ACCEPT_PAUSE 0.1       /* seconds without accept() after running out of fds */

enum conn_state { C_FREE, C_READ, C_WRITE, C_LINGER };

struct conn {
	enum conn_state state;
	int fd;
	enum px_http_which role;
	double deadline;       /* monotonic seconds; the connection is dropped after it */
	size_t used;
	char *out;             /* the whole answer, head and body */
	size_t out_len, out_off;
	char in[HEAD_MAX];
};

struct listener {
	int fd;                /* -1: disabled */
	int port;
};

struct px_http {
	struct listener l[2];  /* indexed by enum px_http_which */
	int wake[2];           /* px_http_stop() writes to [1] to end poll() */
	pthread_t thread;
	struct px_metrics *m;
	double accept_pause_until;
	struct conn conns[MAX_CONNS];
};

static const char *const which_name[] = { "metrics", "healthz" };

/*
 * "HOST:PORT", "[V6]:PORT" or ":PORT" (all addresses).  Numeric hosts only: a name would
 * need a resolver at start-up and could mean different addresses on each restart.
 * *port = -1 means disabled.
 */
static int parse_addr(const char *what, const char *s, struct sockaddr_storage *ss,
		      bool *any, int *port, struct pn_err *e)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *p;
	unsigned long v;
	size_t hl;
	char *end;

	*port = -1;
	*any = false;
	memset(ss, 0, sizeof(*ss));
	if (!s || !*s || !strcmp(s, "0"))
		return 0;
	if (s[0] == '[') {
		if (!(p = strchr(s, ']')) || p[1] != ':')
			goto bad;
		hl = (size_t)(p - s - 1);
		s++;
		colon = p + 1;
	} else {
		if (!(colon = strchr(s, ':')) || strchr(colon + 1, ':'))
			goto bad;   /* no port, or an IPv6 address without brackets */
		hl = (size_t)(colon - s);
	}
	if (hl >= sizeof(host))
		goto bad;
	memcpy(host, s, hl);
	host[hl] = '\0';
	errno = 0;
	v = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end || errno || v > 65535)
		goto bad;

	if (!hl) {
		*any = true;
	} else if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
	} else {
		goto bad;
	}
	*port = (int)v;
	return 0;
bad:
	return pn_err_set(e, CNI_ERR_INVALID_CONFIG, -EINVAL,
			  "%s address \"%s\": want IPv4:PORT, [IPv6]:PORT or :PORT", what, s);
}

static int open_listener(enum px_http_which which, const char *addr, unsigned flags,
			 struct listener *l, struct pn_err *e)
{
	const char *what = which_name[which];
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = -1, one = 1, zero = 0, port, r;
	bool any;

	l->fd = -1;
	l->port = 0;
	if ((r = parse_addr(what, addr, &ss, &any, &port, e)) < 0)
		return r;
	if (port < 0 || (port == 0 && !(flags & PX_HTTP_EPHEMERAL)))
		return 0;

	if (any) {
		/* ":PORT" means both families, as Go's net.Listen reads it: one dual-stack socket */
		ss.ss_family = AF_INET6;
		fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0 && errno == EAFNOSUPPORT) {
			ss.ss_family = AF_INET;
			((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_ANY);
		}
	}
	if (fd < 0)
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = pn_err_set(e, CNI_ERR_INTERNAL, -errno, "%s address %s: socket: %s",
			       what, addr, strerror(errno));
		goto out;
	}
	if (ss.ss_family == AF_INET) {
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
		sl = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
		sl = sizeof(struct sockaddr_in6);
		if (any)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	/* a restarted daemon must not fail on its predecessor's TIME_WAIT connections */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		r = pn_err_set(e, CNI_ERR_INTERNAL, -errno, "%s address %s: bind: %s",
			       what, addr, strerror(errno));
		goto out;
	}
	if (listen(fd, 64) < 0) {
		r = pn_err_set(e, CNI_ERR_INTERNAL, -errno, "%s address %s: listen: %s",
			       what, addr, strerror(errno));
		goto out;
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		r = pn_err_set(e, CNI_ERR_INTERNAL, -errno, "%s address %s: getsockname: %s",
			       what, addr, strerror(errno));
		goto out;
	}
	l->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						: ((struct sockaddr_in6 *)&ss)->sin6_port);
	l->fd = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
	c->state = C_FREE;
}

/*
 * Answered: stop sending, then read until the peer closes (briefly).  Closing a socket
 * with unread input sends a RST, which can make the peer drop our answer before it read
 * it; that happens exactly for the garbage and oversized requests we answer early.
 */
static void conn_written(struct conn *c, double now)
{
	free(c->out);
	c->out = NULL;
	shutdown(c->fd, SHUT_WR);
	c->state = C_LINGER;
	c->deadline = now + LINGER_TIMEOUT;
}

static void conn_write(struct conn *c, double now)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;   /* poll for POLLOUT */
		if (n < 0) {
			conn_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	conn_written(c, now);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

/* Queues the answer and starts sending it.  head: HEAD request, headers only. */
static void respond(struct conn *c, double now, int status, const char *ctype,
		    const char *extra, const char *body, size_t blen, bool head)
{
	char hdr[512];   /* our own fixed strings: a status line and at most five headers */
	size_t hl;

	hl = (size_t)snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			      "Content-Length: %zu\r\n%sConnection: close\r\n\r\n", status,
			      reason(status), ctype, blen, extra ? extra : "");
	if (!(c->out = malloc(hl + (head ? 0 : blen)))) {
		conn_close(c);   /* out of memory: the client sees a reset and retries */
		return;
	}
	memcpy(c->out, hdr, hl);
	if (!head)
		memcpy(c->out + hl, body, blen);
	c->out_len = hl + (head ? 0 : blen);
	c->out_off = 0;
	c->state = C_WRITE;
	c->deadline = now + WRITE_TIMEOUT;
	conn_write(c, now);
}

/* Go's http.Error does the same: plain text, nosniff */
static void respond_error(struct conn *c, double now, int status, const char *extra, bool head)
{
	char body[64], hdrs[96];
	int n;

	n = snprintf(body, sizeof(body), "%d %s\n", status, reason(status));
	snprintf(hdrs, sizeof(hdrs), "X-Content-Type-Options: nosniff\r\n%s", extra ? extra : "");
	respond(c, now, status, "text/plain; charset=utf-8", hdrs, body, (size_t)n, head);
}

static bool is_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/*
 * Splits "METHOD SP TARGET SP HTTP/1.x" (RFC 9112 §3) in place.  *path ends at the query;
 * an absolute-form target ("http://host/metrics") is reduced to its path.
 */
static bool parse_request_line(char *line, char **method, char **path)
{
	char *target, *version, *p;

	if (!(target = strchr(line, ' ')) || target == line)
		return false;
	*target++ = '\0';
	if (!(version = strchr(target, ' ')) || version == target)
		return false;
	*version++ = '\0';
	for (p = line; *p; p++)
		if (!is_tchar(*p))
			return false;
	for (p = target; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	if (strcmp(version, "HTTP/1.1") && strcmp(version, "HTTP/1.0"))
		return false;
	if (!strncasecmp(target, "http://", 7) || !strncasecmp(target, "https://", 8)) {
		if ((p = strchr(strstr(target, "://") + 3, '/'))) {
			target = p;
		} else {
			target[0] = '/';   /* "http://host" names the root */
			target[1] = '\0';
		}
	}
	if (target[0] != '/')
		return false;
	target[strcspn(target, "?#")] = '\0';
	*method = line;
	*path = target;
	return true;
}

static void route(struct px_http *h, struct conn *c, double now, const char *method,
		  const char *path)
{
	static const char nosniff[] = "X-Content-Type-Options: nosniff\r\n";
	bool head = !strcmp(method, "HEAD"), metrics = c->role == PX_HTTP_METRICS;
	bool healthz = !strcmp(path, "/healthz"), livez = !strcmp(path, "/livez");
	char *body = NULL;
	size_t len;
	int status;

	if (metrics ? !healthz && strcmp(path, "/metrics") : !healthz && !livez)
		respond_error(c, now, 404, NULL, head);
	else if (!head && strcmp(method, "GET"))
		respond_error(c, now, 405, "Allow: GET, HEAD\r\n", false);
	else if (metrics && healthz)   /* kube-proxy's metrics server: "is the process up" */
		respond(c, now, 200, "text/plain; charset=utf-8", nosniff, "ok", 2, head);
	else if (metrics && px_metrics_render(h->m, &body, &len) == 0)
		respond(c, now, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, body, len,
			head);
	else if (!metrics && px_metrics_health(h->m, livez ? PX_LIVEZ : PX_HEALTHZ, &status,
					       &body) == 0)
		respond(c, now, status, "application/json", nosniff, body, strlen(body), head);
	else
		respond_error(c, now, 500, NULL, head);   /* out of memory */
	free(body);
}

/* Looks at what has arrived; answers once the head is complete or clearly bad. */
static void conn_parse(struct px_http *h, struct conn *c, double now)
{
	char line[HEAD_MAX], *nl, *method, *path;
	size_t ll;

	if (!(nl = memchr(c->in, '\n', c->used))) {
		if (c->used == HEAD_MAX)
			respond_error(c, now, 431, NULL, false);
		return;
	}
	ll = (size_t)(nl - c->in);
	if (ll && c->in[ll - 1] == '\r')
		ll--;
	memcpy(line, c->in, ll);
	line[ll] = '\0';
	/* judged as soon as the line is complete: garbage gets its 400 without a 2 s wait */
	if (memchr(c->in, '\0', c->used) || !parse_request_line(line, &method, &path)) {
		respond_error(c, now, 400, NULL, false);
		return;
	}
	/* the headers are not needed, but a request is complete only with them */
	if (memmem(c->in, c->used, "\r\n\r\n", 4) || memmem(c->in, c->used, "\n\n", 2))
		route(h, c, now, method, path);
	else if (c->used == HEAD_MAX)
		respond_error(c, now, 431, NULL, false);
}

static void conn_read(struct px_http *h, struct conn *c, double now)
{
	char drain[512];
	ssize_t n;

	if (c->state == C_LINGER) {
		n = recv(c->fd, drain, sizeof(drain), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			conn_close(c);
		return;
	}
	n = recv(c->fd, c->in + c->used, HEAD_MAX - c->used, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);   /* gone before a complete request: nobody to answer */
		return;
	}
	c->used += (size_t)n;
	conn_parse(h, c, now);
}

static void accept_all(struct px_http *h, enum px_http_which which, double now)
{
	struct conn *c;
	int fd;

	for (int i = 0; i < MAX_CONNS; i++) {
		c = &h->conns[i];
		if (c->state != C_FREE)
			continue;
		fd = accept4(h->l[which].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* the listener stays readable: pause instead of spinning; log once
				 * per episode, not every pause */
				if (h->accept_pause_until < now - 1.0)
					pn_log("podnet-proxy: %s server: accept: %s",
					       which_name[which], strerror(errno));
				h->accept_pause_until = now + ACCEPT_PAUSE;
			}
			return;   /* EAGAIN: drained; others (ECONNABORTED...) concern one peer */
		}
		c->fd = fd;
		c->role = which;
		c->state = C_READ;
		c->used = 0;
		c->deadline = now + READ_TIMEOUT;
	}
}

static void *serve(void *arg)
{
	struct px_http *h = arg;
	struct pollfd pfd[3 + MAX_CONNS];
	int who[3 + MAX_CONNS];   /* -1 wake pipe, -2 - which for a listener, else a conn */
	double now, next;
	int n, timeout, nfree;

	for (;;) {
		now = px_time_now().mono;
		n = 0;
		nfree = 0;
		next = -1;
		pfd[n] = (struct pollfd){ .fd = h->wake[0], .events = POLLIN };
		who[n++] = -1;
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &h->conns[i];

			if (c->state == C_FREE) {
				nfree++;
				continue;
			}
			if (now >= c->deadline) {
				conn_close(c);   /* too slow to send, to read, or to hang up */
				nfree++;
				continue;
			}
			pfd[n] = (struct pollfd){ .fd = c->fd,
						  .events = c->state == C_WRITE ? POLLOUT : POLLIN };
			who[n++] = i;
			if (next < 0 || c->deadline < next)
				next = c->deadline;
		}
		if (nfree && now >= h->accept_pause_until) {
			for (int w = 0; w < 2; w++) {
				if (h->l[w].fd < 0)
					continue;
				pfd[n] = (struct pollfd){ .fd = h->l[w].fd, .events = POLLIN };
				who[n++] = -2 - w;
			}
		} else if (nfree && (next < 0 || h->accept_pause_until < next)) {
			next = h->accept_pause_until;
		}
		timeout = next < 0 ? -1 : (int)((next - now) * 1000.0) + 1;

		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno != EINTR) {
				pn_log("podnet-proxy: http: poll: %s", strerror(errno));
				usleep(100000);
			}
			continue;
		}
		now = px_time_now().mono;
		for (int k = 0; k < n; k++) {
			if (!pfd[k].revents)
				continue;
			if (who[k] == -1)
				goto out;
			if (who[k] <= -2) {
				accept_all(h, (enum px_http_which)(-2 - who[k]), now);
				continue;
			}
			struct conn *c = &h->conns[who[k]];
			if (c->state == C_WRITE && (pfd[k].revents & (POLLOUT | POLLERR | POLLHUP)))
				conn_write(c, now);
			else if (c->state != C_WRITE)
				conn_read(h, c, now);
		}
	}
out:
	for (int i = 0; i < MAX_CONNS; i++)
		if (h->conns[i].state != C_FREE)
			conn_close(&h->conns[i]);
	return NULL;
}

static void destroy(struct px_http *h)
{
	for (int w = 0; w < 2; w++)
		if (h->l[w].fd >= 0)
			close(h->l[w].fd);
	for (int i = 0; i < 2; i++)
		if (h->wake[i] >= 0)
			close(h->wake[i]);
	free(h);
}

int px_http_start_flags(const char *metrics_addr, const char *healthz_addr,
			struct px_metrics *m, unsigned flags, struct px_http **out,
			struct pn_err *e)
{
	sigset_t all, old;
	struct px_http *h;
	int r;

	*out = NULL;
	if (!(h = calloc(1, sizeof(*h))))
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "http server: out of memory");
	h->m = m;
	h->l[0].fd = h->l[1].fd = h->wake[0] = h->wake[1] = -1;
	for (int i = 0; i < MAX_CONNS; i++)
		h->conns[i].fd = -1;

	if ((r = open_listener(PX_HTTP_METRICS, metrics_addr, flags, &h->l[0], e)) < 0 ||
	    (r = open_listener(PX_HTTP_HEALTHZ, healthz_addr, flags, &h->l[1], e)) < 0)
		goto fail;
	if (h->l[0].fd < 0 && h->l[1].fd < 0) {
		destroy(h);
		return 0;   /* both disabled: nothing to run */
	}
	if (pipe2(h->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = pn_err_set(e, CNI_ERR_INTERNAL, -errno, "http server: pipe: %s", strerror(errno));
		goto fail;
	}
	/* the thread inherits this mask: process signals go to the daemon's own threads */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&h->thread, NULL, serve, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		r = pn_err_set(e, CNI_ERR_INTERNAL, -r, "http server: pthread_create: %s",
			       strerror(r));
		goto fail;
	}
	*out = h;
	return 0;
fail:
	destroy(h);
	return r;
}

int px_http_start(const char *metrics_addr, const char *healthz_addr, struct px_metrics *m,
		  struct px_http **out, struct pn_err *e)
{
	return px_http_start_flags(metrics_addr, healthz_addr, m, 0, out, e);
}

int px_http_port(const struct px_http *h, enum px_http_which which)
{
	return h && h->l[which].fd >= 0 ? h->l[which].port : 0;
}

void px_http_stop(struct px_http *h)
{
	ssize_t n;

	if (!h)
		return;
	do
		n = write(h->wake[1], "x", 1);
	while (n < 0 && errno == EINTR);
	pthread_join(h->thread, NULL);
	destroy(h);
}
