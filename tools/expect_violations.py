#!/usr/bin/env python3
"""An open engine finding must fail exactly as documented, not just fail.

Usage: expect_violations.py JVPN FILE.ini PATTERN...

Runs `JVPN sim FILE.ini` and passes (exit 0) only when the run fails the
ordinary way (exit status 1, one FAIL report) and its violations are
exactly the listed ones: every PATTERN (a Python regex, searched) matches
at least one violation and every violation is matched by a PATTERN.  A
violation is a failed expectation, written "FILE:LINE: TEXT -> WHY" with
the path left out ("LINE: TEXT -> WHY"), or an invariant, written as the
simulator prints it ("INV-02 gateway @5710: ...").  A crash, a parse
error, a different violation, or a pass (the finding is fixed: move it to
findings_fixed) fails the test, and says which.

The verdict is one TAP line, so that the test summary still counts the
finding as a known deviation: "not ok 1 - ... # TODO" (an expected
failure) when it fails as documented, "ok 1 - ... # TODO" (an unexpected
pass) when it passes, "not ok 1 - ..." otherwise.
"""
import re
import subprocess
import sys

# Lines of a FAIL report that describe the run, not a violation.
INFO = re.compile(r'^    (client time in state|gateway time in state|'
                  r'stream (up|down):|failover gap|store:)')


def violations(out):
    lines = out.splitlines()
    items, i = [], 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r'^    \S+?:(\d+): (.*)$', line)
        if m and i + 1 < len(lines) and lines[i + 1].startswith('      -> '):
            items.append('%s: %s -> %s' % (m.group(1), m.group(2),
                                           lines[i + 1][9:]))
            i += 2
            continue
        if re.match(r'^    invariants violated \(\d+\):$', line):
            i += 1
            while i < len(lines) and lines[i].startswith('      '):
                items.append(lines[i].strip())
                i += 1
            continue
        if line.startswith('    ') and not INFO.match(line):
            items.append(line.strip())
        i += 1
    return items


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    jvpn, ini, pats = argv[0], argv[1], argv[2:]
    name = ini.rsplit('/', 1)[-1]
    print('1..1')
    p = subprocess.run([jvpn, 'sim', ini], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    out = p.stdout.decode(errors='replace')
    sys.stdout.write(''.join('# ' + l + '\n' for l in out.splitlines()))
    if p.returncode == 0:
        print('ok 1 - %s passes: the finding is fixed, move it to '
              'findings_fixed # TODO known deviation' % name)
        return 0
    if p.returncode != 1:
        print('not ok 1 - %s: expected the documented failure (exit 1), '
              'got exit status %d' % (name, p.returncode))
        return 1
    if len(re.findall(r'^FAIL ', out, re.M)) != 1:
        print('not ok 1 - %s: expected one FAIL report' % name)
        return 1
    items = violations(out)
    bad = False
    for pat in pats:
        if not any(re.search(pat, it) for it in items):
            print('# expected violation not seen: %s' % pat)
            bad = True
    for it in items:
        if not any(re.search(pat, it) for pat in pats):
            print('# violation not documented for this finding: %s' % it)
            bad = True
    if bad:
        print('not ok 1 - %s: not the documented failure' % name)
        return 1
    print('not ok 1 - %s fails exactly as documented (%d violation(s)) '
          '# TODO known deviation' % (name, len(items)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
