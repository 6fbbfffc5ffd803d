/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SHA-512 (FIPS 180-4).  The reference plugins name their firewall chains and
 * comments after SHA-512 digests (research/cni.md §2.7, §2.8); removing their rules
 * when a node switches to podnet needs the same names.  Not used for security.
 */
#ifndef PODNET_SHA512_H
#define PODNET_SHA512_H

#include <stddef.h>
#include <stdint.h>

void pn_sha512(const void *data, size_t len, uint8_t out[64]);
/* The first `nhex` lowercase hex digits of sha512(a || b) into buf (nhex + 1 bytes). */
void pn_sha512_hex(const char *a, const char *b, size_t nhex, char *buf);

#endif
