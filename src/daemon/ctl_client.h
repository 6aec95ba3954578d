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

#include "daemon/config.h"
#include "jvpn/error.h"

enum {
	JV_CTL_CLIENT_BUF = 8192,
	JV_CTL_IFNAME_MAX = 16,		/* IFNAMSIZ */
	JV_CTL_LIST_MAX = 256,		/* daemons `jvpn show` lists */
};

/* Where the daemons' sockets are unless ControlSocket says otherwise. */
#define JV_CTL_RUN_DIR "/run/jvpn"

/* JVPN_RUN_DIR when set and not empty (tests, a non-root lab), else
 * JV_CTL_RUN_DIR. */
const char *jv_ctl_run_dir(void);

/* The socket of interface iface: <dir>/<iface>.sock (dir NULL: the run
 * directory).  Returns 0, or JV_ERR_INVAL with why (not a name: empty,
 * too long, has a '/'; or the path does not fit). */
JV_MUST_CHECK int jv_ctl_iface_socket(const char *dir, const char *iface,
				      char *out, size_t out_len, char *why,
				      size_t why_len);

/* Every *.sock in dir (NULL: the run directory), sorted by name, at most
 * max.  Returns 0 (*n may be 0), or JV_ERR_NOTFOUND (no such directory),
 * JV_ERR_IO, JV_ERR_NOSPACE (more than max) with why. */
JV_MUST_CHECK int jv_ctl_list(const char *dir, char (*out)[JV_CFG_PATH_MAX],
			      unsigned max, unsigned *n, char *why,
			      size_t why_len);

/* The interface a socket path names: "/run/jvpn/jv0.sock" -> "jv0". */
void jv_ctl_sock_iface(const char *path, char *out, size_t out_len);

struct jv_ctl_client {
	int fd;
	size_t len;			/* bytes buffered in buf */
	char buf[JV_CTL_CLIENT_BUF];
};

/*
 * Which socket to talk to: `sock` when given; else the ControlSocket of
 * config file `config` when given; else the only socket in the run
 * directory.
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
