/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Environment, stdin and verb dispatch, in the order the reference's skel checks them,
 * so that the same bad input gets the same error code from either implementation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cni.h"
#include "json.h"

const char *const cni_supported_versions[] = {
	"0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0", NULL
};

bool cni_version_supported(const char *v)
{
	for (const char *const *s = cni_supported_versions; *s; s++)
		if (!strcmp(*s, v))
			return true;
	return false;
}

static int parse_semver(const char *s, long v[3])
{
	char *end;

	for (int i = 0; i < 3; i++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v[i] = strtol(s, &end, 10);
		s = end;
		if (i < 2 && *s++ != '.')
			return -EINVAL;
	}
	return *s ? -EINVAL : 0;
}

int cni_version_cmp(const char *a, const char *b, bool *bad)
{
	long va[3], vb[3];

	*bad = parse_semver(a, va) < 0 || parse_semver(b, vb) < 0;
	if (*bad)
		return 0;
	for (int i = 0; i < 3; i++)
		if (va[i] != vb[i])
			return va[i] < vb[i] ? -1 : 1;
	return 0;
}

void cni_owner_comment(const struct cni_req *req, char *buf, size_t len)
{
	snprintf(buf, len, "net: %s, if: %s, id: %s", req->name, req->ifname, req->container_id);
}

bool cni_owner_valid(const struct cni_req *req, const json_t *valid, const char *comment)
{
	char prefix[256];
	json_t *a;
	size_t i;

	snprintf(prefix, sizeof(prefix), "net: %s, if: ", req->name);
	if (strncmp(comment, prefix, strlen(prefix)))
		return true;
	json_array_foreach(valid, i, a) {
		const char *id = json_string_value(pn_json_get(a, "containerID"));
		const char *ifn = json_string_value(pn_json_get(a, "ifname"));
		char want[256];

		snprintf(want, sizeof(want), "net: %s, if: %s, id: %s", req->name, ifn ? ifn : "", id ? id : "");
		if (!strcmp(want, comment))
			return true;
	}
	return false;
}

static enum cni_cmd parse_cmd(const char *s)
{
	static const struct { const char *name; enum cni_cmd cmd; } cmds[] = {
		{ "ADD", CNI_CMD_ADD }, { "DEL", CNI_CMD_DEL }, { "CHECK", CNI_CMD_CHECK },
		{ "VERSION", CNI_CMD_VERSION }, { "STATUS", CNI_CMD_STATUS }, { "GC", CNI_CMD_GC },
	};

	if (!s || !*s)
		return CNI_CMD_NONE;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(s, cmds[i].name))
			return cmds[i].cmd;
	return CNI_CMD_UNKNOWN;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v ? v : "";
}

static bool valid_container_id(const char *id)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

	if (!*id || !strchr(alnum, *id))
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == strlen(id);
}

static int validate_ifname(const char *n, struct pn_err *e)
{
	if (strlen(n) > 15)
		goto too_long;
	if (!strcmp(n, ".") || !strcmp(n, ".."))
		goto dots;
	for (const char *p = n; *p; p++)
		if (*p == '/' || *p == ':' || *p == ' ' || (*p >= '\t' && *p <= '\r'))
			goto bad_char;
	return 0;
too_long:
	pn_err_set(e, CNI_ERR_INVALID_ENV, -EINVAL, "interface name is too long");
	pn_err_details(e, "interface name should be less than 16 characters");
	return -EINVAL;
dots:
	pn_err_set(e, CNI_ERR_INVALID_ENV, -EINVAL, "interface name is . or ..");
	return -EINVAL;
bad_char:
	pn_err_set(e, CNI_ERR_INVALID_ENV, -EINVAL, "interface name contains / or : or whitespace characters");
	return -EINVAL;
}

