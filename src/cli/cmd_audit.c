/* SPDX-License-Identifier: MIT */
/*
 * jvpn audit: verify event logs offline (spec §3, §8.6, PD-1, PD-9).
 *
 *   jvpn audit [--quiet] [--json] [--each] [--epsilon MS] FILE.jsonl...
 *
 * ("-" reads standard input.)
 * The files are one log set, audited together: the logs of the gateway
 * nodes of a cluster and of the client.  Each file's chain is its own; the
 * gateway stream of a session runs through every gateway file, so INV-15
 * and INV-16 are checked across nodes (src/audit/owners.c).  The files are
 * read side by side, each line going in the order of jv_audit_merge_key.
 * --each audits every file on its own instead (unrelated logs).
 *
 * Output: every finding as "FILE:LINE: ID: what is wrong" (a second place
 * in another file is named in the message), then the reconstructed
 * timeline of each stream, a summary, with several files one verdict line
 * per file, and at the end "audit: PASS" or "audit: FAIL (N violations)".
 * --quiet keeps only the findings and the verdicts; --json prints one
 * JSON document.  Exit status: 0 every file passed, 1 a violation, 2 usage
 * or I/O error.
 *
 * Memory stays bounded on any log: each file is read in fixed blocks, the
 * auditor keeps state per stream, and a stream's timeline waits in memory
 * only while the stream is live (past AUDIT_BUFFER_MAX in total, the
 * waiting timelines go to a spool file early, marked "continued").
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "audit/audit.h"
#include "commands.h"
#include "logread.h"

enum {
	AUDIT_BUFFER_MAX = 8 << 20,	/* timeline text held in memory */
};

struct sbuf {
	char *p;
	size_t len, cap;
	bool continued;			/* part already spooled */
	struct jv_audit_stream info;	/* as of its latest entry */
};

struct ctx {
	bool quiet, json;
	unsigned nfiles;		/* files of this audit */
	FILE *spool;			/* finished timelines / stream objects */
	FILE **vspool;			/* --json: violations, per file */
	bool *vspool_any;
	bool spool_any;
	struct sbuf **bufs;		/* by stream index */
	size_t nbufs;
	size_t buffered;
	bool failed;			/* out of memory or spool I/O */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: jvpn audit [--quiet] [--json] [--each] "
		"[--epsilon MS] FILE.jsonl...\n"
		"  --quiet       only violations and the verdict\n"
		"  --json        one JSON report on stdout\n"
		"  --each        audit each file on its own (default: the files "
		"are the logs\n"
		"                of one deployment, audited together)\n"
		"  --epsilon MS  tolerance of the time bounds (spec §3.2): 0 "
		"for simulated logs (default), 50 for real hosts\n");
}

/* ---- per-stream buffers ----------------------------------------------- */

static struct sbuf *sbuf_of(struct ctx *c, unsigned index)
{
	if (index >= c->nbufs) {
		size_t n = c->nbufs ? c->nbufs : 64;
		struct sbuf **nb;

		while (n <= index)
			n *= 2;
		nb = realloc(c->bufs, n * sizeof *nb);
		if (!nb)
			return NULL;
		memset(nb + c->nbufs, 0, (n - c->nbufs) * sizeof *nb);
		c->bufs = nb;
		c->nbufs = n;
	}
	if (!c->bufs[index])
		c->bufs[index] = calloc(1, sizeof **c->bufs);
	return c->bufs[index];
}

static bool sbuf_add(struct ctx *c, struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return false;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	c->buffered += n;
	return true;
}

static void spool_write(struct ctx *c, const char *s, size_t n)
{
	if (n && fwrite(s, 1, n, c->spool) != n)
		c->failed = true;
}

/* Move one stream's waiting timeline to the spool. */
static void flush_stream(struct ctx *c, const struct jv_audit_stream *s,
			 struct sbuf *b, bool final)
{
	char head[512];

