/* SPDX-License-Identifier: Apache-2.0 */
/* host-local's configuration: the reference's keys, defaults and validation order. */
#ifndef HL_CONFIG_H
#define HL_CONFIG_H

#include <jansson.h>

#include "cni.h"
#include "range.h"

#define HL_DEFAULT_DATA_DIR "/var/lib/cni/networks"
#define HL_MAX_RANGE_SETS 64
#define HL_MAX_REQUESTED 64

struct hl_config {
	const char *name;
	const char *version;
	const char *data_dir;
	const char *resolv_conf;     /* NULL when unset */
	json_t *routes;              /* borrowed from the request; NULL when unset */
	struct hl_rangeset sets[HL_MAX_RANGE_SETS];
	size_t nsets;
	struct pn_ip requested[HL_MAX_REQUESTED];
	size_t nrequested;
};

/* Reads and validates; conf and args are the request's. Free with hl_config_free(). */
int hl_config_load(struct hl_config *c, const json_t *conf, const char *name, const char *version,
		   const char *cni_args, struct pn_err *e);
void hl_config_free(struct hl_config *c);

#endif
