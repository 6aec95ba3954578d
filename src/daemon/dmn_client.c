/* SPDX-License-Identifier: MIT */
/*
 * The client role: one session over several UDP paths.  The engine
 * decides everything about the session; this file moves bytes and tells
 * the engine what only the OS can see: a path's hard failure (a send, a
 * receive or an ICMP error the kernel reports, spec §6.2) and, since the
 * engine stops probing a path it was told is down, when to look at that
 * path again (jv_client_path_up after a backoff: the next probe either
 * fails at once, hard, or gets through).
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <sodium.h>

#include "daemon/daemon_impl.h"
#include "daemon/resolve.h"
#include "net/clock.h"
#include "net/netaddr.h"
#include "net/tun.h"

/* ---- endpoint host names (resolve.h) -------------------------------------- */

/* Path p died: ask its name again, at once or, within DMN_RESOLVE_MIN_MS
 * of the last question, when that time is up (a deadline of the loop);
 * the answer comes back through on_resolved. */
static void path_resolve(struct jv_daemon *d, unsigned p, jv_time now)
{
	if (!d->resolver || !d->cfg->transports[p].host[0])
		return;
	if (now < d->resolve_at[p]) {
		d->resolve_due[p] = true;
		return;
	}
	d->resolve_due[p] = false;
	d->resolve_at[p] = now + DMN_RESOLVE_MIN_MS;
	jv_resolver_request(d->resolver, p,
			    jv_netaddr_family(&d->sock[p].remote));
}

void dmn_client_transport_dead(struct jv_daemon *d, const char *name)
{
	for (unsigned p = 0; p < d->npaths; p++)
		if (!strcmp(d->cfg->transports[p].name, name))
			path_resolve(d, p, jv_clock_now());
}

static void on_resolved(struct jv_loop *l, int fd, unsigned events, void *ud)
{
	struct jv_daemon *d = ud;
	struct jv_resolve_answer a[JV_MAX_TRANSPORTS];
	char was[JV_NETADDR_STR_MAX], now_s[JV_NETADDR_STR_MAX];
	unsigned n = jv_resolver_take(d->resolver, a, JV_MAX_TRANSPORTS);

	(void)l;
	(void)fd;
	(void)events;
	for (unsigned i = 0; i < n; i++) {
		unsigned p = a[i].transport;
		const struct jv_cfg_transport *t = &d->cfg->transports[p];

		if (p >= d->npaths)
			continue;
		if (!a[i].ok) {
			dmn_log_at(d, LOG_WARNING,
				   "transport %s: %s does not resolve now (%s): keeping %s",
				t->name, t->host, a[i].error,
				jv_netaddr_str(&d->sock[p].remote, was));
			continue;
		}
		if (jv_addr_equal(&a[i].addr, &d->sock[p].remote) &&
		    a[i].addr.port == d->sock[p].remote.port)
			continue;
		dmn_log_at(d, LOG_NOTICE, "transport %s: %s is now %s (was %s)", t->name,
			t->host, jv_netaddr_str(&a[i].addr, now_s),
			jv_netaddr_str(&d->sock[p].remote, was));
		d->ep[p] = a[i].addr;
		jv_udp_path_set_remote(&d->sock[p], &a[i].addr);
		if (jv_client_set_remote(d->client, (int)p, &a[i].addr))
			dmn_log_at(d, LOG_ERR, "transport %s: the engine refused the new address",
				t->name);
		/* a down path is worth trying at once at its new address */
		if (d->path[p].down)
			d->path[p].retry_ms = jv_clock_now();
	}
}

