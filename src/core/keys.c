/* SPDX-License-Identifier: MIT */
/*
 * Traffic keys of a session: the current epoch and, for JV_KEY_GRACE_MS
 * after a rotation, the previous one (so no packet in flight is lost).
 * The previous epoch is kept past the grace until a packet has opened
 * under the current one (key confirmation, as WireGuard's responder): the
 * gateway rotates when the client's REKEY arrives, and if the REKEY_ACK is
 * lost the client still seals under the previous epoch; dropping it then
 * would leave the session unable to exchange a single packet (§7.7: a
 * rekey never ends a session).  One
 * send counter per epoch covers data and control alike (wire.h: a (key,
 * counter) pair is never reused), and the engine refuses to send once the
 * counter nears its end instead of wrapping (JV_REJECT_AFTER_MESSAGES).
 *
 * Rotation is a one-way ratchet of both keys (jv_noise_rekey): forward
 * secrecy for past epochs; post-compromise security needs a new handshake,
 * i.e. a new session (spec §7.7).
 */

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "jvpn/noise.h"
#include "session.h"

static void epoch_wipe(struct jv_epoch *e)
{
	sodium_memzero(e, sizeof *e);
}

static void stale_free(struct jv_session *s)
{
	if (!s->stale)
		return;
	epoch_wipe(s->stale);
	free(s->stale);
	s->stale = NULL;
}

/* Whenever cur changes, the cached next receive key goes with it. */
static void next_forget(struct jv_session *s)
{
	sodium_memzero(s->next_recv_key, sizeof s->next_recv_key);
	s->next_recv_valid = false;
}

void jv_keys_wipe(struct jv_session *s)
{
	next_forget(s);
	epoch_wipe(&s->cur);
	epoch_wipe(&s->prev);
	stale_free(s);
	s->rekey_pending_epoch = 0;
}

void jv_keys_install(struct jv_session *s, const uint8_t send_key[32],
		     const uint8_t recv_key[32], jv_time now)
{
	jv_keys_wipe(s);
	memcpy(s->cur.send_key, send_key, 32);
	memcpy(s->cur.recv_key, recv_key, 32);
	s->cur.valid = true;
	s->cur.confirmed = true;	/* both sides derived it together */
	s->cur.epoch = 0;
	s->cur.birth_ms = now;
	jv_replay_init(&s->cur.recv_window);
	s->keys_birth_ms = now;
	s->last_rekey_ms = now;
}

static void next_epoch(const struct jv_epoch *from, struct jv_epoch *to,
		       jv_time now)
{
	uint32_t e = (uint32_t)(from->epoch + 1);

	memset(to, 0, sizeof *to);
	jv_noise_rekey(from->send_key, e, to->send_key);
	jv_noise_rekey(from->recv_key, e, to->recv_key);
	to->valid = true;
	to->epoch = from->epoch + 1;
	to->birth_ms = now;
	jv_replay_init(&to->recv_window);
}

void jv_keys_rotate(struct jv_session *s, jv_time now)
{
	struct jv_epoch next;

	next_epoch(&s->cur, &next, now);
	s->key_derivations++;
	next_forget(s);
	epoch_wipe(&s->prev);
	s->prev = s->cur;
	s->cur = next;
	sodium_memzero(&next, sizeof next);
	s->prev_until_ms = now + JV_KEY_GRACE_MS;
	s->keys_birth_ms = now;
	s->last_rekey_ms = now;
	s->rekey_pending_epoch = 0;
}

jv_time jv_keys_prev_deadline(const struct jv_session *s)
{
	if (!s->prev.valid || !s->cur.confirmed)
		return JV_TIME_NEVER;
	return s->prev_until_ms + 1;
}

void jv_keys_expire_prev(struct jv_session *s, jv_time now)
{
	if (now >= jv_keys_prev_deadline(s))
		epoch_wipe(&s->prev);
}

jv_time jv_keys_rekey_due(const struct jv_session *s)
{
	uint64_t after = JV_REKEY_AFTER_MS;
	uint64_t max = s->policy.key_max_age_ms;

	/* Rotate well before KEY_MAX_AGE_MS ends the session (X4 is for keys
	 * that outlive it "without rekey", §7.7): at half that age, but not
	 * before OP-11 admits a rekey (validation keeps KEY_MAX_AGE_MS above
	 * rekey_interval_ms, so this is still before the expiry). */
	if (max && max / 2 < after) {
		after = max / 2;
		if (after < s->policy.rekey_interval_ms)
			after = s->policy.rekey_interval_ms;
	}
	return s->cur.birth_ms + after + 1;
}

bool jv_keys_need_rekey(const struct jv_session *s, jv_time now)
{
	return s->cur.valid &&
	       (now >= jv_keys_rekey_due(s) ||
		s->cur.send_counter >= JV_REKEY_AFTER_MESSAGES);
}

