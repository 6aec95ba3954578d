/* SPDX-License-Identifier: MIT */
/*
 * Takeover notices of the etcd backend (cfg->on_watch): one streaming
 * POST /v3/watch on the owner keys P/o/ (puts only), kept open for the
 * life of the store.  The gateway writes one JSON object per line.  An
 * owner key put with another node's id, for a session this node wrote
 * (the set `mine`, filled by put, emptied by del and by the notice), is
 * another node taking the session over; the record is read for its
 * owner and epoch and handed to on_watch.
 *
 * Owner keys are small, so the stream costs a few hundred bytes per
 * write in the cluster; watching the records instead would carry every
 * sealed body to every node.
 *
 * The stream resumes after the last revision it delivered when it breaks
 * (reconnect after JV_ETCD_RETRY_MS, next endpoint first).  If etcd has
 * compacted past that revision the notices in between are lost, which is
 * logged: the notice is advisory, the fence is the put's compare.
 *
 * Bytes arrive inside curl's write callback, where no curl call may be
 * made, so they are only buffered there and read in jv_etcd_watch_tick.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/etcd_impl.h"
#include "net/clock.h"

static const char WATCH[] = "/v3/watch";

enum {
	/* One line of the stream: a batch of events on small keys. */
	WATCH_LINE_MAX = 1 << 20,
	IDSET_MIN = 64,
};

enum { SLOT_FREE, SLOT_TAKEN, SLOT_DELETED };

/* ---- the set of sessions this node wrote ---- */

static size_t id_hash(const uint8_t id[JV_SESSION_ID_BYTES], size_t cap)
{
	uint64_t h;

	/* Session ids are random: their first bytes are a hash already. */
	memcpy(&h, id, sizeof h);
	return (size_t)h & (cap - 1);
}

/* The slot of id, or (insert) the first reusable slot on its probe. */
static size_t probe(const struct jv_etcd_idset *set,
		    const uint8_t id[JV_SESSION_ID_BYTES], bool insert,
		    bool *found)
{
	size_t i = id_hash(id, set->cap), reuse = SIZE_MAX;

	*found = false;
	for (size_t n = 0; n < set->cap; n++, i = (i + 1) & (set->cap - 1)) {
		if (set->used[i] == SLOT_FREE)
			return reuse != SIZE_MAX ? reuse : i;
		if (set->used[i] == SLOT_DELETED) {
			if (insert && reuse == SIZE_MAX)
				reuse = i;
			continue;
		}
		if (!memcmp(set->slot[i], id, JV_SESSION_ID_BYTES)) {
			*found = true;
			return i;
		}
	}
	return reuse;
}

static int idset_resize(struct jv_etcd_idset *set, size_t cap)
{
	struct jv_etcd_idset old = *set;
	bool found;
	size_t j;

	set->slot = calloc(cap, sizeof *set->slot);
	set->used = calloc(cap, 1);
	if (!set->slot || !set->used) {
		free(set->slot);
		free(set->used);
		*set = old;
		return -1;
	}
	set->cap = cap;
	set->taken = set->deleted = 0;
	for (size_t i = 0; i < old.cap; i++) {
		if (old.used[i] != SLOT_TAKEN)
			continue;
		j = probe(set, old.slot[i], true, &found);
		memcpy(set->slot[j], old.slot[i], JV_SESSION_ID_BYTES);
		set->used[j] = SLOT_TAKEN;
		set->taken++;
	}
	free(old.slot);
	free(old.used);
	return 0;
}

static void idset_add(struct jv_etcd_idset *set,
		      const uint8_t id[JV_SESSION_ID_BYTES])
{
	size_t i, cap = set->cap ? set->cap : IDSET_MIN;
	bool found;

	if ((set->taken + set->deleted + 1) * 4 > cap * 3 || !set->cap) {
		while ((set->taken + 1) * 2 > cap)
			cap *= 2;
		if (idset_resize(set, cap))
			return;	/* out of memory: it goes unwatched */
	}
	i = probe(set, id, true, &found);
	if (found)
		return;
	if (set->used[i] == SLOT_DELETED)
		set->deleted--;
	memcpy(set->slot[i], id, JV_SESSION_ID_BYTES);
	set->used[i] = SLOT_TAKEN;
	set->taken++;
}

