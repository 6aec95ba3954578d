/* SPDX-License-Identifier: MIT */
/*
 * The collector of one file: the auditor's hooks build a bounded model of
 * each live stream (collect.c), which is drawn and dropped when the
 * auditor ends the stream.  What a stream keeps is capped (bands,
 * markers, points), so memory is O(live streams), never O(lines).
 */

#define _POSIX_C_SOURCE 200809L	/* strdup */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report_impl.h"

/* ---- the evenly thinned list ----------------------------------------- */

/* A slot for the next offered element, or NULL if it is not kept (or,
 * with *nomem set, if the list could not grow). */
void *rp_sample_slot(struct rp_sample *s, bool *nomem)
{
	uint64_t k = s->seen++;

	if (!s->stride)
		s->stride = 1;
	if (k % s->stride)
		return NULL;
	if (s->n == s->max) {
		/* keep the elements at even positions: offers 0, 2s, 4s... */
		for (size_t i = 1; 2 * i < s->n; i++)
			memcpy(s->v + i * s->size, s->v + 2 * i * s->size,
			       s->size);
		s->n = (s->n + 1) / 2;
		s->stride *= 2;
		if (k % s->stride)
			return NULL;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		unsigned char *v;

		if (cap > s->max)
			cap = s->max;
		v = realloc(s->v, cap * s->size);
		if (!v) {
			*nomem = true;
			return NULL;
		}
		s->v = v;
		s->cap = cap;
	}
	memset(s->v + s->n * s->size, 0, s->size);
	return s->v + s->n++ * s->size;
}

