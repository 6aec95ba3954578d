/* SPDX-License-Identifier: MIT */
/* The simulated ownership store: CAS, owners' liveness, leases, faults. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/store.h"

static uint8_t rec[JV_RECORD_SIZE];

static int put(struct sim_store *s, unsigned node, uint32_t index,
	       uint64_t expected, jv_time now, uint64_t *rev)
{
	return sim_store_put(s, node, index, expected, rec, now, rev);
}

/* A write names the revision it read; 0 means "must not exist yet". */
static void cas_on_revision(void **st)
{
	struct sim_store s;
	uint64_t rev = 0;

	(void)st;
	sim_store_init(&s, 0);
	assert_int_equal(sim_store_add_node(&s, "gw1"), 0);
	sim_store_node_up(&s, 0);
	memset(rec, 0xab, sizeof rec);
	assert_int_equal(put(&s, 0, 7, 0, 1, &rev), JV_RECORD_WRITTEN);
	assert_int_equal(rev, 1);
	assert_int_equal(put(&s, 0, 7, 0, 2, &rev), JV_RECORD_CONFLICT);
	assert_int_equal(put(&s, 0, 7, 1, 3, &rev), JV_RECORD_WRITTEN);
	assert_int_equal(rev, 2);
	assert_int_equal(put(&s, 0, 7, 1, 4, &rev), JV_RECORD_CONFLICT);
	assert_non_null(sim_store_get(&s, 7));
	assert_string_equal(sim_store_get(&s, 7)->owner, "gw1");
	assert_memory_equal(sim_store_get(&s, 7)->bytes, rec, sizeof rec);
	assert_null(sim_store_get(&s, 8));
	assert_int_equal(s.st.writes, 2);
	assert_int_equal(s.st.conflicts, 2);
	sim_store_free(&s);
}

/* Without leases an owner is live while its process runs: another node
 * cannot write its record until it dies, even with the right revision. */
static void live_owner_without_leases(void **st)
{
	struct sim_store s;
	uint64_t rev;

	(void)st;
	sim_store_init(&s, 0);
	assert_int_equal(sim_store_add_node(&s, "gw1"), 0);
	assert_int_equal(sim_store_add_node(&s, "gw2"), 1);
	sim_store_node_up(&s, 0);
	sim_store_node_up(&s, 1);
	assert_int_equal(put(&s, 0, 7, 0, 1, &rev), JV_RECORD_WRITTEN);
	assert_true(sim_store_owner_live(&s, "gw1", 1000000));
	assert_int_equal(put(&s, 1, 7, 1, 2, &rev), JV_RECORD_CONFLICT);
	sim_store_node_down(&s, 0);
	assert_false(sim_store_owner_live(&s, "gw1", 3));
	assert_int_equal(put(&s, 1, 7, 1, 3, &rev), JV_RECORD_WRITTEN);
	assert_string_equal(sim_store_get(&s, 7)->owner, "gw2");
	/* a restarted owner is live again */
	sim_store_node_up(&s, 0);
	assert_true(sim_store_owner_live(&s, "gw1", 4));
	sim_store_free(&s);
}

/* With leases an owner is live to the last millisecond of its lease,
 * which runs from the renewal's issue, whether its process runs or not. */
static void leases(void **st)
{
	struct sim_store s;
	jv_time until;
	uint64_t rev;

	(void)st;
	sim_store_init(&s, 1000);
	assert_int_equal(sim_store_add_node(&s, "gw1"), 0);
	assert_int_equal(sim_store_add_node(&s, "gw2"), 1);
	sim_store_node_up(&s, 0);
	sim_store_node_up(&s, 1);
	assert_false(sim_store_owner_live(&s, "gw1", 1));	/* no lease yet */
	assert_true(sim_store_renew(&s, 0, 500, &until));
	assert_int_equal(until, 1500);
	assert_int_equal(put(&s, 0, 7, 0, 600, &rev), JV_RECORD_WRITTEN);
	sim_store_node_down(&s, 0);		/* a crash: the lease runs on */
	assert_true(sim_store_owner_live(&s, "gw1", 1500));
	assert_int_equal(put(&s, 1, 7, 1, 1500, &rev), JV_RECORD_CONFLICT);
	assert_false(sim_store_owner_live(&s, "gw1", 1501));
	assert_int_equal(put(&s, 1, 7, 1, 1501, &rev), JV_RECORD_WRITTEN);
	assert_int_equal(s.st.renewals, 1);
	sim_store_free(&s);
}

