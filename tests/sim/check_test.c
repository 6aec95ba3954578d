/* SPDX-License-Identifier: MIT */
/* The online checker accepts a legal stream and names each violation. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jvpn/policy.h"
#include "sim/check.h"

static struct jv_policy pol;
static struct sim_check chk;
static uint64_t ver;
static enum sim_side side;	/* of the events emit() sends */
static const char *node;	/* gateway node, NULL: none */

static int setup(void **st)
{
	(void)st;
	jv_policy_default(&pol);
	sim_check_init(&chk, &pol, &pol);
	ver = 0;
	side = SIM_CLIENT;
	node = NULL;
	return 0;
}

static void emit(const struct jv_event *ev)
{
	sim_check_event_node(&chk, side, node, "aa", ev);
}

static void created(jv_time t)
{
	struct jv_event ev = { .type = JV_EV_SESSION_CREATED, .ts_ms = t };

	JV_EV_SET(&ev, state, JV_STATE_BIRTH);
	emit(&ev);
}

static void ssc(jv_time t, enum jv_state a, enum jv_state b,
		enum jv_reason r, const char *cand)
{
	struct jv_event ev = { .type = JV_EV_SESSION_STATE_CHANGE,
			       .ts_ms = t, .state_version = ++ver };

	JV_EV_SET(&ev, previous_state, a);
	JV_EV_SET(&ev, new_state, b);
	JV_EV_SET(&ev, reason_code, r);
	if (cand) {
		JV_EV_SET(&ev, candidate_transport, cand);
		JV_EV_SET(&ev, candidate_set_size, 1);
	}
	emit(&ev);
}

static void attached(jv_time t, const char *tr)
{
	struct jv_event ev = { .type = JV_EV_TRANSPORT_ATTACHED, .ts_ms = t,
			       .state_version = ver };

	JV_EV_SET(&ev, transport_id, tr);
	JV_EV_SET(&ev, reason_code, JV_REASON_ATTACHED_TO_TRANSPORT);
	emit(&ev);
}

static void dead(jv_time t, const char *tr)
{
	struct jv_event ev = { .type = JV_EV_TRANSPORT_DEAD, .ts_ms = t,
			       .state_version = ver };

	JV_EV_SET(&ev, transport_id, tr);
	JV_EV_SET(&ev, reason_code, JV_REASON_TRANSPORT_DEAD);
	emit(&ev);
}

static void attempt(jv_time t, const char *cand)
{
	struct jv_event ev = { .type = JV_EV_REATTACH_ATTEMPT, .ts_ms = t,
			       .state_version = ver };

	JV_EV_SET(&ev, candidate_transport, cand);
	emit(&ev);
}

static void success(jv_time t, const char *from, const char *to)
{
	struct jv_event ev = { .type = JV_EV_TRANSPORT_SWITCH, .ts_ms = t,
			       .state_version = ver };
	struct jv_event res = { .type = JV_EV_REATTACH_RESULT, .ts_ms = t,
				.state_version = ver };

	JV_EV_SET(&ev, previous_transport, from);
	JV_EV_SET(&ev, new_transport, to);
	JV_EV_SET(&ev, reason_code, JV_REASON_REATTACH_SUCCESS);
	emit(&ev);
	JV_EV_SET(&res, status, "SUCCESS");
	JV_EV_SET(&res, reason_code, JV_REASON_REATTACH_SUCCESS);
	emit(&res);
}

static void commit(jv_time t)
{
	sim_check_commit(&chk, side, t);
	sim_check_time(&chk, t);
}

