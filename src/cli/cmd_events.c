/* SPDX-License-Identifier: MIT */
/*
 * jvpn events [--follow] [--socket PATH | --config FILE]: the daemon's
 * JSONL event log.  The daemon answers with its file and the size at the
 * moment of the request; we print the file up to that size, then (with
 * --follow) every line the daemon streams from then on, so nothing is
 * missed or printed twice.
 */

#define _POSIX_C_SOURCE 200809L	/* open(O_CLOEXEC) */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "daemon/ctl_client.h"
#include "jvpn/limits.h"

static int copy_prefix(const char *path, long long size)
{
	char buf[65536];
	long long left = size;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "jvpn events: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (left > 0) {
		ssize_t n = read(fd, buf, left < (long long)sizeof buf ?
					  (size_t)left : sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
		left -= n;
	}
	close(fd);
	return fflush(stdout) ? 1 : 0;
}

int cmd_events(int argc, char **argv)
{
	const char *sock = NULL, *config = NULL;
	static char line[JV_EVENT_LINE_MAX + 2];
	struct jv_ctl_client c;
	bool follow = false;
	char why[512];
	json_t *r;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--follow") || !strcmp(argv[i], "-f"))
			follow = true;
		else if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			sock = argv[++i];
		else if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config = argv[++i];
		else {
			fprintf(stderr, "usage: jvpn events [--follow] [--socket PATH | --config FILE]\n");
			return 2;
		}
	}
	if (jv_ctl_ask(sock, config, "events", &c, &r, why, sizeof why)) {
		fprintf(stderr, "jvpn events: %s\n", why);
		return 1;
	}
	if (!json_is_true(json_object_get(r, "ok"))) {
		fprintf(stderr, "jvpn events: %s\n",
			json_string_value(json_object_get(r, "error")));
		json_decref(r);
		jv_ctl_client_close(&c);
		return 1;
	}
	rc = copy_prefix(json_string_value(json_object_get(r, "path")),
			 json_integer_value(json_object_get(r, "offset")));
	json_decref(r);
	if (rc || !follow) {
		jv_ctl_client_close(&c);
		return rc;
	}
	signal(SIGPIPE, SIG_DFL);
	for (;;) {
		ssize_t n = jv_ctl_client_line(&c, line, sizeof line);

		if (n <= 0) {
			if (n < 0)
				fprintf(stderr, "jvpn events: control socket read failed\n");
			break;
		}
		if (printf("%s\n", line) < 0 || fflush(stdout))
			break;
	}
	jv_ctl_client_close(&c);
	return 0;
}
