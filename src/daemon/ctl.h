/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAEMON_CTL_H
#define JVPN_DAEMON_CTL_H

/*
 * The control socket: a UNIX stream socket, mode 0600 (root only), with a
 * tiny line protocol.  A client sends one request line; the daemon answers
 * with one JSON object on one line and closes, except for `events`, after
 * whose answer every new event line follows until the client hangs up.
 *
 *   status                  -> {"ok":true, ...status...}
 *   switch TRANSPORT        -> {"ok":true} | {"ok":false,"error":"..."}
 *   terminate [SESSION]     -> {"ok":true,"terminated":N} | error
 *   reload                  -> {"ok":true,"summary":"..."} | error
 *                              (reload.h: the file named at start)
 *   events                  -> {"ok":true,"path":"...","offset":N} + lines
 *
 * Every error answer is {"ok":false,"error":"<one line>"}.  The requests
 * are handled by the daemon's callback; this file only moves bytes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "jvpn/error.h"
#include "net/loop.h"

enum {
	JV_CTL_CONNS = 8,		/* concurrent control connections */
	JV_CTL_IN_MAX = 512,		/* request line */
	JV_CTL_OUT_MAX = 256 * 1024,	/* queued reply / follow bytes */
	/* one answer may grow the queue to this (a gateway's status with
	 * 10 000 peers is a few MiB, D-032) */
	JV_CTL_REPLY_MAX = 64 * 1024 * 1024,
};

/* Handle one request; return the answer (new reference) and set *follow
 * to stream event lines afterwards. */
typedef json_t *(*jv_ctl_fn)(void *ud, const char *verb, const char *arg,
			     bool *follow);

struct jv_ctl_conn {
	int fd;				/* -1: free */
	size_t in_len;
	char in[JV_CTL_IN_MAX];
	bool answered;
	bool follow;
	bool close_after;		/* close once out is drained */
	size_t out_len, out_off, out_cap;
	char *out;			/* out_cap bytes, JV_CTL_OUT_MAX first */
	bool deferred;			/* its answer comes by jv_ctl_reply */
	unsigned gen;			/* bumped per connection: a late
					 * answer never reaches the next one */
};

struct jv_ctl {
	int fd;				/* listening socket, -1: none */
	char path[108];
	struct jv_loop *loop;
	jv_ctl_fn fn;
	void *ud;
	uint64_t dropped_followers;	/* too slow to keep up */
	uint64_t loop_errors;
	struct jv_ctl_conn conn[JV_CTL_CONNS];
	struct jv_ctl_conn *current;	/* the request being handled */
};

/*
 * Inside the request handler: the answer to this request comes later,
 * through jv_ctl_reply(token); the handler then returns NULL.  For work
 * done off the loop (a reload reads its files on a worker thread).
 */
uint64_t jv_ctl_defer(struct jv_ctl *c);

/* Answer a deferred request (reply is taken).  A connection closed since
 * simply gets nothing. */
void jv_ctl_reply(struct jv_ctl *c, uint64_t token, json_t *reply);

/* A control socket that is not open: every descriptor -1, so that
 * jv_ctl_close is safe before (or without) jv_ctl_open. */
void jv_ctl_none(struct jv_ctl *c);

/*
 * Listen on `path` (its directory is created, mode 0700, when missing; a
 * stale socket left by a crash is replaced, a live one is an error).
 * Returns 0 or JV_ERR_IO / JV_ERR_STATE (another daemon answers there);
 * why gets one line.
 */
JV_MUST_CHECK int jv_ctl_open(struct jv_ctl *c, struct jv_loop *loop,
			      const char *path, jv_ctl_fn fn, void *ud,
			      char *why, size_t why_len);

/* Queue one event line to every follower (dropping a follower whose
 * queue is full: it could not keep up). */
void jv_ctl_broadcast(struct jv_ctl *c, const char *line, size_t len);

/* Close every connection and the socket, and remove the socket file. */
void jv_ctl_close(struct jv_ctl *c);

#endif
