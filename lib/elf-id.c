/* SPDX-License-Identifier: Apache-2.0 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "elf-id.h"

#define NOTE_MAX 4096

/* The build-ID note among the notes in buf (a PT_NOTE segment). */
static int find_note(const unsigned char *buf, size_t n, char *hex, size_t len)
{
	size_t off = 0;

	while (off + sizeof(Elf64_Nhdr) <= n) {
		Elf64_Nhdr h;
		size_t name_at, desc_at, next;

		memcpy(&h, buf + off, sizeof(h));
		name_at = off + sizeof(h);
		desc_at = name_at + (((size_t)h.n_namesz + 3) & ~(size_t)3);
		next = desc_at + (((size_t)h.n_descsz + 3) & ~(size_t)3);
		if (h.n_namesz > n || h.n_descsz > n || next > n)
			return -ENOEXEC;
		if (h.n_type == NT_GNU_BUILD_ID && h.n_namesz == 4 && !memcmp(buf + name_at, "GNU", 4)) {
			if (!h.n_descsz || len < 2 * (size_t)h.n_descsz + 1)
				return -ENOEXEC;
			for (size_t i = 0; i < h.n_descsz; i++)
				snprintf(hex + 2 * i, 3, "%02x", buf[desc_at + i]);
			return 0;
		}
		off = next;
	}
	return -ENOENT;
}

int pn_elf_build_id(const char *path, char *hex, size_t len)
{
	unsigned char buf[NOTE_MAX];
	Elf64_Ehdr eh;
	int fd, r = -ENOENT;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    eh.e_ident[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB)) {
		r = -ENOEXEC;
		goto out;
	}
	for (unsigned i = 0; i < eh.e_phnum && r == -ENOENT; i++) {
		Elf64_Phdr ph;
		ssize_t n;

		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * sizeof(ph))) != (ssize_t)sizeof(ph)) {
			r = -ENOEXEC;
			break;
		}
		if (ph.p_type != PT_NOTE || ph.p_filesz > NOTE_MAX)
			continue;
		n = pread(fd, buf, ph.p_filesz, (off_t)ph.p_offset);
		if (n != (ssize_t)ph.p_filesz) {
			r = -ENOEXEC;
			break;
		}
		r = find_note(buf, (size_t)n, hex, len);
	}
out:
	close(fd);
	return r;
}
