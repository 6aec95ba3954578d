/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CORE_GATEWAY_IMPL_H
#define JVPN_CORE_GATEWAY_IMPL_H

/* The gateway's private state, shared by gateway.c (handshake, receive,
 * timers) and gateway_owner.c (records, adoption, lease).  Private to
 * src/core. */

#include "jvpn/cookie.h"
#include "jvpn/noise.h"
#include "jvpn/record.h"
#include "jvpn/srclimit.h"
#include "heap.h"
#include "keyhash.h"
#include "session.h"
#include "table.h"

/*
 * Store lookups (PD-9): an unknown receiver index costs a store read, the
 * costly action of a flood of random indexes (CP-2), so reads are held to
 * a token bucket.  After a restart every client of the node asks at once,
 * and each must be read before its session ends (D-035): the burst is the
 * session table (one read per session the node can hold), refilled at
 * GW_LOOKUP_RATE; an index asked again within GW_LOOKUP_REPEAT_MS (its
 * client sends again before the read came back) costs no token.
 */
enum {
	GW_LOOKUPS_MAX = 512,		/* queued for the store: more than one
					 * loop pass receives (the daemon's
					 * DMN_RX_BURST x JV_UDP_RX_SLOTS per
					 * socket) */
	GW_LOOKUP_RATE = 1000,		/* store reads per second ... */
	GW_LOOKUP_BURST_MIN = 1024,	/* ... burst at least this, else the
					 * session table's size */
	GW_LOOKUP_REPEAT_MS = 500,	/* an index is read at most once per */
	GW_LOOKUP_RECENT = 4096,	/* indexes remembered for that (a hash
					 * set; a collision only costs a token) */
	GW_RECORD_RETRY_MS = 500,	/* a failed record write, again */
};

/* An index asked of the store, and when (GW_LOOKUP_REPEAT_MS). */
struct gw_asked {
	uint32_t index;			/* 0: empty */
	jv_time at;
};

struct gw_peer {
	struct jv_noise_peer np;		/* key + last initiation time */
	struct jv_session *live;		/* confirmed session */
	struct jv_session *pending;		/* BIRTH: awaiting its first packet */
	struct jv_token_bucket hs_bucket;	/* handshakes of this peer */
	/* Removed at a reload (jv_gateway_remove_peer): the key is unknown
	 * from then on, but the slot keeps it while a session of it, even a
	 * tombstone, may still be referenced (its terminal record carries
	 * the key). */
	bool removed;
	/* Sessions (live, pending or tombstoned) naming this peer: its slot
	 * is given to another key only once this is 0 and it is removed. */
	uint32_t refs;
};

/* What the stored record must reflect; a change makes it pending. */
struct gw_fingerprint {
	uint64_t state_version;
	uint64_t owner_epoch;
	uint64_t key_epoch;
	uint64_t nonce_hwm;
	uint64_t total_switches;
	int bound;
	struct jv_addr bound_remote;
};

/* An ACK whose commit is not durable yet (PD-9): sent once the record of
 * `version` is written. */
struct gw_held_ack {
	uint64_t version;
	struct jv_ctrl answer;
	struct jv_addr to;
	uint32_t local;
};

struct gw_session {
	struct jv_session s;
	jv_time deadline;			/* cached jv_sess_deadline */
	/* In g->timers under a key <= deadline: a deadline that moves later
	 * (every packet) leaves the key alone, and the key is brought up to
	 * date only when it reaches the top (jv_gw_next_due). */
	struct jv_heap_link timer;
	struct gw_session *next_due;		/* tick's list of re-dues */
	unsigned slot;				/* in g->sess */
	jv_time eval_ms;			/* ... computed at this time */
	uint64_t eval_version;			/* ... in this state version */
	struct jv_addr hs_from;			/* tuple of the handshake */
	uint32_t hs_local;

	/* durability (gateway_owner.c) */
	struct gw_fingerprint stored;		/* as last handed out to write */
	bool pending;				/* record changed, not handed out */
	bool unwritten;				/* handed out, not yet durable */
	bool disowned;				/* the store has another owner's
						 * write: nothing more of ours */
	jv_time retry_ms;			/* a failed write is offered
						 * again then (JV_TIME_NEVER: none) */
	bool queued;				/* in g->pendq */
	struct gw_held_ack *held;		/* heap, while an ACK waits */
};

struct jv_gateway {
	struct jv_policy policy;
	char node_id[JV_NODE_ID_MAX];
	struct jv_rng rng;
	struct jv_noise_static self;
	uint8_t path_key[32];			/* PD-10 path tokens */
	jv_session_event_fn on_event;
	void *ud;

	struct jv_table table;			/* receiver index -> gw_session */
	struct gw_session **sess;		/* every live or tombstoned one */
	unsigned nsess, max_sessions;

	struct gw_peer *peers;
	unsigned npeers, cap_peers;
	struct jv_keyhash peer_keys;		/* public key -> peer index */
	uint32_t *free_peers;			/* removed, unreferenced slots
						 * (a stack, cap_peers long) */
	unsigned nfree_peers;
	struct jv_heap timers;			/* every session, by deadline */

	/* The handshake is the costly action (two DHs per initiation): a
	 * global bucket before the DH, one per peer after it (STYLE 7).
	 * Under load (D-019) a source must first prove its address (mac2),
	 * then pass its own bucket, before it may take a global token. */
	struct jv_token_bucket hs_global;
	struct jv_cookie_checker cookie;
	struct jv_srclimit hs_source;
	jv_time under_load_until;		/* under load before this */

