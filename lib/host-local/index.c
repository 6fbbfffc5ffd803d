/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index.h"

/*
 * Layout (host byte order: the file never leaves the node):
 *   header  HEADER_SIZE bytes: magic, nslots, used, stamp validity, stamp text
 *   slots   nslots * sizeof(struct slot), open addressing with linear probing
 */
#define MAGIC "podnet-index-1\n"
#define HEADER_SIZE 4096
#define STAMP_MAX (HEADER_SIZE - 64)
#define MIN_SLOTS 256u

enum { SLOT_EMPTY = 0, SLOT_LIVE = 1, SLOT_DELETED = 2 };

struct header {
	char magic[16];
	uint32_t nslots;
	uint32_t used;
	uint32_t stamp_valid;
	uint32_t reserved[9];
	char stamp[STAMP_MAX];
};

struct slot_ip {
	uint8_t family;
	uint8_t a[16];
};

struct slot {
	uint8_t state;
	uint8_t nips;
	uint8_t overflow;    /* the owner had more addresses than fit */
	uint8_t keylen;
	char key[HL_KEY_MAX];
	struct slot_ip ips[HL_INDEX_IPS];
};

_Static_assert(sizeof(struct header) == HEADER_SIZE, "index header size");
_Static_assert(sizeof(struct slot) == 236, "index slot size");

/* slots read per pread while probing: one page */
#define WINDOW 16

static off_t slot_off(uint32_t i) { return HEADER_SIZE + (off_t)i * (off_t)sizeof(struct slot); }

static uint64_t hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static int write_counts(struct hl_index *ix)
{
	uint32_t v[2] = { ix->nslots, ix->used };

	return pwrite(ix->fd, v, sizeof(v), offsetof(struct header, nslots)) == sizeof(v) ? 0 : -EIO;
}

/* Makes an empty table of n slots (invalid stamp). */
static int init_table(struct hl_index *ix, uint32_t n)
{
	struct header h = { .magic = MAGIC, .nslots = n };

	/* sparse: untouched slots read as zeroes, i.e. empty */
	if (ftruncate(ix->fd, 0) < 0 || ftruncate(ix->fd, slot_off(n)) < 0 ||
	    pwrite(ix->fd, &h, sizeof(h), 0) != sizeof(h))
		return -errno ? -errno : -EIO;
	ix->nslots = n;
	ix->used = 0;
	ix->stamp_dirty = true;
	return 0;
}

