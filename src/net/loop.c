/* SPDX-License-Identifier: MIT */
/* epoll + timerfd + signalfd event loop (see loop.h). */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "net/clock.h"
#include "net/loop.h"

static const int watched[] = { SIGINT, SIGTERM, SIGHUP };

/* epoll tokens: slot index | generation << 32, and two fixed ones. */
enum { TOKEN_TIMER = JV_LOOP_FDS_MAX, TOKEN_SIGNAL = JV_LOOP_FDS_MAX + 1 };

static uint64_t token(unsigned idx, uint32_t gen)
{
	return (uint64_t)gen << 32 | idx;
}

static uint32_t to_epoll(unsigned events)
{
	return (events & JV_LOOP_READ ? EPOLLIN : 0u) |
	       (events & JV_LOOP_WRITE ? EPOLLOUT : 0u);
}

static unsigned from_epoll(uint32_t ev)
{
	return (ev & (EPOLLIN | EPOLLPRI) ? JV_LOOP_READ : 0u) |
	       (ev & EPOLLOUT ? JV_LOOP_WRITE : 0u) |
	       (ev & (EPOLLERR | EPOLLHUP) ? JV_LOOP_ERR : 0u);
}

int jv_loop_init(struct jv_loop *l, struct jv_net_err *err)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int e;

	memset(l, 0, sizeof *l);
	l->epfd = l->timerfd = l->sigfd = -1;
	l->deadline = JV_TIME_NEVER;
	for (unsigned i = 0; i < JV_LOOP_FDS_MAX; i++)
		l->slot[i].fd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return jv_net_err_set(err, jv_net_err_class(errno), errno,
				      "event loop: epoll_create1");
	l->timerfd = timerfd_create(JV_CLOCK_STEADY,
				    TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->timerfd < 0) {
		e = errno;
		jv_loop_close(l);
		return jv_net_err_set(err, jv_net_err_class(e), e,
				      "event loop: timerfd_create");
	}
	ev.data.u64 = token(TOKEN_TIMER, 0);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->timerfd, &ev) < 0) {
		e = errno;
		jv_loop_close(l);
		return jv_net_err_set(err, jv_net_err_class(e), e,
				      "event loop: watch timerfd");
	}
	return 0;
}

void jv_loop_close(struct jv_loop *l)
{
	if (l->sigfd >= 0)
		close(l->sigfd);
	if (l->timerfd >= 0)
		close(l->timerfd);
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = l->timerfd = l->sigfd = -1;
	/* Unblock only what we blocked: the caller's own mask stays. */
	if (l->sig_blocked) {
		sigset_t set;

		sigemptyset(&set);
		for (unsigned i = 0; i < sizeof watched / sizeof *watched; i++)
			if (l->sig_blocked & 1u << i)
				sigaddset(&set, watched[i]);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		l->sig_blocked = 0;
	}
}

static struct jv_loop_slot *find(struct jv_loop *l, int fd, unsigned *idx)
{
	for (unsigned i = 0; i < JV_LOOP_FDS_MAX; i++) {
		if (l->slot[i].fd == fd) {
			if (idx)
				*idx = i;
			return &l->slot[i];
		}
	}
	return NULL;
}

int jv_loop_add(struct jv_loop *l, int fd, unsigned events, jv_loop_fd_fn fn,
		void *ud)
{
	struct epoll_event ev;
	struct jv_loop_slot *s;
	unsigned idx;

	if (fd < 0 || !fn || !(events & (JV_LOOP_READ | JV_LOOP_WRITE)) ||
	    find(l, fd, NULL))
		return JV_ERR_INVAL;
	s = find(l, -1, &idx);
	if (!s)
		return JV_ERR_LIMIT;
	ev.events = to_epoll(events);
	ev.data.u64 = token(idx, s->gen + 1);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return JV_ERR_IO;
	s->gen++;
	s->fd = fd;
	s->fn = fn;
	s->ud = ud;
	return 0;
}

int jv_loop_mod(struct jv_loop *l, int fd, unsigned events)
{
	struct epoll_event ev;
	struct jv_loop_slot *s;
	unsigned idx;

	if (fd < 0 || !(s = find(l, fd, &idx)))
		return JV_ERR_NOTFOUND;
	if (!(events & (JV_LOOP_READ | JV_LOOP_WRITE)))
		return JV_ERR_INVAL;
	ev.events = to_epoll(events);
	ev.data.u64 = token(idx, s->gen);
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? JV_ERR_IO : 0;
}

