/* SPDX-License-Identifier: MIT */
/*
 * The running endpoint: set-up in the order that makes failures cheap
 * (event log, control socket and sockets before the TUN device exists),
 * the loop callbacks shared by both roles, and teardown.  The loop sleeps
 * until a descriptor is ready or the earliest of the engine's deadline,
 * a down path's retry and the event log's sync falls due.
 */

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon_impl.h"
#include "daemon/notify.h"
#include "daemon/hooks.h"
#include "daemon/metrics.h"
#include "daemon/reload.h"
#include "jvpn/eventlog.h"
#include "net/clock.h"
#include "net/netaddr.h"
#include "net/rng_sys.h"
#include "net/tun.h"

__attribute__((format(printf, 3, 0)))
static void vlog(const struct jv_daemon *d, int prio, const char *fmt,
		 va_list ap)
{
	char msg[512], ts[32];
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%H:%M:%S", &tm);
	vsnprintf(msg, sizeof msg, fmt, ap);
	fprintf(stderr, "%sjvpn[%s] %s.%03ld %s\n", dmn_log_prefix(prio),
		d->cfg->ifname, ts, (long)(tv.tv_usec / 1000), msg);
}

void dmn_log_at(const struct jv_daemon *d, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(d, prio, fmt, ap);
	va_end(ap);
}

void dmn_log(const struct jv_daemon *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(d, LOG_INFO, fmt, ap);
	va_end(ap);
}

bool dmn_ip_addrs(const uint8_t *p, size_t n, uint8_t src[16],
		  uint8_t dst[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };

	if (n >= 20 && (p[0] >> 4) == 4) {
		memcpy(src, mapped, 12);
		memcpy(src + 12, p + 12, 4);
		memcpy(dst, mapped, 12);
		memcpy(dst + 12, p + 16, 4);
		return true;
	}
	if (n >= 40 && (p[0] >> 4) == 6) {
		memcpy(src, p + 8, 16);
		memcpy(dst, p + 24, 16);
		return true;
	}
	return false;
}

void dmn_flush_out(struct jv_daemon *d)
{
	if (d->client)
		dmn_client_flush(d);
	else if (d->gw)
		dmn_gateway_flush(d);
}

void dmn_flush(struct jv_daemon *d)
{
	dmn_flush_out(d);
	jv_tun_writer_flush(&d->tw);
}

void dmn_room(struct jv_daemon *d)
{
	if (d->out->ndgram + DMN_OUT_MARGIN > JV_OUT_DGRAMS ||
	    d->out->ninner + 1 >= JV_OUT_INNER)
		dmn_flush_out(d);
}

/* ---- events ------------------------------------------------------------- */

static void short_id(const char *hex, char out[9])
{
	snprintf(out, 9, "%s", hex && *hex ? hex : "--------");
}

