/* SPDX-License-Identifier: MIT */
/*
 * Reload (reload.h): load the file again, refuse it whole if it does not
 * load or changes what only a restart can, else apply the policy first
 * (the one step the engine may refuse), then the peers, then swap the
 * running config's contents and bring the routes in line.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <sodium.h>

#include "daemon/daemon_impl.h"
#include "daemon/key.h"
#include "daemon/notify.h"
#include "daemon/reload.h"
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

static void plan_peers(const struct jv_config *old, const struct jv_config *nc,
		       struct peer_plan *p)
{
	for (unsigned i = 0; i < old->npeers; i++)
		p->gone[i] = !old->peers[i].removed;
	for (unsigned j = 0; j < nc->npeers; j++) {
		p->match[j] = -1;
		for (unsigned i = 0; i < old->npeers; i++)
			if (!old->peers[i].removed &&
			    !sodium_memcmp(old->peers[i].public_key,
					   nc->peers[j].public_key, 32)) {
				p->match[j] = (int)i;
				p->gone[i] = false;
				break;
			}
		if (p->match[j] < 0)
			p->added++;
		else if (!peer_eq(&old->peers[p->match[j]], &nc->peers[j]))
			p->changed++;
	}
	for (unsigned i = 0; i < old->npeers; i++)
		p->removed += p->gone[i];
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
	char k[12];

	memcpy(slots, old->peers, old->npeers * sizeof *slots);
	for (unsigned i = 0; i < old->npeers; i++) {
		if (!p->gone[i])
			continue;
		short_key(old->peers[i].public_key, k);
		dmn_log(d, "reload: peer %s (was line %u) removed",
			k, old->peers[i].line);
		dmn_room(d);
		(void)jv_gateway_remove_peer(d->gw, i, now, d->out);
		slots[i].removed = true;
		slots[i].nallowed = 0;	/* routes nothing, accepts nothing */
		slots[i].has_endpoint = false;
	}
	for (unsigned j = 0; j < nc->npeers; j++) {
		int idx = p->match[j];

		if (idx < 0) {
			idx = jv_gateway_add_peer(d->gw, nc->peers[j].public_key);
			if (idx < 0) {
				p->added--;
				snprintf(why, n, "[Peer] at line %u not added: %s",
					 nc->peers[j].line, jv_strerror(idx));
				dmn_log_at(d, LOG_ERR, "reload: %s", why);
				continue;
			}
			/* the engine's indexes and ours move together: a new
			 * one is a free slot or the next */
			if ((unsigned)idx == nslots)
				nslots++;
			short_key(nc->peers[j].public_key, k);
			dmn_log(d, "reload: peer %s (line %u) added", k,
				nc->peers[j].line);
		} else if (!peer_eq(&old->peers[idx], &nc->peers[j])) {
			short_key(nc->peers[j].public_key, k);
			dmn_log(d, "reload: peer %s (line %u) changed", k,
				nc->peers[j].line);
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

static json_t *reload_once(struct jv_daemon *d)
{
	struct jv_config *nc = NULL, *run = d->cfg;
	struct peer_plan plan = { 0 };
	struct jv_cfg_peer *slots = NULL;
	struct restart rs = { .len = 0 };
	char text[JV_DIAG_TEXT_MAX], why[400] = "", summary[300];
	char was[sizeof run->policy.version];
	struct jv_diag diag;
	bool policy;
	size_t cap;
	json_t *ans;

	dmn_log(d, "reload: reading %s", run->file);
	if (jv_config_load(run->file, &nc, &diag)) {
		if (jv_diag_format(&diag, text, sizeof text) < 0)
			text[sizeof text - 1] = '\0';
		jv_config_free(nc);
		return refuse(d, "%s (nothing changed)", text);
	}
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
		if (cap < JV_CFG_PEERS_MAX)
			cap = JV_CFG_PEERS_MAX;
		slots = calloc(cap, sizeof *slots);
		plan.match = calloc(nc->npeers + 1, sizeof *plan.match);
		plan.gone = calloc(run->npeers + 1, sizeof *plan.gone);
		if (!slots || !plan.match || !plan.gone) {
			ans = refuse(d, "out of memory (nothing changed)");
			goto out;
		}
		plan_peers(run, nc, &plan);
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

		free(nc->peers);
		nc->peers = slots;
		nc->npeers = nslots;
		slots = NULL;
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

json_t *dmn_reload(struct jv_daemon *d)
{
	json_t *ans;

	/* systemd: RELOADING=1 until READY=1 again, applied or refused */
	dmn_notify_reloading();
	ans = reload_once(d);
	dmn_notify_ready(d);
	return ans;
}
