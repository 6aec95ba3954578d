/* SPDX-License-Identifier: MIT */
/*
 * The report library on synthetic auditor callbacks: escaping, the evenly
 * thinned lists, one band per interval and the merge past the cap, path
 * figures matched to their line, switch classes, planned switches and
 * damped intervals (PD-7, PD-8), verdicts filled in after a stream ended,
 * failing allocations.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report/report_impl.h"

void *__real_calloc(size_t n, size_t sz);
void *__wrap_calloc(size_t n, size_t sz);
static int calloc_fail_in = -1;		/* fail the n-th call; -1 never */

void *__wrap_calloc(size_t n, size_t sz)
{
	if (calloc_fail_in >= 0 && calloc_fail_in-- == 0)
		return NULL;
	return __real_calloc(n, sz);
}

/* ---- helpers ---------------------------------------------------------- */

static char *slurp(FILE *f)
{
	long n;
	char *s;

	assert_int_equal(fflush(f), 0);
	n = ftell(f);
	assert_true(n >= 0);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	rewind(f);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	return s;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p;
	     p = strstr(p + 1, needle))
		n++;
	return n;
}

struct rig {
	struct jv_report_budget budget;
	struct jv_report_file *f;
	struct jv_audit_hooks h;
	struct jv_audit_stream s;
};

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof *r);
	r->budget = (struct jv_report_budget)JV_REPORT_BUDGET_INIT;
	assert_int_equal(jv_report_file_new("t.jsonl", 1, &r->budget, &r->f),
			 0);
	jv_report_file_hooks(r->f, &r->h);
	r->s.index = 1;
	r->s.role = JV_ROLE_CLIENT;
	strcpy(r->s.session_id, "0123456789abcdef0123456789abcdef");
	strcpy(r->s.node_id, "client-1");
	strcpy(r->s.policy_version, "1.0");
	r->s.born = true;
	r->s.born_ms = 100;
	r->s.born_line = 1;
}

static void entry(struct rig *r, enum jv_audit_entry_kind k, jv_time ts,
		  int from, int to, unsigned long line)
{
	struct jv_audit_entry e = {
		.kind = k, .line = line, .ts_ms = ts, .from = from, .to = to,
		.reason = JV_REASON_NONE, .node_id = "client-1",
	};

	r->h.entry(r->h.ud, &r->s, &e);
}

/* The page of r's file; caller frees. */
static char *rig_page(struct rig *r, int want)
{
	struct jv_audit_report rep = { .pass = true };
	FILE *out = tmpfile();
	char *s;

	assert_non_null(out);
	assert_int_equal(jv_report_file_write(r->f, &rep, out), want);
	s = slurp(out);
	fclose(out);
	jv_report_file_free(r->f);
	r->f = NULL;
	return s;
}

/* ---- tests ------------------------------------------------------------ */

static void escape_everything_markup(void **st)
{
	FILE *f = tmpfile();
	char *s;

	(void)st;
	assert_non_null(f);
	assert_int_equal(jv_report_html_escape(f, "<a href=\"x\">&'\x01\t</a>"
					       "\xc3\xa9"), 0);
	s = slurp(f);
	assert_string_equal(s, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
			    "\xef\xbf\xbd\t&lt;/a&gt;\xc3\xa9");
	free(s);
	assert_int_equal(jv_report_html_escape(NULL, "x"), JV_ERR_INVAL);
	assert_int_equal(jv_report_html_escape(f, NULL), JV_ERR_INVAL);
	fclose(f);
}

static void sample_keeps_an_even_spread(void **st)
{
	struct rp_sample s = { .size = sizeof(int), .max = 8 };
	bool nomem = false;

	(void)st;
	for (int i = 0; i < 100; i++) {
		int *slot = rp_sample_slot(&s, &nomem);

		if (slot)
			*slot = i;
	}
	assert_false(nomem);
	/* 100 offers into 8: stride 16, offers 0, 16, ..., 96 */
	assert_int_equal(s.stride, 16);
	assert_int_equal(s.n, 7);
	assert_int_equal(s.seen, 100);
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(((int *)s.v)[i], (int)(16 * i));
	rp_sample_free(&s);
}

