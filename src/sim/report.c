/* SPDX-License-Identifier: MIT */
/* Verdict of one scenario: run, check expectations, print. */

#include <inttypes.h>
#include <string.h>

#include "sim/findings.h"
#include "sim/world.h"

static void print_gaps(FILE *out, const struct sim_scenario *sc,
		       const struct sim_result *res)
{
	const struct sim_meter *m[2] = {
		res->have_up ? &res->up : NULL,
		res->have_down ? &res->down : NULL,
	};
	static const char *const dn[2] = { "up", "down" };
	size_t nf = m[0] ? m[0]->nfaults : m[1] ? m[1]->nfaults : 0;

	for (int d = 0; d < 2; d++) {
		if (!m[d])
			continue;
		fprintf(out, "    stream %s: %" PRIu64 "/%" PRIu64
			" delivered, %" PRIu64 " duplicate, %" PRIu64
			" out of order, latency avg %" PRIu64 " max %" PRIu64
			" ms\n", dn[d], m[d]->delivered, m[d]->sent,
			m[d]->duplicates, m[d]->out_of_order,
			m[d]->delivered ? m[d]->latency_sum_ms /
					  m[d]->delivered : 0,
			m[d]->latency_max_ms);
	}
	if (res->have_rr)
		fprintf(out, "    requests: %" PRIu64 "/%" PRIu64 " answered "
			"(%" PRIu64 " late), rtt avg %" PRIu64 " max %" PRIu64
			" ms\n", res->rr.answered, res->rr.sent, res->rr.late,
			res->rr.answered ? res->rr.rtt_sum_ms /
					   res->rr.answered : 0,
			res->rr.rtt_max_ms);
	if (nf == 0)
		return;
	/* One line per fault when few, else the worst per direction. */
	if (nf <= 8) {
		for (size_t i = 0; i < nf; i++) {
			jv_time at = (m[0] ? m[0] : m[1])->gaps[i].fault_at;
			const char *what = "";

			for (size_t k = 0; k < sc->nactions; k++)
				if (sc->actions[k].at == at &&
				    sc->actions[k].fault) {
					what = sc->actions[k].text;
					break;
				}
			fprintf(out, "    failover gap after '%s' @%" PRIu64 ":",
				what, at);
			for (int d = 0; d < 2; d++) {
				const struct sim_gap *g;

				if (!m[d])
					continue;
				g = &m[d]->gaps[i];
				if (!g->touched)
					fprintf(out, " %s -", dn[d]);
				else
					fprintf(out, " %s %" PRIu64 " ms%s",
						dn[d], g->gap_ms,
						g->unrecovered ?
						" (never recovered)" : "");
			}
			fprintf(out, "\n");
		}
		return;
	}
	for (int d = 0; d < 2; d++) {
		bool unrec;
		size_t fi;
		jv_time g;

		if (!m[d])
			continue;
		g = sim_meter_max_gap(m[d], &unrec, &fi);
		fprintf(out, "    largest failover gap %s: %" PRIu64 " ms%s "
			"after the fault @%" PRIu64 " (%zu faults)\n", dn[d], g,
			unrec ? " (never recovered)" : "",
			m[d]->gaps[fi].fault_at, nf);
	}
}

/* Time each side spent in each state (spec §8.4 metrics: time in
 * VOLATILE, time in DEGRADED; FM-2.2's degraded_duration_ms). */
