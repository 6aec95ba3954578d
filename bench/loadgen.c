/* SPDX-License-Identifier: MIT */
/*
 * loadgen: N client sessions of the sans-I/O engine in one process, over
 * a few shared UDP sockets, against a real `jvpn up` gateway: how many it
 * admits and how fast, whether their data flows, and what a path cut
 * does to all of them at once (issue 12; bench/README.md "scale.sh";
 * the design in docs/decisions.md D-033).
 *
 * Phases, each ended by an event or its bound, never a fixed sleep:
 *   setup     start sessions at --rate until N are ATTACHED, or until
 *             none became ATTACHED for --settle s after the last start
 *             (the rest is refused: stopped and counted), or
 *             --setup-timeout;
 *   hold      --hold s of echo traffic, the window of the echo counters;
 *   cut       (with --cut-cmd) run the command, then until every session
 *             that was bound to --cut-path is ATTACHED on another path,
 *             or --failover-timeout; then --restore-cmd;
 *   end       terminate every session (unless --keep), print figures.
 * --mark-cmd CMD is run as `CMD PHASE` (established, hold_start,
 * hold_end, cut, failover_done, end) at each boundary, synchronously, so
 * a script can sample the gateway exactly there.
 *
 * Each session i has the key derived from --seed and i (lg_client_key),
 * the inner address 10.128.0.0 + i and sends ICMP echo requests to the
 * gateway's TUN address (--gateway-inner), which the gateway's kernel
 * answers: a reply the engine opens has crossed the whole data path.
 */

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sodium.h>

#include "daemon/key.h"
#include "loadgen/lg.h"
#include "net/clock.h"

extern char **environ;

static volatile sig_atomic_t stop_now;

static void on_signal(int sig)
{
	(void)sig;
	stop_now = 1;
}

static int write_peers(const struct lg_opts *o)
{
	if (mkdir(o->write_peers, 0700) && errno != EEXIST) {
		fprintf(stderr, "loadgen: --write-peers %s: %s\n", o->write_peers,
			strerror(errno));
		return 1;
	}
	for (uint32_t i = 0; i < o->n; i++) {
		uint8_t priv[32], pub[32];
		char b64[JV_KEY_B64_SIZE], path[4096];
		uint32_t a = lg_inner_addr(i);
		FILE *f;

		lg_client_key(o->seed, i, priv, pub);
		sodium_memzero(priv, sizeof priv);
		jv_key_to_base64(pub, b64);
		snprintf(path, sizeof path, "%s/client-%05u.conf", o->write_peers, i);
		f = fopen(path, "w");
		if (!f || fprintf(f, "[Peer]\nPublicKey = %s\nAllowedIPs = %u.%u.%u.%u/32\n",
				  b64, a >> 24, a >> 16 & 255, a >> 8 & 255,
				  a & 255) < 0 || fclose(f)) {
			fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	return 0;
}

/* Run `sh -c cmd` while the engines keep running (a command that takes
 * half a second must not silence 10 000 sessions' heartbeats); returns
 * its exit status, -1 if it could not run or was killed. */
static int run_cmd(struct lg *g, const char *cmd)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	pid_t pid;
	int status;

	if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ))
		return -1;
	while (waitpid(pid, &status, WNOHANG) != pid)
		lg_step(g, jv_clock_now() + 2);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void mark(struct lg *g, const char *phase)
{
	char cmd[8192];
	int rc;

	if (!g->o->mark_cmd)
		return;
	snprintf(cmd, sizeof cmd, "%s %s", g->o->mark_cmd, phase);
	rc = run_cmd(g, cmd);
	if (rc)
		fprintf(stderr, "loadgen: --mark-cmd at %s: status %d\n", phase, rc);
}

/* Run phases until `done` says so or `until`; false: interrupted. */
static bool run_until(struct lg *g, jv_time until, bool (*done)(struct lg *))
{
	while (!stop_now && jv_clock_now() < until && !(done && done(g)))
		lg_step(g, until);
	return !stop_now;
}

/* ---- setup ---------------------------------------------------------------- */

static void setup(struct lg *g)
{
	const struct lg_opts *o = g->o;
	jv_time t0 = jv_clock_now(), now, last_start = t0;
	jv_time end = t0 + (jv_time)(o->setup_timeout_s * 1000);
	uint32_t next = 0;

	while (!stop_now && (now = jv_clock_now()) < end) {
		/* sessions due by now at --rate (the first at once) */
		uint64_t due = 1 + (uint64_t)((double)(now - t0) * o->rate / 1000.0);
		jv_time wake;

		while (next < o->n && next < due) {
			lg_start(g, next++, now);
			last_start = now;
		}
		if (g->n.established == o->n)
			break;
		if (next == o->n) {
			jv_time quiet = g->last_attach_ms > last_start ?
					g->last_attach_ms : last_start;

			if (now >= quiet + (jv_time)(o->settle_s * 1000))
				break;
			wake = quiet + (jv_time)(o->settle_s * 1000);
		} else {
			wake = t0 + (jv_time)((double)next * 1000.0 / o->rate);
		}
		lg_step(g, wake < end ? wake : end);
	}
	for (uint32_t i = 0; i < o->n; i++) {
		if (g->eng[i].phase == LG_E_HS || g->eng[i].phase == LG_E_IDLE) {
			if (g->eng[i].phase == LG_E_HS)
				g->n.refused_unanswered++;
			lg_stop(g, i);
		}
	}
}

