/* SPDX-License-Identifier: MIT */
/* [Expect] lines: parser and checker. */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/expect.h"

enum { MAX_TOKENS = 64 };

static const char *const store_keys[SIM_SK_COUNT] = {
	[SIM_SK_WRITES] = "writes", [SIM_SK_CONFLICTS] = "conflicts",
	[SIM_SK_FAILED] = "failed", [SIM_SK_READS] = "reads",
	[SIM_SK_ADOPTIONS] = "adoptions", [SIM_SK_CRASHES] = "crashes",
};

/* ---- small parsers ------------------------------------------------------ */

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return JV_ERR_PARSE;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return JV_ERR_PARSE;
	*out = v;
	return 0;
}

static int parse_time(const char *s, struct sim_xtime *t)
{
	t->set = true;
	t->created = false;
	if (strncmp(s, "created+", 8) == 0) {
		t->created = true;
		s += 8;
	}
	return parse_u64(s, &t->ms);
}

/* "T" or "T1..T2" */
static int parse_time_range(const char *s, struct sim_xtime *lo,
			    struct sim_xtime *hi)
{
	char a[64];
	const char *dots = strstr(s, "..");

	if (!dots)
		return parse_time(s, lo) || parse_time(s, hi) ? JV_ERR_PARSE : 0;
	if ((size_t)(dots - s) >= sizeof a)
		return JV_ERR_PARSE;
	memcpy(a, s, (size_t)(dots - s));
	a[dots - s] = '\0';
	if (parse_time(a, lo) || parse_time(dots + 2, hi))
		return JV_ERR_PARSE;
	return 0;
}

/* "N", "=N", ">=N", "<=N", "A..B" */
static int parse_count(const char *s, struct sim_xcount *c)
{
	const char *dots;
	char a[32];

	if (s[0] == '>' && s[1] == '=') {
		c->hi = UINT64_MAX;
		return parse_u64(s + 2, &c->lo);
	}
	if (s[0] == '<' && s[1] == '=') {
		c->lo = 0;
		return parse_u64(s + 2, &c->hi);
	}
	if (s[0] == '=')
		s++;
	dots = strstr(s, "..");
	if (dots) {
		if ((size_t)(dots - s) >= sizeof a)
			return JV_ERR_PARSE;
		memcpy(a, s, (size_t)(dots - s));
		a[dots - s] = '\0';
		if (parse_u64(a, &c->lo) || parse_u64(dots + 2, &c->hi) ||
		    c->lo > c->hi)
			return JV_ERR_PARSE;
		return 0;
	}
	if (parse_u64(s, &c->lo))
		return JV_ERR_PARSE;
	c->hi = c->lo;
	return 0;
}

static int parse_ratio(const char *s, double *out)
{
	char *end;

	if ((*s < '0' || *s > '9') && *s != '.')
		return JV_ERR_PARSE;
	errno = 0;
	*out = strtod(s, &end);
	if (errno || *end || !(*out >= 0 && *out <= 1))
		return JV_ERR_PARSE;
	return 0;
}

static unsigned tokenize(char *s, char **tok)
{
	unsigned n = 0;

	for (char *p = strtok(s, " \t"); p && n < MAX_TOKENS;
	     p = strtok(NULL, " \t"))
		tok[n++] = p;
	return n;
}

