/* SPDX-License-Identifier: MIT */
/* Scenario files: a good one parses whole; each kind of bad line is
 * reported with its own line number. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sim/scenario.h"

static const char good[] =
	"; a comment\n"
	"[Scenario]\n"
	"name = good\n"
	"seed = 42\n"
	"duration_ms = 30000\n"
	"description = all sections\n"
	"\n"
	"[Policy]\n"
	"profile = fast\n"
	"switching.max_switches_per_min = 2\n"
	"[Policy gateway]\n"
	"transport.allowed_protocols = udp\n"
	"\n"
	"[Transport p1]\n"
	"priority = 0\n"
	"delay_ms = 15\n"
	"up.loss = 0.1\n"
	"down.jitter_ms = 5\n"
	"[Transport p2]\n"
	"proto = quic\n"
	"address = 203.0.113.5:4000\n"
	"state = down\n"
	"\n"
	"[Traffic]\n"
	"stream_pps = 50\n"
	"request_pps = 5\n"
	"\n"
	"[Timeline]\n"
	"at 9000 = revive p2\n"
	"at 5000 = kill p1 hard\n"
	"every 1000 from 10000 to 12000 = set p1 loss=0.3 up.delay_ms=40\n"
	"at 13000 = replay p2 up match=reattach_request count=3 every=10 "
	"from=198.51.100.1:9\n"
	"\n"
	"[Expect]\n"
	"final = client ATTACHED\n"
	"event = client TransportSwitch new_transport=p2 count=1 at=5000..5100\n"
	"sequence = client ATTACHED ... VOLATILE[transport_dead]@5000 ...\n"
	"max_gap_ms = 500\n";

static void good_file(void **st)
{
	struct sim_scenario sc;
	struct sim_errors errs;

	(void)st;
	assert_int_equal(sim_scenario_parse_text(good, "good.ini", &sc, &errs),
			 0);
	assert_int_equal(errs.n, 0);
	assert_string_equal(sc.name, "good");
	assert_int_equal(sc.seed, 42);
	assert_int_equal(sc.duration_ms, 30000);
	/* [Policy] for both, fast profile; the gateway override only there. */
	assert_int_equal(sc.policy[0].heartbeat_interval_ms, 100);
	assert_int_equal(sc.policy[1].heartbeat_interval_ms, 100);
	assert_int_equal(sc.policy[0].max_switches_per_min, 2);
	assert_int_equal(sc.policy[1].max_switches_per_min, 2);
	assert_int_equal(sc.policy[1].allowed_protocols, JV_PROTO_UDP);
	assert_int_equal(sc.policy[0].allowed_protocols,
			 JV_PROTO_UDP | JV_PROTO_QUIC);
	assert_int_equal(sc.ntransports, 2);
	assert_int_equal(sc.transport[0].up.delay_ms, 15);
	assert_int_equal(sc.transport[0].down.delay_ms, 15);
	assert_true(sc.transport[0].up.loss == 0.1);
	assert_true(sc.transport[0].down.loss == 0);
	assert_int_equal(sc.transport[0].down.jitter_ms, 5);
	assert_int_equal(sc.transport[1].proto, JV_PROTO_QUIC);
	assert_int_equal(sc.transport[1].addr.port, 4000);
	assert_true(sc.transport[1].start_down);
	assert_int_equal(sc.traffic.up_pps, 50);
	assert_int_equal(sc.traffic.down_pps, 50);
	assert_int_equal(sc.traffic.stop_ms, 30000);
	/* Sorted by time; `every` expanded to 3 actions. */
	assert_int_equal(sc.nactions, 6);
	assert_int_equal(sc.actions[0].at, 5000);
	assert_int_equal(sc.actions[0].kind, SIM_ACT_KILL);
	assert_true(sc.actions[0].hard);
	assert_int_equal(sc.actions[0].path, 0);
	assert_int_equal(sc.actions[1].kind, SIM_ACT_REVIVE);
	assert_int_equal(sc.actions[1].path, 1);
	assert_int_equal(sc.actions[4].at, 12000);
	assert_int_equal(sc.actions[4].nset, 2);
	assert_int_equal(sc.actions[4].set[1].dirs, SIM_DIR_UP);
	assert_int_equal(sc.actions[5].kind, SIM_ACT_REPLAY);
	assert_int_equal(sc.actions[5].count, 3);
	assert_true(sc.actions[5].has_addr);
	assert_int_equal(sc.actions[5].match.kind, SIM_MATCH_CTRL);
	assert_int_equal(sc.nexpects, 4);
	assert_int_equal(sc.expects[1].line, 36);
	assert_int_equal(sc.expects[2].nitems, 4);
	sim_scenario_free(&sc);
}

