#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Seeds of the gro and tso fuzz targets (tests/fuzz/gro.c, tso.c): valid
# TCP segments (IPv4, IPv6) in batches that merge, with a corrupted one,
# with a non-candidate; TSO super-packets and plain reads as the kernel
# hands them over.  Run from the repository root; writes
# tests/fuzz/corpus/{gro,tso}/.
import os
import struct

ACK, PSH, SYN = 0x10, 0x08, 0x02


def csum(b, s=0):
    if len(b) % 2:
        b += b"\0"
    for i in range(0, len(b), 2):
        s += b[i] << 8 | b[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def pseudo(ip, v6, tcp_len):
    a = ip[8:40] if v6 else ip[12:20]
    return sum(a[i] << 8 | a[i + 1] for i in range(0, len(a), 2)) + 6 + tcp_len


def seg(v6, seq, flags, plen, ts=False, ident=1, partial=False):
    opts = b"\x01\x01\x08\x0a\x00\x00\x00\x10\x00\x00\x00\x20" if ts else b""
    tcp = bytearray(struct.pack(">HHIIBBHHH", 40000, 5201, seq, 777,
                                (20 + len(opts)) // 4 << 4, flags, 65535, 0, 0))
    tcp += opts + bytes((seq + i) & 0xFF for i in range(plen))
    if v6:
        ip = bytearray(struct.pack(">IHBB", 6 << 28, len(tcp), 6, 64))
        ip += b"\xfd" + b"\0" * 14 + b"\x02" + b"\xfd" + b"\0" * 14 + b"\x01"
    else:
        ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp),
                                   ident, 0x4000, 64, 6, 0,
                                   bytes([10, 78, 0, 2]), bytes([10, 78, 0, 1])))
        ip[10:12] = struct.pack(">H", csum(bytes(ip)))
    if partial:     # the kernel's TSO read: the pseudo-header sum only
        c = ~csum(b"", pseudo(ip, v6, len(tcp))) & 0xFFFF
    else:
        c = csum(bytes(tcp), pseudo(ip, v6, len(tcp)))
    tcp[16:18] = struct.pack(">H", c)
    return bytes(ip + tcp)


def rec(pkt, ctl=0):
    return bytes([ctl]) + struct.pack(">H", len(pkt)) + pkt


def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


G = "tests/fuzz/corpus/gro"
for v6 in (False, True):
    t = "v6" if v6 else "v4"
    run = [seg(v6, 1000 * i, ACK, 1000, True, i) for i in range(3)]
    run.append(seg(v6, 3000, ACK | PSH, 400, True, 3))
    write(G, t + "-run", b"".join(rec(p) for p in run))
    bad = bytearray(run[2])
    bad[-5] ^= 0x5A
    write(G, t + "-corrupted-copy",
          b"".join(rec(p) for p in (run[0], run[1], bytes(bad), run[2])))
    write(G, t + "-good-bad-good",
          b"".join(rec(p) for p in (run[0], bytes(bad), run[3])))
    write(G, t + "-syn-and-flush",
          rec(seg(v6, 0, SYN, 0)) + rec(run[0], 8) + rec(run[1])
          + rec(seg(v6, 2000, ACK, 0)))
    # ask the harness to fix the fields: the fuzzer mutates from here
    write(G, t + "-fixed", b"".join(rec(p, 7) for p in run))
bad = bytearray(seg(False, 1000, ACK, 1000))
bad[10] ^= 1            # the IPv4 header checksum
write(G, "v4-bad-ip-checksum", rec(seg(False, 0, ACK, 1000)) + rec(bytes(bad))
      + rec(seg(False, 1000, ACK, 1000)))

T = "tests/fuzz/corpus/tso"
NEEDS_CSUM, TCPV4, TCPV6 = 1, 1, 4
for v6, ts in ((False, True), (True, True), (False, False)):
    ip = 40 if v6 else 20
    hl = ip + (32 if ts else 20)
    p = seg(v6, 5000, ACK | PSH, 2500, ts, 0x1234, partial=True)
    h = struct.pack("<BBHHHH", NEEDS_CSUM, TCPV6 if v6 else TCPV4, hl, 1000,
                    ip, 16)
    write(T, ("v6" if v6 else "v4") + ("-ts" if ts else "") + "-super", h + p)
p = seg(False, 1, ACK, 300)
write(T, "plain", b"\0" * 10 + p)
write(T, "plain-partial",
      struct.pack("<BBHHHH", NEEDS_CSUM, 0, 0, 0, 20, 16)
      + seg(False, 1, ACK, 300, partial=True))
