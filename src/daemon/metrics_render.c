/* SPDX-License-Identifier: MIT */
/*
 * What a scrape says (docs/metrics.md is the reference): a pure function
 * of a struct mx_snapshot, so the unit test renders made-up snapshots and
 * the endpoint renders the daemon's.  Families are written one after the
 * other, each looping over the peers, so HELP and TYPE come exactly once.
 *
 * State is a one-hot gauge over every state (the OpenMetrics "stateset"
 * written as gauges): each series exists for the session's whole life,
 * so `jvpn_peer_state{state="ATTACHED"} == 0` alerts work and a change
 * is a value change, not a series that vanishes (and goes stale for five
 * minutes in Prometheus).
 */

#include <stdio.h>
#include <string.h>

#include "daemon/metrics.h"

#define L(n, v) ((struct prom_label){ (n), (v) })
#define NL(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))

static const char *const class_names[MX_CLASS_COUNT] = {
	[MX_FORCED] = "forced",
	[MX_DISCRETIONARY] = "discretionary",
	[MX_CLASS_OTHER] = "unknown",
};
static const char *const status_names[MX_STATUS_COUNT] = {
	[MX_SUCCESS] = "SUCCESS",
	[MX_DENIED] = "DENIED",
	[MX_STATUS_OTHER] = "unknown",
};

unsigned mx_route(const char *method, const char *url)
{
	if (!url || strcmp(url, "/metrics"))
		return 404;
	if (!method || (strcmp(method, "GET") && strcmp(method, "HEAD")))
		return 405;
	return 200;
}

static void info(const struct mx_snapshot *s, struct prom_buf *b)
{
	struct prom_label l[] = { L("interface", s->ifname),
				  L("role", s->gateway ? "gateway" : "client"),
				  L("node_id", s->node_id) };

	prom_family(b, "jvpn_info", "gauge",
		    "The endpoint: its role and node id (always 1).");
	prom_u64(b, l, NL(l), 1);
	prom_family(b, "jvpn_peers", "gauge",
		    "Peers in the configuration ([Peer] sections).");
	prom_u64(b, l, 1, s->npeers);
}

static void sessions(const struct mx_snapshot *s, struct prom_buf *b)
{
	unsigned by[JV_STATE_COUNT] = { 0 };

	for (unsigned p = 0; p < s->npeers; p++)
		if (s->peers[p].has_session &&
		    (unsigned)s->peers[p].st.state < JV_STATE_COUNT)
			by[s->peers[p].st.state]++;
	prom_family(b, "jvpn_sessions", "gauge",
		    "Sessions (one per peer at most, its newest) by state.");
	for (unsigned st = 0; st < JV_STATE_COUNT; st++) {
		struct prom_label l[] = { L("interface", s->ifname),
					  L("state", jv_state_name(st)) };
		prom_u64(b, l, NL(l), by[st]);
	}
	prom_family(b, "jvpn_peer_state", "gauge",
		    "1 for the state of the peer's session, 0 for the others (all 0: no session).");
	for (unsigned p = 0; p < s->npeers; p++) {
		const struct mx_peer *pe = &s->peers[p];

		for (unsigned st = 0; st < JV_STATE_COUNT; st++) {
			struct prom_label l[] = { L("interface", s->ifname),
						  L("peer", pe->key),
						  L("state", jv_state_name(st)) };
			prom_u64(b, l, NL(l),
				 pe->has_session && pe->st.state == st);
		}
	}
}

/* A per-peer value of the current session. */
static void per_peer(const struct mx_snapshot *s, struct prom_buf *b,
		     const char *name, const char *help, size_t off)
{
	prom_family(b, name, "counter", help);
	for (unsigned p = 0; p < s->npeers; p++) {
		const struct mx_peer *pe = &s->peers[p];
		struct prom_label l[] = { L("interface", s->ifname),
					  L("peer", pe->key) };
		uint64_t v;

		if (!pe->has_session)
			continue;
		memcpy(&v, (const char *)&pe->st + off, sizeof v);
		prom_u64(b, l, NL(l), v);
	}
}

