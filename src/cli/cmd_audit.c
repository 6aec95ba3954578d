/* SPDX-License-Identifier: MIT */
/*
 * jvpn audit: verify event logs offline (spec §3, §8.6, PD-1).
 *
 *   jvpn audit [--quiet] [--json] [--epsilon MS] FILE.jsonl...
 *
 * ("-" reads standard input.)
 * Per file: every finding as "FILE:LINE: ID: what is wrong", then the
 * reconstructed timeline of each stream, a summary and the file's verdict;
 * at the end "audit: PASS" or "audit: FAIL (N violations)".  --quiet keeps
 * only the findings and the verdict; --json prints one JSON document.
 * Exit status: 0 every file passed, 1 a violation, 2 usage or I/O error.
 *
 * Memory stays bounded on any log: the file is read in fixed blocks, the
 * auditor keeps state per stream, and a stream's timeline waits in memory
 * only while the stream is live (past JV_AUDIT_BUFFER_MAX in total, the
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
	EPSILON_MAX_MS = 60000,
};

struct sbuf {
	char *p;
	size_t len, cap;
	bool continued;			/* part already spooled */
	struct jv_audit_stream info;	/* as of its latest entry */
};

struct ctx {
	const char *file;
	bool quiet, json;
	FILE *spool;			/* finished timelines / stream objects */
	FILE *vspool;			/* --json: violations */
	bool spool_any, vspool_any;
	struct sbuf **bufs;		/* by stream index */
	size_t nbufs;
	size_t buffered;
	bool failed;			/* out of memory or spool I/O */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: jvpn audit [--quiet] [--json] [--epsilon MS] "
		"FILE.jsonl...\n"
		"  --quiet       only violations and the verdict\n"
		"  --json        one JSON report on stdout\n"
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
		json_t *o = jv_audit_violation_json(v);
		char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;

