/* SPDX-License-Identifier: MIT */
/* 32-byte keys to 32-bit values (keymap.h). */

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daemon/keymap.h"

void dmn_keymap_init(struct dmn_keymap *m)
{
	memset(m, 0, sizeof *m);
	randombytes_buf(m->hkey, sizeof m->hkey);
}

static size_t slot_of(const struct dmn_keymap *m, const uint8_t key[32])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, key, 32, m->hkey);
	memcpy(&v, h, sizeof v);
	return (size_t)v & (m->cap - 1);
}

static int grow(struct dmn_keymap *m)
{
	struct dmn_keymap g = *m;
	size_t cap = m->cap ? 2 * m->cap : 16;

	g.cap = cap;
	g.n = 0;
	g.keys = malloc(cap * sizeof *g.keys);
	g.vals = malloc(cap * sizeof *g.vals);
	g.used = calloc(cap, 1);
	if (!g.keys || !g.vals || !g.used) {
		free(g.keys);
		free(g.vals);
		free(g.used);
		return JV_ERR_NOMEM;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->used[i]) {
			size_t s = slot_of(&g, m->keys[i]);

			while (g.used[s])
				s = (s + 1) & (cap - 1);
			g.used[s] = 1;
			memcpy(g.keys[s], m->keys[i], 32);
			g.vals[s] = m->vals[i];
			g.n++;
		}
	free(m->keys);
	free(m->vals);
	free(m->used);
	*m = g;
	return 0;
}

/* The slot holding key, or the empty one where it would go. */
static size_t find(const struct dmn_keymap *m, const uint8_t key[32])
{
	size_t s = slot_of(m, key);

	while (m->used[s] && memcmp(m->keys[s], key, 32))
		s = (s + 1) & (m->cap - 1);
	return s;
}

int dmn_keymap_put(struct dmn_keymap *m, const uint8_t key[32], uint32_t val)
{
	size_t s;

	if ((m->n + 1) * 2 > m->cap && grow(m))
		return JV_ERR_NOMEM;
	s = find(m, key);
	if (!m->used[s]) {
		m->used[s] = 1;
		memcpy(m->keys[s], key, 32);
		m->n++;
	}
	m->vals[s] = val;
	return 0;
}

bool dmn_keymap_set(struct dmn_keymap *m, const uint8_t key[32], uint32_t val)
{
	size_t s;

	if (!m->cap)
		return false;
	s = find(m, key);
	if (!m->used[s])
		return false;
	m->vals[s] = val;
	return true;
}

bool dmn_keymap_get(const struct dmn_keymap *m, const uint8_t key[32],
		    uint32_t *val)
{
	size_t s;

	if (!m->cap)
		return false;
	s = find(m, key);
	if (!m->used[s])
		return false;
	*val = m->vals[s];
	return true;
}

void dmn_keymap_del(struct dmn_keymap *m, const uint8_t key[32])
{
	size_t mask = m->cap - 1, hole, s;

	if (!m->cap)
		return;
	hole = find(m, key);
	if (!m->used[hole])
		return;
	m->used[hole] = 0;
	m->n--;
	/* backward shift: an entry after the hole moves into it unless its
	 * home slot lies cyclically in (hole, s] */
	for (s = (hole + 1) & mask; m->used[s]; s = (s + 1) & mask) {
		size_t home = slot_of(m, m->keys[s]);

		if (((s - home) & mask) < ((s - hole) & mask))
			continue;
		memcpy(m->keys[hole], m->keys[s], 32);
		m->vals[hole] = m->vals[s];
		m->used[hole] = 1;
		m->used[s] = 0;
		hole = s;
	}
}

void dmn_keymap_sid(const char *sid, uint8_t key[32])
{
	memset(key, 0, 32);
	memcpy(key, sid, strnlen(sid, 32));
}

void dmn_keymap_free(struct dmn_keymap *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	memset(m, 0, sizeof *m);
}
