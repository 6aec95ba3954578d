#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Build jvpn-events(7): the scdoc head docs/man/jvpn-events.7.scd with
its line @EVENTS_DOC@ replaced by the reference `jvpn events-doc` prints
(markdown, the text of docs/events.md) turned into scdoc, then run scdoc.

  events_man.py JVPN HEAD.scd SCDOC OUT.7 [OUT.scd]

The markdown is the small subset cmd_events_doc.c writes: headings,
paragraphs, "- " lists, pipe tables, fenced blocks, `code` and **bold**.
Tables become term lists (a man page's tables do not fit 80 columns).
"""

import re
import subprocess
import sys


def esc(t):
    return t.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")


def inline(t):
    out = []
    for i, part in enumerate(t.split("`")):
        if i % 2:
            out.append("*" + esc(part) + "*")
        else:
            bits = part.split("**")
            out.append("".join("*" + esc(b) + "*" if j % 2 else esc(b)
                               for j, b in enumerate(bits)))
    return "".join(out)


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table(rows):
    head, body = cells(rows[0]), [cells(r) for r in rows[2:]]
    out = []
    for r in body:
        out.append(inline(r[0]))
        rest = [(h, v) for h, v in zip(head[1:], r[1:]) if v]
        if len(head) == 2:
            out.append("\t" + (inline(rest[0][1]) if rest else "-"))
        else:
            out.append("\t" + "; ".join("%s: %s" % (inline(h), inline(v))
                                        for h, v in rest))
        out.append("")
    return out


def convert(md):
    out, lines, i = [], md.splitlines(), 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("# ") or ln.startswith("<!--"):
            i += 1
            continue
        if ln.startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            out.append("```")
            out.extend(lines[i + 1:j])
            out.append("```")
            i = j + 1
            continue
        if ln.startswith("|"):
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                j += 1
            out.extend(table(lines[i:j]))
            i = j
            continue
        m = re.match(r"(#+) (.*)", ln)
        if m:
            level = len(m.group(1))
            text = inline(m.group(2))
            out.append(("# " + text.upper()) if level == 2 else "## " + text)
        elif ln.startswith("- "):
            out.append("- " + inline(ln[2:]))
        else:
            out.append(inline(ln))
        i += 1
    return "\n".join(out)


def main():
    jvpn, head, scdoc, out = sys.argv[1:5]
    md = subprocess.run([jvpn, "events-doc"], check=True,
                        capture_output=True, text=True).stdout
    text = open(head).read()
    body = convert(md)
    scd, n = re.subn(r"^@EVENTS_DOC@$", lambda _: body, text, flags=re.M)
    if n != 1:
        sys.exit("%s: no @EVENTS_DOC@ line" % head)
    if len(sys.argv) > 5:
        open(sys.argv[5], "w").write(scd)
    r = subprocess.run([scdoc], input=scd, capture_output=True, text=True)
    if r.returncode or r.stderr:
        sys.exit("scdoc: %s" % r.stderr.strip())
    open(out, "w").write(r.stdout)


if __name__ == "__main__":
    main()
