/* SPDX-License-Identifier: MIT */
/*
 * A fast reader for lines in the writer's canonical form, so a log of
 * millions of lines audits in seconds (jansson alone needs ~5 us a line).
 *
 * It accepts a strict subset of what jv_event_parse accepts and reads it
 * to the same struct jv_parsed_event: compact JSON with the keys in the
 * order jv_event_format writes them (base fields, optional fields in
 * JV_EVENT_FIELDS order, "details", seq, prev_hash), strings of printable
 * ASCII without escapes, integers without sign or leading zero.  It makes
 * every check the strict reader makes (base field types and formats, the
 * type's allow-list, value kinds, state and reason names, jv_event_check).
 * Anything outside the subset, anything it would reject, and every
 * details.policy (SessionCreated: rare, and validated by the policy
 * module) returns false and the caller falls back to jv_event_parse,
 * which then gives the verdict and the message.  So the subset can only
 * change the speed, never the result; tests/audit/audit_test.c and the
 * audit_line fuzz target compare both readers on every line they see.
 */

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "audit_impl.h"

static void name_set(struct au_name *n, const char *s)
{
	n->s = s;
	n->len = s ? strlen(s) : 0;
}

void au_fast_init(struct au_fast *f)
{
	static const size_t off[JV_F_COUNT] = {
#define AU_FIELD_OFF_(member, json, kind) \
		[JV_F_##member] = offsetof(struct jv_event, member),
		JV_EVENT_FIELDS(AU_FIELD_OFF_)
#undef AU_FIELD_OFF_
	};

	for (int i = 0; i < JV_F_COUNT; i++) {
		f->off[i] = off[i];
		name_set(&f->field[i], jv_event_field_name((enum jv_event_field)i));
		f->kind[i] = jv_event_field_kind((enum jv_event_field)i);
		f->detail[i] = f->field[i].len > 8 &&
			       !memcmp(f->field[i].s, "details.", 8);
	}
	for (int i = 0; i < JV_EV_COUNT; i++)
		name_set(&f->type[i], jv_event_type_name((enum jv_event_type)i));
	for (int i = 0; i < JV_REASON_COUNT; i++)
		name_set(&f->reason[i], jv_reason_name((enum jv_reason)i));
	for (int i = 0; i < JV_STATE_COUNT; i++)
		name_set(&f->state[i], jv_state_name((enum jv_state)i));
}

static int lookup(const struct au_name *tab, int n, const char *s, size_t len)
{
	for (int i = 0; i < n; i++)
		if (tab[i].len == len && !memcmp(tab[i].s, s, len))
			return i;
	return -1;
}

struct cur {
	char *p, *end;
};

static bool lit(struct cur *c, const char *s, size_t n)
{
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n))
		return false;
	c->p += n;
	return true;
}

/* "...": printable ASCII, no escape; NUL-terminated in place. */
static bool str(struct cur *c, char **out, size_t *len)
{
	char *s;

	if (c->p >= c->end || *c->p != '"')
		return false;
	s = ++c->p;
	while (c->p < c->end) {
		unsigned char ch = (unsigned char)*c->p;

		if (ch == '"') {
			*len = (size_t)(c->p - s);
			*c->p++ = '\0';
			*out = s;
			return true;
		}
		if (ch < 0x20 || ch > 0x7f || ch == '\\')
			return false;
		c->p++;
	}
	return false;
}

/* A key and its colon; keys are [a-z_.]. */
static bool key(struct cur *c, const char **k, size_t *len)
{
	char *s;

	if (c->p >= c->end || *c->p != '"')
		return false;
	s = ++c->p;
	while (c->p < c->end && ((*c->p >= 'a' && *c->p <= 'z') ||
				 *c->p == '_' || *c->p == '.'))
		c->p++;
	if (c->end - c->p < 2 || c->p[0] != '"' || c->p[1] != ':')
		return false;
	*k = s;
	*len = (size_t)(c->p - s);
	c->p += 2;
	return true;
}

/* A JSON integer jansson reads as >= 0: digits, no leading zero, fits
 * json_int_t. */
