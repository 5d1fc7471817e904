#!/usr/bin/env python3
"""Prints the ninja targets the tests of the given meson suites need, so a
sanitizer build compiles those and not the whole tree.

    ninja -C build-tsan $(scripts/suite-targets.py build-tsan tsan)
"""
import json
import os
import subprocess
import sys


def introspect(build, what):
    out = subprocess.run(["meson", "introspect", build, what], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    build, suites = sys.argv[1], set(sys.argv[2:])
    root = os.path.realpath(build)
    files = {}
    for target in introspect(build, "--targets"):
        files[target["id"]] = target["filename"]
    wanted = set()
    for test in introspect(build, "--tests"):
        # Meson names a suite "<project>:<suite>" as well as "<suite>".
        names = {s.split(":", 1)[-1] for s in test["suite"]}
        if not suites & names:
            continue
        paths = [test["cmd"][0]]
        for dep in test.get("depends", []):
            paths.extend(files.get(dep, []))
        for path in paths:
            path = os.path.realpath(path)
            if path.startswith(root + os.sep):
                wanted.add(os.path.relpath(path, root))
    print(" ".join(sorted(wanted)))


if __name__ == "__main__":
    main()