static int seal_hdr(struct jv_session *s, uint8_t type,
		    struct jv_wire_hdr *h)
{
	if (!s->cur.valid)
		return JV_ERR_STATE;
	if (s->cur.send_counter >= JV_REJECT_AFTER_MESSAGES)
		return JV_ERR_LIMIT;
	h->type = type;
	h->key_epoch = (uint8_t)s->cur.epoch;
	h->receiver_index = s->remote_index;
	h->counter = s->cur.send_counter++;
	return JV_OK;
}

int jv_keys_seal(struct jv_session *s, uint8_t type, const uint8_t *pt,
		 size_t len, uint8_t *out, size_t cap)
{
	struct jv_wire_hdr h;
	int rc = seal_hdr(s, type, &h);

	if (rc < 0)
		return rc;
	return jv_wire_seal(s->cur.send_key, &h, pt, len, out, cap);
}

int jv_keys_seal_ctrl(struct jv_session *s, const struct jv_ctrl *m,
		      uint8_t *out, size_t cap)
{
	struct jv_wire_hdr h;
	int rc = seal_hdr(s, JV_MSG_CONTROL, &h);

	if (rc < 0)
		return rc;
	return jv_wire_seal_ctrl(s->cur.send_key, &h, m, out, cap);
}

static int open_with(struct jv_epoch *e, const struct jv_wire_hdr *h,
		     const uint8_t *pkt, size_t n, uint8_t *out, size_t cap)
{
	int rc;

	if (jv_replay_check(&e->recv_window, h->counter) != JV_OK)
		return JV_ERR_REPLAY;
	rc = jv_wire_open(e->recv_key, pkt, n, out, cap);
	if (rc < 0)
		return rc == JV_ERR_AUTH ? JV_ERR_AUTH : rc;
	/* Mark only now that the packet is authentic (replay.h). */
	if (jv_replay_mark(&e->recv_window, h->counter) != JV_OK)
		return JV_ERR_REPLAY;
	e->confirmed = true;
	return rc;
}

int jv_keys_open(struct jv_session *s, const struct jv_wire_hdr *h,
		 const uint8_t *pkt, size_t n, uint8_t *out, size_t cap,
		 jv_time now, bool *rotated)
{
	*rotated = false;
	if (!s->cur.valid)
		return JV_ERR_NOTFOUND;
	if (h->key_epoch == (uint8_t)s->cur.epoch)
		return open_with(&s->cur, h, pkt, n, out, cap);
	if (s->prev.valid && h->key_epoch == (uint8_t)s->prev.epoch &&
	    now < jv_keys_prev_deadline(s))
		return open_with(&s->prev, h, pkt, n, out, cap);
	if (h->key_epoch == (uint8_t)(s->cur.epoch + 1)) {
		/* The peer rotated first (its REKEY or our REKEY's ACK crossed
		 * on the way): the next epoch's key is derivable, so a packet
		 * that opens under it completes the rotation.  Bounded to
		 * exactly one epoch ahead, never further.  Its receive key is
		 * derived once and kept: anyone can claim the next epoch, so
		 * a claim must cost no more than the AEAD tag check. */
		int rc;

		if (!s->next_recv_valid) {
			jv_noise_rekey(s->cur.recv_key,
				       (uint32_t)(s->cur.epoch + 1),
				       s->next_recv_key);
			s->next_recv_valid = true;
			s->key_derivations++;
		}
		/* A new epoch's window is empty: only the range to check. */
		if (h->counter > JV_REPLAY_COUNTER_MAX)
			return JV_ERR_REPLAY;
		rc = jv_wire_open(s->next_recv_key, pkt, n, out, cap);
		if (rc < 0)
			return rc == JV_ERR_AUTH ? JV_ERR_AUTH : rc;
		jv_keys_rotate(s, now);
		/* Now the packet is authentic: mark it (replay.h). */
		if (jv_replay_mark(&s->cur.recv_window, h->counter) != JV_OK)
			return JV_ERR_REPLAY;
		s->cur.confirmed = true;
		*rotated = true;
		return rc;
	}
	return JV_ERR_NOTFOUND;
}

int jv_keys_peek(const struct jv_session *s, const struct jv_wire_hdr *h,
		 const uint8_t *pkt, size_t n, uint8_t *out, size_t cap)
{
	const struct jv_epoch *e = NULL;

	if (s->cur.valid && h->key_epoch == (uint8_t)s->cur.epoch)
		e = &s->cur;
	else if (s->prev.valid && h->key_epoch == (uint8_t)s->prev.epoch)
		e = &s->prev;
	if (!e)
		return JV_ERR_NOTFOUND;
	return jv_wire_open(e->recv_key, pkt, n, out, cap);
}