static int fail(struct jv_diag *d, unsigned line, const char *key,
		const char *tok, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(struct jv_diag *d, unsigned line, const char *key,
		const char *tok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	jv_diag_vset(d, line, key, fmt, ap);
	va_end(ap);
	if (tok)
		jv_diag_value(d, "%s", tok);
	return JV_ERR_PARSE;
}

static int parse_side(const char *tok, int *side)
{
	*side = tok ? sim_side_from_name(tok) : -1;
	return *side < 0 ? JV_ERR_PARSE : 0;
}

/* SIDE, or gateway@NODE (a node of a cluster, PD-9). */
static int parse_side_node(struct sim_expect *x, const char *tok)
{
	const char *at = tok ? strchr(tok, '@') : NULL;
	char side[16];

	x->node[0] = '\0';
	if (!at)
		return parse_side(tok, &x->side);
	if ((size_t)(at - tok) >= sizeof side || !at[1] ||
	    strlen(at + 1) >= sizeof x->node || strchr(at + 1, '@'))
		return JV_ERR_PARSE;
	memcpy(side, tok, (size_t)(at - tok));
	side[at - tok] = '\0';
	if (parse_side(side, &x->side) || x->side != SIM_GATEWAY)
		return JV_ERR_PARSE;
	snprintf(x->node, sizeof x->node, "%s", at + 1);
	return 0;
}

static int parse_type(const char *tok, int *type)
{
	if (!strcmp(tok, "*")) {
		*type = -1;
		return 0;
	}
	*type = jv_event_type_from_name(tok);
	return *type < 0 ? JV_ERR_PARSE : 0;
}

static int parse_state(const char *tok, enum jv_state *st)
{
	int s = jv_state_from_name(tok);

	if (s < 0)
		return JV_ERR_PARSE;
	*st = (enum jv_state)s;
	return 0;
}

static int parse_filter(struct sim_xfilter *f, char *tok)
{
	char *eq = strchr(tok, '=');
	const char *v;

	char *name_end;

	if (!eq || eq == tok)
		return JV_ERR_PARSE;
	name_end = eq;
	f->op = 0;
	if (eq[-1] == '>' || eq[-1] == '<') {
		f->op = eq[-1] == '>' ? 1 : 2;
		name_end = eq - 1;
	}
	v = eq + 1;
	{
		char c = *name_end;

		*name_end = '\0';
		f->field = sim_field_from_name(tok);
		*name_end = c;
	}
	if (f->field < 0 || !*v)
		return JV_ERR_PARSE;
	if (f->op && sim_field_kind(f->field) != SIM_FK_U64 &&
	    sim_field_kind(f->field) != SIM_FK_F64)
		return JV_ERR_PARSE;
	switch (sim_field_kind(f->field)) {
	case SIM_FK_STR:
		f->is_null = !strcmp(v, "null");
		f->s = v;
		return 0;
	case SIM_FK_U64:
		return parse_u64(v, &f->u);
	case SIM_FK_F64: {
		char *end;

		f->f = strtod(v, &end);
		return *end ? JV_ERR_PARSE : 0;
	}
	case SIM_FK_BOOL:
		if (!strcmp(v, "true"))
			f->u = 1;
		else if (!strcmp(v, "false"))
			f->u = 0;
		else
			return JV_ERR_PARSE;
		return 0;
	case SIM_FK_STATE: {
		int s = jv_state_from_name(v);

		f->u = (uint64_t)s;
		return s < 0 ? JV_ERR_PARSE : 0;
	}
	case SIM_FK_REASON: {
		enum jv_reason r = jv_reason_from_name(v);

		f->u = (uint64_t)r;
		return r == JV_REASON_NONE ? JV_ERR_PARSE : 0;
	}
	case SIM_FK_POLICY:
		break;
	}
	return JV_ERR_PARSE;
}

/*
 * SIDE TYPE [FIELD=VALUE]... with the option keywords allowed by `opts`
 * (count, at, after, before).  Returns the index of the first token not
 * consumed (for rate / spacing), or a negative code.
 */
enum { OPT_COUNT = 1, OPT_AT = 2, OPT_WINDOW = 4 };

static int parse_matcher(struct sim_expect *x, char **tok, unsigned n,
			 unsigned opts, struct jv_diag *d, const char *key)
{
	unsigned i;

	if (n < 2)
		return fail(d, x->line, key, NULL,
			    "expected SIDE EVENT_TYPE [FIELD=VALUE]...");
	if (parse_side_node(x, tok[0]))
		return fail(d, x->line, key, tok[0],
			    "side must be client, gateway or gateway@NODE");
	if (parse_type(tok[1], &x->type))
		return fail(d, x->line, key, tok[1],
			    "unknown event type (spec §8.2 name, or *)");
	for (i = 2; i < n; i++) {
		char *t = tok[i];

		if (!strchr(t, '=') || t[0] == '<' || t[0] == '>')
			break;
		if ((opts & OPT_COUNT) && !strncmp(t, "count", 5) &&
		    (t[5] == '=' || t[5] == '>' || t[5] == '<')) {
			if (parse_count(t + 5, &x->count))
				return fail(d, x->line, key, t,
					    "count must be =N, >=N, <=N or "
					    "=A..B");
		} else if ((opts & OPT_AT) && !strncmp(t, "at=", 3)) {
			if (parse_time_range(t + 3, &x->at_lo, &x->at_hi))
				return fail(d, x->line, key, t,
					    "at must be TIME or TIME..TIME "
					    "(ms, or created+ms)");
		} else if ((opts & OPT_WINDOW) && !strncmp(t, "after=", 6)) {
			if (parse_time(t + 6, &x->after))
				return fail(d, x->line, key, t,
					    "after must be a TIME");
		} else if ((opts & OPT_WINDOW) && !strncmp(t, "before=", 7)) {
			if (parse_time(t + 7, &x->before))
				return fail(d, x->line, key, t,
					    "before must be a TIME");
		} else {
			if (x->nfilters == SIM_EXPECT_FILTERS)
				return fail(d, x->line, key, t,
					    "too many field filters (max %d)",
					    SIM_EXPECT_FILTERS);
			if (parse_filter(&x->filter[x->nfilters], t))
				return fail(d, x->line, key, t,
					    "unknown event field or value "
					    "not of the field's type");
			x->nfilters++;
		}
	}
	return (int)i;
}

static int parse_item(struct sim_xitem *it, char *t)
{
	char *at = strchr(t, '@'), *br = strchr(t, '[');

	memset(it, 0, sizeof *it);
	it->reason = JV_REASON_NONE;
	if (!strcmp(t, "...")) {
		it->any_run = true;
		return 0;
	}
	if (at) {
		*at = '\0';
		if (at[1] == '+') {
			it->rel = true;
			at++;
		}
		if (parse_time_range(at + 1, &it->at_lo, &it->at_hi) ||
		    (it->rel && it->at_lo.created))
			return JV_ERR_PARSE;
	}
	if (br) {
		size_t n = strlen(br);

		if (n < 3 || br[n - 1] != ']')
			return JV_ERR_PARSE;
		br[n - 1] = '\0';
		it->reason = jv_reason_from_name(br + 1);
		*br = '\0';
		if (it->reason == JV_REASON_NONE)
			return JV_ERR_PARSE;
	}
	return parse_state(t, &it->state);
}

/* accepted | refused | refused[REASON] | error */
static int parse_order(struct sim_expect *x, char *t)
{
	char *br = strchr(t, '[');
	size_t n = strlen(t);

	x->reason = JV_REASON_NONE;
	if (br) {
		if (t[n - 1] != ']' || strncmp(t, "refused[", 8))
			return JV_ERR_PARSE;
		t[n - 1] = '\0';
		x->reason = jv_reason_from_name(br + 1);
		*br = '\0';
		if (x->reason == JV_REASON_NONE)
			return JV_ERR_PARSE;
	}
	if (!strcmp(t, "accepted"))
		x->dir = SIM_ORDER_ACCEPTED;
	else if (!strcmp(t, "refused"))
		x->dir = SIM_ORDER_REFUSED;
	else if (!strcmp(t, "error"))
		x->dir = SIM_ORDER_ERROR;
	else
		return JV_ERR_PARSE;
	return 0;
}

int sim_expect_parse(struct sim_expect *x, const char *key,
		     const char *value, unsigned line, struct jv_diag *d)
{
	char *tok[MAX_TOKENS];
	unsigned n;
	int i;

	memset(x, 0, sizeof *x);
	x->line = line;
	x->side = -1;
	x->type = -1;
	x->dir = -1;
	x->count.lo = 1;
	x->count.hi = UINT64_MAX;
	snprintf(x->text, sizeof x->text, "%s = %s", key, value);
	if (strlen(value) >= sizeof x->store)
		return fail(d, line, key, NULL, "value too long");
	snprintf(x->store, sizeof x->store, "%s", value);
	n = tokenize(x->store, tok);
	if (n == 0)
		return fail(d, line, key, NULL, "empty value");

	if (!strcmp(key, "final")) {
		x->kind = SIM_X_FINAL;
		if (n != 2 || parse_side_node(x, tok[0]) ||
		    parse_state(tok[1], &x->state))
			return fail(d, line, key, value,
				    "expected SIDE STATE, e.g. client ATTACHED");
	} else if (!strcmp(key, "session")) {
		x->kind = SIM_X_SESSION_STABLE;
		if (n != 1 || strcmp(tok[0], "stable"))
			return fail(d, line, key, value, "expected stable");
	} else if (!strcmp(key, "sessions")) {
		x->kind = SIM_X_SESSIONS;
		if (n != 2 || parse_side(tok[0], &x->side) ||
		    parse_count(tok[1], &x->count))
			return fail(d, line, key, value,
				    "expected SIDE COUNT, e.g. client 2");
	} else if (!strcmp(key, "event") || !strcmp(key, "no")) {
		x->kind = SIM_X_EVENT;
		i = parse_matcher(x, tok, n,
				  (key[0] == 'e' ? OPT_COUNT | OPT_AT : 0) |
				  OPT_WINDOW, d, key);
		if (i < 0)
			return i;
		if ((unsigned)i != n)
			return fail(d, line, key, tok[i],
				    "expected FIELD=VALUE or an option");
		if (key[0] == 'n')
			x->count.lo = x->count.hi = 0;
	} else if (!strcmp(key, "sequence")) {
		x->kind = SIM_X_SEQUENCE;
		if (parse_side_node(x, tok[0]))
			return fail(d, line, key, tok[0],
				    "side must be client, gateway or "
				    "gateway@NODE");
		if (n < 2 || n - 1 > SIM_EXPECT_ITEMS)
			return fail(d, line, key, NULL,
				    "expected 1 to %d items",
				    SIM_EXPECT_ITEMS);
		for (unsigned k = 1; k < n; k++) {
			char copy[64];

			snprintf(copy, sizeof copy, "%s", tok[k]);
			if (parse_item(&x->item[x->nitems++], tok[k]))
				return fail(d, line, key, copy,
					    "item must be STATE, "
					    "STATE[reason_code], optionally "
					    "@TIME, @TIME..TIME, @+MS or "
					    "@+MS..MS, or ...");
		}
	} else if (!strcmp(key, "states")) {
		x->kind = SIM_X_STATES;
		if (parse_side_node(x, tok[0]) || n < 2)
			return fail(d, line, key, value,
				    "expected SIDE STATE...");
		for (unsigned k = 1; k < n; k++) {
			enum jv_state st;

			if (parse_state(tok[k], &st))
				return fail(d, line, key, tok[k],
					    "unknown state");
			x->states |= JV_STATE_BIT(st);
		}
	} else if (!strcmp(key, "state_at")) {
		x->kind = SIM_X_STATE_AT;
		if (n != 3 || parse_time(tok[0], &x->at_lo) ||
		    parse_side_node(x, tok[1]) ||
		    parse_state(tok[2], &x->state))
			return fail(d, line, key, value,
				    "expected TIME SIDE STATE");
	} else if (!strcmp(key, "rate")) {
		x->kind = SIM_X_RATE;
		i = parse_matcher(x, tok, n, 0, d, key);
		if (i < 0)
			return i;
		if ((unsigned)i + 3 != n || strncmp(tok[i], "<=", 2) ||
		    strcmp(tok[i + 1], "per") ||
		    parse_u64(tok[i][2] ? tok[i] + 2 : "", &x->count.hi) ||
		    parse_u64(tok[i + 2], &x->window_ms) || !x->window_ms)
			return fail(d, line, key, value,
				    "expected SIDE TYPE [FIELD=VALUE]... "
				    "<=N per MS");
	} else if (!strcmp(key, "spacing")) {
		x->kind = SIM_X_SPACING;
		i = parse_matcher(x, tok, n, 0, d, key);
		if (i < 0)
			return i;
		if ((unsigned)i + 1 != n || strncmp(tok[i], ">=", 2) ||
		    parse_u64(tok[i] + 2, &x->window_ms))
			return fail(d, line, key, value,
				    "expected SIDE TYPE [FIELD=VALUE]... >=MS");
	} else if (!strcmp(key, "version")) {
		x->kind = SIM_X_VERSION;
		if (n != 2 || parse_side(tok[0], &x->side) ||
		    parse_count(tok[1], &x->count))
			return fail(d, line, key, value,
				    "expected SIDE N (or >=N, <=N, A..B)");
	} else if (!strcmp(key, "max_gap_ms")) {
		x->kind = SIM_X_MAX_GAP;
		if (n == 2) {
			x->dir = !strcmp(tok[0], "up") ? 0 :
				 !strcmp(tok[0], "down") ? 1 : -2;
			tok[0] = tok[1];
		}
		if (n > 2 || x->dir == -2 || parse_u64(tok[0], &x->window_ms))
			return fail(d, line, key, value,
				    "expected [up|down] MS");
	} else if (!strcmp(key, "delivered")) {
		x->kind = SIM_X_DELIVERED;
		x->dir = n == 2 ? (!strcmp(tok[0], "up") ? 0 :
				   !strcmp(tok[0], "down") ? 1 :
				   !strcmp(tok[0], "request") ? 2 : -2) : -2;
		if (x->dir == -2 || parse_ratio(tok[1], &x->ratio))
			return fail(d, line, key, value,
				    "expected up|down|request RATIO in [0, 1]");
	} else if (!strcmp(key, "sink_failures")) {
		x->kind = SIM_X_SINK_FAILURES;
		if (n != 1 || parse_count(tok[0], &x->count))
			return fail(d, line, key, value,
				    "expected N, >=N, <=N or A..B");
	} else if (!strcmp(key, "silent_after")) {
		x->kind = SIM_X_SILENT_AFTER;
		if (n == 2) {
			x->dir = !strcmp(tok[0], "up") ? 0 :
				 !strcmp(tok[0], "down") ? 1 : -2;
			tok[0] = tok[1];
		}
		if (n > 2 || x->dir == -2 || parse_u64(tok[0], &x->window_ms))
			return fail(d, line, key, value,
				    "expected [up|down] MS");
	} else if (!strcmp(key, "store")) {
		x->kind = SIM_X_STORE;
		x->dir = -1;
		for (int k = 0; n == 2 && k < SIM_SK_COUNT; k++)
			if (!strcmp(tok[0], store_keys[k]))
				x->dir = k;
		if (x->dir < 0 || parse_count(tok[1], &x->count))
			return fail(d, line, key, value,
				    "expected KEY COUNT, KEY one of writes, "
				    "conflicts, failed, reads, adoptions, "
				    "crashes");
	} else if (!strcmp(key, "order")) {
		x->kind = SIM_X_ORDER;
		if (n != 2 || parse_time(tok[0], &x->at_lo) ||
		    x->at_lo.created || parse_order(x, tok[1]))
			return fail(d, line, key, value,
				    "expected TIME accepted, refused, "
				    "refused[REASON] or error");
	} else {
		return fail(d, line, key, NULL,
			    "unknown expectation (final, session, sessions, "
			    "event, no, sequence, states, state_at, rate, "
			    "spacing, version, max_gap_ms, delivered, "
			    "silent_after, sink_failures, store, order)");
	}
	return 0;
}

/* ---- checker ------------------------------------------------------------ */

static bool created_at(const struct sim_record *r, int side, jv_time *t)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->ev[i].side == side &&
		    r->ev[i].ev.type == JV_EV_SESSION_CREATED) {
			*t = r->ev[i].ev.ts_ms;
			return true;
		}
	return false;
}

