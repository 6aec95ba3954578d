#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the deliberately broken logs of tests/audit/logs from the good
ones, each with a NAME.expect file saying what `jvpn audit` must report:

    exit 1
    finding LINE ID        (the finding must be reported at that line)
    only ID...             (optional: no finding of any other ID)

    tests/audit/mkbroken.py tests/audit/logs

Targets are found by what the events are (role, type, version), not by
line numbers, so the set can be regenerated from new good logs.
(bad-liv10-rate-limited.jsonl is not written here: it is a log of the
engine before PD-7, kept as it was; see logs/README.)  Every
broken log is re-chained after its edit (rechain.py), except those that
test the chain itself (edited, deleted, reordered, truncated line).
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rechain import rechain_lines  # noqa: E402

REPLAY = "good-s6-replay.jsonl"
FORCED = "good-forced-switches.jsonl"
TTL = "good-fm1.2-death-without-backup.jsonl"


def load(d, name):
    with open(os.path.join(d, name), "rb") as f:
        data = f.read()
    assert data.endswith(b"\n")
    return data[:-1].split(b"\n")


def ev(line):
    return json.loads(line)


def find(lines, nth=0, **want):
    """Index of the nth line whose fields equal want (role, event_type...)."""
    hits = 0
    for i, line in enumerate(lines):
        e = ev(line)
        if all(e.get(k) == v for k, v in want.items()):
            if hits == nth:
                return i
            hits += 1
    raise LookupError("no line with %r (#%d)" % (want, nth))


def sub(line, key, value):
    """Replace the value of top-level key (value: JSON text)."""
    pat = re.compile(rb'"%s":("(?:[^"\\]|\\.)*"|[-0-9.eE+]+|true|false|null)'
                     % key.encode())
    new, n = pat.subn(lambda m: b'"%s":%s' % (key.encode(), value.encode()),
                      line, count=1)
    assert n == 1, (key, line)
    return new


def write(d, name, lines, expect, chain=True, newline=True):
    if chain:
        lines = rechain_lines(lines)
    with open(os.path.join(d, name + ".jsonl"), "wb") as f:
        f.write(b"\n".join(lines) + (b"\n" if newline else b""))
    with open(os.path.join(d, name + ".expect"), "w") as f:
        f.write("exit 1\n")
        ids = set()
        for line, cid in expect["findings"]:
            f.write("finding %d %s\n" % (line, cid))
            ids.add(cid)
        if "only" in expect:
            f.write("only %s\n" % " ".join(sorted(set(expect["only"]) | ids)))


