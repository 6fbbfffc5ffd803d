/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading config objects the way Go's encoding/json fills the reference plugins'
 * structs: keys match case-insensitively (the last matching key wins), null means
 * "not set", and a value of the wrong type is an error naming the key.
 */
#ifndef PODNET_JSON_H
#define PODNET_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "err.h"

/* The value of key (case-insensitive, last wins), or NULL when absent or null. */
json_t *pn_json_get(const json_t *obj, const char *key);

/*
 * Typed getters: 0 when absent/null (out untouched) or set; -EINVAL with an error
 * "json: cannot unmarshal <type> into Go struct field <ctx>.<key> of type <want>" when
 * the type is wrong.  obj must be an object (or NULL, meaning absent).
 */
int pn_json_string(const json_t *obj, const char *ctx, const char *key, const char **out, struct pn_err *e);
int pn_json_bool(const json_t *obj, const char *ctx, const char *key, bool *out, struct pn_err *e);
int pn_json_int(const json_t *obj, const char *ctx, const char *key, long long *out, struct pn_err *e);
/* Object and array getters return the borrowed value in *out (NULL when absent). */
int pn_json_object(const json_t *obj, const char *ctx, const char *key, json_t **out, struct pn_err *e);
int pn_json_array(const json_t *obj, const char *ctx, const char *key, json_t **out, struct pn_err *e);
/* Checks that v has the wanted JSON type for a field named ctx; for array elements. */
int pn_json_want(const json_t *v, json_type want, const char *ctx, struct pn_err *e);

/* Go's name for a JSON value's type in unmarshal errors ("string", "number", ...). */
const char *pn_json_type_name(const json_t *v);

#endif
