#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write one long client stream (at least LINES lines) for jvpn report's
caps: a session that keeps losing quality on its binding, is refused a
switch a few times, revalidates the same transport and is attached
again, every 2 s, with path figures on each loss transition.

    tests/report/mklong.py LINES OUT.jsonl TEMPLATE.jsonl

TEMPLATE is a log whose client SessionCreated (with details.policy) is
reused; the output is chained like a writer's (PD-1).
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "audit"))
from rechain import rechain_lines  # noqa: E402

SID = "0123456789abcdef0123456789abcdef"


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    want = int(argv[1])
    created = None
    with open(argv[3], "rb") as f:
        for raw in f:
            ev = json.loads(raw)
            if ev["event_type"] == "SessionCreated" and ev["role"] == "client":
                created = ev
                break
    if created is None:
        sys.stderr.write("mklong: no client SessionCreated in template\n")
        return 2
    out = []
    v = 0
    ts = 1000

    def ev(kind, **kw):
        e = {"ts_ms": ts, "event_type": kind, "session_id": SID,
             "node_id": "client-long", "role": "client",
             "policy_version": created["policy_version"], "state_version": v}
        e.update(kw)
        e["seq"] = 0
        e["prev_hash"] = "0" * 64
        out.append(json.dumps(e, separators=(",", ":")).encode())

    c = dict(created)
    c.update(ts_ms=ts, session_id=SID, node_id="client-long")
    c.pop("seq", None)
    c.pop("prev_hash", None)
    c["seq"] = 0
    c["prev_hash"] = "0" * 64
    out.append(json.dumps(c, separators=(",", ":")).encode())
    v = 1
    ev("SessionStateChange", reason_code="attached_to_transport",
       previous_state="BIRTH", new_state="ATTACHED")
    ev("TransportAttached", reason_code="attached_to_transport",
       transport_id="p1")
    n = 0
    while len(out) < want:
        n += 1
        ts += 2000
        v += 1
        ev("SessionStateChange", reason_code="loss_threshold_exceeded",
           previous_state="ATTACHED", new_state="VOLATILE",
           loss_ratio=round(0.2 + (n % 7) / 20, 3),
           latency_estimate_ms=20 + n % 50)
        for _ in range(3):
            ts += 10
            ev("TransportSwitchDenied", reason_code="no_candidate_transports",
               candidate_count=0)
        ts += 100
        v += 1
        ev("SessionStateChange", reason_code="health_recovered",
           previous_state="VOLATILE", new_state="RECOVERING",
           from_transport="p1", candidate_set_size=1,
           candidate_transport="p1")
        ev("ReattachAttempt", candidate_transport="p1", nonce=n, attempt=1)
        ts += 20
        v += 1
        ev("SessionStateChange", reason_code="reattach_success",
           previous_state="RECOVERING", new_state="ATTACHED")
        ev("ReattachResult", reason_code="reattach_success",
           candidate_transport="p1", nonce=n, status="SUCCESS")
    with open(argv[2], "wb") as f:
        for line in rechain_lines(out):
            f.write(line + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
