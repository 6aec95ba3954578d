/* SPDX-License-Identifier: MIT */
/*
 * The daemon's note of each session's last switch (src/daemon/
 * status_notes.c), fed events as the engine emits them: `jvpn show`'s
 * "last switch: ..., a -> b (transport_dead)" comes from here.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/daemon_impl.h"

static const char S1[] = "f45698d25ad0d127c456a1146c610882";
static const char S2[] = "00112233445566778899aabbccddeeff";

static void feed(struct jv_daemon *d, const char *sid, struct jv_event *ev)
{
	struct jv_event_origin o = { .session_id = sid, .node_id = "n",
				     .policy_version = "1.0" };

	dmn_status_note_event(d, &o, ev);
}

static void attached(struct jv_daemon *d, const char *sid, const char *t)
{
	struct jv_event ev = { .type = JV_EV_TRANSPORT_ATTACHED };

	JV_EV_SET(&ev, transport_id, t);
	feed(d, sid, &ev);
}

static void change(struct jv_daemon *d, const char *sid, enum jv_state from,
		   enum jv_state to, enum jv_reason why)
{
	struct jv_event ev = { .type = JV_EV_SESSION_STATE_CHANGE };

	JV_EV_SET(&ev, previous_state, from);
	JV_EV_SET(&ev, new_state, to);
	JV_EV_SET(&ev, reason_code, why);
	feed(d, sid, &ev);
}

static void switched(struct jv_daemon *d, const char *sid, jv_time at,
		     const char *from, const char *to)
{
	struct jv_event ev = { .type = JV_EV_TRANSPORT_SWITCH, .ts_ms = at };

	JV_EV_SET(&ev, previous_transport, from);
	JV_EV_SET(&ev, new_transport, to);
	JV_EV_SET(&ev, reason_code, JV_REASON_REATTACH_SUCCESS);
	JV_EV_SET(&ev, trigger_class, "forced");
	feed(d, sid, &ev);
}

/* A client whose binding died: previous_transport is null, the why is
 * the reason it left ATTACHED, not the commit's reattach_success. */
static void why_and_from(void **st)
{
	struct jv_daemon *d = calloc(1, sizeof *d);
	struct dmn_switch_note n;

	(void)st;
	assert_non_null(d);
	attached(d, S1, "a");
	assert_false(dmn_status_last_switch(d, S1, &n));
	change(d, S1, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	       JV_REASON_TRANSPORT_DEAD);
	change(d, S1, JV_STATE_VOLATILE, JV_STATE_RECOVERING,
	       JV_REASON_DEAD_TRANSPORT_RECOVERY);
	change(d, S1, JV_STATE_RECOVERING, JV_STATE_ATTACHED,
	       JV_REASON_REATTACH_SUCCESS);
	switched(d, S1, 5040, NULL, "b");
	assert_true(dmn_status_last_switch(d, S1, &n));
	assert_int_equal(n.ts_ms, 5040);
	assert_string_equal(n.from, "a");
	assert_string_equal(n.to, "b");
	assert_string_equal(n.reason, "transport_dead");
	assert_string_equal(n.trigger, "forced");

	/* the next one: from the binding the last switch made, its own why */
	change(d, S1, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	       JV_REASON_HEARTBEAT_TIMEOUT);
	switched(d, S1, 9000, "b", "a");
	assert_true(dmn_status_last_switch(d, S1, &n));
	assert_string_equal(n.from, "b");
	assert_string_equal(n.to, "a");
	assert_string_equal(n.reason, "heartbeat_timeout");
	dmn_status_free(d);
	assert_null(d->notes);
	free(d);
}

/* Many sessions (a gateway), each its own; a terminated one forgotten. */
static void per_session(void **st)
{
	struct jv_daemon *d = calloc(1, sizeof *d);
	struct dmn_switch_note n;
	char sid[40][JV_SESSION_ID_HEX];

	(void)st;
	assert_non_null(d);
	for (int i = 0; i < 40; i++) {
		snprintf(sid[i], sizeof sid[i], "%032x", i + 1);
		attached(d, sid[i], "udp:198.18.1.2:40001");
		switched(d, sid[i], 1000 + (jv_time)i, NULL,
			 "udp:198.18.2.2:40002");
	}
	switched(d, S2, 77, "x", "y");
	for (int i = 0; i < 40; i++) {
		assert_true(dmn_status_last_switch(d, sid[i], &n));
		assert_int_equal(n.ts_ms, 1000 + i);
		assert_string_equal(n.from, "udp:198.18.1.2:40001");
		/* no state change said why: the commit's reason it is */
		assert_string_equal(n.reason, "reattach_success");
	}
	struct jv_event end = { .type = JV_EV_SESSION_TERMINATED };

	JV_EV_SET(&end, reason_code, JV_REASON_OPERATOR_TERMINATED);
	feed(d, sid[0], &end);
	assert_false(dmn_status_last_switch(d, sid[0], &n));
	assert_true(dmn_status_last_switch(d, sid[39], &n));
	assert_true(dmn_status_last_switch(d, S2, &n));
	assert_string_equal(n.to, "y");
	/* events without a session say nothing */
	feed(d, "", &end);
	feed(d, NULL, &end);
	dmn_status_free(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(why_and_from),
		cmocka_unit_test(per_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
