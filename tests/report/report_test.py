#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`jvpn report` end to end: runs it on logs and checks the page.

    report_test.py MODE JVPN SRCROOT [--sanitized]

MODE:
  demo     the log `jvpn demo` writes: PASS, exit 0
  logs     every log of tests/audit/logs: good ones exit 0, broken ones
           exit 1 with their findings listed
  sim      a simulator log with RTT/loss figures: one point per figure
  escape   a log whose node and transport ids hold markup, quotes and
           ampersands: all of it escaped, none of it live
  errors   usage and I/O errors: one line on stderr, exit 2, no page
  big      100k-line logs (many streams; one long stream): fast, bounded,
           and the page says what it left out

Every page is checked against `jvpn audit --json` of the same log: it
parses (html.parser), the tags it opens are closed in order, nothing is
fetched, each stream has its row and its section, a section has one state
band per transition + 1, one switch marker per switch (as many marked
forced as the audit reads trigger_class forced, PD-7) and one damped bar
per damped interval (TransportDamped to TransportReused or the end).
"""

import glob
import html.parser
import json
import os
import re
import resource
import subprocess
import sys
import tempfile

BAND_CAP = 256
MARK_CAP = 256
DAMP_CAP = 128
POINT_CAP = 512
VIOL_SHOWN = 500
DETAIL_STREAMS = 200
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "area",
        "base", "source", "track", "param", "embed"}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


class Page(html.parser.HTMLParser):
    """The page's structure: tag balance, sections, bands, markers."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.errors = []
        self.sections = {}     # id -> dict
        self.rows = set()      # stream ids with an overview row
        self.cur = None        # section being read
        self.viol_items = 0
        self.in_viol = False
        self.text = []
        self.tags = []         # every start tag name
        self.attrs_seen = []   # (tag, name, value)
        self.in_tbody_ov = False

    def handle_starttag(self, tag, attrs):
        self._tag(tag, attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self._tag(tag, attrs)

    def _tag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        for k, v in attrs:
            self.attrs_seen.append((tag, k, v))
        cls = (a.get("class") or "").split()
        if tag == "section" and "stream" in cls:
            self.cur = {"id": a.get("id"), "role": a.get("data-role"),
                        "session": a.get("data-session"), "bands": 0,
                        "merged": 0, "switch": 0, "forced": 0, "damp": 0,
                        "lat": 0, "loss": 0,
                        "depth": len(self.stack), "text": []}
            self.sections[a.get("id")] = self.cur
        if self.cur is not None:
            if tag == "rect" and "band" in cls:
                self.cur["bands"] += 1
                self.cur["merged"] += "merged" in cls
            if tag == "polygon" and "m-switch" in cls:
                self.cur["switch"] += 1
                self.cur["forced"] += "forced" in cls
            if tag == "rect" and "damp" in cls:
                self.cur["damp"] += 1
            if tag == "circle" and "pt-lat" in cls:
                self.cur["lat"] += 1
            if tag == "circle" and "pt-loss" in cls:
                self.cur["loss"] += 1
        if tag == "ol" and "viol" in cls:
            self.in_viol = True
        if tag == "li" and self.in_viol:
            self.viol_items += 1
        if tag == "table" and "ov" in cls:
            self.in_tbody_ov = True
        if tag == "a" and self.in_tbody_ov and "href" in a:
            self.rows.add(a["href"].lstrip("#"))
        if tag == "tr" and self.in_tbody_ov and "id" in a:
            self.rows.add(a["id"])

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes <%s> at %s" % (
                tag, self.stack[-1] if self.stack else "nothing",
                self.getpos()))
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()
        if tag == "section" and self.cur is not None and \
                len(self.stack) == self.cur["depth"]:
            self.cur = None
        if tag == "ol":
            self.in_viol = False
        if tag == "table":
            self.in_tbody_ov = False

    def handle_data(self, data):
        self.text.append(data)
        if self.cur is not None:
            self.cur["text"].append(data)


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          **kw)


