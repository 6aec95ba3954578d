/* SPDX-License-Identifier: MIT */
/*
 * Why the strict reader refused a line, in the spec's terms: a field
 * outside its type's allow-list is INV-17 (privacy: nothing but the
 * fields of §8 is ever logged), a missing, unknown or misplaced reason
 * code is INV-13, a details.policy that is no valid policy (§5) is a
 * policy finding, anything else is a parse error.  Read from the public
 * tables of eventlog.h, so this cannot drift from the reader.
 *
 * An INV-17 line whose only fault is its extra fields is read again
 * without them, so the stream replay goes on and one finding stays one
 * finding.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_impl.h"

static const char *const base_keys[] = {
	"ts_ms", "event_type", "session_id", "node_id", "role",
	"policy_version", "state_version", "seq", "prev_hash",
};

static bool is_base(const char *k)
{
	for (size_t i = 0; i < sizeof base_keys / sizeof base_keys[0]; i++)
		if (!strcmp(k, base_keys[i]))
			return true;
	return false;
}

static void append(char *buf, size_t n, const char *name)
{
	size_t len = strlen(buf);

	if (len + 1 >= n)
		return;
	snprintf(buf + len, n - len, "%s%.60s", len ? ", " : "", name);
}

/* Is field name (top level, or "details.x") allowed for the type? */
static bool allowed(const struct jv_event_spec *sp, const char *name,
		    bool in_details)
{
	int f = jv_event_field_from_name(name);

	if (f < 0)
		return false;
	/* a details field at top level, or a top-level one in details */
	if (in_details != (strncmp(name, "details.", 8) == 0))
		return false;
	return (sp->allowed >> f) & 1;
}

/* The reason rule of INV-13 on the raw object; true if it is broken. */
static bool reason_broken(const json_t *root, enum jv_event_type t,
			  const struct jv_event_spec *sp, char *msg, size_t n)
{
	const json_t *rc = json_object_get(root, "reason_code");
	const char *status = json_string_value(json_object_get(root, "status"));
	const char *tn = jv_event_type_name(t);
	bool required = sp->reason_rule == JV_REASON_REQUIRED ||
			(sp->reason_rule == JV_REASON_ON_STATUS && status &&
			 sp->reason_status &&
			 !strcmp(status, sp->reason_status));
	enum jv_reason r;

	if (!rc) {
		if (!required)
			return false;
		snprintf(msg, n, "%s without reason_code", tn);
		return true;
	}
	if (sp->reason_rule == JV_REASON_FORBIDDEN) {
		snprintf(msg, n, "%s carries a reason_code; it never has one",
			 tn);
		return true;
	}
	if (!json_is_string(rc)) {
		snprintf(msg, n, "%s: reason_code is not a string", tn);
		return true;
	}
	r = jv_reason_from_name(json_string_value(rc));
	if (r == JV_REASON_NONE) {
		snprintf(msg, n, "%s: reason_code '%.64s' is not in the §8.3 "
			 "catalogue", tn, json_string_value(rc));
		return true;
	}
	if (sp->reasons && !(sp->reasons & JV_REASON_BIT(r))) {
		snprintf(msg, n, "%s: reason_code %s is not one this event "
			 "may carry", tn, jv_reason_name(r));
		return true;
	}
	return false;
}

static void parse_msg(const struct jv_diag *d, char *msg, size_t n)
{
	if (d && d->key[0])
		snprintf(msg, n, "%.60s: %.200s", d->key, d->msg);
	else
		snprintf(msg, n, "%.200s", d && d->msg[0] ? d->msg :
			 "not an event");
}

void au_classify(const char *line, size_t len, const struct jv_diag *d,
		 struct au_class *out)
{
	char extra[200] = "";
	json_error_t err;
	const struct jv_event_spec *sp;
	const char *key;
	json_t *root, *v, *det;
	void *tmp;
	int t;

