/* SPDX-License-Identifier: MIT */
/*
 * Runtime policy change (spec §5, D-026) on the engine lab: strict mode
 * takes effect at the call with every armed deadline recomputed from its
 * original start (a bound already exceeded fires X1/X2 there and then, a
 * loosened one is extended), grace mode waits for the next committed
 * transition and adopts the policy at the end of its commit, a newer
 * update replaces a pending one, an invalid policy or a reused version
 * changes nothing but a PolicyUpdate(REJECTED).  Every event after an
 * adoption names the new version, and the whole log written through the
 * engine's event sink passes the auditor.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit/audit.h"
#include "jvpn/eventlog.h"
#include "jvpn/policy.h"
#include "jvpn/session.h"

#include "lab.h"

/* ---- the log, written through the engine's sink, then audited --------- */

static struct {
	char *text;
	size_t len, cap;
} lb;
static struct jv_eventlog evlog;

static int sink_write(void *ud, const char *line, size_t len)
{
	(void)ud;
	if (lb.len + len > lb.cap) {
		size_t cap = (lb.cap ? 2 * lb.cap : 1 << 20) + len;
		char *t = realloc(lb.text, cap);
		assert_non_null(t);
		lb.text = t;
		lb.cap = cap;
	}
	memcpy(lb.text + lb.len, line, len);
	lb.len += len;
	return 0;
}

static void log_start(struct lab *l)
{
	lb.len = 0;
	jv_eventlog_init(&evlog, (struct jv_sink){ sink_write, NULL });
	l->cs.log = l->gs.log = &evlog;
}

static void on_violation(void *ud, const struct jv_audit_violation *v)
{
	char buf[1024];

	(void)ud;
	if (jv_audit_format_violation(v, "lab", buf, sizeof buf) > 0)
		fprintf(stderr, "audit: %s\n", buf);
}

/* Every line of the log through the auditor: not one finding. */
static void audit_clean(void)
{
	struct jv_audit_opts o = { .epsilon_ms = 0 };
	struct jv_audit_report r;
	struct jv_audit *a;
	unsigned long n = 0;
	size_t at = 0;

	o.hooks.violation = on_violation;
	assert_int_equal(evlog.rejected, 0);
	assert_int_equal(jv_audit_new(&o, &a), 0);
	while (at < lb.len) {
		char *nl = memchr(lb.text + at, '\n', lb.len - at);
		assert_non_null(nl);
		assert_int_equal(jv_audit_line(a, lb.text + at,
					       (size_t)(nl - (lb.text + at)),
					       ++n), 0);
		at = (size_t)(nl - lb.text) + 1;
	}
	assert_int_equal(jv_audit_finish(a, false, &r), 0);
	jv_audit_free(a);
	assert_true(n > 0);
	assert_int_equal(r.events, n);
	assert_int_equal(r.violations, 0);
}

/* ---- helpers ---------------------------------------------------------- */

static void next_policy(const struct lab *l, struct jv_policy *p,
			const char *version, enum jv_policy_change_mode mode)
{
	*p = l->pol;
	snprintf(p->version, sizeof p->version, "%s", version);
	p->change_mode = mode;
}

static int set_client(struct lab *l, const struct jv_policy *p)
{
	jv_out_reset(&l->out);
	int rc = jv_client_set_policy(l->c, p, l->now, &l->out);
	enqueue(l, &l->out, true);
	return rc;
}

static int set_gateway(struct lab *l, const struct jv_policy *p)
{
	jv_out_reset(&l->out);
	int rc = jv_gateway_set_policy(l->g, p, l->now, &l->out);
	enqueue(l, &l->out, false);
	return rc;
}

static void set_both(struct lab *l, const struct jv_policy *p)
{
	assert_int_equal(set_client(l, p), 0);
	assert_int_equal(set_gateway(l, p), 0);
}

/* Index of the first event of type t at or after `from`, -1 if none. */
static int find(const struct side *s, enum jv_event_type t, unsigned from)
{
	for (unsigned i = from; i < s->nev; i++)
		if (s->ev[i].type == t)
			return (int)i;
	return -1;
}

