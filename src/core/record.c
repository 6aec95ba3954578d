/* SPDX-License-Identifier: MIT */
/*
 * The session record's encoding (record.h): fixed size, little-endian,
 * one format byte first.  Decoding checks the exact length before any
 * field and every enumerated field against its range, since the bytes
 * come from a file or a store another process wrote.
 */

#include <string.h>

#include <sodium.h>

#include "jvpn/ratelimit.h"
#include "jvpn/record.h"

struct wcur {
	uint8_t *p;
};

struct rcur {
	const uint8_t *p;
};

static void put(struct wcur *c, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		*c->p++ = (uint8_t)(v >> (8 * i));
}

static void put_bytes(struct wcur *c, const void *b, size_t n)
{
	memcpy(c->p, b, n);
	c->p += n;
}

static uint64_t get(struct rcur *c, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)*c->p++ << (8 * i);
	return v;
}

static void get_bytes(struct rcur *c, void *b, size_t n)
{
	memcpy(b, c->p, n);
	c->p += n;
}

int jv_gw_record_encode(const struct jv_gw_record *r, uint8_t *out, size_t cap)
{
	struct wcur c = { out };

	if (cap < JV_RECORD_SIZE)
		return JV_ERR_NOSPACE;
	put(&c, JV_RECORD_FORMAT, 1);
	put_bytes(&c, r->session_id, sizeof r->session_id);
	put_bytes(&c, r->peer_public, sizeof r->peer_public);
	put(&c, r->local_index, 4);
	put(&c, r->remote_index, 4);
	put_bytes(&c, r->owner_node, sizeof r->owner_node);
	put(&c, r->owner_epoch, 8);
	put(&c, (uint64_t)r->state, 1);
	put(&c, r->state_version, 8);
	put(&c, r->created_ms, 8);
	put(&c, r->unbound_since_ms, 8);
	put(&c, r->volatile_since_ms, 8);
	put(&c, r->last_switch_commit_ms, 8);
	put(&c, (uint64_t)r->volatile_reason, 1);
	put(&c, r->total_switches, 8);
	put(&c, r->nonce_hwm, 8);
	put(&c, r->bound ? 1 : 0, 1);
	put_bytes(&c, r->bound_remote.ip, sizeof r->bound_remote.ip);
	put(&c, r->bound_remote.port, 2);
	put(&c, r->reserved, 4);
	put(&c, r->key_epoch, 8);
	put_bytes(&c, r->key_i2r, sizeof r->key_i2r);
	put_bytes(&c, r->key_r2i, sizeof r->key_r2i);
	put(&c, r->keys_birth_ms, 8);
	put_bytes(&c, r->root, sizeof r->root);
	put(&c, r->nswitches, 1);
	for (unsigned i = 0; i < JV_SWITCH_HISTORY_MAX; i++)
		put(&c, i < r->nswitches ? r->switches[i] : 0, 8);
	return (int)(c.p - out);
}

static int bad(const char **why, const char *what)
{
	if (why)
		*why = what;
	return JV_ERR_PARSE;
}

int jv_gw_record_decode(const uint8_t *in, size_t n, struct jv_gw_record *r,
			const char **why)
{
	struct rcur c = { in };
	uint64_t v;

	memset(r, 0, sizeof *r);
	if (!in || n != JV_RECORD_SIZE)
		return bad(why, "record has the wrong length");
	if (get(&c, 1) != JV_RECORD_FORMAT)
		return bad(why, "record format unknown");
	get_bytes(&c, r->session_id, sizeof r->session_id);
	get_bytes(&c, r->peer_public, sizeof r->peer_public);
	r->local_index = (uint32_t)get(&c, 4);
	r->remote_index = (uint32_t)get(&c, 4);
	get_bytes(&c, r->owner_node, sizeof r->owner_node);
	if (memchr(r->owner_node, 0, sizeof r->owner_node) == NULL ||
	    r->owner_node[0] == '\0')
		return bad(why, "record owner node id is not a string");
	r->owner_epoch = get(&c, 8);
	v = get(&c, 1);
	if (v >= JV_STATE_COUNT)
		return bad(why, "record state out of range");
	r->state = (enum jv_state)v;
	r->state_version = get(&c, 8);
	r->created_ms = get(&c, 8);
	r->unbound_since_ms = get(&c, 8);
	r->volatile_since_ms = get(&c, 8);
	r->last_switch_commit_ms = get(&c, 8);
	v = get(&c, 1);
	if (v >= JV_REASON_COUNT)
		return bad(why, "record reason out of range");
	r->volatile_reason = (enum jv_reason)v;
	r->total_switches = get(&c, 8);
	r->nonce_hwm = get(&c, 8);
	v = get(&c, 1);
	if (v > 1)
		return bad(why, "record binding flag is not 0 or 1");
	r->bound = v == 1;
	get_bytes(&c, r->bound_remote.ip, sizeof r->bound_remote.ip);
	r->bound_remote.port = (uint16_t)get(&c, 2);
	r->reserved = (uint32_t)get(&c, 4);
	r->key_epoch = get(&c, 8);
	get_bytes(&c, r->key_i2r, sizeof r->key_i2r);
	get_bytes(&c, r->key_r2i, sizeof r->key_r2i);
	r->keys_birth_ms = get(&c, 8);
	get_bytes(&c, r->root, sizeof r->root);
	r->nswitches = (uint8_t)get(&c, 1);
	if (r->nswitches > JV_SWITCH_HISTORY_MAX)
		return bad(why, "record holds more switches than it can");
	for (unsigned i = 0; i < JV_SWITCH_HISTORY_MAX; i++)
		r->switches[i] = get(&c, 8);
	for (unsigned i = r->nswitches; i < JV_SWITCH_HISTORY_MAX; i++)
		if (r->switches[i] != 0)
			return bad(why, "record has switch times past its count");
	if (r->owner_epoch == 0)
		return bad(why, "record owner epoch is 0");
	if (r->bound && r->bound_remote.port == 0)
		return bad(why, "record binding has port 0");
	return JV_OK;
}

void jv_gw_record_wipe(struct jv_gw_record *r)
{
	sodium_memzero(r, sizeof *r);
}
