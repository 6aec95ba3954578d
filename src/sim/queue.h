/* SPDX-License-Identifier: MIT */
#ifndef JVPN_SIM_QUEUE_H
#define JVPN_SIM_QUEUE_H

/*
 * The simulator's agenda: a binary min-heap of timed events ordered by
 * (time, insertion sequence), so two events due at the same millisecond
 * always run in the order they were scheduled and a run never depends on
 * heap internals.  The heap grows by doubling (rare; amortised O(1)) and
 * never shrinks during a run.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jvpn/error.h"
#include "jvpn/limits.h"

struct sim_ev {
	jv_time at;
	uint64_t seq;		/* insertion order: the tie-break */
	uint32_t kind;		/* owner-defined */
	uint32_t arg;		/* owner-defined, e.g. a packet slot */
	uint64_t arg2;		/* owner-defined */
};

struct sim_queue {
	struct sim_ev *heap;
	size_t n, cap;
	uint64_t next_seq;
};

/* Empty queue with room for cap events (0: a small default).
 * Returns 0, JV_ERR_NOMEM. */
JV_MUST_CHECK int sim_queue_init(struct sim_queue *q, size_t cap);
void sim_queue_free(struct sim_queue *q);

/* Schedule an event.  Returns 0, JV_ERR_NOMEM (queue unchanged). */
JV_MUST_CHECK int sim_queue_push(struct sim_queue *q, jv_time at,
				 uint32_t kind, uint32_t arg, uint64_t arg2);

/* Remove the earliest event into *out; false if the queue is empty. */
bool sim_queue_pop(struct sim_queue *q, struct sim_ev *out);

/* The earliest event, or NULL. */
const struct sim_ev *sim_queue_peek(const struct sim_queue *q);

static inline size_t sim_queue_len(const struct sim_queue *q)
{
	return q->n;
}

#endif
