/* SPDX-License-Identifier: MIT */
/*
 * The auditor on synthetic streams.  Lines are written by the real writer
 * (jv_event_format), edited where a test needs a line the writer refuses,
 * and re-chained, so each test holds one fault and asserts the finding's
 * ID and line, and that nothing else is reported.  Times are explicit
 * (t = 1000, 5000, ...) and the policy is the spec default unless a test
 * says otherwise.
 */

#define _GNU_SOURCE	/* mallinfo2 */

#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "audit/audit.h"
#include "audit/audit_impl.h"
#include "jvpn/eventlog.h"
#include "jvpn/policy.h"

/* ---- failing allocation (linked with --wrap=calloc) ------------------- */

void *__real_calloc(size_t n, size_t sz);
void *__wrap_calloc(size_t n, size_t sz);
static int calloc_fail_in = -1;		/* fail the n-th call; -1 never */

void *__wrap_calloc(size_t n, size_t sz)
{
	if (calloc_fail_in >= 0 && calloc_fail_in-- == 0)
		return NULL;
	return __real_calloc(n, sz);
}

/* ---- building logs ---------------------------------------------------- */

enum { MAXL = 400 };

struct t {
	char line[MAXL][JV_EVENT_LINE_MAX];
	int n;
	bool no_rechain;
	struct jv_event_origin c, g, g2;
	struct jv_policy pol;
	jv_time eps;
	const char *cls;	/* trigger_class of sw() and ssc_rec(); NULL:
				   absent, as before PD-7 */
	bool lat_set;		/* sw() carries switch_latency_ms lat */
	uint64_t lat;
};

static const char SID[] = "5f3a0c1d2e3f405162738495a6b7c8d9";
static const char SID2[] = "00112233445566778899aabbccddeeff";
static char ZERO[JV_HASH_HEX];

static struct t *t_new(void)
{
	struct t *t = calloc(1, sizeof *t);

	assert_non_null(t);
	memset(ZERO, '0', JV_HASH_HEX - 1);
	jv_policy_default(&t->pol);
	t->c = (struct jv_event_origin){ SID, "client-1", "1.0", JV_ROLE_CLIENT };
	t->g = (struct jv_event_origin){ SID, "gw-1", "1.0", JV_ROLE_GATEWAY };
	t->g2 = (struct jv_event_origin){ SID, "gw-2", "1.0", JV_ROLE_GATEWAY };
	return t;
}

static struct jv_event E(enum jv_event_type ty, jv_time ts, uint64_t v)
{
	struct jv_event e;

	memset(&e, 0, sizeof e);
	e.type = ty;
	e.ts_ms = ts;
	e.state_version = v;
	return e;
}

static int put(struct t *t, const struct jv_event_origin *o,
	       const struct jv_event *ev)
{
	size_t len;

	assert_true(t->n < MAXL);
	assert_int_equal(jv_event_format(o, ev, 0, ZERO, t->line[t->n],
					 JV_EVENT_LINE_MAX, &len), 0);
	return ++t->n;
}

static int put_raw(struct t *t, const char *s)
{
	assert_true(t->n < MAXL);
	snprintf(t->line[t->n], JV_EVENT_LINE_MAX, "%s", s);
	return ++t->n;
}

/* Replace the first occurrence of from by to in line k (1-based). */
static void edit(struct t *t, int k, const char *from, const char *to)
{
	char *l = t->line[k - 1], *p = strstr(l, from), tmp[JV_EVENT_LINE_MAX];

	assert_non_null(p);
	snprintf(tmp, sizeof tmp, "%.*s%s%s", (int)(p - l), l, to,
		 p + strlen(from));
	snprintf(l, JV_EVENT_LINE_MAX, "%s", tmp);
}

static int created(struct t *t, const struct jv_event_origin *o, jv_time ts)
{
	struct jv_event e = E(JV_EV_SESSION_CREATED, ts, 0);

	JV_EV_SET(&e, state, JV_STATE_BIRTH);
	JV_EV_SET(&e, policy, &t->pol);
	return put(t, o, &e);
}

static int ssc(struct t *t, const struct jv_event_origin *o, jv_time ts,
	       uint64_t v, enum jv_state prev, enum jv_state next,
	       enum jv_reason r)
{
	struct jv_event e = E(JV_EV_SESSION_STATE_CHANGE, ts, v);

	JV_EV_SET(&e, previous_state, prev);
	JV_EV_SET(&e, new_state, next);
	JV_EV_SET(&e, reason_code, r);
	return put(t, o, &e);
}

/* into RECOVERING, with the fields §8.2 asks for */
static int ssc_rec(struct t *t, const struct jv_event_origin *o, jv_time ts,
		   uint64_t v, enum jv_state prev, const char *from,
		   const char *cand, uint64_t set, enum jv_reason r)
{
	struct jv_event e = E(JV_EV_SESSION_STATE_CHANGE, ts, v);

	JV_EV_SET(&e, previous_state, prev);
	JV_EV_SET(&e, new_state, JV_STATE_RECOVERING);
	JV_EV_SET(&e, reason_code, r);
	JV_EV_SET(&e, from_transport, from);
	JV_EV_SET(&e, candidate_transport, cand);
	JV_EV_SET(&e, candidate_set_size, set);
	if (t->cls)
		JV_EV_SET(&e, trigger_class, t->cls);
	return put(t, o, &e);
}

/* a transition that carries the binding's heartbeat age */
static int ssc_age(struct t *t, const struct jv_event_origin *o, jv_time ts,
		   uint64_t v, enum jv_state prev, enum jv_state next,
		   enum jv_reason r, uint64_t age)
{
	struct jv_event e = E(JV_EV_SESSION_STATE_CHANGE, ts, v);

	JV_EV_SET(&e, previous_state, prev);
	JV_EV_SET(&e, new_state, next);
	JV_EV_SET(&e, reason_code, r);
	JV_EV_SET(&e, heartbeat_age_ms, age);
	return put(t, o, &e);
}

static int attached(struct t *t, const struct jv_event_origin *o, jv_time ts,
		    uint64_t v, const char *tid)
{
	struct jv_event e = E(JV_EV_TRANSPORT_ATTACHED, ts, v);

	JV_EV_SET(&e, transport_id, tid);
	JV_EV_SET(&e, reason_code, JV_REASON_ATTACHED_TO_TRANSPORT);
	return put(t, o, &e);
}

static int dead(struct t *t, const struct jv_event_origin *o, jv_time ts,
		uint64_t v, const char *tid)
{
	struct jv_event e = E(JV_EV_TRANSPORT_DEAD, ts, v);

	JV_EV_SET(&e, transport_id, tid);
	JV_EV_SET(&e, reason_code, JV_REASON_TRANSPORT_DEAD);
	JV_EV_SET(&e, detection, "hard_failure");
	return put(t, o, &e);
}

static int sw(struct t *t, const struct jv_event_origin *o, jv_time ts,
	      uint64_t v, const char *from, const char *to)
{
	struct jv_event e = E(JV_EV_TRANSPORT_SWITCH, ts, v);

	JV_EV_SET(&e, reason_code, JV_REASON_REATTACH_SUCCESS);
	JV_EV_SET(&e, previous_transport, from);
	JV_EV_SET(&e, new_transport, to);
	JV_EV_SET(&e, explicit, true);
	JV_EV_SET(&e, auditable, true);
	if (t->lat_set)
		JV_EV_SET(&e, switch_latency_ms, t->lat);
	if (t->cls)
		JV_EV_SET(&e, trigger_class, t->cls);
	return put(t, o, &e);
}

static int attempt(struct t *t, const struct jv_event_origin *o, jv_time ts,
		   uint64_t v, const char *cand, uint64_t nonce)
{
	struct jv_event e = E(JV_EV_REATTACH_ATTEMPT, ts, v);

	JV_EV_SET(&e, candidate_transport, cand);
	JV_EV_SET(&e, nonce, nonce);
	JV_EV_SET(&e, attempt, 1);
	return put(t, o, &e);
}

static int result(struct t *t, const struct jv_event_origin *o, jv_time ts,
		  uint64_t v, bool ok, enum jv_reason r, uint64_t nonce)
{
	struct jv_event e = E(JV_EV_REATTACH_RESULT, ts, v);

	JV_EV_SET(&e, status, ok ? "SUCCESS" : "DENIED");
	JV_EV_SET(&e, reason_code, r);
	JV_EV_SET(&e, candidate_transport, "p2");
	JV_EV_SET(&e, nonce, nonce);
	JV_EV_SET(&e, retryable, false);
	return put(t, o, &e);
}

static int damping(struct t *t, const struct jv_event_origin *o,
		   enum jv_event_type ty, jv_time ts, uint64_t v,
		   const char *tid, uint64_t penalty)
{
	struct jv_event e = E(ty, ts, v);

	JV_EV_SET(&e, transport_id, tid);
	JV_EV_SET(&e, flap_penalty, penalty);
	return put(t, o, &e);
}

static int simple(struct t *t, const struct jv_event_origin *o,
		  enum jv_event_type ty, jv_time ts, uint64_t v,
		  enum jv_reason r)
{
	struct jv_event e = E(ty, ts, v);

	JV_EV_SET(&e, reason_code, r);
	return put(t, o, &e);
}

static int terminated(struct t *t, const struct jv_event_origin *o,
		      jv_time ts, uint64_t v, enum jv_reason r, uint64_t age,
		      uint64_t tl)
{
	struct jv_event e = E(JV_EV_SESSION_TERMINATED, ts, v);

	JV_EV_SET(&e, reason_code, r);
	JV_EV_SET(&e, session_age_ms, age);
	JV_EV_SET(&e, transportless_age_ms, tl);
	JV_EV_SET(&e, total_switches, 1);
	return put(t, o, &e);
}

/* Birth at 1000 and attach at 1010 on p1; returns the next version. */
static uint64_t born_attached(struct t *t, const struct jv_event_origin *o)
{
	created(t, o, 1000);
	ssc(t, o, 1010, 1, JV_STATE_BIRTH, JV_STATE_ATTACHED,
	    JV_REASON_ATTACHED_TO_TRANSPORT);
	attached(t, o, 1010, 1, "p1");
	return 2;
}

/*
 * The client's standard life: born 1000, attached on p1 at 1010, p1 dies
 * at 5000, recovery to p2 committed at 5040, operator ends it at 9000.
 * Lines 1..12.
 */
static void std_client(struct t *t)
{
	const struct jv_event_origin *c = &t->c;

	born_attached(t, c);						/* 1-3 */
	ssc(t, c, 5000, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_TRANSPORT_DEAD);					/* 4 */
	dead(t, c, 5000, 2, "p1");					/* 5 */
	ssc_rec(t, c, 5000, 3, JV_STATE_VOLATILE, NULL, "p2", 1,
		JV_REASON_DEAD_TRANSPORT_RECOVERY);			/* 6 */
	attempt(t, c, 5000, 3, "p2", 1);				/* 7 */
	ssc(t, c, 5040, 4, JV_STATE_RECOVERING, JV_STATE_ATTACHED,
	    JV_REASON_REATTACH_SUCCESS);				/* 8 */
	sw(t, c, 5040, 4, NULL, "p2");					/* 9 */
	result(t, c, 5040, 4, true, JV_REASON_REATTACH_SUCCESS, 1);	/* 10 */
	ssc(t, c, 9000, 5, JV_STATE_ATTACHED, JV_STATE_TERMINATED,
	    JV_REASON_OPERATOR_TERMINATED);				/* 11 */
	terminated(t, c, 9000, 5, JV_REASON_OPERATOR_TERMINATED, 8000, 0); /* 12 */
}

static void rechain(struct t *t)
{
	char prev[JV_HASH_HEX];

	memcpy(prev, ZERO, sizeof prev);
	for (int i = 0; i < t->n; i++) {
		char *l = t->line[i], *p = NULL, *q = l;

		while ((q = strstr(q, ",\"seq\":")) != NULL)
			p = q++;
		if (p)
			snprintf(p, JV_EVENT_LINE_MAX - (size_t)(p - l),
				 ",\"seq\":%d,\"prev_hash\":\"%s\"}", i, prev);
		jv_eventlog_hash(l, strlen(l), prev);
	}
}

/* ---- running the auditor ---------------------------------------------- */

struct seen {
	int n;
	enum jv_audit_check c[512];
	unsigned long line[512];
	unsigned file[512];
	unsigned long oline[512];	/* second place; 0 = none */
	unsigned ofile[512];
	char msg[512][240];
	int entries, ends;
	int kinds[JV_AE_OPEN + 1];
	struct jv_audit_report r;
};

static void hv(void *ud, const struct jv_audit_violation *v)
{
	struct seen *s = ud;

	if (s->n >= 512)
		return;
	s->c[s->n] = v->check;
	s->line[s->n] = v->line;
	s->file[s->n] = v->file;
	s->oline[s->n] = v->other_line;
	s->ofile[s->n] = v->other_file;
	snprintf(s->msg[s->n], sizeof s->msg[0], "%s", v->msg);
	s->n++;
}