	jv_time last_now;
	uint64_t dropped_unknown, dropped_parse;
	uint64_t hs_dropped;			/* lease, mac1, Noise, peer
						 * limit, table full */
	uint64_t hs_cookie_sent;		/* answered by a cookie, no DH */
	uint64_t hs_dropped_source;		/* proven source over its rate */
	uint64_t hs_dropped_global;		/* global bucket empty */
	uint64_t hs_dh;				/* initiations given a DH */
	/* The two silent misconfigurations (issue 11), part of hs_dropped:
	 * a client with another gateway key (its mac1 is wrong) and a key
	 * that is no [Peer] (known once the first DH opened it). */
	uint64_t hs_bad_mac1, hs_unknown_key;
	struct jv_addr bad_mac1_from, unknown_key_from;
	uint8_t unknown_key[32];
	bool lookup_missed;			/* set by lookup_peer */
	uint8_t missed_key[32];
	uint64_t hs_dropped_lease, hs_dropped_noise;
	uint64_t hs_dropped_peer_limit, hs_dropped_table_full;
	uint64_t hs_responded;
	uint64_t dropped_ended, dropped_auth, dropped_replay;
	uint64_t dropped_rate_limited;

	/* ownership (PD-9, gateway_owner.c) */
	bool durable;				/* records are written to a store */
	jv_time lease_until;			/* JV_TIME_NEVER: the process */
	bool store_reachable;
	uint32_t *pendq;			/* indexes of pending records */
	unsigned npend;
	unsigned nunwritten;			/* sessions pending or unwritten */
	uint32_t lookq[GW_LOOKUPS_MAX];		/* unknown indexes to look up:
						 * a ring from lookhead */
	unsigned nlook, lookhead;
	struct gw_asked *asked;			/* GW_LOOKUP_RECENT, durable
						 * only */
	struct jv_token_bucket lookup_bucket;	/* store lookups: the costly
						 * action of an unknown index */
};

enum {
	GW_DEFAULT_MAX_SESSIONS = 1024,
	GW_DEFAULT_HS_RATE = 50,
	GW_DEFAULT_HS_BURST = 100,
	GW_PEER_HS_RATE_MILLI = 1000,	/* per peer: 1/s ... */
	GW_PEER_HS_BURST = 5,		/* ... burst 5 */
	GW_SOURCE_HS_RATE = 10,		/* per proven source (IPv4, IPv6 /64) */
	GW_SOURCE_HS_BURST = 20,	/* ... and burst: a NAT's clients */
	/* Under load while the global bucket is below half its burst and
	 * for this long after (D-019): no flapping in and out of it. */
	GW_UNDER_LOAD_HOLD_MS = 1000,
};


static inline struct gw_session *gws(struct jv_session *s)
{
	return (struct gw_session *)s;
}

/* gateway.c */
void jv_gw_send_to(struct jv_session *s, const struct jv_addr *to,
		   uint32_t local, const struct jv_ctrl *m, struct jv_out *out,
		   struct jv_pathval_slot *budget);
/* Free session g->sess[i] (the last one takes its place). */
void jv_gw_forget(struct jv_gateway *g, unsigned i);
/* gs->deadline = jv_gw_deadline(gs, now), the timer heap told: after
 * every engine entry that may have moved the session's timers. */
void jv_gw_reschedule(struct jv_gateway *g, struct gw_session *gs,
		      jv_time now);
/* A new session in g->sess: counted for its peer, in the timer heap. */
void jv_gw_add_session(struct jv_gateway *g, struct gw_session *gs,
		       jv_time now);
/* The peer holding this public key and not removed, or -1.  O(1). */
int jv_gw_peer_by_key(const struct jv_gateway *g, const uint8_t pub[32]);

/* Within the node's lease: it may create, forward and look sessions up
 * (§9: past it another node may own them). */
static inline bool jv_gw_leased(const struct jv_gateway *g, jv_time now)
{
	return now <= g->lease_until;
}

/* The session's next deadline: its timers and a record write to retry. */
jv_time jv_gw_deadline(const struct gw_session *gs, jv_time now);
/* A session may be forgotten (tombstone evicted) only once the store holds
 * its last state: else a crash would resurrect it from an older record. */
bool jv_gw_record_settled(const struct jv_gateway *g,
			  const struct gw_session *gs);

/* gateway_owner.c */
/* After every engine entry for a session: mark its record pending if what
 * the store holds no longer matches. */
void jv_gw_note(struct jv_gateway *g, struct gw_session *gs);
/* The owner events of a new session (SessionOwnerAcquired, epoch 1). */
void jv_gw_owner_created(struct jv_gateway *g, struct gw_session *gs,
			 jv_time now);
/* Is this node the owner right now (V2)?  Lease unexpired and the store
 * reachable. */
bool jv_gw_is_owner(const struct jv_gateway *g, jv_time now);
/* Hold `answer` to `to` until the record of the current version is
 * durable; false when nothing needs holding (send it now). */
bool jv_gw_hold_ack(struct jv_gateway *g, struct gw_session *gs,
		    const struct jv_ctrl *answer, const struct jv_addr *to,
		    uint32_t local);
/* A packet for an index this node does not hold: queue a store lookup. */
void jv_gw_want_lookup(struct jv_gateway *g, uint32_t index, jv_time now);
/* Release every session past the lease (tick). */
void jv_gw_release_all(struct jv_gateway *g, jv_time now);
int jv_gw_owner_init(struct jv_gateway *g);
void jv_gw_owner_free(struct jv_gateway *g);

#endif