int dmn_client_resolve(struct jv_daemon *d, char *why, size_t n)
{
	const struct jv_config *cfg = d->cfg;
	bool names = false;
	int rc;

	for (unsigned i = 0; i < cfg->ntransports; i++) {
		const struct jv_cfg_transport *t = &cfg->transports[i];

		d->ep[i] = t->endpoint;
		if (!t->host[0])
			continue;
		names = true;
		rc = jv_resolve_now(cfg, t, t->has_bind ?
				    jv_netaddr_family(&t->bind) : AF_UNSPEC,
				    &d->ep[i], why, n);
		if (rc)
			return rc;
	}
	if (!names)
		return 0;
	d->resolver = jv_resolver_new(cfg);
	if (!d->resolver) {
		snprintf(why, n, "cannot start the resolver thread: %s",
			 strerror(errno));
		return JV_ERR_NOMEM;
	}
	rc = jv_loop_add(&d->loop, jv_resolver_fd(d->resolver), JV_LOOP_READ,
			 on_resolved, d);
	if (rc) {
		snprintf(why, n, "event loop: cannot watch the resolver");
		return rc;
	}
	return 0;
}

/* ---- path health seen by the OS ------------------------------------------ */

static void path_failed(struct jv_daemon *d, unsigned p, int sys, jv_time now)
{
	struct dmn_path *dp = &d->path[p];

	dp->hard_errors++;
	dp->last_errno = sys;
	if (dp->down)
		return;
	path_resolve(d, p, now);
	if (!dp->announced)
		dmn_log_at(d, LOG_WARNING, "transport %s: %s: reported down",
			d->cfg->transports[p].name, strerror(sys));
	dp->announced = true;
	dp->down = true;
	if (sys == ECONNREFUSED) {
		/* A refusal crossed the path both ways: only the gateway's
		 * port is closed, most often a gateway restarting (PD-9).
		 * Keep probing at heartbeat pace, no backoff, so its first
		 * moment back is not missed. */
		jv_time hb = d->cfg->policy.heartbeat_interval_ms;
		dp->retry_ms = now + (hb < DMN_RETRY_FIRST_MS ? hb
							      : DMN_RETRY_FIRST_MS);
	} else {
		if (!dp->backoff_ms)
			dp->backoff_ms = DMN_RETRY_FIRST_MS;
		else if (dp->backoff_ms < DMN_RETRY_MAX_MS)
			dp->backoff_ms *= 2;
		if (dp->backoff_ms > DMN_RETRY_MAX_MS)
			dp->backoff_ms = DMN_RETRY_MAX_MS;
		dp->retry_ms = now + dp->backoff_ms;
	}
	dmn_room(d);
	(void)jv_client_path_down(d->client, (int)p, now, d->out);
}

/* Something arrived on p: it works, whatever the engine concludes. */
static void path_heard(struct jv_daemon *d, unsigned p)
{
	struct dmn_path *dp = &d->path[p];

	if (dp->announced && !dp->down)
		dmn_log(d, "transport %s: receiving again",
			d->cfg->transports[p].name);
	dp->announced = false;
	dp->backoff_ms = 0;
}

static void retry_paths(struct jv_daemon *d, jv_time now)
{
	for (unsigned p = 0; p < d->npaths; p++) {
		struct dmn_path *dp = &d->path[p];

		if (!dp->down || now < dp->retry_ms)
			continue;
		dp->down = false;
		dmn_room(d);
		(void)jv_client_path_up(d->client, (int)p, now, d->out);
	}
}

/* ---- output --------------------------------------------------------------- */

static bool source_allowed(const struct jv_config *cfg, const uint8_t src[16])
{
	const struct jv_cfg_peer *peer = &cfg->peers[0];

	for (unsigned i = 0; i < peer->nallowed; i++)
		if (jv_cidr_contains(&peer->allowed[i], src))
			return true;
	for (unsigned i = 0; i < cfg->naddr; i++)
		if (jv_cidr_contains(&cfg->addr[i], src))
			return true;
	return false;
}

