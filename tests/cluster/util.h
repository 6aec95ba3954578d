/* SPDX-License-Identifier: MIT */
#ifndef JVPN_TESTS_CLUSTER_UTIL_H
#define JVPN_TESTS_CLUSTER_UTIL_H

/*
 * What the store tests share (the contract suite and each backend's own
 * cases): a probe that the store's callbacks fill, sample records, and
 * the records of the PD-9 check that no secret reaches a store in clear.
 */

#include <stdbool.h>
#include <stdint.h>

#include "cluster/store.h"

/* What the callbacks given this probe as ud reported, each its part. */
struct probe {
	int leases;			/* probe_on_lease */
	jv_time lease_until;
	int watches;			/* probe_on_watch: the latest */
	uint8_t watched_id[JV_SESSION_ID_BYTES];
	char watched_owner[JV_NODE_ID_MAX];
	uint64_t watched_epoch;
	int calls;			/* probe_on_get, probe_on_put */
	enum jv_store_status status;
	uint64_t revision;
	bool had_rec;
	struct jv_store_rec rec;
	struct jv_store *close_me;	/* probe_on_get closes it, once */
};

void probe_on_lease(void *ud, jv_time until);
void probe_on_watch(void *ud, const uint8_t id[JV_SESSION_ID_BYTES],
		    const char *owner, uint64_t epoch);
void probe_on_get(void *ud, enum jv_store_status st,
		  const struct jv_store_rec *rec);
void probe_on_put(void *ud, enum jv_store_status st, uint64_t rev);

/* A record of owner, its fields a function of seed.  Values past
 * INT64_MAX on purpose: a backend with signed integers must still give
 * back the same bits. */
void mk_rec(struct jv_store_rec *r, unsigned seed, const char *owner);

/* PD-9: what a dump of the store must not hold (the secret inside a
 * sealed body, the cluster key) and must hold (the control, stored in
 * clear: it proves the search sees what is stored). */
enum { PD9_PATTERN_LEN = 32, PD9_PLAIN_LEN = 200 };
extern const uint8_t pd9_secret[PD9_PATTERN_LEN];
extern const uint8_t pd9_cluster_key[PD9_PATTERN_LEN];
extern const uint8_t pd9_control[PD9_PATTERN_LEN];

/* r: a record of owner whose body is plain (filled here, holding
 * pd9_secret) sealed with pd9_cluster_key; c: one holding pd9_control in
 * its body.  false when sealing failed. */
bool pd9_records(struct jv_store_rec *r, struct jv_store_rec *c,
		 const char *owner, uint8_t plain[PD9_PLAIN_LEN]);

#endif
