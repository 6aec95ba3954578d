#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Re-chain a JSONL event log (spec PD-1): rewrite `seq` (0, 1, ...) and
`prev_hash` (hex BLAKE2b-256 of the previous line's exact bytes, 64 zeros
first) of every line, leaving every other byte as it is.

A broken test log that must fail only for a semantic reason (an illegal
transition, a dual binding, ...) is re-chained after its edit, so the
chain check passes and the audit names the semantic fault alone.

    tests/audit/rechain.py IN.jsonl [OUT.jsonl]     (default: in place)

Lines are edited as text, not re-serialized, so the writer's key order
and number formats survive.  The last line keeps its missing newline, if
it had none.
"""

import hashlib
import re
import sys

SEQ = re.compile(rb',"seq":[0-9]+,"prev_hash":"[0-9a-f]{64}"\}$')


def rechain_lines(lines):
    """lines: list of bytes without newline; returns the re-chained list."""
    out = []
    prev = b"0" * 64
    for i, line in enumerate(lines):
        tail = b',"seq":%d,"prev_hash":"%s"}' % (i, prev)
        if SEQ.search(line):
            line = SEQ.sub(lambda m: tail, line)
        out.append(line)
        prev = hashlib.blake2b(line, digest_size=32).hexdigest().encode()
    return out


def rechain_bytes(data):
    ends_nl = data.endswith(b"\n")
    lines = data.split(b"\n")
    if ends_nl:
        lines.pop()
    out = b"\n".join(rechain_lines(lines))
    return out + (b"\n" if ends_nl else b"")


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], "rb") as f:
        data = f.read()
    with open(argv[2] if len(argv) == 3 else argv[1], "wb") as f:
        f.write(rechain_bytes(data))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