/* S1 at the client: attach, death, switch to p2. */
static void birth_and_failover(void)
{
	created(20);
	ssc(20, JV_STATE_BIRTH, JV_STATE_ATTACHED,
	    JV_REASON_ATTACHED_TO_TRANSPORT, NULL);
	attached(20, "p1");
	commit(20);
	ssc(5000, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_TRANSPORT_DEAD, NULL);
	dead(5000, "p1");
	ssc(5000, JV_STATE_VOLATILE, JV_STATE_RECOVERING,
	    JV_REASON_DEAD_TRANSPORT_RECOVERY, "p2");
	attempt(5000, "p2");
	commit(5000);
	ssc(5040, JV_STATE_RECOVERING, JV_STATE_ATTACHED,
	    JV_REASON_REATTACH_SUCCESS, NULL);
	success(5040, NULL, "p2");
	commit(5040);
}

static void no_violation_yet(void)
{
	if (chk.total)
		fail_msg("%s: %s", chk.kept[0].id, chk.kept[0].msg);
}

static void legal_stream_passes(void **st)
{
	(void)st;
	birth_and_failover();
	sim_check_time(&chk, 100000);
	if (chk.total)
		fail_msg("%s: %s", chk.kept[0].id, chk.kept[0].msg);
	assert_int_equal(chk.s[0].k, 4);
	assert_string_equal(chk.s[0].binding, "p2");
}

static void expect_violation(const char *id)
{
	for (unsigned i = 0; i < chk.nkept; i++)
		if (!strcmp(chk.kept[i].id, id))
			return;
	fail_msg("no %s among %u violations", id, chk.nkept);
}

/* Spec §5 (D-026): after PolicyUpdate(APPLIED) the side's bounds are the
 * new ones; a bound the update put in the past is due at the update. */
static void policy_update_moves_bounds(void **st)
{
	struct jv_policy p2 = pol;
	struct jv_event ev = { .type = JV_EV_POLICY_UPDATE, .ts_ms = 12000 };

	(void)st;
	created(20);
	ssc(20, JV_STATE_BIRTH, JV_STATE_ATTACHED,
	    JV_REASON_ATTACHED_TO_TRANSPORT, NULL);
	attached(20, "p1");
	commit(20);
	ssc(5000, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_TRANSPORT_DEAD, NULL);
	dead(5000, "p1");
	commit(5000);
	snprintf(p2.version, sizeof p2.version, "2.0");
	p2.transport_lost_ttl_ms = 5000;	/* 5000 + 5000 + 1 is past */
	ev.state_version = ver;
	JV_EV_SET(&ev, status, "APPLIED");
	JV_EV_SET(&ev, previous_policy_version, "1.0");
	JV_EV_SET(&ev, mode, "strict");
	JV_EV_SET(&ev, policy, &p2);
	emit(&ev);
	commit(12000);
	no_violation_yet();
	sim_check_time(&chk, 12001);
	expect_violation("LIV-02");
}

static void version_gap(void **st)
{
	(void)st;
	created(1);
	ver = 1;	/* the first change should carry 1: skip to 2 */
	ssc(2, JV_STATE_BIRTH, JV_STATE_ATTACHED,
	    JV_REASON_ATTACHED_TO_TRANSPORT, NULL);
	expect_violation("INV-02");
}

static void illegal_transition(void **st)
{
	(void)st;
	birth_and_failover();
	ssc(6000, JV_STATE_ATTACHED, JV_STATE_BIRTH, JV_REASON_LOSS_RECOVERY,
	    NULL);
	expect_violation("INV-03");
}

static void dead_of_another_transport(void **st)
{
	(void)st;
	birth_and_failover();
	ssc(6000, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_TRANSPORT_DEAD, NULL);
	dead(6000, "p1");	/* the binding is p2 */
	commit(6000);
	expect_violation("INV-05");
}

static void switch_without_result(void **st)
{
	struct jv_event ev = { .type = JV_EV_TRANSPORT_SWITCH };

	(void)st;
	birth_and_failover();
	ev.ts_ms = 7000;
	ev.state_version = ver;
	JV_EV_SET(&ev, previous_transport, "p2");
	JV_EV_SET(&ev, new_transport, "p1");
	JV_EV_SET(&ev, reason_code, JV_REASON_REATTACH_SUCCESS);
	emit(&ev);
	commit(7000);
	expect_violation("INV-07");
}

