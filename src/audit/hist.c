/* SPDX-License-Identifier: MIT */
/*
 * Latency percentiles in fixed memory: a log-linear histogram, exact below
 * AU_HIST_EXACT ms, then AU_HIST_SUB buckets per power of two (a bucket is
 * at most 1/64 of its values wide).  The maximum is kept exactly.
 */

#include "audit_impl.h"

static unsigned bucket(uint64_t v)
{
	unsigned e;

	if (v < AU_HIST_EXACT)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);		/* e >= 7 */
	return AU_HIST_EXACT + (e - 7) * AU_HIST_SUB +
	       (unsigned)((v >> (e - 6)) & (AU_HIST_SUB - 1));
}

static uint64_t bucket_low(unsigned b)
{
	unsigned e, sub;

	if (b < AU_HIST_EXACT)
		return b;
	e = (b - AU_HIST_EXACT) / AU_HIST_SUB + 7;
	sub = (b - AU_HIST_EXACT) % AU_HIST_SUB;
	return (uint64_t)(AU_HIST_SUB + sub) << (e - 6);
}

void au_hist_add(struct au_hist *h, uint64_t v)
{
	h->b[bucket(v)]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

uint64_t au_hist_quantile(const struct au_hist *h, double p)
{
	uint64_t rank, seen = 0;

	if (h->n == 0)
		return 0;
	rank = (uint64_t)(p * (double)h->n);
	if ((double)rank < p * (double)h->n)
		rank++;			/* ceil */
	if (rank == 0)
		rank = 1;
	if (rank >= h->n)
		return h->max;		/* the largest value is kept exactly */
	for (unsigned b = 0; b < AU_HIST_BUCKETS; b++) {
		seen += h->b[b];
		if (seen >= rank) {
			uint64_t low = bucket_low(b);
			return low < h->max ? low : h->max;
		}
	}
	return h->max;
}
