/* SPDX-License-Identifier: MIT */
/*
 * The embedded store: the contract suite, then what only the SQLite
 * backend promises (one process per file, a damaged file refused at open,
 * file modes, no clear secret in the file).  Runs in a mkdtemp directory.
 */

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cluster/seal.h"
#include "cluster/store.h"
#include "contract.h"
#include "net/clock.h"
#include "tap.h"
#include "util.h"

static char base[] = "/tmp/jvpn-sqlite-XXXXXX";

/* ---- the contract's factory ---- */

struct factory {
	unsigned files;
	char path[JV_STORE_PATH_MAX];
};

static void contract_where(void *ctx, bool fresh,
			   struct jv_store_config *cfg, char *url,
			   size_t url_len)
{
	struct factory *f = ctx;

	/* A directory per file, so every fresh open also creates one. */
	if (fresh)
		snprintf(f->path, sizeof f->path, "%s/c%u/store.db", base,
			 ++f->files);
	snprintf(url, url_len, "sqlite:%s", f->path);
	cfg->url = url;
}

/* ---- helpers ---- */

static struct jv_store *open_at(const char *path, const char *node,
				struct probe *p, char *why, size_t why_len)
{
	char url[JV_STORE_URL_MAX];
	struct jv_store_config c = {
		.url = url,
		.node_id = node,
		.on_lease = probe_on_lease,
		.ud = p,
	};

	snprintf(url, sizeof url, "sqlite:%s", path);
	why[0] = '\0';
	return jv_store_open(&c, NULL, why, why_len);
}

/* The sqlite backend completes at the first poll. */
static int put_now(struct jv_store *st, const struct jv_store_rec *r,
		   uint64_t expected, struct probe *p)
{
	p->calls = 0;
	if (jv_store_put(st, r, expected, probe_on_put, p) != 0)
		return -1;
	jv_store_poll(st, 0);
	return p->calls == 1 ? (int)p->status : -1;
}

static int get_now(struct jv_store *st, uint32_t index, struct probe *p)
{
	p->calls = 0;
	if (jv_store_get(st, index, probe_on_get, p) != 0)
		return -1;
	jv_store_poll(st, 0);
	return p->calls == 1 ? (int)p->status : -1;
}

static bool one_line(const char *s)
{
	return s[0] && !strchr(s, '\n');
}

static mode_t mode_of(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_mode & 07777 : (mode_t)-1;
}

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	*n = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)len + 1);
		if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len)
			*n = (size_t)len;
	}
	fclose(f);
	return buf;
}

/* Whether a PD-9 pattern occurs in path's bytes (a missing file holds
 * nothing). */
static bool file_has(const char *path, const uint8_t pat[PD9_PATTERN_LEN])
{
	size_t len;
	uint8_t *buf = slurp(path, &len);
	bool found = buf && memmem(buf, len, pat, PD9_PATTERN_LEN) != NULL;

	free(buf);
	return found;
}

static bool raw_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	bool ok = sqlite3_open(path, &db) == SQLITE_OK &&
		  sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;

	if (!ok)
		tap_diag("%s: %s", sql, db ? sqlite3_errmsg(db) : "no db");
	sqlite3_close(db);
	return ok;
}

