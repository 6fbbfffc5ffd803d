/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-512 against the FIPS 180-4 examples and a chain name the reference plugin made. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sha512.h"

static const char *hex(const char *s)
{
	static char buf[129];

	pn_sha512_hex(s, "", 128, buf);
	return buf;
}

static void test_vectors(void **state)
{
	char buf[129];

	(void)state;
	assert_string_equal(hex(""), "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
				     "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
	assert_string_equal(hex("abc"), "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
					"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	/* two blocks */
	assert_string_equal(hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
				"ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
			    "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
			    "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
	/* the reference bridge's iptables chain for network "benchbrm", container "m1" */
	pn_sha512_hex("benchbrm", "m1", 24, buf);
	assert_string_equal(buf, "0f0490a10c9cb37dbd3d3b19");
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_vectors) };

	return cmocka_run_group_tests_name("sha512", tests, NULL, NULL);
}
