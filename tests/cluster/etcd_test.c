/* SPDX-License-Identifier: MIT */
/*
 * The cluster store against a real etcd of its own (etcd_harness.h): the
 * contract suite over http and again over https with client
 * certificates, then what only the etcd backend promises: a crashed
 * owner's record stays live until its lease runs out and is then taken
 * over; a node id is held while its previous process's lease lives; a
 * lost lease is reported and replaced and the takeover is watched; the
 * daemon's epoll loop drives it; failover past a dead or silent
 * endpoint; unreachable, silent and garbage-speaking servers give
 * UNAVAILABLE and CORRUPT; TLS with the wrong CA fails with a clear line.
 *
 * Without etcd the etcd cases fail when run as root (CI installs
 * etcd-server through tools/deps.sh, so a missing one is a broken
 * machine) and are skipped otherwise.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cluster/etcd_priv.h"
#include "cluster/store.h"
#include "contract.h"
#include "etcd_harness.h"
#include "net/clock.h"
#include "net/loop.h"
#include "tap.h"
#include "util.h"

enum {
	LEASE_MS = 1000,	/* etcd raises it to its minimum, 2 s */
	TTL_MAX_MS = 2000,	/* that minimum with etcd's defaults */
	WAIT_MS = 6000,
	SLICE_MS = 10,
};

static struct hx_etcd plain, secure;
static struct hx_tls tls;
static bool have_plain, have_secure;
static unsigned clusters;

/* ---- the contract's factory ---- */

struct factory {
	const struct hx_etcd *member;
	const struct hx_tls *tls;
	char cluster[48];
};

static void new_cluster_id(char *out, size_t len)
{
	snprintf(out, len, "t%d-%u", (int)getpid(), ++clusters);
}

static void contract_where(void *ctx, bool fresh,
			   struct jv_store_config *cfg, char *url,
			   size_t url_len)
{
	struct factory *f = ctx;

	if (fresh || !f->cluster[0])
		new_cluster_id(f->cluster, sizeof f->cluster);
	snprintf(url, url_len, "etcd:%s", f->member->url);
	cfg->url = url;
	cfg->cluster_id = f->cluster;
	if (f->tls) {
		cfg->ca_file = f->tls->ca;
		cfg->cert_file = f->tls->client_cert;
		cfg->key_file = f->tls->client_key;
	}
}

/* ---- nodes ---- */

struct node {
	struct jv_store *st;
	struct probe p;			/* its lease and watch reports */
};

/* Every open node is polled while any test waits, so leases of the
 * nodes not under test keep being renewed. */
static struct node *open_nodes[4];

static void pump_once(void)
{
	for (size_t i = 0; i < sizeof open_nodes / sizeof open_nodes[0]; i++)
		if (open_nodes[i] && open_nodes[i]->st)
			jv_store_poll(open_nodes[i]->st, SLICE_MS);
}

/* Poll every open node until *flag reaches want or ms pass. */
static bool pump_until(const int *flag, int want, int ms)
{
	jv_time end = jv_clock_now() + (jv_time)ms;

	while (*flag < want && jv_clock_now() < end)
		pump_once();
	return *flag >= want;
}

static void pump_for(int ms)
{
	jv_time end = jv_clock_now() + (jv_time)ms;

	while (jv_clock_now() < end)
		pump_once();
}

struct opts {
	const char *url;		/* etcd:... */
	const char *node;
	const char *cluster;
	const char *ca, *cert, *key;
	bool watch;
	struct jv_loop *loop;
};

static bool open_node(struct node *n, const struct opts *o, char *why,
		      size_t why_len)
{
	struct jv_store_config c = {
		.url = o->url,
		.node_id = o->node,
		.cluster_id = o->cluster,
		.lease_ms = LEASE_MS,
		.ca_file = o->ca,
		.cert_file = o->cert,
		.key_file = o->key,
		.on_lease = probe_on_lease,
		.on_watch = o->watch ? probe_on_watch : NULL,
		.ud = &n->p,
	};

	memset(n, 0, sizeof *n);
	why[0] = '\0';
	if (!(n->st = jv_store_open(&c, o->loop, why, why_len)))
		return false;
	for (size_t i = 0; i < sizeof open_nodes / sizeof open_nodes[0]; i++)
		if (!open_nodes[i]) {
			open_nodes[i] = n;
			break;
		}
	return true;
}

