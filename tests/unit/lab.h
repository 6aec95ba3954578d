/* SPDX-License-Identifier: MIT */
/*
 * The engine lab of the unit tests: one in-memory client with two
 * transports (p1, p2 at 10.0.1.2 and 10.0.2.2) and one gateway, joined by
 * a network with a fixed one-way delay per path, driven by a fake clock.
 * Every event either side emits is recorded and formatted by the event
 * log, so an event that breaks its type's allow-list counts as `bad`.
 * run() handles packets and timers in time order and stops early
 * (l->spun) when an endpoint asks to be called again at a time it has
 * already been called for without progress (a busy loop).
 *
 * What the network can do to the honest pair: cut a path one way or both
 * (cut_up, cut_down), lose client datagrams of one length (drop_len),
 * hold gateway datagrams of one length (hold_len), report a path down or
 * up to the client.
 *
 * What an attacker can do: capture client datagrams of one length
 * (cap_len), or every datagram both ways (capture), and put any datagram
 * in front of the gateway from any address (inject).  With the client's
 * static key (struct evil) it completes a handshake of its own
 * (evil_connect) and then seals any control message from any of four
 * addresses (evil_send), learns each address's path token (PD-10) and
 * sends well-formed REATTACH_REQUESTs (evil_request); what the gateway
 * answers to those addresses is decoded into struct evil.
 */
#ifndef JV_TEST_LAB_H
#define JV_TEST_LAB_H

#include <stdbool.h>
#include <stdint.h>

#include "jvpn/eventlog.h"
#include "jvpn/noise.h"
#include "jvpn/policy.h"
#include "jvpn/session.h"
#include "jvpn/wire.h"

enum {
	NPATHS = 2, QMAX = 2048, EVMAX = 4096, DELAY_MS = 10, T0 = 1000000,
	SPIN_MAX = 1000,	/* calls at one `now` before we call it a spin */
	CAPMAX = 256,		/* captured datagrams */
	HELDMAX = 64,		/* held gateway datagrams (a ring) */
	EVIL_ADDRS = 4,		/* addresses the attacker sends from */
};

/* Helpers not every test uses. */
#define MAYBE_UNUSED __attribute__((unused))

/* Datagram sizes of the control messages we need to recognise. */
#define CTRL_DGRAM(body) (JV_WIRE_HDR_SIZE + (body) + JV_WIRE_TAG_SIZE)
#define REKEY_DGRAM CTRL_DGRAM(2)
#define ACK_DGRAM CTRL_DGRAM(1 + 8 + 8 + 32)
#define REQUEST_DGRAM \
	CTRL_DGRAM(1 + 16 + 8 + 2 + 8 + 8 + 1 + 1 + 32 + 1 + 16 + 2 + 1 + 16)

struct pkt {
	jv_time at;
	bool to_gw;
	int path;
	struct jv_addr from;	/* to_gw: the source the gateway sees */
	uint16_t len;
	uint8_t buf[JV_DGRAM_MAX];
};

struct rec {
	enum jv_event_type type;
	enum jv_reason reason;
	enum jv_state prev, next;
	jv_time ts;
	uint64_t version;
	char marker[16];	/* freshness_marker_type */
	char session[JV_SESSION_ID_HEX];
	bool peer_origin;	/* details.origin = "peer" */
	char peer_key[JV_KEY_B64_MAX];	/* SessionCreated: details.peer_public_key */
	char remote[JV_ADDR_STR_MAX];	/* ... and details.remote_addr */
	char policy[JV_POLICY_VERSION_MAX];	/* the event's policy_version */
	/* PolicyUpdate: status, field, previous_policy_version, mode */
	char status[12];
	char field[64];
	char prev_policy[JV_POLICY_VERSION_MAX];
	char mode[8];
};

struct side {
	struct rec ev[EVMAX];
	unsigned nev;
	unsigned bad;		/* events the event log refused */
	unsigned long total;	/* including those past EVMAX */
	char why[256];
	/* when set, every event is also appended to this log (its lines can
	 * then be audited) */
	struct jv_eventlog *log;
};

struct lab {
	struct jv_seeded_rng crng, grng;
	struct jv_policy pol;
	struct jv_client *c;
	struct jv_gateway *g;
	struct jv_addr caddr[NPATHS + 1], gaddr;	/* [NPATHS]: client B */
	bool cut_up[NPATHS + 1], cut_down[NPATHS + 1];
	struct pkt q[QMAX];
	unsigned nq;
	jv_time now;
	struct side cs, gs;
	struct jv_out out;
	unsigned delivered_to_gw, delivered_to_client;
	unsigned initiations;	/* handshake initiations the client sent */
	/* Capture, for replay and inspection: with `capture`, every datagram
	 * sent both ways, a ring of the latest CAPMAX; otherwise the first
	 * CAPMAX client datagrams of length cap_len.  Both see a datagram
	 * before the network cuts or loses it. */
	bool capture;
	uint16_t cap_len;
	struct pkt cap[CAPMAX];
	unsigned ncap;
	uint16_t drop_len;	/* client datagrams of this length are lost */
	uint16_t hold_len;	/* gateway datagrams of this length are held */
	struct pkt held[HELDMAX];
	unsigned nheld;
	jv_time spin_at;
	unsigned spins;
	bool spun;
	/* Client B (lab_add_client_b): a second peer of the gateway with its
	 * own key, one transport "p1" at 10.0.3.2 (path NPATHS on the
	 * network), its events in bs. */
	struct jv_client *b;
	struct jv_seeded_rng brng;
	struct side bs;
};