void rp_sample_free(struct rp_sample *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

/* An id as shown: cut on a UTF-8 boundary with an ellipsis; NULL shows
 * as "none". */
void rp_copy_tid(char *dst, size_t n, const char *src)
{
	size_t len, keep;

	if (!n)
		return;
	if (!src)
		src = "none";
	len = strlen(src);
	if (len < n) {
		memcpy(dst, src, len + 1);
		return;
	}
	keep = n > 4 ? n - 4 : 0;	/* room for "\u2026" and NUL */
	while (keep > 0 && ((unsigned char)src[keep] & 0xc0) == 0x80)
		keep--;
	memcpy(dst, src, keep);
	if (n > 4)
		memcpy(dst + keep, "\xe2\x80\xa6", 4);
	else
		dst[keep] = '\0';
}

/* ---- state bands ------------------------------------------------------ */

static void band_fold(struct rp_band *a, const struct rp_band *b)
{
	uint64_t best = 0;

	a->t1 = b->t1;
	a->norig += b->norig;
	a->bound_end = b->bound_end;
	memcpy(a->bind_end, b->bind_end, sizeof a->bind_end);
	for (int i = 0; i < JV_STATE_COUNT; i++) {
		a->dur[i] += b->dur[i];
		if (a->dur[i] > best) {
			best = a->dur[i];
			a->state = i;
		}
	}
}

/* A closed interval: stored, or merged with its neighbours past the cap
 * (pairs of stored bands merge, and later intervals are grouped as many
 * per band, so every band stands for the same number of intervals). */
static void band_store(struct jv_report_file *f, struct rp_stream *st,
		       const struct rp_band *b)
{
	if (!st->merge)
		st->merge = 1;
	if (!st->acc.norig)
		st->acc = *b;
	else
		band_fold(&st->acc, b);
	if (st->acc.norig < st->merge)
		return;
	if (st->nbands == JV_REPORT_BAND_CAP) {
		for (size_t i = 0; i < st->nbands / 2; i++) {
			struct rp_band m = st->bands[2 * i];

			band_fold(&m, &st->bands[2 * i + 1]);
			st->bands[i] = m;
		}
		st->nbands /= 2;
		st->merge *= 2;
		return;		/* acc is half of the new group */
	}
	if (st->nbands == st->bands_cap) {
		size_t cap = st->bands_cap ? st->bands_cap * 2 : 16;
		struct rp_band *nb;

		if (cap > JV_REPORT_BAND_CAP)
			cap = JV_REPORT_BAND_CAP;
		nb = realloc(st->bands, cap * sizeof *nb);
		if (!nb) {
			f->failed = true;
			return;
		}
		st->bands = nb;
		st->bands_cap = cap;
	}
	st->bands[st->nbands++] = st->acc;
	st->acc.norig = 0;
}

static void band_begin(struct rp_stream *st, jv_time ts, int state,
		       enum jv_reason why, uint64_t version,
		       unsigned long line)
{
	memset(&st->open, 0, sizeof st->open);
	st->open.t0 = st->open.t1 = ts;
	st->open.state = state;
	st->open.reason = why;
	st->open.v0 = version;
	st->open.line = line;
	st->open.norig = 1;
	st->open.bound = st->bound;
	memcpy(st->open.bind, st->bind, sizeof st->open.bind);
}

/* End the open interval at t1; the auditor says which state it was. */
static void band_end(struct rp_stream *st, jv_time t1, int state)
{
	struct rp_band *b = &st->open;

	b->t1 = t1 > b->t0 ? t1 : b->t0;
	if (state != RP_UNKNOWN)
		b->state = state;
	if (b->state != RP_UNKNOWN)
		b->dur[b->state] = b->t1 - b->t0;
	b->bound_end = st->bound;
	memcpy(b->bind_end, st->bind, sizeof b->bind_end);
}

/* The binding changed: an interval that began in this commit shows the
 * new one; a later change shows as "then ..." at its end. */
static void set_binding(struct rp_stream *st, const char *tid, jv_time ts)
{
	st->bound = tid != NULL;
	rp_copy_tid(st->bind, sizeof st->bind, tid);
	if (st->started && ts == st->open.t0) {
		st->open.bound = st->bound;
		memcpy(st->open.bind, st->bind, sizeof st->open.bind);
	}
}

/* ---- the streams ------------------------------------------------------ */

static bool grow(struct jv_report_file *f, unsigned index)
{
	size_t n = f->nlive ? f->nlive : 64;
	struct rp_stream **nl;
	uint32_t *nv;

	if (index < f->nlive)
		return true;
	while (n <= index)
		n *= 2;
	nl = realloc(f->live, n * sizeof *nl);
	if (!nl)
		return false;
	f->live = nl;
	nv = realloc(f->nviol, n * sizeof *nv);
	if (!nv)
		return false;
	f->nviol = nv;
	memset(f->live + f->nlive, 0, (n - f->nlive) * sizeof *nl);
	memset(f->nviol + f->nlive, 0, (n - f->nlive) * sizeof *nv);
	f->nlive = n;
	return true;
}

static struct rp_stream *stream_of(struct jv_report_file *f,
				   const struct jv_audit_stream *s)
{
	struct rp_stream *st;

	if (!grow(f, s->index)) {
		f->failed = true;
		return NULL;
	}
	st = f->live[s->index];
	if (!st) {
		st = calloc(1, sizeof *st);
		if (!st) {
			f->failed = true;
			return NULL;
		}
		st->marks[RP_MAJOR].size = sizeof(struct rp_mark);
		st->marks[RP_MAJOR].max = JV_REPORT_MARK_CAP;
		st->marks[RP_MINOR] = st->marks[RP_MAJOR];
		st->points.size = sizeof(struct rp_point);
		st->points.max = JV_REPORT_POINT_CAP;
		st->damps.size = sizeof(struct rp_damp);
		st->damps.max = RP_DAMP_CAP;
		st->rec_reason = JV_REASON_NONE;
		st->open.state = RP_UNKNOWN;
		st->term_reason = JV_REASON_NONE;
		f->live[s->index] = st;
		f->streams++;
	}
	st->info = *s;
	return st;
}

static void stream_free(struct rp_stream *st)
{
	if (!st)
		return;
	for (int c = 0; c < RP_CLASSES; c++)
		rp_sample_free(&st->marks[c]);
	rp_sample_free(&st->points);
	rp_sample_free(&st->damps);
	free(st->bands);
	free(st);
}

/* Runs of blanks (the text form's columns) to one space. */
static void squeeze(char *s)
{
	char *w = s;
	bool blank = true;	/* drops leading blanks too */

	for (const char *r = s; *r; r++) {
		if (*r == ' ') {
			if (blank)
				continue;
			blank = true;
		} else {
			blank = false;
		}
		*w++ = *r;
	}
	if (w > s && w[-1] == ' ')
		w--;
	*w = '\0';
}

static void add_mark(struct jv_report_file *f, struct rp_stream *st,
		     int cls, const struct jv_audit_stream *s,
		     const struct jv_audit_entry *e, const char *label)
{
	bool nomem = false;
	struct rp_mark *m = rp_sample_slot(&st->marks[cls], &nomem);

	if (nomem)
		f->failed = true;
	if (!m)
		return;
	m->ts = e->ts_ms;
	m->line = e->line;
	m->kind = e->kind;
	m->forced = e->forced;
	rp_copy_tid(m->label, sizeof m->label, label);
	/* truncated text is still terminated: keep it */
	if (jv_audit_format_entry(s, e, m->text, sizeof m->text) ==
	    JV_ERR_INVAL)
		m->text[0] = '\0';
	squeeze(m->text);
}

static void add_point(struct jv_report_file *f, struct rp_stream *st,
		      const struct jv_audit_entry *e, enum jv_event_type type)
{
	const struct rp_pending *p = &f->pend;
	struct rp_point *pt;
	bool nomem = false;

	if (!p->line || p->line != e->line || p->type != type ||
	    (!p->has_loss && !p->has_lat))
		return;
	pt = rp_sample_slot(&st->points, &nomem);
	if (nomem)
		f->failed = true;
	if (!pt)
		return;
	pt->ts = e->ts_ms;
	pt->line = e->line;
	pt->type = type;
	pt->has_loss = p->has_loss;
	pt->has_lat = p->has_lat;
	pt->loss = p->loss;
	pt->lat = p->lat;
	st->any_loss |= p->has_loss;
	st->any_lat |= p->has_lat;
}

/* ---- PD-7: damping and planned switches -------------------------------- */

static struct rp_damp *damp_find(struct rp_stream *st, const char *tid)
{
	char id[RP_TID_MAX];

	rp_copy_tid(id, sizeof id, tid);
	for (unsigned i = 0; i < st->ndamp_open; i++)
		if (!strcmp(st->damp_open[i].tid, id))
			return &st->damp_open[i];
	return NULL;
}

/* An interval ends (reused at e, or at the end of the log: e NULL). */
static void damp_close(struct jv_report_file *f, struct rp_stream *st,
		       unsigned i, const struct jv_audit_entry *e)
{
	struct rp_damp *d = &st->damp_open[i], *keep;
	bool nomem = false;

	d->t1 = e ? e->ts_ms : st->last;
	if (d->t1 < d->t0)
		d->t1 = d->t0;
	d->line1 = e ? e->line : 0;
	d->pen1 = e ? e->flap_penalty : 0;
	keep = rp_sample_slot(&st->damps, &nomem);
	if (nomem)
		f->failed = true;
	if (keep)
		*keep = *d;
	st->damp_open[i] = st->damp_open[--st->ndamp_open];
}

static int damp_cmp(const void *a, const void *b)
{
	const struct rp_damp *x = a, *y = b;

	return x->t0 < y->t0 ? -1 : x->t0 > y->t0;
}

/* The stream ended: every interval still open ends with the log, and
 * all go in time order (they were kept in the order they ended). */
static void damp_finish(struct jv_report_file *f, struct rp_stream *st)
{
	while (st->ndamp_open)
		damp_close(f, st, st->ndamp_open - 1, NULL);
	if (st->damps.n)
		qsort(st->damps.v, st->damps.n, st->damps.size, damp_cmp);
}

static void on_damping(struct jv_report_file *f, struct rp_stream *st,
		       const struct jv_audit_entry *e)
{
	struct rp_damp *d = damp_find(st, e->to_transport);

	if (e->kind == JV_AE_REUSED) {
		if (d)
			damp_close(f, st, (unsigned)(d - st->damp_open), e);
		return;
	}
	st->ndamped++;
	if (d)
		return;		/* damped twice: the first one stands */
	if (st->ndamp_open == RP_DAMP_OPEN_MAX) {
		st->damp_untracked++;
		return;
	}
	d = &st->damp_open[st->ndamp_open++];
	memset(d, 0, sizeof *d);
	d->t0 = e->ts_ms;
	d->line0 = e->line;
	d->pen0 = e->flap_penalty;
	rp_copy_tid(d->tid, sizeof d->tid, e->to_transport);
}

/* A switch: its label names a planned one (fail-back, PD-7; operator
 * migration, PD-8) by the reason of the RECOVERING it concludes. */
static void on_switch(struct jv_report_file *f, struct rp_stream *st,
		      const struct jv_audit_stream *s,
		      const struct jv_audit_entry *e)
{
	const char *why = NULL;
	char label[RP_LABEL_MAX];

	st->nswitch++;
	st->nforced += e->forced;
	if (st->rec_reason == JV_REASON_FAILBACK) {
		st->nfailback_sw++;
		why = " fail-back";
	} else if (st->rec_reason == JV_REASON_OPERATOR_MIGRATION) {
		st->nmigration_sw++;
		why = " migration";
	}
	set_binding(st, e->to_transport, e->ts_ms);
	snprintf(label, sizeof label, "%s -> %s%s",
		 e->from_transport ? e->from_transport : "none",
		 e->to_transport ? e->to_transport : "none", why ? why : "");
	add_mark(f, st, RP_MAJOR, s, e, label);
	add_point(f, st, e, JV_EV_TRANSPORT_SWITCH);
}

static int initial_state(const struct jv_audit_entry *e)
{
	switch (e->kind) {
	case JV_AE_BIRTH:
		return JV_STATE_BIRTH;
	case JV_AE_STATE:
	case JV_AE_OPEN:
		return e->from;
	default:
		return RP_UNKNOWN;
	}
}

static void on_transition(struct jv_report_file *f, struct rp_stream *st,
			  const struct jv_audit_entry *e)
{
	if ((unsigned)e->from < JV_STATE_COUNT)
		st->in_state[e->from] += e->duration_ms;
	st->transitions++;
	band_end(st, e->ts_ms, e->from);
	band_store(f, st, &st->open);
	if (e->to == JV_STATE_RECOVERING && e->from != JV_STATE_RECOVERING) {
		st->rec_reason = e->reason;
		st->nfailback += e->reason == JV_REASON_FAILBACK;
		st->nmigration += e->reason == JV_REASON_OPERATOR_MIGRATION;
	}
	/* recovery latency: out of ATTACHED until back (§8.4), as the
	 * auditor measures it (a planned switch is no outage) */
	if (e->from == JV_STATE_ATTACHED && e->to != JV_STATE_ATTACHED &&
	    e->to != JV_STATE_TERMINATED && e->to != JV_STATE_RECOVERING) {
		st->outage = true;
		st->outage_since = e->ts_ms;
	}
	if (e->to == JV_STATE_ATTACHED && e->from != JV_STATE_ATTACHED &&
	    st->outage) {
		uint64_t d = e->ts_ms - st->outage_since;

		st->lat_n++;
		st->lat_sum += d;
		if (d > st->lat_max)
			st->lat_max = d;
		st->outage = false;
	}
	if (e->to == JV_STATE_TERMINATED) {
		st->outage = false;
		st->bound = false;	/* entering TERMINATED clears it */
		rp_copy_tid(st->bind, sizeof st->bind, NULL);
	}
	band_begin(st, e->ts_ms, e->to, e->reason, e->state_version, e->line);
	add_point(f, st, e, JV_EV_SESSION_STATE_CHANGE);
}

static void on_entry(void *ud, const struct jv_audit_stream *s,
		     const struct jv_audit_entry *e)
{
	struct jv_report_file *f = ud;
	struct rp_stream *st = stream_of(f, s);
	const char *why = jv_reason_name(e->reason);
	char label[RP_LABEL_MAX];

	if (!st)
		return;
	if (!st->started) {
		st->t0 = st->last = e->ts_ms;
		band_begin(st, e->ts_ms, initial_state(e), JV_REASON_NONE,
			   e->state_version, e->line);
		st->started = true;
	}
	if (e->ts_ms > st->last)
		st->last = e->ts_ms;
	switch (e->kind) {
	case JV_AE_BIRTH:
		break;
	case JV_AE_STATE:
		on_transition(f, st, e);
		break;
	case JV_AE_ATTACH:
		set_binding(st, e->to_transport, e->ts_ms);
		snprintf(label, sizeof label, "bound to %s",
			 e->to_transport ? e->to_transport : "none");
		add_mark(f, st, RP_MAJOR, s, e, label);
		break;
	case JV_AE_SWITCH:
		on_switch(f, st, s, e);
		break;
	case JV_AE_DAMPED:
	case JV_AE_REUSED:
		on_damping(f, st, e);
		break;
	case JV_AE_DEAD:
		st->ndead++;
		set_binding(st, NULL, e->ts_ms);
		snprintf(label, sizeof label, "%s dead",
			 e->from_transport ? e->from_transport : "none");
		add_mark(f, st, RP_MAJOR, s, e, label);
		break;
	case JV_AE_DENIAL:
		st->ndenial++;
		add_mark(f, st, RP_MINOR, s, e, why ? why : "denied");
		break;
	case JV_AE_SECURITY:
		st->nsecurity++;
		add_mark(f, st, RP_MINOR, s, e, why ? why : "security");
		break;
	case JV_AE_OWNER:
	case JV_AE_POLICY:
		add_mark(f, st, RP_MAJOR, s, e, e->detail ? e->detail :
			 jv_audit_entry_kind_name(e->kind));
		break;
	case JV_AE_TERMINATED:
		st->terminated = true;
		st->term_reason = e->reason;
		st->term_ts = e->ts_ms;
		st->term_age = e->duration_ms;
		st->term_line = e->line;
		set_binding(st, NULL, e->ts_ms);
		add_mark(f, st, RP_MAJOR, s, e, why ? why : "terminated");
		break;
	case JV_AE_OPEN:
		st->open_at_end = true;
		if ((unsigned)e->from < JV_STATE_COUNT)
			st->in_state[e->from] += e->duration_ms;
		if (st->open.state == RP_UNKNOWN)
			st->open.state = e->from;
		break;
	}
}

static void on_violation(void *ud, const struct jv_audit_violation *v)
{
	struct jv_report_file *f = ud;
	const char *check = jv_audit_check_name(v->check);

	f->viol_total++;
	if (v->stream) {
		if (grow(f, v->stream->index)) {
			if (f->nviol[v->stream->index] < UINT32_MAX)
				f->nviol[v->stream->index]++;
		} else {
			f->failed = true;
		}
	} else {
		f->viol_file++;
	}
	if (f->viol_shown >= JV_REPORT_VIOL_SHOWN)
		return;
	f->viol_shown++;
	fputs("<li><span class=\"check\">", f->viol);
	rp_esc(f->viol, check ? check : "?");
	fputs("</span> ", f->viol);
	if (v->line)
		fprintf(f->viol, "line %lu: ", v->line);
	rp_esc(f->viol, v->msg);
	if (v->stream)
		fprintf(f->viol, " <a href=\"#f%u-s%u\">stream %u</a>",
			f->fileno, v->stream->index, v->stream->index);
	fputs("</li>\n", f->viol);
}

static void on_stream_end(void *ud, const struct jv_audit_stream *s)
{
	struct jv_report_file *f = ud;
	struct rp_stream *st = stream_of(f, s);
	bool detailed;

	if (!st)
		return;
	if (st->started)
		band_end(st, st->last, RP_UNKNOWN);
	damp_finish(f, st);
	detailed = f->budget->streams > 0 && f->budget->bytes > 0;
	if (st->merge > 1 || st->marks[RP_MAJOR].stride > 1 ||
	    st->marks[RP_MINOR].stride > 1 || st->points.stride > 1 ||
	    st->damps.stride > 1)
		f->thinned++;
	if (f->rows_written < JV_REPORT_ROWS_MAX) {
		if (rp_render_row(f->rows, f, st, detailed))
			f->failed = true;
		f->rows_written++;
	}
	if (detailed) {
		long before = ftell(f->detail), after;

		if (rp_render_stream(f->detail, f, st))
			f->failed = true;
		after = ftell(f->detail);
		if (before >= 0 && after >= before &&
		    (size_t)(after - before) < f->budget->bytes)
			f->budget->bytes -= (size_t)(after - before);
		else
			f->budget->bytes = 0;
		f->budget->streams--;
		f->detailed++;
	}
	f->live[s->index] = NULL;
	stream_free(st);
}

/* ---- the raw line: path figures --------------------------------------- */

static bool contains(const char *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (p[i] == needle[0] && !memcmp(p + i, needle, k))
			return true;
	return false;
}

void jv_report_file_line(struct jv_report_file *f, const char *line,
			 size_t len, unsigned long lineno)
{
	struct rp_pending *p;
	json_t *o, *v;
	const char *type;

	if (!f || !line)
		return;
	p = &f->pend;
	memset(p, 0, sizeof *p);
	/* most lines carry neither: skip the JSON parse for them */
	if (!contains(line, len, "\"loss_ratio\":") &&
	    !contains(line, len, "\"latency_estimate_ms\":"))
		return;
	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o))
		goto out;
	type = json_string_value(json_object_get(o, "event_type"));
	if (!type)
		goto out;
	if (!strcmp(type, "SessionStateChange"))
		p->type = JV_EV_SESSION_STATE_CHANGE;
	else if (!strcmp(type, "TransportSwitch"))
		p->type = JV_EV_TRANSPORT_SWITCH;
	else
		goto out;
	v = json_object_get(o, "loss_ratio");
	if (json_is_number(v)) {
		double x = json_number_value(v);

		/* the auditor judges the value; the page only draws a sane
		 * one */
		if (x >= 0.0 && x <= 1.0) {
			p->has_loss = true;
			p->loss = x;
		}
	}
	v = json_object_get(o, "latency_estimate_ms");
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		p->has_lat = true;
		p->lat = (uint64_t)json_integer_value(v);
	}
	p->line = lineno;
