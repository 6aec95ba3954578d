/* SPDX-License-Identifier: MIT */
/*
 * The gateway's ownership store (PD-9): the engine's record outputs and
 * lookups carried to src/cluster and back.
 *
 *   records   every record the engine hands out is encoded, sealed with
 *             the cluster key and written with a CAS on the revision this
 *             process last wrote or read; one write per session in flight
 *             (a newer record waits for it); the completion goes back to
 *             the engine (which releases the held ACK, or fails closed).
 *   lookups   a packet for an unknown index: read the record, open it,
 *             and if no other live node owns it, take it over (owner
 *             epoch + 1) by CAS, then adopt it into the engine.
 *   lease     the store's word on ownership goes to the engine as is.
 *   events    held in memory until no write is in flight, so the log never
 *             shows a transition the store does not hold (evfile.h).
 *
 * The cluster key: ClusterKeyFile, or by default derived from the
 * gateway's private key, which every node of a cluster shares anyway (the
 * client knows one gateway public key), so a store file or an etcd dump
 * alone opens nothing.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <sodium.h>

#include "cluster/seal.h"
#include "cluster/store.h"
#include "daemon/daemon_impl.h"
#include "jvpn/record.h"
#include "net/clock.h"

/* What this process knows of one session's record in the store. */
struct srec {
	uint32_t index;			/* 0: free slot */
	bool gone;			/* tombstone: its session finished */
	uint8_t id[JV_SESSION_ID_BYTES];
	uint64_t revision;		/* last written or read */
	bool busy;			/* a write in flight */
	struct jv_gw_record *next;	/* a newer record waiting for it */
};

struct dmn_store {
	struct jv_store *st;
	uint8_t key[JV_CLUSTER_KEY_BYTES];
	struct srec *recs;
	unsigned cap;			/* power of two */
	unsigned inflight;		/* writes and reads outstanding */
	unsigned log_budget;
};

struct op {
	struct jv_daemon *d;
	uint32_t index;
	uint64_t version;
	bool terminated;
	struct jv_gw_record rec;	/* adopt: the record to install */
	char prev_owner[JV_NODE_ID_MAX];
};

/* Open addressing with linear probing; a finished session's slot becomes a
 * tombstone (`gone`), so the probe chains through it stay whole. */
static struct srec *srec_find(struct dmn_store *s, uint32_t index, bool make)
{
	unsigned h = (index * 2654435761u) & (s->cap - 1);
	struct srec *free_slot = NULL;

	for (unsigned i = 0; i < s->cap; i++, h = (h + 1) & (s->cap - 1)) {
		struct srec *r = &s->recs[h];

		if (r->gone) {
			if (!free_slot)
				free_slot = r;
			continue;
		}
		if (r->index == index)
			return r;
		if (r->index == 0) {
			if (!free_slot)
				free_slot = r;
			break;
		}
	}
	if (!make || !free_slot)
		return NULL;
	memset(free_slot, 0, sizeof *free_slot);
	free_slot->index = index;
	return free_slot;
}

/* One line "store: <what> <a><b>", bounded: a broken store must not flood
 * the journal. */
static void store_log(struct jv_daemon *d, const char *what, const char *a,
		      const char *b)
{
	if (d->store->log_budget == 0)
		return;
	d->store->log_budget--;
	dmn_log_at(d, LOG_ERR, "store: %s %s%s", what, a, b);
}

static enum jv_record_outcome outcome_of(struct jv_daemon *d,
					 enum jv_store_status st)
{
	switch (st) {
	case JV_STORE_OK:
		jv_gateway_store_reachable(d->gw, true);
		return JV_RECORD_WRITTEN;
	case JV_STORE_CONFLICT:
		return JV_RECORD_CONFLICT;
	default:
		jv_gateway_store_reachable(d->gw, false);
		return JV_RECORD_FAILED;
	}
}

/* ---- writes ------------------------------------------------------------ */

static void on_put(void *ud, enum jv_store_status st, uint64_t new_revision);