	memset(out, 0, sizeof *out);
	out->check = JV_AC_PARSE;
	parse_msg(d, out->msg, sizeof out->msg);
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES |
			  JSON_DISABLE_EOF_CHECK, &err);
	if (!root)
		return;
	if (!json_is_object(root) || (size_t)err.position != len)
		goto out;
	t = jv_event_type_from_name(json_string_value(
		json_object_get(root, "event_type")));
	if (t < 0)
		goto out;
	sp = jv_event_spec((enum jv_event_type)t);

	/* INV-17: every key outside the allow-list, removed as found. */
	json_object_foreach_safe(root, tmp, key, v) {
		if (is_base(key) || !strcmp(key, "details") ||
		    !strcmp(key, "reason_code"))
			continue;
		if (!allowed(sp, key, false)) {
			append(extra, sizeof extra, key);
			json_object_del(root, key);
		}
	}
	det = json_object_get(root, "details");
	if (json_is_object(det)) {
		json_object_foreach_safe(det, tmp, key, v) {
			char name[80];

			snprintf(name, sizeof name, "details.%s", key);
			if (!allowed(sp, name, true)) {
				append(extra, sizeof extra, name);
				json_object_del(det, key);
			}
		}
		if (json_object_size(det) == 0)
			json_object_del(root, "details");
	}
	if (extra[0]) {
		char *fixed;
		struct jv_diag d2;

		out->check = JV_AC_INV17;
		snprintf(out->msg, sizeof out->msg, "%s carries field(s) "
			 "outside its allow-list: %s", jv_event_type_name(t),
			 extra);
		fixed = json_dumps(root, JSON_COMPACT);
		jv_diag_clear(&d2);
		if (fixed && jv_event_parse(fixed, strlen(fixed), &out->ev,
					    &d2) == JV_OK) {
			out->repaired = true;
		} else {
			/* something else is wrong too: say it */
			size_t l = strlen(out->msg);
			char more[300];

			parse_msg(&d2, more, sizeof more);
			if (l < sizeof out->msg)
				snprintf(out->msg + l, sizeof out->msg - l,
					 "; also %.100s", more);
		}
		free(fixed);
		goto out;
	}
	if (reason_broken(root, (enum jv_event_type)t, sp, out->msg,
			  sizeof out->msg))
		out->check = JV_AC_INV13;
	else if (d && !strcmp(d->key, "details.policy"))
		out->check = JV_AC_POLICY;	/* §5: an invalid snapshot */
out:
	json_decref(root);
}

/* A run of 64 hex digits is what a 256-bit key, MAC or proof looks like
 * written out; no field of §8 holds one (ids are shorter). */
static bool hex_run(const char *s)
{
	unsigned run = 0;

	for (; s && *s; s++) {
		char c = *s;
		bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			   (c >= 'A' && c <= 'F');
		run = hex ? run + 1 : 0;
		if (run >= 64)
			return true;
	}
	return false;
}

bool au_key_material(const struct jv_parsed_event *p, char *msg, size_t n)
{
	const struct jv_event *ev = &p->ev;

	for (int f = 0; f < JV_F_COUNT; f++) {
		const char *s;

		if (!((ev->set >> f) & 1) ||
		    jv_event_field_kind((enum jv_event_field)f) != JV_KIND_STR)
			continue;
		s = NULL;
		switch (f) {
#define AU_STR_CASE_(member, json, kind) \
		case JV_F_##member: s = au_str_##kind(ev->member); break;
#define au_str_STR(x) (x)
#define au_str_U64(x) NULL
#define au_str_F64(x) NULL
#define au_str_BOOL(x) NULL
#define au_str_STATE(x) NULL
#define au_str_REASON(x) NULL
#define au_str_POLICY(x) NULL
		JV_EVENT_FIELDS(AU_STR_CASE_)
#undef AU_STR_CASE_
		default:
			break;
		}
		if (hex_run(s)) {
			snprintf(msg, n, "%s: field %s holds a run of 64+ hex "
				 "digits (key, MAC or proof material?)",
				 jv_event_type_name(ev->type),
				 jv_event_field_name((enum jv_event_field)f));
			return true;
		}
	}
	if (hex_run(p->origin.node_id) || hex_run(p->origin.policy_version)) {
		snprintf(msg, n, "%s: node_id or policy_version holds a run of "
			 "64+ hex digits", jv_event_type_name(ev->type));
		return true;
	}
	return false;
}
