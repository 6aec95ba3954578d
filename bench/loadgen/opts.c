/* SPDX-License-Identifier: MIT */
/*
 * bench/loadgen's command line.  Every bad value is one line naming the
 * option, the value and what is allowed, and exit status 2.
 */

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daemon/config.h"
#include "daemon/key.h"
#include "jvpn/diag.h"
#include "jvpn/policy.h"
#include "lg.h"
#include "net/netaddr.h"

static const char usage[] =
"usage: loadgen --gateway-key B64 | --gateway-config FILE\n"
"               --paths SPEC [-n N] [--rate R] [--pps P] [--policy NAME]\n"
"               [--seed S] [--gateway-inner IP] [--hold S]\n"
"               [--setup-timeout S] [--settle S] [--failover-timeout S]\n"
"               [--cut-cmd CMD --cut-path I] [--restore-cmd CMD]\n"
"               [--mark-cmd CMD] [--keep] [--json]\n"
"       loadgen --write-peers DIR [-n N] [--seed S]\n"
"--policy: a profile; default: the --gateway-config's [Policy], else default\n"
"SPEC: paths separated by ',', each LOCALS=GWIP:PORT; LOCALS: '+'-separated\n"
"      IPv4[:PORT] or IPv4*COUNT (COUNT consecutive source addresses)\n"
"See bench/README.md (scale.sh) for what it measures.\n";

__attribute__((format(printf, 1, 2)))
static int bad(const char *fmt, ...)
{
	va_list ap;

	fputs("loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

static int num(const char *opt, const char *s, double lo, double hi,
	       double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(*v) || *v < lo || *v > hi)
		return bad("%s '%s': not a number in %g .. %g", opt, s, lo, hi);
	return 0;
}

static int uint_opt(const char *opt, const char *s, unsigned long long lo,
		    unsigned long long hi, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (!*s || *s == '-' || *end || errno || *v < lo || *v > hi)
		return bad("%s '%s': not an integer in %llu .. %llu", opt, s,
			   lo, hi);
	return 0;
}

static int key_from_config(struct lg_opts *o, const char *path)
{
	struct jv_config *cfg = NULL;
	struct jv_diag d = { 0 };
	char why[JV_DIAG_TEXT_MAX];
	int rc = jv_config_load(path, &cfg, &d);

	if (rc) {
		if (jv_diag_format(&d, why, sizeof why) < 0)
			snprintf(why, sizeof why, "%s: cannot be read", path);
		jv_config_free(cfg);
		return bad("--gateway-config: %s", why);
	}
	if (cfg->role != JV_CFG_GATEWAY) {
		jv_config_free(cfg);
		return bad("--gateway-config %s: Role is not gateway", path);
	}
	rc = crypto_scalarmult_base(o->gw_pub, cfg->private_key);
	o->cfg_policy = cfg->policy;
	o->have_policy = true;
	jv_config_free(cfg);
	if (rc)
		return bad("--gateway-config %s: unusable PrivateKey", path);
	o->have_key = true;
	return 0;
}

/* One source: "IP", "IP:PORT" or "IP*COUNT". */
static int parse_local(struct lg_path_spec *p, unsigned pi, char *s)
{
	char *star = strchr(s, '*');
	unsigned long long count = 1;
	struct jv_addr a;

	if (star) {
		*star = 0;
		if (uint_opt("--paths count", star + 1, 1, LG_LOCALS_MAX, &count))
			return 2;
	}
	if (jv_netaddr_parse(&a, s) || !jv_netaddr_is_v4(&a) ||
	    jv_netaddr_is_any(&a))
		return bad("--paths: path %u: source '%s' is not an IPv4 address[:port]",
			   pi, s);
	if (star && a.port)
		return bad("--paths: path %u: '%s*%llu': a port with a count would reuse it",
			   pi, s, count);
	if (p->nlocal + count > LG_LOCALS_MAX)
		return bad("--paths: path %u: more than %d source addresses",
			   pi, LG_LOCALS_MAX);
	for (unsigned long long i = 0; i < count; i++) {
		uint32_t v4 = jv_netaddr_v4(&a) + (uint32_t)i;

		if (v4 < jv_netaddr_v4(&a))
			return bad("--paths: path %u: '%s*%llu' runs past 255.255.255.255",
				   pi, s, count);
		jv_addr_from_ipv4(&p->local[p->nlocal++], v4, a.port);
	}
	return 0;
}

static int parse_paths(struct lg_opts *o, const char *arg)
{
	char buf[8192], *save = NULL, *tok;

	if (strlen(arg) >= sizeof buf)
		return bad("--paths: longer than %zu characters", sizeof buf - 1);
	snprintf(buf, sizeof buf, "%s", arg);
	o->npaths = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct lg_path_spec *p;
		char *eq = strchr(tok, '='), *save2 = NULL, *l;

		if (o->npaths == LG_PATHS_MAX)
			return bad("--paths: more than %d paths", LG_PATHS_MAX);
		p = &o->path[o->npaths];
		memset(p, 0, sizeof *p);
		if (!eq)
			return bad("--paths: path %u '%s': no '=' (LOCALS=GWIP:PORT)",
				   o->npaths, tok);
		*eq = 0;
		if (jv_netaddr_parse(&p->gw, eq + 1) || !p->gw.port ||
		    !jv_netaddr_is_v4(&p->gw))
			return bad("--paths: path %u: gateway '%s' is not IPv4:PORT",
				   o->npaths, eq + 1);
		for (l = strtok_r(tok, "+", &save2); l;
		     l = strtok_r(NULL, "+", &save2))
			if (parse_local(p, o->npaths, l))
				return 2;
		if (!p->nlocal)
			return bad("--paths: path %u: no source address", o->npaths);
		o->npaths++;
	}
	if (!o->npaths)
		return bad("--paths '%s': no path", arg);
	return 0;
}