/* Resolve a time; false if it is relative and the side has no session. */
static bool resolve(const struct sim_record *r, int side,
		    const struct sim_xtime *t, jv_time *out)
{
	jv_time base = 0;

	if (t->created) {
		if (side < 0 || !created_at(r, side, &base))
			return false;
	}
	*out = base + t->ms;
	return true;
}

static bool filter_ok(const struct sim_xfilter *f, const struct jv_event *ev)
{
	/* PD-7: an event without trigger_class is from before the split,
	 * when every switch was counted as the discretionary ones are. */
	if (!(ev->set & ((uint64_t)1 << f->field)))
		return f->field == JV_F_trigger_class && !f->is_null &&
		       !strcmp(f->s, "discretionary");
	switch (f->field) {
#define SIM_FILTER_CASE_(member, json, kind)                            \
	case JV_F_##member:                                             \
		return SIM_FILTER_##kind(ev->member);
#define SIM_FILTER_STR(v)                                               \
	(f->is_null ? (v) == NULL : ((v) != NULL && !strcmp((v), f->s)))
#define SIM_FILTER_U64(v)                                               \
	(f->op == 1 ? (uint64_t)(v) >= f->u :                           \
	 f->op == 2 ? (uint64_t)(v) <= f->u : (uint64_t)(v) == f->u)
#define SIM_FILTER_F64(v)                                               \
	(f->op == 1 ? (double)(v) >= f->f :                             \
	 f->op == 2 ? (double)(v) <= f->f : (double)(v) == f->f)
#define SIM_FILTER_BOOL(v) ((uint64_t)(v) == f->u)
#define SIM_FILTER_STATE(v) ((uint64_t)(v) == f->u)
#define SIM_FILTER_REASON(v) ((uint64_t)(v) == f->u)
#define SIM_FILTER_POLICY(v) ((void)(v), false)
	JV_EVENT_FIELDS(SIM_FILTER_CASE_)
	default:
		return false;
	}
}