int hl_index_open(struct hl_index *ix, const char *data_dir, const char *network)
{
	char path[PATH_MAX];
	struct header h;
	struct stat st;

	ix->fd = ix->dirfd = -1;
	ix->stamp_dirty = false;
	ix->name = network;
	snprintf(path, sizeof(path), "%s/.podnet-index", data_dir);
	ix->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ix->dirfd < 0 && errno == ENOENT) {
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		ix->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (ix->dirfd < 0)
		return -errno;
	ix->fd = openat(ix->dirfd, network, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (ix->fd < 0)
		return -errno;
	if (pread(ix->fd, &h, sizeof(h), 0) == sizeof(h) && !memcmp(h.magic, MAGIC, sizeof(h.magic)) &&
	    h.nslots >= MIN_SLOTS && !(h.nslots & (h.nslots - 1)) && h.used <= h.nslots &&
	    fstat(ix->fd, &st) == 0 && st.st_size == slot_off(h.nslots)) {
		ix->nslots = h.nslots;
		ix->used = h.used;
		return 0;
	}
	/* new or damaged: an empty table whose stamp matches nothing, so it gets rebuilt */
	return init_table(ix, MIN_SLOTS);
}

void hl_index_close(struct hl_index *ix)
{
	if (ix->fd >= 0)
		close(ix->fd);
	if (ix->dirfd >= 0)
		close(ix->dirfd);
	ix->fd = ix->dirfd = -1;
}

int hl_index_key(char *buf, size_t len, const char *id, const char *ifname)
{
	int n = snprintf(buf, len, "%s@%s", id, ifname ? ifname : "");

	if (n < 0 || (size_t)n >= len || n > HL_KEY_MAX)
		return -ENAMETOOLONG;
	if (!id[0])
		return -EINVAL;
	return 0;
}

/* Finds key: *at is its slot (found) or the slot to insert it into; -ENOSPC when full. */
static int probe(struct hl_index *ix, const char *key, uint32_t *at, struct slot *sl, bool *found)
{
	uint32_t mask = ix->nslots - 1, i = (uint32_t)hash(key) & mask, free_at = UINT32_MAX;
	struct slot win[WINDOW];
	size_t klen = strlen(key);
	uint32_t have = 0, w = 0;

	*found = false;
	for (uint32_t n = 0; n < ix->nslots; n++, i = (i + 1) & mask, w++) {
		if (w == have) {
			/* read ahead to the end of the table at most: probing wraps to slot 0 */
			uint32_t want = ix->nslots - i < WINDOW ? ix->nslots - i : WINDOW;
			ssize_t got = pread(ix->fd, win, want * sizeof(*win), slot_off(i));

			if (got != (ssize_t)(want * sizeof(*win)))
				return -EIO;
			have = want;
			w = 0;
		}
		if (win[w].state == SLOT_EMPTY) {
			*at = free_at != UINT32_MAX ? free_at : i;
			*sl = win[w];
			return 0;
		}
		if (win[w].state == SLOT_DELETED) {
			if (free_at == UINT32_MAX) {
				free_at = i;
				*sl = win[w];
			}
			continue;
		}
		if (win[w].keylen == klen && !memcmp(win[w].key, key, klen)) {
			*at = i;
			*sl = win[w];
			*found = true;
			return 0;
		}
	}
	if (free_at == UINT32_MAX)
		return -ENOSPC;
	*at = free_at;
	return 0;
}

int hl_index_get(struct hl_index *ix, const char *key, struct pn_ip *ips, size_t max, size_t *n)
{
	struct slot sl;
	uint32_t at;
	bool found;
	int r;

	*n = 0;
	if (ix->fd < 0)
		return -EBADF;
	if ((r = probe(ix, key, &at, &sl, &found)) < 0)
		return r;
	if (!found)
		return 0;
	if (sl.overflow)
		return -E2BIG;
	for (size_t i = 0; i < sl.nips && i < HL_INDEX_IPS && *n < max; i++) {
		ips[*n].family = sl.ips[i].family;
		memcpy(ips[*n].a, sl.ips[i].a, 16);
		(*n)++;
	}
	return 0;
}

static int write_slot(struct hl_index *ix, uint32_t at, const struct slot *sl)
{
	return pwrite(ix->fd, sl, sizeof(*sl), slot_off(at)) == sizeof(*sl) ? 0 : -EIO;
}

/*
 * Doubles the table: the live entries go, a page of slots at a time, into a new file
 * that then replaces the old one (memory stays small however big the table is).
 */
static int grow(struct hl_index *ix)
{
	struct hl_index big = { .fd = -1, .dirfd = ix->dirfd, .name = ix->name };
	char tmp[64], proc[64];
	struct slot win[WINDOW];
	uint32_t i, w;
	int r;

	big.fd = openat(ix->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (big.fd < 0)
		return -errno;
	r = init_table(&big, ix->nslots * 2);
	big.stamp_dirty = ix->stamp_dirty;
	for (i = 0; r == 0 && i < ix->nslots; i += WINDOW) {
		if (pread(ix->fd, win, sizeof(win), slot_off(i)) != sizeof(win)) {
			r = -EIO;
			break;
		}
		for (w = 0; r == 0 && w < WINDOW; w++) {
			struct slot cur;
			uint32_t at;
			bool found;

			if (win[w].state != SLOT_LIVE)
				continue;
			win[w].key[win[w].keylen < HL_KEY_MAX ? win[w].keylen : HL_KEY_MAX - 1] = '\0';
			r = probe(&big, win[w].key, &at, &cur, &found);
			if (r == 0 && pwrite(big.fd, &win[w], sizeof(win[w]), slot_off(at)) != sizeof(win[w]))
				r = -EIO;
			big.used++;
		}
	}
	if (r == 0)
		r = write_counts(&big);
	/* the stamp is invalid in the new table; callers rewrite it on close */
	snprintf(tmp, sizeof(tmp), ".grow.%d", (int)getpid());
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", big.fd);
	if (r == 0 && (linkat(AT_FDCWD, proc, ix->dirfd, tmp, AT_SYMLINK_FOLLOW) < 0 ||
		       renameat(ix->dirfd, tmp, ix->dirfd, ix->name) < 0)) {
		r = -errno;
		unlinkat(ix->dirfd, tmp, 0);
	}
	if (r < 0) {
		close(big.fd);
		return r;
	}
	close(ix->fd);
	ix->fd = big.fd;
	ix->nslots = big.nslots;
	ix->used = big.used;
	ix->stamp_dirty = true;
	return 0;
}

int hl_index_put(struct hl_index *ix, const char *key, const struct pn_ip *ips, size_t n)
{
	struct slot sl;
	uint32_t at;
	bool found;
	int r;

	if (ix->fd < 0)
		return -EBADF;
	if ((r = probe(ix, key, &at, &sl, &found)) < 0)
		return r;
	if (!n) {
		if (!found)
			return 0;
		sl.state = SLOT_DELETED;
		return pwrite(ix->fd, &sl.state, 1, slot_off(at)) == 1 ? 0 : -EIO;
	}
	/* at most half full: an unsuccessful probe then reads ~2.5 slots on average */
	if (!found && (ix->used + 1) * 2 > ix->nslots) {
		if ((r = grow(ix)) < 0 || (r = probe(ix, key, &at, &sl, &found)) < 0)
			return r;
	}
	if (!found) {
		bool was_empty = sl.state == SLOT_EMPTY;

		memset(&sl, 0, sizeof(sl));
		sl.keylen = (uint8_t)strlen(key);
		memcpy(sl.key, key, sl.keylen);
		if (was_empty) {
			ix->used++;
			if ((r = write_counts(ix)) < 0)
				return r;
		}
	}
	sl.state = SLOT_LIVE;
	sl.overflow = n > HL_INDEX_IPS;
	sl.nips = (uint8_t)(n > HL_INDEX_IPS ? HL_INDEX_IPS : n);
	for (size_t i = 0; i < sl.nips; i++) {
		sl.ips[i].family = ips[i].family;
		memcpy(sl.ips[i].a, ips[i].a, 16);
	}
	return write_slot(ix, at, &sl);
}

int hl_index_clear(struct hl_index *ix, size_t owners)
{
	uint32_t n = MIN_SLOTS;

	if (ix->fd < 0)
		return -EBADF;
	while ((size_t)n < owners * 2 + 2 && n < (1u << 30))
		n *= 2;
	return init_table(ix, n);
}

bool hl_index_stamp_matches(struct hl_index *ix, const char *stamp)
{
	struct header h;

	if (ix->fd < 0 || pread(ix->fd, &h, sizeof(h), 0) != sizeof(h))
		return false;
	h.stamp[STAMP_MAX - 1] = '\0';
	return h.stamp_valid == 1 && !strcmp(h.stamp, stamp);
}

/* Called before a change that the stamp does not cover yet: a crash leaves no valid stamp. */
void hl_index_invalidate(struct hl_index *ix)
{
	uint32_t zero = 0;

	if (ix->fd >= 0 && !ix->stamp_dirty &&
	    pwrite(ix->fd, &zero, sizeof(zero), offsetof(struct header, stamp_valid)) != sizeof(zero)) {
		hl_index_close(ix);   /* cannot be trusted any more: lookups read the files */
		return;
	}
	ix->stamp_dirty = true;
}

void hl_index_stamp_write(struct hl_index *ix, const char *stamp)
{
	char buf[STAMP_MAX] = { 0 };
	uint32_t one = 1;

	if (ix->fd < 0 || strlen(stamp) >= STAMP_MAX)
		return;
	strcpy(buf, stamp);
	/* the text first, then the flag that makes it count */
	if (pwrite(ix->fd, buf, sizeof(buf), offsetof(struct header, stamp)) == sizeof(buf) &&
	    pwrite(ix->fd, &one, sizeof(one), offsetof(struct header, stamp_valid)) == sizeof(one))
		ix->stamp_dirty = false;
}
