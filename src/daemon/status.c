/* SPDX-License-Identifier: MIT */
/*
 * `status` as JSON, built from the engine's plain snapshots (STYLE 12) so
 * `jvpn status`, `--json` and scripts all read the same thing.
 */

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/daemon_impl.h"
#include "daemon/key.h"
#include "net/clock.h"
#include "net/netaddr.h"

static json_t *cidr_json(const struct jv_cidr *c)
{
	char a[JV_NETADDR_STR_MAX], s[JV_NETADDR_STR_MAX + 8];

	snprintf(s, sizeof s, "%s/%u", jv_netaddr_str(&c->addr, a), c->prefix);
	return json_string(s);
}

static json_t *path_json(const struct jv_path_status *p)
{
	json_t *j = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I}",
			      "name", p->id,
			      "role", jv_path_role_name(p->role),
			      "srtt_ms", (json_int_t)p->srtt_ms,
			      "p95_ms", (json_int_t)p->p95_ms,
			      "consecutive_drops", (json_int_t)p->consecutive_drops,
			      "tx_packets", (json_int_t)p->tx_packets,
			      "rx_packets", (json_int_t)p->rx_packets);

	if (!j)
		return NULL;
	json_object_set_new(j, "loss_ratio", p->loss_ratio < 0 ? json_null()
					     : json_real(p->loss_ratio));
	json_object_set_new(j, "last_good_ms", p->last_good_ms ?
			    json_integer((json_int_t)p->last_good_ms) :
			    json_null());
	/* the remote address in full (gateway: the tuple, whose name is a
	 * hash for IPv6; client: the endpoint) */
	if (p->has_remote) {
		char a[JV_NETADDR_STR_MAX];

		json_object_set_new(j, "endpoint",
				    json_string(jv_netaddr_str(&p->remote, a)));
	}
	return j;
}

json_t *dmn_session_json(const struct jv_session_status *st)
{
	json_t *j = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I}",
			      "session_id", st->session_id,
			      "state", jv_state_name(st->state),
			      "state_version", (json_int_t)st->state_version,
			      "peer_state_version", (json_int_t)st->peer_state_version,
			      "total_switches", (json_int_t)st->total_switches,
			      "key_epoch", (json_int_t)st->key_epoch,
			      "tx_bytes", (json_int_t)st->tx_bytes,
			      "rx_bytes", (json_int_t)st->rx_bytes);
	/* PD-10, gateway: reattach requests held until their tuple proved
	 * it receives there, and how many of those tuples then did */
	if (j && (st->held_requests || st->held_proven)) {
		json_object_set_new(j, "held_requests",
				    json_integer((json_int_t)st->held_requests));
		json_object_set_new(j, "held_proven",
				    json_integer((json_int_t)st->held_proven));
	}
	json_t *paths = json_array();

	if (!j || !paths) {
		json_decref(j);
		json_decref(paths);
		return NULL;
	}
	json_object_set_new(j, "bound_transport", st->bound[0] ?
			    json_string(st->bound) : json_null());
	for (unsigned i = 0; i < st->npaths && i < JV_MAX_TRANSPORTS; i++)
		json_array_append_new(paths, path_json(&st->paths[i]));
	json_object_set_new(j, "transports", paths);
	return j;
}

/*
 * What `jvpn show` reads besides the engine's snapshot: when the peer was
 * last heard (the latest last_good_ms over the paths: an authenticated
 * packet or an answered probe, health.c), the peer's endpoint (the bound
 * transport's), and the last switch with its why (status_notes.c).
 */
static void session_extras(const struct jv_daemon *d,
			   const struct jv_session_status *st, json_t *j,
			   jv_time now)
{
	struct dmn_switch_note sw;
	jv_time last = 0;
	json_t *endpoint = json_null();

	if (!j)
		return;
	for (unsigned i = 0; i < st->npaths && i < JV_MAX_TRANSPORTS; i++) {
		const struct jv_path_status *p = &st->paths[i];

		if (p->last_good_ms > last)
			last = p->last_good_ms;
		if (p->has_remote && st->bound[0] && !strcmp(p->id, st->bound)) {
			char a[JV_NETADDR_STR_MAX];

			json_decref(endpoint);
			endpoint = json_string(jv_netaddr_str(&p->remote, a));
		}
	}
	json_object_set_new(j, "endpoint", endpoint);
	json_object_set_new(j, "latest_packet_ms",
			    last ? json_integer((json_int_t)last) : json_null());
	json_object_set_new(j, "latest_packet_age_ms", last ?
			    json_integer((json_int_t)(now > last ? now - last : 0)) :
			    json_null());
	if (!st->session_id[0] ||
	    !dmn_status_last_switch(d, st->session_id, &sw)) {
		json_object_set_new(j, "last_switch", json_null());
		return;
	}
	json_object_set_new(j, "last_switch", json_pack(
		"{s:I,s:I,s:s?,s:s,s:s?,s:s?}",
		"ts_ms", (json_int_t)sw.ts_ms,
		"age_ms", (json_int_t)(now > sw.ts_ms ? now - sw.ts_ms : 0),
		"from", sw.from[0] ? sw.from : NULL,
		"to", sw.to,
		"reason", sw.reason[0] ? sw.reason : NULL,
		"trigger_class", sw.trigger[0] ? sw.trigger : NULL));
}

