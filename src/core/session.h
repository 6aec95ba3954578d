/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CORE_SESSION_H
#define JVPN_CORE_SESSION_H

/*
 * The session core shared by both endpoint kinds (client.c, gateway.c):
 * the FSM instance, keys and counters, transports and their health, the
 * switch limiter, and the commit helpers that emit events in the order of
 * spec §3 (SessionStateChange(s), binding event, ReattachResult, others,
 * SessionTerminated last).  Private to src/core.
 */

#include <stdbool.h>
#include <stdint.h>

#include "jvpn/damping.h"
#include "jvpn/eventlog.h"
#include "jvpn/fsm.h"
#include "jvpn/health.h"
#include "jvpn/pathval.h"
#include "jvpn/policy.h"
#include "jvpn/ratelimit.h"
#include "jvpn/replay.h"
#include "jvpn/select.h"
#include "jvpn/session.h"
#include "jvpn/wire.h"

/*
 * Fixed limits of the engine (STYLE 2: units in the names).  Policy-tunable
 * values are in struct jv_policy.
 */
enum jv_engine_limits {
	JV_REKEY_AFTER_MS = 120000,		/* rotate keys this old */
	JV_KEY_GRACE_MS = 10000,		/* previous epoch still accepted */
	JV_INFLIGHT_MAX = 32,			/* heartbeats/probes awaiting ACK */
	JV_DECIDING_SAMPLES_FACTOR = 4,		/* probe rate x while a switch is decided */
	JV_ATTEMPT_COPIES = 3,			/* OP-8: copies per candidate */
	JV_ATTEMPT_RETX_MIN_MS = 250,		/* OP-8: retransmit floor */
	JV_HANDSHAKE_RETRY_MS = 1000,		/* first retry; doubles */
	JV_HANDSHAKE_RETRY_MAX_MS = 8000,	/* backoff cap */
	JV_GW_PATHS = 2,			/* gateway: binding + handshake tuple */
	JV_TOMBSTONE_MS = 10000,		/* TERMINATED kept for Z1 */
	JV_SECURITY_LOG_MS = 1000,		/* §8.5: one event/reason/second */
};

/* Messages before a rekey is forced; far below JV_WIRE_COUNTER_MAX so the
 * engine never sends past it (it refuses instead, see keys.c). */
#define JV_REKEY_AFTER_MESSAGES ((uint64_t)1 << 48)
#define JV_REJECT_AFTER_MESSAGES (JV_WIRE_COUNTER_MAX - ((uint64_t)1 << 16))

/* One key epoch: both directions, their counter and replay window. */
struct jv_epoch {
	bool valid;
	uint64_t epoch;				/* full number; wire carries low 8 bits */
	uint8_t send_key[JV_WIRE_KEY_SIZE];
	uint8_t recv_key[JV_WIRE_KEY_SIZE];
	uint64_t send_counter;			/* next counter to use */
	struct jv_replay_window recv_window;
	jv_time birth_ms;
	bool confirmed;				/* a packet opened under it */
};

struct jv_inflight {
	uint64_t seq;
	jv_time sent_ms;
};

/* One transport of a session.  Client: a configured path; gateway: a
 * validated (remote address, port) tuple. */
struct jv_path {
	bool used;
	char id[JV_TRANSPORT_ID_MAX];
	uint32_t proto;
	unsigned priority;
	bool down;				/* hard failure reported, not yet up */
	struct jv_addr remote;			/* gateway: the tuple; client: optional */
	uint32_t local;				/* gateway: local address index */
	/* beside remote and the start of health: read with them for every
	 * packet */
	uint64_t tx_packets, rx_packets;
	struct jv_health health;
	/* client: JV_INFLIGHT_MAX entries (heap: a slow path has many in
	 * flight, and a gateway's paths never need them); gateway: NULL */
	struct jv_inflight *inflight;
	unsigned ninflight;
	uint64_t next_seq;
	jv_time next_probe_ms;			/* client: next heartbeat/probe */
	jv_time last_probe_ok_ms;
	jv_time excluded_until_ms;
	bool needs_restabilize;
	struct jv_flap flap;			/* client: PD-7 damping */
	bool flap_fallen;			/* charged; cleared by its next ACK */
	/* client: the path token of the last ACK over this path (PD-10),
	 * echoed in a REATTACH_REQUEST sent over it */
	uint8_t token[JV_WIRE_PATH_TOKEN_SIZE];
};

