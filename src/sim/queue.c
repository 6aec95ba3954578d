/* SPDX-License-Identifier: MIT */
/* Binary min-heap on (time, insertion sequence). */

#include <stdlib.h>

#include "sim/queue.h"

static bool before(const struct sim_ev *a, const struct sim_ev *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

int sim_queue_init(struct sim_queue *q, size_t cap)
{
	if (cap == 0)
		cap = 256;
	q->heap = malloc(cap * sizeof *q->heap);
	if (!q->heap)
		return JV_ERR_NOMEM;
	q->n = 0;
	q->cap = cap;
	q->next_seq = 0;
	return 0;
}

void sim_queue_free(struct sim_queue *q)
{
	free(q->heap);
	q->heap = NULL;
	q->n = q->cap = 0;
}

int sim_queue_push(struct sim_queue *q, jv_time at, uint32_t kind,
		   uint32_t arg, uint64_t arg2)
{
	struct sim_ev e = { .at = at, .seq = q->next_seq, .kind = kind,
			    .arg = arg, .arg2 = arg2 };
	size_t i;

	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 256;
		struct sim_ev *h = realloc(q->heap, cap * sizeof *h);

		if (!h)
			return JV_ERR_NOMEM;
		q->heap = h;
		q->cap = cap;
	}
	q->next_seq++;
	i = q->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!before(&e, &q->heap[parent]))
			break;
		q->heap[i] = q->heap[parent];
		i = parent;
	}
	q->heap[i] = e;
	return 0;
}

bool sim_queue_pop(struct sim_queue *q, struct sim_ev *out)
{
	struct sim_ev last;
	size_t i = 0;

	if (q->n == 0)
		return false;
	*out = q->heap[0];
	last = q->heap[--q->n];
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= q->n)
			break;
		if (c + 1 < q->n && before(&q->heap[c + 1], &q->heap[c]))
			c++;
		if (!before(&q->heap[c], &last))
			break;
		q->heap[i] = q->heap[c];
		i = c;
	}
	if (q->n > 0)
		q->heap[i] = last;
	return true;
}

const struct sim_ev *sim_queue_peek(const struct sim_queue *q)
{
	return q->n ? &q->heap[0] : NULL;
}
