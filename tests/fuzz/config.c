/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the daemon's config reader (src/daemon/config.c) on memory, the
 * way jv_config_load takes a file: the bytes are checked first (a NUL or
 * another control byte is refused with its line, jvpn/text.h), then
 * parsed.  Any input is either a config or one diagnostic naming the file
 * and a line of the input; never a crash.  (A KeyFile key makes the
 * reader open that path: it only reads.  A PeersDir is never read: its
 * files are peer_file.c's.)  An accepted gateway config never has two
 * peers with overlapping AllowedIPs (checked here the slow way, every
 * pair, against the reader's sorted sweep), and no accepted config has a
 * peer key of all zeros or the host's own key.
 */

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daemon/config.h"
#include "daemon/key.h"
#include "fuzz.h"
#include "net/netaddr.h"
#include "jvpn/text.h"

static bool overlap(const struct jv_cidr *a, const struct jv_cidr *b)
{
	if (jv_netaddr_is_v4(&a->addr) != jv_netaddr_is_v4(&b->addr))
		return false;
	return a->prefix <= b->prefix ? jv_cidr_contains(a, b->addr.ip)
				      : jv_cidr_contains(b, a->addr.ip);
}

static void check_accepted(const struct jv_config *c)
{
	uint8_t pub[32];

	FUZZ_ASSERT(jv_key_public(c->private_key, pub) == 0);
	for (unsigned p = 0; p < c->npeers; p++) {
		FUZZ_ASSERT(!sodium_is_zero(c->peers[p].public_key, 32));
		FUZZ_ASSERT(sodium_memcmp(c->peers[p].public_key, pub, 32));
		if (c->role != JV_CFG_GATEWAY)
			continue;
		for (unsigned q = p + 1; q < c->npeers; q++)
			for (unsigned i = 0; i < c->peers[p].nallowed; i++)
				for (unsigned j = 0; j < c->peers[q].nallowed; j++)
					FUZZ_ASSERT(!overlap(&c->peers[p].allowed[i],
							     &c->peers[q].allowed[j]));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jv_config *c = NULL;
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
	jv_diag_clear(&d);
	jv_diag_file(&d, "fuzz.conf");
	rc = jv_text_check(text, size, &d);
	if (rc == 0) {
		FUZZ_ASSERT(jv_text_bad_byte(text, size) == size);
		/* PeersDir is never read here: peer_file.c fuzzes its files */
		rc = jv_config_parse_peers(text, "fuzz.conf", NULL, 0, &c, &d);
	}
	if (rc == 0) {
		FUZZ_ASSERT(c != NULL);
		check_accepted(c);
		jv_config_free(c);
	} else {
		FUZZ_ASSERT(c == NULL);
		FUZZ_ASSERT(d.msg[0] != '\0');
		FUZZ_ASSERT(!strcmp(d.file, "fuzz.conf"));
		FUZZ_ASSERT(d.line <= lines);
	}
	free(text);
	return 0;
}