static void cooldown_and_recovery_bound(void **st)
{
	(void)st;
	birth_and_failover();
	ssc(5100, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_LOSS_THRESHOLD_EXCEEDED, NULL);
	ssc(5100, JV_STATE_VOLATILE, JV_STATE_RECOVERING,
	    JV_REASON_LOSS_RECOVERY, "p1");
	attempt(5100, "p1");	/* 100 ms after the last: cooldown 1500 */
	commit(5100);
	expect_violation("INV-09");
	/* Still RECOVERING after the window + 1: LIV-03. */
	sim_check_time(&chk, 5100 + pol.recovery_window_ms + 1);
	assert_int_equal(chk.total, 1);
	sim_check_time(&chk, 5100 + pol.recovery_window_ms + 2);
	expect_violation("LIV-03");
}

static void switch_rate(void **st)
{
	const char *t[2] = { "p1", "p2" };
	jv_time now = 10000;

	(void)st;
	pol.max_switches_per_min = 2;
	chk.pol[SIM_CLIENT] = chk.pol[SIM_GATEWAY] = pol;	/* in force */
	created(1);
	ssc(1, JV_STATE_BIRTH, JV_STATE_ATTACHED,
	    JV_REASON_ATTACHED_TO_TRANSPORT, NULL);
	attached(1, "p1");
	commit(1);
	for (int i = 0; i < 3; i++, now += 2000) {
		ssc(now, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
		    JV_REASON_LOSS_THRESHOLD_EXCEEDED, NULL);
		ssc(now, JV_STATE_VOLATILE, JV_STATE_RECOVERING,
		    JV_REASON_LOSS_RECOVERY, t[(i + 1) % 2]);
		attempt(now, t[(i + 1) % 2]);
		commit(now);
		ssc(now + 10, JV_STATE_RECOVERING, JV_STATE_ATTACHED,
		    JV_REASON_REATTACH_SUCCESS, NULL);
		success(now + 10, t[i % 2], t[(i + 1) % 2]);
		commit(now + 10);
	}
	expect_violation("INV-12");
	expect_violation("INV-08");
}

static void termination_must_be_justified(void **st)
{
	struct jv_event ev = { .type = JV_EV_SESSION_TERMINATED };

	(void)st;
	birth_and_failover();
	ssc(6000, JV_STATE_ATTACHED, JV_STATE_TERMINATED,
	    JV_REASON_TRANSPORT_TTL_EXCEEDED, NULL);
	ev.ts_ms = 6000;
	ev.state_version = ver;
	JV_EV_SET(&ev, reason_code, JV_REASON_TRANSPORT_TTL_EXCEEDED);
	emit(&ev);
	commit(6000);
	/* It was bound until this very commit. */
	expect_violation("INV-14");
	/* Nothing may follow. */
	attached(6001, "p1");
	expect_violation("INV-04");
}

static void bad_proof(jv_time t)
{
	struct jv_event ev = { .type = JV_EV_SECURITY_VALIDATION_FAILED,
			       .ts_ms = t, .state_version = ver };

	JV_EV_SET(&ev, reason_code, JV_REASON_BAD_PROOF);
	emit(&ev);
}

/* INV-10: a denial never mutates, except the failure over
 * MAX_SECURITY_FAILURES that ends the session in its commit (X3). */
static void security_limit_terminates(void **st)
{
	struct jv_event term = { .type = JV_EV_SESSION_TERMINATED };

	(void)st;
	side = SIM_GATEWAY;
	birth_and_failover();
	bad_proof(6000);
	ssc(6000, JV_STATE_ATTACHED, JV_STATE_TERMINATED,
	    JV_REASON_SECURITY_FAILURE, NULL);
	term.ts_ms = 6000;
	term.state_version = ver;
	JV_EV_SET(&term, reason_code, JV_REASON_SECURITY_FAILURE);
	emit(&term);
	commit(6000);
	no_violation_yet();
	setup(NULL);
	side = SIM_GATEWAY;
	birth_and_failover();
	bad_proof(6000);
	ssc(6000, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT, NULL);
	commit(6000);
	expect_violation("INV-10");
}

