/* SPDX-License-Identifier: MIT */
#ifndef JVPN_AUDIT_AUDIT_H
#define JVPN_AUDIT_AUDIT_H

/*
 * The offline auditor of event logs (spec §3, §8.6, PD-1, PD-9): a
 * streaming checker fed one line at a time.  It audits one file, or the
 * files of several nodes together (jv_audit_file): the hash chain and seq
 * continuity per file; everything else per stream, across files.
 *
 * Streams (spec §3): a client stream is (session_id, client node_id); the
 * gateway stream of a session is ONE stream over every gateway node and
 * file, merged by state_version (ties by ts_ms).  The caller hands the
 * lines of several files over in ts_ms order (jv_audit_merge_key), which
 * for the owner's events is the order of state_version: an owner commits
 * its versions one after another and the next owner starts where the last
 * one stopped (INV-02 reports anything else).  An event of a gateway node
 * that does not own the session at its ts_ms (owners.c, INV-15) is held
 * against the stream but does not move it.  Each stream replays states and
 * the binding and is checked against INV-01..INV-17 and LIV-01..LIV-05,
 * LIV-09, LIV-10 (what a log can prove of it) with the policy carried by
 * its SessionCreated.
 *
 * Memory is per stream, never per line: a live stream holds a fixed-size
 * record (policy snapshot, binding, a ring of recent discretionary switch
 * times, the open LIV-10 episode, the owner and the last commits of a
 * gateway stream, ...); once its SessionTerminated is seen it shrinks to a
 * few bytes kept to catch events after the end.  Nothing is accumulated per event: findings and the
 * reconstructed timeline go out through callbacks as they are found, so
 * the caller decides what to keep.
 *
 * The auditor does no I/O: the caller reads the files and prints.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jvpn/error.h"
#include "jvpn/event.h"
#include "jvpn/limits.h"
#include "jvpn/reason.h"
#include "jvpn/state.h"

/* What a finding is about: the spec ID, or the log-level checks. */
#define JV_AUDIT_CHECKS(X)                                              \
	X(PARSE, "parse", "line is not a valid event (JSON, base fields, types)") \
	X(CHAIN, "chain", "PD-1: seq continuity and prev_hash chain of the file") \
	X(ORDER, "order", "§3/§8.1: ts_ms non-decreasing per stream, commit emit order") \
	X(POLICY, "policy", "§5: the policy in force is in the log and events name it") \
	X(INV01, "INV-01", "identity: one SessionCreated first, one per session and role") \
	X(INV02, "INV-02", "version: k-th SessionStateChange is version k, others carry the latest") \
	X(INV03, "INV-03", "legality: every transition is a row of §2.3 from the current state") \
	X(INV04, "INV-04", "absorption: one SessionTerminated, nothing mutating after TERMINATED") \
	X(INV05, "INV-05", "single binding: the binding replay never fails") \
	X(INV06, "INV-06", "coupling: ATTACHED has a binding, BIRTH/TERMINATED have none") \
	X(INV07, "INV-07", "validated attach: RECOVERING->ATTACHED with ReattachResult(SUCCESS)") \
	X(INV08, "INV-08", "switch rate: at most MAX_SWITCHES_PER_MIN discretionary switches per 60 000 ms") \
	X(INV09, "INV-09", "cooldown: requester attempts SWITCH_COOLDOWN_MS apart") \
	X(INV10, "INV-10", "non-mutating denial on the gateway") \
	X(INV11, "INV-11", "replay: gateway SUCCESS nonces strictly increasing") \
	X(INV12, "INV-12", "recovery entry: candidate named, set size and discretionary rate respected") \
	X(INV13, "INV-13", "reason codes: present and from §8.3 where required") \
	X(INV14, "INV-14", "justified termination: lifetime / transportless TTL really exceeded") \
	X(INV15, "INV-15", "ownership: owner intervals do not overlap, owner commits") \
	X(INV16, "INV-16", "no fork: one SessionStateChange per (session, version)") \
	X(INV17, "INV-17", "privacy: only allow-listed fields, no key material") \
	X(LIV01, "LIV-01", "lifetime: terminated by creation + SESSION_MAX_LIFETIME_MS") \
	X(LIV02, "LIV-02", "transportless: rebound or terminated within TRANSPORT_LOST_TTL_MS") \
	X(LIV03, "LIV-03", "recovery bound: RECOVERING left within RECOVERY_WINDOW_MS") \
	X(LIV04, "LIV-04", "volatile bound: VOLATILE left within VOLATILE_TO_DEGRADED_MS") \
	X(LIV05, "LIV-05", "explicit outcome of every requester RECOVERING episode") \
	X(LIV09, "LIV-09", "replay never attaches: no SUCCESS for a rejected nonce") \
	X(LIV10, "LIV-10", "flap survival (PD-7): no rate refusal while the binding is lost, a forced switch in time")