void dmn_client_flush(struct jv_daemon *d)
{
	struct jv_udp_txres res[JV_MAX_TRANSPORTS];
	struct jv_out *o = d->out;

	/* A hard send error makes the engine react (path down), which may
	 * queue more output: bounded rounds, each path fails once at most. */
	for (int round = 0; round <= JV_MAX_TRANSPORTS &&
	     (o->ndgram || o->ninner); round++) {
		bool failed[JV_MAX_TRANSPORTS] = { false };
		jv_time now;

		d->n.out_overflow += o->overflow;
		d->n.bad_index += jv_udp_client_flush(d->sock, d->npaths, o, res);
		for (unsigned i = 0; i < o->ninner; i++) {
			const struct jv_inner *in = &o->inner[i];
			uint8_t src[16], dst[16];

			if (!dmn_ip_addrs(in->buf, in->len, src, dst) ||
			    !source_allowed(d->cfg, src)) {
				d->n.bad_source++;
				continue;
			}
			jv_tun_put(&d->tw, in->buf, in->len);
		}
		jv_out_reset(o);
		for (unsigned p = 0; p < d->npaths; p++) {
			d->path[p].tx += res[p].sent;
			d->path[p].tx_dropped += res[p].dropped;
			d->n.udp_tx += res[p].sent;
			d->n.udp_tx_dropped += res[p].dropped;
			failed[p] = res[p].dropped && jv_udp_err_is_hard(res[p].sys);
		}
		now = jv_clock_now();
		for (unsigned p = 0; p < d->npaths; p++)
			if (failed[p])
				path_failed(d, p, res[p].sys, now);
	}
}

/* ---- input ----------------------------------------------------------------- */

void dmn_client_tun(struct jv_daemon *d, const uint8_t *p, size_t n,
		    jv_time now)
{
	int rc;

	if (d->out->ndgram >= JV_OUT_DGRAMS)
		dmn_flush_out(d);
	rc = jv_client_send(d->client, p, n, now, d->out);
	if (rc == JV_ERR_STATE)
		d->n.no_session++;	/* no binding now: dropped, like a
					 * router without a route */
}

static void on_path(struct jv_loop *l, int fd, unsigned events, void *ud)
{
	struct dmn_fdref *ref = ud;
	struct jv_daemon *d = ref->d;
	unsigned p = ref->idx;
	jv_time now = jv_clock_now();
	int sys = 0;

	(void)l;
	(void)fd;
	if (events & JV_LOOP_ERR) {
		sys = jv_udp_take_error(d->sock[p].fd);
		if (sys && jv_udp_err_is_hard(sys))
			path_failed(d, p, sys, now);
	}
	if (!(events & JV_LOOP_READ))
		return;
	for (int b = 0; b < DMN_RX_BURST; b++) {
		unsigned got = jv_udp_path_recv(&d->sock[p], d->rx, &sys);

		for (unsigned i = 0; i < got; i++) {
			const struct jv_udp_rx *m = &d->rx->msg[i];

			dmn_room(d);
			(void)jv_client_recv(d->client, (int)p, m->buf, m->len,
					     now, d->out);
		}
		if (got) {
			d->path[p].rx += got;
			d->n.udp_rx += got;
			path_heard(d, p);
		}
		if (sys && jv_udp_err_is_hard(sys))
			path_failed(d, p, sys, now);
		if (!d->rx->more)
			break;
	}
}

void dmn_client_tick(struct jv_daemon *d, jv_time now)
{
	for (unsigned p = 0; p < d->npaths; p++)
		if (d->resolve_due[p] && now >= d->resolve_at[p])
			path_resolve(d, p, now);
	retry_paths(d, now);
	dmn_room(d);
	if (jv_client_tick(d->client, now, d->out))
		dmn_log_at(d, LOG_ERR, "engine tick failed");
	dmn_hslog_client(d, now);
}

jv_time dmn_client_deadline(struct jv_daemon *d)
{
	jv_time t = jv_client_deadline(d->client);

	for (unsigned p = 0; p < d->npaths; p++) {
		if (d->path[p].down && d->path[p].retry_ms < t)
			t = d->path[p].retry_ms;
		if (d->resolve_due[p] && d->resolve_at[p] < t)
			t = d->resolve_at[p];
	}
	return t;
}

/* ---- set-up, commands, teardown ---------------------------------------------- */

