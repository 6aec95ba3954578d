/* SPDX-License-Identifier: MIT */
#ifndef JVPN_DAEMON_METRICS_H
#define JVPN_DAEMON_METRICS_H

/*
 * The Prometheus endpoint (MetricsListen, docs/metrics.md): GET /metrics
 * on one loopback or named address, served by libmicrohttpd without a
 * thread of its own.  Its epoll descriptor sits in the daemon's loop and
 * MHD_run is called on readiness and at its timeout, so every scrape is
 * rendered on the loop's thread from the engine's plain snapshots
 * (STYLE 12): nothing else ever reads engine state.
 *
 * Switches and reattach results are counted from the events the daemon
 * sees (dmn_metrics_event); everything else is read at scrape time.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/prom.h"
#include "jvpn/reason.h"
#include "jvpn/session.h"

struct jv_daemon;
struct jv_event;
struct jv_event_origin;

enum {
	MX_CONN_MAX = 16,		/* concurrent HTTP connections */
	MX_CONN_PER_IP = 8,
	MX_CONN_TIMEOUT_S = 10,		/* idle connection closed after */
	MX_CONN_MEMORY = 16 * 1024,	/* per connection (headers) */
	MX_LISTEN_BACKLOG = 16,
	MX_LOG_GAP_MS = 1000,		/* libmicrohttpd lines: 1 per second */
};

/* trigger_class of a TransportSwitch (docs/events.md) */
enum mx_class { MX_FORCED, MX_DISCRETIONARY, MX_CLASS_OTHER, MX_CLASS_COUNT };
/* status of a ReattachResult */
enum mx_status { MX_SUCCESS, MX_DENIED, MX_STATUS_OTHER, MX_STATUS_COUNT };

/* ---- what one scrape shows: plain data, rendered by mx_render ---- */

struct mx_peer {
	char key[48];			/* base64 public key */
	bool has_session;
	struct jv_session_status st;	/* when has_session */
	uint64_t switches[MX_CLASS_COUNT];	/* since the daemon started */
};

struct mx_daemon_counters {
	uint64_t tun_rx, tun_rx_dropped, tun_tx, tun_tx_dropped;
	uint64_t udp_rx, udp_tx, udp_tx_dropped;
	uint64_t no_route, no_session, bad_source, out_overflow, bad_index;
	uint64_t ev_lines, ev_sink_failures, ev_write_errors;
};

struct mx_snapshot {
	const char *ifname;
	const char *node_id;
	bool gateway;
	unsigned npeers;
	const struct mx_peer *peers;
	struct jv_gateway_counters gw;		/* gateway only */
	struct mx_daemon_counters n;
	/* ReattachResult by status and reason + 1 (0: no reason code) */
	uint64_t reattach[MX_STATUS_COUNT][JV_REASON_COUNT + 1];
};

/* Render s in the text exposition format into b (pure).  Every family's
 * HELP and TYPE come once, before its samples. */
void mx_render(const struct mx_snapshot *s, struct prom_buf *b);

/* The HTTP status a request gets: 200 for GET or HEAD of /metrics, 404
 * for another path, 405 for another method on /metrics. */
unsigned mx_route(const char *method, const char *url);

/* ---- the endpoint in the daemon ---- */

/* Open MetricsListen (nothing when unset) and watch it in d->loop.
 * Returns 0, or JV_ERR_IO (socket, bind, listen, libmicrohttpd; why
 * names the address) or JV_ERR_NOMEM. */
JV_MUST_CHECK int dmn_metrics_open(struct jv_daemon *d, char *why,
				 size_t n);
void dmn_metrics_close(struct jv_daemon *d);
/* MHD's next timeout on the loop's clock, JV_TIME_NEVER: none. */
jv_time dmn_metrics_deadline(struct jv_daemon *d);
/* Let MHD do what is due (the loop's deadline passed). */
void dmn_metrics_run(struct jv_daemon *d);
/* Count a switch or a reattach result (from dmn_on_event). */
void dmn_metrics_event(struct jv_daemon *d, const struct jv_event_origin *o,
		       const struct jv_event *ev);

#endif
