/* SPDX-License-Identifier: MIT */
/* jvpn lab: placeholder, replaced below. */
#include <stdio.h>
#include "commands.h"
int cmd_lab(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "jvpn lab: not yet\n");
	return 1;
}
