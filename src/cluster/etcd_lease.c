/* SPDX-License-Identifier: MIT */
/*
 * The node lease of the etcd backend.
 *
 *   grant      POST /v3/lease/grant {TTL: ceil(lease_ms / 1000)}; etcd
 *              may raise the TTL to its minimum, we use the one it gives.
 *   register   txn: if create(P/n/<node>) == 0, put it (our incarnation,
 *              on the lease); else read it.  A key held by someone else
 *              is another live process with our node id, or our own
 *              crashed predecessor whose lease has not run out: we log
 *              one line and try again every JV_ETCD_RETRY_MS, keeping
 *              the fresh lease alive meanwhile.  A key holding our own
 *              incarnation is an earlier try whose answer was lost.
 *   keepalive  every TTL/3 from the last request sent; a failed one is
 *              retried every JV_ETCD_KEEPALIVE_RETRY_MS.
 *   valid      on_lease(sent + TTL - 10 %) after registering and after
 *              each keepalive, `sent` being when the request that proved
 *              the lease left: etcd restarts the TTL when it handles the
 *              request, later than that, so our figure can only be
 *              early.  When it passes unrenewed: on_lease(0).
 *   lost       a keepalive answering TTL 0, or etcd refusing a write for
 *              "lease not found": on_lease(0) and start over with a new
 *              lease.  The owner keys died with the old one, so the
 *              engine re-acquires its sessions through put.
 *
 * A keepalive that fails does not start over: the lease may well be
 * alive (an answer lost, an endpoint down), and its owner keys with it;
 * only etcd saying it is gone does.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/etcd_impl.h"
#include "net/clock.h"

static const char GRANT[] = "/v3/lease/grant", KEEPALIVE[] = "/v3/lease/keepalive",
		  REVOKE[] = "/v3/lease/revoke", TXN[] = "/v3/kv/txn";

static void node_key(const struct jv_etcd_store *s, char *out)
{
	snprintf(out, JV_EJ_KEY_MAX, "%s/n/%s", s->prefix, s->base.node);
}

/* An answer says the lease has ttl seconds from when etcd handled the
 * request, which is after `sent`. */
static void renewed(struct jv_etcd_store *s, uint64_t ttl, jv_time sent)
{
	s->ttl_ms = (jv_time)ttl * 1000;
	s->renewed_until = sent + s->ttl_ms -
			   s->ttl_ms * JV_ETCD_LEASE_MARGIN_PERMILLE / 1000;
	s->ka_due = sent + s->ttl_ms / 3;
}

static void retry_later(struct jv_etcd_store *s,
			enum jv_etcd_lease_state state)
{
	s->lstate = state;
	s->lease_timer = jv_clock_now() + JV_ETCD_RETRY_MS;
}

/* A grant or a registration: `busy` while it is out, back to `retry`
 * after JV_ETCD_RETRY_MS when curl cannot take it.  body is stolen. */
static void lease_post(struct jv_etcd_store *s, const char *path,
		       json_t *body, jv_etcd_done_fn done,
		       enum jv_etcd_lease_state busy,
		       enum jv_etcd_lease_state retry)
{
	s->lstate = busy;
	s->lease_req = jv_etcd_http_post(&s->http, path, jv_ej_dump(body),
					 JV_STORE_OP_TIMEOUT_MS, done, NULL, s);
	if (!s->lease_req)
		retry_later(s, retry);
}

/* {"ID": the lease}: the body of a keepalive and of the revoke. */
static char *lease_id_body(const struct jv_etcd_store *s)
{
	return jv_ej_dump(json_pack("{s:o}", "ID",
				    jv_ej_u64((uint64_t)s->lease_id)));
}

/* Tell on_lease what the lease is worth now (if that changed). */
static void tell(struct jv_etcd_store *s, jv_time now)
{
	jv_time v = s->lstate == JV_ETCD_L_HELD && s->renewed_until > now
			    ? s->renewed_until
			    : 0;

	if (v == s->valid_until)
		return;
	s->valid_until = v;
	s->delivered++;
	s->on_lease(s->ud, v);
}

bool jv_etcd_lease_valid(const struct jv_etcd_store *s, jv_time now)
{
	return s->lstate == JV_ETCD_L_HELD && s->valid_until &&
	       now <= s->valid_until;
}

/* ---- grant ---- */

