/* SPDX-License-Identifier: MIT */
#ifndef JVPN_SESSION_H
#define JVPN_SESSION_H

/*
 * The protocol engine, sans-I/O (ngtcp2-style).  Two endpoint kinds drive
 * the same session core:
 *
 *   struct jv_client   one session, several transports (paths) it owns;
 *   struct jv_gateway  many sessions, found by receiver index; transports
 *                      are the (remote address, port) tuples packets come
 *                      from.
 *
 * The caller feeds datagrams, inner IP packets, commands and the time; the
 * engine fills a caller-owned struct jv_out with datagrams to send (and
 * where), inner packets to deliver, and reports the next deadline at which
 * it wants jv_*_tick() (JV_TIME_NEVER: none).  It never reads a clock,
 * never touches a socket and takes its randomness from a struct jv_rng.
 *
 * Time: `now` is milliseconds on a clock anchored to the Unix epoch that
 * never steps backwards (the daemon passes wall time at start + monotonic
 * elapsed; the simulator its virtual clock).  The same value stamps events
 * (spec §8.1 ts_ms), handshake timestamps and reattach freshness (§7.5).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "event.h"
#include "limits.h"
#include "policy.h"
#include "rng.h"
#include "state.h"

enum jv_packet_limits {
	JV_MTU_MAX = 1500,		/* largest inner IP packet */
	JV_DGRAM_MAX = 1600,		/* largest datagram the engine emits */
	JV_OUT_DGRAMS = 32,		/* datagrams per jv_out */
	JV_OUT_INNER = 16,		/* inner packets per jv_out */
};

/* An IPv4 (mapped into IPv6, ::ffff:a.b.c.d) or IPv6 address and port. */
struct jv_addr {
	uint8_t ip[16];
	uint16_t port;			/* host byte order */
};

bool jv_addr_equal(const struct jv_addr *a, const struct jv_addr *b);
/* "10.0.0.1:51820" or "[fe80::1]:51820"; returns JV_ERR_NOSPACE if short. */
int jv_addr_format(const struct jv_addr *a, char *buf, size_t n);
void jv_addr_from_ipv4(struct jv_addr *a, uint32_t ipv4_host_order,
		       uint16_t port);

struct jv_dgram {
	int path;		/* client: transport index to send on */
	uint32_t local;		/* gateway: local address index to send from */
	struct jv_addr to;	/* gateway: destination */
	uint16_t len;
	uint8_t buf[JV_DGRAM_MAX];
};

struct jv_inner {
	uint32_t peer;		/* gateway: peer index it came from */
	uint16_t len;
	uint8_t buf[JV_MTU_MAX];
};

/* Caller-owned output of one call; no allocation in the hot path. */
struct jv_out {
	unsigned ndgram;
	unsigned ninner;
	unsigned overflow;	/* outputs dropped because the arrays were full */
	struct jv_dgram dgram[JV_OUT_DGRAMS];
	struct jv_inner inner[JV_OUT_INNER];
};

static inline void jv_out_reset(struct jv_out *o)
{
	o->ndgram = o->ninner = o->overflow = 0;
}

/*
 * Events.  Every event of a session comes with the session's origin (id,
 * node, policy version, role) so the caller can serialize it (eventlog.h)
 * or inspect it.  Called synchronously, in commit order; it must not call
 * back into the engine.
 */
struct jv_event_origin;
typedef void (*jv_session_event_fn)(void *ud,
				    const struct jv_event_origin *origin,
				    const struct jv_event *ev);

/* Plain per-transport snapshot for status, metrics and reports. */
enum jv_path_role { JV_PATH_STANDBY, JV_PATH_BOUND, JV_PATH_DEAD };

/* "standby", "bound", "dead" (status and metrics). */
const char *jv_path_role_name(enum jv_path_role r);

struct jv_path_status {
	char id[JV_TRANSPORT_ID_MAX];
	enum jv_path_role role;
	double loss_ratio;		/* < 0: undefined (too few samples) */
	uint32_t srtt_ms;
	uint32_t p95_ms;
	uint32_t consecutive_drops;
	jv_time last_good_ms;		/* 0: never */
	uint64_t tx_packets, rx_packets;
	/* gateway: the tuple; client: the endpoint given to
	 * jv_client_set_remote (has_remote false when none was) */
	bool has_remote;
	struct jv_addr remote;
};

