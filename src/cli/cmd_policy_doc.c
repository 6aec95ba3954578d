/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "commands.h"

int cmd_policy_doc(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "jvpn %s: not built yet\n", argv[0]);
	return 1;
}
