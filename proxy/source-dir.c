/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The directory side: inotify events, which files to read when, reading and parsing them.
 * What each file defines, and what changed in the merged view, is source-dir-view.c's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hmap.h"
#include "log.h"
#include "sha512.h"
#include "source-dir-view.h"
#include "source-dir.h"
#include "yaml.h"

#define MAX_FILE_SIZE (512u << 20)
/* reads of the inotify fd per sync: a writer that never stops cannot keep us here */
#define MAX_EVENT_READS 64
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_MODIFY | \
		    IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct file {
	struct px_hent *ent;        /* key: the name with its '\0' */
	struct px_dirview_list defs;
	struct file *pending_next;
	uint8_t good[32], bad[32];  /* digests of the content applied last, and of a rejected one */
	/* since its last close: modified (it is being written), created (it may be) */
	bool pending, modified, created, has_good, has_bad;
};

struct px_dir {
	char *path;
	/*
	 * dfd is open during a sync only: an open directory is a reference that would hold
	 * back IN_DELETE_SELF until it is closed.  dev, ino: the directory the watch wd is on.
	 */
	int ifd, wd, dfd;
	dev_t dev;
	ino_t ino;
	bool rescan, forget_writers, gone, gone_logged;
	struct px_hmap files;
	struct file *pending;
	struct px_dirview view;
};

static const char *file_name(const struct file *f)
{
	return (const char *)f->ent->key;
}

/* --- parsing one file into definitions --- */

struct parse {
	struct px_dir *d;
	struct file *f;
	struct px_dirview_list defs;
	int err;
};

static void on_service(struct px_service *s, void *ctx)
{
	struct parse *p = ctx;

	if (!p->err)
		p->err = px_dirview_add(&p->d->view, &p->defs, file_name(p->f), PX_DIRVIEW_SERVICE, s->ns, s->name,
					s, sizeof(*s), NULL, 0);
}

static void on_slice(struct px_slice *s, void *ctx)
{
	struct parse *p = ctx;
	struct px_endpoint *eps = s->eps;

	s->eps = NULL;   /* not content: the address differs every time */
	if (!p->err)
		p->err = px_dirview_add(&p->d->view, &p->defs, file_name(p->f), PX_DIRVIEW_SLICE, s->ns, s->name,
					s, sizeof(*s), eps, s->neps * sizeof(*eps));
	free(eps);
}

static void on_node(struct px_node *n, void *ctx)
{
	struct parse *p = ctx;

	if (!p->err)
		p->err = px_dirview_add(&p->d->view, &p->defs, file_name(p->f), PX_DIRVIEW_NODE, "", n->name,
					n, sizeof(*n), NULL, 0);
}

static void on_service_cidr(struct px_service_cidr *c, void *ctx)
{
	struct parse *p = ctx;

	if (!p->err)
		p->err = px_dirview_add(&p->d->view, &p->defs, file_name(p->f), PX_DIRVIEW_CIDR, "", c->name,
					c, sizeof(*c), NULL, 0);
}

static bool is_json(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && !strcmp(name + n - 5, ".json");
}

static int parse(struct parse *p, const char *buf, size_t len, struct pn_err *e)
{
	const struct px_objects_cb cb = { .service = on_service, .slice = on_slice, .node = on_node,
					    .service_cidr = on_service_cidr, .ctx = p };
	json_t *docs, *doc;
	size_t i;
	int r = 0;

	if (is_json(file_name(p->f))) {
		json_error_t je;

		if (!(doc = json_loadb(buf, len, 0, &je)))
			return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "JSON: %s at line %d", je.text, je.line);
		docs = json_array();
		if (!docs || json_array_append_new(docs, doc) < 0) {
			json_decref(docs);
			return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
		}
	} else if ((r = px_yaml_load(buf, len, &docs, e)) < 0) {
		return r;
	}
	json_array_foreach(docs, i, doc) {
		/* an empty document: a leading or trailing "---", or a file of comments */
		if (json_is_null(doc))
			continue;
		if ((r = px_objects_parse(doc, &cb, e)) < 0)
			break;
		if (p->err) {
			r = pn_err_set(e, CNI_ERR_INTERNAL, p->err, "out of memory");
			break;
		}
	}
	json_decref(docs);
	return r;
}

/* --- files --- */

