/* SPDX-License-Identifier: MIT */
#ifndef JVPN_WIRE_H
#define JVPN_WIRE_H

/*
 * The wire format after the handshake (docs/protocol.md is the reference):
 * one 16-byte outer header, then the ChaCha20-Poly1305 ciphertext of the
 * payload with the header as associated data.
 *
 *   0      1          2         4                8                16
 *   | type | key_epoch | reserved | receiver_index | counter        | AEAD...
 *     u8     u8          u16 = 0    u32 LE           u64 LE
 *
 * type 4 (data): payload = one inner IP packet, 1..JV_WIRE_INNER_MAX bytes.
 * type 5 (control): payload = {ctype u8, fixed body}, an exact size per
 * ctype.  Everything is parsed, with exact lengths, before any crypto; no
 * function here allocates.
 *
 * Keys and nonces.  The AEAD nonce is 32 zero bits || counter (u64 LE), as
 * in Noise.  Data and control messages of one direction and key epoch are
 * sealed with the same traffic key, so they MUST share one send counter
 * (and the receiver one struct jv_replay_window): two messages with the
 * same (key, counter) would reuse a nonce.  The type byte is in the
 * associated data, so a data packet can never be replayed as control.
 *
 * Proof of possession (spec §7.3): a control message that opens under the
 * session's key carries a tag over every field of it (candidate and ts_ms
 * included) and over the header; that tag IS the PoP.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "limits.h"
#include "reason.h"

/* The protocol version: named in the Noise prologue and carried by
 * REATTACH_REQUEST. */
#define JV_PROTOCOL_VERSION 1

/* First byte of every datagram. */
enum jv_msg_type {
	JV_MSG_INITIATION = 1,		/* Noise IK message 1 (noise.h) */
	JV_MSG_RESPONSE = 2,		/* Noise IK message 2 (noise.h) */
	JV_MSG_COOKIE_REPLY = 3,	/* gateway under load (cookie.h) */
	JV_MSG_DATA = 4,
	JV_MSG_CONTROL = 5,
};

enum jv_wire_sizes {
	JV_WIRE_HDR_SIZE = 16,
	JV_WIRE_TAG_SIZE = 16,		/* Poly1305 */
	JV_WIRE_KEY_SIZE = 32,
	JV_WIRE_INNER_MAX = 1500,	/* largest inner IP packet (= JV_MTU_MAX) */
	JV_WIRE_DATA_MIN = JV_WIRE_HDR_SIZE + 1 + JV_WIRE_TAG_SIZE,
	JV_WIRE_DGRAM_MAX = JV_WIRE_HDR_SIZE + JV_WIRE_INNER_MAX +
			    JV_WIRE_TAG_SIZE,			/* 1532 */
	/* Handshake messages (noise.h builds them). */
	JV_WIRE_INITIATION_SIZE = 148,
	JV_WIRE_RESPONSE_SIZE = 92,
	JV_WIRE_COOKIE_REPLY_SIZE = 64,
	/* Control plaintexts: the largest, and fixed field sizes. */
	JV_CTRL_MAX = 113,
	JV_WIRE_IP_SIZE = 16,		/* IPv6, or IPv4-mapped ::ffff:a.b.c.d */
	JV_WIRE_CHALLENGE_SIZE = 8,
	JV_WIRE_PATH_TOKEN_SIZE = 16,	/* PD-10 path token */
};

/* Largest counter a sender may use; 2^64 - 1 is reserved by Noise.  The
 * engine must rekey long before (see jv_noise_rekey). */
#define JV_WIRE_COUNTER_MAX (UINT64_MAX - 1)

struct jv_wire_hdr {
	uint8_t type;			/* JV_MSG_DATA or JV_MSG_CONTROL */
	uint8_t key_epoch;		/* low 8 bits of the key epoch */
	uint32_t receiver_index;	/* the receiver's index of the session */
	uint64_t counter;		/* per (direction, epoch); AEAD nonce */
};

/*
 * What kind of datagram is this?  Checks the type byte and that the length
 * is possible for it (exact for handshake messages, the data range, or one
 * of the control sizes); nothing else.
 * Returns the enum jv_msg_type (> 0), or JV_ERR_PARSE.
 */
JV_MUST_CHECK int jv_wire_classify(const uint8_t *pkt, size_t n);

void jv_wire_hdr_encode(const struct jv_wire_hdr *h,
			uint8_t out[JV_WIRE_HDR_SIZE]);

/*
 * Parse the outer header of a data or control datagram of n bytes: type 4
 * or 5, reserved zero, length right for the type, counter not 2^64 - 1.
 * `why` (may be NULL) receives a static text naming the field at fault.
 * Returns 0, or JV_ERR_PARSE.
 */
JV_MUST_CHECK int jv_wire_hdr_decode(const uint8_t *pkt, size_t n,
				     struct jv_wire_hdr *h, const char **why);