struct window {
	jv_time lo, hi;		/* inclusive */
	bool ok;		/* resolvable */
};

static struct window match_window(const struct sim_expect *x,
				  const struct sim_record *r)
{
	struct window w = { 0, JV_TIME_NEVER, true };
	jv_time t;

	if (x->at_lo.set) {
		w.ok &= resolve(r, x->side, &x->at_lo, &w.lo);
		w.ok &= resolve(r, x->side, &x->at_hi, &w.hi);
	}
	if (x->after.set) {
		w.ok &= resolve(r, x->side, &x->after, &t);
		if (t + 1 > w.lo)
			w.lo = t + 1;
	}
	if (x->before.set) {
		w.ok &= resolve(r, x->side, &x->before, &t);
		if (t == 0)
			w.ok = false;
		else if (t - 1 < w.hi)
			w.hi = t - 1;
	}
	return w;
}

/* The expectation's side, and its node if it names one. */
static bool side_matches(const struct sim_expect *x,
			 const struct sim_rec_event *e)
{
	if (x->side >= 0 && e->side != x->side)
		return false;
	return !x->node[0] || (e->node && !strcmp(e->node, x->node));
}

static bool event_matches(const struct sim_expect *x,
			  const struct sim_rec_event *e,
			  const struct window *w)
{
	if (!side_matches(x, e))
		return false;
	if (x->type >= 0 && (int)e->ev.type != x->type)
		return false;
	if (e->ev.ts_ms < w->lo || e->ev.ts_ms > w->hi)
		return false;
	for (unsigned i = 0; i < x->nfilters; i++)
		if (!filter_ok(&x->filter[i], &e->ev))
			return false;
	return true;
}

