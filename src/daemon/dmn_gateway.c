/* SPDX-License-Identifier: MIT */
/*
 * The gateway role: listen sockets on every configured address and port,
 * one peer per [Peer] key.  An inner packet from the TUN goes to the peer
 * whose AllowedIPs hold its destination (longest prefix); an inner packet
 * from a peer is delivered only if its source lies in that peer's
 * AllowedIPs (cryptokey routing, as in WireGuard: a client cannot speak
 * for another's addresses).  Send errors towards a client are counted,
 * never acted on: the gateway judges paths by silence (spec OP-1).
 */

#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <sodium.h>

#include "daemon/daemon_impl.h"
#include "daemon/key.h"
#include "daemon/route_table.h"
#include "jvpn/record.h"
#include "net/clock.h"
#include "net/netaddr.h"
#include "net/tun.h"

void dmn_gateway_flush(struct jv_daemon *d)
{
	struct jv_udp_txres res[JV_UDP_LISTEN_MAX];
	struct jv_out *o = d->out;

	if (!o->ndgram && !o->ninner)
		return;
	d->n.out_overflow += o->overflow;
	d->n.bad_index += jv_udp_gw_flush(&d->gws, o, res);
	for (unsigned s = 0; s < d->gws.nsock; s++) {
		d->n.udp_tx += res[s].sent;
		d->n.udp_tx_dropped += res[s].dropped;
	}
	for (unsigned i = 0; i < o->ninner; i++) {
		const struct jv_inner *in = &o->inner[i];
		const struct jv_cfg_peer *peer;
		uint8_t src[16], dst[16];
		bool ok = false;

		if (in->peer >= d->cfg->npeers ||
		    !dmn_ip_addrs(in->buf, in->len, src, dst)) {
			d->n.bad_source++;
			continue;
		}
		peer = &d->cfg->peers[in->peer];
		for (unsigned a = 0; a < peer->nallowed && !ok; a++)
			ok = jv_cidr_contains(&peer->allowed[a], src);
		if (!ok) {
			d->n.bad_source++;
			continue;
		}
		jv_tun_put(&d->tw, in->buf, in->len);
	}
	jv_out_reset(o);
}

void dmn_gateway_tun(struct jv_daemon *d, const uint8_t *p, size_t n,
		     jv_time now)
{
	uint8_t src[16], dst[16];
	int peer, rc;

	if (!dmn_ip_addrs(p, n, src, dst)) {
		d->n.no_route++;
		return;
	}
	peer = jv_config_route_lookup(d->cfg, dst);
	if (peer < 0) {
		d->n.no_route++;
		return;
	}
	if (d->out->ndgram >= JV_OUT_DGRAMS)
		dmn_flush_out(d);
	rc = jv_gateway_send(d->gw, (uint32_t)peer, p, n, now, d->out);
	if (rc == JV_ERR_STATE)
		d->n.no_session++;
}

static void on_listen(struct jv_loop *l, int fd, unsigned events, void *ud)
{
	struct dmn_fdref *ref = ud;
	struct jv_daemon *d = ref->d;
	jv_time now = jv_clock_now();
	int sys = 0;

	(void)l;
	if (events & JV_LOOP_ERR)
		(void)jv_udp_take_error(fd);
	if (!(events & JV_LOOP_READ))
		return;
	for (int b = 0; b < DMN_RX_BURST; b++) {
		unsigned got = jv_udp_gw_recv(&d->gws, ref->idx, d->rx, &sys);

		for (unsigned i = 0; i < got; i++) {
			const struct jv_udp_rx *m = &d->rx->msg[i];

			dmn_room(d);
			(void)jv_gateway_recv(d->gw, m->local, &m->from, m->buf,
					      m->len, now, d->out);
		}
		d->n.udp_rx += got;
		if (!d->rx->more)
			break;
	}
	dmn_hslog_gateway(d, now);
}