/* Events [0, k) name `before`, events [k, end) name `after`. */
static void versions_split(const struct side *s, int k, const char *before,
			   const char *after)
{
	for (unsigned i = 0; i < s->nev; i++)
		assert_string_equal(s->ev[i].policy,
				    (int)i < k ? before : after);
}

/* Both paths die at once (FM-1.2): the client loses its binding at once
 * (hard failure), the gateway by silence. */
static jv_time blackout(struct lab *l, jv_time at)
{
	run(l, at);
	jv_time t0 = l->now;
	cut(l, 0, true);
	cut(l, 1, true);
	path_down(l, 1);
	path_down(l, 0);
	return t0;
}

/* ---- strict ----------------------------------------------------------- */

/* Strict tightening of TRANSPORT_LOST_TTL_MS: the client, transportless
 * for 8 s, is past the new 5 s bound and ends at the call (X2); the
 * gateway, transportless for less, ends 5 s after its own start. */
static void strict_tighter_ttl_fires_x2_at_the_call(void **st)
{
	(void)st;
	struct jv_policy pol, p2;
	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);
	log_start(l);

	jv_time t0 = blackout(l, T0 + 5000);
	run(l, t0 + 8000);
	assert_int_equal(jv_client_state(l->c), JV_STATE_DEGRADED);
	unsigned cbefore = l->cs.nev, gbefore = l->gs.nev;
	int gdead = find(&l->gs, JV_EV_TRANSPORT_DEAD, 0);
	assert_int_not_equal(gdead, -1);
	jv_time gunbound = l->gs.ev[gdead].ts;
	assert_true(gunbound + 5000 >= t0 + 8000);	/* not yet past it */

	next_policy(l, &p2, "2.0", JV_POLICY_CHANGE_STRICT);
	p2.transport_lost_ttl_ms = 5000;
	set_both(l, &p2);

	/* client: at the call, PolicyUpdate then X2 under the new version */
	assert_int_equal(jv_client_state(l->c), JV_STATE_TERMINATED);
	const struct rec *u = &l->cs.ev[cbefore];
	assert_int_equal(u->type, JV_EV_POLICY_UPDATE);
	assert_int_equal(u->ts, t0 + 8000);
	assert_string_equal(u->status, "APPLIED");
	assert_string_equal(u->prev_policy, pol.version);
	assert_string_equal(u->mode, "strict");
	const struct rec *x = &l->cs.ev[cbefore + 1];
	assert_int_equal(x->type, JV_EV_SESSION_STATE_CHANGE);
	assert_int_equal(x->next, JV_STATE_TERMINATED);
	assert_int_equal(x->reason, JV_REASON_TRANSPORT_TTL_EXCEEDED);
	assert_int_equal(x->ts, t0 + 8000);
	assert_int_equal(l->cs.ev[cbefore + 2].type, JV_EV_SESSION_TERMINATED);
	versions_split(&l->cs, (int)cbefore, pol.version, "2.0");

	/* gateway: updated now, X2 from its original start */
	assert_int_equal(l->gs.ev[gbefore].type, JV_EV_POLICY_UPDATE);
	assert_int_not_equal(gw_state(l), JV_STATE_TERMINATED);
	run(l, t0 + 20000);
	int t = find_change(&l->gs, JV_STATE_DEGRADED, JV_STATE_TERMINATED, 0);
	assert_int_not_equal(t, -1);
	assert_int_equal(l->gs.ev[t].reason, JV_REASON_TRANSPORT_TTL_EXCEEDED);
	assert_int_equal(l->gs.ev[t].ts, gunbound + 5001);
	versions_split(&l->gs, (int)gbefore, pol.version, "2.0");

	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	versions_continuous(&l->cs);
	versions_continuous(&l->gs);
	assert_false(l->spun);
	audit_clean();
	lab_free(l);
}

/* Strict tightening of SESSION_MAX_LIFETIME_MS below the session's age:
 * X1 on both sides at the call. */
