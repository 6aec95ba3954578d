/* SPDX-License-Identifier: MIT */
#ifndef JVPN_EVENTLOG_H
#define JVPN_EVENTLOG_H

/*
 * The event log of spec §8 and PD-1: typed events (event.h) as one compact
 * JSON object per line, chained per file by `seq` and `prev_hash`, and the
 * strict reader the audit tool and the tests use.
 *
 * Line layout (keys always in this order, so identical inputs give
 * byte-identical lines, spec §2.4):
 *
 *   ts_ms, event_type, session_id, node_id, role, policy_version,
 *   state_version, <present fields in JV_EVENT_FIELDS order, "details.x"
 *   fields nested in one "details" object>, seq, prev_hash
 *
 * prev_hash = lowercase hex of BLAKE2b-256 (libsodium crypto_generichash,
 * 32-byte output, no key) over the previous line's exact bytes without its
 * newline; 64 '0' on the first line of a file.
 *
 * Which fields an event type may carry is an allow-list (INV-17: anything
 * else, e.g. payload, keys or proofs, cannot be written nor read back), and
 * which need a reason code is a table too (INV-13); both writer and reader
 * enforce them.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "diag.h"
#include "error.h"
#include "event.h"
#include "limits.h"
#include "policy.h"
#include "reason.h"
#include "state.h"

/* ---- per-type and per-field tables ----------------------------------- */

enum jv_field_kind {
	JV_KIND_STR,		/* JSON string, or null */
	JV_KIND_U64,		/* JSON integer, 0 .. 2^63-1 (jansson's range) */
	JV_KIND_F64,		/* JSON number, finite */
	JV_KIND_BOOL,		/* JSON true / false */
	JV_KIND_STATE,		/* JSON string: a state name (state.h) */
	JV_KIND_REASON,		/* JSON string: a reason code (reason.h) */
	JV_KIND_POLICY,		/* JSON object: jv_policy_to_json() */
};

/* When an event type carries reason_code (INV-13, §8.2). */
enum jv_reason_rule {
	JV_REASON_FORBIDDEN,	/* never carries one */
	JV_REASON_OPTIONAL,	/* may carry one */
	JV_REASON_REQUIRED,	/* always carries one */
	JV_REASON_ON_STATUS,	/* required iff `status` equals the type's
				   reason_status ("DENIED", "REJECTED") */
};

struct jv_event_spec {
	uint64_t allowed;	/* JV_FBIT mask of the fields it may carry */
	uint64_t required;	/* JV_FBIT mask of the fields it must carry
				   (reason_code excluded: see reason_rule) */
	enum jv_reason_rule reason_rule;
	const char *reason_status;	/* for JV_REASON_ON_STATUS */
	jv_reason_set reasons;	/* codes it may carry; 0 = any code */
	const char *emitted;	/* one line: when it is emitted (§8.2) */
};

/* The table row of an event type; NULL if out of range. */
const struct jv_event_spec *jv_event_spec(enum jv_event_type t);

/* JSON name of a field ("reason_code", "details.origin"); NULL if out of
 * range.  jv_event_field_from_name is its inverse (-1 if unknown). */
const char *jv_event_field_name(enum jv_event_field f);
int jv_event_field_from_name(const char *name);
/* Kind of a field; -1 if out of range. */
int jv_event_field_kind(enum jv_event_field f);
/* The closed set of values a string field may take in an event type
 * (e.g. ReattachResult `status`: "SUCCESS", "DENIED"), NULL-terminated;
 * NULL if the field is free text there. */
const char *const *jv_event_field_values(enum jv_event_type t,
					 enum jv_event_field f);

/*
 * Does ev respect its type's table: only allowed fields, every required
 * field, reason_code present / absent / from the allowed set as the rule
 * says, closed-set strings (jv_event_field_values) from their set?  On failure writes a one-line
 * explanation naming the field into why (if why_len > 0).
 * Returns 0, or JV_ERR_INVAL.
 */
JV_MUST_CHECK int jv_event_check(const struct jv_event *ev, char *why,
				 size_t why_len);

/* ---- writer ----------------------------------------------------------- */

/* Who emits: the base fields of §8.1 that come from the session. */
struct jv_event_origin {
	const char *session_id;		/* 32 lowercase hex digits */
	const char *node_id;		/* 1 .. JV_NODE_ID_MAX-1 bytes */
	const char *policy_version;	/* 1 .. JV_POLICY_VERSION_MAX-1 bytes */
	/* node_id and policy_version come from validated configuration and
	 * should be valid UTF-8: an invalid byte is replaced like in any
	 * string, which may push the text past the reader's length limit. */
	enum jv_role role;
};

/*
 * Where lines go: one file, socket, ring... write() returns 0 on success
 * and anything else on failure; it receives one whole line including its
 * trailing '\n'.
 */
struct jv_sink {
	int (*write)(void *ud, const char *line, size_t len);
	void *ud;
};

