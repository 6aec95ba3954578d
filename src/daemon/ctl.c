/* SPDX-License-Identifier: MIT */
/* Control socket server: accept, read a line, answer, stream (ctl.h). */

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/ctl.h"

static void conn_close(struct jv_ctl *c, struct jv_ctl_conn *k)
{
	if (k->fd < 0)
		return;
	(void)jv_loop_del(c->loop, k->fd);
	close(k->fd);
	k->fd = -1;
	free(k->out);
	k->out = NULL;
	k->in_len = k->out_len = k->out_off = k->out_cap = 0;
	k->answered = k->follow = k->close_after = k->deferred = false;
	k->gen++;
}

/* Append to the queue; false when it does not fit. */
static bool queue(struct jv_ctl_conn *k, const char *s, size_t n)
{
	if (k->out_off && k->out_off == k->out_len)
		k->out_off = k->out_len = 0;
	if (n > k->out_cap - k->out_len) {
		if (k->out_off) {
			memmove(k->out, k->out + k->out_off,
				k->out_len - k->out_off);
			k->out_len -= k->out_off;
			k->out_off = 0;
		}
		if (n > k->out_cap - k->out_len)
			return false;
	}
	memcpy(k->out + k->out_len, s, n);
	k->out_len += n;
	return true;
}

static void watch(struct jv_ctl *c, int fd, unsigned events)
{
	/* fails only for an fd the loop does not know: nothing to do */
	if (jv_loop_mod(c->loop, fd, events))
		c->loop_errors++;
}

/* Write what is queued; returns false if the peer is gone. */
static bool drain(struct jv_ctl *c, struct jv_ctl_conn *k)
{
	while (k->out_off < k->out_len) {
		ssize_t n = send(k->fd, k->out + k->out_off,
				 k->out_len - k->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			watch(c, k->fd, JV_LOOP_READ | JV_LOOP_WRITE);
			return true;
		}
		if (n <= 0)
			return false;
		k->out_off += (size_t)n;
	}
	k->out_off = k->out_len = 0;
	watch(c, k->fd, JV_LOOP_READ);
	return !k->close_after;
}

static void answer(struct jv_ctl_conn *k, json_t *reply)
{
	char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
	size_t need = text ? strlen(text) + 1 : 0;

	/* a large answer (status of thousands of peers) grows the queue
	 * once; the connection closes after it */
	if (text && need > k->out_cap - k->out_len &&
	    k->out_len + need <= JV_CTL_REPLY_MAX) {
		char *o = realloc(k->out, k->out_len + need);

		if (o) {
			k->out = o;
			k->out_cap = k->out_len + need;
		}
	}
	if (!text ||
	    !queue(k, text, strlen(text)) || !queue(k, "\n", 1)) {
		static const char oom[] = "{\"ok\":false,\"error\":\"reply too large or out of memory\"}\n";
		k->out_len = k->out_off = 0;
		(void)queue(k, oom, sizeof oom - 1);
		k->follow = false;
	}
	free(text);
	json_decref(reply);
	k->answered = true;
	if (!k->follow)
		k->close_after = true;
}

static void handle_line(struct jv_ctl *c, struct jv_ctl_conn *k, char *line)
{
	char *verb = line, *arg;
	bool follow = false;
	json_t *reply;

	while (*verb == ' ')
		verb++;
	arg = strchr(verb, ' ');
	if (arg) {
		*arg++ = '\0';
		while (*arg == ' ')
			arg++;
		if (!*arg)
			arg = NULL;
	}
	c->current = k;
	reply = c->fn(c->ud, verb, arg, &follow);
	c->current = NULL;
	if (k->deferred && !reply) {
		k->answered = true;	/* input from now on is ignored */
		return;
	}
	k->deferred = false;
	/* an error answer is never followed by a stream */
	k->follow = follow && json_is_true(json_object_get(reply, "ok"));
	answer(k, reply);
}

uint64_t jv_ctl_defer(struct jv_ctl *c)
{
	struct jv_ctl_conn *k = c->current;

	if (!k)
		return UINT64_MAX;
	k->deferred = true;
	return (uint64_t)k->gen << 8 | (uint64_t)(k - c->conn);
}

void jv_ctl_reply(struct jv_ctl *c, uint64_t token, json_t *reply)
{
	unsigned i = (unsigned)(token & 0xff);
	struct jv_ctl_conn *k = i < JV_CTL_CONNS ? &c->conn[i] : NULL;

	if (!k || k->fd < 0 || !k->deferred || k->gen != (unsigned)(token >> 8)) {
		json_decref(reply);
		return;
	}
	k->deferred = false;
	k->follow = false;
	answer(k, reply);
	if (!drain(c, k))
		conn_close(c, k);
}

