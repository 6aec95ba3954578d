/* SPDX-License-Identifier: MIT */
/* Control socket, command side (ctl_client.h). */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/ctl.h"
#include "daemon/ctl_client.h"

const char *jv_ctl_run_dir(void)
{
	const char *e = getenv("JVPN_RUN_DIR");

	return e && *e ? e : JV_CTL_RUN_DIR;
}

int jv_ctl_iface_socket(const char *dir, const char *iface, char *out,
			size_t out_len, char *why, size_t why_len)
{
	size_t l = strlen(iface);

	/* an interface name, not a path: the socket is <dir>/<name>.sock */
	if (!l || l >= JV_CTL_IFNAME_MAX || strchr(iface, '/') ||
	    !strcmp(iface, ".") || !strcmp(iface, "..")) {
		snprintf(why, why_len, "'%s' is not an interface name (1..%d bytes, no '/')",
			 iface, JV_CTL_IFNAME_MAX - 1);
		return JV_ERR_INVAL;
	}
	if ((size_t)snprintf(out, out_len, "%s/%s.sock", dir ? dir :
			     jv_ctl_run_dir(), iface) >= out_len) {
		snprintf(why, why_len, "%s/%s.sock: path too long",
			 dir ? dir : jv_ctl_run_dir(), iface);
		return JV_ERR_INVAL;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

int jv_ctl_list(const char *dir, char (*out)[JV_CFG_PATH_MAX], unsigned max,
		unsigned *n, char *why, size_t why_len)
{
	struct dirent *e;
	DIR *d;

	*n = 0;
	if (!dir)
		dir = jv_ctl_run_dir();
	d = opendir(dir);
	if (!d) {
		snprintf(why, why_len, "%s: %s: is jvpn up running? (or give --socket PATH)",
			 dir, strerror(errno));
		return errno == ENOENT ? JV_ERR_NOTFOUND : JV_ERR_IO;
	}
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (l < 6 || strcmp(e->d_name + l - 5, ".sock"))
			continue;
		if (*n == max) {
			closedir(d);
			snprintf(why, why_len, "%s: more than %u control sockets",
				 dir, max);
			return JV_ERR_NOSPACE;
		}
		if ((size_t)snprintf(out[*n], sizeof out[*n], "%s/%s", dir,
				     e->d_name) < sizeof out[*n])
			(*n)++;
	}
	closedir(d);
	qsort(out, *n, sizeof out[0], by_name);
	return 0;
}

void jv_ctl_sock_iface(const char *path, char *out, size_t out_len)
{
	const char *b = strrchr(path, '/');
	size_t l;

	b = b ? b + 1 : path;
	l = strlen(b);
	if (l > 5 && !strcmp(b + l - 5, ".sock"))
		l -= 5;
	snprintf(out, out_len, "%.*s", (int)l, b);
}

int jv_ctl_find(const char *sock, const char *config, char *out,
		size_t out_len, char *why, size_t why_len)
{
	const char *run_dir = jv_ctl_run_dir();
	struct jv_config *cfg = NULL;
	struct jv_diag d;
	char found[2][JV_CFG_PATH_MAX];
	unsigned n = 0;
	DIR *dir;
	struct dirent *e;

	if (sock) {
		snprintf(out, out_len, "%s", sock);
		return 0;
	}
	if (config) {
		char text[JV_DIAG_TEXT_MAX];

		if (jv_config_load(config, &cfg, &d)) {
			if (jv_diag_format(&d, text, sizeof text) < 0)
				text[sizeof text - 1] = '\0';
			snprintf(why, why_len, "%s", text);
			jv_config_free(cfg);
			return JV_ERR_INVAL;
		}
		snprintf(out, out_len, "%s", cfg->control_socket);
		jv_config_free(cfg);
		return 0;
	}
	dir = opendir(run_dir);
	if (!dir) {
		snprintf(why, why_len, "no %s (%s): is jvpn up running? (or give --socket PATH)",
			 run_dir, strerror(errno));
		return JV_ERR_NOTFOUND;
	}
	while ((e = readdir(dir))) {
		size_t l = strlen(e->d_name);

		if (l < 6 || strcmp(e->d_name + l - 5, ".sock"))
			continue;
		if (n < 2)
			snprintf(found[n], sizeof found[n], "%s/%s", run_dir,
				 e->d_name);
		n++;
	}
	closedir(dir);
	if (n == 0) {
		snprintf(why, why_len, "no control socket in %s: is jvpn up running? (or give --socket PATH)",
			 run_dir);
		return JV_ERR_NOTFOUND;
	}
	if (n > 1) {
		snprintf(why, why_len, "%u control sockets in %s (%s, %s, ...): name the interface or give --socket PATH",
			 n, run_dir, found[0], found[1]);
		return JV_ERR_INVAL;
	}
	snprintf(out, out_len, "%s", found[0]);
	return 0;
}

int jv_ctl_client_open(struct jv_ctl_client *c, const char *path, char *why,
		       size_t why_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	c->fd = -1;
	c->len = 0;
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(why, why_len, "%s: path too long", path);
		return JV_ERR_INVAL;
	}
	memcpy(sa.sun_path, path, strlen(path));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;

		snprintf(why, why_len, "%s: %s%s", path, strerror(e),
			 e == ENOENT || e == ECONNREFUSED ?
			 " (is jvpn up running?)" :
			 e == EACCES ? " (the control socket is root only)" : "");
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		return JV_ERR_IO;
	}
	return 0;
}

