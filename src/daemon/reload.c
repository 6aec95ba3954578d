/* SPDX-License-Identifier: MIT */
/*
 * Reload (reload.h): load the file again, refuse it whole if it does not
 * load or changes what only a restart can, else apply the policy first
 * (the one step the engine may refuse), then the peers, then swap the
 * running config's contents and bring the routes in line.
 *
 * Reading is the slow part (PeersDir: one file per peer, 10 000 files):
 * it runs on a thread of its own, started per reload, which wakes the
 * loop through an eventfd when the new config is read (resolve.c does
 * the same for DNS); the loop meanwhile carries packets.  Only the diff
 * is applied on the loop: an O(n log n) match by key, the engine calls
 * for what changed, one routing table build (D-032).
 */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/daemon_impl.h"
#include "daemon/key.h"
#include "daemon/notify.h"
#include "daemon/reload.h"
#include "daemon/route_table.h"
#include "net/clock.h"

/* What needs a restart, as "Key (line N)" items. */
struct restart {
	char text[600];
	size_t len;
	unsigned n;
};

static void need(struct restart *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void need(struct restart *r, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (r->len >= sizeof r->text - 1)
		return;
	k = snprintf(r->text + r->len, sizeof r->text - r->len, "%s",
		     r->n ? ", " : "");
	if (k > 0)
		r->len += (size_t)k;
	if (r->len < sizeof r->text - 1) {
		va_start(ap, fmt);
		k = vsnprintf(r->text + r->len, sizeof r->text - r->len, fmt, ap);
		va_end(ap);
		if (k > 0)
			r->len += (size_t)k;
	}
	if (r->len >= sizeof r->text)
		r->len = sizeof r->text - 1;
	r->n++;
}

/* An [Interface] key that differs: its line in the new file, or where it
 * was in the running one when the new file no longer sets it. */
static void need_key(struct restart *r, const struct jv_config *old,
		     const struct jv_config *nc, const char *key)
{
	unsigned now = jv_config_key_line(nc, key);
	unsigned was = jv_config_key_line(old, key);

	if (now)
		need(r, "%s (line %u)", key, now);
	else if (was)
		need(r, "%s (no longer set, was line %u)", key, was);
	else	/* a default that follows another key (Name: ControlSocket) */
		need(r, "%s (not set; its default changed)", key);
}

static bool cidr_eq(const struct jv_cidr *a, const struct jv_cidr *b)
{
	return a->prefix == b->prefix && jv_addr_equal(&a->addr, &b->addr);
}

static bool cidrs_eq(const struct jv_cidr *a, unsigned na,
		     const struct jv_cidr *b, unsigned nb)
{
	if (na != nb)
		return false;
	for (unsigned i = 0; i < na; i++)
		if (!cidr_eq(&a[i], &b[i]))
			return false;
	return true;
}

/* Is every port (ports) or every address (!ports) of a's listen tuples
 * among b's? */
static bool listen_sub(const struct jv_config *a, const struct jv_config *b,
		       bool ports)
{
	for (unsigned i = 0; i < a->nlisten; i++) {
		bool found = false;

		for (unsigned j = 0; j < b->nlisten && !found; j++)
			found = ports ? a->listen[i].port == b->listen[j].port
				      : !memcmp(a->listen[i].ip, b->listen[j].ip,
						16);
		if (!found)
			return false;
	}
	return true;
}

static bool transport_eq(const struct jv_cfg_transport *a,
			 const struct jv_cfg_transport *b)
{
	return !strcmp(a->name, b->name) && a->has_bind == b->has_bind &&
	       (!a->has_bind || jv_addr_equal(&a->bind, &b->bind)) &&
	       !strcmp(a->ifname, b->ifname) &&
	       a->has_endpoint == b->has_endpoint &&
	       (!a->has_endpoint || jv_addr_equal(&a->endpoint, &b->endpoint)) &&
	       !strcmp(a->host, b->host) && a->priority == b->priority;
}

/* A peer's settings other than its key: what a gateway applies live. */
static bool peer_eq(const struct jv_cfg_peer *a, const struct jv_cfg_peer *b)
{
	return cidrs_eq(a->allowed, a->nallowed, b->allowed, b->nallowed) &&
	       a->has_endpoint == b->has_endpoint &&
	       (!a->has_endpoint || jv_addr_equal(&a->endpoint, &b->endpoint)) &&
	       !strcmp(a->host, b->host);
}

/* Where a peer was written, "line 7" or "peers.d/alice.conf:3", for the
 * log lines of a reload. */
static const char *peer_at(const struct jv_cfg_peer *p, char *buf, size_t n)
{
	if (p->file)
		snprintf(buf, n, "%s:%u", p->file, p->line);
	else
		snprintf(buf, n, "line %u", p->line);
	return buf;
}

/* The lines of a hook key, in order. */
static bool hooks_eq(const char (*a)[JV_CFG_HOOK_LEN], unsigned na,
		     const char (*b)[JV_CFG_HOOK_LEN], unsigned nb)
{
	if (na != nb)
		return false;
	for (unsigned i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

/* DNS servers and search domains, in order. */
static bool dns_eq(const struct jv_config *a, const struct jv_config *b)
{
	if (a->ndns != b->ndns || a->ndomains != b->ndomains)
		return false;
	for (unsigned i = 0; i < a->ndns; i++)
		if (!jv_addr_equal(&a->dns[i], &b->dns[i]))
			return false;
	for (unsigned i = 0; i < a->ndomains; i++)
		if (strcmp(a->domains[i], b->domains[i]))
			return false;
	return true;
}

/* Everything only a restart applies.  New [Interface] keys belong here
 * unless the daemon can apply them live. */
static void restart_keys(const struct jv_config *old,
			 const struct jv_config *nc, struct restart *r)
{
	if (old->role != nc->role)
		need_key(r, old, nc, "Role");
	if (sodium_memcmp(old->private_key, nc->private_key, 32))
		need_key(r, old, nc, nc->private_key_line ? "PrivateKey"
							  : "PrivateKeyFile");
	if (strcmp(old->ifname, nc->ifname))
		need_key(r, old, nc, "Name");
	if (!cidrs_eq(old->addr, old->naddr, nc->addr, nc->naddr))
		need_key(r, old, nc, "Address");
	if (old->mtu != nc->mtu)
		need_key(r, old, nc, "MTU");
	if (!listen_sub(old, nc, true) || !listen_sub(nc, old, true))
		need_key(r, old, nc, "ListenPort");
	if (!listen_sub(old, nc, false) || !listen_sub(nc, old, false))
		need_key(r, old, nc, "ListenAddress");
	if (strcmp(old->node_id, nc->node_id))
		need_key(r, old, nc, "NodeId");
	if (strcmp(old->event_log, nc->event_log))
		need_key(r, old, nc, "EventLog");
	if (strcmp(old->control_socket, nc->control_socket))
		need_key(r, old, nc, "ControlSocket");
	if (old->has_metrics != nc->has_metrics ||
	    (nc->has_metrics &&
	     !jv_addr_equal(&old->metrics_listen, &nc->metrics_listen)))
		need_key(r, old, nc, "MetricsListen");
	if (old->max_sessions != nc->max_sessions)
		need_key(r, old, nc, "MaxSessions");
	if (old->handshakes_per_sec != nc->handshakes_per_sec)
		need_key(r, old, nc, "HandshakesPerSecond");
	if (old->handshake_burst != nc->handshake_burst)
		need_key(r, old, nc, "HandshakeBurst");
	if (strcmp(old->state_dir, nc->state_dir))
		need_key(r, old, nc, "StateDir");
	/* Routing, DNS and hooks are set up once around the device's life
	 * (daemon/tunnel.h, daemon/hooks.h): a restart applies them. */
	if (old->fwmark != nc->fwmark || old->fwmark_set != nc->fwmark_set)
		need_key(r, old, nc, "FwMark");
	if (old->table_mode != nc->table_mode || old->table != nc->table)
		need_key(r, old, nc, "Table");
	if (!dns_eq(old, nc))
		need_key(r, old, nc, "DNS");
	if (!hooks_eq(old->postup, old->npostup, nc->postup, nc->npostup))
		need_key(r, old, nc, "PostUp");
	if (!hooks_eq(old->predown, old->npredown, nc->predown, nc->npredown))
		need_key(r, old, nc, "PreDown");
	/* Without a [Cluster] section the store follows StateDir, named
	 * above. */
	if ((old->cluster_line || nc->cluster_line) &&
	    (strcmp(old->store_url, nc->store_url) ||
	    strcmp(old->cluster_key_file, nc->cluster_key_file) ||
	    old->owner_lease_ms != nc->owner_lease_ms ||
	    strcmp(old->ca_file, nc->ca_file) ||
	    strcmp(old->cert_file, nc->cert_file) ||
	    strcmp(old->key_file, nc->key_file)))
		need(r, "[Cluster] (line %u)",
		     nc->cluster_line ? nc->cluster_line : old->cluster_line);
	if (nc->role != JV_CFG_CLIENT || old->role != JV_CFG_CLIENT)
		return;
	/* A client's paths and its gateway are its sockets and its session's
	 * identity. */
	for (unsigned i = 0; i < nc->ntransports || i < old->ntransports; i++) {
		if (i < nc->ntransports && i < old->ntransports &&
		    transport_eq(&old->transports[i], &nc->transports[i]))
			continue;
		if (i < nc->ntransports)
			need(r, "[Transport] %s (line %u)", nc->transports[i].name,
			     nc->transports[i].line);
		else
			need(r, "[Transport] %s (removed, was line %u)",
			     old->transports[i].name, old->transports[i].line);
	}
	if (old->npeers != nc->npeers ||
	    sodium_memcmp(old->peers[0].public_key, nc->peers[0].public_key,
			  32) || !peer_eq(&old->peers[0], &nc->peers[0]))
		need(r, "[Peer] (line %u)", nc->peers[0].line);
}

unsigned dmn_reload_restart_keys(const struct jv_config *old,
				 const struct jv_config *nc, char *buf,
				 size_t n)
{
	struct restart r = { .len = 0 };

	restart_keys(old, nc, &r);
	if (n)
		snprintf(buf, n, "%s", r.text);
	return r.n;
}

/* ---- gateway peers --------------------------------------------------- */

struct peer_plan {
	int *match;		/* new peer j -> running slot, -1: added */
	bool *gone;		/* running slot i: removed by this reload */
	unsigned added, removed, changed;
};

struct key_idx {
	const uint8_t *key;
	unsigned i;
};

static int key_idx_cmp(const void *a, const void *b)
{
	return memcmp(((const struct key_idx *)a)->key,
		      ((const struct key_idx *)b)->key, 32);
}

/*
 * Old and new peers matched by key: the running ones sorted once, each
 * new one found by binary search, O(n log n) for 10 000 peers (D-032).
 * Keys are unique on both sides (the reader refuses a duplicate; a
 * removed slot is no key).  Returns 0 or JV_ERR_NOMEM.
 */
static int plan_peers(const struct jv_config *old, const struct jv_config *nc,
		      struct peer_plan *p)
{
	struct key_idx *v = malloc((old->npeers + 1) * sizeof *v);
	size_t n = 0;

	if (!v)
		return JV_ERR_NOMEM;
	for (unsigned i = 0; i < old->npeers; i++) {
		p->gone[i] = !old->peers[i].removed;
		if (!old->peers[i].removed)
			v[n++] = (struct key_idx){ old->peers[i].public_key, i };
	}
	qsort(v, n, sizeof *v, key_idx_cmp);
	for (unsigned j = 0; j < nc->npeers; j++) {
		struct key_idx want = { nc->peers[j].public_key, 0 };
		const struct key_idx *hit = n ? bsearch(&want, v, n, sizeof *v,
							key_idx_cmp) : NULL;

		p->match[j] = hit ? (int)hit->i : -1;
		if (hit)
			p->gone[hit->i] = false;
		if (p->match[j] < 0)
			p->added++;
		else if (!peer_eq(&old->peers[p->match[j]], &nc->peers[j]))
			p->changed++;
	}
	for (unsigned i = 0; i < old->npeers; i++)
		p->removed += p->gone[i];
	free(v);
	return 0;
}

static void short_key(const uint8_t key[32], char out[12])
{
	char b64[JV_KEY_B64_SIZE];

	jv_key_to_base64(key, b64);
	snprintf(out, 12, "%.8s...", b64);
}

/*
 * Apply the plan to the engine and build the running peer array, indexed
 * by engine peer index, into `slots` (room for old->npeers + nc->npeers).
 * Returns the number of slots.  A peer the engine refuses to add (out of
 * memory) is left out of the array, so that the array still says what
 * the engine holds; why names it (a later reload adds it).
 */
static unsigned apply_peers(struct jv_daemon *d, const struct jv_config *nc,
			    struct peer_plan *p, struct jv_cfg_peer *slots,
			    char *why, size_t n)
{
	const struct jv_config *old = d->cfg;
	jv_time now = jv_clock_now();
	unsigned nslots = old->npeers;
	char k[12], at[JV_CFG_PATH_MAX + 16];

	memcpy(slots, old->peers, old->npeers * sizeof *slots);
	for (unsigned i = 0; i < old->npeers; i++) {
		if (!p->gone[i])
			continue;
		short_key(old->peers[i].public_key, k);
		dmn_log(d, "reload: peer %s (was %s) removed",
			k, peer_at(&old->peers[i], at, sizeof at));
		dmn_room(d);
		(void)jv_gateway_remove_peer(d->gw, i, now, d->out);
		/* a hole keeps nothing of the old config, which is freed */
		memset(&slots[i], 0, sizeof slots[i]);
		slots[i].removed = true;	/* routes nothing, accepts nothing */
		slots[i].host = "";
	}
	for (unsigned j = 0; j < nc->npeers; j++) {
		int idx = p->match[j];

		if (idx < 0) {
			idx = jv_gateway_add_peer(d->gw, nc->peers[j].public_key);
			if (idx < 0) {
				p->added--;
				snprintf(why, n, "[Peer] at %s not added: %s",
					 peer_at(&nc->peers[j], at, sizeof at),
					 jv_strerror(idx));
				dmn_log_at(d, LOG_ERR, "reload: %s", why);
				continue;
			}
			/* the engine's indexes and ours move together: a new
			 * one is a free slot or the next */
			if ((unsigned)idx == nslots)
				nslots++;
			short_key(nc->peers[j].public_key, k);
			dmn_log(d, "reload: peer %s (%s) added", k,
				peer_at(&nc->peers[j], at, sizeof at));
		} else if (!peer_eq(&old->peers[idx], &nc->peers[j])) {
			short_key(nc->peers[j].public_key, k);
			dmn_log(d, "reload: peer %s (%s) changed", k,
				peer_at(&nc->peers[j], at, sizeof at));
		}
		slots[idx] = nc->peers[j];
		slots[idx].removed = false;
	}
	return nslots;
}

/* ---- policy ---------------------------------------------------------- */

/*
 * The engine's runtime policy change (spec §5, D-026): every live session
 * adopts it per its policy_change_mode and says so (PolicyUpdate); new
 * sessions start on it.  What the engine would refuse is asked first, so
 * the operator reads which field and why (a changed policy needs a new
 * version); the engine may still refuse a version a session runs in grace
 * mode with other values.  Either way nothing has changed yet.
 */
static int apply_policy(struct jv_daemon *d, const struct jv_policy *pol,
			char *why, size_t n)
{
	char text[JV_DIAG_TEXT_MAX];
	jv_time now = jv_clock_now();
	struct jv_diag dg;
	int rc;

	jv_diag_clear(&dg);
	if (jv_policy_change_check(&d->cfg->policy, pol, &dg)) {
		if (jv_diag_format(&dg, text, sizeof text) < 0)
			text[sizeof text - 1] = '\0';
		snprintf(why, n, "%.300s", text);
		return JV_ERR_INVAL;
	}
	dmn_room(d);
	rc = d->client ? jv_client_set_policy(d->client, pol, now, d->out)
		       : jv_gateway_set_policy(d->gw, pol, now, d->out);
	if (rc)
		snprintf(why, n, "the engine refused version %s (%s): a session still runs another policy of that version (grace mode); use a new version",
			 pol->version, jv_strerror(rc));
	return rc;
}

/* ---- the whole ------------------------------------------------------- */

static json_t *refuse(struct jv_daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static json_t *refuse(struct jv_daemon *d, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	dmn_log_at(d, LOG_WARNING, "reload refused: %s", msg);
	return json_pack("{s:b,s:s}", "ok", 0, "error", msg);
}

static void warn_route(void *ud, const char *line)
{
	dmn_log_at(ud, LOG_WARNING, "reload: warning: %s", line);
}

/* The new config nc (taken), read off the loop: apply it or refuse it. */
static json_t *reload_apply(struct jv_daemon *d, struct jv_config *nc)
{
	struct jv_config *run = d->cfg;
	struct peer_plan plan = { 0 };
	struct jv_cfg_peer *slots = NULL;
	struct restart rs = { .len = 0 };
	char why[400] = "", summary[300];
	char was[sizeof run->policy.version];
	bool policy;
	size_t cap;
	json_t *ans;

	restart_keys(run, nc, &rs);
	if (rs.n) {
		jv_config_free(nc);
		return refuse(d, "%s: %s need%s a restart (nothing changed)",
			      run->file, rs.text, rs.n == 1 ? "s" : "");
	}
	policy = !jv_policy_equal(&run->policy, &nc->policy);
	snprintf(was, sizeof was, "%s", run->policy.version);

	if (d->gw) {
		cap = run->npeers + nc->npeers;
		slots = calloc(cap + 1, sizeof *slots);
		plan.match = calloc(nc->npeers + 1, sizeof *plan.match);
		plan.gone = calloc(run->npeers + 1, sizeof *plan.gone);
		if (!slots || !plan.match || !plan.gone ||
		    plan_peers(run, nc, &plan)) {
			ans = refuse(d, "out of memory (nothing changed)");
			goto out;
		}
	}
	/* The policy first: the engine may refuse it, and then nothing else
	 * has changed yet. */
	if (policy && apply_policy(d, &nc->policy, why, sizeof why)) {
		ans = refuse(d, "%s: [Policy]: %s (nothing changed)", run->file,
			     why);
		goto out;
	}
	if (d->gw) {
		unsigned nslots = apply_peers(d, nc, &plan, slots, why,
					      sizeof why);

		struct jv_cfg_peer *fit = realloc(slots, (nslots ? nslots : 1) *
							sizeof *fit);

		free(nc->peers);
		nc->peers = fit ? fit : slots;	/* to fit, or as it is */
		nc->npeers = nslots;
		slots = NULL;
		/* the routing table follows the slots (engine indexes); when
		 * it cannot be built, lookups fall back on the linear pass */
		jv_route_table_free(nc->routes);
		if (jv_route_table_for(nc, &nc->routes))
			dmn_log_at(d, LOG_ERR, "reload: out of memory for the routing table: lookups are linear");
	}
	/* Swap contents, not pointers: d->cfg keeps its address, and what
	 * only a restart changes is equal in both (checked above). */
	{
		struct jv_config tmp = *run;

		*run = *nc;
		*nc = tmp;
	}
	if (d->gw) {
		struct jv_net_err err = { 0 };

		if (jv_tunnel_routes_sync(&d->tun, run, warn_route, d, &err))
			dmn_log_at(d, LOG_ERR, "reload: routes: %s", err.msg);
		dmn_gateway_size_rcvbuf(d);
	}
	if (d->gw)
		snprintf(summary, sizeof summary,
			 "reloaded %s: %u peer%s added, %u removed, %u changed%s%s%s%s",
			 run->ifname, plan.added, plan.added == 1 ? "" : "s",
			 plan.removed, plan.changed, policy ? ", policy " : "",
			 policy ? was : "", policy ? " -> " : "",
			 policy ? run->policy.version : "");
	else
		snprintf(summary, sizeof summary, "reloaded %s: %s%s%s%s",
			 run->ifname, policy ? "policy " : "no change",
			 policy ? was : "", policy ? " -> " : "",
			 policy ? run->policy.version : "");
	dmn_log(d, "%s", summary);
	if (why[0]) {
		/* applied but for a peer the engine could not take */
		ans = dmn_error("%s; but %s", summary, why);
		goto out;
	}
	ans = json_pack("{s:b,s:s,s:i,s:i,s:i,s:b}", "ok", 1, "summary",
			summary, "added", (int)plan.added, "removed",
			(int)plan.removed, "changed", (int)plan.changed,
			"policy_changed", policy);
out:
	free(slots);
	free(plan.match);
	free(plan.gone);
	jv_config_free(nc);
	return ans;
}

/* ---- off the loop --------------------------------------------------- */

struct dmn_reloader {
	int efd;			/* the worker's "done" */
	bool added;			/* efd is in the loop */
	bool busy;			/* a worker runs */
	pthread_t thread;
	uint64_t token;			/* the control request, or NO_ANSWER */
	char file[JV_CFG_PATH_MAX];
	struct jv_config *nc;		/* the worker's result */
	struct jv_diag diag;
	int rc;
	jv_time started;
};

#define NO_ANSWER UINT64_MAX

static void *reload_worker(void *arg)
{
	struct dmn_reloader *w = arg;
	uint64_t one = 1;

	w->rc = jv_config_load(w->file, &w->nc, &w->diag);
	/* the loop reads w only after this write (eventfd orders it) */
	while (write(w->efd, &one, sizeof one) < 0 && errno == EINTR)
		;
	return NULL;
}

static void finish_reload(struct jv_daemon *d, json_t *ans)
{
	struct dmn_reloader *w = d->reloader;

	if (w->token != NO_ANSWER)
		jv_ctl_reply(&d->ctl, w->token, ans);
	else
		json_decref(ans);	/* SIGHUP: the log has the answer */
	dmn_flush(d);
	dmn_notify_ready(d);
}

static void on_reload_read(struct jv_loop *l, int fd, unsigned events,
			   void *ud)
{
	struct jv_daemon *d = ud;
	struct dmn_reloader *w = d->reloader;
	char text[JV_DIAG_TEXT_MAX];
	jv_time read_ms, t0;
	uint64_t v;
	json_t *ans;

	(void)l;
	(void)events;
	if (read(fd, &v, sizeof v) != sizeof v || !w->busy)
		return;
	pthread_join(w->thread, NULL);
	w->busy = false;
	t0 = jv_clock_now();
	read_ms = t0 - w->started;
	if (w->rc) {
		if (jv_diag_format(&w->diag, text, sizeof text) < 0)
			text[sizeof text - 1] = '\0';
		jv_config_free(w->nc);
		w->nc = NULL;
		finish_reload(d, refuse(d, "%s (nothing changed)", text));
		return;
	}
	ans = reload_apply(d, w->nc);
	w->nc = NULL;
	dmn_log(d, "reload: read in %llu ms off the loop, applied in %llu ms on it",
		(unsigned long long)read_ms,
		(unsigned long long)(jv_clock_now() - t0));
	finish_reload(d, ans);
}

int dmn_reload_start(struct jv_daemon *d, uint64_t token)
{
	struct dmn_reloader *w = d->reloader;
	sigset_t all, old;
	int rc;

	if (!w) {
		w = d->reloader = calloc(1, sizeof *w);
		if (!w)
			return JV_ERR_NOMEM;
		w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (w->efd < 0)
			return JV_ERR_IO;
	}
	if (w->busy)
		return JV_ERR_STATE;
	if (!w->added) {
		if (jv_loop_add(&d->loop, w->efd, JV_LOOP_READ, on_reload_read,
				d))
			return JV_ERR_IO;
		w->added = true;
	}
	/* systemd: RELOADING=1 until READY=1 again, applied or refused */
	dmn_notify_reloading();
	dmn_log(d, "reload: reading %s", d->cfg->file);
	snprintf(w->file, sizeof w->file, "%s", d->cfg->file);
	w->token = token;
	w->nc = NULL;
	w->rc = 0;
	jv_diag_clear(&w->diag);
	w->started = jv_clock_now();
	/* the worker takes no signal: the loop's signalfd gets them all */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, reload_worker, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		dmn_notify_ready(d);
		return JV_ERR_IO;
	}
	w->busy = true;
	return 0;
}

void dmn_reload_free(struct jv_daemon *d)
{
	struct dmn_reloader *w = d->reloader;

	if (!w)
		return;
	if (w->busy)
		pthread_join(w->thread, NULL);	/* reading files: bounded */
	jv_config_free(w->nc);
	if (w->added && d->loop_ok)
		(void)jv_loop_del(&d->loop, w->efd);
	if (w->efd >= 0)
		close(w->efd);
	free(w);
	d->reloader = NULL;
}
