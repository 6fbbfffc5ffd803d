/* SPDX-License-Identifier: Apache-2.0 */
/* Address parsing, printing and arithmetic against Go's net package behaviour. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ip.h"

static const char *roundtrip(const char *in)
{
	static char buf[PN_IP_STRLEN];
	struct pn_ip ip;

	if (pn_ip_parse(in, &ip) < 0)
		return "ERR";
	return pn_ip_format(&ip, buf);
}

static void test_parse_format(void **state)
{
	(void)state;
	assert_string_equal(roundtrip("10.1.2.3"), "10.1.2.3");
	assert_string_equal(roundtrip("0.0.0.0"), "0.0.0.0");
	/* Go >= 1.17 rejects leading zeros; zones are not IPs */
	assert_string_equal(roundtrip("010.1.2.3"), "ERR");
	assert_string_equal(roundtrip("10.1.2"), "ERR");
	assert_string_equal(roundtrip("10.1.2.256"), "ERR");
	assert_string_equal(roundtrip("fe80::1%eth0"), "ERR");
	assert_string_equal(roundtrip(""), "ERR");
	assert_string_equal(roundtrip(" 10.1.2.3"), "ERR");
	/* RFC 5952 like net.IP.String: lower case, longest zero run, not a single group */
	assert_string_equal(roundtrip("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
	assert_string_equal(roundtrip("2001:db8:0:1:0:0:0:1"), "2001:db8:0:1::1");
	assert_string_equal(roundtrip("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
	assert_string_equal(roundtrip("2001:db8:1:1:1:1:0:1"), "2001:db8:1:1:1:1:0:1");
	assert_string_equal(roundtrip("::"), "::");
	assert_string_equal(roundtrip("::1"), "::1");
	assert_string_equal(roundtrip("1::"), "1::");
	/* glibc would print "::1.2.3.4"; Go prints hex */
	assert_string_equal(roundtrip("::102:304"), "::102:304");
	/* IPv4-mapped is IPv4, as To4() makes it */
	assert_string_equal(roundtrip("::ffff:10.1.2.3"), "10.1.2.3");
}

static void test_prefix(void **state)
{
	char buf[PN_PREFIX_STRLEN];
	struct pn_prefix p;
	struct pn_ip a;

	(void)state;
	assert_int_equal(pn_prefix_parse("10.1.2.77/24", &p), 0);
	assert_string_equal(pn_prefix_format(&p, buf), "10.1.2.77/24");   /* host bits kept */
	assert_true(pn_prefix_has_host_bits(&p));
	a = pn_prefix_network(&p);
	assert_string_equal(pn_ip_format(&a, buf), "10.1.2.0");
	a = pn_prefix_last(&p);
	assert_string_equal(pn_ip_format(&a, buf), "10.1.2.255");
	assert_int_equal(pn_prefix_parse("10.1.2.0/33", &p), -EINVAL);
	assert_int_equal(pn_prefix_parse("10.1.2.0/", &p), -EINVAL);
	assert_int_equal(pn_prefix_parse("10.1.2.0/-1", &p), -EINVAL);
	assert_int_equal(pn_prefix_parse("10.1.2.0/2x", &p), -EINVAL);
	assert_int_equal(pn_prefix_parse("10.1.2.0", &p), -EINVAL);
	assert_int_equal(pn_prefix_parse("2001:db8::/64", &p), 0);
	a = pn_prefix_last(&p);
	assert_string_equal(pn_ip_format(&a, buf), "2001:db8::ffff:ffff:ffff:ffff");
	assert_int_equal(pn_prefix_parse("2001:db8::/129", &p), -EINVAL);
	assert_int_equal(pn_prefix_parse("2001:db8:1::/48", &p), 0);
	assert_int_equal(pn_ip_parse("2001:db8:1:ffff::1", &a), 0);
	assert_true(pn_prefix_contains(&p, &a));
	assert_int_equal(pn_ip_parse("2001:db8:2::1", &a), 0);
	assert_false(pn_prefix_contains(&p, &a));
	assert_int_equal(pn_ip_parse("10.0.0.1", &a), 0);
	assert_false(pn_prefix_contains(&p, &a));   /* other family */
}

static void test_arith(void **state)
{
	char buf[PN_IP_STRLEN];
	struct pn_ip a, b;

	(void)state;
	pn_ip_parse("10.1.2.255", &a);
	b = pn_ip_add(&a, 1);
	assert_string_equal(pn_ip_format(&b, buf), "10.1.3.0");
	b = pn_ip_add(&b, -1);
	assert_true(pn_ip_eq(&a, &b));
	pn_ip_parse("255.255.255.255", &a);
	b = pn_ip_add(&a, 1);
	assert_string_equal(pn_ip_format(&b, buf), "0.0.0.0");   /* wraps within the family */
	pn_ip_parse("2001:db8::ffff:ffff:ffff:ffff", &a);
	b = pn_ip_add(&a, 1);
	assert_string_equal(pn_ip_format(&b, buf), "2001:db8:0:1::");
	pn_ip_parse("10.0.0.0", &a);
	pn_ip_parse("10.0.255.255", &b);
	assert_int_equal(pn_ip_span(&a, &b), 65536);
	assert_int_equal(pn_ip_span(&b, &a), 0);
	pn_ip_parse("::", &a);
	pn_ip_parse("::ffff:ffff:ffff:ffff:ffff", &b);
	assert_true(pn_ip_span(&a, &b) == UINT64_MAX);   /* saturates */
	assert_true(pn_ip_cmp(&a, &b) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_arith),
	};

	return cmocka_run_group_tests_name("ip", tests, NULL, NULL);
}
