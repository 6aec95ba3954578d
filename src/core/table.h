/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CORE_TABLE_H
#define JVPN_CORE_TABLE_H

/*
 * Receiver index -> session, O(1), bounded (spec §11).  An index is
 * (random high bits | slot), so lookup is one array access plus a compare,
 * and an index cannot be guessed from another.  Memory is allocated once,
 * at creation.
 */

#include <stdint.h>

#include "jvpn/error.h"
#include "jvpn/rng.h"

struct jv_table_entry {
	uint32_t index;		/* 0: free */
	void *ptr;
};

struct jv_table {
	uint32_t cap;		/* power of two */
	uint32_t used;
	uint32_t free_head;	/* free list through ptr-less entries */
	struct jv_table_entry *e;
	uint32_t *next_free;
	uint32_t *prev_free;	/* doubly linked: a given slot leaves in O(1) */
	/* Indexes chosen elsewhere (a session taken over from another node,
	 * PD-9) whose slot is taken here: open addressing, linear probing,
	 * allocated on first use.  Looked at only when the slot misses. */
	struct jv_table_entry *ovf;
	uint32_t ovf_used;
};

/* Room for at least `min_entries`.  JV_ERR_NOMEM, JV_ERR_INVAL. */
JV_MUST_CHECK int jv_table_init(struct jv_table *t, uint32_t min_entries);
void jv_table_free(struct jv_table *t);

/* Insert ptr under a fresh random index (returned, never 0).
 * JV_ERR_LIMIT when full. */
JV_MUST_CHECK int jv_table_insert(struct jv_table *t, void *ptr,
				  const struct jv_rng *rng, uint32_t *index);
/* Insert ptr under a given index (a session resumed from its record):
 * its own slot when free, else the overflow area.  JV_ERR_INVAL (index 0
 * or already present), JV_ERR_LIMIT (full), JV_ERR_NOMEM. */
JV_MUST_CHECK int jv_table_insert_at(struct jv_table *t, void *ptr,
				     uint32_t index);
void *jv_table_lookup(const struct jv_table *t, uint32_t index);
/* Remove index; no-op if absent. */
void jv_table_remove(struct jv_table *t, uint32_t index);

#endif