void dmn_on_event(void *ud, const struct jv_event_origin *o,
		  const struct jv_event *ev)
{
	struct jv_daemon *d = ud;
	char id[9];

	jv_evfile_append(&d->ev, o, ev, ev->ts_ms);
	dmn_status_note_event(d, o, ev);
	dmn_metrics_event(d, o, ev);
	short_id(o->session_id, id);
	if (ev->type == JV_EV_SESSION_CREATED ||
	    ev->type == JV_EV_SESSION_STATE_CHANGE ||
	    ev->type == JV_EV_TRANSPORT_SWITCH ||
	    ev->type == JV_EV_SESSION_TERMINATED)
		dmn_notify_session_changed();
	switch (ev->type) {
	case JV_EV_SESSION_CREATED:
		if (d->client)
			snprintf(d->session_hex, sizeof d->session_hex, "%s",
				 o->session_id);
		/* who and from where: the gateway's log names its client */
		dmn_log(d, "session %s created%s%s%s%s", id,
			!JV_EV_HAS(ev, peer_public_key) ? "" :
			d->client ? " with gateway " : " for peer ",
			JV_EV_HAS(ev, peer_public_key) ? ev->peer_public_key : "",
			!JV_EV_HAS(ev, remote_addr) ? "" :
			d->client ? " at " : " from ",
			JV_EV_HAS(ev, remote_addr) ? ev->remote_addr : "");
		break;
	case JV_EV_SESSION_STATE_CHANGE:
		dmn_log(d, "session %s %s -> %s (%s) v%llu", id,
			jv_state_name(ev->previous_state),
			jv_state_name(ev->new_state),
			JV_EV_HAS(ev, reason_code) ?
			jv_reason_name(ev->reason_code) : "-",
			(unsigned long long)ev->state_version);
		break;
	case JV_EV_TRANSPORT_ATTACHED:
		dmn_log(d, "session %s attached to %s", id,
			ev->transport_id ? ev->transport_id : "?");
		break;
	case JV_EV_TRANSPORT_DEAD:
		dmn_log_at(d, LOG_WARNING, "session %s transport %s dead", id,
			JV_EV_HAS(ev, transport_id) && ev->transport_id ?
			ev->transport_id : "?");
		if (d->client && JV_EV_HAS(ev, transport_id) &&
		    ev->transport_id)
			dmn_client_transport_dead(d, ev->transport_id);
		break;
	case JV_EV_TRANSPORT_SWITCH:
		dmn_log(d, "session %s switched %s -> %s in %llu ms", id,
			ev->previous_transport ? ev->previous_transport : "(none)",
			ev->new_transport ? ev->new_transport : "?",
			(unsigned long long)ev->switch_latency_ms);
		/* The path left may have died (its TransportDead comes only
		 * at the TTL): its name is worth asking again now. */
		if (d->client && ev->previous_transport)
			dmn_client_transport_dead(d, ev->previous_transport);
		break;
	case JV_EV_REATTACH_RESULT:
		if (ev->status && strcmp(ev->status, "SUCCESS"))
			dmn_log_at(d, LOG_WARNING, "session %s reattach to %s denied (%s)", id,
				ev->candidate_transport ? ev->candidate_transport : "?",
				JV_EV_HAS(ev, reason_code) ?
				jv_reason_name(ev->reason_code) : "-");
		break;
	case JV_EV_SESSION_TERMINATED:
		dmn_log_at(d, LOG_NOTICE, "session %s terminated (%s)", id,
			JV_EV_HAS(ev, reason_code) ?
			jv_reason_name(ev->reason_code) : "-");
		if (d->client && JV_EV_HAS(ev, reason_code))
			snprintf(d->end_reason, sizeof d->end_reason, "%s",
				 jv_reason_name(ev->reason_code));
		if (d->client && JV_EV_HAS(ev, reason_code) &&
		    ev->reason_code == JV_REASON_SESSION_REPLACED)
			dmn_log_at(d, LOG_WARNING, "the gateway replaced this session: another client is using this key, or this client restarted");
		break;
	default:
		break;
	}
}

static void on_line(void *ud, const char *line, size_t len)
{
	struct jv_daemon *d = ud;

	jv_ctl_broadcast(&d->ctl, line, len);
}

/* ---- loop callbacks ------------------------------------------------------ */

static void tun_packet(struct jv_daemon *d, const uint8_t *p, size_t n,
		       jv_time now)
{
	d->n.tun_rx++;
	if (d->client)
		dmn_client_tun(d, p, n, now);
	else
		dmn_gateway_tun(d, p, n, now);
}

/* Offload mode: a read may be a TCP super-packet, cut here into the
 * MTU-sized packets the engine seals (net/tun.h). */
static void tun_offload(struct jv_daemon *d, int fd)
{
	unsigned segs = 0;

	for (int i = 0; i < DMN_TUN_BURST && segs < DMN_TUN_SEGS; i++) {
		struct jv_tun_rx rx;
		ssize_t n = jv_tun_read_offload(fd, d->tunbuf, sizeof d->tunbuf,
						&rx);
		const uint8_t *p;
		jv_time now;
		size_t len;

		if (n == JV_ERR_PARSE) {
			d->n.tun_rx_dropped++;
			continue;
		}
		if (n <= 0)
			break;
		now = jv_clock_now();
		while ((len = jv_tun_rx_next(&rx, d->pkt, &p)) > 0) {
			tun_packet(d, p, len, now);
			segs++;
		}
	}
}

