/* SPDX-License-Identifier: MIT */
/*
 * The page: head (style sheet, overall verdict, legend), one section per
 * file (its audit summary, its findings first, the overview of its
 * streams, the streams' timelines), tail.  A file's section is
 * assembled from the collector's spools once the auditor has finished,
 * filling in each stream's verdict then (see report.h).
 */

#include <inttypes.h>
#include <string.h>

#include "report_impl.h"

static const char style[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#222;"
	"max-width:1240px}\n"
	"h1{font-size:1.5em}h2{border-bottom:2px solid #ccc;margin-top:2em}\n"
	".verdict{font-size:1.2em;padding:.5em .8em;border-radius:4px}\n"
	".verdict.pass{background:#e3f4e6;border:1px solid #2e9d4a}\n"
	".verdict.fail{background:#fde8e6;border:2px solid #c62828}\n"
	".pass{color:#1b7a35;font-weight:bold}"
	".fail{color:#c62828;font-weight:bold}\n"
	".viol{background:#fff4f3;border-left:4px solid #c62828;"
	"padding:.5em .5em .5em 2.5em}\n"
	".check{font-family:monospace;font-weight:bold}\n"
	"table{border-collapse:collapse;margin:.5em 0}\n"
	"th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;"
	"vertical-align:top}\n"
	"td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	"caption{text-align:left;font-weight:bold}\n"
	"section.stream{margin:1.5em 0;padding-top:.5em;"
	"border-top:1px dashed #ccc}\n"
	"svg.tl{display:block;max-width:1000px;border:1px solid #ddd;"
	"background:#fff}\n"
	".band{stroke:#fff;stroke-width:.3}"
	".merged{stroke:#000;stroke-dasharray:2 2}\n"
	".s-birth{fill:#9e9e9e;background:#9e9e9e}"
	".s-attached{fill:#2e9d4a;background:#2e9d4a}"
	".s-volatile{fill:#f2b632;background:#f2b632}"
	".s-degraded{fill:#e8741e;background:#e8741e}"
	".s-recovering{fill:#3a78d4;background:#3a78d4}"
	".s-terminated{fill:#2b2b2b;background:#2b2b2b}"
	".s-unknown{fill:#e0e0e0;background:#e0e0e0}\n"
	".bl{font:11px sans-serif;fill:#111;pointer-events:none}"
	".bl.light{fill:#fff}\n"
	".lane,.tk{font:10px sans-serif;fill:#555}"
	".swt{font:10px sans-serif;fill:#4a2c8a}\n"
	".m-switch{fill:#6a3fb5}.m-switch.forced{fill:#b0003a}"
	".swl{stroke:#6a3fb5;stroke-dasharray:2 2}"
	".damp{fill:#c9a227;fill-opacity:.55;stroke:#8a6d00;stroke-width:.5}"
	".dl{font:9px sans-serif;fill:#3d3000;pointer-events:none}\n"
	".m-attach{fill:#2e9d4a}.m-dead{stroke:#000;stroke-width:2;"
	"fill:none}.m-denial{fill:#d32f2f}.m-security{fill:#8e24aa}"
	".m-end{fill:#222}.m-other{fill:#777}\n"
	".axis,.tick{stroke:#888}.eol{stroke:#000;stroke-dasharray:3 2}"
	".panel{fill:#f7f7f7;stroke:#ddd}"
	".pt-lat{fill:#1565c0}.pt-loss{fill:#c62828}"
	".sw{stroke:#000;stroke-width:.8}\n"
	".key{display:inline-block;width:.9em;height:.9em;"
	"border:1px solid #999;vertical-align:middle}\n"
	".note{color:#555;font-style:italic}"
	".legend li{display:inline-block;margin-right:1.2em}\n";

static int done(FILE *out)
{
	return ferror(out) ? JV_ERR_IO : 0;
}

int jv_report_page_head(FILE *out, const struct jv_report_verdict *v,
			size_t n)
{
	static const int states[] = {
		JV_STATE_BIRTH, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
		JV_STATE_DEGRADED, JV_STATE_RECOVERING, JV_STATE_TERMINATED,
	};
	uint64_t total = 0;
	bool pass = true;

	if (!out || (!v && n))
		return JV_ERR_INVAL;
	for (size_t i = 0; i < n; i++) {
		total += v[i].violations;
		pass &= v[i].pass;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\">\n<title>jvpn report: ", out);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", out);
		rp_esc(out, v[i].name);
	}
	fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n",
		style);
	fputs("<h1>jvpn event log report</h1>\n", out);
	fprintf(out, "<p class=\"verdict %s\">Audit verdict: <span "
		"class=\"%s\">%s</span>, %zu file%s, %" PRIu64
		" violation%s</p>\n", pass ? "pass" : "fail",
		pass ? "pass" : "fail", pass ? "PASS" : "FAIL", n,
		n == 1 ? "" : "s", total, total == 1 ? "" : "s");
	fputs("<ul class=\"files\">\n", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<li><a href=\"#f%u\">", v[i].fileno);
		rp_esc(out, v[i].name);
		fprintf(out, "</a>: <span class=\"%s\">%s</span> (<a "
			"href=\"#f%u-violations\">%" PRIu64 " violation%s"
			"</a>)</li>\n", v[i].pass ? "pass" : "fail",
			v[i].pass ? "PASS" : "FAIL", v[i].fileno,
			v[i].violations, v[i].violations == 1 ? "" : "s");
	}
	fputs("</ul>\n", out);
	fputs("<p>What <code>jvpn audit</code> reconstructed from each log "
	      "(docs/report.md): per session and role, a time line of its "
	      "states as coloured bands with the binding of each interval, "
	      "switches and other events as markers, and the path's round "
	      "trip and loss when the log carries them.  Hover over a band "
	      "or a marker for the auditor's line about it; the tables "
	      "below each time line say the same in words.</p>\n", out);
	fputs("<ul class=\"legend\">\n", out);
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		fprintf(out, "<li><span class=\"key %s\"></span> %s</li>\n",
			rp_state_class(states[i]), rp_state_name(states[i]));
	fputs("<li><span style=\"color:#b0003a\">&#9660;</span> forced "
	      "switch, <span style=\"color:#6a3fb5\">&#9660;</span> "
	      "discretionary switch (from -&gt; to; fail-back and migration "
	      "named)</li>\n"
	      "<li><span style=\"color:#c9a227\">&#9644;</span> transport "
	      "damped (flap penalty above switching.flap_suppress, PD-7)"
	      "</li>\n"
	      "<li><span style=\"color:#2e9d4a\">&#9679;</span> bound</li>\n"
	      "<li>&#10005; transport dead</li>\n"
	      "<li><span style=\"color:#d32f2f\">|</span> denial</li>\n"
	      "<li><span style=\"color:#8e24aa\">&#9670;</span> security "
	      "event</li>\n"
	      "<li>&#9632; termination</li>\n"
	      "<li><span style=\"color:#777\">&#9642;</span> owner / policy"
	      "</li>\n"
	      "<li><span style=\"color:#1565c0\">&#9679;</span> RTT, <span "
	      "style=\"color:#c62828\">&#9679;</span> loss (outlined: at a "
	      "switch)</li>\n</ul>\n", out);
	return done(out);
}