static void forget(struct node *n)
{
	for (size_t i = 0; i < sizeof open_nodes / sizeof open_nodes[0]; i++)
		if (open_nodes[i] == n)
			open_nodes[i] = NULL;
	n->st = NULL;
}

static void close_node(struct node *n)
{
	jv_store_close(n->st);
	forget(n);
}

static void crash_node(struct node *n)
{
	jv_store_etcd_abandon(n->st);
	forget(n);
}

static bool lease_valid(const struct node *n)
{
	return n->p.leases && n->p.lease_until > jv_clock_now();
}

static bool wait_lease(struct node *n, int ms)
{
	jv_time end = jv_clock_now() + (jv_time)ms;

	while (!lease_valid(n) && jv_clock_now() < end)
		pump_once();
	return lease_valid(n);
}

static enum jv_store_status get_sync(struct node *n, uint32_t index,
				     struct probe *g)
{
	memset(g, 0, sizeof *g);
	if (jv_store_get(n->st, index, probe_on_get, g) || g->calls)
		return (enum jv_store_status)-1;
	pump_until(&g->calls, 1, WAIT_MS);
	return g->calls == 1 ? g->status : (enum jv_store_status)-1;
}

static enum jv_store_status put_sync(struct node *n,
				     const struct jv_store_rec *r,
				     uint64_t expected, struct probe *g)
{
	memset(g, 0, sizeof *g);
	if (jv_store_put(n->st, r, expected, probe_on_put, g) || g->calls)
		return (enum jv_store_status)-1;
	pump_until(&g->calls, 1, WAIT_MS);
	return g->calls == 1 ? g->status : (enum jv_store_status)-1;
}

static const char *sname(int st)
{
	return st < 0 ? "no completion" : jv_store_status_name(st);
}

/* An etcd: url for member (and the options to reach it). */
static struct opts member_opts(const struct hx_etcd *m, const char *node,
			       const char *cluster, char *url, size_t len)
{
	struct opts o = { .url = url, .node = node, .cluster = cluster };

	snprintf(url, len, "etcd:%s", m->url);
	return o;
}

/* ---- no secret in clear in etcd (PD-9) ---- */

static bool has(const uint8_t *hay, size_t n,
		const uint8_t pat[PD9_PATTERN_LEN])
{
	return memmem(hay, n, pat, PD9_PATTERN_LEN) != NULL;
}

/* Every value under the cluster's prefix, as etcd serves it, decoded: the
 * raw value and, for a record, its blob.  Whether a PD-9 pattern occurs
 * anywhere. */
