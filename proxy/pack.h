/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PROXY_PACK_H
#define PROXY_PACK_H

#include <stddef.h>

/* The worst case of px_pack for n bytes. */
#define PX_PACK_BOUND(n) (2 * (n) + 32)
/* Packs n bytes of src into out (PX_PACK_BOUND(n) bytes); returns the packed length. */
size_t px_pack(const unsigned char *src, size_t n, unsigned char *out);
/* Unpacks n bytes from in[*pos..len) into dst, advancing *pos; -EINVAL if in is malformed. */
int px_unpack(const unsigned char *in, size_t len, size_t *pos, unsigned char *dst, size_t n);

#endif
