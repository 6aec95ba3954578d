#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""docs/security.md names the tests that show each claim: every one it
names must exist, so a renamed or deleted test cannot leave the threat
model pointing at nothing.  Checks `tests/F.c: name`, `name`, ... (each
name a function `name(void **` in F) and every scenarios/, tests/ path.

Usage: security_refs.py SOURCE_ROOT
"""
import glob
import os
import re
import sys


def main():
    root = sys.argv[1]
    doc = os.path.join(root, "docs", "security.md")
    text = open(doc, encoding="utf-8").read().replace("\n", " ")
    bad = []
    checked = 0
    cite = re.compile(r"`(tests/[\w/.-]+\.c):\s*(\w+)`((?:\s*,\s*`\w+`)*)")
    for m in cite.finditer(text):
        path = os.path.join(root, m.group(1))
        names = [m.group(2)] + re.findall(r"`(\w+)`", m.group(3))
        if not os.path.exists(path):
            bad.append(f"{m.group(1)}: no such file")
            continue
        src = open(path, encoding="utf-8").read()
        for n in names:
            checked += 1
            if not re.search(r"\b" + re.escape(n) + r"\(void \*\*", src):
                bad.append(f"{m.group(1)}: no test function {n}")
    for p in sorted(set(re.findall(r"`((?:scenarios|tests)/[\w./*-]+)`",
                                   text))):
        p = p.split(":")[0]
        if "NAME" in p or "TARGET" in p:
            continue
        checked += 1
        if not glob.glob(os.path.join(root, p)):
            bad.append(f"{p}: no such file")
    for b in bad:
        print(f"docs/security.md: {b}", file=sys.stderr)
    print(f"{checked} references checked, {len(bad)} missing")
    return 1 if bad or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