/* Down: nothing answers.  A partition cuts one node only. */
static void faults(void **st)
{
	struct sim_store s;
	const struct sim_store_rec *r;
	jv_time until;
	uint64_t rev;

	(void)st;
	sim_store_init(&s, 0);
	assert_int_equal(sim_store_add_node(&s, "gw1"), 0);
	assert_int_equal(sim_store_add_node(&s, "gw2"), 1);
	s.down = true;
	assert_false(sim_store_reachable(&s, 0));
	assert_int_equal(put(&s, 0, 7, 0, 1, &rev), JV_RECORD_FAILED);
	assert_int_equal(sim_store_read(&s, 1, 7, &r), JV_RECORD_FAILED);
	assert_false(sim_store_renew(&s, 0, 1, &until));
	assert_null(sim_store_get(&s, 7));		/* nothing written */
	s.down = false;
	s.node[0].partitioned = true;
	assert_int_equal(put(&s, 0, 7, 0, 2, &rev), JV_RECORD_FAILED);
	assert_int_equal(put(&s, 1, 7, 0, 2, &rev), JV_RECORD_WRITTEN);
	assert_int_equal(sim_store_read(&s, 1, 7, &r), JV_RECORD_WRITTEN);
	assert_non_null(r);
	assert_int_equal(sim_store_read(&s, 1, 8, &r), JV_RECORD_WRITTEN);
	assert_null(r);
	assert_true(sim_store_renew(&s, 1, 3, &until));
	assert_int_equal(until, JV_TIME_NEVER);	/* no leases: told nothing */
	assert_int_equal(s.st.failed, 4);
	assert_false(sim_store_reachable(&s, 7));	/* no such node */
	assert_int_equal(sim_store_add_node(&s, "gw3"), 2);
	assert_int_equal(sim_store_add_node(&s, "gw4"), 3);
	assert_int_equal(sim_store_add_node(&s, "gw5"), JV_ERR_LIMIT);
	sim_store_free(&s);
}

/* CL-4: a write behind the owner's back; the writer's liveness cannot be
 * disproved, so the owner's next write conflicts. */
static void injected_conflict(void **st)
{
	struct sim_store s;
	uint64_t rev;

	(void)st;
	sim_store_init(&s, 0);
	assert_int_equal(sim_store_add_node(&s, "gw1"), 0);
	sim_store_node_up(&s, 0);
	assert_int_equal(put(&s, 0, 7, 0, 1, &rev), JV_RECORD_WRITTEN);
	assert_int_equal(put(&s, 0, 9, 0, 1, &rev), JV_RECORD_WRITTEN);
	assert_int_equal(sim_store_inject_conflict(&s, "intruder"), 2);
	assert_string_equal(sim_store_get(&s, 7)->owner, "intruder");
	assert_int_equal(sim_store_get(&s, 7)->revision, 2);
	assert_true(sim_store_owner_live(&s, "intruder", 99));
	assert_int_equal(put(&s, 0, 7, 1, 2, &rev), JV_RECORD_CONFLICT);
	/* even with the revision it would read now */
	assert_int_equal(put(&s, 0, 7, 2, 2, &rev), JV_RECORD_CONFLICT);
	sim_store_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cas_on_revision),
		cmocka_unit_test(live_owner_without_leases),
		cmocka_unit_test(leases),
		cmocka_unit_test(faults),
		cmocka_unit_test(injected_conflict),
	};

	return cmocka_run_group_tests_name("sim_store", tests, NULL, NULL);
}
