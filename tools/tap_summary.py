#!/usr/bin/env python3
"""Count test cases from a meson testlog.json.

TAP tests count one per "ok"/"not ok" line; other tests count one each.
Writes "<build> PASS|FAIL <name>" lines; with --total, reads such lines
and prints the final "N passed, N failed" summary.
"""
import json
import re
import sys

TAP = re.compile(r'^(not ok|ok)\b')


def cases(entry):
    out = entry.get('stdout', '') or ''
    lines = [l for l in out.splitlines() if TAP.match(l)]
    if re.search(r'^1\.\.\d+', out, re.M):
        if lines:
            for l in lines:
                ok = l.startswith('ok') and '# SKIP' not in l
                skip = '# SKIP' in l
                # TODO: an expected failure; its pass is a failure
                todo = '# TODO' in l
                verdict = ('SKIP' if skip else
                           ('FAIL' if ok else 'XFAIL') if todo else
                           ('PASS' if ok else 'FAIL'))
                yield (entry['name'] + ': ' + l.split(' - ', 1)[-1].strip(),
                       verdict)
            if entry.get('result') not in ('OK', 'EXPECTEDFAIL', 'SKIP'):
                yield (entry['name'] + ' (exit status)', 'FAIL')
            return
    res = entry.get('result')
    yield (entry['name'], {'OK': 'PASS', 'SKIP': 'SKIP',
                           'EXPECTEDFAIL': 'XFAIL'}.get(res, 'FAIL'))


def main():
    if sys.argv[1] == '--total':
        p = f = s = x = 0
        xfails = []
        with open(sys.argv[2]) as fh:
            for line in fh:
                kind = line.split(' ', 2)[1] if ' ' in line else ''
                if kind == 'PASS':
                    p += 1
                elif kind == 'FAIL':
                    f += 1
                    print(line.rstrip())
                elif kind == 'SKIP':
                    s += 1
                elif kind == 'XFAIL':
                    x += 1
                    xfails.append(line.split(' ', 2)[2].strip())
        notes = []
        if s:
            notes.append(f'{s} skipped')
        if x:
            notes.append(f'{x} known deviations: ' + ', '.join(sorted(set(xfails))))
        extra = f' ({"; ".join(notes)})' if notes else ''
        print(f'{p} passed, {f} failed{extra}')
        return 0 if f == 0 else 1
    path, build = sys.argv[1], sys.argv[2]
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            for name, verdict in cases(json.loads(line)):
                print(f'{build} {verdict} {name}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
