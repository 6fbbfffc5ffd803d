/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CNI contract of lib/: env and stdin errors in the reference skel's order and
 * codes, results per cniVersion, error JSON, CNI_ARGS and delegation.
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

#include "cni.h"
#include "elf-id.h"

static const char *canon_text =
	"{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:dd:ee:ff\",\"mtu\":1400,\"sandbox\":\"/run/netns/x\"}],"
	"\"ips\":[{\"interface\":0,\"address\":\"10.1.2.3/24\",\"gateway\":\"10.1.2.1\"},"
	"{\"address\":\"2001:db8::3/64\"}],"
	"\"routes\":[{\"dst\":\"0.0.0.0/0\"},{\"dst\":\"::/0\",\"gw\":\"2001:db8::1\"}]}";

static int fake_add(const struct cni_req *req, json_t **result, struct pn_err *e)
{
	(void)req;
	(void)e;
	*result = json_loads(canon_text, 0, NULL);
	return 0;
}

static int fake_del(const struct cni_req *req, struct pn_err *e)
{
	(void)req;
	(void)e;
	return 0;
}

static const struct cni_plugin fake = { .name = "fake", .add = fake_add, .del = fake_del };

/* Runs cni_run with the given env and stdin; returns stdout, *rc the exit status. */
static const char *run(const char *cmd, const char *input, int *rc)
{
	static char out[65536];
	FILE *tmp = tmpfile();
	int saved = dup(STDOUT_FILENO);
	size_t n;

	if (cmd)
		setenv("CNI_COMMAND", cmd, 1);
	else
		unsetenv("CNI_COMMAND");
	fflush(stdout);
	dup2(fileno(tmp), STDOUT_FILENO);
	*rc = cni_run(&fake, input, strlen(input));
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void set_env(void)
{
	setenv("CNI_CONTAINERID", "ctr1", 1);
	setenv("CNI_NETNS", "/run/netns/x", 1);
	setenv("CNI_IFNAME", "eth0", 1);
	setenv("CNI_PATH", "/nonexistent", 1);
	unsetenv("CNI_ARGS");
}

static void test_env_errors(void **state)
{
	int rc;

	(void)state;
	unsetenv("CNI_CONTAINERID");
	unsetenv("CNI_NETNS");
	unsetenv("CNI_IFNAME");
	unsetenv("CNI_PATH");
	assert_string_equal(run("ADD", "{}", &rc),
			    "{\n    \"code\": 4,\n    \"msg\": \"required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing\"\n}");
	assert_int_equal(rc, 1);
	/* DEL needs no netns */
	assert_string_equal(run("DEL", "{}", &rc),
			    "{\n    \"code\": 4,\n    \"msg\": \"required env variables [CNI_CONTAINERID,CNI_IFNAME,CNI_PATH] missing\"\n}");
	set_env();
	setenv("CNI_CONTAINERID", "bad/id", 1);
	assert_string_equal(run("ADD", "{}", &rc),
			    "{\n    \"code\": 4,\n    \"msg\": \"invalid characters in containerID\",\n    \"details\": \"bad/id\"\n}");
	set_env();
	setenv("CNI_IFNAME", "a-very-long-name0", 1);
	assert_non_null(strstr(run("ADD", "{}", &rc), "\"msg\": \"interface name is too long\""));
	setenv("CNI_IFNAME", "..", 1);
	assert_non_null(strstr(run("ADD", "{}", &rc), "\"msg\": \"interface name is . or ..\""));
	setenv("CNI_IFNAME", "eth 0", 1);
	assert_non_null(strstr(run("ADD", "{}", &rc), "interface name contains / or : or whitespace characters"));
	set_env();
	/* no CNI_COMMAND: the about text goes to stderr, nothing to stdout, exit 0 */
	assert_string_equal(run(NULL, "", &rc), "");
	assert_int_equal(rc, 0);
}

static void test_stdin_errors(void **state)
{
	int rc;

	(void)state;
	set_env();
	assert_string_equal(run("VERSION", "", &rc),
			    "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"0.1.0\",\"0.2.0\",\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}\n");
	assert_int_equal(rc, 0);
	assert_non_null(strstr(run("ADD", "{\"name\":", &rc), "\"code\": 6"));
	assert_int_equal(rc, 1);
	assert_non_null(strstr(run("ADD", "[1]", &rc), "\"code\": 6"));
	assert_non_null(strstr(run("ADD", "{\"name\": 5}", &rc), "\"code\": 6"));
	assert_string_equal(run("ADD", "{}", &rc), "{\n    \"code\": 7,\n    \"msg\": \"missing network name\"\n}");
	assert_string_equal(run("ADD", "{\"name\":\"../etc\"}", &rc),
			    "{\n    \"code\": 7,\n    \"msg\": \"invalid characters found in network name\",\n    \"details\": \"../etc\"\n}");
	assert_non_null(strstr(run("ADD", "{\"name\":\"a/b\"}", &rc), "\"code\": 7"));
	/* stdin is checked before the verb, as skel does */
	assert_non_null(strstr(run("FOO", "{}", &rc), "missing network name"));
	assert_string_equal(run("FOO", "{\"name\":\"n\"}", &rc),
			    "{\n    \"code\": 4,\n    \"msg\": \"unknown CNI_COMMAND: FOO\"\n}");
	assert_string_equal(run("ADD", "{\"name\":\"n\",\"cniVersion\":\"9.9.9\"}", &rc),
			    "{\n    \"code\": 1,\n    \"msg\": \"incompatible CNI versions\",\n    \"details\": \"config is \\\"9.9.9\\\", plugin supports [\\\"0.1.0\\\" \\\"0.2.0\\\" \\\"0.3.0\\\" \\\"0.3.1\\\" \\\"0.4.0\\\" \\\"1.0.0\\\" \\\"1.1.0\\\"]\"\n}");
	assert_non_null(strstr(run("ADD", "{\"name\":\"n\",\"cniVersion\":1}", &rc), "\"code\": 6"));
	assert_string_equal(run("CHECK", "{\"name\":\"n\",\"cniVersion\":\"0.3.1\"}", &rc),
			    "{\n    \"code\": 1,\n    \"msg\": \"config version does not allow CHECK\"\n}");
	assert_non_null(strstr(run("GC", "{\"name\":\"n\",\"cniVersion\":\"1.0.0\"}", &rc), "config version does not allow GC"));
	assert_non_null(strstr(run("STATUS", "{\"name\":\"n\",\"cniVersion\":\"1.0.0\"}", &rc), "config version does not allow STATUS"));
	assert_non_null(strstr(run("CHECK", "{\"name\":\"n\",\"cniVersion\":\"x.y\"}", &rc), "\"code\": 6"));
	/* deep nesting and oversized input are decode errors, not crashes */
	{
		size_t depth = 100000, len = 2 * depth + 1;
		char *deep = malloc(len);

		memset(deep, '[', depth);
		memset(deep + depth, ']', depth);
		deep[len - 1] = '\0';
		assert_non_null(strstr(run("ADD", deep, &rc), "\"code\": 6"));
		free(deep);
	}
	{
		size_t len = CNI_STDIN_MAX + 10;
		char *big = malloc(len + 1);

		memset(big, ' ', len);
		big[len] = '\0';
		assert_non_null(strstr(run("ADD", big, &rc), "\"code\": 6"));
		assert_int_equal(rc, 1);
		free(big);
	}
	assert_string_equal(run("DEL", "{\"name\":\"n\",\"cniVersion\":\"1.0.0\"}", &rc), "");
	assert_int_equal(rc, 0);
}

static const char *add_as(const char *version)
{
	char in[128];
	int rc;

	snprintf(in, sizeof(in), "{\"name\":\"n\",\"cniVersion\":\"%s\"}", version);
	return run("ADD", in, &rc);
}

static void test_results(void **state)
{
	(void)state;
	set_env();
	assert_string_equal(add_as("1.0.0"),
		"{\n    \"cniVersion\": \"1.0.0\",\n    \"interfaces\": [\n        {\n            \"name\": \"eth0\",\n"
		"            \"mac\": \"aa:bb:cc:dd:ee:ff\",\n            \"mtu\": 1400,\n            \"sandbox\": \"/run/netns/x\"\n"
		"        }\n    ],\n    \"ips\": [\n        {\n            \"interface\": 0,\n            \"address\": \"10.1.2.3/24\",\n"
		"            \"gateway\": \"10.1.2.1\"\n        },\n        {\n            \"address\": \"2001:db8::3/64\"\n        }\n"
		"    ],\n    \"routes\": [\n        {\n            \"dst\": \"0.0.0.0/0\"\n        },\n        {\n"
		"            \"dst\": \"::/0\",\n            \"gw\": \"2001:db8::1\"\n        }\n    ],\n    \"dns\": {}\n}");
	/* 0.3.x/0.4.0: "version" per IP, no interface mtu, dns always */
	assert_non_null(strstr(add_as("0.4.0"), "{\n            \"version\": \"4\",\n            \"interface\": 0,"));
	assert_non_null(strstr(add_as("0.3.1"), "\"version\": \"6\""));
	assert_null(strstr(add_as("0.3.0"), "mtu"));
	assert_non_null(strstr(add_as("0.3.0"), "\"dns\": {}"));
	/* 1.1.0: sorted keys, empty dns left out */
	assert_non_null(strstr(add_as("1.1.0"), "\"address\": \"10.1.2.3/24\",\n            \"gateway\": \"10.1.2.1\",\n            \"interface\": 0"));
	assert_null(strstr(add_as("1.1.0"), "dns"));
	/* 0.2.0: ip4/ip6 with their family's routes, no interfaces */
	assert_string_equal(add_as("0.2.0"),
		"{\n    \"cniVersion\": \"0.2.0\",\n    \"ip4\": {\n        \"ip\": \"10.1.2.3/24\",\n        \"gateway\": \"10.1.2.1\",\n"
		"        \"routes\": [\n            {\n                \"dst\": \"0.0.0.0/0\"\n            }\n        ]\n    },\n"
		"    \"ip6\": {\n        \"ip\": \"2001:db8::3/64\",\n        \"routes\": [\n            {\n"
		"                \"dst\": \"::/0\",\n                \"gw\": \"2001:db8::1\"\n            }\n        ]\n    },\n"
		"    \"dns\": {}\n}");
}

static void test_result_parse(void **state)
{
	json_t *in, *canon, *out;
	struct pn_err e;
	char *s;

	(void)state;
	in = json_loads("{\"cniVersion\":\"0.2.0\",\"ip4\":{\"ip\":\"10.0.0.2/24\",\"gateway\":\"10.0.0.1\","
			"\"routes\":[{\"dst\":\"0.0.0.0/0\"}]},\"dns\":{\"nameservers\":[\"10.0.0.53\"]}}", 0, NULL);
	assert_int_equal(cni_result_parse(in, "0.2.0", &canon, &e), 0);
	assert_int_equal(cni_result_convert(canon, "1.0.0", &out, &e), 0);
	s = json_dumps(out, JSON_COMPACT);
	assert_string_equal(s, "{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.0.0.2/24\",\"gateway\":\"10.0.0.1\"}],"
			       "\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{\"nameservers\":[\"10.0.0.53\"]}}");
	free(s);
	json_decref(in);
	json_decref(canon);
	json_decref(out);
	in = json_loads("{\"ips\":[{\"version\":\"4\",\"address\":\"bogus\"}]}", 0, NULL);
	assert_int_equal(cni_result_parse(in, "0.3.1", &canon, &e), -EINVAL);
	json_decref(in);
	/* a result without addresses cannot be written as 0.1/0.2 */
	in = json_loads("{\"interfaces\":[{\"name\":\"eth0\"}]}", 0, NULL);
	assert_int_equal(cni_result_convert(in, "0.2.0", &out, &e), -EINVAL);
	assert_string_equal(e.msg, "cannot convert: no valid IP addresses");
	json_decref(in);
}

static int collect(const char *key, const char *value, void *ctx, struct pn_err *e)
{
	(void)e;
	strcat(ctx, key);
	strcat(ctx, "=");
	strcat(ctx, value);
	strcat(ctx, ";");
	return 0;
}

static void test_args(void **state)
{
	static const char *const known[] = { "IP", "MAC", NULL };
	struct pn_err e;
	char got[256] = "";

	(void)state;
	assert_int_equal(cni_args_parse("IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.0.0.2;MAC=aa", known, collect, got, &e), 0);
	assert_string_equal(got, "IP=10.0.0.2;MAC=aa;");
	assert_int_equal(cni_args_parse("IP=1;FOO=2;BAR=3", known, collect, got, &e), -EINVAL);
	assert_string_equal(e.msg, "ARGS: unknown args [\"FOO=2\" \"BAR=3\"]");
	assert_int_equal(cni_args_parse("IP", known, collect, got, &e), -EINVAL);
	assert_string_equal(e.msg, "ARGS: invalid pair \"IP\"");
	assert_int_equal(cni_args_parse("IP=a=b", known, collect, got, &e), -EINVAL);
	assert_int_equal(cni_args_parse("IP=1;", known, collect, got, &e), -EINVAL);
	assert_int_equal(cni_args_parse("IgnoreUnknown=maybe", known, collect, got, &e), -EINVAL);
	assert_string_equal(e.msg, "ARGS: error parsing value of pair \"IgnoreUnknown=maybe\": boolean unmarshal error: invalid input maybe");
	/* keys are case-sensitive, like Go struct field names */
	assert_int_equal(cni_args_parse("ip=10.0.0.2", known, collect, got, &e), -EINVAL);
	assert_int_equal(cni_args_parse("", known, collect, got, &e), 0);
}

static char plugdir[] = "/tmp/podnet-test-cni.XXXXXX";

static void script(const char *name, const char *body)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", plugdir, name);
	f = fopen(path, "w");
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, 0755);
}