static void print_states(FILE *out, const struct sim_result *res)
{
	const struct sim_record *r = &res->rec;

	for (int side = 0; side < SIM_SIDES; side++) {
		jv_time in[JV_STATE_COUNT] = { 0 }, since = 0;
		enum jv_state st = JV_STATE_COUNT;
		bool any = false;

		for (size_t i = 0; i < r->n; i++) {
			const struct sim_rec_event *e = &r->ev[i];

			if (e->side != side)
				continue;
			if (e->ev.type == JV_EV_SESSION_CREATED) {
				if (st < JV_STATE_COUNT)
					in[st] += e->ev.ts_ms - since;
				st = JV_STATE_BIRTH;
				since = e->ev.ts_ms;
				any = true;
			} else if (e->ev.type == JV_EV_SESSION_STATE_CHANGE &&
				   st < JV_STATE_COUNT) {
				in[st] += e->ev.ts_ms - since;
				st = e->ev.new_state;
				since = e->ev.ts_ms;
			}
		}
		if (!any)
			continue;
		if (st < JV_STATE_TERMINATED)
			in[st] += r->end - since;
		fprintf(out, "    %s time in state:", sim_side_name(side));
		for (int k = 0; k < JV_STATE_TERMINATED; k++)
			if (in[k])
				fprintf(out, " %s %" PRIu64 " ms",
					jv_state_name(k), in[k]);
		fprintf(out, " (degraded_duration_ms=%" PRIu64 ")\n",
			in[JV_STATE_DEGRADED]);
	}
}

/* The operator's switch orders that the engine did not carry out (PD-8:
 * a refused migration leaves no event). */
static void print_orders(FILE *out, const struct sim_result *res)
{
	for (unsigned i = 0; i < res->norders; i++) {
		const struct sim_order *o = &res->orders[i];

		if (o->result == SIM_ORDER_REFUSED)
			fprintf(out, "    switch order @%" PRIu64
				" refused: %s\n", o->at,
				jv_reason_name(o->refused));
		else if (o->result == SIM_ORDER_ERROR)
			fprintf(out, "    switch order @%" PRIu64
				" failed: %s\n", o->at, jv_strerror(o->rc));
	}
}

/* Gateway nodes and their store (PD-9), when the scenario has one. */
static void print_store(FILE *out, const struct sim_result *res)
{
	const struct sim_store_stats *st = &res->store;

	if (!res->have_store)
		return;
	fprintf(out, "    store: %u node%s, %" PRIu64 " writes, %" PRIu64
		" conflicts, %" PRIu64 " failed, %" PRIu64 " reads, %" PRIu64
		" renewals; %" PRIu64 " adoptions, %" PRIu64 " crashes, %"
		PRIu64 " restarts; gateway ends on %s\n", res->nnodes,
		res->nnodes == 1 ? "" : "s", st->writes, st->conflicts,
		st->failed, st->reads, st->renewals, res->adoptions,
		res->crashes, res->node_restarts,
		res->rec.final_node[SIM_GATEWAY][0] ?
		res->rec.final_node[SIM_GATEWAY] : "no node");
}

/* Expectations, invariants (unless skip_invariants), replays, the
 * record; print what fails if print. */
static bool evaluate(const struct sim_scenario *sc,
		     const struct sim_result *res, FILE *out, bool lenient,
		     bool print, bool skip_invariants)
{
	struct sim_measure m = {
		.up = res->have_up ? &res->up : NULL,
		.down = res->have_down ? &res->down : NULL,
		.rr = res->have_rr ? &res->rr : NULL,
		.sink_failures = res->sink_failures,
		.have_store = res->have_store,
		.store = {
			[SIM_SK_WRITES] = res->store.writes,
			[SIM_SK_CONFLICTS] = res->store.conflicts,
			[SIM_SK_FAILED] = res->store.failed,
			[SIM_SK_READS] = res->store.reads,
			[SIM_SK_ADOPTIONS] = res->adoptions,
			[SIM_SK_CRASHES] = res->crashes,
		},
		.orders = res->orders,
		.norders = res->norders,
	};
	bool pass = true;
	char why[512];

	for (size_t i = 0; i < sc->nexpects; i++) {
		const struct sim_expect *x = &sc->expects[i];

		if (sim_expect_check(x, &res->rec, &m, why, sizeof why))
			continue;
		pass = false;
		if (print)
			fprintf(out, "    %s:%u: %s\n      -> %s\n", sc->file,
				x->line, x->text, why);
	}
	if (res->check.total && !skip_invariants) {
		pass = false;
		if (print) {
			fprintf(out, "    invariants violated (%" PRIu64 "):\n",
				res->check.total);
			sim_check_print(&res->check, out, "      ");
		}
	}
	if (res->replay_misses && !lenient) {
		pass = false;
		if (print)
			fprintf(out, "    %" PRIu64 " replay(s) found no "
				"recorded datagram to replay\n",
				res->replay_misses);
	}
	if (res->rec.dropped) {
		pass = false;
		if (print)
			fprintf(out, "    %" PRIu64 " events could not be "
				"recorded\n", res->rec.dropped);
	}
	return pass;
}

