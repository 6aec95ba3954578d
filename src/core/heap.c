/* SPDX-License-Identifier: MIT */
/* Binary min-heap of timers, positions kept in the items (heap.h). */

#include <stdlib.h>
#include <string.h>

#include "heap.h"

int jv_heap_init(struct jv_heap *h, uint32_t cap)
{
	memset(h, 0, sizeof *h);
	if (cap == 0 || cap == JV_HEAP_NONE)
		return JV_ERR_INVAL;
	h->e = calloc(cap, sizeof *h->e);
	if (!h->e)
		return JV_ERR_NOMEM;
	h->cap = cap;
	return JV_OK;
}

void jv_heap_free(struct jv_heap *h)
{
	for (uint32_t i = 0; i < h->n; i++)
		h->e[i].link->pos = JV_HEAP_NONE;
	free(h->e);
	memset(h, 0, sizeof *h);
}

static bool before(const struct jv_heap_ent *a, const struct jv_heap_ent *b)
{
	return a->key < b->key || (a->key == b->key && a->tie < b->tie);
}

static void put(struct jv_heap *h, uint32_t i, const struct jv_heap_ent *x)
{
	h->e[i] = *x;
	x->link->pos = i;
}

/* The entry x, whose place is i, moves up or down to where it belongs. */
static void sift(struct jv_heap *h, uint32_t i, struct jv_heap_ent x)
{
	while (i > 0 && before(&x, &h->e[(i - 1) / 2])) {
		put(h, i, &h->e[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(&h->e[c + 1], &h->e[c]))
			c++;
		if (!before(&h->e[c], &x))
			break;
		put(h, i, &h->e[c]);
		i = c;
	}
	put(h, i, &x);
}

int jv_heap_insert(struct jv_heap *h, struct jv_heap_link *l, jv_time key,
		   uint32_t tie)
{
	struct jv_heap_ent x = { .key = key, .tie = tie, .link = l };

	if (jv_heap_has(l))
		return JV_ERR_INVAL;
	if (h->n >= h->cap)
		return JV_ERR_LIMIT;
	sift(h, h->n++, x);
	return JV_OK;
}

void jv_heap_update(struct jv_heap *h, struct jv_heap_link *l, jv_time key)
{
	struct jv_heap_ent x = h->e[l->pos];

	x.key = key;
	sift(h, l->pos, x);
}

void jv_heap_remove(struct jv_heap *h, struct jv_heap_link *l)
{
	uint32_t i = l->pos;

	if (i == JV_HEAP_NONE)
		return;
	l->pos = JV_HEAP_NONE;
	if (i == --h->n)
		return;
	/* The last entry fills the hole, then finds its place. */
	sift(h, i, h->e[h->n]);
}