/* Which verbs need which variable: the table of the reference's skel. */
static int read_env(struct cni_req *req, struct pn_err *e)
{
	enum { A = 1 << CNI_CMD_ADD, D = 1 << CNI_CMD_DEL, C = 1 << CNI_CMD_CHECK,
	       S = 1 << CNI_CMD_STATUS, G = 1 << CNI_CMD_GC };
	const struct { const char *name; const char **val; unsigned required; } vars[] = {
		{ "CNI_COMMAND", &req->command, ~0u },
		{ "CNI_CONTAINERID", &req->container_id, A | C | D },
		{ "CNI_NETNS", &req->netns, A | C },
		{ "CNI_IFNAME", &req->ifname, A | C | D },
		{ "CNI_ARGS", &req->args, 0 },
		{ "CNI_PATH", &req->path, A | C | D | G | S },
	};
	char missing[256] = "";
	size_t n = 0;

	req->cmd = parse_cmd(env("CNI_COMMAND"));
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		*vars[i].val = env(vars[i].name);
		if (**vars[i].val || !(vars[i].required & (1u << req->cmd)))
			continue;
		n += (size_t)snprintf(missing + n, sizeof(missing) - n, "%s%s", n ? "," : "", vars[i].name);
	}
	if (n)
		return pn_err_set(e, CNI_ERR_INVALID_ENV, -EINVAL, "required env variables [%s] missing", missing);
	if ((1u << req->cmd) & (A | C | D)) {
		if (!valid_container_id(req->container_id)) {
			pn_err_set(e, CNI_ERR_INVALID_ENV, -EINVAL, "invalid characters in containerID");
			pn_err_details(e, "%s", req->container_id);
			return -EINVAL;
		}
		if (validate_ifname(req->ifname, e) < 0)
			return -EINVAL;
	}
	return 0;
}

static void print_version(void)
{
	json_t *v = json_array();

	for (const char *const *s = cni_supported_versions; *s; s++)
		json_array_append_new(v, json_string(*s));
	json_t *o = json_pack("{s:s, s:o}", "cniVersion", CNI_VERSION_LATEST, "supportedVersions", v);
	char *s = json_dumps(o, JSON_COMPACT);

	/* the reference prints VERSION with json.Encoder: compact, one trailing newline */
	printf("%s\n", s);
	free(s);
	json_decref(o);
}

static bool valid_network_name(const char *n)
{
	return valid_container_id(n);  /* the same pattern: ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$ */
}

static int parse_stdin(struct cni_req *req, const char *input, size_t len, struct pn_err *e)
{
	json_error_t jerr;
	json_t *name;

	if (len > CNI_STDIN_MAX)
		return pn_err_set(e, CNI_ERR_DECODE, -E2BIG,
				  "error unmarshall network config: input larger than %u bytes", CNI_STDIN_MAX);
	/* JSON_ALLOW_NUL: a NUL inside a string is data, not the end of the input */
	req->conf = json_loadb(input, len, JSON_ALLOW_NUL, &jerr);
	if (!req->conf)
		return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "error unmarshall network config: %s (line %d, column %d)",
				  jerr.text, jerr.line, jerr.column);
	if (!json_is_object(req->conf))
		return pn_err_set(e, CNI_ERR_DECODE, -EINVAL,
				  "error unmarshall network config: json: cannot unmarshal %s into Go value of type struct { Name string \"json:\\\"name\\\"\" }",
				  pn_json_type_name(req->conf));
	name = pn_json_get(req->conf, "name");
	if (name && !json_is_string(name))
		return pn_err_set(e, CNI_ERR_DECODE, -EINVAL,
				  "error unmarshall network config: json: cannot unmarshal %s into Go struct field .name of type string",
				  pn_json_type_name(name));
	if (!name || !*json_string_value(name))
		return pn_err_set(e, CNI_ERR_INVALID_CONFIG, -EINVAL, "missing network name");
	req->name = json_string_value(name);
	if (!valid_network_name(req->name) || strlen(req->name) != json_string_length(name)) {
		pn_err_set(e, CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid characters found in network name");
		pn_err_details(e, "%s", req->name);
		return -EINVAL;
	}
	req->raw = input;
	req->raw_len = len;
	return 0;
}

static int check_version(struct cni_req *req, const char *verb, const char *min, struct pn_err *e)
{
	json_t *v = pn_json_get(req->conf, "cniVersion");
	bool bad;

	if (v && !json_is_string(v))
		return pn_err_set(e, CNI_ERR_DECODE, -EINVAL,
				  "decoding version from network config: json: cannot unmarshal %s into Go struct field .cniVersion of type string",
				  pn_json_type_name(v));
	req->version = v && *json_string_value(v) ? json_string_value(v) : "0.1.0";
	if (min) {
		int c = cni_version_cmp(req->version, min, &bad);

		if (bad)
			return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "Invalid version \"%s\"", req->version);
		if (c < 0)
			return pn_err_set(e, CNI_ERR_INCOMPATIBLE_VERSION, -ENOTSUP,
					  "config version does not allow %s", verb);
	}
	if (!cni_version_supported(req->version)) {
		char list[256];
		size_t n = 0;

		for (const char *const *s = cni_supported_versions; *s; s++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"", n ? " " : "", *s);
		pn_err_set(e, CNI_ERR_INCOMPATIBLE_VERSION, -ENOTSUP, "incompatible CNI versions");
		pn_err_details(e, "config is \"%s\", plugin supports [%s]", req->version, list);
		return -ENOTSUP;
	}
	return 0;
}