int dmn_client_start(struct jv_daemon *d, char *why, size_t n)
{
	const struct jv_config *cfg = d->cfg;
	struct jv_client_config cc = {
		.policy = &cfg->policy,
		.node_id = cfg->node_id,
		.rng = d->rng,
		.on_event = dmn_on_event,
		.ud = d,
	};
	char ep[JV_NETADDR_STR_MAX], lb[JV_NETADDR_STR_MAX];
	int rc;

	memcpy(cc.private_key, cfg->private_key, 32);
	memcpy(cc.gateway_public, cfg->peers[0].public_key, 32);
	d->client = jv_client_new(&cc);
	sodium_memzero(cc.private_key, sizeof cc.private_key);
	if (!d->client) {
		snprintf(why, n, "the engine refused the client (out of memory or invalid policy)");
		return JV_ERR_INVAL;
	}
	for (unsigned i = 0; i < JV_MAX_TRANSPORTS; i++)
		d->sock[i].fd = -1;
	for (unsigned i = 0; i < cfg->ntransports; i++) {
		const struct jv_cfg_transport *t = &cfg->transports[i];
		struct jv_net_err err = { 0 };

		rc = jv_udp_path_open(&d->sock[i], &d->ep[i],
				      t->has_bind ? &t->bind : NULL,
				      t->ifname[0] ? t->ifname : NULL, &err);
		if (rc) {
			snprintf(why, n, "transport %s: %s", t->name, err.msg);
			return rc;
		}
		d->npaths = i + 1;
		if (cfg->fwmark &&
		    jv_udp_set_mark(d->sock[i].fd, cfg->fwmark, &err)) {
			snprintf(why, n, "transport %s: %s", t->name, err.msg);
			return JV_ERR_IO;
		}
		d->path[i].ref = (struct dmn_fdref){ .d = d, .idx = i };
		rc = jv_loop_add(&d->loop, d->sock[i].fd, JV_LOOP_READ, on_path,
				 &d->path[i].ref);
		if (rc) {
			snprintf(why, n, "transport %s: event loop full", t->name);
			return rc;
		}
		rc = jv_client_add_transport(d->client, t->name, JV_PROTO_UDP,
					     t->priority);
		if (rc < 0) {
			snprintf(why, n, "transport %s: %s%s", t->name,
				 jv_strerror(rc),
				 rc == JV_ERR_INVAL ?
				 " (is udp in transport.allowed_protocols?)" : "");
			return rc;
		}
		if (jv_client_set_remote(d->client, rc, &d->ep[i])) {
			snprintf(why, n, "transport %s: bad endpoint", t->name);
			return JV_ERR_INVAL;
		}
		dmn_log(d, "transport %s: %s%s%s -> %s%s%s (priority %u)", t->name,
			t->has_bind ? jv_netaddr_str(&t->bind, lb) : "*",
			t->ifname[0] ? " dev " : "", t->ifname,
			jv_netaddr_str(&d->ep[i], ep), t->host[0] ? " = " : "",
			t->host, t->priority);
	}
	dmn_log(d, "client %s up (mtu %u, policy %s %s), event log %s, control %s",
		d->tun.name, cfg->mtu,
		jv_policy_profile_name(cfg->policy.profile),
		cfg->policy.version,
		cfg->event_log[0] ? cfg->event_log : "off",
		cfg->control_socket);
	rc = jv_client_start(d->client, jv_clock_now(), d->out);
	if (rc) {
		snprintf(why, n, "handshake start: %s", jv_strerror(rc));
		return rc;
	}
	return 0;
}

void dmn_client_stop(struct jv_daemon *d)
{
	enum jv_state st = jv_client_state(d->client);

	/* X5 operator_terminated; the engine tells the gateway. */
	if (st != JV_STATE_TERMINATED && st != JV_STATE_BIRTH) {
		dmn_room(d);
		(void)jv_client_terminate(d->client, jv_clock_now(), d->out);
	}
}

