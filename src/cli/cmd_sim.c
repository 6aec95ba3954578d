/* SPDX-License-Identifier: MIT */
/*
 * jvpn sim: run scenario files in the deterministic simulator, or a
 * seeded chaos campaign, or the speed benchmark.
 *
 *   jvpn sim FILE... [--seed N] [--events OUT.jsonl] [--quiet]
 *   jvpn sim --chaos N [--flap] [--strict] [--seed S] [--duration-ms D]
 *            [--events OUT] [--quiet]
 *   jvpn sim --chaos-print SEED [--flap] [--duration-ms D]
 *   jvpn sim --bench
 *
 * --flap: flapping schedules (PD-7, LIV-10) instead of the fault mix.  A
 * chaos seed that fails only by violations of open engine findings
 * (sim/findings.h) is listed as KNOWN and does not fail the campaign
 * unless --strict.
 *
 * Exit status: 0 every scenario passed, 1 some failed, 2 usage error or a
 * scenario file that does not parse (file:line errors on stderr).
 */

#define _POSIX_C_SOURCE 200809L	/* clock_gettime */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "jvpn/eventlog.h"
#include "sim/chaos.h"
#include "sim/scenario.h"
#include "sim/world.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: jvpn sim FILE... [--seed N] [--events OUT.jsonl] "
		"[--quiet]\n"
		"       jvpn sim --chaos N [--flap] [--strict] [--seed S] "
		"[--duration-ms D] [--events OUT.jsonl] [--quiet]\n"
		"       jvpn sim --chaos-print SEED [--flap] "
		"[--duration-ms D]\n"
		"       jvpn sim --bench\n");
}

static int file_sink(void *ud, const char *line, size_t len)
{
	return fwrite(line, 1, len, ud) == len ? 0 : -1;
}

static int parse_u64_arg(const char *s, uint64_t *v)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static int run_chaos(uint64_t n, uint64_t seed, uint64_t duration,
		     const struct sim_chaos_opts *co, bool strict,
		     const struct sim_run_opts *base, bool quiet)
{
	char *text = malloc(SIM_CHAOS_TEXT_MAX);
	struct sim_run_opts o = *base;
	uint64_t failed = 0, known = 0;

	/* --seed picks the first chaos seed; each scenario runs with its own. */
	o.seed_set = false;
	o.lenient_replay = true;
	o.known_findings = true;

	if (!text) {
		fprintf(stderr, "jvpn sim: out of memory\n");
		return 2;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t s = seed + i;
		struct sim_scenario sc;
		struct sim_errors errs;
		char name[64];
		int r;

		r = sim_chaos_scenario_opts(s, duration, co, text,
					    SIM_CHAOS_TEXT_MAX);
		snprintf(name, sizeof name, "%s:%" PRIu64,
			 co->flap ? "flap" : "chaos", s);
		if (r < 0 ||
		    sim_scenario_parse_text(text, name, &sc, &errs) != 0) {
			fprintf(stderr, "jvpn sim: chaos seed %" PRIu64
				" made an unreadable scenario:\n", s);
			sim_errors_print(&errs, stderr);
			free(text);
			return 2;
		}
		r = sim_execute(&sc, &o, stdout, quiet);
		known += r == 2;
		if (r != 1) {
			failed += r != 2 || strict;
			printf("    reproduce: jvpn sim --chaos 1%s --seed %"
			       PRIu64 " --duration-ms %" PRIu64 "   (scenario: "
			       "jvpn sim --chaos-print %" PRIu64 "%s "
			       "--duration-ms %" PRIu64 ")\n",
			       co->flap ? " --flap" : "", s, duration, s,
			       co->flap ? " --flap" : "", duration);
		}
		sim_scenario_free(&sc);
	}
	printf("%s: %" PRIu64 " seeds from %" PRIu64 ", %" PRIu64 " failed, %"
	       PRIu64 " known (open engine findings only%s)\n",
	       co->flap ? "chaos --flap" : "chaos", n, seed, failed, known,
	       strict ? "; --strict: counted as failed" : "");
	free(text);
	return failed ? 1 : 0;
}

/* One simulated hour, three transports, a 100 packets/s stream. */
static const char bench_text[] =
	"[Scenario]\nname = sim-speed\nseed = 1\nduration_ms = 3600000\n"
	"[Transport p1]\ndelay_ms = 20\njitter_ms = 5\nloss = 0.01\n"
	"[Transport p2]\ndelay_ms = 40\njitter_ms = 5\n"
	"[Transport p3]\ndelay_ms = 60\n"
	"[Traffic]\nstream_up_pps = 100\nstart_ms = 1000\n"
	"[Timeline]\n"
	"every 600000 from 300000 to 3300000 = kill p1 hard\n"
	"every 600000 from 360000 to 3360000 = revive p1\n";

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int run_bench(void)
{
	struct sim_scenario sc;
	struct sim_errors errs;
	struct sim_result res;
	double t0, t1;
	int r;

	if (sim_scenario_parse_text(bench_text, "bench", &sc, &errs)) {
		sim_errors_print(&errs, stderr);
		return 2;
	}
	t0 = now_ms();
	r = sim_run(&sc, NULL, &res);
	t1 = now_ms();
	printf("simulated one hour of one session over three transports "
	       "(the first killed and revived every 10 minutes) with a "
	       "100 packets/s stream: %" PRIu64 " queue events, %" PRIu64
	       " engine calls, %zu session events, %" PRIu64 "/%" PRIu64
	       " stream packets delivered, %" PRIu64 " invariant "
	       "violations%s%s\n", res.steps, res.engine_calls, res.rec.n,
	       res.up.delivered, res.up.sent, res.check.total,
	       r ? "; run aborted: " : "", r ? res.error : "");
	printf("sim_hour_wall_ms=%.0f\n", t1 - t0);
	printf("sim_speedup_x=%.0f\n", 3600000.0 / (t1 - t0 > 0 ? t1 - t0 : 1));
	sim_result_free(&res);
	sim_scenario_free(&sc);
	return r ? 1 : 0;
}

