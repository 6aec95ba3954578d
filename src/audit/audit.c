/* SPDX-License-Identifier: MIT */
/*
 * The auditor's front: one line at a time, the chain of the file (PD-1),
 * the strict reader, the classification of refused lines, then the
 * stream replay (replay.c).  Findings leave through the hooks as they are
 * found; nothing is kept per line.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_impl.h"

static const char *const check_names[JV_AC_COUNT] = {
#define JV_AUDIT_CHECK_NAME_(id, name, what) [JV_AC_##id] = name,
	JV_AUDIT_CHECKS(JV_AUDIT_CHECK_NAME_)
#undef JV_AUDIT_CHECK_NAME_
};

static const char *const check_what[JV_AC_COUNT] = {
#define JV_AUDIT_CHECK_WHAT_(id, name, what) [JV_AC_##id] = what,
	JV_AUDIT_CHECKS(JV_AUDIT_CHECK_WHAT_)
#undef JV_AUDIT_CHECK_WHAT_
};

const char *jv_audit_check_name(enum jv_audit_check c)
{
	if ((unsigned)c >= JV_AC_COUNT)
		return NULL;
	return check_names[c];
}

const char *jv_audit_check_what(enum jv_audit_check c)
{
	if ((unsigned)c >= JV_AC_COUNT)
		return NULL;
	return check_what[c];
}

void au_viol(struct jv_audit *a, enum jv_audit_check c, unsigned long line,
	     const struct jv_audit_stream *s, const char *fmt, ...)
{
	struct jv_audit_violation v;
	char msg[512];
	va_list ap;

	a->r.violations++;
	a->r.by_check[c]++;
	if (!a->opts.hooks.violation)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	v.check = c;
	v.line = line;
	v.stream = s;
	v.msg = msg;
	a->opts.hooks.violation(a->opts.hooks.ud, &v);
}

void au_entry(struct jv_audit *a, const struct jv_audit_stream *s,
	      const struct jv_audit_entry *e)
{
	if (a->opts.hooks.entry)
		a->opts.hooks.entry(a->opts.hooks.ud, s, e);
}

int jv_audit_new(const struct jv_audit_opts *opts, struct jv_audit **out)
{
	struct jv_audit *a;

	if (!out)
		return JV_ERR_INVAL;
	*out = NULL;
	a = calloc(1, sizeof *a);
	if (!a)
		return JV_ERR_NOMEM;
	if (opts)
		a->opts = *opts;
	jv_chain_check_init(&a->chain);
	au_fast_init(&a->fast);
	if (au_table_init(&a->table) != JV_OK) {
		free(a);
		return JV_ERR_NOMEM;
	}
	*out = a;
	return JV_OK;
}

void jv_audit_free(struct jv_audit *a)
{
	struct au_live *l, *n;

	if (!a)
		return;
	for (l = a->live_head; l; l = n) {
		n = l->next;
		free(l);
	}
	au_table_free(&a->table);
	free(a);
}

/*
 * PD-1 for one line.  jv_chain_check_line parses the line again for seq
 * and prev_hash, which is the only way when the reader refused it; when
 * the reader accepted it, the same rules run here on the values it
 * already read, which halves the JSON work of a clean log.  The messages
 * are the checker's own (tests/audit/audit_test.c holds both paths to the
 * same verdicts).
 */
static void chain_line(struct jv_audit *a, const char *line, size_t len,
		       unsigned long lineno, const struct jv_parsed_event *p)
{
	struct jv_chain_check *st = &a->chain;
	struct jv_diag d;
	char h[JV_HASH_HEX];

	jv_diag_clear(&d);
	if (!p) {
		if (jv_chain_check_line(st, line, len, (unsigned)lineno, &d) != 0)
			au_viol(a, JV_AC_CHAIN, lineno, NULL, "%s", d.msg);
		return;
	}
	st->lines++;
	jv_eventlog_hash(line, len, h);
	if (p->seq > st->next_seq) {
		au_viol(a, JV_AC_CHAIN, lineno, NULL,
			"seq gap: expected %llu, found %llu (%llu line(s) "
			"missing)", (unsigned long long)st->next_seq,
			(unsigned long long)p->seq,
			(unsigned long long)(p->seq - st->next_seq));
		st->errors++;
	} else if (p->seq < st->next_seq) {
		au_viol(a, JV_AC_CHAIN, lineno, NULL,
			"seq goes back: expected %llu, found %llu (line "
			"reordered or duplicated)",
			(unsigned long long)st->next_seq,
			(unsigned long long)p->seq);
		st->errors++;
	} else if (strcmp(p->prev_hash, st->prev_hash) != 0) {
		if (st->next_seq == 0)
			au_viol(a, JV_AC_CHAIN, lineno, NULL, "first line of a "
				"file must have 64 zeros");
		else
			au_viol(a, JV_AC_CHAIN, lineno, NULL, "not the hash of "
				"the previous line: that line was edited, or this "
				"one replaced another");
		st->errors++;
	}
	st->next_seq = p->seq + 1;
	memcpy(st->prev_hash, h, JV_HASH_HEX);
}

