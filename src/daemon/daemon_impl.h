/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAEMON_IMPL_H
#define JVPN_DAEMON_IMPL_H

/* The running endpoint's state, shared by the files of src/daemon. */

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "daemon/config.h"
#include "daemon/ctl.h"
#include "daemon/daemon.h"
#include "daemon/evfile.h"
#include "daemon/tunnel.h"
#include "jvpn/session.h"
#include "net/loop.h"
#include "net/tun.h"
#include "net/udp.h"

enum dmn_limits {
	DMN_TUN_BURST = 64,		/* TUN reads per readiness */
	DMN_TUN_SEGS = 512,		/* ... and inner packets (TSO reads) */
	DMN_RX_BURST = 4,		/* recvmmsg batches per readiness */
	DMN_RETRY_FIRST_MS = 250,	/* down path: first retry */
	DMN_RETRY_MAX_MS = 2000,	/* down path: retry cap */
	DMN_RESOLVE_MIN_MS = 5000,	/* a name asked again at most this
					 * often per path (DNS is not a
					 * retry loop) */
	/* room kept in jv_out before an engine call: one call emits at most
	 * a probe per path plus a few control messages */
	DMN_OUT_MARGIN = JV_MAX_TRANSPORTS + 4,
};

struct jv_daemon;

/* Loop callback context: which socket of which daemon. */
struct dmn_fdref {
	struct jv_daemon *d;
	unsigned idx;
};

/* A client path as the daemon sees it (the engine has its own view). */
struct dmn_path {
	bool down;			/* reported down to the engine */
	bool announced;			/* "down" was logged */
	jv_time retry_ms;		/* when to let the engine try again */
	jv_time backoff_ms;
	int last_errno;
	uint64_t hard_errors, tx, tx_dropped, rx;
	struct dmn_fdref ref;
};

struct dmn_counters {
	uint64_t tun_rx, tun_rx_dropped;	/* tx: struct jv_tun_writer */
	uint64_t no_route;		/* gateway: no peer for the destination */
	uint64_t no_session;		/* no live session to send on */
	uint64_t bad_source;		/* inner source outside AllowedIPs */
	uint64_t udp_tx_dropped, udp_rx, udp_tx;
	uint64_t out_overflow, bad_index;
};

/* What the handshake diagnostics last said, and when (dmn_hslog.c). */
struct dmn_hslog {
	uint64_t cl_reported;		/* client: unanswered initiations */
	jv_time cl_at;
	uint64_t mac1_reported, unknown_reported;	/* gateway counters */
	jv_time mac1_at, unknown_at;
};

struct jv_daemon {
	struct jv_config *cfg;		/* the running one: a reload swaps its
					 * contents (reload.h) */
	struct jv_loop loop;
	bool loop_ok;
	struct jv_tunnel tun;
	struct jv_evfile ev;
	struct jv_ctl ctl;
	struct jv_rng rng;
	jv_time started_ms;
	struct jv_out *out;
	struct jv_udp_rxbatch *rx;
	uint8_t pkt[JV_MTU_MAX];		/* one inner packet (TSO segment) */
	uint8_t tunbuf[JV_TUN_BUF];		/* one offload-mode TUN read */
	struct jv_tun_writer tw;
	struct dmn_counters n;
	struct dmn_metrics *metrics;		/* NULL: MetricsListen unset */

	/* client */
	struct jv_client *client;
	unsigned npaths;
	struct jv_udp_path sock[JV_MAX_TRANSPORTS];
	struct dmn_path path[JV_MAX_TRANSPORTS];
	struct jv_addr ep[JV_MAX_TRANSPORTS];	/* endpoints, names resolved */
	struct jv_resolver *resolver;		/* NULL: no host names */
	jv_time resolve_at[JV_MAX_TRANSPORTS];	/* next re-resolution allowed */
	bool resolve_due[JV_MAX_TRANSPORTS];	/* asked too soon: at resolve_at */

	/* gateway */
	struct jv_gateway *gw;
	struct dmn_store *store;	/* NULL: sessions die with the process */
	struct jv_udp_gw gws;
	struct dmn_fdref gwref[JV_UDP_LISTEN_MAX];

	struct dmn_hslog hslog;

	/* wg-quick-like extras (hooks.h) */
	bool dns_applied;		/* resolvectl revert at exit */
	bool hooks_up;			/* PostUp all ran: PreDown at exit */

	/* lifecycle */
	bool operator_stop;		/* signal or terminate command */
	bool stopped;
	int exit_code;
	char session_hex[JV_SESSION_ID_HEX];	/* client: latest session */
	char end_reason[48];

	/* status.c: each live session's last switch and why */
	struct dmn_notes *notes;

	/* reload.c: the worker that reads the files (NULL: none yet) */
	struct dmn_reloader *reloader;
};

/* stderr, one line, prefixed "jvpn[<ifname>] HH:MM:SS.mmm " and, under
 * systemd's journal, by the priority ("<4>", notify.h): dmn_log_at with
 * a <syslog.h> LOG_ERR .. LOG_DEBUG; dmn_log is LOG_INFO. */
