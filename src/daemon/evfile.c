/* SPDX-License-Identifier: MIT */
/* The event log file: append, continue the chain, sync (see evfile.h). */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/evfile.h"

/* One write(2) for len bytes (a short write to a regular file only
 * happens on a full disk): with O_APPEND a reader never sees a torn line. */
static int write_all(struct jv_evfile *f, const char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(f->fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			f->write_errors++;
			f->last_errno = n < 0 ? errno : ENOSPC;
			return -1;
		}
		done += (size_t)n;
	}
	f->size += len;
	f->dirty = true;
	return 0;
}

static bool hold_line(struct jv_evfile *f, const char *line, size_t len)
{
	if (f->nheld + len > JV_EVFILE_HOLD_MAX) {
		/* Past the bound the log wins over the ordering: write what
		 * is held and this line at once. */
		f->held_through++;
		return false;
	}
	if (f->nheld + len > f->capheld) {
		size_t cap = f->capheld ? 2 * f->capheld : 16384;
		char *p;

		while (cap < f->nheld + len)
			cap *= 2;
		p = realloc(f->held, cap);
		if (!p)
			return false;
		f->held = p;
		f->capheld = cap;
	}
	memcpy(f->held + f->nheld, line, len);
	f->nheld += len;
	return true;
}

void jv_evfile_release(struct jv_evfile *f)
{
	size_t start = 0;

	if (!f->nheld)
		return;
	if (f->fd >= 0)
		(void)write_all(f, f->held, f->nheld);
	/* Subscribers see lines when they are in the file, one at a time. */
	while (f->on_line && start < f->nheld) {
		const char *nl = memchr(f->held + start, '\n', f->nheld - start);
		size_t n = nl ? (size_t)(nl - (f->held + start)) + 1
			      : f->nheld - start;

		f->on_line(f->on_line_ud, f->held + start, n);
		start += n;
	}
	f->nheld = 0;
}

void jv_evfile_hold(struct jv_evfile *f, bool hold)
{
	if (!hold)
		jv_evfile_release(f);
	f->hold = hold;
}

static int sink_write(void *ud, const char *line, size_t len)
{
	struct jv_evfile *f = ud;

	if (f->fd < 0)
		return -1;
	if (f->hold) {
		if (hold_line(f, line, len))
			return 0;
		jv_evfile_release(f);
	}
	if (write_all(f, line, len) < 0)
		return -1;
	if (f->on_line)
		f->on_line(f->on_line_ud, line, len);
	return 0;
}

void jv_evfile_none(struct jv_evfile *f)
{
	memset(f, 0, sizeof *f);
	f->fd = -1;
	jv_eventlog_init(&f->log, (struct jv_sink){ .write = sink_write,
						    .ud = f });
}

/* Lines that end before byte `upto` (1 + this: the line number of the
 * line that starts there).  Only for messages: it reads the file. */
static uint64_t lines_before(int fd, uint64_t upto)
{
	char buf[65536];
	uint64_t off = 0, lines = 0;

	while (off < upto) {
		size_t want = upto - off < sizeof buf ? (size_t)(upto - off)
						      : sizeof buf;
		ssize_t n = pread(fd, buf, want, (off_t)off);

		if (n <= 0)
			break;
		for (const char *p = buf; (p = memchr(p, '\n',
				(size_t)(buf + n - p))) != NULL; p++)
			lines++;
		off += (uint64_t)n;
	}
	return lines;
}

/* Does the line look like the start of an event line (what a crash
 * leaves when it cuts one)? */
static bool event_like(const char *line, size_t len)
{
	return len >= 2 && line[0] == '{' && line[1] == '"';
}

/*
 * Pick up the chain from the last line of the file's first `end` bytes
 * (end: just after a newline): seq + 1 and its hash.  A last line that
 * does not parse but starts like an event (`cut`: one a crash cut and a
 * restart ended) is a link the audit steps over (jv_chain_check_line):
 * the chain goes on through it, from the event before it.
 */