static int seal_into(struct dmn_store *s, const struct jv_gw_record *r,
		     struct jv_store_rec *out)
{
	uint8_t plain[JV_RECORD_SIZE];
	int rc;

	memset(out, 0, sizeof *out);
	rc = jv_gw_record_encode(r, plain, sizeof plain);
	if (rc == JV_RECORD_SIZE)
		rc = jv_seal_record(s->key, r->session_id, r->local_index, plain,
				    sizeof plain, out->blob, sizeof out->blob,
				    &out->len);
	sodium_memzero(plain, sizeof plain);
	if (rc < 0)
		return rc;
	memcpy(out->session_id, r->session_id, sizeof out->session_id);
	out->receiver_index = r->local_index;
	snprintf(out->owner_node, sizeof out->owner_node, "%s", r->owner_node);
	out->owner_epoch = r->owner_epoch;
	out->state_version = r->state_version;
	return 0;
}

static void put_record(struct jv_daemon *d, struct srec *e,
		       const struct jv_gw_record *r)
{
	struct dmn_store *s = d->store;
	struct jv_store_rec sr;
	struct op *op = calloc(1, sizeof *op);

	if (op && seal_into(s, r, &sr) == 0) {
		op->d = d;
		op->index = r->local_index;
		op->version = r->state_version;
		op->terminated = r->state == JV_STATE_TERMINATED;
		memcpy(e->id, r->session_id, sizeof e->id);
		if (jv_store_put(s->st, &sr, e->revision, on_put, op) == 0) {
			e->busy = true;
			s->inflight++;
			return;
		}
	}
	/* Not even started: the engine offers the record again later. */
	free(op);
	dmn_room(d);
	(void)jv_gateway_record_done(d->gw, r->local_index, r->state_version,
				     JV_RECORD_FAILED, jv_clock_now(), d->out);
}

static void on_del(void *ud, enum jv_store_status st, uint64_t rev)
{
	struct jv_daemon *d = ud;

	(void)st;
	(void)rev;
	d->store->inflight--;
}

static void on_put(void *ud, enum jv_store_status st, uint64_t new_revision)
{
	struct op *op = ud;
	struct jv_daemon *d = op->d;
	struct dmn_store *s = d->store;
	struct srec *e = srec_find(s, op->index, false);
	enum jv_record_outcome oc = outcome_of(d, st);

	s->inflight--;
	if (st == JV_STORE_CORRUPT || st == JV_STORE_UNAVAILABLE)
		store_log(d, "write failed:", jv_store_status_name(st),
			  " (reattach refused until it answers again)");
	if (e) {
		e->busy = false;
		if (oc == JV_RECORD_WRITTEN)
			e->revision = new_revision;
	}
	dmn_room(d);
	(void)jv_gateway_record_done(d->gw, op->index, op->version, oc,
				     jv_clock_now(), d->out);
	if (e && oc == JV_RECORD_WRITTEN && op->terminated && !e->next) {
		/* A terminated session is never adopted again: the record
		 * can go once its last state is written. */
		if (jv_store_del(s->st, e->id, e->revision, on_del, d) == 0)
			s->inflight++;
		e->gone = true;
	} else if (e && e->next && !e->busy) {
		struct jv_gw_record *next = e->next;

		e->next = NULL;
		put_record(d, e, next);
		jv_gw_record_wipe(next);
		free(next);
	}
	sodium_memzero(op, sizeof *op);
	free(op);
}

/* ---- lookups and adoption ------------------------------------------------ */

static void on_adopted(void *ud, enum jv_store_status st, uint64_t rev)
{
	struct op *op = ud;
	struct jv_daemon *d = op->d;
	struct dmn_store *s = d->store;
	char id[JV_SESSION_ID_HEX];

	s->inflight--;
	(void)outcome_of(d, st);
	if (st == JV_STORE_OK) {
		struct srec *e = srec_find(s, op->index, true);
		int rc = jv_gateway_adopt(d->gw, &op->rec, op->prev_owner,
					  jv_clock_now());

		if (e) {
			e->revision = rev;
			e->busy = false;
		}
		sodium_bin2hex(id, sizeof id, op->rec.session_id, 4);
		if (rc == 0)
			dmn_log(d, "session %s resumed from the store (owner epoch %llu, previous owner %s)",
				id, (unsigned long long)op->rec.owner_epoch,
				op->prev_owner);
		else
			dmn_log_at(d, LOG_ERR, "session %s: won the store but the engine refused it: %s",
				id, jv_strerror(rc));
	}
	jv_gw_record_wipe(&op->rec);
	free(op);
}

