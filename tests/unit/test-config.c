/* SPDX-License-Identifier: Apache-2.0 */
/* host-local config: range canonicalisation and validation, with the reference's messages. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"

static struct hl_config cfg;
static struct pn_err err;
static json_t *conf;   /* the config borrows strings from it: kept until the next load */

/* Loads an ipam object given as JSON text; returns the error message or "" */
static const char *load_v(const char *ipam, const char *version, const char *args)
{
	char buf[4096];
	int r;

	snprintf(buf, sizeof(buf), "{\"name\":\"net\",\"ipam\":%s}", ipam);
	json_decref(conf);
	conf = json_loads(buf, 0, NULL);
	assert_non_null(conf);
	hl_config_free(&cfg);
	memset(&err, 0, sizeof(err));
	r = hl_config_load(&cfg, conf, "net", version, args, &err);
	return r < 0 ? err.msg : "";
}

static const char *load(const char *ipam) { return load_v(ipam, "1.0.0", ""); }

static const char *fmt_set(size_t i)
{
	static char buf[256];

	return hl_rangeset_format(&cfg.sets[i], buf, sizeof(buf));
}

static void test_defaults(void **state)
{
	char a[PN_IP_STRLEN];

	(void)state;
	assert_string_equal(load("{\"ranges\":[[{\"subnet\":\"192.0.2.0/24\"}]]}"), "");
	assert_int_equal(cfg.nsets, 1);
	assert_string_equal(fmt_set(0), "192.0.2.1-192.0.2.254");
	assert_string_equal(pn_ip_format(&cfg.sets[0].r[0].gw, a), "192.0.2.1");
	assert_string_equal(cfg.data_dir, "/var/lib/cni/networks");
	assert_string_equal(load("{\"ranges\":[[{\"subnet\":\"192.0.2.0/25\"}]]}"), "");
	assert_string_equal(fmt_set(0), "192.0.2.1-192.0.2.126");
	assert_string_equal(load("{\"ranges\":[[{\"subnet\":\"2001:DB8:1::/64\"}]]}"), "");
	assert_string_equal(fmt_set(0), "2001:db8:1::1-2001:db8:1:0:ffff:ffff:ffff:ffff");
	assert_string_equal(pn_ip_format(&cfg.sets[0].r[0].gw, a), "2001:db8:1::1");
	/* explicit fields are kept; a gateway is not checked at all (reference behaviour) */
	assert_string_equal(load("{\"ranges\":[[{\"subnet\":\"10.0.0.0/24\",\"rangeStart\":\"10.0.0.10\","
				 "\"rangeEnd\":\"10.0.0.20\",\"gateway\":\"10.9.9.9\"}]]}"), "");
	assert_string_equal(fmt_set(0), "10.0.0.10-10.0.0.20");
	assert_string_equal(pn_ip_format(&cfg.sets[0].r[0].gw, a), "10.9.9.9");
	/* Go's JSON decoding matches keys case-insensitively, the last one wins */
	assert_string_equal(load("{\"RANGES\":[[{\"Subnet\":\"10.0.0.0/24\",\"subnet\":\"10.0.1.0/24\"}]],"
				 "\"DataDir\":\"/tmp/x\"}"), "");
	assert_string_equal(fmt_set(0), "10.0.1.1-10.0.1.254");
	assert_string_equal(cfg.data_dir, "/tmp/x");
}

static void test_order(void **state)
{
	(void)state;
	/* runtimeConfig.ipRanges, then the legacy range, then ranges */
	char buf[1024];

	snprintf(buf, sizeof(buf), "{\"name\":\"n\",\"runtimeConfig\":{\"ipRanges\":[[{\"subnet\":\"10.3.0.0/24\"}]]},"
		 "\"ipam\":{\"subnet\":\"10.2.0.0/24\",\"ranges\":[[{\"subnet\":\"10.1.0.0/24\"}]]}}");
	json_decref(conf);
	conf = json_loads(buf, 0, NULL);
	hl_config_free(&cfg);
	assert_int_equal(hl_config_load(&cfg, conf, "n", "1.0.0", "", &err), 0);
	assert_int_equal(cfg.nsets, 3);
	assert_string_equal(fmt_set(0), "10.3.0.1-10.3.0.254");
	assert_string_equal(fmt_set(1), "10.2.0.1-10.2.0.254");
	assert_string_equal(fmt_set(2), "10.1.0.1-10.1.0.254");
}

