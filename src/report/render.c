/* SPDX-License-Identifier: MIT */
/*
 * A finished stream as HTML: one overview row, and a section with the
 * SVG timeline (lanes: switches, state bands, other events, damped
 * transports when there are any, time axis, RTT and loss when the log has
 * them), the summary table and the tables of state intervals and damped
 * transports (the same bands, for text readers).  Hover text is
 * an SVG <title> holding the auditor's own line for the entry.
 *
 * Colours come from classes of the page's style sheet (page.c), so the
 * SVG carries geometry only.
 */

#include <inttypes.h>
#include <string.h>

#include "report_impl.h"

enum {
	SVG_W = 1000,
	LEFT = 84,		/* lane names */
	RIGHT = 12,
	PLOT_W = SVG_W - LEFT - RIGHT,
	STUB_W = 24,		/* TERMINATED, drawn past the end */
	SWITCH_LABELS_MAX = 12,	/* more switches: labels in hover only */
	TICKS_MAX = 20,
	PANEL_H = 48,
};

/* ---- small writers ---------------------------------------------------- */

void rp_put_ms(FILE *out, uint64_t ms)
{
	fprintf(out, "%" PRIu64 " ms", ms);
}

static void put_rel(FILE *out, jv_time t, jv_time t0)
{
	if (t >= t0)
		fprintf(out, "+%.3f s", (double)(t - t0) / 1000.0);
	else
		fprintf(out, "-%.3f s", (double)(t0 - t) / 1000.0);
}

void rp_verdict_slot(FILE *out, unsigned index)
{
	fprintf(out, "\x01%u\x02", index);
}

/* 1, 2, 5 x 10^k, the smallest not below x */
static double nice_up(double x)
{
	double p = 1.0;

	if (x <= 0)
		return 1.0;
	while (p * 10 <= x)
		p *= 10;
	while (p > x)
		p /= 10;
	if (p >= x)
		return p;
	if (2 * p >= x)
		return 2 * p;
	if (5 * p >= x)
		return 5 * p;
	return 10 * p;
}

/* ---- geometry --------------------------------------------------------- */

struct geo {
	jv_time t0, span;
	double k;		/* px per ms */
	bool stub;		/* room for TERMINATED after the end */
};

static double gx(const struct geo *g, jv_time t)
{
	if (t < g->t0)
		t = g->t0;
	if (t - g->t0 > g->span)
		t = g->t0 + g->span;
	return LEFT + (double)(t - g->t0) * g->k;
}

static void geo_init(struct geo *g, const struct rp_stream *s)
{
	double w = PLOT_W;

	g->t0 = s->t0;
	g->span = s->last > s->t0 ? s->last - s->t0 : 0;
	g->stub = s->terminated && s->open.state == JV_STATE_TERMINATED;
	if (g->stub)
		w -= STUB_W;
	g->k = g->span ? w / (double)g->span : 0.0;
}

static void lane_name(FILE *out, double y, const char *name)
{
	fprintf(out, "<text class=\"lane\" x=\"4\" y=\"%.1f\">%s</text>\n",
		y, name);
}

/* ---- bands ------------------------------------------------------------ */

static void band_title(FILE *out, const struct rp_stream *s,
		       const struct rp_band *b, bool last)
{
	fputs("<title>", out);
	if (b->norig > 1) {
		bool any = false;

		fprintf(out, "%" PRIu32 " intervals merged, ", b->norig);
		put_rel(out, b->t0, s->t0);
		fputs(" .. ", out);
		put_rel(out, b->t1, s->t0);
		fputs(":", out);
		for (int i = 0; i < JV_STATE_COUNT; i++)
			if (b->dur[i]) {
				fprintf(out, "%s %s ", any ? "," : "",
					rp_state_name(i));
				rp_put_ms(out, b->dur[i]);
				any = true;
			}
		if (!any)
			fputs(" no time elapsed", out);
	} else {
		fprintf(out, "%s ", rp_state_name(b->state));
		put_rel(out, b->t0, s->t0);
		fputs(" .. ", out);
		put_rel(out, b->t1, s->t0);
		fputs(" (", out);
		rp_put_ms(out, b->t1 - b->t0);
		fputs(last && s->open_at_end ? ", still open at the end of "
		      "the log)" : ")", out);
	}
	fputs("; binding ", out);
	rp_esc(out, b->bound ? b->bind : "none");
	if (b->bound != b->bound_end || strcmp(b->bind, b->bind_end)) {
		fputs(", then ", out);
		rp_esc(out, b->bound_end ? b->bind_end : "none");
	}
	if (b->line) {
		fprintf(out, "; entered at v%" PRIu64, b->v0);
		if (jv_reason_name(b->reason))
			fprintf(out, " by %s", jv_reason_name(b->reason));
		fprintf(out, " (line %lu)", b->line);
	}
	fputs("</title>", out);
}

