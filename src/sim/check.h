/* SPDX-License-Identifier: MIT */
#ifndef JVPN_SIM_CHECK_H
#define JVPN_SIM_CHECK_H

/*
 * Online invariant checker: every event of both endpoints, as it is
 * emitted, against spec §3.  A stream is the events of one FSM instance
 * (side, session_id).  A commit is everything one engine call emitted
 * (the run loop calls sim_check_commit after each call), which is exactly
 * the spec's "run of events produced for one input".
 *
 * Checked per event: INV-01 (one SessionCreated, first), INV-02 (version
 * continuity), INV-03 (legality, jv_fsm_transition_legal), INV-04
 * (absorption), INV-05 (binding replay, |A| <= 1), INV-08 (switch rate),
 * INV-09 (cooldown between requester attempts), INV-11 (increasing
 * success nonces), INV-12 (recovery entry), INV-13/INV-17 (the event
 * table of eventlog.h), INV-14 (justified termination), LIV-09.
 * Per commit: INV-04, INV-06 (coupling), INV-07 (validated attach),
 * INV-10 (non-mutating denial, gateway), LIV-05 (explicit outcome).
 * As time passes (ε = 0): LIV-01, LIV-02, LIV-03, LIV-04.
 *
 * PD-7 damping: no discretionary switch, and no discretionary entry into
 * RECOVERING, toward a transport the client has damped (fail-back skips
 * damped ones and a migration to one is refused; only a forced switch
 * may fall back to a damped transport).
 *
 * INV-08 and INV-12 as amended by PD-7: only discretionary switches count
 * toward MAX_SWITCHES_PER_MIN (trigger_class "discretionary", or no
 * trigger_class at all: logs from before PD-7), and INV-12's cap applies
 * to discretionary entries into RECOVERING only; forced ones are bounded
 * by the cooldown (INV-09) and detection time.  A cap of 0 disables
 * switching altogether: every switch counts then (as the engine and the
 * auditor have it).
 *
 * LIV-10 (flap survival, PD-7) needs ground truth only the run loop has
 * (sim_check_transport): whether a transport is *up* (carries both ways,
 * no hard failure) and whether it is *clean* (up, and nothing on it the
 * spec lets the engine refuse it for: loss, corruption, a bandwidth cap,
 * a protocol either side's policy refuses, a latency above the threshold,
 * a NAT rebinding not yet validated, an attacker's pending modification);
 * damping comes from the client's own TransportDamped/TransportReused.
 * When the client's binding goes down while another transport is clean
 * and not damped, or clean and the only one, an episode opens: by death
 * + HEARTBEAT_VOLATILE_MS + SWITCH_COOLDOWN_MS + R + D + 1 the client
 * must be ATTACHED on a transport that is up (R: the worst round trip of
 * the clean transports; D: the dead binding's one-way delay toward the
 * client, its last answers still in flight when it died; + 1: limits are
 * strict, §2.4).  An episode without any clean transport left is dropped;
 * one whose clean alternative goes down is due no sooner than that death
 * + max(HEARTBEAT_VOLATILE_MS, OP-8's three unanswered copies of an
 * attempt on it) + SWITCH_COOLDOWN_MS + R + 1; one whose binding comes
 * back before the client let it go is over (the death is undone; the
 * binding's quality is LIV-04's and LIV-08's business).  Each
 * stale_state_version denial during an episode adds R (OP-4: the
 * gateway's own detection of the same death moves the version the
 * request carries).  Entering DEGRADED, or
 * TERMINATED[transport_ttl_exceeded], during an episode is a violation at
 * once (never degraded for want of a switch).  Gateway loss is LIV-11's:
 * after a gateway node or store fault LIV-10 is no longer checked in that
 * run (sim_check_gateway_fault).
 *
 * Gateway nodes (PD-9).  The gateway stream of a session is the merge of
 * every node's events for it, in the order they happen.  Its owner comes
 * from the owner events, as the auditor reads them (src/audit/owners.c):
 * SessionOwnerAcquired/Transferred start an interval (the node names
 * itself, owner_epoch strictly increases, a transfer names the current
 * owner as the previous one), SessionOwnerRejected(not_authoritative_
 * owner) by the owner ends it (unless it accompanies a V2 denial in the
 * same commit: the node still holds the session then), and so does the
 * owner's crash, which only the simulator knows (sim_check_node_down).  INV-15: every gateway
 * SessionStateChange, TransportSwitch and ReattachResult(SUCCESS) is the
 * owner's; other events of a node that is not the owner do not move the
 * stream.  INV-16: a state_version committed twice across nodes, or a
 * node resuming the session below a version already committed (the
 * commit never reached the store), is a fork.  A node resuming above the
 * logged version (the events of stored commits lost with a node that
 * died while holding them) is a gap, INV-02.  Time bounds: nobody fires
 * an orphaned session's timers, so a gateway stream without a holder is
 * not timed, and a bound pending across an acquisition is met by the
 * later of its own deadline and the acquisition (docs/audit.md).  Two
 * nodes acting for one session at once (dual-active) is found by the run
 * loop, which knows every node's lease (world.c).
 *
 * Not here: LIV-06..08, LIV-11 (scenario expectations).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jvpn/event.h"
#include "jvpn/policy.h"
#include "sim/record.h"

enum {
	SIM_CHECK_STREAMS = 16,
	SIM_CHECK_KEEP = 32,		/* violations kept for the report */
	SIM_CHECK_NONCES = 32,		/* replayed nonces remembered */
	SIM_CHECK_COMMITS = 16,		/* gateway commits remembered */
	SIM_CHECK_NODE = 16,		/* node id bytes kept per commit */
	SIM_CHECK_TRANSPORTS = 8,	/* ground truth for LIV-10 */
};

