/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/etcd_impl.h"
#include "net/clock.h"

enum op_kind { OP_GET, OP_PUT, OP_DEL, OP_FETCH };

struct op {
	struct jv_etcd_link link;	/* first: a link is its op */
	struct jv_etcd_store *s;
	enum op_kind kind;
	jv_time deadline;
	union {
		jv_store_get_fn get;
		jv_store_put_fn put;
		jv_etcd_fetch_fn fetch;
	} fn;
	void *ud;
	struct jv_etcd_req *req;
	uint32_t index;
	uint8_t id[JV_SESSION_ID_BYTES];
	uint64_t expected;
	int64_t lease;			/* the lease a put named */
	size_t branches;		/* of its write txn */
	enum jv_store_status status;	/* while deferred */
	uint64_t new_revision;
	struct jv_store_rec rec;
};

static const char RANGE[] = "/v3/kv/range", TXN[] = "/v3/kv/txn";

/* ---- helpers ---- */

void jv_etcd_key(const struct jv_etcd_store *s, char *out, char kind,
		 const uint8_t id[JV_SESSION_ID_BYTES])
{
	char hex[2 * JV_SESSION_ID_BYTES + 1];

	jv_ej_id_hex(id, hex);
	snprintf(out, JV_EJ_KEY_MAX, "%s/%c/%s", s->prefix, kind, hex);
}

static void index_key(const struct jv_etcd_store *s, char *out, uint32_t index)
{
	snprintf(out, JV_EJ_KEY_MAX, "%s/i/%08x", s->prefix, index);
}

/* The keys a write of o's session touches, and the index key's value. */
struct keys {
	char rec[JV_EJ_KEY_MAX], owner[JV_EJ_KEY_MAX], index[JV_EJ_KEY_MAX];
	char hex[2 * JV_SESSION_ID_BYTES + 1];	/* the session id */
};

static void keys_of(const struct op *o, uint32_t index, struct keys *k)
{
	jv_etcd_key(o->s, k->rec, 's', o->id);
	jv_etcd_key(o->s, k->owner, 'o', o->id);
	index_key(o->s, k->index, index);
	jv_ej_id_hex(o->id, k->hex);
}

/* ---- completing ---- */

static void op_free(struct op *o)
{
	jv_etcd_list_del(&o->link);
	if (o->req)
		jv_etcd_http_cancel(&o->s->http, o->req);
	if (o->kind != OP_FETCH)
		o->s->n_ops--;
	free(o);
}

/* o leaves every list before its callback, which may close the store
 * (and so cancel everything still listed). */
static void complete(struct op *o, enum jv_store_status st, uint64_t rev)
{
	struct jv_etcd_store *s = o->s;

	jv_etcd_list_del(&o->link);
	if (o->kind != OP_FETCH)
		s->n_ops--;
	switch (o->kind) {
	case OP_GET:
		s->delivered++;
		o->fn.get(o->ud, st, st == JV_STORE_OK ? &o->rec : NULL);
		break;
	case OP_PUT:
	case OP_DEL:
		s->delivered++;
		o->fn.put(o->ud, st, st == JV_STORE_OK ? rev : 0);
		break;
	case OP_FETCH:
		o->fn.fetch(s, st, o->id, st == JV_STORE_OK ? &o->rec : NULL);
		break;
	}
	free(o);
}

static void defer(struct op *o, enum jv_store_status st)
{
	o->status = st;
	jv_etcd_list_del(&o->link);
	jv_etcd_list_add(&o->s->deferred, &o->link);
}

void jv_etcd_ops_deliver(struct jv_etcd_store *s)
{
	struct jv_etcd_link *last = s->deferred.prev;
	struct op *o;
	bool end;

	/* Only what was deferred before this round: an operation a callback
	 * starts completes on the next one, never inside its starter. */
	while (!s->closing && !jv_etcd_list_empty(&s->deferred)) {
		o = (struct op *)s->deferred.next;
		end = &o->link == last;
		complete(o, o->status, o->new_revision);
		if (end)
			break;
	}
}

static struct op *op_new(struct jv_etcd_store *s, enum op_kind kind, void *ud)
{
	struct op *o;

	if (kind != OP_FETCH && s->n_ops >= JV_STORE_INFLIGHT_MAX)
		return NULL;
	if (!(o = calloc(1, sizeof *o)))
		return NULL;
	o->s = s;
	o->kind = kind;
	o->ud = ud;
	o->deadline = jv_clock_now() + JV_STORE_OP_TIMEOUT_MS;
	jv_etcd_list_add(&s->ops, &o->link);
	if (kind != OP_FETCH)
		s->n_ops++;
	return o;
}

