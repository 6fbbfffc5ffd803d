/* SPDX-License-Identifier: Apache-2.0 */
/* The GNU build ID of an executable: which build a file on disk is. */
#ifndef PODNET_ELF_ID_H
#define PODNET_ELF_ID_H

#include <stddef.h>

/*
 * Reads the NT_GNU_BUILD_ID note of a 64-bit ELF file of this machine's byte order into hex
 * (lowercase, as `readelf -n` prints it; len >= 2 * the ID's length + 1).  0, -ENOENT when the
 * file has no such note, -ENOEXEC when it is not such an ELF file, or another -errno.
 */
int pn_elf_build_id(const char *path, char *hex, size_t len);

#endif
