/* SPDX-License-Identifier: MIT */
#ifndef JVPN_NET_TUN_H
#define JVPN_NET_TUN_H

/*
 * The TUN device: layer-3 packets without a packet-info header
 * (IFF_TUN | IFF_NO_PI), so every read returns one bare IPv4 or IPv6
 * packet and every write takes one.  The device is not persistent: it
 * disappears, with its addresses and routes, when the descriptor closes,
 * so even a crashed daemon leaves nothing behind.
 */

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "jvpn/error.h"
#include "net/neterr.h"

/*
 * Create (or attach to) a TUN device and return its non-blocking,
 * close-on-exec descriptor.  `want` is the requested name ("jv0", or a
 * pattern like "jv%d"); NULL or "" lets the kernel choose ("tunN").  The
 * actual name is written to `name` (IF_NAMESIZE bytes).
 * Returns fd >= 0, or
 *   JV_ERR_INVAL     name too long (> IF_NAMESIZE - 1) or refused by the kernel;
 *   JV_ERR_NOTFOUND  no /dev/net/tun (module not loaded);
 *   JV_ERR_STATE     the name is taken by a device that is not a free TUN;
 *   JV_ERR_IO        anything else, e.g. "/dev/net/tun: Permission denied
 *                    (are you root?)"; `err` says which.
 */
JV_MUST_CHECK int jv_tun_open(const char *want, char name[IF_NAMESIZE],
			      struct jv_net_err *err);

/*
 * Read one packet into buf (n >= the device MTU).  Returns its length
 * (> 0), 0 when nothing is queued (EAGAIN), JV_ERR_IO on a read error
 * (errno kept).  A packet longer than n is truncated by the kernel; size
 * buf to JV_MTU_MAX and keep the device MTU at or below it.
 */
ssize_t jv_tun_read(int fd, uint8_t *buf, size_t n);

/*
 * Write one packet.  Returns 0, JV_ERR_LIMIT when the kernel queue is full
 * (packet dropped, like any router would), JV_ERR_INVAL when the kernel
 * rejects it as not an IP packet, JV_ERR_IO otherwise (errno kept).
 */
int jv_tun_write(int fd, const uint8_t *pkt, size_t n);

/* Close the descriptor; the device goes away with it.  fd < 0: no-op. */
void jv_tun_close(int fd);

#endif
