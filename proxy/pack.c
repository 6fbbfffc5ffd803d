/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Zero-run packing of parsed objects: objects.h structs are fixed-size and mostly empty
 * (a px_service is ~3.5 KiB), so the source and the store keep them with the zero runs
 * squeezed out, usually < 100 bytes, which matters with 10,000 Services.
 */
#include <errno.h>
#include <string.h>

#include "pack.h"

/* (literal length, literal bytes, zero run length)*, lengths LEB128 */

static size_t put_len(unsigned char *p, size_t v)
{
	size_t n = 0;

	do {
		p[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

static int get_len(const unsigned char *p, size_t len, size_t *pos, size_t *v)
{
	*v = 0;
	for (unsigned shift = 0; *pos < len && shift < 64; shift += 7) {
		unsigned char c = p[(*pos)++];

		*v |= (size_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return 0;
	}
	return -EINVAL;
}

size_t px_pack(const unsigned char *src, size_t n, unsigned char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		size_t j = i, z;

		/* runs of fewer than 3 zeros cost more to encode than to copy */
		while (j < n && !(j + 3 <= n && !src[j] && !src[j + 1] && !src[j + 2]))
			j++;
		o += put_len(out + o, j - i);
		memcpy(out + o, src + i, j - i);
		o += j - i;
		for (z = j; z < n && !src[z]; z++)
			;
		o += put_len(out + o, z - j);
		i = z;
	}
	return o;
}

int px_unpack(const unsigned char *in, size_t len, size_t *pos, unsigned char *dst, size_t n)
{
	size_t o = 0, lit, z;

	while (o < n) {
		if (get_len(in, len, pos, &lit) < 0 || lit > n - o || lit > len - *pos)
			return -EINVAL;
		memcpy(dst + o, in + *pos, lit);
		*pos += lit;
		o += lit;
		if (get_len(in, len, pos, &z) < 0 || z > n - o)
			return -EINVAL;
		memset(dst + o, 0, z);
		o += z;
	}
	return 0;
}

