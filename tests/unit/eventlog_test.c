/* SPDX-License-Identifier: MIT */
/*
 * The event log: per-type tables, the line writer (golden bytes, escaping,
 * short buffers, allocation failure), the hash chain (PD-1) and the strict
 * reader.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "jvpn/eventlog.h"

static const struct jv_event_origin gw = {
	.session_id = "00112233445566778899aabbccddeeff",
	.node_id = "gw-1",
	.policy_version = "1.0",
	.role = JV_ROLE_GATEWAY,
};

static char zeros[JV_HASH_HEX];

/* A sink that keeps every line in memory and can be told to fail. */
struct mem_sink {
	char buf[65536];
	size_t len;
	unsigned calls;
	unsigned fail_call;	/* 1-based call that fails; 0 = never */
};

static int mem_write(void *ud, const char *line, size_t len)
{
	struct mem_sink *m = ud;

	m->calls++;
	if (m->calls == m->fail_call)
		return -1;
	if (m->len + len > sizeof(m->buf))
		return -1;
	memcpy(m->buf + m->len, line, len);
	m->len += len;
	return 0;
}

/* Line i (0-based) of a buffer of '\n'-terminated lines. */
static const char *nth_line(const char *buf, size_t n, unsigned i, size_t *len)
{
	const char *p = buf, *end = buf + n, *nl;

	for (;;) {
		nl = memchr(p, '\n', (size_t)(end - p));
		assert_non_null(nl);
		if (i-- == 0) {
			*len = (size_t)(nl - p);
			return p;
		}
		p = nl + 1;
	}
}

static void state_change(struct jv_event *ev, jv_time ts, uint64_t ver)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = JV_EV_SESSION_STATE_CHANGE;
	ev->ts_ms = ts;
	ev->state_version = ver;
	JV_EV_SET(ev, reason_code, JV_REASON_LOSS_RECOVERY);
	JV_EV_SET(ev, previous_state, JV_STATE_VOLATILE);
	JV_EV_SET(ev, new_state, JV_STATE_RECOVERING);
	JV_EV_SET(ev, from_transport, "p1");
	JV_EV_SET(ev, candidate_set_size, 2);
	JV_EV_SET(ev, candidate_transport, "p2");
	JV_EV_SET(ev, loss_ratio, 0.15);
	JV_EV_SET(ev, heartbeat_age_ms, 600);
}

#define GOLDEN                                                            \
	"{\"ts_ms\":1700000000123,\"event_type\":\"SessionStateChange\","  \
	"\"session_id\":\"00112233445566778899aabbccddeeff\","            \
	"\"node_id\":\"gw-1\",\"role\":\"gateway\",\"policy_version\":\"1.0\"," \
	"\"state_version\":3,\"reason_code\":\"loss_recovery\","           \
	"\"previous_state\":\"VOLATILE\",\"new_state\":\"RECOVERING\","    \
	"\"from_transport\":\"p1\",\"candidate_set_size\":2,"              \
	"\"candidate_transport\":\"p2\",\"loss_ratio\":0.15,"              \
	"\"heartbeat_age_ms\":600,\"seq\":7,\"prev_hash\":\""              \
	"0000000000000000000000000000000000000000000000000000000000000000\"}"

static struct jv_policy test_policy;

/*
 * An event of type t with every field its type allows, each with a value
 * its kind and the type's table accept.
 */
/* A public key as the config writes it ('+' and '/' included). */
#define TEST_KEY "q+/VVmQc3cPU8L8rXkxPm2NQcB3p1DgJSNkhuvI0o0s="

static void full_event(struct jv_event *ev, enum jv_event_type t)
{
	const struct jv_event_spec *sp = jv_event_spec(t);
	static char text[JV_F_COUNT][32];

	memset(ev, 0, sizeof(*ev));
	ev->type = t;
	ev->ts_ms = 1000 + t;
	ev->state_version = t;
	for (int f = 0; f < JV_F_COUNT; f++) {
		const char *const *vals = jv_event_field_values(t, f);
		const char *s = text[f];

		if (!(sp->allowed & ((uint64_t)1 << f)))
			continue;
		ev->set |= (uint64_t)1 << f;
		if (jv_event_field_kind(f) != JV_KIND_STR)
			continue;
		snprintf(text[f], sizeof(text[f]), "v-%s",
			 jv_event_field_name(f));
		if (vals)
			s = vals[0];
		/* one nullable string, to cover null */
		if (f == JV_F_previous_transport)
			s = NULL;
		switch (f) {
#define SETS_STR(member) case JV_F_##member: ev->member = s; break;
#define SETS_U64(member)
#define SETS_F64(member)
#define SETS_BOOL(member)
#define SETS_STATE(member)
#define SETS_REASON(member)
#define SETS_POLICY(member)
#define SETS_(member, json, kind) SETS_##kind(member)
		JV_EVENT_FIELDS(SETS_)
#undef SETS_
		}
	}
	/* the non-string kinds, typed */
#define SET_IF_(member, value)                                              \
	do {                                                                \
		if (ev->set & JV_FBIT(member))                              \
			ev->member = (value);                               \
	} while (0)
	SET_IF_(state, JV_STATE_BIRTH);
	SET_IF_(previous_state, JV_STATE_ATTACHED);
	SET_IF_(new_state, JV_STATE_VOLATILE);
	SET_IF_(candidate_set_size, 3);
	SET_IF_(loss_ratio, 0.15);
	SET_IF_(latency_estimate_ms, 42);
	SET_IF_(consecutive_drops, 3);
	SET_IF_(heartbeat_age_ms, 2001);
	SET_IF_(candidate_count, 2);
	SET_IF_(switch_latency_ms, 120);
	SET_IF_(explicit, true);
	SET_IF_(auditable, true);
	SET_IF_(switch_count_window, 4);
	SET_IF_(attempts, 2);
	SET_IF_(recovery_deadline_ms, 9000);
	SET_IF_(nonce, 77);
	SET_IF_(attempt, 1);
	SET_IF_(retryable, false);
	SET_IF_(session_age_ms, 123456);
	SET_IF_(transportless_age_ms, 0);
	SET_IF_(total_switches, 5);
	SET_IF_(key_epoch, 2);
	SET_IF_(owner_epoch, 9);
	SET_IF_(expected_state_version, 4);
	SET_IF_(actual_state_version, 5);
	SET_IF_(threshold_value, 0.2);
	SET_IF_(observed_value, 0.35);
	SET_IF_(suppressed_count, 17);
	SET_IF_(policy, &test_policy);
	SET_IF_(peer_public_key, TEST_KEY);
	SET_IF_(remote_addr, "198.18.1.2:40001");
#undef SET_IF_
	if (ev->set & JV_FBIT(reason_code)) {
		ev->reason_code = JV_REASON_LOSS_THRESHOLD_EXCEEDED;
		for (int r = 0; sp->reasons && r < JV_REASON_COUNT; r++)
			if (sp->reasons & JV_REASON_BIT(r)) {
				ev->reason_code = (enum jv_reason)r;
				break;
			}
	}
}

