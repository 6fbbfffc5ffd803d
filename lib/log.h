/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Diagnostics go to stderr: a plugin's stdout carries only its result or error JSON.
 * PODNET_LOG_FILE, when set, appends there instead (runtimes often drop plugin stderr).
 */
#ifndef PODNET_LOG_H
#define PODNET_LOG_H

void pn_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
