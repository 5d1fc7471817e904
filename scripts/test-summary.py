#!/usr/bin/env python3
"""Prints one line from meson's own test log: tests: N passed, N failed, N skipped."""
import json
import sys

passed = failed = skipped = 0
try:
    with open(sys.argv[1]) as log:
        for line in log:
            result = json.loads(line).get("result")
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:  # FAIL, TIMEOUT, UNEXPECTEDPASS, ERROR
                failed += 1
except FileNotFoundError:
    failed = 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
