/* SPDX-License-Identifier: MIT */
/* TUN device open, read and write. */

#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <net/if_arp.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net/tun.h"

static const char tun_path[] = "/dev/net/tun";

/*
 * When TUNSETIFF refuses a name with EINVAL, the usual cause is a device
 * of that name that is no TUN (the kernel attaches only to a TUN), and
 * "Invalid argument" does not say so.  Ask what it is: the driver name
 * ethtool reports ("veth", "bridge", "dummy", "wireguard", a NIC's
 * driver), "loopback" for lo (which has none), and a TAP by its
 * tun_flags.  Writes the kind and returns true when `name` exists and is
 * not a TUN device.
 */
static bool existing_non_tun(const char *name, char *kind, size_t cap)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr;
	char path[64 + IFNAMSIZ], flags[32];
	bool found = false;
	FILE *f;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return false;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	if (ioctl(s, SIOCGIFINDEX, &ifr) < 0)
		goto out;	/* no such device: the errno stands */
	ifr.ifr_data = (void *)&info;
	if (ioctl(s, SIOCETHTOOL, &ifr) == 0 && info.driver[0]) {
		info.driver[sizeof info.driver - 1] = '\0';
		if (strcmp(info.driver, "tun")) {
			snprintf(kind, cap, "%s", info.driver);
			found = true;
			goto out;
		}
		/* tun's driver also runs TAP devices: IFF_TAP in tun_flags */
		snprintf(path, sizeof path, "/sys/class/net/%s/tun_flags", name);
		f = fopen(path, "re");
		if (f) {
			if (fgets(flags, sizeof flags, f) &&
			    (strtoul(flags, NULL, 16) & IFF_TAP)) {
				snprintf(kind, cap, "TAP");
				found = true;
			}
			fclose(f);
		}
		goto out;
	}
	memset(&ifr.ifr_ifru, 0, sizeof ifr.ifr_ifru);
	if (ioctl(s, SIOCGIFHWADDR, &ifr) == 0 &&
	    ifr.ifr_hwaddr.sa_family == ARPHRD_LOOPBACK)
		snprintf(kind, cap, "loopback");
	else
		snprintf(kind, cap, "non-TUN");
	found = true;
out:
	close(s);
	return found;
}

static int tun_open(const char *want, char name[IF_NAMESIZE], bool vnet,
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
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
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
		case EINVAL: {
			char kind[40];

			if (*ifr.ifr_name &&
			    existing_non_tun(ifr.ifr_name, kind, sizeof kind))
				return jv_net_err_set(err, JV_ERR_STATE, 0,
					"interface %s exists and is a %s device, not a jvpn TUN (Name = another name in [Interface])",
					ifr.ifr_name, kind);
			return jv_net_err_set(err, JV_ERR_INVAL, e,
				"%s: TUNSETIFF \"%s\"", tun_path, ifr.ifr_name);
		}
		default:
			return jv_net_err_set(err, JV_ERR_IO, e,
				"%s: TUNSETIFF %s", tun_path,
				*ifr.ifr_name ? ifr.ifr_name : "(any)");
		}
	}
	/* The TSO offloads need the checksum one: a super-packet leaves
	 * its TCP checksum to whoever cuts it. */
	if (vnet && ioctl(fd, TUNSETOFFLOAD,
			  TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) {
		e = errno;
		close(fd);
		return jv_net_err_set(err, JV_ERR_IO, e,
				      "%s: TUNSETOFFLOAD %s", tun_path,
				      ifr.ifr_name);
	}
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = '\0';
	if (err) {
		err->sys = 0;
		err->msg[0] = '\0';
	}
	return fd;
}

int jv_tun_open(const char *want, char name[IF_NAMESIZE],
		struct jv_net_err *err)
{
	return tun_open(want, name, false, err);
}

int jv_tun_open_offload(const char *want, char name[IF_NAMESIZE],
			struct jv_net_err *err)
{
	return tun_open(want, name, true, err);
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

ssize_t jv_tun_read_offload(int fd, uint8_t *buf, size_t n,
			    struct jv_tun_rx *rx)
{
	ssize_t r = jv_tun_read(fd, buf, n);

	if (r <= 0) {
		memset(rx, 0, sizeof *rx);
		rx->done = true;
		return r;
	}
	return jv_tun_rx_parse(rx, buf, (size_t)r) ? JV_ERR_PARSE : r;
}

/* ---- writing: through the GRO merge (gro.c) ------------------------------ */

static ssize_t write_all(int fd, const struct iovec *iov, int n)
{
	ssize_t r;

	do
		r = writev(fd, iov, n);
	while (r < 0 && errno == EINTR);
	return r;
}

static void wcount(struct jv_tun_writer *w, ssize_t r, unsigned packets)
{
	w->st.writes++;
	if (r >= 0)
		w->st.packets += packets;
	else
		w->st.dropped += packets;
}

static void emit(void *ud, const struct jv_gro_write *g)
{
	struct jv_tun_writer *w = ud;
	struct iovec iov[2] = {
		{ (void *)g->hdr, JV_TUN_VNET_HDR },
		{ (void *)g->pkt, g->len },
	};

	if (g->segs > 1)
		w->st.merged += g->segs;
	wcount(w, write_all(w->fd, iov, 2), g->segs);
}

void jv_tun_writer_init(struct jv_tun_writer *w, int fd, bool vnet)
{
	memset(&w->st, 0, sizeof w->st);
	w->fd = fd;
	w->vnet = vnet;
	jv_gro_init(&w->gro, emit, w);
}

void jv_tun_writer_flush(struct jv_tun_writer *w)
{
	if (w->vnet)
		jv_gro_flush(&w->gro);
}

void jv_tun_put(struct jv_tun_writer *w, const uint8_t *pkt, size_t n)
{
	struct iovec iov = { (void *)pkt, n };

	if (!w->vnet) {
		wcount(w, write_all(w->fd, &iov, 1), 1);
		return;
	}
	jv_gro_put(&w->gro, pkt, n);
	w->st.bad_csum = w->gro.bad_csum;
}

void jv_tun_close(int fd)
{
	if (fd >= 0)
		close(fd);
}