static bool dump_has(const char *cluster, const uint8_t pat[PD9_PATTERN_LEN],
		     unsigned *values)
{
	char prefix[64], end[64], k64[128], e64[128], body[512];
	static char out[1 << 20];
	json_t *j, *kvs, *kv;
	size_t i;
	bool found = false;

	snprintf(prefix, sizeof prefix, "/%s/", cluster);
	snprintf(end, sizeof end, "/%s0", cluster);	/* '/' + 1 */
	sodium_bin2base64(k64, sizeof k64, (const uint8_t *)prefix,
			  strlen(prefix), sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(e64, sizeof e64, (const uint8_t *)end, strlen(end),
			  sodium_base64_VARIANT_ORIGINAL);
	snprintf(body, sizeof body, "{\"key\":\"%s\",\"range_end\":\"%s\"}",
		 k64, e64);
	*values = 0;
	if (hx_post(&plain, NULL, "/v3/kv/range", body, out, sizeof out) != 200 ||
	    !(j = json_loads(out, 0, NULL)))
		return true;	/* cannot look: count as found (fails) */
	kvs = json_object_get(j, "kvs");
	json_array_foreach(kvs, i, kv) {
		static uint8_t raw[1 << 16], blob[1 << 16];
		const char *v = json_string_value(json_object_get(kv, "value"));
		size_t n = 0, bn = 0;
		json_t *rec;

		if (!v || sodium_base642bin(raw, sizeof raw, v, strlen(v), NULL, &n,
					    NULL, sodium_base64_VARIANT_ORIGINAL))
			continue;
		(*values)++;
		found |= has(raw, n, pat);
		rec = json_loadb((const char *)raw, n, 0, NULL);
		v = rec ? json_string_value(json_object_get(rec, "blob")) : NULL;
		if (v && !sodium_base642bin(blob, sizeof blob, v, strlen(v), NULL,
					    &bn, NULL,
					    sodium_base64_VARIANT_ORIGINAL))
			found |= has(blob, bn, pat);
		json_decref(rec);
	}
	json_decref(j);
	return found;
}

static void no_clear_secret_in_etcd(void)
{
	char url[256], why[512], cluster[32];
	uint8_t body[PD9_PLAIN_LEN];
	struct jv_store_rec r, c;
	struct node a;
	struct probe p;
	unsigned values = 0;
	bool ok;

	new_cluster_id(cluster, sizeof cluster);
	struct opts o = member_opts(&plain, "gw-s", cluster, url, sizeof url);
	ok = open_node(&a, &o, why, sizeof why) && wait_lease(&a, WAIT_MS);
	ok = pd9_records(&r, &c, "gw-s", body) && ok;
	ok = ok && put_sync(&a, &r, 0, &p) == JV_STORE_OK &&
	     put_sync(&a, &c, 0, &p) == JV_STORE_OK;
	/* the control proves the search sees what is stored */
	ok = ok && dump_has(cluster, pd9_control, &values) && values >= 2;
	ok = ok && !dump_has(cluster, pd9_secret, &values) &&
	     !dump_has(cluster, pd9_cluster_key, &values);
	tap_ok(ok, "etcd: a dump of the cluster's keys holds no sealed secret in clear (%u values)",
	       values);
	if (a.st)
		close_node(&a);
}

/* ---- a crashed owner, its lease, its node id ---- */

static void crash_and_takeover(void)
{
	char url[JV_STORE_URL_MAX], cl[48], why[256];
	struct node a, a2, b;
	struct jv_store_rec r, theirs;
	struct probe g, p;
	jv_time crashed, gone_at = 0;
	const char *log;
	struct opts o;
	uint64_t rev;
	bool ok;

	new_cluster_id(cl, sizeof cl);
	o = member_opts(&plain, "gw-a", cl, url, sizeof url);
	ok = open_node(&a, &o, why, sizeof why) && wait_lease(&a, WAIT_MS);
	mk_rec(&r, 1, "gw-a");
	ok = ok && put_sync(&a, &r, 0, &p) == JV_STORE_OK;
	rev = p.revision;
	tap_ok(ok, "etcd: node a holds a lease and creates a record");
	if (!ok) {
		tap_diag("%s", why);
		close_node(&a);
		return;
	}
	crash_node(&a);
	crashed = jv_clock_now();

	hx_capture_begin();
	o.node = "gw-a";
	ok = open_node(&a2, &o, why, sizeof why);
	o.node = "gw-b";
	ok = open_node(&b, &o, why, sizeof why) && ok && wait_lease(&b, WAIT_MS);
	ok = ok && get_sync(&b, r.receiver_index, &g) == JV_STORE_OK &&
	     g.rec.owner_live && g.rec.revision == rev;
	tap_ok(ok, "etcd: a crashed owner's record stays live while its lease runs");
	theirs = r;
	snprintf(theirs.owner_node, sizeof theirs.owner_node, "gw-b");
	theirs.owner_epoch++;
	tap_ok(put_sync(&b, &theirs, rev, &p) == JV_STORE_CONFLICT,
	       "etcd: another node cannot take it then (conflict)");
	tap_ok(!lease_valid(&a2),
	       "etcd: a restarted gw-a gets no lease while the crashed one's lives");

	/* Poll until etcd drops the crashed lease and its owner key. */
	while (jv_clock_now() < crashed + TTL_MAX_MS + 3000) {
		if (get_sync(&b, r.receiver_index, &g) == JV_STORE_OK &&
		    !g.rec.owner_live) {
			gone_at = jv_clock_now();
			break;
		}
		pump_for(100);
	}
	tap_ok(gone_at && g.rec.revision == rev,
	       "etcd: the owner key goes with the lease, within TTL + 3 s (%lld ms)",
	       gone_at ? (long long)(gone_at - crashed) : -1LL);
	ok = put_sync(&b, &theirs, rev, &p) == JV_STORE_OK && p.revision > rev;
	ok = ok && get_sync(&b, r.receiver_index, &g) == JV_STORE_OK &&
	     g.rec.owner_live && !strcmp(g.rec.owner_node, "gw-b") &&
	     g.rec.owner_epoch == theirs.owner_epoch;
	tap_ok(ok, "etcd: then gw-b takes it over at the revision it read");
	ok = wait_lease(&a2, TTL_MAX_MS + 3000);
	log = hx_capture_end();
	tap_ok(ok, "etcd: the restarted gw-a gets its lease once the old one expired");
	tap_ok(strstr(log, "node id gw-a is held by another live gateway") != NULL,
	       "etcd: and said why it waited, in one line");
	close_node(&a2);
	close_node(&b);
}

/* ---- a lost lease, fencing, the watch ---- */

static void lease_loss_and_watch(void)
{
	char url[JV_STORE_URL_MAX], cl[48], why[256], body[128], out[512];
	struct node a, b;
	struct jv_store_rec r, theirs;
	struct probe g, p;
	int leases;
	struct opts o;
	uint64_t rev;
	int64_t id;
	bool ok;

	new_cluster_id(cl, sizeof cl);
	o = member_opts(&plain, "gw-a", cl, url, sizeof url);
	o.watch = true;
	ok = open_node(&a, &o, why, sizeof why) && wait_lease(&a, WAIT_MS);
	o.node = "gw-b";
	o.watch = false;
	ok = open_node(&b, &o, why, sizeof why) && ok && wait_lease(&b, WAIT_MS);
	mk_rec(&r, 2, "gw-a");
	ok = ok && put_sync(&a, &r, 0, &p) == JV_STORE_OK;
	rev = p.revision;
	id = ok ? jv_store_etcd_lease_id(a.st) : 0;
	if (!ok || !id) {
		tap_ok(false, "etcd: two nodes up, a record written");
		tap_diag("%s", why);
		close_node(&a);
		close_node(&b);
		return;
	}

	/* An operator (or etcd) ends a's lease behind its back. */
	hx_capture_begin();
	snprintf(body, sizeof body, "{\"ID\":\"%lld\"}", (long long)id);
	leases = a.p.leases;
	ok = hx_post(&plain, NULL, "/v3/lease/revoke", body, out, sizeof out) == 200;
	ok = ok && pump_until(&a.p.leases, leases + 1, WAIT_MS) &&
	     a.p.lease_until == 0;
	tap_ok(ok, "etcd: a revoked lease is reported lost (on_lease 0)");
	tap_ok(wait_lease(&a, WAIT_MS) && jv_store_etcd_lease_id(a.st) != id,
	       "etcd: and replaced by a new lease");
	hx_capture_end();

	ok = get_sync(&b, r.receiver_index, &g) == JV_STORE_OK &&
	     !g.rec.owner_live && g.rec.revision == rev;
	tap_ok(ok, "etcd: its owner keys went with it");
	theirs = r;
	snprintf(theirs.owner_node, sizeof theirs.owner_node, "gw-b");
	theirs.owner_epoch = 7;
	ok = put_sync(&b, &theirs, rev, &p) == JV_STORE_OK;
	tap_ok(ok, "etcd: gw-b takes the session over");
	ok = pump_until(&a.p.watches, 1, WAIT_MS) &&
	     !memcmp(a.p.watched_id, r.session_id, sizeof a.p.watched_id) &&
	     !strcmp(a.p.watched_owner, "gw-b") && a.p.watched_epoch == 7;
	tap_ok(ok, "etcd: gw-a is told by the watch (owner gw-b, epoch 7)");
	r.state_version++;
	tap_ok(put_sync(&a, &r, rev, &p) == JV_STORE_CONFLICT,
	       "etcd: gw-a's write at its old revision is fenced off");
	close_node(&a);
	close_node(&b);
}

/* ---- the daemon's loop ---- */

static int loop_fds(const struct jv_loop *l)
{
	int n = 0;

	for (int i = 0; i < JV_LOOP_FDS_MAX; i++)
		n += l->slot[i].fd >= 0;
	return n;
}

/* What the daemon does: sleep in the loop until the store's deadline,
 * tick it when due. */
static bool loop_until(struct jv_loop *l, struct jv_store *st,
		       const int *flag, int want, int *max_fds)
{
	jv_time end = jv_clock_now() + WAIT_MS, now, due;
	int wait, n;

	while (*flag < want && (now = jv_clock_now()) < end) {
		due = jv_store_deadline(st);
		wait = due <= now ? 0 : due - now > 100 ? 100 : (int)(due - now);
		if (jv_loop_run_once(l, wait) < 0)
			return false;
		if (jv_store_deadline(st) <= jv_clock_now())
			jv_store_tick(st, jv_clock_now());
		/* Idle kept-alive connections leave the loop, so count
		 * while requests are in flight too. */
		if ((n = loop_fds(l)) > *max_fds)
			*max_fds = n;
	}
	return *flag >= want;
}

static void driven_by_the_loop(void)
{
	char url[JV_STORE_URL_MAX], cl[48], why[256];
	struct jv_net_err err;
	struct jv_loop loop;
	struct node a;
	struct jv_store_rec r;
	struct jv_store *st;
	struct probe g, p;
	struct opts o;
	int fds = 0;
	bool ok;

	if (jv_loop_init(&loop, &err)) {
		tap_ok(false, "etcd: epoll loop: %s", err.msg);
		return;
	}
	new_cluster_id(cl, sizeof cl);
	o = member_opts(&plain, "gw-l", cl, url, sizeof url);
	o.loop = &loop;
	ok = open_node(&a, &o, why, sizeof why);
	st = a.st;
	forget(&a);	/* driven here, not by jv_store_poll */
	a.st = st;
	ok = ok && loop_until(&loop, a.st, &a.p.leases, 1, &fds) &&
	     a.p.lease_until;
	mk_rec(&r, 3, "gw-l");
	memset(&p, 0, sizeof p);
	ok = ok && jv_store_put(a.st, &r, 0, probe_on_put, &p) == 0 &&
	     loop_until(&loop, a.st, &p.calls, 1, &fds) &&
	     p.status == JV_STORE_OK;
	memset(&g, 0, sizeof g);
	ok = ok &&
	     jv_store_get(a.st, r.receiver_index, probe_on_get, &g) == 0 &&
	     loop_until(&loop, a.st, &g.calls, 1, &fds) &&
	     g.status == JV_STORE_OK && g.rec.revision == p.revision;
	tap_ok(ok && fds > 0,
	       "etcd: the epoll loop drives lease, put and get (%d sockets in the loop)",
	       fds);
	if (!ok && why[0])
		tap_diag("%s", why);
	jv_store_close(a.st);
	tap_ok(loop_fds(&loop) == 0, "etcd: close takes its sockets out of the loop");
	jv_loop_close(&loop);
}

static void close_inside_callback(void)
{
	char url[JV_STORE_URL_MAX], cl[48], why[256];
	struct node a;
	struct probe g, g2;
	struct opts o;
	bool ok;

	new_cluster_id(cl, sizeof cl);
	o = member_opts(&plain, "gw-c", cl, url, sizeof url);
	ok = open_node(&a, &o, why, sizeof why) && wait_lease(&a, WAIT_MS);
	memset(&g, 0, sizeof g);
	memset(&g2, 0, sizeof g2);
	g.close_me = g2.close_me = a.st;
	ok = ok && jv_store_get(a.st, 1, probe_on_get, &g) == 0 &&
	     jv_store_get(a.st, 2, probe_on_get, &g2) == 0;
	/* Whichever completes first closes the store; the other must never
	 * run, and nothing may touch the freed store (ASan). */
	while (ok && g.calls == 0 && g2.calls == 0)
		jv_store_poll(a.st, SLICE_MS);
	forget(&a);
	tap_ok(ok && g.calls + g2.calls == 1,
	       "etcd: a store closed from inside a completion stops cleanly");
	if (!ok)
		jv_store_close(a.st);
}

/* ---- endpoints that fail ---- */

/* a's store on the one endpoint 127.0.0.1:port (a `what` one), a get
 * of index 1 on it: how it ends and how long it takes.  false when the
 * store does not open (the capture ended, the case reported failed). */
static bool get_at(struct node *a, int port, const char *what,
		   enum jv_store_status *st, jv_time *took)
{
	char url[JV_STORE_URL_MAX], why[256];
	struct opts o = { .url = url, .node = "gw-u" };
	struct probe g;
	jv_time t0;

	snprintf(url, sizeof url, "etcd:http://127.0.0.1:%d", port);
	if (!open_node(a, &o, why, sizeof why)) {
		hx_capture_end();
		tap_ok(false, "etcd: open on a %s endpoint: %s", what, why);
		return false;
	}
	t0 = jv_clock_now();
	*st = get_sync(a, 1, &g);
	*took = jv_clock_now() - t0;
	return true;
}

static void unreachable(void)
{
	struct jv_store_rec r;
	struct node a;
	struct probe p;
	jv_time took;
	int port = hx_free_port(), silent = hx_silent_server();
	enum jv_store_status st;

	hx_capture_begin();
	if (!get_at(&a, port, "dead", &st, &took))
		return;
	tap_ok(st == JV_STORE_UNAVAILABLE && took <= JV_STORE_OP_TIMEOUT_MS + 200,
	       "etcd: connection refused: get unavailable (%s, %lld ms)",
	       sname(st), (long long)took);
	mk_rec(&r, 4, "gw-u");
	tap_ok(!lease_valid(&a) && put_sync(&a, &r, 0, &p) == JV_STORE_UNAVAILABLE,
	       "etcd: no lease, so put is unavailable");
	close_node(&a);

	if (!get_at(&a, silent, "silent", &st, &took))
		return;
	tap_ok(st == JV_STORE_UNAVAILABLE &&
		       took >= JV_STORE_OP_TIMEOUT_MS - 100 &&
		       took <= JV_STORE_OP_TIMEOUT_MS + 500,
	       "etcd: a server that never answers: unavailable at the op timeout (%s, %lld ms)",
	       sname(st), (long long)took);
	close_node(&a);
	hx_capture_end();
}

static void failover(void)
{
	char url[JV_STORE_URL_MAX], cl[48], why[256];
	const char *kind[2] = { "dead", "silent" };
	int port[2] = { hx_free_port(), hx_silent_server() };
	struct jv_store_rec r;
	struct node a;
	struct probe g, p;
	struct opts o = { .url = url, .node = "gw-f" };
	jv_time t0;
	bool ok;

	hx_capture_begin();
	for (int i = 0; i < 2; i++) {
		new_cluster_id(cl, sizeof cl);
		o.cluster = cl;
		snprintf(url, sizeof url, "etcd:http://127.0.0.1:%d,%s", port[i],
			 plain.url);
		t0 = jv_clock_now();
		ok = open_node(&a, &o, why, sizeof why) &&
		     wait_lease(&a, WAIT_MS);
		mk_rec(&r, 5, "gw-f");
		ok = ok && put_sync(&a, &r, 0, &p) == JV_STORE_OK &&
		     get_sync(&a, r.receiver_index, &g) == JV_STORE_OK &&
		     g.rec.revision == p.revision;
		tap_ok(ok, "etcd: first endpoint %s, the second serves (%lld ms)",
		       kind[i], (long long)(jv_clock_now() - t0));
		if (!ok && why[0])
			tap_diag("%s", why);
		close_node(&a);
	}
	hx_capture_end();
}

/* ---- garbage ---- */

static char *http_answer(const char *status, const char *type,
			 const char *body)
{
	size_t n = strlen(body) + 200;
	char *s = malloc(n);

	if (s)
		snprintf(s, n,
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 status, type, strlen(body), body);
	return s;
}

static void garbage(void)
{
	/* An index answer and a txn answer in one object, so both steps of
	 * a get read it: the record value inside is the garbage. */
	static const char two_step[] =
		"{\"header\":{\"revision\":\"7\"},\"kvs\":[{\"key\":\"aw==\","
		"\"create_revision\":\"3\",\"mod_revision\":\"3\",\"value\":"
		"\"MDEwMjAzMDQwNTA2MDcwODA5MGEwYjBjMGQwZTBmMTA=\"}],"
		"\"succeeded\":true,\"responses\":["
		"{\"response_range\":{\"header\":{\"revision\":\"7\"},\"kvs\":"
		"[{\"key\":\"aw==\",\"create_revision\":\"3\",\"mod_revision\":"
		"\"3\",\"value\":\"bm90IGEgcmVjb3Jk\"}]}},"
		"{\"response_range\":{\"header\":{\"revision\":\"7\"}}}]}";
	static const char json[] = "application/json", ok[] = "200 OK";
	static const struct {
		const char *what, *status, *type, *body;
	} cases[] = {
		{ "not JSON", ok, json, "this is not json" },
		{ "a JSON array", ok, json, "[1, 2, 3]" },
		{ "no header", ok, json, "{\"kvs\":[]}" },
		{ "a negative revision", ok, json,
		  "{\"header\":{\"revision\":\"-3\"}}" },
		{ "a key of the wrong type", ok, json,
		  "{\"header\":{\"revision\":\"7\"},\"kvs\":[{\"key\":5}]}" },
		{ "a key that is not base64", ok, json,
		  "{\"header\":{\"revision\":\"7\"},\"kvs\":[{\"key\":\"!!\","
		  "\"create_revision\":\"3\",\"mod_revision\":\"3\"}]}" },
		{ "an index that is not a session id", ok, json,
		  "{\"header\":{\"revision\":\"7\"},\"kvs\":[{\"key\":\"aw==\","
		  "\"create_revision\":\"3\",\"mod_revision\":\"3\","
		  "\"value\":\"bm90IGhleA==\"}]}" },
		{ "a record that is not JSON", ok, json, two_step },
		{ "HTTP 404 page not found", "404 Not Found", "text/plain",
		  "404 page not found\n" },
		{ "an etcd refusal we never expect", "400 Bad Request", json,
		  "{\"error\":\"bad\",\"message\":\"bad\",\"code\":3}" },
		{ "more than 1 MiB", ok, json, NULL },
	};
	char url[JV_STORE_URL_MAX], why[256], ep[64];
	struct opts o = { .url = url, .node = "gw-g" };
	enum jv_store_status st;
	const char *log;
	struct node a;
	struct probe g;
	char *resp, *big;
	int port;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (cases[i].body) {
			resp = http_answer(cases[i].status, cases[i].type,
					   cases[i].body);
		} else {
			big = malloc((1 << 20) + 100);
			if (big) {
				memset(big, ' ', (1 << 20) + 99);
				big[0] = '{';
				big[(1 << 20) + 98] = '}';
				big[(1 << 20) + 99] = '\0';
			}
			resp = big ? http_answer(ok, json, big) : NULL;
			free(big);
		}
		port = resp ? hx_canned_server(resp) : -1;
		snprintf(url, sizeof url, "etcd:http://127.0.0.1:%d", port);
		snprintf(ep, sizeof ep, "http://127.0.0.1:%d/v3/", port);
		hx_capture_begin();
		st = (enum jv_store_status)-1;
		if (port > 0 && open_node(&a, &o, why, sizeof why)) {
			st = get_sync(&a, 1, &g);
			close_node(&a);
		}
		log = hx_capture_end();
		hx_canned_stop();
		free(resp);
		tap_ok(st == JV_STORE_CORRUPT && strstr(log, ep),
		       "etcd: %s: get is corrupt, logged naming the endpoint (%s)",
		       cases[i].what, sname(st));
	}
}