out:
	json_decref(o);
}

/* ---- the collector ---------------------------------------------------- */

void jv_report_file_hooks(struct jv_report_file *f, struct jv_audit_hooks *h)
{
	if (!h)
		return;
	memset(h, 0, sizeof *h);
	h->violation = on_violation;
	h->entry = on_entry;
	h->stream_end = on_stream_end;
	h->ud = f;
}

int jv_report_file_new(const char *name, unsigned fileno,
		       struct jv_report_budget *budget,
		       struct jv_report_file **out)
{
	struct jv_report_file *f;

	if (!out)
		return JV_ERR_INVAL;
	*out = NULL;
	if (!name || !fileno || !budget)
		return JV_ERR_INVAL;
	f = calloc(1, sizeof *f);
	if (!f)
		return JV_ERR_NOMEM;
	f->name = strdup(name);
	if (!f->name) {
		free(f);
		return JV_ERR_NOMEM;
	}
	f->fileno = fileno;
	f->budget = budget;
	f->viol = tmpfile();
	f->rows = tmpfile();
	f->detail = tmpfile();
	if (!f->viol || !f->rows || !f->detail) {
		jv_report_file_free(f);
		return JV_ERR_IO;
	}
	*out = f;
	return 0;
}

void jv_report_file_free(struct jv_report_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nlive; i++)
		stream_free(f->live[i]);
	free(f->live);
	free(f->nviol);
	if (f->viol)
		fclose(f->viol);
	if (f->rows)
		fclose(f->rows);
	if (f->detail)
		fclose(f->detail);
	free(f->name);
	free(f);
}