struct jv_session_status {
	char session_id[JV_SESSION_ID_HEX];	/* "" before the handshake */
	enum jv_state state;
	uint64_t state_version;
	uint64_t peer_state_version;	/* client: validator's, as last seen */
	char bound[JV_TRANSPORT_ID_MAX];	/* "" when no binding */
	uint64_t total_switches;
	uint64_t key_epoch;
	uint64_t tx_bytes, rx_bytes;
	/* gateway: reattach requests held until their tuple proved it
	 * receives (PD-10), and those whose tuple then did */
	uint64_t held_requests, held_proven;
	unsigned npaths;
	struct jv_path_status paths[JV_MAX_TRANSPORTS];
};

/* ---- client ---------------------------------------------------------- */

struct jv_client_config {
	const struct jv_policy *policy;	/* copied: the session's snapshot */
	const char *node_id;
	uint8_t private_key[32];
	uint8_t gateway_public[32];
	struct jv_rng rng;
	jv_session_event_fn on_event;
	void *ud;
};

struct jv_client;

/* NULL on allocation failure or invalid config (policy not valid). */
struct jv_client *jv_client_new(const struct jv_client_config *cfg);
void jv_client_free(struct jv_client *c);

/* Declare a transport before jv_client_start.  Returns its index (>= 0),
 * JV_ERR_INVAL (bad id, duplicate, protocol not allowed), JV_ERR_LIMIT or
 * JV_ERR_NOMEM. */
JV_MUST_CHECK int jv_client_add_transport(struct jv_client *c,
					  const char *id, uint32_t proto,
					  unsigned priority);

/* Optional: the gateway endpoint a transport sends to, carried in reattach
 * requests as the candidate's remote address (spec §7.2) and shown in
 * status.  Returns 0 or JV_ERR_INVAL. */
JV_MUST_CHECK int jv_client_set_remote(struct jv_client *c, int path,
				       const struct jv_addr *remote);

/* Begin (or retry) the handshake on the best transport. */
JV_MUST_CHECK int jv_client_start(struct jv_client *c, jv_time now,
				  struct jv_out *out);

/* A datagram arrived on transport `path`.  Returns 0, or a negative code
 * for a dropped packet (the engine already counted it; not fatal). */
int jv_client_recv(struct jv_client *c, int path, const uint8_t *pkt,
		   size_t n, jv_time now, struct jv_out *out);

/* Seal an inner IP packet onto the binding.  JV_ERR_STATE: no binding or
 * no keys yet (packet dropped and counted). */
int jv_client_send(struct jv_client *c, const uint8_t *ip, size_t n,
		   jv_time now, struct jv_out *out);

/* Run every timer due at `now`. */
JV_MUST_CHECK int jv_client_tick(struct jv_client *c, jv_time now,
				 struct jv_out *out);
jv_time jv_client_deadline(const struct jv_client *c);

/* The transport layer reports a hard failure (socket or link error): spec
 * §6.2 transport_dead on a single observation.  `restored` reverses it. */
int jv_client_path_down(struct jv_client *c, int path, jv_time now,
			struct jv_out *out);
int jv_client_path_up(struct jv_client *c, int path, jv_time now,
		      struct jv_out *out);

/* The answer to an operator's switch order. */
struct jv_switch_answer {
	/* JV_REASON_NONE: started (ATTACHED: the migration's attempt is
	 * under way) or queued (VOLATILE/DEGRADED: decided at the next
	 * evaluation, the outcome is in the events); else why not:
	 * switch_rate_limited, cooldown_active (until_ms says when it would
	 * pass), no_candidate_transports or policy_denied (detail says why) */
	enum jv_reason refused;
	jv_time until_ms;
	const char *detail;		/* static English text, or NULL */
};

