/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CLUSTER_STORE_H
#define JVPN_CLUSTER_STORE_H

/*
 * The ownership store (spec §9, PD-9): the durable home of every gateway
 * session record, behind one small interface with two backends that pass
 * one contract test suite (tests/cluster/contract.c):
 *
 *   sqlite:PATH        embedded, one gateway (default): SQLite in WAL mode,
 *                      fsync'ed commits; the ownership lease is the
 *                      process itself (an exclusive lock on the file).
 *   etcd:URL[,URL...]  a cluster of gateways: etcd v3 through its JSON
 *                      gateway, libcurl's multi interface driven by the
 *                      daemon's epoll loop; the ownership lease is an etcd
 *                      lease; every write is a transaction that compares
 *                      the record's mod revision (fencing).
 *
 * The store never sees a secret in clear: the record body (`blob`) is
 * sealed by the caller with the cluster key (cluster/seal.h) and is opaque
 * here.  The metadata beside it is public by design (ids, epochs,
 * versions), so an operator can inspect the store with sqlite3 or
 * etcdctl.
 *
 * Every operation is asynchronous: it returns at once and its completion
 * callback runs later from jv_store_tick() or from the backend's own loop
 * callbacks, never from inside the call that started it (the sqlite
 * backend defers its completions too, so callers have one contract).  No
 * call blocks on the network; the sqlite backend's fsync is the one
 * bounded local wait, taken only for writes.
 *
 * Consistency over availability: a backend that cannot reach its servers
 * reports JV_STORE_UNAVAILABLE and, for the lease, stops reporting a
 * valid_until in the future; it never guesses.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jvpn/error.h"
#include "jvpn/limits.h"

struct jv_loop;

enum jv_store_limits {
	JV_STORE_BLOB_MAX = 2048,	/* sealed record body */
	JV_STORE_URL_MAX = 1024,
	JV_STORE_PATH_MAX = 256,
	JV_STORE_OP_TIMEOUT_MS = 2000,	/* an operation not answered by then
					 * completes JV_STORE_UNAVAILABLE */
	JV_STORE_INFLIGHT_MAX = 1024,	/* operations outstanding at once;
					 * past that a call fails JV_ERR_LIMIT */
};

enum jv_store_status {
	JV_STORE_OK = 0,
	JV_STORE_NOTFOUND,	/* get/del: no record under that key */
	JV_STORE_CONFLICT,	/* put/del: revision did not match, or the
				 * record is owned by another live node */
	JV_STORE_UNAVAILABLE,	/* unreachable, timed out, I/O error */
	JV_STORE_CORRUPT,	/* the backend answered something that does
				 * not parse (a clear line is logged) */
};

const char *jv_store_status_name(enum jv_store_status st);

/* What the store knows of one session, in clear, and its sealed body. */
struct jv_store_rec {
	uint8_t session_id[JV_SESSION_ID_BYTES];
	uint32_t receiver_index;	/* the gateway's index: the lookup key of
					 * a packet (STYLE 5) */
	char owner_node[JV_NODE_ID_MAX];
	uint64_t owner_epoch;
	uint64_t state_version;
	/* Filled by get: the backend's revision of this record (sqlite: a
	 * counter column; etcd: mod_revision), the CAS argument of the next
	 * put; and whether the owner's lease is alive right now (etcd: the
	 * owner key exists; sqlite: false unless this process wrote it). */
	uint64_t revision;
	bool owner_live;
	size_t len;
	uint8_t blob[JV_STORE_BLOB_MAX];
};

/* Completion of get.  rec is valid only during the call (NULL unless
 * JV_STORE_OK). */
typedef void (*jv_store_get_fn)(void *ud, enum jv_store_status st,
				const struct jv_store_rec *rec);
/* Completion of put/del.  new_revision: the record's revision after a
 * successful put (0 otherwise). */
typedef void (*jv_store_put_fn)(void *ud, enum jv_store_status st,
				uint64_t new_revision);