	if (!b || (!b->len && !final))
		return;
	if (c->json) {
		json_t *o = jv_audit_stream_json(s);
		char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
		size_t tl = t ? strlen(t) : 0;

		if (!t || tl < 2) {
			c->failed = true;
		} else {
			if (c->spool_any)
				spool_write(c, ",", 1);
			spool_write(c, t, tl - 1);	/* without its '}' */
			if (b->continued || !final)
				spool_write(c, ",\"continued\":true", 17);
			spool_write(c, ",\"timeline\":[", 13);
			spool_write(c, b->p ? b->p : "", b->len);
			spool_write(c, "]}", 2);
			c->spool_any = true;
		}
		free(t);
		json_decref(o);
	} else {
		if (jv_audit_format_stream(s, head, sizeof head) < 0 &&
		    !head[0])
			snprintf(head, sizeof head, "stream %u", s->index);
		fprintf(c->spool, "%s%s\n", head,
			b->continued ? " (continued)" : "");
		spool_write(c, b->p ? b->p : "", b->len);
		c->spool_any = true;
	}
	c->buffered -= b->len;
	b->len = 0;
	b->continued = true;
	/* give the memory back: the cap bounds what is held, not what
	 * was once allocated */
	free(b->p);
	b->p = NULL;
	b->cap = 0;
}

/* ---- auditor hooks ---------------------------------------------------- */

static void on_violation(void *ud, const struct jv_audit_violation *v)
{
	struct ctx *c = ud;
	char line[1024];

	if (c->json) {
		unsigned f = v->file < c->nfiles ? v->file : 0;
		json_t *o = jv_audit_violation_json(v);
		char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;

		if (!t) {
			c->failed = true;
		} else {
			if (c->vspool_any[f] && fputc(',', c->vspool[f]) == EOF)
				c->failed = true;
			if (fputs(t, c->vspool[f]) == EOF)
				c->failed = true;
			c->vspool_any[f] = true;
		}
		free(t);
		json_decref(o);
		return;
	}
	/* a text too long for the line is printed truncated */
	if (jv_audit_format_violation(v, NULL, line, sizeof line) ==
	    JV_ERR_INVAL)
		return;
	puts(line);
}

/* stream_end has the final facts (birth, policy): keep the latest. */
static void on_entry(void *ud, const struct jv_audit_stream *s,
		     const struct jv_audit_entry *e)
{
	struct ctx *c = ud;
	struct sbuf *b = sbuf_of(c, s->index);
	char line[1024];
	bool ok;

	if (!b) {
		c->failed = true;
		return;
	}
	if (c->json) {
		json_t *o = jv_audit_entry_json(e);
		char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;

		ok = t && (!b->len || sbuf_add(c, b, ",", 1)) &&
		     sbuf_add(c, b, t, strlen(t));
		free(t);
		json_decref(o);
	} else {
		int n = jv_audit_format_entry(s, e, line, sizeof line);

		if (n < 0)
			n = (int)strlen(line);
		ok = sbuf_add(c, b, line, (size_t)n) && sbuf_add(c, b, "\n", 1);
	}
	if (!ok)
		c->failed = true;
	b->info = *s;
	if (c->buffered > AUDIT_BUFFER_MAX) {
		/* Bounded memory: past the cap every waiting timeline goes to
		 * the spool; a stream's next block is then headed
		 * "(continued)". */
		for (size_t i = 0; i < c->nbufs; i++)
			if (c->bufs[i] && c->bufs[i]->len)
				flush_stream(c, &c->bufs[i]->info, c->bufs[i],
					     false);
	}
}

static void on_stream_end(void *ud, const struct jv_audit_stream *s)
{
	struct ctx *c = ud;
	struct sbuf *b;

	if (s->index >= c->nbufs || !c->bufs[s->index]) {
		struct sbuf empty = { 0 };
		flush_stream(c, s, &empty, true);
		return;
	}
	b = c->bufs[s->index];
	flush_stream(c, s, b, true);
	free(b->p);
	free(b);
	c->bufs[s->index] = NULL;
}