static void on_get(void *ud, enum jv_store_status st,
		   const struct jv_store_rec *sr)
{
	struct jv_daemon *d = ud;
	struct dmn_store *s = d->store;
	uint8_t plain[JV_RECORD_SIZE + 64];
	size_t n = 0;
	struct jv_gw_record old;
	struct jv_store_rec out;
	const char *why = NULL;
	struct op *op;
	char id[JV_SESSION_ID_HEX];
	int rc;

	s->inflight--;
	if (st != JV_STORE_OK) {
		if (st != JV_STORE_NOTFOUND)
			(void)outcome_of(d, st);
		return;
	}
	jv_gateway_store_reachable(d->gw, true);
	sodium_bin2hex(id, sizeof id, sr->session_id, 4);
	if (sr->owner_live && strcmp(sr->owner_node, d->cfg->node_id) != 0)
		return;	/* another live node owns it: never dual-active */
	if (jv_open_record(s->key, sr->session_id, sr->receiver_index, sr->blob,
			   sr->len, plain, sizeof plain, &n) != 0) {
		store_log(d, "a record does not open with this cluster key: session",
			  id, " (ClusterKeyFile or PrivateKey differs between nodes?)");
		return;
	}
	if (jv_gw_record_decode(plain, n, &old, &why) != 0) {
		sodium_memzero(plain, sizeof plain);
		store_log(d, "unusable record: session", id, why ? why : "");
		return;
	}
	sodium_memzero(plain, sizeof plain);
	op = calloc(1, sizeof *op);
	if (!op)
		goto out;
	rc = jv_gateway_prepare_adopt(d->gw, &old, jv_clock_now(), &op->rec);
	if (rc == JV_ERR_STATE) {
		/* A session that is over: nobody will take it again, and a
		 * client whose packets still carry its index gets nothing
		 * (it ends the session by its own TTL). */
		if (jv_store_del(s->st, sr->session_id, sr->revision, on_del,
				 d) == 0)
			s->inflight++;
	}
	if (rc != 0 || seal_into(s, &op->rec, &out) != 0) {
		jv_gw_record_wipe(&op->rec);
		free(op);
		goto out;
	}
	op->d = d;
	op->index = old.local_index;
	snprintf(op->prev_owner, sizeof op->prev_owner, "%s", old.owner_node);
	/* The CAS against the revision read: of two nodes racing for the
	 * session, one wins; the new owner epoch is durable before any key
	 * derived from it is used. */
	if (jv_store_put(s->st, &out, sr->revision, on_adopted, op) != 0) {
		jv_gw_record_wipe(&op->rec);
		free(op);
		goto out;
	}
	s->inflight++;
out:
	jv_gw_record_wipe(&old);
}

/* ---- the loop's side ------------------------------------------------------ */

void dmn_store_pump(struct jv_daemon *d)
{
	struct dmn_store *s = d->store;
	struct jv_gw_record r;
	uint32_t index;

	if (!s)
		return;
	while (jv_gateway_next_record(d->gw, &r) == 1) {
		struct srec *e = srec_find(s, r.local_index, true);

		if (!e) {
			(void)jv_gateway_record_done(d->gw, r.local_index,
						     r.state_version,
						     JV_RECORD_FAILED,
						     jv_clock_now(), d->out);
		} else if (e->busy) {
			/* keep only the newest: it supersedes any older one */
			if (!e->next)
				e->next = malloc(sizeof *e->next);
			if (e->next)
				*e->next = r;
			else
				(void)jv_gateway_record_done(d->gw, r.local_index,
							     r.state_version,
							     JV_RECORD_FAILED,
							     jv_clock_now(),
							     d->out);
		} else {
			put_record(d, e, &r);
		}
		jv_gw_record_wipe(&r);
	}
	while (jv_gateway_next_lookup(d->gw, &index) == 1)
		if (jv_store_get(s->st, index, on_get, d) == 0)
			s->inflight++;
	/* Events go out once what they describe is durable. */
	if (s->inflight == 0 && jv_gateway_unwritten(d->gw) == 0)
		jv_evfile_release(&d->ev);
}

