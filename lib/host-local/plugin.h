/* SPDX-License-Identifier: Apache-2.0 */
/* The host-local IPAM plugin's verbs (lib/host-local: its allocator, store and config). */
#ifndef HL_PLUGIN_H
#define HL_PLUGIN_H

#include "cni.h"

extern const struct cni_plugin hl_plugin;

#endif