static void he(void *ud, const struct jv_audit_stream *st,
	       const struct jv_audit_entry *e)
{
	struct seen *s = ud;
	char buf[512];

	assert_true(jv_audit_format_entry(st, e, buf, sizeof buf) > 0);
	s->entries++;
	s->kinds[e->kind]++;
}

static void hend(void *ud, const struct jv_audit_stream *st)
{
	struct seen *s = ud;

	(void)st;
	s->ends++;
}

static void run(struct t *t, struct seen *s)
{
	struct jv_audit_opts o = { .epsilon_ms = t->eps };
	struct jv_audit *a;

	memset(s, 0, sizeof *s);
	if (!t->no_rechain)
		rechain(t);
	o.hooks = (struct jv_audit_hooks){ hv, he, hend, s };
	assert_int_equal(jv_audit_new(&o, &a), 0);
	for (int i = 0; i < t->n; i++)
		assert_int_equal(jv_audit_line(a, t->line[i],
					       strlen(t->line[i]),
					       (unsigned long)i + 1), 0);
	assert_int_equal(jv_audit_finish(a, false, &s->r), 0);
	assert_int_equal(jv_audit_finish(a, false, &s->r), JV_ERR_INVAL);
	jv_audit_free(a);
	assert_int_equal(s->r.violations, (uint64_t)s->n);
	assert_int_equal(s->r.pass, s->n == 0);
}

static bool has(const struct seen *s, enum jv_audit_check c,
		unsigned long line)
{
	for (int i = 0; i < s->n; i++)
		if (s->c[i] == c && s->line[i] == line)
			return true;
	return false;
}

static void dump(const struct seen *s)
{
	for (int i = 0; i < s->n; i++)
		fprintf(stderr, "  f%u:%lu: %s: %s\n", s->file[i], s->line[i],
			jv_audit_check_name(s->c[i]), s->msg[i]);
}

/* Exactly these findings (check, line), in any order. */
static void expect(const struct seen *s, int n, ...)
{
	va_list ap;
	bool ok = s->n == n;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		enum jv_audit_check c = va_arg(ap, enum jv_audit_check);
		unsigned long line = va_arg(ap, unsigned long);

		if (!has(s, c, line)) {
			fprintf(stderr, "missing %s at line %lu\n",
				jv_audit_check_name(c), line);
			ok = false;
		}
	}
	va_end(ap);
	if (!ok)
		dump(s);
	assert_true(ok);
}

#define L(x) ((unsigned long)(x))

/* ---- tests ------------------------------------------------------------ */

static void good_client_stream_passes(void **st)
{
	struct t *t = t_new();
	struct seen s;

	(void)st;
	std_client(t);
	run(t, &s);
	expect(&s, 0);
	assert_int_equal(s.r.lines, 12);
	assert_int_equal(s.r.events, 12);
	assert_int_equal(s.r.streams, 1);
	assert_int_equal(s.r.streams_client, 1);
	assert_int_equal(s.r.terminated, 1);
	assert_int_equal(s.r.terminations[JV_REASON_OPERATOR_TERMINATED], 1);
	assert_int_equal(s.r.switches, 1);
	/* out of ATTACHED at 5000, back at 5040 */
	assert_int_equal(s.r.recovery[JV_ROLE_CLIENT].count, 1);
	assert_int_equal(s.r.recovery[JV_ROLE_CLIENT].median_ms, 40);
	assert_int_equal(s.r.recovery[JV_ROLE_CLIENT].max_ms, 40);
	assert_int_equal(s.r.volatile_ms, 0);
	assert_int_equal(s.r.first_ts, 1000);
	assert_int_equal(s.r.last_ts, 9000);
	/* birth, 5 transitions, attach, dead, switch, terminated */
	assert_int_equal(s.kinds[JV_AE_BIRTH], 1);
	assert_int_equal(s.kinds[JV_AE_STATE], 5);
	assert_int_equal(s.kinds[JV_AE_ATTACH], 1);
	assert_int_equal(s.kinds[JV_AE_DEAD], 1);
	assert_int_equal(s.kinds[JV_AE_SWITCH], 1);
	assert_int_equal(s.kinds[JV_AE_TERMINATED], 1);
	assert_int_equal(s.kinds[JV_AE_OPEN], 0);
	assert_int_equal(s.ends, 1);
	free(t);
}

/* The gateway's T11 chain, a denied request, a replay, ownership. */
static void good_gateway_stream_passes(void **st)
{
	struct t *t = t_new();
	const struct jv_event_origin *g = &t->g;
	struct seen s;
	struct jv_event e;

	(void)st;
	born_attached(t, g);
	e = E(JV_EV_SESSION_OWNER_ACQUIRED, 1010, 1);
	JV_EV_SET(&e, owner_node_id, "gw-1");
	JV_EV_SET(&e, owner_epoch, 1);
	put(t, g, &e);
	attempt(t, g, 5020, 1, "p2", 1);
	ssc(t, g, 5020, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_TRANSPORT_DEAD);		/* T11: binding kept */
	ssc_rec(t, g, 5020, 3, JV_STATE_VOLATILE, "p1", "p2", 1,
		JV_REASON_DEAD_TRANSPORT_RECOVERY);
	ssc(t, g, 5020, 4, JV_STATE_RECOVERING, JV_STATE_ATTACHED,
	    JV_REASON_REATTACH_SUCCESS);
	sw(t, g, 5020, 4, "p1", "p2");
	result(t, g, 5020, 4, true, JV_REASON_REATTACH_SUCCESS, 1);
	/* a second request in the same millisecond, denied: no mutation */
	attempt(t, g, 5020, 4, "p2", 2);
	result(t, g, 5020, 4, false, JV_REASON_COOLDOWN_ACTIVE, 2);
	/* a replay of nonce 1 */
	attempt(t, g, 6000, 4, "p2", 1);
	simple(t, g, JV_EV_SECURITY_REPLAY_DETECTED, 6000, 4,
	       JV_REASON_REPLAY_DETECTED);
	result(t, g, 6000, 4, false, JV_REASON_REPLAY_DETECTED, 1);
	run(t, &s);
	expect(&s, 0);
	assert_int_equal(s.r.streams_gateway, 1);
	assert_int_equal(s.r.recovery[JV_ROLE_GATEWAY].count, 1);
	assert_int_equal(s.r.recovery[JV_ROLE_GATEWAY].max_ms, 0);
	assert_int_equal(s.r.denials, 2);
	assert_int_equal(s.r.security, 1);
	assert_int_equal(s.kinds[JV_AE_OPEN], 1);
	free(t);
}

/* Issue 11: a session replaced by a newer handshake of its key.  The
 * gateway ends it by its own decision (no origin), the client because
 * the gateway said so (origin "peer"); SessionCreated names the peer.
 * Both streams pass, and the auditor counts the new code. */
static void replaced_session_passes(void **st)
{
	struct t *t = t_new();
	const struct jv_event_origin *g = &t->g, *c = &t->c;
	struct seen s;
	struct jv_event e;

	(void)st;
	e = E(JV_EV_SESSION_CREATED, 1000, 0);
	JV_EV_SET(&e, state, JV_STATE_BIRTH);
	JV_EV_SET(&e, policy, &t->pol);
	JV_EV_SET(&e, peer_public_key,
		  "q+/VVmQc3cPU8L8rXkxPm2NQcB3p1DgJSNkhuvI0o0s=");
	JV_EV_SET(&e, remote_addr, "198.18.1.2:40001");
	put(t, g, &e);
	ssc(t, g, 1010, 1, JV_STATE_BIRTH, JV_STATE_ATTACHED,
	    JV_REASON_ATTACHED_TO_TRANSPORT);
	attached(t, g, 1010, 1, "udp:198.18.1.2:40001");
	ssc(t, g, 9000, 2, JV_STATE_ATTACHED, JV_STATE_TERMINATED,
	    JV_REASON_SESSION_REPLACED);
	e = E(JV_EV_SESSION_TERMINATED, 9000, 2);
	JV_EV_SET(&e, reason_code, JV_REASON_SESSION_REPLACED);
	JV_EV_SET(&e, session_age_ms, 8000);
	JV_EV_SET(&e, transportless_age_ms, 0);
	JV_EV_SET(&e, total_switches, 0);
	put(t, g, &e);
	run(t, &s);
	expect(&s, 0);
	assert_int_equal(s.r.terminations[JV_REASON_SESSION_REPLACED], 1);

	t->n = 0;
	born_attached(t, c);
	e = E(JV_EV_SESSION_STATE_CHANGE, 9010, 2);
	JV_EV_SET(&e, previous_state, JV_STATE_ATTACHED);
	JV_EV_SET(&e, new_state, JV_STATE_TERMINATED);
	JV_EV_SET(&e, reason_code, JV_REASON_SESSION_REPLACED);
	JV_EV_SET(&e, origin, "peer");
	put(t, c, &e);
	e = E(JV_EV_SESSION_TERMINATED, 9010, 2);
	JV_EV_SET(&e, reason_code, JV_REASON_SESSION_REPLACED);
	JV_EV_SET(&e, session_age_ms, 8010);
	JV_EV_SET(&e, transportless_age_ms, 0);
	JV_EV_SET(&e, total_switches, 0);
	JV_EV_SET(&e, origin, "peer");
	put(t, c, &e);
	run(t, &s);
	expect(&s, 0);
	assert_int_equal(s.r.terminations[JV_REASON_SESSION_REPLACED], 1);
	free(t);
}

static void chain_edit_gap_reorder(void **st)
{
	struct t *t = t_new();
	struct seen s;
	char tmp[JV_EVENT_LINE_MAX];

	(void)st;
	std_client(t);
	rechain(t);
	t->no_rechain = true;
	edit(t, 9, "\"explicit\":true", "\"explicit\":false");	/* edited */
	run(t, &s);
	/* line 10's prev_hash no longer matches */
	expect(&s, 1, JV_AC_CHAIN, L(10));

	t->n = 0;
	std_client(t);
	rechain(t);
	memmove(t->line[6], t->line[7], (size_t)(t->n - 7) * sizeof t->line[0]);
	t->n--;							/* deleted */
	run(t, &s);
	assert_true(has(&s, JV_AC_CHAIN, 7));

	t->n = 0;
	std_client(t);
	rechain(t);
	memcpy(tmp, t->line[4], sizeof tmp);
	memcpy(t->line[4], t->line[5], sizeof tmp);
	memcpy(t->line[5], tmp, sizeof tmp);			/* reordered */
	run(t, &s);
	assert_true(has(&s, JV_AC_CHAIN, 5));
	assert_true(has(&s, JV_AC_CHAIN, 6));

	t->n = 0;
	std_client(t);
	rechain(t);
	edit(t, 1, "\"prev_hash\":\"0000", "\"prev_hash\":\"1000");
	run(t, &s);
	expect(&s, 2, JV_AC_CHAIN, L(1), JV_AC_CHAIN, L(2));
	free(t);
}

static void parse_errors_do_not_stop_the_audit(void **st)
{
	struct t *t = t_new();
	struct seen s;

	(void)st;
	std_client(t);
	put_raw(t, "this is not json");
	put_raw(t, "{\"ts_ms\":1}");
	run(t, &s);
	/* each: a parse finding and no readable chain fields */
	expect(&s, 4, JV_AC_PARSE, L(13), JV_AC_CHAIN, L(13), JV_AC_PARSE,
	       L(14), JV_AC_CHAIN, L(14));
	assert_int_equal(s.r.events, 12);
	assert_int_equal(s.r.lines, 14);
	free(t);
}

static void truncated_and_overlong_lines(void **st)
{
	struct t *t = t_new();
	struct jv_audit *a;
	struct jv_audit_report r;
	struct seen s;
	char h[JV_HASH_HEX];
	struct jv_audit_opts o = { 0 };

	(void)st;
	std_client(t);
	rechain(t);
	memset(&s, 0, sizeof s);
	o.hooks = (struct jv_audit_hooks){ hv, NULL, NULL, &s };
	assert_int_equal(jv_audit_new(&o, &a), 0);
	for (int i = 0; i < 11; i++)
		assert_int_equal(jv_audit_line(a, t->line[i], strlen(t->line[i]),
					       (unsigned long)i + 1), 0);
	jv_eventlog_hash("x", 1, h);
	assert_int_equal(jv_audit_line_overlong(a, 12, h), 0);
	assert_int_equal(jv_audit_line(a, t->line[11], 40, 13), 0);
	assert_int_equal(jv_audit_finish(a, true, &r), 0);
	assert_int_equal(jv_audit_line(a, "x", 1, 14), JV_ERR_INVAL);
	jv_audit_free(a);
	/* 12: too long (parse + chain); 13: cut short (parse + chain),
	 * no newline (parse); the commit of line 11 never got its
	 * SessionTerminated (INV-04 at 11) */
	expect(&s, 6, JV_AC_PARSE, L(12), JV_AC_CHAIN, L(12), JV_AC_PARSE,
	       L(13), JV_AC_CHAIN, L(13), JV_AC_PARSE, L(13), JV_AC_INV04,
	       L(11));
	free(t);
}