void dmn_log_at(const struct jv_daemon *d, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void dmn_log(const struct jv_daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Make room in d->out (dmn_flush_out when fewer than DMN_OUT_MARGIN
 * slots). */
void dmn_room(struct jv_daemon *d);
/* Send every queued datagram, hand every inner packet to the TUN writer
 * (role's flush); the writer may keep the last ones to merge with what
 * comes next in this wake-up. */
void dmn_flush_out(struct jv_daemon *d);
/* dmn_flush_out, then write whatever the TUN writer holds: before the
 * loop sleeps and on the way out. */
void dmn_flush(struct jv_daemon *d);

/* Source and destination of an inner IP packet (16-byte form, IPv4
 * mapped).  false for a packet too short or of another version. */
bool dmn_ip_addrs(const uint8_t *p, size_t n, uint8_t src[16],
		  uint8_t dst[16]);

/* Engine event sink: event log + stderr summary. */
void dmn_on_event(void *ud, const struct jv_event_origin *o,
		  const struct jv_event *ev);

/* ---- roles (dmn_client.c, dmn_gateway.c) ---- */
int dmn_client_start(struct jv_daemon *d, char *why, size_t n);
void dmn_client_flush(struct jv_daemon *d);
void dmn_client_tun(struct jv_daemon *d, const uint8_t *p, size_t n,
		    jv_time now);
void dmn_client_tick(struct jv_daemon *d, jv_time now);
jv_time dmn_client_deadline(struct jv_daemon *d);
void dmn_client_stop(struct jv_daemon *d);
void dmn_client_close(struct jv_daemon *d);
/* Resolve the transports' host names into d->ep (blocking, at start). */
int dmn_client_resolve(struct jv_daemon *d, char *why, size_t n);
/* Transport name's path died (engine event): re-resolve its name. */
void dmn_client_transport_dead(struct jv_daemon *d, const char *name);
json_t *dmn_client_switch(struct jv_daemon *d, const char *arg);
json_t *dmn_client_terminate(struct jv_daemon *d, const char *arg);

/* ---- the ownership store (dmn_store.c, PD-9) ---- */
struct dmn_store;
/* Open the store the config names (none: 0 and d->store stays NULL). */
int dmn_store_open(struct jv_daemon *d, char *why, size_t n);
/* Carry the engine's records and lookups to the store; release the held
 * events once nothing is in flight.  After every batch of engine calls. */
void dmn_store_pump(struct jv_daemon *d);
jv_time dmn_store_deadline(struct jv_daemon *d);
void dmn_store_tick(struct jv_daemon *d, jv_time now);
void dmn_store_close(struct jv_daemon *d);

int dmn_gateway_start(struct jv_daemon *d, char *why, size_t n);
void dmn_gateway_size_rcvbuf(struct jv_daemon *d);
void dmn_gateway_flush(struct jv_daemon *d);
void dmn_gateway_tun(struct jv_daemon *d, const uint8_t *p, size_t n,
		     jv_time now);
void dmn_gateway_tick(struct jv_daemon *d, jv_time now);
jv_time dmn_gateway_deadline(struct jv_daemon *d);
void dmn_gateway_stop(struct jv_daemon *d);
void dmn_gateway_close(struct jv_daemon *d);
json_t *dmn_gateway_terminate(struct jv_daemon *d, const char *arg);

/* ---- handshakes that fail in silence (dmn_hslog.c) ---- */
/* Client: after each tick.  Gateway: after each batch of datagrams and
 * each tick; the deadline is when a held-back line falls due. */
void dmn_hslog_client(struct jv_daemon *d, jv_time now);
void dmn_hslog_gateway(struct jv_daemon *d, jv_time now);
jv_time dmn_hslog_deadline(const struct jv_daemon *d);

/* ---- status.c ---- */
json_t *dmn_status(struct jv_daemon *d);
/* Called with every engine event (dmn_on_event): remembers per session
 * the transport it is bound to, what took it off ATTACHED and its last
 * TransportSwitch, for `jvpn show`'s "last switch". */
void dmn_status_note_event(struct jv_daemon *d,
			   const struct jv_event_origin *o,
			   const struct jv_event *ev);
/* The last switch of session sid, as its events told it. */
struct dmn_switch_note {
	bool valid;
	jv_time ts_ms;
	char from[JV_TRANSPORT_ID_MAX], to[JV_TRANSPORT_ID_MAX];
	char reason[48];		/* why the session left ATTACHED */
	char trigger[16];		/* forced / discretionary, or "" */
};
bool dmn_status_last_switch(const struct jv_daemon *d, const char *sid,
			    struct dmn_switch_note *out);
/* Free what dmn_status_note_event kept (teardown). */
void dmn_status_free(struct jv_daemon *d);
json_t *dmn_session_json(const struct jv_session_status *st);
json_t *dmn_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
