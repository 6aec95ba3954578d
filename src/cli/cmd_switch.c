/* SPDX-License-Identifier: MIT */
/*
 * jvpn switch TRANSPORT [--socket PATH | --config FILE]: ask the client
 * to move its session to TRANSPORT.  From ATTACHED a planned migration
 * (PD-8, make-before-break); still subject to policy (cooldown, the
 * discretionary cap, candidate health and damping), and a refusal says
 * which rule and until when.
 */

#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "daemon/ctl_client.h"

int cmd_switch(int argc, char **argv)
{
	const char *sock = NULL, *config = NULL, *name = NULL;
	struct jv_ctl_client c;
	char why[512], req[128];
	json_t *r;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			sock = argv[++i];
		else if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config = argv[++i];
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else
			name = NULL, i = argc;
	}
	if (!name || strlen(name) > 64 || strpbrk(name, " \n")) {
		fprintf(stderr, "usage: jvpn switch TRANSPORT [--socket PATH | --config FILE]\n");
		return 2;
	}
	snprintf(req, sizeof req, "switch %s", name);
	if (jv_ctl_ask(sock, config, req, &c, &r, why, sizeof why)) {
		fprintf(stderr, "jvpn switch: %s\n", why);
		return 1;
	}
	jv_ctl_client_close(&c);
	if (json_is_true(json_object_get(r, "ok"))) {
		printf("switch to %s requested (session now %s); the outcome is in `jvpn events`\n",
		       name, json_string_value(json_object_get(r, "state")));
	} else {
		fprintf(stderr, "jvpn switch: %s\n",
			json_string_value(json_object_get(r, "error")));
		rc = 1;
	}
	json_decref(r);
	return rc;
}