static void strict_shorter_lifetime_fires_x1_at_the_call(void **st)
{
	(void)st;
	struct jv_policy pol, p2;
	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);
	log_start(l);

	run(l, T0 + 20000);
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	unsigned cbefore = l->cs.nev, gbefore = l->gs.nev;
	next_policy(l, &p2, "2.0", JV_POLICY_CHANGE_STRICT);
	p2.max_lifetime_ms = 16000;
	set_both(l, &p2);

	assert_int_equal(jv_client_state(l->c), JV_STATE_TERMINATED);
	assert_int_equal(gw_state(l), JV_STATE_TERMINATED);
	assert_int_equal(l->cs.ev[cbefore].type, JV_EV_POLICY_UPDATE);
	assert_int_equal(l->cs.ev[cbefore + 1].reason,
			 JV_REASON_SESSION_LIFETIME_EXCEEDED);
	assert_int_equal(l->cs.ev[cbefore + 1].ts, T0 + 20000);
	assert_int_equal(l->gs.ev[gbefore].type, JV_EV_POLICY_UPDATE);
	assert_int_equal(l->gs.ev[gbefore + 1].reason,
			 JV_REASON_SESSION_LIFETIME_EXCEEDED);
	assert_int_equal(l->gs.ev[gbefore + 1].ts, T0 + 20000);
	versions_split(&l->cs, (int)cbefore, pol.version, "2.0");
	versions_split(&l->gs, (int)gbefore, pol.version, "2.0");
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	audit_clean();
	lab_free(l);
}

/* Strict loosening: the transportless deadline moves out, measured from
 * the moment the binding was lost, not from the update. */
static void strict_looser_ttl_extends_from_original_start(void **st)
{
	(void)st;
	struct jv_policy pol, p2;
	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);
	log_start(l);

	jv_time t0 = blackout(l, T0 + 5000);
	run(l, t0 + 10000);
	assert_int_equal(jv_client_deadline(l->c) <= t0 + 15001, true);
	next_policy(l, &p2, "2.0", JV_POLICY_CHANGE_STRICT);
	p2.transport_lost_ttl_ms = 30000;
	set_both(l, &p2);
	assert_int_equal(jv_client_state(l->c), JV_STATE_DEGRADED);

	run(l, t0 + 29999);
	assert_int_equal(jv_client_state(l->c), JV_STATE_DEGRADED);
	run(l, t0 + 40000);
	assert_int_equal(jv_client_state(l->c), JV_STATE_TERMINATED);
	int t = find_change(&l->cs, JV_STATE_DEGRADED, JV_STATE_TERMINATED, 0);
	assert_int_not_equal(t, -1);
	assert_int_equal(l->cs.ev[t].reason, JV_REASON_TRANSPORT_TTL_EXCEEDED);
	assert_int_equal(l->cs.ev[t].ts, t0 + 30001);
	assert_string_equal(l->cs.ev[t].policy, "2.0");
	/* the gateway's from the TransportDead it logged */
	int d = find(&l->gs, JV_EV_TRANSPORT_DEAD, 0);
	t = find_change(&l->gs, JV_STATE_DEGRADED, JV_STATE_TERMINATED, 0);
	assert_int_not_equal(d, -1);
	assert_int_not_equal(t, -1);
	assert_int_equal(l->gs.ev[t].ts, l->gs.ev[d].ts + 30001);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	assert_false(l->spun);
	audit_clean();
	lab_free(l);
}

/* Strict: an armed recovery deadline (RECOVERING entry +
 * RECOVERY_WINDOW_MS) moves with the window, from the entry. */