int jv_report_page_tail(FILE *out)
{
	if (!out)
		return JV_ERR_INVAL;
	fputs("<footer><p class=\"note\">Written by jvpn report.  Times are "
	      "the logs' ts_ms; +s is the time since the stream's first "
	      "event.</p></footer>\n</body>\n</html>\n", out);
	return done(out);
}

/* ---- a file's section ------------------------------------------------- */

static void verdict_html(FILE *out, const struct jv_report_file *f,
			 unsigned index)
{
	uint32_t n = index < f->nlive ? f->nviol[index] : 0;

	if (n)
		fprintf(out, "<span class=\"fail\">FAIL (%" PRIu32
			" finding%s)</span>", n, n == 1 ? "" : "s");
	else
		fputs("<span class=\"pass\">PASS</span>", out);
}

/* A spool to out, each "\x01N\x02" replaced by stream N's verdict (the
 * escaping turns any control byte of a log into U+FFFD, so the two
 * bytes occur nowhere else). */
static int copy_spool(FILE *out, FILE *from, const struct jv_report_file *f)
{
	char blk[65536];
	bool in_slot = false;
	unsigned idx = 0;
	size_t n;

	fflush(from);
	rewind(from);
	while ((n = fread(blk, 1, sizeof blk, from)) > 0) {
		size_t i = 0;

		while (i < n) {
			if (in_slot) {
				char c = blk[i++];

				if (c == '\x02') {
					verdict_html(out, f, idx);
					in_slot = false;
				} else if (c >= '0' && c <= '9' &&
					   idx < UINT32_MAX / 10) {
					idx = idx * 10 + (unsigned)(c - '0');
				}
				continue;
			}
			{
				const char *p = memchr(blk + i, '\x01', n - i);
				size_t k = p ? (size_t)(p - blk) : n;

				if (k > i && fwrite(blk + i, 1, k - i, out) !=
				    k - i)
					return JV_ERR_IO;
				i = k;
				if (p) {
					in_slot = true;
					idx = 0;
					i++;
				}
			}
		}
	}
	return ferror(from) ? JV_ERR_IO : done(out);
}

