/* SPDX-License-Identifier: MIT */
#ifndef JVPN_AUDIT_IMPL_H
#define JVPN_AUDIT_IMPL_H

/*
 * Private to src/audit: the per-stream replay state, the stream table and
 * the helpers the files share.  audit.c feeds lines (files, chain, parse,
 * classification), replay.c replays one stream's events, owners.c keeps a
 * gateway stream's owners (INV-15, INV-16), table.c finds a stream by
 * (session_id, role, client node), hist.c keeps latency percentiles in
 * fixed memory.
 */

#include <stdarg.h>

#include "audit/audit.h"
#include "jvpn/eventlog.h"
#include "jvpn/policy.h"

/*
 * A place in the audited files: the 1-based line in the low 40 bits, the
 * file's index above (0 for a single file).  Every line the replay keeps
 * to name later (where an episode began, the commit, ...) is one, since
 * the events of one stream may come from several files.  0: no place.
 */
typedef uint64_t au_at;

enum { AU_AT_LINE_BITS = 40 };

static inline au_at au_at_make(unsigned file, unsigned long line)
{
	return (uint64_t)file << AU_AT_LINE_BITS |
	       ((uint64_t)line & ((1ull << AU_AT_LINE_BITS) - 1));
}

static inline unsigned long au_at_line(au_at at)
{
	return (unsigned long)(at & ((1ull << AU_AT_LINE_BITS) - 1));
}

static inline unsigned au_at_file(au_at at)
{
	return (unsigned)(at >> AU_AT_LINE_BITS);
}

/* A transport id as the binding replay keeps it: the reader puts no bound
 * on transport ids, so long ones are kept as a prefix + length + hash. */
enum { AU_TID_KEEP = 96 };

struct au_tid {
	bool set;			/* false: null */
	size_t len;
	uint64_t hash;			/* FNV-1a of the whole id */
	char s[AU_TID_KEEP];		/* prefix, NUL-terminated */
};

enum {
	AU_REPLAYED_KEEP = 16,		/* rejected nonces remembered (LIV-09) */
	AU_COMMITS_KEEP = 8,		/* gateway commits remembered (INV-16) */
	AU_HIST_EXACT = 128,		/* exact buckets below this (ms) */
	AU_HIST_SUB = 64,		/* buckets per octave above */
	AU_HIST_BUCKETS = AU_HIST_EXACT + (64 - 7) * AU_HIST_SUB,
};

struct au_hist {
	uint64_t n, max;
	uint64_t b[AU_HIST_BUCKETS];
};

void au_hist_add(struct au_hist *h, uint64_t v);
/* p in (0, 1]: the lower bound of the bucket holding the ceil(p*n)-th
 * smallest value (exact below AU_HIST_EXACT), or the exact maximum when
 * that is the largest value. */
uint64_t au_hist_quantile(const struct au_hist *h, double p);

/* One SessionStateChange of a gateway stream, as INV-16 names it. */
struct au_commit {
	uint64_t version;
	au_at at;
	uint64_t node;			/* au_node_key of its node_id */
};

/*
 * The owners of a gateway stream (owners.c, spec §9, INV-15): the holder
 * of the highest owner_epoch acquired so far owns the session from its
 * acquisition until the next epoch's acquisition or its own
 * SessionOwnerRejected(not_authoritative_owner).  No acquisition seen:
 * every gateway node's events belong to the stream (one node, the local
 * store, or a log from before ownership events).  Allocated with a
 * gateway stream only (a client stream has no owners).
 */
struct au_own {
	bool known;			/* an acquisition was taken */
	char node[JV_NODE_ID_MAX];
	uint64_t epoch;
	jv_time since;
	au_at at;			/* its acquisition */
	bool released;
	jv_time released_ts;
	au_at released_at;
	/* the latest ownership change: bounds pending across it are met
	 * late by the new owner (LIV grace, docs/audit.md) */
	bool changed;
	jv_time change_ts;
	/* INV-16: the last SessionStateChanges of every node, and the
	 * name of the node of the latest (to name it in a finding) */
	struct au_commit commit[AU_COMMITS_KEEP];
	unsigned ncommit;
	char last_node[JV_NODE_ID_MAX];
};

/*
 * The replay state of one live stream: fixed size, whatever the number
 * of its events.  Field groups follow the checks that use them.
 */
struct au_live {
	struct jv_audit_stream pub;
	struct au_live *prev, *next;	/* live list, index order */