static void note_ts(struct jv_audit *a, jv_time ts)
{
	if (!a->r.have_ts || ts < a->r.first_ts)
		a->r.first_ts = ts;
	if (!a->have_ts || ts > a->last_ts)
		a->last_ts = ts;
	a->have_ts = a->r.have_ts = true;
	a->r.last_ts = a->last_ts;
}

int jv_audit_line(struct jv_audit *a, const char *line, size_t len,
		  unsigned long lineno)
{
	struct jv_parsed_event p;
	struct jv_diag d;
	struct au_class cls;
	char msg[256];
	int rc;

	if (!a || !line || a->finished)
		return JV_ERR_INVAL;
	a->r.lines++;
	a->last_line = lineno;
	if (au_fast_parse(&a->fast, line, len, a->scratch, sizeof a->scratch,
			  &p)) {
		chain_line(a, line, len, lineno, &p);
		if (au_key_material(&p, msg, sizeof msg))
			au_viol(a, JV_AC_INV17, lineno, NULL, "%s", msg);
		goto replay;
	}
	jv_diag_clear(&d);
	rc = jv_event_parse(line, len, &p, &d);
	if (rc == JV_ERR_NOMEM)
		return rc;
	if (rc != JV_OK) {
		chain_line(a, line, len, lineno, NULL);
		au_classify(line, len, &d, &cls);
		au_viol(a, cls.check, lineno, NULL, "%s", cls.msg);
		if (!cls.repaired)
			return JV_OK;
		/* Only allow-list breaches: the rest of the event is sound,
		 * so the replay goes on without cascading findings. */
		p = cls.ev;
	} else {
		chain_line(a, line, len, lineno, &p);
		if (au_key_material(&p, msg, sizeof msg))
			au_viol(a, JV_AC_INV17, lineno, NULL, "%s", msg);
	}
replay:
	a->r.events++;
	note_ts(a, p.ev.ts_ms);
	rc = au_replay_event(a, &p, lineno);
	jv_parsed_event_free(&p);
	return rc;
}

int jv_audit_line_overlong(struct jv_audit *a, unsigned long lineno,
			   const char hash[JV_HASH_HEX])
{
	struct jv_chain_check *st;

	if (!a || !hash || a->finished)
		return JV_ERR_INVAL;
	st = &a->chain;
	a->r.lines++;
	a->last_line = lineno;
	au_viol(a, JV_AC_PARSE, lineno, NULL, "line longer than any event "
		"line can be (%d bytes): not read", JV_EVENT_LINE_MAX);
	/* As jv_chain_check_line does with an unreadable line: take it as
	 * the expected one, so only a real break shows next. */
	st->lines++;
	st->errors++;
	au_viol(a, JV_AC_CHAIN, lineno, NULL, "no readable seq and prev_hash: "
		"the chain cannot be checked here");
	st->next_seq++;
	memcpy(st->prev_hash, hash, JV_HASH_HEX - 1);
	st->prev_hash[JV_HASH_HEX - 1] = '\0';
	return JV_OK;
}

int jv_audit_finish(struct jv_audit *a, bool missing_newline,
		    struct jv_audit_report *r)
{
	if (!a || !r || a->finished)
		return JV_ERR_INVAL;
	if (missing_newline)
		au_viol(a, JV_AC_PARSE, a->last_line, NULL, "last line has no "
			"newline: the file was cut short");
	au_replay_finish(a);
	a->finished = true;
	a->r.pass = a->r.violations == 0;
	for (int role = 0; role < 2; role++) {
		struct jv_audit_latency *l = &a->r.recovery[role];
		const struct au_hist *h = &a->rec[role];

		l->count = h->n;
		l->max_ms = h->max;
		l->median_ms = au_hist_quantile(h, 0.5);
		l->p95_ms = au_hist_quantile(h, 0.95);
	}
	*r = a->r;
	return JV_OK;
}