static int chain_from(struct jv_evfile *f, int fd, uint64_t end, bool cut,
		      char *why, size_t why_len)
{
	char buf[JV_EVENT_LINE_MAX + 2];
	size_t want = end < sizeof buf ? (size_t)end : sizeof buf;
	ssize_t n = pread(fd, buf, want, (off_t)(end - want));
	const char *start, *last;
	uint64_t at;
	json_t *j, *seq;
	json_error_t jerr;
	int rc;

	if (n != (ssize_t)want) {
		snprintf(why, why_len, "%s: cannot read the last line: %s",
			 f->path, n < 0 ? strerror(errno) : "short read");
		return JV_ERR_IO;
	}
	last = buf + want - 1;
	start = last;
	while (start > buf && start[-1] != '\n')
		start--;
	at = end - want + (uint64_t)(start - buf);	/* the line's offset */
	if (start == buf && want == sizeof buf) {
		snprintf(why, why_len,
			 "%s:%llu: the last line is longer than an event line can be: not an event log? move the file away",
			 f->path, (unsigned long long)lines_before(fd, end));
		return JV_ERR_PARSE;
	}
	j = json_loadb(start, (size_t)(last - start), 0, &jerr);
	seq = j ? json_object_get(j, "seq") : NULL;
	if (json_is_integer(seq) && json_integer_value(seq) >= 0) {
		f->log.seq = (uint64_t)json_integer_value(seq) + 1;
		json_decref(j);
	} else {
		json_decref(j);
		if (!cut || !event_like(start, (size_t)(last - start))) {
			snprintf(why, why_len,
				 "%s:%llu: not an event line (one JSON event with a seq per line): not an event log? move the file away to start a new chain",
				 f->path, (unsigned long long)lines_before(fd, end));
			return JV_ERR_PARSE;
		}
		if (at) {
			rc = chain_from(f, fd, at, false, why, why_len);
			if (rc)
				return rc;
		}
		f->log.seq++;		/* the cut event's seq was taken */
		if (!f->note[0])
			snprintf(f->note, sizeof f->note,
				 "event log %s: line %llu is an event a crash cut short: the chain goes on through it (jvpn audit reports it)",
				 f->path,
				 (unsigned long long)lines_before(fd, end));
	}
	jv_eventlog_hash(start, (size_t)(last - start), f->log.prev_hash);
	return 0;
}

/*
 * Continue the chain of a file of `size` bytes.  A last line without its
 * newline is what a crash in the middle of a write leaves (a full disk:
 * docs/operations.md): when it starts like an event line and the line
 * before it is an event, it is ended with a newline, left for the audit
 * to report, and the chain goes on through it (f->note says so).
 * Anything else is not ours to touch.
 */
static int continue_chain(struct jv_evfile *f, int fd, uint64_t *size,
			  char *why, size_t why_len)
{
	char tail[JV_EVENT_LINE_MAX + 2];
	size_t want = *size < sizeof tail ? (size_t)*size : sizeof tail;
	ssize_t n = pread(fd, tail, want, (off_t)(*size - want));
	const char *nl;
	uint64_t end, line;
	int rc;

	if (n != (ssize_t)want) {
		snprintf(why, why_len, "%s: cannot read the last line: %s",
			 f->path, n < 0 ? strerror(errno) : "short read");
		return JV_ERR_IO;
	}
	if (tail[want - 1] == '\n')
		return chain_from(f, fd, *size, true, why, why_len);
	/* the cut line: from the last newline (if any) to the end */
	nl = memrchr(tail, '\n', want);
	end = nl ? *size - want + (uint64_t)(nl - tail) + 1 : 0;
	line = lines_before(fd, end) + 1;
	if ((!nl && want < *size) ||
	    !event_like(tail + (want - (size_t)(*size - end)),
			(size_t)(*size - end))) {
		snprintf(why, why_len,
			 "%s:%llu: not an event line, and no newline at the end of the file: not an event log? move the file away",
			 f->path, (unsigned long long)line);
		return JV_ERR_PARSE;
	}
	/* the line before must be an event: check before writing */
	if (end) {
		rc = chain_from(f, fd, end, false, why, why_len);
		if (rc)
			return rc;
	}
	if (write(fd, "\n", 1) != 1) {
		snprintf(why, why_len, "%s:%llu: the last line was cut (a crash mid-write) and cannot be ended: %s",
			 f->path, (unsigned long long)line, strerror(errno));
		return JV_ERR_IO;
	}
	*size += 1;
	snprintf(f->note, sizeof f->note,
		 "event log %s: line %llu was cut by a crash mid-write (%llu bytes, no newline): ended it with a newline; the chain goes on through it (jvpn audit reports it)",
		 f->path, (unsigned long long)line,
		 (unsigned long long)(*size - 1 - end));
	return chain_from(f, fd, *size, true, why, why_len);
}

