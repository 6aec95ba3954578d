/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CLUSTER_ETCD_HTTP_H
#define JVPN_CLUSTER_ETCD_HTTP_H

/*
 * HTTP POSTs to etcd's JSON gateway over libcurl's multi interface: one
 * multi handle (so connections are kept alive and reused), driven either
 * by the daemon's epoll loop (socket and timer callbacks) or, without a
 * loop, by jv_etcd_http_wait (curl_multi_poll).  Nothing here blocks.
 *
 * Endpoints and failover: requests go to the current endpoint; when it
 * does not answer (no connection, TLS failure, timeout, or a 502/503/504,
 * which is how the gateway says "no leader" or "timed out") the request
 * moves to the next endpoint, which becomes current, and so on until each
 * was tried once or the request's budget is spent.  Each attempt gets an
 * equal share of what is left of the budget, so a black-holed endpoint
 * cannot eat the time of the live one behind it.  A request retried after
 * a timeout may have been applied by the first endpoint: its compare then
 * fails on the second, which the store reports as a conflict (safe).
 *
 * Private to src/cluster.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "jvpn/limits.h"

struct jv_loop;

enum jv_etcd_http_limits {
	JV_ETCD_ENDPOINTS_MAX = 8,
	/* Connections at once (each one a slot of the daemon's loop, which
	 * has JV_LOOP_FDS_MAX); more requests queue inside curl. */
	JV_ETCD_CONNS_MAX = 8,
	/* An answer larger than this is not one we asked for. */
	JV_ETCD_ANSWER_MAX = 1 << 20,
	/* Store errors go to stderr, at most this many lines per window;
	 * the rest are counted and the count printed once. */
	JV_ETCD_LOG_BURST = 10,
	JV_ETCD_LOG_WINDOW_MS = 10000,
};

/* The rate-limited error log shared by the etcd files. */
struct jv_etcd_log {
	jv_time window_start;
	unsigned lines, hidden;
};

void jv_etcd_logf(struct jv_etcd_log *lg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

enum jv_etcd_reply_kind {
	JV_ETCD_ANSWERED,	/* an HTTP answer, any status, body complete */
	JV_ETCD_UNREACHABLE,	/* no endpoint answered in time (logged) */
	JV_ETCD_OVERSIZE,	/* the answer passed JV_ETCD_ANSWER_MAX */
};

struct jv_etcd_reply {
	enum jv_etcd_reply_kind kind;
	long status;		/* HTTP status when ANSWERED */
	const char *body;	/* NUL-terminated, len bytes */
	size_t len;
	const char *endpoint;	/* that answered, or failed last */
	jv_time sent_ms;	/* when the answered attempt started */
};

struct jv_etcd_req;

/* The request is over (it is freed right after this returns). */
typedef void (*jv_etcd_done_fn)(void *ud, const struct jv_etcd_reply *r);
/* A streaming request's bytes as they arrive; false aborts it (its done
 * callback then runs with JV_ETCD_UNREACHABLE). */
typedef bool (*jv_etcd_data_fn)(void *ud, const char *data, size_t len);

struct jv_etcd_tls {
	const char *ca_file, *cert_file, *key_file;
};

/* An intrusive list: requests here, operations in etcd.c. */
struct jv_etcd_link {
	struct jv_etcd_link *prev, *next;
};

static inline void jv_etcd_list_init(struct jv_etcd_link *l)
{
	l->prev = l->next = l;
}

static inline void jv_etcd_list_del(struct jv_etcd_link *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->prev = e->next = e;
}

static inline void jv_etcd_list_add(struct jv_etcd_link *l,
				    struct jv_etcd_link *e)
{
	e->prev = l->prev;
	e->next = l;
	l->prev->next = e;
	l->prev = e;
}

static inline bool jv_etcd_list_empty(const struct jv_etcd_link *l)
{
	return l->next == l;
}

struct jv_etcd_http {
	CURLM *multi;
	struct jv_loop *loop;
	struct jv_etcd_log *log;
	char *ep[JV_ETCD_ENDPOINTS_MAX];
	unsigned n_ep, cur;
	char *ca_file, *cert_file, *key_file;
	struct curl_slist *headers;
	jv_time curl_deadline;		/* curl's timer (loop mode) */
	struct jv_etcd_link active, done;
	/* Entry frames on the stack; a close requested inside one is carried
	 * out by the outermost (reap). */
	int busy;
	bool doomed;
	bool curl_up;			/* curl_global_init done */
	void (*reap)(void *ud);
	void *reap_ud;
};

/*
 * Parse endpoints ("http(s)://host:port[,...]"), set up curl.  Returns 0,
 * or -1 with a one-line reason in why.  h->log, reap and reap_ud must be
 * set by the caller before anything runs.
 */
int jv_etcd_http_init(struct jv_etcd_http *h, const char *where,
		      const struct jv_etcd_tls *tls, struct jv_loop *loop,
		      char *why, size_t why_len);
/* Free every request without callbacks, unregister sockets, clean up. */
void jv_etcd_http_fini(struct jv_etcd_http *h);

/*
 * POST body (taken, malloc'd, freed in every case) to path.  budget_ms:
 * the whole request's time over all endpoints.  With data set it is a
 * stream instead: the answer goes to data as it arrives, with no time
 * limit (budget_ms unused), until the server ends it or it is cancelled.
 * Returns the request or NULL (out of memory, or curl refused it), in
 * which case no callback runs.
 */
struct jv_etcd_req *jv_etcd_http_post(struct jv_etcd_http *h, const char *path,
				      char *body, int budget_ms,
				      jv_etcd_done_fn done,
				      jv_etcd_data_fn data, void *ud);
/* Drop a request without its callback.  Safe from any callback. */
void jv_etcd_http_cancel(struct jv_etcd_http *h, struct jv_etcd_req *r);

/* The next time curl or a request's budget needs jv_etcd_http_tick. */
jv_time jv_etcd_http_deadline(const struct jv_etcd_http *h);
/* Run curl's due timers, end requests past their budget, deliver. */
void jv_etcd_http_tick(struct jv_etcd_http *h, jv_time now);
/* Without a loop: wait at most timeout_ms in curl_multi_poll, then
 * perform and deliver. */
void jv_etcd_http_wait(struct jv_etcd_http *h, int timeout_ms);

/* Entry frames (see busy): leave returns true when it freed the owner. */
void jv_etcd_http_enter(struct jv_etcd_http *h);
bool jv_etcd_http_leave(struct jv_etcd_http *h);

/*
 * One blocking POST outside the multi handle, at most budget_ms over all
 * endpoints: for the lease revoke at close, the one place store.h allows
 * a bounded wait.  Returns the HTTP status or 0.
 */
long jv_etcd_http_post_sync(struct jv_etcd_http *h, const char *path,
			    const char *body, int budget_ms);

#endif
