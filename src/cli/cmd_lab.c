/* SPDX-License-Identifier: MIT */
/*
 * jvpn lab [--profile fast|default] [--keep]: the two-namespace lab of a
 * real tunnel (root).  The lab itself is a script (tests/lab/lab.sh over
 * tests/lab/lablib.sh, shared with the integration tests and
 * bench/failover.sh); this command finds it, checks what it needs and
 * runs it with this very binary as the daemon.  The script cleans up on
 * every exit path, Ctrl-C included.
 */

#define _POSIX_C_SOURCE 200809L	/* readlink, execvp */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "daemon/jv_paths.h"

int cmd_lab(int argc, char **argv)
{
	char self[PATH_MAX], script[PATH_MAX + 16];
	const char *dir = getenv("JVPN_LAB_DIR");
	char **args;
	ssize_t n;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: jvpn lab [--profile fast|default] [--keep]\n\n"
		       "Two network namespaces joined by two veth paths, a gateway and a\n"
		       "client, ping and a TCP stream through the tunnel; path a is cut\n"
		       "silently, then restored.  Prints the timeline and the failover gap.\n"
		       "Needs root, ip, nft, ping and python3.\n");
		return 0;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "jvpn lab: needs root (network namespaces, TUN devices); `jvpn demo` shows the simulated story without\n");
		return 1;
	}
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		fprintf(stderr, "jvpn lab: /proc/self/exe: %s\n", strerror(errno));
		return 1;
	}
	self[n] = '\0';
	snprintf(script, sizeof script, "%s/lab.sh", dir ? dir : JV_LAB_DIR);
	if (access(script, R_OK)) {
		fprintf(stderr, "jvpn lab: %s: %s (set JVPN_LAB_DIR to the directory holding lab.sh and lablib.sh)\n",
			script, strerror(errno));
		return 1;
	}
	args = calloc((size_t)argc + 5, sizeof *args);
	if (!args) {
		fprintf(stderr, "jvpn lab: out of memory\n");
		return 1;
	}
	args[0] = "bash";
	args[1] = script;
	args[2] = "--jvpn";
	args[3] = self;
	for (int i = 1; i < argc; i++)
		args[3 + i] = argv[i];
	execvp("bash", args);
	fprintf(stderr, "jvpn lab: cannot run bash: %s\n", strerror(errno));
	free(args);
	return 1;
}
