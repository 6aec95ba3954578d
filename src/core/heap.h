/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CORE_HEAP_H
#define JVPN_CORE_HEAP_H

/*
 * A binary min-heap of timers (spec §11: no O(sessions) work per event).
 * Each item embeds a struct jv_heap_link that holds its position, so an
 * item is re-keyed or removed in O(log n) without a search, and the
 * earliest is read in O(1).  Entries are ordered by (key, tie): with ties
 * unique (the gateway uses the receiver index) the order of equal keys
 * does not depend on the history of operations, so a seeded run visits
 * its timers in the same order every time.  The array is allocated once,
 * at init: an insert can only fail when the heap is full.
 */

#include <stdbool.h>
#include <stdint.h>

#include "jvpn/error.h"
#include "jvpn/limits.h"

#define JV_HEAP_NONE UINT32_MAX

struct jv_heap_link {
	uint32_t pos;		/* JV_HEAP_NONE: not in a heap */
};

struct jv_heap_ent {
	jv_time key;
	uint32_t tie;
	struct jv_heap_link *link;
};

struct jv_heap {
	struct jv_heap_ent *e;
	uint32_t n, cap;
};

/* Room for `cap` items.  JV_ERR_INVAL (0), JV_ERR_NOMEM. */
JV_MUST_CHECK int jv_heap_init(struct jv_heap *h, uint32_t cap);
void jv_heap_free(struct jv_heap *h);

static inline void jv_heap_link_init(struct jv_heap_link *l)
{
	l->pos = JV_HEAP_NONE;
}

static inline bool jv_heap_has(const struct jv_heap_link *l)
{
	return l->pos != JV_HEAP_NONE;
}

/* JV_ERR_LIMIT when full, JV_ERR_INVAL when l is in a heap already. */
JV_MUST_CHECK int jv_heap_insert(struct jv_heap *h, struct jv_heap_link *l,
				 jv_time key, uint32_t tie);
/* l must be in h. */
void jv_heap_update(struct jv_heap *h, struct jv_heap_link *l, jv_time key);
/* No-op when l is in no heap. */
void jv_heap_remove(struct jv_heap *h, struct jv_heap_link *l);

static inline jv_time jv_heap_key(const struct jv_heap *h,
				  const struct jv_heap_link *l)
{
	return h->e[l->pos].key;
}

/* The earliest item, NULL when empty. */
static inline struct jv_heap_link *jv_heap_top(const struct jv_heap *h)
{
	return h->n ? h->e[0].link : NULL;
}

#endif
