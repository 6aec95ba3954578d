/* SPDX-License-Identifier: MIT */
/*
 * How findings, streams, timeline entries and the summary read: one text
 * form for people, one JSON form (jansson) for scripts.  Both carry the
 * same facts.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "audit_impl.h"

static const char *const kind_names[] = {
	[JV_AE_BIRTH] = "birth",
	[JV_AE_STATE] = "state",
	[JV_AE_ATTACH] = "attach",
	[JV_AE_SWITCH] = "switch",
	[JV_AE_DEAD] = "dead",
	[JV_AE_DENIAL] = "denial",
	[JV_AE_SECURITY] = "security",
	[JV_AE_OWNER] = "owner",
	[JV_AE_POLICY] = "policy",
	[JV_AE_TERMINATED] = "terminated",
	[JV_AE_DAMPED] = "damped",
	[JV_AE_REUSED] = "reused",
	[JV_AE_OPEN] = "open",
};

const char *jv_audit_entry_kind_name(enum jv_audit_entry_kind k)
{
	if ((unsigned)k >= sizeof kind_names / sizeof kind_names[0])
		return NULL;
	return kind_names[k];
}

/* snprintf into buf at *off, keeping the first truncation. */
struct out {
	char *buf;
	size_t n, off;
	bool full;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (o->full)
		return;
	va_start(ap, fmt);
	w = vsnprintf(o->buf + o->off, o->n - o->off, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= o->n - o->off) {
		o->full = true;
		o->off = o->n - 1;
		return;
	}
	o->off += (size_t)w;
}

static int done(const struct out *o)
{
	return o->full ? JV_ERR_NOSPACE : (int)o->off;
}

static bool out_init(struct out *o, char *buf, size_t n)
{
	if (!buf || n == 0)
		return false;
	o->buf = buf;
	o->n = n;
	o->off = 0;
	o->full = false;
	buf[0] = '\0';
	return true;
}

static const char *role_name(enum jv_role r)
{
	const char *n = jv_role_name(r);
	return n ? n : "?";
}

int jv_audit_format_violation(const struct jv_audit_violation *v,
			      const char *file, char *buf, size_t n)
{
	struct out o;

	if (!v || !out_init(&o, buf, n))
		return JV_ERR_INVAL;
	if (v->file_name)
		file = v->file_name;
	if (file)
		put(&o, "%s:", file);
	if (v->line)
		put(&o, "%lu:", v->line);
	if (file || v->line)
		put(&o, " ");
	put(&o, "%s: %s", jv_audit_check_name(v->check), v->msg ? v->msg : "");
	if (v->stream)
		put(&o, " [stream %u]", v->stream->index);
	return done(&o);
}

int jv_audit_format_stream(const struct jv_audit_stream *s, char *buf,
			   size_t n)
{
	struct out o;

	if (!s || !out_init(&o, buf, n))
		return JV_ERR_INVAL;
	put(&o, "stream %u: %s session %s, node %s", s->index,
	    role_name(s->role), s->session_id, s->node_id);
	if (s->born && s->born_file)
		put(&o, ", born at %" PRIu64 " (%s:%lu)", s->born_ms,
		    s->born_file, s->born_line);
	else if (s->born)
		put(&o, ", born at %" PRIu64 " (line %lu)", s->born_ms,
		    s->born_line);
	else
		put(&o, ", birth not in the log");
	put(&o, ", policy %s", s->policy_version);
	return done(&o);
}

static const char *st(enum jv_state s)
{
	const char *n = jv_state_name(s);
	return n ? n : "?";
}

static const char *opt(const char *s)
{
	return s ? s : "null";
}

/* PD-7 class of a switch or of an entry into RECOVERING. */
static const char *trigger_class(const struct jv_audit_entry *e)
{
	return e->forced ? "forced" : "discretionary";
}

static bool has_class(const struct jv_audit_entry *e)
{
	return e->kind == JV_AE_SWITCH ||
	       (e->kind == JV_AE_STATE && e->to == JV_STATE_RECOVERING);
}

