/* SPDX-License-Identifier: MIT */
#ifndef JVPN_RECORD_H
#define JVPN_RECORD_H

/*
 * The gateway's session record (PD-9): what another process needs to
 * resume a session without a handshake: identity, the root secret, the
 * key epoch the client speaks, the requester-nonce high-water mark, the
 * FSM state and version, the binding, ownership.  The engine exports it
 * whenever it changes and imports it on a restart or a takeover; the
 * caller seals it with the cluster key (cluster/seal.h) before it leaves
 * the process, and keeps it in the ownership store.
 *
 * The encoding is fixed-size little-endian with a version byte, parsed
 * with exact lengths before anything else looks at it (it is input from
 * disk or from the network).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "limits.h"
#include "reason.h"
#include "session.h"
#include "state.h"

enum jv_record_limits {
	JV_RECORD_FORMAT = 1,
	JV_RECORD_SIZE = 1 + 16 + 32 + 4 + 4 + JV_NODE_ID_MAX	/* ids, owner */
			 + 8 + 1 + 8				/* epoch, state */
			 + 4 * 8 + 1 + 8 + 8			/* times, counts */
			 + 1 + 16 + 2 + 4			/* binding */
			 + 8 + 32 + 32 + 8 + 32		/* keys, root */
			 + 1 + 8 * JV_SWITCH_HISTORY_MAX,	/* recent switches */
};

struct jv_gw_record {
	uint8_t session_id[JV_SESSION_ID_BYTES];
	uint8_t peer_public[32];		/* the client's static key */
	uint32_t local_index;			/* ours: packets carry it */
	uint32_t remote_index;			/* the client's */
	char owner_node[JV_NODE_ID_MAX];
	uint64_t owner_epoch;			/* 1 at creation, +1 per acquisition */
	enum jv_state state;
	uint64_t state_version;
	jv_time created_ms;
	jv_time unbound_since_ms;
	jv_time volatile_since_ms;
	jv_time last_switch_commit_ms;
	enum jv_reason volatile_reason;
	uint64_t total_switches;
	uint64_t nonce_hwm;			/* highest requester nonce accepted */
	bool bound;
	struct jv_addr bound_remote;
	uint32_t reserved;
	/* secrets: never leave the process unsealed */
	uint64_t key_epoch;			/* the epoch the client speaks */
	uint8_t key_i2r[32], key_r2i[32];	/* ... its keys */
	jv_time keys_birth_ms;
	uint8_t root[32];
	/* the switch commits of the last 60 s, oldest first: the cap of
	 * INV-08 holds across a restart or a takeover */
	uint8_t nswitches;
	jv_time switches[JV_SWITCH_HISTORY_MAX];
};

/* Returns JV_RECORD_SIZE, or JV_ERR_NOSPACE. */
JV_MUST_CHECK int jv_gw_record_encode(const struct jv_gw_record *r,
				      uint8_t *out, size_t cap);
/*
 * Parse exactly JV_RECORD_SIZE bytes.  Returns 0, or JV_ERR_PARSE with a
 * static reason in *why (may be NULL): wrong length, unknown format,
 * state or reason out of range, node id not terminated, a binding flag
 * that is neither 0 nor 1.
 */
JV_MUST_CHECK int jv_gw_record_decode(const uint8_t *in, size_t n,
				      struct jv_gw_record *r,
				      const char **why);
void jv_gw_record_wipe(struct jv_gw_record *r);

/* ---- the gateway's side ---------------------------------------------- */

struct jv_gateway;

/*
 * Records to write: after any engine call, the caller takes every session
 * whose record changed (creation, a state version, the binding, the key
 * epoch the client speaks, the nonce high-water mark) and writes it; the
 * ACK of a commit is held until its record is durable (jv_gateway_
 * record_done).  Returns 1 with *r filled (and the session's write now in
 * flight), 0 when nothing is pending.  Only with jv_gateway_config.durable.
 */