static void say(char *why, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
}

static void count_text(const struct sim_xcount *c, char *buf, size_t n)
{
	if (c->lo == c->hi)
		snprintf(buf, n, "%" PRIu64, c->lo);
	else if (c->hi == UINT64_MAX)
		snprintf(buf, n, ">= %" PRIu64, c->lo);
	else if (c->lo == 0)
		snprintf(buf, n, "<= %" PRIu64, c->hi);
	else
		snprintf(buf, n, "%" PRIu64 "..%" PRIu64, c->lo, c->hi);
}

static bool in_count(const struct sim_xcount *c, uint64_t v)
{
	return v >= c->lo && v <= c->hi;
}

/* Transition i of a side as "STATE[reason]@ts". */
static void item_text(const struct jv_event *ev, char *buf, size_t n)
{
	snprintf(buf, n, "%s[%s]@%" PRIu64, jv_state_name(ev->new_state),
		 JV_EV_HAS(ev, reason_code) ?
		 jv_reason_name(ev->reason_code) : "", ev->ts_ms);
}

static bool item_matches(const struct sim_record *r, int side,
			 const struct sim_xitem *it, const struct jv_event *ev,
			 const struct jv_event *prev)
{
	jv_time lo, hi;

	if (ev->new_state != it->state)
		return false;
	if (it->reason != JV_REASON_NONE &&
	    (!JV_EV_HAS(ev, reason_code) || ev->reason_code != it->reason))
		return false;
	if (it->at_lo.set) {
		if (!resolve(r, side, &it->at_lo, &lo) ||
		    !resolve(r, side, &it->at_hi, &hi))
			return false;
		if (it->rel) {
			if (!prev)
				return false;
			lo += prev->ts_ms;
			hi += prev->ts_ms;
		}
		if (ev->ts_ms < lo || ev->ts_ms > hi)
			return false;
	}
	return true;
}

