/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpd.h"
#include "log.h"
#include "metrics.h"

#define MAX_CONNS 16
#define HEAD_MAX 8192          /* request line + headers; Go's default is 1 MiB, we need ~200 B */
#define READ_TIMEOUT 2.0       /* seconds to send the whole request head */
#define WRITE_TIMEOUT 5.0      /* seconds to take the answer */
#define LINGER_TIMEOUT 1.0     /* seconds to drain after answering, see conn_written() */
#define ACCEPT_PAUSE 0.1       /* seconds without accept() after running out of fds */

enum conn_state { C_FREE, C_READ, C_WRITE, C_LINGER };

struct px_httpd_conn {
	enum conn_state state;
	int fd;
	uintptr_t tag;         /* the listener's */
	double deadline;       /* monotonic seconds; the connection is dropped after it */
	size_t used;
	char *out;             /* the whole answer, head and body */
	size_t out_len, out_off;
	char in[HEAD_MAX];
};

struct listener {
	int fd;
	uintptr_t tag;
};

struct px_httpd {
	char name[32];
	px_httpd_route_fn *route;
	void *ctx;
	int wake[2];           /* listen, unlisten and stop write to [1] to end poll() */
	pthread_t thread;
	/* lock guards what other threads change: the listeners, gen and stopping */
	pthread_mutex_t lock;
	struct listener *l;
	size_t nl, capl;
	uint64_t gen;          /* bumped when a listener goes: the thread's poll set is stale */
	bool stopping;
	/* the thread's own */
	double accept_pause_until;
	struct pollfd *pfd;
	size_t cap_pfd;
	struct px_httpd_conn conns[MAX_CONNS];
};

int px_httpd_socket(const struct sockaddr_storage *ss, bool dual, int *fd, int *port,
		    const char **step)
{
	struct sockaddr_storage got;
	socklen_t sl = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in)
						: sizeof(struct sockaddr_in6);
	int s, one = 1, zero = 0, r;

	*fd = -1;
	*step = "socket";
	if ((s = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (dual)
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	*step = "bind";
	if (bind(s, (const struct sockaddr *)ss, sl) < 0)
		goto fail;
	*step = "listen";
	if (listen(s, 64) < 0)
		goto fail;
	*step = "getsockname";
	sl = sizeof(got);
	if (getsockname(s, (struct sockaddr *)&got, &sl) < 0)
		goto fail;
	*port = ntohs(got.ss_family == AF_INET ? ((struct sockaddr_in *)&got)->sin_port
					       : ((struct sockaddr_in6 *)&got)->sin6_port);
	*fd = s;
	return 0;
fail:
	r = -errno;
	close(s);
	return r;
}

static void conn_close(struct px_httpd_conn *c)
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
static void conn_written(struct px_httpd_conn *c, double now)
{
	free(c->out);
	c->out = NULL;
	shutdown(c->fd, SHUT_WR);
	c->state = C_LINGER;
	c->deadline = now + LINGER_TIMEOUT;
}

static void conn_write(struct px_httpd_conn *c, double now)
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

/* Queues the answer and starts sending it. */
static void respond(struct px_httpd_conn *c, double now, int status, const char *ctype,
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
static void respond_error(struct px_httpd_conn *c, double now, int status, const char *extra,
			  bool head)
{
	char body[64], hdrs[96];
	int n;

	n = snprintf(body, sizeof(body), "%d %s\n", status, reason(status));
	snprintf(hdrs, sizeof(hdrs), "X-Content-Type-Options: nosniff\r\n%s", extra ? extra : "");
	respond(c, now, status, "text/plain; charset=utf-8", hdrs, body, (size_t)n, head);
}

void px_httpd_respond(struct px_httpd_req *rq, int status, const char *ctype, const char *extra,
		      const char *body, size_t blen)
{
	if (rq->conn->state == C_READ)
		respond(rq->conn, rq->now, status, ctype, extra, body, blen, rq->head);
}

void px_httpd_error(struct px_httpd_req *rq, int status, const char *extra)
{
	if (rq->conn->state == C_READ)
		respond_error(rq->conn, rq->now, status, extra, rq->head);
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

/* Looks at what has arrived; answers once the head is complete or clearly bad. */
static void conn_parse(struct px_httpd *d, struct px_httpd_conn *c, double now)
{
	char line[HEAD_MAX], *nl, *method, *path;
	struct px_httpd_req rq;
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
	if (memmem(c->in, c->used, "\r\n\r\n", 4) || memmem(c->in, c->used, "\n\n", 2)) {
		rq = (struct px_httpd_req){ .method = method, .path = path,
					    .head = !strcmp(method, "HEAD"), .tag = c->tag,
					    .conn = c, .now = now };
		d->route(d->ctx, &rq);
		if (c->state == C_READ)
			respond_error(c, now, 500, NULL, rq.head);
	} else if (c->used == HEAD_MAX) {
		respond_error(c, now, 431, NULL, false);
	}
}

static void conn_read(struct px_httpd *d, struct px_httpd_conn *c, double now)
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
	conn_parse(d, c, now);
}

/* Called with d->lock held, so that unlisten cannot close the socket meanwhile. */
static void accept_all(struct px_httpd *d, const struct listener *l, double now)
{
	struct px_httpd_conn *c;
	int fd;

	for (int i = 0; i < MAX_CONNS; i++) {
		c = &d->conns[i];
		if (c->state != C_FREE)
			continue;
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* the listener stays readable: pause instead of spinning; log once
				 * per episode, not every pause */
				if (d->accept_pause_until < now - 1.0)
					pn_log("podnet-proxy: %s server: accept: %s", d->name,
					       strerror(errno));
				d->accept_pause_until = now + ACCEPT_PAUSE;
			}
			return;   /* EAGAIN: drained; others (ECONNABORTED...) concern one peer */
		}
		c->fd = fd;
		c->tag = l->tag;
		c->state = C_READ;
		c->used = 0;
		c->deadline = now + READ_TIMEOUT;
	}
}