/* Replace line `line` (1-based) of `good` by `repl`, parse, and check the
 * first error names that line and contains `what`. */
static void bad_line(unsigned line, const char *repl, const char *what)
{
	char text[4096];
	const char *p = good;
	size_t off = 0;
	struct sim_scenario sc;
	struct sim_errors errs;
	char msg[JV_DIAG_TEXT_MAX], want[32];

	for (unsigned l = 1; *p; l++) {
		const char *nl = strchr(p, '\n');
		size_t len = (size_t)(nl - p) + 1;

		if (l == line)
			off += (size_t)snprintf(text + off, sizeof text - off,
						"%s\n", repl);
		else
			off += (size_t)snprintf(text + off, sizeof text - off,
						"%.*s", (int)len, p);
		p += len;
	}
	assert_int_equal(sim_scenario_parse_text(text, "bad.ini", &sc, &errs),
			 JV_ERR_PARSE);
	assert_true(errs.n >= 1);
	assert_true(jv_diag_format(&errs.d[0], msg, sizeof msg) > 0);
	snprintf(want, sizeof want, "bad.ini:%u:", line);
	if (strncmp(msg, want, strlen(want)) || !strstr(msg, what))
		fail_msg("line %u '%s': got '%s', want '%s' and '%s'", line,
			 repl, msg, want, what);
	sim_scenario_free(&sc);
}

static void bad_lines(void **st)
{
	char longline[300];

	(void)st;
	bad_line(3, "name = two words", "name");
	bad_line(4, "seed = -1", "seed");
	bad_line(5, "duration = 1", "unknown key in [Scenario]");
	bad_line(7, "[Senario]", "unknown section");
	bad_line(7, "[Scenario", "malformed section header");
	bad_line(7, "just words", "expected key = value");
	bad_line(10, "switching.max_switches_per_minute = 2", "switching");
	bad_line(10, "switching.max_switches_per_min = lots", "switching");
	bad_line(16, "delay_ms = 15ms", "delay_ms");
	bad_line(17, "up.loss = 2", "loss");
	bad_line(17, "up.colour = red", "unknown key in [Transport]");
	bad_line(20, "proto = carrier-pigeon", "proto");
	bad_line(21, "address = 203.0.113.5", "address");
	bad_line(25, "stream_pps = 100000", "stream_pps");
	bad_line(29, "at 9000 = revive p9", "no [Transport p9]");
	bad_line(29, "at 9000 = explode p2", "unknown action");
	bad_line(29, "at soon = revive p2", "timeline key");
	bad_line(30, "at 5000 = kill p1", "hard|silent");
	bad_line(30, "at 50000 = kill p1 hard", "after duration_ms");
	bad_line(31, "every 1000 from 10000 to 12000 = set p1 loss=7",
		 "loss");
	bad_line(32, "at 13000 = replay p2 sideways", "up|down");
	bad_line(32, "at 13000 = policy server version=2.0",
		 "client|gateway|both");
	bad_line(32, "at 13000 = policy both", "client|gateway|both");
	bad_line(32, "at 13000 = policy both version", "KEY=VALUE");
	bad_line(32, "at 13000 = policy client session.ttl_ms=5",
		 "session.ttl_ms");
	bad_line(32, "at 13000 = policy gateway version=2.0 version=3.0",
		 "version");
	bad_line(32, "at 13000 = policy both session.max_lifetime_ms=soon",
		 "session.max_lifetime_ms");
	bad_line(32, "at 13000 = replay p2 up match=everything", "match");
	bad_line(35, "final = client HAPPY", "final");
	bad_line(36, "event = client TransportSwap", "unknown event type");
	bad_line(36, "event = client TransportSwitch colour=red",
		 "unknown event field");
	bad_line(37, "sequence = client ATTACHED[no_such_reason]", "item");
	bad_line(38, "max_gap = 500", "unknown expectation");
	memset(longline, 'x', sizeof longline);
	memcpy(longline, "description = ", 14);
	longline[sizeof longline - 1] = '\0';
	bad_line(6, longline, "line too long");
}

static void duplicate_keys_and_sections(void **st)
{
	struct sim_scenario sc;
	struct sim_errors errs;
	static const char text[] =
		"[Scenario]\nname = d\nduration_ms = 1000\nname = e\n"
		"[Transport p1]\ndelay_ms = 1\n[Transport p1]\n";

	(void)st;
	assert_int_equal(sim_scenario_parse_text(text, "d.ini", &sc, &errs),
			 JV_ERR_PARSE);
	assert_int_equal(errs.n, 2);
	assert_int_equal(errs.d[0].line, 4);
	assert_non_null(strstr(errs.d[0].msg, "already set at line 2"));
	assert_int_equal(errs.d[1].line, 7);
	assert_non_null(strstr(errs.d[1].msg, "defined twice"));
}

