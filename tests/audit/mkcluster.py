#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the log sets of tests/audit/logs/cluster: the event logs of the
gateway nodes of one session and of its client, audited together
(`jvpn audit DIR/*.jsonl`; spec §3 streams, §9, PD-9, scenarios CL-3,
CL-5, CL-6).  Each set is a directory; a set that must fail has an
`expect` file for check_set.sh:

    exit 1
    finding FILE:LINE ID [TEXT]   (reported there; its line holds TEXT)
    only ID...                    (no finding of any other ID)

The events are written by hand, in the writer's canonical form (base
fields, then the optional fields in the order of JV_EVENT_FIELDS in
include/jvpn/event.h, then details, seq and prev_hash) and chained per
file (rechain.py), in the shape the engine emits around an ownership
change:

  - creation: SessionCreated (BIRTH, version 0), then in the same ms
    SessionOwnerAcquired {owner_node_id: this node, owner_epoch: 1};
  - restart of the same node (CL-5): the same file goes on with
    SessionOwnerAcquired {same node, owner_epoch + 1, previous owner:
    itself} at the restored version; the versions go on;
  - takeover (CL-3, CL-6): in the new node's file
    SessionOwnerTransferred {new node, owner_epoch + 1, previous owner}
    at the current version, then that node continues the versions;
  - a node that lost its lease: SessionOwnerRejected
    (not_authoritative_owner), then no SessionStateChange from it.

    tests/audit/mkcluster.py tests/audit/logs/cluster
