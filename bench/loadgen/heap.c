/* SPDX-License-Identifier: MIT */
/*
 * Engines by their next deadline: a binary min-heap with each engine's
 * slot remembered, so moving one engine after it ran costs O(log N) and
 * the loop never scans N engines to find what is due.
 */

#include <stdlib.h>

#include "lg.h"

int lg_heap_init(struct lg_heap *h, uint32_t cap)
{
	h->n = 0;
	h->item = calloc(cap ? cap : 1, sizeof *h->item);
	h->pos = malloc((cap ? cap : 1) * sizeof *h->pos);
	h->key = calloc(cap ? cap : 1, sizeof *h->key);
	if (!h->item || !h->pos || !h->key) {
		lg_heap_free(h);
		return -1;
	}
	for (uint32_t i = 0; i < cap; i++)
		h->pos[i] = UINT32_MAX;
	return 0;
}

void lg_heap_free(struct lg_heap *h)
{
	free(h->item);
	free(h->pos);
	free(h->key);
	h->item = h->pos = NULL;
	h->key = NULL;
}

static void place(struct lg_heap *h, uint32_t i, uint32_t e)
{
	h->item[i] = e;
	h->pos[e] = i;
}

static void up(struct lg_heap *h, uint32_t i)
{
	uint32_t e = h->item[i];

	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (h->key[h->item[p]] <= h->key[e])
			break;
		place(h, i, h->item[p]);
		i = p;
	}
	place(h, i, e);
}

static void down(struct lg_heap *h, uint32_t i)
{
	uint32_t e = h->item[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->key[h->item[c + 1]] < h->key[h->item[c]])
			c++;
		if (h->key[e] <= h->key[h->item[c]])
			break;
		place(h, i, h->item[c]);
		i = c;
	}
	place(h, i, e);
}

void lg_heap_set(struct lg_heap *h, uint32_t e, jv_time when)
{
	uint32_t i = h->pos[e];

	if (when == JV_TIME_NEVER) {
		uint32_t last;

		if (i == UINT32_MAX)
			return;
		h->pos[e] = UINT32_MAX;
		last = h->item[--h->n];
		if (i == h->n)
			return;
		place(h, i, last);
		up(h, i);
		down(h, h->pos[last]);
		return;
	}
	h->key[e] = when;
	if (i == UINT32_MAX) {
		i = h->n++;
		place(h, i, e);
	}
	up(h, i);
	down(h, h->pos[e]);
}