	bool have_policy;
	struct jv_policy pol;
	/* ts_ms of the PolicyUpdate(APPLIED) that put pol in force, if any:
	 * a bound its new limit puts in the past is due then (§5 strict,
	 * D-026), not earlier */
	bool pol_updated;
	jv_time pol_since;

	/* INV-01..03 */
	bool state_known;		/* false: stream began without
					   SessionCreated, state adopted from
					   its first SessionStateChange */
	bool version_known;
	uint64_t k;			/* state_version of the stream */
	enum jv_state state;
	jv_time state_since;		/* entry into the current state */
	au_at born_at;			/* its SessionCreated */

	bool have_ts;
	jv_time last_ts;
	au_at last_line;

	/* binding replay (INV-05, INV-06, LIV-02) */
	bool binding_known;
	struct au_tid binding;
	jv_time null_since;		/* binding empty since (LIV-02, INV-14) */
	au_at null_line;

	/* episodes for the time bounds (LIV-01..04), one report each */
	bool in_volatile, in_recovering;
	jv_time volatile_since, recovering_since;
	au_at volatile_line, recovering_line;
	bool liv_rep[4];

	/* recovery latency: leaving ATTACHED -> back in ATTACHED */
	bool outage;
	jv_time outage_since;

	/* INV-08, INV-12: ring of recent discretionary TransportSwitch
	 * times (PD-7: forced ones do not count toward the cap) */
	jv_time sw[JV_SWITCH_HISTORY_MAX];
	unsigned nsw;

	/*
	 * LIV-10 (client): the binding was lost (a forced situation, PD-7)
	 * at lost_ms, its last sign of life as the log tells it, until the
	 * stream is ATTACHED again; the episode ends with the group of
	 * that transition (lost_closing), whose switch it judges.
	 */
	bool lost, lost_closing;
	jv_time lost_ms;
	au_at lost_at;			/* the transition that showed it */
	enum jv_reason lost_reason;	/* its reason */
	unsigned lost_attempts;		/* ReattachAttempts since */
	bool lost_blind;		/* a denial for want of candidates
					   since: which transport was alive is
					   not in the log */
	bool lost_rep;			/* rate refusal reported (once) */

	/* INV-09 */
	bool have_attempt;
	jv_time last_attempt;

	/* INV-11, LIV-09 */
	bool have_nonce;
	uint64_t last_nonce;
	uint64_t replayed[AU_REPLAYED_KEEP];
	unsigned nreplayed;

	/* INV-10: one gateway request, ReattachAttempt .. ReattachResult */
	bool req_open, req_mutated, req_security;
	uint64_t req_version;
	au_at req_line;

	/* INV-15, INV-16: gateway streams only, else NULL */
	struct au_own *own;

	/*
	 * The open commit (events of equal ts_ms, spec §3) and, inside it,
	 * the group of events since its latest SessionStateChange (they carry
	 * that transition's version): what the transition obliges its
	 * commit to contain is checked when the group closes.
	 */
	bool c_open;
	jv_time c_ts;
	au_at c_line;			/* last line of the commit */
	bool g_open;
	au_at g_line;			/* the SessionStateChange */
	enum jv_state g_prev, g_next;
	enum jv_reason g_reason;
	bool g_t11;			/* gateway ATTACHED->VOLATILE: may be
					   the first step of T11 */
	bool g_need_attached, g_need_success, g_need_dead, g_need_term,
	     g_need_outcome;
	bool g_attached, g_success, g_dead, g_fatal_deny, g_peer;
	bool g_other;			/* an "other" event (§3 order) seen */
	unsigned g_outcomes;		/* SUCCESS, switch failed, terminated */
	unsigned g_denied;		/* TransportSwitchDenied */
	enum jv_event_type g_first_outcome;
	unsigned g_term_events;
	bool g_term_bound;		/* binding as TERMINATED was entered */
	jv_time g_term_null_since;

	uint64_t events;
};

/*
 * One slot of the stream table: a live stream, or the few bytes kept
 * after its SessionTerminated.  Key: (session_id, role, node).  node is 0
 * for the gateway stream and for the first client stream of a session
 * (whose client node is cnode); a second client node of the session
 * (INV-01) has its own stream at node = cnode = the key of its node_id.
 */
struct au_slot {
	uint8_t sid[JV_SESSION_ID_BYTES];
	uint8_t used, role, ended;
	unsigned index;
	uint64_t node, cnode;
	jv_time term_ts;
	au_at term_line;
	struct au_live *live;		/* NULL once ended */
};

