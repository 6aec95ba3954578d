/* SPDX-License-Identifier: MIT */
/*
 * jvpn genkey: a new private key in base64 on stdout; jvpn pubkey: the
 * public key of the private key on stdin.  Same forms and warnings as
 * wg genkey / wg pubkey, so the habits carry over:
 *   jvpn genkey | tee client.key | jvpn pubkey > client.pub
 */

#define _POSIX_C_SOURCE 200809L	/* fstat, STDOUT_FILENO */

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "commands.h"
#include "daemon/key.h"

int cmd_genkey(int argc, char **argv)
{
	uint8_t key[32];
	char b64[JV_KEY_B64_SIZE];
	struct stat st;
	int rc = 0;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: jvpn genkey\n");
		return 2;
	}
	/* A private key must not land in a file others can read. */
	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & S_IRWXO))
		fprintf(stderr, "Warning: writing to world accessible file.\nConsider setting the umask to 077 and trying again.\n");
	if (jv_key_generate(key)) {
		fprintf(stderr, "jvpn genkey: no system randomness\n");
		return 1;
	}
	jv_key_to_base64(key, b64);
	if (printf("%s\n", b64) < 0 || fflush(stdout)) {
		perror("jvpn genkey: stdout");
		rc = 1;
	}
	sodium_memzero(key, sizeof key);
	sodium_memzero(b64, sizeof b64);
	return rc;
}

int cmd_pubkey(int argc, char **argv)
{
	char line[256], b64[JV_KEY_B64_SIZE];
	uint8_t priv[32], pub[32];
	size_t n;
	int rc = 1;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: jvpn pubkey < private.key\n");
		return 2;
	}
	n = fread(line, 1, sizeof line - 1, stdin);
	line[n] = '\0';
	if (ferror(stdin)) {
		perror("jvpn pubkey: stdin");
		goto out;
	}
	if (jv_key_from_base64(line, priv)) {
		fprintf(stderr, "jvpn pubkey: stdin is not a private key (44 characters of base64, as from jvpn genkey)\n");
		goto out;
	}
	if (jv_key_public(priv, pub)) {
		fprintf(stderr, "jvpn pubkey: the key gives no usable public key\n");
		goto out;
	}
	jv_key_to_base64(pub, b64);
	printf("%s\n", b64);
	rc = 0;
out:
	sodium_memzero(line, sizeof line);
	sodium_memzero(priv, sizeof priv);
	return rc;
}