/* ---- TLS ---- */

static void tls_cases(void)
{
	static const struct {
		const char *what;
		bool other_ca, no_client_cert;
	} bad[] = {
		{ "a server certificate from another CA", true, false },
		{ "no client certificate", false, true },
	};
	char url[JV_STORE_URL_MAX], cl[48], why[256];
	struct factory f = { .member = &secure, .tls = &tls };
	enum jv_store_status st;
	struct opts o;
	const char *log;
	struct node a;
	struct probe g;

	jv_contract_run("etcd https", contract_where, &f);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		new_cluster_id(cl, sizeof cl);
		o = member_opts(&secure, "gw-t", cl, url, sizeof url);
		o.ca = bad[i].other_ca ? tls.other_ca : tls.ca;
		o.cert = bad[i].no_client_cert ? NULL : tls.client_cert;
		o.key = bad[i].no_client_cert ? NULL : tls.client_key;
		hx_capture_begin();
		st = (enum jv_store_status)-1;
		if (open_node(&a, &o, why, sizeof why)) {
			st = get_sync(&a, 1, &g);
			pump_for(100);
			tap_ok(!a.p.leases, "etcd https, %s: no lease",
			       bad[i].what);
			close_node(&a);
		}
		log = hx_capture_end();
		tap_ok(st == JV_STORE_UNAVAILABLE &&
			       strstr(log, secure.url) &&
			       strstr(log, "certificate"),
		       "etcd https, %s: unavailable, and the log says why (%s)",
		       bad[i].what, sname(st));
	}
}