/* ---- gateway nodes (PD-9) --------------------------------------------- */

static void owner(jv_time t, enum jv_event_type type, const char *who,
		  const char *named, uint64_t epoch, const char *prev)
{
	struct jv_event ev = { .type = type, .ts_ms = t, .state_version = ver };

	node = who;
	JV_EV_SET(&ev, owner_node_id, named);
	JV_EV_SET(&ev, owner_epoch, epoch);
	if (prev)
		JV_EV_SET(&ev, previous_owner_node_id, prev);
	emit(&ev);
}

static void rejected(jv_time t, const char *who)
{
	struct jv_event ev = { .type = JV_EV_SESSION_OWNER_REJECTED,
			       .ts_ms = t, .state_version = ver };

	node = who;
	JV_EV_SET(&ev, reason_code, JV_REASON_NOT_AUTHORITATIVE_OWNER);
	JV_EV_SET(&ev, expected_state_version, ver);
	JV_EV_SET(&ev, actual_state_version, ver);
	emit(&ev);
}

static void v2_denial(jv_time t, const char *who)
{
	struct jv_event ev = { .type = JV_EV_REATTACH_RESULT, .ts_ms = t,
			       .state_version = ver };

	node = who;
	JV_EV_SET(&ev, status, "DENIED");
	JV_EV_SET(&ev, reason_code, JV_REASON_NOT_AUTHORITATIVE_OWNER);
	emit(&ev);
	rejected(t, who);
}

/* gw1 creates the session and attaches it at v1. */
static void gw1_session(void)
{
	side = SIM_GATEWAY;
	node = "gw1";
	created(10);
	owner(10, JV_EV_SESSION_OWNER_ACQUIRED, "gw1", "gw1", 1, NULL);
	ssc(20, JV_STATE_BIRTH, JV_STATE_ATTACHED,
	    JV_REASON_ATTACHED_TO_TRANSPORT, NULL);
	attached(20, "t1");
	commit(20);
}

static void no_violation(void)
{
	if (chk.total)
		fail_msg("%s: %s", chk.kept[0].id, chk.kept[0].msg);
}

/* The stream goes on across nodes: an owner dies, its lease ends, the
 * other node takes over at the version of the record and goes on.  No
 * node holds the session in between: nobody's timers are late. */
static void takeover_continues_the_stream(void **st)
{
	(void)st;
	gw1_session();
	ssc(2000, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT, NULL);
	commit(2000);
	sim_check_node_down(&chk, "gw1");
	commit(9000);		/* VOLATILE for 7 s, nobody holds it */
	owner(9000, JV_EV_SESSION_OWNER_TRANSFERRED, "gw2", "gw2", 2, "gw1");
	commit(9000);		/* the new owner fires what is overdue */
	ssc(9000, JV_STATE_VOLATILE, JV_STATE_DEGRADED,
	    JV_REASON_VOLATILE_PERSISTED, NULL);
	commit(9000);
	no_violation();
	assert_string_equal(chk.s[0].own_node, "gw2");
	assert_int_equal(chk.s[0].own_epoch, 2);
	/* the same node again after a restart: the next epoch */
	sim_check_node_down(&chk, "gw2");
	owner(12000, JV_EV_SESSION_OWNER_ACQUIRED, "gw2", "gw2", 3, "gw2");
	commit(12000);
	no_violation();
}