/* An operation of the store's user (get, put, del): 0 with *o, or the
 * error its call returns. */
static int user_op(struct jv_etcd_store *s, enum op_kind kind, void *ud,
		   struct op **o)
{
	if (s->closing)
		return JV_ERR_INVAL;
	if (!(*o = op_new(s, kind, ud)))
		return s->n_ops >= JV_STORE_INFLIGHT_MAX ? JV_ERR_LIMIT
							  : JV_ERR_NOMEM;
	return 0;
}

/* Writing and deleting are an owner's acts: not without a lease (false,
 * o deferred UNAVAILABLE). */
static bool lease_held(struct op *o)
{
	if (jv_etcd_lease_valid(o->s, jv_clock_now()))
		return true;
	defer(o, JV_STORE_UNAVAILABLE);
	return false;
}

/* POST the next request of o, or defer UNAVAILABLE when its time is
 * spent or curl cannot take it. */
static void post(struct op *o, const char *path, json_t *body,
		 jv_etcd_done_fn done)
{
	jv_time now = jv_clock_now();

	if (now >= o->deadline) {
		json_decref(body);
		defer(o, JV_STORE_UNAVAILABLE);
		return;
	}
	o->req = jv_etcd_http_post(&o->s->http, path, jv_ej_dump(body),
				   (int)(o->deadline - now), done, NULL, o);
	if (!o->req)
		defer(o, JV_STORE_UNAVAILABLE);
}

/* The common start of every answer handler: the body as JSON, or the
 * op completed with what the answer amounts to. */
static json_t *answer(struct op *o, const struct jv_etcd_reply *r,
		      const char *what)
{
	struct jv_etcd_store *s = o->s;
	enum jv_store_status st;
	bool lease_gone;
	json_t *j;

	o->req = NULL;	/* freed by etcd_http.c after this callback */
	j = jv_etcd_answer(s, r, what, true, &st, &lease_gone);
	if (lease_gone) {
		jv_etcd_lease_lost(s, o->lease,
				   "etcd refused a write naming it");
		if (s->closing) {	/* on_lease closed: o is gone */
			json_decref(j);
			return NULL;
		}
	}
	if (!j)
		complete(o, st, 0);
	return j;
}

static void complete_corrupt(struct op *o, const struct jv_etcd_reply *r,
			     const char *what, const char *why, json_t *j)
{
	json_decref(j);
	complete(o, jv_etcd_corrupt(o->s, r, what, why), 0);
}

/* The answer to a range of one key: true with kv filled when the key
 * exists, else false with o completed (NOTFOUND or what the answer
 * amounts to). */
static bool range_found(struct op *o, const struct jv_etcd_reply *r,
			struct jv_ej_kv *kv)
{
	char why[JV_EJ_WHY_MAX];
	json_t *j = answer(o, r, RANGE);
	bool found;

	if (!j)
		return false;
	if (jv_ej_range_one(j, &found, kv, why, sizeof why)) {
		complete_corrupt(o, r, RANGE, why, j);
		return false;
	}
	json_decref(j);
	if (!found)
		complete(o, JV_STORE_NOTFOUND, 0);
	return found;
}

/* kv's value into o->rec; false with o completed CORRUPT. */
static bool decode_rec(struct op *o, const struct jv_etcd_reply *r,
		       const char *what, const struct jv_ej_kv *kv)
{
	char why[JV_EJ_WHY_MAX], rwhy[JV_EJ_WHY_MAX];

	if (!jv_ej_record_decode(kv->val, kv->val_len, &o->rec, rwhy,
				 sizeof rwhy))
		return true;
	snprintf(why, sizeof why, "%.128s: %.200s", kv->key, rwhy);
	complete_corrupt(o, r, what, why, NULL);
	return false;
}

/* ---- get ---- */

static void get_rec_done(void *ud, const struct jv_etcd_reply *r);

static json_t *range_body(const char *key)
{
	return json_pack("{s:o}", "key", jv_ej_b64(key, strlen(key)));
}

/* One txn of two ranges: the record and its owner key, one revision. */
static void get_record(struct op *o)
{
	char ks[JV_EJ_KEY_MAX], ko[JV_EJ_KEY_MAX];

	jv_etcd_key(o->s, ks, 's', o->id);
	jv_etcd_key(o->s, ko, 'o', o->id);
	post(o, TXN,
	     jv_ej_txn(NULL, json_pack("[o, o]", jv_ej_op_range(ks),
				       jv_ej_op_range(ko)),
		       NULL),
	     get_rec_done);
}