static bool u64v(struct cur *c, uint64_t *v)
{
	uint64_t x = 0;
	char *s = c->p;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		unsigned d = (unsigned)(*c->p - '0');

		if (x > ((uint64_t)INT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
		c->p++;
	}
	if (c->p == s || (*s == '0' && c->p - s > 1))
		return false;
	/* a fraction or exponent makes it a real, which U64 refuses */
	if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E'))
		return false;
	*v = x;
	return true;
}

/* A JSON number as jansson's json_number_value gives it. */
static bool f64v(struct cur *c, double *v)
{
	char *s = c->p, *end, save;
	bool real = false;

	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (c->p >= c->end || *c->p < '0' || *c->p > '9')
		return false;
	if (*c->p == '0' && c->p + 1 < c->end && c->p[1] >= '0' &&
	    c->p[1] <= '9')
		return false;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	if (c->p < c->end && *c->p == '.') {
		real = true;
		c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9')
			return false;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		real = true;
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9')
			return false;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	}
	if (c->p >= c->end)
		return false;
	save = *c->p;
	*c->p = '\0';
	errno = 0;
	if (real) {
		*v = strtod(s, &end);
	} else {
		long long i = strtoll(s, &end, 10);
		*v = (double)i;
	}
	*c->p = save;
	/* jansson refuses integers beyond json_int_t and reals that
	 * overflow; leave every range question to it */
	return end == c->p && errno == 0 && isfinite(*v);
}

static bool value(const struct au_fast *f, struct cur *c, int fi,
		  struct jv_event *ev)
{
	char *base = (char *)ev;
	size_t off = f->off[fi];
	char *s;
	size_t n;
	int t;

	switch (f->kind[fi]) {
	case JV_KIND_STR:
		if (lit(c, "null", 4)) {
			s = NULL;
		} else if (!str(c, &s, &n)) {
			return false;
		}
		memcpy(base + off, &s, sizeof s);
		return true;
	case JV_KIND_U64: {
		uint64_t u;

		if (!u64v(c, &u))
			return false;
		memcpy(base + off, &u, sizeof u);
		return true;
	}
	case JV_KIND_F64: {
		double x;

		if (!f64v(c, &x))
			return false;
		memcpy(base + off, &x, sizeof x);
		return true;
	}
	case JV_KIND_BOOL: {
		bool b;

		if (lit(c, "true", 4))
			b = true;
		else if (lit(c, "false", 5))
			b = false;
		else
			return false;
		memcpy(base + off, &b, sizeof b);
		return true;
	}
	case JV_KIND_STATE: {
		enum jv_state st;

		if (!str(c, &s, &n))
			return false;
		t = lookup(f->state, JV_STATE_COUNT, s, n);
		if (t < 0)
			return false;
		st = (enum jv_state)t;
		memcpy(base + off, &st, sizeof st);
		return true;
	}
	case JV_KIND_REASON:
		if (!str(c, &s, &n))
			return false;
		t = lookup(f->reason, JV_REASON_COUNT, s, n);
		if (t < 0)
			return false;
		ev->reason_code = (enum jv_reason)t;
		return true;
	default:
		return false;	/* details.policy: the strict reader */
	}
}

static bool lower_hex(const char *s, size_t n, size_t want)
{
	if (n != want)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool au_fast_parse(const struct au_fast *f, const char *line, size_t len,
		   char *scratch, size_t cap, struct jv_parsed_event *out)
{
	struct jv_event *ev = &out->ev;
	const struct jv_event_spec *sp;
	struct cur c;
	const char *k;
	char *s, why[160];
	size_t n;
	int t, last = -1;

	memset(out, 0, sizeof *out);
	if (len == 0 || len + 1 > cap)
		return false;
	memcpy(scratch, line, len);
	scratch[len] = '\0';
	c.p = scratch;
	c.end = scratch + len;

	if (!lit(&c, "{\"ts_ms\":", 9) || !u64v(&c, &ev->ts_ms) ||
	    !lit(&c, ",\"event_type\":", 14) || !str(&c, &s, &n))
		return false;
	t = lookup(f->type, JV_EV_COUNT, s, n);
	if (t < 0)
		return false;
	ev->type = (enum jv_event_type)t;
	sp = jv_event_spec(ev->type);

	if (!lit(&c, ",\"session_id\":", 14) || !str(&c, &s, &n) ||
	    !lower_hex(s, n, 2 * JV_SESSION_ID_BYTES))
		return false;
	out->origin.session_id = s;
	if (!lit(&c, ",\"node_id\":", 11) || !str(&c, &s, &n) || n == 0 ||
	    n >= JV_NODE_ID_MAX)
		return false;
	out->origin.node_id = s;
	if (!lit(&c, ",\"role\":", 8) || !str(&c, &s, &n))
		return false;
	if (n == 6 && !memcmp(s, "client", 6))
		out->origin.role = JV_ROLE_CLIENT;
	else if (n == 7 && !memcmp(s, "gateway", 7))
		out->origin.role = JV_ROLE_GATEWAY;
	else
		return false;
	if (!lit(&c, ",\"policy_version\":", 18) || !str(&c, &s, &n) ||
	    n == 0 || n >= JV_POLICY_VERSION_MAX)
		return false;
	out->origin.policy_version = s;
	if (!lit(&c, ",\"state_version\":", 17) ||
	    !u64v(&c, &ev->state_version))
		return false;

	/* optional fields, then details, strictly in table order */
	for (;;) {
		int fi;

		if (!lit(&c, ",", 1) || !key(&c, &k, &n))
			return false;
		if (n == 3 && !memcmp(k, "seq", 3))
			break;
		if (n == 7 && !memcmp(k, "details", 7)) {
			int dl = -1;

			if (!lit(&c, "{", 1))
				return false;
			do {
				char name[72];

				if (!key(&c, &k, &n) || n + 8 >= sizeof name)
					return false;
				memcpy(name, "details.", 8);
				memcpy(name + 8, k, n);
				fi = lookup(f->field, JV_F_COUNT, name, n + 8);
				if (fi <= dl || !f->detail[fi] ||
				    !((sp->allowed >> fi) & 1) ||
				    !value(f, &c, fi, ev))
					return false;
				ev->set |= (uint64_t)1 << fi;
				dl = fi;
			} while (lit(&c, ",", 1));
			if (!lit(&c, "},\"seq\":", 8))
				return false;
			break;
		}
		fi = lookup(f->field, JV_F_COUNT, k, n);
		if (fi <= last || f->detail[fi] || !((sp->allowed >> fi) & 1) ||
		    !value(f, &c, fi, ev))
			return false;
		ev->set |= (uint64_t)1 << fi;
		last = fi;
	}
	if (!u64v(&c, &out->seq) || !lit(&c, ",\"prev_hash\":", 13) ||
	    !str(&c, &s, &n) || !lower_hex(s, n, JV_HASH_HEX - 1) ||
	    !lit(&c, "}", 1) || c.p != c.end)
		return false;
	memcpy(out->prev_hash, s, JV_HASH_HEX);
	if (jv_event_check(ev, why, sizeof why) != JV_OK)
		return false;
	return true;
}
