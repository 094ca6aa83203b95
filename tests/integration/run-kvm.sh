#!/bin/sh
# run-kvm.sh: gathers cloak, the test guests and the KVM suite, and runs the suite on KVM (tests/run-on-kvm.sh).
# usage: run-kvm.sh CLOAK GUEST_DIR SUITE_DIR
set -u
CLOAK=$1 GUESTS=$2 SUITES=$3
payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
mkdir -p "$payload/guests" "$payload/suites"
cp "$CLOAK" "$payload/cloak"
cp "$GUESTS"/*.elf "$GUESTS"/*.bin "$GUESTS"/*.bzImage "$payload/guests/"
cp "$SUITES"/lib.sh "$SUITES"/kvm-suite.sh "$payload/suites/"
sh "$SUITES/../run-on-kvm.sh" kvm "$payload" -- sh suites/kvm-suite.sh ./cloak ./guests
