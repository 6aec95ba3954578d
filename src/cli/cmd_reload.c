/* SPDX-License-Identifier: MIT */
/*
 * jvpn reload [IFACE | --socket PATH | --config FILE]: the daemon reads
 * the config file it was started with again and applies what changed
 * without touching any other session (src/daemon/reload.h says what
 * applies live and what needs a restart).  Waits for the answer: exit 0
 * with the summary, 1 when the file is invalid or the change needs a
 * restart (nothing changed then; the reason on stderr), 2 on usage.
 */

#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "daemon/ctl_client.h"

static const char usage[] =
	"usage: jvpn reload [IFACE | --socket PATH | --config FILE]\n";

int cmd_reload(int argc, char **argv)
{
	const char *sock = NULL, *config = NULL, *iface = NULL;
	char path[128], why[512];
	struct jv_ctl_client c;
	json_t *r;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("%s\nRe-read the config file the daemon IFACE was started with and apply\n"
			       "added, removed and changed peers and policy changes without dropping\n"
			       "any other session (docs/operations.md, \"Reloading\").  Exit 0 when\n"
			       "applied, 1 when refused (nothing changed), 2 on usage.\n", usage);
			return 0;
		}
		if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			sock = argv[++i];
		else if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config = argv[++i];
		else if (argv[i][0] != '-' && !iface)
			iface = argv[i];
		else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if ((iface != NULL) + (sock != NULL) + (config != NULL) > 1) {
		fprintf(stderr, "jvpn reload: give one of IFACE, --socket, --config\n%s",
			usage);
		return 2;
	}
	if (iface) {
		if (strlen(iface) >= IF_NAMESIZE || strchr(iface, '/') ||
		    !strcmp(iface, ".") || !strcmp(iface, "..")) {
			fprintf(stderr, "jvpn reload: '%s' is not an interface name (at most %d characters, no '/')\n",
				iface, IF_NAMESIZE - 1);
			return 2;
		}
		snprintf(path, sizeof path, "/run/jvpn/%s.sock", iface);
		sock = path;
	}
	if (jv_ctl_ask(sock, config, "reload", &c, &r, why, sizeof why)) {
		fprintf(stderr, "jvpn reload: %s\n", why);
		return 1;
	}
	jv_ctl_client_close(&c);
	if (json_is_true(json_object_get(r, "ok"))) {
		printf("%s\n", json_string_value(json_object_get(r, "summary")));
	} else {
		const char *e = json_string_value(json_object_get(r, "error"));

		fprintf(stderr, "jvpn reload: %s\n", e ? e : "refused");
		rc = 1;
	}
	json_decref(r);
	return rc;
}