/* The requester's reattach attempt (RECOVERING), spec §7.1, OP-8. */
struct jv_attempt {
	int cand;				/* path index; -1 none */
	unsigned ordinal;			/* ReattachAttempt.attempt */
	unsigned copies;			/* sent for this candidate */
	uint64_t nonces[JV_ATTEMPT_COPIES + 4];	/* nonces of live copies */
	unsigned nnonces;
	uint32_t forced_copies;			/* bit i: nonces[i] went out forced */
	jv_time start_ms;
	jv_time next_tx_ms;
	enum jv_reason trigger;			/* the VOLATILE reason */
	enum jv_reason recovery;		/* §6.4 outcome reason */
	uint32_t tried_mask;			/* candidates abandoned this episode */
	unsigned set_size;			/* eligible candidates at the start */
	/* PD-7: forced (the binding was gone or lost when it started, or
	 * died during it) or discretionary; only discretionary attempts
	 * are held to MAX_SWITCHES_PER_MIN */
	bool forced;
	/* abandoned already, waiting for the cooldown (INV-09) before its
	 * next step at next_tx_ms */
	bool deferred;
};

/* A reattach request as the validator checks it: a REATTACH_REQUEST, or a
 * PATH_RESPONSE read as one (PD-2). */
struct jv_reattach_req {
	uint64_t nonce;
	uint64_t ts_ms;
	uint64_t state_version;
	enum jv_reason trigger;
	enum jv_reason recovery;
	struct jv_wire_candidate cand;
	uint8_t path_token[JV_WIRE_PATH_TOKEN_SIZE];	/* PD-10 */
	bool proven;			/* its tuple answered a challenge
					 * (PD-2, PD-10) */
	bool forced;			/* PD-7 trigger class, as the requester says */
};

struct jv_session {
	enum jv_role role;
	struct jv_policy policy;
	/* Spec §5 runtime change, grace mode (policy_change.c): the policy
	 * to adopt at the next committed transition, NULL if none.  It is the
	 * endpoint's own latest policy, so a newer update replaces it before
	 * adoption (latest wins); policy_next_version is the state_version
	 * it was offered at. */
	const struct jv_policy *policy_next;
	uint64_t policy_next_version;
	struct jv_fsm fsm;
	struct jv_rng rng;
	jv_session_event_fn on_event;
	void *ud;

	/* identity */
	uint8_t id[JV_SESSION_ID_BYTES];
	char id_hex[JV_SESSION_ID_HEX];
	char node_id[JV_NODE_ID_MAX];
	struct jv_event_origin origin;
	uint32_t local_index;			/* our receiver index */
	uint32_t remote_index;			/* the peer's */
	uint32_t peer;				/* gateway: peer index */

	/* keys: current and, for JV_KEY_GRACE_MS after a rotation and until
	 * the peer has used the current one, previous (keys.c) */
	struct jv_epoch cur, prev;
	jv_time prev_until_ms;
	/* the receive key of epoch cur + 1, derived once per epoch: a packet
	 * that claims it costs no derivation (keys.c, D-018) */
	uint8_t next_recv_key[JV_WIRE_KEY_SIZE];
	bool next_recv_valid;
	uint64_t key_derivations;		/* next-epoch keys derived */
	uint64_t rekey_pending_epoch;		/* client: REKEY sent, 0 = none */
	jv_time rekey_next_tx_ms;
	jv_time last_rekey_ms;
	uint64_t rekey_denied_epoch;		/* client: RekeyDenied sent for it */
	jv_time keys_birth_ms;			/* KEY_MAX_AGE_MS origin */

	/* ownership (PD-9): the root secret of the handshake, from which
	 * every owner epoch's keys derive; the owner epoch in force (client:
	 * the latest one it followed); gateway, after an acquisition and
	 * until the client follows or the first commit: the client's epoch
	 * (`stale`), which opens but never seals */
	uint8_t root[32];
	uint64_t owner_epoch;
	struct jv_epoch *stale;			/* heap, only after a takeover */
	/* Once the client follows or the first commit is made, `stale` no
	 * longer admits anything: kept one key grace period only to tell a
	 * replay of the pre-loss capture from junk (SecurityReplayDetected). */
	bool stale_closed;
	jv_time stale_until_ms;

	/* life and timers */
	jv_time last_now_ms;			/* latest `now` handed to the engine */
	jv_time created_ms;
	jv_time unbound_since_ms;		/* valid while bound < 0 */
	jv_time volatile_since_ms;
	enum jv_reason volatile_reason;		/* why the VOLATILE episode began */
	jv_time recovery_deadline_ms;
	jv_time tombstone_until_ms;
	bool terminate_peer;			/* send TERMINATE on the way out */
	enum jv_reason terminate_reason;

