#!/bin/sh
# run-kvm.sh: gathers cloak, the test guests and the KVM suite, and runs the suite on KVM (tests/run-on-kvm.sh).
# usage: run-kvm.sh CLOAK GUEST_DIR SUITE_DIR [CLOAK_FLOOR]
set -u
CLOAK=$1 GUESTS=$2 SUITES=$3 FLOOR=${4:-}
payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
mkdir -p "$payload/guests" "$payload/suites"
cp "$CLOAK" "$payload/cloak"
# Beside cloak, where cloak bench --compare-floor looks for it first.
[ -z "$FLOOR" ] || cp "$FLOOR" "$payload/cloak-floor"
cp "$GUESTS"/*.elf "$GUESTS"/*.bin "$GUESTS"/*.bzImage "$payload/guests/"
cp "$SUITES"/lib.sh "$SUITES"/kvm-suite.sh "$payload/suites/"
# In the background, so that a signal ends this script at once (a trap would wait for a foreground
# command to finish); run-on-kvm.sh stops the suite, and its QEMU, when this script is gone.
sh "$SUITES/../run-on-kvm.sh" kvm "$payload" -- sh suites/kvm-suite.sh ./cloak ./guests &
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
wait $!
