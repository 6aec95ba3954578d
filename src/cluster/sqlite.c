/* SPDX-License-Identifier: MIT */
/*
 * The embedded ownership store (store.h, "sqlite:PATH"): one gateway, one
 * SQLite file in WAL mode with synchronous=FULL, so a put is on disk
 * before it is reported OK.
 *
 * The lease is the process: an flock on PATH.lock keeps a second jvpn off
 * the file, so while the store is open nobody else can own a record and
 * the lease never expires (JV_TIME_NEVER).  A record counts as live
 * (owner_live) only when this very open wrote its current revision: every
 * open draws a random incarnation id and stamps it on what it writes, so
 * after a restart every record reads as owned by a dead process and the
 * engine re-acquires it with owner_epoch + 1 (PD-9).
 *
 * Writes run at the call, inside one transaction that the next delivery
 * commits before it reports anything: one fsync per delivery round
 * however many writes it holds (D-035: a mass failover or a restart
 * writes one record per session, and an fsync each, about a millisecond,
 * held the loop for seconds), and still no put is reported OK before it
 * is on disk.  Their results wait in a queue.  A get runs when it is
 * delivered, after that commit, which still falls between the call and
 * the completion, so every operation takes effect at one point inside its
 * own interval.
 */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "cluster/store_impl.h"
#include "cluster/why.h"
#include "net/clock.h"

enum {
	SQ_SCHEMA_VERSION = 1,
	SQ_INCARNATION_BYTES = 16,
	/* Only an operator's sqlite3 shell can hold the file's lock besides
	 * us (the flock keeps other jvpn processes out); a write waits no
	 * longer than this for it. */
	SQ_BUSY_TIMEOUT_MS = 100,
	/* Store errors go to stderr; a store that went bad fails every get,
	 * so past this many lines the rest are not printed. */
	SQ_COMPLAINTS_MAX = 8,
	SQ_LOCK_PATH_MAX = JV_STORE_PATH_MAX + sizeof ".lock",
};

enum sq_kind { SQ_GET, SQ_PUT };

/* One queued completion.  A put or del already ran and carries its
 * result; a get carries its key and runs when delivered, so the queue
 * holds no record bodies. */
struct sq_done {
	enum sq_kind kind;
	enum jv_store_status status;
	bool batched;		/* ran inside the open transaction */
	uint32_t index;
	uint64_t revision;
	union {
		jv_store_get_fn get;
		jv_store_put_fn put;
	} fn;
	void *ud;
};

struct sq_store {
	struct jv_store base;
	sqlite3 *db;
	sqlite3_stmt *get, *insert, *update, *del, *exists;
	int lock_fd;
	char path[JV_STORE_PATH_MAX];
	uint8_t incarnation[SQ_INCARNATION_BYTES];
	jv_store_lease_fn on_lease;
	void *ud;
	bool lease_told;
	bool delivering;
	bool closing;		/* closed from a callback: freed once the
				 * delivery loop unwinds */
	bool in_tx;		/* writes since the last delivery, uncommitted */
	unsigned complaints;
	struct sq_done *q;	/* ring of JV_STORE_INFLIGHT_MAX */
	size_t head, count;
};

static const char schema_sql[] =
	"CREATE TABLE meta("
	" key TEXT PRIMARY KEY NOT NULL,"
	" value INTEGER NOT NULL);"
	"CREATE TABLE sessions("
	" session_id BLOB PRIMARY KEY NOT NULL,"
	" receiver_index INTEGER NOT NULL UNIQUE,"
	" owner_node TEXT NOT NULL,"
	" owner_epoch INTEGER NOT NULL,"
	" state_version INTEGER NOT NULL,"
	" revision INTEGER NOT NULL,"
	/* the incarnation of the open that wrote this revision */
	" writer BLOB,"
	" blob BLOB NOT NULL);";

