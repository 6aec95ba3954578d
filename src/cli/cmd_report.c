/* SPDX-License-Identifier: MIT */
/*
 * jvpn report: event logs as one self-contained HTML page (DESIGN.md
 * "Observability"; docs/report.md).
 *
 *   jvpn report [--epsilon MS] FILE.jsonl... -o report.html
 *
 * ("-" reads standard input; "-o -" writes to standard output.)  Each
 * file is audited as `jvpn audit` does (src/audit), and the page shows
 * what the auditor reconstructed (src/report): the verdict and the
 * findings first, then per stream a time line and its tables.
 * Exit status: 0 every file passed, 1 a violation (the page is written
 * all the same), 2 usage or I/O error (one line on stderr, no page).
 *
 * Memory stays bounded: the files are read in fixed blocks, the auditor
 * and the report keep state per live stream, and the page goes through
 * temporary files until every verdict is known.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "commands.h"
#include "logread.h"
#include "report/report.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: jvpn report [--epsilon MS] FILE.jsonl... -o "
		"REPORT.html\n"
		"  -o, --output F  the page to write (\"-\": standard output)\n"
		"  --epsilon MS    tolerance of the time bounds (spec §3.2), "
		"as for jvpn audit\n");
}

static void tap_report(void *ud, const char *line, size_t len,
		       unsigned long lineno)
{
	jv_report_file_line(ud, line, len, lineno);
}

/* Each line to the report (its path figures), then to the auditor. */
static int feed(FILE *in, const char *name, struct jv_audit *a,
		struct jv_report_file *rf, bool *missing_nl)
{
	return logread_feed(in, "jvpn report", name, a, tap_report, rf,
			    missing_nl);
}

/* One file into body; 0 done (v filled), -1 error printed. */
static int report_file(FILE *in, const char *name, unsigned fileno,
		       jv_time eps, struct jv_report_budget *budget,
		       FILE *body, struct jv_report_verdict *v)
{
	struct jv_audit_opts opts = { .epsilon_ms = eps };
	struct jv_report_file *rf = NULL;
	struct jv_audit_report r;
	struct jv_audit *a = NULL;
	bool missing_nl;
	int rc = -1, err;

	err = jv_report_file_new(name, fileno, budget, &rf);
	if (err) {
		fprintf(stderr, "jvpn report: %s\n", err == JV_ERR_IO ?
			"cannot create a temporary file" : "out of memory");
		return -1;
	}
	jv_report_file_hooks(rf, &opts.hooks);
	if (jv_audit_new(&opts, &a)) {
		fprintf(stderr, "jvpn report: out of memory\n");
		goto out;
	}
	if (feed(in, name, a, rf, &missing_nl))
		goto out;
	if (jv_audit_finish(a, missing_nl, &r)) {
		fprintf(stderr, "jvpn report: %s: audit failed\n", name);
		goto out;
	}
	err = jv_report_file_write(rf, &r, body);
	if (err) {
		fprintf(stderr, "jvpn report: %s: %s while writing the "
			"page\n", name, err == JV_ERR_NOMEM ? "out of memory" :
			"temporary file error");
		goto out;
	}
	v->name = name;
	v->fileno = fileno;
	v->pass = r.pass;
	v->violations = r.violations;
	rc = 0;
out:
	jv_audit_free(a);
	jv_report_file_free(rf);
	return rc;
}

static int copy_all(FILE *from, FILE *to)
{
	char blk[65536];
	size_t n;

	if (fflush(from))
		return -1;
	rewind(from);
	while ((n = fread(blk, 1, sizeof blk, from)) > 0)
		if (fwrite(blk, 1, n, to) != n)
			return -1;
	return ferror(from) ? -1 : 0;
}

