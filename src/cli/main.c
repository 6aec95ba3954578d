/* SPDX-License-Identifier: MIT */
/* jvpn: one binary, subcommands in a table (like wg). */

#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *help;
};

static const struct command commands[] = {
	{ "up", cmd_up, "up CONFIG",
	  "run a client or gateway in the foreground (docs/config.md)" },
	{ "status", cmd_status, "status [--json]",
	  "sessions, states, transports and counters of the running daemon" },
	{ "switch", cmd_switch, "switch TRANSPORT",
	  "ask the client to move its session to TRANSPORT (policy applies)" },
	{ "terminate", cmd_terminate, "terminate [SESSION]",
	  "end a session (operator_terminated)" },
	{ "events", cmd_events, "events [--follow]",
	  "print (and follow) the daemon's JSONL event log" },
	{ "genkey", cmd_genkey, "genkey",
	  "print a new private key (base64)" },
	{ "pubkey", cmd_pubkey, "pubkey < KEY",
	  "print the public key of the private key on stdin" },
	{ "lab", cmd_lab, "lab [--profile P]",
	  "two-namespace lab: live failover of a real tunnel (root)" },
	{ "demo", cmd_demo, "demo",
	  "simulated walk of a session through a path death" },
	{ "sim", cmd_sim, "sim FILE... [options]",
	  "run scenarios in the simulator (--chaos N, --bench, --events F)" },
	{ "audit", cmd_audit, "audit FILE.jsonl... [--quiet|--json] [--each]",
	  "verify event logs: hash chain, invariants, timeline (exit 1 on FAIL)" },
	{ "report", cmd_report, "report FILE... -o F.html",
	  "event logs as one HTML page: time line per session, verdict" },
	{ "states", cmd_states, "states [--markdown]",
	  "print the session state machine table" },
	{ "events-doc", cmd_events_doc, "events-doc",
	  "print the event and reason-code reference (docs/events.md)" },
	{ "policy-doc", cmd_policy_doc, "policy-doc",
	  "print the policy reference (docs/policy.md)" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: jvpn <command> [arguments]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-24s %s\n", commands[i].usage, commands[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "jvpn: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