static void missing_required(void **st)
{
	struct sim_scenario sc;
	struct sim_errors errs;

	(void)st;
	assert_int_equal(sim_scenario_parse_text("[Scenario]\nseed = 1\n",
						 "m.ini", &sc, &errs),
			 JV_ERR_PARSE);
	assert_int_equal(errs.n, 3);	/* name, duration_ms, a transport */
}

static void invalid_policy_names_its_line(void **st)
{
	struct sim_scenario sc;
	struct sim_errors errs;
	static const char text[] =
		"[Scenario]\nname = p\nduration_ms = 1000\n"
		"[Transport p1]\n"
		"[Policy]\n"
		"volatility.heartbeat_interval_ms = 5000\n";

	(void)st;
	assert_int_equal(sim_scenario_parse_text(text, "p.ini", &sc, &errs),
			 JV_ERR_PARSE);
	/* Reported once although both sides share the line. */
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.d[0].line, 6);
}

static const char cluster[] =
	"[Scenario]\n"				/* 1 */
	"name = c\n"
	"duration_ms = 30000\n"
	"[Store]\n"
	"latency_ms = 20\n"			/* 5 */
	"lease_ms = 3000\n"
	"[Transport p1]\n"
	"[Transport p2]\n"
	"node = gw2\n"
	"[Timeline]\n"				/* 10 */
	"at 1000 = crash gw1\n"
	"at 2000 = restart gw1\n"
	"at 3000 = store down\n"
	"at 4000 = store up\n"
	"at 5000 = partition gw2 store\n"	/* 15 */
	"at 6000 = heal gw2 store\n"
	"at 7000 = store conflict\n"
	"at 8000 = replay p2 up node=gw1\n"
	"at 9000 = restart client\n"
	"[Expect]\n"				/* 20 */
	"event = gateway@gw2 SessionOwnerTransferred owner_epoch=2\n"
	"store = adoptions >=1\n";

static void cluster_file(void **st)
{
	struct sim_scenario sc;
	struct sim_errors errs;

	(void)st;
	if (sim_scenario_parse_text(cluster, "c.ini", &sc, &errs)) {
		sim_errors_print(&errs, stderr);
		fail_msg("cluster scenario does not parse");
	}
	assert_true(sc.store.on);
	assert_int_equal(sc.store.line, 4);
	assert_int_equal(sc.store.latency_ms, 20);
	assert_int_equal(sc.store.lease_ms, 3000);
	assert_int_equal(sc.store.renew_ms, 1000);	/* lease / 3 */
	assert_int_equal(sc.store.nodes, 2);		/* gw2 is named */
	assert_int_equal(sc.transport[0].node, 0);
	assert_int_equal(sc.transport[1].node, 1);
	assert_int_equal(sc.nactions, 9);
	assert_int_equal(sc.actions[0].kind, SIM_ACT_CRASH);
	assert_int_equal(sc.actions[0].node, 0);
	assert_true(sc.actions[0].fault);
	assert_int_equal(sc.actions[1].kind, SIM_ACT_RESTART);
	assert_int_equal(sc.actions[1].side, SIM_GATEWAY);
	assert_int_equal(sc.actions[1].node, 0);
	assert_false(sc.actions[1].fault);
	assert_int_equal(sc.actions[2].kind, SIM_ACT_STORE_DOWN);
	assert_true(sc.actions[2].fault);
	assert_int_equal(sc.actions[3].kind, SIM_ACT_STORE_UP);
	assert_false(sc.actions[3].fault);
	assert_int_equal(sc.actions[4].kind, SIM_ACT_PARTITION);
	assert_int_equal(sc.actions[4].node, 1);
	assert_int_equal(sc.actions[5].kind, SIM_ACT_HEAL);
	assert_int_equal(sc.actions[6].kind, SIM_ACT_STORE_CONFLICT);
	assert_int_equal(sc.actions[7].kind, SIM_ACT_REPLAY);
	assert_int_equal(sc.actions[7].node, 0);
	assert_int_equal(sc.actions[8].kind, SIM_ACT_RESTART);
	assert_int_equal(sc.actions[8].side, SIM_CLIENT);
	assert_int_equal(sc.actions[8].node, -1);
	assert_int_equal(sc.nexpects, 2);
	assert_string_equal(sc.expects[0].node, "gw2");
	assert_string_equal(sim_node_name(1), "gw2");
	assert_int_equal(sim_node_from_name("gw3"), -1);
	sim_scenario_free(&sc);
	/* Without a [Store]: no nodes, as before. */
	assert_int_equal(sim_scenario_parse_text(good, "g.ini", &sc, &errs),
			 0);
	assert_false(sc.store.on);
	assert_int_equal(sc.transport[0].node, 0);
	sim_scenario_free(&sc);
}