static void draw_band(FILE *out, const struct geo *g,
		      const struct rp_stream *s, const struct rp_band *b,
		      bool last, double y, double h)
{
	double x0 = gx(g, b->t0), x1 = gx(g, b->t1), w;
	char label[RP_TID_MAX + 16];
	bool dark;

	if (last && g->stub)
		x1 = LEFT + PLOT_W;
	w = x1 - x0;
	if (w < 0.6)
		w = 0.6;	/* a zero-length interval shows as a sliver */
	fprintf(out, "<rect class=\"band %s%s\" x=\"%.2f\" y=\"%.1f\" "
		"width=\"%.2f\" height=\"%.1f\">", rp_state_class(b->state),
		b->norig > 1 ? " merged" : "", x0, y, w, h);
	band_title(out, s, b, last);
	fputs("</rect>\n", out);

	/* the label inside, if it fits (about 6.5 px per character) */
	if (b->bound && b->state != JV_STATE_TERMINATED)
		snprintf(label, sizeof label, "%s %s", rp_state_name(b->state),
			 b->bind);
	else
		snprintf(label, sizeof label, "%s", rp_state_name(b->state));
	if (w < 6.5 * (double)strlen(label) + 6)
		snprintf(label, sizeof label, "%s", rp_state_name(b->state));
	if (w < 6.5 * (double)strlen(label) + 6)
		return;
	dark = b->state != JV_STATE_VOLATILE && b->state != JV_STATE_DEGRADED &&
	       b->state != JV_STATE_BIRTH;
	fprintf(out, "<text class=\"bl%s\" x=\"%.2f\" y=\"%.1f\">",
		dark ? " light" : "", x0 + 3, y + h / 2 + 4);
	rp_esc(out, label);
	fputs("</text>\n", out);
}

/* ---- markers ---------------------------------------------------------- */

static void mark_title(FILE *out, const struct rp_mark *m)
{
	fputs("<title>", out);
	rp_esc(out, m->text[0] ? m->text : m->label);
	fputs("</title>", out);
}

static void draw_mark(FILE *out, const struct geo *g, const struct rp_mark *m,
		      double ysw, double yst, double hst, double yev)
{
	double x = gx(g, m->ts), c = yev + 7;

	switch (m->kind) {
	case JV_AE_SWITCH:
		fprintf(out, "<line class=\"swl\" x1=\"%.2f\" y1=\"%.1f\" "
			"x2=\"%.2f\" y2=\"%.1f\"/>\n", x, yst, x, yst + hst);
		fprintf(out, "<polygon class=\"m-switch %s\" points=\"%.2f,"
			"%.1f %.2f,%.1f %.2f,%.1f\">", m->forced ? "forced" :
			"disc", x - 4.5, ysw, x + 4.5, ysw, x, ysw + 9);
		break;
	case JV_AE_ATTACH:
		fprintf(out, "<circle class=\"m-attach\" cx=\"%.2f\" "
			"cy=\"%.1f\" r=\"3.5\">", x, c);
		break;
	case JV_AE_DEAD:
		fprintf(out, "<path class=\"m-dead\" d=\"M%.2f %.1fl7 7m0 "
			"-7l-7 7\">", x - 3.5, c - 3.5);
		break;
	case JV_AE_DENIAL:
		fprintf(out, "<rect class=\"m-denial\" x=\"%.2f\" y=\"%.1f\" "
			"width=\"1.6\" height=\"14\">", x - 0.8, yev);
		break;
	case JV_AE_SECURITY:
		fprintf(out, "<polygon class=\"m-security\" points=\"%.2f,%.1f "
			"%.2f,%.1f %.2f,%.1f %.2f,%.1f\">", x, c - 5, x + 4, c,
			x, c + 5, x - 4, c);
		break;
	case JV_AE_TERMINATED:
		fprintf(out, "<rect class=\"m-end\" x=\"%.2f\" y=\"%.1f\" "
			"width=\"8\" height=\"8\">", x - 4, c - 4);
		break;
	default:	/* owner, policy */
		fprintf(out, "<rect class=\"m-other\" x=\"%.2f\" y=\"%.1f\" "
			"width=\"6\" height=\"6\">", x - 3, c - 3);
		break;
	}
	mark_title(out, m);
	switch (m->kind) {
	case JV_AE_SWITCH:
		fputs("</polygon>\n", out);
		break;
	case JV_AE_ATTACH:
		fputs("</circle>\n", out);
		break;
	case JV_AE_DEAD:
		fputs("</path>\n", out);
		break;
	case JV_AE_SECURITY:
		fputs("</polygon>\n", out);
		break;
	default:
		fputs("</rect>\n", out);
		break;
	}
}

