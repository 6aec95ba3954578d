/* SPDX-License-Identifier: MIT */
/*
 * The event log (spec §8, PD-1): per-type tables, the line writer with its
 * hash chain, the strict reader and the chain checker.  The tables are the
 * one place that says which fields and reason codes an event type may
 * carry; the writer, the reader, `jvpn events-doc` and the audit all read
 * them.
 */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "eventlog_impl.h"

/* ---- writer ----------------------------------------------------------- */

#define JV_JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | \
		       JSON_REAL_PRECISION(15))



/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t need;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2)
		return 0;
	need = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : s[0] < 0xf5 ? 4 : 0;
	if (!need || n < need)
		return 0;
	for (size_t i = 1; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return need;
}

/* A JSON string of s, every byte of an invalid UTF-8 sequence replaced by
 * U+FFFD.  NULL only on allocation failure. */
static json_t *json_text(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0, k;
	char *tmp;
	json_t *j;

	while (i < n && (k = utf8_seq(u + i, n - i)) > 0)
		i += k;
	if (i == n)
		return json_stringn_nocheck(s, n);
	tmp = malloc(3 * n + 1);
	if (!tmp)
		return NULL;
	for (i = 0; i < n;) {
		k = utf8_seq(u + i, n - i);
		if (k) {
			memcpy(tmp + o, s + i, k);
			o += k;
			i += k;
		} else {
			memcpy(tmp + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	j = json_stringn_nocheck(tmp, o);
	free(tmp);
	return j;
}

/* jansson integers are signed 64-bit: NULL above 2^63-1 */
static json_t *json_u64(uint64_t v)
{
	if (v > (uint64_t)INT64_MAX)
		return NULL;
	return json_integer((json_int_t)v);
}


static uint64_t detail_mask(void)
{
	uint64_t m = 0;

	for (int f = 0; f < JV_F_COUNT; f++)
		if (jv_evl_is_detail((enum jv_event_field)f))
			m |= (uint64_t)1 << f;
	return m;
}

/* JSON value of field f; NULL with *rc set on failure. */
static json_t *field_json(const struct jv_event *ev, enum jv_event_field f,
			  int *rc)
{
	const void *p = jv_evl_field_ptr(ev, f);
	json_t *j = NULL;

	*rc = JV_ERR_NOMEM;
	switch ((enum jv_field_kind)jv_event_field_kind(f)) {
	case JV_KIND_STR: {
		const char *s = jv_evl_field_str(ev, f);

		return s ? json_text(s) : json_null();
	}
	case JV_KIND_U64: {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		if (v > (uint64_t)INT64_MAX)
			*rc = JV_ERR_INVAL;
		return json_u64(v);
	}
	case JV_KIND_F64: {
		double v;

		memcpy(&v, p, sizeof(v));
		if (!isfinite(v)) {
			*rc = JV_ERR_INVAL;
			return NULL;
		}
		return json_real(v);
	}
	case JV_KIND_BOOL: {
		bool v;

		memcpy(&v, p, sizeof(v));
		return json_boolean(v);
	}
	case JV_KIND_STATE: {
		enum jv_state v;

		memcpy(&v, p, sizeof(v));
		if (!jv_state_name(v)) {
			*rc = JV_ERR_INVAL;
			return NULL;
		}
		return json_string(jv_state_name(v));
	}
	case JV_KIND_REASON:
		/* checked by jv_event_check */
		return json_string(jv_reason_name(ev->reason_code));
	case JV_KIND_POLICY:
		if (ev->policy)
			j = jv_policy_to_json(ev->policy);
		if (!j)
			*rc = JV_ERR_INVAL;
		return j;
	}
	*rc = JV_ERR_INVAL;
	return NULL;
}

/* Add the present fields, top level (details == false) or details.x. */
static int add_fields(json_t *obj, const struct jv_event *ev, bool details)
{
	int rc;

	for (int f = 0; f < JV_F_COUNT; f++) {
		const char *name = jv_event_field_name(f);
		json_t *v;

		if (!(ev->set & ((uint64_t)1 << f)) ||
		    jv_evl_is_detail((enum jv_event_field)f) != details)
			continue;
		v = field_json(ev, (enum jv_event_field)f, &rc);
		if (!v)
			return rc;
		if (json_object_set_new_nocheck(obj, details ? name + 8 : name,
						v))
			return JV_ERR_NOMEM;
	}
	return 0;
}

static int set_new(json_t *obj, const char *key, json_t *v)
{
	return json_object_set_new_nocheck(obj, key, v) ? JV_ERR_NOMEM : 0;
}

int jv_event_format(const struct jv_event_origin *origin,
		    const struct jv_event *ev, uint64_t seq,
		    const char *prev_hash, char *buf, size_t cap, size_t *len)
{
	json_t *root = NULL, *details = NULL;
	char scratch[JV_EVENT_LINE_MAX];
	size_t need;
	int rc;

	if (!len)
		return JV_ERR_INVAL;
	*len = 0;
	if (!origin || !ev || !buf ||
	    !jv_evl_is_lower_hex(origin->session_id, 2 * JV_SESSION_ID_BYTES) ||
	    !jv_evl_text_ok(origin->node_id, JV_NODE_ID_MAX) ||
	    !jv_evl_text_ok(origin->policy_version, JV_POLICY_VERSION_MAX) ||
	    (origin->role != JV_ROLE_CLIENT && origin->role != JV_ROLE_GATEWAY) ||
	    !jv_evl_is_lower_hex(prev_hash, JV_HASH_HEX - 1) ||
	    ev->ts_ms > (uint64_t)INT64_MAX ||
	    ev->state_version > (uint64_t)INT64_MAX || seq > (uint64_t)INT64_MAX)
		return JV_ERR_INVAL;
	rc = jv_event_check(ev, NULL, 0);
	if (rc)
		return rc;

	rc = JV_ERR_NOMEM;
	root = json_object();
	if (!root)
		goto out;
	if ((rc = set_new(root, "ts_ms", json_u64(ev->ts_ms))) ||
	    (rc = set_new(root, "event_type",
			  json_string(jv_event_type_name(ev->type)))) ||
	    (rc = set_new(root, "session_id", json_string(origin->session_id))) ||
	    (rc = set_new(root, "node_id", json_text(origin->node_id))) ||
	    (rc = set_new(root, "role", json_string(jv_role_name(origin->role)))) ||
	    (rc = set_new(root, "policy_version",
			  json_text(origin->policy_version))) ||
	    (rc = set_new(root, "state_version", json_u64(ev->state_version))) ||
	    (rc = add_fields(root, ev, false)))
		goto out;
	if (ev->set & detail_mask()) {
		rc = JV_ERR_NOMEM;
		details = json_object();
		if (!details || (rc = add_fields(details, ev, true)))
			goto out;
		rc = set_new(root, "details", details);
		details = NULL;		/* owned by root, even on failure */
		if (rc)
			goto out;
	}
	if ((rc = set_new(root, "seq", json_u64(seq))) ||
	    (rc = set_new(root, "prev_hash", json_string(prev_hash))))
		goto out;

	/* Dumped once, into scratch, so a short buffer is left untouched;
	 * only a line longer than any the log writes is dumped twice. */
	rc = JV_ERR_NOMEM;
	need = json_dumpb(root, scratch, sizeof scratch, JV_JSON_FLAGS);
	if (need == 0)
		goto out;
	rc = JV_ERR_NOSPACE;
	if (need >= cap)
		goto out;
	if (need <= sizeof scratch) {
		memcpy(buf, scratch, need);
	} else {
		rc = JV_ERR_NOMEM;
		if (json_dumpb(root, buf, need, JV_JSON_FLAGS) != need)
			goto out;
	}
	buf[need] = '\0';
	*len = need;
	rc = 0;
out:
	json_decref(details);
	json_decref(root);
	return rc;
}

void jv_eventlog_hash(const char *line, size_t len, char out[JV_HASH_HEX])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), (const unsigned char *)line, len,
			   NULL, 0);
	sodium_bin2hex(out, JV_HASH_HEX, h, sizeof(h));
}

void jv_eventlog_init(struct jv_eventlog *log, struct jv_sink sink)
{
	memset(log, 0, sizeof(*log));
	log->sink = sink;
	memset(log->prev_hash, '0', JV_HASH_HEX - 1);
}

void jv_eventlog_append(struct jv_eventlog *log,
			const struct jv_event_origin *origin,
			const struct jv_event *ev)
{
	size_t len;
	int rc;

	/* cap leaves one byte after the line for '\n' (it replaces the NUL) */
	rc = jv_event_format(origin, ev, log->seq, log->prev_hash, log->line,
			     sizeof(log->line), &len);
	/* The chain advances whatever happens next, so that any line that
	 * does not reach the file is visible to the auditor (PD-1): a seq
	 * gap, and for a sink failure also a prev_hash break. */
	log->seq++;
	if (rc) {
		log->rejected++;
		return;
	}
	jv_eventlog_hash(log->line, len, log->prev_hash);
	log->line[len] = '\n';
	/* best effort, never retried nor reported (§8.4) */
	if (!log->sink.write || log->sink.write(log->sink.ud, log->line, len + 1))
		log->sink_failures++;
	else
		log->lines_written++;
}