static bool wanted(const char *name)
{
	size_t n = strlen(name);

	if (!n || name[0] == '.' || name[n - 1] == '~')
		return false;
	return (n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml")) ||
	       is_json(name);
}

static struct file *file_get(struct px_dir *d, const char *name)
{
	struct px_hent *e = px_hmap_put(&d->files, name, strlen(name) + 1);
	struct file *f;

	if (!e)
		return NULL;
	if (!(f = e->val)) {
		if (!(f = calloc(1, sizeof(*f)))) {
			px_hmap_del(&d->files, e);
			return NULL;
		}
		f->ent = e;
		px_dirview_list_init(&f->defs);
		e->val = f;
	}
	return f;
}

static void file_pending(struct px_dir *d, struct file *f)
{
	if (f->pending)
		return;
	f->pending = true;
	f->pending_next = d->pending;
	d->pending = f;
}

/* 0 and the whole content, -ENOENT when there is no regular file by that name (any more). */
static int slurp(int dfd, const char *name, char **out, size_t *outlen)
{
	int fd = dfd < 0 ? -1 : openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), r = 0;
	size_t len = 0, cap;
	struct stat st;
	char *buf = NULL, *nbuf;
	ssize_t n;

	*out = NULL;
	if (dfd < 0)
		return -ENOENT;   /* the directory is gone: so are its files */
	if (fd < 0)
		return errno == ENOTDIR || errno == ELOOP ? -ENOENT : -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -ENOENT;   /* a directory or a FIFO by a manifest's name: not a manifest */
		goto out;
	}
	/* room to see the end in the same buffer; more if the file grows while we read */
	cap = (size_t)st.st_size + 4096;
	for (;;) {
		if (!buf || len + 1 == cap) {
			cap = buf ? cap * 2 : cap;
			if (cap > MAX_FILE_SIZE) {
				r = -EFBIG;
				goto out;
			}
			if (!(nbuf = realloc(buf, cap))) {
				r = -ENOMEM;
				goto out;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return r;
}

static void file_sync(struct px_dir *d, struct file *f)
{
	struct parse p = { .d = d, .f = f };
	struct pn_err e = { 0 };
	uint8_t digest[64];
	size_t len = 0;
	char *buf;
	int r;

	px_dirview_list_init(&p.defs);
	if ((r = slurp(d->dfd, file_name(f), &buf, &len)) == -ENOENT) {
		/* deleted or renamed away: its objects go (its old definitions only to the grave) */
		px_dirview_replace(&d->view, &f->defs, &p.defs);
		px_hmap_del(&d->files, f->ent);
		free(f);
		return;
	}
	if (r < 0) {
		pn_log("podnet-proxy: %s/%s: %s; keeping its objects", d->path, file_name(f), strerror(-r));
		return;
	}
	/* unchanged content (a touch, a rescan): nothing to parse */
	pn_sha512(buf, len, digest);
	if (f->has_good && !memcmp(digest, f->good, sizeof(f->good))) {
		f->has_bad = false;
		goto out;
	}
	if ((r = parse(&p, buf, len, &e)) < 0) {
		px_dirview_discard(&p.defs);
		/* a file caught half-written fails like this until its next close; say it once */
		if (!f->has_bad || memcmp(digest, f->bad, sizeof(f->bad)))
			pn_log("podnet-proxy: %s/%s: %s; keeping its previous objects", d->path, file_name(f), e.msg);
		memcpy(f->bad, digest, sizeof(f->bad));
		f->has_bad = true;
		goto out;
	}
	px_dirview_replace(&d->view, &f->defs, &p.defs);
	memcpy(f->good, digest, sizeof(f->good));
	f->has_good = true;
	f->has_bad = false;
out:
	free(buf);
}

/* Every file of the directory (and every known one: those gone are found gone) to be read. */
static int rescan(struct px_dir *d)
{
	struct dirent *de;
	DIR *dir;
	int fd, err;

	px_hmap_foreach(&d->files, i, e) {
		struct file *f = e->val;

		if (d->forget_writers)
			f->modified = f->created = false;   /* events were lost: the close we wait for too? */
		file_pending(d, f);
	}
	d->forget_writers = false;
	if ((fd = dup(d->dfd)) < 0)
		return -errno;
	if (!(dir = fdopendir(fd))) {
		close(fd);
		return -errno;
	}
	rewinddir(dir);
	while ((errno = 0, de = readdir(dir))) {
		struct file *f;

		if (!wanted(de->d_name) || de->d_type == DT_DIR)
			continue;
		if (!(f = file_get(d, de->d_name))) {
			closedir(dir);
			return -ENOMEM;
		}
		file_pending(d, f);
	}
	err = errno;
	closedir(dir);
	return -err;
}

static int on_event(struct px_dir *d, const struct inotify_event *ev)
{
	struct file *f;

	if (ev->mask & IN_Q_OVERFLOW) {
		d->rescan = d->forget_writers = true;
		return 0;
	}
	if (ev->wd != d->wd)
		return 0;   /* the rest of a watch given up (the directory was replaced) */
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED)) {
		d->gone = true;
		return 0;
	}
	if (!ev->len || !ev->name[0])
		return 0;
	/* a ConfigMap volume: kubelet swaps the ..data symlink under the files' symlinks */
	if (!strncmp(ev->name, "..", 2)) {
		if (ev->mask & (IN_MOVED_TO | IN_CREATE))
			d->rescan = true;
		return 0;
	}
	if ((ev->mask & IN_ISDIR) || !wanted(ev->name))
		return 0;
	if (!(f = file_get(d, ev->name)))
		return -ENOMEM;
	if (ev->mask & IN_MODIFY)
		f->modified = true;   /* read it at its close, not truncated or half-written */
	if (ev->mask & IN_CREATE)
		f->created = true;
	if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE))
		f->modified = f->created = false;
	file_pending(d, f);
	return 0;
}

