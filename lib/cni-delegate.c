/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delegation to another plugin (IPAM) found on CNI_PATH: the same environment with
 * CNI_COMMAND replaced, the complete stdin, and the delegate's error passed up
 * unchanged, as the reference's pkg/invoke does.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cni.h"
#include "elf-id.h"
#include "json.h"

extern char **environ;

#define DELEGATE_OUT_MAX (1u << 20)

int cni_find_in_path(const char *type, const char *path, char *out, size_t outlen, struct pn_err *e)
{
	const char *p = path;

	if (!type || !*type)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "no plugin name provided");
	if (strchr(type, '/'))
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "invalid plugin name: %s", type);
	if (!path || !*path)
		return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "no paths provided");
	while (*p) {
		size_t n = strcspn(p, ":");
		struct stat st;

		if (n && (size_t)snprintf(out, outlen, "%.*s/%s", (int)n, p, type) < outlen &&
		    !stat(out, &st) && S_ISREG(st.st_mode))
			return 0;
		p += n + (p[n] == ':');
	}
	return pn_err_set(e, CNI_ERR_INTERNAL, -ENOENT, "failed to find plugin \"%s\" in path [%s]", type, path);
}

static const char *cmd_name(enum cni_cmd cmd)
{
	switch (cmd) {
	case CNI_CMD_ADD: return "ADD";
	case CNI_CMD_DEL: return "DEL";
	case CNI_CMD_CHECK: return "CHECK";
	case CNI_CMD_STATUS: return "STATUS";
	case CNI_CMD_GC: return "GC";
	default: return "VERSION";
	}
}

/* Spawns the plugin and writes as much of its stdin as the pipe takes without blocking. */
static int job_spawn(struct cni_job *j, const char *exe, enum cni_cmd cmd, const char *in, size_t in_len,
		     struct pn_err *e)
{
	int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, r = 0, tries = 0;
	size_t nenv = 0, k = 0;
	posix_spawn_file_actions_t fa;
	char cmdvar[32], **envp;
	char *argv[] = { (char *)exe, NULL };