/* For the next lab_new: gateway table size (0: the engine's default),
 * length of client datagrams to capture from the start. */
extern unsigned lab_max_sessions;
extern uint16_t lab_cap_len;

/* Client B: its key allowed on the gateway (returns the peer index) and
 * its handshake started now. */
int lab_add_client_b(struct lab *l);
/* B's key (the private key is 0x33 repeated). */
void lab_client_b_pub(uint8_t pub[32]);

/* The lab (one static instance) with the client started at T0. */
struct lab *lab_new(const struct jv_policy *pol);
void lab_free(struct lab *l);

/* The event sink of either side (ud: its struct side), for an endpoint a
 * test makes itself. */
void record(void *ud, const struct jv_event_origin *o,
	    const struct jv_event *ev);
/* Puts what an endpoint sent (`o`) on the network. */
void enqueue(struct lab *l, const struct jv_out *o, bool from_client);
/* Advances the world to `until`, handling every packet and timer in
 * order; stops early (l->spun) if an endpoint busy-loops. */
void run(struct lab *l, jv_time until);
void cut(struct lab *l, int path, bool cut_it);
void path_down(struct lab *l, int path);
void path_up(struct lab *l, int path);
/* The attacker puts a datagram in front of the gateway, from `from`;
 * the answers (in l->out) go to `from`, not onto the network. */
void inject(struct lab *l, const struct pkt *k, const struct jv_addr *from);

unsigned count(const struct side *s, enum jv_event_type t);
unsigned count_after(const struct side *s, enum jv_event_type t,
		     jv_time after);
unsigned count_reason(const struct side *s, enum jv_event_type t,
		      enum jv_reason r);
/* Index of the first SessionStateChange prev->next at or after `from`. */
int find_change(const struct side *s, enum jv_state prev, enum jv_state next,
		unsigned from);
/* INV-02 over a stream of one session after another. */
void versions_continuous(const struct side *s);
/* INV-02 per session, in a stream where sessions interleave. */
void versions_per_session(const struct side *sd);
enum jv_state gw_state(struct lab *l);

uint64_t rnd(struct jv_seeded_rng *r);

/* ---- an attacker holding a session ------------------------------------ */

struct evil {
	uint8_t send[32], recv[32], prev_recv[32];
	uint32_t gw_index;
	uint8_t sid[16];
	uint8_t epoch;
	uint64_t counter;
	uint64_t nonce;
	uint64_t version;		/* gateway's, as last seen */
	struct jv_addr addrs[EVIL_ADDRS];
	uint8_t chal[8];
	uint64_t chal_nonce;		/* the held request it names (PD-10) */
	int chal_addr;			/* -1: none */
	/* what the gateway answered, by type, and to which address */
	unsigned got[JV_CTRL_TYPE_MAX + 1];
	unsigned to[EVIL_ADDRS];
	enum jv_reason denied;		/* last DENY's reason */
	/* PD-10: the path token of each address, from the last ACK there */
	uint8_t token[EVIL_ADDRS][JV_WIRE_PATH_TOKEN_SIZE];
	bool has_token[EVIL_ADDRS];
};

/* The attacker completes a handshake of its own with the client's key
 * (it has it): a session whose keys it holds, reached from e->addrs. */
void evil_connect(struct lab *l, struct evil *e, struct jv_seeded_rng *r);
/* Decodes what the gateway sent to e->addrs: versions, challenges,
 * tokens, and counts of what came back. */
void evil_read(struct evil *e, const struct jv_out *o);
/* Seals m with the next counter and sends it from e->addrs[a]; what the
 * gateway answers updates e.  With k, the datagram is kept there. */
void evil_send_pkt(struct lab *l, struct evil *e, const struct jv_ctrl *m,
		   int a, struct pkt *k);
void evil_send(struct lab *l, struct evil *e, const struct jv_ctrl *m, int a);
/* PD-10: learns the path token of e->addrs[a] by a probe from there, as
 * the client does, unless it has it; the probe's answer is not counted. */
void evil_learn_token(struct lab *l, struct evil *e, int a);
/* A well-formed REATTACH_REQUEST of the attacker's session from
 * e->addrs[a], with the token it holds for that address, built in m. */
void evil_request_msg(struct lab *l, struct evil *e, int a,
		      enum jv_reason trigger, enum jv_reason recovery,
		      uint8_t cls, struct jv_ctrl *m);
/* evil_learn_token, then such a request, sent. */
void evil_request(struct lab *l, struct evil *e, int a,
		  enum jv_reason trigger, enum jv_reason recovery,
		  uint8_t cls);

#endif
