/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define LAST_RESERVED "last_reserved_ip."
#define OWNER_MAX 1024

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Reads a small file into buf with surrounding whitespace trimmed (Go's strings.TrimSpace). */
static int read_trimmed(int dirfd, const char *name, char *buf, size_t len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;
	char *s;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	for (s = buf; isspace((unsigned char)*s); s++)
		;
	memmove(buf, s, strlen(s) + 1);
	return 0;
}

static bool owner_matches(const char *content, const char *id, const char *ifname)
{
	size_t idlen = strlen(id);

	if (strncmp(content, id, idlen))
		return false;
	if (!ifname)
		return !content[idlen];   /* a legacy file holding only the container ID */
	return !strncmp(content + idlen, "\r\n", 2) && !strcmp(content + idlen + 2, ifname);
}

static void stamp_compute(struct hl_store *s, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "v1");

	for (size_t i = 0; i < s->nsets && n < len; i++) {
		char name[64], content[64];
		struct pn_ip ip;
		struct stat st;

		snprintf(name, sizeof(name), LAST_RESERVED "%zu", i);
		if (fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			n += (size_t)snprintf(buf + n, len - n, ";%zu=-", i);
			continue;
		}
		if (read_trimmed(s->dirfd, name, content, sizeof(content)) < 0 || pn_ip_parse(content, &ip) < 0)
			snprintf(content, sizeof(content), "?");
		n += (size_t)snprintf(buf + n, len - n, ";%zu=%s,%lu,%lld.%09ld,%lld", i, content,
				      (unsigned long)st.st_ino, (long long)st.st_mtim.tv_sec,
				      st.st_mtim.tv_nsec, (long long)st.st_size);
	}
}

struct rebuild_entry {
	char *key;
	struct pn_ip ip;
};

struct rebuild {
	struct rebuild_entry *v;
	size_t n, cap;
};

static int rebuild_collect(const struct pn_ip *ip, const char *id, const char *ifname, void *ctx)
{
	struct rebuild *rb = ctx;
	char key[HL_KEY_MAX + 2];

	if (hl_index_key(key, sizeof(key), id, ifname) < 0)
		return 0;   /* cannot match any valid owner: nothing to index */
	if (rb->n == rb->cap) {
		size_t cap = rb->cap ? rb->cap * 2 : 256;
		struct rebuild_entry *v = realloc(rb->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rb->v = v;
		rb->cap = cap;
	}
	rb->v[rb->n].key = strdup(key);
	if (!rb->v[rb->n].key)
		return -ENOMEM;
	rb->v[rb->n++].ip = *ip;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct rebuild_entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : pn_ip_cmp(&x->ip, &y->ip);
}

/* Reads every reservation and writes the index anew. */
static int index_rebuild(struct hl_store *s, struct pn_err *e)
{
	struct rebuild rb = { 0 };
	size_t owners = 0;
	int r;

	hl_index_invalidate(&s->index);
	r = hl_store_foreach(s, rebuild_collect, &rb, e);
	if (r == 0 && rb.n) {
		qsort(rb.v, rb.n, sizeof(*rb.v), cmp_entry);
		for (size_t i = 0; i < rb.n; i++)
			owners += !i || strcmp(rb.v[i].key, rb.v[i - 1].key);
	}
	if (r == 0)
		r = hl_index_clear(&s->index, owners);
	for (size_t i = 0; i < rb.n && r == 0;) {
		struct pn_ip ips[HL_MAX_OWNED];
		size_t j = i, k = 0;

		for (; j < rb.n && !strcmp(rb.v[j].key, rb.v[i].key); j++)
			if (k < HL_MAX_OWNED)
				ips[k++] = rb.v[j].ip;
		r = hl_index_put(&s->index, rb.v[i].key, ips, k);
		i = j;
	}
	for (size_t i = 0; i < rb.n; i++)
		free(rb.v[i].key);
	free(rb.v);
	return r;
}

int hl_store_open(struct hl_store *s, const char *data_dir, const char *network, size_t nsets,
		  struct pn_err *e)
{
	char path[PATH_MAX], stamp[4096];
	int r;

	s->dirfd = s->lockfd = -1;
	s->index.fd = -1;
	s->nsets = nsets;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", data_dir, network) >= sizeof(path))
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENAMETOOLONG, "dataDir path too long");
	s->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0 && errno == ENOENT) {
		r = mkdir_p(path, 0755);
		if (r < 0)
			return pn_err_set(e, CNI_ERR_INTERNAL, r, "mkdir %s: %s", path, strerror(-r));
		s->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (s->dirfd < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "open %s: %s", path, strerror(errno));
	s->lockfd = openat(s->dirfd, "lock", O_CREAT | O_RDONLY | O_CLOEXEC, 0750);
	if (s->lockfd < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "open %s/lock: %s", path, strerror(errno));
	while (flock(s->lockfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "lock %s: %s", path, strerror(errno));
	/* without an index every lookup reads the files, as the reference does */
	if (hl_index_open(&s->index, data_dir, network) < 0)
		return 0;
	stamp_compute(s, stamp, sizeof(stamp));
	if (!hl_index_stamp_matches(&s->index, stamp) && index_rebuild(s, e) < 0)
		hl_index_close(&s->index);
	return 0;
}

void hl_store_close(struct hl_store *s)
{
	if (s->index.fd >= 0 && s->index.stamp_dirty) {
		char stamp[4096];

		stamp_compute(s, stamp, sizeof(stamp));
		hl_index_stamp_write(&s->index, stamp);
	}
	hl_index_close(&s->index);
	if (s->lockfd >= 0)
		close(s->lockfd);   /* drops the flock */
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->lockfd = s->dirfd = -1;
}

int hl_store_last_reserved(struct hl_store *s, size_t set, struct pn_ip *ip)
{
	char name[64], buf[128];
	int fd;
	ssize_t n;

	snprintf(name, sizeof(name), LAST_RESERVED "%zu", set);
	fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ENOENT;
	buf[n] = '\0';
	/* untrimmed, like the reference: "10.1.2.3\n" does not parse and counts as absent */
	return pn_ip_parse(buf, ip) < 0 ? -ENOENT : 0;
}

static int write_file(int dirfd, const char *name, const char *data, int flags, struct pn_err *e)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0600);
	size_t len = strlen(data);

	if (fd < 0)
		return errno == EEXIST ? -EEXIST : pn_err_set(e, CNI_ERR_INTERNAL, -errno, "open %s: %s", name, strerror(errno));
	/*
	 * Overwrite in place, then cut to length: truncating to zero first (O_TRUNC, as the
	 * reference's os.WriteFile does) makes ext4 flush the file on close (auto_da_alloc).
	 */
	if (pwrite(fd, data, len, 0) != (ssize_t)len || ftruncate(fd, (off_t)len) < 0) {
		int err = errno ? errno : EIO;

		close(fd);
		return pn_err_set(e, CNI_ERR_INTERNAL, -err, "write %s: %s", name, strerror(err));
	}
	close(fd);
	return 0;
}