/* ---- cut ------------------------------------------------------------------- */

static uint64_t cut_total, cut_back;

static bool failover_done(struct lg *g)
{
	(void)g;
	return cut_back + 0 >= cut_total;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct cut_result {
	uint64_t affected, back, p50, p99, max, cmd_ms;
	int cmd_status;
};

static void cut(struct lg *g, struct cut_result *r)
{
	const struct lg_opts *o = g->o;
	char *argv[] = { "sh", "-c", (char *)o->cut_cmd, NULL };
	uint64_t *dt;
	pid_t pid;
	int status = 0;
	jv_time end;

	uint64_t other = 0, unsettled = 0;

	memset(r, 0, sizeof *r);
	for (uint32_t i = 0; i < o->n; i++) {
		struct lg_eng *e = &g->eng[i];

		if (e->phase != LG_E_UP)
			continue;
		e->cut_affected = e->st == JV_STATE_ATTACHED &&
				  e->bound == (int)o->cut_path;
		cut_total += e->cut_affected;
		if (e->st != JV_STATE_ATTACHED)
			unsettled++;
		else if (!e->cut_affected)
			other++;
	}
	fprintf(stderr, "loadgen: at the cut: %llu ATTACHED on path %u, %llu on another, %llu not ATTACHED\n",
		(unsigned long long)cut_total, o->cut_path,
		(unsigned long long)other, (unsigned long long)unsettled);
	mark(g, "cut");
	/* the cut instant is when the command starts: the time until each
	 * session is back includes the command's own run */
	g->cut_ms = jv_clock_now();
	g->cut_on = true;
	if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ)) {
		fprintf(stderr, "loadgen: --cut-cmd: cannot run /bin/sh\n");
		r->cmd_status = -1;
		pid = -1;
	}
	end = g->cut_ms + (jv_time)(o->failover_timeout_s * 1000);
	while (!stop_now && jv_clock_now() < end) {
		if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
			r->cmd_ms = jv_clock_now() - g->cut_ms;
			r->cmd_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
			pid = -1;
		}
		cut_back = 0;
		/* counted per step: O(N) only while the failover lasts, and
		 * bounded by the loop's own pace */
		for (uint32_t i = 0; i < o->n; i++)
			cut_back += g->eng[i].cut_done;
		if (pid < 0 && failover_done(g))
			break;
		lg_step(g, pid > 0 ? jv_clock_now() + 5 : end);
	}
	if (pid > 0) {
		waitpid(pid, &status, 0);
		r->cmd_ms = jv_clock_now() - g->cut_ms;
		r->cmd_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	}
	g->cut_on = false;
	mark(g, "failover_done");
	dt = calloc(cut_total ? cut_total : 1, sizeof *dt);
	for (uint32_t i = 0; dt && i < o->n; i++)
		if (g->eng[i].cut_affected && g->eng[i].cut_done)
			dt[r->back++] = g->eng[i].cut_back_ms - g->cut_ms;
	r->affected = cut_total;
	if (dt && r->back) {
		qsort(dt, r->back, sizeof *dt, cmp_u64);
		r->p50 = dt[(r->back - 1) / 2];
		r->p99 = dt[(r->back * 99 + 99) / 100 - 1];
		r->max = dt[r->back - 1];
	}
	free(dt);
	if (r->cmd_status)
		fprintf(stderr, "loadgen: --cut-cmd exited with status %d\n",
			r->cmd_status);
	if (o->restore_cmd) {
		int rc = run_cmd(g, o->restore_cmd);

		if (rc)
			fprintf(stderr, "loadgen: --restore-cmd: status %d\n", rc);
	}
}

/* ---- report ------------------------------------------------------------------ */

struct figure {
	const char *name;
	double v;
	int prec;
};