/* Past the acquisition, an overdue bound is late at once. */
static void bound_due_at_the_acquisition(void **st)
{
	(void)st;
	gw1_session();
	ssc(2000, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT, NULL);
	commit(2000);
	sim_check_node_down(&chk, "gw1");
	commit(9000);
	owner(9000, JV_EV_SESSION_OWNER_TRANSFERRED, "gw2", "gw2", 2, "gw1");
	commit(9000);
	no_violation();
	commit(9001);		/* still VOLATILE after the acquisition */
	expect_violation("LIV-04");
}

static void owner_events_checked(void **st)
{
	(void)st;
	gw1_session();
	/* a node acquires for itself only */
	owner(100, JV_EV_SESSION_OWNER_TRANSFERRED, "gw2", "gw1", 2, "gw1");
	expect_violation("INV-15");
	setup(NULL);
	gw1_session();
	/* epochs go up */
	owner(100, JV_EV_SESSION_OWNER_TRANSFERRED, "gw2", "gw2", 1, "gw1");
	expect_violation("INV-15");
	setup(NULL);
	gw1_session();
	/* a transfer names the owner it takes from */
	owner(100, JV_EV_SESSION_OWNER_TRANSFERRED, "gw2", "gw2", 2, "gw3");
	expect_violation("INV-15");
}

/* Only the owner commits; a node that let the session go, or another
 * node, does not. */
static void only_the_owner_commits(void **st)
{
	(void)st;
	gw1_session();
	node = "gw2";
	ssc(100, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT, NULL);
	expect_violation("INV-15");
	/* the event did not move the stream */
	assert_int_equal(chk.s[0].k, 1);
	assert_int_equal(chk.s[0].state, JV_STATE_ATTACHED);
}

/* SessionOwnerRejected in a V2 denial's commit: the node still holds
 * the session (its timers run on); on its own: it let it go. */
static void release_or_denial(void **st)
{
	(void)st;
	gw1_session();
	v2_denial(500, "gw1");
	commit(500);
	ver = 1;
	node = "gw1";
	ssc(2000, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT, NULL);
	commit(2000);
	no_violation();
	rejected(3000, "gw1");
	commit(3000);
	assert_false(chk.s[0].own_held);
	commit(60000);		/* nobody holds it: not timed */
	no_violation();
	node = "gw1";
	ssc(60000, JV_STATE_VOLATILE, JV_STATE_DEGRADED,
	    JV_REASON_VOLATILE_PERSISTED, NULL);
	expect_violation("INV-15");
}

/* A commit logged but never stored: the next owner resumes below it and
 * commits the same version again. */
static void fork_across_nodes(void **st)
{
	(void)st;
	gw1_session();
	ssc(2000, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT, NULL);	/* v2, lost */
	commit(2000);
	sim_check_node_down(&chk, "gw1");
	ver = 1;
	owner(9000, JV_EV_SESSION_OWNER_TRANSFERRED, "gw2", "gw2", 2, "gw1");
	expect_violation("INV-16");
	assert_int_equal(chk.s[0].k, 1);
	assert_int_equal(chk.s[0].state, JV_STATE_ATTACHED);
	assert_string_equal(chk.s[0].binding, "t1");
	unsigned before = chk.nkept;
	ssc(9000, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_HEARTBEAT_TIMEOUT, NULL);	/* v2 again */
	assert_int_equal(chk.nkept, before + 1);
	assert_string_equal(chk.kept[before].id, "INV-16");
	assert_non_null(strstr(chk.kept[before].msg, "committed twice"));
}

/* ---- PD-7: forced and discretionary switches; LIV-10 ----------------- */