static size_t count_switch_marks(const struct rp_stream *s)
{
	const struct rp_mark *m = (const void *)s->marks[RP_MAJOR].v;
	size_t n = 0;

	for (size_t i = 0; i < s->marks[RP_MAJOR].n; i++)
		n += m[i].kind == JV_AE_SWITCH;
	return n;
}

/* "from -> to" over the switch markers, on two alternating rows. */
static void switch_labels(FILE *out, const struct geo *g,
			  const struct rp_stream *s, double y)
{
	const struct rp_mark *m = (const void *)s->marks[RP_MAJOR].v;
	unsigned k = 0;

	for (size_t i = 0; i < s->marks[RP_MAJOR].n; i++) {
		double x;

		if (m[i].kind != JV_AE_SWITCH)
			continue;
		x = gx(g, m[i].ts);
		fprintf(out, "<text class=\"swt\" x=\"%.2f\" y=\"%.1f\" "
			"text-anchor=\"%s\">", x, y + (k % 2 ? 19 : 9),
			x < LEFT + 80 ? "start" : x > LEFT + PLOT_W - 80 ?
			"end" : "middle");
		rp_esc(out, m[i].label);
		fputs("</text>\n", out);
		k++;
	}
}

/* ---- damped transports (PD-7) ----------------------------------------- */

enum { DAMP_ROWS_MAX = 4, DAMP_ROW_H = 12 };

/* The row of a transport in the damped lane: one per transport, the
 * ones past DAMP_ROWS_MAX share the last. */
static unsigned damp_row(const char rows[][RP_TID_MAX], unsigned n,
			 const char *tid)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(rows[i], tid))
			return i;
	return n ? n - 1 : 0;
}

static unsigned damp_rows(const struct rp_stream *s,
			  char rows[][RP_TID_MAX])
{
	const struct rp_damp *d = (const void *)s->damps.v;
	unsigned n = 0;

	for (size_t i = 0; i < s->damps.n; i++) {
		bool seen = false;

		for (unsigned k = 0; k < n; k++)
			seen |= !strcmp(rows[k], d[i].tid);
		if (!seen && n < DAMP_ROWS_MAX)
			memcpy(rows[n++], d[i].tid, RP_TID_MAX);
	}
	return n;
}

static void damp_title(FILE *out, const struct rp_stream *s,
		       const struct rp_damp *d)
{
	fputs("<title>", out);
	rp_esc(out, d->tid);
	fputs(" damped ", out);
	put_rel(out, d->t0, s->t0);
	fputs(" .. ", out);
	put_rel(out, d->t1, s->t0);
	fputs(" (", out);
	rp_put_ms(out, d->t1 - d->t0);
	fprintf(out, "), flap penalty %" PRIu64, d->pen0);
	if (d->line1)
		fprintf(out, " .. %" PRIu64 " when reused (lines %lu .. %lu)",
			d->pen1, d->line0, d->line1);
	else
		fprintf(out, ", still damped at the end of the log (line %lu)",
			d->line0);
	fputs("</title>", out);
}

