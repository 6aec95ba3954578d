/* SPDX-License-Identifier: MIT */
/*
 * The policy as JSON: written into SessionCreated so a log carries the
 * policy in force, read back by the audit tool.  Same keys and rules as
 * the INI form (same table, same finish), typed values; the round trip
 * is exact (reals are stored as doubles, jansson prints 17 digits).
 */

#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "jvpn/diag.h"
#include "jvpn/policy.h"
#include "policy_impl.h"

#define BIT(i) (UINT64_C(1) << (i))

static json_t *protos_to_json(uint64_t set)
{
	json_t *a = json_array();

	if (!a)
		return NULL;
	for (unsigned bit = 1; bit <= JV_PROTO_ALL; bit <<= 1) {
		if (!(set & bit))
			continue;
		if (json_array_append_new(a, json_string(jv_proto_name(bit)))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *value_to_json(const struct jv_policy *p,
			     const struct jv_policy_field *f)
{
	uint64_t u;
	double v;

	switch (f->kind) {
	case JV_PK_VERSION:
		if (!memchr(p->version, '\0', sizeof(p->version)))
			return NULL;
		return json_string(p->version);
	case JV_PK_MS:
	case JV_PK_COUNT:
		u = jv_policy_get_u(p, f);
		if (u > INT64_MAX)	/* json_int_t is signed */
			return NULL;
		return json_integer((json_int_t)u);
	case JV_PK_REAL:
		v = jv_policy_get_d(p, f);
		if ((f->flags & JV_PF_OFF) && v == JV_POLICY_OFF)
			return json_null();
		return json_real(v);	/* NULL for inf / nan */
	case JV_PK_BOOL:
		return json_boolean(jv_policy_get_u(p, f));
	case JV_PK_PROTOS:
		return protos_to_json(jv_policy_get_u(p, f));
	case JV_PK_MODE:
		return json_string(jv_policy_change_mode_name(
			(enum jv_policy_change_mode)jv_policy_get_u(p, f)));
	case JV_PK_PROFILE:
		return json_string(jv_policy_profile_name(
			(enum jv_policy_profile)jv_policy_get_u(p, f)));
	}
	return NULL;
}

json_t *jv_policy_to_json(const struct jv_policy *p)
{
	json_t *o;

	if (!p)
		return NULL;
	o = json_object();
	if (!o)
		return NULL;
	for (size_t i = 0; i < jv_policy_field_count(); i++) {
		const struct jv_policy_field *f = jv_policy_field_at(i);
		json_t *v = value_to_json(p, f);	/* json_string(NULL) = NULL */

		if (!v || json_object_set_new(o, f->key, v)) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static int bad_type(struct jv_diag *d, const struct jv_policy_field *f,
		    const char *want)
{
	jv_diag_set(d, 0, f->key, "must be %s", want);
	return JV_ERR_PARSE;
}

static int protos_from_json(const json_t *j, const struct jv_policy_field *f,
			    uint64_t *out, struct jv_diag *d)
{
	uint64_t set = 0;
	size_t i;
	json_t *e;

	if (!json_is_array(j))
		return bad_type(d, f, "an array of protocol names (udp, quic, tcp)");
	json_array_foreach(j, i, e) {
		int bit = jv_proto_from_name(json_string_value(e));

		if (bit < 0)
			return bad_type(d, f, "an array of protocol names (udp, quic, tcp)");
		if (set & (uint64_t)bit) {
			jv_diag_set(d, 0, f->key, "protocol '%s' listed twice",
				    json_string_value(e));
			return JV_ERR_PARSE;
		}
		set |= (uint64_t)bit;
	}
	*out = set;
	return 0;
}

/* One typed value into dst; ranges are the validator's job. */
static int value_from_json(const json_t *j, const struct jv_policy_field *f,
			   struct jv_policy *dst, struct jv_diag *d)
{
	const char *s;
	uint64_t u;
	json_int_t i;
	int k, rc;

	switch (f->kind) {
	case JV_PK_VERSION:
		s = json_string_value(j);
		if (!s || strlen(s) >= sizeof(dst->version))
			return bad_type(d, f, "a string \"X.Y\" of at most 15 characters");
		memcpy(dst->version, s, strlen(s) + 1);
		return 0;
	case JV_PK_MS:
	case JV_PK_COUNT:
		if (!json_is_integer(j) || json_integer_value(j) < 0)
			return bad_type(d, f, "a non-negative integer");
		i = json_integer_value(j);
		if (f->kind == JV_PK_COUNT && (uint64_t)i > UINT32_MAX) {
			jv_diag_set(d, 0, f->key, "too large (at most %u)", UINT32_MAX);
			jv_diag_value(d, "%lld", (long long)i);
			return JV_ERR_PARSE;
		}
		jv_policy_set_u(dst, f, (uint64_t)i);
		return 0;
	case JV_PK_REAL:
		if ((f->flags & JV_PF_OFF) && json_is_null(j)) {
			jv_policy_set_d(dst, f, JV_POLICY_OFF);
			return 0;
		}
		if (!json_is_number(j))
			return bad_type(d, f, (f->flags & JV_PF_OFF) ?
					"a number or null (off)" : "a number");
		jv_policy_set_d(dst, f, json_number_value(j));
		return 0;
	case JV_PK_BOOL:
		if (!json_is_boolean(j))
			return bad_type(d, f, "true or false");
		jv_policy_set_u(dst, f, json_is_true(j));
		return 0;
	case JV_PK_PROTOS:
		rc = protos_from_json(j, f, &u, d);
		if (rc == 0)
			jv_policy_set_u(dst, f, u);
		return rc;
	case JV_PK_MODE:
		k = jv_policy_change_mode_from_name(json_string_value(j));
		if (k < 0)
			return bad_type(d, f, "\"strict\" or \"grace\"");
		jv_policy_set_u(dst, f, (uint64_t)k);
		return 0;
	case JV_PK_PROFILE:
		k = jv_policy_profile_from_name(json_string_value(j));
		if (k < 0)
			return bad_type(d, f, "\"default\" or \"fast\"");
		jv_policy_set_u(dst, f, (uint64_t)k);
		return 0;
	}
	return JV_ERR_PARSE;
}

int jv_policy_from_json(const json_t *j, struct jv_policy *out,
			struct jv_diag *d)
{
	struct jv_policy_ini st;
	const char *key;
	json_t *v;

	if (!out) {
		jv_diag_set(d, 0, NULL, "no output");
		return JV_ERR_INVAL;
	}
	if (!json_is_object(j)) {
		jv_diag_set(d, 0, NULL, "policy must be a JSON object");
		return JV_ERR_PARSE;
	}
	/* Unknown keys first (§5 (3)): a typo must not fall back silently. */
	json_object_foreach((json_t *)j, key, v) {
		if (!jv_policy_field_find(key)) {
			jv_policy_diag_unknown(d, 0, key);
			return JV_ERR_PARSE;
		}
	}
	jv_policy_ini_init(&st);
	for (size_t i = 0; i < jv_policy_field_count(); i++) {
		const struct jv_policy_field *f = jv_policy_field_at(i);
		int rc;

		v = json_object_get(j, f->key);
		if (!v)
			continue;
		rc = value_from_json(v, f, &st.vals, d);
		if (rc)
			return rc;
		st.set |= BIT(i);
	}
	return jv_policy_ini_finish(&st, out, d);
}
