/* SPDX-License-Identifier: MIT */
/* Endpoint host names: at start and, on a worker thread, later (resolve.h). */

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/resolve.h"
#include "net/netaddr.h"

/* getaddrinfo for host, the first answer of `family` (AF_UNSPEC: the
 * first one).  0 or an EAI_* code, with msg set. */
static int lookup(const char *host, uint16_t port, int family,
		  struct jv_addr *out, char *msg, size_t n)
{
	struct addrinfo hints = {
		.ai_family = family,
		.ai_socktype = SOCK_DGRAM,
		.ai_protocol = IPPROTO_UDP,
		/* only families this host has an address of, as wg */
		.ai_flags = AI_ADDRCONFIG,
	}, *res = NULL;
	int rc = getaddrinfo(host, NULL, &hints, &res);

	if (rc) {
		snprintf(msg, n, "%s", rc == EAI_SYSTEM ? strerror(errno)
							 : gai_strerror(rc));
		return rc;
	}
	rc = EAI_NONAME;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
		if (!jv_netaddr_from_sockaddr(out, ai->ai_addr, ai->ai_addrlen)) {
			out->port = port;
			rc = 0;
			break;
		}
	freeaddrinfo(res);
	if (rc)
		snprintf(msg, n, "no usable address");
	return rc;
}

int jv_resolve_now(const struct jv_config *cfg,
		   const struct jv_cfg_transport *t, int family,
		   struct jv_addr *out, char *why, size_t n)
{
	char msg[128];

	if (!lookup(t->host, t->endpoint.port, family, out, msg, sizeof msg))
		return 0;
	snprintf(why, n, "%s:%u: Endpoint = %s:%u: cannot resolve%s: %s",
		 cfg->file, t->endpoint_line, t->host, t->endpoint.port,
		 family == AF_INET ? " (IPv4, as Bind)" :
		 family == AF_INET6 ? " (IPv6, as Bind)" : "", msg);
	return JV_ERR_NOTFOUND;
}

/* ---- the worker -------------------------------------------------------- */

struct jv_resolver {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int efd;
	bool stop, busy, orphan;
	unsigned ntransports;
	char host[JV_MAX_TRANSPORTS][JV_CFG_HOST_MAX];
	uint16_t port[JV_MAX_TRANSPORTS];
	int family[JV_MAX_TRANSPORTS];
	uint32_t pending;			/* bit i: transport i asked */
	unsigned nans;
	struct jv_resolve_answer ans[JV_MAX_TRANSPORTS];
};

static void destroy(struct jv_resolver *r)
{
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	close(r->efd);
	free(r);
}

static void *worker(void *arg)
{
	struct jv_resolver *r = arg;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct jv_resolve_answer a = { 0 };
		char host[JV_CFG_HOST_MAX];
		unsigned i;
		int family;

		while (!r->pending && !r->stop)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop)
			break;
		i = (unsigned)__builtin_ctz(r->pending);
		r->pending &= ~(1u << i);
		memcpy(host, r->host[i], sizeof host);
		family = r->family[i];
		r->busy = true;
		pthread_mutex_unlock(&r->mu);

		a.transport = i;
		a.ok = !lookup(host, r->port[i], family, &a.addr, a.error,
			       sizeof a.error);

		pthread_mutex_lock(&r->mu);
		r->busy = false;
		if (r->stop)
			break;
		/* one slot per transport: a newer answer replaces */
		unsigned k;
		for (k = 0; k < r->nans && r->ans[k].transport != i; k++)
			;
		r->ans[k] = a;
		if (k == r->nans)
			r->nans++;
		uint64_t one = 1;
		(void)!write(r->efd, &one, sizeof one);
	}
	bool orphan = r->orphan;
	pthread_mutex_unlock(&r->mu);
	if (orphan)
		destroy(r);
	return NULL;
}

struct jv_resolver *jv_resolver_new(const struct jv_config *cfg)
{
	struct jv_resolver *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->efd < 0) {
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->ntransports = cfg->ntransports;
	for (unsigned i = 0; i < cfg->ntransports; i++) {
		memcpy(r->host[i], cfg->transports[i].host, JV_CFG_HOST_MAX);
		r->port[i] = cfg->transports[i].endpoint.port;
	}
	/* The worker takes no signal: the daemon's SIGTERM must reach its
	 * signalfd, never kill the process through a thread that has it
	 * unblocked (the mask is inherited from the creating thread). */
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->thread, NULL, worker, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		destroy(r);
		return NULL;
	}
	return r;
}

int jv_resolver_fd(const struct jv_resolver *r)
{
	return r->efd;
}

void jv_resolver_request(struct jv_resolver *r, unsigned i, int family)
{
	if (i >= r->ntransports || !r->host[i][0])
		return;
	pthread_mutex_lock(&r->mu);
	r->pending |= 1u << i;
	r->family[i] = family;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

unsigned jv_resolver_take(struct jv_resolver *r, struct jv_resolve_answer *a,
			  unsigned max)
{
	uint64_t v;
	unsigned n;

	(void)!read(r->efd, &v, sizeof v);
	pthread_mutex_lock(&r->mu);
	n = r->nans < max ? r->nans : max;
	memcpy(a, r->ans, n * sizeof *a);
	memmove(r->ans, r->ans + n, (r->nans - n) * sizeof *a);
	r->nans -= n;
	if (r->nans) {
		uint64_t one = 1;	/* more left: stay readable */
		(void)!write(r->efd, &one, sizeof one);
	}
	pthread_mutex_unlock(&r->mu);
	return n;
}

void jv_resolver_free(struct jv_resolver *r)
{
	bool busy;

	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	busy = r->busy;
	r->orphan = busy;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (busy) {
		/* inside getaddrinfo: it frees r when that returns */
		pthread_detach(r->thread);
		return;
	}
	pthread_join(r->thread, NULL);
	destroy(r);
}
