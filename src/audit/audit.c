/* SPDX-License-Identifier: MIT */
/*
 * The auditor's front: the files, one line at a time, the chain of each
 * file (PD-1), the strict reader, the classification of refused lines,
 * then the stream replay (replay.c).  Findings leave through the hooks as
 * they are found; nothing is kept per line.
 */

#define _POSIX_C_SOURCE 200809L	/* strdup */

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

static const char *file_name(const struct jv_audit *a, unsigned f)
{
	return f < a->nfiles ? a->files[f].name : NULL;
}

static void viol(struct jv_audit *a, enum jv_audit_check c, au_at at,
		 au_at other, const struct jv_audit_stream *s,
		 const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));

static void viol(struct jv_audit *a, enum jv_audit_check c, au_at at,
		 au_at other, const struct jv_audit_stream *s,
		 const char *fmt, va_list ap)
{
	struct jv_audit_violation v;
	char msg[512];

	a->r.violations++;
	a->r.by_check[c]++;
	if (au_at_file(at) < a->nfiles) {
		struct jv_audit_file_stats *st = &a->files[au_at_file(at)].st;

		st->violations++;
		st->by_check[c]++;
	}
	if (!a->opts.hooks.violation)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	memset(&v, 0, sizeof v);
	v.check = c;
	v.line = au_at_line(at);
	v.file = au_at_file(at);
	v.file_name = file_name(a, v.file);
	v.stream = s;
	v.msg = msg;
	if (other) {
		v.other_line = au_at_line(other);
		v.other_file = au_at_file(other);
		v.other_file_name = file_name(a, v.other_file);
	}
	a->opts.hooks.violation(a->opts.hooks.ud, &v);
}

void au_viol(struct jv_audit *a, enum jv_audit_check c, au_at at,
	     const struct jv_audit_stream *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	viol(a, c, at, 0, s, fmt, ap);
	va_end(ap);
}

void au_viol2(struct jv_audit *a, enum jv_audit_check c, au_at at,
	      au_at other, const struct jv_audit_stream *s,
	      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	viol(a, c, at, other, s, fmt, ap);
	va_end(ap);
}

const char *au_where(const struct jv_audit *a, au_at at, au_at from,
		     char *buf, size_t n)
{
	unsigned f = au_at_file(at);
	const char *name = file_name(a, f);

	if (a->nfiles <= 1 || f == au_at_file(from))
		snprintf(buf, n, "line %lu", au_at_line(at));
	else if (name)
		snprintf(buf, n, "%.120s:%lu", name, au_at_line(at));
	else
		snprintf(buf, n, "file %u line %lu", f + 1, au_at_line(at));
	return buf;
}

const char *au_file_label(const struct jv_audit *a, au_at at)
{
	return a->nfiles > 1 ? file_name(a, au_at_file(at)) : NULL;
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
		free(l->own);
		free(l);
	}
	for (unsigned i = 0; i < a->nfiles; i++)
		free(a->files[i].name);
	free(a->files);
	au_table_free(&a->table);
	free(a);
}

int jv_audit_file(struct jv_audit *a, const char *name, unsigned *index)
{
	struct au_file *f;

	if (!a || !index || a->finished ||
	    a->nfiles >= (1u << (64 - AU_AT_LINE_BITS)) - 1)
		return JV_ERR_INVAL;
	if (a->nfiles == a->files_cap) {
		unsigned cap = a->files_cap ? 2 * a->files_cap : 4;
		struct au_file *n = realloc(a->files, cap * sizeof *n);

		if (!n)
			return JV_ERR_NOMEM;
		a->files = n;
		a->files_cap = cap;
	}
	f = &a->files[a->nfiles];
	memset(f, 0, sizeof *f);
	if (name) {
		f->name = strdup(name);
		if (!f->name)
			return JV_ERR_NOMEM;
	}
	jv_chain_check_init(&f->chain);
	*index = a->nfiles++;
	return JV_OK;
}

