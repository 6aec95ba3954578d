/* SPDX-License-Identifier: MIT */
/*
 * The metrics endpoint in the daemon (metrics.h): the listening socket
 * (ours, so a bind error names the address), libmicrohttpd in external
 * epoll mode under the daemon's loop, the scrape built whole into a
 * buffer, and the counters kept from events.
 *
 * Bounded: MX_CONN_MAX connections (MX_CONN_PER_IP from one address),
 * each closed after MX_CONN_TIMEOUT_S idle and given MX_CONN_MEMORY for
 * its request; a request body is never read.  Only GET and HEAD of
 * /metrics are served (404 another path, 405 another method).
 */

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <microhttpd.h>

#include "daemon/daemon_impl.h"
#include "daemon/key.h"
#include "daemon/keymap.h"
#include "daemon/metrics.h"
#include "jvpn/eventlog.h"
#include "net/clock.h"
#include "net/netaddr.h"

/* Counters kept per peer key, so they survive a new session (and a
 * reload that reorders the peers). */
struct mx_acc {
	uint8_t key[32];
	uint64_t switches[MX_CLASS_COUNT];
};

enum { MX_RESCAN_MS = 1000 };	/* peer_of's fallback scan, at most */

/*
 * Every lookup per event and per scraped peer is a hash, not a scan
 * (D-032): a failover of 10 000 sessions is 10 000 events, a scrape
 * 10 000 peers.
 */
struct dmn_metrics {
	struct MHD_Daemon *mhd;
	int lfd, epfd;
	bool watched;
	struct mx_acc *acc;
	unsigned nacc, capacc;
	struct dmn_keymap acc_at;		/* peer key -> acc index */
	struct dmn_keymap sid_acc;		/* session id -> acc index */
	jv_time scanned_ms;			/* peer_of's last scan */
	bool scanned;
	jv_time logged_ms;			/* mhd_log's last line */
	uint64_t log_suppressed;		/* ... and those held back since */
	uint64_t reattach[MX_STATUS_COUNT][JV_REASON_COUNT + 1];
};

/* ---- counting events ---------------------------------------------------- */

static struct mx_acc *acc_for(struct dmn_metrics *m, const uint8_t key[32])
{
	uint32_t i;

	if (dmn_keymap_get(&m->acc_at, key, &i))
		return &m->acc[i];
	if (m->nacc == m->capacc) {
		unsigned cap = m->capacc ? 2 * m->capacc : 8;
		struct mx_acc *a = realloc(m->acc, cap * sizeof *a);

		if (!a)
			return NULL;
		m->acc = a;
		m->capacc = cap;
	}
	if (dmn_keymap_put(&m->acc_at, key, m->nacc))
		return NULL;
	memset(&m->acc[m->nacc], 0, sizeof m->acc[0]);
	memcpy(m->acc[m->nacc].key, key, 32);
	return &m->acc[m->nacc++];
}

/* Session sid belongs to peer key `key`. */
static void learn(struct dmn_metrics *m, const char *sid, const uint8_t key[32])
{
	struct mx_acc *a = acc_for(m, key);
	uint8_t k[32];

	dmn_keymap_sid(sid, k);
	if (a && dmn_keymap_put(&m->sid_acc, k, (uint32_t)(a - m->acc)))
		return;	/* out of memory: that session's switches go uncounted */
}

/*
 * The accumulator of the peer whose session is `sid` (NULL: none).  A
 * gateway's session is learnt when it is created (the event names its
 * peer's key); one the events did not introduce (resumed from the store)
 * is found by a pass over the peers' status, which learns them all, at
 * most once a second.  A session forgets itself when it ends.
 */
static struct mx_acc *acc_of(struct jv_daemon *d, const char *sid)
{
	struct dmn_metrics *m = d->metrics;
	struct jv_session_status st;
	jv_time now;
	uint8_t k[32];
	uint32_t i;

	if (d->client)
		return d->cfg->npeers ? acc_for(m, d->cfg->peers[0].public_key)
				      : NULL;
	dmn_keymap_sid(sid, k);
	if (dmn_keymap_get(&m->sid_acc, k, &i))
		return &m->acc[i];
	now = jv_clock_now();
	if (m->scanned && now < m->scanned_ms + MX_RESCAN_MS)
		return NULL;
	m->scanned = true;
	m->scanned_ms = now;
	for (unsigned p = 0; p < d->cfg->npeers; p++)
		if (!d->cfg->peers[p].removed &&
		    jv_gateway_status(d->gw, p, &st) == 0 && st.session_id[0])
			learn(m, st.session_id, d->cfg->peers[p].public_key);
	return dmn_keymap_get(&m->sid_acc, k, &i) ? &m->acc[i] : NULL;
}