void dmn_gateway_tick(struct jv_daemon *d, jv_time now)
{
	dmn_store_tick(d, now);
	/* tick returns 1 when the output filled before every due timer ran */
	for (int i = 0; i < 1024; i++) {
		int rc;

		dmn_room(d);
		rc = jv_gateway_tick(d->gw, now, d->out);
		if (rc != 1)
			break;
		dmn_flush_out(d);
	}
	dmn_hslog_gateway(d, now);
}

jv_time dmn_gateway_deadline(struct jv_daemon *d)
{
	jv_time g = jv_gateway_deadline(d->gw), s = dmn_store_deadline(d);
	jv_time h = dmn_hslog_deadline(d);

	if (s < g)
		g = s;
	return h < g ? h : g;
}

/* Room in every listen socket for a reattach of every peer at once
 * (net/udp.h), at start and after a reload changed the peers; best
 * effort, like the socket's own size. */
void dmn_gateway_size_rcvbuf(struct jv_daemon *d)
{
	int bytes = jv_udp_gw_rcvbuf_bytes(d->cfg->npeers);

	for (unsigned i = 0; i < d->gws.nsock; i++)
		(void)jv_udp_set_rcvbuf(d->gws.fd[i], bytes);
}

int dmn_gateway_start(struct jv_daemon *d, char *why, size_t n)
{
	const struct jv_config *cfg = d->cfg;
	struct jv_gateway_config gc = {
		.policy = &cfg->policy,
		.node_id = cfg->node_id,
		.rng = d->rng,
		.on_event = dmn_on_event,
		.ud = d,
		.max_sessions = cfg->max_sessions,
		.handshakes_per_sec = cfg->handshakes_per_sec,
		.handshake_burst = cfg->handshake_burst,
	};
	char a[JV_NETADDR_STR_MAX], dir[JV_CFG_PATH_MAX + 32] = "";
	int rc;

	rc = dmn_store_open(d, why, n);
	if (rc)
		return rc;
	if (!d->store)
		dmn_log_at(d, LOG_NOTICE, "no session store (StateDir = off): sessions end with this process");
	gc.durable = d->store != NULL;
	memcpy(gc.private_key, cfg->private_key, 32);
	d->gw = jv_gateway_new(&gc);
	sodium_memzero(gc.private_key, sizeof gc.private_key);
	if (!d->gw) {
		snprintf(why, n, "the engine refused the gateway (out of memory or invalid policy)");
		return JV_ERR_INVAL;
	}
	for (unsigned i = 0; i < cfg->npeers; i++) {
		rc = jv_gateway_add_peer(d->gw, cfg->peers[i].public_key);
		if (rc != (int)i) {
			snprintf(why, n, "[Peer] at %s:%u: %s",
				 jv_config_peer_file(cfg, &cfg->peers[i]),
				 cfg->peers[i].line,
				 rc < 0 ? jv_strerror(rc) : "peer index mismatch");
			return rc < 0 ? rc : JV_ERR_INVAL;
		}
	}
	/* every packet from the TUN asks it (route_table.h) */
	if (jv_route_table_for(d->cfg, &d->cfg->routes)) {
		snprintf(why, n, "out of memory for the routing table");
		return JV_ERR_NOMEM;
	}
	/* Owner only once the store says so (etcd: the lease granted;
	 * sqlite: at the first tick, for the life of the process). */
	if (d->store)
		jv_gateway_set_lease(d->gw, 0);
	jv_udp_gw_init(&d->gws);
	for (unsigned i = 0; i < cfg->nlisten; i++) {
		struct jv_net_err err = { 0 };

		rc = jv_udp_gw_listen(&d->gws, &cfg->listen[i], &err);
		if (rc < 0) {
			snprintf(why, n, "listen %s: %s",
				 jv_netaddr_str(&cfg->listen[i], a), err.msg);
			return rc;
		}
		/* FwMark on a gateway: only when given (docs/config.md). */
		if (cfg->fwmark &&
		    jv_udp_set_mark(d->gws.fd[rc], cfg->fwmark, &err)) {
			snprintf(why, n, "listen %s: %s",
				 jv_netaddr_str(&cfg->listen[i], a), err.msg);
			return JV_ERR_IO;
		}
		d->gwref[rc] = (struct dmn_fdref){ .d = d, .idx = (unsigned)rc };
		rc = jv_loop_add(&d->loop, d->gws.fd[rc], JV_LOOP_READ,
				 on_listen, &d->gwref[rc]);
		if (rc) {
			snprintf(why, n, "listen: event loop full");
			return rc;
		}
		dmn_log(d, "listening on %s", jv_netaddr_str(&cfg->listen[i], a));
	}
	dmn_gateway_size_rcvbuf(d);
	if (cfg->peers_dir[0])
		snprintf(dir, sizeof dir, " (%u from %s)", cfg->npeers_dir,
			 cfg->peers_dir);
	dmn_log(d, "gateway %s up (mtu %u, %u peer%s%s, policy %s %s), event log %s, control %s",
		d->tun.name, cfg->mtu, cfg->npeers, cfg->npeers == 1 ? "" : "s",
		dir,
		jv_policy_profile_name(cfg->policy.profile),
		cfg->policy.version,
		cfg->event_log[0] ? cfg->event_log : "off",
		cfg->control_socket);
	return 0;
}