static void tid_cut_on_a_character(void **st)
{
	char b[8];

	(void)st;
	rp_copy_tid(b, sizeof b, "p1");
	assert_string_equal(b, "p1");
	rp_copy_tid(b, sizeof b, NULL);
	assert_string_equal(b, "none");
	/* "abc" then a 2-byte character straddling the cut at 4 bytes */
	rp_copy_tid(b, sizeof b, "abc\xc3\xa9xyz");
	assert_string_equal(b, "abc\xe2\x80\xa6");
}

static void one_band_per_interval(void **st)
{
	static const int path[] = {
		JV_STATE_BIRTH, JV_STATE_ATTACHED, JV_STATE_VOLATILE,
		JV_STATE_RECOVERING, JV_STATE_ATTACHED, JV_STATE_TERMINATED,
	};
	struct rig r;
	char *page;

	(void)st;
	rig_init(&r);
	entry(&r, JV_AE_BIRTH, 100, 0, JV_STATE_BIRTH, 1);
	for (int i = 1; i < 6; i++)
		entry(&r, JV_AE_STATE, 100 + 1000 * (jv_time)i, path[i - 1],
		      path[i], 1 + (unsigned long)i);
	entry(&r, JV_AE_TERMINATED, 5100, 0, 0, 7);
	r.h.stream_end(r.h.ud, &r.s);
	page = rig_page(&r, 0);
	assert_int_equal(count(page, "<rect class=\"band "), 6);
	assert_int_equal(count(page, "<rect class=\"band s-attached"), 2);
	assert_int_equal(count(page, "<rect class=\"band s-terminated"), 1);
	assert_int_equal(count(page, " merged"), 0);
	assert_non_null(strstr(page, "data-transitions=\"5\""));
	assert_non_null(strstr(page, "time in ATTACHED</th><td>0 ms"));
	free(page);
}

static void bands_merge_past_the_cap(void **st)
{
	struct rig r;
	char *page;
	size_t n;

	(void)st;
	rig_init(&r);
	entry(&r, JV_AE_BIRTH, 100, 0, JV_STATE_BIRTH, 1);
	entry(&r, JV_AE_STATE, 100, JV_STATE_BIRTH, JV_STATE_ATTACHED, 2);
	for (int i = 0; i < 5000; i++)
		entry(&r, JV_AE_STATE, 200 + 10 * (jv_time)i,
		      i % 2 ? JV_STATE_VOLATILE : JV_STATE_ATTACHED,
		      i % 2 ? JV_STATE_ATTACHED : JV_STATE_VOLATILE,
		      3 + (unsigned long)i);
	r.h.stream_end(r.h.ud, &r.s);
	page = rig_page(&r, 0);
	n = count(page, "<rect class=\"band ");
	assert_true(n >= JV_REPORT_BAND_CAP / 2);
	assert_true(n <= JV_REPORT_BAND_CAP + 2);
	assert_true(count(page, " merged\"") > 0);
	assert_non_null(strstr(page, "5002 state intervals: past 256 bands"));
	free(page);
}

static void figures_join_their_line(void **st)
{
	static const char line[] =
		"{\"event_type\":\"SessionStateChange\",\"loss_ratio\":0.25,"
		"\"latency_estimate_ms\":40}";
	struct rig r;
	char *page;

	(void)st;
	rig_init(&r);
	entry(&r, JV_AE_BIRTH, 100, 0, JV_STATE_BIRTH, 1);
	jv_report_file_line(r.f, line, sizeof line - 1, 2);
	entry(&r, JV_AE_STATE, 200, JV_STATE_BIRTH, JV_STATE_ATTACHED, 2);
	/* figures of line 3 do not attach to an entry of line 4 */
	jv_report_file_line(r.f, line, sizeof line - 1, 3);
	entry(&r, JV_AE_STATE, 300, JV_STATE_ATTACHED, JV_STATE_VOLATILE, 4);
	r.h.stream_end(r.h.ud, &r.s);
	page = rig_page(&r, 0);
	assert_int_equal(count(page, "<circle class=\"pt-lat\""), 1);
	assert_int_equal(count(page, "<circle class=\"pt-loss\""), 1);
	assert_non_null(strstr(page, "latency_estimate_ms 40, loss_ratio "
			       "0.25 (SessionStateChange, line 2)"));
	free(page);
}

