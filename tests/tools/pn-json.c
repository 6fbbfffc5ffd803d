/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pn-json PATH < file: prints the value at PATH ("ips.0.address", "" = the whole
 * document) of the JSON on stdin: strings raw, everything else compact JSON.
 * Exits 1 when stdin is not JSON, 2 when PATH is absent.  For the shell tests.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	json_error_t err;
	json_t *doc = json_loadf(stdin, JSON_DECODE_ANY, &err), *v;
	char *path, *tok, *save = NULL;

	if (!doc) {
		fprintf(stderr, "pn-json: %s\n", err.text);
		return 1;
	}
	v = doc;
	path = strdup(argc > 1 ? argv[1] : "");
	for (tok = strtok_r(path, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save))
		v = json_is_array(v) ? json_array_get(v, strtoul(tok, NULL, 10)) : json_object_get(v, tok);
	free(path);
	if (!v) {
		json_decref(doc);
		return 2;
	}
	if (json_is_string(v)) {
		puts(json_string_value(v));
	} else {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		puts(s);
		free(s);
	}
	json_decref(doc);
	return 0;
}