static int dispatch(const struct cni_plugin *p, struct cni_req *req, const char *input, size_t len,
		    struct pn_err *e)
{
	json_t *result = NULL;
	int r;

	r = read_env(req, e);
	if (r < 0) {
		if (req->cmd == CNI_CMD_NONE) {
			fprintf(stderr, "CNI %s plugin podnet\nCNI protocol versions supported: ", p->name);
			for (const char *const *s = cni_supported_versions; *s; s++)
				fprintf(stderr, "%s%s", *s, s[1] ? ", " : "\n");
			return 0;
		}
		return r;
	}
	if (req->cmd == CNI_CMD_VERSION) {
		print_version();
		return 0;
	}
	r = parse_stdin(req, input, len, e);
	if (r < 0)
		return r;
	if ((r = cni_run_verb(p, req, &result, e)) < 0)
		return r;
	if (req->cmd == CNI_CMD_ADD) {
		r = cni_result_print(result, req->version, e);
		json_decref(result);
	}
	return r;
}

int cni_run_verb(const struct cni_plugin *p, struct cni_req *req, json_t **result, struct pn_err *e)
{
	int r;

	*result = NULL;
	switch (req->cmd) {
	case CNI_CMD_ADD:
		if ((r = check_version(req, "ADD", NULL, e)) < 0)
			return r;
		return p->add(req, result, e);
	case CNI_CMD_DEL:
		if ((r = check_version(req, "DEL", NULL, e)) < 0)
			return r;
		return p->del(req, e);
	case CNI_CMD_CHECK:
		if ((r = check_version(req, "CHECK", "0.4.0", e)) < 0)
			return r;
		return p->check ? p->check(req, e) : 0;
	case CNI_CMD_STATUS:
		if ((r = check_version(req, "STATUS", "1.1.0", e)) < 0)
			return r;
		return p->status ? p->status(req, e) : 0;
	case CNI_CMD_GC:
		if ((r = check_version(req, "GC", "1.1.0", e)) < 0)
			return r;
		return p->gc ? p->gc(req, e) : 0;
	default:
		return pn_err_set(e, CNI_ERR_INVALID_ENV, -EINVAL, "unknown CNI_COMMAND: %s", req->command);
	}
}

int cni_run(const struct cni_plugin *plugin, const char *input, size_t len)
{
	struct cni_req req = { 0 };
	struct pn_err e = { .code = CNI_ERR_INTERNAL };
	int r = dispatch(plugin, &req, input, len, &e);

	json_decref(req.conf);
	fflush(stdout);
	if (r < 0) {
		cni_error_print(&e);
		return 1;
	}
	return 0;
}

int cni_main(const struct cni_plugin *plugin)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	struct timespec ts;
	int r;

	/* jansson would seed its hash from /dev/urandom: three syscalls of a short run */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	json_object_seed((size_t)ts.tv_nsec ^ ((size_t)getpid() << 16));
	if (!buf)
		return 1;
	/* VERSION ignores stdin, and a runtime may not send any */
	if (parse_cmd(getenv("CNI_COMMAND")) != CNI_CMD_VERSION) {
		for (;;) {
			ssize_t n;

			if (len == cap) {
				char *nb;

				if (cap > CNI_STDIN_MAX)
					break;  /* cni_run reports the oversize input */
				nb = realloc(buf, cap * 2);
				if (!nb) {
					free(buf);
					return 1;
				}
				buf = nb;
				cap *= 2;
			}
			n = read(STDIN_FILENO, buf + len, cap - len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				struct pn_err e;

				pn_err_set(&e, CNI_ERR_IO, -errno, "error reading from stdin: %s", strerror(errno));
				cni_error_print(&e);
				free(buf);
				return 1;
			}
			if (n == 0)
				break;
			len += (size_t)n;
		}
	}
	r = cni_run(plugin, buf, len);
	free(buf);
	return r;
}