static json_t *counters_json(const struct jv_daemon *d)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
			 "s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			 "tun_rx", (json_int_t)d->n.tun_rx,
			 "tun_rx_dropped", (json_int_t)d->n.tun_rx_dropped,
			 "tun_tx", (json_int_t)d->tw.st.packets,
			 "tun_tx_dropped", (json_int_t)d->tw.st.dropped,
			 "tun_tx_merged", (json_int_t)d->tw.st.merged,
			 "tun_writes", (json_int_t)d->tw.st.writes,
			 "udp_rx", (json_int_t)d->n.udp_rx,
			 "udp_tx", (json_int_t)d->n.udp_tx,
			 "udp_tx_dropped", (json_int_t)d->n.udp_tx_dropped,
			 "no_route", (json_int_t)d->n.no_route,
			 "no_session", (json_int_t)d->n.no_session,
			 "bad_source", (json_int_t)d->n.bad_source,
			 "out_overflow", (json_int_t)d->n.out_overflow,
			 "bad_index", (json_int_t)d->n.bad_index);
}

static json_t *client_json(struct jv_daemon *d, jv_time now)
{
	struct jv_session_status st;
	struct jv_client_handshake hs;
	json_t *s, *paths;

	jv_client_status(d->client, &st);
	s = dmn_session_json(&st);
	if (!s)
		return NULL;
	/* initiations nothing answered yet: a wrong key on either side */
	jv_client_handshake_info(d->client, &hs);
	json_object_set_new(s, "handshakes_unanswered",
			    json_integer((json_int_t)hs.unanswered));
	session_extras(d, &st, s, now);
	/* Add what the daemon knows of each path: endpoint, OS errors. */
	paths = json_object_get(s, "transports");
	for (size_t i = 0; i < json_array_size(paths) && i < d->npaths; i++) {
		const struct jv_cfg_transport *t = &d->cfg->transports[i];
		const struct dmn_path *p = &d->path[i];
		json_t *pj = json_array_get(paths, i);
		char a[JV_NETADDR_STR_MAX];

		/* d->ep: a host name's current address (resolve.h) */
		json_object_set_new(pj, "endpoint",
				    json_string(jv_netaddr_str(&d->ep[i], a)));
		if (t->host[0])
			json_object_set_new(pj, "endpoint_host",
					    json_string(t->host));
		if (t->has_bind)
			json_object_set_new(pj, "bind",
					    json_string(jv_netaddr_str(&t->bind, a)));
		if (t->ifname[0])
			json_object_set_new(pj, "interface", json_string(t->ifname));
		json_object_set_new(pj, "priority", json_integer(t->priority));
		json_object_set_new(pj, "os_down", json_boolean(p->down));
		json_object_set_new(pj, "hard_errors",
				    json_integer((json_int_t)p->hard_errors));
	}
	return s;
}

static json_t *allowed_json(const struct jv_cfg_peer *cp)
{
	json_t *allowed = json_array();

	for (unsigned i = 0; allowed && i < cp->nallowed; i++)
		json_array_append_new(allowed, cidr_json(&cp->allowed[i]));
	return allowed;
}

/* The client's one peer: the gateway. */
static json_t *client_peer_json(const struct jv_daemon *d)
{
	char key[JV_KEY_B64_SIZE];

	if (!d->cfg->npeers)
		return json_null();
	jv_key_to_base64(d->cfg->peers[0].public_key, key);
	return json_pack("{s:s,s:o}", "public_key", key, "allowed_ips",
			 allowed_json(&d->cfg->peers[0]));
}

static json_t *gateway_json(struct jv_daemon *d, jv_time now)
{
	json_t *peers = json_array();

	for (unsigned p = 0; p < d->cfg->npeers && peers; p++) {
		const struct jv_cfg_peer *cp = &d->cfg->peers[p];
		struct jv_session_status st;
		char key[JV_KEY_B64_SIZE];
		json_t *j, *s = json_null();

		if (cp->removed)
			continue;	/* a reload removed it (reload.h) */
		jv_key_to_base64(cp->public_key, key);
		j = json_pack("{s:s,s:o}", "public_key", key, "allowed_ips",
			      allowed_json(cp));
		if (j && cp->file)	/* PeersDir: which file says so */
			json_object_set_new(j, "file", json_string(cp->file));
		if (jv_gateway_status(d->gw, p, &st) == 0) {
			s = dmn_session_json(&st);
			session_extras(d, &st, s, now);
		}
		json_object_set_new(j, "session", s);
		json_array_append_new(peers, j);
	}
	return peers;
}

/* The gateway's handshake defence (D-019): what it answered with a
 * cookie and what it dropped, by reason. */
