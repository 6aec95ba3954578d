/* SPDX-License-Identifier: MIT */
/*
 * Codecs for everything after the handshake: the outer header, sealing and
 * opening with ChaCha20-Poly1305, the control messages and the wire codes
 * of reasons.  Parse before crypto, exact lengths, little-endian fixed
 * layouts, no allocation.  docs/protocol.md draws every layout.
 */

#include <string.h>

#include <sodium.h>

#include "jvpn/wire.h"

/* ---- little-endian cursors; lengths are checked before they run ----- */

struct wcur {
	uint8_t *p;
};

struct rcur {
	const uint8_t *p;
};

static void put_u8(struct wcur *c, uint8_t v)
{
	*c->p++ = v;
}

static void put_le(struct wcur *c, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		*c->p++ = (uint8_t)(v >> (8 * i));
}

static void put_bytes(struct wcur *c, const void *src, size_t n)
{
	memcpy(c->p, src, n);
	c->p += n;
}

static uint8_t get_u8(struct rcur *c)
{
	return *c->p++;
}

static uint64_t get_le(struct rcur *c, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += bytes;
	return v;
}

static void get_bytes(struct rcur *c, void *dst, size_t n)
{
	memcpy(dst, c->p, n);
	c->p += n;
}

static int fail(const char **why, const char *text)
{
	if (why)
		*why = text;
	return JV_ERR_PARSE;
}

/* ---- reason codes on the wire --------------------------------------- */

/*
 * The wire code of every reason, written out: the enum may be reordered or
 * grow (spec PD-5 only promises names), the wire must not change.  Append
 * new reasons with a new, never reused code.  0 is "no reason".
 */
static const uint8_t reason_code[JV_REASON_COUNT] = {
	[JV_REASON_ATTACHED_TO_TRANSPORT] = 1,
	[JV_REASON_HANDSHAKE_FAILED] = 2,
	[JV_REASON_TRANSPORT_DEAD] = 3,
	[JV_REASON_CONSECUTIVE_DROP_EXCEEDED] = 4,
	[JV_REASON_LOSS_THRESHOLD_EXCEEDED] = 5,
	[JV_REASON_HEARTBEAT_TIMEOUT] = 6,
	[JV_REASON_LATENCY_THRESHOLD_EXCEEDED] = 7,
	[JV_REASON_VOLATILE_PERSISTED] = 8,
	[JV_REASON_LOSS_RECOVERY] = 9,
	[JV_REASON_DEAD_TRANSPORT_RECOVERY] = 10,
	[JV_REASON_POLICY_FORCED_RECOVERY] = 11,
	[JV_REASON_HEALTH_RECOVERED] = 12,
	[JV_REASON_REATTACH_SUCCESS] = 13,
	[JV_REASON_REATTACH_VALIDATION_FAILED] = 14,
	[JV_REASON_RECOVERY_WINDOW_EXCEEDED] = 15,
	[JV_REASON_SESSION_LIFETIME_EXCEEDED] = 16,
	[JV_REASON_TRANSPORT_TTL_EXCEEDED] = 17,
	[JV_REASON_SECURITY_FAILURE] = 18,
	[JV_REASON_OPERATOR_TERMINATED] = 19,
	[JV_REASON_KEY_EXPIRED] = 20,
	[JV_REASON_INVARIANT_VIOLATION] = 21,
	[JV_REASON_FATAL_PROTOCOL_ERROR] = 22,
	[JV_REASON_SWITCH_RATE_LIMITED] = 23,
	[JV_REASON_COOLDOWN_ACTIVE] = 24,
	[JV_REASON_NO_CANDIDATE_TRANSPORTS] = 25,
	[JV_REASON_POLICY_DENIED] = 26,
	[JV_REASON_POLICY_INVALID] = 27,
	[JV_REASON_RATE_LIMITED] = 28,
	[JV_REASON_UNKNOWN_SESSION] = 29,
	[JV_REASON_NOT_AUTHORITATIVE_OWNER] = 30,
	[JV_REASON_OWNERSHIP_CONFLICT] = 31,
	[JV_REASON_BAD_PROOF] = 32,
	[JV_REASON_REPLAY_DETECTED] = 33,
	[JV_REASON_STALE_REQUEST] = 34,
	[JV_REASON_STALE_STATE_VERSION] = 35,
	[JV_REASON_INVALID_STATE_FOR_REATTACH] = 36,
	[JV_REASON_INVALID_TRANSPORT_CANDIDATE] = 37,
	[JV_REASON_ATOMICITY_FAILED] = 38,
	[JV_REASON_UNAUTHORIZED_TRANSPORT_ATTEMPT] = 39,
	[JV_REASON_INVALID_STATE_TRANSITION] = 40,
	[JV_REASON_DUAL_ACTIVE_ATTEMPT] = 41,
	[JV_REASON_CONTROL_PLANE_ABUSE] = 42,
	[JV_REASON_TIME_ELAPSED] = 43,
	[JV_REASON_TRANSPORT_CHANGE] = 44,
	[JV_REASON_POLICY_TRIGGER] = 45,
	[JV_REASON_SECURITY_EVENT] = 46,
	[JV_REASON_AUDIT_INVARIANT_OK_SINGLE_ACTIVE] = 47,
	[JV_REASON_AUDIT_INVARIANT_OK_NO_RESET] = 48,
	[JV_REASON_AUDIT_POLICY_LIMIT_TRIGGERED] = 49,
	[JV_REASON_AUDIT_RECOVERY_TIMELINE] = 50,
	[JV_REASON_NAT_REBINDING] = 51,
	[JV_REASON_OWNER_TAKEOVER] = 52,
	[JV_REASON_FAILBACK] = 53,
	[JV_REASON_OPERATOR_MIGRATION] = 54,
	[JV_REASON_PEER_REMOVED] = 55,
	[JV_REASON_SESSION_REPLACED] = 56,
};

