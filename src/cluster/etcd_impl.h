/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CLUSTER_ETCD_IMPL_H
#define JVPN_CLUSTER_ETCD_IMPL_H

/*
 * The etcd backend's state, shared by etcd.c (open, close, driving),
 * etcd_kv.c (get, put, del), etcd_lease.c (the node lease) and
 * etcd_watch.c (takeovers).  Private to src/cluster.
 *
 * Keys, with P = "/" + cluster_id ("/jvpn" by default):
 *   P/s/<session id, 32 hex>   the record (JSON, see etcd_json.h)
 *   P/i/<receiver index, 8 hex> the session id in hex: get's lookup key
 *   P/o/<session id>           the owner's node id, on the owner's lease:
 *                              it exists exactly while that lease lives
 *   P/n/<node id>              a random incarnation id, on the node's
 *                              lease: one live process per node id
 */

#include <stdbool.h>
#include <stdint.h>

#include "cluster/etcd_http.h"
#include "cluster/etcd_json.h"
#include "cluster/store_impl.h"

enum jv_etcd_limits {
	JV_ETCD_CLUSTER_ID_MAX = 64,
	JV_ETCD_PREFIX_MAX = JV_ETCD_CLUSTER_ID_MAX + 2,
	JV_ETCD_INCARNATION_BYTES = 16,
	/* Past this TTL (11 days) a lease is no fencing at all; an answer
	 * above it is not one we asked for. */
	JV_ETCD_TTL_MAX_S = 1000000,
	/* Pause before asking again after a failed grant, a refused node
	 * registration or a dropped watch. */
	JV_ETCD_RETRY_MS = 500,
	/* A failed keepalive is retried this soon: the lease has at most
	 * two thirds of its TTL left by then. */
	JV_ETCD_KEEPALIVE_RETRY_MS = 200,
	/* Close waits no longer than this for the revoke (store.h). */
	JV_ETCD_REVOKE_BUDGET_MS = 500,
	/* valid_until = keepalive sent + TTL * (1000 - this) / 1000 ms:
	 * etcd counts the TTL from when it handles the keepalive, later
	 * than we sent it, and a tenth covers clock-rate differences. */
	JV_ETCD_LEASE_MARGIN_PERMILLE = 100,
};

enum jv_etcd_lease_state {
	JV_ETCD_L_GRANT,	/* ask for a lease at lease_timer */
	JV_ETCD_L_GRANTING,
	JV_ETCD_L_REGISTER,	/* register the node key at lease_timer */
	JV_ETCD_L_REGISTERING,
	JV_ETCD_L_HELD,		/* node key registered on lease_id */
};

/* A set of session ids (open addressing). */
struct jv_etcd_idset {
	uint8_t (*slot)[JV_SESSION_ID_BYTES];
	uint8_t *used;		/* 0 free, 1 taken, 2 deleted */
	size_t cap, taken, deleted;
};

struct jv_etcd_store {
	struct jv_store base;
	struct jv_etcd_http http;
	struct jv_etcd_log log;
	char prefix[JV_ETCD_PREFIX_MAX];
	char incarnation[2 * JV_ETCD_INCARNATION_BYTES + 1];
	jv_time lease_ms;
	jv_store_lease_fn on_lease;
	jv_store_watch_fn on_watch;
	void *ud;
	bool closing;
	int delivered;		/* user callbacks run, for poll */

	/* operations */
	struct jv_etcd_link ops;	/* in flight */
	struct jv_etcd_link deferred;	/* result known, callback due */
	unsigned n_ops;

	/* the node lease (etcd_lease.c) */
	enum jv_etcd_lease_state lstate;
	int64_t lease_id;
	jv_time ttl_ms;			/* as granted, from etcd */
	jv_time lease_timer;		/* next grant/registration try */
	jv_time renewed_until;		/* what the last answer proves */
	jv_time valid_until;		/* as told to on_lease; 0: none */
	jv_time ka_due;
	struct jv_etcd_req *lease_req, *ka_req;
	bool told_waiting;