static void inv01_identity(void **st)
{
	struct t *t = t_new();
	struct seen s;

	(void)st;
	std_client(t);
	t->n = 11;		/* up to the transition into TERMINATED */
	created(t, &t->c, 9000);				/* 12 */
	terminated(t, &t->c, 9000, 5, JV_REASON_OPERATOR_TERMINATED, 8000, 0);
	created(t, &t->c, 9500);				/* 14: after end */
	run(t, &s);
	expect(&s, 2, JV_AC_INV01, L(12), JV_AC_INV01, L(14));

	/* a stream that begins mid-way: one finding, replayed from there */
	t->n = 0;
	std_client(t);
	memmove(t->line[0], t->line[3], (size_t)(t->n - 3) * sizeof t->line[0]);
	t->n -= 3;
	run(t, &s);
	expect(&s, 1, JV_AC_INV01, L(1));
	free(t);
}

static void inv02_versions(void **st)
{
	struct t *t = t_new();
	struct seen s;

	(void)st;
	std_client(t);
	edit(t, 8, "\"state_version\":4", "\"state_version\":2");	/* rollback */
	run(t, &s);
	expect(&s, 1, JV_AC_INV02, L(8));

	t->n = 0;
	std_client(t);
	edit(t, 7, "\"state_version\":3", "\"state_version\":4");	/* other event */
	run(t, &s);
	expect(&s, 1, JV_AC_INV02, L(7));

	t->n = 0;
	std_client(t);
	for (int k = 6; k <= 12; k++) {		/* a transition lost */
		char from[32], to[32];
		int v = k <= 7 ? 3 : k <= 10 ? 4 : 5;

		snprintf(from, sizeof from, "\"state_version\":%d", v);
		snprintf(to, sizeof to, "\"state_version\":%d", v + 1);
		edit(t, k, from, to);
	}
	run(t, &s);
	expect(&s, 1, JV_AC_INV02, L(6));
	free(t);
}

static void inv03_legality(void **st)
{
	struct t *t = t_new();
	struct seen s;

	(void)st;
	std_client(t);
	/* VOLATILE -> ATTACHED is impossible (D3) */
	edit(t, 6, "\"new_state\":\"RECOVERING\"", "\"new_state\":\"ATTACHED\"");
	run(t, &s);
	/* and the next transition starts from the wrong state; the commit of
	 * line 6 ends ATTACHED without a binding */
	assert_true(has(&s, JV_AC_INV03, 6));
	assert_true(has(&s, JV_AC_INV03, 8));
	assert_true(has(&s, JV_AC_INV06, 7));

	t->n = 0;
	std_client(t);
	edit(t, 4, "\"reason_code\":\"transport_dead\"",
	     "\"reason_code\":\"heartbeat_timeout\"");
	run(t, &s);
	/* a legal row, but then TransportDead belongs to no transport_dead
	 * transition */
	expect(&s, 1, JV_AC_INV05, L(5));
	free(t);
}

static void inv04_absorption(void **st)
{
	struct t *t = t_new();
	struct seen s;

	(void)st;
	std_client(t);
	attached(t, &t->c, 9100, 5, "p3");			/* 13 */
	terminated(t, &t->c, 9200, 5, JV_REASON_OPERATOR_TERMINATED, 8200, 0);
	simple(t, &t->c, JV_EV_KEY_ROTATED, 9300, 5, JV_REASON_TIME_ELAPSED);
	run(t, &s);
	expect(&s, 2, JV_AC_INV04, L(13), JV_AC_INV04, L(14));

	t->n = 0;
	std_client(t);
	t->n = 11;
	simple(t, &t->c, JV_EV_KEY_ROTATED, 9000, 5, JV_REASON_TIME_ELAPSED);
	run(t, &s);
	expect(&s, 1, JV_AC_INV04, L(11));		/* no SessionTerminated */

	t->n = 0;
	std_client(t);
	simple(t, &t->c, JV_EV_KEY_ROTATED, 9000, 5, JV_REASON_TIME_ELAPSED);
	run(t, &s);
	expect(&s, 1, JV_AC_ORDER, L(13));	/* after SessionTerminated */
	free(t);
}

static void inv05_binding_replay(void **st)
{
	struct t *t = t_new();
	struct seen s;

	(void)st;
	std_client(t);
	edit(t, 9, "\"previous_transport\":null", "\"previous_transport\":\"p1\"");
	run(t, &s);
	expect(&s, 1, JV_AC_INV05, L(9));

	t->n = 0;
	std_client(t);
	edit(t, 5, "\"transport_id\":\"p1\"", "\"transport_id\":\"p9\"");
	run(t, &s);
	expect(&s, 1, JV_AC_INV05, L(5));

	t->n = 0;
	born_attached(t, &t->c);
	attached(t, &t->c, 1010, 1, "p2");		/* |A| would be 2 */
	run(t, &s);
	expect(&s, 1, JV_AC_INV05, L(4));

	t->n = 0;
	std_client(t);
	memmove(t->line[4], t->line[5], (size_t)(t->n - 5) * sizeof t->line[0]);
	t->n--;					/* TransportDead lost */
	run(t, &s);
	/* never cleared: the switch then replaces a binding it does not name */
	expect(&s, 2, JV_AC_INV05, L(4), JV_AC_INV05, L(8));
	free(t);
}

static void inv06_inv07_attach(void **st)
{
	struct t *t = t_new();
	struct seen s;

	(void)st;
	std_client(t);
	memmove(t->line[2], t->line[3], (size_t)(t->n - 3) * sizeof t->line[0]);
	t->n--;					/* TransportAttached lost */
	run(t, &s);
	assert_true(has(&s, JV_AC_INV07, 2));
	assert_true(has(&s, JV_AC_INV06, 2));

	t->n = 0;
	std_client(t);
	memmove(t->line[8], t->line[9], (size_t)(t->n - 9) * sizeof t->line[0]);
	t->n--;					/* TransportSwitch lost */
	run(t, &s);
	/* ATTACHED with the binding cleared by TransportDead, so the
	 * termination finds it transportless since 5000, not bound */
	expect(&s, 2, JV_AC_INV06, L(9), JV_AC_INV14, L(11));

	t->n = 0;
	std_client(t);
	t->n = 9;				/* ReattachResult lost ... */
	ssc(t, &t->c, 9000, 5, JV_STATE_ATTACHED, JV_STATE_TERMINATED,
	    JV_REASON_OPERATOR_TERMINATED);
	terminated(t, &t->c, 9000, 5, JV_REASON_OPERATOR_TERMINATED, 8000, 0);
	run(t, &s);
	expect(&s, 2, JV_AC_INV07, L(8), JV_AC_LIV05, L(8));

	t->n = 0;
	std_client(t);
	sw(t, &t->c, 9000, 5, NULL, "p3");	/* after SessionTerminated ... */
	run(t, &s);
	expect(&s, 1, JV_AC_INV04, L(13));

	t->n = 0;
	std_client(t);
	t->n = 10;
	sw(t, &t->c, 5040, 4, "p2", "p3");	/* after the SUCCESS */
	run(t, &s);
	expect(&s, 1, JV_AC_ORDER, L(11));
	free(t);
}

/* n recoveries of the client, one every `every` ms from t0 */
static void flap(struct t *t, jv_time t0, jv_time every, int n, uint64_t *v)
{
	const struct jv_event_origin *c = &t->c;
	const char *cur = "p1";

	for (int i = 0; i < n; i++) {
		jv_time at = t0 + (jv_time)i * every;
		const char *next = i % 2 ? "p1" : "p2";

		ssc(t, c, at, (*v)++, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
		    JV_REASON_TRANSPORT_DEAD);
		dead(t, c, at, *v - 1, cur);
		ssc_rec(t, c, at, (*v)++, JV_STATE_VOLATILE, NULL, next, 1,
			JV_REASON_DEAD_TRANSPORT_RECOVERY);
		attempt(t, c, at, *v - 1, next, (uint64_t)i + 1);
		ssc(t, c, at + 10, (*v)++, JV_STATE_RECOVERING,
		    JV_STATE_ATTACHED, JV_REASON_REATTACH_SUCCESS);
		sw(t, c, at + 10, *v - 1, NULL, next);
		result(t, c, at + 10, *v - 1, true, JV_REASON_REATTACH_SUCCESS,
		       (uint64_t)i + 1);
		cur = next;
	}
}

static void inv08_inv09_inv12_rate(void **st)
{
	struct t *t = t_new();
	struct seen s;
	uint64_t v;

	(void)st;
	t->pol.max_switches_per_min = 2;
	t->pol.switch_cooldown_ms = 1500;
	assert_int_equal(jv_policy_validate(&t->pol, NULL), 0);
	v = born_attached(t, &t->c);
	flap(t, 5000, 2000, 2, &v);
	run(t, &s);
	expect(&s, 0);

	/* a third switch 2 s later: the entry already had 2 in the window */
	t->n = 0;
	v = born_attached(t, &t->c);
	flap(t, 5000, 2000, 3, &v);
	run(t, &s);
	expect(&s, 2, JV_AC_INV12, L(20), JV_AC_INV08, L(23));

	/* 61 s apart the window has moved on */
	t->n = 0;
	v = born_attached(t, &t->c);
	flap(t, 5000, 61000, 3, &v);
	run(t, &s);
	expect(&s, 0);

	/* attempts closer than the cooldown */
	t->n = 0;
	v = born_attached(t, &t->c);
	flap(t, 5000, 1000, 2, &v);
	run(t, &s);
	expect(&s, 1, JV_AC_INV09, L(14));

	/* candidate_set_size below CANDIDATE_MIN_COUNT, and a missing
	 * candidate */
	t->n = 0;
	t->pol.candidate_min_count = 2;
	std_client(t);
	edit(t, 6, "\"candidate_transport\":\"p2\",", "");
	run(t, &s);
	expect(&s, 1, JV_AC_INV12, L(6));
	t->n = 0;
	std_client(t);
	run(t, &s);
	expect(&s, 1, JV_AC_INV12, L(6));
	free(t);
}

/* INV-08 and INV-12 as amended by PD-7: only discretionary switches are
 * counted and capped; a log without trigger_class reads as discretionary
 * (the test above). */
static void inv08_inv12_forced_not_counted(void **st)
{
	struct t *t = t_new();
	struct seen s;
	uint64_t v;

	(void)st;
	t->pol.max_switches_per_min = 2;
	assert_int_equal(jv_policy_validate(&t->pol, NULL), 0);
	/* three forced switches in 4 s under a cap of 2: bounded by the
	 * cooldown and detection alone */
	t->cls = "forced";
	v = born_attached(t, &t->c);
	flap(t, 5000, 2000, 3, &v);
	run(t, &s);
	expect(&s, 0);
	assert_int_equal(s.r.switches, 3);
	assert_int_equal(s.r.switches_forced, 3);

	/* the same switches, discretionary: the third breaks the cap */
	t->n = 0;
	t->cls = "discretionary";
	v = born_attached(t, &t->c);
	flap(t, 5000, 2000, 3, &v);
	run(t, &s);
	expect(&s, 2, JV_AC_INV12, L(20), JV_AC_INV08, L(23));
	assert_int_equal(s.r.switches_forced, 0);

	/* forced ones do not fill the window of later discretionary ones */
	t->n = 0;
	t->cls = "forced";
	v = born_attached(t, &t->c);
	flap(t, 5000, 2000, 4, &v);
	t->cls = "discretionary";
	flap(t, 13000, 2000, 2, &v);
	run(t, &s);
	expect(&s, 0);

	/* a cap of 0 disables switching, forced switches included */
	t->n = 0;
	t->cls = "forced";
	t->pol.max_switches_per_min = 0;
	v = born_attached(t, &t->c);
	flap(t, 5000, 2000, 1, &v);
	run(t, &s);
	expect(&s, 2, JV_AC_INV12, L(6), JV_AC_INV08, L(9));
	free(t);
}

/* LIV-10 (a): nothing refused for the rate cap while the binding is
 * lost. */