static void switches(const struct mx_snapshot *s, struct prom_buf *b)
{
	prom_family(b, "jvpn_peer_switches_total", "counter",
		    "Transport switches (TransportSwitch events) by trigger_class, since the daemon started.");
	for (unsigned p = 0; p < s->npeers; p++)
		for (unsigned c = 0; c < MX_CLASS_COUNT; c++) {
			const struct mx_peer *pe = &s->peers[p];
			struct prom_label l[] = { L("interface", s->ifname),
						  L("peer", pe->key),
						  L("trigger_class",
						    class_names[c]) };

			if (c == MX_CLASS_OTHER && !pe->switches[c])
				continue;
			prom_u64(b, l, NL(l), pe->switches[c]);
		}
}

static void reattach(const struct mx_snapshot *s, struct prom_buf *b)
{
	prom_family(b, "jvpn_reattach_results_total", "counter",
		    "Reattach validation outcomes (ReattachResult events) by status and reason code, since the daemon started.");
	for (unsigned st = 0; st < MX_STATUS_COUNT; st++)
		for (unsigned r = 0; r <= JV_REASON_COUNT; r++) {
			const char *rn = r ? jv_reason_name((enum jv_reason)(r - 1))
					   : "none";
			struct prom_label l[] = { L("interface", s->ifname),
						  L("status", status_names[st]),
						  L("reason", rn ? rn : "unknown") };

			/* SUCCESS without a reason always shows, so a rate
			 * has a series from the first scrape on */
			if (!s->reattach[st][r] && !(st == MX_SUCCESS && !r))
				continue;
			prom_u64(b, l, NL(l), s->reattach[st][r]);
		}
}

/* One value per transport of every session. */
enum tkind { T_SRTT, T_P95, T_LOSS, T_TX, T_RX };

static void per_transport(const struct mx_snapshot *s, struct prom_buf *b,
			  const char *name, const char *type,
			  const char *help, enum tkind k)
{
	prom_family(b, name, type, help);
	for (unsigned p = 0; p < s->npeers; p++) {
		const struct mx_peer *pe = &s->peers[p];

		if (!pe->has_session)
			continue;
		for (unsigned i = 0; i < pe->st.npaths && i < JV_MAX_TRANSPORTS;
		     i++) {
			const struct jv_path_status *t = &pe->st.paths[i];
			struct prom_label l[] = { L("interface", s->ifname),
						  L("peer", pe->key),
						  L("transport", t->id) };

			switch (k) {
			case T_SRTT:
				prom_f64(b, l, NL(l), t->srtt_ms / 1000.0);
				break;
			case T_P95:
				prom_f64(b, l, NL(l), t->p95_ms / 1000.0);
				break;
			case T_LOSS:
				if (t->loss_ratio >= 0)	/* < 0: too few samples */
					prom_f64(b, l, NL(l), t->loss_ratio);
				break;
			case T_TX:
				prom_u64(b, l, NL(l), t->tx_packets);
				break;
			case T_RX:
				prom_u64(b, l, NL(l), t->rx_packets);
				break;
			}
		}
	}
}

static void transport_role(const struct mx_snapshot *s, struct prom_buf *b)
{
	static const enum jv_path_role roles[] = { JV_PATH_BOUND,
						   JV_PATH_STANDBY,
						   JV_PATH_DEAD };

	prom_family(b, "jvpn_transport_role", "gauge",
		    "1 for the transport's role in its session (bound, standby, dead), 0 for the others.");
	for (unsigned p = 0; p < s->npeers; p++) {
		const struct mx_peer *pe = &s->peers[p];

		if (!pe->has_session)
			continue;
		for (unsigned i = 0; i < pe->st.npaths && i < JV_MAX_TRANSPORTS;
		     i++)
			for (unsigned r = 0; r < NL(roles); r++) {
				struct prom_label l[] = {
					L("interface", s->ifname),
					L("peer", pe->key),
					L("transport", pe->st.paths[i].id),
					L("role", jv_path_role_name(roles[r])) };
				prom_u64(b, l, NL(l),
					 pe->st.paths[i].role == roles[r]);
			}
	}
}