static void assert_events_equal(const struct jv_event *a,
				const struct jv_event *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->ts_ms, b->ts_ms);
	assert_int_equal(a->state_version, b->state_version);
	assert_int_equal(a->set, b->set);
#define CMP_STR(m)                                                          \
	do {                                                                \
		if (!a->m || !b->m)                                         \
			assert_ptr_equal(a->m, b->m);                       \
		else                                                        \
			assert_string_equal(a->m, b->m);                   \
	} while (0)
#define CMP_U64(m) assert_int_equal(a->m, b->m)
#define CMP_F64(m) assert_true(a->m == b->m)
#define CMP_BOOL(m) assert_int_equal(a->m, b->m)
#define CMP_STATE(m) assert_int_equal(a->m, b->m)
#define CMP_REASON(m) assert_int_equal(a->m, b->m)
#define CMP_POLICY(m) assert_true(!a->m == !b->m && (!a->m || jv_policy_equal(a->m, b->m)))
#define CMP_(member, json, kind)                                            \
	if (a->set & JV_FBIT(member))                                       \
		CMP_##kind(member);
	JV_EVENT_FIELDS(CMP_)
#undef CMP_
}

/* ---- tables ----------------------------------------------------------- */

static void tables_are_complete_and_consistent(void **st)
{
	uint64_t used = 0;

	(void)st;
	for (int t = 0; t < JV_EV_COUNT; t++) {
		const struct jv_event_spec *sp = jv_event_spec(t);
		bool reason_allowed = sp->allowed & JV_FBIT(reason_code);

		assert_non_null(sp);
		assert_non_null(sp->emitted);
		assert_int_equal(sp->required & ~sp->allowed, 0);
		assert_int_equal(sp->required & JV_FBIT(reason_code), 0);
		assert_int_equal(reason_allowed,
				 sp->reason_rule != JV_REASON_FORBIDDEN);
		if (sp->reasons)
			assert_true(reason_allowed);
		assert_int_equal(sp->reason_rule == JV_REASON_ON_STATUS,
				 sp->reason_status != NULL);
		if (sp->reason_status) {
			const char *const *v = jv_event_field_values(t, JV_F_status);
			bool found = false;

			assert_non_null(v);
			for (; *v; v++)
				found |= strcmp(*v, sp->reason_status) == 0;
			assert_true(found);
		}
		/* INV-17: no event may carry everything */
		assert_true(sp->allowed != ~(uint64_t)0);
		used |= sp->allowed;
	}
	assert_null(jv_event_spec(JV_EV_COUNT));
	/* every field belongs to some type */
	assert_int_equal(used, (JV_F_COUNT == 64 ? ~(uint64_t)0 :
				(((uint64_t)1 << JV_F_COUNT) - 1)));
	for (int f = 0; f < JV_F_COUNT; f++) {
		assert_int_equal(jv_event_field_from_name(jv_event_field_name(f)), f);
		assert_in_range(jv_event_field_kind(f), JV_KIND_STR, JV_KIND_POLICY);
	}
	assert_int_equal(jv_event_field_from_name("payload"), -1);
	assert_null(jv_event_field_name(JV_F_COUNT));
	assert_int_equal(jv_event_field_kind(JV_F_COUNT), -1);
}

static void inv13_reason_rules(void **st)
{
	static const enum jv_event_type required[] = {
		JV_EV_SESSION_STATE_CHANGE, JV_EV_SESSION_TERMINATED,
		JV_EV_TRANSPORT_SWITCH_DENIED, JV_EV_TRANSPORT_SWITCH_FAILED,
		JV_EV_SECURITY_VALIDATION_FAILED,
		JV_EV_SECURITY_REPLAY_DETECTED,
		JV_EV_SECURITY_KEY_COMPROMISE_SUSPECTED, JV_EV_KEY_ROTATED,
		JV_EV_KEY_EXPIRED, JV_EV_REKEY_DENIED,
		JV_EV_SESSION_OWNER_REJECTED, JV_EV_SESSION_OWNER_CONFLICT,
		JV_EV_POLICY_LIMIT_TRIGGERED, JV_EV_TRANSPORT_ATTACHED,
		JV_EV_TRANSPORT_DEAD, JV_EV_TRANSPORT_SWITCH,
	};

	(void)st;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		assert_int_equal(jv_event_spec(required[i])->reason_rule,
				 JV_REASON_REQUIRED);
	assert_int_equal(jv_event_spec(JV_EV_REATTACH_RESULT)->reason_rule,
			 JV_REASON_ON_STATUS);
	assert_string_equal(jv_event_spec(JV_EV_REATTACH_RESULT)->reason_status,
			    "DENIED");
	assert_string_equal(jv_event_spec(JV_EV_POLICY_UPDATE)->reason_status,
			    "REJECTED");
	/* the fixed codes of §8.2 */
	assert_int_equal(jv_event_spec(JV_EV_TRANSPORT_ATTACHED)->reasons,
			 JV_REASON_BIT(JV_REASON_ATTACHED_TO_TRANSPORT));
	assert_int_equal(jv_event_spec(JV_EV_TRANSPORT_DEAD)->reasons,
			 JV_REASON_BIT(JV_REASON_TRANSPORT_DEAD));
	assert_int_equal(jv_event_spec(JV_EV_TRANSPORT_SWITCH)->reasons,
			 JV_REASON_BIT(JV_REASON_REATTACH_SUCCESS));
	assert_int_equal(jv_event_spec(JV_EV_SESSION_CREATED)->reason_rule,
			 JV_REASON_FORBIDDEN);
}