static void liv10_no_rate_refusal_when_lost(void **st)
{
	struct t *t = t_new();
	const struct jv_event_origin *c = &t->c;
	struct seen s;

	(void)st;
	born_attached(t, c);
	ssc(t, c, 5000, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_TRANSPORT_DEAD);
	dead(t, c, 5000, 2, "p1");
	ssc(t, c, 5000, 3, JV_STATE_VOLATILE, JV_STATE_DEGRADED,
	    JV_REASON_SWITCH_RATE_LIMITED);				/* 6 */
	simple(t, c, JV_EV_TRANSPORT_SWITCH_DENIED, 5000, 3,
	       JV_REASON_SWITCH_RATE_LIMITED);
	simple(t, c, JV_EV_TRANSPORT_SWITCH_DENIED, 6500, 3,
	       JV_REASON_SWITCH_RATE_LIMITED);			/* 8 */
	run(t, &s);
	expect(&s, 1, JV_AC_LIV10, L(6));	/* once per episode */

	/* the binding silent, not yet dead: lost all the same (PD-6) */
	edit(t, 4, "\"transport_dead\"", "\"heartbeat_timeout\"");
	t->n = 4;
	ssc(t, c, 5000, 3, JV_STATE_VOLATILE, JV_STATE_DEGRADED,
	    JV_REASON_SWITCH_RATE_LIMITED);				/* 5 */
	simple(t, c, JV_EV_TRANSPORT_SWITCH_DENIED, 5000, 3,
	       JV_REASON_SWITCH_RATE_LIMITED);
	run(t, &s);
	expect(&s, 1, JV_AC_LIV10, L(5));

	/* left for loss: the switch would be discretionary, the cap holds */
	edit(t, 4, "\"heartbeat_timeout\"", "\"loss_threshold_exceeded\"");
	run(t, &s);
	expect(&s, 0);

	/* a cap of 0 pins the session to its binding: no LIV-10 */
	edit(t, 4, "\"loss_threshold_exceeded\"", "\"heartbeat_timeout\"");
	edit(t, 1, "\"switching.max_switches_per_min\":8",
	     "\"switching.max_switches_per_min\":0");
	run(t, &s);
	expect(&s, 0);

	/* DEGRADED for loss, then the binding dies: the next gate refusal
	 * for the rate is the finding */
	t->n = 0;
	born_attached(t, c);
	ssc(t, c, 5000, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_LOSS_THRESHOLD_EXCEEDED);
	simple(t, c, JV_EV_TRANSPORT_SWITCH_DENIED, 5000, 2,
	       JV_REASON_SWITCH_RATE_LIMITED);			/* 5 */
	ssc(t, c, 9001, 3, JV_STATE_VOLATILE, JV_STATE_DEGRADED,
	    JV_REASON_VOLATILE_PERSISTED);
	ssc(t, c, 9500, 4, JV_STATE_DEGRADED, JV_STATE_DEGRADED,
	    JV_REASON_TRANSPORT_DEAD);
	dead(t, c, 9500, 4, "p1");
	simple(t, c, JV_EV_TRANSPORT_SWITCH_DENIED, 9600, 4,
	       JV_REASON_SWITCH_RATE_LIMITED);			/* 9 */
	run(t, &s);
	expect(&s, 1, JV_AC_LIV10, L(9));

	/* the validator's stream is not held to it (it does not select) */
	t->n = 0;
	born_attached(t, &t->g);
	ssc(t, &t->g, 5000, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT);
	ssc(t, &t->g, 5000, 3, JV_STATE_VOLATILE, JV_STATE_DEGRADED,
	    JV_REASON_SWITCH_RATE_LIMITED);
	run(t, &s);
	expect(&s, 0);
	free(t);
}

/*
 * The client leaves ATTACHED at 5000 for a silence of `age` ms (its binding
 * lost at 5000 - age), enters RECOVERING toward p2 at `at` and commits a
 * forced switch 40 ms later.  Lines 1..9.
 */
static void lost_then_switch(struct t *t, enum jv_reason why, uint64_t age,
			     jv_time at)
{
	const struct jv_event_origin *c = &t->c;

	born_attached(t, c);
	ssc_age(t, c, 5000, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE, why,
		age);							/* 4 */
	t->cls = "forced";
	ssc_rec(t, c, at, 3, JV_STATE_VOLATILE, "p1", "p2", 1,
		JV_REASON_LOSS_RECOVERY);				/* 5 */
	attempt(t, c, at, 3, "p2", 1);
	ssc(t, c, at + 40, 4, JV_STATE_RECOVERING, JV_STATE_ATTACHED,
	    JV_REASON_REATTACH_SUCCESS);
	t->lat_set = true;
	t->lat = 40;
	sw(t, c, at + 40, 4, "p1", "p2");				/* 8 */
	result(t, c, at + 40, 4, true, JV_REASON_REATTACH_SUCCESS, 1);
}

/* LIV-10 (b): a forced switch by the episode's first attempt commits by
 * the loss + HEARTBEAT_VOLATILE_MS + SWITCH_COOLDOWN_MS + its round trip
 * + 1 + ε.  Default policy: 2000 + 1500; lost at 2999, so due by
 * 2999 + 3500 + 40 + 1 = 6540. */
static void liv10_forced_switch_in_time(void **st)
{
	struct t *t = t_new();
	const struct jv_event_origin *c = &t->c;
	struct seen s;

	(void)st;
	lost_then_switch(t, JV_REASON_HEARTBEAT_TIMEOUT, 2001, 6500);
	run(t, &s);
	expect(&s, 0);
	t->n = 0;
	lost_then_switch(t, JV_REASON_HEARTBEAT_TIMEOUT, 2001, 6501);
	run(t, &s);
	expect(&s, 1, JV_AC_LIV10, L(8));
	assert_non_null(strstr(s.msg[0], "3542 ms after the binding was "
			       "lost at 2999"));
	t->eps = 50;
	run(t, &s);
	expect(&s, 0);
	t->eps = 0;

	/* a discretionary switch is not held to it */
	t->n = 0;
	lost_then_switch(t, JV_REASON_HEARTBEAT_TIMEOUT, 2001, 6501);
	edit(t, 8, "\"forced\"", "\"discretionary\"");
	run(t, &s);
	expect(&s, 0);

	/* no candidate for a while: which transport lived is not in the log */
	t->n = 0;
	lost_then_switch(t, JV_REASON_HEARTBEAT_TIMEOUT, 2001, 6501);
	t->n = 4;
	simple(t, c, JV_EV_TRANSPORT_SWITCH_DENIED, 5000, 2,
	       JV_REASON_NO_CANDIDATE_TRANSPORTS);
	t->cls = "forced";
	ssc_rec(t, c, 6501, 3, JV_STATE_VOLATILE, "p1", "p2", 1,
		JV_REASON_LOSS_RECOVERY);
	attempt(t, c, 6501, 3, "p2", 1);
	ssc(t, c, 6541, 4, JV_STATE_RECOVERING, JV_STATE_ATTACHED,
	    JV_REASON_REATTACH_SUCCESS);
	sw(t, c, 6541, 4, "p1", "p2");
	result(t, c, 6541, 4, true, JV_REASON_REATTACH_SUCCESS, 1);
	run(t, &s);
	expect(&s, 0);

	/* a first candidate that did not answer: the second attempt's
	 * switch is not judged */
	t->n = 0;
	lost_then_switch(t, JV_REASON_CONSECUTIVE_DROP_EXCEEDED, 2001, 5000);
	t->n = 6;
	attempt(t, c, 6501, 3, "p3", 2);
	ssc(t, c, 6541, 4, JV_STATE_RECOVERING, JV_STATE_ATTACHED,
	    JV_REASON_REATTACH_SUCCESS);
	sw(t, c, 6541, 4, "p1", "p3");
	result(t, c, 6541, 4, true, JV_REASON_REATTACH_SUCCESS, 2);
	run(t, &s);
	expect(&s, 0);

	/* a hard failure is the loss itself, whatever the age of the last
	 * answer: lost at 5000, due by 8541 */
	t->n = 0;
	lost_then_switch(t, JV_REASON_TRANSPORT_DEAD, 3000, 8500);
	t->n = 4;
	dead(t, c, 5000, 2, "p1");
	ssc_rec(t, c, 8500, 3, JV_STATE_VOLATILE, NULL, "p2", 1,
		JV_REASON_DEAD_TRANSPORT_RECOVERY);
	attempt(t, c, 8500, 3, "p2", 1);
	ssc(t, c, 8540, 4, JV_STATE_RECOVERING, JV_STATE_ATTACHED,
	    JV_REASON_REATTACH_SUCCESS);
	sw(t, c, 8540, 4, NULL, "p2");					/* 9 */
	result(t, c, 8540, 4, true, JV_REASON_REATTACH_SUCCESS, 1);
	run(t, &s);
	expect(&s, 0);
	/* a silence declared dead: lost at its last answer, 2000 */
	edit(t, 5, "\"hard_failure\"", "\"silence\"");
	run(t, &s);
	expect(&s, 1, JV_AC_LIV10, L(9));
	free(t);
}

/* T13 (PD-7 fail-back, PD-8 migration): from a working binding, no
 * outage; on the gateway T13 and T40 are one commit. */
static void planned_switch_t13(void **st)
{
	struct t *t = t_new();
	const struct jv_event_origin *g = &t->g, *c = &t->c;
	struct seen s;

	(void)st;
	t->cls = "discretionary";
	born_attached(t, g);
	attempt(t, g, 95489, 1, "p2", 1);
	ssc_rec(t, g, 95489, 2, JV_STATE_ATTACHED, "p1", "p2", 1,
		JV_REASON_FAILBACK);					/* 5 */
	ssc(t, g, 95489, 3, JV_STATE_RECOVERING, JV_STATE_ATTACHED,
	    JV_REASON_REATTACH_SUCCESS);
	sw(t, g, 95489, 3, "p1", "p2");
	result(t, g, 95489, 3, true, JV_REASON_REATTACH_SUCCESS, 1);
	born_attached(t, c);
	ssc_rec(t, c, 140000, 2, JV_STATE_ATTACHED, "p1", "p2", 1,
		JV_REASON_OPERATOR_MIGRATION);
	attempt(t, c, 140000, 2, "p2", 1);
	ssc(t, c, 140040, 3, JV_STATE_RECOVERING, JV_STATE_ATTACHED,
	    JV_REASON_REATTACH_SUCCESS);
	sw(t, c, 140040, 3, "p1", "p2");
	result(t, c, 140040, 3, true, JV_REASON_REATTACH_SUCCESS, 1);
	run(t, &s);
	expect(&s, 0);
	assert_int_equal(s.r.switches, 2);
	assert_int_equal(s.r.recovery[JV_ROLE_GATEWAY].count, 0);
	assert_int_equal(s.r.recovery[JV_ROLE_CLIENT].count, 0);

	/* only fail-back and migration leave ATTACHED for RECOVERING */
	edit(t, 5, "\"failback\"", "\"loss_recovery\"");
	run(t, &s);
	expect(&s, 1, JV_AC_INV03, L(5));

	/* planned switches are discretionary: held to the cap */
	edit(t, 5, "\"loss_recovery\"", "\"failback\"");
	edit(t, 1, "\"switching.max_switches_per_min\":8",
	     "\"switching.max_switches_per_min\":0");
	edit(t, 9, "\"switching.max_switches_per_min\":8",
	     "\"switching.max_switches_per_min\":0");
	run(t, &s);
	expect(&s, 4, JV_AC_INV12, L(5), JV_AC_INV08, L(7),
	       JV_AC_INV12, L(12), JV_AC_INV08, L(15));
	free(t);
}

/* TransportDamped / TransportReused: on the timeline, counted, replayed
 * like any event of the stream. */
static void damping_on_the_timeline(void **st)
{
	struct t *t = t_new();
	const struct jv_event_origin *c = &t->c;
	struct seen s;

	(void)st;
	std_client(t);
	t->n = 10;
	damping(t, c, JV_EV_TRANSPORT_DAMPED, 5040, 4, "p1", 3100);
	damping(t, c, JV_EV_TRANSPORT_REUSED, 8000, 4, "p1", 749);	/* 12 */
	ssc(t, c, 9000, 5, JV_STATE_ATTACHED, JV_STATE_TERMINATED,
	    JV_REASON_OPERATOR_TERMINATED);
	terminated(t, c, 9000, 5, JV_REASON_OPERATOR_TERMINATED, 8000, 0);
	run(t, &s);
	expect(&s, 0);
	assert_int_equal(s.kinds[JV_AE_DAMPED], 1);
	assert_int_equal(s.kinds[JV_AE_REUSED], 1);
	assert_int_equal(s.r.damped, 1);
	edit(t, 12, "\"state_version\":4", "\"state_version\":3");
	run(t, &s);
	expect(&s, 1, JV_AC_INV02, L(12));
	/* no reason code on them */
	edit(t, 12, "\"state_version\":3",
	     "\"state_version\":4,\"reason_code\":\"failback\"");
	run(t, &s);
	expect(&s, 1, JV_AC_INV13, L(12));
	free(t);
}