/* What the run loop knows of one client transport (LIV-10). */
struct sim_ctransport {
	char name[JV_TRANSPORT_ID_MAX];
	bool up, clean;
	jv_time clean_since;		/* when it last became clean */
	jv_time rtt_ms;			/* worst round trip now */
	jv_time down_ms;		/* worst one-way delay to the client */
	bool damped;			/* the client says so (PD-7) */
	jv_time damped_at;		/* since */
};

struct sim_violation {
	char id[8];			/* "INV-05" */
	enum sim_side side;
	jv_time at;
	char msg[200];
	/* LIV-10: the round trip of the fastest clean alternative (what
	 * findings.h needs to tell an open engine finding from a new
	 * failure) */
	jv_time alt_rtt_ms;
};

/* One gateway commit: who made which version, and what it left. */
struct sim_ccommit {
	uint64_t version;
	jv_time at;
	char node[SIM_CHECK_NODE];
	enum jv_state state;
	bool bound;
	char binding[JV_TRANSPORT_ID_MAX];
};

struct sim_cstream {
	bool used, abandoned;
	enum sim_side side;
	char sid[JV_SESSION_ID_HEX];
	bool created;
	jv_time created_ts;
	uint64_t k;			/* SessionStateChange count */
	enum jv_state state;
	bool bound;
	char binding[JV_TRANSPORT_ID_MAX];
	jv_time null_since;
	bool terminated;
	unsigned nterminated;
	bool term_bound;		/* binding as TERMINATED was entered */
	jv_time term_null_since;
	jv_time sw[JV_SWITCH_HISTORY_MAX];	/* ring of discretionary
						   switch times (PD-7) */
	unsigned nsw;
	bool have_attempt;
	jv_time last_attempt;
	bool planned;			/* RECOVERING by T13 (PD-7/8) */
	bool have_nonce;
	uint64_t last_nonce;
	unsigned nreplayed;
	uint64_t replayed[SIM_CHECK_NONCES];
	bool in_recovering, in_volatile;
	jv_time recovering_since, volatile_since;
	bool liv_reported[4];		/* LIV-01..04, once per episode */
	/* LIV-10: the binding's link died at flap_since (client) */
	bool flap_open;
	jv_time flap_since, flap_due, flap_alt_rtt;
	char flap_dead[JV_TRANSPORT_ID_MAX];
	/* ownership (gateway streams) */
	bool own_known, own_held;
	char own_node[JV_NODE_ID_MAX];
	uint64_t own_epoch;
	jv_time own_change_ts;		/* the latest acquisition */
	bool unsure_state, unsure_binding;	/* resumed past a gap */
	unsigned ncommit;
	struct sim_ccommit commit[SIM_CHECK_COMMITS];
	/* this commit */
	bool c_touched, c_rec_to_att, c_success, c_switch, c_birth_att,
	     c_attached_ev, c_deny, c_mutation, c_to_terminated, c_rec_exit,
	     c_outcome, c_v2_deny, c_x3;
	unsigned c_terminated_events;
	uint64_t c_rec_to_att_version;	/* a chain may go on (T40, T13) */
	uint64_t c_success_version;
	jv_time c_success_ts;
};