/* The single-file calls use the first file, unnamed if none was added. */
static int first_file(struct jv_audit *a)
{
	unsigned i;

	return a->nfiles ? JV_OK : jv_audit_file(a, NULL, &i);
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
	struct jv_chain_check *st = &a->files[a->cur].chain;
	au_at at = au_at_make(a->cur, lineno);
	struct jv_diag d;
	char h[JV_HASH_HEX];

	jv_diag_clear(&d);
	if (!p) {
		if (jv_chain_check_line(st, line, len, (unsigned)lineno, &d) != 0)
			au_viol(a, JV_AC_CHAIN, at, NULL, "%s", d.msg);
		return;
	}
	st->lines++;
	jv_eventlog_hash(line, len, h);
	if (p->seq > st->next_seq) {
		au_viol(a, JV_AC_CHAIN, at, NULL,
			"seq gap: expected %llu, found %llu (%llu line(s) "
			"missing)", (unsigned long long)st->next_seq,
			(unsigned long long)p->seq,
			(unsigned long long)(p->seq - st->next_seq));
		st->errors++;
	} else if (p->seq < st->next_seq) {
		au_viol(a, JV_AC_CHAIN, at, NULL,
			"seq goes back: expected %llu, found %llu (line "
			"reordered or duplicated)",
			(unsigned long long)st->next_seq,
			(unsigned long long)p->seq);
		st->errors++;
	} else if (strcmp(p->prev_hash, st->prev_hash) != 0) {
		if (st->next_seq == 0)
			au_viol(a, JV_AC_CHAIN, at, NULL, "first line of a "
				"file must have 64 zeros");
		else
			au_viol(a, JV_AC_CHAIN, at, NULL, "not the hash of "
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

/* The file a line of which comes next, or false. */
static bool enter(struct jv_audit *a, unsigned file, unsigned long lineno)
{
	if (!a || a->finished || file >= a->nfiles || a->files[file].ended)
		return false;
	a->cur = file;
	a->files[file].last_line = lineno;
	a->files[file].st.lines++;
	a->r.lines++;
	return true;
}

int jv_audit_file_line(struct jv_audit *a, unsigned file, const char *line,
		       size_t len, unsigned long lineno)
{
	struct jv_parsed_event p;
	struct jv_diag d;
	struct au_class cls;
	au_at at = au_at_make(file, lineno);
	char msg[256];
	int rc;

	if (!line || !enter(a, file, lineno))
		return JV_ERR_INVAL;
	if (au_fast_parse(&a->fast, line, len, a->scratch, sizeof a->scratch,
			  &p)) {
		chain_line(a, line, len, lineno, &p);
		if (au_key_material(&p, msg, sizeof msg))
			au_viol(a, JV_AC_INV17, at, NULL, "%s", msg);
		goto replay;
	}
	jv_diag_clear(&d);
	rc = jv_event_parse(line, len, &p, &d);
	if (rc == JV_ERR_NOMEM)
		return rc;
	if (rc != JV_OK) {
		chain_line(a, line, len, lineno, NULL);
		au_classify(line, len, &d, &cls);
		au_viol(a, cls.check, at, NULL, "%s", cls.msg);
		if (!cls.repaired)
			return JV_OK;
		/* Only allow-list breaches: the rest of the event is sound,
		 * so the replay goes on without cascading findings. */
		p = cls.ev;
	} else {
		chain_line(a, line, len, lineno, &p);
		if (au_key_material(&p, msg, sizeof msg))
			au_viol(a, JV_AC_INV17, at, NULL, "%s", msg);
	}
replay:
	a->r.events++;
	a->files[file].st.events++;
	note_ts(a, p.ev.ts_ms);
	rc = au_replay_event(a, &p, at);
	jv_parsed_event_free(&p);
	return rc;
}

int jv_audit_line(struct jv_audit *a, const char *line, size_t len,
		  unsigned long lineno)
{
	int rc;

	if (!a || !line || a->finished)
		return JV_ERR_INVAL;
	rc = first_file(a);
	return rc ? rc : jv_audit_file_line(a, 0, line, len, lineno);
}

int jv_audit_file_overlong(struct jv_audit *a, unsigned file,
			   unsigned long lineno, const char hash[JV_HASH_HEX])
{
	struct jv_chain_check *st;
	au_at at = au_at_make(file, lineno);

	if (!hash || !enter(a, file, lineno))
		return JV_ERR_INVAL;
	st = &a->files[file].chain;
	au_viol(a, JV_AC_PARSE, at, NULL, "line longer than any event "
		"line can be (%d bytes): not read", JV_EVENT_LINE_MAX);
	/* As jv_chain_check_line does with an unreadable line: take it as
	 * the expected one, so only a real break shows next. */
	st->lines++;
	st->errors++;
	au_viol(a, JV_AC_CHAIN, at, NULL, "no readable seq and prev_hash: "
		"the chain cannot be checked here");
	st->next_seq++;
	memcpy(st->prev_hash, hash, JV_HASH_HEX - 1);
	st->prev_hash[JV_HASH_HEX - 1] = '\0';
	return JV_OK;
}

int jv_audit_line_overlong(struct jv_audit *a, unsigned long lineno,
			   const char hash[JV_HASH_HEX])
{
	int rc;

	if (!a || !hash || a->finished)
		return JV_ERR_INVAL;
	rc = first_file(a);
	return rc ? rc : jv_audit_file_overlong(a, 0, lineno, hash);
}

int jv_audit_file_end(struct jv_audit *a, unsigned file, bool missing_newline)
{
	struct au_file *f;

	if (!a || a->finished || file >= a->nfiles || a->files[file].ended)
		return JV_ERR_INVAL;
	f = &a->files[file];
	if (missing_newline)
		au_viol(a, JV_AC_PARSE, au_at_make(file, f->last_line), NULL,
			"last line has no newline: the file was cut short");
	f->ended = true;
	return JV_OK;
}

int jv_audit_file_stats(const struct jv_audit *a, unsigned file,
			struct jv_audit_file_stats *out)
{
	if (!a || !out || file >= a->nfiles)
		return JV_ERR_INVAL;
	*out = a->files[file].st;
	return JV_OK;
}

/* ---- the merge of several files --------------------------------------- */

static bool digits(const char *p, const char *end, uint64_t *v)
{
	const char *s = p;
	uint64_t x = 0;

	while (p < end && *p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');

		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
		p++;
	}
	*v = x;
	return p > s;
}

/*
 * Where the value of the first "key": of the line starts, or NULL.  The
 * writer puts the base fields first; a line that hides such a key in a
 * string before them only moves in the merge, its verdict still comes
 * from the reader.
 */
static const char *value_of(const char *line, size_t len, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; i + kl + 3 <= len; i++)
		if (line[i] == '"' && !memcmp(line + i + 1, key, kl) &&
		    line[i + kl + 1] == '"' && line[i + kl + 2] == ':')
			return line + i + kl + 3;
	return NULL;
}

static bool starts(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(end - p) >= n && !memcmp(p, lit, n);
}

bool jv_audit_merge_key(const char *line, size_t len, struct jv_audit_key *k)
{
	const char *end = line + len, *v;

	if (!line || !k)
		return false;
	memset(k, 0, sizeof *k);
	v = value_of(line, len, "ts_ms");
	if (!v || !digits(v, end, &k->ts_ms))
		return false;
	v = value_of(line, len, "state_version");
	if (v)
		(void)digits(v, end, &k->state_version);
	v = value_of(line, len, "event_type");
	k->owner_change = v && (starts(v, end, "\"SessionOwnerAcquired\"") ||
				starts(v, end, "\"SessionOwnerTransferred\""));
	return true;
}

int jv_audit_key_cmp(const struct jv_audit_key *a,
		     const struct jv_audit_key *b)
{
	if (a->ts_ms != b->ts_ms)
		return a->ts_ms < b->ts_ms ? -1 : 1;
	if (a->owner_change != b->owner_change)
		return a->owner_change ? -1 : 1;
	if (a->state_version != b->state_version)
		return a->state_version < b->state_version ? -1 : 1;
	return 0;
}

int jv_audit_finish(struct jv_audit *a, bool missing_newline,
		    struct jv_audit_report *r)
{
	if (!a || !r || a->finished)
		return JV_ERR_INVAL;
	if (missing_newline && a->nfiles && !a->files[0].ended)
		au_viol(a, JV_AC_PARSE, au_at_make(0, a->files[0].last_line),
			NULL, "last line has no newline: the file was cut "
			"short");
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