static void check_enforces_table(void **st)
{
	struct jv_event ev;
	char why[200];

	(void)st;
	state_change(&ev, 1, 1);
	assert_int_equal(jv_event_check(&ev, why, sizeof(why)), 0);

	/* a field the type does not allow (INV-17 allow-list) */
	JV_EV_SET(&ev, nonce, 5);
	assert_int_equal(jv_event_check(&ev, why, sizeof(why)), JV_ERR_INVAL);
	assert_non_null(strstr(why, "'nonce' is not allowed in SessionStateChange"));

	/* missing reason (INV-13) */
	state_change(&ev, 1, 1);
	ev.set &= ~JV_FBIT(reason_code);
	assert_int_equal(jv_event_check(&ev, why, sizeof(why)), JV_ERR_INVAL);
	assert_non_null(strstr(why, "requires a reason_code"));

	/* reason not of the type's set */
	memset(&ev, 0, sizeof(ev));
	ev.type = JV_EV_TRANSPORT_ATTACHED;
	JV_EV_SET(&ev, transport_id, "p1");
	JV_EV_SET(&ev, reason_code, JV_REASON_TRANSPORT_DEAD);
	assert_int_equal(jv_event_check(&ev, why, sizeof(why)), JV_ERR_INVAL);
	assert_non_null(strstr(why, "'transport_dead' is not one TransportAttached"));
	ev.reason_code = JV_REASON_ATTACHED_TO_TRANSPORT;
	assert_int_equal(jv_event_check(&ev, NULL, 0), 0);
	/* a required field missing */
	ev.set &= ~JV_FBIT(transport_id);
	assert_int_equal(jv_event_check(&ev, why, sizeof(why)), JV_ERR_INVAL);
	assert_non_null(strstr(why, "requires field 'transport_id'"));

	/* reason needed only when DENIED */
	memset(&ev, 0, sizeof(ev));
	ev.type = JV_EV_REATTACH_RESULT;
	JV_EV_SET(&ev, status, "SUCCESS");
	assert_int_equal(jv_event_check(&ev, NULL, 0), 0);
	ev.status = "DENIED";
	assert_int_equal(jv_event_check(&ev, why, sizeof(why)), JV_ERR_INVAL);
	assert_non_null(strstr(why, "with status DENIED requires a reason_code"));
	JV_EV_SET(&ev, reason_code, JV_REASON_BAD_PROOF);
	assert_int_equal(jv_event_check(&ev, NULL, 0), 0);
	ev.status = "MAYBE";
	assert_int_equal(jv_event_check(&ev, why, sizeof(why)), JV_ERR_INVAL);
	assert_non_null(strstr(why, "'status' of ReattachResult must be one of"));
	ev.status = NULL;
	assert_int_equal(jv_event_check(&ev, NULL, 0), JV_ERR_INVAL);

	/* the none-reason and an out-of-catalogue one */
	ev.status = "DENIED";
	ev.reason_code = JV_REASON_NONE;
	assert_int_equal(jv_event_check(&ev, why, sizeof(why)), JV_ERR_INVAL);
	assert_non_null(strstr(why, "not in the catalogue"));
	ev.type = JV_EV_COUNT;
	assert_int_equal(jv_event_check(&ev, why, sizeof(why)), JV_ERR_INVAL);
}

/* ---- writer ----------------------------------------------------------- */

static void golden_state_change_line(void **st)
{
	struct jv_event ev;
	char buf[JV_EVENT_LINE_MAX];
	size_t len = 99;

	(void)st;
	state_change(&ev, 1700000000123u, 3);
	assert_int_equal(jv_event_format(&gw, &ev, 7, zeros, buf, sizeof(buf),
					 &len), 0);
	assert_string_equal(buf, GOLDEN);
	assert_int_equal(len, strlen(GOLDEN));

	/* same inputs, same bytes (spec §2.4) */
	char again[JV_EVENT_LINE_MAX];
	size_t len2;

	assert_int_equal(jv_event_format(&gw, &ev, 7, zeros, again,
					 sizeof(again), &len2), 0);
	assert_memory_equal(buf, again, len + 1);
}

static void hash_is_blake2b_256_hex(void **st)
{
	char h[JV_HASH_HEX];

	(void)st;
	jv_eventlog_hash("abc", 3, h);
	assert_string_equal(h, "bddd813c634239723171ef3fee98579b"
			       "94964e3bb1cb3e427262c8c068d52319");
}

static void round_trip_every_type(void **st)
{
	(void)st;
	for (int t = 0; t < JV_EV_COUNT; t++) {
		struct jv_event ev;
		struct jv_parsed_event p;
		struct jv_diag d;
		char buf[JV_EVENT_LINE_MAX], again[JV_EVENT_LINE_MAX];
		char prev[JV_HASH_HEX];
		size_t len, len2;

		full_event(&ev, t);
		jv_eventlog_hash("x", 1, prev);
		assert_int_equal(jv_event_format(&gw, &ev, 1000 + t, prev, buf,
						 sizeof(buf), &len), 0);
		if (jv_event_parse(buf, len, &p, &d) != 0)
			fail_msg("%s: %s: %s", jv_event_type_name(t), d.key, d.msg);
		assert_string_equal(p.origin.session_id, gw.session_id);
		assert_string_equal(p.origin.node_id, gw.node_id);
		assert_string_equal(p.origin.policy_version, gw.policy_version);
		assert_int_equal(p.origin.role, gw.role);
		assert_int_equal(p.seq, 1000 + t);
		assert_string_equal(p.prev_hash, prev);
		assert_int_equal(!!p.policy_json, !!(ev.set & JV_FBIT(policy)));
		assert_events_equal(&ev, &p.ev);
		/* and the parsed event writes the very same line */
		assert_int_equal(jv_event_format(&p.origin, &p.ev, p.seq,
						 p.prev_hash, again,
						 sizeof(again), &len2), 0);
		assert_int_equal(len, len2);
		assert_memory_equal(buf, again, len);
		jv_parsed_event_free(&p);
		assert_null(p.root);
	}
}

static void details_are_nested_and_last(void **st)
{
	struct jv_event ev = { .type = JV_EV_TRANSPORT_DEAD, .ts_ms = 5 };
	char buf[JV_EVENT_LINE_MAX];
	size_t len;

	(void)st;
	JV_EV_SET(&ev, transport_id, "wifi");
	JV_EV_SET(&ev, reason_code, JV_REASON_TRANSPORT_DEAD);
	JV_EV_SET(&ev, detection, "silence");
	assert_int_equal(jv_event_format(&gw, &ev, 0, zeros, buf, sizeof(buf),
					 &len), 0);
	assert_non_null(strstr(buf, "\"state_version\":0,\"reason_code\":"
			       "\"transport_dead\",\"transport_id\":\"wifi\","
			       "\"details\":{\"detection\":\"silence\"},"
			       "\"seq\":0,\"prev_hash\":\"0000"));
}

static void reals_print_short_and_stable(void **st)
{
	struct jv_event ev = { .type = JV_EV_POLICY_LIMIT_TRIGGERED };
	struct jv_parsed_event p;
	char buf[JV_EVENT_LINE_MAX], again[JV_EVENT_LINE_MAX];
	size_t len, len2;

	(void)st;
	JV_EV_SET(&ev, reason_code, JV_REASON_LOSS_THRESHOLD_EXCEEDED);
	JV_EV_SET(&ev, policy_name, "loss_volatile_threshold");
	JV_EV_SET(&ev, threshold_value, 1.0);
	JV_EV_SET(&ev, observed_value, 2.0 / 3.0);
	assert_int_equal(jv_event_format(&gw, &ev, 0, zeros, buf, sizeof(buf),
					 &len), 0);
	assert_non_null(strstr(buf, "\"threshold_value\":1.0,"));
	assert_non_null(strstr(buf, "\"observed_value\":0.666666666666667,"));
	assert_int_equal(jv_event_parse(buf, len, &p, NULL), 0);
	assert_int_equal(jv_event_format(&p.origin, &p.ev, p.seq, p.prev_hash,
					 again, sizeof(again), &len2), 0);
	assert_string_equal(buf, again);
	jv_parsed_event_free(&p);

	/* not representable: refused, not written as something else */
	ev.observed_value = 1.0 / 0.0;
	assert_int_equal(jv_event_format(&gw, &ev, 0, zeros, buf, sizeof(buf),
					 &len), JV_ERR_INVAL);
	ev.observed_value = 0.5;
	ev.ts_ms = (uint64_t)INT64_MAX + 1;
	assert_int_equal(jv_event_format(&gw, &ev, 0, zeros, buf, sizeof(buf),
					 &len), JV_ERR_INVAL);
	ev.ts_ms = 0;
	JV_EV_SET(&ev, transport_id, "p");
	assert_int_equal(jv_event_format(&gw, &ev, 0, zeros, buf, sizeof(buf),
					 &len), 0);
}