enum jv_audit_check {
#define JV_AUDIT_CHECK_ENUM_(id, name, what) JV_AC_##id,
	JV_AUDIT_CHECKS(JV_AUDIT_CHECK_ENUM_)
#undef JV_AUDIT_CHECK_ENUM_
	JV_AC_COUNT
};

/* "INV-05", "chain", ...; NULL if out of range. */
const char *jv_audit_check_name(enum jv_audit_check c);
/* One line: what the check verifies; NULL if out of range. */
const char *jv_audit_check_what(enum jv_audit_check c);

/* A stream as the timeline names it. */
struct jv_audit_stream {
	unsigned index;			/* 1-based, order of first appearance */
	enum jv_role role;
	char session_id[JV_SESSION_ID_HEX];
	char node_id[JV_NODE_ID_MAX];	/* node of its first event */
	char policy_version[JV_POLICY_VERSION_MAX];	/* in force now */
	bool born;			/* its SessionCreated was seen */
	jv_time born_ms;
	unsigned long born_line;
	const char *born_file;		/* file of born_line when several
					   files are audited, else NULL */
};

/*
 * One finding.  Strings valid during the callback only.  A finding that
 * involves two events (INV-15, INV-16: two nodes, maybe two files) names
 * the second one as other_*; the message names it too.
 */
struct jv_audit_violation {
	enum jv_audit_check check;
	unsigned long line;		/* 1-based line of the file; 0 = none */
	const struct jv_audit_stream *stream;	/* NULL for file-level */
	const char *msg;		/* what is wrong, one line */
	unsigned file;			/* index of line's file (jv_audit_file
					   order; 0 with a single file) */
	const char *file_name;		/* its name; NULL if it has none */
	unsigned long other_line;	/* 0 = no second place */
	unsigned other_file;
	const char *other_file_name;
};

/* Kinds of timeline entries (spec §8.6). */
enum jv_audit_entry_kind {
	JV_AE_BIRTH,		/* SessionCreated */
	JV_AE_STATE,		/* a transition; duration = time spent in `from` */
	JV_AE_ATTACH,		/* TransportAttached: `to` */
	JV_AE_SWITCH,		/* TransportSwitch: `from_transport` -> `to` */
	JV_AE_DEAD,		/* TransportDead: `from_transport` */
	JV_AE_DENIAL,		/* switch denied / failed, reattach denied,
				   policy limit, rekey denied */
	JV_AE_SECURITY,		/* security events, ownership conflicts */
	JV_AE_OWNER,		/* ownership acquired / transferred */
	JV_AE_POLICY,		/* PolicyUpdate */
	JV_AE_TERMINATED,	/* SessionTerminated */
	JV_AE_DAMPED,		/* TransportDamped: `to_transport` (PD-7) */
	JV_AE_REUSED,		/* TransportReused: `to_transport` */
	JV_AE_OPEN,		/* end of log: state still open, duration so far */
};

/* One timeline entry.  Strings valid during the callback only; NULL when
 * the event did not carry them. */
struct jv_audit_entry {
	enum jv_audit_entry_kind kind;
	unsigned long line;
	jv_time ts_ms;
	uint64_t state_version;
	enum jv_event_type type;
	const char *node_id;
	enum jv_state from, to;		/* STATE, OPEN (from) */
	jv_time duration_ms;		/* STATE, OPEN */
	enum jv_reason reason;		/* JV_REASON_NONE if none */
	/* SWITCH, and STATE into RECOVERING: the PD-7 trigger_class is
	 * forced (absent, as in logs from before PD-7: discretionary) */
	bool forced;
	const char *from_transport;	/* SWITCH, DEAD */
	const char *to_transport;	/* SWITCH, ATTACH; DENIAL: candidate;
					   SECURITY, DAMPED, REUSED: the
					   transport */
	uint64_t flap_penalty;		/* DAMPED, REUSED */
	const char *detail;		/* status, violation_type, owner, ... */
	uint64_t nonce;			/* DENIAL / SECURITY when has_nonce */
	bool has_nonce;
	const char *policy_version;	/* policy the event names */
	const char *file;		/* file of `line` when several files
					   are audited, else NULL */
};

