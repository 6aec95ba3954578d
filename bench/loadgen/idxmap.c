/* SPDX-License-Identifier: MIT */
/*
 * Receiver index -> engine: linear probing at most half full, deletion
 * by backward shift (no tombstones, so a long run of handshake retries,
 * each with a new index, never degrades the lookups).  Indexes are drawn
 * by the engines' rng, so a multiplicative hash spreads them enough.
 */

#include <stdlib.h>

#include "lg.h"

static uint32_t slot(const struct lg_idxmap *m, uint32_t k)
{
	return (k * 2654435761u) & m->mask;
}

int lg_idxmap_init(struct lg_idxmap *m, uint32_t n)
{
	uint32_t cap = 16;

	while (cap < 2 * n + 2)
		cap *= 2;
	m->mask = cap - 1;
	m->count = 0;
	m->key = calloc(cap, sizeof *m->key);
	m->val = calloc(cap, sizeof *m->val);
	if (!m->key || !m->val) {
		lg_idxmap_free(m);
		return -1;
	}
	return 0;
}

void lg_idxmap_free(struct lg_idxmap *m)
{
	free(m->key);
	free(m->val);
	m->key = m->val = NULL;
}

uint32_t lg_idxmap_get(const struct lg_idxmap *m, uint32_t k)
{
	for (uint32_t i = slot(m, k);; i = (i + 1) & m->mask) {
		if (m->key[i] == k)
			return m->val[i];
		if (m->key[i] == 0)
			return UINT32_MAX;
	}
}

bool lg_idxmap_put(struct lg_idxmap *m, uint32_t k, uint32_t v)
{
	uint32_t i = slot(m, k);

	/* the caller sizes the map for every engine's one index, so it
	 * stays at most half full and a free slot always exists */
	for (; m->key[i]; i = (i + 1) & m->mask)
		if (m->key[i] == k)
			return false;
	m->key[i] = k;
	m->val[i] = v;
	m->count++;
	return true;
}

void lg_idxmap_del(struct lg_idxmap *m, uint32_t k)
{
	uint32_t i = slot(m, k), j;

	while (m->key[i] != k) {
		if (m->key[i] == 0)
			return;
		i = (i + 1) & m->mask;
	}
	m->count--;
	/* shift back every later entry of the run that may sit in i */
	for (j = (i + 1) & m->mask; m->key[j]; j = (j + 1) & m->mask) {
		uint32_t home = slot(m, m->key[j]);

		/* j's entry may move to i if its home is not in (i, j] */
		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->key[i] = m->key[j];
			m->val[i] = m->val[j];
			i = j;
		}
	}
	m->key[i] = 0;
}