/*
 * Write header h and seal `len` plaintext bytes after it into out.  The
 * plaintext may already sit at out + JV_WIRE_HDR_SIZE (in place), but must
 * not otherwise overlap out.  For JV_MSG_CONTROL the plaintext must be one
 * encoded control message (jv_ctrl_encode).
 * Returns the datagram length (header + len + tag), or JV_ERR_INVAL (type,
 * length for the type, or counter out of range), JV_ERR_NOSPACE (cap).
 */
JV_MUST_CHECK int jv_wire_seal(const uint8_t key[JV_WIRE_KEY_SIZE],
			       const struct jv_wire_hdr *h,
			       const uint8_t *plaintext, size_t len,
			       uint8_t *out, size_t cap);

/*
 * Check the header (as jv_wire_hdr_decode) and open the ciphertext of the
 * n-byte datagram pkt into out (out == pkt + JV_WIRE_HDR_SIZE is allowed).
 * Unverified plaintext never reaches out: on a bad tag out holds zeros.
 * The caller has already looked up the key by receiver_index and
 * key_epoch and run jv_replay_check; it runs jv_replay_mark after this
 * succeeds.
 * Returns the plaintext length (>= 1), or JV_ERR_PARSE (header),
 * JV_ERR_NOSPACE (cap), JV_ERR_AUTH (tag: wrong key, or tampered).
 */
JV_MUST_CHECK int jv_wire_open(const uint8_t key[JV_WIRE_KEY_SIZE],
			       const uint8_t *pkt, size_t n,
			       uint8_t *out, size_t cap);

/* ---- control messages (the plaintext of type 5) ----------------------- */

enum jv_ctrl_type {
	JV_CTRL_HEARTBEAT = 1,
	JV_CTRL_HEARTBEAT_ACK = 2,
	JV_CTRL_PROBE = 3,
	JV_CTRL_PROBE_ACK = 4,
	JV_CTRL_PATH_CHALLENGE = 5,
	JV_CTRL_PATH_RESPONSE = 6,
	JV_CTRL_REATTACH_REQUEST = 7,
	JV_CTRL_REATTACH_ACK = 8,
	JV_CTRL_REATTACH_DENY = 9,
	JV_CTRL_REKEY = 10,
	JV_CTRL_REKEY_ACK = 11,
	JV_CTRL_TERMINATE = 12,
	JV_CTRL_TYPE_MAX = 12,
};

/* HEARTBEAT / PROBE, and their ACKs, which echo seq and send_ts and carry
 * the answerer's own state_version (OP-4 piggyback).  An ACK also carries
 * the path token of the tuple it was sent to (PD-10): the client echoes
 * it in a REATTACH_REQUEST over that path, proof that it receives there.
 * HEARTBEAT and PROBE have no token on the wire. */
struct jv_ctrl_heartbeat {
	uint64_t seq;
	uint64_t send_ts;		/* sender's now, ms */
	uint64_t state_version;		/* the sender's view */
	uint8_t token[JV_WIRE_PATH_TOKEN_SIZE];	/* ACKs only */
};

/* `nonce` 0: the validator saw an authenticated packet from this tuple
 * (PD-2, a NAT rebinding?).  Otherwise it holds the REATTACH_REQUEST of
 * that nonce pending (PD-10): the requester answers only if it sent that
 * request over the path the challenge came in on. */
struct jv_ctrl_path_challenge {
	uint8_t data[JV_WIRE_CHALLENGE_SIZE];
	uint64_t nonce;
};

/* PD-2: a reattach request for the address it comes from. */
struct jv_ctrl_path_response {
	uint8_t data[JV_WIRE_CHALLENGE_SIZE];	/* echo of the challenge */
	uint64_t nonce;				/* §7.5 requester nonce */
	uint64_t state_version;			/* requester's ack_state_version */
};

/* A transport candidate (spec §7.2).  transport_id is NUL-terminated
 * printable ASCII; on the wire NUL-padded to 32 bytes. */
struct jv_wire_candidate {
	char transport_id[JV_TRANSPORT_ID_MAX];
	uint8_t proto;				/* enum jv_proto bit */
	uint8_t remote_ip[JV_WIRE_IP_SIZE];
	uint16_t remote_port;
};

/*
 * PD-7: a switch is forced when the binding is dead, hard-failed or silent
 * (or in a drop run: PD-6 scores it 0), discretionary otherwise.  Only
 * discretionary switches count toward MAX_SWITCHES_PER_MIN.  The requester
 * says which; the validator counts by it (a requester that lies gains only
 * switches of its own session, still spaced by the cooldown).
 */
enum jv_trigger_class {
	JV_CLASS_DISCRETIONARY = 0,
	JV_CLASS_FORCED = 1,
};