/* The index entry of an owner with ip added or removed. */
static void index_update(struct hl_store *s, const char *key, const struct pn_ip *ip, bool add)
{
	struct pn_ip ips[HL_MAX_OWNED];
	size_t n = 0, k = 0;

	if (s->index.fd < 0)
		return;
	if (hl_index_get(&s->index, key, ips, HL_MAX_OWNED, &n) < 0) {
		hl_index_invalidate(&s->index);   /* rebuilt by the next operation */
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (!pn_ip_eq(&ips[i], ip))
			ips[k++] = ips[i];
	if (add && k < HL_MAX_OWNED)
		ips[k++] = *ip;
	if (hl_index_put(&s->index, key, ips, k) < 0)
		hl_index_invalidate(&s->index);
}

int hl_store_reserve(struct hl_store *s, const char *id, const char *ifname, const struct pn_ip *ip,
		     size_t set, struct pn_err *e)
{
	char name[PN_IP_STRLEN], last[64], key[HL_KEY_MAX + 2], *content;
	int r;

	if (asprintf(&content, "%s\r\n%s", id, ifname) < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	pn_ip_format(ip, name);
	/* from here until close the index may lack this reservation: a crash must not leave a stamp */
	hl_index_invalidate(&s->index);
	r = write_file(s->dirfd, name, content, O_EXCL, e);
	free(content);
	if (r == -EEXIST)
		return 0;
	if (r < 0) {
		unlinkat(s->dirfd, name, 0);
		return r;
	}
	snprintf(last, sizeof(last), LAST_RESERVED "%zu", set);
	r = write_file(s->dirfd, last, name, 0, e);
	if (r < 0) {
		unlinkat(s->dirfd, name, 0);
		return r;
	}
	if (hl_index_key(key, sizeof(key), id, ifname) == 0)
		index_update(s, key, ip, true);
	return 1;
}

/*
 * The addresses under one index key whose files still name the owner; -E2BIG when
 * the index cannot answer (the caller reads the files).
 */
static int owned_from_index(struct hl_store *s, const char *key, const char *id, const char *ifname,
			    struct pn_ip *ips, size_t max, size_t *found)
{
	struct pn_ip cand[HL_MAX_OWNED];
	size_t n = 0, k = 0;
	int r = hl_index_get(&s->index, key, cand, HL_MAX_OWNED, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char name[PN_IP_STRLEN], content[OWNER_MAX];

		if (read_trimmed(s->dirfd, pn_ip_format(&cand[i], name), content, sizeof(content)) == 0 &&
		    owner_matches(content, id, ifname) && k < max)
			ips[k++] = cand[i];
	}
	if (k != n)   /* released behind our back: drop the stale addresses */
		hl_index_put(&s->index, key, ips, k);
	*found = k;
	return 0;
}

struct find_ctx {
	const char *id, *ifname;
	bool legacy_only;        /* match files holding only the ID */
	struct pn_ip *ips;
	size_t n, max;
};

static int find_cb(const struct pn_ip *ip, const char *id, const char *ifname, void *ctx)
{
	struct find_ctx *f = ctx;

	if (strcmp(id, f->id))
		return 0;
	if (f->legacy_only ? ifname != NULL : (!ifname || strcmp(ifname, f->ifname)))
		return 0;
	if (f->n < f->max)
		f->ips[f->n++] = *ip;
	return 0;
}

/* Addresses of (id, ifname) (legacy_only: of id-only files), from the index or the files. */
static int find_owned(struct hl_store *s, const char *id, const char *ifname, bool legacy_only,
		      struct pn_ip *ips, size_t *n, struct pn_err *e)
{
	struct find_ctx f = { .id = id, .ifname = ifname, .legacy_only = legacy_only, .ips = ips,
			      .max = HL_MAX_OWNED };
	char key[HL_KEY_MAX + 2];

	if (s->index.fd >= 0 && hl_index_key(key, sizeof(key), id, legacy_only ? NULL : ifname) == 0 &&
	    owned_from_index(s, key, id, legacy_only ? NULL : ifname, ips, HL_MAX_OWNED, n) == 0)
		return 0;
	*n = 0;
	if (hl_store_foreach(s, find_cb, &f, e) < 0)
		return -EIO;
	*n = f.n;
	return 0;
}

int hl_store_get_by_id(struct hl_store *s, const char *id, const char *ifname,
		       struct pn_ip *ips, size_t *n, struct pn_err *e)
{
	size_t a = 0, b = 0;
	int r = find_owned(s, id, ifname, false, ips, &a, e);

	if (r == 0 && a < HL_MAX_OWNED)
		r = find_owned(s, id, ifname, true, ips + a, &b, e);
	*n = a + b;
	return r;
}

static int release_list(struct hl_store *s, const char *id, const char *ifname, bool legacy,
			struct pn_ip *ips, size_t n)
{
	char key[HL_KEY_MAX + 2];

	for (size_t i = 0; i < n; i++) {
		char name[PN_IP_STRLEN];

		if (unlinkat(s->dirfd, pn_ip_format(&ips[i], name), 0) < 0 && errno != ENOENT)
			return -errno;
	}
	if (s->index.fd >= 0 && hl_index_key(key, sizeof(key), id, legacy ? NULL : ifname) == 0)
		hl_index_put(&s->index, key, NULL, 0);
	return 0;
}

int hl_store_release_by_id(struct hl_store *s, const char *id, const char *ifname, struct pn_err *e)
{
	struct pn_ip ips[HL_MAX_OWNED];
	size_t n = 0;
	int r;

	if ((r = find_owned(s, id, ifname, false, ips, &n, e)) < 0)
		return r;
	if (n)
		r = release_list(s, id, ifname, false, ips, n);
	else if ((r = find_owned(s, id, ifname, true, ips, &n, e)) == 0 && n)
		r = release_list(s, id, ifname, true, ips, n);
	if (r < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, r, "failed to release addresses of %s: %s", id, strerror(-r));
	return 0;
}

int hl_store_release_ip(struct hl_store *s, const char *id, const char *ifname, const struct pn_ip *ip)
{
	char name[PN_IP_STRLEN], content[OWNER_MAX], key[HL_KEY_MAX + 2];

	pn_ip_format(ip, name);
	if (read_trimmed(s->dirfd, name, content, sizeof(content)) == 0 && owner_matches(content, id, ifname))
		unlinkat(s->dirfd, name, 0);
	if (s->index.fd >= 0 && hl_index_key(key, sizeof(key), id, ifname) == 0)
		index_update(s, key, ip, false);
	return 0;
}

int hl_store_remove(struct hl_store *s, const struct pn_ip *ip, struct pn_err *e)
{
	char name[PN_IP_STRLEN];

	if (unlinkat(s->dirfd, pn_ip_format(ip, name), 0) < 0 && errno != ENOENT)
		return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "remove %s: %s", name, strerror(errno));
	return 0;
}

int hl_store_reindex(struct hl_store *s, struct pn_err *e)
{
	return s->index.fd >= 0 ? index_rebuild(s, e) : 0;
}

int hl_store_foreach(struct hl_store *s,
		     int (*cb)(const struct pn_ip *ip, const char *id, const char *ifname, void *ctx),
		     void *ctx, struct pn_err *e)
{
	int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;
	struct dirent *d;
	DIR *dir;

	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "reading the store: %s", strerror(errno));
	}
	while (r == 0 && (d = readdir(dir))) {
		char content[OWNER_MAX], *sep;
		struct pn_ip ip;

		/* only files named by an address are reservations ("lock", "last_reserved_ip.N" are not) */
		if (d->d_type != DT_REG && d->d_type != DT_UNKNOWN)
			continue;
		if (pn_ip_parse(d->d_name, &ip) < 0 || read_trimmed(s->dirfd, d->d_name, content, sizeof(content)) < 0)
			continue;
		sep = strstr(content, "\r\n");
		if (sep) {
			*sep = '\0';
			r = cb(&ip, content, sep + 2, ctx);
		} else {
			r = cb(&ip, content, NULL, ctx);
		}
	}
	closedir(dir);
	if (r < 0)
		return pn_err_set(e, CNI_ERR_INTERNAL, r, "reading the store: %s", strerror(-r));
	return r;
}