static void inv10_inv11_gateway(void **st)
{
	struct t *t = t_new();
	const struct jv_event_origin *g = &t->g;
	struct seen s;

	(void)st;
	born_attached(t, g);
	attempt(t, g, 5000, 1, "p2", 1);				/* 4 */
	ssc(t, g, 5000, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT);				/* 5 */
	result(t, g, 5000, 2, false, JV_REASON_POLICY_DENIED, 1);	/* 6 */
	run(t, &s);
	expect(&s, 1, JV_AC_INV10, L(6));

	/* a SUCCESS nonce not above the previous one */
	t->n = 0;
	born_attached(t, g);
	attempt(t, g, 5000, 1, "p1", 7);
	result(t, g, 5000, 1, true, JV_REASON_REATTACH_SUCCESS, 7);
	attempt(t, g, 6000, 1, "p1", 5);
	result(t, g, 6000, 1, true, JV_REASON_REATTACH_SUCCESS, 5);	/* 7 */
	run(t, &s);
	expect(&s, 1, JV_AC_INV11, L(7));

	/* a request that committed despite a replay finding inside it */
	t->n = 0;
	born_attached(t, g);
	attempt(t, g, 5000, 1, "p1", 7);
	simple(t, g, JV_EV_SECURITY_REPLAY_DETECTED, 5000, 1,
	       JV_REASON_REPLAY_DETECTED);
	result(t, g, 5000, 1, true, JV_REASON_REATTACH_SUCCESS, 7);	/* 6 */
	run(t, &s);
	expect(&s, 1, JV_AC_INV10, L(6));
	free(t);
}

