/* SPDX-License-Identifier: MIT */
#ifndef JVPN_SIM_ADDR_H
#define JVPN_SIM_ADDR_H

/* Virtual addresses of the simulator (IPv4, mapped into struct jv_addr). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jvpn/error.h"
#include "jvpn/session.h"

/* "a.b.c.d:port" (port 1..65535).  Returns 0, JV_ERR_PARSE. */
JV_MUST_CHECK int sim_addr_parse(const char *s, struct jv_addr *a);
/* IPv4-mapped address of a host-order IPv4 and port. */
void sim_addr_ipv4(struct jv_addr *a, uint32_t ipv4, uint16_t port);
bool sim_addr_eq(const struct jv_addr *a, const struct jv_addr *b);
/* "a.b.c.d:port" into buf (at least 22 bytes); returns buf. */
const char *sim_addr_str(const struct jv_addr *a, char *buf, size_t n);

#endif
