/* SPDX-License-Identifier: MIT */
#ifndef JVPN_SIM_RECORD_H
#define JVPN_SIM_RECORD_H

/*
 * What a run leaves behind for the expectations: every event of both
 * sides (copied: the engine's strings are borrowed), which session of
 * its side and which node each belongs to (the gateway side may be
 * several nodes sharing a store, PD-9), the final states, and the
 * measurements.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jvpn/error.h"
#include "jvpn/event.h"
#include "jvpn/limits.h"
#include "jvpn/state.h"

enum sim_side { SIM_CLIENT, SIM_GATEWAY, SIM_SIDES };

const char *sim_side_name(enum sim_side s);
int sim_side_from_name(const char *name);	/* -1 if unknown */

enum { SIM_SESSIONS_MAX = 16 };

struct sim_rec_event {
	uint8_t side;
	uint8_t session;	/* index into sim_record.sid[side] */
	const char *node;	/* node_id, interned ("" if unknown) */
	struct jv_event ev;	/* strings interned in the record */
};

struct sim_record {
	struct sim_rec_event *ev;
	size_t n, cap;
	char **strs;		/* interned strings */
	size_t nstrs, capstrs;
	char sid[SIM_SIDES][SIM_SESSIONS_MAX][JV_SESSION_ID_HEX];
	unsigned nsessions[SIM_SIDES];
	uint64_t dropped;	/* events lost: no memory, too many sessions */
	jv_time end;		/* last simulated millisecond */
	enum jv_state final_state[SIM_SIDES];	/* from the engine */
	uint64_t final_version[SIM_SIDES];
	bool final_known[SIM_SIDES];
	char final_node[SIM_SIDES][JV_NODE_ID_MAX];	/* whose engine */
};

void sim_record_init(struct sim_record *r);
void sim_record_free(struct sim_record *r);

/* Copy one event of `side` from session `session_id`.  Returns 0,
 * JV_ERR_NOMEM or JV_ERR_LIMIT (then counted in dropped). */
int sim_record_add(struct sim_record *r, enum sim_side side,
		   const char *session_id, const struct jv_event *ev);
/* The same, from node `node_id` (NULL: unknown). */
int sim_record_add_node(struct sim_record *r, enum sim_side side,
			const char *node_id, const char *session_id,
			const struct jv_event *ev);

/* The interned copy of s (NULL for NULL, or on no memory). */
const char *sim_record_intern(struct sim_record *r, const char *s);

/* ---- event fields by JSON name (scenario filters, reports) ------------ */

enum sim_field_kind {
	SIM_FK_STR, SIM_FK_U64, SIM_FK_F64, SIM_FK_BOOL, SIM_FK_STATE,
	SIM_FK_REASON, SIM_FK_POLICY,
};

/* Field index of a JSON name ("reason_code", "details.origin"), with the
 * alias "reason" for reason_code; -1 if unknown. */
int sim_field_from_name(const char *name);
const char *sim_field_name(int field);
enum sim_field_kind sim_field_kind(int field);

/* Text of a present field (for reports): "p1", "DENIED", "3". */
const char *sim_field_text(const struct jv_event *ev, int field, char *buf,
			   size_t n);

#endif
