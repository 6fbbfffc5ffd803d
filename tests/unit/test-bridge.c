/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bridge's config (the reference's defaults and messages, vlanTrunk expansion, MAC
 * precedence) and the netlink messages for what the kernel here cannot do (bridge
 * VLAN filtering): built, then parsed back attribute by attribute.
 */
#include <errno.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../plugins/bridge/config.h"
#include "nl.h"

static struct br_conf conf;
static json_t *doc;

static const char *load_args(const char *json, const char *args)
{
	static struct pn_err err;
	struct cni_req req = { .name = "net", .version = "1.0.0", .args = args };

	json_decref(doc);
	doc = json_loads(json, 0, NULL);
	assert_non_null(doc);
	req.conf = doc;
	memset(&err, 0, sizeof(err));
	return br_conf_load(&conf, &req, &err) < 0 ? err.msg : "";
}

static const char *load(const char *json) { return load_args(json, ""); }

static void test_defaults(void **state)
{
	(void)state;
	assert_string_equal(load("{\"name\":\"net\"}"), "");
	assert_string_equal(conf.bridge, "cni0");
	assert_false(conf.is_gw || conf.ip_masq || conf.hairpin || conf.promisc || conf.macspoofchk);
	assert_int_equal(conf.mtu, 0);
	assert_false(br_l3(&conf));
	assert_string_equal(load("{\"isDefaultGateway\":true,\"Bridge\":\"br9\",\"ipam\":{\"type\":\"host-local\"}}"), "");
	assert_true(conf.is_gw);   /* isDefaultGateway implies isGateway */
	assert_string_equal(conf.bridge, "br9");
	assert_true(br_l3(&conf));
}

static void test_errors(void **state)
{
	(void)state;
	assert_string_equal(load("{\"vlan\":-100}"), "invalid VLAN ID -100 (must be between 0 and 4094)");
	assert_string_equal(load("{\"vlan\":5000}"), "invalid VLAN ID 5000 (must be between 0 and 4094)");
	assert_string_equal(load("{\"hairpinMode\":true,\"promiscMode\":true}"),
			    "cannot set hairpin mode and promiscuous mode at the same time");
	assert_string_equal(load("{\"disableContainerInterface\":true,\"ipam\":{\"type\":\"host-local\"}}"),
			    "cannot use IPAM when DisableContainerInterface flag is set");
	assert_string_equal(load("{\"ipMasqBackend\":\"pf\"}"), "unknown ipmasq backend \"pf\"");
	assert_string_equal(load("{\"portIsolation\":\"true\"}"),
			    "failed to load netconf: json: cannot unmarshal string into Go struct field NetConf.portIsolation of type bool");
	assert_string_equal(load("{\"mtu\":1500.0}"),
			    "failed to load netconf: json: cannot unmarshal number into Go struct field NetConf.mtu of type int");
	/* collectVlanTrunk's failure table */
	assert_string_equal(load("{\"vlanTrunk\":[{\"minID\":0,\"maxID\":10}]}"), "incorrect trunk minID parameter");
	assert_string_equal(load("{\"vlanTrunk\":[{\"minID\":5000,\"maxID\":5001}]}"), "incorrect trunk minID parameter");
	assert_string_equal(load("{\"vlanTrunk\":[{\"minID\":1,\"maxID\":5000}]}"), "incorrect trunk maxID parameter");
	assert_string_equal(load("{\"vlanTrunk\":[{\"minID\":10,\"maxID\":5}]}"), "minID is greater than maxID in trunk parameter");
	assert_string_equal(load("{\"vlanTrunk\":[{\"maxID\":5}]}"),
			    "minID and maxID should be configured simultaneously, minID is missing");
	assert_string_equal(load("{\"vlanTrunk\":[{\"minID\":5}]}"),
			    "minID and maxID should be configured simultaneously, maxID is missing");
	assert_string_equal(load("{\"vlanTrunk\":[{\"id\":0}]}"), "incorrect trunk id parameter");
	assert_string_equal(load("{\"vlanTrunk\":[{\"id\":4095}]}"), "incorrect trunk id parameter");
}

