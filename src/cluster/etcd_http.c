/* SPDX-License-Identifier: MIT */
/* POSTs to etcd's JSON gateway on libcurl's multi interface (see
 * etcd_http.h). */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/etcd_http.h"
#include "cluster/store.h"
#include "cluster/why.h"
#include "net/clock.h"
#include "net/loop.h"

struct jv_etcd_req {
	struct jv_etcd_link link;	/* first: a link is its request */
	struct jv_etcd_http *h;
	CURL *easy;
	char *body;
	char path[48];
	char errbuf[CURL_ERROR_SIZE];
	char *ans;
	size_t len, cap;
	bool oversize;
	bool stream;
	bool expired;			/* its budget ran out in tick */
	CURLcode result;
	jv_time created_ms;
	jv_time deadline;		/* JV_TIME_NEVER for a stream */
	jv_time sent_ms;
	unsigned ep, tries;
	jv_etcd_done_fn done;
	jv_etcd_data_fn data;
	void *ud;
};

void jv_etcd_logf(struct jv_etcd_log *lg, const char *fmt, ...)
{
	jv_time now = jv_clock_now();
	char msg[512];
	va_list ap;

	if (now - lg->window_start >= JV_ETCD_LOG_WINDOW_MS) {
		if (lg->hidden)
			fprintf(stderr,
				"jvpn store etcd: %u more lines not shown\n",
				lg->hidden);
		lg->window_start = now;
		lg->lines = lg->hidden = 0;
	}
	if (lg->lines >= JV_ETCD_LOG_BURST) {
		lg->hidden++;
		return;
	}
	lg->lines++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "jvpn store etcd: %s\n", msg);
}

/* ---- curl callbacks ---- */

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct jv_etcd_req *r = ud;
	size_t n = size * nmemb, cap;
	char *p;

	if (r->stream)
		return r->data(r->ud, ptr, n) ? n : 0;
	if (n > JV_ETCD_ANSWER_MAX - r->len) {
		r->oversize = true;
		return 0;
	}
	if (r->len + n + 1 > r->cap) {
		cap = r->cap ? r->cap : 1024;
		while (cap < r->len + n + 1)
			cap *= 2;
		if (!(p = realloc(r->ans, cap)))
			return 0;
		r->ans = p;
		r->cap = cap;
	}
	memcpy(r->ans + r->len, ptr, n);
	r->len += n;
	r->ans[r->len] = '\0';
	return n;
}

static size_t on_write_discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
	(void)ptr;
	(void)ud;
	return size * nmemb;
}

static void on_fd(struct jv_loop *l, int fd, unsigned events, void *ud);

/* Loop mode: curl says which sockets to watch for what. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp,
		     void *socketp)
{
	struct jv_etcd_http *h = userp;
	unsigned ev = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (socketp) {
			(void)jv_loop_del(h->loop, s);
			curl_multi_assign(h->multi, s, NULL);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= JV_LOOP_READ;
	if (what & CURL_POLL_OUT)
		ev |= JV_LOOP_WRITE;
	if (!ev)
		ev = JV_LOOP_READ;	/* errors are always reported */
	if (socketp) {
		if (jv_loop_mod(h->loop, s, ev))
			jv_etcd_logf(h->log, "cannot change socket %d in the loop", s);
		return 0;
	}
	/* A socket the loop cannot take stalls its transfer until the
	 * request's budget ends it: UNAVAILABLE, never a hang. */
	if (jv_loop_add(h->loop, s, ev, on_fd, h)) {
		jv_etcd_logf(h->log, "cannot watch socket %d: event loop full", s);
		return 0;
	}
	curl_multi_assign(h->multi, s, h);
	return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct jv_etcd_http *h = userp;

	(void)multi;
	h->curl_deadline = JV_TIME_NEVER;
	if (timeout_ms >= 0)
		h->curl_deadline = jv_clock_now() + (jv_time)timeout_ms;
	return 0;
}

/* ---- requests ---- */

static void req_free(struct jv_etcd_req *r)
{
	if (r->easy) {
		curl_multi_remove_handle(r->h->multi, r->easy);
		curl_easy_cleanup(r->easy);
	}
	free(r->body);
	free(r->ans);
	free(r);
}

static int start_attempt(struct jv_etcd_http *h, struct jv_etcd_req *r,
			 jv_time now)
{
	char url[JV_STORE_URL_MAX + sizeof r->path];
	long share;

	r->ep = h->cur;
	snprintf(url, sizeof url, "%s%s", h->ep[r->ep], r->path);
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	if (r->stream) {
		curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS,
				 (long)JV_STORE_OP_TIMEOUT_MS);
	} else {
		/* An equal share of what is left for each endpoint not yet
		 * tried (see the header). */
		share = (long)((r->deadline - now) / (h->n_ep - r->tries));
		if (share < 1)
			share = 1;
		curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, share);
		curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, share);
	}
	r->len = 0;
	r->oversize = false;
	r->errbuf[0] = '\0';
	r->sent_ms = now;
	r->tries++;
	if (curl_multi_add_handle(h->multi, r->easy) != CURLM_OK)
		return -1;
	jv_etcd_list_add(&h->active, &r->link);
	return 0;
}

