/* SPDX-License-Identifier: MIT */
/*
 * The ownership store contract (contract.h): what the engine may rely on
 * whichever backend holds its records.  Every case opens its own stores
 * on fresh storage, drives them with jv_store_poll only, and checks both
 * the result and that each completion ran exactly once, after the call
 * that started it had returned.
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "contract.h"
#include "net/clock.h"
#include "tap.h"
#include "util.h"

enum {
	WAIT_MS = 5000,		/* the longest a completion may take here */
	POLL_MS = 20,
	LEASE_MS = 3000,
	EXTRA_POLLS = 3,	/* polls after a completion that must not
				 * deliver it again */
};

struct node {
	struct jv_store *st;
	struct probe p;			/* its lease reports */
};

struct suite {
	const char *backend;
	jv_contract_where_fn where;
	void *ctx;
	struct node a, b;
	char why[512];		/* the first reason a case failed or skipped */
};

enum verdict { PASS, FAIL, SKIP };

static bool note(struct suite *su, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Keep the first reason: later checks often fail only because of it. */
static bool note(struct suite *su, const char *fmt, ...)
{
	va_list ap;

	if (!su->why[0]) {
		va_start(ap, fmt);
		vsnprintf(su->why, sizeof su->why, fmt, ap);
		va_end(ap);
	}
	return false;
}

#define CHECK(c)                                                         \
	do {                                                             \
		if (!(c)) {                                              \
			note(su, "line %d: %s", __LINE__, #c);           \
			return FAIL;                                     \
		}                                                        \
	} while (0)

/* ---- driving ---- */

static void poll_all(struct suite *su)
{
	if (su->a.st)
		jv_store_poll(su->a.st, POLL_MS);
	if (su->b.st)
		jv_store_poll(su->b.st, POLL_MS);
}

static bool wait_calls(struct suite *su, const int *calls, int want)
{
	jv_time end = jv_clock_now() + WAIT_MS;

	while (*calls < want && jv_clock_now() < end)
		poll_all(su);
	return *calls >= want;
}

static void extra_polls(struct suite *su)
{
	for (int i = 0; i < EXTRA_POLLS; i++)
		poll_all(su);
}

static bool open_node(struct suite *su, struct node *n, bool fresh,
		      const char *id)
{
	struct jv_store_config cfg = {
		.node_id = id,
		.lease_ms = LEASE_MS,
		.on_lease = probe_on_lease,
		.ud = &n->p,
	};
	char url[JV_STORE_URL_MAX], why[256] = "";

	memset(n, 0, sizeof *n);
	su->where(su->ctx, fresh, &cfg, url, sizeof url);
	n->st = jv_store_open(&cfg, NULL, why, sizeof why);
	if (!n->st)
		return note(su, "open as %s: %s", id, why[0] ? why : "(no reason)");
	return true;
}

static bool lease_held(struct suite *su, struct node *n)
{
	jv_time end = jv_clock_now() + WAIT_MS;

	while ((!n->p.leases || n->p.lease_until < jv_clock_now()) &&
	       jv_clock_now() < end)
		poll_all(su);
	if (n->p.leases && n->p.lease_until >= jv_clock_now())
		return true;
	return note(su, "no valid lease within %d ms (%d reports, last %llu)",
		    WAIT_MS, n->p.leases, (unsigned long long)n->p.lease_until);
}

static bool ready(struct suite *su, struct node *n, bool fresh, const char *id)
{
	return open_node(su, n, fresh, id) && lease_held(su, n);
}

static void close_node(struct node *n)
{
	jv_store_close(n->st);
	n->st = NULL;
}

/* Each helper checks that the completion did not run inside the call
 * (store.h), then waits for it. */
static bool get_sync(struct suite *su, struct node *n, uint32_t index,
		     struct probe *g)
{
	int rc;

	memset(g, 0, sizeof *g);
	rc = jv_store_get(n->st, index, probe_on_get, g);
	if (rc)
		return note(su, "get %u returned %d", index, rc);
	if (g->calls)
		return note(su, "get %u completed inside the call", index);
	if (!wait_calls(su, &g->calls, 1))
		return note(su, "get %u: no completion within %d ms", index,
			    WAIT_MS);
	return true;
}

static bool put_sync(struct suite *su, struct node *n,
		     const struct jv_store_rec *rec, uint64_t expected,
		     struct probe *g)
{
	int rc;

	memset(g, 0, sizeof *g);
	rc = jv_store_put(n->st, rec, expected, probe_on_put, g);
	if (rc)
		return note(su, "put returned %d", rc);
	if (g->calls)
		return note(su, "put completed inside the call");
	if (!wait_calls(su, &g->calls, 1))
		return note(su, "put: no completion within %d ms", WAIT_MS);
	return true;
}

static bool del_sync(struct suite *su, struct node *n,
		     const struct jv_store_rec *rec, uint64_t expected,
		     struct probe *g)
{
	int rc;

	memset(g, 0, sizeof *g);
	rc = jv_store_del(n->st, rec->session_id, expected, probe_on_put, g);
	if (rc)
		return note(su, "del returned %d", rc);
	if (g->calls)
		return note(su, "del completed inside the call");
	if (!wait_calls(su, &g->calls, 1))
		return note(su, "del: no completion within %d ms", WAIT_MS);
	return true;
}

static bool same_rec(const struct jv_store_rec *a, const struct jv_store_rec *b)
{
	return !memcmp(a->session_id, b->session_id, JV_SESSION_ID_BYTES) &&
	       a->receiver_index == b->receiver_index &&
	       !strcmp(a->owner_node, b->owner_node) &&
	       a->owner_epoch == b->owner_epoch &&
	       a->state_version == b->state_version && a->len == b->len &&
	       !memcmp(a->blob, b->blob, a->len);
}

/* n gets r back under its receiver index, as it was put; g holds what
 * the get brought (its revision, owner_live). */
static bool reads_back(struct suite *su, struct node *n,
		       const struct jv_store_rec *r, struct probe *g)
{
	if (!get_sync(su, n, r->receiver_index, g))
		return false;
	if (g->status != JV_STORE_OK || !same_rec(&g->rec, r))
		return note(su, "get %u: %s, not the record put",
			    r->receiver_index, jv_store_status_name(g->status));
	return true;
}

/* Create r on n; its revision in *rev. */
static bool create(struct suite *su, struct node *n,
		   const struct jv_store_rec *r, uint64_t *rev)
{
	struct probe p;

	if (!put_sync(su, n, r, 0, &p))
		return false;
	if (p.status != JV_STORE_OK || !p.revision)
		return note(su, "create: %s, revision %llu",
			    jv_store_status_name(p.status),
			    (unsigned long long)p.revision);
	*rev = p.revision;
	return true;
}

/* The start of most cases: gw-a up on fresh storage with its lease, and
 * record `seed` of its own created there. */
static bool one_record(struct suite *su, unsigned seed, struct jv_store_rec *r,
		       uint64_t *rev)
{
	if (!ready(su, &su->a, true, "gw-a"))
		return false;
	mk_rec(r, seed, "gw-a");
	return create(su, &su->a, r, rev);
}

/* ---- the cases ---- */

static enum verdict lease_arrives(struct suite *su)
{
	CHECK(open_node(su, &su->a, true, "gw-a"));
	CHECK(su->a.p.leases == 0);
	CHECK(lease_held(su, &su->a));
	return PASS;
}

static enum verdict create_then_get(struct suite *su)
{
	struct jv_store_rec r;
	struct probe g;
	uint64_t rev;

	CHECK(one_record(su, 1, &r, &rev));
	CHECK(reads_back(su, &su->a, &r, &g));
	CHECK(g.had_rec);
	CHECK(g.rec.revision == rev);
	CHECK(g.rec.owner_live);
	return PASS;
}

static enum verdict second_create_conflicts(struct suite *su)
{
	struct jv_store_rec r, r2;
	struct probe p, g;
	uint64_t rev;

	CHECK(one_record(su, 2, &r, &rev));
	r2 = r;
	r2.state_version++;
	r2.blob[0] ^= 0xff;
	CHECK(put_sync(su, &su->a, &r2, 0, &p));
	CHECK(p.status == JV_STORE_CONFLICT);
	CHECK(p.revision == 0);
	CHECK(reads_back(su, &su->a, &r, &g));
	CHECK(g.rec.revision == rev);
	return PASS;
}

static enum verdict receiver_index_is_unique(struct suite *su)
{
	struct jv_store_rec r, other;
	struct probe p, g;
	uint64_t rev;

	CHECK(ready(su, &su->a, true, "gw-a"));
	mk_rec(&r, 3, "gw-a");
	mk_rec(&other, 4, "gw-a");
	other.receiver_index = r.receiver_index;
	CHECK(create(su, &su->a, &r, &rev));
	CHECK(put_sync(su, &su->a, &other, 0, &p));
	CHECK(p.status == JV_STORE_CONFLICT);
	CHECK(reads_back(su, &su->a, &r, &g));
	return PASS;
}

static enum verdict put_at_revision_grows_it(struct suite *su)
{
	struct jv_store_rec r;
	struct probe p, g;
	uint64_t rev;

	CHECK(one_record(su, 5, &r, &rev));
	r.state_version++;
	r.len = 10;
	memset(r.blob, 0x5a, r.len);
	CHECK(put_sync(su, &su->a, &r, rev, &p));
	CHECK(p.status == JV_STORE_OK);
	CHECK(p.revision > rev);
	CHECK(reads_back(su, &su->a, &r, &g));
	CHECK(g.rec.revision == p.revision);
	return PASS;
}

static enum verdict stale_put_conflicts_and_writes_nothing(struct suite *su)
{
	struct jv_store_rec r, stale, absent;
	struct probe p, g;
	uint64_t rev1, rev2;

	CHECK(one_record(su, 6, &r, &rev1));
	r.state_version++;
	CHECK(put_sync(su, &su->a, &r, rev1, &p));
	CHECK(p.status == JV_STORE_OK);
	rev2 = p.revision;
	stale = r;
	stale.state_version += 100;
	stale.blob[1] ^= 0xff;
	CHECK(put_sync(su, &su->a, &stale, rev1, &p));
	CHECK(p.status == JV_STORE_CONFLICT);
	CHECK(p.revision == 0);
	CHECK(reads_back(su, &su->a, &r, &g));
	CHECK(g.rec.revision == rev2);
	/* An update of a record that does not exist is stale too. */
	mk_rec(&absent, 7, "gw-a");
	CHECK(put_sync(su, &su->a, &absent, rev2, &p));
	CHECK(p.status == JV_STORE_CONFLICT);
	CHECK(get_sync(su, &su->a, absent.receiver_index, &g));
	CHECK(g.status == JV_STORE_NOTFOUND);
	return PASS;
}

static enum verdict absent_index_not_found(struct suite *su)
{
	struct probe g;

	CHECK(ready(su, &su->a, true, "gw-a"));
	CHECK(get_sync(su, &su->a, 0xdeadbeefu, &g));
	CHECK(g.status == JV_STORE_NOTFOUND);
	CHECK(!g.had_rec);
	return PASS;
}

static enum verdict del_is_cas(struct suite *su)
{
	struct jv_store_rec r;
	struct probe p, g;
	uint64_t rev1, rev2;

	CHECK(one_record(su, 8, &r, &rev1));
	r.state_version++;
	CHECK(put_sync(su, &su->a, &r, rev1, &p));
	CHECK(p.status == JV_STORE_OK);
	rev2 = p.revision;
	CHECK(del_sync(su, &su->a, &r, rev1, &p));
	CHECK(p.status == JV_STORE_CONFLICT);
	CHECK(get_sync(su, &su->a, r.receiver_index, &g));
	CHECK(g.status == JV_STORE_OK && g.rec.revision == rev2);
	CHECK(del_sync(su, &su->a, &r, rev2, &p));
	CHECK(p.status == JV_STORE_OK);
	CHECK(get_sync(su, &su->a, r.receiver_index, &g));
	CHECK(g.status == JV_STORE_NOTFOUND);
	CHECK(del_sync(su, &su->a, &r, rev2, &p));
	CHECK(p.status == JV_STORE_NOTFOUND);
	/* The session is gone, so its index and id are free again. */
	CHECK(create(su, &su->a, &r, &rev1));
	return PASS;
}

struct chain {
	struct jv_store *st;
	struct jv_store_rec rec;
	int outer_calls;
	int rc;
	int inner_calls_after_call;
	struct probe inner;
};

static void on_get_then_put(void *ud, enum jv_store_status st,
			    const struct jv_store_rec *rec)
{
	struct chain *c = ud;

	(void)st;
	(void)rec;
	c->outer_calls++;
	c->rc = jv_store_put(c->st, &c->rec, 0, probe_on_put, &c->inner);
	c->inner_calls_after_call = c->inner.calls;
}

static enum verdict completions_never_inside_the_call(struct suite *su)
{
	static struct chain c;
	struct jv_store_rec r;
	struct probe g;
	int rc;

	CHECK(ready(su, &su->a, true, "gw-a"));
	mk_rec(&r, 9, "gw-a");
	/* get_sync, put_sync and del_sync check every call for it; here:
	 * exactly once, an outstanding operation asks for a tick, and an
	 * operation started from a completion waits for its own turn. */
	memset(&g, 0, sizeof g);
	rc = jv_store_get(su->a.st, r.receiver_index, probe_on_get, &g);
	CHECK(rc == 0);
	CHECK(jv_store_deadline(su->a.st) != JV_TIME_NEVER);
	CHECK(g.calls == 0);
	CHECK(wait_calls(su, &g.calls, 1));
	extra_polls(su);
	CHECK(g.calls == 1);

	memset(&c, 0, sizeof c);
	c.st = su->a.st;
	c.rec = r;
	c.rc = 1;
	c.inner_calls_after_call = -1;
	rc = jv_store_get(su->a.st, r.receiver_index, on_get_then_put, &c);
	CHECK(rc == 0);
	CHECK(wait_calls(su, &c.outer_calls, 1));
	CHECK(c.rc == 0);
	CHECK(c.inner_calls_after_call == 0);
	CHECK(wait_calls(su, &c.inner.calls, 1));
	extra_polls(su);
	CHECK(c.inner.calls == 1);
	CHECK(c.inner.status == JV_STORE_OK);
	return PASS;
}

static enum verdict blob_max_round_trips(struct suite *su)
{
	struct jv_store_rec r;
	struct probe p, g;
	uint64_t rev;
	int rc;

	CHECK(ready(su, &su->a, true, "gw-a"));
	mk_rec(&r, 10, "gw-a");
	r.len = JV_STORE_BLOB_MAX;
	for (size_t i = 0; i < r.len; i++)
		r.blob[i] = (uint8_t)(i * 131u + 7u);
	CHECK(create(su, &su->a, &r, &rev));
	CHECK(reads_back(su, &su->a, &r, &g));
	r.len = JV_STORE_BLOB_MAX + 1;
	memset(&p, 0, sizeof p);
	rc = jv_store_put(su->a.st, &r, rev, probe_on_put, &p);
	CHECK(rc == JV_ERR_INVAL);
	extra_polls(su);
	CHECK(p.calls == 0);
	/* An empty body is a body too. */
	r.len = 0;
	CHECK(put_sync(su, &su->a, &r, rev, &p));
	CHECK(p.status == JV_STORE_OK);
	CHECK(get_sync(su, &su->a, r.receiver_index, &g));
	CHECK(g.status == JV_STORE_OK && g.rec.len == 0);
	return PASS;
}

static enum verdict bad_arguments_refused(struct suite *su)
{
	struct jv_store_rec r;
	struct probe g;

	CHECK(ready(su, &su->a, true, "gw-a"));
	mk_rec(&r, 11, "gw-a");
	memset(&g, 0, sizeof g);
	CHECK(jv_store_get(su->a.st, 1, NULL, &g) == JV_ERR_INVAL);
	CHECK(jv_store_put(su->a.st, NULL, 0, probe_on_put, &g) ==
	      JV_ERR_INVAL);
	CHECK(jv_store_put(su->a.st, &r, 0, NULL, &g) == JV_ERR_INVAL);
	CHECK(jv_store_del(su->a.st, NULL, 1, probe_on_put, &g) ==
	      JV_ERR_INVAL);
	r.owner_node[0] = '\0';
	CHECK(jv_store_put(su->a.st, &r, 0, probe_on_put, &g) == JV_ERR_INVAL);
	memset(r.owner_node, 'x', sizeof r.owner_node);
	CHECK(jv_store_put(su->a.st, &r, 0, probe_on_put, &g) == JV_ERR_INVAL);
	CHECK(jv_store_get(NULL, 1, probe_on_get, &g) == JV_ERR_INVAL);
	extra_polls(su);
	CHECK(g.calls == 0);
	return PASS;
}

struct tally {
	int *total;
	int hits;
};

static void on_get_tally(void *ud, enum jv_store_status st,
			 const struct jv_store_rec *rec)
{
	struct tally *t = ud;

	(void)st;
	(void)rec;
	t->hits++;
	(*t->total)++;
}

static enum verdict inflight_limit(struct suite *su)
{
	static struct tally t[JV_STORE_INFLIGHT_MAX + 1];
	int total = 0, rc;

	CHECK(ready(su, &su->a, true, "gw-a"));
	for (int i = 0; i <= JV_STORE_INFLIGHT_MAX; i++)
		t[i] = (struct tally){ .total = &total };
	for (int i = 0; i < JV_STORE_INFLIGHT_MAX; i++) {
		rc = jv_store_get(su->a.st, (uint32_t)i, on_get_tally, &t[i]);
		CHECK(rc == 0);
	}
	rc = jv_store_get(su->a.st, 0, on_get_tally,
			  &t[JV_STORE_INFLIGHT_MAX]);
	CHECK(rc == JV_ERR_LIMIT);
	CHECK(total == 0);
	CHECK(wait_calls(su, &total, JV_STORE_INFLIGHT_MAX));
	extra_polls(su);
	CHECK(total == JV_STORE_INFLIGHT_MAX);
	for (int i = 0; i < JV_STORE_INFLIGHT_MAX; i++)
		CHECK(t[i].hits == 1);
	/* Room again once they completed. */
	rc = jv_store_get(su->a.st, 0, on_get_tally,
			  &t[JV_STORE_INFLIGHT_MAX]);
	CHECK(rc == 0);
	CHECK(wait_calls(su, &t[JV_STORE_INFLIGHT_MAX].hits, 1));
	return PASS;
}

static enum verdict close_cancels_callbacks(struct suite *su)
{
	struct jv_store_rec r;
	struct probe p, g;
	uint64_t rev;

	CHECK(one_record(su, 12, &r, &rev));
	memset(&p, 0, sizeof p);
	memset(&g, 0, sizeof g);
	r.state_version++;
	CHECK(jv_store_put(su->a.st, &r, rev, probe_on_put, &p) == 0);
	CHECK(jv_store_get(su->a.st, r.receiver_index, probe_on_get, &g) == 0);
	close_node(&su->a);
	CHECK(p.calls == 0 && g.calls == 0);
	return PASS;
}

static enum verdict restart_sees_records_not_live(struct suite *su)
{
	struct jv_store_rec r;
	struct probe p, g;
	uint64_t rev;

	CHECK(one_record(su, 13, &r, &rev));
	close_node(&su->a);
	CHECK(ready(su, &su->a, false, "gw-a"));
	CHECK(reads_back(su, &su->a, &r, &g));
	CHECK(g.rec.revision == rev);
	CHECK(!g.rec.owner_live);
	/* PD-9: the restarted node acquires it again, owner_epoch + 1. */
	r.owner_epoch++;
	CHECK(put_sync(su, &su->a, &r, rev, &p));
	CHECK(p.status == JV_STORE_OK);
	CHECK(reads_back(su, &su->a, &r, &g));
	CHECK(g.rec.owner_live);
	return PASS;
}

static enum verdict live_owner_blocks_other_node(struct suite *su)
{
	struct jv_store_rec r, theirs;
	struct probe p, g;
	uint64_t rev;

	CHECK(one_record(su, 14, &r, &rev));
	if (!open_node(su, &su->b, false, "gw-b"))
		return SKIP;
	CHECK(lease_held(su, &su->b));
	CHECK(reads_back(su, &su->b, &r, &g));
	CHECK(g.rec.owner_live);
	theirs = r;
	snprintf(theirs.owner_node, sizeof theirs.owner_node, "gw-b");
	theirs.owner_epoch++;
	CHECK(put_sync(su, &su->b, &theirs, rev, &p));
	CHECK(p.status == JV_STORE_CONFLICT);
	CHECK(reads_back(su, &su->a, &r, &g));
	CHECK(g.rec.revision == rev && g.rec.owner_live);
	return PASS;
}

static enum verdict other_node_takes_over_after_close(struct suite *su)
{
	struct jv_store_rec r, theirs;
	struct probe p, g;
	uint64_t rev;

	CHECK(one_record(su, 15, &r, &rev));
	close_node(&su->a);
	CHECK(ready(su, &su->b, false, "gw-b"));
	CHECK(reads_back(su, &su->b, &r, &g));
	CHECK(!g.rec.owner_live);
	theirs = r;
	snprintf(theirs.owner_node, sizeof theirs.owner_node, "gw-b");
	theirs.owner_epoch++;
	CHECK(put_sync(su, &su->b, &theirs, rev, &p));
	CHECK(p.status == JV_STORE_OK);
	CHECK(reads_back(su, &su->b, &theirs, &g));
	CHECK(g.rec.owner_live);
	return PASS;
}

static const struct {
	const char *name;
	enum verdict (*run)(struct suite *su);
} cases[] = {
	{ "lease reported after open, not inside it", lease_arrives },
	{ "create then get returns the record and its metadata",
	  create_then_get },
	{ "a second create conflicts and changes nothing",
	  second_create_conflicts },
	{ "a receiver index belongs to one session", receiver_index_is_unique },
	{ "put at the current revision succeeds and the revision grows",
	  put_at_revision_grows_it },
	{ "put at a stale revision conflicts and writes nothing",
	  stale_put_conflicts_and_writes_nothing },
	{ "get of an absent index is notfound", absent_index_not_found },
	{ "del is CAS: stale conflicts, current removes",
	  del_is_cas },
	{ "completions run once, never inside the call",
	  completions_never_inside_the_call },
	{ "a JV_STORE_BLOB_MAX body round-trips, a longer one is refused",
	  blob_max_round_trips },
	{ "bad arguments refused without a callback", bad_arguments_refused },
	{ "JV_STORE_INFLIGHT_MAX outstanding, then JV_ERR_LIMIT",
	  inflight_limit },
	{ "close cancels outstanding callbacks", close_cancels_callbacks },
	{ "after a restart records are there and not live",
	  restart_sees_records_not_live },
	{ "a record of a live owner cannot be put by another node",
	  live_owner_blocks_other_node },
	{ "another node takes over once the owner is gone",
	  other_node_takes_over_after_close },
};

int jv_contract_run(const char *backend, jv_contract_where_fn where,
		    void *ctx)
{
	static struct suite su;
	enum verdict v;
	int failures = 0;

	memset(&su, 0, sizeof su);
	su.backend = backend;
	su.where = where;
	su.ctx = ctx;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		su.why[0] = '\0';
		v = cases[i].run(&su);
		close_node(&su.a);
		close_node(&su.b);
		if (v == SKIP) {
			tap_skip(su.why, "%s: %s", backend, cases[i].name);
			continue;
		}
		tap_ok(v == PASS, "%s: %s", backend, cases[i].name);
		if (v == FAIL) {
			tap_diag("%s", su.why);
			failures++;
		}
	}
	return failures;
}