int cmd_sim(int argc, char **argv)
{
	struct sim_run_opts o = { 0 };
	struct jv_eventlog *log = NULL;
	const char *events = NULL;
	uint64_t chaos = 0, print_seed = 0, duration = 120000, seed = 1;
	bool quiet = false, have_chaos = false, have_print = false,
	     bench = false, strict = false;
	struct sim_chaos_opts co = { 0 };
	int nfiles = 0, status = 0;
	FILE *ef = NULL;
	char **files = calloc((size_t)argc, sizeof *files);

	if (!files)
		return 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--seed") && i + 1 < argc) {
			if (parse_u64_arg(argv[++i], &seed))
				goto bad;
			o.seed_set = true;
			o.seed = seed;
		} else if (!strcmp(a, "--events") && i + 1 < argc) {
			events = argv[++i];
		} else if (!strcmp(a, "--quiet")) {
			quiet = true;
		} else if (!strcmp(a, "--chaos") && i + 1 < argc) {
			if (parse_u64_arg(argv[++i], &chaos) || chaos == 0)
				goto bad;
			have_chaos = true;
		} else if (!strcmp(a, "--chaos-print") && i + 1 < argc) {
			if (parse_u64_arg(argv[++i], &print_seed))
				goto bad;
			have_print = true;
		} else if (!strcmp(a, "--duration-ms") && i + 1 < argc) {
			if (parse_u64_arg(argv[++i], &duration) ||
			    duration < 5000 || duration > 86400000)
				goto bad;
		} else if (!strcmp(a, "--bench")) {
			bench = true;
		} else if (!strcmp(a, "--flap")) {
			co.flap = true;
		} else if (!strcmp(a, "--strict")) {
			strict = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			free(files);
			return 0;
		} else if (a[0] == '-' && a[1]) {
			goto bad;
		} else {
			files[nfiles++] = argv[i];
		}
	}
	if ((have_chaos || have_print || bench) + (nfiles > 0) != 1 ||
	    ((co.flap || strict) && !have_chaos && !have_print))
		goto bad;
	if (bench) {
		free(files);
		return run_bench();
	}
	if (have_print) {
		char *text = malloc(SIM_CHAOS_TEXT_MAX);
		int r = text ? sim_chaos_scenario_opts(print_seed, duration,
						       &co, text,
						       SIM_CHAOS_TEXT_MAX) : -1;

		if (r >= 0)
			fputs(text, stdout);
		free(text);
		free(files);
		return r >= 0 ? 0 : 2;
	}
	if (events) {
		ef = fopen(events, "w");
		log = calloc(1, sizeof *log);
		if (!ef || !log) {
			fprintf(stderr, "jvpn sim: %s: %s\n", events,
				strerror(errno));
			free(log);
			if (ef)
				fclose(ef);
			free(files);
			return 2;
		}
		jv_eventlog_init(log, (struct jv_sink){ file_sink, ef });
		o.log = log;
	}
	if (have_chaos) {
		status = run_chaos(chaos, seed, duration, &co, strict, &o,
				   quiet);
	} else {
		/* Parse everything first: a bad file is a usage error. */
		struct sim_scenario *sc = calloc((size_t)nfiles, sizeof *sc);
		struct sim_errors errs;
		int passed = 0;

		if (!sc) {
			status = 2;
			goto out;
		}
		for (int i = 0; i < nfiles; i++) {
			if (sim_scenario_load(files[i], &sc[i], &errs)) {
				sim_errors_print(&errs, stderr);
				status = 2;
			}
		}
		for (int i = 0; status != 2 && i < nfiles; i++) {
			int r = sim_execute(&sc[i], &o, stdout, quiet);

			passed += r == 1;
			if (r != 1)
				status = 1;
		}
		if (status != 2 && nfiles > 1)
			printf("%d of %d scenarios passed\n", passed, nfiles);
		for (int i = 0; i < nfiles; i++)
			sim_scenario_free(&sc[i]);
		free(sc);
	}
out:
	if (ef && fclose(ef) != 0) {
		fprintf(stderr, "jvpn sim: %s: %s\n", events, strerror(errno));
		status = 2;
	}
	if (log && log->sink_failures) {
		fprintf(stderr, "jvpn sim: %s: %" PRIu64 " lines not written\n",
			events, log->sink_failures);
		status = 2;
	}
	free(log);
	free(files);
	return status;
bad:
	usage(stderr);
	free(files);
	return 2;
}