/* ---- reading several files side by side ------------------------------- */

/* One file of the set: its lines (logread.c) and the merge key of the
 * next one. */
struct src {
	const char *name;
	unsigned index;			/* the auditor's file number */
	struct logread r;
	bool ready, done;		/* r holds the next line / no more */
	bool keyed;			/* merged with other files */
	struct jv_audit_key key;
};

/* The next line into s->r (or s->done); 0, or -1 on a read error. */
static int src_next(struct src *s)
{
	struct jv_audit_key k;
	int rc = logread_next(&s->r);

	s->ready = rc > 0;
	s->done = rc == 0;
	if (rc < 0)
		return -1;
	/* a line that is no event keeps the key of the one before it */
	if (s->ready && !s->r.overlong && s->keyed &&
	    jv_audit_merge_key(s->r.line, s->r.len, &k))
		s->key = k;
	return 0;
}

/*
 * Feed the files to a, merged: at each step the head line with the
 * smallest key (jv_audit_merge_key), the earlier file on a tie.  Returns
 * 0, or -1 after one line on stderr (read error, out of memory).
 */
static int feed(struct src *src, unsigned n, struct jv_audit *a)
{
	for (;;) {
		struct src *s = NULL;
		int rc;

		for (unsigned i = 0; i < n; i++)
			if (src[i].ready && (!s || jv_audit_key_cmp(&src[i].key,
								   &s->key) < 0))
				s = &src[i];
		if (!s)
			return 0;
		if (s->r.overlong)
			rc = jv_audit_file_overlong(a, s->index, s->r.lineno,
						    s->r.hex);
		else
			rc = jv_audit_file_line(a, s->index, s->r.line,
						s->r.len, s->r.lineno);
		if (rc) {
			fprintf(stderr, "jvpn audit: %s: out of memory at line "
				"%lu\n", s->name, s->r.lineno);
			return -1;
		}
		if (src_next(s)) {
			fprintf(stderr, "jvpn audit: %s: read error: %s\n",
				s->name, strerror(errno));
			return -1;
		}
		if (s->done &&
		    jv_audit_file_end(a, s->index, s->r.missing_nl))
			return -1;
	}
}

/* ---- output ----------------------------------------------------------- */

static int copy_spool(FILE *from)
{
	char blk[65536];
	size_t n;

	rewind(from);
	while ((n = fread(blk, 1, sizeof blk, from)) > 0)
		if (fwrite(blk, 1, n, stdout) != n)
			return -1;
	return ferror(from) ? -1 : 0;
}

static void print_latency(const char *who, const struct jv_audit_latency *l)
{
	if (!l->count) {
		printf("  recovery latency (%s): none\n", who);
		return;
	}
	printf("  recovery latency (%s): n=%" PRIu64 ", median %" PRIu64
	       " ms, p95 %" PRIu64 " ms, max %" PRIu64 " ms\n", who, l->count,
	       l->median_ms, l->p95_ms, l->max_ms);
}

