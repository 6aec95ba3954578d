/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAEMON_EVFILE_H
#define JVPN_DAEMON_EVFILE_H

/*
 * The daemon's event log: one JSONL file, one hash chain (PD-1).  A file
 * that already holds events is continued: the chain picks up at the last
 * line's seq + 1 and hash, so a restarted daemon appends to an unbroken
 * chain.
 *
 * Durability (docs/operations.md): every line is one write(2) with
 * O_APPEND, so a reader (`jvpn events --follow`, a crash) never sees half
 * a line; fdatasync(2) runs at once after SessionTerminated and at close,
 * and otherwise at most once per JV_EVFILE_SYNC_MS while lines are
 * pending (the loop asks jv_evfile_sync_deadline when to call).  A power
 * cut may thus lose up to one second of events, never the end of a
 * session, and what it loses shows as a truncated file, not a broken one.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jvpn/eventlog.h"
#include "jvpn/limits.h"

enum {
	JV_EVFILE_SYNC_MS = 1000,
	JV_EVFILE_PATH_MAX = 256,
	JV_EVFILE_HOLD_MAX = 4 << 20,	/* held bytes before writing through */
};

struct jv_evfile {
	int fd;				/* -1: no event log */
	char path[JV_EVFILE_PATH_MAX];
	struct jv_eventlog log;
	uint64_t size;			/* bytes in the file */
	bool dirty;			/* written since the last sync */
	jv_time last_sync_ms;
	uint64_t write_errors;
	int last_errno;
	/* Held lines (jv_evfile_hold): formatted and chained, not yet
	 * written.  A gateway with an ownership store holds its events until
	 * the records they describe are durable, so that a crash never
	 * leaves in the log a transition the store never saw (PD-9: the
	 * next owner would commit the same state_version again, INV-16). */
	bool hold;
	char *held;
	size_t nheld, capheld;
	uint64_t held_through;		/* lines written through a full hold */
	/* set by jv_evfile_open when it ended a line a crash had cut: one
	 * line for the daemon's log */
	char note[JV_EVFILE_PATH_MAX + 200];
	/* every line written, for `events --follow` subscribers */
	void (*on_line)(void *ud, const char *line, size_t len);
	void *on_line_ud;
};

/* No file: events are dropped (EventLog = off).  Always succeeds. */
void jv_evfile_none(struct jv_evfile *f);

/*
 * Open (create, mode 0640) or continue `path`; creates its directory
 * (mode 0750) when that alone is missing.  Returns 0, or JV_ERR_IO (why
 * gets "open /var/log/jvpn/x.jsonl: Permission denied"), JV_ERR_PARSE (the
 * file is not an event log: why names the file and the line; the file is
 * left alone).  A last line cut by a crash mid-write is ended with a
 * newline and the chain goes on from the line before: f->note says so.
 */
JV_MUST_CHECK int jv_evfile_open(struct jv_evfile *f, const char *path,
				 char *why, size_t why_len);

/* Serialize and append one event (never blocks on the reader, §8.4). */
void jv_evfile_append(struct jv_evfile *f, const struct jv_event_origin *o,
		      const struct jv_event *ev, jv_time now);

/* Hold lines from now on (true) or not; false writes what is held. */
void jv_evfile_hold(struct jv_evfile *f, bool hold);
/* Write what is held, keep holding. */
void jv_evfile_release(struct jv_evfile *f);

/* When the next periodic sync is due (JV_TIME_NEVER: nothing pending). */
jv_time jv_evfile_sync_deadline(const struct jv_evfile *f);

/* fdatasync if something is pending and (force or due). */
void jv_evfile_sync(struct jv_evfile *f, jv_time now, bool force);

/* Sync and close. */
void jv_evfile_close(struct jv_evfile *f);

#endif