struct sim_check {
	/* The policy in force on each side: the scenario's, then each
	 * PolicyUpdate(APPLIED) the side logs (spec §5, D-026); a bound
	 * that an update put in the past is due at the update. */
	struct jv_policy pol[SIM_SIDES];
	bool pol_updated[SIM_SIDES];
	jv_time pol_since[SIM_SIDES];
	struct sim_cstream s[SIM_CHECK_STREAMS];
	uint64_t total;			/* violations found */
	unsigned nkept;
	struct sim_violation kept[SIM_CHECK_KEEP];
	uint64_t events;
	bool held[SIM_SIDES];		/* some of the side's events are
					   not out yet (sim_check_hold) */
	unsigned ntr;
	struct sim_ctransport tr[SIM_CHECK_TRANSPORTS];
	bool liv10_off;			/* a gateway fault: LIV-11's */
};

void sim_check_init(struct sim_check *c, const struct jv_policy *client,
		    const struct jv_policy *gateway);
void sim_check_event(struct sim_check *c, enum sim_side side,
		     const char *session_id, const struct jv_event *ev);
/* The same from node `node_id` (NULL: one node per side). */
void sim_check_event_node(struct sim_check *c, enum sim_side side,
			  const char *node_id, const char *session_id,
			  const struct jv_event *ev);
/* Some events of `side` are held back (a durable gateway holds its events
 * until the store has what they describe): its time bounds wait. */
void sim_check_hold(struct sim_check *c, enum sim_side side, bool held);
/* Gateway node `node_id` died (kill -9): what it owned has no holder. */
void sim_check_node_down(struct sim_check *c, const char *node_id);
/* End of one engine call of `side` at now. */
void sim_check_commit(struct sim_check *c, enum sim_side side, jv_time now);
/* Time-bounded guarantees of every live stream, at now. */
void sim_check_time(struct sim_check *c, jv_time now);
/* The side's live streams end without their endpoint (client restart). */
void sim_check_abandon(struct sim_check *c, enum sim_side side);
/* Compare the engine's view of the side's newest stream. */
void sim_check_engine(struct sim_check *c, enum sim_side side,
		      const char *session_id, enum jv_state state,
		      uint64_t version, jv_time now);
/*
 * LIV-10 ground truth from the run loop: transport `name` is up (or not)
 * and clean (or not) from now on, with worst round trip rtt_ms and worst
 * one-way delay toward the client down_ms.  Call it for every transport
 * at the start and again whenever any of it may have changed.
 */
void sim_check_transport(struct sim_check *c, const char *name, bool up,
			 bool clean, jv_time rtt_ms, jv_time down_ms,
			 jv_time now);
/* A gateway node or the store failed: LIV-10 is not checked any more in
 * this run (losing the gateway is LIV-11's case, not a transport's). */
void sim_check_gateway_fault(struct sim_check *c);
/* Record a violation found elsewhere (the run loop). */
void sim_check_report(struct sim_check *c, const char *id,
		      enum sim_side side, jv_time at, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

void sim_check_print(const struct sim_check *c, FILE *out,
		     const char *indent);

#endif