/* pfd[0] the wake pipe, then the connections, then (if any slot is free) the listeners. */
static size_t poll_set(struct px_httpd *d, double now, int *conn_of, size_t *first_l,
		       uint64_t *gen, double *next, bool *stop)
{
	size_t n = 0, nfree = 0;

	d->pfd[n++] = (struct pollfd){ .fd = d->wake[0], .events = POLLIN };
	for (int i = 0; i < MAX_CONNS; i++) {
		struct px_httpd_conn *c = &d->conns[i];

		if (c->state != C_FREE && now >= c->deadline)
			conn_close(c);   /* too slow to send, to read, or to hang up */
		if (c->state == C_FREE) {
			nfree++;
			continue;
		}
		conn_of[n] = i;
		d->pfd[n++] = (struct pollfd){ .fd = c->fd,
					       .events = c->state == C_WRITE ? POLLOUT : POLLIN };
		if (*next < 0 || c->deadline < *next)
			*next = c->deadline;
	}
	*first_l = n;
	pthread_mutex_lock(&d->lock);
	*stop = d->stopping;
	*gen = d->gen;
	if (d->cap_pfd < 1 + MAX_CONNS + d->nl) {
		struct pollfd *p = realloc(d->pfd, (1 + MAX_CONNS + d->nl) * sizeof(*p));

		if (p) {
			d->pfd = p;
			d->cap_pfd = 1 + MAX_CONNS + d->nl;
		}
	}
	if (nfree && now >= d->accept_pause_until) {
		for (size_t i = 0; i < d->nl && n < d->cap_pfd; i++)
			d->pfd[n++] = (struct pollfd){ .fd = d->l[i].fd, .events = POLLIN };
	} else if (nfree && (*next < 0 || d->accept_pause_until < *next)) {
		*next = d->accept_pause_until;
	}
	pthread_mutex_unlock(&d->lock);
	return n;
}