def main(d):
    # --- on the replay log (client and gateway, one switch each) --------
    base = load(d, REPLAY)

    # illegal transition: VOLATILE->RECOVERING given a reason no row has
    L = list(base)
    i = find(L, role="client", event_type="SessionStateChange",
             previous_state="VOLATILE", new_state="RECOVERING")
    L[i] = sub(L[i], "reason_code", '"volatile_persisted"')
    write(d, "bad-illegal-transition", L,
          {"findings": [(i + 1, "INV-03")], "only": []})

    # version rollback: the client's RECOVERING->ATTACHED says version 2
    L = list(base)
    i = find(L, role="client", event_type="SessionStateChange",
             new_state="ATTACHED", previous_state="RECOVERING")
    L[i] = sub(L[i], "state_version", "2")
    write(d, "bad-version-rollback", L,
          {"findings": [(i + 1, "INV-02")], "only": []})

    # version gap: every client event from the recovery entry on +1
    L = list(base)
    i = find(L, role="client", event_type="SessionStateChange",
             new_state="RECOVERING")
    for j in range(i, len(L)):
        e = ev(L[j])
        if e["role"] == "client":
            L[j] = sub(L[j], "state_version", str(e["state_version"] + 1))
    write(d, "bad-version-gap", L,
          {"findings": [(i + 1, "INV-02")], "only": []})

    # dual binding: the client's switch replaces p1, which is dead and
    # no longer the binding
    L = list(base)
    i = find(L, role="client", event_type="TransportSwitch")
    L[i] = sub(L[i], "previous_transport", '"p1"')
    write(d, "bad-dual-binding", L,
          {"findings": [(i + 1, "INV-05")], "only": []})

    # broken chain: one value edited, not re-chained: the next line's
    # prev_hash no longer matches
    L = list(base)
    i = find(L, role="client", event_type="SessionStateChange",
             new_state="VOLATILE")
    e = ev(L[i])
    L[i] = sub(L[i], "heartbeat_age_ms", str(e["heartbeat_age_ms"] + 1))
    write(d, "bad-chain-edited", L, {"findings": [(i + 2, "chain")],
                                     "only": []}, chain=False)

    # deleted line: a neutral event removed, not re-chained: seq gap
    L = list(base)
    i = find(L, role="gateway", event_type="SecurityValidationFailed")
    del L[i]
    write(d, "bad-chain-deleted", L, {"findings": [(i + 1, "chain")],
                                      "only": []}, chain=False)

    # reordered lines: two adjacent gateway lines swapped
    L = list(base)
    i = find(L, role="gateway", event_type="ReattachResult", status="DENIED")
    L[i], L[i + 1] = L[i + 1], L[i]
    write(d, "bad-chain-reordered", L,
          {"findings": [(i + 1, "chain"), (i + 2, "chain")], "only": []},
          chain=False)

    # truncated last line: the write was cut in the middle
    L = list(base)
    L[-1] = L[-1][:len(L[-1]) // 2]
    write(d, "bad-truncated", L,
          {"findings": [(len(L), "parse"), (len(L), "chain")], "only": []},
          chain=False, newline=False)

    # duplicate SessionCreated: the client's birth line repeated later
    L = list(base)
    born = find(L, role="client", event_type="SessionCreated")
    i = find(L, role="client", event_type="ReattachAttempt")
    dup = sub(L[born], "ts_ms", str(ev(L[i])["ts_ms"]))
    L.insert(i + 1, dup)
    write(d, "bad-duplicate-created", L,
          {"findings": [(i + 2, "INV-01")], "only": []})

    # RECOVERING->ATTACHED without ReattachResult(SUCCESS): the client's
    # result line removed (and re-chained)
    L = list(base)
    att = find(L, role="client", event_type="SessionStateChange",
               previous_state="RECOVERING", new_state="ATTACHED")
    i = find(L, role="client", event_type="ReattachResult", status="SUCCESS")
    del L[i]
    write(d, "bad-attach-without-success", L,
          {"findings": [(att + 1, "INV-07")], "only": ["LIV-05"]})

    # replayed nonce reused in a SUCCESS: a request the gateway had just
    # denied as a replay is accepted on its next copy
    L = list(base)
    n = find(L, role="gateway", event_type="ReattachResult", status="DENIED",
             reason_code="replay_detected", nth=1)
    L[n] = sub(sub(sub(L[n], "reason_code", '"reattach_success"'),
                   "status", '"SUCCESS"'), "retryable", "false")
    write(d, "bad-replayed-nonce-success", L,
          {"findings": [(n + 1, "LIV-09")], "only": ["INV-11"]})

    # unknown field: a payload field on a switch (INV-17)
    L = list(base)
    i = find(L, role="gateway", event_type="TransportSwitch")
    L[i] = L[i].replace(b',"seq":', b',"payload":"45000054a1b2","seq":', 1)
    write(d, "bad-unknown-field", L,
          {"findings": [(i + 1, "INV-17")], "only": []})

    # --- switch rate (INV-08, INV-12 as amended by PD-7) ----------------
    # The good log has three forced switches a side within 8 s under
    # MAX_SWITCHES_PER_MIN = 2: forced ones are not counted.  The same
    # switches said to be discretionary break the cap at the third.
    base = load(d, FORCED)
    L = list(base)
    for j, line in enumerate(L):
        if ev(line)["role"] == "client" and b'"trigger_class":"forced"' \
                in line:
            L[j] = sub(line, "trigger_class", '"discretionary"')
    i = find(L, role="client", event_type="TransportSwitch", nth=2)
    r = find(L, role="client", event_type="SessionStateChange",
             new_state="RECOVERING", nth=2)
    write(d, "bad-switch-rate", L,
          {"findings": [(i + 1, "INV-08"), (r + 1, "INV-12")], "only": []})

    # LIV-10, a forced switch too slow: the client's first binding death
    # said to be a silence of 4001 ms (TRANSPORT_DEAD_MS exceeded) instead
    # of a hard failure: the binding was lost 4001 ms before VOLATILE, so
    # the switch that the episode's first attempt commits 40 ms later is
    # past HEARTBEAT_VOLATILE_MS + SWITCH_COOLDOWN_MS + its round trip
    L = list(base)
    v = find(L, role="client", event_type="SessionStateChange",
             previous_state="ATTACHED", new_state="VOLATILE")
    t = find(L, role="client", event_type="TransportDead")
    assert t == v + 1
    L[v] = sub(L[v], "heartbeat_age_ms", "4001")
    L[t] = L[t].replace(b'"detection":"hard_failure"', b'"detection":"silence"',
                        1)
    i = find(L, role="client", event_type="TransportSwitch")
    assert ev(L[i])["trigger_class"] == "forced"
    write(d, "bad-liv10-slow-switch", L,
          {"findings": [(i + 1, "LIV-10")], "only": []})

    # --- transportless TTL ---------------------------------------------
    base = load(d, TTL)

    # termination with transport_ttl_exceeded 1 ms too early (INV-14):
    # transportless for exactly TRANSPORT_LOST_TTL_MS, not more
    L = list(base)
    dead = ev(L[find(L, role="client", event_type="TransportDead")])
    born = ev(L[find(L, role="client", event_type="SessionCreated")])
    s = find(L, role="client", event_type="SessionStateChange",
             new_state="TERMINATED")
    t = find(L, role="client", event_type="SessionTerminated")
    at = dead["ts_ms"] + 15000
    assert ev(L[s - 1])["ts_ms"] <= at
    L[s] = sub(L[s], "ts_ms", str(at))
    L[t] = sub(sub(sub(L[t], "ts_ms", str(at)), "session_age_ms",
                   str(at - born["ts_ms"])), "transportless_age_ms", "15000")
    write(d, "bad-ttl-too-early", L,
          {"findings": [(t + 1, "INV-14")], "only": []})

    # an event after TERMINATED: the client comes back to ATTACHED
    L = list(base)
    t = find(L, role="client", event_type="SessionTerminated")
    e = ev(L[t])
    late = sub(sub(sub(sub(sub(L[t - 1], "ts_ms", str(e["ts_ms"] + 1000)),
                           "state_version", str(e["state_version"] + 1)),
                       "previous_state", '"TERMINATED"'),
                   "new_state", '"ATTACHED"'), "reason_code",
               '"reattach_success"')
    L.insert(t + 1, late)
    write(d, "bad-event-after-terminated", L,
          {"findings": [(t + 2, "INV-04")], "only": []})
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