static void kv(FILE *out, const char *k)
{
	fprintf(out, "<tr><th scope=\"row\">%s</th><td>", k);
}

static void latency(FILE *out, const char *who,
		    const struct jv_audit_latency *l)
{
	fprintf(out, "<tr><th scope=\"row\">recovery latency (%s)</th><td>",
		who);
	if (l->count)
		fprintf(out, "n=%" PRIu64 ", median %" PRIu64 " ms, p95 %"
			PRIu64 " ms, max %" PRIu64 " ms", l->count,
			l->median_ms, l->p95_ms, l->max_ms);
	else
		fputs("none", out);
	fputs("</td></tr>\n", out);
}

static void file_summary(FILE *out, const struct jv_report_file *f,
			 const struct jv_audit_report *r)
{
	bool any = false;

	fputs("<table class=\"kv\"><caption>Audit summary</caption><tbody>\n",
	      out);
	kv(out, "lines, events");
	fprintf(out, "%" PRIu64 ", %" PRIu64 "</td></tr>\n", r->lines,
		r->events);
	kv(out, "streams");
	fprintf(out, "%u (%u client, %u gateway)</td></tr>\n", r->streams,
		r->streams_client, r->streams_gateway);
	kv(out, "ts_ms");
	if (r->have_ts)
		fprintf(out, "%" PRIu64 " .. %" PRIu64 " (%.3f s)", r->first_ts,
			r->last_ts,
			(double)(r->last_ts - r->first_ts) / 1000.0);
	else
		fputs("no events", out);
	fputs("</td></tr>\n", out);
	kv(out, "terminated");
	fprintf(out, "%u", r->terminated);
	for (int x = 0; x < JV_REASON_COUNT; x++)
		if (r->terminations[x]) {
			fprintf(out, "%s%s %" PRIu64, any ? ", " : " (",
				jv_reason_name((enum jv_reason)x),
				r->terminations[x]);
			any = true;
		}
	fprintf(out, "%s</td></tr>\n", any ? ")" : "");
	kv(out, "switches (forced, discretionary), denials, security "
	   "events, dampings");
	fprintf(out, "%" PRIu64 " (%" PRIu64 ", %" PRIu64 "), %" PRIu64 ", %"
		PRIu64 ", %" PRIu64 "</td></tr>\n", r->switches,
		r->switches_forced, r->switches - r->switches_forced,
		r->denials, r->security, r->damped);
	kv(out, "time in VOLATILE, DEGRADED");
	fprintf(out, "%" PRIu64 " ms, %" PRIu64 " ms</td></tr>\n",
		r->volatile_ms, r->degraded_ms);
	latency(out, "client", &r->recovery[JV_ROLE_CLIENT]);
	latency(out, "gateway", &r->recovery[JV_ROLE_GATEWAY]);
	kv(out, "violations");
	fprintf(out, "%" PRIu64, r->violations);
	any = false;
	for (int k = 0; k < JV_AC_COUNT; k++)
		if (r->by_check[k]) {
			fprintf(out, "%s%s %" PRIu64, any ? ", " : " (",
				jv_audit_check_name((enum jv_audit_check)k),
				r->by_check[k]);
			any = true;
		}
	fprintf(out, "%s", any ? ")" : "");
	if (f->viol_file)
		fprintf(out, "; %" PRIu64 " about the file itself (no "
			"stream)", f->viol_file);
	fputs("</td></tr>\n</tbody></table>\n", out);
}