static void get_index_done(void *ud, const struct jv_etcd_reply *r)
{
	char why[JV_EJ_WHY_MAX];
	struct op *o = ud;
	struct jv_ej_kv kv;

	if (!range_found(o, r, &kv))
		return;
	if (jv_ej_id_parse((const char *)kv.val, kv.val_len, o->id)) {
		snprintf(why, sizeof why,
			 "index key %.128s holds no 32-hex-digit session id",
			 kv.key);
		return complete_corrupt(o, r, RANGE, why, NULL);
	}
	get_record(o);
}

static void get_rec_done(void *ud, const struct jv_etcd_reply *r)
{
	char why[JV_EJ_WHY_MAX];
	struct op *o = ud;
	struct jv_ej_kv kv, owner;
	const json_t *resp, *rs, *ro;
	json_t *j = answer(o, r, TXN);
	bool ok, found, live;

	if (!j)
		return;
	if (jv_ej_txn_answer(j, &ok, &resp, why, sizeof why) ||
	    jv_ej_response(resp, 0, "response_range", &rs, why, sizeof why) ||
	    jv_ej_response(resp, 1, "response_range", &ro, why, sizeof why) ||
	    jv_ej_range_one(rs, &found, &kv, why, sizeof why) ||
	    jv_ej_range_one(ro, &live, &owner, why, sizeof why))
		return complete_corrupt(o, r, TXN, why, j);
	json_decref(j);
	if (!ok)
		return complete_corrupt(o, r, TXN, "a txn without compares failed",
					NULL);
	if (!found)
		return complete(o, JV_STORE_NOTFOUND, 0);
	if (!decode_rec(o, r, TXN, &kv))
		return;
	if (memcmp(o->rec.session_id, o->id, sizeof o->id)) {
		snprintf(why, sizeof why, "%.128s holds another session's record",
			 kv.key);
		return complete_corrupt(o, r, TXN, why, NULL);
	}
	if (o->kind == OP_GET && o->rec.receiver_index != o->index)
		return complete(o, JV_STORE_NOTFOUND, 0);
	o->rec.revision = kv.mod_revision;
	o->rec.owner_live = live;
	complete(o, JV_STORE_OK, 0);
}

int jv_etcd_get(struct jv_store *st, uint32_t index, jv_store_get_fn fn,
		void *ud)
{
	struct jv_etcd_store *s = (struct jv_etcd_store *)st;
	char key[JV_EJ_KEY_MAX];
	struct op *o;
	int rc = user_op(s, OP_GET, ud, &o);

	if (rc)
		return rc;
	o->fn.get = fn;
	o->index = index;
	index_key(s, key, index);
	post(o, RANGE, range_body(key), get_index_done);
	return 0;
}

int jv_etcd_fetch(struct jv_etcd_store *s,
		  const uint8_t id[JV_SESSION_ID_BYTES], jv_etcd_fetch_fn fn)
{
	struct op *o = op_new(s, OP_FETCH, NULL);

	if (!o)
		return -1;
	o->fn.fetch = fn;
	memcpy(o->id, id, sizeof o->id);
	get_record(o);
	return 0;
}

/* ---- put and del ---- */

enum { BRANCHES_MAX = 4 };

/* writes under the first branch whose compares (arrays, stolen) all
 * hold; each later branch nested in the failure of the one before. */
static json_t *branches(json_t *cmp[], size_t n, json_t *writes)
{
	json_t *t = NULL;

	for (size_t i = n; i-- > 0;)
		t = jv_ej_txn(cmp[i], i ? json_deep_copy(writes) : writes,
			      t ? json_pack("[o]", jv_ej_op_txn(t)) : NULL);
	return t;
}

/* C & A1 / C & A2 (see the top), each with the extra compare in `more`
 * (stolen; NULL for none). */
static void owner_branches(const struct op *o, const struct keys *k,
			   uint64_t expected, json_t *more, json_t *out[2])
{
	out[0] = json_pack("[o, o]", jv_ej_cmp_mod(k->rec, expected),
			   jv_ej_cmp_value(k->owner, o->s->base.node));
	out[1] = json_pack("[o, o]", jv_ej_cmp_mod(k->rec, expected),
			   jv_ej_cmp_absent(k->owner));
	if (more) {
		json_array_append(out[0], more);
		json_array_append(out[1], more);
		json_decref(more);
	}
}

/* The answer to branches(): 1 written, 0 refused, -1 corrupt. */
static int branches_answer(const json_t *j, size_t n, uint64_t *rev,
			   char *why, size_t why_len)
{
	const json_t *resp;
	bool ok;

	if (jv_ej_header_rev(j, rev, why, why_len))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (jv_ej_txn_answer(j, &ok, &resp, why, why_len))
			return -1;
		if (ok)
			return 1;
		if (i + 1 < n &&
		    jv_ej_response(resp, 0, "response_txn", &j, why, why_len))
			return -1;
	}
	return 0;
}

