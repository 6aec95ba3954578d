/* SPDX-License-Identifier: MIT */
#ifndef JVPN_NET_LOOP_H
#define JVPN_NET_LOOP_H

/*
 * A small event loop in the spirit of Redis's `ae`: epoll for descriptors,
 * one timerfd for the engine's deadline, a signalfd for SIGINT, SIGTERM
 * and SIGHUP.  It sleeps in epoll_wait until something happens: no
 * polling interval, no busy wait, no sleeps.
 *
 * Single-threaded; callbacks run on the loop's thread and may add, change
 * or delete registrations (including their own), re-arm the deadline and
 * stop the loop.  An event for a descriptor deleted earlier in the same
 * wake-up is not delivered (slots carry a generation number).
 */

#include <stdbool.h>
#include <stdint.h>

#include "jvpn/error.h"
#include "jvpn/limits.h"
#include "net/neterr.h"

enum jv_loop_limits {
	JV_LOOP_FDS_MAX = 64,		/* registered descriptors */
	JV_LOOP_EVENTS = 32,		/* events taken per epoll_wait */
};

/* Event bits for jv_loop_add and the callbacks. */
enum jv_loop_ev {
	JV_LOOP_READ = 1u << 0,
	JV_LOOP_WRITE = 1u << 1,
	JV_LOOP_ERR = 1u << 2,	/* EPOLLERR/EPOLLHUP: always reported */
};

struct jv_loop;

typedef void (*jv_loop_fd_fn)(struct jv_loop *l, int fd, unsigned events,
			      void *ud);
typedef void (*jv_loop_fn)(struct jv_loop *l, void *ud);
typedef void (*jv_loop_signal_fn)(struct jv_loop *l, int signo, void *ud);

struct jv_loop_slot {
	int fd;			/* -1: free */
	uint32_t gen;
	jv_loop_fd_fn fn;
	void *ud;
};

struct jv_loop {
	int epfd, timerfd, sigfd;
	bool stop;
	jv_time deadline;		/* armed deadline, JV_TIME_NEVER: none */
	jv_loop_fn on_deadline;
	void *deadline_ud;
	jv_loop_signal_fn on_signal;
	void *signal_ud;
	jv_loop_fn before_wait;
	void *before_wait_ud;
	unsigned sig_blocked;		/* watched signals we blocked */
	uint64_t wakeups;		/* epoll_wait returns, for tests */
	struct jv_loop_slot slot[JV_LOOP_FDS_MAX];
};

/*
 * Create the epoll instance and the timerfd (on JV_CLOCK_STEADY).
 * Returns 0, or JV_ERR_IO / JV_ERR_NOMEM (err says which call failed).
 */
JV_MUST_CHECK int jv_loop_init(struct jv_loop *l, struct jv_net_err *err);

/* Close everything the loop opened (not the registered descriptors) and
 * unblock the signals it blocked.  Safe on an initialised or failed loop. */
void jv_loop_close(struct jv_loop *l);

/*
 * Watch fd (level-triggered) for `events` (JV_LOOP_READ and/or _WRITE;
 * errors always reported).  Returns 0, or
 *   JV_ERR_INVAL  fd < 0, no callback, no events, or fd already watched;
 *   JV_ERR_LIMIT  JV_LOOP_FDS_MAX descriptors already;
 *   JV_ERR_IO     epoll_ctl failed (errno kept).
 */
JV_MUST_CHECK int jv_loop_add(struct jv_loop *l, int fd, unsigned events,
			      jv_loop_fd_fn fn, void *ud);
/* Change the events of a watched fd.  JV_ERR_NOTFOUND if not watched. */
JV_MUST_CHECK int jv_loop_mod(struct jv_loop *l, int fd, unsigned events);
/* Stop watching fd (before closing it).  JV_ERR_NOTFOUND if not watched. */
int jv_loop_del(struct jv_loop *l, int fd);

/* The callback for the deadline; it runs once per jv_loop_set_deadline
 * that falls due, with jv_clock_now() >= the deadline. */
void jv_loop_on_deadline(struct jv_loop *l, jv_loop_fn fn, void *ud);

/*
 * Arm the one timer at absolute time `when` (jv_clock_now() scale); a
 * time in the past fires at the next wake-up; JV_TIME_NEVER disarms.
 * Re-arming replaces the previous deadline.  Returns 0 or JV_ERR_IO.
 */
JV_MUST_CHECK int jv_loop_set_deadline(struct jv_loop *l, jv_time when);

/*
 * Deliver SIGINT, SIGTERM and SIGHUP to fn through a signalfd (they are
 * blocked for the thread so they no longer kill or interrupt it).
 * Returns 0 or JV_ERR_IO.
 */
JV_MUST_CHECK int jv_loop_watch_signals(struct jv_loop *l,
					jv_loop_signal_fn fn, void *ud);

/* Called before every wait (so after every batch of events): the
 * place to flush output and re-arm the deadline (ae's beforesleep). */
void jv_loop_before_wait(struct jv_loop *l, jv_loop_fn fn, void *ud);

/* Run until jv_loop_stop.  Returns 0, or JV_ERR_IO if epoll_wait fails.
 * before_wait does not run after the batch that stopped the loop: flush
 * explicitly on the way out. */
JV_MUST_CHECK int jv_loop_run(struct jv_loop *l);

/*
 * One wake-up: wait at most timeout_ms (-1: no limit, 0: just look),
 * dispatch what is ready, then call before_wait.  Returns the number of
 * events dispatched (0: timed out) or JV_ERR_IO.
 */
JV_MUST_CHECK int jv_loop_run_once(struct jv_loop *l, int timeout_ms);

/* Make jv_loop_run return after the current batch of events. */
void jv_loop_stop(struct jv_loop *l);

#endif