static void inv13_inv17_fields(void **st)
{
	struct t *t = t_new();
	struct seen s;

	(void)st;
	std_client(t);
	edit(t, 4, "\"reason_code\":\"transport_dead\",", "");
	run(t, &s);
	/* the line is lost to the replay: TransportDead then belongs to no
	 * transition, and its version has no SessionStateChange */
	assert_true(has(&s, JV_AC_INV13, 4));

	t->n = 0;
	std_client(t);
	edit(t, 11, "\"reason_code\":\"operator_terminated\"",
	     "\"reason_code\":\"went_away\"");
	run(t, &s);
	assert_true(has(&s, JV_AC_INV13, 11));

	/* an extra field: INV-17 alone, the event still replays */
	t->n = 0;
	std_client(t);
	edit(t, 9, "\"explicit\":true", "\"explicit\":true,\"key\":\"00ff\"");
	run(t, &s);
	expect(&s, 1, JV_AC_INV17, L(9));
	t->n = 0;
	std_client(t);
	edit(t, 5, "\"details\":{", "\"details\":{\"proof\":\"ab\",");
	run(t, &s);
	expect(&s, 1, JV_AC_INV17, L(5));

	/* key material in an allowed field */
	t->n = 0;
	std_client(t);
	edit(t, 5, "\"transport_id\":\"p1\"", "\"transport_id\":\"p1-"
	     "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"");
	edit(t, 3, "\"transport_id\":\"p1\"", "\"transport_id\":\"p1-"
	     "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"");
	run(t, &s);
	expect(&s, 2, JV_AC_INV17, L(3), JV_AC_INV17, L(5));
	free(t);
}

static void inv14_termination(void **st)
{
	struct t *t = t_new();
	const struct jv_event_origin *c = &t->c;
	struct seen s;

	(void)st;
	t->pol.transport_lost_ttl_ms = 15000;
	/* dead at 5000, terminated for the TTL at 20000: not above 15000 */
	born_attached(t, c);
	ssc(t, c, 5000, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_TRANSPORT_DEAD);
	dead(t, c, 5000, 2, "p1");
	ssc(t, c, 9001, 3, JV_STATE_VOLATILE, JV_STATE_DEGRADED,
	    JV_REASON_VOLATILE_PERSISTED);
	ssc(t, c, 20000, 4, JV_STATE_DEGRADED, JV_STATE_TERMINATED,
	    JV_REASON_TRANSPORT_TTL_EXCEEDED);
	terminated(t, c, 20000, 4, JV_REASON_TRANSPORT_TTL_EXCEEDED, 19000,
		   15000);						/* 8 */
	run(t, &s);
	expect(&s, 1, JV_AC_INV14, L(8));

	/* one ms later it is justified */
	edit(t, 7, "\"ts_ms\":20000", "\"ts_ms\":20001");
	edit(t, 8, "\"ts_ms\":20000", "\"ts_ms\":20001");
	edit(t, 8, "\"session_age_ms\":19000", "\"session_age_ms\":19001");
	edit(t, 8, "\"transportless_age_ms\":15000",
	     "\"transportless_age_ms\":15001");
	run(t, &s);
	expect(&s, 0);

	/* ordered by the peer: checked on the peer's stream */
	edit(t, 7, "\"ts_ms\":20001", "\"ts_ms\":20000");
	edit(t, 8, "\"ts_ms\":20001", "\"ts_ms\":20000");
	edit(t, 8, "\"session_age_ms\":19001", "\"session_age_ms\":19000");
	edit(t, 8, "\"transportless_age_ms\":15001",
	     "\"transportless_age_ms\":15000");
	edit(t, 7, "\"reason_code\"", "\"details\":{\"origin\":\"peer\"},"
	     "\"reason_code\"");
	run(t, &s);
	/* (details go last in the writer's order: the strict reader takes
	 * it, only the fast reader steps aside) */
	expect(&s, 0);

	/* the lifetime: too early, and with a wrong session_age_ms */
	t->n = 0;
	t->pol.max_lifetime_ms = 20000;
	born_attached(t, c);
	ssc(t, c, 21000, 2, JV_STATE_ATTACHED, JV_STATE_TERMINATED,
	    JV_REASON_SESSION_LIFETIME_EXCEEDED);
	terminated(t, c, 21000, 2, JV_REASON_SESSION_LIFETIME_EXCEEDED, 19000,
		   0);							/* 5 */
	run(t, &s);
	expect(&s, 2, JV_AC_INV14, L(5), JV_AC_INV14, L(5));
	free(t);
}

/* SessionOwnerAcquired / Transferred (prev: previous owner or NULL). */
static int own(struct t *t, const struct jv_event_origin *o,
	       enum jv_event_type ty, jv_time ts, uint64_t v,
	       const char *owner, uint64_t epoch, const char *prev)
{
	struct jv_event e = E(ty, ts, v);

	JV_EV_SET(&e, owner_node_id, owner);
	JV_EV_SET(&e, owner_epoch, epoch);
	if (prev)
		JV_EV_SET(&e, previous_owner_node_id, prev);
	return put(t, o, &e);
}

#define ACQ JV_EV_SESSION_OWNER_ACQUIRED
#define XFER JV_EV_SESSION_OWNER_TRANSFERRED

/* SessionOwnerRejected(not_authoritative_owner), details.released: the
 * node's lease ended.  Without `released` it is a V2 denial's event. */
static int rejected(struct t *t, const struct jv_event_origin *o,
		    jv_time ts, uint64_t v, bool release)
{
	struct jv_event e = E(JV_EV_SESSION_OWNER_REJECTED, ts, v);

	JV_EV_SET(&e, reason_code, JV_REASON_NOT_AUTHORITATIVE_OWNER);
	JV_EV_SET(&e, expected_state_version, v);
	JV_EV_SET(&e, actual_state_version, v);
	if (release)
		JV_EV_SET(&e, released, true);
	return put(t, o, &e);
}

static int released(struct t *t, const struct jv_event_origin *o,
		    jv_time ts, uint64_t v)
{
	return rejected(t, o, ts, v, true);
}

/* gw-1 creates, owns (epoch 1) and binds the session: lines 1-4. */
static void gw1_owns(struct t *t)
{
	created(t, &t->g, 1000);
	own(t, &t->g, ACQ, 1000, 0, "gw-1", 1, NULL);
	ssc(t, &t->g, 1010, 1, JV_STATE_BIRTH, JV_STATE_ATTACHED,
	    JV_REASON_ATTACHED_TO_TRANSPORT);
	attached(t, &t->g, 1010, 1, "p1");
}

/* Ownership in one file (a simulator writes every node to one log). */
static void inv15_inv16_cluster(void **st)
{
	struct t *t = t_new();
	struct seen s;

	(void)st;
	/* a takeover by a higher epoch is how ownership moves (the old
	 * owner may be dead and log nothing); the old owner acting after it
	 * is the overlap */
	gw1_owns(t);
	own(t, &t->g2, XFER, 2000, 1, "gw-2", 2, "gw-1");		/* 5 */
	ssc(t, &t->g, 3000, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT);			/* 6: not owner */
	run(t, &s);
	expect(&s, 1, JV_AC_INV15, L(6));
	assert_int_equal(s.oline[0], 5);	/* the acquisition it broke */

	/* the same epoch twice; an acquisition for another node; a
	 * transfer from a node that is not the owner */
	t->n = 0;
	gw1_owns(t);
	own(t, &t->g2, XFER, 2000, 1, "gw-2", 1, "gw-1");		/* 5 */
	own(t, &t->g2, XFER, 2100, 1, "gw-1", 2, "gw-1");		/* 6 */
	own(t, &t->g2, XFER, 2200, 1, "gw-2", 3, "gw-3");		/* 7 */
	run(t, &s);
	expect(&s, 3, JV_AC_INV15, L(5), JV_AC_INV15, L(6), JV_AC_INV15,
	       L(7));
	assert_int_equal(s.oline[0], 2);

	/* created on one node, first owned by another */
	t->n = 0;
	created(t, &t->g, 1000);
	own(t, &t->g2, ACQ, 1000, 0, "gw-2", 1, NULL);		/* 2 */
	run(t, &s);
	expect(&s, 1, JV_AC_INV01, L(2));

	/* a node that let the session go (lease lost) acts no more, until
	 * it acquires the session again */
	t->n = 0;
	gw1_owns(t);
	released(t, &t->g, 2000, 1);				/* 5 */
	ssc(t, &t->g, 2500, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT);			/* 6 */
	own(t, &t->g, ACQ, 9000, 1, "gw-1", 2, "gw-1");		/* 7 */
	ssc(t, &t->g, 9500, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT);			/* 8 */
	ssc(t, &t->g, 9600, 3, JV_STATE_VOLATILE, JV_STATE_DEGRADED,
	    JV_REASON_VOLATILE_PERSISTED);
	run(t, &s);
	expect(&s, 1, JV_AC_INV15, L(6));
	assert_int_equal(s.oline[0], 5);

	/* a V2 denial (store unreachable a moment) ends nothing: the node
	 * still owns the session and its next commit is legal */
	t->n = 0;
	gw1_owns(t);
	rejected(t, &t->g, 2000, 1, false);			/* 5 */
	ssc(t, &t->g, 2500, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT);			/* 6 */
	run(t, &s);
	expect(&s, 0);

	/* two gateway nodes commit the same version, no ownership events:
	 * a fork, named with both places */
	t->n = 0;
	born_attached(t, &t->g);
	ssc(t, &t->g, 3000, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT);			/* 4 */
	ssc(t, &t->g2, 3000, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT);			/* 5 */
	ssc(t, &t->g2, 3500, 3, JV_STATE_VOLATILE, JV_STATE_DEGRADED,
	    JV_REASON_SWITCH_RATE_LIMITED);			/* its branch */
	run(t, &s);
	expect(&s, 1, JV_AC_INV16, L(5));
	assert_int_equal(s.oline[0], 4);
	free(t);
}

/* ---- several files, one audit ------------------------------------------- */

/*
 * The files f[0..n) audited together as f0.jsonl, f1.jsonl, ..., merged
 * as `jvpn audit` merges them (jv_audit_merge_key).  Each file is chained
 * on its own.
 */
static void run_set(struct t **f, int n, struct seen *s)
{
	struct jv_audit_opts o = { .epsilon_ms = f[0]->eps };
	struct jv_audit *a;
	int next[4] = { 0 };
	char name[16];

	assert_true(n <= 4);
	memset(s, 0, sizeof *s);
	o.hooks = (struct jv_audit_hooks){ hv, he, hend, s };
	assert_int_equal(jv_audit_new(&o, &a), 0);
	for (int i = 0; i < n; i++) {
		unsigned idx;

		if (!f[i]->no_rechain)
			rechain(f[i]);
		snprintf(name, sizeof name, "f%d.jsonl", i);
		assert_int_equal(jv_audit_file(a, name, &idx), 0);
		assert_int_equal(idx, (unsigned)i);
		if (f[i]->n == 0)
			assert_int_equal(jv_audit_file_end(a, idx, false), 0);
	}
	for (;;) {
		struct jv_audit_key kp = { 0 }, k;
		int pick = -1;

		for (int i = 0; i < n; i++) {
			const char *l = f[i]->line[next[i]];

			if (next[i] == f[i]->n)
				continue;
			assert_true(jv_audit_merge_key(l, strlen(l), &k));
			if (pick < 0 || jv_audit_key_cmp(&k, &kp) < 0) {
				pick = i;
				kp = k;
			}
		}
		if (pick < 0)
			break;
		assert_int_equal(jv_audit_file_line(a, (unsigned)pick,
			f[pick]->line[next[pick]],
			strlen(f[pick]->line[next[pick]]),
			(unsigned long)next[pick] + 1), 0);
		if (++next[pick] == f[pick]->n)
			assert_int_equal(jv_audit_file_end(a, (unsigned)pick,
							   false), 0);
	}
	assert_int_equal(jv_audit_file_end(a, 0, false), JV_ERR_INVAL);
	assert_int_equal(jv_audit_file_line(a, 0, "x", 1, 99), JV_ERR_INVAL);
	assert_int_equal(jv_audit_finish(a, false, &s->r), 0);
	jv_audit_free(a);
	assert_int_equal(s->r.violations, (uint64_t)s->n);
}

/* A finding of check c at file:line (and, if oline, naming ofile:oline). */
static bool has_at(const struct seen *s, enum jv_audit_check c, unsigned file,
		   unsigned long line, unsigned ofile, unsigned long oline)
{
	for (int i = 0; i < s->n; i++)
		if (s->c[i] == c && s->file[i] == file && s->line[i] == line &&
		    (!oline || (s->ofile[i] == ofile && s->oline[i] == oline)))
			return true;
	return false;
}

/*
 * CL-3: gw-1 owns and binds the session, goes VOLATILE at 5000 and is
 * fenced at 8000; gw-2 takes it over at 10000 (f1), fires the VOLATILE
 * bound that fell due at 9001 at once and commits the client's reattach.
 * gw-2's denial before, and gw-1's after, are not the owner's events.
 */
static void takeover(struct t *n1, struct t *n2)
{
	gw1_owns(n1);
	ssc(n1, &n1->g, 5000, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT);				/* 5 */
	released(n1, &n1->g, 8000, 2);				/* 6 */
	attempt(n1, &n1->g, 10500, 2, "p1", 9);			/* 7 */
	result(n1, &n1->g, 10500, 2, false,
	       JV_REASON_NOT_AUTHORITATIVE_OWNER, 9);		/* 8 */

	attempt(n2, &n2->g2, 5020, 2, "p2", 3);			/* 1 */
	result(n2, &n2->g2, 5020, 2, false,
	       JV_REASON_NOT_AUTHORITATIVE_OWNER, 3);		/* 2 */
	own(n2, &n2->g2, XFER, 10000, 2, "gw-2", 2, "gw-1");	/* 3 */
	simple(n2, &n2->g2, JV_EV_KEY_ROTATED, 10000, 2,
	       JV_REASON_TIME_ELAPSED);				/* 4 */
	ssc(n2, &n2->g2, 10000, 3, JV_STATE_VOLATILE, JV_STATE_DEGRADED,
	    JV_REASON_VOLATILE_PERSISTED);				/* 5 */
	attempt(n2, &n2->g2, 11020, 3, "p2", 5);			/* 6 */
	ssc_rec(n2, &n2->g2, 11020, 4, JV_STATE_DEGRADED, "p1", "p2", 1,
		JV_REASON_LOSS_RECOVERY);				/* 7 */
	ssc(n2, &n2->g2, 11020, 5, JV_STATE_RECOVERING, JV_STATE_ATTACHED,
	    JV_REASON_REATTACH_SUCCESS);				/* 8 */
	sw(n2, &n2->g2, 11020, 5, "p1", "p2");			/* 9 */
	result(n2, &n2->g2, 11020, 5, true, JV_REASON_REATTACH_SUCCESS, 5);
}

static void takeover_across_files(void **st)
{
	struct t *n1 = t_new(), *n2 = t_new(), *c = t_new();
	struct t *f[3] = { n1, n2, c };
	struct seen s;

	(void)st;
	takeover(n1, n2);
	std_client(c);
	run_set(f, 3, &s);
	expect(&s, 0);
	/* one gateway stream over both nodes, one client stream */
	assert_int_equal(s.r.streams, 2);
	assert_int_equal(s.r.streams_gateway, 1);
	assert_int_equal(s.r.switches, 2);
	assert_int_equal(s.ends, 2);

	/* the same with gw-1's log missing: the stream has no birth */
	{
		struct t *g[2] = { n2, c };

		run_set(g, 2, &s);
		expect(&s, 1, JV_AC_INV01, L(1));
		assert_true(has_at(&s, JV_AC_INV01, 0, 1, 0, 0));
	}

	/* gw-2 late with the overdue bound: due at max(9001, 10000 + ε) */
	n2->n = 4;
	ssc(n2, &n2->g2, 10001, 3, JV_STATE_VOLATILE, JV_STATE_DEGRADED,
	    JV_REASON_VOLATILE_PERSISTED);				/* 5 */
	n2->n = 10;
	run_set(f, 3, &s);
	expect(&s, 1, JV_AC_LIV04, L(5));
	assert_true(has_at(&s, JV_AC_LIV04, 1, 5, 0, 0));
	n1->eps = 1;			/* ε = 1 ms: in time */
	run_set(f, 3, &s);
	expect(&s, 0);
	n1->eps = 0;

	/* the bound falls due while gw-1 still owns it and says nothing
	 * about its lease until later: the grace is only for a change of
	 * owner, and gw-1 was alive at 9500 */
	n1->n = 5;
	simple(n1, &n1->g, JV_EV_KEY_ROTATED, 9500, 2, JV_REASON_TIME_ELAPSED);
	run_set(f, 3, &s);
	expect(&s, 1, JV_AC_LIV04, L(6));
	free(n1);
	free(n2);
	free(c);
}

static void ownership_faults_across_files(void **st)
{
	struct t *n1 = t_new(), *n2 = t_new();
	struct t *f[2] = { n1, n2 };
	struct seen s;

	(void)st;
	/* overlap: gw-1, not fenced, acts after gw-2 acquired */
	gw1_owns(n1);
	ssc(n1, &n1->g, 10500, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT);				/* f0:5 */
	own(n2, &n2->g2, XFER, 10000, 1, "gw-2", 2, "gw-1");	/* f1:1 */
	run_set(f, 2, &s);
	expect(&s, 1, JV_AC_INV15, L(5));
	assert_true(has_at(&s, JV_AC_INV15, 0, 5, 1, 1));

	/* and gw-2 commits the same version: a fork, at the later commit,
	 * naming the earlier one */
	ssc(n2, &n2->g2, 10600, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_LOSS_THRESHOLD_EXCEEDED);			/* f1:2 */
	run_set(f, 2, &s);
	expect(&s, 2, JV_AC_INV15, L(5), JV_AC_INV16, L(2));
	assert_true(has_at(&s, JV_AC_INV16, 1, 2, 0, 5));

	/* a non-owner's switch and SUCCESS are the owner's only */
	n1->n = 4;
	n2->n = 1;
	sw(n1, &n1->g, 10500, 1, "p1", "p2");			/* f0:5 */
	result(n1, &n1->g, 10500, 1, true, JV_REASON_REATTACH_SUCCESS, 7);
	run_set(f, 2, &s);
	expect(&s, 2, JV_AC_INV15, L(5), JV_AC_INV15, L(6));

	/* the epoch goes down */
	n1->n = 4;
	own(n1, &n1->g, ACQ, 12000, 1, "gw-1", 1, "gw-1");	/* f0:5 */
	run_set(f, 2, &s);
	expect(&s, 1, JV_AC_INV15, L(5));
	assert_true(has_at(&s, JV_AC_INV15, 0, 5, 1, 1));

	/* a second SessionCreated in another file */
	n1->n = 4;
	n2->n = 0;
	created(n2, &n2->g2, 1005);					/* f1:1 */
	run_set(f, 2, &s);
	expect(&s, 1, JV_AC_INV01, L(1));
	assert_true(has_at(&s, JV_AC_INV01, 1, 1, 0, 0));
	free(n1);
	free(n2);
}

/*
 * CL-5: one gateway restarted with the same node id: its file goes on,
 * it acquires the restored session with epoch 2 and fires the overdue
 * bounds at once (the lifetime too).
 */
static void restart_in_one_file(void **st)
{
	struct t *t = t_new();
	struct seen s;

	(void)st;
	t->pol.max_lifetime_ms = 20000;
	gw1_owns(t);
	ssc(t, &t->g, 5000, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT);
	own(t, &t->g, ACQ, 30000, 2, "gw-1", 2, "gw-1");		/* 6 */
	ssc(t, &t->g, 30000, 3, JV_STATE_VOLATILE, JV_STATE_TERMINATED,
	    JV_REASON_SESSION_LIFETIME_EXCEEDED);
	terminated(t, &t->g, 30000, 3, JV_REASON_SESSION_LIFETIME_EXCEEDED,
		   29000, 0);
	run(t, &s);
	expect(&s, 0);
	assert_int_equal(s.r.terminated, 1);

	/* without the acquisition the node was alive and late */
	memmove(t->line[5], t->line[6], 2 * sizeof t->line[0]);
	t->n--;
	run(t, &s);
	expect(&s, 2, JV_AC_LIV01, L(6), JV_AC_LIV04, L(6));
	free(t);
}

/* One session, two client nodes: two streams, and INV-01. */
static void second_client_node(void **st)
{
	struct t *t = t_new();
	struct jv_event_origin c2 = { SID, "client-2", "1.0", JV_ROLE_CLIENT };
	struct seen s;

	(void)st;
	std_client(t);
	created(t, &c2, 9500);					/* 13 */
	run(t, &s);
	expect(&s, 1, JV_AC_INV01, L(13));
	assert_int_equal(s.r.streams_client, 2);
	free(t);
}

static void merge_keys(void **st)
{
	struct t *t = t_new();
	struct jv_audit_key a, b;
	const char *l;

	(void)st;
	created(t, &t->g, 1000);
	own(t, &t->g, ACQ, 1000, 0, "gw-1", 1, NULL);
	ssc(t, &t->g, 1000, 1, JV_STATE_BIRTH, JV_STATE_ATTACHED,
	    JV_REASON_ATTACHED_TO_TRANSPORT);
	rechain(t);
	assert_true(jv_audit_merge_key(t->line[0], strlen(t->line[0]), &a));
	assert_int_equal(a.ts_ms, 1000);
	assert_int_equal(a.state_version, 0);
	assert_false(a.owner_change);
	assert_true(jv_audit_merge_key(t->line[1], strlen(t->line[1]), &b));
	assert_true(b.owner_change);
	/* in one millisecond an acquisition goes first, then versions */
	assert_true(jv_audit_key_cmp(&b, &a) < 0);
	assert_true(jv_audit_merge_key(t->line[2], strlen(t->line[2]), &b));
	assert_int_equal(b.state_version, 1);
	assert_true(jv_audit_key_cmp(&a, &b) < 0);
	assert_int_equal(jv_audit_key_cmp(&a, &a), 0);
	b.ts_ms = 999;
	assert_true(jv_audit_key_cmp(&b, &a) < 0);
	/* another key order still has a key; no ts_ms, no key */
	l = "{\"state_version\":7,\"event_type\":\"SessionOwnerTransferred\","
	    "\"ts_ms\":42}";
	assert_true(jv_audit_merge_key(l, strlen(l), &a));
	assert_int_equal(a.ts_ms, 42);
	assert_int_equal(a.state_version, 7);
	assert_true(a.owner_change);
	assert_false(jv_audit_merge_key("not json", 8, &a));
	assert_false(jv_audit_merge_key("{\"ts_ms\":x}", 11, &a));
	assert_false(jv_audit_merge_key(NULL, 0, &a));
	free(t);
}

/* Chains, counts and cut lines are per file. */
static void files_are_chained_alone(void **st)
{
	struct t *c = t_new(), *g = t_new();
	struct jv_audit *a;
	struct jv_audit_report r;
	struct jv_audit_file_stats fs;
	struct seen s;
	struct jv_audit_opts o = { .hooks = { hv, NULL, NULL, &s } };
	unsigned i0, i1;

	(void)st;
	std_client(c);
	born_attached(g, &g->g);
	rechain(c);
	rechain(g);
	memset(&s, 0, sizeof s);
	assert_int_equal(jv_audit_new(&o, &a), 0);
	assert_int_equal(jv_audit_file(a, "c.jsonl", &i0), 0);
	assert_int_equal(jv_audit_file(a, NULL, &i1), 0);
	assert_int_equal(jv_audit_file(NULL, "x", &i1), JV_ERR_INVAL);
	assert_int_equal(jv_audit_file_line(a, 7, c->line[0], 10, 1),
			 JV_ERR_INVAL);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(jv_audit_file_line(a, i0, c->line[k],
			strlen(c->line[k]), (unsigned long)k + 1), 0);
		assert_int_equal(jv_audit_file_line(a, i1, g->line[k],
			strlen(g->line[k]), (unsigned long)k + 1), 0);
	}
	assert_int_equal(jv_audit_file_end(a, i1, true), 0);	/* cut */
	for (int k = 3; k < c->n; k++)
		assert_int_equal(jv_audit_file_line(a, i0, c->line[k],
			strlen(c->line[k]), (unsigned long)k + 1), 0);
	assert_int_equal(jv_audit_file_end(a, i0, false), 0);
	assert_int_equal(jv_audit_finish(a, true, &r), 0);
	/* no chain finding: each file's seq starts at 0; one cut line */
	expect(&s, 1, JV_AC_PARSE, L(3));
	assert_int_equal(s.file[0], i1);
	assert_int_equal(jv_audit_file_stats(a, i0, &fs), 0);
	assert_int_equal(fs.lines, 12);
	assert_int_equal(fs.events, 12);
	assert_int_equal(fs.violations, 0);
	assert_int_equal(jv_audit_file_stats(a, i1, &fs), 0);
	assert_int_equal(fs.lines, 3);
	assert_int_equal(fs.violations, 1);
	assert_int_equal(fs.by_check[JV_AC_PARSE], 1);
	assert_int_equal(jv_audit_file_stats(a, 2, &fs), JV_ERR_INVAL);
	assert_int_equal(r.lines, 15);
	assert_int_equal(r.streams, 2);
	jv_audit_free(a);
	free(c);
	free(g);
}

static void liv01_to_04_bounds(void **st)
{
	struct t *t = t_new();
	const struct jv_event_origin *c = &t->c;
	struct seen s;

	(void)st;
	/* VOLATILE from 5000 (T20 does not restart it), DEGRADED at 9001 =
	 * 5000 + 4000 + 1: in time */
	born_attached(t, c);
	ssc(t, c, 5000, 2, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT);
	ssc(t, c, 8000, 3, JV_STATE_VOLATILE, JV_STATE_VOLATILE,
	    JV_REASON_TRANSPORT_DEAD);
	dead(t, c, 8000, 3, "p1");
	ssc(t, c, 9001, 4, JV_STATE_VOLATILE, JV_STATE_DEGRADED,
	    JV_REASON_VOLATILE_PERSISTED);			/* 7 */
	run(t, &s);
	expect(&s, 0);
	/* 30 ms late: a violation with ε = 0, tolerated with ε = 50 */
	edit(t, 7, "\"ts_ms\":9001", "\"ts_ms\":9031");
	run(t, &s);
	expect(&s, 1, JV_AC_LIV04, L(7));
	t->eps = 50;
	run(t, &s);
	expect(&s, 0);
	t->eps = 0;

	/* at the end of the log: transportless since 8000 and the log runs
	 * past 8000 + 15000 + 1 (another stream shows time went by) */
	born_attached(t, &t->g);
	simple(t, &t->g, JV_EV_KEY_ROTATED, 23002, 1, JV_REASON_TIME_ELAPSED);
	edit(t, 7, "\"ts_ms\":9031", "\"ts_ms\":9001");
	run(t, &s);
	expect(&s, 1, JV_AC_LIV02, L(6));

	/* RECOVERING not left within the recovery window */
	t->n = 0;
	std_client(t);
	t->n = 7;
	simple(t, c, JV_EV_KEY_ROTATED, 13002, 3, JV_REASON_TIME_ELAPSED);
	run(t, &s);
	expect(&s, 1, JV_AC_LIV03, L(8));

	/* the lifetime */
	t->n = 0;
	t->pol.max_lifetime_ms = 20000;
	born_attached(t, c);
	simple(t, c, JV_EV_KEY_ROTATED, 21002, 1, JV_REASON_TIME_ELAPSED);
	run(t, &s);
	expect(&s, 1, JV_AC_LIV01, L(4));
	free(t);
}

static void liv05_liv09(void **st)
{
	struct t *t = t_new();
	const struct jv_event_origin *c = &t->c;
	struct seen s;

	(void)st;
	/* RECOVERING -> DEGRADED (recovery window) with no outcome event */
	std_client(t);
	t->n = 7;
	ssc(t, c, 13001, 4, JV_STATE_RECOVERING, JV_STATE_DEGRADED,
	    JV_REASON_RECOVERY_WINDOW_EXCEEDED);			/* 8 */
	simple(t, c, JV_EV_KEY_ROTATED, 13001, 4, JV_REASON_TIME_ELAPSED);
	run(t, &s);
	expect(&s, 1, JV_AC_LIV05, L(8));
	/* with it, and a later gate refusal in the same ms, it passes */
	t->n = 8;
	simple(t, c, JV_EV_TRANSPORT_SWITCH_FAILED, 13001, 4,
	       JV_REASON_RECOVERY_WINDOW_EXCEEDED);
	simple(t, c, JV_EV_TRANSPORT_SWITCH_DENIED, 13001, 4,
	       JV_REASON_NO_CANDIDATE_TRANSPORTS);
	run(t, &s);
	expect(&s, 0);

	/* a SUCCESS for a nonce rejected as a replay before */
	t->n = 0;
	born_attached(t, &t->g);
	attempt(t, &t->g, 5000, 1, "p2", 9);
	result(t, &t->g, 5000, 1, false, JV_REASON_STALE_REQUEST, 9);
	attempt(t, &t->g, 5100, 1, "p1", 9);
	result(t, &t->g, 5100, 1, true, JV_REASON_REATTACH_SUCCESS, 9); /* 7 */
	run(t, &s);
	expect(&s, 1, JV_AC_LIV09, L(7));
	free(t);
}

static void order_and_policy(void **st)
{
	struct t *t = t_new();
	struct seen s;

	(void)st;
	std_client(t);
	edit(t, 7, "\"ts_ms\":5000", "\"ts_ms\":4000");
	run(t, &s);
	expect(&s, 1, JV_AC_ORDER, L(7));

	/* T42 with the denial before its result */
	t->n = 0;
	std_client(t);
	t->n = 7;
	ssc(t, &t->c, 5040, 4, JV_STATE_RECOVERING, JV_STATE_DEGRADED,
	    JV_REASON_REATTACH_VALIDATION_FAILED);
	simple(t, &t->c, JV_EV_TRANSPORT_SWITCH_DENIED, 5040, 4,
	       JV_REASON_BAD_PROOF);
	result(t, &t->c, 5040, 4, false, JV_REASON_BAD_PROOF, 1);	/* 10 */
	run(t, &s);
	expect(&s, 1, JV_AC_ORDER, L(10));
	/* in the right order it passes */
	t->n = 8;
	result(t, &t->c, 5040, 4, false, JV_REASON_BAD_PROOF, 1);
	simple(t, &t->c, JV_EV_TRANSPORT_SWITCH_DENIED, 5040, 4,
	       JV_REASON_BAD_PROOF);
	run(t, &s);
	expect(&s, 0);

	/* A KeyRotated in the middle of RECOVERING (at its own ms) belongs
	 * to no transition: the result of the later T40 still comes after
	 * only its SessionStateChange and binding event (an 8-hour
	 * simulated run once failed here). */
	t->n = 0;
	std_client(t);
	t->n = 7;
	simple(t, &t->c, JV_EV_KEY_ROTATED, 5020, 3, JV_REASON_TIME_ELAPSED);
	ssc(t, &t->c, 5040, 4, JV_STATE_RECOVERING, JV_STATE_ATTACHED,
	    JV_REASON_REATTACH_SUCCESS);
	sw(t, &t->c, 5040, 4, NULL, "p2");
	result(t, &t->c, 5040, 4, true, JV_REASON_REATTACH_SUCCESS, 1);
	ssc(t, &t->c, 9000, 5, JV_STATE_ATTACHED, JV_STATE_TERMINATED,
	    JV_REASON_OPERATOR_TERMINATED);
	terminated(t, &t->c, 9000, 5, JV_REASON_OPERATOR_TERMINATED, 8000, 0);
	run(t, &s);
	expect(&s, 0);

	/* no policy in the log: fail closed, say why */
	t->n = 0;
	std_client(t);
	edit(t, 1, ",\"details\":{\"policy\":", ",\"x\":{\"policy\":");
	run(t, &s);
	assert_true(has(&s, JV_AC_INV17, 1));
	assert_true(has(&s, JV_AC_POLICY, 1));

	/* a snapshot that is no valid policy: the birth is lost with it */
	t->n = 0;
	std_client(t);
	edit(t, 1, "\"session.max_lifetime_ms\":28800000",
	     "\"session.max_lifetime_ms\":1");
	run(t, &s);
	expect(&s, 2, JV_AC_POLICY, L(1), JV_AC_INV01, L(2));

	/* an event naming another policy version */
	t->n = 0;
	std_client(t);
	edit(t, 7, "\"policy_version\":\"1.0\"", "\"policy_version\":\"1.1\"");
	run(t, &s);
	expect(&s, 1, JV_AC_POLICY, L(7));
	free(t);
}

/* Both readers on one line: the fast one may only say yes when the
 * strict one says yes and reads the same event. */
static void same_reading(const struct au_fast *f, const char *line,
			 size_t len)
{
	struct jv_parsed_event a, b;
	char scratch[2 * JV_EVENT_LINE_MAX];
	bool fast = au_fast_parse(f, line, len, scratch, sizeof scratch, &a);
	int strict = jv_event_parse(line, len, &b, NULL);

	if (!fast) {
		jv_parsed_event_free(&b);
		return;
	}
	if (strict != 0)
		fprintf(stderr, "fast reader took: %.*s\n", (int)len, line);
	assert_int_equal(strict, 0);
	assert_int_equal(a.ev.type, b.ev.type);
	assert_int_equal(a.ev.ts_ms, b.ev.ts_ms);
	assert_int_equal(a.ev.state_version, b.ev.state_version);
	assert_int_equal(a.ev.set, b.ev.set);
	assert_int_equal(a.seq, b.seq);
	assert_string_equal(a.prev_hash, b.prev_hash);
	assert_string_equal(a.origin.session_id, b.origin.session_id);
	assert_string_equal(a.origin.node_id, b.origin.node_id);
	assert_string_equal(a.origin.policy_version, b.origin.policy_version);
	assert_int_equal(a.origin.role, b.origin.role);
	for (int i = 0; i < JV_F_COUNT; i++) {
		const char *pa = (const char *)&a.ev + f->off[i];
		const char *pb = (const char *)&b.ev + f->off[i];

		if (!((a.ev.set >> i) & 1))
			continue;
		if (f->kind[i] == JV_KIND_STR) {
			const char *sa, *sb;

			memcpy(&sa, pa, sizeof sa);
			memcpy(&sb, pb, sizeof sb);
			assert_true((sa == NULL) == (sb == NULL));
			if (sa)
				assert_string_equal(sa, sb);
		} else if (f->kind[i] == JV_KIND_REASON) {
			assert_int_equal(a.ev.reason_code, b.ev.reason_code);
		} else if (f->kind[i] == JV_KIND_F64) {
			double x, y;

			memcpy(&x, pa, sizeof x);
			memcpy(&y, pb, sizeof y);
			assert_memory_equal(&x, &y, sizeof x);
		} else if (f->kind[i] == JV_KIND_U64) {
			assert_memory_equal(pa, pb, sizeof(uint64_t));
		} else if (f->kind[i] == JV_KIND_BOOL) {
			assert_memory_equal(pa, pb, sizeof(bool));
		} else {
			assert_memory_equal(pa, pb, sizeof(int));
		}
	}
	jv_parsed_event_free(&b);
}

static void fast_reader_agrees_with_strict(void **st)
{
	static const char subst[] = " \"\\0x}{,:-.e9\x01\xc3";
	struct t *t = t_new();
	struct au_fast f;
	struct jv_event e;
	int fast_ok = 0;

	(void)st;
	au_fast_init(&f);
	std_client(t);
	e = E(JV_EV_POLICY_LIMIT_TRIGGERED, 9000, 5);
	JV_EV_SET(&e, reason_code, JV_REASON_SWITCH_RATE_LIMITED);
	JV_EV_SET(&e, policy_name, "max_switches_per_min");
	JV_EV_SET(&e, threshold_value, 8.0);
	JV_EV_SET(&e, observed_value, 0.125);
	put(t, &t->c, &e);
	e = E(JV_EV_TRANSPORT_SWITCH_DENIED, 9000, 5);
	JV_EV_SET(&e, reason_code, JV_REASON_COOLDOWN_ACTIVE);
	JV_EV_SET(&e, candidate_transport, NULL);
	JV_EV_SET(&e, suppressed_count, 3);
	put(t, &t->c, &e);
	/* PD-7: a string field at the top level, a number in details */
	t->cls = "forced";
	sw(t, &t->c, 9000, 5, "p2", "p1");
	damping(t, &t->c, JV_EV_TRANSPORT_DAMPED, 9000, 5, "p2", 3001);
	rechain(t);
	for (int k = 0; k < t->n; k++) {
		char *line = t->line[k], m[JV_EVENT_LINE_MAX];
		size_t len = strlen(line);
		struct jv_parsed_event p;
		char scratch[2 * JV_EVENT_LINE_MAX];

		/* the writer's own lines: all fast but the policy one */
		if (au_fast_parse(&f, line, len, scratch, sizeof scratch, &p))
			fast_ok++;
		same_reading(&f, line, len);
		for (size_t i = 0; i < len; i++) {
			for (size_t j = 0; j < sizeof subst - 1; j++) {
				memcpy(m, line, len);
				m[i] = subst[j];
				same_reading(&f, m, len);
			}
			memcpy(m, line, i);		/* deleted byte */
			memcpy(m + i, line + i + 1, len - i - 1);
			same_reading(&f, m, len - 1);
			same_reading(&f, line, i);	/* truncated */
		}
	}
	assert_int_equal(fast_ok, t->n - 1);
	same_reading(&f, "{\"ts_ms\":01}", 12);
	same_reading(&f, "", 0);
	free(t);
}

static void histogram_quantiles(void **st)
{
	struct au_hist *h = calloc(1, sizeof *h);

	(void)st;
	assert_non_null(h);
	assert_int_equal(au_hist_quantile(h, 0.5), 0);
	for (uint64_t v = 1; v <= 100; v++)
		au_hist_add(h, v);
	assert_int_equal(au_hist_quantile(h, 0.5), 50);	/* exact < 128 */
	assert_int_equal(au_hist_quantile(h, 0.95), 95);
	assert_int_equal(au_hist_quantile(h, 1.0), 100);
	memset(h, 0, sizeof *h);
	au_hist_add(h, 1000000);
	au_hist_add(h, 12345);
	au_hist_add(h, 7);
	/* within 1/64 below the true value, never above the max */
	assert_true(au_hist_quantile(h, 0.5) <= 12345);
	assert_true(au_hist_quantile(h, 0.5) >= 12345 - 12345 / 64);
	assert_int_equal(au_hist_quantile(h, 1.0), 1000000);
	au_hist_add(h, UINT64_MAX);
	assert_int_equal(au_hist_quantile(h, 1.0), UINT64_MAX);
	free(h);
}

/* Many streams grow the table; one long stream keeps its memory. */
static void memory_is_per_stream(void **st)
{
	struct jv_audit *a;
	struct jv_audit_report r;
	struct jv_eventlog_fake {
		char line[JV_EVENT_LINE_MAX];
	} *buf = malloc(sizeof *buf);
	struct jv_event_origin o = { SID2, "client-1", "1.0", JV_ROLE_CLIENT };
	char prev[JV_HASH_HEX], sid[JV_SESSION_ID_HEX];
	struct jv_policy pol;
	struct jv_event e;
	unsigned long line = 0;
	uint64_t seq = 0;
	size_t len, before = 0;

	(void)st;
	assert_non_null(buf);
	jv_policy_default(&pol);
	memcpy(prev, ZERO, sizeof prev);
	assert_int_equal(jv_audit_new(NULL, &a), 0);
#define FEED(origin)                                                       \
	do {                                                               \
		assert_int_equal(jv_event_format(origin, &e, seq++, prev,  \
						 buf->line, sizeof buf->line, \
						 &len), 0);                \
		jv_eventlog_hash(buf->line, len, prev);                    \
		assert_int_equal(jv_audit_line(a, buf->line, len, ++line), 0); \
	} while (0)

	/* 2000 sessions: created and ended */
	for (int i = 0; i < 2000; i++) {
		struct jv_event_origin oi = o;

		snprintf(sid, sizeof sid, "%032x", i + 1);
		oi.session_id = sid;
		e = E(JV_EV_SESSION_CREATED, 1000, 0);
		JV_EV_SET(&e, state, JV_STATE_BIRTH);
		JV_EV_SET(&e, policy, &pol);
		FEED(&oi);
		e = E(JV_EV_SESSION_STATE_CHANGE, 1000, 1);
		JV_EV_SET(&e, previous_state, JV_STATE_BIRTH);
		JV_EV_SET(&e, new_state, JV_STATE_TERMINATED);
		JV_EV_SET(&e, reason_code, JV_REASON_HANDSHAKE_FAILED);
		FEED(&oi);
		e = E(JV_EV_SESSION_TERMINATED, 1000, 1);
		JV_EV_SET(&e, reason_code, JV_REASON_HANDSHAKE_FAILED);
		JV_EV_SET(&e, session_age_ms, 0);
		JV_EV_SET(&e, transportless_age_ms, 0);
		FEED(&oi);
	}
	/* one session with 60 000 events */
	e = E(JV_EV_SESSION_CREATED, 1000, 0);
	JV_EV_SET(&e, state, JV_STATE_BIRTH);
	JV_EV_SET(&e, policy, &pol);
	FEED(&o);
	for (int i = 0; i < 60000; i++) {
		e = E(JV_EV_KEY_ROTATED, 1000 + (jv_time)i / 8, 0);
		JV_EV_SET(&e, reason_code, JV_REASON_TIME_ELAPSED);
		FEED(&o);
		if (i == 1000)
			before = mallinfo2().uordblks;
	}
	/* nothing kept per event: the heap did not grow by more than a
	 * page-sized slack while 59 000 more events went by */
	assert_true(mallinfo2().uordblks <= before + 4096);
	assert_int_equal(jv_audit_finish(a, false, &r), 0);
	assert_int_equal(r.streams, 2001);
	assert_int_equal(r.terminated, 2000);
	assert_int_equal(r.events, 2000 * 3 + 60001);
	assert_true(r.pass);
	jv_audit_free(a);
	free(buf);
#undef FEED
}

static void allocation_failures(void **st)
{
	struct jv_audit *a = (struct jv_audit *)&a;
	struct t *t = t_new();

	(void)st;
	assert_int_equal(jv_audit_new(NULL, NULL), JV_ERR_INVAL);
	calloc_fail_in = 0;			/* the auditor */
	assert_int_equal(jv_audit_new(NULL, &a), JV_ERR_NOMEM);
	assert_null(a);
	calloc_fail_in = 1;			/* its stream table */
	assert_int_equal(jv_audit_new(NULL, &a), JV_ERR_NOMEM);
	assert_null(a);
	calloc_fail_in = -1;

	std_client(t);
	rechain(t);
	assert_int_equal(jv_audit_new(NULL, &a), 0);
	calloc_fail_in = 0;			/* the first stream */
	assert_int_equal(jv_audit_line(a, t->line[1], strlen(t->line[1]), 1),
			 JV_ERR_NOMEM);
	calloc_fail_in = -1;
	jv_audit_free(a);
	jv_audit_free(NULL);
	free(t);
}

static void names_and_formats(void **st)
{
	struct jv_audit_violation v = { JV_AC_INV05, 17, NULL, "x" };
	struct jv_audit_stream s = { .index = 3 };
	char buf[64], tiny[8];
	json_t *j;

	(void)st;
	for (int c = 0; c < JV_AC_COUNT; c++) {
		assert_non_null(jv_audit_check_name((enum jv_audit_check)c));
		assert_non_null(jv_audit_check_what((enum jv_audit_check)c));
	}
	assert_null(jv_audit_check_name(JV_AC_COUNT));
	assert_string_equal(jv_audit_check_name(JV_AC_LIV09), "LIV-09");
	assert_int_equal(jv_audit_format_violation(&v, "f.jsonl", buf,
						   sizeof buf),
			 (int)strlen("f.jsonl:17: INV-05: x"));
	assert_string_equal(buf, "f.jsonl:17: INV-05: x");
	v.stream = &s;
	assert_true(jv_audit_format_violation(&v, NULL, buf, sizeof buf) > 0);
	assert_string_equal(buf, "17: INV-05: x [stream 3]");
	assert_int_equal(jv_audit_format_violation(&v, "f", tiny, sizeof tiny),
			 JV_ERR_NOSPACE);
	assert_int_equal(strlen(tiny), sizeof tiny - 1);
	assert_int_equal(jv_audit_format_violation(NULL, "f", buf, 8),
			 JV_ERR_INVAL);
	j = jv_audit_violation_json(&v);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "check")),
			    "INV-05");
	assert_int_equal(json_integer_value(json_object_get(j, "line")), 17);
	json_decref(j);
	assert_string_equal(jv_audit_entry_kind_name(JV_AE_OPEN), "open");
	assert_null(jv_audit_entry_kind_name((enum jv_audit_entry_kind)99));
	assert_string_equal(jv_audit_check_name(JV_AC_LIV10), "LIV-10");
}