static void strict_recovery_window_from_entry(void **st)
{
	(void)st;
	struct jv_policy pol, p2;
	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);
	log_start(l);

	run(l, T0 + 5000);
	l->hold_len = ACK_DGRAM;	/* the reattach is never confirmed */
	cut(l, 0, true);
	path_down(l, 0);
	int r = find_change(&l->cs, JV_STATE_VOLATILE, JV_STATE_RECOVERING, 0);
	assert_int_not_equal(r, -1);
	jv_time r0 = l->cs.ev[r].ts;
	run(l, r0 + 300);
	assert_int_equal(jv_client_state(l->c), JV_STATE_RECOVERING);
	next_policy(l, &p2, "2.0", JV_POLICY_CHANGE_STRICT);
	p2.recovery_window_ms = 400;
	assert_int_equal(set_client(l, &p2), 0);
	assert_int_equal(jv_client_state(l->c), JV_STATE_RECOVERING);
	run(l, r0 + 2000);
	int d = find_change(&l->cs, JV_STATE_RECOVERING, JV_STATE_DEGRADED, 0);
	assert_int_not_equal(d, -1);
	assert_int_equal(l->cs.ev[d].reason,
			 JV_REASON_RECOVERY_WINDOW_EXCEEDED);
	assert_int_equal(l->cs.ev[d].ts, r0 + 401);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	audit_clean();
	lab_free(l);
}

/* ---- grace ------------------------------------------------------------ */

/* Grace: nothing changes until the next committed transition (VOLATILE
 * still ends at the old VOLATILE_TO_DEGRADED_MS); the PolicyUpdate follows
 * that transition's events in its commit; from there the new bounds hold
 * (the transportless TTL, from its original start). */
static void grace_waits_for_the_next_transition(void **st)
{
	(void)st;
	struct jv_policy pol, p2;
	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);
	log_start(l);

	jv_time t0 = blackout(l, T0 + 5000);
	run(l, t0 + 1000);
	assert_int_equal(jv_client_state(l->c), JV_STATE_VOLATILE);
	jv_time before = jv_client_deadline(l->c);
	next_policy(l, &p2, "2.0", JV_POLICY_CHANGE_GRACE);
	p2.volatile_to_degraded_ms = 2500;
	p2.transport_lost_ttl_ms = 6000;
	assert_int_equal(set_client(l, &p2), 0);
	assert_int_equal(find(&l->cs, JV_EV_POLICY_UPDATE, 0), -1);
	assert_int_equal(jv_client_deadline(l->c), before);

	run(l, t0 + 20000);
	int d = find_change(&l->cs, JV_STATE_VOLATILE, JV_STATE_DEGRADED, 0);
	assert_int_not_equal(d, -1);
	assert_int_equal(l->cs.ev[d].ts, t0 + 4001);	/* the old bound */
	int u = find(&l->cs, JV_EV_POLICY_UPDATE, 0);
	assert_int_equal(u, d + 1);		/* closes that commit */
	assert_int_equal(l->cs.ev[u].ts, t0 + 4001);
	assert_string_equal(l->cs.ev[u].status, "APPLIED");
	assert_string_equal(l->cs.ev[u].mode, "grace");
	assert_string_equal(l->cs.ev[u].prev_policy, pol.version);
	versions_split(&l->cs, u, pol.version, "2.0");
	int t = find_change(&l->cs, JV_STATE_DEGRADED, JV_STATE_TERMINATED, 0);
	assert_int_not_equal(t, -1);
	assert_int_equal(l->cs.ev[t].reason, JV_REASON_TRANSPORT_TTL_EXCEEDED);
	assert_int_equal(l->cs.ev[t].ts, t0 + 6001);	/* the new one */
	assert_int_equal(count(&l->cs, JV_EV_POLICY_UPDATE), 1);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	assert_false(l->spun);
	audit_clean();
	lab_free(l);
}

/* Grace: a newer update replaces the pending one; the session adopts
 * only the latest, once, from the version it was on. */
