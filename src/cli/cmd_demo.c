/* SPDX-License-Identifier: MIT */
/*
 * jvpn demo: the seed's proof of concept, simulated.  One session over two
 * transports under a 100 packets/s stream each way; the active transport
 * dies; the client makes an explicit, validated switch (a reattach, not a
 * handshake) and the session is ATTACHED again with the same id.  Prints
 * the timeline of both endpoints and writes their events as JSONL.
 *
 *   jvpn demo [--events PATH]     (default out/demo_events.jsonl)
 */

#define _POSIX_C_SOURCE 200809L	/* mkdir */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "jvpn/eventlog.h"
#include "sim/scenario.h"
#include "sim/world.h"

static const char demo_text[] =
	"[Scenario]\n"
	"name = demo\n"
	"seed = 1\n"
	"duration_ms = 10000\n"
	"[Transport p1]\n"
	"delay_ms = 10\n"
	"[Transport p2]\n"
	"priority = 1\n"
	"delay_ms = 20\n"
	"[Traffic]\n"
	"stream_pps = 100\n"
	"[Timeline]\n"
	"at 5000 = kill p1 hard\n"
	"[Expect]\n"
	"sequence = client ATTACHED VOLATILE[transport_dead]@5000 "
	"RECOVERING[dead_transport_recovery]@5000 ATTACHED[reattach_success]\n"
	"event = client TransportSwitch new_transport=p2 count=1\n"
	"final = client ATTACHED\n"
	"final = gateway ATTACHED\n"
	"session = stable\n";

struct demo {
	enum jv_state state[SIM_SIDES];
	char binding[SIM_SIDES][JV_TRANSPORT_ID_MAX];
	char candidate[SIM_SIDES][JV_TRANSPORT_ID_MAX];
	char sid[JV_SESSION_ID_HEX];
	jv_time dead_at, attached_at;
};

static void cell(char *buf, size_t n, const char *s)
{
	snprintf(buf, n, "%s", s && *s ? s : "-");
}

static void on_event(void *ud, enum sim_side side,
		     const struct jv_event_origin *origin,
		     const struct jv_event *ev)
{
	struct demo *d = ud;
	const char *transport = NULL;
	char tr[48], why[40];

	if (origin && !d->sid[0])
		snprintf(d->sid, sizeof d->sid, "%s", origin->session_id);
	switch (ev->type) {
	case JV_EV_SESSION_CREATED:
		d->state[side] = JV_STATE_BIRTH;
		break;
	case JV_EV_SESSION_STATE_CHANGE:
		d->state[side] = ev->new_state;
		if (side == SIM_CLIENT && ev->new_state == JV_STATE_ATTACHED &&
		    ev->previous_state == JV_STATE_RECOVERING)
			d->attached_at = ev->ts_ms;
		if (JV_EV_HAS(ev, candidate_transport) &&
		    ev->candidate_transport) {
			transport = ev->candidate_transport;
			snprintf(d->candidate[side], sizeof d->candidate[side],
				 "%s", transport);
		} else if (ev->new_state == JV_STATE_ATTACHED &&
			   ev->previous_state == JV_STATE_RECOVERING) {
			transport = d->candidate[side];
		} else if (ev->previous_state == JV_STATE_BIRTH) {
			transport = "";
		}
		break;
	case JV_EV_TRANSPORT_ATTACHED:
		snprintf(d->binding[side], sizeof d->binding[side], "%s",
			 ev->transport_id);
		transport = ev->transport_id;
		break;
	case JV_EV_TRANSPORT_DEAD:
		d->binding[side][0] = '\0';
		transport = ev->transport_id;
		if (side == SIM_CLIENT && !d->dead_at)
			d->dead_at = ev->ts_ms;
		break;
	case JV_EV_TRANSPORT_SWITCH:
		snprintf(d->binding[side], sizeof d->binding[side], "%s",
			 ev->new_transport ? ev->new_transport : "");
		snprintf(tr, sizeof tr, "%s -> %s",
			 ev->previous_transport ? ev->previous_transport :
			 "none", ev->new_transport ? ev->new_transport : "none");
		transport = tr;
		break;
	case JV_EV_REATTACH_ATTEMPT:
	case JV_EV_REATTACH_RESULT:
		transport = JV_EV_HAS(ev, candidate_transport) ?
			    ev->candidate_transport : NULL;
		break;
	default:
		break;
	}
	if (!transport && JV_EV_HAS(ev, transport_id))
		transport = ev->transport_id;
	if (!transport)
		transport = d->binding[side];
	if (transport != tr)
		cell(tr, sizeof tr, transport);
	cell(why, sizeof why, JV_EV_HAS(ev, reason_code) ?
	     jv_reason_name(ev->reason_code) : NULL);
	if (JV_EV_HAS(ev, status))
		snprintf(why, sizeof why, "%s%s%s", ev->status,
			 JV_EV_HAS(ev, reason_code) ? " " : "",
			 JV_EV_HAS(ev, reason_code) ?
			 jv_reason_name(ev->reason_code) : "");
	printf("%7" PRIu64 "  %-8s %-22s %-11s %-34s %s\n", ev->ts_ms,
	       sim_side_name(side), jv_event_type_name(ev->type),
	       jv_state_name(d->state[side]), tr, why);
}

