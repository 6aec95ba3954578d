/* SPDX-License-Identifier: MIT */
/*
 * sd_notify and journald priorities for `jvpn up` under systemd
 * (dist/systemd/jvpn@.service, Type=notify, WatchdogSec=).  libsystemd
 * does the protocol; this file decides when and what to say.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "daemon/daemon_impl.h"
#include "daemon/notify.h"

#include "net/clock.h"

/* A gateway's STATUS line counts every peer's session: with 10 000 of
 * them it is rebuilt at most once a second, not after every batch of
 * events (D-032); a change held back is sent when the second is over. */
enum { NT_STATUS_EVERY_MS = 1000 };

static struct {
	jv_time wd_half_ms;		/* 0: no watchdog */
	jv_time wd_next;
	bool changed;
	bool held;			/* changed, waiting for status_next */
	jv_time status_next;		/* gateway: next rebuild allowed */
	char status[160];		/* last STATUS sent */
} nt;

void dmn_notify_init(jv_time now)
{
	uint64_t usec = 0;

	nt.wd_half_ms = 0;
	nt.changed = true;
	nt.held = false;
	nt.status_next = 0;
	nt.status[0] = '\0';
	/* > 0: enabled for this process (WATCHDOG_PID, if set, is ours) */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000) {
		nt.wd_half_ms = (jv_time)(usec / 2000);
		nt.wd_next = now + nt.wd_half_ms;
	}
}

static void status_line(const struct jv_daemon *d, char *buf, size_t n)
{
	if (d->client) {
		struct jv_session_status st;

		jv_client_status(d->client, &st);
		if (st.bound[0])
			snprintf(buf, n, "client %s: %s on %s", d->tun.name,
				 jv_state_name(st.state), st.bound);
		else
			snprintf(buf, n, "client %s: %s", d->tun.name,
				 st.session_id[0] ? jv_state_name(st.state) :
				 "handshaking");
		return;
	}
	unsigned live = 0, attached = 0, peers = 0;

	for (unsigned p = 0; d->gw && p < d->cfg->npeers; p++) {
		struct jv_session_status st;

		if (d->cfg->peers[p].removed)
			continue;	/* a reload's hole (reload.h) */
		peers++;
		if (jv_gateway_status(d->gw, p, &st))
			continue;
		if (st.state == JV_STATE_TERMINATED)
			continue;
		live++;
		attached += st.state == JV_STATE_ATTACHED;
	}
	snprintf(buf, n, "gateway %s: %u session%s, %u attached, %u peer%s",
		 d->tun.name, live, live == 1 ? "" : "s", attached,
		 peers, peers == 1 ? "" : "s");
}

void dmn_notify_ready(const struct jv_daemon *d)
{
	status_line(d, nt.status, sizeof nt.status);
	nt.changed = false;
	(void)sd_notifyf(0, "READY=1\nSTATUS=%s", nt.status);
}

void dmn_notify_reloading(void)
{
	struct timespec ts;

	/* systemd >= 253 wants the monotonic time with RELOADING=1 */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	(void)sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
			 (unsigned long long)ts.tv_sec * 1000000ULL +
			 (unsigned long long)ts.tv_nsec / 1000);
}

void dmn_notify_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1");
}

void dmn_notify_session_changed(void)
{
	nt.changed = true;
}

void dmn_notify_refresh(const struct jv_daemon *d)
{
	char s[sizeof nt.status];
	jv_time now;

	if (!nt.changed)
		return;
	if (d->gw) {
		now = jv_clock_now();
		if (now < nt.status_next) {
			nt.held = true;
			return;
		}
		nt.status_next = now + NT_STATUS_EVERY_MS;
	}
	nt.changed = false;
	nt.held = false;
	status_line(d, s, sizeof s);
	if (!strcmp(s, nt.status))
		return;
	memcpy(nt.status, s, sizeof s);
	(void)sd_notifyf(0, "STATUS=%s", s);
}

jv_time dmn_notify_watchdog_deadline(void)
{
	jv_time t = nt.wd_half_ms ? nt.wd_next : JV_TIME_NEVER;

	return nt.held && nt.status_next < t ? nt.status_next : t;
}

void dmn_notify_watchdog_tick(jv_time now)
{
	if (!nt.wd_half_ms || now < nt.wd_next)
		return;
	(void)sd_notify(0, "WATCHDOG=1");
	nt.wd_next = now + nt.wd_half_ms;
}

/* 1: stderr is the journal stream; 0: not; -1: not checked yet. */
static int journal_stderr = -1;

static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (!e || sscanf(e, "%llu:%llu%c", &dev, &ino, &end) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st))
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

const char *dmn_log_prefix(int prio)
{
	static const char *const pfx[] = {
		[LOG_EMERG] = "<0>", [LOG_ALERT] = "<1>", [LOG_CRIT] = "<2>",
		[LOG_ERR] = "<3>", [LOG_WARNING] = "<4>", [LOG_NOTICE] = "<5>",
		[LOG_INFO] = "<6>", [LOG_DEBUG] = "<7>",
	};

	if (journal_stderr < 0)
		journal_stderr = stderr_is_journal();
	if (!journal_stderr || prio < LOG_EMERG || prio > LOG_DEBUG)
		return "";
	return pfx[prio];
}
