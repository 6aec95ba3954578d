/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAEMON_DAEMON_H
#define JVPN_DAEMON_DAEMON_H

/*
 * `jvpn up`: one endpoint (client or gateway) in the foreground, driven
 * by the sans-I/O engine: TUN device, UDP sockets, the epoll loop armed
 * at the engine's deadline, the event log, the control socket.
 */

#include "daemon/config.h"

/* Exit statuses of jvpn up (docs/operations.md). */
enum jv_daemon_exit {
	JV_EXIT_OK = 0,		/* signal or operator terminate: clean */
	JV_EXIT_SETUP = 1,	/* could not start: one line on stderr */
	JV_EXIT_USAGE = 2,
	JV_EXIT_SESSION_ENDED = 3,	/* client: the session terminated by
					 * itself (TTL, peer, security) */
};

/* Run cfg until SIGINT/SIGTERM, `jvpn terminate`, or (client) the end
 * of its session.  Logs go to stderr.  Returns an enum jv_daemon_exit.
 * A reload (SIGHUP, `jvpn reload`) swaps cfg's contents with the file's
 * new ones (reload.h): the caller frees cfg as usual afterwards. */
int jv_daemon_run(struct jv_config *cfg);

#endif