static void transports(const struct mx_snapshot *s, struct prom_buf *b)
{
	transport_role(s, b);
	/* The gateway sends no probes of its own: it judges a path by
	 * silence (OP-1), so it has no round-trip time to show. */
	if (!s->gateway) {
		per_transport(s, b, "jvpn_transport_srtt_seconds", "gauge",
			      "Smoothed round-trip time of the transport's probes.",
			      T_SRTT);
		per_transport(s, b, "jvpn_transport_rtt_p95_seconds", "gauge",
			      "95th percentile of the transport's recent round-trip times.",
			      T_P95);
	}
	per_transport(s, b, "jvpn_transport_loss_ratio", "gauge",
		      "Probe loss over the loss window, 0..1 (absent until enough samples).",
		      T_LOSS);
	per_transport(s, b, "jvpn_transport_transmit_packets_total", "counter",
		      "Data datagrams (inner packets) sent on the transport by the current session.",
		      T_TX);
	per_transport(s, b, "jvpn_transport_receive_packets_total", "counter",
		      "Authenticated datagrams received on the transport by the current session.",
		      T_RX);
}

static void labelled(struct prom_buf *b, const char *ifname,
		     const char *lname, const char *lvalue, uint64_t v)
{
	struct prom_label l[] = { L("interface", ifname), L(lname, lvalue) };

	prom_u64(b, l, NL(l), v);
}

static void handshakes(const struct mx_snapshot *s, struct prom_buf *b)
{
	const struct jv_gateway_counters *g = &s->gw;
	struct prom_label l[] = { L("interface", s->ifname) };
	const struct { const char *reason; uint64_t v; } refused[] = {
		{ "lease", g->hs_dropped_lease },
		{ "mac1", g->hs_bad_mac1 },
		{ "source_limit", g->hs_dropped_source },
		{ "global_limit", g->hs_dropped_global },
		{ "unknown_key", g->hs_unknown_key },
		{ "noise", g->hs_dropped_noise - g->hs_unknown_key },
		{ "peer_limit", g->hs_dropped_peer_limit },
		{ "table_full", g->hs_dropped_table_full },
	};

	prom_family(b, "jvpn_handshakes_responded_total", "counter",
		    "Handshake initiations answered with a response (a new session).");
	prom_u64(b, l, NL(l), g->hs_responded);
	prom_family(b, "jvpn_handshake_dh_total", "counter",
		    "Handshake initiations given a Diffie-Hellman (past mac1, cookie and rate limits).");
	prom_u64(b, l, NL(l), g->hs_dh);
	prom_family(b, "jvpn_handshake_cookie_replies_total", "counter",
		    "Handshake initiations answered by a cookie reply under load, no DH.");
	prom_u64(b, l, NL(l), g->hs_cookie_sent);
	prom_family(b, "jvpn_handshakes_refused_total", "counter",
		    "Handshake initiations dropped, by reason.");
	for (unsigned i = 0; i < NL(refused); i++)
		labelled(b, s->ifname, "reason", refused[i].reason,
			 refused[i].v);
	prom_family(b, "jvpn_handshake_under_load", "gauge",
		    "1 while the gateway asks initiations for a cookie (mac2) first.");
	prom_u64(b, l, NL(l), g->hs_under_load);
}

