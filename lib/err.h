/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Errors that travel up to the one place that prints them.
 *
 * A function that can fail returns 0 or a negative errno and, on failure, fills a
 * struct pn_err with a CNI error code and a message for the user.  Callers add
 * context with pn_err_prefix() on the way up; cni_main() prints it as CNI error JSON.
 */
#ifndef PODNET_ERR_H
#define PODNET_ERR_H

#include <stdarg.h>

/* The spec's well-known codes (SPEC.md "Error codes"). */
enum cni_code {
	CNI_ERR_INCOMPATIBLE_VERSION = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_INVALID_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_INVALID_CONFIG = 7,
	CNI_ERR_INVALID_NETNS = 8,
	CNI_ERR_TRY_AGAIN = 11,
	CNI_ERR_NOT_AVAILABLE = 50,
	CNI_ERR_LIMITED = 51,
	/* what the reference plugins report for every error of their own bodies */
	CNI_ERR_INTERNAL = 999,
};

#define PN_ERR_MSG_MAX 1024

struct pn_err {
	int code;
	char msg[PN_ERR_MSG_MAX];
	char details[PN_ERR_MSG_MAX];
};

/* Sets code and message; returns ret (a negative errno) so callers can `return pn_err_set(...)`. */
int pn_err_set(struct pn_err *e, int code, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int pn_err_setv(struct pn_err *e, int code, int ret, const char *fmt, va_list ap);
/* Sets the details string (the spec's "details"). */
void pn_err_details(struct pn_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends "<context>: " to the message; returns ret. */
int pn_err_prefix(struct pn_err *e, int ret, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