int jv_loop_del(struct jv_loop *l, int fd)
{
	struct jv_loop_slot *s;

	if (fd < 0 || !(s = find(l, fd, NULL)))
		return JV_ERR_NOTFOUND;
	/* ENOENT/EBADF: already closed; forget it all the same. */
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	s->fd = -1;
	s->gen++;	/* pending events of this wake-up now miss */
	return 0;
}

void jv_loop_on_deadline(struct jv_loop *l, jv_loop_fn fn, void *ud)
{
	l->on_deadline = fn;
	l->deadline_ud = ud;
}

int jv_loop_set_deadline(struct jv_loop *l, jv_time when)
{
	struct itimerspec its = { 0 };

	/* Armed already (or disarmed already): a syscall saved per wake-up
	 * while the deadline stands still. */
	if (when == l->deadline)
		return 0;
	if (when != JV_TIME_NEVER) {
		jv_clock_to_steady(when, &its.it_value);
		/* An all-zero it_value would disarm instead. */
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(l->timerfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return JV_ERR_IO;
	l->deadline = when;
	return 0;
}

int jv_loop_watch_signals(struct jv_loop *l, jv_loop_signal_fn fn, void *ud)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t set, old;

	if (!fn)
		return JV_ERR_INVAL;
	l->on_signal = fn;
	l->signal_ud = ud;
	if (l->sigfd >= 0)
		return 0;
	sigemptyset(&set);
	for (unsigned i = 0; i < sizeof watched / sizeof *watched; i++)
		sigaddset(&set, watched[i]);
	/* Blocked, they queue for the signalfd instead of running a
	 * handler at an arbitrary point of the data path. */
	if (pthread_sigmask(SIG_BLOCK, &set, &old))
		return JV_ERR_IO;
	for (unsigned i = 0; i < sizeof watched / sizeof *watched; i++)
		if (!sigismember(&old, watched[i]))
			l->sig_blocked |= 1u << i;
	l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sigfd < 0)
		return JV_ERR_IO;
	ev.data.u64 = token(TOKEN_SIGNAL, 0);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sigfd, &ev) < 0)
		return JV_ERR_IO;
	return 0;
}

void jv_loop_before_wait(struct jv_loop *l, jv_loop_fn fn, void *ud)
{
	l->before_wait = fn;
	l->before_wait_ud = ud;
}

static void timer_fired(struct jv_loop *l)
{
	uint64_t expirations;

	/* EAGAIN: re-armed to a later time since epoll_wait returned. */
	if (read(l->timerfd, &expirations, sizeof expirations) !=
	    (ssize_t)sizeof expirations)
		return;
	l->deadline = JV_TIME_NEVER;
	if (l->on_deadline)
		l->on_deadline(l, l->deadline_ud);
}

static void signals_arrived(struct jv_loop *l)
{
	struct signalfd_siginfo si;

	/* Bounded by the pending set: each signal number queues once. */
	while (read(l->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (l->on_signal)
			l->on_signal(l, (int)si.ssi_signo, l->signal_ud);
	}
}

int jv_loop_run_once(struct jv_loop *l, int timeout_ms)
{
	struct epoll_event ev[JV_LOOP_EVENTS];
	int n;

	if (l->before_wait)
		l->before_wait(l, l->before_wait_ud);
	n = epoll_wait(l->epfd, ev, JV_LOOP_EVENTS, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : JV_ERR_IO;
	l->wakeups++;
	for (int i = 0; i < n; i++) {
		unsigned idx = (unsigned)(ev[i].data.u64 & 0xffffffffu);
		uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);
		struct jv_loop_slot *s;

		if (idx == TOKEN_TIMER) {
			timer_fired(l);
			continue;
		}
		if (idx == TOKEN_SIGNAL) {
			signals_arrived(l);
			continue;
		}
		s = &l->slot[idx];
		/* Deleted (or deleted and reused) since epoll_wait. */
		if (s->fd < 0 || s->gen != gen)
			continue;
		s->fn(l, s->fd, from_epoll(ev[i].events), s->ud);
	}
	return n;
}

int jv_loop_run(struct jv_loop *l)
{
	l->stop = false;
	while (!l->stop) {
		int r = jv_loop_run_once(l, -1);

		if (r < 0)
			return r;
	}
	return 0;
}

void jv_loop_stop(struct jv_loop *l)
{
	l->stop = true;
}