static void on_tun(struct jv_loop *l, int fd, unsigned events, void *ud)
{
	struct jv_daemon *d = ud;

	(void)l;
	if (!(events & JV_LOOP_READ))
		return;
	if (d->tun.offload) {
		tun_offload(d, fd);
		return;
	}
	for (int i = 0; i < DMN_TUN_BURST; i++) {
		ssize_t n = jv_tun_read(fd, d->pkt, sizeof d->pkt);

		if (n <= 0)
			break;
		tun_packet(d, d->pkt, (size_t)n, jv_clock_now());
	}
}

static void on_deadline(struct jv_loop *l, void *ud)
{
	struct jv_daemon *d = ud;
	jv_time now = jv_clock_now();

	(void)l;
	dmn_notify_watchdog_tick(now);
	jv_evfile_sync(&d->ev, now, false);
	dmn_metrics_run(d);
	if (d->client)
		dmn_client_tick(d, now);
	else
		dmn_gateway_tick(d, now);
}

static void before_wait(struct jv_loop *l, void *ud)
{
	struct jv_daemon *d = ud;
	jv_time next, sync;

	if (d->gw)
		dmn_store_pump(d);
	dmn_flush(d);
	if (d->client && jv_client_state(d->client) == JV_STATE_TERMINATED &&
	    !d->stopped) {
		/* The session is over: nothing left to carry. */
		d->stopped = true;
		d->exit_code = d->operator_stop ? JV_EXIT_OK
						: JV_EXIT_SESSION_ENDED;
		jv_loop_stop(l);
		return;
	}
	if (d->stopped)
		return;
	dmn_notify_refresh(d);
	next = d->client ? dmn_client_deadline(d) : dmn_gateway_deadline(d);
	sync = jv_evfile_sync_deadline(&d->ev);
	if (sync < next)
		next = sync;
	if (dmn_notify_watchdog_deadline() < next)
		next = dmn_notify_watchdog_deadline();
	sync = dmn_metrics_deadline(d);		/* MHD's connection timeouts */
	if (sync < next)
		next = sync;
	if (jv_loop_set_deadline(l, next))
		dmn_log_at(d, LOG_ERR, "timerfd: %s", strerror(errno));
}

static void on_signal(struct jv_loop *l, int signo, void *ud)
{
	struct jv_daemon *d = ud;

	if (signo == SIGHUP) {
		/* the answer is in the log (reload.c logs it either way) */
		dmn_log(d, "SIGHUP: reload");
		if (dmn_reload_start(d, UINT64_MAX) == JV_ERR_STATE)
			dmn_log_at(d, LOG_WARNING, "SIGHUP: a reload is still reading its files: this one is ignored");
		return;
	}
	dmn_log_at(d, LOG_NOTICE, "%s: terminating", signo == SIGINT ? "SIGINT" : "SIGTERM");
	d->operator_stop = true;
	if (d->client)
		dmn_client_stop(d);
	else
		dmn_gateway_stop(d);
	dmn_flush(d);
	d->stopped = true;
	d->exit_code = JV_EXIT_OK;
	jv_loop_stop(l);
}

/* ---- control requests ---------------------------------------------------- */

json_t *dmn_error(const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return json_pack("{s:b,s:s}", "ok", 0, "error", msg);
}

