#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The man pages must build without a word from scdoc and keep up with
the code: every command of src/cli/main.c's table is a term of jvpn(8)'s
COMMANDS, every exit status of enum jv_daemon_exit is in its EXIT STATUS,
and every key of the [Interface], [Peer], [Transport] and [Cluster] key
tables of src/daemon/config.c is a term of its section in jvpn.conf(5).
So adding a command, a key or an exit status without documenting it turns
this test red.  jvpn-events(7) is generated from `jvpn events-doc`
(docs/man/events_man.py): it must build too.

Usage: man_refs.py SOURCE_ROOT JVPN SCDOC
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile


def section(text, title):
    """The body of '# title' up to the next '# ' heading."""
    m = re.search(r"^# " + re.escape(title) + r"\n(.*?)(?=^# |\Z)", text,
                  re.M | re.S)
    return m.group(1) if m else ""


def troff_warnings(name, roff, bad):
    """groff's own warnings (-ww) on the page scdoc made: a stray escape
    or a request where text was meant."""
    groff = shutil.which("groff")
    if not groff:
        return
    r = subprocess.run([groff, "-man", "-ww", "-z", "-Tutf8"], input=roff,
                       capture_output=True, text=True)
    if r.returncode or r.stderr.strip():
        bad.append(f"{name}: groff: {r.stderr.strip() or r.returncode}")


def main():
    root, jvpn, scdoc = sys.argv[1:4]
    man = os.path.join(root, "docs", "man")
    bad = []
    checked = 0

    for page in ("jvpn.8.scd", "jvpn.conf.5.scd"):
        src = open(os.path.join(man, page), encoding="utf-8").read()
        r = subprocess.run([scdoc], input=src, capture_output=True,
                           text=True)
        checked += 1
        if r.returncode or r.stderr.strip():
            bad.append(f"{page}: scdoc: {r.stderr.strip() or r.returncode}")
        else:
            troff_warnings(page, r.stdout, bad)
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([sys.executable, os.path.join(man, "events_man.py"),
                            jvpn, os.path.join(man, "jvpn-events.7.scd"),
                            scdoc, os.path.join(tmp, "jvpn-events.7")],
                           capture_output=True, text=True)
        checked += 1
        if r.returncode or r.stderr.strip():
            bad.append(f"jvpn-events.7: {r.stderr.strip() or r.returncode}")
        else:
            troff_warnings("jvpn-events.7",
                           open(os.path.join(tmp, "jvpn-events.7")).read(),
                           bad)

    # jvpn(8): the command table
    main_c = open(os.path.join(root, "src", "cli", "main.c")).read()
    table = re.search(r"commands\[\]\s*=\s*\{(.*?)\n\};", main_c, re.S)
    cmds = re.findall(r'\{\s*"([a-z][a-z0-9-]*)",\s*cmd_', table.group(1))
    if len(cmds) < 10:
        bad.append(f"main.c: found only {len(cmds)} commands: parser broken?")
    page8 = open(os.path.join(man, "jvpn.8.scd"), encoding="utf-8").read()
    commands = section(page8, "COMMANDS")
    for c in cmds:
        checked += 1
        if not re.search(r"^\*" + re.escape(c) + r"\*", commands, re.M):
            bad.append(f"jvpn.8.scd: command '{c}' (src/cli/main.c) is not "
                       "a term of COMMANDS")
    # ... and the exit statuses of jvpn up
    dh = open(os.path.join(root, "src", "daemon", "daemon.h")).read()
    exits = re.findall(r"JV_EXIT_\w+\s*=\s*(\d+)", dh)
    if not exits:
        bad.append("daemon.h: no JV_EXIT_* values found: parser broken?")
    status = section(page8, "EXIT STATUS")
    for v in exits:
        checked += 1
        if not re.search(r"^\*" + v + r"\*$", status, re.M):
            bad.append(f"jvpn.8.scd: exit status {v} (daemon.h) is not in "
                       "EXIT STATUS")

    # jvpn.conf(5): the key tables
    cfg = open(os.path.join(root, "src", "daemon", "config.c")).read()
    page5 = open(os.path.join(man, "jvpn.conf.5.scd"), encoding="utf-8").read()
    sections = {"ikeys": "Interface", "pkeys": "Peer", "tkeys": "Transport",
                "ckeys": "Cluster"}
    for var, sec in sections.items():
        m = re.search(r"struct key_def " + var + r"\[[^]]*\]\s*=\s*\{(.*?)\};",
                      cfg, re.S)
        if not m:
            bad.append(f"config.c: no key table {var}: parser broken?")
            continue
        keys = re.findall(r'\{\s*"([A-Za-z]+)"', m.group(1))
        body = section(page5, "[" + sec + "]")
        if not body:
            bad.append(f"jvpn.conf.5.scd: no section '# [{sec}]'")
        for k in keys:
            checked += 1
            if not re.search(r"(^|, )\*" + k + r"\* =", body, re.M):
                bad.append(f"jvpn.conf.5.scd: [{sec}] key '{k}' "
                           "(src/daemon/config.c) is not documented")

    for b in bad:
        print(b)
    print(f"{checked} checks, {len(bad)} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
