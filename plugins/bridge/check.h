/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BRIDGE_CHECK_H
#define BRIDGE_CHECK_H

#include "cni.h"

int br_check(const struct cni_req *req, struct pn_err *e);

#endif