static void damp_lane(FILE *out, const struct geo *g,
		      const struct rp_stream *s, double y)
{
	const struct rp_damp *d = (const void *)s->damps.v;
	char rows[DAMP_ROWS_MAX][RP_TID_MAX];
	unsigned n = damp_rows(s, rows);

	lane_name(out, y + 9, "damped");
	for (size_t i = 0; i < s->damps.n; i++) {
		double x0 = gx(g, d[i].t0), w = gx(g, d[i].t1) - x0;
		double yr = y + DAMP_ROW_H * damp_row(rows, n, d[i].tid);

		if (w < 0.6)
			w = 0.6;
		fprintf(out, "<rect class=\"damp\" x=\"%.2f\" y=\"%.1f\" "
			"width=\"%.2f\" height=\"%d\">", x0, yr, w,
			DAMP_ROW_H - 2);
		damp_title(out, s, &d[i]);
		fputs("</rect>\n", out);
		if (w >= 6.5 * (double)strlen(d[i].tid) + 6) {
			fprintf(out, "<text class=\"dl\" x=\"%.2f\" "
				"y=\"%.1f\">", x0 + 3, yr + DAMP_ROW_H - 4);
			rp_esc(out, d[i].tid);
			fputs("</text>\n", out);
		}
	}
}

static double damp_lane_h(const struct rp_stream *s)
{
	char rows[DAMP_ROWS_MAX][RP_TID_MAX];
	unsigned n = damp_rows(s, rows);

	return n ? DAMP_ROW_H * n + 6 : 0;
}

/* ---- axis and path figures -------------------------------------------- */

static void axis(FILE *out, const struct geo *g, double y)
{
	double step = nice_up((double)g->span / 8.0);
	int dec;

	if (step < 1)
		step = 1;
	dec = step >= 1000 ? 0 : step >= 100 ? 1 : step >= 10 ? 2 : 3;
	fprintf(out, "<line class=\"axis\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" "
		"y2=\"%.1f\"/>\n", LEFT, y, LEFT + PLOT_W, y);
	for (int i = 0; i <= TICKS_MAX; i++) {
		double t = step * i, x;

		if (t > (double)g->span)
			break;
		x = LEFT + t * g->k;
		fprintf(out, "<line class=\"tick\" x1=\"%.2f\" y1=\"%.1f\" "
			"x2=\"%.2f\" y2=\"%.1f\"/>\n", x, y, x, y + 4);
		fprintf(out, "<text class=\"tk\" x=\"%.2f\" y=\"%.1f\" "
			"text-anchor=\"%s\">+%.*f s</text>\n", x, y + 15,
			i == 0 ? "start" : "middle", dec, t / 1000.0);
		if (!g->span)
			break;
	}
}

static void point_title(FILE *out, const struct rp_stream *s,
			const struct rp_point *p)
{
	fputs("<title>", out);
	put_rel(out, p->ts, s->t0);
	fprintf(out, " (ts_ms %" PRIu64 "):", p->ts);
	if (p->has_lat)
		fprintf(out, " latency_estimate_ms %" PRIu64, p->lat);
	if (p->has_loss)
		fprintf(out, "%s loss_ratio %.4g", p->has_lat ? "," : "",
			p->loss);
	fprintf(out, " (%s, line %lu)</title>",
		jv_event_type_name(p->type), p->line);
}