int jv_evfile_open(struct jv_evfile *f, const char *path, char *why,
		   size_t why_len)
{
	char dir[JV_EVFILE_PATH_MAX];
	struct stat st;
	int fd, rc;

	jv_evfile_none(f);
	if (strlen(path) >= sizeof f->path) {
		snprintf(why, why_len, "event log path too long: %s", path);
		return JV_ERR_IO;
	}
	snprintf(f->path, sizeof f->path, "%s", path);
	snprintf(dir, sizeof dir, "%s", path);
	/* Only the last directory: a missing /var/log is a broken system,
	 * not ours to fix. */
	if (mkdir(dirname(dir), 0750) < 0 && errno != EEXIST) {
		snprintf(why, why_len, "event log directory %s: %s", dir,
			 strerror(errno));
		return JV_ERR_IO;
	}
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		  0640);
	if (fd < 0) {
		snprintf(why, why_len, "event log %s: %s%s", path,
			 strerror(errno),
			 errno == EACCES || errno == EPERM ? " (are you root?)" : "");
		return JV_ERR_IO;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "event log %s: not a regular file", path);
		close(fd);
		return JV_ERR_IO;
	}
	f->size = (uint64_t)st.st_size;
	if (f->size > 0) {
		rc = continue_chain(f, fd, &f->size, why, why_len);
		if (rc) {
			close(fd);
			return rc;
		}
	}
	f->fd = fd;
	return 0;
}

void jv_evfile_append(struct jv_evfile *f, const struct jv_event_origin *o,
		      const struct jv_event *ev, jv_time now)
{
	if (f->fd < 0)
		return;
	jv_eventlog_append(&f->log, o, ev);
	/* The end of a session is what an audit must never miss. */
	if (ev->type == JV_EV_SESSION_TERMINATED && !f->hold)
		jv_evfile_sync(f, now, true);
}

jv_time jv_evfile_sync_deadline(const struct jv_evfile *f)
{
	if (f->fd < 0 || !f->dirty)
		return JV_TIME_NEVER;
	return f->last_sync_ms + JV_EVFILE_SYNC_MS;
}

void jv_evfile_sync(struct jv_evfile *f, jv_time now, bool force)
{
	if (f->fd < 0 || !f->dirty)
		return;
	if (!force && now < f->last_sync_ms + JV_EVFILE_SYNC_MS)
		return;
	if (fdatasync(f->fd) < 0) {
		f->write_errors++;
		f->last_errno = errno;
	}
	f->dirty = false;
	f->last_sync_ms = now;
}

void jv_evfile_close(struct jv_evfile *f)
{
	jv_evfile_release(f);
	free(f->held);
	f->held = NULL;
	f->capheld = 0;
	if (f->fd < 0)
		return;
	if (f->dirty && fdatasync(f->fd) < 0)
		f->write_errors++;
	close(f->fd);
	f->fd = -1;
	f->dirty = false;
}
