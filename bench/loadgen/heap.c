/* SPDX-License-Identifier: MIT */
/*
 * Engines by their next deadline, in the core's timer heap (src/core/heap.h):
 * moving one engine after it ran costs O(log N), and the loop never scans
 * N engines to find what is due.
 */

#include <stdlib.h>

#include "lg.h"

int lg_heap_init(struct lg_heap *h, uint32_t cap)
{
	h->links = malloc((cap ? cap : 1) * sizeof *h->links);
	if (!h->links || jv_heap_init(&h->h, cap ? cap : 1) != JV_OK) {
		free(h->links);
		h->links = NULL;
		return -1;
	}
	for (uint32_t i = 0; i < cap; i++)
		jv_heap_link_init(&h->links[i]);
	return 0;
}

void lg_heap_free(struct lg_heap *h)
{
	jv_heap_free(&h->h);
	free(h->links);
	h->links = NULL;
}
