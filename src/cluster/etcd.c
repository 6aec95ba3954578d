/* SPDX-License-Identifier: MIT */
/*
 * The cluster ownership store (store.h, "etcd:URL[,URL...]"): etcd v3
 * through its JSON gateway, in five files:
 *
 *   etcd.c        open, close, and driving it all: tick, poll, deadline
 *   etcd_kv.c     get, put, del: the keys and the fenced transactions
 *   etcd_lease.c  the node lease: grant, node key, keepalive
 *   etcd_watch.c  takeover notices (on_watch)
 *   etcd_http.c   POSTs on libcurl's multi handle, endpoint failover
 *   etcd_json.c   the gateway's JSON and the record value
 *
 * The keys are listed in etcd_impl.h.  One thread; every callback runs
 * from jv_store_tick/poll or from the loop's descriptor callbacks, never
 * inside the call that started it, and any of them may close the store:
 * the close then only marks it, and the outermost frame on the stack
 * frees it (jv_etcd_http_enter/leave).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cluster/etcd_impl.h"
#include "cluster/etcd_priv.h"
#include "cluster/why.h"
#include "net/clock.h"
#include "net/loop.h"

/* ---- answers ---- */

enum jv_store_status jv_etcd_corrupt(struct jv_etcd_store *s,
				     const struct jv_etcd_reply *r,
				     const char *what, const char *why)
{
	jv_etcd_logf(&s->log, "%s%s: %s", r->endpoint, what, why);
	return JV_STORE_CORRUPT;
}

json_t *jv_etcd_answer(struct jv_etcd_store *s, const struct jv_etcd_reply *r,
		       const char *what, bool header,
		       enum jv_store_status *status, bool *lease_gone)
{
	uint64_t rev;
	char why[JV_EJ_WHY_MAX];
	const char *msg;
	json_t *j;
	long code;

	*lease_gone = false;
	if (r->kind == JV_ETCD_UNREACHABLE) {
		*status = JV_STORE_UNAVAILABLE;	/* etcd_http.c logged it */
		return NULL;
	}
	if (r->kind == JV_ETCD_OVERSIZE) {
		*status = JV_STORE_CORRUPT;	/* etcd_http.c logged it */
		return NULL;
	}
	if (r->status == 200) {
		j = jv_ej_load(r->body, r->len, why, sizeof why);
		if (j && (!header ||
			  !jv_ej_header_rev(j, &rev, why, sizeof why)))
			return j;
		json_decref(j);
		*status = jv_etcd_corrupt(s, r, what, why);
		return NULL;
	}
	j = jv_ej_load(r->body, r->len, NULL, 0);
	if (j && !jv_ej_error(j, &code, &msg)) {
		/* gRPC codes: 5 NotFound, and the transient ones: 1 Canceled,
		 * 4 DeadlineExceeded, 8 ResourceExhausted, 14 Unavailable. */
		if (code == 5 && strstr(msg, "lease not found")) {
			*lease_gone = true;
			*status = JV_STORE_UNAVAILABLE;
		} else if (code == 1 || code == 4 || code == 8 || code == 14) {
			jv_etcd_logf(&s->log, "%s%s: HTTP %ld: %s", r->endpoint,
				     what, r->status, msg);
			*status = JV_STORE_UNAVAILABLE;
		} else {
			snprintf(why, sizeof why, "HTTP %ld: %s (gRPC code %ld)",
				 r->status, msg, code);
			*status = jv_etcd_corrupt(s, r, what, why);
		}
	} else if (r->status >= 500) {
		jv_etcd_logf(&s->log, "%s%s: HTTP %ld", r->endpoint, what,
			     r->status);
		*status = JV_STORE_UNAVAILABLE;
	} else {
		snprintf(why, sizeof why,
			 "HTTP %ld and no etcd error in the body (not an etcd v3 gateway?)",
			 r->status);
		*status = jv_etcd_corrupt(s, r, what, why);
	}
	json_decref(j);
	return NULL;
}

/* ---- driving ---- */

static jv_time ed_deadline(const struct jv_store *st)
{
	const struct jv_etcd_store *s = (const struct jv_etcd_store *)st;
	jv_time t, u;

	if (s->closing)
		return JV_TIME_NEVER;
	if (!jv_etcd_list_empty(&s->deferred))
		return 0;
	t = jv_etcd_http_deadline(&s->http);
	if ((u = jv_etcd_lease_deadline(s)) < t)
		t = u;
	if ((u = jv_etcd_watch_deadline(s)) < t)
		t = u;
	return t;
}

static void tick_body(struct jv_etcd_store *s, jv_time now)
{
	jv_etcd_http_tick(&s->http, now);
	if (!s->closing)
		jv_etcd_lease_tick(s, now);
	if (!s->closing)
		jv_etcd_watch_tick(s, now);
	if (!s->closing)
		jv_etcd_ops_deliver(s);
}

static void ed_tick(struct jv_store *st, jv_time now)
{
	struct jv_etcd_store *s = (struct jv_etcd_store *)st;

	jv_etcd_http_enter(&s->http);
	tick_body(s, now);
	(void)jv_etcd_http_leave(&s->http);
}