/* A switch of the given class: RECOVERING entry, attempt, commit. */
static void switch_of(jv_time t, const char *from, const char *to,
		      const char *klass)
{
	struct jv_event e = { .type = JV_EV_SESSION_STATE_CHANGE, .ts_ms = t };
	struct jv_event sw = { .type = JV_EV_TRANSPORT_SWITCH };
	struct jv_event res = { .type = JV_EV_REATTACH_RESULT };

	ssc(t, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_CONSECUTIVE_DROP_EXCEEDED, NULL);
	e.state_version = ++ver;
	JV_EV_SET(&e, previous_state, JV_STATE_VOLATILE);
	JV_EV_SET(&e, new_state, JV_STATE_RECOVERING);
	JV_EV_SET(&e, reason_code, JV_REASON_LOSS_RECOVERY);
	JV_EV_SET(&e, from_transport, from);
	JV_EV_SET(&e, candidate_transport, to);
	JV_EV_SET(&e, candidate_set_size, 1);
	JV_EV_SET(&e, trigger_class, klass);
	emit(&e);
	attempt(t, to);
	commit(t);
	ssc(t + 10, JV_STATE_RECOVERING, JV_STATE_ATTACHED,
	    JV_REASON_REATTACH_SUCCESS, NULL);
	sw.state_version = res.state_version = ver;
	sw.ts_ms = res.ts_ms = t + 10;
	JV_EV_SET(&sw, previous_transport, from);
	JV_EV_SET(&sw, new_transport, to);
	JV_EV_SET(&sw, reason_code, JV_REASON_REATTACH_SUCCESS);
	JV_EV_SET(&sw, trigger_class, klass);
	emit(&sw);
	JV_EV_SET(&res, status, "SUCCESS");
	JV_EV_SET(&res, reason_code, JV_REASON_REATTACH_SUCCESS);
	emit(&res);
	commit(t + 10);
}

static void attached_on(const char *tr)
{
	created(1);
	ssc(1, JV_STATE_BIRTH, JV_STATE_ATTACHED,
	    JV_REASON_ATTACHED_TO_TRANSPORT, NULL);
	attached(1, tr);
	commit(1);
}

/* INV-08/INV-12 as amended: forced switches are not capped, and the cap
 * counts the discretionary ones only. */
static void forced_switches_are_not_capped(void **st)
{
	const char *t[2] = { "p1", "p2" };

	(void)st;
	pol.max_switches_per_min = 2;
	chk.pol[SIM_CLIENT] = chk.pol[SIM_GATEWAY] = pol;	/* in force */
	attached_on("p1");
	for (int i = 0; i < 5; i++)
		switch_of(10000 + 2000 * (jv_time)i, t[i % 2], t[(i + 1) % 2],
			  "forced");
	no_violation_yet();
	switch_of(20000, "p2", "p1", "discretionary");
	switch_of(22000, "p1", "p2", "discretionary");
	no_violation_yet();
	switch_of(24000, "p2", "p1", "discretionary");
	expect_violation("INV-12");
	expect_violation("INV-08");

	/* a cap of 0 disables switching: forced ones count too */
	setup(NULL);
	pol.max_switches_per_min = 0;
	chk.pol[SIM_CLIENT] = chk.pol[SIM_GATEWAY] = pol;	/* in force */
	attached_on("p1");
	switch_of(10000, "p1", "p2", "forced");
	expect_violation("INV-12");
	expect_violation("INV-08");
}

static void path(const char *name, bool up, jv_time now)
{
	sim_check_transport(&chk, name, up, up, 20, 10, now);
}

/* The bound of a binding death at 5000 with 20 ms paths: detection,
 * cooldown, one round trip, the dead path's answers in flight, + 1. */
static jv_time liv10_due(void)
{
	return 5000 + pol.heartbeat_volatile_ms + pol.switch_cooldown_ms +
	       20 + 10 + 1;
}

static void two_live_paths(void)
{
	path("p1", true, 0);
	path("p2", true, 0);
	attached_on("p1");
}

/* The binding goes down, the client is ATTACHED on p2 within the bound:
 * nothing to say; not by then: LIV-10, at the first ms past it. */
