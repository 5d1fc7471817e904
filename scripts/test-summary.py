#!/usr/bin/env python3
"""Prints the summary of meson's own test log, then why anything was skipped:

    tests: N passed, N failed, N skipped (N binaries, N cases)

A binary that exits 77 is a skipped binary; a `SKIP: <reason>` line in the
output of a binary that passed is a skipped case (see tests/support/skip.hpp).
The line starts `tests: N passed, N failed`, which CI greps.
"""
import json
import sys

SKIP_PREFIX = "SKIP: "

passed = failed = 0
skipped_binaries = []  # (test name, reason)
skipped_cases = []  # (test name, reason)


def skip_reasons(output):
    return [line[len(SKIP_PREFIX):].strip() for line in (output or "").splitlines()
            if line.startswith(SKIP_PREFIX)]


try:
    with open(sys.argv[1]) as log:
        for line in log:
            entry = json.loads(line)
            result = entry.get("result")
            name = entry.get("name", "?")
            reasons = skip_reasons(entry.get("stdout")) + skip_reasons(entry.get("stderr"))
            if result == "SKIP":
                skipped_binaries.append((name, "; ".join(reasons) or "no reason printed"))
                continue
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
                skipped_cases.extend((name, reason) for reason in reasons)
            else:  # FAIL, TIMEOUT, UNEXPECTEDPASS, ERROR
                failed += 1
except FileNotFoundError:
    failed = 1


def count(n, one, many):
    return f"{n} {one if n == 1 else many}"


skipped = len(skipped_binaries) + len(skipped_cases)
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped "
      f"({count(len(skipped_binaries), 'binary', 'binaries')}, "
      f"{count(len(skipped_cases), 'case', 'cases')})")
for name, reason in skipped_binaries:
    print(f"  skipped binary {name}: {reason}")
for name, reason in skipped_cases:
    print(f"  skipped case in {name}: {reason}")