int jv_audit_format_entry(const struct jv_audit_stream *s,
			  const struct jv_audit_entry *e, char *buf, size_t n)
{
	const char *why;
	struct out o;

	if (!s || !e || !out_init(&o, buf, n))
		return JV_ERR_INVAL;
	why = jv_reason_name(e->reason);
	put(&o, "  %13" PRIu64, e->ts_ms);
	if (s->born && e->ts_ms >= s->born_ms)
		put(&o, " %+11.3f s", (double)(e->ts_ms - s->born_ms) / 1000.0);
	else
		put(&o, " %13s", "");
	put(&o, "  v%-3" PRIu64 " ", e->state_version);
	switch (e->kind) {
	case JV_AE_BIRTH:
		put(&o, "created in BIRTH by %s, policy %s", opt(e->node_id),
		    opt(e->policy_version));
		break;
	case JV_AE_STATE:
		if (e->from == e->to)
			put(&o, "%s -> %s (%s), in %s for %" PRIu64 " ms so far",
			    st(e->from), st(e->to), opt(why), st(e->from),
			    e->duration_ms);
		else if (has_class(e))
			put(&o, "%s -> %s (%s, %s), after %" PRIu64 " ms in %s",
			    st(e->from), st(e->to), opt(why),
			    trigger_class(e), e->duration_ms, st(e->from));
		else
			put(&o, "%s -> %s (%s), after %" PRIu64 " ms in %s",
			    st(e->from), st(e->to), opt(why), e->duration_ms,
			    st(e->from));
		break;
	case JV_AE_ATTACH:
		put(&o, "bound to %s", opt(e->to_transport));
		break;
	case JV_AE_SWITCH:
		put(&o, "switch %s -> %s (%s)", opt(e->from_transport),
		    opt(e->to_transport), trigger_class(e));
		break;
	case JV_AE_DEAD:
		put(&o, "%s dead (%s), binding cleared", opt(e->from_transport),
		    e->detail ? e->detail : "no detection given");
		break;
	case JV_AE_DENIAL:
		put(&o, "%s: %s", e->detail ? e->detail : "denied",
		    why ? why : "no reason");
		if (e->to_transport)
			put(&o, ", candidate %s", e->to_transport);
		if (e->has_nonce)
			put(&o, ", nonce %" PRIu64, e->nonce);
		break;
	case JV_AE_SECURITY:
		put(&o, "security: %s (%s)", jv_event_type_name(e->type),
		    why ? why : "no reason");
		if (e->detail)
			put(&o, ", %s", e->detail);
		if (e->to_transport)
			put(&o, ", transport %s", e->to_transport);
		if (e->has_nonce)
			put(&o, ", nonce %" PRIu64, e->nonce);
		break;
	case JV_AE_OWNER:
		put(&o, "%s: owner %s", jv_event_type_name(e->type),
		    opt(e->detail));
		break;
	case JV_AE_POLICY:
		put(&o, "policy update %s: %s", opt(e->detail),
		    opt(e->policy_version));
		break;
	case JV_AE_TERMINATED:
		put(&o, "TERMINATED: %s, session age %" PRIu64 " ms",
		    opt(why), e->duration_ms);
		break;
	case JV_AE_DAMPED:
		put(&o, "%s damped (flap penalty %" PRIu64 "): no candidate "
		    "while another live one exists", opt(e->to_transport),
		    e->flap_penalty);
		break;
	case JV_AE_REUSED:
		put(&o, "%s reused (flap penalty %" PRIu64 "): a candidate "
		    "again", opt(e->to_transport), e->flap_penalty);
		break;
	case JV_AE_OPEN:
		put(&o, "end of log: still %s, %" PRIu64 " ms so far",
		    st(e->from), e->duration_ms);
		break;
	}
	if (e->node_id && e->kind != JV_AE_BIRTH && e->kind != JV_AE_OPEN)
		put(&o, "  [%s]", e->node_id);
	if (e->line && e->file)
		put(&o, "  (%s:%lu)", e->file, e->line);
	else if (e->line)
		put(&o, "  (line %lu)", e->line);
	return done(&o);
}

/* ---- JSON ------------------------------------------------------------- */

static int set_str(json_t *o, const char *k, const char *v)
{
	return v ? json_object_set_new(o, k, json_string(v)) : 0;
}

static int set_u64(json_t *o, const char *k, uint64_t v)
{
	/* jansson integers are signed 64-bit; ts and versions fit */
	return json_object_set_new(o, k, json_integer((json_int_t)v));
}