static void test_trunk_and_mac(void **state)
{
	(void)state;
	/* 101, 200~210, deduplicated and sorted */
	assert_string_equal(load("{\"vlanTrunk\":[{\"minID\":200,\"maxID\":210},{\"id\":101},{\"id\":205}]}"), "");
	assert_true(conf.trunk_set && br_vlan_filtering(&conf));
	assert_int_equal(conf.ntrunk, 12);
	assert_int_equal(conf.trunk[0], 101);
	assert_int_equal(conf.trunk[1], 200);
	assert_int_equal(conf.trunk[11], 210);
	assert_string_equal(load("{\"vlanTrunk\":[]}"), "");
	assert_true(br_vlan_filtering(&conf));   /* even [] asks for VLAN filtering, as the reference */
	/* MAC: runtimeConfig > args.cni > CNI_ARGS */
	assert_string_equal(load_args("{\"args\":{\"cni\":{\"mac\":\"c2:11:22:33:44:55\"}},"
				      "\"RuntimeConfig\":{\"mac\":\"c2:11:22:33:44:66\"}}", "MAC=c2:11:22:33:44:77"), "");
	assert_int_equal(conf.mac[5], 0x66);
	assert_string_equal(load_args("{\"args\":{\"cni\":{\"mac\":\"c2:11:22:33:44:55\"}}}", "MAC=c2:11:22:33:44:77"), "");
	assert_int_equal(conf.mac[5], 0x55);
	assert_string_equal(load_args("{}", "MAC=c2:11:22:33:44:77"), "");
	assert_int_equal(conf.mac[5], 0x77);
	assert_string_equal(load_args("{}", "MAC=c2:11:22:33:44"), "ARGS: error parsing value of pair \"MAC=c2:11:22:33:44\": invalid MAC address c2:11:22:33:44");
}

/* attribute walk helpers */
static const struct nlattr *find(const struct nlattr *nest, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest)
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

static void test_vlan_messages(void **state)
{
	char buf[PN_NL_BUF];
	const struct nlattr *a, *spec = NULL, *info = NULL, *data;
	struct nlmsghdr *nlh;
	const struct ifinfomsg *ifm;
	const struct bridge_vlan_info *vi;

	(void)state;
	/* a VLAN as PVID + untagged on port 7 */
	nlh = pn_nl_msg_bridge_vlan(buf, 7, 100, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED, true);
	assert_int_equal(nlh->nlmsg_type, RTM_SETLINK);
	ifm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifm->ifi_family, AF_BRIDGE);
	assert_int_equal(ifm->ifi_index, 7);
	mnl_attr_for_each(a, nlh, sizeof(*ifm))
		if (mnl_attr_get_type(a) == IFLA_AF_SPEC)
			spec = a;
	assert_non_null(spec);
	assert_int_equal(mnl_attr_get_u16(find(spec, IFLA_BRIDGE_FLAGS)), BRIDGE_FLAGS_MASTER);
	vi = mnl_attr_get_payload(find(spec, IFLA_BRIDGE_VLAN_INFO));
	assert_int_equal(vi->vid, 100);
	assert_int_equal(vi->flags, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED);
	/* removing the default VLAN 1 */
	nlh = pn_nl_msg_bridge_vlan(buf, 7, 1, 0, false);
	assert_int_equal(nlh->nlmsg_type, RTM_DELLINK);
	/* a bridge created with VLAN filtering */
	nlh = pn_nl_msg_add_bridge(buf, "cni0", 1400, true);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWLINK);
	assert_int_equal(nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), NLM_F_CREATE | NLM_F_EXCL);
	mnl_attr_for_each(a, nlh, sizeof(*ifm)) {
		if (mnl_attr_get_type(a) == IFLA_IFNAME)
			assert_string_equal(mnl_attr_get_str(a), "cni0");
		if (mnl_attr_get_type(a) == IFLA_MTU)
			assert_int_equal(mnl_attr_get_u32(a), 1400);
		if (mnl_attr_get_type(a) == IFLA_LINKINFO)
			info = a;
	}
	assert_non_null(info);
	assert_string_equal(mnl_attr_get_str(find(info, IFLA_INFO_KIND)), "bridge");
	data = find(info, IFLA_INFO_DATA);
	assert_non_null(data);
	assert_int_equal(mnl_attr_get_u8(find(data, IFLA_BR_VLAN_FILTERING)), 1);
	/* and without: no IFLA_INFO_DATA at all, as the reference */
	nlh = pn_nl_msg_add_bridge(buf, "cni0", 0, false);
	info = NULL;
	mnl_attr_for_each(a, nlh, sizeof(*ifm))
		if (mnl_attr_get_type(a) == IFLA_LINKINFO)
			info = a;
	assert_null(find(info, IFLA_INFO_DATA));
}

static int teardown(void **state)
{
	(void)state;
	json_decref(doc);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_trunk_and_mac),
		cmocka_unit_test(test_vlan_messages),
	};

	return cmocka_run_group_tests_name("bridge", tests, NULL, teardown);
}
