/* SPDX-License-Identifier: MIT */
#ifndef JVPN_BENCH_LG_H
#define JVPN_BENCH_LG_H

/*
 * bench/loadgen: N client engines of the sans-I/O core in one process,
 * over a few shared UDP sockets, against a real `jvpn up` gateway
 * (bench/README.md "scale.sh", docs/decisions.md D-033).  This header is
 * the contract between its small files: options, the index map, the
 * timer heap and the inner ICMP packets.
 */

#include <stdbool.h>
#include <stdint.h>

#include "jvpn/rng.h"
#include "jvpn/session.h"
#include "core/heap.h"
#include "net/udp.h"

enum lg_limits {
	LG_PATHS_MAX = 4,		/* paths per session */
	LG_LOCALS_MAX = 256,		/* source addresses per path */
	LG_N_MAX = 65536,		/* sessions: 10.128.0.0/16 of inner space
					 * and the gateway's PeersDir limit */
	LG_RESTARTS_MAX = 16,		/* index collisions of one engine */
};

struct lg_path_spec {
	unsigned nlocal;
	struct jv_addr local[LG_LOCALS_MAX];	/* port 0: ephemeral */
	struct jv_addr gw;
};

struct lg_opts {
	uint8_t gw_pub[32];
	bool have_key;
	unsigned npaths;
	struct lg_path_spec path[LG_PATHS_MAX];
	unsigned n;
	double rate;			/* new sessions per second */
	double pps;			/* echo requests per session per second */
	char policy[16];		/* profile name */
	/* --gateway-config without --policy: the gateway's own [Policy],
	 * so both ends run the same one (a real deployment's case) */
	bool have_policy;
	bool policy_named;
	struct jv_policy cfg_policy;
	uint64_t seed;
	const char *write_peers;	/* directory: write and exit */
	uint32_t gw_inner;		/* the gateway's TUN address (host order) */
	double hold_s;			/* traffic window after setup */
	double setup_timeout_s;
	double settle_s;		/* no new ATTACHED for this long: the rest
					 * is refused */
	double failover_timeout_s;
	const char *cut_cmd, *restore_cmd, *mark_cmd;
	unsigned cut_path;
	bool json;
	bool keep;			/* do not terminate the sessions at exit */
};

/* Parse argv into o.  Returns 0, 1 (--help printed: exit 0) or 2 (a
 * one-line error printed: exit 2). */
int lg_opts_parse(struct lg_opts *o, int argc, char **argv);

/* ---- receiver index -> engine (open addressing, O(1)) ---------------- */

struct lg_idxmap {
	uint32_t mask;		/* capacity - 1, a power of two */
	uint32_t count;
	uint32_t *key;		/* receiver index; 0 = empty (never chosen:
				 * the engine draws until non-zero) */
	uint32_t *val;		/* engine */
};

int lg_idxmap_init(struct lg_idxmap *m, uint32_t n);
void lg_idxmap_free(struct lg_idxmap *m);
/* The engine of index k, or UINT32_MAX. */
uint32_t lg_idxmap_get(const struct lg_idxmap *m, uint32_t k);
/* Insert k -> v; false when k is there already (the caller's collision). */
bool lg_idxmap_put(struct lg_idxmap *m, uint32_t k, uint32_t v);
void lg_idxmap_del(struct lg_idxmap *m, uint32_t k);

/* The engines run the --gateway-config's [Policy], not a named profile. */
static inline bool lg_policy_of_config(const struct lg_opts *o)
{
	return o->have_policy && !o->policy_named;
}

/* ---- engines by next deadline: the core's timer heap ------------------- */

/* Engine e's place in the heap is links[e]; its id is the tie, so engines
 * due at the same millisecond run in id order. */
struct lg_heap {
	struct jv_heap h;
	struct jv_heap_link *links;
};

int lg_heap_init(struct lg_heap *h, uint32_t cap);
void lg_heap_free(struct lg_heap *h);
/* Insert, move or (JV_TIME_NEVER) remove engine e. */
static inline void lg_heap_set(struct lg_heap *h, uint32_t e, jv_time when)
{
	struct jv_heap_link *l = &h->links[e];
	int rc;

	if (when == JV_TIME_NEVER)
		jv_heap_remove(&h->h, l);
	else if (jv_heap_has(l))
		jv_heap_update(&h->h, l, when);
	else {
		rc = jv_heap_insert(&h->h, l, when, e);
		(void)rc;	/* cannot fail: sized for every engine */
	}
}
static inline jv_time lg_heap_top_key(const struct lg_heap *h)
{
	const struct jv_heap_link *l = jv_heap_top(&h->h);

	return l ? jv_heap_key(&h->h, l) : JV_TIME_NEVER;
}
static inline uint32_t lg_heap_top(const struct lg_heap *h)
{
	return (uint32_t)(jv_heap_top(&h->h) - h->links);
}