static void liv10_bound(void **st)
{
	(void)st;
	two_live_paths();
	path("p1", false, 5000);
	sim_check_time(&chk, liv10_due());
	no_violation_yet();
	switch_of(liv10_due() - 10, "p1", "p2", "forced");
	sim_check_time(&chk, 100000);
	no_violation_yet();

	setup(NULL);
	two_live_paths();
	path("p1", false, 5000);
	sim_check_time(&chk, liv10_due());
	no_violation_yet();
	sim_check_time(&chk, liv10_due() + 1);
	expect_violation("LIV-10");
}

/* DEGRADED while a live transport is there: LIV-10 at once. */
static void liv10_never_degraded(void **st)
{
	(void)st;
	two_live_paths();
	path("p1", false, 5000);
	ssc(5000, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_TRANSPORT_DEAD, NULL);
	dead(5000, "p1");
	commit(5000);
	no_violation_yet();
	ssc(6000, JV_STATE_VOLATILE, JV_STATE_DEGRADED,
	    JV_REASON_NO_CANDIDATE_TRANSPORTS, NULL);
	expect_violation("LIV-10");
}

/* DEGRADED before a transport that just came back could have answered a
 * probe is for want of news, not of a switch (chaos seed 8016): no
 * violation then, the episode's bound still runs; once it had a probe
 * interval and a round trip to answer, LIV-10 at once. */
static void liv10_degraded_before_news(void **st)
{
	(void)st;
	path("p1", true, 0);
	path("p2", false, 0);
	attached_on("p1");
	path("p2", true, 4990);		/* back 10 ms before the death */
	path("p1", false, 5000);
	ssc(5000, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_TRANSPORT_DEAD, NULL);
	dead(5000, "p1");
	commit(5000);
	ssc(5001, JV_STATE_VOLATILE, JV_STATE_RECOVERING,
	    JV_REASON_DEAD_TRANSPORT_RECOVERY, "p1");
	ssc(5002, JV_STATE_RECOVERING, JV_STATE_DEGRADED,
	    JV_REASON_NO_CANDIDATE_TRANSPORTS, NULL);
	no_violation_yet();
	sim_check_time(&chk, liv10_due() + 1);
	expect_violation("LIV-10");	/* the bound still runs */

	setup(NULL);
	path("p1", true, 0);
	path("p2", false, 0);
	attached_on("p1");
	path("p2", true, 4990 - pol.standby_probe_interval_ms - 20);
	path("p1", false, 5000);
	ssc(5000, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	    JV_REASON_TRANSPORT_DEAD, NULL);
	dead(5000, "p1");
	commit(5000);
	ssc(5001, JV_STATE_VOLATILE, JV_STATE_RECOVERING,
	    JV_REASON_DEAD_TRANSPORT_RECOVERY, "p1");
	ssc(5002, JV_STATE_RECOVERING, JV_STATE_DEGRADED,
	    JV_REASON_NO_CANDIDATE_TRANSPORTS, NULL);
	expect_violation("LIV-10");
}

static void damp(jv_time t, const char *tr, bool on)
{
	struct jv_event ev = { .type = on ? JV_EV_TRANSPORT_DAMPED :
					    JV_EV_TRANSPORT_REUSED,
			       .ts_ms = t, .state_version = ver };

	JV_EV_SET(&ev, transport_id, tr);
	JV_EV_SET(&ev, flap_penalty, on ? 3100 : 700);
	emit(&ev);
	commit(t);
}

/* What LIV-10 does not ask: no live alternative; or two live ones, both
 * damped (neither is the only one left).  One damped live alternative,
 * the only one: it must be taken. */
static void liv10_premises(void **st)
{
	(void)st;
	two_live_paths();
	path("p2", false, 4000);
	path("p1", false, 5000);
	sim_check_time(&chk, 100000);
	no_violation_yet();

	setup(NULL);
	path("p3", true, 0);
	two_live_paths();
	damp(3000, "p2", true);
	damp(3000, "p3", true);
	path("p1", false, 5000);
	sim_check_time(&chk, 100000);
	no_violation_yet();

	setup(NULL);
	two_live_paths();
	damp(3000, "p2", true);
	path("p1", false, 5000);
	sim_check_time(&chk, 100000);
	expect_violation("LIV-10");
}