	/* transports */
	struct jv_path *paths;
	unsigned npaths, cap_paths;
	int bound;				/* path index, -1 none */

	/* switching */
	struct jv_switch_limiter limiter;
	struct jv_log_limiter denylog;		/* §6.5 TransportSwitchDenied */
	struct jv_log_limiter seclog;		/* §8.5 security events */
	struct jv_attempt att;
	uint64_t total_switches;
	const char *operator_order;		/* pending request_switch, or NULL */
	/* PD-8: the operator chose the binding; no fail-back undoes that
	 * until a forced switch moves the session again */
	bool operator_pinned;
	char operator_order_buf[JV_TRANSPORT_ID_MAX];

	/* requester */
	uint64_t next_nonce;
	uint64_t nonce_answered;		/* highest own nonce the validator answered */
	uint64_t ack_state_version;

	/* validator */
	struct jv_nonce_window nonces;
	struct jv_token_bucket ctl_bucket;
	struct jv_token_bucket replay_bucket;	/* reports of replayed requests */
	unsigned security_failures;
	jv_time last_switch_commit_ms;
	jv_time stable_since_ms;		/* OP-3: bound transport heard steadily */
	/* PD-8 make-before-break: the tuple a switch just left, whose data
	 * (sent before the requester saw the ACK) is still delivered for
	 * SWITCH_COOLDOWN_MS instead of being taken for a NAT rebinding */
	struct jv_addr left;
	jv_time left_until_ms;
	struct jv_pathval pathval;
	/* PD-10: the newest request that came from tuples not yet proven,
	 * held (its nonce reserved, not spent) until one of them answers its
	 * challenge or held_until_ms passes */
	struct jv_reattach_req held;
	bool has_held;
	jv_time held_until_ms;

	/* counters */
	uint64_t tx_bytes, rx_bytes;
	uint64_t dropped_unauthorized, dropped_auth, dropped_replay;
	uint64_t dropped_stale;			/* old-epoch packets after a takeover */
	uint64_t held_requests;			/* PD-10: requests held for proof */
	uint64_t held_proven;			/* ... whose tuple then proved it */
	uint64_t state_version_conflicts;
};

/* ---- lifecycle (session.c) -------------------------------------------- */

JV_MUST_CHECK int jv_sess_init(struct jv_session *s, enum jv_role role,
			       const struct jv_policy *p, const char *node_id,
			       struct jv_rng rng, jv_session_event_fn fn,
			       void *ud, unsigned cap_paths);
void jv_sess_destroy(struct jv_session *s);

/* Adopt the handshake's id, keys and root secret; emit SessionCreated
 * (BIRTH, v0) with the other side's static public key and address when
 * given (NULL: not known). */
void jv_sess_created(struct jv_session *s, const uint8_t id[16],
		     const uint8_t send_key[32], const uint8_t recv_key[32],
		     const uint8_t root[32], const uint8_t *peer_public,
		     const struct jv_addr *remote, jv_time now);

/* ---- events ----------------------------------------------------------- */

void jv_sess_emit(struct jv_session *s, struct jv_event *ev, jv_time now);
void jv_ev_init(struct jv_event *ev, enum jv_event_type t);

/* ---- FSM commits ------------------------------------------------------ */

/*
 * Apply one FSM input (through jv_fsm_apply, the only writer of the state)
 * and carry out the row's effects: clearing the binding, terminating.  On
 * a transition into TERMINATED, SessionTerminated is emitted unless
 * defer_terminated (the caller emits ReattachResult first, then calls
 * jv_sess_emit_terminated).  Returns jv_fsm_apply's result.
 */
int jv_sess_input(struct jv_session *s, enum jv_input in, enum jv_reason arg,
		  jv_time now, const struct jv_event *annot,
		  bool defer_terminated);
void jv_sess_emit_terminated(struct jv_session *s, enum jv_reason r,
			     const char *origin, jv_time now);

/* Set or clear the binding (no event: callers emit the binding event). */
void jv_sess_bind(struct jv_session *s, int path, jv_time now);
void jv_sess_unbind(struct jv_session *s, jv_time now);

/* Declare the binding dead: T10/T20/T30/T47 + TransportDead. */
void jv_sess_binding_dead(struct jv_session *s, bool hard, jv_time now);

/*
 * Steps (1)-(7) of spec §2.4: X1 lifetime, X4 key expiry, X2 transport
 * TTL (X3, X5-X7 come from their own inputs).  Returns true if the session
 * is (now) TERMINATED.
 */
bool jv_sess_check_terminal(struct jv_session *s, jv_time now);

