/* SPDX-License-Identifier: Apache-2.0 */
/* host-local: IP address management on local disk (lib/host-local). */
#include "cni.h"
#include "host-local/plugin.h"

int main(void)
{
	return cni_main(&hl_plugin);
}