json_t *jv_audit_violation_json(const struct jv_audit_violation *v)
{
	json_t *o = json_object();
	int rc = 0;

	if (!o || !v)
		return o;
	rc |= set_str(o, "check", jv_audit_check_name(v->check));
	rc |= set_str(o, "file", v->file_name);
	rc |= set_u64(o, "line", v->line);
	rc |= set_str(o, "message", v->msg);
	if (v->stream)
		rc |= set_u64(o, "stream", v->stream->index);
	if (v->other_line) {
		json_t *w = json_object();

		rc |= w ? 0 : -1;
		rc |= set_str(w, "file", v->other_file_name);
		rc |= set_u64(w, "line", v->other_line);
		rc |= json_object_set_new(o, "other", w);
	}
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *jv_audit_stream_json(const struct jv_audit_stream *s)
{
	json_t *o = json_object();
	int rc = 0;

	if (!o || !s)
		return o;
	rc |= set_u64(o, "stream", s->index);
	rc |= set_str(o, "role", role_name(s->role));
	rc |= set_str(o, "session_id", s->session_id);
	rc |= set_str(o, "node_id", s->node_id);
	rc |= set_str(o, "policy_version", s->policy_version);
	if (s->born) {
		rc |= set_u64(o, "born_ms", s->born_ms);
		rc |= set_str(o, "born_file", s->born_file);
		rc |= set_u64(o, "born_line", s->born_line);
	}
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *jv_audit_entry_json(const struct jv_audit_entry *e)
{
	json_t *o = json_object();
	int rc = 0;

	if (!o || !e)
		return o;
	rc |= set_str(o, "kind", jv_audit_entry_kind_name(e->kind));
	rc |= set_str(o, "file", e->file);
	if (e->line)
		rc |= set_u64(o, "line", e->line);
	rc |= set_u64(o, "ts_ms", e->ts_ms);
	rc |= set_u64(o, "state_version", e->state_version);
	if (e->kind != JV_AE_OPEN)
		rc |= set_str(o, "event_type", jv_event_type_name(e->type));
	rc |= set_str(o, "node_id", e->node_id);
	if (e->from != JV_STATE_COUNT)
		rc |= set_str(o, "from", jv_state_name(e->from));
	if (e->to != JV_STATE_COUNT)
		rc |= set_str(o, "to", jv_state_name(e->to));
	if (e->kind == JV_AE_STATE || e->kind == JV_AE_OPEN ||
	    e->kind == JV_AE_TERMINATED)
		rc |= set_u64(o, "duration_ms", e->duration_ms);
	rc |= set_str(o, "reason", jv_reason_name(e->reason));
	if (has_class(e))
		rc |= set_str(o, "trigger_class", trigger_class(e));
	rc |= set_str(o, "from_transport", e->from_transport);
	rc |= set_str(o, "to_transport", e->to_transport);
	rc |= set_str(o, "detail", e->detail);
	if (e->has_nonce)
		rc |= set_u64(o, "nonce", e->nonce);
	if (e->kind == JV_AE_DAMPED || e->kind == JV_AE_REUSED)
		rc |= set_u64(o, "flap_penalty", e->flap_penalty);
	rc |= set_str(o, "policy_version", e->policy_version);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *latency_json(const struct jv_audit_latency *l)
{
	return json_pack("{sIsIsIsI}", "count", (json_int_t)l->count,
			 "median_ms", (json_int_t)l->median_ms,
			 "p95_ms", (json_int_t)l->p95_ms,
			 "max_ms", (json_int_t)l->max_ms);
}

json_t *jv_audit_report_json(const struct jv_audit_report *r)
{
	json_t *o, *by, *term;
	int rc = 0;

	if (!r)
		return NULL;
	o = json_object();
	by = json_object();
	term = json_object();
	if (!o || !by || !term)
		goto fail;
	for (int c = 0; c < JV_AC_COUNT; c++)
		if (r->by_check[c])
			rc |= set_u64(by, jv_audit_check_name(
					       (enum jv_audit_check)c),
				      r->by_check[c]);
	for (int x = 0; x < JV_REASON_COUNT; x++)
		if (r->terminations[x])
			rc |= set_u64(term, jv_reason_name((enum jv_reason)x),
				      r->terminations[x]);
	rc |= set_u64(o, "lines", r->lines);
	rc |= set_u64(o, "events", r->events);
	rc |= set_u64(o, "streams", r->streams);
	rc |= set_u64(o, "streams_client", r->streams_client);
	rc |= set_u64(o, "streams_gateway", r->streams_gateway);
	rc |= set_u64(o, "terminated", r->terminated);
	rc |= json_object_set_new(o, "terminations", term);
	term = NULL;
	rc |= set_u64(o, "switches", r->switches);
	rc |= set_u64(o, "switches_forced", r->switches_forced);
	rc |= set_u64(o, "switches_discretionary",
		      r->switches - r->switches_forced);
	rc |= set_u64(o, "damped", r->damped);
	rc |= set_u64(o, "denials", r->denials);
	rc |= set_u64(o, "security_events", r->security);
	rc |= set_u64(o, "volatile_ms", r->volatile_ms);
	rc |= set_u64(o, "degraded_ms", r->degraded_ms);
	rc |= json_object_set_new(o, "recovery_client",
				  latency_json(&r->recovery[JV_ROLE_CLIENT]));
	rc |= json_object_set_new(o, "recovery_gateway",
				  latency_json(&r->recovery[JV_ROLE_GATEWAY]));
	if (r->have_ts) {
		rc |= set_u64(o, "first_ts_ms", r->first_ts);
		rc |= set_u64(o, "last_ts_ms", r->last_ts);
	}
	rc |= set_u64(o, "violations", r->violations);
	rc |= json_object_set_new(o, "violations_by_check", by);
	by = NULL;
	rc |= json_object_set_new(o, "verdict",
				  json_string(r->pass ? "PASS" : "FAIL"));
	if (rc)
		goto fail;
	return o;
fail:
	json_decref(by);
	json_decref(term);
	json_decref(o);
	return NULL;
}