/*
 * Operator: switch to transport `id`.  From ATTACHED this is a planned
 * migration (PD-8: make-before-break, a discretionary switch refused only
 * by the cap and the cooldown, or when the target is not eligible); from
 * VOLATILE or DEGRADED the order is carried out by the next §6.4
 * evaluation.  Returns JV_OK with *ans filled, JV_ERR_NOTFOUND (no such
 * transport), JV_ERR_STATE (no session, or RECOVERING/TERMINATED),
 * JV_ERR_INVAL.
 */
JV_MUST_CHECK int jv_client_request_switch(struct jv_client *c,
					   const char *id, jv_time now,
					   struct jv_out *out,
					   struct jv_switch_answer *ans);
/* Operator: terminate (X5 operator_terminated); the peer is told. */
int jv_client_terminate(struct jv_client *c, jv_time now, struct jv_out *out);

void jv_client_status(const struct jv_client *c, struct jv_session_status *st);
enum jv_state jv_client_state(const struct jv_client *c);

/* The handshake as the operator needs it when nothing answers: a gateway
 * that does not know this client's key, or a client that has the wrong
 * gateway key (mac1), drops the initiation without a word. */
struct jv_client_handshake {
	uint64_t unanswered;	/* initiations sent since the last response
				 * (0 once one answered) */
	jv_time first_ms;	/* when the first of them went out (0: none) */
	uint32_t paths;		/* bit i: transport i carried one of them */
	uint64_t completed;	/* handshakes answered (sessions made) */
};
void jv_client_handshake_info(const struct jv_client *c,
			      struct jv_client_handshake *h);

/*
 * Replace the policy of every live session and of sessions created from
 * now on (spec §5, D-026).  p is validated first: an invalid policy, or
 * one that reuses the version of a policy in force with another content (a
 * version names one content), changes nothing, emits PolicyUpdate
 * (REJECTED, policy_invalid, field) in every live session's stream and
 * returns JV_ERR_INVAL.  Otherwise each live session adopts it per p's
 * policy_change_mode: strict at once (armed deadlines recomputed from
 * their original start, which may fire X1/X2 at this call), grace at the
 * end of its next committed transition (a newer update before then
 * replaces the pending one: latest wins); each emits PolicyUpdate(APPLIED,
 * previous_policy_version, mode, details.policy) when it adopts it, and
 * every later event names p's version.  A session already on p is left
 * alone, so handing the same policy again changes nothing.  Each endpoint
 * applies its own policy: nothing goes on the wire (`out` is for the
 * engine's use; it may stay empty).  The next deadline may have moved,
 * even into the past: read jv_*_deadline again after the call.
 * Returns 0, JV_ERR_INVAL (NULL argument, or p refused).
 */
JV_MUST_CHECK int jv_client_set_policy(struct jv_client *c,
				      const struct jv_policy *p, jv_time now,
				      struct jv_out *out);

/* ---- gateway --------------------------------------------------------- */

struct jv_gateway_config {
	const struct jv_policy *policy;
	const char *node_id;
	uint8_t private_key[32];
	struct jv_rng rng;
	jv_session_event_fn on_event;
	void *ud;
	unsigned max_sessions;		/* 0: default 1024 */
	uint32_t handshakes_per_sec;	/* 0: default 50 */
	uint32_t handshake_burst;	/* 0: default 100 */
	bool durable;			/* records go to an ownership store
					 * (record.h, PD-9) */
};

struct jv_gateway;

struct jv_gateway *jv_gateway_new(const struct jv_gateway_config *cfg);
void jv_gateway_free(struct jv_gateway *g);

/* Allow a client key.  Returns its peer index (>= 0), JV_ERR_INVAL (the
 * key is allowed already) or JV_ERR_NOMEM.  The index may be a removed
 * peer's, once no session of that peer is left (not even a tombstone). */
JV_MUST_CHECK int jv_gateway_add_peer(struct jv_gateway *g,
				      const uint8_t public_key[32]);

/*
 * Withdraw a client key (a reload removed its [Peer]).  Its live session
 * ends through X5 with peer_removed and the client is told (TERMINATE on
 * its binding); an unconfirmed one ends the same way.  From then on the
 * key is unknown: its handshakes fail like a stranger's and a stored
 * session of it is never adopted; with a store, the record of the ended
 * session is written as any end is.  Sessions of other peers are not
 * touched.  Returns 0, JV_ERR_INVAL (no such index) or JV_ERR_NOTFOUND
 * (removed already).
 */