/* Replace line `line` of `text` and check the first error. */
static void bad_in(const char *base, unsigned line, const char *repl,
		   unsigned want_line, const char *what)
{
	char text[4096], msg[JV_DIAG_TEXT_MAX], want[32];
	const char *p = base;
	size_t off = 0;
	struct sim_scenario sc;
	struct sim_errors errs;

	for (unsigned l = 1; *p; l++) {
		const char *nl = strchr(p, '\n');
		size_t len = (size_t)(nl - p) + 1;

		if (l == line)
			off += (size_t)snprintf(text + off, sizeof text - off,
						"%s\n", repl);
		else
			off += (size_t)snprintf(text + off, sizeof text - off,
						"%.*s", (int)len, p);
		p += len;
	}
	assert_int_equal(sim_scenario_parse_text(text, "bad.ini", &sc, &errs),
			 JV_ERR_PARSE);
	assert_true(errs.n >= 1);
	assert_true(jv_diag_format(&errs.d[0], msg, sizeof msg) > 0);
	snprintf(want, sizeof want, "bad.ini:%u:", want_line);
	if (strncmp(msg, want, strlen(want)) || !strstr(msg, what))
		fail_msg("line %u '%s': got '%s', want '%s' and '%s'", line,
			 repl, msg, want, what);
	sim_scenario_free(&sc);
}

static void bad_cluster_lines(void **st)
{
	(void)st;
	bad_in(cluster, 5, "latency = 20", 5, "unknown key in [Store]");
	bad_in(cluster, 5, "latency_ms = soon", 5, "latency_ms");
	bad_in(cluster, 5, "nodes = 3", 5, "must be 1 or 2");
	bad_in(cluster, 5, "nodes = 1", 5, "gw2 is named but nodes = 1");
	bad_in(cluster, 5, "renew_ms = 3000", 5, "must be below lease_ms");
	bad_in(cluster, 6, "lease_ms = 8000", 6, "recovery_window_ms");
	bad_in(cluster, 9, "node = gw9", 9, "gw1 or gw2");
	bad_in(cluster, 11, "at 1000 = crash gw3", 11, "crash gw1|gw2");
	bad_in(cluster, 11, "at 1000 = crash", 11, "crash gw1|gw2");
	bad_in(cluster, 12, "at 2000 = restart gateway", 12,
	       "restart client|gw1|gw2");
	bad_in(cluster, 13, "at 3000 = store sideways", 13,
	       "store down|up|conflict");
	bad_in(cluster, 15, "at 5000 = partition gw2", 15,
	       "partition gw1|gw2 store");
	bad_in(cluster, 16, "at 6000 = heal gw2 disk", 16,
	       "heal gw1|gw2 store");
	bad_in(cluster, 18, "at 8000 = replay p2 up node=gw7", 18, "node");
	bad_in(cluster, 21, "event = gateway@ SessionOwnerTransferred", 21,
	       "gateway@NODE");
	bad_in(cluster, 21, "event = client@gw1 SessionCreated", 21,
	       "gateway@NODE");
	bad_in(cluster, 22, "store = takeovers 1", 22, "KEY one of");
}

/* Without [Store], what names a node says what is missing, at its line. */
static void node_action_needs_a_store(void **st)
{
	struct sim_scenario sc;
	struct sim_errors errs;
	static const char text[] =
		"[Scenario]\nname = n\nduration_ms = 9000\n"
		"[Transport p1]\n"
		"[Timeline]\nat 1000 = store down\n";
	static const char text2[] =
		"[Scenario]\nname = n\nduration_ms = 9000\n"
		"[Transport p1]\nnode = gw2\n";

	(void)st;
	assert_int_equal(sim_scenario_parse_text(text, "n.ini", &sc, &errs),
			 JV_ERR_PARSE);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.d[0].line, 6);
	assert_non_null(strstr(errs.d[0].msg, "needs a [Store] section"));
	assert_int_equal(sim_scenario_parse_text(text2, "n.ini", &sc, &errs),
			 JV_ERR_PARSE);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.d[0].line, 5);
	assert_non_null(strstr(errs.d[0].msg, "add a [Store] section"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_file),
		cmocka_unit_test(bad_lines),
		cmocka_unit_test(duplicate_keys_and_sections),
		cmocka_unit_test(missing_required),
		cmocka_unit_test(invalid_policy_names_its_line),
		cmocka_unit_test(cluster_file),
		cmocka_unit_test(bad_cluster_lines),
		cmocka_unit_test(node_action_needs_a_store),
	};

	return cmocka_run_group_tests_name("sim_scenario", tests, NULL, NULL);
}