struct jv_audit_hooks {
	void (*violation)(void *ud, const struct jv_audit_violation *v);
	void (*entry)(void *ud, const struct jv_audit_stream *s,
		      const struct jv_audit_entry *e);
	/* No more entries will come for s (terminated, or end of file). */
	void (*stream_end)(void *ud, const struct jv_audit_stream *s);
	void *ud;
};

struct jv_audit_opts {
	jv_time epsilon_ms;		/* §3.2 tolerance: 0 sim, 50 real hosts */
	struct jv_audit_hooks hooks;	/* any member may be NULL */
};

/* Recovery latency: TransportDead or VOLATILE entry -> ATTACHED (§8.4). */
struct jv_audit_latency {
	uint64_t count;
	uint64_t median_ms, p95_ms, max_ms;	/* log-linear buckets: exact
						   below 128 ms, within 1/64
						   above */
};

struct jv_audit_report {
	uint64_t lines;			/* lines fed */
	uint64_t events;		/* lines that parsed as events */
	uint64_t violations;		/* findings of every kind */
	uint64_t by_check[JV_AC_COUNT];
	unsigned streams, streams_client, streams_gateway;
	unsigned terminated;		/* streams that reached TERMINATED */
	uint64_t terminations[JV_REASON_COUNT];	/* by reason */
	uint64_t switches;		/* TransportSwitch events */
	uint64_t switches_forced;	/* of which trigger_class forced (PD-7) */
	uint64_t damped;		/* TransportDamped events */
	uint64_t denials;		/* switch denied/failed, reattach denied */
	uint64_t security;		/* security events */
	uint64_t volatile_ms, degraded_ms;	/* summed over streams; an open
						   phase counts to the log's end */
	struct jv_audit_latency recovery[2];	/* [JV_ROLE_CLIENT], [_GATEWAY] */
	bool have_ts;
	jv_time first_ts, last_ts;
	bool pass;			/* violations == 0 */
};

struct jv_audit;

/*
 * A new auditor for one file.  opts may be NULL (ε = 0, no callbacks).
 * Returns 0, JV_ERR_INVAL (out NULL), JV_ERR_NOMEM.
 */
JV_MUST_CHECK int jv_audit_new(const struct jv_audit_opts *opts,
			       struct jv_audit **out);
void jv_audit_free(struct jv_audit *a);

/*
 * One line of the file, without its newline, in file order; lineno is
 * its 1-based number.  (One file: the first file, created unnamed if
 * jv_audit_file was not called.)  Every problem becomes a finding through the
 * violation hook (the return value only reports the auditor's own
 * failures): a line that does not parse is a `parse` finding and the
 * next line is audited normally.
 * Returns 0, JV_ERR_INVAL (a or line NULL, or called after finish),
 * JV_ERR_NOMEM (the stream table could not grow: the audit cannot go on).
 */
JV_MUST_CHECK int jv_audit_line(struct jv_audit *a, const char *line,
				size_t len, unsigned long lineno);

/*
 * A line too long to hand over whole (the caller's bound): a `parse`
 * finding; hash is the lowercase hex BLAKE2b-256 of its exact bytes, so
 * the chain goes on.  Returns 0, JV_ERR_INVAL.
 */
JV_MUST_CHECK int jv_audit_line_overlong(struct jv_audit *a,
					 unsigned long lineno,
					 const char hash[JV_HASH_HEX]);

/* ---- several files, one audit (spec §3 streams, PD-9) ---------------- */

/*
 * Add a file to the audit before its first line; *index gets its number
 * (0, 1, ...).  name (copied; may be NULL) is how findings and, when
 * there are several files, the timeline name it.  Its chain (PD-1) is
 * checked on its own; its events join the streams of every other file.
 * Returns 0, JV_ERR_INVAL (a or index NULL, or after finish),
 * JV_ERR_NOMEM.
 */
JV_MUST_CHECK int jv_audit_file(struct jv_audit *a, const char *name,
				unsigned *index);