static bool check_sequence(const struct sim_expect *x,
			   const struct sim_record *r, char *why, size_t n)
{
	const struct jv_event **tr;
	size_t nt = 0, ti = 0, xi = 0, star_x = SIZE_MAX, star_t = 0;
	bool ok;

	tr = malloc((r->n ? r->n : 1) * sizeof *tr);
	if (!tr) {
		say(why, n, "out of memory");
		return false;
	}
	for (size_t i = 0; i < r->n; i++)
		if (side_matches(x, &r->ev[i]) &&
		    r->ev[i].ev.type == JV_EV_SESSION_STATE_CHANGE)
			tr[nt++] = &r->ev[i].ev;
	/* Glob match: "..." is "*" over transitions. */
	while (ti < nt) {
		if (xi < x->nitems && x->item[xi].any_run) {
			star_x = xi++;
			star_t = ti;
		} else if (xi < x->nitems &&
			   item_matches(r, x->side, &x->item[xi], tr[ti],
					ti ? tr[ti - 1] : NULL)) {
			xi++;
			ti++;
		} else if (star_x != SIZE_MAX) {
			xi = star_x + 1;
			ti = ++star_t;
		} else {
			break;
		}
	}
	while (xi < x->nitems && x->item[xi].any_run)
		xi++;
	ok = ti == nt && xi == x->nitems;
	if (!ok) {
		size_t off = (size_t)snprintf(why, n, "got %s:",
					      sim_side_name(x->side));

		for (size_t i = 0; i < nt && off < n; i++) {
			char it[96];

			item_text(tr[i], it, sizeof it);
			off += (size_t)snprintf(why + off, n - off, " %s", it);
		}
		if (nt == 0 && off < n)
			snprintf(why + off, n - off, " (no transition)");
	}
	free(tr);
	return ok;
}

static enum jv_state state_at(const struct sim_record *r,
			      const struct sim_expect *x, jv_time t,
			      bool *exists)
{
	enum jv_state st = JV_STATE_BIRTH;

	*exists = false;
	for (size_t i = 0; i < r->n && r->ev[i].ev.ts_ms <= t; i++) {
		const struct sim_rec_event *e = &r->ev[i];

		if (!side_matches(x, e))
			continue;
		if (e->ev.type == JV_EV_SESSION_CREATED) {
			*exists = true;
			st = JV_STATE_BIRTH;
		} else if (e->ev.type == JV_EV_SESSION_STATE_CHANGE) {
			*exists = true;
			st = e->ev.new_state;
		}
	}
	return st;
}

static bool check_gap(const struct sim_expect *x, const struct sim_measure *m,
		      char *why, size_t n)
{
	const struct sim_meter *mm[2] = { m->up, m->down };
	static const char *const dn[2] = { "up", "down" };
	bool ok = true, any = false;
	size_t off = 0;

	for (int d = 0; d < 2; d++) {
		bool unrec;
		size_t fi;
		jv_time g;

		if ((x->dir >= 0 && x->dir != d) || !mm[d])
			continue;
		any = true;
		g = sim_meter_max_gap(mm[d], &unrec, &fi);
		if (unrec || g > x->window_ms) {
			ok = false;
			if (off < n)
				off += (size_t)snprintf(
					why + off, n - off,
					"%s%s gap %" PRIu64 " ms%s after the "
					"fault at %" PRIu64, off ? "; " : "",
					dn[d], g,
					unrec ? " (never recovered)" : "",
					mm[d]->nfaults ?
					mm[d]->gaps[fi].fault_at : 0);
		}
	}
	if (!any) {
		say(why, n, "no stream in [Traffic] to measure a gap on");
		return false;
	}
	return ok;
}

static const char *order_text(const struct sim_order *o, char *buf,
			      size_t n)
{
	if (o->result == SIM_ORDER_ACCEPTED)
		snprintf(buf, n, "accepted");
	else if (o->result == SIM_ORDER_ERROR)
		snprintf(buf, n, "error (%s)", jv_strerror(o->rc));
	else
		snprintf(buf, n, "refused[%s]", jv_reason_name(o->refused));
	return buf;
}

