/* SPDX-License-Identifier: MIT */
/*
 * jvpn terminate [SESSION] [--socket PATH | --config FILE]: end a session
 * with reason operator_terminated (X5); the peer is told.  On a client the
 * daemon then exits; a gateway needs SESSION (an id, 8 digits of one, a
 * peer's public key, or "all") and keeps running.
 */

#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "daemon/ctl_client.h"

int cmd_terminate(int argc, char **argv)
{
	const char *sock = NULL, *config = NULL, *sess = NULL;
	struct jv_ctl_client c;
	char why[512], req[128];
	json_t *r;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			sock = argv[++i];
		else if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config = argv[++i];
		else if (argv[i][0] != '-' && !sess && strlen(argv[i]) < 100)
			sess = argv[i];
		else {
			fprintf(stderr, "usage: jvpn terminate [SESSION] [--socket PATH | --config FILE]\n");
			return 2;
		}
	}
	snprintf(req, sizeof req, "terminate%s%s", sess ? " " : "",
		 sess ? sess : "");
	if (jv_ctl_ask(sock, config, req, &c, &r, why, sizeof why)) {
		fprintf(stderr, "jvpn terminate: %s\n", why);
		return 1;
	}
	jv_ctl_client_close(&c);
	if (json_is_true(json_object_get(r, "ok"))) {
		printf("terminated %lld session(s)\n",
		       (long long)json_integer_value(json_object_get(r, "terminated")));
	} else {
		fprintf(stderr, "jvpn terminate: %s\n",
			json_string_value(json_object_get(r, "error")));
		rc = 1;
	}
	json_decref(r);
	return rc;
}