static int ed_poll(struct jv_store *st, int timeout_ms)
{
	struct jv_etcd_store *s = (struct jv_etcd_store *)st;
	jv_time now = jv_clock_now(), end, due;
	int before = s->delivered, got, wait;

	end = now + (jv_time)(timeout_ms > 0 ? timeout_ms : 0);
	jv_etcd_http_enter(&s->http);
	for (;;) {
		tick_body(s, now);
		if (s->delivered != before || s->closing)
			break;
		if ((now = jv_clock_now()) >= end)
			break;
		due = ed_deadline(st);
		/* A deadline already due was just served; wait a little
		 * rather than spin on it. */
		wait = due <= now ? 1 : (int)((due < end ? due : end) - now);
		if (s->http.loop) {
			if (jv_loop_run_once(s->http.loop, wait) < 0)
				break;
		} else {
			jv_etcd_http_wait(&s->http, wait);
		}
		now = jv_clock_now();
	}
	got = s->delivered - before;
	(void)jv_etcd_http_leave(&s->http);
	return got;
}

/* ---- open and close ---- */

static void destroy(void *ud)
{
	struct jv_etcd_store *s = ud;

	jv_etcd_watch_stop(s);
	jv_etcd_http_fini(&s->http);
	free(s);
}

static void shut(struct jv_etcd_store *s, bool revoke)
{
	s->closing = true;
	jv_etcd_ops_cancel(s);
	jv_etcd_watch_stop(s);
	jv_etcd_lease_stop(s, revoke);
	if (s->http.busy)
		s->http.doomed = true;	/* the outermost frame frees */
	else
		destroy(s);
}

static void ed_close(struct jv_store *st)
{
	shut((struct jv_etcd_store *)st, true);
}

void jv_store_etcd_abandon(struct jv_store *st)
{
	if (st)
		shut((struct jv_etcd_store *)st, false);
}

int64_t jv_store_etcd_lease_id(const struct jv_store *st)
{
	const struct jv_etcd_store *s = (const struct jv_etcd_store *)st;

	return s->lstate == JV_ETCD_L_HELD ? s->lease_id : 0;
}

static const struct jv_store_ops etcd_ops = {
	.get = jv_etcd_get,
	.put = jv_etcd_put,
	.del = jv_etcd_del,
	.deadline = ed_deadline,
	.tick = ed_tick,
	.poll = ed_poll,
	.close = ed_close,
};

static int check_cfg(const struct jv_store_config *cfg, char *why,
		     size_t why_len)
{
	const char *c = cfg->cluster_id;

	if (cfg->lease_ms < 1000 ||
	    cfg->lease_ms > (jv_time)JV_ETCD_TTL_MAX_S * 1000)
		return jv_why(why, why_len, -1,
			      "etcd: lease of %llu ms; etcd counts leases in seconds, want 1000 to %llu",
			      (unsigned long long)cfg->lease_ms,
			      (unsigned long long)JV_ETCD_TTL_MAX_S * 1000);
	if (c && (!c[0] || strlen(c) > JV_ETCD_CLUSTER_ID_MAX ||
		  strchr(c, '/')))
		return jv_why(why, why_len, -1,
			      "etcd: cluster id '%s' must be 1 to %d bytes without '/'",
			      c, JV_ETCD_CLUSTER_ID_MAX);
	return 0;
}

struct jv_store *jv_store_etcd_open(const struct jv_store_config *cfg,
				    const char *where, struct jv_loop *loop,
				    char *why, size_t why_len)
{
	const struct jv_etcd_tls tls = {
		.ca_file = cfg->ca_file,
		.cert_file = cfg->cert_file,
		.key_file = cfg->key_file,
	};
	uint8_t inc[JV_ETCD_INCARNATION_BYTES];
	struct jv_etcd_store *s;

	if (check_cfg(cfg, why, why_len))
		return NULL;
	if (sodium_init() < 0) {
		jv_why(why, why_len, -1,
		       "etcd: libsodium failed to initialise");
		return NULL;
	}
	if (!(s = calloc(1, sizeof *s))) {
		jv_why(why, why_len, -1, "etcd: out of memory");
		return NULL;
	}
	jv_store_init(&s->base, &etcd_ops, cfg);
	jv_etcd_list_init(&s->ops);
	jv_etcd_list_init(&s->deferred);
	s->http.log = &s->log;
	s->http.reap = destroy;
	s->http.reap_ud = s;
	snprintf(s->prefix, sizeof s->prefix, "/%s",
		 cfg->cluster_id ? cfg->cluster_id : "jvpn");
	randombytes_buf(inc, sizeof inc);
	sodium_bin2hex(s->incarnation, sizeof s->incarnation, inc, sizeof inc);
	s->lease_ms = cfg->lease_ms;
	s->on_lease = cfg->on_lease;
	s->on_watch = cfg->on_watch;
	s->ud = cfg->ud;
	s->watch_timer = JV_TIME_NEVER;
	if (jv_etcd_http_init(&s->http, where, &tls, loop, why, why_len)) {
		destroy(s);
		return NULL;
	}
	jv_etcd_lease_start(s);
	if (s->on_watch)
		jv_etcd_watch_start(s);
	return &s->base;
}
