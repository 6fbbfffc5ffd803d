/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "err.h"

int pn_err_setv(struct pn_err *e, int code, int ret, const char *fmt, va_list ap)
{
	e->code = code;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	e->details[0] = '\0';
	return ret;
}

int pn_err_set(struct pn_err *e, int code, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pn_err_setv(e, code, ret, fmt, ap);
	va_end(ap);
	return ret;
}

void pn_err_details(struct pn_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->details, sizeof(e->details), fmt, ap);
	va_end(ap);
}

int pn_err_prefix(struct pn_err *e, int ret, const char *fmt, ...)
{
	char ctx[PN_ERR_MSG_MAX], old[PN_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	snprintf(e->msg, sizeof(e->msg), "%s: %s", ctx, old);
	return ret;
}
