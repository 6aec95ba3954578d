/* SPDX-License-Identifier: MIT */
/* The ownership store's front: pick the backend by url scheme, check the
 * arguments both backends share, forward through ops (see store.h). */

#include <stdio.h>
#include <string.h>

#include "cluster/store_impl.h"
#include "cluster/why.h"

struct jv_store *jv_store_open(const struct jv_store_config *cfg,
			       struct jv_loop *loop, char *why, size_t why_len)
{
	static const char sqlite[] = "sqlite:", etcd[] = "etcd:";
	const char *url;
	size_t node_len;

	jv_why(why, why_len, -1, "%s", "");
	if (!cfg || !cfg->url || !cfg->url[0]) {
		jv_why(why, why_len, -1,
		       "store: no url (want sqlite:PATH or etcd:URL[,URL...])");
		return NULL;
	}
	url = cfg->url;
	if (strlen(url) >= JV_STORE_URL_MAX) {
		jv_why(why, why_len, -1, "store: url longer than %d bytes",
		       JV_STORE_URL_MAX - 1);
		return NULL;
	}
	node_len = cfg->node_id ? strlen(cfg->node_id) : 0;
	if (!node_len) {
		jv_why(why, why_len, -1, "%s: no node id", url);
		return NULL;
	}
	if (node_len >= JV_NODE_ID_MAX) {
		jv_why(why, why_len, -1, "%s: node id longer than %d bytes",
		       url, JV_NODE_ID_MAX - 1);
		return NULL;
	}
	if (!cfg->on_lease) {
		jv_why(why, why_len, -1, "%s: no lease callback", url);
		return NULL;
	}
	if (!strncmp(url, sqlite, sizeof sqlite - 1))
		return jv_store_sqlite_open(cfg, url + sizeof sqlite - 1, loop,
					    why, why_len);
	if (!strncmp(url, etcd, sizeof etcd - 1))
		return jv_store_etcd_open(cfg, url + sizeof etcd - 1, loop, why,
					  why_len);
	jv_why(why, why_len, -1,
	       "store url '%s': unknown scheme (want sqlite:PATH or etcd:URL[,URL...])",
	       url);
	return NULL;
}

void jv_store_close(struct jv_store *st)
{
	if (st)
		st->ops->close(st);
}

void jv_store_init(struct jv_store *st, const struct jv_store_ops *ops,
		   const struct jv_store_config *cfg)
{
	st->ops = ops;
	snprintf(st->node, sizeof st->node, "%s", cfg->node_id);
}

/* Checked here once so that both backends store only what the other could
 * store too.  A node writes only records it owns (store.h: the record
 * becomes owned by this node); anything else is a caller bug. */
static bool rec_ok(const struct jv_store *st, const struct jv_store_rec *rec)
{
	return rec->len <= JV_STORE_BLOB_MAX &&
	       memchr(rec->owner_node, '\0', sizeof rec->owner_node) &&
	       rec->owner_node[0] && !strcmp(rec->owner_node, st->node);
}

int jv_store_get(struct jv_store *st, uint32_t index, jv_store_get_fn fn,
		 void *ud)
{
	if (!st || !fn)
		return JV_ERR_INVAL;
	return st->ops->get(st, index, fn, ud);
}

int jv_store_put(struct jv_store *st, const struct jv_store_rec *rec,
		 uint64_t expected_revision, jv_store_put_fn fn, void *ud)
{
	if (!st || !rec || !fn || !rec_ok(st, rec))
		return JV_ERR_INVAL;
	return st->ops->put(st, rec, expected_revision, fn, ud);
}

int jv_store_del(struct jv_store *st,
		 const uint8_t session_id[JV_SESSION_ID_BYTES],
		 uint64_t expected_revision, jv_store_put_fn fn, void *ud)
{
	if (!st || !session_id || !fn)
		return JV_ERR_INVAL;
	return st->ops->del(st, session_id, expected_revision, fn, ud);
}

jv_time jv_store_deadline(const struct jv_store *st)
{
	return st ? st->ops->deadline(st) : JV_TIME_NEVER;
}

void jv_store_tick(struct jv_store *st, jv_time now)
{
	if (st)
		st->ops->tick(st, now);
}

int jv_store_poll(struct jv_store *st, int timeout_ms)
{
	return st ? st->ops->poll(st, timeout_ms) : 0;
}

const char *jv_store_status_name(enum jv_store_status s)
{
	switch (s) {
	case JV_STORE_OK:
		return "ok";
	case JV_STORE_NOTFOUND:
		return "notfound";
	case JV_STORE_CONFLICT:
		return "conflict";
	case JV_STORE_UNAVAILABLE:
		return "unavailable";
	case JV_STORE_CORRUPT:
		return "corrupt";
	}
	return "unknown";
}