static bool idset_del(struct jv_etcd_idset *set,
		      const uint8_t id[JV_SESSION_ID_BYTES])
{
	size_t i;
	bool found;

	if (!set->cap)
		return false;
	i = probe(set, id, false, &found);
	if (!found)
		return false;
	set->used[i] = SLOT_DELETED;
	set->taken--;
	set->deleted++;
	return true;
}

static bool idset_has(const struct jv_etcd_idset *set,
		      const uint8_t id[JV_SESSION_ID_BYTES])
{
	bool found;

	if (set->cap)
		(void)probe(set, id, false, &found);
	return set->cap && found;
}

void jv_etcd_watch_mine(struct jv_etcd_store *s,
			const uint8_t id[JV_SESSION_ID_BYTES], bool mine)
{
	if (!s->on_watch)
		return;
	if (mine)
		idset_add(&s->mine, id);
	else
		(void)idset_del(&s->mine, id);
}

/* ---- the stream ---- */

static bool on_data(void *ud, const char *data, size_t len)
{
	struct jv_etcd_store *s = ud;
	size_t cap;
	char *p;

	if (len > WATCH_LINE_MAX - s->wlen) {
		s->wbroken = true;
		return false;
	}
	if (s->wlen + len > s->wcap) {
		cap = s->wcap ? s->wcap : 4096;
		while (cap < s->wlen + len)
			cap *= 2;
		if (!(p = realloc(s->wbuf, cap))) {
			s->wbroken = true;
			return false;
		}
		s->wbuf = p;
		s->wcap = cap;
	}
	memcpy(s->wbuf + s->wlen, data, len);
	s->wlen += len;
	return true;
}

static void on_end(void *ud, const struct jv_etcd_reply *r)
{
	struct jv_etcd_store *s = ud;

	s->watch_req = NULL;
	if (r->kind == JV_ETCD_ANSWERED)
		jv_etcd_logf(&s->log, "%s%s: watch ended (HTTP %ld)",
			     r->endpoint, WATCH, r->status);
	s->watch_timer = jv_clock_now() + JV_ETCD_RETRY_MS;
}

static void connect_watch(struct jv_etcd_store *s, jv_time now)
{
	char key[JV_EJ_KEY_MAX], end[JV_EJ_KEY_MAX];
	json_t *req;

	snprintf(key, sizeof key, "%s/o/", s->prefix);
	snprintf(end, sizeof end, "%s/o0", s->prefix);	/* '/' + 1 */
	req = json_pack("{s:o, s:o, s:[s]}", "key", jv_ej_b64(key, strlen(key)),
			"range_end", jv_ej_b64(end, strlen(end)), "filters",
			"NODELETE");
	if (req && s->watch_next_rev)
		json_object_set_new(req, "start_revision",
				    jv_ej_u64(s->watch_next_rev));
	s->wlen = 0;
	s->wbroken = false;
	s->watch_req = jv_etcd_http_post(
		&s->http, WATCH,
		jv_ej_dump(json_pack("{s:o}", "create_request", req)), 0,
		on_end, on_data, s);
	s->watch_timer = s->watch_req ? JV_TIME_NEVER : now + JV_ETCD_RETRY_MS;
}

static void fetched(struct jv_etcd_store *s, enum jv_store_status st,
		    const uint8_t id[JV_SESSION_ID_BYTES],
		    const struct jv_store_rec *rec)
{
	if (st == JV_STORE_NOTFOUND)
		(void)idset_del(&s->mine, id);
	if (st != JV_STORE_OK || !strcmp(rec->owner_node, s->base.node) ||
	    !idset_del(&s->mine, id))
		return;
	s->delivered++;
	s->on_watch(s->ud, id, rec->owner_node, rec->owner_epoch);
}

/* One event: -1 when it does not read as an owner key put. */
static int event(struct jv_etcd_store *s, const json_t *ev, char *why,
		 size_t why_len)
{
	char pre[JV_EJ_KEY_MAX];
	const json_t *type = json_object_get(ev, "type");
	struct jv_ej_kv kv;
	uint8_t id[JV_SESSION_ID_BYTES];
	size_t n;

	if (type && !json_is_string(type)) {
		snprintf(why, why_len, "event type is not a string");
		return -1;
	}
	if (jv_ej_kv_parse(json_object_get(ev, "kv"), &kv, why, why_len))
		return -1;
	if (kv.mod_revision >= s->watch_next_rev)
		s->watch_next_rev = kv.mod_revision + 1;
	if (type && strcmp(json_string_value(type), "PUT"))
		return 0;	/* a DELETE the filter let through */
	n = (size_t)snprintf(pre, sizeof pre, "%s/o/", s->prefix);
	if (strncmp(kv.key, pre, n) ||
	    jv_ej_id_parse(kv.key + n, strlen(kv.key + n), id)) {
		snprintf(why, why_len, "watch event on key %.64s", kv.key);
		return -1;
	}
	if (strcmp((const char *)kv.val, s->base.node) &&
	    idset_has(&s->mine, id) && jv_etcd_fetch(s, id, fetched))
		jv_etcd_logf(&s->log, "out of memory reading a taken-over session");
	return 0;
}

