/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAEMON_NOTIFY_H
#define JVPN_DAEMON_NOTIFY_H

/*
 * Talking to systemd: the sd_notify protocol of a Type=notify service
 * (READY, STATUS, RELOADING, STOPPING, the watchdog) and journald's
 * priority prefixes on stderr.  Outside systemd (no NOTIFY_SOCKET, no
 * JOURNAL_STREAM) every call is a no-op and stderr keeps its plain lines.
 *
 * Process-wide state: one `jvpn up` is one daemon, and both the notify
 * socket and stderr belong to the process.
 */

#include <stdbool.h>

#include "jvpn/limits.h"

struct jv_daemon;

/* Read the watchdog interval (WATCHDOG_USEC, WATCHDOG_PID) once, before
 * the loop runs; `now` is jv_clock_now(). */
void dmn_notify_init(jv_time now);

/* READY=1 with a STATUS line: set-up is done (control socket answering,
 * TUN and sockets up).  Also after a reload. */
void dmn_notify_ready(const struct jv_daemon *d);
/* RELOADING=1 (with MONOTONIC_USEC): a reload starts; dmn_notify_ready
 * ends it. */
void dmn_notify_reloading(void);
/* STOPPING=1: on the way out, before the teardown. */
void dmn_notify_stopping(void);

/* A session changed state (from the event sink): the STATUS line is
 * rebuilt at the next dmn_notify_refresh, once per batch, never per
 * packet; a gateway's at most once a second (it counts every peer). */
void dmn_notify_session_changed(void);
/* Send STATUS=... if a session changed since the last one and the text
 * differs ("gateway jv0: 3 sessions, 2 attached, 5 peers", "client jv0:
 * ATTACHED on wifi"). */
void dmn_notify_refresh(const struct jv_daemon *d);

/* The watchdog rides on the loop's one deadline: the next ping is due at
 * half the interval after the previous one, so a loop that stops turning
 * stops pinging and systemd kills it.  A STATUS held back (a gateway's,
 * at most once a second) wakes the loop the same way.  JV_TIME_NEVER:
 * neither. */
jv_time dmn_notify_watchdog_deadline(void);
/* From the loop's deadline callback: WATCHDOG=1 if due. */
void dmn_notify_watchdog_tick(jv_time now);

/* journald: "<3>" .. "<7>" for syslog priorities LOG_ERR .. LOG_DEBUG
 * when stderr is the journal stream JOURNAL_STREAM names (device:inode,
 * as sd_journal_stream_fd(3) says to check), else "". */
const char *dmn_log_prefix(int prio);

#endif