static void print_summary(const char *file, const struct jv_audit_report *r)
{
	bool any = false;

	printf("summary of %s:\n", file);
	printf("  %" PRIu64 " lines, %" PRIu64 " events, %u streams "
	       "(%u client, %u gateway)", r->lines, r->events, r->streams,
	       r->streams_client, r->streams_gateway);
	if (r->have_ts)
		printf(", ts_ms %" PRIu64 " .. %" PRIu64 " (%.3f s)",
		       r->first_ts, r->last_ts,
		       (double)(r->last_ts - r->first_ts) / 1000.0);
	printf("\n  %u terminated", r->terminated);
	for (int x = 0; x < JV_REASON_COUNT; x++)
		if (r->terminations[x]) {
			printf("%s%s %" PRIu64, any ? ", " : " (",
			       jv_reason_name((enum jv_reason)x),
			       r->terminations[x]);
			any = true;
		}
	printf("%s\n", any ? ")" : "");
	printf("  %" PRIu64 " switches (%" PRIu64 " forced, %" PRIu64
	       " discretionary), %" PRIu64 " denials, %" PRIu64
	       " security events, %" PRIu64 " dampings\n", r->switches,
	       r->switches_forced, r->switches - r->switches_forced,
	       r->denials, r->security, r->damped);
	printf("  time in VOLATILE %" PRIu64 " ms, in DEGRADED %" PRIu64
	       " ms\n", r->volatile_ms, r->degraded_ms);
	print_latency("client", &r->recovery[JV_ROLE_CLIENT]);
	print_latency("gateway", &r->recovery[JV_ROLE_GATEWAY]);
	printf("  %" PRIu64 " violations", r->violations);
	any = false;
	for (int k = 0; k < JV_AC_COUNT; k++)
		if (r->by_check[k]) {
			printf("%s%s %" PRIu64, any ? ", " : " (",
			       jv_audit_check_name((enum jv_audit_check)k),
			       r->by_check[k]);
			any = true;
		}
	printf("%s\n", any ? ")" : "");
}

/* "a.jsonl" or "a.jsonl, b.jsonl, ..." */
static char *label_of(char **names, unsigned n)
{
	size_t len = 1;
	char *l;

	for (unsigned i = 0; i < n; i++)
		len += strlen(names[i]) + 2;
	l = malloc(len);
	if (!l)
		return NULL;
	l[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		if (i)
			strcat(l, ", ");
		strcat(l, names[i]);
	}
	return l;
}