int jv_wire_reason_to_u8(enum jv_reason r, uint8_t *code)
{
	if (r == JV_REASON_NONE) {
		*code = 0;
		return 0;
	}
	/* A reason added to the enum but not to the table has code 0 and
	 * is refused rather than sent as "no reason". */
	if (r < 0 || r >= JV_REASON_COUNT || reason_code[r] == 0)
		return JV_ERR_INVAL;
	*code = reason_code[r];
	return 0;
}

int jv_wire_reason_from_u8(uint8_t code, enum jv_reason *r)
{
	if (code == 0) {
		*r = JV_REASON_NONE;
		return 0;
	}
	for (int i = 0; i < JV_REASON_COUNT; i++) {
		if (reason_code[i] == code) {
			*r = (enum jv_reason)i;
			return 0;
		}
	}
	return JV_ERR_PARSE;
}

/* ---- outer header, seal, open ---------------------------------------- */

/* Encoded size of each control message, ctype byte included. */
static const uint8_t ctrl_sizes[JV_CTRL_TYPE_MAX + 1] = {
	[JV_CTRL_HEARTBEAT] = 1 + 3 * 8,
	[JV_CTRL_HEARTBEAT_ACK] = 1 + 3 * 8 + JV_WIRE_PATH_TOKEN_SIZE,
	[JV_CTRL_PROBE] = 1 + 3 * 8,
	[JV_CTRL_PROBE_ACK] = 1 + 3 * 8 + JV_WIRE_PATH_TOKEN_SIZE,
	[JV_CTRL_PATH_CHALLENGE] = 1 + JV_WIRE_CHALLENGE_SIZE + 8,
	[JV_CTRL_PATH_RESPONSE] = 1 + JV_WIRE_CHALLENGE_SIZE + 8 + 8,
	[JV_CTRL_REATTACH_REQUEST] = 1 + JV_SESSION_ID_BYTES + 8 + 2 + 8 +
				     8 + 1 + 1 + JV_TRANSPORT_ID_MAX + 1 +
				     JV_WIRE_IP_SIZE + 2 + 1 +
				     JV_WIRE_PATH_TOKEN_SIZE,
	[JV_CTRL_REATTACH_ACK] = 1 + 8 + 8 + JV_TRANSPORT_ID_MAX,
	[JV_CTRL_REATTACH_DENY] = 1 + 8 + 1 + 1 + 4 + 8,
	[JV_CTRL_REKEY] = 1 + 1,
	[JV_CTRL_REKEY_ACK] = 1 + 1,
	[JV_CTRL_TERMINATE] = 1 + 1,
};

