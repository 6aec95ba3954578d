#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A stand-in for systemd's notify socket (tests/lab/notify_test.sh).

  notify_listen.py SOCKET OUT [CONTROL_SOCKET]

Binds a unix datagram socket at SOCKET and appends every message it
receives to OUT, one line per assignment, as "MS KEY=VALUE" (wall-clock
ms).  When READY=1 arrives it tries to connect to CONTROL_SOCKET at once
and writes "MS ctl=ok" or "MS ctl=ERROR", so the test can tell that the
daemon said READY only once its control socket answered.  Runs until
killed; touches OUT.ready once it is listening.
"""

import socket
import sys
import time


def main():
    path, out = sys.argv[1], sys.argv[2]
    ctl = sys.argv[3] if len(sys.argv) > 3 else None
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    open(out + ".ready", "w").close()
    with open(out, "a", buffering=1) as f:
        while True:
            msg = s.recv(4096).decode("utf-8", "replace")
            now = int(time.time() * 1000)
            for line in msg.split("\n"):
                if line:
                    f.write("%d %s\n" % (now, line))
            if ctl and "READY=1" in msg.split("\n"):
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    c.connect(ctl)
                    f.write("%d ctl=ok\n" % now)
                except OSError as e:
                    f.write("%d ctl=%s\n" % (now, e.strerror))
                finally:
                    c.close()


if __name__ == "__main__":
    main()