static bool write_bytes(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && write(fd, p, n) == (ssize_t)n;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* A store at path holding n records with full bodies, enough to span
 * many pages, closed again; false if it did not open or a put failed. */
static bool filled_store(const char *path, unsigned n, char *why,
			 size_t why_len)
{
	struct probe p = { 0 };
	struct jv_store_rec r;
	struct jv_store *st = open_at(path, "gw1", &p, why, why_len);
	bool ok = st != NULL;

	for (unsigned i = 0; ok && i < n; i++) {
		mk_rec(&r, i, "gw1");
		r.receiver_index = i;
		r.session_id[0] = (uint8_t)i;
		r.session_id[1] = (uint8_t)(i >> 8);
		r.len = JV_STORE_BLOB_MAX;
		ok = put_now(st, &r, 0, &p) == JV_STORE_OK;
	}
	jv_store_close(st);
	return ok;
}

/* ---- the cases ---- */

/* Rows of the sessions table as another connection sees them: what is
 * committed (-1: the file does not read). */
static int rows_seen(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int n = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM sessions", -1, &q,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

struct batch_probe {
	const char *path;
	unsigned ok;
	int least_seen;			/* rows committed at an OK, at least */
};

static void batch_on_put(void *ud, enum jv_store_status st, uint64_t rev)
{
	struct batch_probe *b = ud;
	int seen = rows_seen(b->path);

	(void)rev;
	if (st == JV_STORE_OK)
		b->ok++;
	if (b->least_seen < 0 || seen < b->least_seen)
		b->least_seen = seen;
}

/* D-035: the writes of one round share one transaction (one fsync), and
 * none is reported before the round is on disk: another connection sees
 * nothing before the delivery and every row at each OK. */
static void writes_of_a_round_commit_together(void)
{
	char path[JV_STORE_PATH_MAX], why[256];
	struct probe p = { 0 };
	struct batch_probe b = { .least_seen = -1 };
	struct jv_store_rec r;
	struct jv_store *st;
	unsigned n = 200;
	int before;
	bool queued = true;

	snprintf(path, sizeof path, "%s/batch/store.db", base);
	b.path = path;
	st = open_at(path, "gw1", &p, why, sizeof why);
	for (unsigned i = 0; st && i < n; i++) {
		mk_rec(&r, i, "gw1");
		r.receiver_index = 1000 + i;
		r.session_id[0] = (uint8_t)i;
		r.session_id[1] = 0xb7;
		queued &= jv_store_put(st, &r, 0, batch_on_put, &b) == 0;
	}
	before = rows_seen(path);
	if (st)
		jv_store_poll(st, 0);
	tap_ok(st && queued && before == 0 && b.ok == n &&
	       b.least_seen == (int)n,
	       "sqlite: %u writes of one round are committed together, before the first is reported", n);
	if (!(before == 0 && b.least_seen == (int)n))
		tap_diag("rows before the delivery %d, at the first OK %d, OKs %u",
			 before, b.least_seen, b.ok);
	jv_store_close(st);
}

static void second_open_in_use(void)
{
	char path[JV_STORE_PATH_MAX], why[512], want[64];
	struct probe p1 = { 0 }, p2 = { 0 };
	struct jv_store *a, *b;

	snprintf(path, sizeof path, "%s/inuse/s.db", base);
	a = open_at(path, "gw1", &p1, why, sizeof why);
	b = open_at(path, "gw1", &p2, why, sizeof why);
	snprintf(want, sizeof want, "in use by another jvpn process (pid %ld)",
		 (long)getpid());
	tap_ok(a && !b && strstr(why, path) && strstr(why, want) &&
		       one_line(why),
	       "sqlite: a second open of the same file fails, naming the holder's pid");
	tap_diag("%s", why);
	jv_store_close(a);
	b = open_at(path, "gw1", &p2, why, sizeof why);
	tap_ok(b != NULL, "sqlite: once closed, the file opens again");
	jv_store_close(b);
}

static void restart_keeps_records(void)
{
	char path[JV_STORE_PATH_MAX], why[512];
	struct probe p = { 0 };
	struct jv_store_rec r[3];
	struct jv_store *st;
	bool ok = true;

	snprintf(path, sizeof path, "%s/restart/s.db", base);
	st = open_at(path, "gw1", &p, why, sizeof why);
	ok = st != NULL;
	for (unsigned i = 0; ok && i < 3; i++) {
		mk_rec(&r[i], i + 1, "gw1");
		ok = put_now(st, &r[i], 0, &p) == JV_STORE_OK;
	}
	jv_store_close(st);
	st = open_at(path, "gw1", &p, why, sizeof why);
	ok = ok && st;
	for (unsigned i = 0; ok && i < 3; i++) {
		ok = get_now(st, r[i].receiver_index, &p) == JV_STORE_OK &&
		     p.rec.revision == 1 && !p.rec.owner_live &&
		     p.rec.state_version == r[i].state_version &&
		     p.rec.len == r[i].len &&
		     !memcmp(p.rec.blob, r[i].blob, r[i].len);
	}
	tap_ok(ok, "sqlite: after close and reopen every record is there, owner_live=false");
	if (!ok)
		tap_diag("%s", why);
	jv_store_close(st);
}

static void lease_and_deadline(void)
{
	char path[JV_STORE_PATH_MAX], why[512];
	struct probe p = { 0 }, g = { 0 };
	struct jv_store *st;
	bool ok;

	snprintf(path, sizeof path, "%s/lease/s.db", base);
	st = open_at(path, "gw1", &p, why, sizeof why);
	ok = st && p.leases == 0 && jv_store_deadline(st) <= jv_clock_now();
	if (st)
		jv_store_tick(st, jv_clock_now());
	ok = ok && p.leases == 1 && p.lease_until == JV_TIME_NEVER &&
	     jv_store_deadline(st) == JV_TIME_NEVER;
	if (st)
		jv_store_poll(st, 0);
	ok = ok && p.leases == 1;
	tap_ok(ok, "sqlite: lease JV_TIME_NEVER once, from the first tick; then no deadline");

	ok = st && jv_store_get(st, 7, probe_on_get, &g) == 0 && g.calls == 0 &&
	     jv_store_deadline(st) <= jv_clock_now();
	if (st)
		jv_store_tick(st, jv_clock_now());
	ok = ok && g.calls == 1 && g.status == JV_STORE_NOTFOUND &&
	     jv_store_deadline(st) == JV_TIME_NEVER;
	tap_ok(ok, "sqlite: a queued completion makes the deadline due; tick delivers it");
	jv_store_close(st);
}

static void close_inside_callback(void)
{
	char path[JV_STORE_PATH_MAX], why[512];
	struct probe p = { 0 }, g1 = { 0 }, g2 = { 0 };
	struct jv_store *st;

	snprintf(path, sizeof path, "%s/cbclose/s.db", base);
	st = open_at(path, "gw1", &p, why, sizeof why);
	if (!st) {
		tap_ok(false, "sqlite: close from inside a completion is safe");
		return;
	}
	g1.close_me = st;
	(void)!jv_store_get(st, 1, probe_on_get, &g1);
	(void)!jv_store_get(st, 2, probe_on_get, &g2);
	jv_store_poll(st, 0);
	tap_ok(g1.calls == 1 && g2.calls == 0,
	       "sqlite: close from inside a completion is safe and cancels the rest");
}

static void owner_must_be_this_node(void)
{
	char path[JV_STORE_PATH_MAX], why[512];
	struct probe p = { 0 };
	struct jv_store_rec r;
	struct jv_store *st;
	int rc = 1;

	snprintf(path, sizeof path, "%s/owner/s.db", base);
	st = open_at(path, "gw1", &p, why, sizeof why);
	mk_rec(&r, 1, "gw2");
	if (st)
		rc = jv_store_put(st, &r, 0, probe_on_put, &p);
	jv_store_poll(st, 0);
	tap_ok(rc == JV_ERR_INVAL && p.calls == 0,
	       "sqlite: a record owned by another node id is refused (JV_ERR_INVAL)");
	jv_store_close(st);
}

static void open_errors(void)
{
	struct probe p = { 0 };
	char why[512];
	struct jv_store_config c = { .node_id = "gw1",
				     .on_lease = probe_on_lease, .ud = &p };
	struct jv_store *st;
	char path[JV_STORE_PATH_MAX];

	c.url = "";
	st = jv_store_open(&c, NULL, why, sizeof why);
	tap_ok(!st && strstr(why, "no url") && one_line(why),
	       "store: an empty url is refused: %s", why);
	c.url = "redis://x";
	st = jv_store_open(&c, NULL, why, sizeof why);
	tap_ok(!st && strstr(why, "unknown scheme") && strstr(why, "redis://x"),
	       "store: an unknown scheme is refused: %s", why);
	c.url = "sqlite:";
	st = jv_store_open(&c, NULL, why, sizeof why);
	tap_ok(!st && strstr(why, "no database path"),
	       "store: sqlite: without a path is refused: %s", why);
	snprintf(path, sizeof path, "sqlite:%s/x/s.db", base);
	c.url = path;
	c.node_id = "";
	st = jv_store_open(&c, NULL, why, sizeof why);
	tap_ok(!st && strstr(why, "no node id"),
	       "store: a missing node id is refused: %s", why);
	c.node_id = "gw1";
	c.on_lease = NULL;
	st = jv_store_open(&c, NULL, why, sizeof why);
	tap_ok(!st && strstr(why, "lease"),
	       "store: a missing lease callback is refused: %s", why);
	c.on_lease = probe_on_lease;
	snprintf(path, sizeof path, "sqlite:%s/no/such/dir/s.db", base);
	st = jv_store_open(&c, NULL, why, sizeof why);
	tap_ok(!st && strstr(why, "directory") && one_line(why),
	       "sqlite: a missing parent directory is a clear error: %s", why);
	jv_store_close(st);
}

static void damaged_files(void)
{
	char path[JV_STORE_PATH_MAX], wal[JV_STORE_PATH_MAX + 8], why[512];
	uint8_t junk[8192];
	struct probe p = { 0 };
	struct jv_store *st;
	bool ok = true;
	struct stat sb;

	snprintf(path, sizeof path, "%s/garbage.db", base);
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(i * 7u + (i >> 8));
	write_bytes(path, junk, sizeof junk);
	st = open_at(path, "gw1", &p, why, sizeof why);
	tap_ok(!st && strstr(why, path) && strstr(why, "not a database") &&
		       one_line(why),
	       "sqlite: a garbage file is refused at open: %s", why);
	jv_store_close(st);

	/* A real store with enough rows to span many pages, then cut. */
	snprintf(path, sizeof path, "%s/cut/s.db", base);
	ok = filled_store(path, 200, why, sizeof why);
	snprintf(wal, sizeof wal, "%s-wal", path);
	ok = ok && access(wal, F_OK) != 0 && stat(path, &sb) == 0 &&
	     truncate(path, sb.st_size / 2) == 0;
	st = ok ? open_at(path, "gw1", &p, why, sizeof why) : NULL;
	tap_ok(ok && !st && strstr(why, path) && one_line(why),
	       "sqlite: a file cut in half is refused at open: %s", why);
	jv_store_close(st);

	ok = truncate(path, 100) == 0;
	st = ok ? open_at(path, "gw1", &p, why, sizeof why) : NULL;
	tap_ok(ok && !st && strstr(why, path) && one_line(why),
	       "sqlite: a file cut inside its header is refused at open: %s",
	       why);
	jv_store_close(st);

	/* A page in the middle overwritten. */
	snprintf(path, sizeof path, "%s/scribbled/s.db", base);
	ok = filled_store(path, 100, why, sizeof why);
	{
		int fd = open(path, O_WRONLY | O_CLOEXEC);

		ok = ok && fd >= 0 &&
		     pwrite(fd, junk, 4096, 4096 * 3) == 4096;
		if (fd >= 0)
			close(fd);
	}
	st = ok ? open_at(path, "gw1", &p, why, sizeof why) : NULL;
	tap_ok(ok && !st && strstr(why, path) && one_line(why),
	       "sqlite: a file with a scribbled page is refused at open: %s",
	       why);
	jv_store_close(st);
}

static void schema_checks(void)
{
	char path[JV_STORE_PATH_MAX], why[512];
	struct probe p = { 0 };
	struct jv_store *st;

	snprintf(path, sizeof path, "%s/schema/s.db", base);
	st = open_at(path, "gw1", &p, why, sizeof why);
	jv_store_close(st);
	raw_sql(path, "UPDATE meta SET value = 99 WHERE key = 'schema_version'");
	st = open_at(path, "gw1", &p, why, sizeof why);
	tap_ok(!st && strstr(why, "schema version 99") && one_line(why),
	       "sqlite: an unknown schema version is refused: %s", why);
	jv_store_close(st);

	snprintf(path, sizeof path, "%s/other.db", base);
	raw_sql(path, "CREATE TABLE t(x)");
	st = open_at(path, "gw1", &p, why, sizeof why);
	tap_ok(!st && strstr(why, "not a jvpn store"),
	       "sqlite: another program's database is refused: %s", why);
	jv_store_close(st);
}

static void corrupt_rows(void)
{
	static const struct {
		const char *what;
		const char *sql;
	} rows[] = {
		{ "a blob longer than JV_STORE_BLOB_MAX",
		  "INSERT INTO sessions VALUES(zeroblob(16), 1, 'gw1', 1, 1, 1,"
		  " NULL, zeroblob(2049))" },
		{ "owner_epoch as text",
		  "INSERT INTO sessions VALUES(x'01000000000000000000000000000000',"
		  " 2, 'gw1', 'abc', 1, 1, NULL, x'00')" },
		{ "a 5-byte session_id",
		  "INSERT INTO sessions VALUES(x'0102030405', 3, 'gw1', 1, 1, 1,"
		  " NULL, x'00')" },
		{ "an empty owner_node",
		  "INSERT INTO sessions VALUES(x'02000000000000000000000000000000',"
		  " 4, '', 1, 1, 1, NULL, x'00')" },
		{ "a 64-byte owner_node",
		  "INSERT INTO sessions VALUES(x'03000000000000000000000000000000',"
		  " 5, printf('%064d', 0), 1, 1, 1, NULL, x'00')" },
		{ "revision 0",
		  "INSERT INTO sessions VALUES(x'04000000000000000000000000000000',"
		  " 6, 'gw1', 1, 1, 0, NULL, x'00')" },
		{ "the body as text",
		  "INSERT INTO sessions VALUES(x'05000000000000000000000000000000',"
		  " 7, 'gw1', 1, 1, 1, NULL, 'text')" },
	};
	char path[JV_STORE_PATH_MAX], why[512];
	struct probe p = { 0 };
	struct jv_store *st;
	bool ok;

	snprintf(path, sizeof path, "%s/rows/s.db", base);
	st = open_at(path, "gw1", &p, why, sizeof why);
	jv_store_close(st);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		raw_sql(path, rows[i].sql);
	st = open_at(path, "gw1", &p, why, sizeof why);
	if (!st)
		tap_diag("%s", why);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		ok = st && get_now(st, (uint32_t)i + 1, &p) == JV_STORE_CORRUPT &&
		     !p.had_rec;
		tap_ok(ok, "sqlite: a row with %s reads as corrupt",
		       rows[i].what);
	}
	jv_store_close(st);
}

static void file_modes(void)
{
	char dir[64], path[JV_STORE_PATH_MAX],
		side[JV_STORE_PATH_MAX + 8], why[512];
	struct probe p = { 0 };
	struct jv_store_rec r;
	struct jv_store *st;
	mode_t old = umask(0);
	bool ok;

	/* umask 0: the modes must come from the code, not the umask. */
	snprintf(dir, sizeof dir, "%s/modes", base);
	snprintf(path, sizeof path, "%s/s.db", dir);
	st = open_at(path, "gw1", &p, why, sizeof why);
	mk_rec(&r, 1, "gw1");
	ok = st && put_now(st, &r, 0, &p) == JV_STORE_OK;
	ok = ok && mode_of(dir) == 0700 && mode_of(path) == 0600;
	snprintf(side, sizeof side, "%s.lock", path);
	ok = ok && mode_of(side) == 0600;
	snprintf(side, sizeof side, "%s-wal", path);
	ok = ok && mode_of(side) == 0600;
	snprintf(side, sizeof side, "%s-shm", path);
	ok = ok && mode_of(side) == 0600;
	tap_ok(ok, "sqlite: directory 0700; db, wal, shm and lock files 0600 (umask 0)");
	if (!ok)
		tap_diag("dir %o db %o: %s", (unsigned)mode_of(dir),
			 (unsigned)mode_of(path), why);
	jv_store_close(st);

	chmod(path, 0644);
	st = open_at(path, "gw1", &p, why, sizeof why);
	tap_ok(st && mode_of(path) == 0600,
	       "sqlite: an existing db readable by others is narrowed to 0600");
	jv_store_close(st);
	umask(old);
}

/* PD-9: what reaches the store is sealed; neither the secret inside a
 * record body nor the cluster key is ever in the file or its WAL. */
static void no_clear_secret_in_file(void)
{
	char path[JV_STORE_PATH_MAX], wal[JV_STORE_PATH_MAX + 8], why[512];
	uint8_t plain[PD9_PLAIN_LEN];
	struct probe p = { 0 };
	struct jv_store_rec r, c;
	struct jv_store *st;
	bool ok, sealed_ok;

	snprintf(path, sizeof path, "%s/secret/s.db", base);
	snprintf(wal, sizeof wal, "%s-wal", path);
	st = open_at(path, "gw1", &p, why, sizeof why);
	sealed_ok = pd9_records(&r, &c, "gw1", plain);
	ok = st && sealed_ok && put_now(st, &r, 0, &p) == JV_STORE_OK &&
	     put_now(st, &c, 0, &p) == JV_STORE_OK;
	/* The control proves the search sees what is written (it sits in
	 * the WAL until the checkpoint at close). */
	ok = ok && (file_has(path, pd9_control) || file_has(wal, pd9_control));
	ok = ok && !file_has(path, pd9_secret) && !file_has(wal, pd9_secret) &&
	     !file_has(path, pd9_cluster_key) &&
	     !file_has(wal, pd9_cluster_key);
	tap_ok(ok, "sqlite: a sealed secret is not in the db or its WAL while open");
	jv_store_close(st);
	ok = file_has(path, pd9_control) && !file_has(path, pd9_secret) &&
	     !file_has(path, pd9_cluster_key) && !file_has(wal, pd9_secret);
	tap_ok(ok, "sqlite: nor in the db after the checkpoint at close");

	st = open_at(path, "gw1", &p, why, sizeof why);
	ok = st && get_now(st, r.receiver_index, &p) == JV_STORE_OK;
	if (ok) {
		uint8_t back[sizeof plain];
		size_t m = 0;

		ok = jv_open_record(pd9_cluster_key, p.rec.session_id,
				    p.rec.receiver_index, p.rec.blob, p.rec.len,
				    back, sizeof back, &m) == 0 &&
		     m == sizeof plain && !memcmp(back, plain, m);
	}
	tap_ok(ok, "sqlite: the sealed body opens again after a restart");
	jv_store_close(st);
}

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	struct factory f = { 0 };

	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	jv_contract_run("sqlite", contract_where, &f);
	writes_of_a_round_commit_together();
	second_open_in_use();
	restart_keeps_records();
	lease_and_deadline();
	close_inside_callback();
	owner_must_be_this_node();
	open_errors();
	damaged_files();
	schema_checks();
	corrupt_rows();
	file_modes();
	no_clear_secret_in_file();
	if (!getenv("JV_KEEP_TMP"))
		nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