/* One entry of the auditor with the PD-7 fields. */
static void entry_pd7(struct rig *r, enum jv_audit_entry_kind k, jv_time ts,
		      int from, int to, enum jv_reason why, bool forced,
		      const char *a, const char *b, uint64_t penalty,
		      unsigned long line)
{
	struct jv_audit_entry e = {
		.kind = k, .line = line, .ts_ms = ts, .from = from, .to = to,
		.reason = why, .node_id = "client-1", .forced = forced,
		.from_transport = a, .to_transport = b,
		.flap_penalty = penalty,
	};

	r->h.entry(r->h.ud, &r->s, &e);
}

/* PD-7, PD-8: switch classes, planned switches by name, damped intervals
 * per transport (to TransportReused, or to the end of the log). */
static void switch_classes_and_damping(void **st)
{
	const int A = JV_STATE_ATTACHED, V = JV_STATE_VOLATILE,
		  R = JV_STATE_RECOVERING, N = JV_STATE_COUNT;
	struct rig r;
	char *page;

	(void)st;
	rig_init(&r);
	entry(&r, JV_AE_BIRTH, 100, 0, JV_STATE_BIRTH, 1);
	entry(&r, JV_AE_STATE, 100, JV_STATE_BIRTH, A, 2);
	/* a forced switch: p1 dies */
	entry_pd7(&r, JV_AE_STATE, 1000, A, V, JV_REASON_TRANSPORT_DEAD,
		  false, NULL, NULL, 0, 3);
	entry_pd7(&r, JV_AE_DAMPED, 1000, N, N, JV_REASON_NONE, false, NULL,
		  "p1", 3100, 4);
	entry_pd7(&r, JV_AE_STATE, 1000, V, R,
		  JV_REASON_DEAD_TRANSPORT_RECOVERY, true, NULL, NULL, 0, 5);
	entry_pd7(&r, JV_AE_STATE, 1040, R, A, JV_REASON_REATTACH_SUCCESS,
		  false, NULL, NULL, 0, 6);
	entry_pd7(&r, JV_AE_SWITCH, 1040, N, N, JV_REASON_NONE, true, NULL,
		  "p2", 0, 7);
	entry_pd7(&r, JV_AE_DAMPED, 1500, N, N, JV_REASON_NONE, false, NULL,
		  "p3", 3001, 8);
	entry_pd7(&r, JV_AE_REUSED, 6000, N, N, JV_REASON_NONE, false, NULL,
		  "p1", 749, 9);
	/* a fail-back (T13): no outage */
	entry_pd7(&r, JV_AE_STATE, 9000, A, R, JV_REASON_FAILBACK, false,
		  "p2", "p1", 0, 10);
	entry_pd7(&r, JV_AE_STATE, 9020, R, A, JV_REASON_REATTACH_SUCCESS,
		  false, NULL, NULL, 0, 11);
	entry_pd7(&r, JV_AE_SWITCH, 9020, N, N, JV_REASON_NONE, false, "p2",
		  "p1", 0, 12);
	/* an operator migration */
	entry_pd7(&r, JV_AE_STATE, 9500, A, R, JV_REASON_OPERATOR_MIGRATION,
		  false, "p1", "p2", 0, 13);
	entry_pd7(&r, JV_AE_STATE, 9540, R, A, JV_REASON_REATTACH_SUCCESS,
		  false, NULL, NULL, 0, 14);
	entry_pd7(&r, JV_AE_SWITCH, 9540, N, N, JV_REASON_NONE, false, "p1",
		  "p2", 0, 15);
	entry(&r, JV_AE_OPEN, 10000, A, A, 0);
	r.h.stream_end(r.h.ud, &r.s);
	page = rig_page(&r, 0);
	assert_int_equal(count(page, "class=\"m-switch forced\""), 1);
	assert_int_equal(count(page, "class=\"m-switch disc\""), 2);
	assert_non_null(strstr(page, ">p2 -&gt; p1 fail-back</text>"));
	assert_non_null(strstr(page, ">p1 -&gt; p2 migration</text>"));
	assert_non_null(strstr(page, "<th scope=\"row\">switches</th><td>3: 1 "
			       "forced, 2 discretionary"));
	assert_non_null(strstr(page, "fail-backs</th><td>1 started, 1 "
			       "switched"));
	assert_non_null(strstr(page, "operator migrations</th><td>1 started, "
			       "1 switched"));
	/* one outage (p1's death), not the planned switches */
	assert_non_null(strstr(page, "recovery latency</th><td>n=1, mean "
			       "40 ms"));
	/* p1 damped 1000..6000, p3 from 1500 to the end of the log */
	assert_int_equal(count(page, "<rect class=\"damp\""), 2);
	assert_non_null(strstr(page, "Damped transports (2 intervals)"));
	assert_non_null(strstr(page, "p1 damped +0.900 s .. +5.900 s (5000 "
			       "ms), flap penalty 3100 .. 749 when reused "
			       "(lines 4 .. 9)"));
	assert_non_null(strstr(page, "p3 damped +1.400 s .. +9.900 s (8500 "
			       "ms), flap penalty 3001, still damped at the "
			       "end of the log (line 8)"));
	free(page);

	/* no damping: no lane, no table */
	rig_init(&r);
	entry(&r, JV_AE_BIRTH, 100, 0, JV_STATE_BIRTH, 1);
	r.h.stream_end(r.h.ud, &r.s);
	page = rig_page(&r, 0);
	assert_null(strstr(page, "class=\"damp\""));
	assert_null(strstr(page, "Damped transports"));
	free(page);
}

