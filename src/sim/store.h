/* SPDX-License-Identifier: MIT */
#ifndef JVPN_SIM_STORE_H
#define JVPN_SIM_STORE_H

/*
 * The ownership store of PD-9 as the simulator models it: a table of
 * session records (the engine's encoded bytes, opaque here) each with a
 * revision and an owner node; versioned CAS writes; node leases; faults.
 * Like SQLite or etcd behind the daemon it only answers operations: when
 * they reach it and when the answers reach their node is the run loop's
 * business (world.c: an operation takes effect half way through [Store]
 * latency_ms, its answer arrives at the end; a node that dies in between
 * has still written).
 *
 * CAS (spec §9, as tests/unit/takeover_test.c): a write names the
 * revision it read (0: the record must not exist yet); it fails with
 * CONFLICT if the record moved on meanwhile, or if it belongs to another
 * node whose lease is alive.  An unreachable store (down, or the node
 * partitioned from it) fails every operation: FAILED.
 *
 * Owner liveness: with a lease length, a node's lease runs lease_ms from
 * the moment the store applied its last successful renewal (the node
 * counts from the renewal's issue, so its own lease ends first); without
 * one, a node is live while its process lives.  A node id the store has never heard of (the writer of
 * an injected conflict) is taken to be live: the store cannot prove that
 * it is not.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jvpn/error.h"
#include "jvpn/limits.h"
#include "jvpn/record.h"

enum {
	SIM_STORE_NODES = 4,		/* gateway nodes the store knows */
};

struct sim_store_rec {
	uint32_t index;			/* the session's receiver index */
	uint64_t revision;		/* 1 at the first write, +1 per write */
	char owner[JV_NODE_ID_MAX];	/* node of the last write */
	uint8_t bytes[JV_RECORD_SIZE];	/* jv_gw_record_encode */
};

struct sim_store_node {
	char id[JV_NODE_ID_MAX];
	bool partitioned;		/* cannot reach the store */
	bool alive;			/* its process runs */
	jv_time until;			/* lease end (inclusive) */
};

struct sim_store_stats {
	uint64_t writes, conflicts, failed, reads, renewals, deletes;
};

struct sim_store {
	jv_time lease_ms;		/* 0: a node's lease is its process */
	bool down;
	struct sim_store_rec *rec;
	size_t n, cap;
	unsigned nnodes;
	struct sim_store_node node[SIM_STORE_NODES];
	struct sim_store_stats st;
};

void sim_store_init(struct sim_store *s, jv_time lease_ms);
void sim_store_free(struct sim_store *s);

/* Register a node (its process not yet running).  Returns its index, or
 * JV_ERR_LIMIT. */
JV_MUST_CHECK int sim_store_add_node(struct sim_store *s, const char *id);

/* Can node reach the store now? */
bool sim_store_reachable(const struct sim_store *s, unsigned node);

/* The node's process started (a first start or a restart) or died.
 * Without leases this is what makes it live or not; with leases a dead
 * node's lease simply runs out. */
void sim_store_node_up(struct sim_store *s, unsigned node);
void sim_store_node_down(struct sim_store *s, unsigned node);

/*
 * A lease renewal by node, applied at now.  Returns false if the store
 * cannot be reached; else true with *until the lease's new end in the
 * store (JV_TIME_NEVER without leases).
 */
bool sim_store_renew(struct sim_store *s, unsigned node, jv_time now,
		     jv_time *until);

/* Is `owner` (a node id) the live owner of its records at now? */
bool sim_store_owner_live(const struct sim_store *s, const char *owner,
			  jv_time now);

/* The record of receiver index `index`, or NULL. */
const struct sim_store_rec *sim_store_get(const struct sim_store *s,
					  uint32_t index);

/*
 * A read by node: JV_RECORD_FAILED (unreachable), else JV_RECORD_WRITTEN
 * with *out the record, or NULL if there is none.
 */
enum jv_record_outcome sim_store_read(struct sim_store *s, unsigned node,
				      uint32_t index,
				      const struct sim_store_rec **out);

/*
 * CAS write by node of the record `bytes` (JV_RECORD_SIZE) of `index`,
 * expecting revision `expected` (0: absent).  Returns JV_RECORD_WRITTEN
 * with *revision the new one, JV_RECORD_CONFLICT, JV_RECORD_FAILED
 * (unreachable), or JV_ERR_NOMEM (nothing written).
 */
JV_MUST_CHECK int sim_store_put(struct sim_store *s, unsigned node,
				uint32_t index, uint64_t expected,
				const uint8_t *bytes, jv_time now,
				uint64_t *revision);

/*
 * CAS delete by node of the record of `index` at revision `expected` (a
 * session that is over: the daemon deletes it once its last state is
 * written, or when a lookup finds it over).  Returns JV_RECORD_WRITTEN
 * (deleted), JV_RECORD_CONFLICT (moved on or absent), JV_RECORD_FAILED.
 */
enum jv_record_outcome sim_store_del(struct sim_store *s, unsigned node,
				     uint32_t index, uint64_t expected);

/*
 * CL-4: another node writes every record behind the owners' backs (as a
 * split brain would): revision + 1, owner `writer`.  Returns how many
 * records it touched.
 */
unsigned sim_store_inject_conflict(struct sim_store *s, const char *writer);

#endif
