#!/usr/bin/env python3
"""The mutation run (tools/mutate.sh is its entry point; see there).

One scratch copy of the tree is configured once with meson (plain -O1, no
sanitizers, warnings off: a mutant may leave a variable unused) and only
the executables the lists' tests need are built.  Then, per mutant: apply
the edit, ninja just the targets its tests need (incremental: one or two
objects and the links), run its tests until one fails, and put the file
back with a fresh mtime, so that the next ninja recompiles it and nothing
else.  A persistent scratch (MUTATE_DIR) is refreshed by content, so a
second run only rebuilds what changed in the worktree.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
# A test's time limit under a mutant: ten times what it took unmutated,
# at least 20 s (a mutant that makes it hang is killed, quickly).
TIMEOUT = os.environ.get('MUTATE_TIMEOUT')
SKIP_DIRS = {'.git', 'out', 'fuzz-corpus-work'}


def say(line):
    print(line, flush=True)


def log(line):
    print(line, file=sys.stderr, flush=True)


# ---- the lists -------------------------------------------------------------

class Mutant:
    def __init__(self, where, name, path, text, repl, tests):
        self.where, self.name, self.path = where, name, path
        self.text, self.repl, self.tests = text, repl, tests


def unescape(s):
    return s.encode().decode('unicode_escape')


def read_lists(paths):
    out, seen = [], set()
    for lp in paths:
        with open(lp) as fh:
            for no, line in enumerate(fh, 1):
                line = line.rstrip('\n')
                if not line.strip() or line.lstrip().startswith('#'):
                    continue
                parts = [p.strip() for p in line.split(' | ')]
                where = '%s:%d' % (lp, no)
                if len(parts) != 5:
                    sys.exit('%s: expected NAME | FILE | TEXT | REPLACEMENT'
                             ' | TEST, got %d fields' % (where, len(parts)))
                name, path, text, repl, tests = parts
                if name in seen:
                    sys.exit('%s: mutant %s listed twice' % (where, name))
                seen.add(name)
                specs = tests.split()
                if not specs:
                    sys.exit('%s: no test named' % where)
                out.append(Mutant(where, name, path, unescape(text),
                                  unescape(repl), [norm(s) for s in specs]))
    return out


def norm(spec):
    """'takeover' (the old format) is 'unit:takeover'."""
    return spec if ':' in spec else 'unit:' + spec


# ---- the scratch tree --------------------------------------------------------

def skip(rel):
    top = rel.split(os.sep, 1)[0]
    return top in SKIP_DIRS or top.startswith('build')


def sync_tree(src, dst):
    """Copy src to dst; a file whose content is unchanged keeps its mtime
    (ninja sees nothing to do), a changed one gets a fresh mtime."""
    for dirpath, dirnames, filenames in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        if rel != '.' and skip(rel):
            dirnames[:] = []
            continue
        dirnames[:] = [d for d in dirnames
                       if not skip(os.path.normpath(os.path.join(rel, d)))]
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for f in filenames:
            s, d = os.path.join(dirpath, f), os.path.join(dst, rel, f)
            if os.path.islink(s):
                continue
            try:
                with open(s, 'rb') as a, open(d, 'rb') as b:
                    if a.read() == b.read():
                        continue
            except OSError:
                pass
            shutil.copyfile(s, d)
            shutil.copymode(s, d)


def run(cmd, cwd=None, timeout=None, env=None):
    try:
        p = subprocess.run(cmd, cwd=cwd, timeout=timeout, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return p.returncode, p.stdout.decode(errors='replace')
    except subprocess.TimeoutExpired as e:
        return 'timeout', (e.stdout or b'').decode(errors='replace')


def setup(tree, build):
    if os.path.exists(os.path.join(build, 'build.ninja')):
        return
    rc, out = run(['meson', 'setup', build, tree, '--buildtype=plain',
                   '-Dwerror=false', '-Dwarning_level=0',
                   '-Dc_args=-O1 -w', '-Dfuzz=false'])
    if rc != 0:
        log(out)
        sys.exit('mutate: meson setup of the scratch tree failed')


def meson_tests(build):
    """name -> the executable (relative to build) a meson test runs."""
    import json
    rc, out = run(['meson', 'introspect', '--tests', build])
    if rc != 0:
        log(out)
        sys.exit('mutate: meson introspect failed')
    tests = {}
    for t in json.loads(out):
        exe = t['cmd'][0]
        if os.path.isabs(exe) and exe.startswith(build + os.sep):
            exe = os.path.relpath(exe, build)
        else:
            exe = None
        tests[t['name']] = exe
    return tests


# ---- one test ----------------------------------------------------------------

class Tests:
    def __init__(self, tree, build):
        self.tree, self.build = tree, build
        self.meson = meson_tests(build)
        self.limit = {}

    def target(self, spec):
        kind, arg = spec.split(':', 1)
        if kind == 'unit':
            return 'tests/unit/%s_test' % arg
        if kind == 'sim':
            return 'src/cli/jvpn'
        if kind == 'meson':
            if arg not in self.meson:
                return None
            exe = self.meson[arg]
            # a test run by a script (sh -c ...) may need jvpn too
            return exe or 'src/cli/jvpn'
        return None

    def check(self, spec):
        """None if the spec names something runnable, else why not."""
        kind, arg = spec.split(':', 1)
        if kind not in ('unit', 'sim', 'meson'):
            return 'unknown test kind %r (unit:, sim:, meson:)' % kind
        if kind == 'unit' and not os.path.exists(
                os.path.join(self.tree, 'tests/unit/%s_test.c' % arg)):
            return 'no tests/unit/%s_test.c' % arg
        if kind == 'sim' and not os.path.exists(self.sim_file(arg)):
            return 'no scenario %s' % arg
        if kind == 'meson' and arg not in self.meson:
            return 'no meson test %s' % arg
        return None

    def sim_file(self, arg):
        if '/' in arg:
            return os.path.join(self.tree, arg)
        return os.path.join(self.tree, 'scenarios', arg + '.ini')

    def run(self, spec):
        """True if the test passes."""
        kind, arg = spec.split(':', 1)
        env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT='STDOUT')
        if kind == 'unit':
            cmd = [os.path.join(self.build, self.target(spec))]
        elif kind == 'sim':
            cmd = [os.path.join(self.build, 'src/cli/jvpn'), 'sim',
                   '--quiet', self.sim_file(arg)]
        else:
            cmd = ['meson', 'test', '-C', self.build, '--no-rebuild',
                   '--quiet', arg]
        if TIMEOUT:
            limit = float(TIMEOUT)
        else:
            limit = self.limit.get(spec, 300.0)
        t0 = time.time()
        rc, _ = run(cmd, cwd=self.tree, timeout=limit, env=env)
        if spec not in self.limit:
            self.limit[spec] = max(20.0, 10 * (time.time() - t0))
        return rc == 0


def ninja(build, targets):
    rc, out = run(['ninja', '-C', build] + sorted(set(targets)))
    return rc == 0, out


# ---- the run -----------------------------------------------------------------

def apply(path, m):
    with open(path) as fh:
        src = fh.read()
    n = src.count(m.text)
    if n != 1:
        return '%s: TEXT occurs %d times' % (m.path, n)
    with open(path, 'w') as fh:
        fh.write(src.replace(m.text, m.repl))
    return None


def main(argv):
    lists = argv or sorted(
        os.path.join('tests/mutants', f)
        for f in os.listdir(os.path.join(ROOT, 'tests/mutants'))
        if f.endswith('.txt'))
    os.chdir(ROOT)
    mutants = read_lists(lists)
    started = time.time()

    keep = os.environ.get('MUTATE_DIR')
    scratch = os.path.abspath(keep) if keep else tempfile.mkdtemp(
        prefix='jvpn-mutate-')
    tree, build = os.path.join(scratch, 'tree'), os.path.join(scratch, 'build')
    try:
        sync_tree(ROOT, tree)
        setup(tree, build)
        tests = Tests(tree, build)

        bad = {}
        for m in mutants:
            for s in m.tests:
                why = tests.check(s)
                if why:
                    bad[m.name] = why
        specs = sorted({s for m in mutants if m.name not in bad
                        for s in m.tests})
        # bench/loadgen drives lab_loadgen: built once (a mutant in
        # src/daemon does not change it)
        ok, out = ninja(build, [tests.target(s) for s in specs] +
                        ['bench/loadgen'])
        if not ok:
            log(out[-4000:])
            sys.exit('mutate: the unmutated tree does not build')
        log('mutate: scratch built in %.0f s' % (time.time() - started))

        # Each test must pass unmutated, or killing proves nothing.
        broken = set()
        for s in specs:
            if not tests.run(s):
                log('mutate: %s fails without any mutant' % s)
                broken.add(s)

        killed = 0
        for m in mutants:
            t0 = time.time()
            verdict = run_one(m, tree, build, tests, bad, broken)
            if verdict is None:
                killed += 1
                say('mutants PASS mutant: %s' % m.name)
            else:
                say('mutants FAIL mutant: %s (%s)' % (m.name, verdict))
            log('mutate: %s %.1f s' % (m.name, time.time() - t0))
        # leave the scratch as built from the worktree
        ninja(build, [tests.target(s) for s in specs])
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)
    log('mutate: %d mutants in %.0f s' % (len(mutants),
                                          time.time() - started))
    say('mutants_killed=%d/%d' % (killed, len(mutants)))
    return 0 if killed == len(mutants) else 1


def run_one(m, tree, build, tests, bad, broken):
    """None if the mutant is killed, else why it is not."""
    if m.name in bad:
        return bad[m.name]
    for s in m.tests:
        if s in broken:
            return '%s fails unmutated' % s
    path = os.path.join(tree, m.path)
    if not os.path.exists(path):
        return 'does not apply: no %s' % m.path
    with open(path, 'rb') as fh:
        orig = fh.read()
    why = apply(path, m)
    if why:
        return 'does not apply: ' + why
    try:
        ok, out = ninja(build, [tests.target(s) for s in m.tests])
        if not ok:
            log(out[-3000:])
            return 'does not build'
        for s in m.tests:
            if not tests.run(s):
                return None
        return 'survived ' + ' '.join(m.tests)
    finally:
        # Back with a fresh mtime: ninja recompiles it next time it is
        # needed, since its object is the mutant's.
        with open(path, 'wb') as fh:
            fh.write(orig)
        now = time.time() + 0.01
        os.utime(path, (now, now))


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
