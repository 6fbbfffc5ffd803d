/* SPDX-License-Identifier: Apache-2.0 */
/* CNI_ARGS as the reference's types.LoadArgs reads it (research/cni.md §1.11). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cni.h"

static int parse_ignore_unknown(const char *v, bool *out)
{
	if (!strcasecmp(v, "1") || !strcasecmp(v, "true"))
		*out = true;
	else if (!strcasecmp(v, "0") || !strcasecmp(v, "false"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

int cni_args_parse(const char *args, const char *const known[],
		   int (*fn)(const char *key, const char *value, void *ctx, struct pn_err *e),
		   void *ctx, struct pn_err *e)
{
	char *copy, *pair, *next, unknown[512] = "";
	size_t un = 0;
	bool ignore_unknown = false;
	int r = 0;

	if (!args || !*args)
		return 0;
	copy = strdup(args);
	if (!copy)
		return pn_err_set(e, CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	for (pair = copy; pair; pair = next) {
		char *eq, *value;
		bool is_known = false;

		next = strchr(pair, ';');
		if (next)
			*next++ = '\0';
		eq = strchr(pair, '=');
		if (!eq || strchr(eq + 1, '=')) {
			r = pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "ARGS: invalid pair \"%s\"", pair);
			goto out;
		}
		*eq = '\0';
		value = eq + 1;
		if (!strcmp(pair, "IgnoreUnknown")) {
			if (parse_ignore_unknown(value, &ignore_unknown) < 0) {
				r = pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL,
					       "ARGS: error parsing value of pair \"IgnoreUnknown=%s\": boolean unmarshal error: invalid input %s",
					       value, value);
				goto out;
			}
			continue;
		}
		for (int i = 0; known && known[i]; i++)
			is_known |= !strcmp(pair, known[i]);
		if (!is_known) {
			un += (size_t)snprintf(unknown + un, un < sizeof(unknown) ? sizeof(unknown) - un : 0,
					       "%s\"%s=%s\"", un ? " " : "", pair, value);
			if (un >= sizeof(unknown))
				un = sizeof(unknown) - 1;
			continue;
		}
		r = fn(pair, value, ctx, e);
		if (r < 0) {
			pn_err_prefix(e, r, "ARGS: error parsing value of pair \"%s=%s\"", pair, value);
			goto out;
		}
	}
	if (un && !ignore_unknown)
		r = pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL, "ARGS: unknown args [%s]", unknown);
out:
	free(copy);
	return r;
}