bool jv_sess_terminated(const struct jv_session *s);
/* The validator's transport id of a tuple ("udp:10.0.0.2:40000"). */
void jv_tuple_id(const struct jv_addr *a, char out[JV_TRANSPORT_ID_MAX]);
/* Record the time of an entry point (the deadline clamps use it). */
void jv_sess_clock(struct jv_session *s, jv_time now);
void jv_sess_status(const struct jv_session *s, bool live,
		    struct jv_session_status *st);
const char *jv_sess_bound_id(const struct jv_session *s);

/* Bounded security event (§8.5): SecurityValidationFailed or
 * SecurityReplayDetected with the aggregation count. */
void jv_sess_security_event(struct jv_session *s, enum jv_event_type t,
			    enum jv_reason r, const char *transport_id,
			    const char *marker, jv_time now);

/* ---- runtime policy change (policy_change.c, spec §5) ----------------- */

/*
 * May p replace `in_force` (the endpoint's latest policy)?  NULL if so,
 * else the key of the field to report in PolicyUpdate(REJECTED): the first
 * field jv_policy_validate refuses, or "version" when p names the version
 * of in_force with another content (a version names one content, D-026).
 * *version_ok: p->version is well-formed (may stand as the event's
 * policy_version).
 */
const char *jv_policy_change_refusal(const struct jv_policy *p,
				     const struct jv_policy *in_force,
				     bool *version_ok);
/* Same version, other content: p may not follow q (D-026). */
bool jv_policy_version_clash(const struct jv_policy *p,
			     const struct jv_policy *q);

/* PolicyUpdate(REJECTED, policy_invalid, field) in a live session's
 * stream; nothing else changes. */
void jv_sess_policy_rejected(struct jv_session *s, const struct jv_policy *p,
			     const char *field, bool version_ok, jv_time now);

/*
 * Offer p to a live session.  p must outlive the offer (the endpoint's own
 * copy).  Already on p: nothing.  Strict: adopted now (PolicyUpdate
 * (APPLIED), armed deadlines from their original start, then the terminal
 * checks X1/X4/X2, which may end the session).  Grace: pending until the
 * next committed transition (jv_sess_policy_settle).
 */
void jv_sess_policy_offer(struct jv_session *s, const struct jv_policy *p,
			  jv_time now);

/* At the end of every engine entry that may commit a transition: a
 * pending grace policy is adopted if the state_version moved since it was
 * offered (after that commit's events).  Returns true if adopted. */
bool jv_sess_policy_settle(struct jv_session *s, jv_time now);

/* ---- keys and sealing (keys.c) ---------------------------------------- */

void jv_keys_install(struct jv_session *s, const uint8_t send_key[32],
		     const uint8_t recv_key[32], jv_time now);
/* Rotate to the next epoch (ratchet both directions). */
void jv_keys_rotate(struct jv_session *s, jv_time now);
void jv_keys_wipe(struct jv_session *s);

/* Seal a data or control payload under the current epoch into d->buf.
 * Returns the datagram length, JV_ERR_STATE (no keys), JV_ERR_LIMIT
 * (counter exhausted: rekey first), JV_ERR_INVAL. */
JV_MUST_CHECK int jv_keys_seal(struct jv_session *s, uint8_t type,
			       const uint8_t *pt, size_t len, uint8_t *out,
			       size_t cap);
JV_MUST_CHECK int jv_keys_seal_ctrl(struct jv_session *s,
				    const struct jv_ctrl *m, uint8_t *out,
				    size_t cap);
/*
 * Open a datagram whose header is h: epoch lookup, replay check, AEAD,
 * replay mark.  Returns the plaintext length, JV_ERR_AUTH, JV_ERR_REPLAY,
 * JV_ERR_NOTFOUND (no key for that epoch).  *rotated is set when the
 * packet was under the next epoch and completed a pending rekey.
 */
JV_MUST_CHECK int jv_keys_open(struct jv_session *s,
			       const struct jv_wire_hdr *h,
			       const uint8_t *pkt, size_t n, uint8_t *out,
			       size_t cap, jv_time now, bool *rotated);
/* Authenticate a datagram under its epoch's key without touching the
 * replay window (to tell what a replayed packet was).  Returns as
 * jv_wire_open, or JV_ERR_NOTFOUND. */
JV_MUST_CHECK int jv_keys_peek(const struct jv_session *s,
			       const struct jv_wire_hdr *h, const uint8_t *pkt,
			       size_t n, uint8_t *out, size_t cap);
