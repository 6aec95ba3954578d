/* SPDX-License-Identifier: MIT */
/* Longest-prefix match over sorted arrays, one per length (route_table.h). */

#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "daemon/route_table.h"
#include "net/netaddr.h"

struct rt_ent {
	uint64_t hi, lo;		/* the masked address, big-endian halves */
	uint32_t peer;
	uint8_t bits;			/* 0..128 in the 16-byte form */
};

struct rt_level {
	unsigned bits;
	size_t n;
	const struct rt_ent *v;		/* sorted by (hi, lo, peer) */
};

struct jv_route_table {
	unsigned nlevels;
	struct rt_level level[129];	/* longest first */
	size_t n;
	struct rt_ent *ent;		/* grouped by level */
};

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Keep the first `bits` of (hi, lo). */
static void mask(uint64_t *hi, uint64_t *lo, unsigned bits)
{
	if (bits == 0) {
		*hi = *lo = 0;
	} else if (bits < 64) {
		*hi &= ~0ULL << (64 - bits);
		*lo = 0;
	} else if (bits == 64) {
		*lo = 0;
	} else if (bits < 128) {
		*lo &= ~0ULL << (128 - bits);
	}
}

static int ent_cmp(const void *a, const void *b)
{
	const struct rt_ent *x = a, *y = b;

	if (x->bits != y->bits)
		return x->bits > y->bits ? -1 : 1;	/* longest first */
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->peer < y->peer ? -1 : x->peer > y->peer;
}

int jv_route_table_build(const struct jv_route_in *in, size_t n,
			 struct jv_route_table **out)
{
	struct jv_route_table *t;

	*out = NULL;
	if (!n)
		return 0;
	t = calloc(1, sizeof *t);
	if (!t || !(t->ent = malloc(n * sizeof *t->ent))) {
		free(t);
		return JV_ERR_NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct jv_cidr *c = in[i].c;
		struct rt_ent *e = &t->ent[i];
		unsigned bits = jv_netaddr_is_v4(&c->addr) ? 96 + c->prefix
							   : c->prefix;

		e->hi = load_be64(c->addr.ip);
		e->lo = load_be64(c->addr.ip + 8);
		e->bits = (uint8_t)(bits > 128 ? 128 : bits);
		mask(&e->hi, &e->lo, e->bits);
		e->peer = in[i].peer;
	}
	qsort(t->ent, n, sizeof *t->ent, ent_cmp);
	t->n = n;
	for (size_t i = 0; i < n; i++) {
		struct rt_level *l = &t->level[t->nlevels];

		if (i && t->ent[i].bits == t->ent[i - 1].bits) {
			t->level[t->nlevels - 1].n++;
			continue;
		}
		l->bits = t->ent[i].bits;
		l->v = &t->ent[i];
		l->n = 1;
		t->nlevels++;
	}
	*out = t;
	return 0;
}

int jv_route_table_for(const struct jv_config *cfg,
		       struct jv_route_table **out)
{
	struct jv_route_in *in;
	size_t n = 0;
	int rc;

	for (unsigned p = 0; p < cfg->npeers; p++)
		n += cfg->peers[p].nallowed;
	in = malloc((n ? n : 1) * sizeof *in);
	if (!in) {
		*out = NULL;
		return JV_ERR_NOMEM;
	}
	n = 0;
	for (unsigned p = 0; p < cfg->npeers; p++)
		for (unsigned i = 0; i < cfg->peers[p].nallowed; i++)
			in[n++] = (struct jv_route_in){ &cfg->peers[p].allowed[i],
							p };
	rc = jv_route_table_build(in, n, out);
	free(in);
	return rc;
}

int jv_route_table_lookup(const struct jv_route_table *t, const uint8_t ip[16])
{
	uint64_t ahi, alo;

	if (!t)
		return -1;
	ahi = load_be64(ip);
	alo = load_be64(ip + 8);
	for (unsigned k = 0; k < t->nlevels; k++) {
		const struct rt_level *l = &t->level[k];
		uint64_t hi = ahi, lo = alo;
		size_t a = 0, b = l->n;

		mask(&hi, &lo, l->bits);
		/* the first entry >= (hi, lo): the lowest peer of a prefix
		 * listed twice */
		while (a < b) {
			size_t m = a + (b - a) / 2;
			const struct rt_ent *e = &l->v[m];

			if (e->hi < hi || (e->hi == hi && e->lo < lo))
				a = m + 1;
			else
				b = m;
		}
		if (a < l->n && l->v[a].hi == hi && l->v[a].lo == lo)
			return (int)l->v[a].peer;
	}
	return -1;
}

size_t jv_route_table_size(const struct jv_route_table *t)
{
	return t ? t->n : 0;
}

size_t jv_route_table_bytes(const struct jv_route_table *t)
{
	return t ? sizeof *t + t->n * sizeof *t->ent : 0;
}

void jv_route_table_free(struct jv_route_table *t)
{
	if (!t)
		return;
	free(t->ent);
	free(t);
}