/* Still being written: modified, or created as a new regular file (a link or symlink is complete). */
static bool being_written(const struct px_dir *d, const struct file *f)
{
	struct stat st;

	if (f->modified)
		return true;
	return f->created && d->dfd >= 0 && fstatat(d->dfd, file_name(f), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode) && st.st_nlink == 1;
}

static int read_events(struct px_dir *d)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (int reads = 0; reads < MAX_EVENT_READS; reads++) {
		ssize_t n = read(d->ifd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			d->rescan = d->forget_writers = true;   /* what did we miss? everything is read again */
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			/* out of memory for a file's entry: as if the kernel had dropped the event */
			if (on_event(d, ev) < 0)
				d->rescan = d->forget_writers = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	return 0;
}

/*
 * Opens the directory for this sync.  When it was deleted, moved away or replaced, watches
 * whatever directory is at the path now (same inotify fd: the caller's poll set stays valid)
 * and rereads it all: the view is kept, so only differences are reported.
 */
static void attach(struct px_dir *d)
{
	struct stat st;
	int wd;

	d->dfd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->dfd >= 0 && fstat(d->dfd, &st) == 0 && !d->gone && st.st_dev == d->dev && st.st_ino == d->ino)
		return;
	if (d->wd >= 0)
		inotify_rm_watch(d->ifd, d->wd);   /* fails if the kernel dropped it already: fine */
	d->wd = -1;
	d->gone = true;
	if (d->dfd < 0 || fstat(d->dfd, &st) < 0 || (wd = inotify_add_watch(d->ifd, d->path, WATCH_MASK)) < 0) {
		if (!d->gone_logged)
			pn_log("podnet-proxy: %s: the directory was deleted or moved away", d->path);
		d->gone_logged = true;
		if (d->dfd >= 0)
			close(d->dfd);
		d->dfd = -1;
		return;
	}
	if (d->gone_logged)
		pn_log("podnet-proxy: %s: the directory is back; reading it again", d->path);
	d->wd = wd;
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	d->gone = d->gone_logged = false;
	d->rescan = true;
}

int px_dir_sync(struct px_dir *d, const struct px_source_cb *cb)
{
	int r, n;

	if ((r = read_events(d)) < 0)
		pn_log("podnet-proxy: %s: reading inotify events: %s", d->path, strerror(-r));
	attach(d);
	if (d->rescan && d->dfd >= 0) {
		int rs = rescan(d);

		if (rs < 0)
			pn_log("podnet-proxy: %s: %s", d->path, strerror(-rs));
		else
			d->rescan = false;
		r = r < 0 ? r : rs;
	}
	while (d->pending) {
		struct file *f = d->pending;

		d->pending = f->pending_next;
		f->pending = false;
		/* a file still being written is read at its close */
		if (!being_written(d, f))
			file_sync(d, f);
	}
	if (d->dfd >= 0)
		close(d->dfd);
	d->dfd = -1;
	n = px_dirview_resolve(&d->view, cb);
	return d->gone ? -ENOENT : r < 0 ? r : n;
}

int px_dir_fd(const struct px_dir *d)
{
	return d->ifd;
}

int px_dir_open(const char *path, struct px_dir **out, struct pn_err *e)
{
	struct px_dir *d = calloc(1, sizeof(*d));
	struct stat st;
	int r;

	*out = NULL;
	if (!d || !(d->path = strdup(path))) {
		free(d);
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	}
	d->dfd = d->wd = -1;
	px_dirview_init(&d->view, d->path);
	d->rescan = true;   /* the first sync reads everything */
	if ((d->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
		r = pn_err_set(e, CNI_ERR_IO, -errno, "inotify_init1: %s", strerror(errno));
		goto out;
	}
	/* the watch first: whatever changes after it is an event, whatever before is read */
	if ((d->wd = inotify_add_watch(d->ifd, path, WATCH_MASK)) < 0) {
		r = pn_err_set(e, CNI_ERR_IO, -errno, "watching %s: %s", path, strerror(errno));
		goto out;
	}
	if (stat(path, &st) < 0) {
		r = pn_err_set(e, CNI_ERR_IO, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	*out = d;
	return 0;
out:
	px_dir_close(d);
	return r;
}

void px_dir_close(struct px_dir *d)
{
	if (!d)
		return;
	px_hmap_foreach(&d->files, i, e) {
		struct file *f = e->val;

		px_dirview_discard(&f->defs);
		free(f);
	}
	px_hmap_free(&d->files);
	px_dirview_free(&d->view);
	if (d->ifd >= 0)
		close(d->ifd);
	free(d->path);
	free(d);
}