/* One panel: latency (loss = false) or loss ratio. */
static void panel(FILE *out, const struct geo *g, const struct rp_stream *s,
		  bool loss, double y)
{
	const struct rp_point *p = (const void *)s->points.v;
	double top = 0, scale;

	for (size_t i = 0; i < s->points.n; i++) {
		double v = loss ? p[i].loss : (double)p[i].lat;

		if ((loss ? p[i].has_loss : p[i].has_lat) && v > top)
			top = v;
	}
	top = loss ? (top <= 0.01 ? 0.01 : top > 0.5 ? 1.0 : nice_up(top))
		   : (top < 1 ? 1 : nice_up(top));
	scale = PANEL_H / top;
	fprintf(out, "<rect class=\"panel\" x=\"%d\" y=\"%.1f\" width=\"%d\" "
		"height=\"%d\"/>\n", LEFT, y, PLOT_W, PANEL_H);
	lane_name(out, y + 12, loss ? "loss" : "RTT ms");
	if (loss)
		fprintf(out, "<text class=\"tk\" x=\"4\" y=\"%.1f\">0..%g%%"
			"</text>\n", y + 26, top * 100);
	else
		fprintf(out, "<text class=\"tk\" x=\"4\" y=\"%.1f\">0..%g"
			"</text>\n", y + 26, top);
	for (size_t i = 0; i < s->points.n; i++) {
		double v;

		if (!(loss ? p[i].has_loss : p[i].has_lat))
			continue;
		v = loss ? p[i].loss : (double)p[i].lat;
		fprintf(out, "<circle class=\"%s%s\" cx=\"%.2f\" cy=\"%.1f\" "
			"r=\"2.5\">", loss ? "pt-loss" : "pt-lat",
			p[i].type == JV_EV_TRANSPORT_SWITCH ? " sw" : "",
			gx(g, p[i].ts), y + PANEL_H - v * scale);
		point_title(out, s, &p[i]);
		fputs("</circle>\n", out);
	}
}

/* ---- the timeline ----------------------------------------------------- */

static void svg(FILE *out, const struct jv_report_file *f,
		const struct rp_stream *s)
{
	struct geo g;
	size_t nsw = count_switch_marks(s);
	bool labels = nsw && nsw <= SWITCH_LABELS_MAX &&
		      s->marks[RP_MAJOR].stride == 1;
	double y = 2, ysw, yst, yev, ydamp, yax, h;

	geo_init(&g, s);
	if (labels)
		y += 22;
	ysw = y;
	y += 12;
	yst = y;
	y += 32;
	yev = y;
	y += 18;
	ydamp = y;
	y += damp_lane_h(s);
	yax = y;
	y += 22;
	h = y + (s->any_lat ? PANEL_H + 8 : 0) +
	    (s->any_loss ? PANEL_H + 8 : 0);

	fprintf(out, "<svg class=\"tl\" xmlns=\"http://www.w3.org/2000/svg\" "
		"viewBox=\"0 0 %d %.0f\" width=\"100%%\" role=\"img\" "
		"aria-label=\"timeline of stream %u\">\n", SVG_W, h,
		s->info.index);
	fprintf(out, "<title>timeline of stream %u of file %u</title>\n",
		s->info.index, f->fileno);
	if (labels)
		switch_labels(out, &g, s, 2);
	lane_name(out, ysw + 8, "switches");
	lane_name(out, yst + 18, "state");
	lane_name(out, yev + 11, "events");

	{
		const struct rp_band *b = s->bands;

		for (size_t i = 0; i < s->nbands; i++)
			draw_band(out, &g, s, &b[i], false, yst, 28);
		if (s->acc.norig)
			draw_band(out, &g, s, &s->acc, false, yst, 28);
		if (s->started)
			draw_band(out, &g, s, &s->open, true, yst, 28);
	}
	for (int c = RP_MINOR; c >= RP_MAJOR; c--) {
		const struct rp_mark *m = (const void *)s->marks[c].v;

		for (size_t i = 0; i < s->marks[c].n; i++)
			draw_mark(out, &g, &m[i], ysw, yst, 28, yev);
	}
	if (s->damps.n)
		damp_lane(out, &g, s, ydamp);
	if (s->open_at_end)
		fprintf(out, "<line class=\"eol\" x1=\"%.2f\" y1=\"%.1f\" "
			"x2=\"%.2f\" y2=\"%.1f\"><title>end of the log</title>"
			"</line>\n", gx(&g, s->last), yst - 2, gx(&g, s->last),
			yst + 30);
	axis(out, &g, yax);
	y = yax + 22;
	if (s->any_lat) {
		panel(out, &g, s, false, y);
		y += PANEL_H + 8;
	}
	if (s->any_loss)
		panel(out, &g, s, true, y);
	fputs("</svg>\n", out);
}

/* ---- tables ----------------------------------------------------------- */

static void td_ms(FILE *out, uint64_t ms)
{
	fputs("<td class=\"num\">", out);
	rp_put_ms(out, ms);
	fputs("</td>", out);
}