_Static_assert(1 + JV_SESSION_ID_BYTES + 8 + 2 + 8 + 8 + 1 + 1 +
	       JV_TRANSPORT_ID_MAX + 1 + JV_WIRE_IP_SIZE + 2 + 1 +
	       JV_WIRE_PATH_TOKEN_SIZE == JV_CTRL_MAX,
	       "REATTACH_REQUEST is the largest control message");

static const char *const ctrl_names[JV_CTRL_TYPE_MAX + 1] = {
	[JV_CTRL_HEARTBEAT] = "HEARTBEAT",
	[JV_CTRL_HEARTBEAT_ACK] = "HEARTBEAT_ACK",
	[JV_CTRL_PROBE] = "PROBE",
	[JV_CTRL_PROBE_ACK] = "PROBE_ACK",
	[JV_CTRL_PATH_CHALLENGE] = "PATH_CHALLENGE",
	[JV_CTRL_PATH_RESPONSE] = "PATH_RESPONSE",
	[JV_CTRL_REATTACH_REQUEST] = "REATTACH_REQUEST",
	[JV_CTRL_REATTACH_ACK] = "REATTACH_ACK",
	[JV_CTRL_REATTACH_DENY] = "REATTACH_DENY",
	[JV_CTRL_REKEY] = "REKEY",
	[JV_CTRL_REKEY_ACK] = "REKEY_ACK",
	[JV_CTRL_TERMINATE] = "TERMINATE",
};

size_t jv_ctrl_size(unsigned t)
{
	return t <= JV_CTRL_TYPE_MAX ? ctrl_sizes[t] : 0;
}

const char *jv_ctrl_name(unsigned t)
{
	return t <= JV_CTRL_TYPE_MAX ? ctrl_names[t] : NULL;
}

/* Is len the size of some control message?  (Before decryption only the
 * length is visible; the ctype is inside the ciphertext.) */
static bool ctrl_len_known(size_t len)
{
	for (unsigned t = 1; t <= JV_CTRL_TYPE_MAX; t++)
		if (ctrl_sizes[t] == len)
			return true;
	return false;
}

int jv_wire_classify(const uint8_t *pkt, size_t n)
{
	if (n == 0)
		return JV_ERR_PARSE;
	switch (pkt[0]) {
	case JV_MSG_INITIATION:
		return n == JV_WIRE_INITIATION_SIZE ? JV_MSG_INITIATION :
						      JV_ERR_PARSE;
	case JV_MSG_RESPONSE:
		return n == JV_WIRE_RESPONSE_SIZE ? JV_MSG_RESPONSE :
						    JV_ERR_PARSE;
	case JV_MSG_COOKIE_REPLY:
		return n == JV_WIRE_COOKIE_REPLY_SIZE ? JV_MSG_COOKIE_REPLY :
							JV_ERR_PARSE;
	case JV_MSG_DATA:
		return n >= JV_WIRE_DATA_MIN && n <= JV_WIRE_DGRAM_MAX ?
		       JV_MSG_DATA : JV_ERR_PARSE;
	case JV_MSG_CONTROL:
		return n > JV_WIRE_HDR_SIZE + JV_WIRE_TAG_SIZE &&
		       ctrl_len_known(n - JV_WIRE_HDR_SIZE - JV_WIRE_TAG_SIZE) ?
		       JV_MSG_CONTROL : JV_ERR_PARSE;
	default:
		return JV_ERR_PARSE;
	}
}