"""

import json
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from rechain import rechain_lines  # noqa: E402

SID = "7c3e9d2a4b5f60718293a4b5c6d7e8f9"
BASE = ["ts_ms", "event_type", "session_id", "node_id", "role",
        "policy_version", "state_version"]
GW1_TUPLE = "udp:10.1.0.2:50000"     # the client as gw-1 sees it (path p1)
GW2_TUPLE = "udp:10.2.0.2:50000"     # the client as gw-2 sees it (path p2)


def field_order():
    """The optional fields in JV_EVENT_FIELDS order (details.x included)."""
    with open(os.path.join(HERE, "..", "..", "include", "jvpn",
                           "event.h")) as f:
        text = f.read()
    block = text[text.index("#define JV_EVENT_FIELDS(X)"):]
    block = block[:block.index("enum jv_event_field")]
    return re.findall(r'X\(\w+, "([\w.]+)", \w+\)', block)


ORDER = field_order()


def policy():
    """The default policy as the writer puts it in SessionCreated, with an
    ownership lease (a cluster): taken from a log of the simulator."""
    with open(os.path.join(HERE, "logs", "good-s6-replay.jsonl")) as f:
        first = json.loads(f.readline())
    pol = first["details"]["policy"]
    pol["cluster.owner_lease_ms"] = 4000
    return pol


POLICY = policy()


def line(ts, etype, node, role, v, **fields):
    """One event in canonical form, seq and prev_hash left to rechain."""
    out = ["%s:%s" % (json.dumps(k), json.dumps(x, separators=(",", ":")))
           for k, x in zip(BASE, [ts, etype, SID, node, role, "1.0", v])]
    details = {}
    for name in ORDER:
        key = name.replace("details.", "")
        if key not in fields:
            continue
        if name.startswith("details."):
            details[key] = fields.pop(key)
        else:
            out.append("%s:%s" % (json.dumps(name), json.dumps(
                fields.pop(key), separators=(",", ":"))))
    assert not fields, fields
    if details:
        out.append('"details":' + json.dumps(details, separators=(",", ":")))
    out.append('"seq":0,"prev_hash":"%s"' % ("0" * 64))
    return ("{" + ",".join(out) + "}").encode()


class Node:
    """The events one node writes to its file."""

    def __init__(self, node, role):
        self.node, self.role, self.lines = node, role, []

    def ev(self, ts, etype, v, **fields):
        self.lines.append(line(ts, etype, self.node, self.role, v, **fields))
        return len(self.lines)          # its line number

    def created(self, ts):
        return self.ev(ts, "SessionCreated", 0, state="BIRTH", policy=POLICY)

    def acquired(self, ts, v, epoch, previous=None, etype=None):
        f = {"owner_node_id": self.node, "owner_epoch": epoch}
        if previous:
            f["previous_owner_node_id"] = previous
        return self.ev(ts, etype or "SessionOwnerAcquired", v, **f)

    def transferred(self, ts, v, epoch, previous):
        return self.acquired(ts, v, epoch, previous,
                             "SessionOwnerTransferred")

    def ssc(self, ts, v, prev, new, reason, **f):
        return self.ev(ts, "SessionStateChange", v, reason_code=reason,
                       previous_state=prev, new_state=new, **f)

    def attach(self, ts, tid):
        self.ssc(ts, 1, "BIRTH", "ATTACHED", "attached_to_transport")
        return self.ev(ts, "TransportAttached", 1,
                       reason_code="attached_to_transport", transport_id=tid)

    def attempt(self, ts, v, cand, nonce, n=1, deadline=None):
        f = {"candidate_transport": cand, "nonce": nonce, "attempt": n}
        if deadline is not None:
            f["recovery_deadline_ms"] = deadline
        return self.ev(ts, "ReattachAttempt", v, **f)

    def result(self, ts, v, ok, reason, cand, nonce, retryable=False):
        return self.ev(ts, "ReattachResult", v, reason_code=reason,
                       candidate_transport=cand, nonce=nonce,
                       status="SUCCESS" if ok else "DENIED",
                       retryable=retryable)

    def switch(self, ts, v, prev, new):
        return self.ev(ts, "TransportSwitch", v, reason_code="reattach_success",
                       previous_transport=prev, new_transport=new,
                       candidate_count=1, explicit=True, auditable=True)

    def rejected(self, ts, v, released=True):
        """released: the node's lease ended (the end of its ownership);
        otherwise a V2 denial, which ends nothing."""
        f = {"released": True} if released else {}
        return self.ev(ts, "SessionOwnerRejected", v,
                       reason_code="not_authoritative_owner",
                       expected_state_version=v, actual_state_version=v, **f)


def write_set(root, name, nodes, expect=None):
    d = os.path.join(root, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    for fname, n in nodes.items():
        with open(os.path.join(d, fname), "wb") as f:
            f.write(b"\n".join(rechain_lines(n.lines)) + b"\n")
    if expect:
        with open(os.path.join(d, "expect"), "w") as f:
            f.write("exit 1\n")
            ids = set()
            for where, cid, text in expect["findings"]:
                f.write("finding %s %s%s\n" % (where, cid,
                                               " " + text if text else ""))
                ids.add(cid)
            f.write("only %s\n" % " ".join(sorted(set(expect.get("only", []))
                                                  | ids)))


# ---- the stories ---------------------------------------------------------

def gw1_until_fenced():
    """gw-1 creates and owns the session, is VOLATILE from 5000 (it hears
    the client badly on p1) and is fenced off the store at 8000."""
    n1 = Node("gw-1", "gateway")
    n1.created(1000)
    n1.acquired(1000, 0, 1)
    n1.attach(1010, GW1_TUPLE)
    n1.ssc(5000, 2, "ATTACHED", "VOLATILE", "heartbeat_timeout")
    return n1


def client_takeover():
    """The client: p1 (to gw-1) goes silent at 5000; it asks gw-2 over p2,
    which is not the owner yet (denied, retryable), and succeeds there
    after the takeover."""
    c = Node("client-1", "client")
    c.created(990)
    c.attach(1010, "p1")
    c.ssc(5000, 2, "ATTACHED", "VOLATILE", "heartbeat_timeout")
    c.ssc(5000, 3, "VOLATILE", "RECOVERING", "loss_recovery",
          from_transport="p1", candidate_set_size=1, candidate_transport="p2")
    c.attempt(5000, 3, "p2", 3, 1, 13000)
    c.result(5040, 3, False, "not_authoritative_owner", "p2", 3, True)
    c.attempt(6500, 3, "p2", 4, 2, 13000)
    c.result(6540, 3, False, "not_authoritative_owner", "p2", 4, True)
    c.attempt(11000, 3, "p2", 5, 3, 13000)
    c.ssc(11040, 4, "RECOVERING", "ATTACHED", "reattach_success")
    c.switch(11040, 4, "p1", "p2")
    c.result(11040, 4, True, "reattach_success", "p2", 5)
    return c


def good_takeover(root):
    """CL-3 / CL-6: gw-1 is fenced (its lease ends), gw-2 takes over at
    10000, fires the VOLATILE bound that fell due while nobody owned the
    session (9001) at once, and accepts the client's retried request.
    gw-2's denials before the takeover and gw-1's after it are not the
    owner's events and carry the versions those nodes knew."""
    n1 = gw1_until_fenced()
    n1.rejected(8000, 2)
    n1.attempt(10500, 2, GW1_TUPLE, 9)          # a late copy over p1
    n1.result(10500, 2, False, "not_authoritative_owner", GW1_TUPLE, 9, True)
    n2 = Node("gw-2", "gateway")
    n2.attempt(5020, 2, GW2_TUPLE, 3)
    n2.result(5020, 2, False, "not_authoritative_owner", GW2_TUPLE, 3, True)
    n2.rejected(5020, 2, released=False)        # a V2 denial: ends nothing
    n2.attempt(6520, 2, GW2_TUPLE, 4)
    n2.result(6520, 2, False, "not_authoritative_owner", GW2_TUPLE, 4, True)
    n2.transferred(10000, 2, 2, "gw-1")
    n2.ev(10000, "KeyRotated", 2, reason_code="owner_takeover", key_epoch=2)
    n2.ssc(10000, 3, "VOLATILE", "DEGRADED", "volatile_persisted")
    n2.attempt(11020, 3, GW2_TUPLE, 5)
    n2.ssc(11020, 4, "DEGRADED", "RECOVERING", "loss_recovery",
           from_transport=GW1_TUPLE, candidate_set_size=1,
           candidate_transport=GW2_TUPLE)
    n2.ssc(11020, 5, "RECOVERING", "ATTACHED", "reattach_success")
    n2.switch(11020, 5, GW1_TUPLE, GW2_TUPLE)
    n2.result(11020, 5, True, "reattach_success", GW2_TUPLE, 5)
    write_set(root, "good-cl3-takeover",
              {"n1.jsonl": n1, "n2.jsonl": n2, "client.jsonl":
               client_takeover()})


