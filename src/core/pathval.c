/* SPDX-License-Identifier: MIT */
/* Path validation: challenges, path tokens and the anti-amplification
 * budget (PD-2, PD-10). */

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

bool jv_pathval_known(const struct jv_pathval *pv, const struct jv_addr *a)
{
	return find((struct jv_pathval *)pv, a) != NULL;
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

void jv_path_token_key(uint8_t key[32], const uint8_t static_private[32])
{
	/* subkey 1 of the static key, context "jvpnpath" (BLAKE2b) */
	crypto_kdf_derive_from_key(key, 32, 1, "jvpnpath", static_private);
}

static void token_for(const uint8_t key[32], const uint8_t sid[16],
		      const struct jv_addr *a, uint64_t period,
		      uint8_t out[JV_WIRE_PATH_TOKEN_SIZE])
{
	crypto_generichash_state st;
	uint8_t le[8], port[2] = { (uint8_t)a->port, (uint8_t)(a->port >> 8) };

	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(period >> (8 * i));
	crypto_generichash_init(&st, key, 32, JV_WIRE_PATH_TOKEN_SIZE);
	crypto_generichash_update(&st, sid, 16);
	crypto_generichash_update(&st, le, sizeof le);
	crypto_generichash_update(&st, a->ip, sizeof a->ip);
	crypto_generichash_update(&st, port, sizeof port);
	crypto_generichash_final(&st, out, JV_WIRE_PATH_TOKEN_SIZE);
}

void jv_path_token(const uint8_t key[32], const uint8_t sid[16],
		   const struct jv_addr *a, jv_time now,
		   uint8_t out[JV_WIRE_PATH_TOKEN_SIZE])
{
	token_for(key, sid, a, now / JV_PATH_TOKEN_PERIOD_MS, out);
}

bool jv_path_token_ok(const uint8_t key[32], const uint8_t sid[16],
		      const struct jv_addr *a, jv_time now,
		      const uint8_t token[JV_WIRE_PATH_TOKEN_SIZE])
{
	uint64_t period = now / JV_PATH_TOKEN_PERIOD_MS;
	uint8_t want[JV_WIRE_PATH_TOKEN_SIZE];
	bool ok;

	token_for(key, sid, a, period, want);
	ok = sodium_memcmp(want, token, sizeof want) == 0;
	if (period > 0) {
		token_for(key, sid, a, period - 1, want);
		ok |= sodium_memcmp(want, token, sizeof want) == 0;
	}
	return ok;
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
