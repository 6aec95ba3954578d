#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write a large valid log for the audit's speed figure: the good logs of
tests/audit/logs repeated (whole copies, at least LINES lines), each copy
under fresh session ids (same times, so every stream stays within its
bounds), re-chained as one file.

    tests/audit/mkbig.py LINES OUT.jsonl [LOG.jsonl...]
    (default logs: tests/audit/logs/good-*.jsonl)

Then: time jvpn audit --quiet OUT.jsonl
"""

import glob
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rechain import rechain_lines  # noqa: E402


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    want = int(argv[1])
    logs = argv[3:] or sorted(glob.glob(os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "logs", "good-*.jsonl")))
    src = []
    for name in logs:
        with open(name, "rb") as f:
            src.append(f.read().rstrip(b"\n").split(b"\n"))
    out, copy = [], 0
    while len(out) < want:
        for lines in src:
            copy += 1
            sid = {}
            for line in lines:
                i = line.index(b'"session_id":"') + 14
                old = line[i:i + 32]
                if old not in sid:
                    sid[old] = hashlib.blake2b(b"%d:%s" % (copy, old),
                                               digest_size=16).hexdigest().encode()
                out.append(line[:i] + sid[old] + line[i + 32:])
    out = rechain_lines(out)	# whole copies: no commit is cut
    with open(argv[2], "wb") as f:
        f.write(b"\n".join(out) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
