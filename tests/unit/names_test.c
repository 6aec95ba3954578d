/* SPDX-License-Identifier: MIT */
/* The shared name tables: every enum value has a unique, reversible name. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jvpn/error.h"
#include "jvpn/event.h"
#include "jvpn/reason.h"
#include "jvpn/state.h"

static void states_round_trip(void **st)
{
	(void)st;
	for (int s = 0; s < JV_STATE_COUNT; s++) {
		const char *n = jv_state_name((enum jv_state)s);
		assert_non_null(n);
		assert_int_equal(jv_state_from_name(n), s);
	}
	assert_null(jv_state_name(JV_STATE_COUNT));
	assert_int_equal(jv_state_from_name("REATTACHING"), -1);
	assert_int_equal(jv_state_from_name(NULL), -1);
}

static void reasons_round_trip_and_unique(void **st)
{
	(void)st;
	for (int r = 0; r < JV_REASON_COUNT; r++) {
		const char *n = jv_reason_name((enum jv_reason)r);
		assert_non_null(n);
		assert_int_equal(jv_reason_from_name(n), r);
		/* lower_snake only (spec D9) */
		for (const char *p = n; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
	}
	assert_null(jv_reason_name(JV_REASON_NONE));
	assert_int_equal(jv_reason_from_name("TRANSPORT_DEAD"), JV_REASON_NONE);
	assert_string_equal(jv_reason_name(JV_REASON_TRANSPORT_DEAD), "transport_dead");
}

static void event_types_round_trip(void **st)
{
	(void)st;
	for (int t = 0; t < JV_EV_COUNT; t++) {
		const char *n = jv_event_type_name((enum jv_event_type)t);
		assert_non_null(n);
		assert_int_equal(jv_event_type_from_name(n), t);
	}
	assert_int_equal(jv_event_type_from_name("TRANSPORT_SWITCH"), -1);
	assert_string_equal(jv_event_type_name(JV_EV_TRANSPORT_SWITCH), "TransportSwitch");
}

static void errors_have_text(void **st)
{
	(void)st;
	for (int e = JV_ERR_IO; e <= 0; e++)
		assert_string_not_equal(jv_strerror(e), "unknown error");
	assert_string_equal(jv_strerror(-1000), "unknown error");
}

static void event_set_marks_presence(void **st)
{
	(void)st;
	struct jv_event ev = {0};
	assert_false(JV_EV_HAS(&ev, transport_id));
	JV_EV_SET(&ev, transport_id, "p1");
	assert_true(JV_EV_HAS(&ev, transport_id));
	assert_false(JV_EV_HAS(&ev, new_transport));
	assert_string_equal(ev.transport_id, "p1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(states_round_trip),
		cmocka_unit_test(reasons_round_trip_and_unique),
		cmocka_unit_test(event_types_round_trip),
		cmocka_unit_test(errors_have_text),
		cmocka_unit_test(event_set_marks_presence),
	};
	return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
