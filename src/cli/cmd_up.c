/* SPDX-License-Identifier: MIT */
/*
 * jvpn up CONFIG: run one endpoint in the foreground (systemd style: logs
 * on stderr, events in the configured JSONL file).  Exit statuses are
 * those of enum jv_daemon_exit (docs/operations.md).
 */

#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "commands.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/notify.h"

int cmd_up(int argc, char **argv)
{
	struct jv_config *cfg = NULL;
	char text[JV_DIAG_TEXT_MAX];
	struct jv_diag d;
	int code;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: jvpn up CONFIG\n\nRun the endpoint CONFIG describes (docs/config.md) in the foreground\nuntil SIGINT/SIGTERM or `jvpn terminate`.\n");
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: jvpn up CONFIG\n");
		return JV_EXIT_USAGE;
	}
	if (jv_config_load(argv[1], &cfg, &d)) {
		if (jv_diag_format(&d, text, sizeof text) < 0)
			text[sizeof text - 1] = '\0';
		fprintf(stderr, "%sjvpn up: %s\n", dmn_log_prefix(LOG_ERR), text);
		jv_config_free(cfg);
		return JV_EXIT_SETUP;
	}
	if (cfg->world_readable)
		fprintf(stderr, "%sjvpn up: warning: %s holds a private key and is world accessible (chmod 600 it)\n",
			dmn_log_prefix(LOG_WARNING),
			cfg->private_key_line ? argv[1] : "PrivateKeyFile");
	code = jv_daemon_run(cfg);
	jv_config_free(cfg);
	return code;
}