def audit_json(jvpn, log):
    p = run([jvpn, "audit", "--json", log])
    if p.returncode not in (0, 1):
        fail("%s: audit --json exit %d: %s" % (log, p.returncode,
                                               p.stderr.decode()))
        return None
    return json.loads(p.stdout)["files"][0]


def report(jvpn, logs, out, want_rc, name):
    """Run the report; returns the page text or None."""
    # CPU time of the child, not wall time: steady on a loaded machine
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = run([jvpn, "report"] + logs + ["-o", out])
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    dt = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    if p.returncode != want_rc:
        fail("%s: exit %d, expected %d: %s" % (name, p.returncode, want_rc,
                                               p.stderr.decode()))
        return None, dt
    if p.stderr:
        fail("%s: unexpected stderr: %s" % (name, p.stderr.decode()))
    with open(out, encoding="utf-8") as f:
        return f.read(), dt


def self_contained(page, name, parsed):
    if "script" in parsed.tags:
        fail("%s: a <script> element" % name)
    for tag in ("link", "img", "iframe", "object", "embed"):
        if tag in parsed.tags:
            fail("%s: a <%s> element" % (name, tag))
    for tag, k, v in parsed.attrs_seen:
        if k in ("src", "srcset", "action", "background"):
            fail("%s: <%s %s=...> fetches" % (name, tag, k))
        if k == "href" and v and not v.startswith("#"):
            fail("%s: <%s href=%r> leaves the page" % (name, tag, v))
        if k.startswith("on"):
            fail("%s: event handler attribute %s" % (name, k))
    if re.search(r"url\(|@import", page):
        fail("%s: the style sheet fetches" % name)


