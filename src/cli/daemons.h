/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CLI_DAEMONS_H
#define JVPN_CLI_DAEMONS_H

/*
 * Which daemons a command talks to, shared by `show` and `status`:
 * IFACE (its socket in the run directory), --socket PATH, --config FILE
 * (its ControlSocket), or, with none of these, every *.sock in the run
 * directory (--dir DIR, else JVPN_RUN_DIR, else /run/jvpn).  A socket
 * no daemon answers on in that last case is a stale file: one line on
 * stderr, skipped.
 */

#include <stdbool.h>

#include <jansson.h>

struct daemons {
	const char *iface, *sock, *config, *dir;
};

/* argv[*i] (and its value) is a target option or IFACE: consumed, 1;
 * not one, 0; a second target or a bad IFACE, -1 after one line on
 * stderr. */
int daemons_arg(const char *prog, struct daemons *t, int argc, char **argv,
		int *i);

/* One answering daemon: its interface name (from the socket's name, or
 * the reply) and its status (borrowed). */
typedef void (*daemons_fn)(void *ud, const char *sock, json_t *status);

/*
 * Ask each daemon of t for its status, in socket name order, calling fn
 * for each answer.  Returns the exit status: 0 when at least one daemon
 * answered (stale sockets reported and skipped), 1 otherwise (one line
 * saying why on stderr).  *n gets the number of answers.
 */
int daemons_status(const char *prog, const struct daemons *t, daemons_fn fn,
		   void *ud, unsigned *n);

#endif