static void report(const struct lg_opts *o, const struct figure *f, size_t n)
{
	if (o->json)
		fputs("{", stdout);
	for (size_t i = 0; i < n; i++) {
		if (o->json)
			printf("%s\"%s\": %.*f", i ? ", " : "", f[i].name, f[i].prec,
			       f[i].v);
		else
			printf("%s=%.*f\n", f[i].name, f[i].prec, f[i].v);
	}
	if (o->json)
		fputs("}\n", stdout);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static struct lg g;
	struct lg_opts o;
	struct cut_result cr = { 0 };
	struct figure fig[48];
	size_t nf = 0;
	uint64_t hs_completed = 0, with_reply = 0, up = 0;
	double setup_s, hold_real_s;
	jv_time hold0;
	int rc = lg_opts_parse(&o, argc, argv);

	if (rc)
		return rc == 1 ? 0 : 2;
	if (sodium_init() < 0) {
		fprintf(stderr, "loadgen: libsodium failed to start\n");
		return 1;
	}
	if (o.write_peers)
		return write_peers(&o);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (lg_open(&g, &o)) {
		lg_close(&g);
		return 1;
	}
	fprintf(stderr, "loadgen: %u sessions at %g/s over %u path(s), %g echo/s each, policy %s\n",
		o.n, o.rate, o.npaths, o.pps,
		lg_policy_of_config(&o) ? "of the gateway's config" : o.policy);

	setup(&g);
	setup_s = g.last_attach_ms > g.first_hs_ms && g.first_hs_ms ?
		  (double)(g.last_attach_ms - g.first_hs_ms) / 1000.0 : 0;
	fprintf(stderr, "loadgen: setup: %llu established, %llu refused, %.1f s\n",
		(unsigned long long)g.n.established,
		(unsigned long long)(g.n.refused_unanswered + g.n.refused_terminated),
		setup_s);
	mark(&g, "established");

	/* hold: the echo window */
	mark(&g, "hold_start");
	hold0 = jv_clock_now();
	g.counting_echo = true;
	for (uint32_t i = 0; i < o.n; i++) {
		g.eng[i].got_reply = false;
		g.eng[i].hold_seq = g.eng[i].seq;
	}
	run_until(&g, hold0 + (jv_time)(o.hold_s * 1000), NULL);
	g.counting_echo = false;
	hold_real_s = (double)(jv_clock_now() - hold0) / 1000.0;
	for (uint32_t i = 0; i < o.n; i++) {
		if (g.eng[i].phase != LG_E_UP || !g.eng[i].c)
			continue;
		up++;
		with_reply += g.eng[i].got_reply;
	}
	mark(&g, "hold_end");

	if (o.cut_cmd && !stop_now)
		cut(&g, &cr);

	for (uint32_t i = 0; i < o.n; i++) {
		struct jv_client_handshake h;

		if (!g.eng[i].c)
			continue;
		jv_client_handshake_info(g.eng[i].c, &h);
		hs_completed += h.completed;
	}
	if (!o.keep)
		lg_terminate_all(&g, jv_clock_now());
	mark(&g, "end");

#define FIG(nm, val, p) fig[nf++] = (struct figure){ nm, (double)(val), p }
	FIG("sessions", o.n, 0);
	FIG("established", g.n.established, 0);
	FIG("refused", g.n.refused_unanswered + g.n.refused_terminated, 0);
	FIG("refused_unanswered", g.n.refused_unanswered, 0);
	FIG("refused_terminated", g.n.refused_terminated, 0);
	FIG("setup_s", setup_s, 3);
	FIG("handshakes_sent", g.n.initiations, 0);
	FIG("handshakes_completed", hs_completed, 0);
	FIG("index_collisions", g.n.collisions, 0);
	FIG("hold_s", hold_real_s, 3);
	FIG("echo_sent", g.n.echo_sent, 0);
	FIG("echo_answered", g.n.echo_ok, 0);
	FIG("echo_sessions", up, 0);
	FIG("echo_sessions_answered", with_reply, 0);
	FIG("ended", g.n.ended, 0);
	if (o.cut_cmd) {
		FIG("failover_sessions", cr.affected, 0);
		FIG("failover_reattached", cr.back, 0);
		FIG("failover_p50_ms", cr.p50, 0);
		FIG("failover_p99_ms", cr.p99, 0);
		FIG("failover_max_ms", cr.max, 0);
		FIG("failover_ended", g.n.cut_ended, 0);
		FIG("failover_handshakes", g.n.cut_initiations, 0);
		FIG("cut_cmd_ms", cr.cmd_ms, 0);
	}
	FIG("udp_tx", g.n.tx, 0);
	FIG("udp_tx_dropped", g.n.tx_dropped, 0);
	FIG("udp_rx", g.n.rx, 0);
	FIG("rx_unknown_index", g.n.rx_unknown_index, 0);
	FIG("rx_dropped", g.n.rx_dropped, 0);
	FIG("echo_bad", g.n.echo_bad, 0);
	FIG("out_overflow", g.n.out_overflow, 0);
#undef FIG
	report(&o, fig, nf);
	lg_close(&g);
	return stop_now ? 130 : 0;
}