void jv_wire_hdr_encode(const struct jv_wire_hdr *h,
			uint8_t out[JV_WIRE_HDR_SIZE])
{
	struct wcur c = { out };

	put_u8(&c, h->type);
	put_u8(&c, h->key_epoch);
	put_le(&c, 0, 2);
	put_le(&c, h->receiver_index, 4);
	put_le(&c, h->counter, 8);
}

/* Is a payload of len bytes allowed for a transport message of type t? */
static bool payload_len_ok(uint8_t type, size_t len)
{
	if (type == JV_MSG_DATA)
		return len >= 1 && len <= JV_WIRE_INNER_MAX;
	if (type == JV_MSG_CONTROL)
		return ctrl_len_known(len);
	return false;
}

int jv_wire_hdr_decode(const uint8_t *pkt, size_t n, struct jv_wire_hdr *h,
		       const char **why)
{
	struct rcur c = { pkt };

	if (n < JV_WIRE_HDR_SIZE + JV_WIRE_TAG_SIZE)
		return fail(why, "header: datagram shorter than header + tag");
	h->type = get_u8(&c);
	h->key_epoch = get_u8(&c);
	if (h->type != JV_MSG_DATA && h->type != JV_MSG_CONTROL)
		return fail(why, "header.type (byte 0): not data (4) or control (5)");
	if (get_le(&c, 2) != 0)
		return fail(why, "header.reserved (bytes 2-3): not zero");
	h->receiver_index = (uint32_t)get_le(&c, 4);
	h->counter = get_le(&c, 8);
	if (h->counter > JV_WIRE_COUNTER_MAX)
		return fail(why, "header.counter (bytes 8-15): 2^64-1 is reserved");
	if (!payload_len_ok(h->type,
			    n - JV_WIRE_HDR_SIZE - JV_WIRE_TAG_SIZE))
		return fail(why, h->type == JV_MSG_DATA ?
			    "data: payload length outside 1..1500" :
			    "control: length is no control message's size");
	return 0;
}

static void wire_nonce(uint64_t counter,
		       uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES])
{
	struct wcur c = { nonce };

	put_le(&c, 0, 4);
	put_le(&c, counter, 8);
}

int jv_wire_seal(const uint8_t key[JV_WIRE_KEY_SIZE],
		 const struct jv_wire_hdr *h, const uint8_t *plaintext,
		 size_t len, uint8_t *out, size_t cap)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	unsigned long long clen;

	if (!payload_len_ok(h->type, len) || h->counter > JV_WIRE_COUNTER_MAX)
		return JV_ERR_INVAL;
	if (h->type == JV_MSG_CONTROL && jv_ctrl_size(plaintext[0]) != len)
		return JV_ERR_INVAL;
	if (cap < JV_WIRE_HDR_SIZE + len + JV_WIRE_TAG_SIZE)
		return JV_ERR_NOSPACE;
	/* The header is written first, so an in-place plaintext at
	 * out + 16 is not touched before it is read. */
	jv_wire_hdr_encode(h, out);
	wire_nonce(h->counter, nonce);
	crypto_aead_chacha20poly1305_ietf_encrypt(out + JV_WIRE_HDR_SIZE,
						  &clen, plaintext, len,
						  out, JV_WIRE_HDR_SIZE, NULL,
						  nonce, key);
	return (int)(JV_WIRE_HDR_SIZE + clen);
}

int jv_wire_open(const uint8_t key[JV_WIRE_KEY_SIZE], const uint8_t *pkt,
		 size_t n, uint8_t *out, size_t cap)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	struct jv_wire_hdr h;
	unsigned long long mlen;
	size_t len;

	if (jv_wire_hdr_decode(pkt, n, &h, NULL))
		return JV_ERR_PARSE;
	len = n - JV_WIRE_HDR_SIZE - JV_WIRE_TAG_SIZE;
	if (cap < len)
		return JV_ERR_NOSPACE;
	wire_nonce(h.counter, nonce);
	/* libsodium verifies the tag first and zeroes out on failure. */
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &mlen, NULL,
						      pkt + JV_WIRE_HDR_SIZE,
						      n - JV_WIRE_HDR_SIZE,
						      pkt, JV_WIRE_HDR_SIZE,
						      nonce, key) != 0)
		return JV_ERR_AUTH;
	return (int)mlen;
}