static void on_conn(struct jv_loop *l, int fd, unsigned events, void *ud)
{
	struct jv_ctl *c = ud;
	struct jv_ctl_conn *k = NULL;

	(void)l;
	for (unsigned i = 0; i < JV_CTL_CONNS; i++)
		if (c->conn[i].fd == fd)
			k = &c->conn[i];
	if (!k)
		return;
	if (events & JV_LOOP_READ) {
		char buf[256];
		ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(c, k);
			return;
		}
		/* After the request, input is ignored (a follower may
		 * send nothing more; anything else is dropped). */
		for (ssize_t i = 0; i < n && !k->answered; i++) {
			if (buf[i] == '\n') {
				k->in[k->in_len] = '\0';
				if (k->in_len && k->in[k->in_len - 1] == '\r')
					k->in[k->in_len - 1] = '\0';
				handle_line(c, k, k->in);
				break;
			}
			if (k->in_len + 1 >= sizeof k->in) {
				answer(k, json_pack("{s:b,s:s}", "ok", 0,
						       "error", "request line too long"));
				break;
			}
			k->in[k->in_len++] = buf[i];
		}
	} else if (events & JV_LOOP_ERR) {
		conn_close(c, k);
		return;
	}
	if (!drain(c, k))
		conn_close(c, k);
}

static void on_accept(struct jv_loop *l, int fd, unsigned events, void *ud)
{
	struct jv_ctl *c = ud;
	struct jv_ctl_conn *k = NULL;
	int cfd;

	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	for (unsigned i = 0; i < JV_CTL_CONNS; i++)
		if (c->conn[i].fd < 0) {
			k = &c->conn[i];
			break;
		}
	if (!k) {
		static const char busy[] = "{\"ok\":false,\"error\":\"too many control connections\"}\n";
		(void)send(cfd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(cfd);
		return;
	}
	k->out = malloc(JV_CTL_OUT_MAX);
	k->out_cap = JV_CTL_OUT_MAX;
	if (!k->out || jv_loop_add(l, cfd, JV_LOOP_READ, on_conn, c)) {
		free(k->out);
		k->out = NULL;
		close(cfd);
		return;
	}
	k->fd = cfd;
}

void jv_ctl_none(struct jv_ctl *c)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	for (unsigned i = 0; i < JV_CTL_CONNS; i++)
		c->conn[i].fd = -1;
}

int jv_ctl_open(struct jv_ctl *c, struct jv_loop *loop, const char *path,
		jv_ctl_fn fn, void *ud, char *why, size_t why_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof sa.sun_path];
	mode_t old;
	int fd, rc;

	jv_ctl_none(c);
	c->loop = loop;
	c->fn = fn;
	c->ud = ud;
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(why, why_len, "control socket path too long: %s", path);
		return JV_ERR_IO;
	}
	memcpy(sa.sun_path, path, strlen(path));
	snprintf(dir, sizeof dir, "%s", path);
	if (mkdir(dirname(dir), 0700) < 0 && errno != EEXIST) {
		snprintf(why, why_len, "control socket directory %s: %s%s", dir,
			 strerror(errno),
			 errno == EACCES ? " (are you root?)" : "");
		return JV_ERR_IO;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, why_len, "control socket: %s", strerror(errno));
		return JV_ERR_IO;
	}
	/* A socket file nobody answers on is a crash's leftover. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 ||
	    errno == EAGAIN) {
		snprintf(why, why_len,
			 "control socket %s: another jvpn is running there (same interface name?)",
			 path);
		close(fd);
		return JV_ERR_STATE;
	}
	close(fd);
	(void)unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, why_len, "control socket: %s", strerror(errno));
		return JV_ERR_IO;
	}
	/* Created 0600 from the start: no window where others could connect. */
	old = umask(077);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 8) < 0) {
		snprintf(why, why_len, "control socket %s: %s%s", path,
			 strerror(errno),
			 errno == EACCES ? " (are you root?)" : "");
		close(fd);
		return JV_ERR_IO;
	}
	if (jv_loop_add(loop, fd, JV_LOOP_READ, on_accept, c)) {
		snprintf(why, why_len, "control socket: event loop full");
		close(fd);
		(void)unlink(path);
		return JV_ERR_IO;
	}
	c->fd = fd;
	snprintf(c->path, sizeof c->path, "%s", path);
	return 0;
}

void jv_ctl_broadcast(struct jv_ctl *c, const char *line, size_t len)
{
	for (unsigned i = 0; i < JV_CTL_CONNS; i++) {
		struct jv_ctl_conn *k = &c->conn[i];

		if (k->fd < 0 || !k->follow)
			continue;
		if (!queue(k, line, len) || !drain(c, k)) {
			c->dropped_followers++;
			conn_close(c, k);
		}
	}
}

void jv_ctl_close(struct jv_ctl *c)
{
	for (unsigned i = 0; i < JV_CTL_CONNS; i++) {
		struct jv_ctl_conn *k = &c->conn[i];

		if (k->fd >= 0) {
			/* let a short answer go out before closing */
			(void)drain(c, k);
			conn_close(c, k);
		}
	}
	if (c->fd >= 0) {
		(void)jv_loop_del(c->loop, c->fd);
		close(c->fd);
		(void)unlink(c->path);
		c->fd = -1;
	}
}
