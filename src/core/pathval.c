/* SPDX-License-Identifier: MIT */
/* Path validation: challenges and the anti-amplification budget (PD-2). */

#include <string.h>

#include <sodium.h>

#include "jvpn/pathval.h"

void jv_pathval_init(struct jv_pathval *pv)
{
	memset(pv, 0, sizeof *pv);
}

static struct jv_pathval_slot *find(struct jv_pathval *pv,
				    const struct jv_addr *a)
{
	for (int i = 0; i < JV_PATHVAL_SLOTS; i++)
		if (pv->slot[i].used && jv_addr_equal(&pv->slot[i].addr, a))
			return &pv->slot[i];
	return NULL;
}

struct jv_pathval_slot *jv_pathval_received(struct jv_pathval *pv,
					    const struct jv_addr *from,
					    uint32_t local, size_t n,
					    jv_time now)
{
	struct jv_pathval_slot *s = find(pv, from);

	if (!s) {
		/* Free slot, else the one that expires first: an attacker
		 * spraying addresses only recycles its own slots' budget. */
		s = &pv->slot[0];
		for (int i = 0; i < JV_PATHVAL_SLOTS; i++) {
			if (!pv->slot[i].used) {
				s = &pv->slot[i];
				break;
			}
			if (pv->slot[i].expires_ms < s->expires_ms)
				s = &pv->slot[i];
		}
		memset(s, 0, sizeof *s);
		s->used = true;
		s->addr = *from;
		s->expires_ms = now + JV_PATHVAL_CHALLENGE_MS;
	}
	s->local = local;
	s->bytes_in += n;
	return s;
}

bool jv_pathval_may_send(const struct jv_pathval_slot *s, size_t n)
{
	return s->bytes_out + n <= JV_PATHVAL_AMPLIFICATION * s->bytes_in;
}

void jv_pathval_sent(struct jv_pathval_slot *s, size_t n)
{
	s->bytes_out += n;
}

bool jv_pathval_challenge_due(struct jv_pathval_slot *s,
			      const struct jv_rng *rng, jv_time now)
{
	if (s->sent_ms != 0 && now < s->sent_ms + JV_PATHVAL_RETRY_MS)
		return false;
	jv_rng_fill(rng, s->data, sizeof s->data);
	s->sent_ms = now;
	s->expires_ms = now + JV_PATHVAL_CHALLENGE_MS;
	return true;
}

struct jv_pathval_slot *jv_pathval_match(struct jv_pathval *pv,
					 const struct jv_addr *from,
					 const uint8_t data[JV_PATHVAL_DATA],
					 jv_time now)
{
	struct jv_pathval_slot *s = find(pv, from);

	if (!s || s->sent_ms == 0 || now > s->expires_ms)
		return NULL;
	if (sodium_memcmp(s->data, data, JV_PATHVAL_DATA) != 0)
		return NULL;
	return s;
}

void jv_pathval_forget(struct jv_pathval *pv, const struct jv_addr *addr)
{
	struct jv_pathval_slot *s = find(pv, addr);

	if (s)
		memset(s, 0, sizeof *s);
}

jv_time jv_pathval_deadline(const struct jv_pathval *pv)
{
	jv_time d = JV_TIME_NEVER;

	for (int i = 0; i < JV_PATHVAL_SLOTS; i++)
		if (pv->slot[i].used && pv->slot[i].expires_ms + 1 < d)
			d = pv->slot[i].expires_ms + 1;
	return d;
}

void jv_pathval_expire(struct jv_pathval *pv, jv_time now)
{
	for (int i = 0; i < JV_PATHVAL_SLOTS; i++)
		if (pv->slot[i].used && now > pv->slot[i].expires_ms)
			memset(&pv->slot[i], 0, sizeof pv->slot[i]);
}