static void grace_latest_wins(void **st)
{
	(void)st;
	struct jv_policy pol, p2, p3;
	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);
	log_start(l);

	run(l, T0 + 5000);
	next_policy(l, &p2, "2.0", JV_POLICY_CHANGE_GRACE);
	p2.transport_lost_ttl_ms = 9000;
	set_both(l, &p2);
	run(l, T0 + 6000);
	next_policy(l, &p3, "3.0", JV_POLICY_CHANGE_GRACE);
	p3.transport_lost_ttl_ms = 7000;
	set_both(l, &p3);
	assert_int_equal(count(&l->cs, JV_EV_POLICY_UPDATE), 0);
	assert_int_equal(count(&l->gs, JV_EV_POLICY_UPDATE), 0);

	jv_time t0 = l->now;
	cut(l, 0, true);
	cut(l, 1, true);
	path_down(l, 1);
	path_down(l, 0);
	int u = find(&l->cs, JV_EV_POLICY_UPDATE, 0);
	assert_int_not_equal(u, -1);
	assert_int_equal(l->cs.ev[u].ts, t0);
	assert_string_equal(l->cs.ev[u].policy, "3.0");
	assert_string_equal(l->cs.ev[u].prev_policy, pol.version);
	versions_split(&l->cs, u, pol.version, "3.0");
	run(l, t0 + 20000);
	int t = find_change(&l->cs, JV_STATE_DEGRADED, JV_STATE_TERMINATED, 0);
	assert_int_not_equal(t, -1);
	assert_int_equal(l->cs.ev[t].ts, t0 + 7001);
	assert_int_equal(count(&l->cs, JV_EV_POLICY_UPDATE), 1);
	/* the gateway adopts 3.0 at its own next transition */
	u = find(&l->gs, JV_EV_POLICY_UPDATE, 0);
	assert_int_not_equal(u, -1);
	assert_string_equal(l->gs.ev[u].policy, "3.0");
	assert_int_equal(l->gs.ev[u - 1].type == JV_EV_SESSION_STATE_CHANGE ||
			 l->gs.ev[u - 1].type == JV_EV_TRANSPORT_DEAD, true);
	assert_int_equal(count(&l->gs, JV_EV_POLICY_UPDATE), 1);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	audit_clean();
	lab_free(l);
}

/* Grace: an update back to the policy the session runs cancels the
 * pending one; the next transition adopts nothing. */
static void grace_back_to_current_cancels(void **st)
{
	(void)st;
	struct jv_policy pol, p2;
	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);
	log_start(l);

	run(l, T0 + 5000);
	next_policy(l, &p2, "2.0", JV_POLICY_CHANGE_GRACE);
	p2.transport_lost_ttl_ms = 9000;
	set_both(l, &p2);
	run(l, T0 + 6000);
	set_both(l, &pol);
	blackout(l, T0 + 7000);
	run(l, T0 + 30000);
	assert_int_equal(jv_client_state(l->c), JV_STATE_TERMINATED);
	assert_int_equal(count(&l->cs, JV_EV_POLICY_UPDATE), 0);
	assert_int_equal(count(&l->gs, JV_EV_POLICY_UPDATE), 0);
	versions_split(&l->cs, 0, "", pol.version);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	audit_clean();
	lab_free(l);
}

/* ---- refused ---------------------------------------------------------- */

/* An invalid policy changes nothing: REJECTED names the field; the
 * deadline, the version and the behaviour stay the old ones. */
static void invalid_policy_changes_nothing(void **st)
{
	(void)st;
	struct jv_policy pol, bad;
	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);
	log_start(l);

	jv_time t0 = blackout(l, T0 + 5000);
	run(l, t0 + 8000);
	jv_time cdl = jv_client_deadline(l->c), gdl = jv_gateway_deadline(l->g);
	unsigned cbefore = l->cs.nev, gbefore = l->gs.nev;
	next_policy(l, &bad, "2.0", JV_POLICY_CHANGE_STRICT);
	bad.transport_lost_ttl_ms = 1000;	/* <= heartbeat_volatile_ms */
	assert_int_equal(set_client(l, &bad), JV_ERR_INVAL);
	assert_int_equal(set_gateway(l, &bad), JV_ERR_INVAL);

	assert_int_equal(l->cs.nev, cbefore + 1);
	assert_int_equal(l->gs.nev, gbefore + 1);
	const struct side *sides[2] = { &l->cs, &l->gs };
	unsigned at[2] = { cbefore, gbefore };
	for (int i = 0; i < 2; i++) {
		const struct rec *r = &sides[i]->ev[at[i]];
		assert_int_equal(r->type, JV_EV_POLICY_UPDATE);
		assert_string_equal(r->status, "REJECTED");
		assert_int_equal(r->reason, JV_REASON_POLICY_INVALID);
		assert_string_equal(r->field, "session.transport_lost_ttl_ms");
		assert_string_equal(r->policy, "2.0");	/* the rejected one */
		assert_string_equal(r->prev_policy, pol.version);
	}
	assert_int_equal(jv_client_deadline(l->c), cdl);
	assert_int_equal(jv_gateway_deadline(l->g), gdl);
	assert_int_equal(jv_client_state(l->c), JV_STATE_DEGRADED);

	/* ... and the old bound still ends the session, under the old name */
	run(l, t0 + 20000);
	int t = find_change(&l->cs, JV_STATE_DEGRADED, JV_STATE_TERMINATED, 0);
	assert_int_not_equal(t, -1);
	assert_int_equal(l->cs.ev[t].ts, t0 + 15001);
	assert_string_equal(l->cs.ev[t].policy, pol.version);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	audit_clean();
	lab_free(l);
}