/* PD-7 on the timeline: the class of a switch and of an entry into
 * RECOVERING (absent reads as discretionary), damping with its penalty. */
static void timeline_classes_and_damping(void **st)
{
	struct jv_audit_stream s = { .index = 2, .born = true, .born_ms = 0 };
	struct jv_audit_entry e = {
		.kind = JV_AE_SWITCH, .ts_ms = 5040, .state_version = 4,
		.type = JV_EV_TRANSPORT_SWITCH, .reason = JV_REASON_NONE,
		.from = JV_STATE_COUNT, .to = JV_STATE_COUNT, .forced = true,
		.from_transport = "p1", .to_transport = "p2", .line = 9,
	};
	char buf[256];
	json_t *j;

	(void)st;
	assert_true(jv_audit_format_entry(&s, &e, buf, sizeof buf) > 0);
	assert_non_null(strstr(buf, "switch p1 -> p2 (forced)"));
	j = jv_audit_entry_json(&e);
	assert_string_equal(json_string_value(json_object_get(j,
				"trigger_class")), "forced");
	json_decref(j);
	e.forced = false;
	assert_true(jv_audit_format_entry(&s, &e, buf, sizeof buf) > 0);
	assert_non_null(strstr(buf, "(discretionary)"));

	e.kind = JV_AE_STATE;
	e.type = JV_EV_SESSION_STATE_CHANGE;
	e.from = JV_STATE_ATTACHED;
	e.to = JV_STATE_RECOVERING;
	e.reason = JV_REASON_FAILBACK;
	assert_true(jv_audit_format_entry(&s, &e, buf, sizeof buf) > 0);
	assert_non_null(strstr(buf, "ATTACHED -> RECOVERING (failback, "
			       "discretionary)"));
	e.to = JV_STATE_VOLATILE;	/* no class on other transitions */
	j = jv_audit_entry_json(&e);
	assert_null(json_object_get(j, "trigger_class"));
	json_decref(j);

	e.kind = JV_AE_DAMPED;
	e.type = JV_EV_TRANSPORT_DAMPED;
	e.reason = JV_REASON_NONE;
	e.from = e.to = JV_STATE_COUNT;
	e.from_transport = NULL;
	e.to_transport = "p1";
	e.flap_penalty = 3001;
	assert_true(jv_audit_format_entry(&s, &e, buf, sizeof buf) > 0);
	assert_non_null(strstr(buf, "p1 damped (flap penalty 3001)"));
	j = jv_audit_entry_json(&e);
	assert_string_equal(json_string_value(json_object_get(j, "kind")),
			    "damped");
	assert_int_equal(json_integer_value(json_object_get(j,
				"flap_penalty")), 3001);
	json_decref(j);
	e.kind = JV_AE_REUSED;
	assert_true(jv_audit_format_entry(&s, &e, buf, sizeof buf) > 0);
	assert_non_null(strstr(buf, "p1 reused (flap penalty 3001)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_client_stream_passes),
		cmocka_unit_test(good_gateway_stream_passes),
		cmocka_unit_test(replaced_session_passes),
		cmocka_unit_test(chain_edit_gap_reorder),
		cmocka_unit_test(parse_errors_do_not_stop_the_audit),
		cmocka_unit_test(truncated_and_overlong_lines),
		cmocka_unit_test(inv01_identity),
		cmocka_unit_test(inv02_versions),
		cmocka_unit_test(inv03_legality),
		cmocka_unit_test(inv04_absorption),
		cmocka_unit_test(inv05_binding_replay),
		cmocka_unit_test(inv06_inv07_attach),
		cmocka_unit_test(inv08_inv09_inv12_rate),
		cmocka_unit_test(inv08_inv12_forced_not_counted),
		cmocka_unit_test(liv10_no_rate_refusal_when_lost),
		cmocka_unit_test(liv10_forced_switch_in_time),
		cmocka_unit_test(planned_switch_t13),
		cmocka_unit_test(damping_on_the_timeline),
		cmocka_unit_test(inv10_inv11_gateway),
		cmocka_unit_test(inv13_inv17_fields),
		cmocka_unit_test(inv14_termination),
		cmocka_unit_test(inv15_inv16_cluster),
		cmocka_unit_test(takeover_across_files),
		cmocka_unit_test(ownership_faults_across_files),
		cmocka_unit_test(restart_in_one_file),
		cmocka_unit_test(second_client_node),
		cmocka_unit_test(merge_keys),
		cmocka_unit_test(files_are_chained_alone),
		cmocka_unit_test(liv01_to_04_bounds),
		cmocka_unit_test(liv05_liv09),
		cmocka_unit_test(order_and_policy),
		cmocka_unit_test(fast_reader_agrees_with_strict),
		cmocka_unit_test(histogram_quantiles),
		cmocka_unit_test(memory_is_per_stream),
		cmocka_unit_test(allocation_failures),
		cmocka_unit_test(names_and_formats),
		cmocka_unit_test(timeline_classes_and_damping),
	};

	return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