/* ---- inner ICMP echo ------------------------------------------------------ */

enum { LG_ECHO_LEN = 20 + 8 + 16 };	/* IPv4 + ICMP + payload */

/* 10.(128 + i/65536).(i/256 % 256).(i % 256), host order. */
static inline uint32_t lg_inner_addr(uint32_t i)
{
	return (10u << 24) + (128u << 16) + i;
}

/* An echo request src -> dst with id and seq, valid checksums. */
void lg_echo_request(uint8_t pkt[LG_ECHO_LEN], uint32_t src, uint32_t dst,
		     uint16_t id, uint16_t seq);
/* Whether pkt is an echo reply dst -> src (the request's ends swapped)
 * with id, both checksums right; *seq gets its sequence number. */
bool lg_echo_reply_ok(const uint8_t *pkt, size_t n, uint32_t src,
		      uint32_t dst, uint16_t id, uint16_t *seq);

/* ---- the run (run.c) ------------------------------------------------------ */

enum lg_phase_of_engine {
	LG_E_IDLE,		/* not started */
	LG_E_HS,		/* handshaking */
	LG_E_UP,		/* reached ATTACHED once */
	LG_E_REFUSED,		/* never got in: stopped at the end of setup */
	LG_E_ENDED,		/* TERMINATED after it was up */
};

struct lg_eng {
	struct jv_client *c;
	struct jv_seeded_rng rng;
	uint32_t index;			/* its receiver index, 0: none */
	uint8_t phase;			/* enum lg_phase_of_engine */
	uint8_t st;			/* enum jv_state, as last seen */
	int8_t bound;			/* path from the events, -1: none */
	uint8_t stream;			/* rng stream: bumped per collision */
	bool cut_affected, cut_done, got_reply;
	uint16_t seq;			/* next echo request's */
	uint16_t hold_seq;		/* the first of the hold window */
	enum jv_reason end_reason;
	jv_time attached_ms, cut_back_ms;
	double echo_next_ms;
};

struct lg_sock {
	struct jv_udp_path p;
	unsigned path;
	unsigned ntx;
	struct jv_udp_tx tx[JV_UDP_BATCH];
	uint16_t len[JV_UDP_BATCH];
	uint8_t buf[JV_UDP_BATCH][JV_DGRAM_MAX];
};

struct lg_counters {
	uint64_t started, established, refused_unanswered, refused_terminated;
	uint64_t initiations, collisions, restarts_failed;
	uint64_t echo_sent, echo_ok, echo_bad, echo_no_binding;
	uint64_t rx, rx_unknown_index, rx_short, rx_foreign, rx_dropped;
	uint64_t tx, tx_dropped, tx_errors, out_overflow;
	uint64_t ended;
	/* after the cut */
	uint64_t cut_initiations, cut_ended;
};

struct lg {
	const struct lg_opts *o;
	struct jv_policy policy;
	struct lg_eng *eng;
	unsigned nsock;
	struct lg_sock *sock;
	unsigned first_sock[LG_PATHS_MAX];	/* path p: sock[first + k] */
	int ep;
	struct lg_idxmap map;
	struct lg_heap heap;
	struct jv_out out;
	struct jv_udp_rxbatch *rx;
	struct lg_counters n;
	bool counting_echo;		/* the hold window */
	bool cut_on;			/* from the cut until the failover ends */
	bool ending;			/* lg_terminate_all: ends are ours */
	jv_time cut_ms;
	jv_time first_hs_ms, last_attach_ms;
};

/* Sockets, engines, map and heap for o; 0 or -1 (a line on stderr). */
int lg_open(struct lg *g, const struct lg_opts *o);
void lg_close(struct lg *g);
/* The deterministic key of client i. */
void lg_client_key(uint64_t seed, uint32_t i, uint8_t priv[32],
		   uint8_t pub[32]);
/* Start engine i (its first initiation goes out). */
void lg_start(struct lg *g, uint32_t i, jv_time now);
/* Run every due timer, then wait for datagrams until `until` at most
 * and take them. */
void lg_step(struct lg *g, jv_time until);
/* Stop engine i for good (refused at the end of setup). */
void lg_stop(struct lg *g, uint32_t i);
/* Terminate every live session (the gateway is told). */
void lg_terminate_all(struct lg *g, jv_time now);
void lg_flush(struct lg *g);

#endif