static void test_errors(void **state)
{
	(void)state;
	assert_string_equal(load("{\"ranges\":[[{\"subnet\":\"10.1.2.0/31\"}]]}"),
			    "invalid range set 0: Network 10.1.2.0/31 too small to allocate from");
	assert_string_equal(load("{\"ranges\":[[{\"subnet\":\"192.0.2.5/24\"}]]}"),
			    "invalid range set 0: Network has host bits set. For a subnet mask of length 24 the network address is 192.0.2.0");
	assert_string_equal(load("{\"ranges\":[[{\"subnet\":\"2001:db8:24:19ff::/63\"}]]}"),
			    "invalid range set 0: Network has host bits set. For a subnet mask of length 63 the network address is 2001:db8:24:19fe::");
	assert_string_equal(load("{\"ranges\":[[{\"subnet\":\"192.0.2.0/24\",\"rangeStart\":\"192.0.2.50\",\"rangeEnd\":\"192.0.2.40\"}]]}"),
			    "invalid range set 0: RangeStart 192.0.2.50 not in network 192.0.2.0/24");
	assert_string_equal(load("{\"ranges\":[[{\"subnet\":\"192.0.2.0/24\",\"rangeEnd\":\"192.0.3.40\"}]]}"),
			    "invalid range set 0: RangeEnd 192.0.3.40 not in network 192.0.2.0/24");
	assert_string_equal(load("{\"ranges\":[[]]}"), "invalid range set 0: empty range set");
	assert_string_equal(load("{\"ranges\":[[{\"subnet\":\"10.0.0.0/24\"},{\"subnet\":\"2001:db8::/64\"}]]}"),
			    "invalid range set 0: mixed address families");
	assert_string_equal(load("{\"ranges\":[[{\"subnet\":\"10.1.0.0/22\"},{\"subnet\":\"10.1.2.0/24\"}]]}"),
			    "invalid range set 0: subnets 10.1.0.1-10.1.3.254 and 10.1.2.1-10.1.2.254 overlap");
	assert_string_equal(load("{\"ranges\":[[{\"subnet\":\"10.1.0.0/22\"}],[{\"subnet\":\"10.1.2.0/24\"}]]}"),
			    "range set 0 overlaps with 1");
	assert_string_equal(load("{\"ranges\":[]}"), "no IP ranges specified");
	assert_string_equal(load("{}"), "no IP ranges specified");
	assert_string_equal(load("{\"ranges\":[[{\"subnet\":\"10.1.0.0/33\"}]]}"), "invalid CIDR address: 10.1.0.0/33");
	assert_string_equal(load("{\"ranges\":[[{\"subnet\":\"nonsense\"}]]}"), "invalid CIDR address: nonsense");
	assert_string_equal(load("{\"ranges\":[[{\"subnet\":\"10.1.0.0/24\",\"gateway\":\"10.1.0.300\"}]]}"),
			    "invalid IP address: 10.1.0.300");
	assert_string_equal(load("{\"ranges\":[[{\"subnet\":24}]]}"),
			    "json: cannot unmarshal number into Go struct field Range.subnet of type string");
	assert_string_equal(load("{\"ranges\":{\"subnet\":\"10.0.0.0/8\"}}"),
			    "json: cannot unmarshal object into Go struct field IPAMConfig.ranges of type array");
	assert_string_equal(load("{\"ranges\":[{\"subnet\":\"10.0.0.0/8\"}]}"),
			    "json: cannot unmarshal object into Go struct field IPAMConfig.ranges of type array");
	assert_string_equal(load("{\"dataDir\":7,\"ranges\":[[{\"subnet\":\"10.0.0.0/8\"}]]}"),
			    "json: cannot unmarshal number into Go struct field IPAMConfig.dataDir of type string");
	/* 0.2.0 results carry one address per family */
	assert_string_equal(load_v("{\"ranges\":[[{\"subnet\":\"10.1.0.0/24\"}],[{\"subnet\":\"10.2.0.0/24\"}]]}", "0.2.0", ""),
			    "CNI version 0.2.0 does not support more than 1 address per family");
	assert_string_equal(load_v("{\"ranges\":[[{\"subnet\":\"10.1.0.0/24\"}],[{\"subnet\":\"2001:db8::/64\"}]]}", "0.2.0", ""), "");
}

static void test_requested(void **state)
{
	char a[PN_IP_STRLEN];

	(void)state;
	assert_string_equal(load_v("{\"ranges\":[[{\"subnet\":\"10.1.2.0/24\"}]]}", "1.0.0", "IP=10.1.2.10"), "");
	assert_int_equal(cfg.nrequested, 1);
	assert_string_equal(pn_ip_format(&cfg.requested[0], a), "10.1.2.10");
	assert_string_equal(load_v("{\"ranges\":[[{\"subnet\":\"10.1.2.0/24\"}]]}", "1.0.0", "IgnoreUnknown=1;IP=10.1.2.11/24;K8S_POD_NAME=x"), "");
	assert_string_equal(pn_ip_format(&cfg.requested[0], a), "10.1.2.11");
	assert_string_equal(load_v("{\"ranges\":[[{\"subnet\":\"10.1.2.0/24\"}]]}", "1.0.0", "IP=10.1.2.x"),
			    "ARGS: error parsing value of pair \"IP=10.1.2.x\": invalid IP address 10.1.2.x");
	assert_string_equal(load_v("{\"ranges\":[[{\"subnet\":\"10.1.2.0/24\"}]]}", "1.0.0", "K8S_POD_NAME=x"),
			    "ARGS: unknown args [\"K8S_POD_NAME=x\"]");
	/* CNI_ARGS, then args.cni.ips, then runtimeConfig.ips: all of them, in that order */
	json_decref(conf);
	conf = json_loads("{\"name\":\"n\",\"args\":{\"cni\":{\"ips\":[\"10.1.2.20\",\"2001:db8::5/64\"]}},"
			  "\"runtimeConfig\":{\"ips\":[\"10.1.2.30\"]},"
			  "\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.2.0/24\"}]]}}", 0, NULL);
	hl_config_free(&cfg);
	assert_int_equal(hl_config_load(&cfg, conf, "n", "1.0.0", "IP=10.1.2.10", &err), 0);
	assert_int_equal(cfg.nrequested, 4);
	assert_string_equal(pn_ip_format(&cfg.requested[0], a), "10.1.2.10");
	assert_string_equal(pn_ip_format(&cfg.requested[1], a), "10.1.2.20");
	assert_string_equal(pn_ip_format(&cfg.requested[2], a), "2001:db8::5");
	assert_string_equal(pn_ip_format(&cfg.requested[3], a), "10.1.2.30");
}

static int teardown(void **state)
{
	(void)state;
	hl_config_free(&cfg);
	json_decref(conf);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_requested),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, teardown);
}