	/* the watch (etcd_watch.c) */
	struct jv_etcd_req *watch_req;
	jv_time watch_timer;		/* reconnect at (NEVER: none) */
	uint64_t watch_next_rev;	/* resume from (0: from now) */
	char *wbuf;
	size_t wlen, wcap;
	bool wbroken;
	struct jv_etcd_idset mine;	/* sessions this node wrote */
};

/* etcd.c */
/* What an answer amounts to before the op reads it: the body as JSON
 * (new reference) for a 200, else NULL with *status set (and the reason
 * logged); *lease_gone when etcd said our lease does not exist.  Every
 * unary answer of etcd carries header.revision; `header` checks it. */
json_t *jv_etcd_answer(struct jv_etcd_store *s, const struct jv_etcd_reply *r,
		       const char *what, bool header,
		       enum jv_store_status *status, bool *lease_gone);
/* Log one line about a bad answer and return JV_STORE_CORRUPT. */
enum jv_store_status jv_etcd_corrupt(struct jv_etcd_store *s,
				     const struct jv_etcd_reply *r,
				     const char *what, const char *why);

/* etcd_kv.c: the store ops, and the queue of their completions */
int jv_etcd_get(struct jv_store *st, uint32_t index, jv_store_get_fn fn,
		void *ud);
int jv_etcd_put(struct jv_store *st, const struct jv_store_rec *rec,
		uint64_t expected, jv_store_put_fn fn, void *ud);
int jv_etcd_del(struct jv_store *st, const uint8_t id[JV_SESSION_ID_BYTES],
		uint64_t expected, jv_store_put_fn fn, void *ud);
/* Run the completions deferred before this call. */
void jv_etcd_ops_deliver(struct jv_etcd_store *s);
/* Drop every operation without its callback (close). */
void jv_etcd_ops_cancel(struct jv_etcd_store *s);
/* P/<kind>/<session id hex> into out[JV_EJ_KEY_MAX]. */
void jv_etcd_key(const struct jv_etcd_store *s, char *out, char kind,
		 const uint8_t id[JV_SESSION_ID_BYTES]);
/* Read one record by session id, for the watch (no user callback, not
 * counted against JV_STORE_INFLIGHT_MAX).  0 or -1 (out of memory). */
typedef void (*jv_etcd_fetch_fn)(struct jv_etcd_store *s,
				 enum jv_store_status st,
				 const uint8_t id[JV_SESSION_ID_BYTES],
				 const struct jv_store_rec *rec);
int jv_etcd_fetch(struct jv_etcd_store *s,
		  const uint8_t id[JV_SESSION_ID_BYTES], jv_etcd_fetch_fn fn);

/* etcd_lease.c */
void jv_etcd_lease_start(struct jv_etcd_store *s);
bool jv_etcd_lease_valid(const struct jv_etcd_store *s, jv_time now);
/* etcd said lease `id` is gone; ignored unless it is still ours. */
void jv_etcd_lease_lost(struct jv_etcd_store *s, int64_t id,
			const char *why);
jv_time jv_etcd_lease_deadline(const struct jv_etcd_store *s);
void jv_etcd_lease_tick(struct jv_etcd_store *s, jv_time now);
void jv_etcd_lease_stop(struct jv_etcd_store *s, bool revoke);

/* etcd_watch.c */
void jv_etcd_watch_start(struct jv_etcd_store *s);
jv_time jv_etcd_watch_deadline(const struct jv_etcd_store *s);
void jv_etcd_watch_tick(struct jv_etcd_store *s, jv_time now);
void jv_etcd_watch_stop(struct jv_etcd_store *s);
/* The session was written by this node (put) or is gone (del). */
void jv_etcd_watch_mine(struct jv_etcd_store *s,
			const uint8_t id[JV_SESSION_ID_BYTES], bool mine);

#endif