/*
 * jv_audit_line and jv_audit_line_overlong for a given file.  Lines of one
 * file go in file order; lines of several files go in the order of
 * jv_audit_merge_key.  Returns as those, and JV_ERR_INVAL for an unknown
 * or ended file.
 */
JV_MUST_CHECK int jv_audit_file_line(struct jv_audit *a, unsigned file,
				     const char *line, size_t len,
				     unsigned long lineno);
JV_MUST_CHECK int jv_audit_file_overlong(struct jv_audit *a, unsigned file,
					 unsigned long lineno,
					 const char hash[JV_HASH_HEX]);

/*
 * The file ended (missing_newline: its last line had no '\n', a write cut
 * short).  Its streams go on with the other files' lines.  Returns 0,
 * JV_ERR_INVAL (unknown or ended file).
 */
JV_MUST_CHECK int jv_audit_file_end(struct jv_audit *a, unsigned file,
				    bool missing_newline);

/* What one file contributed: its lines and events, and the findings whose
 * (first) place is in it. */
struct jv_audit_file_stats {
	uint64_t lines, events, violations;
	uint64_t by_check[JV_AC_COUNT];
};

/* Returns 0, JV_ERR_INVAL (a or out NULL, unknown file). */
JV_MUST_CHECK int jv_audit_file_stats(const struct jv_audit *a, unsigned file,
				      struct jv_audit_file_stats *out);

/*
 * Where a line goes in the merge of several files: ascending (ts_ms,
 * owner_change first, state_version), the file's own order kept, ties
 * between files by file index.  An ownership acquisition goes before the
 * other events of its millisecond because INV-15 names the owner of epoch
 * E from its acquisition's ts_ms on.  Returns false when the line carries
 * no readable ts_ms (it is no event): send it right after the file's
 * previous line.
 */
struct jv_audit_key {
	jv_time ts_ms;
	bool owner_change;		/* SessionOwnerAcquired/Transferred */
	uint64_t state_version;
};

bool jv_audit_merge_key(const char *line, size_t len,
			struct jv_audit_key *k);
/* <0, 0, >0 as a goes before, with, after b. */
int jv_audit_key_cmp(const struct jv_audit_key *a,
		     const struct jv_audit_key *b);

/*
 * The log ended.  missing_newline: the last line of the only file (the
 * single-file use) had no '\n'; files ended by jv_audit_file_end are not
 * affected.  Runs the end-of-log checks (open commits, liveness bounds
 * against the last ts_ms of all files), closes every stream, fills r.
 * Returns 0, JV_ERR_INVAL (a or r NULL, or called twice).
 */
JV_MUST_CHECK int jv_audit_finish(struct jv_audit *a, bool missing_newline,
				  struct jv_audit_report *r);

/* ---- presentation (format.c) ------------------------------------------ */

typedef struct json_t json_t;	/* jansson */

/*
 * Text forms, snprintf-like: each returns the length written (without
 * NUL), JV_ERR_NOSPACE if buf was too small (buf then holds a truncated,
 * terminated text), JV_ERR_INVAL on a NULL argument.
 *  - violation: "FILE:LINE: INV-05: msg" (FILE: the finding's file_name,
 *    else the argument; both NULL: "LINE: ..."; line 0: no line), with
 *    " [stream N]" when it belongs to one;
 *  - stream: "stream 2: gateway session 5f3a... node gw-1, born at T
 *    (line 3), policy 1.0";
 *  - entry: one timeline line: absolute ts_ms, time since birth, version,
 *    what happened, the line it came from.
 */
JV_MUST_CHECK int jv_audit_format_violation(const struct jv_audit_violation *v,
					    const char *file, char *buf,
					    size_t n);
JV_MUST_CHECK int jv_audit_format_stream(const struct jv_audit_stream *s,
					 char *buf, size_t n);
JV_MUST_CHECK int jv_audit_format_entry(const struct jv_audit_stream *s,
					const struct jv_audit_entry *e,
					char *buf, size_t n);

/* JSON forms (new references; NULL on no memory). */
json_t *jv_audit_violation_json(const struct jv_audit_violation *v);
json_t *jv_audit_stream_json(const struct jv_audit_stream *s);
json_t *jv_audit_entry_json(const struct jv_audit_entry *e);
json_t *jv_audit_report_json(const struct jv_audit_report *r);

/* "birth", "state", ...; NULL if out of range. */
const char *jv_audit_entry_kind_name(enum jv_audit_entry_kind k);

#endif
