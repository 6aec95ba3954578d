/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAEMON_RESOLVE_H
#define JVPN_DAEMON_RESOLVE_H

/*
 * Endpoint host names ("Endpoint = vpn.example.net:51820").
 *
 * At start, jv_resolve_now() resolves a name with getaddrinfo, blocking:
 * the daemon does it before it adds a route (so a full tunnel's own DNS
 * query does not go into a tunnel not up yet) and a name that does not
 * resolve stops the start with the file, the line and the resolver's
 * message.  The address family is Bind's when the transport has one,
 * else the first answer in the system's order (RFC 6724, /etc/gai.conf),
 * as wg does; it stays the path's family (the socket is of that family).
 *
 * Later, when a path dies, jv_resolver_request() asks again, on a worker
 * thread: the event loop never waits for DNS and the packet path never
 * sees it.  The worker writes the answer and wakes the loop through an
 * eventfd (jv_resolver_fd); the loop takes the answers with
 * jv_resolver_take().  A name that no longer resolves keeps the last
 * address (the daemon logs the resolver's message).
 */

#include <stdbool.h>
#include <stddef.h>

#include "daemon/config.h"
#include "jvpn/error.h"
#include "jvpn/session.h"

/* Resolve t's host name (t->host[0] != 0) into *out (port t's), for a
 * socket of `family` (AF_UNSPEC: any).  0, or JV_ERR_NOTFOUND with `why`
 * = "file:line: Endpoint = host:port: cannot resolve: <message>". */
JV_MUST_CHECK int jv_resolve_now(const struct jv_config *cfg,
				 const struct jv_cfg_transport *t, int family,
				 struct jv_addr *out, char *why, size_t n);

struct jv_resolver;

/* A worker for the transports of cfg (only those with a host name are
 * ever asked for).  NULL on failure (thread or eventfd). */
struct jv_resolver *jv_resolver_new(const struct jv_config *cfg);
/* The eventfd the loop watches (readable: answers are waiting). */
int jv_resolver_fd(const struct jv_resolver *r);
/* Ask for transport i again, for a socket of `family`; a request for a
 * name already queued or in progress is merged. */
void jv_resolver_request(struct jv_resolver *r, unsigned i, int family);

struct jv_resolve_answer {
	unsigned transport;
	bool ok;
	struct jv_addr addr;		/* ok: the address, port set */
	char error[128];		/* !ok: the resolver's message */
};
/* Take up to max answers (drains the eventfd); returns how many. */
unsigned jv_resolver_take(struct jv_resolver *r, struct jv_resolve_answer *a,
			  unsigned max);
/* Stop the worker.  A worker inside getaddrinfo is left to finish on
 * its own (it exits at once afterwards): teardown never waits for DNS. */
void jv_resolver_free(struct jv_resolver *r);

#endif
