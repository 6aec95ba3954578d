#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Helpers of the namespace lab (lablib.sh): a paced TCP stream with a
receiver that records when data arrived, and the analyses the lab, the
integration tests and bench/failover.sh print: loss runs of a `ping -D`
stream, TCP resume times, a timeline of the two event logs, JSON fields;
and a flood of spoofed handshake initiations (bench/handshake_flood.sh).

Every time here is wall-clock milliseconds (time.time()), the clock the
daemons stamp events with, so the three sources line up.
"""

import json
import socket
import sys
import time

BUCKET_MS = 50          # TCP receiver resolution
RESUME_RUN_MS = 500     # "first 0.5 s of uninterrupted data"


def now_ms():
    return int(time.time() * 1000)


# ---- TCP stream -------------------------------------------------------------

def tcp_sink(port, out):
    """Accept one connection, read until EOF or error, write the arrival
    record as JSON: start_ms, bucket_ms, bytes per bucket, result."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", int(port)))
    ls.listen(1)
    ls.settimeout(30)
    conn, _ = ls.accept()
    start = now_ms()
    buckets = []
    total = 0
    result = "eof"
    conn.settimeout(120)
    while True:
        try:
            data = conn.recv(65536)
        except ConnectionResetError:
            result = "reset"
            break
        except OSError as e:
            result = "error: %s" % e
            break
        if not data:
            break
        i = (now_ms() - start) // BUCKET_MS
        while len(buckets) <= i:
            buckets.append(0)
        buckets[i] += len(data)
        total += len(data)
    conn.close()
    with open(out, "w") as f:
        json.dump({"start_ms": start, "bucket_ms": BUCKET_MS,
                   "bytes": total, "result": result, "buckets": buckets}, f)


def tcp_source(host, port, seconds, rate):
    """Send `rate` bytes/s for `seconds` on one connection; exit 1 if the
    connection is reset or stalls for good (the survival test)."""
    s = socket.create_connection((host, int(port)), timeout=10)
    s.settimeout(60)
    chunk = b"j" * 8192
    rate = int(rate)
    t0 = time.time()
    sent = 0
    try:
        while time.time() - t0 < float(seconds):
            due = (time.time() - t0) * rate
            while sent < due:
                s.sendall(chunk)
                sent += len(chunk)
            time.sleep(0.005)
        s.shutdown(socket.SHUT_WR)
        while s.recv(4096):
            pass
    except OSError as e:
        print("tcp-source: %s after %d bytes" % (e, sent), file=sys.stderr)
        sys.exit(1)
    s.close()


