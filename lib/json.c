/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <strings.h>

#include "json.h"

json_t *pn_json_get(const json_t *obj, const char *key)
{
	json_t *found = NULL, *v;
	const char *k;

	if (!json_is_object(obj))
		return NULL;
	/* jansson keeps insertion order, so the last match is the last one in the document */
	json_object_foreach((json_t *)obj, k, v)
		if (!strcasecmp(k, key))
			found = v;
	return json_is_null(found) ? NULL : found;
}

const char *pn_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER:
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "bool";
	default: return "null";
	}
}

static const char *want_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "int";
	case JSON_TRUE: return "bool";
	default: return "?";
	}
}

int pn_json_want(const json_t *v, json_type want, const char *ctx, struct pn_err *e)
{
	bool ok;

	switch (want) {
	case JSON_TRUE: ok = json_is_boolean(v); break;
	case JSON_INTEGER:
		/* Go fills an int from a JSON number only when it is integral: 5000.0 fails */
		ok = json_is_integer(v);
		break;
	default: ok = json_typeof(v) == want; break;
	}
	if (ok)
		return 0;
	return pn_err_set(e, CNI_ERR_INTERNAL, -EINVAL,
			  "json: cannot unmarshal %s into Go struct field %s of type %s",
			  pn_json_type_name(v), ctx, want_name(want));
}

static int get_typed(const json_t *obj, const char *ctx, const char *key, json_type want,
		     json_t **out, struct pn_err *e)
{
	json_t *v = pn_json_get(obj, key);
	char field[256];

	*out = NULL;
	if (!v)
		return 0;
	snprintf(field, sizeof(field), "%s.%s", ctx, key);
	if (pn_json_want(v, want, field, e) < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int pn_json_string(const json_t *obj, const char *ctx, const char *key, const char **out, struct pn_err *e)
{
	json_t *v;
	int r = get_typed(obj, ctx, key, JSON_STRING, &v, e);

	if (!r && v)
		*out = json_string_value(v);
	return r;
}

int pn_json_bool(const json_t *obj, const char *ctx, const char *key, bool *out, struct pn_err *e)
{
	json_t *v;
	int r = get_typed(obj, ctx, key, JSON_TRUE, &v, e);

	if (!r && v)
		*out = json_is_true(v);
	return r;
}

int pn_json_int(const json_t *obj, const char *ctx, const char *key, long long *out, struct pn_err *e)
{
	json_t *v;
	int r = get_typed(obj, ctx, key, JSON_INTEGER, &v, e);

	if (!r && v)
		*out = json_integer_value(v);
	return r;
}

int pn_json_object(const json_t *obj, const char *ctx, const char *key, json_t **out, struct pn_err *e)
{
	return get_typed(obj, ctx, key, JSON_OBJECT, out, e);
}

int pn_json_array(const json_t *obj, const char *ctx, const char *key, json_t **out, struct pn_err *e)
{
	return get_typed(obj, ctx, key, JSON_ARRAY, out, e);
}
