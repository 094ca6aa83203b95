#!/usr/bin/env python3
"""test-summary.py: the closing lines of tools/test.sh: counts over every TAP case, then each test that did not pass."""
# CI shows only the end of a run's output; a failure must be named there, with its own last words,
# not thousands of lines above where meson first printed it.
import json
import re
import sys

OK = re.compile(r"^ok \d+")
NOT_OK = re.compile(r"^not ok \d+")
SKIP = re.compile(r"#\s*skip", re.IGNORECASE)
TODO = re.compile(r"#\s*todo", re.IGNORECASE)


def main(logs):
    passed = failed = skipped = 0
    bad = []
    for build, path in logs:
        try:
            lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
        except OSError as e:
            print(f"test-summary: cannot read {path}: {e.strerror} (did `meson test` run in {build}?)")
            bad.append((build, "(no test log)", "MISSING", 0.0, ""))
            continue
        for line in lines:
            if not line.strip():
                continue
            test = json.loads(line)
            out = test.get("stdout") or ""
            for tap in out.splitlines():
                if tap.startswith("1..0") and SKIP.search(tap):
                    skipped += 1
                elif OK.match(tap):
                    if SKIP.search(tap):
                        skipped += 1
                    else:
                        passed += 1
                elif NOT_OK.match(tap):
                    if TODO.search(tap):
                        passed += 1
                    else:
                        failed += 1
            if test.get("result") not in ("OK", "SKIP", "EXPECTEDFAIL"):
                tail = "\n".join((out + "\n" + (test.get("stderr") or "")).strip().splitlines()[-30:])
                bad.append((build, test["name"], test.get("result"), test.get("duration") or 0.0, tail))
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    for build, name, result, duration, tail in bad:
        print(f"=== did not pass, in {build}: {name}: {result} after {duration:.0f} s; its last lines:")
        for line in tail.splitlines():
            print(f"  | {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main([(a, f"{a}/meson-logs/testlog.json") for a in args]))