/* ---- owner epochs (PD-9) ---------------------------------------------- */

static void owner_epoch_keys(const struct jv_session *s, uint64_t owner_epoch,
			     uint64_t number, struct jv_epoch *e, jv_time now)
{
	uint8_t i2r[32], r2i[32];

	memset(e, 0, sizeof *e);
	jv_noise_takeover_keys(s->root, owner_epoch, i2r, r2i);
	if (s->role == JV_ROLE_CLIENT) {
		memcpy(e->send_key, i2r, 32);
		memcpy(e->recv_key, r2i, 32);
	} else {
		memcpy(e->send_key, r2i, 32);
		memcpy(e->recv_key, i2r, 32);
	}
	sodium_memzero(i2r, sizeof i2r);
	sodium_memzero(r2i, sizeof r2i);
	e->valid = true;
	e->epoch = number;
	e->birth_ms = now;
	jv_replay_init(&e->recv_window);
}

int jv_keys_take_over(struct jv_session *s, uint64_t owner_epoch,
		      jv_time now)
{
	struct jv_epoch *old = malloc(sizeof *old);

	if (!old)
		return JV_ERR_NOMEM;
	stale_free(s);
	epoch_wipe(&s->prev);
	*old = s->cur;
	next_forget(s);
	s->stale = old;
	s->stale_closed = false;
	owner_epoch_keys(s, owner_epoch, old->epoch + JV_OWNER_EPOCH_STEP,
			 &s->cur, now);
	/* Unconfirmed until the client seals under it: until then the
	 * client's epoch (stale) is what the store must keep. */
	s->cur.confirmed = false;
	s->owner_epoch = owner_epoch;
	s->keys_birth_ms = now;
	s->last_rekey_ms = now;
	s->rekey_pending_epoch = 0;
	return JV_OK;
}

void jv_keys_close_stale(struct jv_session *s, jv_time now)
{
	if (!s->stale || s->stale_closed)
		return;
	s->stale_closed = true;
	s->stale_until_ms = now + JV_KEY_GRACE_MS;
}

void jv_keys_expire_stale(struct jv_session *s, jv_time now)
{
	if (s->stale && s->stale_closed && now >= s->stale_until_ms)
		stale_free(s);
}

int jv_keys_open_stale(struct jv_session *s, const struct jv_wire_hdr *h,
		       const uint8_t *pkt, size_t n, uint8_t *out, size_t cap)
{
	struct jv_epoch next;
	int rc;

	if (!s->stale)
		return JV_ERR_NOTFOUND;
	if (h->key_epoch == (uint8_t)s->stale->epoch)
		return open_with(s->stale, h, pkt, n, out, cap);
	if (h->key_epoch != (uint8_t)(s->stale->epoch + 1))
		return JV_ERR_NOTFOUND;
	next_epoch(s->stale, &next, s->stale->birth_ms);
	rc = jv_wire_open(next.recv_key, pkt, n, out, cap);
	sodium_memzero(&next, sizeof next);
	return rc;
}

int jv_keys_open_new_owner(struct jv_session *s, const struct jv_wire_hdr *h,
			   const uint8_t *pkt, size_t n, uint8_t *out,
			   size_t cap, jv_time now)
{
	uint64_t number;

	if (!s->cur.valid)
		return JV_ERR_NOTFOUND;
	/* The new owner numbered its epoch two above the one it restored,
	 * which is ours or, if our last rekey never reached its store, the
	 * one before: one or two above ours. */
	if (h->key_epoch == (uint8_t)(s->cur.epoch + 1))
		number = s->cur.epoch + 1;
	else if (h->key_epoch == (uint8_t)(s->cur.epoch + 2))
		number = s->cur.epoch + 2;
	else
		return JV_ERR_NOTFOUND;
	for (uint64_t e = s->owner_epoch + 1;
	     e <= s->owner_epoch + JV_OWNER_LOOKAHEAD; e++) {
		struct jv_epoch k;
		int rc;

		owner_epoch_keys(s, e, number, &k, now);
		rc = open_with(&k, h, pkt, n, out, cap);
		if (rc < 0) {
			epoch_wipe(&k);
			continue;
		}
		/* Follow: the new owner's keys become current; ours stay one
		 * grace period as previous, for anything the old owner sent
		 * before it stopped. */
		epoch_wipe(&s->prev);
		next_forget(s);
		s->prev = s->cur;
		s->cur = k;
		s->cur.confirmed = true;
		s->prev_until_ms = now + JV_KEY_GRACE_MS;
		s->owner_epoch = e;
		s->keys_birth_ms = now;
		s->last_rekey_ms = now;
		s->rekey_pending_epoch = 0;
		return rc;
	}
	return JV_ERR_NOTFOUND;
}