static void *serve(void *arg)
{
	struct px_httpd *d = arg;
	int conn_of[1 + MAX_CONNS];
	size_t n, first_l;
	uint64_t gen;
	double now, next;
	bool stop;
	char buf[64];

	for (;;) {
		now = px_time_now().mono;
		next = -1;
		n = poll_set(d, now, conn_of, &first_l, &gen, &next, &stop);
		if (stop)
			break;
		if (poll(d->pfd, (nfds_t)n, next < 0 ? -1 : (int)((next - now) * 1000.0) + 1) < 0) {
			if (errno != EINTR) {
				pn_log("podnet-proxy: %s server: poll: %s", d->name, strerror(errno));
				usleep(100000);
			}
			continue;
		}
		now = px_time_now().mono;
		if (d->pfd[0].revents)
			while (read(d->wake[0], buf, sizeof(buf)) > 0)
				;   /* the listeners changed, or stop: rebuild the poll set */
		for (size_t k = 1; k < first_l; k++) {
			struct px_httpd_conn *c = &d->conns[conn_of[k]];

			if (!d->pfd[k].revents)
				continue;
			if (c->state == C_WRITE && (d->pfd[k].revents & (POLLOUT | POLLERR | POLLHUP)))
				conn_write(c, now);
			else if (c->state != C_WRITE)
				conn_read(d, c, now);
		}
		pthread_mutex_lock(&d->lock);
		/* a listener gone since poll_set: its slot may hold another socket now */
		for (size_t k = first_l; k < n && gen == d->gen; k++)
			if (d->pfd[k].revents)
				accept_all(d, &d->l[k - first_l], now);
		pthread_mutex_unlock(&d->lock);
	}
	for (int i = 0; i < MAX_CONNS; i++)
		if (d->conns[i].state != C_FREE)
			conn_close(&d->conns[i]);
	return NULL;
}

static void wake(struct px_httpd *d)
{
	ssize_t n;

	do
		n = write(d->wake[1], "x", 1);
	while (n < 0 && errno == EINTR);   /* EAGAIN: the pipe is full, the thread wakes anyway */
}

static void destroy(struct px_httpd *d)
{
	for (size_t i = 0; i < d->nl; i++)
		close(d->l[i].fd);
	for (int i = 0; i < 2; i++)
		if (d->wake[i] >= 0)
			close(d->wake[i]);
	pthread_mutex_destroy(&d->lock);
	free(d->l);
	free(d->pfd);
	free(d);
}

int px_httpd_start(const char *name, px_httpd_route_fn *route, void *ctx, struct px_httpd **out,
		   struct pn_err *e)
{
	sigset_t all, old;
	struct px_httpd *d;
	int r;

	*out = NULL;
	if (!(d = calloc(1, sizeof(*d))))
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "%s server: out of memory", name);
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->route = route;
	d->ctx = ctx;
	d->wake[0] = d->wake[1] = -1;
	for (int i = 0; i < MAX_CONNS; i++)
		d->conns[i].fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	if (!(d->pfd = calloc(1 + MAX_CONNS, sizeof(*d->pfd)))) {
		r = pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "%s server: out of memory", name);
		goto fail;
	}
	d->cap_pfd = 1 + MAX_CONNS;
	if (pipe2(d->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = pn_err_set(e, CNI_ERR_INTERNAL, -errno, "%s server: pipe: %s", name,
			       strerror(errno));
		goto fail;
	}
	/* the thread inherits this mask: process signals go to the daemon's own threads */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&d->thread, NULL, serve, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		r = pn_err_set(e, CNI_ERR_INTERNAL, -r, "%s server: pthread_create: %s", name,
			       strerror(r));
		goto fail;
	}
	*out = d;
	return 0;
fail:
	destroy(d);
	return r;
}

int px_httpd_listen(struct px_httpd *d, int fd, uintptr_t tag)
{
	int r = 0;

	pthread_mutex_lock(&d->lock);
	if (d->nl == d->capl) {
		size_t cap = d->capl ? 2 * d->capl : 4;
		struct listener *l = realloc(d->l, cap * sizeof(*l));

		if (!l) {
			close(fd);
			r = -ENOMEM;
			goto out;
		}
		d->l = l;
		d->capl = cap;
	}
	d->l[d->nl++] = (struct listener){ .fd = fd, .tag = tag };
out:
	pthread_mutex_unlock(&d->lock);
	if (!r)
		wake(d);
	return r;
}

void px_httpd_unlisten(struct px_httpd *d, uintptr_t tag)
{
	bool gone = false;

	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->nl;) {
		if (d->l[i].tag != tag) {
			i++;
			continue;
		}
		/* close() alone would leave the socket listening while the thread's poll()
		   holds it: the port must be free (and refuse) when this returns */
		shutdown(d->l[i].fd, SHUT_RDWR);
		close(d->l[i].fd);
		d->l[i] = d->l[--d->nl];
		gone = true;
	}
	if (gone)
		d->gen++;
	pthread_mutex_unlock(&d->lock);
	if (gone)
		wake(d);
}

void px_httpd_stop(struct px_httpd *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_mutex_unlock(&d->lock);
	wake(d);
	pthread_join(d->thread, NULL);
	destroy(d);
}
