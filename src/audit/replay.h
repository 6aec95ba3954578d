/* SPDX-License-Identifier: MIT */
#ifndef JVPN_AUDIT_REPLAY_H
#define JVPN_AUDIT_REPLAY_H

/*
 * Private to the stream replay: replay.c (streams, commits and their
 * obligations, time bounds, the dispatch of each event), states.c
 * (identity, versions, transitions, termination, policy), owners.c (the
 * owners of a gateway stream: INV-15, INV-16, the liveness grace of an
 * ownership change), bindings.c (the binding replay, reattach attempts
 * and results, nonces) and flaps.c (PD-7: LIV-10, damping).
 */

#include <string.h>

#include "audit_impl.h"

#define ST(x) JV_STATE_##x

static inline jv_time sat_add(jv_time a, jv_time b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static inline const char *sname(enum jv_state s)
{
	const char *n = jv_state_name(s);
	return n ? n : "?";
}

static inline const char *rname(enum jv_reason r)
{
	const char *n = jv_reason_name(r);
	return n ? n : "none";
}

static inline const char *tname(enum jv_event_type t)
{
	const char *n = jv_event_type_name(t);
	return n ? n : "?";
}

static inline const char *str_or_null(const char *s)
{
	return s ? s : "null";
}

static inline bool str_is(const char *s, const char *lit)
{
	return s && !strcmp(s, lit);
}

static inline const char *opt_str(const struct jv_event *ev, enum jv_event_field f,
			   const char *v)
{
	return (ev->set >> f) & 1 ? v : NULL;
}

#define STR(ev, m) opt_str((ev), JV_F_##m, (ev)->m)
#define HAS(ev, m) JV_EV_HAS(ev, m)

static inline enum jv_reason reason_of(const struct jv_event *ev)
{
	return HAS(ev, reason_code) ? ev->reason_code : JV_REASON_NONE;
}

static inline bool origin_peer(const struct jv_event *ev)
{
	return str_is(STR(ev, origin), "peer");
}


/* PD-7: a switch (or entry into RECOVERING) whose trigger_class says
 * forced; absent, as in logs from before PD-7, it reads as discretionary,
 * so those logs keep their meaning. */
static inline bool ev_forced(const struct jv_event *ev)
{
	return str_is(STR(ev, trigger_class), "forced");
}

/* Held to MAX_SWITCHES_PER_MIN (INV-08, INV-12 as amended by PD-7): a
 * discretionary switch; a forced one only when the cap is 0, which
 * disables switching altogether. */
static inline bool au_capped(const struct au_live *l, bool forced)
{
	return !forced || l->pol.max_switches_per_min == 0;
}

static inline bool is_owner_change(enum jv_event_type t)
{
	return t == JV_EV_SESSION_OWNER_ACQUIRED ||
	       t == JV_EV_SESSION_OWNER_TRANSFERRED;
}

/* replay.c */
void au_entry_init(const struct jv_audit *a, struct jv_audit_entry *e,
		   enum jv_audit_entry_kind k, const struct jv_parsed_event *p,
		   au_at line);
void au_emit(struct jv_audit *a, struct au_live *l,
	     const struct jv_audit_entry *e);
void au_bind_set(struct au_live *l, const char *tid);
void au_bind_clear(struct au_live *l, jv_time ts, au_at line);
unsigned au_switches_within(const struct au_live *l, jv_time now);
void au_outcome(struct au_live *l, enum jv_event_type t);
void au_group_close(struct jv_audit *a, struct au_live *l,
		    const struct jv_event *next);
void au_commit_close(struct jv_audit *a, struct au_live *l);
void au_version_check(struct jv_audit *a, struct au_live *l,
		      const struct jv_parsed_event *p, au_at line);

/* flaps.c: LIV-10 (what a client log proves of it) and damping */
void au_flap_transition(struct jv_audit *a, struct au_live *l,
			const struct jv_event *ev, enum jv_state cur,
			au_at line);
void au_flap_dead(struct au_live *l, const struct jv_event *ev);
void au_flap_attempt(struct au_live *l);
void au_flap_denial(struct jv_audit *a, struct au_live *l,
		    const struct jv_event *ev, au_at line);
void au_flap_switch(struct jv_audit *a, struct au_live *l,
		    const struct jv_event *ev, au_at line);
void au_flap_group_close(struct au_live *l);

/* owners.c */
enum au_own_verdict {
	AU_OWN_ACT,		/* the owner's (or no owner known): replayed */
	AU_OWN_RELEASE,		/* the owner lets go: replayed, but its timers
				   stop here (no bound is checked at it) */
	AU_OWN_SIDE,		/* not the owner's: checked, not replayed */
};
/* Before anything else of a gateway event: takes an acquisition (INV-15)
 * and says what the event is to the stream. */
enum au_own_verdict au_own_classify(struct jv_audit *a, struct au_live *l,
				    const struct jv_parsed_event *p,
				    au_at line);
/* An AU_OWN_SIDE event: INV-15 (and INV-16, INV-01) and the timeline. */
void au_own_side(struct jv_audit *a, struct au_live *l,
		 const struct jv_parsed_event *p, au_at line);
/* A gateway SessionStateChange: remembered; true (and an INV-16
 * finding naming both) if another node or file committed its version. */
bool au_own_commit(struct jv_audit *a, struct au_live *l,
		   const struct jv_parsed_event *p, au_at line);
/* A bound started at `start` due at `due`: later if an ownership change
 * came after its start (the new owner fires it at its acquisition). */
jv_time au_own_due(const struct jv_audit *a, const struct au_live *l,
		   jv_time start, jv_time due);

/* The handlers: l is the event's live stream, line its place. */
#define AU_HANDLER(name)                                                  \
	void name(struct jv_audit *a, struct au_live *l,                  \
		  const struct jv_parsed_event *p, au_at line)
/* states.c */
AU_HANDLER(au_on_created);
AU_HANDLER(au_on_state_change);
AU_HANDLER(au_on_policy);
AU_HANDLER(au_on_audit_check);
/* returns true if the stream ended here */
bool au_on_terminated(struct jv_audit *a, struct au_live *l,
		      const struct jv_parsed_event *p, au_at line);
/* owners.c */
AU_HANDLER(au_on_owner);
/* bindings.c */
AU_HANDLER(au_on_attached);
AU_HANDLER(au_on_switch);
AU_HANDLER(au_on_dead);
AU_HANDLER(au_on_attempt);
AU_HANDLER(au_on_result);
AU_HANDLER(au_on_denial);
AU_HANDLER(au_on_security);
/* flaps.c */
AU_HANDLER(au_on_damping);

#endif
