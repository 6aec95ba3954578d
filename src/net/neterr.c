/* SPDX-License-Identifier: MIT */
/* Failure text for the net layer: what failed, the OS's reason, a hint. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jvpn/error.h"
#include "net/neterr.h"

int jv_net_err_class(int sys)
{
	switch (sys) {
	case 0:
		return JV_OK;
	case ENOMEM:
	case ENOBUFS:
		return JV_ERR_NOMEM;
	case EINVAL:
	case ERANGE:
	case ENAMETOOLONG:
	case EAFNOSUPPORT:
	case EOPNOTSUPP:
		return JV_ERR_INVAL;
	case ENOENT:
	case ENODEV:
	case ENXIO:
	case ESRCH:
	case EADDRNOTAVAIL:
		return JV_ERR_NOTFOUND;
	case EEXIST:
	case EBUSY:
	case EADDRINUSE:
		return JV_ERR_STATE;
	default:
		return JV_ERR_IO;
	}
}

int jv_net_err_set(struct jv_net_err *e, int code, int sys, const char *fmt,
		   ...)
{
	va_list ap;
	size_t n;

	if (!e)
		return code;
	e->sys = sys;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	if (!sys)
		return code;
	n = strlen(e->msg);
	/* Nearly every "Operation not permitted" here means a missing
	 * CAP_NET_ADMIN: say so, since that is the fix the operator needs. */
	snprintf(e->msg + n, sizeof e->msg - n, ": %s%s", strerror(sys),
		 (sys == EPERM || sys == EACCES) ? " (are you root?)" : "");
	return code;
}
