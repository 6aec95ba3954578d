/* SPDX-License-Identifier: MIT */
/* Handshakes per source address (jvpn/srclimit.h). */

#include <string.h>

#include <sodium.h>

#include "jvpn/srclimit.h"

_Static_assert(JV_SRCLIMIT_KEY_SIZE == crypto_shorthash_KEYBYTES, "key");
_Static_assert((JV_SRCLIMIT_SETS & (JV_SRCLIMIT_SETS - 1)) == 0,
	       "sets: a power of two");

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				       0xff, 0xff };

/* The network a source is charged to: its IPv4 address, or its IPv6 /64. */
static uint64_t source_tag(const struct jv_srclimit *l,
			   const struct jv_addr *a)
{
	uint8_t net[16], h[crypto_shorthash_BYTES];
	uint64_t t = 0;

	memcpy(net, a->ip, sizeof net);
	if (memcmp(net, v4_mapped, sizeof v4_mapped) != 0)
		memset(net + 8, 0, 8);
	crypto_shorthash(h, net, sizeof net, l->key);
	for (int i = 0; i < 8; i++)
		t |= (uint64_t)h[i] << (8 * i);
	return t;
}

int jv_srclimit_init(struct jv_srclimit *l, double rate_per_sec,
		     uint32_t burst, const struct jv_rng *rng)
{
	struct jv_token_bucket probe;

	memset(l, 0, sizeof *l);
	if (jv_token_bucket_init(&probe, rate_per_sec, burst, 0) != JV_OK)
		return JV_ERR_INVAL;
	l->rate_per_sec = rate_per_sec;
	l->burst = burst;
	jv_rng_fill(rng, l->key, sizeof l->key);
	return JV_OK;
}

bool jv_srclimit_take(struct jv_srclimit *l, const struct jv_addr *from,
		      jv_time now)
{
	uint64_t tag = source_tag(l, from);
	struct jv_srclimit_entry *set, *e = NULL;

	set = &l->e[(tag % JV_SRCLIMIT_SETS) * JV_SRCLIMIT_WAYS];
	for (unsigned i = 0; i < JV_SRCLIMIT_WAYS && !e; i++)
		if (set[i].used && set[i].tag == tag)
			e = &set[i];
	if (!e) {
		/* Recycle a free entry, else the least recently charged. */
		e = &set[0];
		for (unsigned i = 0; i < JV_SRCLIMIT_WAYS; i++) {
			if (!set[i].used) {
				e = &set[i];
				break;
			}
			if (set[i].last_ms < e->last_ms)
				e = &set[i];
		}
		e->used = true;
		e->tag = tag;
		/* cannot fail: the parameters passed jv_srclimit_init */
		if (jv_token_bucket_init(&e->bucket, l->rate_per_sec,
					 l->burst, now) != JV_OK)
			return false;
	}
	e->last_ms = now;
	return jv_token_bucket_take(&e->bucket, now);
}