static int findings(FILE *out, const struct jv_report_file *f)
{
	fprintf(out, "<h3 id=\"f%u-violations\">Violations (%" PRIu64
		")</h3>\n", f->fileno, f->viol_total);
	if (!f->viol_total) {
		fputs("<p class=\"pass\">None: every check of the audit "
		      "held.</p>\n", out);
		return 0;
	}
	fputs("<ol class=\"viol\">\n", out);
	if (copy_spool(out, f->viol, f))
		return JV_ERR_IO;
	fputs("</ol>\n", out);
	if (f->viol_total > f->viol_shown)
		fprintf(out, "<p class=\"note\">%" PRIu64 " more not listed "
			"here (the first %d are); <code>jvpn audit</code> "
			"lists them all.</p>\n", f->viol_total - f->viol_shown,
			JV_REPORT_VIOL_SHOWN);
	return 0;
}

static int overview(FILE *out, const struct jv_report_file *f)
{
	fprintf(out, "<h3>Streams (%u)</h3>\n", f->streams);
	if (f->detailed < f->streams)
		fprintf(out, "<p class=\"note\">Time lines are drawn for %u "
			"of these %u streams: a page holds at most %d time "
			"lines and %d MiB of them; the others have their row "
			"here only.</p>\n", f->detailed, f->streams,
			JV_REPORT_DETAIL_STREAMS, JV_REPORT_DETAIL_BYTES >> 20);
	if (f->rows_written < f->streams)
		fprintf(out, "<p class=\"note\">The table lists the first %u "
			"streams to end, of %u.</p>\n", f->rows_written,
			f->streams);
	if (f->thinned)
		fprintf(out, "<p class=\"note\">%" PRIu64 " stream%s had "
			"more than a time line shows (more than %d state "
			"bands, %d markers of a kind or %d RTT/loss points): "
			"its time line says what was merged or left out.</p>\n",
			f->thinned, f->thinned == 1 ? "" : "s",
			JV_REPORT_BAND_CAP, JV_REPORT_MARK_CAP,
			JV_REPORT_POINT_CAP);
	if (!f->rows_written)
		return 0;
	fputs("<table class=\"ov\"><thead><tr><th>stream</th><th>role</th>"
	      "<th>session</th><th>node</th><th>birth ts_ms</th>"
	      "<th>shown span</th><th>transitions</th><th>switches</th>"
	      "<th>denials</th><th>security</th><th>ATTACHED</th>"
	      "<th>VOLATILE</th><th>DEGRADED</th><th>RECOVERING</th>"
	      "<th>recovery latency</th><th>end</th><th>verdict</th></tr>"
	      "</thead>\n<tbody>\n", out);
	if (copy_spool(out, f->rows, f))
		return JV_ERR_IO;
	fputs("</tbody></table>\n", out);
	return 0;
}

int jv_report_file_write(struct jv_report_file *f,
			 const struct jv_audit_report *r, FILE *out)
{
	if (!f || !r || !out)
		return JV_ERR_INVAL;
	if (f->failed)
		return JV_ERR_NOMEM;
	if (ferror(f->viol) || ferror(f->rows) || ferror(f->detail))
		return JV_ERR_IO;
	fprintf(out, "<section class=\"file\" id=\"f%u\">\n<h2>File %u: ",
		f->fileno, f->fileno);
	rp_esc(out, f->name);
	fprintf(out, ": <span class=\"%s\">%s</span></h2>\n",
		r->pass ? "pass" : "fail", r->pass ? "PASS" : "FAIL");
	if (findings(out, f))
		return JV_ERR_IO;
	file_summary(out, f, r);
	if (overview(out, f))
		return JV_ERR_IO;
	if (copy_spool(out, f->detail, f))
		return JV_ERR_IO;
	fputs("</section>\n", out);
	return done(out);
}