static void on_action(void *ud, const struct sim_action *a, jv_time now)
{
	(void)ud;
	printf("%7" PRIu64 "  %-8s %s\n", now, "network",
	       a->kind == SIM_ACT_KILL && a->hard ?
	       "p1 dies (interface down: the client's socket reports it)" :
	       a->text);
}

static int file_sink(void *ud, const char *line, size_t len)
{
	return fwrite(line, 1, len, ud) == len ? 0 : -1;
}

static int open_events(const char *path, FILE **f)
{
	char dir[256];
	const char *slash = strrchr(path, '/');

	if (slash && (size_t)(slash - path) < sizeof dir) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		if (dir[0] && mkdir(dir, 0755) != 0 && errno != EEXIST)
			return -1;
	}
	*f = fopen(path, "w");
	return *f ? 0 : -1;
}

int cmd_demo(int argc, char **argv)
{
	const char *events = "out/demo_events.jsonl";
	struct demo d = { 0 };
	struct sim_scenario sc;
	struct sim_errors errs;
	struct sim_result res;
	struct jv_eventlog *log;
	struct sim_run_opts o = { .on_event = on_event,
				  .on_action = on_action, .ud = &d };
	FILE *f = NULL;
	int status = 0, r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--events") && i + 1 < argc) {
			events = argv[++i];
		} else {
			fprintf(stderr, "usage: jvpn demo [--events PATH]\n");
			return 2;
		}
	}
	if (sim_scenario_parse_text(demo_text, "demo", &sc, &errs)) {
		sim_errors_print(&errs, stderr);
		return 2;
	}
	log = calloc(1, sizeof *log);
	if (!log || open_events(events, &f)) {
		fprintf(stderr, "jvpn demo: %s: %s\n", events,
			log ? strerror(errno) : "out of memory");
		free(log);
		sim_scenario_free(&sc);
		return 2;
	}
	jv_eventlog_init(log, (struct jv_sink){ file_sink, f });
	o.log = log;

	printf("jvpn demo (simulated): one session over two transports, p1 "
	       "(10 ms) and p2 (20 ms),\n"
	       "a 100 packets/s stream each way inside the tunnel; p1 dies "
	       "at t = 5000 ms.\n\n");
	printf("%7s  %-8s %-22s %-11s %-34s %s\n", "t (ms)", "side", "event",
	       "state", "transport", "reason");
	r = sim_run(&sc, &o, &res);
	if (r) {
		fprintf(stderr, "jvpn demo: the simulation failed: %s\n",
			res.error);
		status = 1;
	} else {
		struct sim_measure m = { .up = &res.up, .down = &res.down };
		bool unrec_up, unrec_down, pass = res.check.total == 0;
		jv_time gu = sim_meter_max_gap(&res.up, &unrec_up, NULL);
		jv_time gd = sim_meter_max_gap(&res.down, &unrec_down, NULL);
		char why[512];

		for (size_t i = 0; i < sc.nexpects; i++)
			if (!sim_expect_check(&sc.expects[i], &res.rec, &m, why,
					      sizeof why)) {
				printf("  expectation failed: %s -> %s\n",
				       sc.expects[i].text, why);
				pass = false;
			}
		sim_check_print(&res.check, stdout, "  ");
		printf("\nSummary: session %s lost its active transport p1 at "
		       "%" PRIu64 " ms (a hard failure the client saw at once); "
		       "the client made an explicit, validated switch to p2 "
		       "(a reattach proved with the session keys, not a new "
		       "handshake) and was ATTACHED again at %" PRIu64 " ms. "
		       "The stream's longest gap was %" PRIu64 " ms up and %"
		       PRIu64 " ms down (%" PRIu64 "/%" PRIu64 " and %" PRIu64
		       "/%" PRIu64 " packets delivered); %" PRIu64 " switch on "
		       "the client and %" PRIu64 " on the gateway; %s; %"
		       PRIu64 " invariant violations. Events of both "
		       "endpoints: %s (check it with jvpn audit).\n",
		       d.sid, d.dead_at, d.attached_at, gu, gd,
		       res.up.delivered, res.up.sent, res.down.delivered,
		       res.down.sent, res.switches[SIM_CLIENT],
		       res.switches[SIM_GATEWAY],
		       res.rec.nsessions[0] == 1 && res.rec.nsessions[1] == 1 ?
		       "one handshake, session id unchanged" :
		       "the session id CHANGED", res.check.total, events);
		status = pass ? 0 : 1;
	}
	sim_result_free(&res);
	if (fclose(f) != 0 || log->sink_failures) {
		fprintf(stderr, "jvpn demo: %s: write failed\n", events);
		status = 2;
	}
	free(log);
	sim_scenario_free(&sc);
	return status;
}
