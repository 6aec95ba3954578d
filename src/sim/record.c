/* SPDX-License-Identifier: MIT */
/* The event record of a run, and event fields by name. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/record.h"

const char *sim_side_name(enum sim_side s)
{
	return s == SIM_GATEWAY ? "gateway" : "client";
}

int sim_side_from_name(const char *name)
{
	if (!strcmp(name, "client"))
		return SIM_CLIENT;
	if (!strcmp(name, "gateway"))
		return SIM_GATEWAY;
	return -1;
}

void sim_record_init(struct sim_record *r)
{
	memset(r, 0, sizeof *r);
}

void sim_record_free(struct sim_record *r)
{
	for (size_t i = 0; i < r->nstrs; i++)
		free(r->strs[i]);
	free(r->strs);
	free(r->ev);
	memset(r, 0, sizeof *r);
}

const char *sim_record_intern(struct sim_record *r, const char *s)
{
	char *c;

	if (!s)
		return NULL;
	/* Few distinct strings per run (transport ids, statuses): a
	 * linear scan from the newest is cheap enough. */
	for (size_t i = r->nstrs; i-- > 0;)
		if (strcmp(r->strs[i], s) == 0)
			return r->strs[i];
	if (r->nstrs == r->capstrs) {
		size_t cap = r->capstrs ? 2 * r->capstrs : 32;
		char **p = realloc(r->strs, cap * sizeof *p);

		if (!p)
			return NULL;
		r->strs = p;
		r->capstrs = cap;
	}
	size_t n = strlen(s) + 1;

	c = malloc(n);
	if (!c)
		return NULL;
	memcpy(c, s, n);
	r->strs[r->nstrs++] = c;
	return c;
}

static int session_index(struct sim_record *r, enum sim_side side,
			 const char *sid)
{
	unsigned n = r->nsessions[side];

	if (!sid)
		sid = "";
	/* Events of a side come from its newest session in practice. */
	for (unsigned i = n; i-- > 0;)
		if (strcmp(r->sid[side][i], sid) == 0)
			return (int)i;
	if (n == SIM_SESSIONS_MAX)
		return -1;
	snprintf(r->sid[side][n], sizeof r->sid[side][n], "%s", sid);
	r->nsessions[side]++;
	return (int)n;
}

int sim_record_add(struct sim_record *r, enum sim_side side,
		   const char *session_id, const struct jv_event *ev)
{
	return sim_record_add_node(r, side, NULL, session_id, ev);
}

int sim_record_add_node(struct sim_record *r, enum sim_side side,
			const char *node_id, const char *session_id,
			const struct jv_event *ev)
{
	struct sim_rec_event *e;
	const char *node = sim_record_intern(r, node_id ? node_id : "");
	int s = session_index(r, side, session_id);

	if (!node) {
		r->dropped++;
		return JV_ERR_NOMEM;
	}
	if (s < 0) {
		r->dropped++;
		return JV_ERR_LIMIT;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 256;
		struct sim_rec_event *p = realloc(r->ev, cap * sizeof *p);

		if (!p) {
			r->dropped++;
			return JV_ERR_NOMEM;
		}
		r->ev = p;
		r->cap = cap;
	}
	e = &r->ev[r->n];
	e->side = (uint8_t)side;
	e->session = (uint8_t)s;
	e->node = node;
	e->ev = *ev;
	/* Strings are borrowed from the engine: keep our own copies. */
#define SIM_INTERN_FIELD_(member, json, kind) SIM_INTERN_##kind(member)
#define SIM_INTERN_STR(member)                                          \
	if (JV_EV_HAS(ev, member) && ev->member) {                      \
		e->ev.member = sim_record_intern(r, ev->member);        \
		if (!e->ev.member) {                                    \
			r->dropped++;                                   \
			return JV_ERR_NOMEM;                            \
		}                                                       \
	}
#define SIM_INTERN_U64(member)
#define SIM_INTERN_F64(member)
#define SIM_INTERN_BOOL(member)
#define SIM_INTERN_STATE(member)
#define SIM_INTERN_REASON(member)
#define SIM_INTERN_POLICY(member) e->ev.member = NULL;
	JV_EVENT_FIELDS(SIM_INTERN_FIELD_)
	r->n++;
	return 0;
}

/* ---- fields ------------------------------------------------------------ */

struct field_desc {
	const char *name;
	enum sim_field_kind kind;
};

static const struct field_desc fields[JV_F_COUNT] = {
#define SIM_FIELD_DESC_(member, json, kind) \
	[JV_F_##member] = { json, SIM_FK_##kind },
	JV_EVENT_FIELDS(SIM_FIELD_DESC_)
};

int sim_field_from_name(const char *name)
{
	if (!strcmp(name, "reason"))
		return JV_F_reason_code;
	for (int i = 0; i < JV_F_COUNT; i++)
		if (!strcmp(fields[i].name, name))
			return i;
	return -1;
}

const char *sim_field_name(int field)
{
	return field >= 0 && field < JV_F_COUNT ? fields[field].name : "?";
}

enum sim_field_kind sim_field_kind(int field)
{
	return fields[field].kind;
}

const char *sim_field_text(const struct jv_event *ev, int field, char *buf,
			   size_t n)
{
	const char *s = NULL;

	if (field < 0 || field >= JV_F_COUNT ||
	    !(ev->set & ((uint64_t)1 << field))) {
		snprintf(buf, n, "(absent)");
		return buf;
	}
	switch (field) {
#define SIM_FIELD_TEXT_(member, json, kind)                             \
	case JV_F_##member:                                             \
		SIM_TEXT_##kind(ev->member);                            \
		break;
#define SIM_TEXT_STR(v) s = (v) ? (v) : "null"
#define SIM_TEXT_U64(v) snprintf(buf, n, "%" PRIu64, (uint64_t)(v))
#define SIM_TEXT_F64(v) snprintf(buf, n, "%g", (double)(v))
#define SIM_TEXT_BOOL(v) s = (v) ? "true" : "false"
#define SIM_TEXT_STATE(v) s = jv_state_name(v)
#define SIM_TEXT_REASON(v) s = jv_reason_name(v)
#define SIM_TEXT_POLICY(v) s = "(policy)"
	JV_EVENT_FIELDS(SIM_FIELD_TEXT_)
	default:
		break;
	}
	if (s)
		snprintf(buf, n, "%s", s);
	return buf;
}