json_t *dmn_client_switch(struct jv_daemon *d, const char *arg)
{
	enum jv_state st = jv_client_state(d->client);
	char names[JV_MAX_TRANSPORTS * JV_TRANSPORT_ID_MAX] = "";
	struct jv_switch_answer ans;
	jv_time now = jv_clock_now();
	int rc;

	dmn_room(d);
	rc = jv_client_request_switch(d->client, arg, now, d->out, &ans);
	if (rc == JV_ERR_NOTFOUND) {
		size_t pos = 0;

		for (unsigned i = 0; i < d->cfg->ntransports; i++)
			pos += (size_t)snprintf(names + pos, sizeof names - pos,
						"%s%s", i ? ", " : "",
						d->cfg->transports[i].name);
		return dmn_error("no transport named '%s' (transports: %s)",
				 arg, names);
	}
	if (rc == JV_ERR_STATE) {
		if (st == JV_STATE_RECOVERING)
			return dmn_error("switch refused: a reattach attempt is already in progress (RECOVERING); try again when it ends");
		return dmn_error("switch refused: no live session (state %s)",
				 jv_state_name(st));
	}
	if (rc)
		return dmn_error("switch failed: %s", jv_strerror(rc));
	if (ans.refused != JV_REASON_NONE && ans.until_ms &&
	    ans.until_ms != JV_TIME_NEVER)
		return dmn_error("switch to %s refused (%s): %s; possible in %.1f s",
				 arg, jv_reason_name(ans.refused), ans.detail,
				 (double)(ans.until_ms - now) / 1000.0);
	if (ans.refused == JV_REASON_SWITCH_RATE_LIMITED)
		return dmn_error("switch to %s refused (%s): switching.max_switches_per_min is 0 (switching disabled)",
				 arg, jv_reason_name(ans.refused));
	if (ans.refused != JV_REASON_NONE)
		return dmn_error("switch to %s refused (%s): %s", arg,
				 jv_reason_name(ans.refused), ans.detail);
	st = jv_client_state(d->client);
	dmn_log(d, "operator asked to switch to %s (state now %s)", arg,
		jv_state_name(st));
	return json_pack("{s:b,s:s,s:s}", "ok", 1, "requested", arg, "state",
			 jv_state_name(st));
}

json_t *dmn_client_terminate(struct jv_daemon *d, const char *arg)
{
	struct jv_session_status st;
	enum jv_state s = jv_client_state(d->client);

	jv_client_status(d->client, &st);
	if (arg && (strlen(arg) < 4 || strncmp(st.session_id, arg, strlen(arg))))
		return dmn_error("no session '%s' here (the session is %s)", arg,
				 st.session_id[0] ? st.session_id : "not created yet");
	if (s == JV_STATE_TERMINATED)
		return dmn_error("the session is already TERMINATED");
	dmn_log(d, "operator terminate");
	d->operator_stop = true;
	if (s == JV_STATE_BIRTH) {
		/* No session to end: the daemon just stops. */
		d->stopped = true;
		d->exit_code = JV_EXIT_OK;
		jv_loop_stop(&d->loop);
		return json_pack("{s:b,s:i}", "ok", 1, "terminated", 0);
	}
	dmn_room(d);
	(void)jv_client_terminate(d->client, jv_clock_now(), d->out);
	return json_pack("{s:b,s:i,s:s}", "ok", 1, "terminated", 1,
			 "session_id", st.session_id);
}

void dmn_client_close(struct jv_daemon *d)
{
	if (d->resolver) {
		if (d->loop_ok)
			(void)jv_loop_del(&d->loop,
					  jv_resolver_fd(d->resolver));
		jv_resolver_free(d->resolver);
		d->resolver = NULL;
	}
	for (unsigned i = 0; i < d->npaths; i++) {
		if (d->sock[i].fd >= 0 && d->loop_ok)
			(void)jv_loop_del(&d->loop, d->sock[i].fd);
		jv_udp_path_close(&d->sock[i]);
	}
	d->npaths = 0;
	jv_client_free(d->client);
	d->client = NULL;
}
