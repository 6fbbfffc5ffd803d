/* SPDX-License-Identifier: Apache-2.0 */
/* resolv.conf as the reference's dns.go reads it: nameserver, domain, search, options. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"

static void append_fields(json_t *dns, const char *key, char *rest)
{
	json_t *list = json_object_get(dns, key);
	char *save = NULL;

	if (!list) {
		list = json_array();
		json_object_set_new(dns, key, list);
	}
	for (char *f = strtok_r(rest, " \t", &save); f; f = strtok_r(NULL, " \t", &save))
		json_array_append_new(list, json_string(f));
}

int hl_dns_parse(const char *path, json_t **dns, struct pn_err *e)
{
	FILE *f = fopen(path, "re");
	char line[4096];

	*dns = NULL;
	if (!f)
		return pn_err_set(e, CNI_ERR_INTERNAL, -errno, "open %s: %s", path, strerror(errno));
	*dns = json_object();
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *key, *rest, *first;

		line[strcspn(line, "\r\n")] = '\0';
		key = strtok_r(line, " \t", &save);
		if (!key || key[0] == '#' || key[0] == ';')
			continue;
		rest = save;
		first = rest ? rest + strspn(rest, " \t") : NULL;
		if (!first || !*first)
			continue;   /* a keyword needs a value */
		if (!strcmp(key, "nameserver")) {
			first[strcspn(first, " \t")] = '\0';
			append_fields(*dns, "nameservers", first);
		} else if (!strcmp(key, "domain")) {
			first[strcspn(first, " \t")] = '\0';
			json_object_set_new(*dns, "domain", json_string(first));
		} else if (!strcmp(key, "search")) {
			append_fields(*dns, "search", first);
		} else if (!strcmp(key, "options")) {
			append_fields(*dns, "options", first);
		}
	}
	fclose(f);
	return 0;
}