static json_t *handshakes_json(const struct jv_daemon *d)
{
	struct jv_gateway_counters c;

	jv_gateway_counters(d->gw, &c);
	return json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			 "under_load", c.hs_under_load,
			 "dh", (json_int_t)c.hs_dh,
			 "cookie_sent", (json_int_t)c.hs_cookie_sent,
			 "dropped", (json_int_t)c.hs_dropped,
			 "dropped_source", (json_int_t)c.hs_dropped_source,
			 "dropped_global", (json_int_t)c.hs_dropped_global,
			 "bad_mac1", (json_int_t)c.hs_bad_mac1,
			 "unknown_key", (json_int_t)c.hs_unknown_key);
}

/* Datagrams the gateway dropped past its sockets, by reason (junk from
 * anywhere moves these, never a session; docs/metrics.md has the same
 * counts as jvpn_dropped_datagrams_total). */
static json_t *dropped_json(const struct jv_daemon *d)
{
	struct jv_gateway_counters c;

	jv_gateway_counters(d->gw, &c);
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}",
			 "unknown_index",
			 (json_int_t)(c.dropped_unknown - c.dropped_ended),
			 "session_ended", (json_int_t)c.dropped_ended,
			 "failed_open", (json_int_t)c.dropped_auth,
			 "replay", (json_int_t)c.dropped_replay,
			 "rate_limited", (json_int_t)c.dropped_rate_limited,
			 "parse", (json_int_t)c.dropped_parse);
}

/* Where this endpoint receives: the gateway's listening tuples, the
 * client's transport sockets as bound (an ephemeral port is read back
 * from the socket). */
static void listen_json(const struct jv_daemon *d, json_t *j)
{
	json_t *addrs = json_array(), *ports = json_array();
	char a[JV_NETADDR_STR_MAX];

	for (unsigned i = 0; addrs && ports; i++) {
		struct jv_addr la;
		bool seen = false;
		size_t k;
		json_t *v;

		if (d->client) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof ss;

			if (i >= d->npaths)
				break;
			if (d->sock[i].fd < 0 ||
			    getsockname(d->sock[i].fd, (struct sockaddr *)&ss, &sl) ||
			    jv_netaddr_from_sockaddr(&la, (struct sockaddr *)&ss, sl))
				continue;
		} else {
			if (i >= d->gws.nsock)
				break;
			la = d->gws.bound[i];
		}
		json_array_append_new(addrs,
				      json_string(jv_netaddr_str(&la, a)));
		json_array_foreach(ports, k, v)
			seen |= json_integer_value(v) == la.port;
		if (!seen)
			json_array_append_new(ports, json_integer(la.port));
	}
	json_object_set_new(j, "listen", addrs ? addrs : json_null());
	json_object_set_new(j, "listen_ports", ports ? ports : json_null());
}

json_t *dmn_status(struct jv_daemon *d)
{
	jv_time now = jv_clock_now();
	json_t *j = json_pack("{s:b,s:s,s:s,s:s,s:i,s:I,s:I}",
			      "ok", 1,
			      "role", d->client ? "client" : "gateway",
			      "interface", d->tun.name,
			      "node_id", d->cfg->node_id,
			      "pid", (int)getpid(),
			      "now_ms", (json_int_t)now,
			      "uptime_ms", (json_int_t)(now - d->started_ms));
	json_t *addrs = json_array();
	uint8_t pub[32];
	char key[JV_KEY_B64_SIZE];

	if (!j || !addrs) {
		json_decref(j);
		json_decref(addrs);
		return dmn_error("out of memory");
	}
	if (jv_key_public(d->cfg->private_key, pub) == 0) {
		jv_key_to_base64(pub, key);
		json_object_set_new(j, "public_key", json_string(key));
	}
	listen_json(d, j);
	for (unsigned i = 0; i < d->cfg->naddr; i++)
		json_array_append_new(addrs, cidr_json(&d->cfg->addr[i]));
	json_object_set_new(j, "addresses", addrs);
	json_object_set_new(j, "policy", json_pack("{s:s,s:s}", "profile",
			    jv_policy_profile_name(d->cfg->policy.profile),
			    "version", d->cfg->policy.version));
	if (d->client) {
		json_object_set_new(j, "peer", client_peer_json(d));
		json_object_set_new(j, "session", client_json(d, now));
	} else {
		json_object_set_new(j, "peers", gateway_json(d, now));
		json_object_set_new(j, "handshakes", handshakes_json(d));
		json_object_set_new(j, "dropped", dropped_json(d));
	}
	json_object_set_new(j, "counters", counters_json(d));
	json_object_set_new(j, "event_log", json_pack("{s:s?,s:I,s:I,s:I}",
			    "path", d->ev.fd >= 0 ? d->ev.path : NULL,
			    "lines", (json_int_t)d->ev.log.lines_written,
			    "sink_failures", (json_int_t)d->ev.log.sink_failures,
			    "write_errors", (json_int_t)d->ev.write_errors));
	return j;
}
