/* SPDX-License-Identifier: MIT */
/* The daemons a command talks to (daemons.h). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ctl_client.h"
#include "daemons.h"

int daemons_arg(const char *prog, struct daemons *t, int argc, char **argv,
		int *i)
{
	const char *a = argv[*i];
	const char **slot = NULL;

	if (!strcmp(a, "--socket"))
		slot = &t->sock;
	else if (!strcmp(a, "--config"))
		slot = &t->config;
	else if (!strcmp(a, "--dir"))
		slot = &t->dir;
	if (slot) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "%s: %s needs a value\n", prog, a);
			return -1;
		}
		*slot = argv[++*i];
	} else if (a[0] == '-' || t->iface) {
		return 0;
	} else {
		char path[JV_CFG_PATH_MAX], why[256];

		if (jv_ctl_iface_socket("", a, path, sizeof path, why,
					sizeof why)) {
			fprintf(stderr, "%s: %s\n", prog, why);
			return -1;
		}
		t->iface = a;
	}
	if (!!t->iface + !!t->sock + !!t->config > 1) {
		fprintf(stderr, "%s: give one of IFACE, --socket PATH and --config FILE\n",
			prog);
		return -1;
	}
	return 1;
}

/* Ask one socket; 0, or JV_ERR_* with why (*stale: nothing listens). */
static int ask(const char *path, json_t **r, char *why, size_t n,
	       bool *stale)
{
	struct jv_ctl_client c;
	int rc = jv_ctl_client_open(&c, path, why, n);

	*stale = rc != 0;
	if (rc)
		return rc;
	rc = jv_ctl_client_call(&c, "status", r, why, n);
	jv_ctl_client_close(&c);
	if (rc)
		return rc;
	if (!json_is_true(json_object_get(*r, "ok"))) {
		snprintf(why, n, "%s: %s", path,
			 json_string_value(json_object_get(*r, "error")) ?: "error");
		json_decref(*r);
		*r = NULL;
		return JV_ERR_STATE;
	}
	json_object_del(*r, "ok");
	return 0;
}

int daemons_status(const char *prog, const struct daemons *t, daemons_fn fn,
		   void *ud, unsigned *n)
{
	char path[JV_CFG_PATH_MAX], why[512];
	char (*list)[JV_CFG_PATH_MAX] = NULL;
	unsigned count = 0;
	bool stale;
	json_t *r;
	int rc;

	*n = 0;
	if (t->iface || t->sock || t->config) {
		rc = t->iface ? jv_ctl_iface_socket(t->dir, t->iface, path,
						     sizeof path, why, sizeof why)
			      : jv_ctl_find(t->sock, t->config, path,
					    sizeof path, why, sizeof why);
		if (!rc)
			rc = ask(path, &r, why, sizeof why, &stale);
		if (rc) {
			fprintf(stderr, "%s: %s\n", prog, why);
			return 1;
		}
		fn(ud, path, r);
		json_decref(r);
		*n = 1;
		return 0;
	}
	list = calloc(JV_CTL_LIST_MAX, sizeof *list);
	if (!list) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	rc = jv_ctl_list(t->dir, list, JV_CTL_LIST_MAX, &count, why, sizeof why);
	if (rc) {
		fprintf(stderr, "%s: %s\n", prog, why);
		free(list);
		return 1;
	}
	for (unsigned i = 0; i < count; i++) {
		char name[JV_CFG_PATH_MAX];

		jv_ctl_sock_iface(list[i], name, sizeof name);
		rc = ask(list[i], &r, why, sizeof why, &stale);
		if (rc) {
			/* a crashed daemon leaves its socket file behind */
			fprintf(stderr, "%s: %s: %s, skipped: %s\n", prog, name,
				stale ? "stale socket" : "no answer",
				why);
			continue;
		}
		fn(ud, list[i], r);
		json_decref(r);
		(*n)++;
	}
	if (!*n)
		fprintf(stderr, count ? "%s: no daemon answers in %s\n" :
			"%s: no jvpn interface is running (no control socket in %s)\n",
			prog, t->dir ? t->dir : jv_ctl_run_dir());
	free(list);
	return *n ? 0 : 1;
}