/* One line of the stream: -1 (why set) when the stream must restart. */
static int line(struct jv_etcd_store *s, const char *p, size_t len,
		char *why, size_t why_len)
{
	const json_t *res, *evs, *hdr, *flag;
	uint64_t rev, compact;
	json_t *j = jv_ej_load(p, len, why, why_len);
	int rc = -1;

	if (!j)
		return -1;
	if (!json_is_object(res = json_object_get(j, "result"))) {
		snprintf(why, why_len, "watch line without \"result\"");
		goto out;
	}
	hdr = json_object_get(res, "header");
	if (!json_is_object(hdr) ||
	    jv_ej_get_u64(hdr, "revision", false, &rev, why, why_len) ||
	    jv_ej_get_u64(res, "compact_revision", false, &compact, why,
			  why_len))
		goto out;
	if ((flag = json_object_get(res, "canceled")) && json_is_true(flag)) {
		if (compact) {
			jv_etcd_logf(&s->log,
				     "watch: revisions up to %llu compacted; resuming there (takeover notices before it are lost)",
				     (unsigned long long)compact);
			s->watch_next_rev = compact;
		}
		snprintf(why, why_len, "watch canceled by etcd");
		goto out;
	}
	if ((flag = json_object_get(res, "created")) && json_is_true(flag) &&
	    !s->watch_next_rev)
		s->watch_next_rev = rev + 1;
	evs = json_object_get(res, "events");
	if (evs && !json_is_array(evs)) {
		snprintf(why, why_len, "watch \"events\" is not an array");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(evs); i++)
		if (event(s, json_array_get(evs, i), why, why_len))
			goto out;
	rc = 0;
out:
	json_decref(j);
	return rc;
}

static void read_lines(struct jv_etcd_store *s, jv_time now)
{
	char why[JV_EJ_WHY_MAX];
	char *nl;
	size_t n;
	int rc = 0;

	while (!rc && !s->closing && s->wlen &&
	       (nl = memchr(s->wbuf, '\n', s->wlen))) {
		n = (size_t)(nl - s->wbuf) + 1;
		rc = line(s, s->wbuf, n, why, sizeof why);
		memmove(s->wbuf, s->wbuf + n, s->wlen - n);
		s->wlen -= n;
	}
	if (s->wbroken) {
		snprintf(why, sizeof why, "watch line longer than %d bytes",
			 WATCH_LINE_MAX);
		rc = -1;
	}
	if (!rc || s->closing)
		return;
	jv_etcd_logf(&s->log, "%s: %s; reconnecting", WATCH, why);
	jv_etcd_http_cancel(&s->http, s->watch_req);
	s->watch_req = NULL;
	s->wlen = 0;
	s->wbroken = false;
	s->watch_timer = now + JV_ETCD_RETRY_MS;
}

void jv_etcd_watch_start(struct jv_etcd_store *s)
{
	connect_watch(s, jv_clock_now());
}

jv_time jv_etcd_watch_deadline(const struct jv_etcd_store *s)
{
	if (s->wbroken || (s->wlen && memchr(s->wbuf, '\n', s->wlen)))
		return 0;
	return s->watch_timer;
}

void jv_etcd_watch_tick(struct jv_etcd_store *s, jv_time now)
{
	if (!s->on_watch)
		return;
	read_lines(s, now);
	if (!s->closing && !s->watch_req && now >= s->watch_timer)
		connect_watch(s, now);
}

void jv_etcd_watch_stop(struct jv_etcd_store *s)
{
	jv_etcd_http_cancel(&s->http, s->watch_req);
	s->watch_req = NULL;
	s->watch_timer = JV_TIME_NEVER;
	free(s->wbuf);
	s->wbuf = NULL;
	s->wlen = s->wcap = 0;
	free(s->mine.slot);
	free(s->mine.used);
	memset(&s->mine, 0, sizeof s->mine);
}