/* ---- open ---- */

static void open_errors(void)
{
	static const struct {
		const char *url, *cluster, *ca, *want;
		jv_time lease_ms;
	} cases[] = {
		{ "etcd:http://127.0.0.1:1", NULL, NULL, "want 1000 to", 500 },
		{ "etcd:ftp://127.0.0.1:1", NULL, NULL, "not http(s)://host:port",
		  1000 },
		{ "etcd:", NULL, NULL, "not http(s)://host:port", 1000 },
		{ "etcd:http://a:1,,http://b:2", NULL, NULL,
		  "not http(s)://host:port", 1000 },
		{ "etcd:http://127.0.0.1:1", "a/b", NULL, "without '/'", 1000 },
		{ "etcd:https://127.0.0.1:1", NULL, "/nonexistent/ca.pem",
		  "No such file", 1000 },
	};
	struct probe p = { 0 };
	char why[256];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct jv_store_config c = {
			.url = cases[i].url,
			.node_id = "gw-o",
			.cluster_id = cases[i].cluster,
			.lease_ms = cases[i].lease_ms,
			.ca_file = cases[i].ca,
			.on_lease = probe_on_lease,
			.ud = &p,
		};
		struct jv_store *st;

		why[0] = '\0';
		st = jv_store_open(&c, NULL, why, sizeof why);
		tap_ok(!st && strstr(why, cases[i].want) && !strchr(why, '\n'),
		       "etcd: open refuses '%s': %s", cases[i].url, why);
		jv_store_close(st);
	}
}