static void end_text(FILE *out, const struct rp_stream *s)
{
	if (s->terminated) {
		const char *why = jv_reason_name(s->term_reason);

		fprintf(out, "TERMINATED: %s", why ? why : "no reason");
	} else if (s->open_at_end) {
		fprintf(out, "still %s at the end of the log",
			rp_state_name(s->open.state));
	} else {
		fputs("no end seen", out);
	}
}

static void latency_text(FILE *out, const struct rp_stream *s)
{
	if (!s->lat_n) {
		fputs("none", out);
		return;
	}
	fprintf(out, "n=%" PRIu64 ", mean ", s->lat_n);
	rp_put_ms(out, s->lat_sum / s->lat_n);
	fputs(", max ", out);
	rp_put_ms(out, s->lat_max);
}

static uint64_t life_ms(const struct rp_stream *s)
{
	return s->last > s->t0 ? s->last - s->t0 : 0;
}

int rp_render_row(FILE *out, const struct jv_report_file *f,
		  const struct rp_stream *s, bool detailed)
{
	static const int shown[] = {
		JV_STATE_ATTACHED, JV_STATE_VOLATILE, JV_STATE_DEGRADED,
		JV_STATE_RECOVERING,
	};

	if (detailed)
		fprintf(out, "<tr><td><a href=\"#f%u-s%u\">%u</a></td>",
			f->fileno, s->info.index, s->info.index);
	else
		fprintf(out, "<tr id=\"f%u-s%u\"><td>%u</td>", f->fileno,
			s->info.index, s->info.index);
	fprintf(out, "<td>%s</td><td><code>", jv_role_name(s->info.role));
	rp_esc(out, s->info.session_id);
	fputs("</code></td><td>", out);
	rp_esc(out, s->info.node_id);
	fputs("</td><td class=\"num\">", out);
	if (s->info.born)
		fprintf(out, "%" PRIu64, s->info.born_ms);
	else
		fputs("not in log", out);
	fputs("</td>", out);
	td_ms(out, life_ms(s));
	fprintf(out, "<td class=\"num\">%" PRIu64 "</td><td class=\"num\">%"
		PRIu64 " (%" PRIu64 " forced)</td><td class=\"num\">%" PRIu64
		"</td><td class=\"num\">%" PRIu64 "</td>", s->transitions,
		s->nswitch, s->nforced, s->ndenial, s->nsecurity);
	for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
		td_ms(out, s->in_state[shown[i]]);
	fputs("<td>", out);
	latency_text(out, s);
	fputs("</td><td>", out);
	end_text(out, s);
	fputs("</td><td>", out);
	rp_verdict_slot(out, s->info.index);
	fputs("</td></tr>\n", out);
	return ferror(out) ? JV_ERR_IO : 0;
}

static void kv_head(FILE *out, const char *k)
{
	fprintf(out, "<tr><th scope=\"row\">%s</th><td>", k);
}