ssize_t jv_ctl_client_line(struct jv_ctl_client *c, char *line, size_t cap)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - c->buf);

			if (l + 1 > cap)
				return JV_ERR_NOSPACE;
			memcpy(line, c->buf, l);
			line[l] = '\0';
			memmove(c->buf, nl + 1, c->len - l - 1);
			c->len -= l + 1;
			return 1;
		}
		if (c->len == sizeof c->buf)
			return JV_ERR_NOSPACE;
		n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return JV_ERR_IO;
		if (n == 0)
			return 0;
		c->len += (size_t)n;
	}
}

/*
 * The answer line, however long (a gateway's status with 10 000 peers is
 * megabytes; the daemon bounds it, JV_CTL_REPLY_MAX): what follows it
 * (a stream) stays in c->buf for jv_ctl_client_line.  *out is malloc'd.
 */
static ssize_t answer_line(struct jv_ctl_client *c, char **out)
{
	char *line = NULL;
	size_t len = 0;

	*out = NULL;
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		size_t take = nl ? (size_t)(nl - c->buf) : c->len;
		char *grown;
		ssize_t n;

		if (len + take > JV_CTL_REPLY_MAX ||
		    !(grown = realloc(line, len + take + 1))) {
			free(line);
			return JV_ERR_NOSPACE;
		}
		line = grown;
		memcpy(line + len, c->buf, take);
		len += take;
		line[len] = '\0';
		if (nl) {
			memmove(c->buf, nl + 1, c->len - take - 1);
			c->len -= take + 1;
			*out = line;
			return 1;
		}
		c->len = 0;
		do
			n = read(c->fd, c->buf, sizeof c->buf);
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			free(line);
			return n < 0 ? JV_ERR_IO : 0;
		}
		c->len = (size_t)n;
	}
}

int jv_ctl_client_call(struct jv_ctl_client *c, const char *request,
		       json_t **reply, char *why, size_t why_len)
{
	char *line = NULL;
	size_t len = strlen(request), done = 0;
	json_error_t jerr;
	ssize_t n;

	*reply = NULL;
	while (done < len + 1) {
		const char *p = done < len ? request + done : "\n";
		size_t want = done < len ? len - done : 1;

		n = send(c->fd, p, want, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, why_len, "control socket: %s",
				 strerror(errno));
			return JV_ERR_IO;
		}
		done += (size_t)n;
	}
	n = answer_line(c, &line);
	if (n <= 0) {
		snprintf(why, why_len, "control socket: %s",
			 n == 0 ? "the daemon closed the connection without an answer"
				: "read failed or answer too long");
		return JV_ERR_IO;
	}
	*reply = json_loads(line, 0, &jerr);
	free(line);
	if (!json_is_object(*reply)) {
		json_decref(*reply);
		*reply = NULL;
		snprintf(why, why_len, "control socket: the answer is not a JSON object: %s",
			 jerr.text);
		return JV_ERR_PARSE;
	}
	return 0;
}

void jv_ctl_client_close(struct jv_ctl_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int jv_ctl_ask(const char *sock, const char *config, const char *request,
	       struct jv_ctl_client *c, json_t **reply, char *why,
	       size_t why_len)
{
	char path[JV_CFG_PATH_MAX];
	int rc;

	c->fd = -1;
	*reply = NULL;
	rc = jv_ctl_find(sock, config, path, sizeof path, why, why_len);
	if (rc)
		return rc;
	rc = jv_ctl_client_open(c, path, why, why_len);
	if (rc)
		return rc;
	rc = jv_ctl_client_call(c, request, reply, why, why_len);
	if (rc)
		jv_ctl_client_close(c);
	return rc;
}
