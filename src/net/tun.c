/* SPDX-License-Identifier: MIT */
/* TUN device open, read and write. */

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "net/tun.h"

static const char tun_path[] = "/dev/net/tun";

int jv_tun_open(const char *want, char name[IF_NAMESIZE],
		struct jv_net_err *err)
{
	struct ifreq ifr;
	int fd, e;

	memset(&ifr, 0, sizeof ifr);
	if (want && *want) {
		if (strlen(want) >= IFNAMSIZ)
			return jv_net_err_set(err, JV_ERR_INVAL, 0,
				"TUN name \"%s\" is too long (at most %d bytes)",
				want, IFNAMSIZ - 1);
		memcpy(ifr.ifr_name, want, strlen(want));
	}
	fd = open(tun_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT || e == ENODEV || e == ENXIO)
			return jv_net_err_set(err, JV_ERR_NOTFOUND, e,
				"%s (is the tun module loaded?)", tun_path);
		return jv_net_err_set(err, JV_ERR_IO, e, "%s", tun_path);
	}
	/* Bare L3 packets, no struct tun_pi: the engine deals in IP packets. */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		close(fd);
		switch (e) {
		case EPERM:
		case EACCES:
			return jv_net_err_set(err, JV_ERR_IO, e,
				"%s: TUNSETIFF %s", tun_path,
				*ifr.ifr_name ? ifr.ifr_name : "(any)");
		case EBUSY:
		case EEXIST:
			return jv_net_err_set(err, JV_ERR_STATE, e,
				"%s: device %s exists and is not a free TUN",
				tun_path, ifr.ifr_name);
		case EINVAL:
			return jv_net_err_set(err, JV_ERR_INVAL, e,
				"%s: TUNSETIFF \"%s\"", tun_path, ifr.ifr_name);
		default:
			return jv_net_err_set(err, JV_ERR_IO, e,
				"%s: TUNSETIFF %s", tun_path,
				*ifr.ifr_name ? ifr.ifr_name : "(any)");
		}
	}
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = '\0';
	if (err) {
		err->sys = 0;
		err->msg[0] = '\0';
	}
	return fd;
}

ssize_t jv_tun_read(int fd, uint8_t *buf, size_t n)
{
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	return JV_ERR_IO;
}

int jv_tun_write(int fd, const uint8_t *pkt, size_t n)
{
	ssize_t r;

	do
		r = write(fd, pkt, n);
	while (r < 0 && errno == EINTR);
	if (r >= 0)
		return 0;
	switch (errno) {
	case EAGAIN:
	case ENOBUFS:
	case ENOMEM:
		return JV_ERR_LIMIT;
	case EINVAL:
		return JV_ERR_INVAL;
	default:
		return JV_ERR_IO;
	}
}

void jv_tun_close(int fd)
{
	if (fd >= 0)
		close(fd);
}
