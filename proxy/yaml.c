/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "yaml.h"

#define MAX_DEPTH 128
/* what aliases may copy in one stream: go-yaml refuses "excessive aliasing" too (billion laughs) */
#define MAX_ALIAS_NODES 1000000
#define MAX_ANCHORS 64

struct frame {
	json_t *node;
	char *key;                /* a mapping's pending key */
};

struct state {
	struct frame stack[MAX_DEPTH];
	int depth;
	json_t *docs, *root;
	struct { char *name; json_t *value; } anchors[MAX_ANCHORS];
	int nanchors;
	size_t alias_nodes;          /* nodes copied by aliases so far */
};

static bool all_digits(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

/* YAML 1.2 core schema for a plain scalar */
static json_t *plain_scalar(const char *s)
{
	char *end;

	if (!*s || !strcmp(s, "~") || !strcasecmp(s, "null"))
		return json_null();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return json_true();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return json_false();
	if (all_digits(s[0] == '-' || s[0] == '+' ? s + 1 : s, "0123456789"))
		return json_integer(strtoll(s, NULL, 10));
	if (!strncmp(s, "0o", 2) && all_digits(s + 2, "01234567"))
		return json_integer(strtoll(s + 2, NULL, 8));
	if (!strncmp(s, "0x", 2) && all_digits(s + 2, "0123456789abcdefABCDEF"))
		return json_integer(strtoll(s + 2, NULL, 16));
	if (strpbrk(s, "0123456789") && !strpbrk(s, " :")) {
		double d = strtod(s, &end);

		if (!*end && end != s)
			return json_real(d);
	}
	return json_string(s);
}

static json_t *scalar(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;

	if (tag && !strcmp(tag, YAML_STR_TAG))
		return json_stringn(v, ev->data.scalar.length);
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(v, ev->data.scalar.length);
	return plain_scalar(v);
}

/* the nodes of v, counting no further than limit */
static size_t nodes(const json_t *v, size_t limit)
{
	size_t n = 1, i;
	const char *k;
	json_t *x;

	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			if (n > limit)
				break;
			n += nodes(x, limit - n);
		}
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x) {
			if (n > limit)
				break;
			n += nodes(x, limit - n);
		}
	}
	return n;
}

static void remember(struct state *st, const unsigned char *anchor, json_t *v)
{
	if (!anchor || st->nanchors == MAX_ANCHORS)
		return;
	st->anchors[st->nanchors].name = strdup((const char *)anchor);
	st->anchors[st->nanchors++].value = json_incref(v);
}

/* Adds v (owned) to the current container, or makes it the document's root. */
static int add(struct state *st, json_t *v, struct pn_err *e)
{
	struct frame *f;

	if (!v)
		return pn_err_set(e, CNI_ERR_DECODE, -ENOMEM, "out of memory");
	if (!st->depth) {
		json_decref(st->root);
		st->root = v;
		return 0;
	}
	f = &st->stack[st->depth - 1];
	if (json_is_array(f->node))
		return json_array_append_new(f->node, v) ? -ENOMEM : 0;
	if (!f->key) {
		/* a mapping key: Kubernetes keys are strings */
		if (!json_is_string(v) && !json_is_integer(v) && !json_is_boolean(v)) {
			json_decref(v);
			return pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "unsupported mapping key");
		}
		if (json_is_string(v))
			f->key = strdup(json_string_value(v));
		else if (json_is_integer(v))
			f->key = (asprintf(&f->key, "%lld", (long long)json_integer_value(v)) < 0) ? NULL : f->key;
		else
			f->key = strdup(json_is_true(v) ? "true" : "false");
		json_decref(v);
		return f->key ? 0 : -ENOMEM;
	}
	json_object_set_new(f->node, f->key, v);
	free(f->key);
	f->key = NULL;
	return 0;
}

static void state_free(struct state *st)
{
	while (st->depth > 0) {
		st->depth--;
		free(st->stack[st->depth].key);
		json_decref(st->stack[st->depth].node);
	}
	for (int i = 0; i < st->nanchors; i++) {
		free(st->anchors[i].name);
		json_decref(st->anchors[i].value);
	}
	json_decref(st->root);
}

int px_yaml_load(const char *buf, size_t len, json_t **docs, struct pn_err *e)
{
	struct state st = { .docs = json_array() };
	yaml_parser_t p;
	yaml_event_t ev;
	bool done = false;
	int r = 0;

	*docs = NULL;
	if (!yaml_parser_initialize(&p))
		return pn_err_set(e, CNI_ERR_DECODE, -ENOMEM, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done && r == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			r = pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "YAML: %s at line %zu",
				       p.problem ? p.problem : "syntax error", p.problem_mark.line + 1);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_END_EVENT:
			if (st.root)
				json_array_append_new(st.docs, st.root);
			st.root = NULL;
			break;
		case YAML_SCALAR_EVENT: {
			json_t *v = scalar(&ev);

			remember(&st, ev.data.scalar.anchor, v);
			r = add(&st, v, e);
			break;
		}
		case YAML_ALIAS_EVENT: {
			json_t *v = NULL;

			for (int i = 0; i < st.nanchors && !v && r == 0; i++) {
				if (strcmp(st.anchors[i].name, (const char *)ev.data.alias.anchor))
					continue;
				st.alias_nodes += nodes(st.anchors[i].value, MAX_ALIAS_NODES);
				if (st.alias_nodes > MAX_ALIAS_NODES)
					r = pn_err_set(e, CNI_ERR_DECODE, -E2BIG, "YAML: aliases expand to more than %d nodes",
						       MAX_ALIAS_NODES);
				else
					v = json_deep_copy(st.anchors[i].value);
			}
			if (r == 0)
				r = v ? add(&st, v, e)
				      : pn_err_set(e, CNI_ERR_DECODE, -EINVAL, "YAML: unknown alias %s", ev.data.alias.anchor);
			break;
		}
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT: {
			json_t *c = ev.type == YAML_SEQUENCE_START_EVENT ? json_array() : json_object();
			const unsigned char *anchor = ev.type == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.anchor
											   : ev.data.mapping_start.anchor;

			if (st.depth == MAX_DEPTH) {
				json_decref(c);
				r = pn_err_set(e, CNI_ERR_DECODE, -E2BIG, "YAML: nested more than %d levels", MAX_DEPTH);
				break;
			}
			remember(&st, anchor, c);
			if ((r = add(&st, json_incref(c), e)) < 0) {
				json_decref(c);
				break;
			}
			st.stack[st.depth].node = c;
			st.stack[st.depth++].key = NULL;
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (st.depth > 0) {
				st.depth--;
				free(st.stack[st.depth].key);
				json_decref(st.stack[st.depth].node);
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (r < 0) {
		json_decref(st.docs);
		state_free(&st);
		return r;
	}
	state_free(&st);
	*docs = st.docs;
	return 0;
}
