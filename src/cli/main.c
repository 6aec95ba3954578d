/* SPDX-License-Identifier: MIT */
/*
 * jvpn: one binary, subcommands in a table (like wg).  `--help` or `-h`
 * as a command's first argument is answered here from the table (usage
 * on stdout, exit 0) unless the command prints a longer help of its own
 * (own_help); any other argument is the command's to judge (exit 2 on a
 * wrong one).
 */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "jv_version.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *help;
	bool own_help;		/* the command answers --help itself */
};

static int cmd_version(int argc, char **argv);

static const struct command commands[] = {
	{ "up", cmd_up, "up CONFIG",
	  "run a client or gateway in the foreground (docs/config.md)", true },
	{ "show", cmd_show, "show [IFACE] [--json]",
	  "every running interface and its peers, like wg show", true },
	{ "status", cmd_status, "status [IFACE] [--json]",
	  "sessions, states, transports and counters of the running daemons", true },
	{ "switch", cmd_switch, "switch TRANSPORT",
	  "ask the client to move its session to TRANSPORT (policy applies)" },
	{ "terminate", cmd_terminate, "terminate [SESSION]",
	  "end a session (operator_terminated)" },
	{ "reload", cmd_reload, "reload [IFACE]",
	  "apply the config file's peer and policy changes, no session dropped", true },
	{ "events", cmd_events, "events [IFACE] [options]",
	  "the event log, filtered (--type, --session, --since), as text or JSONL", true },
	{ "genkey", cmd_genkey, "genkey",
	  "print a new private key (base64)" },
	{ "pubkey", cmd_pubkey, "pubkey < KEY",
	  "print the public key of the private key on stdin" },
	{ "lab", cmd_lab, "lab [--profile P]",
	  "two-namespace lab: live failover of a real tunnel (root)", true },
	{ "demo", cmd_demo, "demo",
	  "simulated walk of a session through a path death" },
	{ "sim", cmd_sim, "sim FILE... [options]",
	  "run scenarios in the simulator (--chaos N, --bench, --events F)", true },
	{ "audit", cmd_audit, "audit FILE.jsonl... [--quiet|--json] [--each]",
	  "verify event logs: hash chain, invariants, timeline (exit 1 on FAIL)", true },
	{ "report", cmd_report, "report FILE... -o F.html",
	  "event logs as one HTML page: time line per session, verdict", true },
	{ "states", cmd_states, "states [--markdown]",
	  "print the session state machine table", true },
	{ "events-doc", cmd_events_doc, "events-doc",
	  "print the event and reason-code reference (docs/events.md)" },
	{ "policy-doc", cmd_policy_doc, "policy-doc",
	  "print the policy reference (docs/policy.md)" },
	{ "version", cmd_version, "version",
	  "print the version (also jvpn --version)" },
};

enum { NCOMMANDS = sizeof(commands) / sizeof(commands[0]) };

static int cmd_version(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: jvpn version\n");
		return 2;
	}
	printf("jvpn %s\n", JV_VERSION);
	return 0;
}

static bool is_help(const char *a)
{
	return !strcmp(a, "-h") || !strcmp(a, "--help");
}


static void usage(FILE *f)
{
	fprintf(f, "usage: jvpn <command> [arguments]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-24s %s\n", commands[i].usage, commands[i].help);
	fprintf(f, "\n`jvpn COMMAND --help` for one command; jvpn(8), jvpn.conf(5).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (is_help(argv[1]) || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(1, argv + 1);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct command *c = &commands[i];

		if (strcmp(argv[1], c->name))
			continue;
		if (argc >= 3 && is_help(argv[2]) && !c->own_help) {
			printf("usage: jvpn %s\n\n%s\n", c->usage, c->help);
			return 0;
		}
		return c->fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "jvpn: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