static json_t *on_request(void *ud, const char *verb, const char *arg,
			  bool *follow)
{
	struct jv_daemon *d = ud;
	json_t *r;

	if (!strcmp(verb, "status"))
		return dmn_status(d);
	if (!strcmp(verb, "switch")) {
		if (!d->client)
			return dmn_error("switch is a client command: the client chooses its transports (run it on the client)");
		if (!arg)
			return dmn_error("switch needs a transport name");
		r = dmn_client_switch(d, arg);
		dmn_flush(d);
		return r;
	}
	if (!strcmp(verb, "terminate")) {
		r = d->client ? dmn_client_terminate(d, arg)
			      : dmn_gateway_terminate(d, arg);
		dmn_flush(d);
		return r;
	}
	if (!strcmp(verb, "reload")) {
		/* answered when the worker has read the files (reload.h) */
		int rc = dmn_reload_start(d, jv_ctl_defer(&d->ctl));

		if (rc == JV_ERR_STATE)
			return dmn_error("a reload is still reading its files: try again when it has answered");
		if (rc)
			return dmn_error("reload not started: %s", jv_strerror(rc));
		return NULL;
	}
	if (!strcmp(verb, "events")) {
		if (d->ev.fd < 0)
			return dmn_error("this endpoint writes no event log (EventLog = off)");
		*follow = true;
		return json_pack("{s:b,s:s,s:I}", "ok", 1, "path", d->ev.path,
				 "offset", (json_int_t)d->ev.size);
	}
	return dmn_error("unknown request '%s' (status, switch, terminate, reload, events)",
			 verb);
}

/* ---- set-up and teardown ------------------------------------------------- */

static void warn_line(void *ud, const char *line)
{
	dmn_log_at(ud, LOG_WARNING, "warning: %s", line);
}

static int setup(struct jv_daemon *d, char *why, size_t n)
{
	struct jv_net_err err = { 0 };
	int rc;

	d->rng = jv_rng_system();
	if (!d->rng.fill) {
		snprintf(why, n, "no system randomness (libsodium failed to start)");
		return JV_ERR_IO;
	}
	d->out = calloc(1, sizeof *d->out);
	d->rx = calloc(1, sizeof *d->rx);
	if (!d->out || !d->rx) {
		snprintf(why, n, "out of memory");
		return JV_ERR_NOMEM;
	}
	rc = jv_loop_init(&d->loop, &err);
	if (rc) {
		snprintf(why, n, "%s", err.msg);
		return rc;
	}
	d->loop_ok = true;
	if (d->cfg->event_log[0]) {
		rc = jv_evfile_open(&d->ev, d->cfg->event_log, why, n);
		if (rc)
			return rc;
		if (d->ev.note[0])
			dmn_log_at(d, LOG_WARNING, "%s", d->ev.note);
	}
	d->ev.on_line = on_line;
	d->ev.on_line_ud = d;
	/* Host names before any route: a full tunnel's default route
	 * would otherwise take the query into a tunnel not up yet. */
	if (d->cfg->role == JV_CFG_CLIENT) {
		rc = dmn_client_resolve(d, why, n);
		if (rc)
			return rc;
	}
	rc = jv_ctl_open(&d->ctl, &d->loop, d->cfg->control_socket, on_request,
			 d, why, n);
	if (rc)
		return rc;
	rc = dmn_metrics_open(d, why, n);
	if (rc)
		return rc;
	rc = jv_tunnel_up(&d->tun, d->cfg, warn_line, d, &err);
	if (rc) {
		snprintf(why, n, "%s", err.msg);
		return rc;
	}
	jv_tun_writer_init(&d->tw, d->tun.fd, d->tun.offload);
	rc = jv_loop_add(&d->loop, d->tun.fd, JV_LOOP_READ, on_tun, d);
	if (rc) {
		snprintf(why, n, "event loop: cannot watch the TUN device");
		return rc;
	}
	jv_loop_on_deadline(&d->loop, on_deadline, d);
	jv_loop_before_wait(&d->loop, before_wait, d);
	rc = jv_loop_watch_signals(&d->loop, on_signal, d);
	if (rc) {
		snprintf(why, n, "signalfd: %s", strerror(errno));
		return rc;
	}
	rc = d->cfg->role == JV_CFG_CLIENT ? dmn_client_start(d, why, n)
					   : dmn_gateway_start(d, why, n);
	if (rc)
		return rc;
	/* As wg-quick: DNS, then PostUp, once the device, its routes and
	 * the sockets are up.  A failing PostUp fails the start, and the
	 * teardown undoes everything (PreDown does not run then). */
	d->dns_applied = jv_dns_apply(d->cfg, d->tun.name, warn_line, d);
	rc = jv_hooks_post_up(d->cfg, d->tun.name, why, n);
	if (rc)
		return rc;
	d->hooks_up = true;
	return 0;
}