/*
 * Owner epochs (PD-9).  A new owner seals under fresh keys derived from the
 * root secret and its owner epoch (jv_noise_takeover_keys), numbered two
 * above the epoch the client was known to speak: past that epoch and the
 * one a rekey in flight may have reached, so the wire's epoch byte never
 * repeats one the previous owner used for the client (a capture shows no
 * (key epoch, counter) pair twice) and the numbering keeps growing.
 */
enum {
	JV_OWNER_EPOCH_STEP = 2,	/* new owner: client's epoch + this */
	JV_OWNER_LOOKAHEAD = 4,		/* client: owner epochs tried ahead */
};

/* Gateway: the current epoch (the client's, as restored) becomes `stale`
 * (opens, never seals) and the keys of owner epoch E, never used so far,
 * become current, numbered stale + JV_OWNER_EPOCH_STEP.  Returns 0 or
 * JV_ERR_NOMEM (nothing changed). */
JV_MUST_CHECK int jv_keys_take_over(struct jv_session *s,
				   uint64_t owner_epoch, jv_time now);
/* Gateway: `stale` admits nothing from now on (kept JV_KEY_GRACE_MS to
 * recognise replays); and its expiry. */
void jv_keys_close_stale(struct jv_session *s, jv_time now);
void jv_keys_expire_stale(struct jv_session *s, jv_time now);
/* Gateway: open under `stale` or the epoch after it (a rekey of the
 * client's that the store had not seen).  No replay window is consulted
 * beyond stale's own: such packets are never delivered. */
JV_MUST_CHECK int jv_keys_open_stale(struct jv_session *s,
				     const struct jv_wire_hdr *h,
				     const uint8_t *pkt, size_t n,
				     uint8_t *out, size_t cap);
/* Client: a packet that opened under none of its keys, with an epoch byte
 * one or two above ours, may be the first of a new owner: try owner
 * epochs owner_epoch + 1 .. + JV_OWNER_LOOKAHEAD;
 * on success follow it (the keys of that epoch become current, the old
 * ones previous).  Returns as jv_keys_open. */
JV_MUST_CHECK int jv_keys_open_new_owner(struct jv_session *s,
					 const struct jv_wire_hdr *h,
					 const uint8_t *pkt, size_t n,
					 uint8_t *out, size_t cap, jv_time now);

/* First time the current epoch is due for rotation by age:
 * JV_REKEY_AFTER_MS, or sooner so that KEY_MAX_AGE_MS is never reached. */
jv_time jv_keys_rekey_due(const struct jv_session *s);
bool jv_keys_need_rekey(const struct jv_session *s, jv_time now);
void jv_keys_expire_prev(struct jv_session *s, jv_time now);
/* When the previous epoch may be dropped, JV_TIME_NEVER if not yet. */
jv_time jv_keys_prev_deadline(const struct jv_session *s);

/* ---- output ----------------------------------------------------------- */

/* Reserve the next datagram slot of out, or NULL (overflow counted). */
struct jv_dgram *jv_out_dgram(struct jv_out *out);
struct jv_inner *jv_out_inner(struct jv_out *out);

/* Probe cadence of a standby, and when a heartbeat/probe on `path` counts
 * as dropped (session.c, D-012). */
jv_time jv_sess_standby_interval(const struct jv_session *s, int path);
jv_time jv_sess_drop_timeout(const struct jv_session *s, int path);

/* ---- timers (timers.c) ------------------------------------------------ */

/* The session's next deadline (every timer listed in timers.c). */
jv_time jv_sess_deadline(const struct jv_session *s, jv_time now);
/* Client, ATTACHED: when a fail-back may next become possible (a lower-
 * Priority transport reaching FAILBACK_STABLE_MS of stability, or the
 * gates opening), JV_TIME_NEVER if none (client_attempt.c). */
jv_time jv_cl_failback_deadline(const struct jv_session *s, jv_time now);

/* ---- gateway-side validation (validate.c) ----------------------------- */


/*
 * Run V2-V10 and the commit (spec §7.4, §7.6) on an authenticated request
 * from `from`; fill the answer (ACK or DENY) into *answer.  `owner`: this
 * node can prove it owns the session (V2: its lease unexpired and its
 * store reachable).  Never mutates on a deny (INV-10).
 */
void jv_validate_request(struct jv_session *s, const struct jv_reattach_req *r,
			 const struct jv_addr *from, uint32_t local, bool owner,
			 jv_time now, struct jv_ctrl *answer);

/* A request whose packet was a replay (caught by the counter window before
 * V6 could see its nonce): ReattachAttempt, ReattachResult(DENIED,
 * replay_detected), SecurityReplayDetected (bounded); no answer is sent. */
void jv_validate_replayed(struct jv_session *s, const struct jv_reattach_req *r,
			  jv_time now);

#endif
