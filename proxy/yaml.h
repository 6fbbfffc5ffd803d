/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML manifests as JSON values (jansson), so that Services and EndpointSlices are read
 * the same way whether `kubectl get -o yaml` or `-o json` wrote them.  Every document of
 * a multi-document stream becomes one element of the returned array.  Plain scalars are
 * typed as YAML 1.2's core schema types them (null, bool, int, float, else string);
 * quoted or !!str-tagged scalars stay strings.
 */
#ifndef PROXY_YAML_H
#define PROXY_YAML_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"

/* 0 and *docs (an array, caller frees), or -EINVAL with the parser's message and line. */
int px_yaml_load(const char *buf, size_t len, json_t **docs, struct pn_err *e);

#endif