static void set_common(struct jv_etcd_http *h, CURL *e)
{
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
	if (h->cert_file)
		curl_easy_setopt(e, CURLOPT_SSLCERT, h->cert_file);
	if (h->key_file)
		curl_easy_setopt(e, CURLOPT_SSLKEY, h->key_file);
}

struct jv_etcd_req *jv_etcd_http_post(struct jv_etcd_http *h, const char *path,
				      char *body, int budget_ms,
				      jv_etcd_done_fn done,
				      jv_etcd_data_fn data, void *ud)
{
	struct jv_etcd_req *r;
	jv_time now = jv_clock_now();

	if (!body || !(r = calloc(1, sizeof *r))) {
		free(body);
		return NULL;
	}
	jv_etcd_list_init(&r->link);
	r->h = h;
	r->body = body;
	snprintf(r->path, sizeof r->path, "%s", path);
	r->stream = data != NULL;
	r->created_ms = now;
	r->deadline = r->stream ? JV_TIME_NEVER
				: now + (jv_time)(budget_ms > 0 ? budget_ms : 1);
	r->done = done;
	r->data = data;
	r->ud = ud;
	if (!(r->easy = curl_easy_init()))
		goto fail;
	set_common(h, r->easy);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
	if (start_attempt(h, r, now))
		goto fail;
	return r;
fail:
	req_free(r);
	return NULL;
}

void jv_etcd_http_cancel(struct jv_etcd_http *h, struct jv_etcd_req *r)
{
	(void)h;
	if (!r)
		return;
	jv_etcd_list_del(&r->link);
	req_free(r);
}

static void deliver(struct jv_etcd_http *h, struct jv_etcd_req *r,
		    enum jv_etcd_reply_kind kind, long status)
{
	struct jv_etcd_reply rep = {
		.kind = kind,
		.status = status,
		.body = r->ans ? r->ans : "",
		.len = r->ans ? r->len : 0,
		.endpoint = h->ep[r->ep],
		.sent_ms = r->sent_ms,
	};

	r->done(r->ud, &rep);
	req_free(r);
}

/* The attempt on r->ep did not get an answer: move on to the next
 * endpoint if there is one and time is left. */
static void failed_attempt(struct jv_etcd_http *h, struct jv_etcd_req *r,
			   const char *reason, jv_time now)
{
	bool again = !r->expired && r->tries < h->n_ep &&
		     (r->stream || now < r->deadline);

	if (h->cur == r->ep)
		h->cur = (r->ep + 1) % h->n_ep;
	/* A stream is not retried here: the watch reconnects itself, from
	 * the revision it got to. */
	if (r->stream)
		again = false;
	if (again) {
		jv_etcd_logf(h->log, "%s%s: %s; trying %s", h->ep[r->ep],
			     r->path, reason, h->ep[h->cur]);
		curl_multi_remove_handle(h->multi, r->easy);
		if (start_attempt(h, r, now) == 0)
			return;
		reason = "curl refused the retry";
	}
	jv_etcd_logf(h->log, "%s%s: %s%s", h->ep[r->ep], r->path, reason,
		     h->n_ep > 1 && !r->stream ? " (no endpoint left)" : "");
	deliver(h, r, JV_ETCD_UNREACHABLE, 0);
}

/* A server with client-cert-auth drops a client without a certificate
 * right after the handshake, which curl reports as a broken connection:
 * say what is likely missing. */
static const char *tls_hint(const struct jv_etcd_http *h,
			    const struct jv_etcd_req *r)
{
	bool broken = r->result == CURLE_SSL_CONNECT_ERROR ||
		      r->result == CURLE_RECV_ERROR ||
		      r->result == CURLE_SEND_ERROR ||
		      r->result == CURLE_GOT_NOTHING;

	if (broken && !h->cert_file && !strncmp(h->ep[r->ep], "https:", 6))
		return " (no client certificate configured; does etcd want one?)";
	return "";
}

