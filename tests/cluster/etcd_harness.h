/* SPDX-License-Identifier: MIT */
#ifndef JVPN_TESTS_CLUSTER_ETCD_HARNESS_H
#define JVPN_TESTS_CLUSTER_ETCD_HARNESS_H

/*
 * What the etcd backend's test needs around it, all on 127.0.0.1 and in
 * one mkdtemp directory: etcd members of its own (Debian's etcd-server,
 * /usr/bin/etcd) on free ports, a test CA with server and client
 * certificates (the openssl command), and fake servers that answer HTTP
 * with garbage or never answer.  Everything started is stopped, and the
 * directory removed, at exit and on a fatal signal; each etcd also gets
 * SIGKILL if the test process dies without that chance
 * (PR_SET_PDEATHSIG).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct hx_tls {
	char ca[256], server_cert[256], server_key[256];
	char client_cert[256], client_key[256];
	char other_ca[256];	/* a CA that signed nothing here */
};

struct hx_etcd {
	pid_t pid;
	char url[128];		/* http(s)://127.0.0.1:port */
	char name[32];
};

/* Make the temp directory and install the cleanup.  Returns its path or
 * NULL (why printed). */
const char *hx_init(void);
/* Is the etcd binary there?  (command -v etcd) */
bool hx_have_etcd(void);
/* Start one member (TLS on its client port when tls is set) and wait
 * until it answers a range.  0, or -1 with a reason. */
int hx_etcd_start(struct hx_etcd *e, const char *name, const struct hx_tls *tls,
		  char *why, size_t why_len);
void hx_etcd_stop(struct hx_etcd *e);
/* The CA and certificates, in the temp directory. */
int hx_make_certs(struct hx_tls *t, char *why, size_t why_len);
/* A TCP port on 127.0.0.1 nobody listens on right now. */
int hx_free_port(void);

/* A listening socket that never accepts: connects succeed, nothing is
 * ever answered.  Returns its port; closed at exit. */
int hx_silent_server(void);

/* A server (its own thread) answering every request with `response`
 * verbatim, then closing the connection.  Returns its port. */
int hx_canned_server(const char *response);
void hx_canned_stop(void);

/* One POST to an etcd member with curl (for the test's own look at the
 * server: revoking a lease behind the store's back).  Returns the HTTP
 * status, the body in out. */
long hx_post(const struct hx_etcd *e, const struct hx_tls *tls,
	     const char *path, const char *body, char *out, size_t out_len);

/* stderr into a file between begin and end; end returns what was
 * written (static buffer) and echoes it as TAP comments. */
void hx_capture_begin(void);
const char *hx_capture_end(void);

#endif