struct jv_ctrl_reattach_request {
	uint8_t session_id[JV_SESSION_ID_BYTES];
	uint64_t nonce;				/* strictly increasing, >= 1 */
	uint16_t protocol_version;
	uint64_t ts_ms;
	uint64_t state_version;			/* requester's ack_state_version */
	enum jv_reason trigger_reason;		/* may be JV_REASON_NONE */
	enum jv_reason recovery_reason;		/* may be JV_REASON_NONE */
	struct jv_wire_candidate candidate;
	uint8_t trigger_class;			/* enum jv_trigger_class */
	/* the token of the last ACK received over the path this request
	 * goes out on; all zero if none (PD-10) */
	uint8_t path_token[JV_WIRE_PATH_TOKEN_SIZE];
};

struct jv_ctrl_reattach_ack {
	uint64_t nonce;				/* echo of the request's */
	uint64_t state_version;			/* validator's, after commit */
	char transport_id[JV_TRANSPORT_ID_MAX];	/* binding_confirmation */
};

struct jv_ctrl_reattach_deny {
	uint64_t nonce;				/* echo of the request's */
	enum jv_reason reason;			/* never JV_REASON_NONE */
	bool retryable;
	uint32_t retry_after_ms;
	uint64_t state_version;			/* validator's current */
};

struct jv_ctrl_rekey {				/* REKEY and REKEY_ACK */
	uint8_t new_epoch;
};

struct jv_ctrl_terminate {
	enum jv_reason reason;			/* never JV_REASON_NONE */
};

struct jv_ctrl {
	enum jv_ctrl_type type;
	union {
		struct jv_ctrl_heartbeat hb;	/* HEARTBEAT..PROBE_ACK */
		struct jv_ctrl_path_challenge challenge;
		struct jv_ctrl_path_response path_response;
		struct jv_ctrl_reattach_request request;
		struct jv_ctrl_reattach_ack ack;
		struct jv_ctrl_reattach_deny deny;
		struct jv_ctrl_rekey rekey;	/* REKEY, REKEY_ACK */
		struct jv_ctrl_terminate terminate;
	};
};

/* Encoded size of a control message of type t (ctype byte included), or 0
 * for an unknown type. */
size_t jv_ctrl_size(unsigned t);

/* Static English name ("REATTACH_REQUEST"), or NULL for an unknown type. */
const char *jv_ctrl_name(unsigned t);

/*
 * Encode m into out.  Refuses what the decoder would refuse (unknown
 * type, reason without a wire code, a DENY or TERMINATE without reason, a
 * transport id that is not printable ASCII NUL-terminated within 32).
 * Returns the length (jv_ctrl_size(m->type)), or JV_ERR_INVAL,
 * JV_ERR_NOSPACE.
 */
JV_MUST_CHECK int jv_ctrl_encode(const struct jv_ctrl *m, uint8_t *out,
				 size_t cap);

/*
 * Decode n bytes: known ctype, exact length for it, then every field:
 * reasons must have a wire code, booleans 0 or 1, transport ids printable
 * ASCII with a NUL within 32 and zero padding after it (safe to log once
 * this returned 0).  Semantic checks (e.g. spec §7.4 V10) are the
 * engine's.  `why` (may be NULL) receives a static text naming the field.
 * Returns 0, or JV_ERR_PARSE (m is then unspecified).
 */
JV_MUST_CHECK int jv_ctrl_decode(const uint8_t *buf, size_t n,
				 struct jv_ctrl *m, const char **why);

/* Encode m and seal it as a type-5 datagram with header h (h->type must be
 * JV_MSG_CONTROL).  Returns as jv_wire_seal, or JV_ERR_INVAL from encoding. */
JV_MUST_CHECK int jv_wire_seal_ctrl(const uint8_t key[JV_WIRE_KEY_SIZE],
				    const struct jv_wire_hdr *h,
				    const struct jv_ctrl *m,
				    uint8_t *out, size_t cap);

/* Open a type-5 datagram and decode its control message.  Returns 0, or
 * JV_ERR_PARSE (header, not control, or body), JV_ERR_AUTH. */
JV_MUST_CHECK int jv_wire_open_ctrl(const uint8_t key[JV_WIRE_KEY_SIZE],
				    const uint8_t *pkt, size_t n,
				    struct jv_ctrl *m, const char **why);

/*
 * Is id a transport id safe to log: a NUL within the first
 * JV_TRANSPORT_ID_MAX bytes and only printable ASCII (0x20..0x7e) before
 * it?  Reads at most JV_TRANSPORT_ID_MAX bytes.
 */
bool jv_wire_transport_id_ok(const char id[JV_TRANSPORT_ID_MAX]);

/*
 * Stable reason <-> u8 mapping of the wire, independent of the order of
 * enum jv_reason (an explicit table in wire.c).  JV_REASON_NONE <-> 0.
 * jv_wire_reason_to_u8: JV_ERR_INVAL for a value outside the enum.
 * jv_wire_reason_from_u8: JV_ERR_PARSE for a code no reason has.
 */
JV_MUST_CHECK int jv_wire_reason_to_u8(enum jv_reason r, uint8_t *code);
JV_MUST_CHECK int jv_wire_reason_from_u8(uint8_t code, enum jv_reason *r);

#endif