	j->in = in;
	j->in_len = in_len;
	for (char **v = environ; *v; v++)
		nenv++;
	envp = calloc(nenv + 2, sizeof(*envp));
	if (!envp)
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	snprintf(cmdvar, sizeof(cmdvar), "CNI_COMMAND=%s", cmd_name(cmd));
	envp[k++] = cmdvar;
	for (char **v = environ; *v; v++)
		if (strncmp(*v, "CNI_COMMAND=", 12))
			envp[k++] = *v;
	if (pipe2(inp, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
		r = pn_err_set(e, CNI_ERR_INTERNAL, -errno, "pipe: %s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, inp[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, outp[1], STDOUT_FILENO);
	/* a just-written plugin binary may still be open for writing: retry like pkg/invoke */
	while ((r = posix_spawn(&j->pid, exe, &fa, NULL, argv, envp)) == ETXTBSY && ++tries < 6)
		sleep(1);
	posix_spawn_file_actions_destroy(&fa);
	if (r) {
		r = pn_err_set(e, CNI_ERR_INTERNAL, -r, "failed to exec %s: %s", exe, strerror(r));
		goto out;
	}
	close(inp[0]);
	close(outp[1]);
	inp[0] = outp[1] = -1;
	j->in_fd = inp[1];
	j->out_fd = outp[0];
	inp[1] = outp[0] = -1;
	/* a CNI config fits in a pipe: the child can start while we do other work */
	fcntl(j->in_fd, F_SETFL, O_NONBLOCK);
	while (j->written < j->in_len) {
		ssize_t n = write(j->in_fd, j->in + j->written, j->in_len - j->written);

		if (n <= 0)
			break;
		j->written += (size_t)n;
	}
	if (j->written == j->in_len) {
		close(j->in_fd);
		j->in_fd = -1;
	}
out:
	for (int i = 0; i < 2; i++) {
		if (inp[i] >= 0)
			close(inp[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	free(envp);
	return r;
}

/* Writes the rest of stdin and reads stdout together (neither side can block the other), then waits. */
static void job_collect(struct cni_job *j, int *status)
{
	size_t cap = 0;

	if (j->in_fd >= 0)
		fcntl(j->in_fd, F_SETFL, 0);
	for (;;) {
		struct pollfd pfd[2] = { { .fd = j->out_fd, .events = POLLIN }, { .fd = j->in_fd, .events = POLLOUT } };
		int nfds = j->in_fd >= 0 ? 2 : 1;
		ssize_t n;

		if (poll(pfd, (nfds_t)nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (nfds == 2 && pfd[1].revents) {
			n = write(j->in_fd, j->in + j->written, j->in_len - j->written);
			if (n > 0)
				j->written += (size_t)n;
			if (n < 0 || j->written == j->in_len) {
				close(j->in_fd);
				j->in_fd = -1;
			}
		}
		if (pfd[0].revents) {
			if (cap - j->out_len < 4096) {
				char *nb;

				if (cap >= DELEGATE_OUT_MAX)
					break;
				nb = realloc(j->out, cap ? cap * 2 : 8192);
				if (!nb)
					break;
				j->out = nb;
				cap = cap ? cap * 2 : 8192;
			}
			n = read(j->out_fd, j->out + j->out_len, cap - j->out_len - 1);
			if (n <= 0)
				break;
			j->out_len += (size_t)n;
		}
	}
	if (j->in_fd >= 0)
		close(j->in_fd);
	close(j->out_fd);
	j->in_fd = j->out_fd = -1;
	while (waitpid(j->pid, status, 0) < 0 && errno == EINTR)
		;
	if (!j->out)
		j->out = calloc(1, 1);
	if (j->out)
		j->out[j->out_len] = '\0';
}

static const struct cni_builtin *builtin;

void cni_delegate_set_builtin(const struct cni_builtin *b)
{
	builtin = b;
}

/* Whether exe is the build whose plugin is compiled in (and executable, as an exec needs). */
static bool is_builtin(const char *type, const char *exe)
{
	char id[128];

	return builtin && !strcmp(type, builtin->type) && !access(exe, X_OK) &&
	       pn_elf_build_id(exe, id, sizeof(id)) == 0 && !strcmp(id, builtin->build_id);
}

/* What the exec'd plugin would do with the same stdin and environment (CNI_COMMAND = cmd). */
static void run_builtin(const struct cni_req *req, enum cni_cmd cmd, struct cni_job *j)
{
	struct cni_req sub = *req;
	json_t *canon = NULL;

	sub.cmd = cmd;
	sub.command = cmd_name(cmd);
	j->builtin_err = (struct pn_err){ .code = CNI_ERR_INTERNAL };
	j->builtin_r = cni_run_verb(builtin->plugin, &sub, &canon, &j->builtin_err);
	/* an ADD's result as the plugin would have printed it, for cni_delegate_finish to parse */
	if (j->builtin_r == 0 && cmd == CNI_CMD_ADD)
		j->builtin_r = cni_result_convert(canon, sub.version, &j->builtin_out, &j->builtin_err);
	json_decref(canon);
}

int cni_delegate_start(const struct cni_req *req, const char *type, enum cni_cmd cmd, struct cni_job *j,
		       struct pn_err *e)
{
	char exe[4096];
	int r;

	memset(j, 0, sizeof(*j));
	j->in_fd = j->out_fd = -1;
	j->cmd = cmd;
	snprintf(j->type, sizeof(j->type), "%s", type ? type : "");
	r = cni_find_in_path(type, req->path, exe, sizeof(exe), e);
	if (r < 0)
		return r;
	if (is_builtin(type, exe)) {
		j->builtin = j->running = true;
		run_builtin(req, cmd, j);
		return 0;
	}
	r = job_spawn(j, exe, cmd, req->raw, req->raw_len, e);
	if (r == 0)
		j->running = true;
	return r;
}

int cni_delegate_finish(const struct cni_req *req, struct cni_job *j, json_t **result, struct pn_err *e)
{
	json_t *o = NULL;
	int status = 0, r = 0;

	if (result)
		*result = NULL;
	if (!j->running)
		return 0;
	j->running = false;
	if (j->builtin) {
		if (j->builtin_r < 0) {
			/* as the exec'd plugin's error JSON would arrive: code, msg, details */
			*e = j->builtin_err;
			r = -EIO;
			goto out;
		}
		o = j->builtin_out;
		j->builtin_out = NULL;
		status = 0;
	} else {
		job_collect(j, &status);
		if (j->out_len)
			o = json_loadb(j->out, j->out_len, 0, NULL);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		json_t *code = pn_json_get(o, "code"), *msg = pn_json_get(o, "msg");

		if (json_is_integer(code) && (!msg || json_is_string(msg))) {
			pn_err_set(e, (int)json_integer_value(code), -EIO, "%s", msg ? json_string_value(msg) : "");
			if (json_is_string(pn_json_get(o, "details")))
				pn_err_details(e, "%s", json_string_value(pn_json_get(o, "details")));
		} else if (j->out_len) {
			pn_err_set(e, CNI_ERR_INTERNAL, -EIO,
				   "netplugin failed but error parsing its diagnostic message \"%s\"", j->out);
		} else if (WIFEXITED(status)) {
			pn_err_set(e, CNI_ERR_INTERNAL, -EIO, "netplugin failed with no error message: exit status %d",
				   WEXITSTATUS(status));
		} else {
			pn_err_set(e, CNI_ERR_INTERNAL, -EIO, "netplugin failed with no error message: signal: %s",
				   strsignal(WTERMSIG(status)));
		}
		r = -EIO;
		goto out;
	}
	if (j->cmd == CNI_CMD_ADD && result) {
		json_t *ver;

		if (!o) {
			r = pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "failed to parse %s result", j->type);
			goto out;
		}
		ver = pn_json_get(o, "cniVersion");
		r = cni_result_parse(o, json_is_string(ver) ? json_string_value(ver) : req->version, result, e);
	}
out:
	json_decref(o);
	free(j->out);
	j->out = NULL;
	return r;
}

int cni_delegate(const struct cni_req *req, const char *type, enum cni_cmd cmd,
		 json_t **result, struct pn_err *e)
{
	struct cni_job j;
	int r = cni_delegate_start(req, type, cmd, &j, e);

	if (result)
		*result = NULL;
	return r < 0 ? r : cni_delegate_finish(req, &j, result, e);
}
