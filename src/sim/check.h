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
 * Not here: INV-15/16 (cluster), LIV-06..08 (scenario expectations).
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
};

struct sim_violation {
	char id[8];			/* "INV-05" */
	enum sim_side side;
	jv_time at;
	char msg[200];
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
	jv_time sw[JV_SWITCH_HISTORY_MAX];	/* ring of switch times */
	unsigned nsw;
	bool have_attempt;
	jv_time last_attempt;
	bool have_nonce;
	uint64_t last_nonce;
	unsigned nreplayed;
	uint64_t replayed[SIM_CHECK_NONCES];
	bool in_recovering, in_volatile;
	jv_time recovering_since, volatile_since;
	bool liv_reported[4];		/* LIV-01..04, once per episode */
	/* this commit */
	bool c_touched, c_rec_to_att, c_success, c_switch, c_birth_att,
	     c_attached_ev, c_deny, c_mutation, c_to_terminated, c_rec_exit,
	     c_outcome;
	unsigned c_terminated_events;
	uint64_t c_success_version;
	jv_time c_success_ts;
};

struct sim_check {
	const struct jv_policy *policy[SIM_SIDES];
	struct sim_cstream s[SIM_CHECK_STREAMS];
	uint64_t total;			/* violations found */
	unsigned nkept;
	struct sim_violation kept[SIM_CHECK_KEEP];
	uint64_t events;
};

void sim_check_init(struct sim_check *c, const struct jv_policy *client,
		    const struct jv_policy *gateway);
void sim_check_event(struct sim_check *c, enum sim_side side,
		     const char *session_id, const struct jv_event *ev);
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
/* Record a violation found elsewhere (the run loop). */
void sim_check_report(struct sim_check *c, const char *id,
		      enum sim_side side, jv_time at, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

void sim_check_print(const struct sim_check *c, FILE *out,
		     const char *indent);

#endif