int main(void)
{
	struct factory f = { .member = &plain };
	char why[512];
	bool root = geteuid() == 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!hx_init())
		return 1;
	open_errors();
	garbage();
	unreachable();
	if (!hx_have_etcd()) {
		if (root) {
			tap_ok(false, "etcd: /usr/bin/etcd is installed");
			tap_diag("etcd is missing: apt-get install etcd-server (tools/deps.sh installs it)");
		} else {
			tap_skip("etcd not installed (apt-get install etcd-server)",
				 "etcd: the cases against a real etcd");
		}
		return tap_done();
	}
	have_plain = hx_etcd_start(&plain, "plain", NULL, why, sizeof why) == 0;
	tap_ok(have_plain, "etcd: a member of our own on %s", plain.url);
	if (!have_plain) {
		tap_diag("%s", why);
		return tap_done();
	}
	jv_contract_run("etcd", contract_where, &f);
	no_clear_secret_in_etcd();
	crash_and_takeover();
	lease_loss_and_watch();
	driven_by_the_loop();
	close_inside_callback();
	failover();
	have_secure = hx_make_certs(&tls, why, sizeof why) == 0 &&
		      hx_etcd_start(&secure, "secure", &tls, why, sizeof why) == 0;
	tap_ok(have_secure, "etcd: a TLS member with client-cert-auth on %s",
	       secure.url);
	if (have_secure)
		tls_cases();
	else
		tap_diag("%s", why);
	hx_etcd_stop(&plain);
	hx_etcd_stop(&secure);
	return tap_done();
}