static void origin_and_hash_are_validated(void **st)
{
	struct jv_event ev;
	struct jv_event_origin o = gw;
	char buf[JV_EVENT_LINE_MAX];
	size_t len;
	char node[JV_NODE_ID_MAX + 1];

	(void)st;
	state_change(&ev, 1, 1);
	o.session_id = "00112233445566778899AABBCCDDEEFF";
	assert_int_equal(jv_event_format(&o, &ev, 0, zeros, buf, sizeof(buf),
					 &len), JV_ERR_INVAL);
	o = gw;
	o.node_id = "";
	assert_int_equal(jv_event_format(&o, &ev, 0, zeros, buf, sizeof(buf),
					 &len), JV_ERR_INVAL);
	memset(node, 'n', JV_NODE_ID_MAX);
	node[JV_NODE_ID_MAX] = '\0';
	o.node_id = node;
	assert_int_equal(jv_event_format(&o, &ev, 0, zeros, buf, sizeof(buf),
					 &len), JV_ERR_INVAL);
	node[JV_NODE_ID_MAX - 1] = '\0';
	assert_int_equal(jv_event_format(&o, &ev, 0, zeros, buf, sizeof(buf),
					 &len), 0);
	o = gw;
	o.policy_version = NULL;
	assert_int_equal(jv_event_format(&o, &ev, 0, zeros, buf, sizeof(buf),
					 &len), JV_ERR_INVAL);
	o = gw;
	o.role = (enum jv_role)7;
	assert_int_equal(jv_event_format(&o, &ev, 0, zeros, buf, sizeof(buf),
					 &len), JV_ERR_INVAL);
	assert_int_equal(jv_event_format(&gw, &ev, 0, "00", buf, sizeof(buf),
					 &len), JV_ERR_INVAL);
	assert_int_equal(len, 0);
}

static void hostile_strings_are_escaped(void **st)
{
	static const char hostile[] = "a\"b\\c\nd\te\x01\x1f/\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";
	struct jv_event ev = { .type = JV_EV_TRANSPORT_ATTACHED, .ts_ms = 1 };
	struct jv_parsed_event p;
	struct jv_event_origin o = gw;
	char buf[JV_EVENT_LINE_MAX];
	size_t len;

	(void)st;
	JV_EV_SET(&ev, transport_id, hostile);
	JV_EV_SET(&ev, reason_code, JV_REASON_ATTACHED_TO_TRANSPORT);
	o.node_id = "n\"\\\r";
	assert_int_equal(jv_event_format(&o, &ev, 0, zeros, buf, sizeof(buf),
					 &len), 0);
	/* one line, no raw control character */
	for (size_t i = 0; i < len; i++)
		assert_true((unsigned char)buf[i] >= 0x20);
	assert_non_null(strstr(buf, "\"node_id\":\"n\\\"\\\\\\r\""));
	assert_non_null(strstr(buf, "\"transport_id\":\"a\\\"b\\\\c\\nd\\te"
			       "\\u0001\\u001F/\x7f\xc3\xa9\xe2\x82\xac"
			       "\xf0\x9f\x98\x80z\""));
	assert_int_equal(jv_event_parse(buf, len, &p, NULL), 0);
	assert_string_equal(p.ev.transport_id, hostile);
	assert_string_equal(p.origin.node_id, o.node_id);
	jv_parsed_event_free(&p);
}

static void invalid_utf8_is_replaced(void **st)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "ab\xff" "cd", "ab\xef\xbf\xbd" "cd" },
		/* overlong '/' : two bytes, two replacements */
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },
		/* UTF-16 surrogate half */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		/* truncated at the end */
		{ "x\xe2\x82", "x\xef\xbf\xbd\xef\xbf\xbd" },
		/* above U+10FFFF */
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		/* valid 4-byte stays */
		{ "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf" },
	};
	struct jv_event ev = { .type = JV_EV_TRANSPORT_ATTACHED, .ts_ms = 1 };
	char buf[JV_EVENT_LINE_MAX];
	size_t len;

	(void)st;
	JV_EV_SET(&ev, reason_code, JV_REASON_ATTACHED_TO_TRANSPORT);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jv_parsed_event p;
		struct jv_diag d;

		JV_EV_SET(&ev, transport_id, cases[i].in);
		assert_int_equal(jv_event_format(&gw, &ev, 0, zeros, buf,
						 sizeof(buf), &len), 0);
		/* the line is valid JSON and UTF-8: the strict reader takes it */
		if (jv_event_parse(buf, len, &p, &d))
			fail_msg("case %zu: %s", i, d.msg);
		assert_string_equal(p.ev.transport_id, cases[i].out);
		jv_parsed_event_free(&p);
	}
}

static void short_buffer_writes_nothing(void **st)
{
	struct jv_event ev;
	char buf[JV_EVENT_LINE_MAX];
	size_t need, len = 55;

	(void)st;
	state_change(&ev, 1700000000123u, 3);
	need = strlen(GOLDEN);
	memset(buf, 'Z', sizeof(buf));
	/* room for the line but not its NUL */
	assert_int_equal(jv_event_format(&gw, &ev, 7, zeros, buf, need, &len),
			 JV_ERR_NOSPACE);
	assert_int_equal(len, 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 'Z');
	assert_int_equal(jv_event_format(&gw, &ev, 7, zeros, buf, 0, &len),
			 JV_ERR_NOSPACE);
	assert_int_equal(jv_event_format(&gw, &ev, 7, zeros, buf, need + 1,
					 &len), 0);
	assert_int_equal(len, need);
	assert_string_equal(buf, GOLDEN);
}

/* ---- allocation failure ----------------------------------------------- */

static int alloc_budget = -1;	/* allocations left; -1 = unlimited */

static void *counted_malloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return malloc(n);
}