def good_restart(root):
    """CL-5: one gateway, killed at 6000 while VOLATILE, started again at
    10000 with the same node id; its file (and chain) goes on.  It acquires
    the restored session (epoch 2) at version 2 and fires the overdue
    VOLATILE bound (due 9001) at once; the client's revalidation then
    succeeds without a handshake."""
    g = Node("gw-1", "gateway")
    g.created(1000)
    g.acquired(1000, 0, 1)
    g.attach(1010, GW1_TUPLE)
    g.ssc(5000, 2, "ATTACHED", "VOLATILE", "loss_threshold_exceeded")
    g.acquired(10000, 2, 2, "gw-1")
    g.ev(10000, "KeyRotated", 2, reason_code="owner_takeover", key_epoch=2)
    g.ssc(10000, 3, "VOLATILE", "DEGRADED", "volatile_persisted")
    g.attempt(11020, 3, GW1_TUPLE, 5)
    g.ssc(11020, 4, "DEGRADED", "RECOVERING", "loss_recovery",
          from_transport=GW1_TUPLE, candidate_set_size=1,
          candidate_transport=GW1_TUPLE)
    g.ssc(11020, 5, "RECOVERING", "ATTACHED", "reattach_success")
    g.result(11020, 5, True, "reattach_success", GW1_TUPLE, 5)
    c = Node("client-1", "client")
    c.created(990)
    c.attach(1010, "p1")
    c.ssc(8000, 2, "ATTACHED", "VOLATILE", "heartbeat_timeout")
    c.ssc(8000, 3, "VOLATILE", "RECOVERING", "loss_recovery",
          from_transport="p1", candidate_set_size=1, candidate_transport="p1")
    c.attempt(8000, 3, "p1", 3, 1, 16000)
    c.attempt(9500, 3, "p1", 4, 2, 16000)
    c.attempt(11000, 3, "p1", 5, 3, 16000)
    c.ssc(11040, 4, "RECOVERING", "ATTACHED", "reattach_success")
    c.result(11040, 4, True, "reattach_success", "p1", 5)
    write_set(root, "good-cl5-restart", {"gw.jsonl": g, "client.jsonl": c})


