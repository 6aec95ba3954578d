/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CORE_CLIENT_IMPL_H
#define JVPN_CORE_CLIENT_IMPL_H

/*
 * The client endpoint, split by concern:
 *   client.c          lifecycle, handshake, rekey and the public entry points
 *   client_attempt.c  the §2.4 evaluation loop, §6.4 selection and gates,
 *                     the reattach attempt and its answers (§7)
 *   client_probe.c    heartbeats and standby probes, their drops (OP-5),
 *                     and data-plane loss from counter gaps (OP-23)
 */

#include "jvpn/cookie.h"
#include "jvpn/noise.h"
#include "session.h"

/* OP-23: loss on the binding from the gateway's counter sequence, with a
 * reorder window (client_probe.c).  Client-only, so kept out of the
 * session struct every gateway session carries. */
struct jv_rx_loss {
	uint8_t epoch;			/* key epoch (wire) the counters are of */
	uint64_t top;			/* highest counter seen on the binding */
	uint64_t bits;			/* bit i: counter top - i accounted for */
	bool have;
	jv_time gap_at[64];		/* when each counter became a gap */
	uint64_t other[16];		/* counters seen on other paths */
	unsigned other_head;
};

struct jv_client {
	struct jv_session s;
	/* The endpoint's latest policy (jv_client_set_policy): the session
	 * a handshake makes starts from it; a grace update waits here for
	 * the live session's next transition (s.policy_next). */
	struct jv_policy policy;
	struct jv_rx_loss rx;
	bool have_session;		/* a handshake completed */
	struct jv_noise_static self;
	struct jv_noise_initiator hs;
	uint8_t gateway_public[32];
	unsigned hs_attempts;
	jv_time hs_next_ms;		/* JV_TIME_NEVER: no handshake pending */
	bool hs_pending;
	int hs_path;
	uint64_t handshakes;		/* completed handshakes (sessions made) */
	/* Initiations no response answered yet (a wrong key on either side
	 * is silent: this is how the operator learns of it), since when,
	 * and on which transports (bit i: path i). */
	uint64_t hs_unanswered;
	jv_time hs_first_ms;
	uint32_t hs_paths;

	/* The gateway's cookie when it is under load (D-019): mac2 of the
	 * initiations sent on cookie_path while it is fresh. */
	uint8_t cookie_key[32];		/* seals replies: from its public key */
	uint8_t cookie[JV_COOKIE_SIZE];
	jv_time cookie_ms;		/* received at */
	int cookie_path;		/* -1: none */
	jv_time cookie_resend_ms;	/* last early retransmit (NEVER: none) */
	uint64_t cookies;		/* cookie replies accepted */
};

static inline uint64_t jv_max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static inline uint64_t jv_min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* client.c */
void jv_cl_send_ctrl(struct jv_session *s, int path, const struct jv_ctrl *m,
		     struct jv_out *out);

/* client_attempt.c */
/* May a new request nonce be spent on path p (NULL: any) without passing
 * MAX_NONCE_GAP beyond the last one the gateway answered (§7.5)? */
/* Did the current attempt send the request of this nonce over `path`?
 * (PD-10: only then is a challenge naming it answered.) */
bool jv_cl_sent_over(const struct jv_session *s, uint64_t nonce, int path);
bool jv_cl_nonce_available(const struct jv_session *s, const struct jv_path *p,
			   jv_time now);
void jv_cl_evaluate(struct jv_client *c, jv_time now, struct jv_out *out);
void jv_cl_on_ack(struct jv_client *c, const struct jv_ctrl_reattach_ack *a,
		  jv_time now);
void jv_cl_on_deny(struct jv_client *c, const struct jv_ctrl_reattach_deny *d,
		   jv_time now, struct jv_out *out);
/* PD-8: planned migration from ATTACHED to `id` (jv_client_request_switch). */
int jv_cl_migrate(struct jv_client *c, const char *id, jv_time now,
		  struct jv_out *out, struct jv_switch_answer *ans);
/* PD-7: damped transports whose penalty decayed below FLAP_REUSE are
 * released (TransportReused). */
void jv_cl_release_damped(struct jv_session *s, jv_time now);

/* client_probe.c */
void jv_cl_expire_inflight(struct jv_session *s, jv_time now);
void jv_cl_send_probes(struct jv_client *c, jv_time now, struct jv_out *out);
void jv_cl_on_hb_ack(struct jv_client *c, int path,
		     const struct jv_ctrl_heartbeat *a, jv_time now);
void jv_cl_note_counter(struct jv_client *c, int path, uint8_t epoch,
			uint64_t ctr, jv_time now);
/* Forget every counter seen: a new session's sequences start over. */
void jv_cl_rx_reset(struct jv_rx_loss *rx);

#endif