static void on_lease(void *ud, jv_time valid_until)
{
	struct jv_daemon *d = ud;

	if (!d->gw)
		return;
	if (valid_until == 0) {
		dmn_log_at(d, LOG_WARNING, "store: ownership lease lost: refusing reattach now, forwarding stops at the lease's end");
		jv_gateway_store_reachable(d->gw, false);
		return;
	}
	jv_gateway_set_lease(d->gw, valid_until);
	jv_gateway_store_reachable(d->gw, true);
}

jv_time dmn_store_deadline(struct jv_daemon *d)
{
	return d->store ? jv_store_deadline(d->store->st) : JV_TIME_NEVER;
}

void dmn_store_tick(struct jv_daemon *d, jv_time now)
{
	if (d->store)
		jv_store_tick(d->store->st, now);
}

int dmn_store_open(struct jv_daemon *d, char *why, size_t n)
{
	const struct jv_config *cfg = d->cfg;
	struct dmn_store *s;
	struct jv_store_config sc = {
		.url = cfg->store_url,
		.node_id = cfg->node_id,
		.lease_ms = cfg->owner_lease_ms,
		.ca_file = cfg->ca_file[0] ? cfg->ca_file : NULL,
		.cert_file = cfg->cert_file[0] ? cfg->cert_file : NULL,
		.key_file = cfg->key_file[0] ? cfg->key_file : NULL,
		.on_lease = on_lease,
		.ud = d,
	};
	static const char label[] = "jvpn cluster key v1";

	if (!cfg->store_url[0])
		return 0;
	s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(why, n, "out of memory");
		return JV_ERR_NOMEM;
	}
	s->cap = 64;
	while (s->cap < 2 * (cfg->max_sessions ? cfg->max_sessions : 1024))
		s->cap <<= 1;
	s->recs = calloc(s->cap, sizeof *s->recs);
	s->log_budget = 64;
	if (!s->recs) {
		snprintf(why, n, "out of memory");
		goto fail;
	}
	if (cfg->cluster_key_file[0]) {
		if (jv_cluster_key_load(cfg->cluster_key_file, s->key, why, n))
			goto fail;
	} else {
		crypto_generichash(s->key, sizeof s->key,
				   (const uint8_t *)label, sizeof label - 1,
				   cfg->private_key, sizeof cfg->private_key);
	}
	s->st = jv_store_open(&sc, &d->loop, why, n);
	if (!s->st)
		goto fail;
	d->store = s;
	jv_evfile_hold(&d->ev, true);
	dmn_log(d, "session store %s (node %s)", cfg->store_url, cfg->node_id);
	return 0;
fail:
	free(s->recs);
	sodium_memzero(s, sizeof *s);
	free(s);
	return JV_ERR_IO;
}

void dmn_store_close(struct jv_daemon *d)
{
	struct dmn_store *s = d->store;

	if (!s)
		return;
	/* Writes still in flight get a bounded chance to land. */
	for (int i = 0; i < 50 && s->inflight > 0; i++)
		(void)jv_store_poll(s->st, 20);
	jv_store_close(s->st);
	jv_evfile_hold(&d->ev, false);
	for (unsigned i = 0; i < s->cap; i++)
		if (s->recs[i].next) {
			jv_gw_record_wipe(s->recs[i].next);
			free(s->recs[i].next);
		}
	free(s->recs);
	sodium_memzero(s, sizeof *s);
	free(s);
	d->store = NULL;
}