enum {
	O_KEY = 256, O_CONFIG, O_PATHS, O_RATE, O_PPS, O_POLICY, O_SEED,
	O_PEERS, O_INNER, O_HOLD, O_SETUP, O_SETTLE, O_FAILOVER, O_CUT,
	O_CUTPATH, O_RESTORE, O_MARK, O_KEEP, O_JSON,
};

static const struct option longopts[] = {
	{ "gateway-key", required_argument, NULL, O_KEY },
	{ "gateway-config", required_argument, NULL, O_CONFIG },
	{ "paths", required_argument, NULL, O_PATHS },
	{ "sessions", required_argument, NULL, 'n' },
	{ "rate", required_argument, NULL, O_RATE },
	{ "pps", required_argument, NULL, O_PPS },
	{ "policy", required_argument, NULL, O_POLICY },
	{ "seed", required_argument, NULL, O_SEED },
	{ "write-peers", required_argument, NULL, O_PEERS },
	{ "gateway-inner", required_argument, NULL, O_INNER },
	{ "hold", required_argument, NULL, O_HOLD },
	{ "duration", required_argument, NULL, O_HOLD },
	{ "setup-timeout", required_argument, NULL, O_SETUP },
	{ "settle", required_argument, NULL, O_SETTLE },
	{ "failover-timeout", required_argument, NULL, O_FAILOVER },
	{ "cut-cmd", required_argument, NULL, O_CUT },
	{ "cut-path", required_argument, NULL, O_CUTPATH },
	{ "restore-cmd", required_argument, NULL, O_RESTORE },
	{ "mark-cmd", required_argument, NULL, O_MARK },
	{ "keep", no_argument, NULL, O_KEEP },
	{ "json", no_argument, NULL, O_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int lg_opts_parse(struct lg_opts *o, int argc, char **argv)
{
	unsigned long long u;
	struct jv_policy pol;
	struct jv_addr a;
	int c, rc;

	memset(o, 0, sizeof *o);
	o->n = 1;
	o->rate = 100;
	o->pps = 1;
	snprintf(o->policy, sizeof o->policy, "default");
	o->gw_inner = (10u << 24) | 0xfffffe;		/* 10.255.255.254 */
	o->hold_s = 5;
	o->setup_timeout_s = 600;
	o->settle_s = 10;
	o->failover_timeout_s = 30;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:h", longopts, NULL)) != -1) {
		rc = 0;
		switch (c) {
		case O_KEY:
			if (jv_key_from_base64(optarg, o->gw_pub))
				return bad("--gateway-key '%s': not a base64 key of 32 bytes (as jvpn pubkey prints)",
					   optarg);
			o->have_key = true;
			break;
		case O_CONFIG:
			rc = key_from_config(o, optarg);
			break;
		case O_PATHS:
			rc = parse_paths(o, optarg);
			break;
		case 'n':
			rc = uint_opt("-n", optarg, 1, LG_N_MAX, &u);
			o->n = (unsigned)u;
			break;
		case O_RATE:
			rc = num("--rate", optarg, 0.001, 1e6, &o->rate);
			break;
		case O_PPS:
			rc = num("--pps", optarg, 0, 1e6, &o->pps);
			break;
		case O_POLICY:
			if (strlen(optarg) >= sizeof o->policy ||
			    jv_policy_profile(&pol, optarg, NULL))
				return bad("--policy '%s': no such profile (known: default, fast)",
					   optarg);
			snprintf(o->policy, sizeof o->policy, "%s", optarg);
			o->policy_named = true;
			break;
		case O_SEED:
			rc = uint_opt("--seed", optarg, 0, UINT64_MAX, &u);
			o->seed = u;
			break;
		case O_PEERS:
			if (!*optarg)
				return bad("--write-peers: empty directory name");
			o->write_peers = optarg;
			break;
		case O_INNER:
			if (jv_netaddr_parse(&a, optarg) || a.port ||
			    !jv_netaddr_is_v4(&a) || jv_netaddr_is_any(&a))
				return bad("--gateway-inner '%s': not an IPv4 address",
					   optarg);
			o->gw_inner = jv_netaddr_v4(&a);
			break;
		case O_HOLD:
			rc = num("--hold", optarg, 0, 86400, &o->hold_s);
			break;
		case O_SETUP:
			rc = num("--setup-timeout", optarg, 0.1, 86400, &o->setup_timeout_s);
			break;
		case O_SETTLE:
			rc = num("--settle", optarg, 0.1, 3600, &o->settle_s);
			break;
		case O_FAILOVER:
			rc = num("--failover-timeout", optarg, 0.1, 3600,
				 &o->failover_timeout_s);
			break;
		case O_CUT:
			o->cut_cmd = optarg;
			break;
		case O_CUTPATH:
			rc = uint_opt("--cut-path", optarg, 0, LG_PATHS_MAX - 1, &u);
			o->cut_path = (unsigned)u;
			break;
		case O_RESTORE:
			o->restore_cmd = optarg;
			break;
		case O_MARK:
			o->mark_cmd = optarg;
			break;
		case O_KEEP:
			o->keep = true;
			break;
		case O_JSON:
			o->json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case ':':
			return bad("%s needs a value", argv[optind - 1]);
		default:
			return bad("unknown option '%s' (see --help)", argv[optind - 1]);
		}
		if (rc)
			return rc;
	}
	if (optind < argc)
		return bad("unexpected argument '%s' (see --help)", argv[optind]);
	if (o->write_peers)
		return 0;
	if (!o->have_key)
		return bad("the gateway's key is missing: --gateway-key or --gateway-config");
	if (!o->npaths)
		return bad("--paths is missing (e.g. 198.18.1.2=198.18.1.1:51820)");
	if (o->cut_cmd && o->cut_path >= o->npaths)
		return bad("--cut-path %u: there are %u paths", o->cut_path,
			   o->npaths);
	if (o->restore_cmd && !o->cut_cmd)
		return bad("--restore-cmd without --cut-cmd");
	return 0;
}
