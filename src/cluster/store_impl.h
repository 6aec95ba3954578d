/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CLUSTER_STORE_IMPL_H
#define JVPN_CLUSTER_STORE_IMPL_H

/* The backends behind store.h: each one's struct starts with struct
 * jv_store, whose ops the dispatcher (store.c) calls.  Private to
 * src/cluster. */

#include "cluster/store.h"

struct jv_store_ops {
	int (*get)(struct jv_store *st, uint32_t index, jv_store_get_fn fn,
		   void *ud);
	int (*put)(struct jv_store *st, const struct jv_store_rec *rec,
		   uint64_t expected_revision, jv_store_put_fn fn, void *ud);
	int (*del)(struct jv_store *st, const uint8_t id[JV_SESSION_ID_BYTES],
		   uint64_t expected_revision, jv_store_put_fn fn, void *ud);
	jv_time (*deadline)(const struct jv_store *st);
	void (*tick)(struct jv_store *st, jv_time now);
	int (*poll)(struct jv_store *st, int timeout_ms);
	void (*close)(struct jv_store *st);
};

struct jv_store {
	const struct jv_store_ops *ops;
	char node[JV_NODE_ID_MAX];	/* this node: cfg->node_id */
};

/* The part of an open both backends share; cfg was checked by
 * jv_store_open. */
void jv_store_init(struct jv_store *st, const struct jv_store_ops *ops,
		   const struct jv_store_config *cfg);

/* Each returns NULL with a one-line reason in why.  `where` is the url
 * after its scheme ("sqlite:" or "etcd:" removed). */
struct jv_store *jv_store_sqlite_open(const struct jv_store_config *cfg,
				      const char *where, struct jv_loop *loop,
				      char *why, size_t why_len);
struct jv_store *jv_store_etcd_open(const struct jv_store_config *cfg,
				    const char *where, struct jv_loop *loop,
				    char *why, size_t why_len);

#endif
