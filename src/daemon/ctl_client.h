/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAEMON_CTL_CLIENT_H
#define JVPN_DAEMON_CTL_CLIENT_H

/*
 * The command side of the control socket (ctl.h has the protocol): used
 * by `jvpn status`, `switch`, `terminate` and `events`.  Blocking: these
 * are one-shot commands.
 */

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "jvpn/error.h"

enum { JV_CTL_CLIENT_BUF = 8192 };

struct jv_ctl_client {
	int fd;
	size_t len;			/* bytes buffered in buf */
	char buf[JV_CTL_CLIENT_BUF];
};

/*
 * Which socket to talk to: `sock` when given; else the ControlSocket of
 * config file `config` when given; else the only socket in /run/jvpn.
 * Returns 0 (path in out) or JV_ERR_NOTFOUND / JV_ERR_INVAL with why.
 */
JV_MUST_CHECK int jv_ctl_find(const char *sock, const char *config,
			      char *out, size_t out_len, char *why,
			      size_t why_len);

/* Connect.  Returns 0 or JV_ERR_IO with why ("... is jvpn up running?"). */
JV_MUST_CHECK int jv_ctl_client_open(struct jv_ctl_client *c,
				     const char *path, char *why,
				     size_t why_len);

/* Send one request line, read the JSON answer line.  Returns 0 (*reply
 * a new reference), JV_ERR_IO or JV_ERR_PARSE with why. */
JV_MUST_CHECK int jv_ctl_client_call(struct jv_ctl_client *c,
				     const char *request, json_t **reply,
				     char *why, size_t why_len);

/* The next line the daemon sends, without '\n', NUL-terminated into
 * line.  Returns 1, 0 at the end of the stream, JV_ERR_IO or
 * JV_ERR_NOSPACE (a line longer than cap or the buffer). */
JV_MUST_CHECK ssize_t jv_ctl_client_line(struct jv_ctl_client *c, char *line,
					 size_t cap);

void jv_ctl_client_close(struct jv_ctl_client *c);

/*
 * find + open + call, for the commands: c is left open on success (for
 * `events`, which reads on); closed on failure.  Returns 0 or the
 * JV_ERR_* of the failing step with why.
 */
JV_MUST_CHECK int jv_ctl_ask(const char *sock, const char *config,
			     const char *request, struct jv_ctl_client *c,
			     json_t **reply, char *why, size_t why_len);

#endif