static void write_done(void *ud, const struct jv_etcd_reply *r)
{
	char why[JV_EJ_WHY_MAX];
	struct op *o = ud;
	json_t *j = answer(o, r, TXN);
	uint64_t rev;
	int written;

	if (!j)
		return;
	written = branches_answer(j, o->branches, &rev, why, sizeof why);
	json_decref(j);
	if (written < 0)
		return complete_corrupt(o, r, TXN, why, NULL);
	if (!written)
		return complete(o, JV_STORE_CONFLICT, 0);
	jv_etcd_watch_mine(o->s, o->id, o->kind == OP_PUT);
	complete(o, JV_STORE_OK, o->kind == OP_PUT ? rev : 0);
}

/* o's write: `writes` (stolen) under the first of the n compare sets in
 * cmp (stolen) that holds. */
static void post_write(struct op *o, json_t *cmp[], size_t n, json_t *writes)
{
	o->branches = n;
	post(o, TXN, branches(cmp, n, writes), write_done);
}

int jv_etcd_put(struct jv_store *st, const struct jv_store_rec *rec,
		uint64_t expected, jv_store_put_fn fn, void *ud)
{
	struct jv_etcd_store *s = (struct jv_etcd_store *)st;
	json_t *cmp[BRANCHES_MAX];
	struct keys k;
	size_t n = 0;
	char *val;
	struct op *o;
	int rc = user_op(s, OP_PUT, ud, &o);

	if (rc)
		return rc;
	o->fn.put = fn;
	memcpy(o->id, rec->session_id, sizeof o->id);
	if (!lease_held(o))
		return 0;
	if (!(val = jv_ej_record_encode(rec))) {
		defer(o, JV_STORE_UNAVAILABLE);
		return 0;
	}
	o->lease = s->lease_id;
	keys_of(o, rec->receiver_index, &k);
	/* The usual update first: our own record, index unchanged. */
	if (expected) {
		owner_branches(o, &k, expected,
			       jv_ej_cmp_mod(k.index, expected), cmp);
		n = 2;
	}
	owner_branches(o, &k, expected, jv_ej_cmp_mod(k.index, 0), cmp + n);
	post_write(o, cmp, n + 2,
		   json_pack("[o, o, o]",
			     jv_ej_op_put(k.rec, val, strlen(val), 0),
			     jv_ej_op_put(k.index, k.hex, strlen(k.hex), 0),
			     jv_ej_op_put(k.owner, s->base.node,
					  strlen(s->base.node), s->lease_id)));
	free(val);
	return 0;
}

static void del_rec_done(void *ud, const struct jv_etcd_reply *r)
{
	struct op *o = ud;
	struct jv_ej_kv kv;
	json_t *cmp[2], *index_del;
	struct keys k;

	if (!range_found(o, r, &kv))
		return;
	if (kv.mod_revision != o->expected)
		return complete(o, JV_STORE_CONFLICT, 0);
	if (!decode_rec(o, r, RANGE, &kv))
		return;
	keys_of(o, o->rec.receiver_index, &k);
	owner_branches(o, &k, o->expected, NULL, cmp);
	/* The index key goes only while it still names this session. */
	index_del = jv_ej_txn(json_pack("[o]", jv_ej_cmp_value(k.index, k.hex)),
			      json_pack("[o]", jv_ej_op_delete(k.index)), NULL);
	post_write(o, cmp, 2,
		   json_pack("[o, o, o]", jv_ej_op_delete(k.rec),
			     jv_ej_op_delete(k.owner),
			     jv_ej_op_txn(index_del)));
}

int jv_etcd_del(struct jv_store *st, const uint8_t id[JV_SESSION_ID_BYTES],
		uint64_t expected, jv_store_put_fn fn, void *ud)
{
	struct jv_etcd_store *s = (struct jv_etcd_store *)st;
	char key[JV_EJ_KEY_MAX];
	struct op *o;
	int rc = user_op(s, OP_DEL, ud, &o);

	if (rc)
		return rc;
	o->fn.put = fn;
	o->expected = expected;
	memcpy(o->id, id, sizeof o->id);
	if (!lease_held(o))
		return 0;
	jv_etcd_key(s, key, 's', o->id);
	post(o, RANGE, range_body(key), del_rec_done);
	return 0;
}

void jv_etcd_ops_cancel(struct jv_etcd_store *s)
{
	while (!jv_etcd_list_empty(&s->ops))
		op_free((struct op *)s->ops.next);
	while (!jv_etcd_list_empty(&s->deferred))
		op_free((struct op *)s->deferred.next);
}