static json_t *file_summary_json(const struct jv_audit_file_stats *st)
{
	json_t *o = json_object(), *by = json_object();
	int rc = !o || !by;

	for (int k = 0; !rc && k < JV_AC_COUNT; k++)
		if (st->by_check[k])
			rc |= json_object_set_new(by, jv_audit_check_name(
					(enum jv_audit_check)k),
				json_integer((json_int_t)st->by_check[k]));
	if (!rc) {
		rc |= json_object_set_new(o, "lines",
					  json_integer((json_int_t)st->lines));
		rc |= json_object_set_new(o, "events",
					  json_integer((json_int_t)st->events));
		rc |= json_object_set_new(o, "violations",
					  json_integer((json_int_t)st->violations));
		rc |= json_object_set_new(o, "violations_by_check", by);
		by = NULL;
	}
	json_decref(by);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A JSON value on stdout, or false (no memory). */
static bool print_json(json_t *j)
{
	char *t = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	json_decref(j);
	if (!t)
		return false;
	fputs(t, stdout);
	free(t);
	return true;
}

/* ,"streams":[...] unless --quiet; 0, or -1 on a spool read error. */
static int print_streams(const struct ctx *c)
{
	if (c->quiet)
		return 0;
	printf(",\"streams\":[");
	if (copy_spool(c->spool))
		return -1;
	printf("]");
	return 0;
}

/*
 * The --json output of one audit.  A single file: one entry of files[]
 * with its violations, streams and summary.  Several files audited
 * together: one entry per file (its violations, its own counts), then the
 * array is closed here and the streams and the summary of the whole set
 * follow at the top level (*closed).
 */
static int print_json_set(struct ctx *c, const struct jv_audit *a,
			  char **names, const struct jv_audit_report *r,
			  bool *first, bool *closed)
{
	bool joint = c->nfiles > 1;

	for (unsigned i = 0; i < c->nfiles; i++) {
		struct jv_audit_file_stats st;

		if (jv_audit_file_stats(a, i, &st))
			return -1;
		printf("%s{\"file\":", *first ? "" : ",");
		*first = false;
		if (!print_json(json_string(names[i])))
			return -1;
		printf(",\"violations\":[");
		if (copy_spool(c->vspool[i]))
			return -1;
		printf("]");
		if (!joint) {
			if (print_streams(c))
				return -1;
			printf(",\"summary\":");
			if (!print_json(jv_audit_report_json(r)))
				return -1;
		} else {
			printf(",\"summary\":");
			if (!print_json(file_summary_json(&st)))
				return -1;
		}
		printf(",\"verdict\":\"%s\"}", (joint ? st.violations == 0 :
						r->pass) ? "PASS" : "FAIL");
	}
	if (!joint)
		return 0;
	printf("]");
	*closed = true;
	if (print_streams(c))
		return -1;
	printf(",\"summary\":");
	return print_json(jv_audit_report_json(r)) ? 0 : -1;
}

/*
 * One audit of n files (one, or the log set); returns 0 pass, 1 fail, 2
 * I/O error.  *nviol gets its count.  JSON output goes into the document
 * the caller opened (*first: no entry yet; *closed: see print_json_set).
 */
static int audit_set(char **names, unsigned n, const struct ctx *tmpl,
		     jv_time eps, bool *first, bool *closed, uint64_t *nviol)
{
	struct ctx c = *tmpl;
	struct jv_audit_opts opts = { .epsilon_ms = eps };
	struct jv_audit_report r;
	struct jv_audit *a = NULL;
	struct src *src = calloc(n, sizeof *src);
	char *label = label_of(names, n);
	bool spooled;
	int rc = 2;

	*nviol = 0;
	c.nfiles = n;
	c.vspool = calloc(n, sizeof *c.vspool);
	c.vspool_any = calloc(n, sizeof *c.vspool_any);
	if (!src || !label || !c.vspool || !c.vspool_any) {
		fprintf(stderr, "jvpn audit: out of memory\n");
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		FILE *f = strcmp(names[i], "-") ? fopen(names[i], "rb") : stdin;

		src[i].name = names[i];
		src[i].keyed = n > 1;
		if (!f) {
			fprintf(stderr, "jvpn audit: %s: %s\n", names[i],
				strerror(errno));
			goto out;
		}
		if (logread_init(&src[i].r, f)) {
			fprintf(stderr, "jvpn audit: out of memory\n");
			goto out;
		}
	}
	c.spool = tmpfile();
	spooled = c.spool != NULL;
	for (unsigned i = 0; c.json && i < n; i++)
		if (!(c.vspool[i] = tmpfile()))
			spooled = false;
	if (!spooled) {
		fprintf(stderr, "jvpn audit: cannot create a spool file: %s\n",
			strerror(errno));
		goto out;
	}
	opts.hooks.ud = &c;
	opts.hooks.violation = on_violation;
	if (!c.quiet) {
		opts.hooks.entry = on_entry;
		opts.hooks.stream_end = on_stream_end;
	}
	if (jv_audit_new(&opts, &a)) {
		fprintf(stderr, "jvpn audit: out of memory\n");
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		if (jv_audit_file(a, names[i], &src[i].index)) {
			fprintf(stderr, "jvpn audit: out of memory\n");
			goto out;
		}
		if (src_next(&src[i])) {
			fprintf(stderr, "jvpn audit: %s: read error: %s\n",
				names[i], strerror(errno));
			goto out;
		}
		if (src[i].done &&
		    jv_audit_file_end(a, src[i].index, src[i].r.missing_nl))
			goto out;
	}
	if (feed(src, n, a))
		goto out;
	if (jv_audit_finish(a, false, &r))
		goto out;
	if (c.failed) {
		fprintf(stderr, "jvpn audit: %s: out of memory or spool "
			"write error while reporting\n", label);
		goto out;
	}
	*nviol = r.violations;

	if (c.json) {
		if (print_json_set(&c, a, names, &r, first, closed)) {
			fprintf(stderr, "jvpn audit: out of memory or spool "
				"read error\n");
			goto out;
		}
		rc = r.pass ? 0 : 1;
		goto out;
	}
	if (!c.quiet) {
		if (c.spool_any) {
			printf("timeline of %s:\n", label);
			fflush(stdout);
			if (copy_spool(c.spool)) {
				fprintf(stderr, "jvpn audit: spool read error\n");
				goto out;
			}
		}
		print_summary(label, &r);
	}
	for (unsigned i = 0; n > 1 && i < n; i++) {
		struct jv_audit_file_stats st;

		if (jv_audit_file_stats(a, i, &st) == 0)
			printf("%s: %s (%" PRIu64 " violations)\n", names[i],
			       st.violations ? "FAIL" : "PASS", st.violations);
	}
	rc = r.pass ? 0 : 1;
out:
	for (size_t i = 0; i < c.nbufs; i++)
		if (c.bufs[i]) {
			free(c.bufs[i]->p);
			free(c.bufs[i]);
		}
	free(c.bufs);
	jv_audit_free(a);
	if (c.spool)
		fclose(c.spool);
	for (unsigned i = 0; c.vspool && i < n; i++)
		if (c.vspool[i])
			fclose(c.vspool[i]);
	free(c.vspool);
	free(c.vspool_any);
	for (unsigned i = 0; src && i < n; i++) {
		if (src[i].r.f && src[i].r.f != stdin)
			fclose(src[i].r.f);
		logread_fini(&src[i].r);
	}
	free(src);
	free(label);
	return rc;
}

int cmd_audit(int argc, char **argv)
{
	struct ctx tmpl = { 0 };
	jv_time eps = 0;
	uint64_t total = 0;
	char **names;
	unsigned nfiles = 0;
	int worst = 0;
	bool opts_done = false, each = false, first = true, closed = false;

	names = calloc((size_t)argc, sizeof *names);
	if (!names) {
		fprintf(stderr, "jvpn audit: out of memory\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (opts_done || a[0] != '-' || !strcmp(a, "-")) {
			names[nfiles++] = argv[i];
		} else if (!strcmp(a, "--")) {
			opts_done = true;
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			tmpl.quiet = true;
		} else if (!strcmp(a, "--json")) {
			tmpl.json = true;
		} else if (!strcmp(a, "--each")) {
			each = true;
		} else if (!strcmp(a, "--epsilon")) {
			if (i + 1 >= argc || logread_epsilon(argv[++i], &eps)) {
				fprintf(stderr, "jvpn audit: --epsilon needs "
					"milliseconds, 0 to %d\n",
					LOGREAD_EPSILON_MAX_MS);
				free(names);
				return 2;
			}
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			free(names);
			return 0;
		} else {
			fprintf(stderr, "jvpn audit: unknown option '%s'\n", a);
			usage(stderr);
			free(names);
			return 2;
		}
	}
	if (!nfiles) {
		usage(stderr);
		free(names);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "jvpn audit: libsodium failed to start\n");
		free(names);
		return 2;
	}
	if (tmpl.json)
		printf("{\"files\":[");
	for (unsigned i = 0; i < nfiles; i += each ? 1 : nfiles) {
		unsigned n = each ? 1 : nfiles;
		uint64_t v;
		int rc = audit_set(names + i, n, &tmpl, eps, &first, &closed,
				   &v);

		total += v;
		if (rc > worst)
			worst = rc;
		if (!tmpl.json && each && nfiles > 1 && rc != 2)
			printf("%s: %s (%" PRIu64 " violations)\n", names[i],
			       rc ? "FAIL" : "PASS", v);
	}
	free(names);
	if (tmpl.json) {
		printf("%s,\"violations\":%" PRIu64 ",\"verdict\":\"%s\"}\n",
		       closed ? "" : "]", total,
		       worst == 0 ? "PASS" : worst == 1 ? "FAIL" : "ERROR");
	} else if (worst == 2) {
		printf("audit: ERROR (a file could not be read)\n");
	} else if (worst == 1) {
		printf("audit: FAIL (%" PRIu64 " violations)\n", total);
	} else {
		printf("audit: PASS\n");
	}
	return worst;
}
