/* SPDX-License-Identifier: MIT */
/* etcd members, certificates and fake servers for etcd_test.c (see
 * etcd_harness.h). */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "etcd_harness.h"
#include "net/clock.h"

enum {
	MEMBERS_MAX = 8,
	START_WAIT_MS = 15000,
	CAPTURE_MAX = 16384,
};

static char base[] = "/tmp/jvpn-etcd-XXXXXX";
static bool base_made;
static pid_t members[MEMBERS_MAX];
static int silent_fds[4], n_silent;

/* ---- cleanup ---- */

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void kill_members(void)
{
	for (int i = 0; i < MEMBERS_MAX; i++)
		if (members[i] > 0) {
			kill(members[i], SIGKILL);
			waitpid(members[i], NULL, 0);
			members[i] = 0;
		}
}

static void cleanup(void)
{
	hx_canned_stop();
	kill_members();
	for (int i = 0; i < n_silent; i++)
		close(silent_fds[i]);
	n_silent = 0;
	if (base_made && !getenv("JV_KEEP_TMP"))
		nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	base_made = false;
}

/* A test that crashes or is interrupted still leaves nothing behind. */
static void on_fatal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

const char *hx_init(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGSEGV,
				    SIGABRT, SIGBUS };

	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return NULL;
	}
	base_made = true;
	atexit(cleanup);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], on_fatal);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return base;
}

bool hx_have_etcd(void)
{
	return system("command -v etcd >/dev/null 2>&1") == 0;
}

int hx_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* ---- etcd ---- */

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
	char **out = ud;
	size_t len = size * n, have = *out ? strlen(*out) : 0;
	char *q = realloc(*out, have + len + 1);

	(void)p;
	if (!q)
		return 0;
	memcpy(q + have, p, len);
	q[have + len] = '\0';
	*out = q;
	return len;
}