static void format_and_parse_survive_allocation_failure(void **st)
{
	struct jv_event ev;
	char buf[JV_EVENT_LINE_MAX];
	size_t len;
	int rc, n;

	(void)st;
	state_change(&ev, 1700000000123u, 3);
	JV_EV_SET(&ev, from_transport, "bad\xff utf8 takes the slow path");
	json_set_alloc_funcs(counted_malloc, free);
	for (n = 0;; n++) {
		alloc_budget = n;
		memset(buf, 'Z', 8);
		rc = jv_event_format(&gw, &ev, 7, zeros, buf, sizeof(buf), &len);
		if (rc == 0)
			break;
		assert_int_equal(rc, JV_ERR_NOMEM);
		assert_int_equal(len, 0);
		assert_memory_equal(buf, "ZZZZZZZZ", 8);
		assert_true(n < 1000);
	}
	assert_true(n > 0);
	for (n = 0;; n++) {
		struct jv_parsed_event p;

		alloc_budget = n;
		rc = jv_event_parse(buf, len, &p, NULL);
		if (rc == 0) {
			jv_parsed_event_free(&p);
			break;
		}
		/* jansson reports most of its allocation failures as
		 * syntax errors: the reader cannot tell them apart */
		assert_true(rc == JV_ERR_NOMEM || rc == JV_ERR_PARSE);
		assert_null(p.root);
		assert_true(n < 1000);
	}
	assert_true(n > 0);
}

static int restore_alloc(void **st)
{
	(void)st;
	alloc_budget = -1;
	json_set_alloc_funcs(malloc, free);
	return 0;
}

/* ---- log and chain ---------------------------------------------------- */

static struct mem_sink sink;

static int setup_sink(void **st)
{
	(void)st;
	memset(&sink, 0, sizeof(sink));
	return 0;
}

static void append_three(struct jv_eventlog *log)
{
	struct jv_event ev;

	jv_eventlog_init(log, (struct jv_sink){ mem_write, &sink });
	for (unsigned i = 0; i < 3; i++) {
		state_change(&ev, 100 + i, i + 1);
		jv_eventlog_append(log, &gw, &ev);
	}
}

/* Run the checker over buf; returns the 1-based line of the first error
 * (0: none) and leaves its diagnostic in d. */
static unsigned check_all(const char *buf, size_t n, struct jv_diag *d,
			  unsigned *nerrors)
{
	struct jv_chain_check cc;
	unsigned first = 0, line = 0;
	const char *p = buf, *end = buf + n;
	struct jv_diag tmp;

	jv_chain_check_init(&cc);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		assert_non_null(nl);
		line++;
		if (jv_chain_check_line(&cc, p, (size_t)(nl - p), line,
					first ? &tmp : d) && !first)
			first = line;
		p = nl + 1;
	}
	*nerrors = (unsigned)cc.errors;
	assert_int_equal(cc.lines, line);
	return first;
}

static void chain_links_three_lines(void **st)
{
	struct jv_eventlog log;
	struct jv_diag d;
	char h[JV_HASH_HEX];
	const char *l;
	size_t len;
	unsigned nerr;

	(void)st;
	append_three(&log);
	assert_int_equal(log.seq, 3);
	assert_int_equal(log.lines_written, 3);
	assert_int_equal(log.sink_failures, 0);
	assert_int_equal(log.rejected, 0);
	assert_int_equal(sink.calls, 3);

	l = nth_line(sink.buf, sink.len, 0, &len);
	assert_non_null(strstr(l, "\"seq\":0,\"prev_hash\":\"0000000000"));
	jv_eventlog_hash(l, len, h);
	l = nth_line(sink.buf, sink.len, 1, &len);
	assert_non_null(strstr(l, "\"seq\":1,"));
	assert_non_null(strstr(l, h));
	assert_int_equal(l[len], '\n');
	l = nth_line(sink.buf, sink.len, 2, &len);
	jv_eventlog_hash(l, len, h);
	assert_string_equal(log.prev_hash, h);

	assert_int_equal(check_all(sink.buf, sink.len, &d, &nerr), 0);
	assert_int_equal(nerr, 0);
}

static void chain_detects_edited_line(void **st)
{
	struct jv_eventlog log;
	struct jv_diag d;
	char *p;
	unsigned nerr;

	(void)st;
	append_three(&log);
	/* ts_ms 101 -> 109 on line 2: line 2 still links, line 3 does not */
	p = strstr(sink.buf, "\"ts_ms\":101,");
	assert_non_null(p);
	p[10] = '9';
	assert_int_equal(check_all(sink.buf, sink.len, &d, &nerr), 3);
	assert_int_equal(nerr, 1);
	assert_int_equal(d.line, 3);
	assert_string_equal(d.key, "prev_hash");
	assert_non_null(strstr(d.msg, "previous line"));
}

static void chain_detects_deleted_line(void **st)
{
	struct jv_eventlog log;
	struct jv_diag d;
	const char *l2, *l3;
	size_t len2, len3;
	char buf[sizeof(sink.buf)];
	size_t n;
	unsigned nerr;

	(void)st;
	append_three(&log);
	l2 = nth_line(sink.buf, sink.len, 1, &len2);
	l3 = nth_line(sink.buf, sink.len, 2, &len3);
	n = (size_t)(l2 - sink.buf);
	memcpy(buf, sink.buf, n);
	memcpy(buf + n, l3, len3 + 1);
	n += len3 + 1;
	assert_int_equal(check_all(buf, n, &d, &nerr), 2);
	assert_int_equal(nerr, 1);
	assert_string_equal(d.key, "seq");
	assert_non_null(strstr(d.msg, "seq gap: expected 1, found 2 (1 line(s) missing)"));

	/* the last line deleted cannot be seen from the file alone, the
	 * first one can */
	assert_int_equal(check_all(l2, sink.len - (size_t)(l2 - sink.buf), &d,
				   &nerr), 1);
	assert_non_null(strstr(d.msg, "seq gap: expected 0, found 1"));
}

static void chain_detects_swapped_pair(void **st)
{
	struct jv_eventlog log;
	struct jv_diag d;
	const char *l2, *l3;
	size_t len2, len3, n;
	char buf[sizeof(sink.buf)];
	unsigned nerr;
	struct jv_chain_check cc;

	(void)st;
	append_three(&log);
	l2 = nth_line(sink.buf, sink.len, 1, &len2);
	l3 = nth_line(sink.buf, sink.len, 2, &len3);
	n = (size_t)(l2 - sink.buf);
	memcpy(buf, sink.buf, n);
	memcpy(buf + n, l3, len3 + 1);
	memcpy(buf + n + len3 + 1, l2, len2 + 1);
	n += len2 + len3 + 2;
	assert_int_equal(check_all(buf, n, &d, &nerr), 2);
	assert_int_equal(nerr, 2);

	/* the second error says the order went back */
	jv_chain_check_init(&cc);
	assert_int_equal(jv_chain_check_line(&cc, sink.buf, (size_t)(l2 - sink.buf) - 1, 1, &d), 0);
	assert_int_equal(jv_chain_check_line(&cc, l3, len3, 2, &d), JV_ERR_AUTH);
	assert_int_equal(jv_chain_check_line(&cc, l2, len2, 3, &d), JV_ERR_AUTH);
	assert_int_equal(d.line, 3);
	assert_non_null(strstr(d.msg, "seq goes back: expected 3, found 1"));
}

