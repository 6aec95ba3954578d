/* SPDX-License-Identifier: MIT */
/* Receiver-index table: slot in the low bits, randomness in the high bits. */

#include <stdlib.h>
#include <string.h>

#include "table.h"

#define NO_SLOT UINT32_MAX

int jv_table_init(struct jv_table *t, uint32_t min_entries)
{
	uint32_t cap = 16;

	memset(t, 0, sizeof *t);
	if (min_entries == 0 || min_entries > (1u << 24))
		return JV_ERR_INVAL;
	while (cap < min_entries)
		cap <<= 1;
	t->e = calloc(cap, sizeof *t->e);
	t->next_free = calloc(cap, sizeof *t->next_free);
	t->prev_free = calloc(cap, sizeof *t->prev_free);
	if (!t->e || !t->next_free || !t->prev_free) {
		jv_table_free(t);
		return JV_ERR_NOMEM;
	}
	t->cap = cap;
	for (uint32_t i = 0; i < cap; i++) {
		t->next_free[i] = i + 1 < cap ? i + 1 : NO_SLOT;
		t->prev_free[i] = i > 0 ? i - 1 : NO_SLOT;
	}
	t->free_head = 0;
	return JV_OK;
}

void jv_table_free(struct jv_table *t)
{
	free(t->ovf);
	free(t->e);
	free(t->next_free);
	free(t->prev_free);
	memset(t, 0, sizeof *t);
}

/* Take a free slot out of the free list. */
static void unlink_free(struct jv_table *t, uint32_t slot)
{
	uint32_t next = t->next_free[slot], prev = t->prev_free[slot];

	if (prev == NO_SLOT)
		t->free_head = next;
	else
		t->next_free[prev] = next;
	if (next != NO_SLOT)
		t->prev_free[next] = prev;
}

int jv_table_insert(struct jv_table *t, void *ptr, const struct jv_rng *rng,
		    uint32_t *index)
{
	uint32_t slot = t->free_head, r, idx;

	if (slot == NO_SLOT || t->cap == 0)
		return JV_ERR_LIMIT;
	do {
		jv_rng_fill(rng, &r, sizeof r);
		idx = (r & ~(t->cap - 1)) | slot;
	} while (idx == 0);
	unlink_free(t, slot);
	t->e[slot].index = idx;
	t->e[slot].ptr = ptr;
	t->used++;
	*index = idx;
	return JV_OK;
}

/* A removed overflow entry: keeps probe chains unbroken. */
#define OVF_TOMB ((void *)&jv_table_free)

static uint32_t ovf_home(const struct jv_table *t, uint32_t index)
{
	/* The low bits are the other node's slot: mix the rest in too. */
	return (index * 2654435761u) >> 7 & (t->cap - 1);
}

static struct jv_table_entry *ovf_find(const struct jv_table *t,
				       uint32_t index)
{
	if (!t->ovf)
		return NULL;
	for (uint32_t i = 0, h = ovf_home(t, index); i < t->cap;
	     i++, h = (h + 1) & (t->cap - 1)) {
		struct jv_table_entry *e = &t->ovf[h];
		if (e->index == index && e->ptr != OVF_TOMB)
			return e;
		if (e->index == 0 && e->ptr == NULL)
			return NULL;
	}
	return NULL;
}

int jv_table_insert_at(struct jv_table *t, void *ptr, uint32_t index)
{
	uint32_t slot;

	if (index == 0 || t->cap == 0 || !ptr || jv_table_lookup(t, index))
		return JV_ERR_INVAL;
	if (t->used >= t->cap)
		return JV_ERR_LIMIT;
	slot = index & (t->cap - 1);
	if (t->e[slot].index == 0) {
		/* Free slots are exactly the listed ones: out of the list in
		 * O(1), so a restart's thousands of adoptions stay linear. */
		unlink_free(t, slot);
		t->e[slot].index = index;
		t->e[slot].ptr = ptr;
		t->used++;
		return JV_OK;
	}
	if (!t->ovf) {
		t->ovf = calloc(t->cap, sizeof *t->ovf);
		if (!t->ovf)
			return JV_ERR_NOMEM;
	}
	if (t->ovf_used >= t->cap / 2)
		return JV_ERR_LIMIT;	/* keep probe chains short */
	for (uint32_t i = 0, h = ovf_home(t, index); i < t->cap;
	     i++, h = (h + 1) & (t->cap - 1)) {
		struct jv_table_entry *e = &t->ovf[h];
		if (e->index == 0 || e->ptr == OVF_TOMB) {
			e->index = index;
			e->ptr = ptr;
			t->ovf_used++;
			t->used++;
			return JV_OK;
		}
	}
	return JV_ERR_LIMIT;
}

void *jv_table_lookup(const struct jv_table *t, uint32_t index)
{
	uint32_t slot;
	struct jv_table_entry *e;

	if (index == 0 || t->cap == 0)
		return NULL;
	slot = index & (t->cap - 1);
	if (t->e[slot].index == index)
		return t->e[slot].ptr;
	e = ovf_find(t, index);
	return e ? e->ptr : NULL;
}

void jv_table_remove(struct jv_table *t, uint32_t index)
{
	uint32_t slot;
	struct jv_table_entry *e;

	if (!jv_table_lookup(t, index))
		return;
	slot = index & (t->cap - 1);
	if (t->e[slot].index != index) {
		e = ovf_find(t, index);
		e->ptr = OVF_TOMB;
		t->ovf_used--;
		t->used--;
		return;
	}
	t->e[slot].index = 0;
	t->e[slot].ptr = NULL;
	t->next_free[slot] = t->free_head;
	t->prev_free[slot] = NO_SLOT;
	if (t->free_head != NO_SLOT)
		t->prev_free[t->free_head] = slot;
	t->free_head = slot;
	t->used--;
}