def resume(sink_json, cuts):
    """Per cut time (ms), the time to the start of the first run of
    RESUME_RUN_MS with data in every bucket, on the same connection."""
    r = json.load(open(sink_json))
    b, start, bm = r["buckets"], r["start_ms"], r["bucket_ms"]
    need = RESUME_RUN_MS // bm
    out = []
    for cut in cuts:
        cut = int(cut)
        i = max(0, (cut - start) // bm)
        found = None
        while i + need <= len(b):
            if all(b[i:i + need]):
                found = i
                break
            i += 1
        out.append(None if found is None else max(0, start + found * bm - cut))
    return out


# ---- ping -------------------------------------------------------------------

def ping_replies(path):
    """(seq, t_ms) of every reply in `ping -D` output."""
    rep = []
    for line in open(path):
        if "bytes from" not in line or not line.startswith("["):
            continue
        t = float(line[1:line.index("]")]) * 1000.0
        seq = None
        for w in line.split():
            if w.startswith("icmp_seq="):
                seq = int(w.split("=")[1])
        if seq is not None:
            rep.append((seq, t))
    return rep


def gaps(path, interval_ms, after_ms=0):
    """Runs of lost pings after `after_ms`: (first_lost_seq, n_lost,
    first_lost_ms, gap_ms) with gap = first delivered after the run minus
    the send time of the first lost one (last delivered before + one
    interval)."""
    rep = sorted(ping_replies(path))
    runs = []
    for (s0, t0), (s1, t1) in zip(rep, rep[1:]):
        if s1 != s0 + 1 and t1 >= after_ms:
            first = t0 + interval_ms
            runs.append((s0 + 1, s1 - s0 - 1, int(first), int(t1 - first)))
    return runs


def rtt(path):
    """Average RTT (ms) from a ping summary line."""
    for line in open(path):
        if line.startswith("rtt ") or line.startswith("round-trip"):
            return float(line.split("=")[1].split("/")[1])
    return None


# ---- event logs -------------------------------------------------------------

SHOWN = {"SessionCreated", "SessionStateChange", "TransportSwitch",
         "TransportDead", "ReattachResult", "SessionTerminated",
         "TransportSwitchDenied", "TransportSwitchFailed"}


def events(path):
    out = []
    for line in open(path):
        line = line.strip()
        if line:
            out.append(json.loads(line))
    return out


def describe(e):
    t = e["event_type"]
    if t == "SessionStateChange":
        s = "%s -> %s (%s)" % (e["previous_state"], e["new_state"],
                               e.get("reason_code", "-"))
        if "candidate_transport" in e:
            s += " candidate %s" % e["candidate_transport"]
        return s
    if t == "TransportSwitch":
        return "switch %s -> %s (%s ms)" % (e.get("previous_transport"),
                                           e.get("new_transport"),
                                           e.get("switch_latency_ms"))
    if t == "TransportDead":
        return "transport %s dead" % e.get("transport_id")
    if t == "ReattachResult":
        return "reattach %s %s" % (e.get("status"), e.get("reason_code", ""))
    if t == "SessionTerminated":
        return "terminated (%s)" % e.get("reason_code")
    if t == "SessionCreated":
        return "session created"
    return "%s %s" % (t, e.get("reason_code", ""))


def timeline(files, since_ms, marks):
    """Both logs merged by time, relative to since_ms; marks are
    'T:label' lab actions (cut, restore) shown in place."""
    rows = []
    for name, path in files:
        for e in events(path):
            if e["event_type"] in SHOWN and e["ts_ms"] >= since_ms:
                rows.append((e["ts_ms"], name, "%s v%d  %s" % (
                    e["session_id"][:8], e["state_version"], describe(e))))
    for m in marks:
        t, label = m.split(":", 1)
        rows.append((int(t), "lab", "*** " + label))
    rows.sort(key=lambda r: (r[0], r[1] != "lab"))
    for t, who, text in rows:
        print("  %+8.3f s  %-8s %s" % ((t - since_ms) / 1000.0, who, text))


def get(obj, path):
    for k in path.split("."):
        if isinstance(obj, list):
            obj = obj[int(k)]
        else:
            obj = obj.get(k) if obj is not None else None
    return obj


def pcap_udp(path):
    """(t_ms, src_ip, src_port, dst_ip, dst_port, payload) of every IPv4
    UDP datagram in a pcap file (Ethernet, Linux cooked v1 or v2)."""
    import struct
    data = open(path, "rb").read()
    if len(data) < 24:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        e = "<"
    else:
        e = ">"
    nano = magic in (0xa1b23c4d, 0x4d3cb2a1)
    linktype = struct.unpack(e + "I", data[20:24])[0]
    skip = {1: 14, 113: 16, 276: 20}.get(linktype)
    if skip is None:
        raise SystemExit("pcap: link type %d not handled" % linktype)
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ip = frame[skip:]
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        udp = ip[ihl:]
        sport, dport = struct.unpack(">HH", udp[:4])
        t = sec * 1000.0 + (frac / 1e6 if nano else frac / 1e3)
        out.append((t, ".".join(map(str, ip[12:16])), sport,
                    ".".join(map(str, ip[16:20])), dport, bytes(udp[8:])))
    return out


def pcap_pairs(path):
    """jvpn DATA/CONTROL datagrams: (total, duplicates) of (receiver index,
    key epoch byte, counter): a duplicate would be a nonce used twice."""
    import struct
    seen, dups, total = set(), 0, 0
    for _, _, _, _, _, p in pcap_udp(path):
        if len(p) < 16 or p[0] not in (4, 5):
            continue
        key = (struct.unpack("<I", p[4:8])[0], p[1],
               struct.unpack("<Q", p[8:16])[0])
        total += 1
        if key in seen:
            dups += 1
        seen.add(key)
    return total, dups


REPLAY_PORT = 40999     # the replayer's source port (captures leave it out)


def pcap_replay(path, before_ms, host, port):
    """Send again, to host:port, every jvpn datagram captured on its way to
    that port before before_ms, from a fresh socket (an attacker's copy)."""
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", REPLAY_PORT))
    n = 0
    for t, _, _, dst, dport, p in pcap_udp(path):
        if t < before_ms and dport == int(port) and p and p[0] in (4, 5):
            s.sendto(p, (host, int(port)))
            n += 1
    return n


def select(path, conds, after=None, before=None, field="ts_ms"):
    """`field` (or fields, f1,f2: space-separated, "-" where absent) of
    every event of the log matching each KEY=VALUE of conds (VALUE may
    list alternatives, A|B; compared as text, so numbers match their JSON
    spelling), with after <= ts_ms < before."""
    out = []
    for e in events(path):
        t = e.get("ts_ms", 0)
        if after is not None and t < after:
            continue
        if before is not None and t >= before:
            continue
        ok = True
        for k, alts in conds:
            v = get(e, k)
            if v is None or str(v) not in alts:
                ok = False
                break
        if ok:
            vs = [get(e, f) for f in field.split(",")]
            out.append(" ".join("-" if v is None else str(v) for v in vs))
    return out


def ping_loss(path):
    """(transmitted, received, loss %) from a ping summary line."""
    for line in open(path):
        if "packets transmitted" in line:
            w = line.replace(",", " ").split()
            tx = int(w[0])
            rx = int(w[w.index("received") - 1])
            return tx, rx, (100.0 * (tx - rx) / tx) if tx else 100.0
    return None


def tcp_bytes(sink_json, from_ms, to_ms):
    """Bytes the TCP sink received from from_ms to to_ms (wall clock),
    at its bucket resolution."""
    r = json.load(open(sink_json))
    b, start, bm = r["buckets"], r["start_ms"], r["bucket_ms"]
    i0 = max(0, int((from_ms - start) // bm))
    i1 = max(0, int((to_ms - start) // bm))
    return sum(b[i0:i1])


# ---- handshake flood (bench/handshake_flood.sh) ------------------------------

INIT_SIZE = 148         # docs/protocol.md 2.1
INIT_MAC1_AT = 116


def mac1_key(gw_pub):
    """BLAKE2b-256("mac1----" || gateway public key) (protocol.md 2.3)."""
    import hashlib
    return hashlib.blake2b(b"mac1----" + gw_pub, digest_size=32).digest()


def junk_initiation(key, rnd):
    """An INITIATION of random bytes with a valid mac1 and a zero mac2:
    it passes the gateway's parse and mac1 checks (one hash, no DH) and
    fails the Noise message, like one from anyone who read a client
    config."""
    import hashlib
    body = bytes([1, 0, 0, 0]) + rnd(INIT_MAC1_AT - 4)
    mac1 = hashlib.blake2b(body, digest_size=16, key=key).digest()
    return body + mac1 + bytes(16)


def flood(dst, port, gw_pub_b64, rate, seconds, src_net):
    """Send `rate` INITIATIONs/s with a valid mac1 for `seconds` to
    dst:port, each from a random address and port of src_net (a.b.c.d/n)
    through a raw socket (IP_HDRINCL).  Paced by the clock: after a stall
    it catches up, so the mean is the rate asked when the CPU allows.
    Prints "sent=N seconds=S rate=R" (what was really sent)."""
    import base64
    import ipaddress
    import os
    import random
    import struct
    pub = base64.b64decode(gw_pub_b64)
    if len(pub) != 32:
        raise SystemExit("flood: the gateway key is not 32 bytes")
    key = mac1_key(pub)
    pool = [junk_initiation(key, os.urandom) for _ in range(4096)]
    net = ipaddress.ip_network(src_net)
    base, span = int(net.network_address), net.num_addresses
    rate, seconds, port = float(rate), float(seconds), int(port)
    dst_b = ipaddress.ip_address(dst).packed
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    ulen = 8 + INIT_SIZE
    rb = random.getrandbits
    pack_ip = struct.Struct("!BBHHHBBH4s4s").pack
    pack_udp = struct.Struct("!HHHH").pack
    sent = errors = 0
    t0 = time.time()
    end = t0 + seconds
    while True:
        now = time.time()
        if now >= end:
            break
        due = min(int((now - t0) * rate), int(seconds * rate))
        while sent < due:
            src = struct.pack("!I", base + rb(32) % span)
            # the kernel fills in the id and the checksum of a raw
            # IP_HDRINCL packet when they are 0 (raw(7))
            pkt = (pack_ip(0x45, 0, 20 + ulen, 0, 0, 64, 17, 0, src, dst_b) +
                   pack_udp(1024 + rb(16) % 64000, port, ulen, 0) +
                   pool[sent & 4095])
            try:
                s.sendto(pkt, (dst, 0))
            except OSError:
                errors += 1     # a full queue: counted, not sent
            sent += 1
        time.sleep(0.001)
    took = time.time() - t0
    ok = sent - errors
    print("sent=%d seconds=%.3f rate=%.0f errors=%d" %
          (ok, took, ok / took if took > 0 else 0, errors))


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "tcp-sink":
        tcp_sink(argv[2], argv[3])
    elif cmd == "tcp-source":
        tcp_source(argv[2], argv[3], argv[4], argv[5])
    elif cmd == "resume":
        for v in resume(argv[2], argv[3:]):
            print("-" if v is None else v)
    elif cmd == "tcp-result":
        print(json.load(open(argv[2]))["result"])
    elif cmd == "gaps":
        after = int(argv[4]) if len(argv) > 4 else 0
        for run in gaps(argv[2], float(argv[3]), after):
            print("%d %d %d %d" % run)
    elif cmd == "rtt":
        v = rtt(argv[2])
        print("-" if v is None else "%.3f" % v)
    elif cmd == "timeline":
        # timeline SINCE_MS NAME=FILE... [--mark T:label...]
        since = int(argv[2])
        files, marks = [], []
        for a in argv[3:]:
            if a.startswith("--mark="):
                marks.append(a[7:])
            else:
                n, p = a.split("=", 1)
                files.append((n, p))
        timeline(files, since, marks)
    elif cmd == "count":
        # count FILE EVENT_TYPE
        print(sum(1 for e in events(argv[2]) if e["event_type"] == argv[3]))
    elif cmd == "last-reason":
        # last-reason FILE EVENT_TYPE: reason_code of the last one
        r = [e.get("reason_code", "-") for e in events(argv[2])
             if e["event_type"] == argv[3]]
        print(r[-1] if r else "-")
    elif cmd == "get":
        # get PATH < json
        v = get(json.load(sys.stdin), argv[2])
        print("" if v is None else v)
    elif cmd == "now":
        print(now_ms())
    elif cmd == "pcap-pairs":
        print("%d %d" % pcap_pairs(argv[2]))
    elif cmd == "pcap-replay":
        print(pcap_replay(argv[2], float(argv[3]), argv[4], argv[5]))
    elif cmd == "first-reply-after":
        # first-reply-after PINGFILE T_MS: ms from T to the first reply
        r = sorted(t for _, t in ping_replies(argv[2]) if t >= float(argv[3]))
        print("-" if not r else "%.0f" % (r[0] - float(argv[3])))
    elif cmd == "median":
        v = sorted(float(x) for x in argv[2:] if x != "-")
        if not v:
            print("-")
        else:
            m = len(v) // 2
            print("%.0f" % (v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2))
    elif cmd == "select":
        # select FILE [--after=T_MS] [--before=T_MS] [--print=FIELD[,...]]
        #        [KEY=VALUE[|VALUE...]...]: FIELD (default ts_ms) of each
        # matching event, one a line
        after = before = None
        field, conds = "ts_ms", []
        for a in argv[3:]:
            if a.startswith("--after="):
                after = float(a[8:])
            elif a.startswith("--before="):
                before = float(a[9:])
            elif a.startswith("--print="):
                field = a[8:]
            else:
                k, v = a.split("=", 1)
                conds.append((k, v.split("|")))
        for v in select(argv[2], conds, after, before, field):
            print(v)
    elif cmd == "ping-loss":
        # ping-loss PINGFILE: "transmitted received loss_pct" or "-"
        r = ping_loss(argv[2])
        print("-" if r is None else "%d %d %.1f" % r)
    elif cmd == "tcp-bytes":
        # tcp-bytes SINK_JSON FROM_MS TO_MS
        print(tcp_bytes(argv[2], float(argv[3]), float(argv[4])))
    elif cmd == "flood":
        # flood DST PORT GW_PUB_B64 RATE SECONDS SRC_NET
        flood(*argv[2:8])
    else:
        print("usage: labtool.py tcp-sink|tcp-source|resume|tcp-result|gaps|"
              "rtt|timeline|count|last-reason|get|now|median|pcap-pairs|"
              "pcap-replay|first-reply-after|select|ping-loss|tcp-bytes|flood ...",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
