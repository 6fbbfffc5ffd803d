/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CNI contract, as the reference plugins' skel package implements it: CNI_*
 * environment, config on stdin, version negotiation, verb dispatch, and result or
 * error JSON on stdout.  A plugin fills a struct cni_plugin and calls cni_main().
 *
 * Results are handled in one canonical shape, the 1.x result as jansson objects
 * ({interfaces, ips, routes, dns}); cni_result_print() converts it to the config's
 * version and cni_result_parse() turns any version's result into it.
 */
#ifndef PODNET_CNI_H
#define PODNET_CNI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

enum cni_cmd { CNI_CMD_NONE, CNI_CMD_ADD, CNI_CMD_DEL, CNI_CMD_CHECK, CNI_CMD_VERSION,
	       CNI_CMD_STATUS, CNI_CMD_GC, CNI_CMD_UNKNOWN };

/* The largest config podnet reads from stdin; real configs are a few KiB. */
#define CNI_STDIN_MAX (4u << 20)
#define CNI_VERSION_LATEST "1.1.0"

struct cni_req {
	enum cni_cmd cmd;
	const char *command;      /* CNI_COMMAND as given */
	const char *container_id; /* CNI_CONTAINERID, "" when unset */
	const char *netns;        /* CNI_NETNS */
	const char *ifname;       /* CNI_IFNAME */
	const char *args;         /* CNI_ARGS */
	const char *path;         /* CNI_PATH */
	const char *version;      /* the config's cniVersion ("0.1.0" when absent) */
	const char *name;         /* the network name */
	json_t *conf;             /* the whole stdin object */
	const char *raw;          /* stdin bytes, handed verbatim to delegated plugins */
	size_t raw_len;
};

struct cni_plugin {
	const char *name;         /* for "CNI <name> plugin" on stderr when CNI_COMMAND is unset */
	/* *result is a canonical result the caller prints and frees */
	int (*add)(const struct cni_req *req, json_t **result, struct pn_err *e);
	int (*del)(const struct cni_req *req, struct pn_err *e);
	int (*check)(const struct cni_req *req, struct pn_err *e);
	int (*status)(const struct cni_req *req, struct pn_err *e);
	int (*gc)(const struct cni_req *req, struct pn_err *e);
};

/* "net: <name>, if: <ifname>, id: <containerID>": how podnet tags what it makes for an attachment. */
void cni_owner_comment(const struct cni_req *req, char *buf, size_t len);

/*
 * Whether an owner comment names an attachment in valid (GC's cni.dev/valid-attachments),
 * or another network (then it is not this GC's to collect).
 */
bool cni_owner_valid(const struct cni_req *req, const json_t *valid, const char *comment);

/* Runs one invocation from the process environment and stdin; returns the exit status. */
int cni_main(const struct cni_plugin *plugin);
/* The same with explicit input (tests, fuzzing): env lookups come from getenv(). */
int cni_run(const struct cni_plugin *plugin, const char *input, size_t len);

/*
 * One verb of a plugin on a request whose environment and stdin were read: the version
 * checks, then the plugin's function; for ADD the canonical result in *result.
 */
int cni_run_verb(const struct cni_plugin *plugin, struct cni_req *req, json_t **result, struct pn_err *e);

/* Versions */
extern const char *const cni_supported_versions[];
bool cni_version_supported(const char *v);
/* Compares two "X.Y.Z" versions; a string that does not parse sets *bad. */
int cni_version_cmp(const char *a, const char *b, bool *bad);

/* Results (lib/cni-result.c) */
/* Builds the JSON the spec defines for version `version` from a canonical result. */
int cni_result_convert(const json_t *canon, const char *version, json_t **out, struct pn_err *e);
/* Prints a result as the reference does: 4-space indent, no trailing newline. */
int cni_result_print(const json_t *canon, const char *version, struct pn_err *e);
/* Parses a result of the given version (prevResult, a delegate's output) into canonical form. */
int cni_result_parse(const json_t *in, const char *version, json_t **canon, struct pn_err *e);
/* Prints an error as {code, msg, details}. */
void cni_error_print(const struct pn_err *e);

/* CNI_ARGS (lib/cni-args.c): "K=V;K2=V2", keys matched case-sensitively to known[]. */
struct cni_arg { const char *key; const char *value; };
/* Calls fn for every known key; unknown keys fail unless IgnoreUnknown=1|true. */
int cni_args_parse(const char *args, const char *const known[],
		   int (*fn)(const char *key, const char *value, void *ctx, struct pn_err *e),
		   void *ctx, struct pn_err *e);

/* Delegation (lib/cni-delegate.c): exec plugin `type` found on CNI_PATH with this request. */
int cni_delegate(const struct cni_req *req, const char *type, enum cni_cmd cmd,
		 json_t **result, struct pn_err *e);
/* The same in two steps, so that the caller works while the delegate runs. */
struct cni_job {
	pid_t pid;
	int in_fd, out_fd;
	const char *in;
	size_t in_len, written, out_len;
	char *out;
	enum cni_cmd cmd;
	char type[64];
	bool running;
	/* run in-process (struct cni_builtin): its return, error and ADD output */
	bool builtin;
	int builtin_r;
	struct pn_err builtin_err;
	json_t *builtin_out;
};
int cni_delegate_start(const struct cni_req *req, const char *type, enum cni_cmd cmd, struct cni_job *job,
		       struct pn_err *e);
/* Waits for the delegate; always to be called after a successful start. */
int cni_delegate_finish(const struct cni_req *req, struct cni_job *job, json_t **result, struct pn_err *e);
/*
 * A plugin compiled into this executable that stands in for an exec of `type` when the file
 * found on CNI_PATH is the executable of the same build (its GNU build ID is build_id, hex):
 * the same code on the same stdin and environment gives the same result, files and errors,
 * without a fork and an exec per call.  Any other file of that name is exec'd as always.
 */
struct cni_builtin {
	const char *type;
	const struct cni_plugin *plugin;
	const char *build_id;
};
void cni_delegate_set_builtin(const struct cni_builtin *builtin);
/* Finds an executable regular file `type` in the ':'-separated path; fills out. */
int cni_find_in_path(const char *type, const char *path, char *out, size_t outlen, struct pn_err *e);

#endif