long hx_post(const struct hx_etcd *e, const struct hx_tls *tls,
	     const char *path, const char *body, char *out, size_t out_len)
{
	char url[256];
	char *got = NULL;
	long status = 0;
	CURL *c = curl_easy_init();

	if (!c)
		return 0;
	snprintf(url, sizeof url, "%s%s", e->url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
	if (tls) {
		curl_easy_setopt(c, CURLOPT_CAINFO, tls->ca);
		curl_easy_setopt(c, CURLOPT_SSLCERT, tls->client_cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, tls->client_key);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (out && out_len)
		snprintf(out, out_len, "%s", got ? got : "");
	free(got);
	curl_easy_cleanup(c);
	return status;
}

static void exec_etcd(const struct hx_etcd *e, const struct hx_tls *tls,
		      int peer_port)
{
	char dir[300], peer[64], cluster[128], log[300];
	int fd;

	snprintf(dir, sizeof dir, "%s/%s.etcd", base, e->name);
	snprintf(log, sizeof log, "%s/%s.log", base, e->name);
	snprintf(peer, sizeof peer, "http://127.0.0.1:%d", peer_port);
	snprintf(cluster, sizeof cluster, "%s=%s", e->name, peer);
	/* The member must not outlive the test, however the test ends. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	if (tls)
		execlp("etcd", "etcd", "--name", e->name, "--data-dir", dir,
		       "--listen-client-urls", e->url,
		       "--advertise-client-urls", e->url,
		       "--listen-peer-urls", peer,
		       "--initial-advertise-peer-urls", peer,
		       "--initial-cluster", cluster, "--cert-file",
		       tls->server_cert, "--key-file", tls->server_key,
		       "--client-cert-auth", "--trusted-ca-file", tls->ca,
		       (char *)NULL);
	else
		execlp("etcd", "etcd", "--name", e->name, "--data-dir", dir,
		       "--listen-client-urls", e->url,
		       "--advertise-client-urls", e->url,
		       "--listen-peer-urls", peer,
		       "--initial-advertise-peer-urls", peer,
		       "--initial-cluster", cluster, (char *)NULL);
	_exit(127);
}

int hx_etcd_start(struct hx_etcd *e, const char *name, const struct hx_tls *tls,
		  char *why, size_t why_len)
{
	int client = hx_free_port(), peer = hx_free_port(), slot = -1, st;
	jv_time end;
	char out[512];

	for (int i = 0; i < MEMBERS_MAX; i++)
		if (!members[i]) {
			slot = i;
			break;
		}
	if (client < 0 || peer < 0 || slot < 0) {
		snprintf(why, why_len, "no free port or member slot");
		return -1;
	}
	memset(e, 0, sizeof *e);
	snprintf(e->name, sizeof e->name, "%s", name);
	snprintf(e->url, sizeof e->url, "%s://127.0.0.1:%d",
		 tls ? "https" : "http", client);
	fflush(stdout);
	fflush(stderr);
	if ((e->pid = fork()) < 0) {
		snprintf(why, why_len, "fork: %s", strerror(errno));
		return -1;
	}
	if (!e->pid)
		exec_etcd(e, tls, peer);
	members[slot] = e->pid;
	end = jv_clock_now() + START_WAIT_MS;
	while (jv_clock_now() < end) {
		if (waitpid(e->pid, &st, WNOHANG) == e->pid) {
			members[slot] = 0;
			e->pid = 0;
			snprintf(why, why_len,
				 "etcd %s exited (status %d); see %s/%s.log",
				 name, st, base, name);
			return -1;
		}
		if (hx_post(e, tls, "/v3/kv/range", "{\"key\":\"AA==\"}", out,
			    sizeof out) == 200)
			return 0;
		usleep(50 * 1000);
	}
	snprintf(why, why_len, "etcd %s did not answer within %d ms", name,
		 START_WAIT_MS);
	hx_etcd_stop(e);
	return -1;
}

void hx_etcd_stop(struct hx_etcd *e)
{
	if (e->pid <= 0)
		return;
	kill(e->pid, SIGKILL);
	waitpid(e->pid, NULL, 0);
	for (int i = 0; i < MEMBERS_MAX; i++)
		if (members[i] == e->pid)
			members[i] = 0;
	e->pid = 0;
}

/* ---- certificates ---- */

int hx_make_certs(struct hx_tls *t, char *why, size_t why_len)
{
	static const char script[] =
		"set -e; cd \"$1\"\n"
		"key() { openssl genpkey -algorithm EC"
		" -pkeyopt ec_paramgen_curve:prime256v1 -out \"$1\"; }\n"
		"ca() { key $1.key; openssl req -x509 -new -key $1.key"
		" -subj /CN=$1 -days 2 -out $1.crt; }\n"
		"leaf() { key $1.key; openssl req -new -key $1.key -subj /CN=$1"
		" -out $1.csr; printf '%s\\n' \"$2\" > $1.ext;"
		" openssl x509 -req -in $1.csr -CA ca.crt -CAkey ca.key"
		" -CAcreateserial -days 2 -extfile $1.ext -out $1.crt; }\n"
		"ca ca; ca other-ca\n"
		"leaf server 'subjectAltName=IP:127.0.0.1\n"
		"extendedKeyUsage=serverAuth,clientAuth'\n"
		"leaf client 'extendedKeyUsage=clientAuth'\n";
	char cmd[1024];
	FILE *f;

	/* The server certificate is a client one too: etcd's own gateway
	 * dials its gRPC port with it, and client-cert-auth checks it. */
	/* The script goes through a file: no quoting of it inside sh -c. */
	snprintf(cmd, sizeof cmd, "%s/certs.sh", base);
	if (!(f = fopen(cmd, "w"))) {
		snprintf(why, why_len, "%s: %s", cmd, strerror(errno));
		return -1;
	}
	fputs(script, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "sh %s/certs.sh %s >%s/openssl.log 2>&1",
		 base, base, base);
	if (system(cmd)) {
		snprintf(why, why_len, "openssl failed; see %s/openssl.log",
			 base);
		return -1;
	}
	snprintf(t->ca, sizeof t->ca, "%s/ca.crt", base);
	snprintf(t->other_ca, sizeof t->other_ca, "%s/other-ca.crt", base);
	snprintf(t->server_cert, sizeof t->server_cert, "%s/server.crt", base);
	snprintf(t->server_key, sizeof t->server_key, "%s/server.key", base);
	snprintf(t->client_cert, sizeof t->client_cert, "%s/client.crt", base);
	snprintf(t->client_key, sizeof t->client_key, "%s/client.key", base);
	return 0;
}

/* ---- fake servers ---- */

static int listen_any(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
	    listen(fd, 64) || getsockname(fd, (struct sockaddr *)&a, &len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;

	return getsockname(fd, (struct sockaddr *)&a, &len) ? -1
							   : ntohs(a.sin_port);
}

int hx_silent_server(void)
{
	int fd;

	if (n_silent == (int)(sizeof silent_fds / sizeof silent_fds[0]) ||
	    (fd = listen_any()) < 0)
		return -1;
	silent_fds[n_silent++] = fd;
	return port_of(fd);
}

static struct {
	pthread_t thread;
	bool running;
	volatile bool stop;
	int fd;
	const char *response;
} canned;

/* Read one request (headers, then Content-Length bytes of body). */
static void read_request(int c)
{
	char buf[65536];
	size_t have = 0, need = 0;
	const char *hdr_end, *cl;
	ssize_t n;

	while (have < sizeof buf - 1) {
		struct pollfd p = { .fd = c, .events = POLLIN };

		if (poll(&p, 1, 2000) <= 0 ||
		    (n = read(c, buf + have, sizeof buf - 1 - have)) <= 0)
			return;
		have += (size_t)n;
		buf[have] = '\0';
		if (!(hdr_end = strstr(buf, "\r\n\r\n")))
			continue;
		if (!need) {
			cl = strcasestr(buf, "content-length:");
			need = (size_t)(hdr_end + 4 - buf) +
			       (cl ? strtoul(cl + 15, NULL, 10) : 0);
		}
		if (have >= need)
			return;
	}
}

static void *canned_main(void *arg)
{
	size_t len = strlen(canned.response), off;
	ssize_t n;
	int c;

	(void)arg;
	while (!canned.stop) {
		struct pollfd p = { .fd = canned.fd, .events = POLLIN };

		if (poll(&p, 1, 50) <= 0)
			continue;
		if ((c = accept(canned.fd, NULL, NULL)) < 0)
			continue;
		read_request(c);
		for (off = 0; off < len; off += (size_t)n)
			if ((n = write(c, canned.response + off, len - off)) <= 0)
				break;
		close(c);
	}
	return NULL;
}

int hx_canned_server(const char *response)
{
	hx_canned_stop();
	if ((canned.fd = listen_any()) < 0)
		return -1;
	canned.response = response;
	canned.stop = false;
	if (pthread_create(&canned.thread, NULL, canned_main, NULL)) {
		close(canned.fd);
		return -1;
	}
	canned.running = true;
	return port_of(canned.fd);
}

void hx_canned_stop(void)
{
	if (!canned.running)
		return;
	canned.stop = true;
	pthread_join(canned.thread, NULL);
	close(canned.fd);
	canned.running = false;
}

/* ---- stderr capture ---- */

static int saved_stderr = -1;

void hx_capture_begin(void)
{
	char path[300];
	int fd;

	snprintf(path, sizeof path, "%s/stderr.txt", base);
	fflush(stderr);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return;
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

const char *hx_capture_end(void)
{
	static char text[CAPTURE_MAX], copy[CAPTURE_MAX];
	char path[300], *line, *save;
	size_t n = 0;
	FILE *f;

	text[0] = '\0';
	if (saved_stderr < 0)
		return text;
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	saved_stderr = -1;
	snprintf(path, sizeof path, "%s/stderr.txt", base);
	if ((f = fopen(path, "r"))) {
		n = fread(text, 1, sizeof text - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	/* Shown as TAP comments so a reader sees the store's own words. */
	memcpy(copy, text, n + 1);
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		printf("# stderr: %s\n", line);
	fflush(stdout);
	return text;
}