static void complain(struct sq_store *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void complain(struct sq_store *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (s->complaints > SQ_COMPLAINTS_MAX)
		return;
	if (s->complaints++ == SQ_COMPLAINTS_MAX) {
		fprintf(stderr, "jvpn store sqlite:%s: further errors not shown\n",
			s->path);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "jvpn store sqlite:%s: %s\n", s->path, msg);
}

static void destroy(struct sq_store *s)
{
	/* Writes whose results are cancelled land all the same, as they
	 * would have one by one. */
	if (s->in_tx)
		(void)sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	sqlite3_finalize(s->get);
	sqlite3_finalize(s->insert);
	sqlite3_finalize(s->update);
	sqlite3_finalize(s->del);
	sqlite3_finalize(s->exists);
	/* Closing the last connection checkpoints the WAL into the file. */
	sqlite3_close_v2(s->db);
	/* Released last, so the next process finds the file at rest. */
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->q);
	free(s);
}

/* SQLite's integers are signed 64-bit; the unsigned fields round-trip
 * through them bit for bit. */
static sqlite3_int64 to_i64(uint64_t v)
{
	sqlite3_int64 r;

	memcpy(&r, &v, sizeof r);
	return r;
}

static uint64_t from_i64(sqlite3_int64 v)
{
	uint64_t r;

	memcpy(&r, &v, sizeof r);
	return r;
}

static enum jv_store_status step_failed(struct sq_store *s, int rc,
					const char *what)
{
	complain(s, "%s: %s", what, sqlite3_errmsg(s->db));
	if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB)
		return JV_STORE_CORRUPT;
	return JV_STORE_UNAVAILABLE;
}

