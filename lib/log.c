/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"

void pn_log(const char *fmt, ...)
{
	const char *path = getenv("PODNET_LOG_FILE");
	FILE *f = stderr, *opened = NULL;
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;

	if (path && *path && (opened = fopen(path, "ae")))
		f = opened;
	strftime(stamp, sizeof(stamp), "%Y/%m/%d %H:%M:%S", localtime_r(&now, &tm));
	fprintf(f, "%s ", stamp);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	if (opened)
		fclose(opened);
}