/* The page: head, the files' sections, tail; -1 after printing why. */
static int write_page(const char *path, FILE *body,
		      const struct jv_report_verdict *v, size_t n)
{
	bool std = !strcmp(path, "-");
	FILE *out = std ? stdout : fopen(path, "w");
	int rc = 0;

	if (!out) {
		fprintf(stderr, "jvpn report: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (jv_report_page_head(out, v, n) || copy_all(body, out) ||
	    jv_report_page_tail(out))
		rc = -1;
	if (std ? fflush(out) : fclose(out))
		rc = -1;
	if (rc) {
		fprintf(stderr, "jvpn report: %s: write error: %s\n", path,
			strerror(errno));
		if (!std)
			remove(path);
	}
	return rc;
}

int cmd_report(int argc, char **argv)
{
	struct jv_report_budget budget = JV_REPORT_BUDGET_INIT;
	struct jv_report_verdict *v = NULL;
	const char *out = NULL;
	const char **names;
	FILE **in = NULL, *body = NULL;
	uint64_t total = 0;
	size_t nfiles = 0;
	bool opts_done = false, any_stdin = false, fail = false;
	jv_time eps = 0;
	int rc = 2;

	names = calloc((size_t)argc + 1, sizeof *names);
	if (!names) {
		fprintf(stderr, "jvpn report: out of memory\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (opts_done || a[0] != '-' || !strcmp(a, "-")) {
			if (!strcmp(a, "-")) {
				if (any_stdin) {
					fprintf(stderr, "jvpn report: standard "
						"input named twice\n");
					goto out;
				}
				any_stdin = true;
			}
			names[nfiles++] = a;
		} else if (!strcmp(a, "--")) {
			opts_done = true;
		} else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			if (i + 1 >= argc || !argv[i + 1][0]) {
				fprintf(stderr, "jvpn report: %s needs a file "
					"name\n", a);
				goto out;
			}
			out = argv[++i];
		} else if (!strncmp(a, "--output=", 9) && a[9]) {
			out = a + 9;
		} else if (!strcmp(a, "--epsilon")) {
			if (i + 1 >= argc || logread_epsilon(argv[++i], &eps)) {
				fprintf(stderr, "jvpn report: --epsilon needs "
					"milliseconds, 0 to %d\n",
					LOGREAD_EPSILON_MAX_MS);
				goto out;
			}
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			rc = 0;
			goto out;
		} else {
			fprintf(stderr, "jvpn report: unknown option '%s' "
				"(see jvpn report --help)\n", a);
			goto out;
		}
	}
	if (!nfiles) {
		fprintf(stderr, "jvpn report: no log file given (usage: jvpn "
			"report FILE.jsonl... -o REPORT.html)\n");
		goto out;
	}
	if (!out) {
		fprintf(stderr, "jvpn report: no output file: give -o "
			"REPORT.html\n");
		goto out;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "jvpn report: libsodium failed to start\n");
		goto out;
	}
	/* every input opens before anything is written */
	in = calloc(nfiles, sizeof *in);
	v = calloc(nfiles, sizeof *v);
	if (!in || !v) {
		fprintf(stderr, "jvpn report: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < nfiles; i++) {
		in[i] = strcmp(names[i], "-") ? fopen(names[i], "rb") : stdin;
		if (!in[i]) {
			fprintf(stderr, "jvpn report: %s: %s\n", names[i],
				strerror(errno));
			goto out;
		}
	}
	body = tmpfile();
	if (!body) {
		fprintf(stderr, "jvpn report: cannot create a temporary file: "
			"%s\n", strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < nfiles; i++) {
		if (report_file(in[i], names[i], (unsigned)i + 1, eps, &budget,
				body, &v[i]))
			goto out;
		total += v[i].violations;
		fail |= !v[i].pass;
	}
	if (write_page(out, body, v, nfiles))
		goto out;
	if (strcmp(out, "-"))
		printf("report: %s (%" PRIu64 " violation%s), written to %s\n",
		       fail ? "FAIL" : "PASS", total, total == 1 ? "" : "s",
		       out);
	rc = fail ? 1 : 0;
out:
	for (size_t i = 0; in && i < nfiles; i++)
		if (in[i] && in[i] != stdin)
			fclose(in[i]);
	if (body)
		fclose(body);
	free(in);
	free(v);
	free(names);
	return rc;
}
