/* SPDX-License-Identifier: MIT */
#ifndef JVPN_REPORT_REPORT_H
#define JVPN_REPORT_REPORT_H

/*
 * The HTML report of event logs (DESIGN.md "Observability"): one
 * self-contained page, inline CSS and SVG, no script, no fetch.  It draws
 * what the auditor (src/audit) reconstructs, nothing else: a file's
 * collector is plugged into the auditor's hooks, keeps a bounded model of
 * each live stream (state intervals, markers, RTT/loss points), and turns
 * a stream into HTML as soon as the auditor says it ended.  So memory is
 * per live stream and capped; the page is capped too (timelines drawn for
 * a bounded number of streams and bytes, markers thinned beyond a cap per
 * stream), and the page says where it left something out.
 *
 * Every string that comes from a log (node and transport ids, details,
 * the auditor's messages that quote them, the file name) is escaped
 * (jv_report_html_escape): a log is untrusted input.
 *
 * Per-stream verdicts are only known when the whole file has been
 * audited (a late event can still break a stream that ended), so the
 * collector writes a placeholder and jv_report_file_write fills it in.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "audit/audit.h"
#include "jvpn/error.h"

/* Caps that keep the page bounded; the page names the ones it hit. */
enum {
	JV_REPORT_BAND_CAP = 256,	/* state bands per stream; beyond,
					   neighbours are merged in pairs */
	JV_REPORT_MARK_CAP = 256,	/* markers per stream and class (switch,
					   binding, end / denial, security);
					   beyond, every other one is kept */
	JV_REPORT_POINT_CAP = 512,	/* RTT/loss points per stream */
	JV_REPORT_VIOL_SHOWN = 500,	/* findings listed per file */
	JV_REPORT_ROWS_MAX = 2000,	/* overview rows per file */
	JV_REPORT_DETAIL_STREAMS = 200,	/* timelines drawn per page */
	JV_REPORT_DETAIL_BYTES = 24 << 20,	/* their bytes per page */
};

/* What is left of the page's allowance for drawn timelines; shared by
 * the files of one page. */
struct jv_report_budget {
	unsigned streams;
	size_t bytes;
};

#define JV_REPORT_BUDGET_INIT \
	{ JV_REPORT_DETAIL_STREAMS, JV_REPORT_DETAIL_BYTES }

/* One file as the page's top lists it. */
struct jv_report_verdict {
	const char *name;
	unsigned fileno;		/* 1-based, as given to file_new */
	bool pass;
	uint64_t violations;
};

struct jv_report_file;

/*
 * A collector for one file.  name is shown (escaped); fileno (1-based)
 * prefixes the page's element ids; budget (shared, kept by the caller)
 * bounds the timelines drawn.  The collector spools its output to
 * temporary files.
 * Returns 0, JV_ERR_INVAL (a NULL argument, fileno 0), JV_ERR_NOMEM,
 * JV_ERR_IO (no temporary file).
 */
JV_MUST_CHECK int jv_report_file_new(const char *name, unsigned fileno,
				     struct jv_report_budget *budget,
				     struct jv_report_file **out);
void jv_report_file_free(struct jv_report_file *f);

/* The auditor hooks that feed f (ud = f); use them in jv_audit_opts. */
void jv_report_file_hooks(struct jv_report_file *f, struct jv_audit_hooks *h);

/*
 * The raw line, just before it goes to jv_audit_line: picks up the path
 * figures the timeline entries do not carry (loss_ratio and
 * latency_estimate_ms of SessionStateChange and TransportSwitch), kept
 * if the auditor then reports a transition or a switch for this line.
 */
void jv_report_file_line(struct jv_report_file *f, const char *line,
			 size_t len, unsigned long lineno);

/*
 * After jv_audit_finish: the file's section (summary, findings, overview
 * table, each stream's timeline) to out.  r is the auditor's report.
 * Returns 0, JV_ERR_INVAL (NULL argument), JV_ERR_NOMEM (a hook ran out
 * of memory: the section would be incomplete), JV_ERR_IO (spool or out).
 */
JV_MUST_CHECK int jv_report_file_write(struct jv_report_file *f,
				       const struct jv_audit_report *r,
				       FILE *out);

/*
 * The page around the files' sections: head (style, title, verdict of
 * every file, legend) and tail.  Returns 0, JV_ERR_INVAL, JV_ERR_IO.
 */
JV_MUST_CHECK int jv_report_page_head(FILE *out,
				      const struct jv_report_verdict *v,
				      size_t n);
JV_MUST_CHECK int jv_report_page_tail(FILE *out);

/*
 * s escaped for HTML text and attribute values: & < > " ' as entities,
 * control characters other than tab and newline as U+FFFD (they are not
 * allowed in HTML).  Returns 0, JV_ERR_INVAL, JV_ERR_IO.
 */
JV_MUST_CHECK int jv_report_html_escape(FILE *out, const char *s);

#endif