void dmn_metrics_event(struct jv_daemon *d, const struct jv_event_origin *o,
		       const struct jv_event *ev)
{
	struct dmn_metrics *m = d->metrics;
	struct mx_acc *a;
	unsigned c, s;

	if (!m)
		return;
	if (ev->type == JV_EV_REATTACH_RESULT) {
		s = !JV_EV_HAS(ev, status) || !ev->status ? MX_STATUS_OTHER :
		    !strcmp(ev->status, "SUCCESS")	  ? MX_SUCCESS :
		    !strcmp(ev->status, "DENIED")	  ? MX_DENIED :
							    MX_STATUS_OTHER;
		c = JV_EV_HAS(ev, reason_code) &&
				    ev->reason_code > JV_REASON_NONE &&
				    ev->reason_code < JV_REASON_COUNT ?
			    (unsigned)ev->reason_code + 1 : 0;
		m->reattach[s][c]++;
		return;
	}
	if (!o->session_id || !o->session_id[0])
		return;
	if (ev->type == JV_EV_SESSION_CREATED && d->gw &&
	    JV_EV_HAS(ev, peer_public_key) && ev->peer_public_key) {
		uint8_t key[32];

		if (!jv_key_from_base64(ev->peer_public_key, key))
			learn(m, o->session_id, key);
		return;
	}
	if (ev->type == JV_EV_SESSION_TERMINATED) {
		uint8_t k[32];

		dmn_keymap_sid(o->session_id, k);
		dmn_keymap_del(&m->sid_acc, k);
		return;
	}
	if (ev->type != JV_EV_TRANSPORT_SWITCH || !(a = acc_of(d, o->session_id)))
		return;
	c = !JV_EV_HAS(ev, trigger_class) || !ev->trigger_class ? MX_CLASS_OTHER :
	    !strcmp(ev->trigger_class, "forced")	     ? MX_FORCED :
	    !strcmp(ev->trigger_class, "discretionary")	     ? MX_DISCRETIONARY :
								MX_CLASS_OTHER;
	a->switches[c]++;
}

/* ---- one scrape ------------------------------------------------------------ */

static void snapshot_counters(const struct jv_daemon *d,
			      struct mx_daemon_counters *n)
{
	n->tun_rx = d->n.tun_rx;
	n->tun_rx_dropped = d->n.tun_rx_dropped;
	n->tun_tx = d->tw.st.packets;
	n->tun_tx_dropped = d->tw.st.dropped;
	n->udp_rx = d->n.udp_rx;
	n->udp_tx = d->n.udp_tx;
	n->udp_tx_dropped = d->n.udp_tx_dropped;
	n->no_route = d->n.no_route;
	n->no_session = d->n.no_session;
	n->bad_source = d->n.bad_source;
	n->out_overflow = d->n.out_overflow;
	n->bad_index = d->n.bad_index;
	n->ev_lines = d->ev.log.lines_written;
	n->ev_sink_failures = d->ev.log.sink_failures;
	n->ev_write_errors = d->ev.write_errors;
}

/* The scrape's text, or NULL (out of memory). *len its length. */
static char *scrape(struct jv_daemon *d, size_t *len)
{
	struct dmn_metrics *m = d->metrics;
	struct mx_snapshot s;
	struct mx_peer *peers;
	struct prom_buf b = { 0 };

	memset(&s, 0, sizeof s);
	peers = calloc(d->cfg->npeers ? d->cfg->npeers : 1, sizeof *peers);
	if (!peers)
		return NULL;
	for (unsigned p = 0; p < d->cfg->npeers; p++) {
		const struct jv_cfg_peer *cp = &d->cfg->peers[p];
		struct mx_peer *pe = &peers[s.npeers];
		struct mx_acc *a;

		if (cp->removed)
			continue;	/* a reload removed it: a hole (reload.h) */
		s.npeers++;
		jv_key_to_base64(cp->public_key, pe->key);
		if ((a = acc_for(m, cp->public_key)))
			memcpy(pe->switches, a->switches, sizeof pe->switches);
		if (d->client) {
			jv_client_status(d->client, &pe->st);
			pe->has_session = pe->st.session_id[0] != '\0';
		} else {
			pe->has_session =
				jv_gateway_status(d->gw, p, &pe->st) == 0;
		}
	}
	s.ifname = d->tun.name;
	s.node_id = d->cfg->node_id;
	s.gateway = d->gw != NULL;
	s.peers = peers;
	if (d->gw)
		jv_gateway_counters(d->gw, &s.gw);
	snapshot_counters(d, &s.n);
	memcpy(s.reattach, m->reattach, sizeof s.reattach);
	mx_render(&s, &b);
	free(peers);
	if (b.oom) {
		prom_buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/* ---- HTTP --------------------------------------------------------------- */

static enum MHD_Result answer(struct MHD_Connection *c, unsigned code,
			      const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				      "text/plain; charset=utf-8");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
					      "GET, HEAD");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c,
				 const char *url, const char *method,
				 const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	struct jv_daemon *d = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	unsigned code = mx_route(method, url);
	char *body;
	size_t len = 0;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	if (code == 404)
		return answer(c, MHD_HTTP_NOT_FOUND,
			      "not found: the metrics are at /metrics\n");
	if (code == 405)
		return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			      "method not allowed: GET or HEAD /metrics\n");
	body = scrape(d, &len);
	if (!body)
		return answer(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			      "out of memory\n");
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				      "text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* libmicrohttpd's complaints (a refused connection, a bad request), at
 * most one line per MX_LOG_GAP_MS: a client hammering the endpoint must
 * not flood the daemon's log. */