/* ---- control messages ------------------------------------------------ */

bool jv_wire_transport_id_ok(const char id[JV_TRANSPORT_ID_MAX])
{
	for (size_t i = 0; i < JV_TRANSPORT_ID_MAX; i++) {
		unsigned char ch = (unsigned char)id[i];

		if (ch == 0)
			return true;
		if (ch < 0x20 || ch > 0x7e)
			return false;
	}
	return false;
}

/* Write the id NUL-padded to 32 bytes (whatever follows its NUL in the
 * caller's buffer is not sent). */
static void put_id(struct wcur *c, const char id[JV_TRANSPORT_ID_MAX])
{
	const char *nul = memchr(id, 0, JV_TRANSPORT_ID_MAX);
	size_t len = nul ? (size_t)(nul - id) : JV_TRANSPORT_ID_MAX;

	memcpy(c->p, id, len);
	memset(c->p + len, 0, JV_TRANSPORT_ID_MAX - len);
	c->p += JV_TRANSPORT_ID_MAX;
}

/* Strict: printable, NUL within 32, zeros after it (one encoding per id). */
static bool get_id(struct rcur *c, char id[JV_TRANSPORT_ID_MAX])
{
	bool ok;

	get_bytes(c, id, JV_TRANSPORT_ID_MAX);
	ok = jv_wire_transport_id_ok(id);
	for (size_t i = ok ? strlen(id) : 0; ok && i < JV_TRANSPORT_ID_MAX; i++)
		ok = id[i] == 0;
	return ok;
}

static bool put_reason(struct wcur *c, enum jv_reason r, bool none_ok)
{
	uint8_t code;

	if ((r == JV_REASON_NONE && !none_ok) || jv_wire_reason_to_u8(r, &code))
		return false;
	put_u8(c, code);
	return true;
}

static bool get_reason(struct rcur *c, enum jv_reason *r, bool none_ok)
{
	if (jv_wire_reason_from_u8(get_u8(c), r))
		return false;
	return none_ok || *r != JV_REASON_NONE;
}