static void grant_done(void *ud, const struct jv_etcd_reply *r)
{
	char why[JV_EJ_WHY_MAX];
	struct jv_etcd_store *s = ud;
	enum jv_store_status st;
	const json_t *err;
	uint64_t id, ttl;
	bool gone;
	json_t *j;

	s->lease_req = NULL;
	if (!(j = jv_etcd_answer(s, r, GRANT, true, &st, &gone)))
		return retry_later(s, JV_ETCD_L_GRANT);
	err = json_object_get(j, "error");
	if (err && (!json_is_string(err) || json_string_length(err))) {
		snprintf(why, sizeof why, "lease refused: %s",
			 json_is_string(err) ? json_string_value(err) : "?");
		goto bad;
	}
	if (jv_ej_get_u64(j, "ID", true, &id, why, sizeof why) ||
	    jv_ej_get_u64(j, "TTL", true, &ttl, why, sizeof why))
		goto bad;
	if (!id || !ttl || ttl > JV_ETCD_TTL_MAX_S) {
		snprintf(why, sizeof why, "lease ID %llu TTL %llu",
			 (unsigned long long)id, (unsigned long long)ttl);
		goto bad;
	}
	json_decref(j);
	s->lease_id = (int64_t)id;
	renewed(s, ttl, r->sent_ms);
	s->lstate = JV_ETCD_L_REGISTER;
	s->lease_timer = 0;
	jv_etcd_lease_tick(s, jv_clock_now());
	return;
bad:
	json_decref(j);
	jv_etcd_corrupt(s, r, GRANT, why);
	retry_later(s, JV_ETCD_L_GRANT);
}

static void grant(struct jv_etcd_store *s)
{
	jv_time ttl_s = (s->lease_ms + 999) / 1000;

	lease_post(s, GRANT, json_pack("{s:I}", "TTL", (json_int_t)ttl_s),
		   grant_done, JV_ETCD_L_GRANTING, JV_ETCD_L_GRANT);
}

/* ---- the node key ---- */

static void register_done(void *ud, const struct jv_etcd_reply *r)
{
	char why[JV_EJ_WHY_MAX];
	struct jv_etcd_store *s = ud;
	enum jv_store_status st;
	const json_t *resp, *range;
	struct jv_ej_kv kv;
	bool gone, ok, found;
	json_t *j;

	s->lease_req = NULL;
	j = jv_etcd_answer(s, r, TXN, true, &st, &gone);
	if (gone)
		return jv_etcd_lease_lost(s, s->lease_id,
					  "etcd lost it before the node key was registered");
	if (!j)
		return retry_later(s, JV_ETCD_L_REGISTER);
	if (jv_ej_txn_answer(j, &ok, &resp, why, sizeof why) ||
	    (!ok && (jv_ej_response(resp, 0, "response_range", &range, why,
				    sizeof why) ||
		     jv_ej_range_one(range, &found, &kv, why, sizeof why)))) {
		json_decref(j);
		jv_etcd_corrupt(s, r, TXN, why);
		return retry_later(s, JV_ETCD_L_REGISTER);
	}
	json_decref(j);
	if (!ok && !(found && kv.lease == s->lease_id &&
		     !strcmp((const char *)kv.val, s->incarnation))) {
		if (!s->told_waiting)
			jv_etcd_logf(&s->log,
				     "node id %s is held by another live gateway (incarnation %s); waiting for its lease to expire",
				     s->base.node,
				     found ? (const char *)kv.val : "?");
		s->told_waiting = true;
		return retry_later(s, JV_ETCD_L_REGISTER);
	}
	if (s->told_waiting)
		jv_etcd_logf(&s->log, "node id %s registered", s->base.node);
	s->told_waiting = false;
	s->lstate = JV_ETCD_L_HELD;
	tell(s, jv_clock_now());
}

static void register_node(struct jv_etcd_store *s)
{
	char key[JV_EJ_KEY_MAX];
	json_t *put;

	node_key(s, key);
	put = jv_ej_op_put(key, s->incarnation, strlen(s->incarnation),
			   s->lease_id);
	lease_post(s, TXN,
		   jv_ej_txn(json_pack("[o]", jv_ej_cmp_absent(key)),
			     json_pack("[o]", put),
			     json_pack("[o]", jv_ej_op_range(key))),
		   register_done, JV_ETCD_L_REGISTERING, JV_ETCD_L_REGISTER);
}

/* ---- keepalive ---- */