static void done_with(sqlite3_stmt *q)
{
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

/* ---- reading a record ---- */

static bool col_is(sqlite3_stmt *q, int col, int type)
{
	return sqlite3_column_type(q, col) == type;
}

/* Every column is checked before use: the file may have been edited by
 * hand or damaged in a way quick_check did not see. */
static const char *decode(struct sq_store *s, sqlite3_stmt *q, uint32_t index,
			  struct jv_store_rec *rec)
{
	const void *p;
	int n;

	if (!col_is(q, 0, SQLITE_BLOB) ||
	    sqlite3_column_bytes(q, 0) != JV_SESSION_ID_BYTES)
		return "session_id is not 16 bytes";
	memcpy(rec->session_id, sqlite3_column_blob(q, 0), JV_SESSION_ID_BYTES);
	rec->receiver_index = index;

	if (!col_is(q, 1, SQLITE_TEXT))
		return "owner_node is not text";
	p = sqlite3_column_text(q, 1);
	n = sqlite3_column_bytes(q, 1);
	if (!p || n < 1 || n >= JV_NODE_ID_MAX || memchr(p, '\0', (size_t)n))
		return "owner_node is empty, too long or holds a NUL";
	memcpy(rec->owner_node, p, (size_t)n);
	rec->owner_node[n] = '\0';

	if (!col_is(q, 2, SQLITE_INTEGER) || !col_is(q, 3, SQLITE_INTEGER) ||
	    !col_is(q, 4, SQLITE_INTEGER))
		return "owner_epoch, state_version or revision is not an integer";
	rec->owner_epoch = from_i64(sqlite3_column_int64(q, 2));
	rec->state_version = from_i64(sqlite3_column_int64(q, 3));
	if (sqlite3_column_int64(q, 4) < 1)
		return "revision is below 1";
	rec->revision = (uint64_t)sqlite3_column_int64(q, 4);

	rec->owner_live = col_is(q, 5, SQLITE_BLOB) &&
			  sqlite3_column_bytes(q, 5) == SQ_INCARNATION_BYTES &&
			  !memcmp(sqlite3_column_blob(q, 5), s->incarnation,
				  SQ_INCARNATION_BYTES);

	if (!col_is(q, 6, SQLITE_BLOB))
		return "blob is not a blob";
	n = sqlite3_column_bytes(q, 6);
	if (n > JV_STORE_BLOB_MAX)
		return "blob is longer than JV_STORE_BLOB_MAX";
	rec->len = (size_t)n;
	if (n)
		memcpy(rec->blob, sqlite3_column_blob(q, 6), (size_t)n);
	return NULL;
}

static enum jv_store_status read_rec(struct sq_store *s, uint32_t index,
				     struct jv_store_rec *rec)
{
	enum jv_store_status status;
	const char *bad;
	int rc;

	sqlite3_bind_int64(s->get, 1, index);
	rc = sqlite3_step(s->get);
	if (rc == SQLITE_ROW) {
		bad = decode(s, s->get, index, rec);
		status = bad ? JV_STORE_CORRUPT : JV_STORE_OK;
		if (bad)
			complain(s, "record of receiver index %u: %s", index,
				 bad);
	} else if (rc == SQLITE_DONE) {
		status = JV_STORE_NOTFOUND;
	} else {
		status = step_failed(s, rc, "get");
	}
	done_with(s->get);
	return status;
}

/* ---- writing ---- */

static enum jv_store_status write_rec(struct sq_store *s,
				      const struct jv_store_rec *rec,
				      uint64_t expected, uint64_t *revision)
{
	sqlite3_stmt *q = expected ? s->update : s->insert;
	int rc, changes;

	sqlite3_bind_blob(q, 1, rec->session_id, JV_SESSION_ID_BYTES,
			  SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, rec->receiver_index);
	sqlite3_bind_text(q, 3, rec->owner_node, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, to_i64(rec->owner_epoch));
	sqlite3_bind_int64(q, 5, to_i64(rec->state_version));
	sqlite3_bind_blob(q, 6, s->incarnation, SQ_INCARNATION_BYTES,
			  SQLITE_STATIC);
	/* Never a NULL pointer: SQLite would store NULL, not an empty blob. */
	sqlite3_bind_blob(q, 7, rec->blob, (int)rec->len, SQLITE_STATIC);
	if (expected)
		sqlite3_bind_int64(q, 8, to_i64(expected));
	rc = sqlite3_step(q);
	changes = sqlite3_changes(s->db);
	done_with(q);
	if (rc == SQLITE_DONE && changes == 1) {
		*revision = expected + 1;
		return JV_STORE_OK;
	}
	/* No row at that revision, the session exists already (insert), or
	 * its receiver index belongs to another session: CAS failed. */
	if (rc == SQLITE_DONE || (rc & 0xff) == SQLITE_CONSTRAINT)
		return JV_STORE_CONFLICT;
	return step_failed(s, rc, "put");
}

static enum jv_store_status delete_rec(struct sq_store *s,
				       const uint8_t id[JV_SESSION_ID_BYTES],
				       uint64_t expected)
{
	enum jv_store_status status;
	int rc, changes;

	sqlite3_bind_blob(s->del, 1, id, JV_SESSION_ID_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(s->del, 2, to_i64(expected));
	rc = sqlite3_step(s->del);
	changes = sqlite3_changes(s->db);
	done_with(s->del);
	if (rc != SQLITE_DONE)
		return step_failed(s, rc, "del");
	if (changes == 1)
		return JV_STORE_OK;
	sqlite3_bind_blob(s->exists, 1, id, JV_SESSION_ID_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(s->exists);
	if (rc == SQLITE_ROW)
		status = JV_STORE_CONFLICT;
	else if (rc == SQLITE_DONE)
		status = JV_STORE_NOTFOUND;
	else
		status = step_failed(s, rc, "del");
	done_with(s->exists);
	return status;
}

/* ---- the queue ---- */

static struct sq_done *push(struct sq_store *s, enum sq_kind kind, void *ud)
{
	struct sq_done *d;

	if (s->count == JV_STORE_INFLIGHT_MAX)
		return NULL;
	d = &s->q[(s->head + s->count) % JV_STORE_INFLIGHT_MAX];
	s->count++;
	memset(d, 0, sizeof *d);
	d->kind = kind;
	d->ud = ud;
	return d;
}

/* The writes of this round, made durable together before any of them is
 * reported; if the commit fails none of them happened. */
static void commit(struct sq_store *s)
{
	size_t i;

	if (!s->in_tx)
		return;
	s->in_tx = false;
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return;
	complain(s, "commit: %s", sqlite3_errmsg(s->db));
	(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	for (i = 0; i < s->count; i++) {
		struct sq_done *d = &s->q[(s->head + i) % JV_STORE_INFLIGHT_MAX];

		if (d->batched && d->status == JV_STORE_OK) {
			d->status = JV_STORE_UNAVAILABLE;
			d->revision = 0;
		}
	}
}

static int deliver(struct sq_store *s)
{
	struct jv_store_rec rec;
	struct sq_done d;
	size_t n;
	int delivered = 0;

	/* A callback that polls again gets nothing: completions stay in
	 * order and none runs inside another. */
	if (s->delivering)
		return 0;
	commit(s);
	s->delivering = true;
	if (!s->lease_told) {
		s->lease_told = true;
		s->on_lease(s->ud, JV_TIME_NEVER);
	}
	/* Only what was queued before this round: an operation a callback
	 * starts completes on the next one, never inside its starter. */
	for (n = s->count; n && !s->closing; n--) {
		d = s->q[s->head];
		s->head = (s->head + 1) % JV_STORE_INFLIGHT_MAX;
		s->count--;
		if (d.kind == SQ_GET) {
			memset(&rec, 0, sizeof rec);
			d.status = read_rec(s, d.index, &rec);
			d.fn.get(d.ud, d.status,
				 d.status == JV_STORE_OK ? &rec : NULL);
		} else {
			d.fn.put(d.ud, d.status, d.revision);
		}
		delivered++;
	}
	s->delivering = false;
	if (s->closing)
		destroy(s);
	return delivered;
}

/* ---- ops ---- */

static int sq_get(struct jv_store *st, uint32_t index, jv_store_get_fn fn,
		  void *ud)
{
	struct sq_done *d = push((struct sq_store *)st, SQ_GET, ud);

	if (!d)
		return JV_ERR_LIMIT;
	d->index = index;
	d->fn.get = fn;
	return 0;
}

/* A put (rec) or a del (id): it runs now, if there is room to queue
 * its result. */
static int write_op(struct jv_store *st, const struct jv_store_rec *rec,
		    const uint8_t *id, uint64_t expected, jv_store_put_fn fn,
		    void *ud)
{
	struct sq_store *s = (struct sq_store *)st;
	struct sq_done *d = push(s, SQ_PUT, ud);

	if (!d)
		return JV_ERR_LIMIT;
	d->fn.put = fn;
	/* Without the write lock (an operator's sqlite3 shell holds it) the
	 * write runs on its own, as a transaction of its own. */
	if (!s->in_tx &&
	    sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK)
		s->in_tx = true;
	d->batched = s->in_tx;
	d->status = rec ? write_rec(s, rec, expected, &d->revision)
			: delete_rec(s, id, expected);
	return 0;
}

static int sq_put(struct jv_store *st, const struct jv_store_rec *rec,
		  uint64_t expected, jv_store_put_fn fn, void *ud)
{
	return write_op(st, rec, NULL, expected, fn, ud);
}

static int sq_del(struct jv_store *st, const uint8_t id[JV_SESSION_ID_BYTES],
		  uint64_t expected, jv_store_put_fn fn, void *ud)
{
	return write_op(st, NULL, id, expected, fn, ud);
}

static jv_time sq_deadline(const struct jv_store *st)
{
	const struct sq_store *s = (const struct sq_store *)st;

	return !s->lease_told || s->count ? jv_clock_now() : JV_TIME_NEVER;
}

static void sq_tick(struct jv_store *st, jv_time now)
{
	(void)now;
	deliver((struct sq_store *)st);
}

/* Nothing here waits on anything but a new call, so there is nothing to
 * wait for: deliver what is queued and return at once. */
static int sq_poll(struct jv_store *st, int timeout_ms)
{
	(void)timeout_ms;
	return deliver((struct sq_store *)st);
}

static void sq_close(struct jv_store *st)
{
	struct sq_store *s = (struct sq_store *)st;

	if (s->delivering)
		s->closing = true;
	else
		destroy(s);
}

static const struct jv_store_ops sq_ops = {
	.get = sq_get,
	.put = sq_put,
	.del = sq_del,
	.deadline = sq_deadline,
	.tick = sq_tick,
	.poll = sq_poll,
	.close = sq_close,
};

/* ---- open ---- */

/* The flock is on a file of its own, not on the database: SQLite takes
 * and drops POSIX locks on the database as it goes, and closing any
 * descriptor of that file would drop ours with them. */
static bool take_lock(struct sq_store *s, char *why, size_t why_len)
{
	char lock[SQ_LOCK_PATH_MAX], pid[32];
	ssize_t n;
	int len;

	snprintf(lock, sizeof lock, "%s.lock", s->path);
	s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			  0600);
	if (s->lock_fd < 0) {
		jv_why(why, why_len, -1, "sqlite:%s: lock file %s: %s", s->path,
		       lock, strerror(errno));
		return false;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			jv_why(why, why_len, -1, "sqlite:%s: lock %s: %s",
			       s->path, lock, strerror(errno));
			return false;
		}
		n = pread(s->lock_fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		jv_why(why, why_len, -1,
		       "sqlite:%s: in use by another jvpn process (pid %s)",
		       s->path, pid[0] ? pid : "unknown");
		return false;
	}
	/* The pid is for the operator's message only; the lock is the
	 * flock, which the kernel drops when this process dies. */
	len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(s->lock_fd, 0) < 0 ||
	    pwrite(s->lock_fd, pid, (size_t)len, 0) != len) {
		jv_why(why, why_len, -1, "sqlite:%s: lock file %s: %s", s->path,
		       lock, strerror(errno));
		return false;
	}
	return true;
}

/* Create the directory (0700, only the last level: a missing /var/lib is
 * not ours to fix) and the file (0600) ourselves: SQLite would create
 * the file 0644 under the usual umask, and the WAL and shm files take the
 * database file's mode. */
static bool make_dir(struct sq_store *s, char *why, size_t why_len)
{
	char dir[JV_STORE_PATH_MAX];

	snprintf(dir, sizeof dir, "%s", s->path);
	if (mkdir(dirname(dir), 0700) < 0 && errno != EEXIST) {
		jv_why(why, why_len, -1, "sqlite:%s: directory %s: %s", s->path,
		       dir, strerror(errno));
		return false;
	}
	return true;
}

static bool make_file(struct sq_store *s, char *why, size_t why_len)
{
	struct stat sb;
	int fd;

	fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		jv_why(why, why_len, -1, "sqlite:%s: %s", s->path,
		       strerror(errno));
		return false;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		jv_why(why, why_len, -1, "sqlite:%s: not a regular file",
		       s->path);
		close(fd);
		return false;
	}
	if ((sb.st_mode & 077) && fchmod(fd, 0600) < 0) {
		jv_why(why, why_len, -1, "sqlite:%s: chmod 600: %s", s->path,
		       strerror(errno));
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

static bool exec(struct sq_store *s, const char *sql, char *why,
		 size_t why_len)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return true;
	jv_why(why, why_len, -1, "sqlite:%s: %s", s->path,
	       sqlite3_errmsg(s->db));
	return false;
}

/* Run a one-column pragma or query and copy its first row's text.
 * Returns the SQLite code of the step (SQLITE_ROW when a row came). */
static int query_text(struct sq_store *s, const char *sql, char *out,
		      size_t out_len, bool *more)
{
	sqlite3_stmt *q = NULL;
	const unsigned char *t;
	int rc;

	out[0] = '\0';
	rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		t = sqlite3_column_text(q, 0);
		snprintf(out, out_len, "%s", t ? (const char *)t : "");
		if (more)
			*more = sqlite3_step(q) == SQLITE_ROW;
	}
	sqlite3_finalize(q);
	return rc;
}

/* quick_check's first row lists problems one a line, under a header
 * naming the database: keep the first problem, cut to a short line. */
static const char *first_problem(char *row)
{
	static const char header[] = "*** in database main ***\n";
	char *p = row;

	if (!strncmp(p, header, sizeof header - 1))
		p += sizeof header - 1;
	p[strcspn(p, "\n")] = '\0';
	if (strlen(p) > 100)
		p[100] = '\0';
	return p;
}

/* quick_check reads every page once (O(file size)): a damaged file must
 * stop the gateway at start with a clear line, not fail one get at a time
 * later. */
static bool check_file(struct sq_store *s, char *why, size_t why_len)
{
	char row[256];
	bool more = false;
	int rc = query_text(s, "PRAGMA quick_check", row, sizeof row, &more);

	if (rc != SQLITE_ROW) {
		jv_why(why, why_len, -1, "sqlite:%s: %s", s->path,
		       sqlite3_errmsg(s->db));
		return false;
	}
	if (strcmp(row, "ok") || more) {
		jv_why(why, why_len, -1,
		       "sqlite:%s: database disk image is damaged (quick_check: %s); restore a backup or move the file away",
		       s->path, first_problem(row));
		return false;
	}
	return true;
}

static bool check_schema(struct sq_store *s, char *why, size_t why_len)
{
	char text[64];
	long long version;
	int rc;

	if (!exec(s, "BEGIN IMMEDIATE", why, why_len))
		return false;
	rc = query_text(s, "SELECT count(*) FROM sqlite_master", text,
			sizeof text, NULL);
	if (rc == SQLITE_ROW && !strcmp(text, "0")) {
		if (!exec(s, schema_sql, why, why_len) ||
		    !exec(s, "INSERT INTO meta VALUES('schema_version', 1)", why,
			  why_len))
			goto fail;
		return exec(s, "COMMIT", why, why_len);
	}
	rc = query_text(s,
			"SELECT value FROM meta WHERE key = 'schema_version'",
			text, sizeof text, NULL);
	if (rc != SQLITE_ROW) {
		jv_why(why, why_len, -1,
		       "sqlite:%s: not a jvpn store (no schema version)",
		       s->path);
		goto fail;
	}
	version = strtoll(text, NULL, 10);
	if (version != SQ_SCHEMA_VERSION) {
		jv_why(why, why_len, -1,
		       "sqlite:%s: schema version %s is not one this jvpn knows (%d)",
		       s->path, text, SQ_SCHEMA_VERSION);
		goto fail;
	}
	return exec(s, "COMMIT", why, why_len);
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return false;
}

static bool prepare(struct sq_store *s, char *why, size_t why_len)
{
	static const char get[] =
		"SELECT session_id, owner_node, owner_epoch, state_version,"
		" revision, writer, blob FROM sessions WHERE receiver_index = ?1";
	static const char insert[] =
		"INSERT INTO sessions(session_id, receiver_index, owner_node,"
		" owner_epoch, state_version, revision, writer, blob)"
		" VALUES(?1, ?2, ?3, ?4, ?5, 1, ?6, ?7)";
	static const char update[] =
		"UPDATE sessions SET receiver_index = ?2, owner_node = ?3,"
		" owner_epoch = ?4, state_version = ?5, revision = revision + 1,"
		" writer = ?6, blob = ?7 WHERE session_id = ?1 AND revision = ?8";
	static const char del[] =
		"DELETE FROM sessions WHERE session_id = ?1 AND revision = ?2";
	static const char exists[] =
		"SELECT 1 FROM sessions WHERE session_id = ?1";

	if (sqlite3_prepare_v3(s->db, get, -1, SQLITE_PREPARE_PERSISTENT,
			       &s->get, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v3(s->db, insert, -1, SQLITE_PREPARE_PERSISTENT,
			       &s->insert, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v3(s->db, update, -1, SQLITE_PREPARE_PERSISTENT,
			       &s->update, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v3(s->db, del, -1, SQLITE_PREPARE_PERSISTENT,
			       &s->del, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v3(s->db, exists, -1, SQLITE_PREPARE_PERSISTENT,
			       &s->exists, NULL) == SQLITE_OK)
		return true;
	/* The schema version matched but the tables do not. */
	jv_why(why, why_len, -1, "sqlite:%s: not a jvpn store: %s", s->path,
	       sqlite3_errmsg(s->db));
	return false;
}

static bool open_db(struct sq_store *s, char *why, size_t why_len)
{
	char mode[32];
	int rc;

	rc = sqlite3_open_v2(s->path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
				     SQLITE_OPEN_NOFOLLOW,
			     NULL);
	if (rc != SQLITE_OK) {
		jv_why(why, why_len, -1, "sqlite:%s: %s", s->path,
		       s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		return false;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, SQ_BUSY_TIMEOUT_MS);
	if (!check_file(s, why, why_len))
		return false;
	rc = query_text(s, "PRAGMA journal_mode=WAL", mode, sizeof mode, NULL);
	if (rc != SQLITE_ROW || strcmp(mode, "wal")) {
		jv_why(why, why_len, -1, "sqlite:%s: cannot use WAL mode: %s",
		       s->path,
		       rc == SQLITE_ROW ? mode : sqlite3_errmsg(s->db));
		return false;
	}
	/* FULL: the WAL is fsync'ed at every commit, so OK means on disk. */
	return exec(s, "PRAGMA synchronous=FULL", why, why_len) &&
	       check_schema(s, why, why_len) && prepare(s, why, why_len);
}

struct jv_store *jv_store_sqlite_open(const struct jv_store_config *cfg,
				      const char *where, struct jv_loop *loop,
				      char *why, size_t why_len)
{
	struct sq_store *s;

	(void)loop;	/* no descriptors: everything completes from tick */
	if (!where[0]) {
		jv_why(why, why_len, -1,
		       "sqlite: no database path (want sqlite:PATH)");
		return NULL;
	}
	if (strlen(where) >= JV_STORE_PATH_MAX) {
		jv_why(why, why_len, -1, "sqlite:%s: path longer than %d bytes",
		       where, JV_STORE_PATH_MAX - 1);
		return NULL;
	}
	if (sodium_init() < 0) {
		jv_why(why, why_len, -1,
		       "sqlite:%s: libsodium failed to initialise", where);
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (s)
		s->q = calloc(JV_STORE_INFLIGHT_MAX, sizeof *s->q);
	if (!s || !s->q) {
		free(s);
		jv_why(why, why_len, -1, "sqlite:%s: out of memory", where);
		return NULL;
	}
	jv_store_init(&s->base, &sq_ops, cfg);
	s->lock_fd = -1;
	s->on_lease = cfg->on_lease;
	s->ud = cfg->ud;
	snprintf(s->path, sizeof s->path, "%s", where);
	randombytes_buf(s->incarnation, sizeof s->incarnation);
	/* The lock before the file: a second process must not touch a
	 * database in use, not even its mode. */
	if (!make_dir(s, why, why_len) || !take_lock(s, why, why_len) ||
	    !make_file(s, why, why_len) || !open_db(s, why, why_len)) {
		destroy(s);
		return NULL;
	}
	return &s->base;
}