int jv_gateway_remove_peer(struct jv_gateway *g, uint32_t peer, jv_time now,
			   struct jv_out *out);
/* Whether peer index `peer` was removed and not given to a key again. */
bool jv_gateway_peer_removed(const struct jv_gateway *g, uint32_t peer);

/* A datagram from `from` arrived on local address `local`. */
int jv_gateway_recv(struct jv_gateway *g, uint32_t local,
		    const struct jv_addr *from, const uint8_t *pkt, size_t n,
		    jv_time now, struct jv_out *out);

/* Seal an inner packet to `peer`'s live session, on its binding. */
int jv_gateway_send(struct jv_gateway *g, uint32_t peer, const uint8_t *ip,
		    size_t n, jv_time now, struct jv_out *out);

/* Returns 0, or 1 when `out` filled up before every due timer ran (flush
 * and call again with the same `now`). */
JV_MUST_CHECK int jv_gateway_tick(struct jv_gateway *g, jv_time now,
				  struct jv_out *out);
/* The earliest deadline of any session (UINT64_MAX: none).  Not const:
 * it may bring the timer heap's top up to date (amortised O(1)). */
jv_time jv_gateway_deadline(struct jv_gateway *g);

/* Operator: terminate peer's session (X5). */
int jv_gateway_terminate(struct jv_gateway *g, uint32_t peer, jv_time now,
			 struct jv_out *out);

/* As jv_client_set_policy, for every session of the gateway. */
JV_MUST_CHECK int jv_gateway_set_policy(struct jv_gateway *g,
				       const struct jv_policy *p, jv_time now,
				       struct jv_out *out);

/* Status of peer's current session; JV_ERR_NOTFOUND if it has none. */
JV_MUST_CHECK int jv_gateway_status(const struct jv_gateway *g, uint32_t peer,
				    struct jv_session_status *st);
unsigned jv_gateway_peer_count(const struct jv_gateway *g);

/* What the gateway dropped, and why (status, metrics). */
struct jv_gateway_counters {
	uint64_t dropped_unknown;	/* no session with that index */
	uint64_t dropped_parse;		/* not a message we know */
	uint64_t hs_dh;			/* initiations given a DH */
	uint64_t hs_cookie_sent;	/* under load: answered by a cookie */
	uint64_t hs_dropped;		/* lease, mac1, Noise, peer limit,
					 * table full */
	uint64_t hs_dropped_source;	/* a proven source over its rate */
	uint64_t hs_dropped_global;	/* the global handshake bucket empty */
	bool hs_under_load;		/* as of the last packet or tick */
	/* part of hs_dropped: the two silent misconfigurations */
	uint64_t hs_bad_mac1;		/* mac1 wrong: the client has another
					 * PublicKey for this gateway */
	uint64_t hs_unknown_key;	/* the client's key is no [Peer] */
	/* metrics: the rest of hs_dropped by reason (with the two above
	 * they sum to it), initiations answered, and data/control datagrams
	 * dropped past the lookup */
	uint64_t hs_dropped_lease, hs_dropped_noise;	/* noise includes
							 * hs_unknown_key */
	uint64_t hs_dropped_peer_limit, hs_dropped_table_full;
	uint64_t hs_responded;		/* a response sent, session in BIRTH */
	uint64_t dropped_ended;		/* index of a terminated session
					 * (also in dropped_unknown) */
	uint64_t dropped_auth;		/* failed to open (AEAD) */
	uint64_t dropped_replay;	/* outside the counter window */
	uint64_t dropped_rate_limited;	/* reattach requests over V0's rate */
};
void jv_gateway_counters(const struct jv_gateway *g,
			 struct jv_gateway_counters *c);

/* Where the last of those came from (valid once their counter is > 0),
 * and the unknown key: what the operator needs to fix the config. */
struct jv_gateway_refused {
	struct jv_addr bad_mac1_from;
	struct jv_addr unknown_key_from;
	uint8_t unknown_key[32];
};
void jv_gateway_last_refused(const struct jv_gateway *g,
			     struct jv_gateway_refused *r);

#endif
