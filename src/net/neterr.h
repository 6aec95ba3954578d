/* SPDX-License-Identifier: MIT */
#ifndef JVPN_NET_NETERR_H
#define JVPN_NET_NETERR_H

/*
 * The why of a failed system call, for the one line the daemon prints when
 * it cannot open the TUN device, bind a socket or talk to netlink.  Every
 * setup function of src/net takes an optional struct jv_net_err: the return
 * value says what class of failure (JV_ERR_*), `sys` the errno, `msg` the
 * sentence to print ("/dev/net/tun: Permission denied (are you root?)").
 * The data path (read, write, recv, send) returns codes only.
 */

#include <stddef.h>

enum { JV_NET_ERR_MSG_MAX = 256 };

struct jv_net_err {
	int sys;			/* errno of the failing call, 0: none */
	char msg[JV_NET_ERR_MSG_MAX];	/* "" when no error was recorded */
};

/* Record a failure: msg = printf(fmt, ...) + ": " + strerror(sys) (+ hint
 * for EPERM/EACCES).  `e` may be NULL.  Returns `code` so callers can
 * write `return jv_net_err_set(e, JV_ERR_IO, errno, "bind %s", s);`. */
int jv_net_err_set(struct jv_net_err *e, int code, int sys, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

/* Map an errno to the JV_ERR_* class the net layer reports for it. */
int jv_net_err_class(int sys);

#endif