def attached_gw1():
    n1 = Node("gw-1", "gateway")
    n1.created(1000)
    n1.acquired(1000, 0, 1)
    n1.attach(1010, GW1_TUPLE)
    return n1


def bad_overlap(root):
    """gw-2 takes the session over at 10000 (epoch 2) while gw-1, cut off
    the store but not told, still acts: its transition at 10500 is not
    the owner's (INV-15)."""
    n1 = attached_gw1()
    l1 = n1.ssc(10500, 2, "ATTACHED", "VOLATILE", "heartbeat_timeout")
    n2 = Node("gw-2", "gateway")
    l2 = n2.transferred(10000, 1, 2, "gw-1")
    write_set(root, "bad-overlap", {"n1.jsonl": n1, "n2.jsonl": n2},
              {"findings": [("n1.jsonl:%d" % l1, "INV-15",
                             "n2.jsonl:%d" % l2)]})


def bad_fork(root):
    """Both nodes commit version 2: gw-1 after it lost the session
    (10050, INV-15), gw-2, the owner, at 10100: two SessionStateChange of
    one version (INV-16), reported at the later with the earlier's place."""
    n1 = attached_gw1()
    l1 = n1.ssc(10050, 2, "ATTACHED", "VOLATILE", "heartbeat_timeout")
    n2 = Node("gw-2", "gateway")
    l2a = n2.transferred(10000, 1, 2, "gw-1")
    l2 = n2.ssc(10100, 2, "ATTACHED", "VOLATILE", "loss_threshold_exceeded")
    write_set(root, "bad-fork", {"n1.jsonl": n1, "n2.jsonl": n2},
              {"findings": [("n2.jsonl:%d" % l2, "INV-16",
                             "n1.jsonl:%d" % l1),
                            ("n1.jsonl:%d" % l1, "INV-15",
                             "n2.jsonl:%d" % l2a)]})


def bad_epoch_back(root):
    """gw-2 takes over with epoch 3; gw-1 then claims epoch 2: the epoch
    goes down (INV-15)."""
    n1 = attached_gw1()
    n2 = Node("gw-2", "gateway")
    l2 = n2.transferred(10000, 1, 3, "gw-1")
    l1 = n1.acquired(12000, 1, 2, "gw-1")
    write_set(root, "bad-epoch-backwards", {"n1.jsonl": n1, "n2.jsonl": n2},
              {"findings": [("n1.jsonl:%d" % l1, "INV-15",
                             "n2.jsonl:%d" % l2)]})


def bad_no_created(root):
    """The takeover node's log alone (gw-1's is missing): the gateway
    stream starts with SessionOwnerTransferred, and no file holds its
    SessionCreated (INV-01)."""
    n2 = Node("gw-2", "gateway")
    l2 = n2.transferred(10000, 1, 2, "gw-1")
    n2.ssc(10500, 2, "ATTACHED", "VOLATILE", "heartbeat_timeout")
    c = Node("client-1", "client")
    c.created(990)
    c.attach(1010, "p1")
    write_set(root, "bad-takeover-without-created",
              {"n2.jsonl": n2, "client.jsonl": c},
              {"findings": [("n2.jsonl:%d" % l2, "INV-01", "")]})


def main(root):
    os.makedirs(root, exist_ok=True)
    good_takeover(root)
    good_restart(root)
    bad_overlap(root)
    bad_fork(root)
    bad_epoch_back(root)
    bad_no_created(root)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
