/* SPDX-License-Identifier: Apache-2.0 */
/* podnet-proxy: placeholder until the daemon lands (issue 5). */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "podnet-proxy: not yet\n");
	return 1;
}
