/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for what podnet parses from untrusted stdin: the network config
 * (host-local's keys, ranges, requested IPs, CNI_ARGS), results (prevResult, a
 * delegate's output) in every cniVersion, and podnet-proxy's YAML/JSON manifests.  `make fuzz FUZZ_SECONDS=N` runs it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"
#include "config.h"
#include "json.h"
#include "../../proxy/objects.h"
#include "../../proxy/yaml.h"

static void drop_slice(struct px_slice *s, void *ctx)
{
	(void)ctx;
	px_slice_free(s);
}

static int ignore_arg(const char *key, const char *value, void *ctx, struct pn_err *e)
{
	(void)key; (void)value; (void)ctx; (void)e;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const known[] = { "IP", "MAC", NULL };
	json_t *conf = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
	char *args = strndup((const char *)data, size > 512 ? 512 : size);
	struct hl_config c;
	struct pn_err e;
	json_t *canon, *out;

	cni_args_parse(args, known, ignore_arg, NULL, &e);
	if (conf) {
		const char *version = json_string_value(pn_json_get(conf, "cniVersion"));

		hl_config_load(&c, conf, "fuzz", version ? version : "0.1.0", args, &e);
		hl_config_free(&c);
		for (const char *const *v = cni_supported_versions; *v; v++) {
			if (cni_result_parse(conf, *v, &canon, &e) < 0)
				continue;
			for (const char *const *w = cni_supported_versions; *w; w++) {
				if (cni_result_convert(canon, *w, &out, &e) == 0)
					json_decref(out);
			}
			json_decref(canon);
		}
	}
	json_decref(conf);
	free(args);
	/* podnet-proxy's manifests: YAML (or JSON), then Services and EndpointSlices */
	{
		static const struct px_objects_cb cb = { .slice = drop_slice };
		json_t *docs, *d;
		size_t i;

		if (px_yaml_load((const char *)data, size, &docs, &e) == 0) {
			json_array_foreach(docs, i, d)
				px_objects_parse(d, &cb, &e);
			json_decref(docs);
		}
	}
	return 0;
}