static void dropped(const struct mx_snapshot *s, struct prom_buf *b)
{
	const struct jv_gateway_counters *g = &s->gw;
	uint64_t refused = g->hs_dropped + g->hs_dropped_source +
			   g->hs_dropped_global;
	const struct { const char *reason; uint64_t v; } r[] = {
		{ "parse", g->dropped_parse },
		{ "unknown_index", g->dropped_unknown - g->dropped_ended },
		{ "session_ended", g->dropped_ended },
		{ "auth_failed", g->dropped_auth },
		{ "replay", g->dropped_replay },
		{ "rate_limited", g->dropped_rate_limited },
		{ "cookie", g->hs_cookie_sent },
		{ "handshake_refused", refused },
	};

	prom_family(b, "jvpn_datagrams_dropped_total", "counter",
		    "Received datagrams the gateway dropped, by reason.");
	for (unsigned i = 0; i < NL(r); i++)
		labelled(b, s->ifname, "reason", r[i].reason, r[i].v);
}

static void daemon_counters(const struct mx_snapshot *s, struct prom_buf *b)
{
	const struct mx_daemon_counters *n = &s->n;
	struct prom_label l[] = { L("interface", s->ifname) };

	prom_family(b, "jvpn_tun_packets_total", "counter",
		    "Inner packets read from (receive) and written to (transmit) the TUN device.");
	labelled(b, s->ifname, "direction", "receive", n->tun_rx);
	labelled(b, s->ifname, "direction", "transmit", n->tun_tx);
	prom_family(b, "jvpn_tun_dropped_packets_total", "counter",
		    "Inner packets the TUN device refused or that could not be read.");
	labelled(b, s->ifname, "direction", "receive", n->tun_rx_dropped);
	labelled(b, s->ifname, "direction", "transmit", n->tun_tx_dropped);
	prom_family(b, "jvpn_udp_datagrams_total", "counter",
		    "Datagrams received and sent on the transports' UDP sockets.");
	labelled(b, s->ifname, "direction", "receive", n->udp_rx);
	labelled(b, s->ifname, "direction", "transmit", n->udp_tx);
	prom_family(b, "jvpn_udp_dropped_datagrams_total", "counter",
		    "Datagrams the UDP sockets refused to send.");
	labelled(b, s->ifname, "direction", "transmit", n->udp_tx_dropped);
	prom_family(b, "jvpn_daemon_dropped_packets_total", "counter",
		    "Packets the daemon dropped around the engine, by reason.");
	labelled(b, s->ifname, "reason", "no_route", n->no_route);
	labelled(b, s->ifname, "reason", "no_session", n->no_session);
	labelled(b, s->ifname, "reason", "bad_source", n->bad_source);
	labelled(b, s->ifname, "reason", "output_full", n->out_overflow);
	labelled(b, s->ifname, "reason", "bad_index", n->bad_index);
	prom_family(b, "jvpn_eventlog_lines_total", "counter",
		    "Event log lines written.");
	prom_u64(b, l, NL(l), n->ev_lines);
	prom_family(b, "jvpn_eventlog_write_failures_total", "counter",
		    "Event log lines lost: the file refused them (seq gap in the log).");
	prom_u64(b, l, NL(l), n->ev_sink_failures);
	prom_family(b, "jvpn_eventlog_write_errors_total", "counter",
		    "Failed writes to the event log file (a write may carry several lines).");
	prom_u64(b, l, NL(l), n->ev_write_errors);
}

void mx_render(const struct mx_snapshot *s, struct prom_buf *b)
{
	info(s, b);
	sessions(s, b);
	per_peer(s, b, "jvpn_peer_receive_bytes_total",
		 "Bytes of datagrams received from the peer by its current session (a new session starts again at 0).",
		 offsetof(struct jv_session_status, rx_bytes));
	per_peer(s, b, "jvpn_peer_transmit_bytes_total",
		 "Bytes of datagrams sent to the peer by its current session (a new session starts again at 0).",
		 offsetof(struct jv_session_status, tx_bytes));
	switches(s, b);
	reattach(s, b);
	transports(s, b);
	if (s->gateway) {
		handshakes(s, b);
		dropped(s, b);
	}
	daemon_counters(s, b);
}