void dmn_gateway_stop(struct jv_daemon *d)
{
	jv_time now = jv_clock_now();

	/* With a store, stopping is not ending: the sessions stay there for
	 * the next start or another node (PD-9); `jvpn terminate all` ends
	 * them.  The store's close releases the lease, so a peer node need
	 * not wait for it to expire. */
	if (d->store) {
		dmn_store_pump(d);
		dmn_log(d, "stopping: sessions stay in the store for the next start (jvpn terminate all ends them)");
		return;
	}
	/* Every live session ends with operator_terminated; each client is
	 * told (TERMINATE on its binding). */
	for (unsigned p = 0; p < d->cfg->npeers; p++) {
		dmn_room(d);
		(void)jv_gateway_terminate(d->gw, p, now, d->out);
	}
}

/* Peers a terminate argument names: "all", a session id (or a prefix of
 * at least 8 digits), or a peer's public key. */
json_t *dmn_gateway_terminate(struct jv_daemon *d, const char *arg)
{
	jv_time now = jv_clock_now();
	json_t *ids = json_array();
	uint8_t key[32];
	bool by_key = arg && jv_key_from_base64(arg, key) == 0;
	unsigned done = 0;

	if (!arg) {
		json_decref(ids);
		return dmn_error("a gateway holds many sessions: terminate SESSION_ID, PUBLIC_KEY or all (see jvpn status)");
	}
	if (!by_key && strcmp(arg, "all") && strlen(arg) < 8) {
		json_decref(ids);
		return dmn_error("'%s': give at least 8 digits of the session id, a peer's public key, or all",
				 arg);
	}
	for (unsigned p = 0; p < d->cfg->npeers; p++) {
		struct jv_session_status st;

		if (jv_gateway_status(d->gw, p, &st) ||
		    st.state == JV_STATE_TERMINATED)
			continue;
		if (by_key ? sodium_memcmp(key, d->cfg->peers[p].public_key, 32) != 0
			   : (strcmp(arg, "all") &&
			      strncmp(st.session_id, arg, strlen(arg))))
			continue;
		dmn_room(d);
		if (jv_gateway_terminate(d->gw, p, now, d->out) == 0) {
			json_array_append_new(ids, json_string(st.session_id));
			done++;
		}
	}
	if (!done && strcmp(arg, "all")) {
		json_decref(ids);
		return dmn_error("no live session matches '%s'", arg);
	}
	dmn_log(d, "operator terminated %u session(s)", done);
	return json_pack("{s:b,s:i,s:o}", "ok", 1, "terminated", (int)done,
			 "sessions", ids);
}

void dmn_gateway_close(struct jv_daemon *d)
{
	dmn_store_close(d);
	for (unsigned s = 0; s < d->gws.nsock; s++)
		if (d->gws.fd[s] >= 0 && d->loop_ok)
			(void)jv_loop_del(&d->loop, d->gws.fd[s]);
	jv_udp_gw_close(&d->gws);
	jv_gateway_free(d->gw);
	d->gw = NULL;
}
