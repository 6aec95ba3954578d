/* SPDX-License-Identifier: MIT */
/* The event loop: descriptors, the deadline timer, signals, safe deletion
 * during dispatch, and no wake-up without a cause. */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/clock.h"
#include "net/loop.h"

struct rec {
	int calls;
	int fd;
	unsigned events;
	jv_time at;
	int signo[8];
	int nsig;
	/* for the deletion test */
	struct jv_loop *l;
	int victim;
	struct rec *victim_rec;
	int replacement[2];
};

static int setup(void **st)
{
	static struct jv_loop l;
	struct jv_net_err err;

	if (jv_loop_init(&l, &err))
		return -1;
	*st = &l;
	return 0;
}

static int teardown(void **st)
{
	jv_loop_close(*st);
	return 0;
}

static void on_fd(struct jv_loop *l, int fd, unsigned events, void *ud)
{
	struct rec *r = ud;
	char c;

	r->calls++;
	r->fd = fd;
	r->events = events;
	if (events & JV_LOOP_READ)
		(void)read(fd, &c, 1);
	jv_loop_stop(l);
}

static void pipe_readable_runs_callback(void **st)
{
	struct jv_loop *l = *st;
	struct rec r = { 0 };
	int p[2];

	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	assert_int_equal(jv_loop_add(l, p[0], JV_LOOP_READ, on_fd, &r), 0);
	/* nothing written: nothing happens */
	assert_int_equal(jv_loop_run_once(l, 0), 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(jv_loop_run(l), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.fd, p[0]);
	assert_int_equal(r.events, JV_LOOP_READ);
	/* drained: level-triggered, so no further event */
	assert_int_equal(jv_loop_run_once(l, 0), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(jv_loop_del(l, p[0]), 0);
	assert_int_equal(jv_loop_del(l, p[0]), JV_ERR_NOTFOUND);
	close(p[0]);
	close(p[1]);
}

static void on_deadline(struct jv_loop *l, void *ud)
{
	struct rec *r = ud;

	r->calls++;
	r->at = jv_clock_now();
	jv_loop_stop(l);
}

static void deadline_fires_once_not_early(void **st)
{
	struct jv_loop *l = *st;
	struct rec r = { 0 };
	jv_time when = jv_clock_now() + 30;
	uint64_t wakeups = l->wakeups;

	jv_loop_on_deadline(l, on_deadline, &r);
	assert_int_equal(jv_loop_set_deadline(l, when), 0);
	assert_true(l->deadline == when);
	assert_int_equal(jv_loop_run(l), 0);
	assert_int_equal(r.calls, 1);
	/* never early, and not absurdly late */
	assert_true(r.at >= when);
	assert_true(r.at < when + 1000);
	assert_true(l->deadline == JV_TIME_NEVER);
	/* one timer, one wake-up: no polling while waiting */
	assert_true(l->wakeups - wakeups <= 2);
	/* one-shot: it does not fire again */
	assert_int_equal(jv_loop_run_once(l, 0), 0);
	assert_int_equal(r.calls, 1);
}

static void past_deadline_fires_at_once(void **st)
{
	struct jv_loop *l = *st;
	struct rec r = { 0 };

	jv_loop_on_deadline(l, on_deadline, &r);
	assert_int_equal(jv_loop_set_deadline(l, 1), 0);	/* 1970 */
	/* bounded wait: 1 s is the failure, not the expected path */
	assert_int_equal(jv_loop_run_once(l, 1000), 1);
	assert_int_equal(r.calls, 1);
}

static void rearm_replaces_and_never_disarms(void **st)
{
	struct jv_loop *l = *st;
	struct rec r = { 0 };
	jv_time now = jv_clock_now();

	jv_loop_on_deadline(l, on_deadline, &r);
	assert_int_equal(jv_loop_set_deadline(l, now + 60000), 0);
	assert_int_equal(jv_loop_set_deadline(l, now + 5), 0);
	assert_int_equal(jv_loop_run_once(l, 2000), 1);
	assert_int_equal(r.calls, 1);
	assert_true(r.at >= now + 5 && r.at < now + 2000);

	assert_int_equal(jv_loop_set_deadline(l, jv_clock_now() + 5), 0);
	assert_int_equal(jv_loop_set_deadline(l, JV_TIME_NEVER), 0);
	assert_true(l->deadline == JV_TIME_NEVER);
	/* 30 ms of nothing: the disarmed timer must not fire */
	assert_int_equal(jv_loop_run_once(l, 30), 0);
	assert_int_equal(r.calls, 1);
}

/* Setting the armed deadline again changes nothing (no syscall: the
 * daemon does it before every wait); once it has fired, the same time
 * set again arms the timer again. */
static void same_deadline_again(void **st)
{
	struct jv_loop *l = *st;
	struct rec r = { 0 };
	struct itimerspec its;
	jv_time when = jv_clock_now() + 20;

	jv_loop_on_deadline(l, on_deadline, &r);
	assert_int_equal(jv_loop_set_deadline(l, when), 0);
	assert_int_equal(jv_loop_set_deadline(l, when), 0);
	assert_int_equal(timerfd_gettime(l->timerfd, &its), 0);
	assert_true(its.it_value.tv_sec || its.it_value.tv_nsec);
	assert_int_equal(jv_loop_run_once(l, 2000), 1);
	assert_int_equal(r.calls, 1);
	assert_true(r.at >= when);
	assert_int_equal(jv_loop_set_deadline(l, when), 0);	/* now past */
	assert_true(l->deadline == when);
	assert_int_equal(jv_loop_run_once(l, 1000), 1);
	assert_int_equal(r.calls, 2);
	/* never, twice: disarmed */
	assert_int_equal(jv_loop_set_deadline(l, JV_TIME_NEVER), 0);
	assert_int_equal(jv_loop_set_deadline(l, JV_TIME_NEVER), 0);
	assert_int_equal(timerfd_gettime(l->timerfd, &its), 0);
	assert_false(its.it_value.tv_sec || its.it_value.tv_nsec);
}

static void on_victim(struct jv_loop *l, int fd, unsigned events, void *ud)
{
	struct rec *r = ud;

	(void)l;
	(void)fd;
	(void)events;
	r->calls++;
}

/* Deletes the victim, closes it and registers a new pipe that will likely
 * reuse both its descriptor number and its slot. */
static void on_killer(struct jv_loop *l, int fd, unsigned events, void *ud)
{
	struct rec *r = ud;
	char c;

	(void)events;
	r->calls++;
	(void)read(fd, &c, 1);
	if (r->calls > 1)
		return;
	assert_int_equal(jv_loop_del(l, r->victim), 0);
	close(r->victim);
	assert_int_equal(pipe2(r->replacement, O_NONBLOCK | O_CLOEXEC), 0);
	assert_int_equal(jv_loop_add(l, r->replacement[0], JV_LOOP_READ,
				     on_victim, r->victim_rec), 0);
}

static void delete_during_dispatch_is_safe(void **st)
{
	struct jv_loop *l = *st;
	struct rec killer = { 0 }, victim = { 0 };
	int a[2], b[2];

	assert_int_equal(pipe2(a, O_NONBLOCK | O_CLOEXEC), 0);
	assert_int_equal(pipe2(b, O_NONBLOCK | O_CLOEXEC), 0);
	/* a becomes readable first, so epoll lists it first (its ready list
	 * is in order of readiness): a's callback kills b before b's turn. */
	killer.victim = b[0];
	killer.victim_rec = &victim;
	assert_int_equal(jv_loop_add(l, a[0], JV_LOOP_READ, on_killer, &killer),
			 0);
	assert_int_equal(jv_loop_add(l, b[0], JV_LOOP_READ, on_victim, &victim),
			 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(jv_loop_run_once(l, 1000), 2);
	assert_int_equal(killer.calls, 1);
	/* b was readable in the same wake-up, yet deleted before its turn:
	 * neither its callback nor the replacement's may run for it. */
	assert_int_equal(victim.calls, 0);
	assert_int_equal(jv_loop_run_once(l, 0), 0);
	assert_int_equal(victim.calls, 0);
	assert_int_equal(jv_loop_del(l, a[0]), 0);
	assert_int_equal(jv_loop_del(l, killer.replacement[0]), 0);
	close(a[0]);
	close(a[1]);
	close(b[1]);
	close(killer.replacement[0]);
	close(killer.replacement[1]);
}

static void on_signal(struct jv_loop *l, int signo, void *ud)
{
	struct rec *r = ud;

	if (r->nsig < 8)
		r->signo[r->nsig++] = signo;
	if (signo == SIGTERM)
		jv_loop_stop(l);
}

static bool blocked(int signo)
{
	sigset_t cur;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, signo);
}

static void signals_arrive_as_events(void **st)
{
	(void)st;
	struct jv_loop l;
	struct jv_net_err err;
	struct rec r = { 0 };

	assert_int_equal(jv_loop_init(&l, &err), 0);
	assert_false(blocked(SIGHUP));
	assert_int_equal(jv_loop_watch_signals(&l, on_signal, &r), 0);
	assert_true(blocked(SIGINT) && blocked(SIGTERM) && blocked(SIGHUP));
	/* blocked: they wait for the signalfd instead of killing us */
	assert_int_equal(raise(SIGHUP), 0);
	assert_int_equal(raise(SIGTERM), 0);
	assert_int_equal(jv_loop_run(&l), 0);
	assert_int_equal(r.nsig, 2);
	assert_true((r.signo[0] == SIGHUP && r.signo[1] == SIGTERM) ||
		    (r.signo[0] == SIGTERM && r.signo[1] == SIGHUP));
	jv_loop_close(&l);
	/* the mask is as before */
	assert_false(blocked(SIGINT) || blocked(SIGTERM) || blocked(SIGHUP));
}

static void count_before_wait(struct jv_loop *l, void *ud)
{
	(void)l;
	(*(int *)ud)++;
}

static void before_wait_runs_each_turn(void **st)
{
	struct jv_loop *l = *st;
	int n = 0;

	jv_loop_before_wait(l, count_before_wait, &n);
	assert_int_equal(jv_loop_run_once(l, 0), 0);
	assert_int_equal(jv_loop_run_once(l, 0), 0);
	assert_int_equal(n, 2);
	jv_loop_before_wait(l, NULL, NULL);
}

static void error_condition_reported(void **st)
{
	struct jv_loop *l = *st;
	struct rec r = { 0 };
	int p[2];

	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	close(p[0]);	/* the write end now reports EPOLLERR */
	assert_int_equal(jv_loop_add(l, p[1], JV_LOOP_WRITE, on_fd, &r), 0);
	assert_int_equal(jv_loop_run_once(l, 1000), 1);
	assert_int_equal(r.calls, 1);
	assert_true(r.events & JV_LOOP_ERR);
	assert_int_equal(jv_loop_mod(l, p[1], JV_LOOP_READ), 0);
	assert_int_equal(jv_loop_del(l, p[1]), 0);
	close(p[1]);
}

static void registration_limits(void **st)
{
	struct jv_loop *l = *st;
	struct rec r = { 0 };
	int p[2], extra[2];
	int fds[JV_LOOP_FDS_MAX];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(jv_loop_add(l, -1, JV_LOOP_READ, on_fd, &r),
			 JV_ERR_INVAL);
	assert_int_equal(jv_loop_add(l, p[0], JV_LOOP_READ, NULL, &r),
			 JV_ERR_INVAL);
	assert_int_equal(jv_loop_add(l, p[0], 0, on_fd, &r), JV_ERR_INVAL);
	assert_int_equal(jv_loop_mod(l, p[0], JV_LOOP_READ), JV_ERR_NOTFOUND);
	assert_int_equal(jv_loop_del(l, p[0]), JV_ERR_NOTFOUND);
	assert_int_equal(jv_loop_add(l, p[0], JV_LOOP_READ, on_fd, &r), 0);
	assert_int_equal(jv_loop_add(l, p[0], JV_LOOP_READ, on_fd, &r),
			 JV_ERR_INVAL);
	assert_int_equal(jv_loop_mod(l, p[0], 0), JV_ERR_INVAL);
	/* fill every slot with dup()s of the read end */
	fds[0] = p[0];
	for (int i = 1; i < JV_LOOP_FDS_MAX; i++) {
		fds[i] = dup(p[0]);
		assert_true(fds[i] >= 0);
		assert_int_equal(jv_loop_add(l, fds[i], JV_LOOP_READ, on_fd, &r),
				 0);
	}
	assert_int_equal(pipe2(extra, O_CLOEXEC), 0);
	assert_int_equal(jv_loop_add(l, extra[0], JV_LOOP_READ, on_fd, &r),
			 JV_ERR_LIMIT);
	for (int i = 0; i < JV_LOOP_FDS_MAX; i++) {
		assert_int_equal(jv_loop_del(l, fds[i]), 0);
		close(fds[i]);
	}
	close(p[1]);
	close(extra[0]);
	close(extra[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pipe_readable_runs_callback,
						setup, teardown),
		cmocka_unit_test_setup_teardown(deadline_fires_once_not_early,
						setup, teardown),
		cmocka_unit_test_setup_teardown(past_deadline_fires_at_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(same_deadline_again, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rearm_replaces_and_never_disarms,
						setup, teardown),
		cmocka_unit_test_setup_teardown(delete_during_dispatch_is_safe,
						setup, teardown),
		cmocka_unit_test(signals_arrive_as_events),
		cmocka_unit_test_setup_teardown(before_wait_runs_each_turn,
						setup, teardown),
		cmocka_unit_test_setup_teardown(error_condition_reported,
						setup, teardown),
		cmocka_unit_test_setup_teardown(registration_limits,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("net_loop", tests, NULL, NULL);
}
