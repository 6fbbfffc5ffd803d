/* SPDX-License-Identifier: Apache-2.0 */
/* The floor of every plugin run: fork + exec + wait of a static program doing nothing. */
int main(void)
{
	return 0;
}
