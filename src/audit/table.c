/* SPDX-License-Identifier: MIT */
/*
 * Streams by (session_id, role, client node): open addressing with linear
 * probing over the 128-bit id, doubled at half load.  One slot per stream
 * ever seen; a slot is a few dozen bytes once its stream has ended.
 */

#include <stdlib.h>
#include <string.h>

#include "audit_impl.h"

enum { TABLE_CAP0 = 64 };

int au_table_init(struct au_table *t)
{
	t->slot = calloc(TABLE_CAP0, sizeof *t->slot);
	if (!t->slot)
		return JV_ERR_NOMEM;
	t->cap = TABLE_CAP0;
	t->n = 0;
	return JV_OK;
}

void au_table_free(struct au_table *t)
{
	free(t->slot);
	t->slot = NULL;
	t->cap = t->n = 0;
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

uint64_t au_node_key(const char *node_id)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = node_id; p && *p; p++) {
		h ^= (unsigned char)*p;
		h *= 0x100000001b3ull;
	}
	return h ? h : 1;	/* 0 keys a session's first stream */
}

/* Session ids are random (spec §1): their first bytes hash well enough. */
static size_t slot_hash(const uint8_t sid[JV_SESSION_ID_BYTES], uint8_t role,
			uint64_t node)
{
	uint64_t h;

	memcpy(&h, sid, sizeof h);
	h ^= role ^ node;
	h *= 0x9e3779b97f4a7c15ull;	/* spread ids that are not random */
	return (size_t)(h ^ (h >> 29));
}

static struct au_slot *probe(struct au_slot *slot, size_t cap,
			     const uint8_t sid[JV_SESSION_ID_BYTES],
			     uint8_t role, uint64_t node)
{
	size_t i = slot_hash(sid, role, node) & (cap - 1);

	while (slot[i].used &&
	       (slot[i].role != role || slot[i].node != node ||
		memcmp(slot[i].sid, sid, JV_SESSION_ID_BYTES) != 0))
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

static int grow(struct au_table *t)
{
	size_t cap = t->cap * 2;
	struct au_slot *n;

	if (cap < t->cap)
		return JV_ERR_NOMEM;
	n = calloc(cap, sizeof *n);
	if (!n)
		return JV_ERR_NOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		struct au_slot *s = &t->slot[i];
		struct au_slot *d;

		if (!s->used)
			continue;
		d = probe(n, cap, s->sid, s->role, s->node);
		*d = *s;
		/* live streams point back at nothing in the table, so moving
		 * slots is safe */
	}
	free(t->slot);
	t->slot = n;
	t->cap = cap;
	return JV_OK;
}

struct au_slot *au_table_get(struct au_table *t, const char *sid_hex,
			     enum jv_role role, uint64_t node, bool *fresh)
{
	uint8_t sid[JV_SESSION_ID_BYTES];
	struct au_slot *s;

	for (int i = 0; i < JV_SESSION_ID_BYTES; i++)
		sid[i] = (uint8_t)(hexval(sid_hex[2 * i]) << 4 |
				   hexval(sid_hex[2 * i + 1]));
	*fresh = false;
	s = probe(t->slot, t->cap, sid, (uint8_t)role, node);
	if (s->used)
		return s;
	if (2 * (t->n + 1) > t->cap) {
		if (grow(t) != JV_OK)
			return NULL;
		s = probe(t->slot, t->cap, sid, (uint8_t)role, node);
	}
	memset(s, 0, sizeof *s);
	memcpy(s->sid, sid, sizeof sid);
	s->used = 1;
	s->role = (uint8_t)role;
	s->node = node;
	t->n++;
	*fresh = true;
	return s;
}
