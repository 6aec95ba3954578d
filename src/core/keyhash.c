/* SPDX-License-Identifier: MIT */
/* Public key -> index under a keyed hash (keyhash.h). */

#include <stdlib.h>
#include <string.h>

#include "keyhash.h"

enum { KEYHASH_MIN_CAP = 16 };

static uint64_t hash(const struct jv_keyhash *t, const uint8_t pub[32])
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t h;

	crypto_shorthash(out, pub, 32, t->key);
	memcpy(&h, out, sizeof h);
	return h;
}

static struct jv_keyhash_slot *alloc_slots(uint32_t cap)
{
	struct jv_keyhash_slot *s = malloc((size_t)cap * sizeof *s);

	if (s)
		for (uint32_t i = 0; i < cap; i++)
			s[i].val = JV_KEYHASH_NONE;
	return s;
}

int jv_keyhash_init(struct jv_keyhash *t, const struct jv_rng *rng)
{
	memset(t, 0, sizeof *t);
	jv_rng_fill(rng, t->key, sizeof t->key);
	t->s = alloc_slots(KEYHASH_MIN_CAP);
	if (!t->s)
		return JV_ERR_NOMEM;
	t->cap = KEYHASH_MIN_CAP;
	return JV_OK;
}

void jv_keyhash_free(struct jv_keyhash *t)
{
	free(t->s);
	sodium_memzero(t, sizeof *t);
}

static void place(struct jv_keyhash_slot *s, uint32_t cap, uint64_t h,
		  uint32_t val)
{
	uint32_t i = (uint32_t)h & (cap - 1);

	while (s[i].val != JV_KEYHASH_NONE)
		i = (i + 1) & (cap - 1);
	s[i].h = h;
	s[i].val = val;
}

int jv_keyhash_add(struct jv_keyhash *t, const uint8_t pub[32], uint32_t val)
{
	if (val == JV_KEYHASH_NONE)
		return JV_ERR_INVAL;
	/* At most half full: chains stay short (about 1.5 probes to find a
	 * key, 2.5 to miss), and doubling keeps adds amortised O(1). */
	if (2 * (t->used + 1) > t->cap) {
		uint32_t cap = t->cap * 2;
		struct jv_keyhash_slot *s;

		if (cap == 0)
			return JV_ERR_NOMEM;
		s = alloc_slots(cap);
		if (!s)
			return JV_ERR_NOMEM;
		for (uint32_t i = 0; i < t->cap; i++)
			if (t->s[i].val != JV_KEYHASH_NONE)
				place(s, cap, t->s[i].h, t->s[i].val);
		free(t->s);
		t->s = s;
		t->cap = cap;
	}
	place(t->s, t->cap, hash(t, pub), val);
	t->used++;
	return JV_OK;
}

void jv_keyhash_del(struct jv_keyhash *t, const uint8_t pub[32], uint32_t val)
{
	uint32_t m = t->cap - 1, i = (uint32_t)hash(t, pub) & m;

	while (t->s[i].val != val) {
		if (t->s[i].val == JV_KEYHASH_NONE)
			return;
		i = (i + 1) & m;
	}
	/* Backward shift: every later entry of the run that may live in the
	 * hole (its home is not between the hole and itself) moves into it,
	 * so no chain is broken and no tombstone is needed. */
	for (uint32_t j = i;;) {
		j = (j + 1) & m;
		if (t->s[j].val == JV_KEYHASH_NONE)
			break;
		uint32_t home = (uint32_t)t->s[j].h & m;
		if (((j - home) & m) >= ((j - i) & m)) {
			t->s[i] = t->s[j];
			i = j;
		}
	}
	t->s[i].val = JV_KEYHASH_NONE;
	t->used--;
}

uint32_t jv_keyhash_find(const struct jv_keyhash *t, const uint8_t pub[32],
			 jv_keyhash_want_fn want, void *ctx)
{
	uint32_t m = t->cap - 1;

	/* No filtering on the stored hash: `want` sees every entry of the
	 * chain and compares the whole key, so a 64-bit collision can never
	 * stand for a match. */
	for (uint32_t i = (uint32_t)hash(t, pub) & m;
	     t->s[i].val != JV_KEYHASH_NONE; i = (i + 1) & m)
		if (want(ctx, t->s[i].val, pub))
			return t->s[i].val;
	return JV_KEYHASH_NONE;
}