static void keepalive_done(void *ud, const struct jv_etcd_reply *r)
{
	char why[JV_EJ_WHY_MAX];
	struct jv_etcd_store *s = ud;
	enum jv_store_status st;
	const json_t *res;
	uint64_t id, ttl;
	bool gone;
	json_t *j;

	s->ka_req = NULL;
	s->ka_due = jv_clock_now() + JV_ETCD_KEEPALIVE_RETRY_MS;
	j = jv_etcd_answer(s, r, KEEPALIVE, false, &st, &gone);
	if (gone)
		return jv_etcd_lease_lost(s, s->lease_id, "keepalive refused");
	if (!j)
		return;
	/* A streaming endpoint: each answer is wrapped in "result". */
	res = json_object_get(j, "result");
	if (!json_is_object(res)) {
		snprintf(why, sizeof why, "no \"result\" object");
		goto bad;
	}
	if (jv_ej_get_u64(res, "ID", true, &id, why, sizeof why) ||
	    jv_ej_get_u64(res, "TTL", false, &ttl, why, sizeof why))
		goto bad;
	if ((int64_t)id != s->lease_id || ttl > JV_ETCD_TTL_MAX_S) {
		snprintf(why, sizeof why, "keepalive of lease %lld answered for %llu, TTL %llu",
			 (long long)s->lease_id, (unsigned long long)id,
			 (unsigned long long)ttl);
		goto bad;
	}
	json_decref(j);
	if (!ttl)
		return jv_etcd_lease_lost(s, s->lease_id,
					  "etcd says it expired (TTL 0)");
	renewed(s, ttl, r->sent_ms);
	tell(s, jv_clock_now());
	return;
bad:
	json_decref(j);
	jv_etcd_corrupt(s, r, KEEPALIVE, why);
}

static void keepalive(struct jv_etcd_store *s, jv_time now)
{
	jv_time budget = s->ttl_ms / 3;

	/* An answer later than TTL/3 is worth less than a fresh try. */
	if (budget > JV_STORE_OP_TIMEOUT_MS)
		budget = JV_STORE_OP_TIMEOUT_MS;
	s->ka_req = jv_etcd_http_post(&s->http, KEEPALIVE, lease_id_body(s),
				      (int)budget, keepalive_done, NULL, s);
	if (!s->ka_req)
		s->ka_due = now + JV_ETCD_KEEPALIVE_RETRY_MS;
}

/* ---- the state machine ---- */

void jv_etcd_lease_lost(struct jv_etcd_store *s, int64_t id, const char *why)
{
	if (!id || id != s->lease_id)
		return;
	jv_etcd_logf(&s->log,
		     "lease %lld of node %s lost: %s; not owning until a new lease is registered",
		     (long long)id, s->base.node, why);
	jv_etcd_http_cancel(&s->http, s->lease_req);
	jv_etcd_http_cancel(&s->http, s->ka_req);
	s->lease_req = s->ka_req = NULL;
	s->lease_id = 0;
	s->renewed_until = 0;
	s->ka_due = JV_TIME_NEVER;
	s->told_waiting = false;
	s->lstate = JV_ETCD_L_GRANT;
	s->lease_timer = 0;
	tell(s, jv_clock_now());
}

void jv_etcd_lease_start(struct jv_etcd_store *s)
{
	s->ka_due = JV_TIME_NEVER;
	grant(s);
}

jv_time jv_etcd_lease_deadline(const struct jv_etcd_store *s)
{
	jv_time t = JV_TIME_NEVER;

	if (s->lstate == JV_ETCD_L_GRANT || s->lstate == JV_ETCD_L_REGISTER)
		t = s->lease_timer;
	if (s->lease_id && !s->ka_req && s->ka_due < t)
		t = s->ka_due;
	if (s->valid_until && s->valid_until + 1 < t)
		t = s->valid_until + 1;
	return t;
}

void jv_etcd_lease_tick(struct jv_etcd_store *s, jv_time now)
{
	if (s->valid_until && now > s->valid_until) {
		jv_etcd_logf(&s->log,
			     "lease %lld of node %s not renewed in time; not owning until etcd answers",
			     (long long)s->lease_id, s->base.node);
		tell(s, now);
		if (s->closing)
			return;
	}
	if (s->lstate == JV_ETCD_L_GRANT && now >= s->lease_timer)
		grant(s);
	else if (s->lstate == JV_ETCD_L_REGISTER && now >= s->lease_timer)
		register_node(s);
	if (s->lease_id && !s->ka_req && now >= s->ka_due)
		keepalive(s, now);
}

void jv_etcd_lease_stop(struct jv_etcd_store *s, bool revoke)
{
	char *body;

	jv_etcd_http_cancel(&s->http, s->lease_req);
	jv_etcd_http_cancel(&s->http, s->ka_req);
	s->lease_req = s->ka_req = NULL;
	if (revoke && s->lease_id) {
		body = lease_id_body(s);
		if (body)
			(void)jv_etcd_http_post_sync(&s->http, REVOKE, body,
						     JV_ETCD_REVOKE_BUDGET_MS);
		free(body);
	}
	s->lease_id = 0;
}