__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct jv_daemon *d = cls;
	struct dmn_metrics *m = d->metrics;
	jv_time now = jv_clock_now();
	char msg[300];
	size_t n;

	if (m && m->logged_ms && now < m->logged_ms + MX_LOG_GAP_MS) {
		m->log_suppressed++;
		return;
	}
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (m && m->log_suppressed)
		dmn_log_at(d, LOG_WARNING, "metrics: %s (and %llu more messages)",
			   msg, (unsigned long long)m->log_suppressed);
	else
		dmn_log_at(d, LOG_WARNING, "metrics: %s", msg);
	if (m) {
		m->logged_ms = now;
		m->log_suppressed = 0;
	}
}

static void on_epoll(struct jv_loop *l, int fd, unsigned events, void *ud)
{
	struct jv_daemon *d = ud;

	(void)l;
	(void)fd;
	(void)events;
	dmn_metrics_run(d);
}

static int listen_socket(const struct jv_addr *a, char *why, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len = jv_netaddr_to_sockaddr(a, &ss);
	char s[JV_NETADDR_STR_MAX];
	int one = 1;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);

	jv_netaddr_str(a, s);
	if (fd < 0) {
		snprintf(why, n, "MetricsListen %s: socket: %s", s,
			 strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(fd, MX_LISTEN_BACKLOG) < 0) {
		snprintf(why, n, "MetricsListen %s: %s", s, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int dmn_metrics_open(struct jv_daemon *d, char *why, size_t n)
{
	struct dmn_metrics *m;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	if (!d->cfg->has_metrics)
		return 0;
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES) {
		snprintf(why, n, "MetricsListen: this libmicrohttpd has no epoll support");
		return JV_ERR_IO;
	}
	m = calloc(1, sizeof *m);
	if (!m) {
		snprintf(why, n, "out of memory");
		return JV_ERR_NOMEM;
	}
	m->lfd = m->epfd = -1;
	dmn_keymap_init(&m->acc_at);
	dmn_keymap_init(&m->sid_acc);
	d->metrics = m;
	m->lfd = listen_socket(&d->cfg->metrics_listen, why, n);
	if (m->lfd < 0)
		return JV_ERR_IO;
	if (!jv_netaddr_is_v4(&d->cfg->metrics_listen))
		flags |= MHD_USE_IPv6;
	m->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_access, d,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, d,	/* first: MHD wants it so */
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)m->lfd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)MX_CONN_MAX,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)MX_CONN_PER_IP,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)MX_CONN_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MX_CONN_MEMORY,
		MHD_OPTION_END);
	if (!m->mhd) {
		snprintf(why, n, "MetricsListen: libmicrohttpd did not start (see the line above)");
		return JV_ERR_IO;
	}
	m->lfd = -1;	/* MHD_stop_daemon closes it */
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		snprintf(why, n, "MetricsListen: no epoll descriptor from libmicrohttpd");
		return JV_ERR_IO;
	}
	m->epfd = info->epoll_fd;
	if (jv_loop_add(&d->loop, m->epfd, JV_LOOP_READ, on_epoll, d)) {
		snprintf(why, n, "event loop: cannot watch the metrics endpoint");
		return JV_ERR_IO;
	}
	m->watched = true;
	{
		char s[JV_NETADDR_STR_MAX];

		dmn_log(d, "metrics on http://%s/metrics",
			jv_netaddr_str(&d->cfg->metrics_listen, s));
	}
	return 0;
}

void dmn_metrics_close(struct jv_daemon *d)
{
	struct dmn_metrics *m = d->metrics;

	if (!m)
		return;
	if (m->watched)
		(void)jv_loop_del(&d->loop, m->epfd);
	if (m->mhd)
		MHD_stop_daemon(m->mhd);	/* closes its epoll fd */
	if (m->lfd >= 0)
		close(m->lfd);	/* MHD never took it */
	free(m->acc);
	dmn_keymap_free(&m->acc_at);
	dmn_keymap_free(&m->sid_acc);
	free(m);
	d->metrics = NULL;
}

jv_time dmn_metrics_deadline(struct jv_daemon *d)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (!d->metrics || !d->metrics->mhd ||
	    MHD_get_timeout(d->metrics->mhd, &ms) != MHD_YES)
		return JV_TIME_NEVER;
	return jv_clock_now() + (jv_time)ms;
}

void dmn_metrics_run(struct jv_daemon *d)
{
	if (d->metrics && d->metrics->mhd)
		(void)MHD_run(d->metrics->mhd);
}
