/* SPDX-License-Identifier: MIT */
/*
 * Transport ids for the binding replay.  The reader bounds node ids but
 * not transport ids, so an id is kept as its first AU_TID_KEEP - 1 bytes,
 * its length and a 64-bit FNV-1a hash of the whole: equal ids compare
 * equal, and ids that differ anywhere compare different (barring a hash
 * collision on ids longer than the kept prefix).
 */

#include <string.h>

#include "audit_impl.h"

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void au_tid_set(struct au_tid *t, const char *s)
{
	size_t n;

	memset(t, 0, sizeof *t);
	if (!s)
		return;
	n = strlen(s);
	t->set = true;
	t->len = n;
	t->hash = fnv1a(s, n);
	memcpy(t->s, s, n < sizeof t->s ? n : sizeof t->s - 1);
}

bool au_tid_eq(const struct au_tid *t, const char *s)
{
	size_t n;

	if (!t->set || !s)
		return !t->set && !s;
	n = strlen(s);
	if (n != t->len)
		return false;
	if (n < sizeof t->s)
		return memcmp(t->s, s, n) == 0;
	return memcmp(t->s, s, sizeof t->s - 1) == 0 && fnv1a(s, n) == t->hash;
}

const char *au_tid_show(const struct au_tid *t)
{
	return t->set ? t->s : "null";
}