/* The node's ownership lease changed: valid_until_ms (jv_clock_now()
 * scale) is the last millisecond at which this node may act as owner;
 * 0 when the lease is lost or not (yet) granted; JV_TIME_NEVER for a
 * backend whose lease is the process itself (sqlite). */
typedef void (*jv_store_lease_fn)(void *ud, jv_time valid_until_ms);
/* Another node took ownership of a session this node wrote (watch). */
typedef void (*jv_store_watch_fn)(void *ud,
				  const uint8_t session_id[JV_SESSION_ID_BYTES],
				  const char *owner_node, uint64_t owner_epoch);

struct jv_store_config {
	const char *url;		/* "sqlite:PATH" or "etcd:http(s)://h:p,..." */
	const char *node_id;		/* this node (non-empty) */
	const char *cluster_id;		/* key prefix in etcd ("jvpn" if NULL) */
	jv_time lease_ms;		/* OWNER_LEASE_MS (etcd; >= 1000) */
	const char *ca_file;		/* etcd TLS: CA bundle, or NULL */
	const char *cert_file;		/* etcd TLS: client certificate, or NULL */
	const char *key_file;		/* etcd TLS: client key, or NULL */
	jv_store_lease_fn on_lease;	/* required */
	jv_store_watch_fn on_watch;	/* optional */
	void *ud;
};

struct jv_store;

/*
 * Open the backend the url names.  With a loop, the backend registers its
 * descriptors there (etcd: libcurl's sockets) and the caller must call
 * jv_store_tick() when jv_store_deadline() falls due; without one (tests,
 * tools), jv_store_poll() drives it.  Returns NULL with a one-line reason
 * in why ("sqlite:/x/s.db: database disk image is malformed", "etcd:
 * node id gw1 is held by another live gateway", ...).
 *
 * sqlite: creates the file (0600) and its directory (0700) when missing;
 * fails if another process holds the file.  etcd: starts by granting the
 * node lease and registering the node key; the lease callback says when
 * it holds.
 */
struct jv_store *jv_store_open(const struct jv_store_config *cfg,
			       struct jv_loop *loop, char *why, size_t why_len);

/* Release the lease (etcd: revoke, so a peer can take over at once),
 * cancel every outstanding operation without calling its callback, close.
 * Safe on NULL. */
void jv_store_close(struct jv_store *st);

/*
 * The operations.  Each returns 0 (the callback will run exactly once),
 * JV_ERR_LIMIT (too many outstanding), or JV_ERR_INVAL (bad argument); on
 * an error the callback never runs.
 *
 * get:  the record whose receiver_index is `index`.
 * put:  write rec if the stored revision equals expected_revision (0: the
 *       record must not exist) and the record is not owned by another node
 *       whose lease is alive; the record becomes owned by this node (etcd:
 *       its owner key is attached to this node's lease).  Otherwise
 *       JV_STORE_CONFLICT, nothing written.  Durable when OK is reported.
 * del:  remove the record (terminated session) under the same CAS rule.
 */
JV_MUST_CHECK int jv_store_get(struct jv_store *st, uint32_t index,
			       jv_store_get_fn fn, void *ud);
JV_MUST_CHECK int jv_store_put(struct jv_store *st,
			       const struct jv_store_rec *rec,
			       uint64_t expected_revision, jv_store_put_fn fn,
			       void *ud);
JV_MUST_CHECK int jv_store_del(struct jv_store *st,
			       const uint8_t session_id[JV_SESSION_ID_BYTES],
			       uint64_t expected_revision, jv_store_put_fn fn,
			       void *ud);

/* When the backend next needs jv_store_tick (JV_TIME_NEVER: nothing). */
jv_time jv_store_deadline(const struct jv_store *st);
/* Run due timers (lease renewal, operation timeouts, deferred
 * completions). */
void jv_store_tick(struct jv_store *st, jv_time now);
/* Without a loop: wait up to timeout_ms for progress and run what is due.
 * Returns the number of completions delivered. */
int jv_store_poll(struct jv_store *st, int timeout_ms);

#endif