static void finish(struct jv_etcd_http *h, struct jv_etcd_req *r, jv_time now)
{
	char reason[CURL_ERROR_SIZE + 96];
	long status = 0;

	if (r->expired) {
		snprintf(reason, sizeof reason,
			 "no answer within the request's %lld ms",
			 (long long)(r->deadline - r->created_ms));
		failed_attempt(h, r, reason, now);
		return;
	}
	if (r->result == CURLE_OK) {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
		/* grpc-gateway's Unavailable (no leader, request timed out) and
		 * DeadlineExceeded: this member cannot serve, another may. */
		if (status == 502 || status == 503 || status == 504) {
			snprintf(reason, sizeof reason, "HTTP %ld", status);
			failed_attempt(h, r, reason, now);
			return;
		}
		deliver(h, r, JV_ETCD_ANSWERED, status);
		return;
	}
	if (r->oversize) {
		jv_etcd_logf(h->log, "%s%s: answer larger than %d bytes",
			     h->ep[r->ep], r->path, JV_ETCD_ANSWER_MAX);
		deliver(h, r, JV_ETCD_OVERSIZE, 0);
		return;
	}
	snprintf(reason, sizeof reason, "%s%s",
		 r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->result),
		 tls_hint(h, r));
	failed_attempt(h, r, reason, now);
}

/* Move what curl finished to the done list, then deliver it.  A callback
 * may start, cancel or close anything; done is re-read every round. */
static void drain(struct jv_etcd_http *h, jv_time now)
{
	struct jv_etcd_req *r;
	struct jv_etcd_link *e;
	CURLMsg *msg;
	CURL *easy;
	CURLcode res;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		res = msg->data.result;
		r = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
		if (!r)
			continue;
		r->result = res;
		curl_multi_remove_handle(h->multi, easy);
		jv_etcd_list_del(&r->link);
		jv_etcd_list_add(&h->done, &r->link);
	}
	/* Requests whose budget ran out while curl still held them. */
	for (e = h->active.next; e != &h->active;) {
		r = (struct jv_etcd_req *)e;
		e = e->next;
		if (!r->stream && r->deadline <= now) {
			r->expired = true;
			curl_multi_remove_handle(h->multi, r->easy);
			jv_etcd_list_del(&r->link);
			jv_etcd_list_add(&h->done, &r->link);
		}
	}
	while (!h->doomed && !jv_etcd_list_empty(&h->done)) {
		r = (struct jv_etcd_req *)h->done.next;
		jv_etcd_list_del(&r->link);
		finish(h, r, now);
	}
}

static void on_fd(struct jv_loop *l, int fd, unsigned events, void *ud)
{
	struct jv_etcd_http *h = ud;
	int flags = 0, running;

	(void)l;
	if (events & JV_LOOP_READ)
		flags |= CURL_CSELECT_IN;
	if (events & JV_LOOP_WRITE)
		flags |= CURL_CSELECT_OUT;
	if (events & JV_LOOP_ERR)
		flags |= CURL_CSELECT_ERR;
	jv_etcd_http_enter(h);
	curl_multi_socket_action(h->multi, fd, flags, &running);
	drain(h, jv_clock_now());
	(void)jv_etcd_http_leave(h);
}

void jv_etcd_http_enter(struct jv_etcd_http *h)
{
	h->busy++;
}

bool jv_etcd_http_leave(struct jv_etcd_http *h)
{
	if (--h->busy == 0 && h->doomed) {
		h->reap(h->reap_ud);
		return true;
	}
	return false;
}

jv_time jv_etcd_http_deadline(const struct jv_etcd_http *h)
{
	const struct jv_etcd_link *e;
	const struct jv_etcd_req *r;
	jv_time t = h->curl_deadline;
	long ms = -1;

	if (!jv_etcd_list_empty(&h->done))
		return 0;
	if (!h->loop && curl_multi_timeout(h->multi, &ms) == CURLM_OK &&
	    ms >= 0)
		t = jv_clock_now() + (jv_time)ms;
	for (e = h->active.next; e != &h->active; e = e->next) {
		r = (const struct jv_etcd_req *)e;
		if (r->deadline < t)
			t = r->deadline;
	}
	return t;
}

void jv_etcd_http_tick(struct jv_etcd_http *h, jv_time now)
{
	int running;

	jv_etcd_http_enter(h);
	if (h->loop) {
		if (h->curl_deadline <= now) {
			h->curl_deadline = JV_TIME_NEVER;
			curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT,
						 0, &running);
		}
	} else {
		curl_multi_perform(h->multi, &running);
	}
	drain(h, now);
	(void)jv_etcd_http_leave(h);
}

void jv_etcd_http_wait(struct jv_etcd_http *h, int timeout_ms)
{
	if (timeout_ms > 0)
		curl_multi_poll(h->multi, NULL, 0, timeout_ms, NULL);
	jv_etcd_http_tick(h, jv_clock_now());
}