int jv_ctrl_encode(const struct jv_ctrl *m, uint8_t *out, size_t cap)
{
	size_t size = (unsigned)m->type <= JV_CTRL_TYPE_MAX ?
		      ctrl_sizes[m->type] : 0;
	struct wcur c = { out };

	if (size == 0)
		return JV_ERR_INVAL;
	if (cap < size)
		return JV_ERR_NOSPACE;
	put_u8(&c, (uint8_t)m->type);
	switch (m->type) {
	case JV_CTRL_HEARTBEAT:
	case JV_CTRL_HEARTBEAT_ACK:
	case JV_CTRL_PROBE:
	case JV_CTRL_PROBE_ACK:
		put_le(&c, m->hb.seq, 8);
		put_le(&c, m->hb.send_ts, 8);
		put_le(&c, m->hb.state_version, 8);
		if (m->type == JV_CTRL_HEARTBEAT_ACK ||
		    m->type == JV_CTRL_PROBE_ACK)
			put_bytes(&c, m->hb.token, JV_WIRE_PATH_TOKEN_SIZE);
		break;
	case JV_CTRL_PATH_CHALLENGE:
		put_bytes(&c, m->challenge.data, JV_WIRE_CHALLENGE_SIZE);
		put_le(&c, m->challenge.nonce, 8);
		break;
	case JV_CTRL_PATH_RESPONSE:
		put_bytes(&c, m->path_response.data, JV_WIRE_CHALLENGE_SIZE);
		put_le(&c, m->path_response.nonce, 8);
		put_le(&c, m->path_response.state_version, 8);
		break;
	case JV_CTRL_REATTACH_REQUEST: {
		const struct jv_ctrl_reattach_request *q = &m->request;

		if (!jv_wire_transport_id_ok(q->candidate.transport_id))
			return JV_ERR_INVAL;
		put_bytes(&c, q->session_id, JV_SESSION_ID_BYTES);
		put_le(&c, q->nonce, 8);
		put_le(&c, q->protocol_version, 2);
		put_le(&c, q->ts_ms, 8);
		put_le(&c, q->state_version, 8);
		if (!put_reason(&c, q->trigger_reason, true) ||
		    !put_reason(&c, q->recovery_reason, true))
			return JV_ERR_INVAL;
		put_id(&c, q->candidate.transport_id);
		put_u8(&c, q->candidate.proto);
		put_bytes(&c, q->candidate.remote_ip, JV_WIRE_IP_SIZE);
		put_le(&c, q->candidate.remote_port, 2);
		if (q->trigger_class > JV_CLASS_FORCED)
			return JV_ERR_INVAL;
		put_u8(&c, q->trigger_class);
		put_bytes(&c, q->path_token, JV_WIRE_PATH_TOKEN_SIZE);
		break;
	}
	case JV_CTRL_REATTACH_ACK:
		if (!jv_wire_transport_id_ok(m->ack.transport_id))
			return JV_ERR_INVAL;
		put_le(&c, m->ack.nonce, 8);
		put_le(&c, m->ack.state_version, 8);
		put_id(&c, m->ack.transport_id);
		break;
	case JV_CTRL_REATTACH_DENY:
		put_le(&c, m->deny.nonce, 8);
		if (!put_reason(&c, m->deny.reason, false))
			return JV_ERR_INVAL;
		put_u8(&c, m->deny.retryable ? 1 : 0);
		put_le(&c, m->deny.retry_after_ms, 4);
		put_le(&c, m->deny.state_version, 8);
		break;
	case JV_CTRL_REKEY:
	case JV_CTRL_REKEY_ACK:
		put_u8(&c, m->rekey.new_epoch);
		break;
	case JV_CTRL_TERMINATE:
		if (!put_reason(&c, m->terminate.reason, false))
			return JV_ERR_INVAL;
		break;
	}
	return (int)size;
}