def check_page(page, aj, name, want_rc):
    """page against the audit's own reading of the log (aj)."""
    p = Page()
    try:
        p.feed(page)
        p.close()
    except Exception as e:  # noqa: BLE001 - any parser error fails
        fail("%s: html.parser: %s" % (name, e))
        return None
    for e in p.errors[:5]:
        fail("%s: %s" % (name, e))
    if p.stack:
        fail("%s: unclosed tags at the end: %s" % (name, p.stack))
    if not page.startswith("<!DOCTYPE html>"):
        fail("%s: no doctype" % name)
    self_contained(page, name, p)
    verdict = "FAIL" if want_rc == 1 else "PASS"
    if not re.search(r'<p class="verdict [a-z]+">Audit verdict: <span '
                     r'class="[a-z]+">%s</span>' % verdict, page):
        fail("%s: page verdict is not %s" % (name, verdict))
    if aj is None:
        return p
    nviol = len(aj["violations"])
    if p.viol_items != min(nviol, VIOL_SHOWN):
        fail("%s: %d findings listed, audit has %d" % (name, p.viol_items,
                                                       nviol))
    for v in aj["violations"][:VIOL_SHOWN]:
        if v["check"] not in page:
            fail("%s: finding %s not on the page" % (name, v["check"]))
    streams = aj.get("streams", [])
    drawn = 0
    for s in streams:
        sid = "f1-s%d" % s["stream"]
        states = sum(1 for e in s["timeline"] if e["kind"] == "state")
        switches = sum(1 for e in s["timeline"] if e["kind"] == "switch")
        if sid not in p.rows and len(streams) <= 2000:
            fail("%s: stream %d has no overview row" % (name, s["stream"]))
        sec = p.sections.get(sid)
        if sec is None:
            if len(streams) <= DETAIL_STREAMS:
                fail("%s: stream %d has no section" % (name, s["stream"]))
            continue
        drawn += 1
        if sec["role"] != s["role"] or sec["session"] != s["session_id"]:
            fail("%s: section %s is %s/%s, audit says %s/%s" % (
                name, sid, sec["role"], sec["session"], s["role"],
                s["session_id"]))
        if states + 1 <= BAND_CAP:
            if sec["bands"] != states + 1 or sec["merged"]:
                fail("%s: stream %d: %d bands (%d merged), %d transitions"
                     % (name, s["stream"], sec["bands"], sec["merged"],
                        states))
        elif not (BAND_CAP // 2 <= sec["bands"] <= BAND_CAP + 2):
            fail("%s: stream %d: %d bands past the cap" % (
                name, s["stream"], sec["bands"]))
        majors = sum(1 for e in s["timeline"] if e["kind"] in (
            "switch", "attach", "dead", "terminated", "owner", "policy"))
        if majors <= MARK_CAP and sec["switch"] != switches:
            fail("%s: stream %d: %d switch markers, %d switches" % (
                name, s["stream"], sec["switch"], switches))
        forced = sum(1 for e in s["timeline"] if e["kind"] == "switch" and
                     e.get("trigger_class") == "forced")
        if majors <= MARK_CAP and sec["forced"] != forced:
            fail("%s: stream %d: %d forced switch markers, %d forced "
                 "switches" % (name, s["stream"], sec["forced"], forced))
        damps = damped_intervals(s["timeline"])
        if damps <= DAMP_CAP and sec["damp"] != damps:
            fail("%s: stream %d: %d damped bars, %d damped intervals" % (
                name, s["stream"], sec["damp"], damps))
    if drawn != min(len(streams), DETAIL_STREAMS):
        fail("%s: %d sections for %d streams" % (name, drawn, len(streams)))
    return p


def damped_intervals(timeline):
    """TransportDamped .. TransportReused (or the end) per transport."""
    open_, n = set(), 0
    for e in timeline:
        tid = e.get("to_transport")
        if e["kind"] == "damped" and tid not in open_:
            open_.add(tid)
            n += 1
        elif e["kind"] == "reused":
            open_.discard(tid)
    return n


def one(jvpn, log, want_rc, tmp, name=None):
    name = name or os.path.basename(log)
    out = os.path.join(tmp, "r.html")
    page, dt = report(jvpn, [log], out, want_rc, name)
    if page is None:
        return None, None, dt
    return page, check_page(page, audit_json(jvpn, log), name, want_rc), dt


# ---- modes -----------------------------------------------------------------

def mode_demo(jvpn, src, tmp, san):
    p = run([jvpn, "demo"], cwd=tmp)
    log = os.path.join(tmp, "out", "demo_events.jsonl")
    if p.returncode != 0 or not os.path.exists(log):
        fail("jvpn demo: exit %d" % p.returncode)
        return
    page, parsed, _ = one(jvpn, log, 0, tmp, "demo")
    if parsed is not None and len(parsed.sections) != 2:
        fail("demo: %d sections, expected client and gateway" %
             len(parsed.sections))


def mode_logs(jvpn, src, tmp, san):
    logs = sorted(glob.glob(os.path.join(src, "tests", "audit", "logs",
                                         "*.jsonl")))
    if not logs:
        fail("no logs in tests/audit/logs")
    for log in logs:
        bad = os.path.basename(log).startswith("bad-")
        page, parsed, _ = one(jvpn, log, 1 if bad else 0, tmp)
        if os.path.basename(log) == "good-pd7-flaps.jsonl":
            pd7_page(page, parsed)
        if page is None or not bad:
            continue
        # the findings come before the first time line
        v = page.find('<ol class="viol">')
        s = page.find('<section class="stream"')
        if v < 0 or (0 <= s < v):
            fail("%s: findings not at the top" % os.path.basename(log))


def pd7_page(page, parsed):
    """The PD-7/PD-8 log shows each thing the page marks (the counts are
    checked against the audit in check_page)."""
    if page is None or parsed is None:
        return
    secs = parsed.sections.values()
    if not any(sec["forced"] for sec in secs):
        fail("pd7: no forced switch marker")
    if not any(sec["switch"] > sec["forced"] for sec in secs):
        fail("pd7: no discretionary switch marker")
    if not any(sec["damp"] for sec in secs):
        fail("pd7: no damped interval drawn")
    for what in ("fail-back</text>", "migration</text>",
                 "fail-backs</th><td>1 started, 1 switched",
                 "operator migrations</th><td>1 started, 1 switched",
                 "Damped transports (2 intervals)"):
        if what not in page:
            fail("pd7: %r not on the page" % what)


def mode_sim(jvpn, src, tmp, san):
    log = os.path.join(tmp, "s4.jsonl")
    p = run([jvpn, "sim", os.path.join(src, "scenarios",
                                       "s4-flapping-health.ini"),
             "--events", log])
    # the scenario's own verdict (its [Expect]) is the simulator suite's
    # business; here only its log matters, which the audit must pass
    if p.returncode not in (0, 1) or not os.path.exists(log) or \
            not os.path.getsize(log):
        fail("sim s4: exit %d, no log" % p.returncode)
        return
    page, parsed, _ = one(jvpn, log, 0, tmp, "s4")
    if parsed is None:
        return
    aj = audit_json(jvpn, log)
    want = {}
    with open(log, "rb") as f:
        for raw in f:
            ev = json.loads(raw)
            if ev["event_type"] not in ("SessionStateChange",
                                        "TransportSwitch"):
                continue
            k = (ev["role"], ev["session_id"])
            lat, loss = want.get(k, (0, 0))
            want[k] = (lat + ("latency_estimate_ms" in ev),
                       loss + ("loss_ratio" in ev))
    if not any(v[0] for v in want.values()):
        fail("s4: the log has no latency figures to draw")
    for s in aj["streams"]:
        sec = parsed.sections.get("f1-s%d" % s["stream"])
        lat, loss = want.get((s["role"], s["session_id"]), (0, 0))
        if sec and lat <= POINT_CAP and (sec["lat"], sec["loss"]) != \
                (lat, loss):
            fail("s4: stream %d: %d/%d points, log has %d/%d" % (
                s["stream"], sec["lat"], sec["loss"], lat, loss))


EVIL_NODE = "<script>alert(\"n&1\")</script>'"
EVIL_TID = "<b>p2&amp;\"x'</b><script>"


def mode_escape(jvpn, src, tmp, san):
    sys.path.insert(0, os.path.join(src, "tests", "audit"))
    from rechain import rechain_lines
    lines = []
    with open(os.path.join(src, "tests", "audit", "logs",
                           "good-demo.jsonl"), "rb") as f:
        for raw in f:
            # consistent replacement keeps the log valid; re-chained so
            # only the new ids differ
            raw = raw.rstrip(b"\n")
            raw = raw.replace(b'"client-1"',
                              json.dumps(EVIL_NODE).encode())
            raw = raw.replace(b'"p2"', json.dumps(EVIL_TID).encode())
            lines.append(raw)
    log = os.path.join(tmp, "evil.jsonl")
    with open(log, "wb") as f:
        for line in rechain_lines(lines):
            f.write(line + b"\n")
    page, parsed, _ = one(jvpn, log, 0, tmp, "escape")
    if page is None or parsed is None:
        return
    if "<script" in page.lower() or "<b>" in page:
        fail("escape: markup from the log reached the page unescaped")
    if "&lt;script&gt;alert(&quot;n&amp;1&quot;)&lt;/script&gt;&#39;" \
            not in page:
        fail("escape: the node id is not on the page, escaped")
    text = "".join(parsed.text)
    if EVIL_NODE not in text or EVIL_TID not in text:
        fail("escape: the ids do not read back as text")
    # a file name is shown too
    evil_name = os.path.join(tmp, "a<b>&\"c'.jsonl")
    with open(log, "rb") as a, open(evil_name, "wb") as b:
        b.write(a.read())
    out = os.path.join(tmp, "n.html")
    pg, _ = report(jvpn, [evil_name], out, 0, "escape-name")
    if pg is not None and "a<b>" in pg:
        fail("escape: the file name is not escaped")


def mode_errors(jvpn, src, tmp, san):
    good = os.path.join(src, "tests", "audit", "logs", "good-demo.jsonl")
    out = os.path.join(tmp, "e.html")
    cases = [
        ("no -o", [good]),
        ("no file", ["-o", out]),
        ("nothing", []),
        ("bad option", ["--frobnicate", good, "-o", out]),
        ("-o without name", [good, "-o"]),
        ("bad epsilon", ["--epsilon", "x", good, "-o", out]),
        ("missing file", [os.path.join(tmp, "nope.jsonl"), "-o", out]),
        ("missing second file", [good, os.path.join(tmp, "nope.jsonl"),
                                 "-o", out]),
        ("unreadable (a directory)", [tmp, "-o", out]),
        ("unwritable output", [good, "-o",
                               os.path.join(tmp, "no", "dir", "x.html")]),
    ]
    for name, args in cases:
        if os.path.exists(out):
            os.remove(out)
        p = run([jvpn, "report"] + args)
        err = p.stderr.decode()
        if p.returncode != 2:
            fail("errors: %s: exit %d, expected 2" % (name, p.returncode))
        if err.count("\n") != 1 or not err.startswith("jvpn report: "):
            fail("errors: %s: stderr is not one line: %r" % (name, err))
        if os.path.exists(out):
            fail("errors: %s: a page was written" % name)
    p = run([jvpn, "report", "--help"])
    if p.returncode != 0 or b"usage" not in p.stdout:
        fail("errors: --help")
    # stdin in, stdout out
    with open(good, "rb") as f:
        p = subprocess.run([jvpn, "report", "-", "-o", "-"], stdin=f,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0 or not p.stdout.startswith(b"<!DOCTYPE html>"):
        fail("errors: '-' in and out: exit %d" % p.returncode)
    # a truncated, broken log still gives a page, exit 1
    bad = os.path.join(src, "tests", "audit", "logs", "bad-truncated.jsonl")
    pg, _ = report(jvpn, [good, bad], out, 1, "two files")
    if pg is not None and (pg.count('<section class="file"') != 2 or
                           'id="f2-violations"' not in pg):
        fail("errors: two files: not two file sections")


def mode_big(jvpn, src, tmp, san):
    limit = 60.0 if san else 3.0    # CPU seconds
    many = os.path.join(tmp, "many.jsonl")
    lng = os.path.join(tmp, "long.jsonl")
    here = os.path.dirname(os.path.abspath(__file__))
    p1 = run([sys.executable, os.path.join(src, "tests", "audit",
                                           "mkbig.py"), "100000", many])
    p2 = run([sys.executable, os.path.join(here, "mklong.py"), "100000", lng,
              os.path.join(src, "tests", "audit", "logs", "good-demo.jsonl")])
    if p1.returncode or p2.returncode:
        fail("big: log generation failed: %s %s" % (p1.stderr, p2.stderr))
        return
    for log, name in ((many, "many streams"), (lng, "one long stream")):
        page, parsed, dt = one(jvpn, log, 0, tmp, name)
        print("%s: %.2f s CPU, %d bytes" % (name, dt,
                                        len(page.encode()) if page else 0))
        if page is None:
            continue
        if dt > limit:
            fail("%s: %.2f s (limit %.0f s)" % (name, dt, limit))
        if len(page.encode()) > 32 << 20:
            fail("%s: page of %d bytes" % (name, len(page)))
        if name == "many streams":
            if "Time lines are drawn for %d of" % DETAIL_STREAMS not in page:
                fail("many streams: the page does not say it drew "
                     "only some streams")
        else:
            if "neighbours are merged" not in page or \
                    "evenly spread" not in page:
                fail("one long stream: the page does not say what it "
                     "merged and thinned")
            for sec in (parsed.sections.values() if parsed else []):
                if sec["lat"] > POINT_CAP or sec["bands"] > BAND_CAP + 2:
                    fail("one long stream: caps exceeded: %d points, %d "
                         "bands" % (sec["lat"], sec["bands"]))


MODES = {"demo": mode_demo, "logs": mode_logs, "sim": mode_sim,
         "escape": mode_escape, "errors": mode_errors, "big": mode_big}


def main(argv):
    if len(argv) < 4 or argv[1] not in MODES:
        sys.stderr.write(__doc__)
        return 2
    san = "--sanitized" in argv[4:]
    with tempfile.TemporaryDirectory() as tmp:
        MODES[argv[1]](os.path.abspath(argv[2]), argv[3], tmp, san)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