long jv_etcd_http_post_sync(struct jv_etcd_http *h, const char *path,
			    const char *body, int budget_ms)
{
	char url[JV_STORE_URL_MAX + 48];
	jv_time now = jv_clock_now(), end = now + (jv_time)budget_ms;
	long status = 0, share;
	unsigned i, ep;
	CURL *e = curl_easy_init();

	if (!e)
		return 0;
	set_common(h, e);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write_discard);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	for (i = 0; i < h->n_ep && (now = jv_clock_now()) < end; i++) {
		ep = (h->cur + i) % h->n_ep;
		share = (long)((end - now) / (h->n_ep - i));
		snprintf(url, sizeof url, "%s%s", h->ep[ep], path);
		curl_easy_setopt(e, CURLOPT_URL, url);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, share > 0 ? share : 1L);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
				 share > 0 ? share : 1L);
		if (curl_easy_perform(e) == CURLE_OK) {
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
			if (status < 502 || status > 504)
				break;
		}
		status = 0;
	}
	curl_easy_cleanup(e);
	return status;
}

/* ---- setup ---- */

static int parse_endpoints(struct jv_etcd_http *h, const char *where,
			   char *why, size_t why_len)
{
	const char *p = where, *end;
	size_t n;

	for (;;) {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		while (n && p[n - 1] == '/')
			n--;
		if (h->n_ep == JV_ETCD_ENDPOINTS_MAX)
			return jv_why(why, why_len, -1,
				      "etcd:%s: more than %d endpoints", where,
				      JV_ETCD_ENDPOINTS_MAX);
		if (!((n > 7 && !strncmp(p, "http://", 7)) ||
		      (n > 8 && !strncmp(p, "https://", 8))) ||
		    memchr(p, ' ', n))
			return jv_why(why, why_len, -1,
				      "etcd:%s: endpoint '%.*s' is not http(s)://host:port",
				      where, (int)n, p);
		if (!(h->ep[h->n_ep] = strndup(p, n)))
			return jv_why(why, why_len, -1, "etcd: out of memory");
		h->n_ep++;
		if (!end)
			return 0;
		p = end + 1;
	}
}

static int take_file(char **dst, const char *what, const char *path,
		     char *why, size_t why_len)
{
	if (!path)
		return 0;
	if (access(path, R_OK))
		return jv_why(why, why_len, -1, "etcd: %s %s: %s", what, path,
			      strerror(errno));
	if (!(*dst = strdup(path)))
		return jv_why(why, why_len, -1, "etcd: out of memory");
	return 0;
}

int jv_etcd_http_init(struct jv_etcd_http *h, const char *where,
		      const struct jv_etcd_tls *tls, struct jv_loop *loop,
		      char *why, size_t why_len)
{
	struct curl_slist *l;

	jv_etcd_list_init(&h->active);
	jv_etcd_list_init(&h->done);
	h->loop = loop;
	h->curl_deadline = JV_TIME_NEVER;
	if (parse_endpoints(h, where, why, why_len) ||
	    take_file(&h->ca_file, "ca_file", tls->ca_file, why, why_len) ||
	    take_file(&h->cert_file, "cert_file", tls->cert_file, why,
		      why_len) ||
	    take_file(&h->key_file, "key_file", tls->key_file, why, why_len))
		return -1;
	if (h->key_file && !h->cert_file)
		return jv_why(why, why_len, -1,
			      "etcd: key_file without cert_file");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return jv_why(why, why_len, -1,
			      "etcd: curl_global_init failed");
	h->curl_up = true;
	if (!(h->multi = curl_multi_init()))
		return jv_why(why, why_len, -1, "etcd: curl_multi_init failed");
	/* Expect: a 100-continue round trip before each larger body buys
	 * nothing from a server that takes every POST. */
	if (!(l = curl_slist_append(NULL, "Content-Type: application/json")) ||
	    !(h->headers = curl_slist_append(l, "Expect:"))) {
		curl_slist_free_all(l);
		return jv_why(why, why_len, -1, "etcd: out of memory");
	}
	curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
			  (long)JV_ETCD_CONNS_MAX);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS,
			  (long)JV_ETCD_CONNS_MAX);
	if (loop) {
		curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
		curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
		curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
		curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	}
	return 0;
}

void jv_etcd_http_fini(struct jv_etcd_http *h)
{
	struct jv_etcd_link *lists[2] = { &h->active, &h->done };
	for (int i = 0; i < 2; i++)
		while (lists[i]->next && !jv_etcd_list_empty(lists[i]))
			jv_etcd_http_cancel(h,
					    (struct jv_etcd_req *)lists[i]->next);
	if (h->multi)
		curl_multi_cleanup(h->multi);	/* unregisters sockets */
	h->multi = NULL;
	curl_slist_free_all(h->headers);
	h->headers = NULL;
	for (unsigned i = 0; i < h->n_ep; i++)
		free(h->ep[i]);
	h->n_ep = 0;
	free(h->ca_file);
	free(h->cert_file);
	free(h->key_file);
	h->ca_file = h->cert_file = h->key_file = NULL;
	if (h->curl_up)
		curl_global_cleanup();
	h->curl_up = false;
}