struct au_table {
	struct au_slot *slot;
	size_t cap, n;			/* cap a power of two */
};

JV_MUST_CHECK int au_table_init(struct au_table *t);
void au_table_free(struct au_table *t);
/*
 * The slot of (sid, role, node), inserted (used = 1, live NULL) if new;
 * *fresh says which.  sid is 32 lowercase hex digits (the reader checked
 * it).  Returns the slot, or NULL (no memory).  A slot pointer is valid
 * until the next insertion.
 */
struct au_slot *au_table_get(struct au_table *t, const char *sid_hex,
			     enum jv_role role, uint64_t node, bool *fresh);
/* The key of a client node_id: FNV-1a, never 0. */
uint64_t au_node_key(const char *node_id);

/* Name tables of the fast reader (fastparse.c), with lengths. */
struct au_name {
	const char *s;
	size_t len;
};

struct au_fast {
	struct au_name field[JV_F_COUNT];
	struct au_name type[JV_EV_COUNT];
	struct au_name reason[JV_REASON_COUNT];
	struct au_name state[JV_STATE_COUNT];
	int kind[JV_F_COUNT];
	size_t off[JV_F_COUNT];		/* in struct jv_event */
	bool detail[JV_F_COUNT];	/* "details.x" */
};

void au_fast_init(struct au_fast *f);
/*
 * Read a line in the writer's canonical form into out (strings point
 * into scratch, cap bytes).  True only when jv_event_parse would accept
 * the line and read it the same; false means "ask jv_event_parse".
 */
bool au_fast_parse(const struct au_fast *f, const char *line, size_t len,
		   char *scratch, size_t cap, struct jv_parsed_event *out);

/* One audited file: its chain is its own (PD-1). */
struct au_file {
	char *name;			/* NULL: unnamed */
	struct jv_chain_check chain;
	unsigned long last_line;
	bool ended;
	struct jv_audit_file_stats st;
};

struct jv_audit {
	struct jv_audit_opts opts;
	struct au_fast fast;
	char scratch[2 * JV_EVENT_LINE_MAX];
	struct au_file *files;
	unsigned nfiles, files_cap;
	unsigned cur;			/* file of the line being audited */
	struct au_table table;
	struct au_live *live_head, *live_tail;
	struct au_hist rec[2];
	struct jv_audit_report r;
	bool have_ts;
	jv_time last_ts;		/* latest ts_ms of all files */
	bool finished;
};

/* Findings and timeline (audit.c).  at: where (0: no line); other: a
 * second place (INV-15, INV-16), 0 if none. */
void au_viol(struct jv_audit *a, enum jv_audit_check c, au_at at,
	     const struct jv_audit_stream *s, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void au_viol2(struct jv_audit *a, enum jv_audit_check c, au_at at,
	      au_at other, const struct jv_audit_stream *s,
	      const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void au_entry(struct jv_audit *a, const struct jv_audit_stream *s,
	      const struct jv_audit_entry *e);

/*
 * How a message names place at, seen from place from: "line N" within one
 * file, "NAME:N" in another file; buf is returned.
 */
enum { AU_WHERE_MAX = 160 };
const char *au_where(const struct jv_audit *a, au_at at, au_at from,
		     char *buf, size_t n);
/* The name the timeline gives at's file: NULL with a single file. */
const char *au_file_label(const struct jv_audit *a, au_at at);

/* Replay (replay.c). */
JV_MUST_CHECK int au_replay_event(struct jv_audit *a,
				  const struct jv_parsed_event *p, au_at line);
void au_replay_finish(struct jv_audit *a);

/* Classification of a line the reader refused (classify.c). */
struct au_class {
	enum jv_audit_check check;	/* PARSE, INV13 or INV17 */
	char msg[320];
	bool repaired;			/* INV17 only: `ev` holds the line
					   without the offending fields */
	struct jv_parsed_event ev;
};

void au_classify(const char *line, size_t len, const struct jv_diag *d,
		 struct au_class *out);
/* INV-17 on a line that parsed: string values that look like key
 * material.  Writes the finding into msg and returns true if one. */
bool au_key_material(const struct jv_parsed_event *p, char *msg, size_t n);

/* Transport ids. */
void au_tid_set(struct au_tid *t, const char *s);
bool au_tid_eq(const struct au_tid *t, const char *s);
const char *au_tid_show(const struct au_tid *t);

#endif