int jv_ctrl_decode(const uint8_t *buf, size_t n, struct jv_ctrl *m,
		   const char **why)
{
	struct rcur c = { buf };
	size_t size;
	uint8_t t;

	if (n == 0)
		return fail(why, "control: empty");
	t = get_u8(&c);
	size = jv_ctrl_size(t);
	if (size == 0)
		return fail(why, "control.ctype (byte 0): unknown type");
	if (n != size)
		return fail(why, "control: wrong length for its ctype");
	memset(m, 0, sizeof *m);
	m->type = (enum jv_ctrl_type)t;
	switch (m->type) {
	case JV_CTRL_HEARTBEAT:
	case JV_CTRL_HEARTBEAT_ACK:
	case JV_CTRL_PROBE:
	case JV_CTRL_PROBE_ACK:
		m->hb.seq = get_le(&c, 8);
		m->hb.send_ts = get_le(&c, 8);
		m->hb.state_version = get_le(&c, 8);
		if (m->type == JV_CTRL_HEARTBEAT_ACK ||
		    m->type == JV_CTRL_PROBE_ACK)
			get_bytes(&c, m->hb.token, JV_WIRE_PATH_TOKEN_SIZE);
		break;
	case JV_CTRL_PATH_CHALLENGE:
		get_bytes(&c, m->challenge.data, JV_WIRE_CHALLENGE_SIZE);
		m->challenge.nonce = get_le(&c, 8);
		break;
	case JV_CTRL_PATH_RESPONSE:
		get_bytes(&c, m->path_response.data, JV_WIRE_CHALLENGE_SIZE);
		m->path_response.nonce = get_le(&c, 8);
		m->path_response.state_version = get_le(&c, 8);
		break;
	case JV_CTRL_REATTACH_REQUEST: {
		struct jv_ctrl_reattach_request *q = &m->request;

		get_bytes(&c, q->session_id, JV_SESSION_ID_BYTES);
		q->nonce = get_le(&c, 8);
		q->protocol_version = (uint16_t)get_le(&c, 2);
		q->ts_ms = get_le(&c, 8);
		q->state_version = get_le(&c, 8);
		if (!get_reason(&c, &q->trigger_reason, true))
			return fail(why, "reattach_request.trigger_reason (byte 43): unknown code");
		if (!get_reason(&c, &q->recovery_reason, true))
			return fail(why, "reattach_request.recovery_reason (byte 44): unknown code");
		if (!get_id(&c, q->candidate.transport_id))
			return fail(why, "reattach_request.candidate.transport_id (bytes 45-76): not printable ASCII, NUL-terminated and zero-padded");
		q->candidate.proto = get_u8(&c);
		get_bytes(&c, q->candidate.remote_ip, JV_WIRE_IP_SIZE);
		q->candidate.remote_port = (uint16_t)get_le(&c, 2);
		q->trigger_class = get_u8(&c);
		if (q->trigger_class > JV_CLASS_FORCED)
			return fail(why, "reattach_request.trigger_class (byte 96): not 0 (discretionary) or 1 (forced)");
		get_bytes(&c, q->path_token, JV_WIRE_PATH_TOKEN_SIZE);
		break;
	}
	case JV_CTRL_REATTACH_ACK:
		m->ack.nonce = get_le(&c, 8);
		m->ack.state_version = get_le(&c, 8);
		if (!get_id(&c, m->ack.transport_id))
			return fail(why, "reattach_ack.transport_id (bytes 17-48): not printable ASCII, NUL-terminated and zero-padded");
		break;
	case JV_CTRL_REATTACH_DENY: {
		uint8_t retryable;

		m->deny.nonce = get_le(&c, 8);
		if (!get_reason(&c, &m->deny.reason, false))
			return fail(why, "reattach_deny.reason (byte 9): missing or unknown code");
		retryable = get_u8(&c);
		if (retryable > 1)
			return fail(why, "reattach_deny.retryable (byte 10): not 0 or 1");
		m->deny.retryable = retryable;
		m->deny.retry_after_ms = (uint32_t)get_le(&c, 4);
		m->deny.state_version = get_le(&c, 8);
		break;
	}
	case JV_CTRL_REKEY:
	case JV_CTRL_REKEY_ACK:
		m->rekey.new_epoch = get_u8(&c);
		break;
	case JV_CTRL_TERMINATE:
		if (!get_reason(&c, &m->terminate.reason, false))
			return fail(why, "terminate.reason (byte 1): missing or unknown code");
		break;
	}
	return 0;
}

int jv_wire_seal_ctrl(const uint8_t key[JV_WIRE_KEY_SIZE],
		      const struct jv_wire_hdr *h, const struct jv_ctrl *m,
		      uint8_t *out, size_t cap)
{
	uint8_t pt[JV_CTRL_MAX];
	int len;

	if (h->type != JV_MSG_CONTROL)
		return JV_ERR_INVAL;
	len = jv_ctrl_encode(m, pt, sizeof pt);
	if (len < 0)
		return len;
	return jv_wire_seal(key, h, pt, (size_t)len, out, cap);
}

int jv_wire_open_ctrl(const uint8_t key[JV_WIRE_KEY_SIZE],
		      const uint8_t *pkt, size_t n, struct jv_ctrl *m,
		      const char **why)
{
	uint8_t pt[JV_CTRL_MAX];
	int len;

	if (n == 0 || pkt[0] != JV_MSG_CONTROL)
		return fail(why, "header.type (byte 0): not control (5)");
	len = jv_wire_open(key, pkt, n, pt, sizeof pt);
	if (len == JV_ERR_PARSE)
		return jv_wire_hdr_decode(pkt, n, &(struct jv_wire_hdr){ 0 },
					  why);
	if (len < 0) {
		if (why)
			*why = "control: AEAD tag does not verify";
		return len;
	}
	return jv_ctrl_decode(pt, (size_t)len, m, why);
}