static void chain_first_line_and_unreadable(void **st)
{
	struct jv_chain_check cc;
	struct jv_diag d;
	struct jv_event ev;
	char buf[JV_EVENT_LINE_MAX], h[JV_HASH_HEX];
	size_t len;

	(void)st;
	state_change(&ev, 1, 1);
	jv_eventlog_hash("whatever", 8, h);
	assert_int_equal(jv_event_format(&gw, &ev, 0, h, buf, sizeof(buf),
					 &len), 0);
	jv_chain_check_init(&cc);
	assert_int_equal(jv_chain_check_line(&cc, buf, len, 1, &d), JV_ERR_AUTH);
	assert_non_null(strstr(d.msg, "first line of a file must have 64 zeros"));

	jv_chain_check_init(&cc);
	assert_int_equal(jv_chain_check_line(&cc, "{\"seq\":0}", 9, 4, &d),
			 JV_ERR_PARSE);
	assert_int_equal(d.line, 4);
	assert_non_null(strstr(d.msg, "no readable seq"));
	assert_int_equal(jv_chain_check_line(&cc, "garbage", 7, 5, &d),
			 JV_ERR_PARSE);
	assert_int_equal(cc.errors, 2);
	assert_int_equal(cc.next_seq, 2);
}

static void sink_failure_counted_chain_advances(void **st)
{
	struct jv_eventlog log;
	struct jv_event ev;
	struct jv_diag d;
	char lost[JV_EVENT_LINE_MAX], h[JV_HASH_HEX];
	size_t len;
	unsigned nerr;

	(void)st;
	sink.fail_call = 2;
	jv_eventlog_init(&log, (struct jv_sink){ mem_write, &sink });
	for (unsigned i = 0; i < 4; i++) {
		state_change(&ev, 100 + i, i + 1);
		if (i == 1) {
			char prev[JV_HASH_HEX];

			memcpy(prev, log.prev_hash, sizeof(prev));
			assert_int_equal(jv_event_format(&gw, &ev, 1, prev, lost,
							 sizeof(lost), &len), 0);
		}
		jv_eventlog_append(&log, &gw, &ev);
		if (i == 1) {
			/* the lost line is chained all the same */
			jv_eventlog_hash(lost, len, h);
			assert_string_equal(log.prev_hash, h);
		}
	}
	assert_int_equal(log.seq, 4);
	assert_int_equal(log.sink_failures, 1);
	assert_int_equal(log.lines_written, 3);
	assert_int_equal(sink.calls, 4);
	/* the auditor sees the loss as a gap */
	assert_int_equal(check_all(sink.buf, sink.len, &d, &nerr), 2);
	assert_int_equal(nerr, 1);
	assert_non_null(strstr(d.msg, "seq gap: expected 1, found 2"));

	/* no sink at all: counted the same way */
	jv_eventlog_init(&log, (struct jv_sink){ NULL, NULL });
	jv_eventlog_append(&log, &gw, &ev);
	assert_int_equal(log.sink_failures, 1);
	assert_int_equal(log.seq, 1);
}

static void rejected_event_is_counted_not_written(void **st)
{
	struct jv_eventlog log;
	struct jv_event ev;
	static char huge[JV_EVENT_LINE_MAX + 10];
	char before[JV_HASH_HEX];

	(void)st;
	jv_eventlog_init(&log, (struct jv_sink){ mem_write, &sink });
	state_change(&ev, 1, 1);
	ev.set &= ~JV_FBIT(reason_code);	/* INV-13 broken */
	jv_eventlog_append(&log, &gw, &ev);
	state_change(&ev, 1, 1);
	JV_EV_SET(&ev, key_epoch, 3);		/* not allowed here */
	jv_eventlog_append(&log, &gw, &ev);
	state_change(&ev, 1, 1);
	memset(huge, 'h', sizeof(huge) - 1);
	JV_EV_SET(&ev, from_transport, huge);	/* line too long */
	memcpy(before, log.prev_hash, sizeof(before));
	jv_eventlog_append(&log, &gw, &ev);
	assert_int_equal(log.rejected, 3);
	assert_int_equal(log.seq, 3);
	assert_string_equal(log.prev_hash, before);
	assert_string_equal(log.prev_hash, zeros);
	assert_int_equal(sink.calls, 0);
	assert_int_equal(log.lines_written, 0);
}

/* ---- reader rejections ------------------------------------------------ */

/* src with its first `from` replaced by `to`. */
static void splice(char *out, size_t n, const char *src, const char *from,
		   const char *to)
{
	const char *p = strstr(src, from);

	assert_non_null(p);
	snprintf(out, n, "%.*s%s%s", (int)(p - src), src, to, p + strlen(from));
}

static void parse_accepts_golden(void **st)
{
	struct jv_parsed_event p;
	struct jv_event ev;
	struct jv_diag d;

	(void)st;
	assert_int_equal(jv_event_parse(GOLDEN, strlen(GOLDEN), &p, &d), 0);
	state_change(&ev, 1700000000123u, 3);
	assert_events_equal(&ev, &p.ev);
	assert_int_equal(p.seq, 7);
	assert_string_equal(p.prev_hash, zeros);
	assert_null(p.policy_json);
	jv_parsed_event_free(&p);
	jv_parsed_event_free(&p);	/* twice is harmless */
}

