#!/bin/sh
# run-virtio.sh: gathers cloak, the device test guests and the virtio suite, and runs it on KVM (tests/run-on-kvm.sh).
# usage: run-virtio.sh CLOAK GUEST_DIR SUITE_DIR TEST_GUEST_DIR [IOBENCH [NETPEER [CONCLIENT]]]
#   TEST_GUEST_DIR: tests/guests, for echo.elf; IOBENCH: firmware/bench's iobench.elf; NETPEER: its peer,
#   tools/bench's cloak-netpeer; CONCLIENT: tests/virtio's console-input sender (both into the payload's
#   guests/ directory)
set -u
CLOAK=$1 GUESTS=$2 SUITES=$3 TEST_GUESTS=$4 IOBENCH=${5:-} NETPEER=${6:-} CONCLIENT=${7:-}
top=$(cd "$SUITES/../.." && pwd)
payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
mkdir -p "$payload/guests" "$payload/suites"
cp "$CLOAK" "$payload/cloak"
cp "$GUESTS"/*.elf "$TEST_GUESTS/echo.elf" ${IOBENCH:+"$IOBENCH"} ${NETPEER:+"$NETPEER"} ${CONCLIENT:+"$CONCLIENT"} "$payload/guests/"
cp "$top/tests/integration/lib.sh" "$SUITES/virtio-suite.sh" "$payload/suites/"
sh "$top/tests/run-on-kvm.sh" --modules tun virtio "$payload" -- sh suites/virtio-suite.sh ./cloak ./guests