static void summary(FILE *out, const struct rp_stream *s)
{
	uint64_t life = life_ms(s);

	fprintf(out, "<table class=\"kv\"><caption>Summary of stream %u"
		"</caption><tbody>\n", s->info.index);
	kv_head(out, "verdict");
	rp_verdict_slot(out, s->info.index);
	fputs("</td></tr>\n", out);
	kv_head(out, "birth");
	if (s->info.born)
		fprintf(out, "ts_ms %" PRIu64 " (line %lu)", s->info.born_ms,
			s->info.born_line);
	else
		fputs("no SessionCreated in the log", out);
	fputs("</td></tr>\n", out);
	kv_head(out, "end");
	end_text(out, s);
	if (s->terminated)
		fprintf(out, " at ts_ms %" PRIu64 ", session age %" PRIu64
			" ms (line %lu)", s->term_ts, s->term_age,
			s->term_line);
	else
		fprintf(out, " (ts_ms %" PRIu64 ")", s->last);
	fputs("</td></tr>\n", out);
	kv_head(out, "shown span");
	fprintf(out, "ts_ms %" PRIu64 " .. %" PRIu64 " (", s->t0, s->last);
	rp_put_ms(out, life);
	fputs(")</td></tr>\n", out);
	kv_head(out, "policy");
	rp_esc(out, s->info.policy_version);
	fputs("</td></tr>\n", out);
	kv_head(out, "transitions");
	fprintf(out, "%" PRIu64 "</td></tr>\n", s->transitions);
	kv_head(out, "switches");
	fprintf(out, "%" PRIu64 ": %" PRIu64 " forced, %" PRIu64
		" discretionary (PD-7)</td></tr>\n", s->nswitch, s->nforced,
		s->nswitch - s->nforced);
	kv_head(out, "fail-backs");
	fprintf(out, "%" PRIu64 " started, %" PRIu64 " switched"
		"</td></tr>\n", s->nfailback, s->nfailback_sw);
	kv_head(out, "operator migrations");
	fprintf(out, "%" PRIu64 " started, %" PRIu64 " switched"
		"</td></tr>\n", s->nmigration, s->nmigration_sw);
	kv_head(out, "dampings");
	fprintf(out, "%" PRIu64 "</td></tr>\n", s->ndamped);
	kv_head(out, "transport deaths");
	fprintf(out, "%" PRIu64 "</td></tr>\n", s->ndead);
	kv_head(out, "denials");
	fprintf(out, "%" PRIu64 "</td></tr>\n", s->ndenial);
	kv_head(out, "security events");
	fprintf(out, "%" PRIu64 "</td></tr>\n", s->nsecurity);
	for (int i = 0; i < JV_STATE_COUNT; i++) {
		if (i == JV_STATE_TERMINATED)
			continue;
		fprintf(out, "<tr><th scope=\"row\">time in %s</th><td>",
			rp_state_name(i));
		rp_put_ms(out, s->in_state[i]);
		if (life)
			fprintf(out, " (%.1f%%)",
				100.0 * (double)s->in_state[i] / (double)life);
		fputs("</td></tr>\n", out);
	}
	kv_head(out, "recovery latency");
	latency_text(out, s);
	fputs("</td></tr>\n", out);
	kv_head(out, "RTT / loss points");
	fprintf(out, "%zu%s</td></tr>\n", s->points.n,
		s->points.n ? "" : " (the log carries no figures)");
	fputs("</tbody></table>\n", out);
}

static void interval_row(FILE *out, const struct rp_stream *s,
			 const struct rp_band *b, size_t i)
{
	fprintf(out, "<tr><td class=\"num\">%zu</td><td><span class=\"key "
		"%s\"></span> %s%s</td><td class=\"num\">", i,
		rp_state_class(b->state), rp_state_name(b->state),
		b->norig > 1 ? " (merged)" : "");
	put_rel(out, b->t0, s->t0);
	fputs("</td><td class=\"num\">", out);
	put_rel(out, b->t1, s->t0);
	fputs("</td>", out);
	td_ms(out, b->t1 - b->t0);
	fputs("<td>", out);
	rp_esc(out, b->bound ? b->bind : "none");
	if (b->bound != b->bound_end || strcmp(b->bind, b->bind_end)) {
		fputs(" then ", out);
		rp_esc(out, b->bound_end ? b->bind_end : "none");
	}
	fputs("</td><td>", out);
	if (b->line) {
		const char *why = jv_reason_name(b->reason);

		if (!why)
			why = b->state == JV_STATE_BIRTH && !b->v0 ?
			      "SessionCreated" : "first event of the stream";
		fprintf(out, "%s, v%" PRIu64 ", line %lu", why, b->v0,
			b->line);
	}
	fputs("</td></tr>\n", out);
}

static void intervals(FILE *out, const struct rp_stream *s)
{
	size_t n = s->nbands + (s->acc.norig ? 1 : 0) + (s->started ? 1 : 0);
	size_t k = 1;

	fprintf(out, "<details><summary>State intervals (%zu)</summary>\n"
		"<table class=\"iv\"><thead><tr><th>#</th><th>state</th>"
		"<th>from</th><th>to</th><th>duration</th><th>binding</th>"
		"<th>entered by</th></tr></thead><tbody>\n", n);
	for (size_t i = 0; i < s->nbands; i++)
		interval_row(out, s, &s->bands[i], k++);
	if (s->acc.norig)
		interval_row(out, s, &s->acc, k++);
	if (s->started)
		interval_row(out, s, &s->open, k++);
	fputs("</tbody></table></details>\n", out);
}