static void test_delegate(void **state)
{
	struct cni_req req = { .version = "1.0.0", .raw = "{\"name\":\"n\"}", .raw_len = 12 };
	char path[512], *s;
	struct pn_err e;
	json_t *res;

	(void)state;
	assert_non_null(mkdtemp(plugdir));
	/* the delegate gets our stdin and CNI_COMMAND; its 0.3.1 result comes back canonical */
	script("ok", "in=$(cat); [ \"$in\" = '{\"name\":\"n\"}' ] && [ \"$CNI_COMMAND\" = ADD ] || exit 9\n"
		     "printf '{\"cniVersion\":\"0.3.1\",\"ips\":[{\"version\":\"4\",\"address\":\"10.0.0.5/24\"}],\"dns\":{}}'");
	script("fail", "cat >/dev/null; printf '{\"code\":11,\"msg\":\"busy\",\"details\":\"later\"}'; exit 1");
	script("silent", "exit 3");
	script("garbage", "echo nope; exit 1");
	snprintf(path, sizeof(path), "/nonexistent:%s", plugdir);
	req.path = path;
	setenv("CNI_COMMAND", "DEL", 1);
	assert_int_equal(cni_delegate(&req, "ok", CNI_CMD_ADD, &res, &e), 0);
	s = json_dumps(res, JSON_COMPACT);
	assert_string_equal(s, "{\"ips\":[{\"address\":\"10.0.0.5/24\"}],\"routes\":[],\"dns\":{}}");
	free(s);
	json_decref(res);
	assert_int_equal(cni_delegate(&req, "fail", CNI_CMD_ADD, &res, &e), -EIO);
	assert_int_equal(e.code, 11);
	assert_string_equal(e.msg, "busy");
	assert_string_equal(e.details, "later");
	assert_int_equal(cni_delegate(&req, "silent", CNI_CMD_DEL, NULL, &e), -EIO);
	assert_string_equal(e.msg, "netplugin failed with no error message: exit status 3");
	assert_int_equal(cni_delegate(&req, "garbage", CNI_CMD_DEL, NULL, &e), -EIO);
	assert_string_equal(e.msg, "netplugin failed but error parsing its diagnostic message \"nope\n\"");
	assert_int_equal(cni_delegate(&req, "missing", CNI_CMD_ADD, &res, &e), -ENOENT);
	snprintf(path, sizeof(path), "failed to find plugin \"missing\" in path [/nonexistent:%s]", plugdir);
	assert_string_equal(e.msg, path);
	assert_int_equal(cni_delegate(&req, "../ok", CNI_CMD_ADD, &res, &e), -EINVAL);
	assert_string_equal(e.msg, "invalid plugin name: ../ok");
	assert_int_equal(cni_delegate(&req, "", CNI_CMD_ADD, &res, &e), -EINVAL);
	assert_string_equal(e.msg, "no plugin name provided");
	snprintf(path, sizeof(path), "rm -rf '%s'", plugdir);
	assert_int_equal(system(path), 0);
}

