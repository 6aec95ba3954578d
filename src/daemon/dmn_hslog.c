/* SPDX-License-Identifier: MIT */
/*
 * Handshakes that fail in silence, said in the log (issue 11).  A wrong
 * key on either side gets no answer on the wire, by design (a gateway
 * never tells a stranger anything), so the operator learns of it here:
 *
 *   client   after the 3rd unanswered initiation, then at most every
 *            DMN_HSLOG_CLIENT_MS while more go unanswered;
 *   gateway  initiations with a wrong mac1 (the client has another
 *            PublicKey for us) and with a key that is no [Peer], each at
 *            most one line per DMN_HSLOG_GATEWAY_MS with the count since
 *            the last line and the last source.
 *
 * The engine counts (jv_client_handshake_info, jv_gateway_counters); this
 * file only decides when a line is due.  A flood of junk initiations
 * costs at most one line per kind per window.
 */

#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "daemon/daemon_impl.h"
#include "daemon/key.h"
#include "net/netaddr.h"

enum {
	DMN_HSLOG_CLIENT_FIRST = 3,	/* unanswered initiations: first line */
	DMN_HSLOG_CLIENT_MS = 30000,	/* client: at most one line per ... */
	DMN_HSLOG_GATEWAY_MS = 10000,	/* gateway: per kind, at most ... */
};

/* "198.18.1.1:51820 (path-a, path-b)": the endpoints the unanswered
 * initiations went to, each with the transports that carried them. */
static void endpoints(const struct jv_daemon *d, uint32_t paths, char *out,
		      size_t n)
{
	const struct jv_config *cfg = d->cfg;
	uint32_t done = 0;
	size_t o = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < cfg->ntransports && i < 32; i++) {
		char a[JV_NETADDR_STR_MAX];

		if (!(paths & (1u << i)) || (done & (1u << i)))
			continue;
		o += (size_t)snprintf(out + o, o < n ? n - o : 0, "%s%s (",
				      o ? ", " : "",
				      jv_netaddr_str(&cfg->transports[i].endpoint,
						     a));
		for (unsigned j = i, k = 0; j < cfg->ntransports && j < 32; j++) {
			if (!(paths & (1u << j)) ||
			    !jv_addr_equal(&cfg->transports[j].endpoint,
					   &cfg->transports[i].endpoint))
				continue;
			done |= 1u << j;
			o += (size_t)snprintf(out + o, o < n ? n - o : 0,
					      "%s%s", k++ ? ", " : "",
					      cfg->transports[j].name);
		}
		o += (size_t)snprintf(out + o, o < n ? n - o : 0, ")");
	}
}

static void own_key(const struct jv_daemon *d, char key[JV_KEY_B64_SIZE])
{
	uint8_t pub[32];

	if (jv_key_public(d->cfg->private_key, pub) == 0)
		jv_key_to_base64(pub, key);
	else
		snprintf(key, JV_KEY_B64_SIZE, "?");
}

void dmn_hslog_client(struct jv_daemon *d, jv_time now)
{
	struct dmn_hslog *h = &d->hslog;
	struct jv_client_handshake hs;
	char where[512], key[JV_KEY_B64_SIZE];

	jv_client_handshake_info(d->client, &hs);
	if (hs.unanswered == 0) {
		if (h->cl_reported)
			dmn_log(d, "the gateway answered after %llu unanswered handshakes",
				(unsigned long long)h->cl_reported);
		h->cl_reported = 0;
		return;
	}
	if (hs.unanswered < DMN_HSLOG_CLIENT_FIRST ||
	    hs.unanswered <= h->cl_reported ||
	    (h->cl_reported && now < h->cl_at + DMN_HSLOG_CLIENT_MS))
		return;
	endpoints(d, hs.paths, where, sizeof where);
	own_key(d, key);
	dmn_log_at(d, LOG_WARNING, "no answer to %llu handshakes in %llu s from %s: is this client's public key (%s) a [Peer] of the gateway, and the gateway's PublicKey right?",
		   (unsigned long long)hs.unanswered,
		   (unsigned long long)((now - hs.first_ms + 500) / 1000),
		   where, key);
	h->cl_reported = hs.unanswered;
	h->cl_at = now;
}

/* One kind of refusal: a line if the count moved and the window allows. */
static void gw_kind(struct jv_daemon *d, uint64_t count, uint64_t *reported,
		    jv_time *at, jv_time now, const char *what,
		    const struct jv_addr *from, const char *tail)
{
	char a[JV_NETADDR_STR_MAX];
	uint64_t n = count - *reported;

	if (count <= *reported || (*at && now < *at + DMN_HSLOG_GATEWAY_MS))
		return;
	dmn_log_at(d, LOG_WARNING,
		   "%llu handshake%s with %s in the last %u s (last from %s%s",
		   (unsigned long long)n, n == 1 ? "" : "s", what,
		   DMN_HSLOG_GATEWAY_MS / 1000, jv_netaddr_str(from, a), tail);
	*reported = count;
	*at = now;
}

void dmn_hslog_gateway(struct jv_daemon *d, jv_time now)
{
	struct dmn_hslog *h = &d->hslog;
	struct jv_gateway_counters c;
	struct jv_gateway_refused r;
	char key[JV_KEY_B64_SIZE], tail[160];

	jv_gateway_counters(d->gw, &c);
	if (c.hs_bad_mac1 <= h->mac1_reported &&
	    c.hs_unknown_key <= h->unknown_reported)
		return;
	jv_gateway_last_refused(d->gw, &r);
	own_key(d, key);
	snprintf(tail, sizeof tail, "): the client has a different PublicKey for this gateway (ours is %s)",
		 key);
	gw_kind(d, c.hs_bad_mac1, &h->mac1_reported, &h->mac1_at, now,
		"a wrong mac1", &r.bad_mac1_from, tail);
	jv_key_to_base64(r.unknown_key, key);
	snprintf(tail, sizeof tail, ", key %s): not a [Peer] of this gateway",
		 key);
	gw_kind(d, c.hs_unknown_key, &h->unknown_reported, &h->unknown_at, now,
		"an unknown key", &r.unknown_key_from, tail);
}

jv_time dmn_hslog_deadline(const struct jv_daemon *d)
{
	const struct dmn_hslog *h = &d->hslog;
	struct jv_gateway_counters c;
	jv_time t = JV_TIME_NEVER;

	if (!d->gw)
		return t;
	jv_gateway_counters(d->gw, &c);
	if (c.hs_bad_mac1 > h->mac1_reported)
		t = h->mac1_at + DMN_HSLOG_GATEWAY_MS;
	if (c.hs_unknown_key > h->unknown_reported &&
	    h->unknown_at + DMN_HSLOG_GATEWAY_MS < t)
		t = h->unknown_at + DMN_HSLOG_GATEWAY_MS;
	return t;
}