int sim_execute(const struct sim_scenario *sc, const struct sim_run_opts *o,
		FILE *out, bool quiet)
{
	struct sim_result res, again;
	bool pass, known, same = true, lenient;
	bool which[SIM_FINDINGS] = { false };
	int r;

	r = sim_run(sc, o, &res);
	if (r == 0 && sc->determinism) {
		struct sim_run_opts o2 = o ? *o : (struct sim_run_opts){ 0 };

		/* The copy must not reach the --events file twice. */
		o2.log = NULL;
		o2.on_event = NULL;
		o2.on_action = NULL;
		r = sim_run(sc, &o2, &again);
		if (r == 0)
			same = memcmp(res.event_hash, again.event_hash,
				      sizeof res.event_hash) == 0 &&
			       res.rec.n == again.rec.n;
		sim_result_free(&again);
	}
	if (r) {
		fprintf(out, "FAIL %s (%s, seed %" PRIu64 "): run aborted: "
			"%s\n", sc->name, sc->file, res.seed,
			res.error[0] ? res.error : jv_strerror(r));
		sim_check_print(&res.check, out, "    ");
		sim_result_free(&res);
		return 0;
	}
	lenient = o && o->lenient_replay;
	pass = evaluate(sc, &res, out, lenient, false, false) && same;
	/* Failed only by violations of open engine findings: listed. */
	known = !pass && o && o->known_findings && same &&
		evaluate(sc, &res, out, lenient, false, true) &&
		sim_findings_explain(&res, &sc->policy[SIM_CLIENT], which);
	fprintf(out, "%s %s (%s, seed %" PRIu64 "): client %s v%" PRIu64
		", %" PRIu64 " switch%s; gateway %s v%" PRIu64 ", %" PRIu64
		" switch%s; %zu events", pass ? "PASS" : known ? "KNOWN" :
		"FAIL", sc->name,
		sc->file, res.seed,
		res.rec.final_known[SIM_CLIENT] ?
		jv_state_name(res.rec.final_state[SIM_CLIENT]) : "-",
		res.rec.final_version[SIM_CLIENT], res.switches[SIM_CLIENT],
		res.switches[SIM_CLIENT] == 1 ? "" : "es",
		res.rec.final_known[SIM_GATEWAY] ?
		jv_state_name(res.rec.final_state[SIM_GATEWAY]) : "-",
		res.rec.final_version[SIM_GATEWAY], res.switches[SIM_GATEWAY],
		res.switches[SIM_GATEWAY] == 1 ? "" : "es", res.rec.n);
	for (int f = 0, n = 0; known && f < SIM_FINDINGS; f++)
		if (which[f])
			fprintf(out, "%s %s", n++ ? "," : "; open finding",
				sim_finding_name(f));
	fprintf(out, "\n");
	if (!quiet || !pass) {
		print_states(out, &res);
		print_gaps(out, sc, &res);
		print_orders(out, &res);
		print_store(out, &res);
	}
	if (!pass) {
		(void)evaluate(sc, &res, out, lenient, true, false);
		if (!same)
			fprintf(out, "    AB-3: a second run with the same "
				"seed produced different events\n");
	}
	sim_result_free(&res);
	return pass ? 1 : known ? 2 : 0;
}