static void parse_rejects_bad_lines(void **st)
{
	static const struct {
		const char *from, *to;	/* edit of GOLDEN */
		const char *key, *msg;	/* expected diagnostic */
	} cases[] = {
		{ "\"seq\"", "\"payload\":\"AAAA\",\"seq\"", "payload", "unknown field" },
		{ "\"seq\"", "\"details\":{\"proof\":\"x\"},\"seq\"", "details.proof", "unknown field" },
		{ "\"seq\"", "\"details.origin\":\"peer\",\"seq\"", "details.origin", "unknown field" },
		{ "\"seq\"", "\"details\":[],\"seq\"", "details", "must be an object" },
		{ "\"seq\"", "\"nonce\":1,\"seq\"", "nonce", "not allowed in SessionStateChange" },
		{ "\"state_version\":3", "\"state_version\":\"3\"", "state_version", "integer >= 0" },
		{ "\"state_version\":3", "\"state_version\":-3", "state_version", "integer >= 0" },
		{ "\"state_version\":3", "\"state_version\":3.0", "state_version", "integer >= 0" },
		{ "\"loss_ratio\":0.15", "\"loss_ratio\":\"0.15\"", "loss_ratio", "must be a number" },
		{ "\"candidate_set_size\":2", "\"candidate_set_size\":true", "candidate_set_size", "integer" },
		{ "\"from_transport\":\"p1\"", "\"from_transport\":1", "from_transport", "string or null" },
		{ "SessionStateChange", "SessionExploded", "event_type", "unknown event type 'SessionExploded'" },
		{ "\"loss_recovery\"", "\"LOSS_RECOVERY\"", "reason_code", "unknown reason code 'LOSS_RECOVERY'" },
		{ "\"loss_recovery\"", "null", "reason_code", "reason code string" },
		{ "\"RECOVERING\"", "\"REATTACHING\"", "new_state", "unknown state 'REATTACHING'" },
		{ "\"reason_code\":\"loss_recovery\",", "", "reason_code", "requires a reason_code" },
		{ "\"new_state\":\"RECOVERING\",", "", "new_state", "requires field 'new_state'" },
		{ "\"ts_ms\":1700000000123", "\"ts_ms\":1700000000123,\"ts_ms\":1", "line", "duplicate" },
		{ "\"gw-1\",", "\"gw-1\",\"node_id\":\"gw-2\",", "line", "duplicate" },
		{ "\"}", "\"}x", "line", "trailing data" },
		{ "\"}", "\"} ", "line", "trailing data" },
		{ "\"}", "\"}{}", "line", "trailing data" },
		{ "\"}", "\"", "line", "not valid JSON" },
		{ "\"seq\":7,", "", "seq", "missing base field" },
		{ "\"prev_hash\"", "\"prev_hash_\"", "prev_hash", "missing base field" },
		{ "\"node_id\":\"gw-1\",", "", "node_id", "missing base field" },
		{ "\"role\":\"gateway\"", "\"role\":\"server\"", "role", "\"client\" or \"gateway\"" },
		{ "00112233445566778899aabbccddeeff", "00112233445566778899AABBCCDDEEFF", "session_id", "32 lowercase hex" },
		{ "\"1.0\"", "\"\"", "policy_version", "1 to 15 bytes" },
		{ "\"prev_hash\":\"0", "\"prev_hash\":\"g", "prev_hash", "64 lowercase hex" },
		{ "\"gw-1\"", "\"gw\xff\"", "line", "not valid JSON" },
		{ "\"gw-1\"", "\"gw\\u0000\"", "line", "not valid JSON" },
		{ "\"gw-1\"", "\"gw\n\"", "line", "line break" },
		{ "{\"ts_ms\"", "[{\"ts_ms\"", "line", "not valid JSON" },
	};
	char line[1024];

	(void)st;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jv_parsed_event p;
		struct jv_diag d;
		int rc;

		splice(line, sizeof(line), GOLDEN, cases[i].from, cases[i].to);
		memset(&d, 0, sizeof(d));
		rc = jv_event_parse(line, strlen(line), &p, &d);
		if (rc != JV_ERR_PARSE || strcmp(d.key, cases[i].key) ||
		    !strstr(d.msg, cases[i].msg))
			fail_msg("case %zu (%s): rc %d, key '%s', msg '%s'", i,
				 line, rc, d.key, d.msg);
		assert_null(p.root);
		jv_parsed_event_free(&p);
	}
}

static void parse_rejects_truncation_and_oddities(void **st)
{
	struct jv_parsed_event p;
	struct jv_diag d;
	size_t n = strlen(GOLDEN);
	char nul[] = "{\"a\":1}\0{}";

	(void)st;
	/* every proper prefix fails, with a reason */
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(jv_event_parse(GOLDEN, k, &p, &d), JV_ERR_PARSE);
		assert_string_equal(d.key, "line");
		assert_true(d.msg[0] != '\0');
	}
	assert_int_equal(jv_event_parse(GOLDEN, 0, &p, &d), JV_ERR_PARSE);
	assert_non_null(strstr(d.msg, "empty line"));
	assert_int_equal(jv_event_parse(nul, sizeof(nul) - 1, &p, &d), JV_ERR_PARSE);
	assert_non_null(strstr(d.msg, "NUL byte"));
	assert_int_equal(jv_event_parse("[]", 2, &p, &d), JV_ERR_PARSE);
	assert_non_null(strstr(d.msg, "not a JSON object"));
	/* NULL diag is fine */
	assert_int_equal(jv_event_parse("{}", 2, &p, NULL), JV_ERR_PARSE);
}

static void parse_checks_conditional_reason(void **st)
{
	struct jv_event ev = { .type = JV_EV_REATTACH_RESULT, .ts_ms = 9 };
	struct jv_parsed_event p;
	struct jv_diag d;
	char buf[JV_EVENT_LINE_MAX], bad[JV_EVENT_LINE_MAX];
	size_t len;
	char *s;

	(void)st;
	JV_EV_SET(&ev, status, "SUCCESS");
	JV_EV_SET(&ev, nonce, 12);
	assert_int_equal(jv_event_format(&gw, &ev, 0, zeros, buf, sizeof(buf),
					 &len), 0);
	assert_int_equal(jv_event_parse(buf, len, &p, &d), 0);
	jv_parsed_event_free(&p);
	/* flip to DENIED without a reason: INV-13 */
	strcpy(bad, buf);
	s = strstr(bad, "SUCCESS");
	memcpy(s, "DENIED\"", 7);
	memmove(s + 6, s + 7, strlen(s + 7) + 1);
	assert_int_equal(jv_event_parse(bad, strlen(bad), &p, &d), JV_ERR_PARSE);
	assert_string_equal(d.key, "reason_code");
	assert_non_null(strstr(d.msg, "ReattachResult with status DENIED requires a reason_code"));
}

static void session_created_carries_policy(void **st)
{
	struct jv_event ev = { .type = JV_EV_SESSION_CREATED, .ts_ms = 1 };
	struct jv_parsed_event p;
	struct jv_diag d;
	char buf[JV_EVENT_LINE_MAX], bad[JV_EVENT_LINE_MAX];
	size_t len;

	(void)st;
	JV_EV_SET(&ev, state, JV_STATE_BIRTH);
	JV_EV_SET(&ev, policy, &test_policy);
	assert_int_equal(jv_event_format(&gw, &ev, 0, zeros, buf, sizeof(buf),
					 &len), 0);
	assert_non_null(strstr(buf, "\"state\":\"BIRTH\",\"details\":"
			       "{\"policy\":{\"version\":\"1.0\","));
	assert_non_null(strstr(buf, "\"volatility.loss_volatile_threshold\":0.2,"));
	assert_int_equal(jv_event_parse(buf, len, &p, &d), 0);
	assert_non_null(p.ev.policy);
	assert_ptr_equal(p.ev.policy, &p.policy);
	assert_true(jv_policy_equal(p.ev.policy, &test_policy));
	assert_true(json_is_object(p.policy_json));
	jv_parsed_event_free(&p);

	/* the snapshot is validated like any policy */
	splice(bad, sizeof(bad), buf, "\"security.strict_validation\":true",
	       "\"security.strict_validation\":false");
	assert_int_equal(jv_event_parse(bad, strlen(bad), &p, &d), JV_ERR_PARSE);
	assert_string_equal(d.key, "details.policy");
	assert_non_null(strstr(d.msg, "invalid policy: security.strict_validation"));
	assert_null(p.root);

	splice(bad, sizeof(bad), buf, "{\"version\"", "{\"bogus\":1,\"version\"");
	assert_int_equal(jv_event_parse(bad, strlen(bad), &p, &d), JV_ERR_PARSE);
	assert_string_equal(d.key, "details.policy");
	assert_non_null(strstr(d.msg, "bogus"));

	/* a policy that is not there cannot be written */
	ev.policy = NULL;
	assert_int_equal(jv_event_format(&gw, &ev, 0, zeros, buf, sizeof(buf),
					 &len), JV_ERR_INVAL);
}

