/* SPDX-License-Identifier: MIT */
/*
 * Fuzz bench/loadgen's command line (bench/loadgen/opts.c): the input is
 * argv, one argument per line.  Any argv is parsed or refused (status 2),
 * never a crash or a read past its end; what it accepts holds together:
 * 1..4 paths of 1..256 IPv4 sources each, N in 1..65536, a cut path that
 * exists.  --gateway-config is left out (it reads a file: the config
 * target fuzzes that reader).  Run with -close_fd_mask=2: every refusal
 * prints its line.
 */

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "loadgen/lg.h"
#include "net/netaddr.h"

enum { ARGS_MAX = 32 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lg_opts o;
	char *text = malloc(size + 1), *argv[ARGS_MAX + 2], *save = NULL;
	int argc = 0, rc;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	argv[argc++] = "loadgen";
	for (char *a = strtok_r(text, "\n", &save); a && argc <= ARGS_MAX;
	     a = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(a, "--gateway-c", 11)) {
			free(text);
			return 0;
		}
		argv[argc++] = a;
	}
	argv[argc] = NULL;
	optind = 0;		/* glibc: a full reset of getopt's state */
	rc = lg_opts_parse(&o, argc, argv);
	FUZZ_ASSERT(rc == 0 || rc == 1 || rc == 2);
	if (rc == 0 && !o.write_peers) {
		FUZZ_ASSERT(o.npaths >= 1 && o.npaths <= LG_PATHS_MAX);
		FUZZ_ASSERT(o.n >= 1 && o.n <= LG_N_MAX);
		FUZZ_ASSERT(!o.cut_cmd || o.cut_path < o.npaths);
		for (unsigned p = 0; p < o.npaths; p++) {
			FUZZ_ASSERT(o.path[p].nlocal >= 1 &&
				    o.path[p].nlocal <= LG_LOCALS_MAX);
			FUZZ_ASSERT(o.path[p].gw.port != 0);
			for (unsigned k = 0; k < o.path[p].nlocal; k++)
				FUZZ_ASSERT(jv_netaddr_is_v4(&o.path[p].local[k]));
		}
	}
	free(text);
	return 0;
}