/* A plugin compiled in, standing in for this very executable (its build ID) on CNI_PATH. */
static int builtin_calls;

static int builtin_add(const struct cni_req *req, json_t **result, struct pn_err *e)
{
	builtin_calls++;
	if (!strcmp(req->container_id, "fail"))
		return pn_err_set(e, 11, -EBUSY, "busy"), pn_err_details(e, "try later"), -EBUSY;
	*result = json_pack("{s:[{s:s}], s:[], s:{}}", "ips", "address", "10.0.0.7/24", "routes", "dns");
	return 0;
}

static int builtin_del(const struct cni_req *req, struct pn_err *e)
{
	(void)req;
	(void)e;
	builtin_calls++;
	return 0;
}

static const struct cni_plugin builtin_plugin = { .name = "self", .add = builtin_add, .del = builtin_del };

static void test_delegate_builtin(void **state)
{
	char dir[] = "/tmp/podnet-test-builtin.XXXXXX", path[512], id[128], *s;
	struct cni_req req = { .version = "0.3.1", .container_id = "c1", .raw = "{}", .raw_len = 2 };
	struct cni_builtin b = { .type = "self", .plugin = &builtin_plugin, .build_id = id };
	struct pn_err e;
	json_t *res;
	int fd;

	(void)state;
	assert_int_equal(pn_elf_build_id("/proc/self/exe", id, sizeof(id)), 0);
	assert_int_equal(strspn(id, "0123456789abcdef"), strlen(id));
	assert_true(strlen(id) >= 16);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/self", dir);
	assert_int_equal(symlink("/proc/self/exe", path), 0);
	snprintf(path, sizeof(path), "%s/text", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0755);
	assert_int_equal(write(fd, "#!/bin/sh\nexit 0\n", 18), 18);
	close(fd);
	assert_int_equal(pn_elf_build_id(path, id + 64, 64), -ENOEXEC);
	assert_int_equal(pn_elf_build_id("/nonexistent", id + 64, 64), -ENOENT);
	/* an ELF header whose program headers are cut off: not an ELF file to trust */
	{
		char head[64];
		int self = open("/proc/self/exe", O_RDONLY);

		assert_int_equal(read(self, head, sizeof(head)), (int)sizeof(head));
		close(self);
		snprintf(path, sizeof(path), "%s/cut", dir);
		fd = open(path, O_WRONLY | O_CREAT, 0755);
		assert_int_equal(write(fd, head, sizeof(head)), (int)sizeof(head));
		close(fd);
		assert_int_equal(pn_elf_build_id(path, id + 64, 64), -ENOEXEC);
		/* and a buffer too small for the ID is refused, not overrun */
		assert_int_equal(pn_elf_build_id("/proc/self/exe", id + 64, 8), -ENOEXEC);
	}
	req.path = dir;
	req.conf = json_pack("{s:s, s:s}", "cniVersion", "0.3.1", "name", "n");
	cni_delegate_set_builtin(&b);
	/* in-process: the result as the plugin would have printed it for 0.3.1, parsed back */
	assert_int_equal(cni_delegate(&req, "self", CNI_CMD_ADD, &res, &e), 0);
	assert_int_equal(builtin_calls, 1);
	s = json_dumps(res, JSON_COMPACT);
	assert_string_equal(s, "{\"ips\":[{\"address\":\"10.0.0.7/24\"}],\"routes\":[],\"dns\":{}}");
	free(s);
	json_decref(res);
	assert_int_equal(cni_delegate(&req, "self", CNI_CMD_DEL, NULL, &e), 0);
	assert_int_equal(builtin_calls, 2);
	/* its error arrives as an exec'd plugin's would: code, msg, details */
	req.container_id = "fail";
	assert_int_equal(cni_delegate(&req, "self", CNI_CMD_ADD, &res, &e), -EIO);
	assert_int_equal(e.code, 11);
	assert_string_equal(e.msg, "busy");
	assert_string_equal(e.details, "try later");
	/* another file of the builtin's name (not an ELF of that build) is exec'd */
	b.type = "text";
	assert_int_equal(cni_delegate(&req, "text", CNI_CMD_DEL, NULL, &e), 0);
	assert_int_equal(builtin_calls, 3);
	cni_delegate_set_builtin(NULL);
	json_decref(req.conf);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_errors),
		cmocka_unit_test(test_stdin_errors),
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_result_parse),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_delegate),
		cmocka_unit_test(test_delegate_builtin),
	};

	return cmocka_run_group_tests_name("cni", tests, NULL, NULL);
}
