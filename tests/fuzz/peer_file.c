/* SPDX-License-Identifier: MIT */
/*
 * Fuzz one PeersDir file (src/daemon/config.c, D-032): the input is the
 * text of DIR/fuzz.conf beside a fixed gateway config with one [Peer] of
 * its own.  Either it is accepted (exactly one more peer, a key and
 * AllowedIPs disjoint from the main file's peer, and the routing table
 * answers like the linear reference for each of its networks), or one
 * diagnostic names the peer file or the main file (an overlap or a
 * duplicate key is reported in the later one: the peer file) and a line
 * of it.  Never a crash; the directory itself is never read.
 */

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daemon/config.h"
#include "daemon/route_table.h"
#include "fuzz.h"

static const char main_text[] =
	"[Interface]\nRole = gateway\n"
	"PrivateKey = WFRQ6xh4fbh0UOqAqSWg5KfpXItNwn7JzGHKub4Z4EI=\n"
	"Address = 10.8.0.1/16\nListenPort = 51820\nPeersDir = peers.d\n"
	"[Peer]\nPublicKey = sL7X+ksGVsbJAIRdkHRcvLD8k5oW49vTIBheiuDOniY=\n"
	"AllowedIPs = 10.8.0.2/32\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jv_config *c = NULL;
	struct jv_cfg_text f = { "/etc/jvpn/peers.d/fuzz.conf", NULL };
	struct jv_diag d;
	unsigned lines = 1;
	char *text;
	int rc;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	f.text = text;
	rc = jv_config_parse_peers(main_text, "/etc/jvpn/gw.conf", &f, 1, &c, &d);
	if (rc == 0) {
		struct jv_route_table *t = NULL;

		FUZZ_ASSERT(c && c->npeers == 2 && c->npeers_dir == 1);
		FUZZ_ASSERT(!strcmp(c->peers[1].file, f.name));
		FUZZ_ASSERT(sodium_memcmp(c->peers[0].public_key,
					  c->peers[1].public_key, 32));
		FUZZ_ASSERT(c->peers[1].nallowed > 0);
		if (jv_route_table_for(c, &t) == 0) {
			for (unsigned i = 0; i < c->peers[1].nallowed; i++) {
				const uint8_t *ip = c->peers[1].allowed[i].addr.ip;
				int lin = jv_config_route_lookup(c, ip);

				FUZZ_ASSERT(lin == 1);
				FUZZ_ASSERT(jv_route_table_lookup(t, ip) == lin);
			}
			jv_route_table_free(t);
		}
		jv_config_free(c);
	} else {
		FUZZ_ASSERT(c == NULL);
		FUZZ_ASSERT(d.msg[0] != '\0');
		FUZZ_ASSERT(!strcmp(d.file, f.name) ||
			    !strcmp(d.file, "/etc/jvpn/gw.conf"));
		if (!strcmp(d.file, f.name))
			FUZZ_ASSERT(d.line <= lines);
	}
	free(text);
	return 0;
}