		if (!t) {
			c->failed = true;
		} else {
			if (c->vspool_any && fputc(',', c->vspool) == EOF)
				c->failed = true;
			if (fputs(t, c->vspool) == EOF)
				c->failed = true;
			c->vspool_any = true;
		}
		free(t);
		json_decref(o);
		return;
	}
	/* a text too long for the line is printed truncated */
	if (jv_audit_format_violation(v, c->file, line, sizeof line) ==
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

/* ---- reading ---------------------------------------------------------- */

static int feed(FILE *f, struct jv_audit *a, const char *name,
		bool *missing_nl)
{
	return logread_feed(f, "jvpn audit", name, a, NULL, NULL, missing_nl);
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
	printf("  %" PRIu64 " switches, %" PRIu64 " denials, %" PRIu64
	       " security events\n", r->switches, r->denials, r->security);
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

static char *json_quote(const char *s)
{
	json_t *j = json_string(s);
	char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	json_decref(j);
	return t;
}

/* One file; returns 0 pass, 1 fail, 2 I/O error.  *nviol gets its count. */
static int audit_file(const char *name, const struct ctx *tmpl,
		      jv_time eps, bool first_json, uint64_t *nviol)
{
	struct ctx c = *tmpl;
	struct jv_audit_opts opts = { .epsilon_ms = eps };
	struct jv_audit_report r;
	struct jv_audit *a = NULL;
	bool missing_nl = false;
	FILE *f;
	int rc = 2;

	*nviol = 0;
	c.file = name;
	f = strcmp(name, "-") ? fopen(name, "rb") : stdin;
	if (!f) {
		fprintf(stderr, "jvpn audit: %s: %s\n", name, strerror(errno));
		return 2;
	}
	c.spool = tmpfile();
	c.vspool = c.json ? tmpfile() : NULL;
	if (!c.spool || (c.json && !c.vspool)) {
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
	if (feed(f, a, name, &missing_nl))
		goto out;
	if (jv_audit_finish(a, missing_nl, &r))
		goto out;
	if (c.failed) {
		fprintf(stderr, "jvpn audit: %s: out of memory or spool "
			"write error while reporting\n", name);
		goto out;
	}
	*nviol = r.violations;

	if (c.json) {
		json_t *rep = jv_audit_report_json(&r);
		char *rt = rep ? json_dumps(rep, JSON_COMPACT) : NULL;
		char *q = json_quote(name);

		json_decref(rep);
		if (!rt || !q) {
			free(rt);
			free(q);
			fprintf(stderr, "jvpn audit: out of memory\n");
			goto out;
		}
		printf("%s{\"file\":%s,\"violations\":[", first_json ? "" : ",",
		       q);
		if (copy_spool(c.vspool))
			goto spool_err;
		printf("]");
		if (!c.quiet) {
			printf(",\"streams\":[");
			if (copy_spool(c.spool))
				goto spool_err;
			printf("]");
		}
		printf(",\"summary\":%s,\"verdict\":\"%s\"}", rt,
		       r.pass ? "PASS" : "FAIL");
		free(rt);
		free(q);
		rc = r.pass ? 0 : 1;
		goto out;
spool_err:
		free(rt);
		free(q);
		fprintf(stderr, "jvpn audit: spool read error\n");
		goto out;
	}
	if (!c.quiet) {
		if (c.spool_any) {
			printf("timeline of %s:\n", name);
			fflush(stdout);
			if (copy_spool(c.spool)) {
				fprintf(stderr, "jvpn audit: spool read error\n");
				goto out;
			}
		}
		print_summary(name, &r);
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
	if (c.vspool)
		fclose(c.vspool);
	if (f != stdin)
		fclose(f);
	return rc;
}

static int parse_ms(const char *s, jv_time *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > EPSILON_MAX_MS)
		return -1;
	*out = v;
	return 0;
}

int cmd_audit(int argc, char **argv)
{
	struct ctx tmpl = { 0 };
	jv_time eps = 0;
	uint64_t total = 0;
	int nfiles = 0, worst = 0, first = 0;
	bool opts_done = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (opts_done || a[0] != '-' || !strcmp(a, "-")) {
			if (!nfiles)
				first = i;
			nfiles++;
			continue;
		}
		if (!strcmp(a, "--")) {
			opts_done = true;
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			tmpl.quiet = true;
		} else if (!strcmp(a, "--json")) {
			tmpl.json = true;
		} else if (!strcmp(a, "--epsilon")) {
			if (i + 1 >= argc || parse_ms(argv[++i], &eps)) {
				fprintf(stderr, "jvpn audit: --epsilon needs "
					"milliseconds, 0 to %d\n",
					EPSILON_MAX_MS);
				return 2;
			}
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "jvpn audit: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!nfiles) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "jvpn audit: libsodium failed to start\n");
		return 2;
	}
	if (tmpl.json)
		printf("{\"files\":[");
	opts_done = false;
	for (int i = first, k = 0; i < argc; i++) {
		const char *a = argv[i];
		uint64_t n;
		int rc;

		if (!opts_done && a[0] == '-' && strcmp(a, "-")) {
			if (!strcmp(a, "--"))
				opts_done = true;
			else if (!strcmp(a, "--epsilon"))
				i++;
			continue;
		}
		rc = audit_file(a, &tmpl, eps, k++ == 0, &n);
		total += n;
		if (rc > worst)
			worst = rc;
		if (!tmpl.json && nfiles > 1 && rc != 2)
			printf("%s: %s (%" PRIu64 " violations)\n", a,
			       rc ? "FAIL" : "PASS", n);
	}
	if (tmpl.json) {
		printf("],\"violations\":%" PRIu64 ",\"verdict\":\"%s\"}\n",
		       total, worst == 0 ? "PASS" : worst == 1 ? "FAIL" : "ERROR");
	} else if (worst == 2) {
		printf("audit: ERROR (a file could not be read)\n");
	} else if (worst == 1) {
		printf("audit: FAIL (%" PRIu64 " violations)\n", total);
	} else {
		printf("audit: PASS\n");
	}
	return worst;
}