static void late_finding_fails_an_ended_stream(void **st)
{
	struct jv_audit_violation v = {
		.check = JV_AC_INV04, .line = 9, .msg = "after the end <x>",
	};
	struct rig r;
	char *page;

	(void)st;
	rig_init(&r);
	entry(&r, JV_AE_BIRTH, 100, 0, JV_STATE_BIRTH, 1);
	r.h.stream_end(r.h.ud, &r.s);
	v.stream = &r.s;
	r.h.violation(r.h.ud, &v);
	page = rig_page(&r, 0);
	/* the row and the section both say FAIL, written before it came */
	assert_int_equal(count(page, "FAIL (1 finding)"), 2);
	assert_int_equal(count(page, "PASS</span></td>"), 0);
	assert_non_null(strstr(page, "after the end &lt;x&gt;"));
	assert_null(strchr(page, '\x01'));
	free(page);
}

static void failing_allocations(void **st)
{
	struct jv_report_budget b = JV_REPORT_BUDGET_INIT;
	struct jv_report_file *f = (void *)1;
	struct rig r;
	char *page;

	(void)st;
	calloc_fail_in = 0;
	assert_int_equal(jv_report_file_new("x", 1, &b, &f), JV_ERR_NOMEM);
	assert_null(f);
	assert_int_equal(jv_report_file_new("x", 0, &b, &f), JV_ERR_INVAL);
	assert_int_equal(jv_report_file_new(NULL, 1, &b, &f), JV_ERR_INVAL);
	/* a stream record that cannot be made: the page is refused */
	rig_init(&r);
	calloc_fail_in = 0;
	entry(&r, JV_AE_BIRTH, 100, 0, JV_STATE_BIRTH, 1);
	calloc_fail_in = -1;
	page = rig_page(&r, JV_ERR_NOMEM);
	free(page);
}

static void page_head_and_tail(void **st)
{
	struct jv_report_verdict v[2] = {
		{ .name = "a<b>.jsonl", .fileno = 1, .pass = true },
		{ .name = "c", .fileno = 2, .pass = false, .violations = 3 },
	};
	FILE *f = tmpfile();
	char *s;

	(void)st;
	assert_non_null(f);
	assert_int_equal(jv_report_page_head(f, v, 2), 0);
	assert_int_equal(jv_report_page_tail(f), 0);
	s = slurp(f);
	assert_non_null(strstr(s, "Audit verdict: <span class=\"fail\">FAIL"
			       "</span>, 2 files, 3 violations"));
	assert_non_null(strstr(s, "a&lt;b&gt;.jsonl"));
	assert_null(strstr(s, "<b>"));
	assert_non_null(strstr(s, "</html>\n"));
	free(s);
	assert_int_equal(jv_report_page_head(NULL, v, 2), JV_ERR_INVAL);
	assert_int_equal(jv_report_page_tail(NULL), JV_ERR_INVAL);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escape_everything_markup),
		cmocka_unit_test(sample_keeps_an_even_spread),
		cmocka_unit_test(tid_cut_on_a_character),
		cmocka_unit_test(one_band_per_interval),
		cmocka_unit_test(bands_merge_past_the_cap),
		cmocka_unit_test(figures_join_their_line),
		cmocka_unit_test(switch_classes_and_damping),
		cmocka_unit_test(late_finding_fails_an_ended_stream),
		cmocka_unit_test(failing_allocations),
		cmocka_unit_test(page_head_and_tail),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