JV_MUST_CHECK int jv_gateway_next_record(struct jv_gateway *g,
					 struct jv_gw_record *r);

enum jv_record_outcome {
	JV_RECORD_WRITTEN,	/* durable */
	JV_RECORD_CONFLICT,	/* the store holds a newer owner: X6 */
	JV_RECORD_FAILED,	/* not written (unreachable): retried */
};

/*
 * A write of the record of session `local_index` at `state_version`
 * completed.  WRITTEN releases the ACK held for that version (or older);
 * CONFLICT means another node owns the session now: SessionOwnerConflict
 * and X6 (CL-4), never dual-active; FAILED marks the record pending again.
 * Returns 0 or JV_ERR_NOTFOUND (session gone meanwhile).
 */
int jv_gateway_record_done(struct jv_gateway *g, uint32_t local_index,
			   uint64_t state_version, enum jv_record_outcome oc,
			   jv_time now, struct jv_out *out);

/* Sessions whose record is not durable yet (pending or in flight): the
 * caller holds its event log while there are any (evfile hold), so no
 * line describes a transition the store does not hold.  O(1). */
unsigned jv_gateway_unwritten(const struct jv_gateway *g);

/*
 * Receiver indexes of packets for sessions this node does not hold: the
 * caller looks each up in the store (restart, takeover).  Bounded by a
 * token bucket inside the engine (a flood of random indexes costs the
 * store nothing past it).  Returns 1 with *index, 0 when none.
 */
JV_MUST_CHECK int jv_gateway_next_lookup(struct jv_gateway *g,
					 uint32_t *index);

/*
 * Take over a stored record (restart or another node's): checks that the
 * peer is configured, the session is alive and its index is free here,
 * and fills `next` with this node as owner and owner_epoch + 1.  The
 * caller must make `next` durable with a CAS against the revision it read
 * BEFORE jv_gateway_adopt (the new keys derive from the epoch: it must
 * never be used twice).  Returns 0, JV_ERR_NOTFOUND (unknown peer),
 * JV_ERR_STATE (the session is over: terminated, past its lifetime or its
 * transportless TTL; the caller may delete the record), JV_ERR_LIMIT
 * (table full, or the index is held here already).
 */
JV_MUST_CHECK int jv_gateway_prepare_adopt(const struct jv_gateway *g,
					   const struct jv_gw_record *stored,
					   jv_time now,
					   struct jv_gw_record *next);
/*
 * Install a session from `rec` (as prepare_adopt made it and the store
 * accepted); previous_owner is the owner_node of the record as read.  Emits SessionOwnerAcquired (same node id as the previous
 * owner: a restart) or SessionOwnerTransferred, moves the sending
 * direction to the owner epoch's fresh keys and accepts, until the client
 * follows or the first commit, only fresh REATTACH_REQUESTs under the
 * client's old epoch (PD-9).  Returns 0 or JV_ERR_*.
 */
JV_MUST_CHECK int jv_gateway_adopt(struct jv_gateway *g,
				   const struct jv_gw_record *rec,
				   const char *previous_owner, jv_time now);

/*
 * The node's ownership lease (§9): the last millisecond at which it may
 * act as owner; JV_TIME_NEVER (the default) for a node whose lease is its
 * own process.  Past it the node fails closed: it forwards nothing and
 * denies reattach with not_authoritative_owner; at the first tick past it
 * every session is released (SessionOwnerRejected) and forgotten, since
 * another node may own it by then.
 */
void jv_gateway_set_lease(struct jv_gateway *g, jv_time valid_until_ms);

/* The store answered (true) or failed to (false: a lease renewal or a
 * write timed out).  While false, V2 denies every reattach with
 * not_authoritative_owner at once, well before the lease ends (§9: stop
 * accepting reattach at once, stop forwarding at the lease's end). */
void jv_gateway_store_reachable(struct jv_gateway *g, bool reachable);

#endif
