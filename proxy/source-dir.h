/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The manifest-directory source: Services and EndpointSlices as JSON or YAML files
 * (`kubectl get -o yaml|json` output, Lists and multi-document streams included) directly in
 * one directory, watched with inotify.
 *
 * Files: regular files (or symlinks to them) named *.yaml, *.yml or *.json (read as JSON: one
 * object or a List); hidden names (.x, vim's .x.swp), names ending in '~' and subdirectories
 * are ignored.  A file is applied whole or not at all: one that does not parse or validate is
 * logged (once per content) and its previous objects stay.  A file is read when it is closed
 * after writing, renamed in, created as a link, or at a rescan; one still being written
 * (modified or created since its last close) waits for its close, so `kubectl get -o yaml > f`
 * never shows an empty or half-written f.  Deleting a file, or renaming it away, removes its
 * objects (unless another file defines them too).
 *
 * Several files defining the same object (kind, namespace, name): the file with the greatest
 * name (strcmp, the order `ls` sorts in the C locale) wins, as in conf.d directories; a warning
 * is logged once while the conflict lasts.  Within one file, the later of two definitions.
 *
 * A Kubernetes ConfigMap volume works too: its update swaps the hidden `..data` symlink, which
 * makes the next sync reread every file (files whose bytes did not change are not parsed).
 */
#ifndef PROXY_SOURCE_DIR_H
#define PROXY_SOURCE_DIR_H

#include "err.h"
#include "source.h"

struct px_dir;

/* The inotify watch is in place before anything is read, so no change is missed. */
int px_dir_open(const char *path, struct px_dir **out, struct pn_err *e);
/*
 * Pollable (POLLIN): readable when something in the directory changed.  Editors save in
 * several steps (vim: rename the old file away, write a new one); waiting ~100 ms after the
 * fd turns readable before px_dir_sync() lets one sync see all of them.
 */
int px_dir_fd(const struct px_dir *d);
/*
 * Reads what changed since the last call (everything on the first call) and reports through
 * cb every Service and EndpointSlice that appeared, changed or disappeared; an object whose
 * content is unchanged is not reported.  Reports come in no particular order (a slice may come
 * before its Service), and "gone" may come for an object whose earlier report failed (see
 * -ENOMEM).  The callbacks must not call px_dir_*.  Returns the number of reports, or a
 * negative errno when the directory itself fails (the reports made are valid all the same):
 *   -ENOENT  the directory was deleted or moved away.  The objects of files deleted with it
 *            are reported gone, the others stay.  No event will wake the caller any more:
 *            call px_dir_sync again now and then (every few seconds); once the path is a
 *            directory again it is watched and read, and only the differences are reported.
 *   -ENOMEM  some reports failed; they are retried at the next call.
 *   other    reading the inotify fd or the directory failed (logged); retried next time.
 */
int px_dir_sync(struct px_dir *d, const struct px_source_cb *cb);
/* Frees everything; reports nothing. */
void px_dir_close(struct px_dir *d);

#endif
