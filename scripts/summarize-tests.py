#!/usr/bin/env python3
"""Count test cases across meson test logs and print the closing line.

Each TAP line is one case ("ok", "not ok", "# SKIP").  An executable that
failed without reporting a failing case (a crash, a timeout, a sanitizer
abort) counts as one more failure, so nothing that went wrong is hidden.
A non-TAP test counts as one case by its result.
"""
import json
import re
import sys

TAP = re.compile(r'^(not ok|ok)\b(.*)$')


def count(path, label, totals):
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        print(f'summarize: {path}: {e}')
        totals['failed'] += 1
        return
    for raw in lines:
        t = json.loads(raw)
        out = t.get('stdout', '') or ''
        passed = failed = skipped = 0
        for line in out.splitlines():
            m = TAP.match(line)
            if not m or line.startswith('# '):
                continue
            rest = m.group(2)
            if re.match(r'\s+-\s+tests$', rest) or rest.strip() == '- tests':
                continue  # cmocka's group line, not a case
            if '# SKIP' in rest.upper():
                skipped += 1
            elif m.group(1) == 'ok':
                passed += 1
            else:
                failed += 1
        ok = t.get('result') in ('OK', 'SKIP', 'EXPECTEDFAIL')
        if passed + failed + skipped == 0:
            if t.get('result') == 'SKIP':
                skipped += 1
            elif ok:
                passed += 1
            else:
                failed += 1
        elif not ok and failed == 0:
            failed += 1
        if failed:
            print(f'summarize: {label}{t["name"]}: {failed} failed ({t.get("result")})')
        totals['passed'] += passed
        totals['failed'] += failed
        totals['skipped'] += skipped


def main():
    args = sys.argv[1:]
    extra = 0
    if args[:1] == ['--extra-failures']:
        extra = int(args[1])
        args = args[2:]
    totals = {'passed': 0, 'failed': extra, 'skipped': 0}
    for i, path in enumerate(args):
        count(path, '' if i == 0 else 'sanitizers: ', totals)
    line = f"{totals['passed']} passed, {totals['failed']} failed"
    if totals['skipped']:
        line += f", {totals['skipped']} skipped"
    print(line)
    return 1 if totals['failed'] or totals['passed'] == 0 else 0


if __name__ == '__main__':
    sys.exit(main())