/* PreDown and resolvectl failures: the teardown goes on, but an
 * operator must see them. */
static void log_line(void *ud, const char *line)
{
	dmn_log_at(ud, LOG_WARNING, "%s", line);
}

static void teardown(struct jv_daemon *d)
{
	if (d->hooks_up)
		jv_hooks_pre_down(d->cfg, d->tun.name, log_line, d);
	d->hooks_up = false;
	if (d->dns_applied)
		jv_dns_revert(d->tun.name, log_line, d);
	d->dns_applied = false;
	if (d->client)
		dmn_client_close(d);
	if (d->gw)
		dmn_gateway_close(d);
	else
		dmn_store_close(d);	/* opened before the gateway was made */
	if (d->tun.fd >= 0 && d->loop_ok)
		(void)jv_loop_del(&d->loop, d->tun.fd);
	jv_tunnel_down(&d->tun);
	if (d->tun.del_failures)
		dmn_log_at(d, LOG_ERR, "teardown: %u route or rule deletes failed (first: %s)",
			d->tun.del_failures, d->tun.del_error);
	if (d->loop_ok)
		jv_ctl_close(&d->ctl);
	dmn_metrics_close(d);
	jv_evfile_close(&d->ev);
	if (d->loop_ok)
		jv_loop_close(&d->loop);
	free(d->out);
	free(d->rx);
	dmn_reload_free(d);
	dmn_status_free(d);
}

int jv_daemon_run(struct jv_config *cfg)
{
	struct jv_daemon *d = calloc(1, sizeof *d);
	char why[400] = "";
	int rc, code;

	if (!d) {
		fprintf(stderr, "%sjvpn up: out of memory\n",
			dmn_log_prefix(LOG_ERR));
		return JV_EXIT_SETUP;
	}
	d->cfg = cfg;
	/* Every descriptor -1 before anything opens: teardown runs on
	 * every failure of setup and closes only what was opened (a zeroed
	 * control connection would be descriptor 0). */
	d->tun.fd = -1;
	jv_ctl_none(&d->ctl);
	jv_evfile_none(&d->ev);
	d->started_ms = jv_clock_now();
	/* A peer that vanished must not kill us on a write to a socket. */
	signal(SIGPIPE, SIG_IGN);

	rc = setup(d, why, sizeof why);
	if (rc) {
		fprintf(stderr, "%sjvpn up: %s\n", dmn_log_prefix(LOG_ERR),
			why[0] ? why : jv_strerror(rc));
		teardown(d);
		free(d);
		return JV_EXIT_SETUP;
	}
	dmn_notify_init(jv_clock_now());
	dmn_notify_ready(d);
	rc = jv_loop_run(&d->loop);
	dmn_notify_stopping();
	if (rc) {
		dmn_log_at(d, LOG_ERR, "event loop failed: %s", strerror(errno));
		d->exit_code = JV_EXIT_SETUP;
	}
	dmn_flush(d);
	if (d->exit_code == JV_EXIT_SESSION_ENDED &&
	    !strcmp(d->end_reason, "peer_removed"))
		dmn_log_at(d, LOG_NOTICE, "session %s ended: the gateway removed this client's key from its config (peer_removed): exiting",
			   d->session_hex[0] ? d->session_hex : "-");
	else if (d->exit_code == JV_EXIT_SESSION_ENDED)
		dmn_log_at(d, LOG_NOTICE, "session %s ended (%s): exiting",
			d->session_hex[0] ? d->session_hex : "-",
			d->end_reason[0] ? d->end_reason : "terminated");
	dmn_log(d, "removing %s and its routes%s", d->tun.name,
		d->tun.nrules ? " and rules" : "");
	code = d->exit_code;
	teardown(d);
	free(d);
	return code;
}
