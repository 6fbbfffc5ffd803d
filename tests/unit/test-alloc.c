/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation order (the reference's allocator_test.go cases) and the on-disk store,
 * including reservations made and released behind our back, as the reference does.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "allocator.h"

static struct hl_range ranges[4];
static struct hl_rangeset set;
static char dir[] = "/tmp/podnet-test-alloc.XXXXXX";
static struct pn_err err;

static void make_set(const char *const subnets[])
{
	memset(ranges, 0, sizeof(ranges));
	set.r = ranges;
	set.n = 0;
	for (; *subnets; subnets++) {
		assert_int_equal(pn_prefix_parse(*subnets, &ranges[set.n].subnet), 0);
		set.n++;
	}
	assert_int_equal(hl_rangeset_canonicalize(&set, &err), 0);
}

/* The addresses the iterator yields after `last`, joined by spaces. */
static const char *walk(const char *last)
{
	static char out[1024];
	struct hl_lease l;
	struct hl_iter it;
	struct pn_ip ip;
	size_t n = 0;

	if (last)
		assert_int_equal(pn_ip_parse(last, &ip), 0);
	hl_iter_init(&it, &set, last ? &ip : NULL);
	out[0] = '\0';
	while (hl_iter_next(&it, &l) && n < sizeof(out) - 50) {
		char a[PN_IP_STRLEN];

		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", n ? " " : "", pn_ip_format(&l.addr.ip, a));
	}
	return out;
}

static void test_iter_order(void **state)
{
	(void)state;
	make_set((const char *const[]){ "192.168.1.0/29", NULL });
	assert_string_equal(walk(NULL), "192.168.1.2 192.168.1.3 192.168.1.4 192.168.1.5 192.168.1.6");
	assert_string_equal(walk("192.168.1.6"), "192.168.1.2 192.168.1.3 192.168.1.4 192.168.1.5 192.168.1.6");
	assert_string_equal(walk("192.168.1.3"), "192.168.1.4 192.168.1.5 192.168.1.6 192.168.1.2 192.168.1.3");
	/* a last address outside the set: from the start */
	assert_string_equal(walk("192.168.1.128"), "192.168.1.2 192.168.1.3 192.168.1.4 192.168.1.5 192.168.1.6");
	/* several ranges: wrap from one range's end to the next range's start, skipping gateways */
	make_set((const char *const[]){ "192.168.0.0/30", "192.168.1.0/30", NULL });
	assert_string_equal(walk(NULL), "192.168.0.2 192.168.1.2");
	assert_string_equal(walk("192.168.0.2"), "192.168.1.2 192.168.0.2");
	make_set((const char *const[]){ "2001:db8::/126", NULL });
	assert_string_equal(walk(NULL), "2001:db8::2 2001:db8::3");
}

static int setup_dir(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/podnet-test-alloc.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown_dir(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static const char *file(const char *name)
{
	static char buf[256];
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/net/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

static void put_file(const char *name, const char *content)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/net/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

/* One allocation in a fresh store session, like one plugin run; returns the address or the error. */
static const char *alloc(const char *id, const char *requested)
{
	static char out[PN_ERR_MSG_MAX];
	struct hl_store s;
	struct hl_lease l;
	struct pn_ip req;
	int r;

	if (requested)
		assert_int_equal(pn_ip_parse(requested, &req), 0);
	assert_int_equal(hl_store_open(&s, dir, "net", 1, &err), 0);
	r = hl_allocate(&s, &set, 0, id, "eth0", requested ? &req : NULL, &l, &err);
	hl_store_close(&s);
	if (r < 0)
		snprintf(out, sizeof(out), "%s", err.msg);
	else
		pn_prefix_format(&l.addr, out);
	return out;
}

static size_t owned(const char *id, const char *ifname)
{
	struct pn_ip ips[HL_MAX_OWNED];
	struct hl_store s;
	size_t n = 0;

	assert_int_equal(hl_store_open(&s, dir, "net", 1, &err), 0);
	assert_int_equal(hl_store_get_by_id(&s, id, ifname, ips, &n, &err), 0);
	hl_store_close(&s);
	return n;
}

static void release(const char *id, const char *ifname)
{
	struct hl_store s;

	assert_int_equal(hl_store_open(&s, dir, "net", 1, &err), 0);
	assert_int_equal(hl_store_release_by_id(&s, id, ifname, &err), 0);
	hl_store_close(&s);
}

static void test_store_round_robin(void **state)
{
	(void)state;
	make_set((const char *const[]){ "192.168.1.0/29", NULL });
	assert_string_equal(alloc("c2", NULL), "192.168.1.2/29");
	assert_string_equal(file("192.168.1.2"), "c2\r\neth0");
	assert_string_equal(file("last_reserved_ip.0"), "192.168.1.2");
	assert_string_equal(alloc("c3", NULL), "192.168.1.3/29");
	assert_string_equal(alloc("c2", NULL),
			    "192.168.1.2 has been allocated to c2, duplicate allocation is not allowed");
	release("c2", "eth0");
	assert_null(file("192.168.1.2"));
	/* round-robin: the freed .2 is not reused before the rest of the range */
	assert_string_equal(alloc("c4", NULL), "192.168.1.4/29");
	assert_string_equal(alloc("c5", NULL), "192.168.1.5/29");
	assert_string_equal(alloc("c6", NULL), "192.168.1.6/29");
	assert_string_equal(alloc("c7", NULL), "192.168.1.2/29");
	assert_string_equal(alloc("c8", NULL), "no IP addresses available in range set: 192.168.1.1-192.168.1.6");
	assert_string_equal(alloc("c8", "192.168.1.5"),
			    "requested IP address 192.168.1.5 is not available in range set 192.168.1.1-192.168.1.6");
	assert_string_equal(alloc("c8", "192.168.1.1"), "requested ip 192.168.1.1 is subnet's gateway");
	assert_string_equal(alloc("c8", "10.1.9.9"), "10.1.9.9 not in range set 192.168.1.1-192.168.1.6");
	release("c5", "eth0");
	assert_string_equal(alloc("c8", "192.168.1.5"), "192.168.1.5/29");
	assert_string_equal(file("last_reserved_ip.0"), "192.168.1.5");
	/* DEL of an unknown owner is fine */
	release("nobody", "eth0");
}

static void test_store_foreign(void **state)
{
	(void)state;
	make_set((const char *const[]){ "10.0.0.0/24", NULL });
	assert_string_equal(alloc("a", NULL), "10.0.0.2/24");
	/* the reference reserves .3 for "ref" behind our back: file, then last_reserved_ip */
	put_file("10.0.0.3", "ref\r\neth0");
	put_file("last_reserved_ip.0", "10.0.0.3");
	assert_int_equal(owned("ref", "eth0"), 1);
	assert_string_equal(alloc("ref", NULL), "10.0.0.3 has been allocated to ref, duplicate allocation is not allowed");
	assert_string_equal(alloc("b", NULL), "10.0.0.4/24");
	/* the reference releases "a" behind our back: our index entry is stale and ignored */
	assert_int_equal(owned("a", "eth0"), 1);
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/net/10.0.0.2", dir);
		unlink(path);
	}
	assert_int_equal(owned("a", "eth0"), 0);
	/* and the address goes to someone else while our index once said "a" */
	put_file("10.0.0.2", "other\r\neth0");
	assert_int_equal(owned("a", "eth0"), 0);
	release("a", "eth0");
	assert_string_equal(file("10.0.0.2"), "other\r\neth0");
	/* a legacy file holding only the ID belongs to every ifname of it */
	put_file("10.0.0.9", "legacy");
	put_file("last_reserved_ip.0", "10.0.0.9");
	assert_int_equal(owned("legacy", "eth0"), 1);
	assert_int_equal(owned("legacy", "eth1"), 1);
	release("legacy", "eth1");
	assert_null(file("10.0.0.9"));
	/* new-form files go first: the legacy file stays while an ifname match exists */
	put_file("10.0.0.10", "both");
	put_file("10.0.0.11", "both\r\neth0");
	put_file("last_reserved_ip.0", "10.0.0.11");
	release("both", "eth0");
	assert_null(file("10.0.0.11"));
	assert_string_equal(file("10.0.0.10"), "both");
}

static void test_store_long_id(void **state)
{
	char id[300];

	(void)state;
	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	make_set((const char *const[]){ "10.0.0.0/24", NULL });
	/* too long for an index key: found by reading the files */
	assert_string_equal(alloc(id, NULL), "10.0.0.2/24");
	assert_int_equal(owned(id, "eth0"), 1);
	release(id, "eth0");
	assert_int_equal(owned(id, "eth0"), 0);
	assert_null(file("10.0.0.2"));
}

static void test_index_grows(void **state)
{
	char id[32], path[512];
	struct stat st;

	(void)state;
	make_set((const char *const[]){ "10.0.0.0/16", NULL });
	/* the table starts at 256 slots and doubles at half full: 600 owners need 2048 */
	for (int i = 0; i < 600; i++) {
		snprintf(id, sizeof(id), "owner-%d", i);
		assert_true(strstr(alloc(id, NULL), "/16") != NULL);
	}
	snprintf(path, sizeof(path), "%s/.podnet-index/net", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 4096 + 2048 * 236);
	for (int i = 0; i < 600; i++) {
		snprintf(id, sizeof(id), "owner-%d", i);
		assert_int_equal(owned(id, "eth0"), 1);
		release(id, "eth0");
		assert_int_equal(owned(id, "eth0"), 0);
	}
	assert_null(file("10.0.0.2"));
	assert_null(file("10.0.2.89"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iter_order),
		cmocka_unit_test_setup_teardown(test_store_round_robin, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_store_foreign, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_store_long_id, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_index_grows, setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests_name("alloc", tests, NULL, NULL);
}