/* A malformed version cannot stand as the event's policy_version: the
 * rejection is logged under the version in force. */
static void invalid_version_logged_under_the_old_one(void **st)
{
	(void)st;
	struct jv_policy pol, bad;
	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);
	log_start(l);

	run(l, T0 + 5000);
	next_policy(l, &bad, "", JV_POLICY_CHANGE_GRACE);
	assert_int_equal(set_gateway(l, &bad), JV_ERR_INVAL);
	int u = find(&l->gs, JV_EV_POLICY_UPDATE, 0);
	assert_int_not_equal(u, -1);
	assert_string_equal(l->gs.ev[u].field, "version");
	assert_string_equal(l->gs.ev[u].policy, pol.version);
	assert_string_equal(l->gs.ev[u].mode, "grace");
	/* an invalid mode is not named */
	next_policy(l, &bad, "2.0", JV_POLICY_CHANGE_COUNT);
	assert_int_equal(set_client(l, &bad), JV_ERR_INVAL);
	u = find(&l->cs, JV_EV_POLICY_UPDATE, 0);
	assert_int_not_equal(u, -1);
	assert_string_equal(l->cs.ev[u].field, "policy_change_mode");
	assert_string_equal(l->cs.ev[u].mode, "");
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	run(l, T0 + 8000);
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	audit_clean();
	lab_free(l);
}

/* A version names one content: the same version with other values is
 * refused (field "version"); the same policy again changes nothing. */
static void same_version_other_content_refused(void **st)
{
	(void)st;
	struct jv_policy pol, p;
	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);
	log_start(l);

	run(l, T0 + 5000);
	unsigned cbefore = l->cs.nev;
	set_both(l, &pol);			/* the same: nothing */
	assert_int_equal(l->cs.nev, cbefore);

	next_policy(l, &p, pol.version, JV_POLICY_CHANGE_STRICT);
	p.transport_lost_ttl_ms = 9000;
	assert_int_equal(set_client(l, &p), JV_ERR_INVAL);
	assert_int_equal(set_gateway(l, &p), JV_ERR_INVAL);
	int u = find(&l->cs, JV_EV_POLICY_UPDATE, 0);
	assert_int_not_equal(u, -1);
	assert_string_equal(l->cs.ev[u].status, "REJECTED");
	assert_string_equal(l->cs.ev[u].field, "version");
	assert_int_equal(count(&l->gs, JV_EV_POLICY_UPDATE), 1);

	/* grace 2.0 pending on the gateway's session: 2.0 is taken now, and
	 * so is the version its session still runs (1.0) */
	next_policy(l, &p, "2.0", JV_POLICY_CHANGE_GRACE);
	p.transport_lost_ttl_ms = 9000;
	assert_int_equal(set_gateway(l, &p), 0);
	next_policy(l, &p, "2.0", JV_POLICY_CHANGE_GRACE);
	p.transport_lost_ttl_ms = 8000;
	assert_int_equal(set_gateway(l, &p), JV_ERR_INVAL);
	next_policy(l, &p, pol.version, JV_POLICY_CHANGE_GRACE);
	p.transport_lost_ttl_ms = 8000;
	assert_int_equal(set_gateway(l, &p), JV_ERR_INVAL);
	assert_int_equal(count(&l->gs, JV_EV_POLICY_UPDATE), 3);
	assert_int_equal(count_reason(&l->gs, JV_EV_POLICY_UPDATE,
				      JV_REASON_POLICY_INVALID), 3);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	audit_clean();
	lab_free(l);
}

