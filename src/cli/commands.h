/* SPDX-License-Identifier: MIT */
#ifndef JVPN_CLI_COMMANDS_H
#define JVPN_CLI_COMMANDS_H

/*
 * One function per subcommand, each in its own cmd_<name>.c.  argv[0] is
 * the subcommand's name.  Returns the process exit status.
 */
int cmd_demo(int argc, char **argv);
int cmd_states(int argc, char **argv);
int cmd_events_doc(int argc, char **argv);
int cmd_policy_doc(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_switch(int argc, char **argv);
int cmd_terminate(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_genkey(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);
int cmd_lab(int argc, char **argv);

#endif