static bool check_order(const struct sim_expect *x,
			const struct sim_measure *m, char *why, size_t n)
{
	char got[64];

	for (unsigned i = 0; i < m->norders; i++) {
		const struct sim_order *o = &m->orders[i];

		if (o->at != x->at_lo.ms)
			continue;
		if ((int)o->result == x->dir &&
		    (x->reason == JV_REASON_NONE || o->refused == x->reason))
			return true;
		say(why, n, "the order at %" PRIu64 " was %s", o->at,
		    order_text(o, got, sizeof got));
		return false;
	}
	say(why, n, "no switch order at %" PRIu64, x->at_lo.ms);
	return false;
}

bool sim_expect_check(const struct sim_expect *x, const struct sim_record *r,
		      const struct sim_measure *m, char *why, size_t n)
{
	char cbuf[48];

	why[0] = '\0';
	switch (x->kind) {
	case SIM_X_FINAL:
		if (!r->final_known[x->side]) {
			say(why, n, "%s never existed", sim_side_name(x->side));
			return false;
		}
		if (r->final_state[x->side] != x->state) {
			say(why, n, "%s ended in %s", sim_side_name(x->side),
			    jv_state_name(r->final_state[x->side]));
			return false;
		}
		if (x->node[0] && strcmp(r->final_node[x->side], x->node)) {
			say(why, n, "%s ended on node %s",
			    sim_side_name(x->side),
			    r->final_node[x->side][0] ?
			    r->final_node[x->side] : "(none)");
			return false;
		}
		return true;
	case SIM_X_SESSION_STABLE:
		for (int s = 0; s < SIM_SIDES; s++) {
			unsigned created = 0;

			for (size_t i = 0; i < r->n; i++)
				created += r->ev[i].side == s &&
					   r->ev[i].ev.type ==
					   JV_EV_SESSION_CREATED;
			if (r->nsessions[s] != 1 || created != 1) {
				say(why, n, "%s: %u session id(s), %u "
				    "SessionCreated", sim_side_name(s),
				    r->nsessions[s], created);
				return false;
			}
		}
		if (strcmp(r->sid[0][0], r->sid[1][0])) {
			say(why, n, "client session %s, gateway session %s",
			    r->sid[0][0], r->sid[1][0]);
			return false;
		}
		return true;
	case SIM_X_SESSIONS:
		if (!in_count(&x->count, r->nsessions[x->side])) {
			count_text(&x->count, cbuf, sizeof cbuf);
			say(why, n, "%s had %u session(s), expected %s",
			    sim_side_name(x->side), r->nsessions[x->side],
			    cbuf);
			return false;
		}
		return true;
	case SIM_X_EVENT: {
		struct window w = match_window(x, r);
		uint64_t c = 0;
		jv_time first = 0;

		if (!w.ok) {
			say(why, n, "time relative to a session that was "
			    "never created");
			return false;
		}
		for (size_t i = 0; i < r->n; i++)
			if (event_matches(x, &r->ev[i], &w))
				if (c++ == 0)
					first = r->ev[i].ev.ts_ms;
		if (in_count(&x->count, c))
			return true;
		count_text(&x->count, cbuf, sizeof cbuf);
		if (c)
			say(why, n, "%" PRIu64 " matching event(s) (first at "
			    "%" PRIu64 "), expected %s", c, first, cbuf);
		else
			say(why, n, "no matching event, expected %s", cbuf);
		/* Show what the side did instead, for the common case. */
		if (c == 0 && x->type >= 0) {
			size_t off = strlen(why);

			for (size_t i = 0; i < r->n && off < n; i++) {
				const struct sim_rec_event *e = &r->ev[i];

				if (!side_matches(x, e) ||
				    (int)e->ev.type != x->type)
					continue;
				off += (size_t)snprintf(
					why + off, n - off,
					"%s %s@%" PRIu64,
					off == strlen(why) ? "; seen:" : "",
					JV_EV_HAS(&e->ev, reason_code) ?
					jv_reason_name(e->ev.reason_code) :
					"", e->ev.ts_ms);
			}
		}
		return false;
	}
	case SIM_X_SEQUENCE:
		return check_sequence(x, r, why, n);
	case SIM_X_STATES:
		for (size_t i = 0; i < r->n; i++) {
			const struct sim_rec_event *e = &r->ev[i];

			if (side_matches(x, e) &&
			    e->ev.type == JV_EV_SESSION_STATE_CHANGE &&
			    !(x->states & JV_STATE_BIT(e->ev.new_state))) {
				say(why, n, "%s entered %s at %" PRIu64,
				    sim_side_name(x->side),
				    jv_state_name(e->ev.new_state),
				    e->ev.ts_ms);
				return false;
			}
		}
		return true;
	case SIM_X_STATE_AT: {
		jv_time t;
		bool exists;
		enum jv_state st;

		if (!resolve(r, x->side, &x->at_lo, &t)) {
			say(why, n, "%s never created a session",
			    sim_side_name(x->side));
			return false;
		}
		st = state_at(r, x, t, &exists);
		if (!exists || st != x->state) {
			say(why, n, "%s was %s at %" PRIu64,
			    sim_side_name(x->side),
			    exists ? jv_state_name(st) : "not yet created", t);
			return false;
		}
		return true;
	}
	case SIM_X_RATE: {
		struct window w = { 0, JV_TIME_NEVER, true };
		jv_time *t = malloc((r->n ? r->n : 1) * sizeof *t);
		size_t nt = 0, lo = 0;
		uint64_t worst = 0;
		jv_time worst_at = 0;

		if (!t) {
			say(why, n, "out of memory");
			return false;
		}
		for (size_t i = 0; i < r->n; i++)
			if (event_matches(x, &r->ev[i], &w))
				t[nt++] = r->ev[i].ev.ts_ms;
		/* Most events in any (t - window, t]. */
		for (size_t i = 0; i < nt; i++) {
			while (t[lo] + x->window_ms <= t[i])
				lo++;
			if (i - lo + 1 > worst) {
				worst = i - lo + 1;
				worst_at = t[i];
			}
		}
		free(t);
		if (worst > x->count.hi) {
			say(why, n, "%" PRIu64 " events in the %" PRIu64
			    " ms ending at %" PRIu64, worst, x->window_ms,
			    worst_at);
			return false;
		}
		return true;
	}
	case SIM_X_SPACING: {
		struct window w = { 0, JV_TIME_NEVER, true };
		bool have = false;
		jv_time prev = 0;

		for (size_t i = 0; i < r->n; i++) {
			jv_time t = r->ev[i].ev.ts_ms;

			if (!event_matches(x, &r->ev[i], &w))
				continue;
			if (have && t - prev < x->window_ms) {
				say(why, n, "events at %" PRIu64 " and %"
				    PRIu64 " are %" PRIu64 " ms apart", prev,
				    t, t - prev);
				return false;
			}
			have = true;
			prev = t;
		}
		return true;
	}
	case SIM_X_VERSION:
		if (!r->final_known[x->side] ||
		    !in_count(&x->count, r->final_version[x->side])) {
			count_text(&x->count, cbuf, sizeof cbuf);
			say(why, n, "%s state_version %" PRIu64 ", expected %s",
			    sim_side_name(x->side), r->final_version[x->side],
			    cbuf);
			return false;
		}
		return true;
	case SIM_X_MAX_GAP:
		return check_gap(x, m, why, n);
	case SIM_X_DELIVERED: {
		uint64_t sent, got;

		if (x->dir == 2) {
			if (!m->rr) {
				say(why, n, "no request flow in [Traffic]");
				return false;
			}
			sent = m->rr->sent;
			got = m->rr->answered;
		} else {
			const struct sim_meter *mm = x->dir ? m->down : m->up;

			if (!mm) {
				say(why, n, "no stream in that direction");
				return false;
			}
			sent = mm->sent;
			got = mm->delivered;
		}
		if (sent == 0 || (double)got < x->ratio * (double)sent) {
			say(why, n, "%" PRIu64 " of %" PRIu64 " delivered "
			    "(%.4f)", got, sent,
			    sent ? (double)got / (double)sent : 0.0);
			return false;
		}
		return true;
	}
	case SIM_X_SINK_FAILURES:
		if (!in_count(&x->count, m->sink_failures)) {
			count_text(&x->count, cbuf, sizeof cbuf);
			say(why, n, "%" PRIu64 " sink failures, expected %s",
			    m->sink_failures, cbuf);
			return false;
		}
		return true;
	case SIM_X_SILENT_AFTER: {
		const struct sim_meter *mm[2] = { m->up, m->down };
		static const char *const dn[2] = { "up", "down" };
		bool any = false;

		for (int d = 0; d < 2; d++) {
			if ((x->dir >= 0 && x->dir != d) || !mm[d])
				continue;
			any = true;
			if (mm[d]->any && mm[d]->last > x->window_ms) {
				say(why, n, "%s stream delivered at %" PRIu64,
				    dn[d], mm[d]->last);
				return false;
			}
		}
		if (!any) {
			say(why, n, "no stream in [Traffic] to watch");
			return false;
		}
		return true;
	}
	case SIM_X_ORDER:
		return check_order(x, m, why, n);
	case SIM_X_STORE:
		if (!m->have_store) {
			say(why, n, "no [Store] in the scenario");
			return false;
		}
		if (!in_count(&x->count, m->store[x->dir])) {
			count_text(&x->count, cbuf, sizeof cbuf);
			say(why, n, "store %s %" PRIu64 ", expected %s",
			    store_keys[x->dir], m->store[x->dir], cbuf);
			return false;
		}
		return true;
	}
	say(why, n, "unknown expectation kind");
	return false;
}