/* The chain of one log file (PD-1) and its sink. */
struct jv_eventlog {
	struct jv_sink sink;
	uint64_t seq;			/* seq of the next line */
	char prev_hash[JV_HASH_HEX];	/* hash of the last line formatted */
	uint64_t lines_written;		/* lines the sink accepted */
	uint64_t sink_failures;		/* lines the sink refused */
	uint64_t rejected;		/* events that could not be formatted */
	char line[JV_EVENT_LINE_MAX];	/* the line being written; one line
					   with its '\n' is at most this */
};

/* Start a chain at seq 0 with the all-zero hash. */
void jv_eventlog_init(struct jv_eventlog *log, struct jv_sink sink);

/*
 * One event as one JSON line (no newline) in buf, NUL-terminated; *len is
 * its length without the NUL.  Strings are escaped by jansson; a string
 * that is not valid UTF-8 has each offending byte replaced by U+FFFD, so
 * a line is always valid UTF-8 JSON (decision: losing the event would hide
 * it from the audit, writing the raw bytes would make the line unreadable).
 * Reals print with 15 significant digits ("%.15g": 0.15 is 0.15; any
 * value written with at most 15 digits reads back equal, and a line read
 * back formats to the same bytes).  prev_hash must be 64 lowercase hex
 * digits.  The table check (jv_event_check) is always on, not only in
 * debug builds: a line the reader would reject is never written.
 * Returns 0; JV_ERR_INVAL (len NULL, origin or prev_hash malformed, event
 * violates its table, a U64 above 2^63-1, a non-finite F64, policy that
 * does not serialize); JV_ERR_NOSPACE (line + NUL longer than cap: buf
 * untouched, *len 0); JV_ERR_NOMEM.
 */
JV_MUST_CHECK int jv_event_format(const struct jv_event_origin *origin,
				  const struct jv_event *ev, uint64_t seq,
				  const char *prev_hash, char *buf, size_t cap,
				  size_t *len);

/*
 * Format ev with the log's chain, advance the chain, hand "line\n" to the
 * sink.  Never blocks on and never reports to the caller (spec §8.4):
 *  - sink failure: sink_failures++; the chain still advances, so the lost
 *    line shows in the file as a seq gap and a prev_hash break;
 *  - event that cannot be formatted (a bug in the emitter, see
 *    jv_event_format): rejected++; seq still advances (the loss shows as a
 *    seq gap), prev_hash stays that of the last formatted line.
 */
void jv_eventlog_append(struct jv_eventlog *log,
			const struct jv_event_origin *origin,
			const struct jv_event *ev);

/* Lowercase hex BLAKE2b-256 of line[0..len) into out (JV_HASH_HEX bytes). */
void jv_eventlog_hash(const char *line, size_t len, char out[JV_HASH_HEX]);

/* ---- reader ----------------------------------------------------------- */

/*
 * One parsed line.  ev's strings, origin's strings and policy_json point
 * into storage owned by this struct: valid until jv_parsed_event_free.
 * With details.policy, ev.policy points to `policy` (parsed and validated
 * by jv_policy_from_json) and policy_json to the raw object.
 */
struct jv_parsed_event {
	struct jv_event ev;
	struct jv_event_origin origin;
	uint64_t seq;
	char prev_hash[JV_HASH_HEX];
	const json_t *policy_json;	/* details.policy or NULL */
	struct jv_policy policy;
	json_t *root;			/* owner of every string above */
};

/*
 * Strict parse of one line (without its newline): a single JSON object,
 * no duplicate key, nothing after it, every base field present with its
 * type, known event type, reason and state names, only the fields the
 * type allows, typed values, and the type's table respected
 * (jv_event_check).  On error d names the key (or "line") and the
 * problem; out is left empty (safe to free).
 * Returns 0, JV_ERR_PARSE, JV_ERR_NOMEM.
 */
JV_MUST_CHECK int jv_event_parse(const char *line, size_t len,
				 struct jv_parsed_event *out,
				 struct jv_diag *d);
void jv_parsed_event_free(struct jv_parsed_event *p);

/*
 * Chain verification of one file, line by line (PD-1).  After an error
 * the checker resynchronises on the offending line, so one edit yields
 * one error, not one per following line.
 */
struct jv_chain_check {
	uint64_t next_seq;
	char prev_hash[JV_HASH_HEX];
	uint64_t lines;			/* lines seen */
	uint64_t errors;		/* lines that failed */
};

void jv_chain_check_init(struct jv_chain_check *st);

/*
 * Check that line (without newline) continues the chain: seq = previous
 * seq + 1 (0 first) and prev_hash = hash of the previous line's bytes.
 * d gets lineno and a message saying what is wrong: seq gap (lines
 * missing), seq going back (reordered or duplicated line), prev_hash
 * mismatch (previous line edited, or a line replaced), or a line without
 * readable seq / prev_hash.
 * Returns 0, JV_ERR_PARSE (unreadable), JV_ERR_AUTH (chain broken).
 */
JV_MUST_CHECK int jv_chain_check_line(struct jv_chain_check *st,
				      const char *line, size_t len,
				      unsigned lineno, struct jv_diag *d);

#endif
