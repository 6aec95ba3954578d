/* SPDX-License-Identifier: MIT */
/*
 * The strict event-log reader (one line -> struct jv_parsed_event) and the
 * hash-chain checker of PD-1, used by `jvpn audit` and the tests.
 */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "eventlog_impl.h"

/* ---- reader ----------------------------------------------------------- */

static int perr(struct jv_diag *d, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The parser does not know the line number: the caller sets d->line. */
static int perr(struct jv_diag *d, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	jv_diag_vset(d, 0, key, fmt, ap);
	va_end(ap);
	return JV_ERR_PARSE;
}


enum base_kind { B_U64, B_TYPE, B_SID, B_NODE, B_ROLE, B_PV, B_HASH };

static const struct {
	const char *key;
	enum base_kind kind;
} base_fields[] = {
	{ "ts_ms", B_U64 }, { "event_type", B_TYPE }, { "session_id", B_SID },
	{ "node_id", B_NODE }, { "role", B_ROLE }, { "policy_version", B_PV },
	{ "state_version", B_U64 }, { "seq", B_U64 }, { "prev_hash", B_HASH },
};

static bool is_base(const char *key)
{
	for (size_t i = 0; i < sizeof(base_fields) / sizeof(base_fields[0]); i++)
		if (strcmp(base_fields[i].key, key) == 0)
			return true;
	return false;
}

static int parse_base(struct jv_parsed_event *out, struct jv_diag *d)
{
	for (size_t i = 0; i < sizeof(base_fields) / sizeof(base_fields[0]); i++) {
		const char *k = base_fields[i].key;
		const json_t *v = json_object_get(out->root, k);
		const char *s = json_string_value(v);
		uint64_t u = 0;
		int t;

		if (!v)
			return perr(d, k, "missing base field");
		if (base_fields[i].kind == B_U64) {
			if (!jv_evl_get_u64(v, &u))
				return perr(d, k, "must be an integer >= 0");
		} else if (!s) {
			return perr(d, k, "must be a string");
		}
		switch (base_fields[i].kind) {
		case B_U64:
			if (i == 0)
				out->ev.ts_ms = u;
			else if (strcmp(k, "seq") == 0)
				out->seq = u;
			else
				out->ev.state_version = u;
			break;
		case B_TYPE:
			t = jv_event_type_from_name(s);
			if (t < 0)
				return perr(d, k, "unknown event type '%.64s'", s);
			out->ev.type = (enum jv_event_type)t;
			break;
		case B_SID:
			if (!jv_evl_is_lower_hex(s, 2 * JV_SESSION_ID_BYTES))
				return perr(d, k, "must be 32 lowercase hex digits");
			out->origin.session_id = s;
			break;
		case B_NODE:
		case B_PV: {
			size_t max = base_fields[i].kind == B_NODE ?
				     JV_NODE_ID_MAX : JV_POLICY_VERSION_MAX;

			if (!jv_evl_text_ok(s, max))
				return perr(d, k, "must hold 1 to %zu bytes",
					    max - 1);
			if (base_fields[i].kind == B_NODE)
				out->origin.node_id = s;
			else
				out->origin.policy_version = s;
			break;
		}
		case B_ROLE:
			if (strcmp(s, "client") == 0)
				out->origin.role = JV_ROLE_CLIENT;
			else if (strcmp(s, "gateway") == 0)
				out->origin.role = JV_ROLE_GATEWAY;
			else
				return perr(d, k, "must be \"client\" or \"gateway\"");
			break;
		case B_HASH:
			if (!jv_evl_is_lower_hex(s, JV_HASH_HEX - 1))
				return perr(d, k, "must be 64 lowercase hex digits");
			memcpy(out->prev_hash, s, JV_HASH_HEX);
			break;
		}
	}
	return 0;
}

static int parse_field(struct jv_parsed_event *out, enum jv_event_field f,
		       const json_t *v, struct jv_diag *d)
{
	const char *name = jv_event_field_name(f);
	void *p = (char *)&out->ev + jv_evl_field_offset(f);
	const char *s = json_string_value(v);
	uint64_t u;
	double x;
	bool b;
	int t;

	if (!(jv_event_spec(out->ev.type)->allowed & ((uint64_t)1 << f)))
		return perr(d, name, "field not allowed in %s",
			    jv_event_type_name(out->ev.type));
	switch ((enum jv_field_kind)jv_event_field_kind(f)) {
	case JV_KIND_STR:
		if (!s && !json_is_null(v))
			return perr(d, name, "must be a string or null");
		memcpy(p, &s, sizeof(s));
		break;
	case JV_KIND_U64:
		if (!jv_evl_get_u64(v, &u))
			return perr(d, name, "must be an integer >= 0");
		memcpy(p, &u, sizeof(u));
		break;
	case JV_KIND_F64:
		if (!json_is_number(v))
			return perr(d, name, "must be a number");
		x = json_number_value(v);
		memcpy(p, &x, sizeof(x));
		break;
	case JV_KIND_BOOL:
		if (!json_is_boolean(v))
			return perr(d, name, "must be true or false");
		b = json_is_true(v);
		memcpy(p, &b, sizeof(b));
		break;
	case JV_KIND_STATE: {
		enum jv_state st;

		if (!s)
			return perr(d, name, "must be a state name");
		t = jv_state_from_name(s);
		if (t < 0)
			return perr(d, name, "unknown state '%.64s'", s);
		st = (enum jv_state)t;
		memcpy(p, &st, sizeof(st));
		break;
	}
	case JV_KIND_REASON:
		if (!s)
			return perr(d, name, "must be a reason code string");
		out->ev.reason_code = jv_reason_from_name(s);
		if (out->ev.reason_code == JV_REASON_NONE)
			return perr(d, name, "unknown reason code '%.64s'", s);
		break;
	case JV_KIND_POLICY: {
		struct jv_diag pd;
		char text[JV_DIAG_TEXT_MAX];

		if (!json_is_object(v))
			return perr(d, name, "must be a policy object");
		jv_diag_clear(&pd);
		if (jv_policy_from_json(v, &out->policy, &pd)) {
			if (jv_diag_format(&pd, text, sizeof(text)) < 0 &&
			    !text[0])
				snprintf(text, sizeof(text), "not a valid policy");
			return perr(d, name, "invalid policy: %s", text);
		}
		out->policy_json = v;
		out->ev.policy = &out->policy;
		break;
	}
	}
	out->ev.set |= (uint64_t)1 << f;
	return 0;
}

static int parse_details(struct jv_parsed_event *out, const json_t *det,
			 struct jv_diag *d)
{
	const char *key;
	json_t *v;
	char name[64];
	int f, rc;

	if (!json_is_object(det))
		return perr(d, "details", "must be an object");
	json_object_foreach((json_t *)det, key, v) {
		snprintf(name, sizeof(name), "details.%s", key);
		f = jv_event_field_from_name(name);
		if (f < 0)
			return perr(d, name, "unknown field");
		rc = parse_field(out, (enum jv_event_field)f, v, d);
		if (rc)
			return rc;
	}
	return 0;
}

int jv_event_parse(const char *line, size_t len, struct jv_parsed_event *out,
		   struct jv_diag *d)
{
	json_error_t err;
	const char *key;
	char why[200];
	json_t *v;
	int f, rc;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return perr(d, "line", "empty line");
	if (memchr(line, '\n', len) || memchr(line, '\r', len))
		return perr(d, "line", "line break inside the line");
	if (memchr(line, '\0', len))
		return perr(d, "line", "NUL byte inside the line");
	out->root = json_loadb(line, len, JSON_REJECT_DUPLICATES |
			       JSON_DISABLE_EOF_CHECK, &err);
	if (!out->root) {
		if (json_error_code(&err) == json_error_out_of_memory)
			return JV_ERR_NOMEM;
		return perr(d, "line", "not valid JSON at byte %d: %s",
			    err.position, err.text);
	}
	rc = perr(d, "line", "trailing data after the JSON object at byte %d",
		  err.position);
	if ((size_t)err.position != len)
		goto fail;
	rc = perr(d, "line", "not a JSON object");
	if (!json_is_object(out->root))
		goto fail;
	rc = parse_base(out, d);
	if (rc)
		goto fail;
	json_object_foreach(out->root, key, v) {
		if (is_base(key))
			continue;
		if (strcmp(key, "details") == 0) {
			rc = parse_details(out, v, d);
		} else {
			f = jv_event_field_from_name(key);
			if (f < 0 || jv_evl_is_detail((enum jv_event_field)f))
				rc = perr(d, key, "unknown field");
			else
				rc = parse_field(out, (enum jv_event_field)f,
						 v, d);
		}
		if (rc)
			goto fail;
	}
	rc = jv_evl_check_event(&out->ev, why, sizeof(why), &f);
	if (rc) {
		rc = perr(d, f >= 0 ? jv_event_field_name(f) : "event_type", "%s", why);
		goto fail;
	}
	jv_diag_clear(d);
	return 0;
fail:
	jv_parsed_event_free(out);
	return rc;
}

void jv_parsed_event_free(struct jv_parsed_event *p)
{
	json_decref(p->root);
	memset(p, 0, sizeof(*p));
}

/* ---- chain checker ---------------------------------------------------- */

void jv_chain_check_init(struct jv_chain_check *st)
{
	memset(st, 0, sizeof(*st));
	memset(st->prev_hash, '0', JV_HASH_HEX - 1);
}

int jv_chain_check_line(struct jv_chain_check *st, const char *line,
			size_t len, unsigned lineno, struct jv_diag *d)
{
	char h[JV_HASH_HEX];
	const char *ph = NULL;
	json_error_t err;
	json_t *root;
	uint64_t seq = 0;
	int rc = 0;

	st->lines++;
	jv_eventlog_hash(line, len, h);
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
	if (root)
		ph = json_string_value(json_object_get(root, "prev_hash"));
	if (!root || !jv_evl_get_u64(json_object_get(root, "seq"), &seq) ||
	    !jv_evl_is_lower_hex(ph, JV_HASH_HEX - 1)) {
		jv_diag_set(d, lineno, "line", "no readable seq and prev_hash: "
			    "the chain cannot be checked here");
		/* resynchronise as if it were the expected line */
		seq = st->next_seq;
		rc = JV_ERR_PARSE;
	} else if (seq > st->next_seq) {
		jv_diag_set(d, lineno, "seq", "seq gap: expected %llu, found "
			    "%llu (%llu line(s) missing)",
			    (unsigned long long)st->next_seq,
			    (unsigned long long)seq,
			    (unsigned long long)(seq - st->next_seq));
		rc = JV_ERR_AUTH;
	} else if (seq < st->next_seq) {
		jv_diag_set(d, lineno, "seq", "seq goes back: expected %llu, "
			    "found %llu (line reordered or duplicated)",
			    (unsigned long long)st->next_seq,
			    (unsigned long long)seq);
		rc = JV_ERR_AUTH;
	} else if (strcmp(ph, st->prev_hash) != 0) {
		if (st->next_seq == 0)
			jv_diag_set(d, lineno, "prev_hash", "first line of a "
				    "file must have 64 zeros");
		else
			jv_diag_set(d, lineno, "prev_hash", "not the hash of "
				    "the previous line: that line was edited, "
				    "or this one replaced another");
		rc = JV_ERR_AUTH;
	}
	if (rc)
		st->errors++;
	st->next_seq = seq + 1;
	memcpy(st->prev_hash, h, JV_HASH_HEX);
	json_decref(root);
	return rc;
}