/* The gateway moved on its own while the request was under way: each
 * stale_state_version denial is one more round trip (OP-4). */
static void liv10_stale_retry(void **st)
{
	struct jv_event d = { .type = JV_EV_REATTACH_RESULT, .ts_ms = 5500 };

	(void)st;
	two_live_paths();
	path("p1", false, 5000);
	/* granted when the gateway denies (D-018): its stream, same id */
	side = SIM_GATEWAY;
	created(100);
	sim_check_commit(&chk, SIM_GATEWAY, 100);
	d.state_version = 0;
	JV_EV_SET(&d, status, "DENIED");
	JV_EV_SET(&d, reason_code, JV_REASON_STALE_STATE_VERSION);
	JV_EV_SET(&d, candidate_transport, "p2");
	emit(&d);
	sim_check_commit(&chk, SIM_GATEWAY, 5500);
	side = SIM_CLIENT;
	sim_check_time(&chk, liv10_due() + 20);
	no_violation_yet();
	sim_check_time(&chk, liv10_due() + 21);
	expect_violation("LIV-10");
}

/* After a gateway fault LIV-10 is LIV-11's business. */
static void liv10_off_after_gateway_fault(void **st)
{
	(void)st;
	two_live_paths();
	path("p1", false, 5000);
	sim_check_gateway_fault(&chk);
	sim_check_time(&chk, 100000);
	no_violation_yet();
}

/* PD-7: fail-back and migrations never go to a damped transport. */
static void no_discretionary_switch_to_damped(void **st)
{
	(void)st;
	two_live_paths();
	damp(3000, "p2", true);
	switch_of(5000, "p1", "p2", "forced");
	no_violation_yet();
	switch_of(8000, "p2", "p1", "discretionary");
	damp(9000, "p2", false);
	switch_of(11000, "p1", "p2", "discretionary");
	no_violation_yet();
	damp(12000, "p1", true);
	switch_of(14000, "p2", "p1", "discretionary");
	expect_violation("PD-7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(legal_stream_passes, setup),
		cmocka_unit_test_setup(version_gap, setup),
		cmocka_unit_test_setup(illegal_transition, setup),
		cmocka_unit_test_setup(dead_of_another_transport, setup),
		cmocka_unit_test_setup(switch_without_result, setup),
		cmocka_unit_test_setup(cooldown_and_recovery_bound, setup),
		cmocka_unit_test_setup(switch_rate, setup),
		cmocka_unit_test_setup(termination_must_be_justified, setup),
		cmocka_unit_test_setup(security_limit_terminates, setup),
		cmocka_unit_test_setup(takeover_continues_the_stream, setup),
		cmocka_unit_test_setup(bound_due_at_the_acquisition, setup),
		cmocka_unit_test_setup(owner_events_checked, setup),
		cmocka_unit_test_setup(only_the_owner_commits, setup),
		cmocka_unit_test_setup(release_or_denial, setup),
		cmocka_unit_test_setup(fork_across_nodes, setup),
		cmocka_unit_test_setup(forced_switches_are_not_capped, setup),
		cmocka_unit_test_setup(liv10_bound, setup),
		cmocka_unit_test_setup(liv10_never_degraded, setup),
		cmocka_unit_test_setup(liv10_degraded_before_news, setup),
		cmocka_unit_test_setup(liv10_premises, setup),
		cmocka_unit_test_setup(liv10_stale_retry, setup),
		cmocka_unit_test_setup(liv10_off_after_gateway_fault, setup),
		cmocka_unit_test_setup(no_discretionary_switch_to_damped,
				       setup),
		cmocka_unit_test_setup(policy_update_moves_bounds, setup),
	};

	return cmocka_run_group_tests_name("sim_check", tests, NULL, NULL);
}