/* The damped intervals (PD-7), in time order (collect.c sorts them). */
static void damped_table(FILE *out, const struct rp_stream *s)
{
	const struct rp_damp *d = (const void *)s->damps.v;

	if (!s->damps.n)
		return;
	fprintf(out, "<details><summary>Damped transports (%zu intervals)"
		"</summary>\n<table class=\"iv damped\"><thead><tr><th>"
		"transport</th><th>from</th><th>to</th><th>duration</th>"
		"<th>flap penalty</th><th>lines</th></tr></thead><tbody>\n",
		s->damps.n);
	for (size_t i = 0; i < s->damps.n; i++) {
		fputs("<tr><td>", out);
		rp_esc(out, d[i].tid);
		fputs("</td><td class=\"num\">", out);
		put_rel(out, d[i].t0, s->t0);
		fputs("</td><td class=\"num\">", out);
		put_rel(out, d[i].t1, s->t0);
		fputs(d[i].line1 ? "</td>" : " (end of log)</td>", out);
		td_ms(out, d[i].t1 - d[i].t0);
		fprintf(out, "<td class=\"num\">%" PRIu64, d[i].pen0);
		if (d[i].line1)
			fprintf(out, " .. %" PRIu64, d[i].pen1);
		fprintf(out, "</td><td>%lu", d[i].line0);
		if (d[i].line1)
			fprintf(out, " .. %lu", d[i].line1);
		fputs("</td></tr>\n", out);
	}
	fputs("</tbody></table></details>\n", out);
}

static void notes(FILE *out, const struct rp_stream *s)
{
	static const char *const what[RP_CLASSES] = {
		[RP_MAJOR] = "switch, binding and end markers",
		[RP_MINOR] = "denial and security markers",
	};

	if (s->merge > 1)
		fprintf(out, "<p class=\"note\">%" PRIu64 " state intervals: "
			"past %d bands, neighbours are merged (each band "
			"stands for up to %" PRIu32 " intervals, coloured by "
			"the state that took most of its time).</p>\n",
			s->transitions + 1, JV_REPORT_BAND_CAP, s->merge);
	for (int c = 0; c < RP_CLASSES; c++)
		if (s->marks[c].stride > 1)
			fprintf(out, "<p class=\"note\">%s: %zu of %" PRIu64
				" shown (one in %" PRIu64 ", evenly spread)."
				"</p>\n", what[c], s->marks[c].n,
				s->marks[c].seen, s->marks[c].stride);
	if (s->points.stride > 1)
		fprintf(out, "<p class=\"note\">RTT / loss points: %zu of %"
			PRIu64 " shown.</p>\n", s->points.n, s->points.seen);
	if (s->damps.stride > 1)
		fprintf(out, "<p class=\"note\">Damped intervals: %zu of %"
			PRIu64 " shown (evenly spread).</p>\n", s->damps.n,
			s->damps.seen);
	if (s->damp_untracked)
		fprintf(out, "<p class=\"note\">%" PRIu64 " dampings of more "
			"than %d transports damped at once are not drawn.</p>\n",
			s->damp_untracked, RP_DAMP_OPEN_MAX);
}

int rp_render_stream(FILE *out, const struct jv_report_file *f,
		     const struct rp_stream *s)
{
	fprintf(out, "<section class=\"stream\" id=\"f%u-s%u\" "
		"data-role=\"%s\" data-session=\"", f->fileno, s->info.index,
		jv_role_name(s->info.role));
	rp_esc(out, s->info.session_id);
	fprintf(out, "\" data-transitions=\"%" PRIu64 "\">\n",
		s->transitions);
	fprintf(out, "<h3>Stream %u: %s, session <code>", s->info.index,
		jv_role_name(s->info.role));
	rp_esc(out, s->info.session_id);
	fputs("</code>, node <code>", out);
	rp_esc(out, s->info.node_id);
	fputs("</code></h3>\n<p class=\"ended\">", out);
	end_text(out, s);
	fputs(".</p>\n", out);
	notes(out, s);
	svg(out, f, s);
	summary(out, s);
	intervals(out, s);
	damped_table(out, s);
	fputs("</section>\n", out);
	return ferror(out) ? JV_ERR_IO : 0;
}