/* Issue 11: who the session is with and where it came from, each field
 * with one shape that the writer, the reader and the check enforce. */
static void session_created_carries_identity(void **st)
{
	struct jv_event ev = { .type = JV_EV_SESSION_CREATED, .ts_ms = 1 };
	struct jv_parsed_event p;
	struct jv_diag d;
	char buf[JV_EVENT_LINE_MAX], bad[JV_EVENT_LINE_MAX], why[200];
	size_t len;
	static const char *const good_addrs[] = {
		"198.18.1.2:40001", "[2001:db8:0:0:0:0:0:2]:51820",
		"[fe80::1]:0",
	};
	static const char *const bad_addrs[] = {
		"", "198.18.1.2", "198.18.1.2:", "198.18.1.2:65536",
		"host:80", "[2001:db8::2]", "2001:db8::2]:1", "[zz::1]:1",
		"198.18.1.2:123456", "[]:1",
	};
	static const char *const bad_keys[] = {
		"", "short", TEST_KEY "A",
		"q+/VVmQc3cPU8L8rXkxPm2NQcB3p1DgJSNkhuvI0o0s",	/* no pad */
		"q-_VVmQc3cPU8L8rXkxPm2NQcB3p1DgJSNkhuvI0o0s=",	/* URL set */
	};

	(void)st;
	JV_EV_SET(&ev, state, JV_STATE_BIRTH);
	JV_EV_SET(&ev, peer_public_key, TEST_KEY);
	JV_EV_SET(&ev, remote_addr, "198.18.1.2:40001");
	assert_int_equal(jv_event_format(&gw, &ev, 0, zeros, buf, sizeof(buf),
					 &len), 0);
	assert_non_null(strstr(buf, "\"details\":{\"peer_public_key\":\""
			       TEST_KEY "\",\"remote_addr\":"
			       "\"198.18.1.2:40001\"}"));
	assert_int_equal(jv_event_parse(buf, len, &p, &d), 0);
	assert_string_equal(p.ev.peer_public_key, TEST_KEY);
	assert_string_equal(p.ev.remote_addr, "198.18.1.2:40001");
	jv_parsed_event_free(&p);

	for (size_t i = 0; i < sizeof good_addrs / sizeof *good_addrs; i++) {
		ev.remote_addr = good_addrs[i];
		assert_int_equal(jv_event_check(&ev, why, sizeof why), 0);
	}
	for (size_t i = 0; i < sizeof bad_addrs / sizeof *bad_addrs; i++) {
		ev.remote_addr = bad_addrs[i];
		assert_int_equal(jv_event_check(&ev, why, sizeof why),
				 JV_ERR_INVAL);
		assert_non_null(strstr(why, "details.remote_addr"));
	}
	ev.remote_addr = NULL;	/* null, as for any string: not known */
	assert_int_equal(jv_event_check(&ev, NULL, 0), 0);
	ev.remote_addr = "198.18.1.2:40001";
	for (size_t i = 0; i < sizeof bad_keys / sizeof *bad_keys; i++) {
		ev.peer_public_key = bad_keys[i];
		assert_int_equal(jv_event_check(&ev, why, sizeof why),
				 JV_ERR_INVAL);
		assert_non_null(strstr(why, "details.peer_public_key"));
	}
	ev.peer_public_key = TEST_KEY;

	/* the reader makes the same checks */
	splice(bad, sizeof(bad), buf, "0o0s=", "0o0s");
	assert_int_equal(jv_event_parse(bad, strlen(bad), &p, &d), JV_ERR_PARSE);
	assert_string_equal(d.key, "details.peer_public_key");
	splice(bad, sizeof(bad), buf, ":40001", "");
	assert_int_equal(jv_event_parse(bad, strlen(bad), &p, &d), JV_ERR_PARSE);
	assert_string_equal(d.key, "details.remote_addr");

	/* SessionCreated only: no other type carries them */
	memset(&ev, 0, sizeof ev);
	ev.type = JV_EV_SESSION_TERMINATED;
	JV_EV_SET(&ev, reason_code, JV_REASON_SESSION_REPLACED);
	assert_int_equal(jv_event_check(&ev, NULL, 0), 0);
	JV_EV_SET(&ev, remote_addr, "198.18.1.2:40001");
	assert_int_equal(jv_event_check(&ev, why, sizeof why), JV_ERR_INVAL);
	assert_non_null(strstr(why, "not allowed in SessionTerminated"));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tables_are_complete_and_consistent),
		cmocka_unit_test(inv13_reason_rules),
		cmocka_unit_test(check_enforces_table),
		cmocka_unit_test(golden_state_change_line),
		cmocka_unit_test(hash_is_blake2b_256_hex),
		cmocka_unit_test(details_are_nested_and_last),
		cmocka_unit_test(reals_print_short_and_stable),
		cmocka_unit_test(origin_and_hash_are_validated),
		cmocka_unit_test(hostile_strings_are_escaped),
		cmocka_unit_test(invalid_utf8_is_replaced),
		cmocka_unit_test(short_buffer_writes_nothing),
		cmocka_unit_test_teardown(format_and_parse_survive_allocation_failure,
					  restore_alloc),
		cmocka_unit_test_setup(chain_links_three_lines, setup_sink),
		cmocka_unit_test_setup(chain_detects_edited_line, setup_sink),
		cmocka_unit_test_setup(chain_detects_deleted_line, setup_sink),
		cmocka_unit_test_setup(chain_detects_swapped_pair, setup_sink),
		cmocka_unit_test(chain_first_line_and_unreadable),
		cmocka_unit_test_setup(sink_failure_counted_chain_advances, setup_sink),
		cmocka_unit_test_setup(rejected_event_is_counted_not_written, setup_sink),
		cmocka_unit_test(parse_accepts_golden),
		cmocka_unit_test(parse_rejects_bad_lines),
		cmocka_unit_test(parse_rejects_truncation_and_oddities),
		cmocka_unit_test(parse_checks_conditional_reason),
		cmocka_unit_test(session_created_carries_policy),
		cmocka_unit_test(session_created_carries_identity),
		cmocka_unit_test(round_trip_every_type),
	};

	if (sodium_init() < 0)
		return 1;
	memset(zeros, '0', JV_HASH_HEX - 1);
	jv_policy_default(&test_policy);
	return cmocka_run_group_tests_name("eventlog", tests, NULL, NULL);
}