/* Sessions made after the update start on it; an ended session keeps the
 * policy it ended under. */
static void new_sessions_start_on_the_latest(void **st)
{
	(void)st;
	struct jv_policy pol, p2;
	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);
	log_start(l);

	run(l, T0 + 5000);
	jv_out_reset(&l->out);
	assert_int_equal(jv_client_terminate(l->c, l->now, &l->out), 0);
	enqueue(l, &l->out, true);
	run(l, T0 + 6000);
	assert_int_equal(gw_state(l), JV_STATE_TERMINATED);
	unsigned cbefore = l->cs.nev, gbefore = l->gs.nev;
	next_policy(l, &p2, "2.0", JV_POLICY_CHANGE_GRACE);
	set_both(l, &p2);
	assert_int_equal(l->cs.nev, cbefore);	/* no live session: no event */
	assert_int_equal(l->gs.nev, gbefore);

	jv_out_reset(&l->out);
	assert_int_equal(jv_client_start(l->c, l->now, &l->out), 0);
	enqueue(l, &l->out, true);
	run(l, T0 + 7000);
	assert_int_equal(jv_client_state(l->c), JV_STATE_ATTACHED);
	int c = find(&l->cs, JV_EV_SESSION_CREATED, cbefore);
	int g = find(&l->gs, JV_EV_SESSION_CREATED, gbefore);
	assert_int_not_equal(c, -1);
	assert_int_not_equal(g, -1);
	assert_string_equal(l->cs.ev[c].policy, "2.0");
	assert_string_equal(l->gs.ev[g].policy, "2.0");
	assert_int_equal(count(&l->cs, JV_EV_POLICY_UPDATE), 0);
	assert_int_equal(l->cs.bad + l->gs.bad, 0);
	audit_clean();
	lab_free(l);
}

static void bad_arguments(void **st)
{
	(void)st;
	struct jv_policy pol;
	jv_policy_default(&pol);
	struct lab *l = lab_new(&pol);

	assert_int_equal(jv_client_set_policy(NULL, &pol, l->now, &l->out),
			 JV_ERR_INVAL);
	assert_int_equal(jv_client_set_policy(l->c, NULL, l->now, &l->out),
			 JV_ERR_INVAL);
	assert_int_equal(jv_client_set_policy(l->c, &pol, l->now, NULL),
			 JV_ERR_INVAL);
	assert_int_equal(jv_gateway_set_policy(NULL, &pol, l->now, &l->out),
			 JV_ERR_INVAL);
	assert_int_equal(jv_gateway_set_policy(l->g, NULL, l->now, &l->out),
			 JV_ERR_INVAL);
	assert_int_equal(jv_gateway_set_policy(l->g, &pol, l->now, NULL),
			 JV_ERR_INVAL);
	lab_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strict_tighter_ttl_fires_x2_at_the_call),
		cmocka_unit_test(strict_shorter_lifetime_fires_x1_at_the_call),
		cmocka_unit_test(strict_looser_ttl_extends_from_original_start),
		cmocka_unit_test(strict_recovery_window_from_entry),
		cmocka_unit_test(grace_waits_for_the_next_transition),
		cmocka_unit_test(grace_latest_wins),
		cmocka_unit_test(grace_back_to_current_cancels),
		cmocka_unit_test(invalid_policy_changes_nothing),
		cmocka_unit_test(invalid_version_logged_under_the_old_one),
		cmocka_unit_test(same_version_other_content_refused),
		cmocka_unit_test(new_sessions_start_on_the_latest),
		cmocka_unit_test(bad_arguments),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(lb.text);
	return rc;
}
