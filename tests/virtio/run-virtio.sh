#!/bin/sh
# run-virtio.sh: runs the virtio suite on this host's /dev/kvm, or inside the nested QEMU host when there is none.
# usage: run-virtio.sh CLOAK GUEST_DIR SUITE_DIR
set -u
CLOAK=$1 GUESTS=$2 SUITES=$3
top=$(cd "$SUITES/../.." && pwd)
nested=$top/tools/nested/run-nested.sh

if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	CLOAK_LIB_SH=$top/tests/integration/lib.sh exec sh "$SUITES/virtio-suite.sh" "$CLOAK" "$GUESTS"
fi
if [ -n "${CLOAK_NO_NESTED:-}" ] || ! [ -x "$nested" ] || ! command -v qemu-system-x86_64 >/dev/null; then
	echo "######## SKIPPED: no /dev/kvm and no nested QEMU host (tools/nested); the virtio tests did NOT run ########" >&2
	echo "1..0 # SKIP no /dev/kvm"
	exit 0  # meson 1.0 reads "1..0 # SKIP" as skipped; status 77 would be an error for TAP
fi
echo "# no /dev/kvm here: running the virtio suite inside a QEMU TCG guest with nested SVM ($nested)"
payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
mkdir -p "$payload/guests" "$payload/suites"
cp "$CLOAK" "$payload/cloak"
cp "$GUESTS"/*.elf "$payload/guests/"
cp "$top/tests/integration/lib.sh" "$SUITES/virtio-suite.sh" "$payload/suites/"
exec "$nested" --modules "tun" --payload "$payload" -- sh /payload/suites/virtio-suite.sh /payload/cloak /payload/guests
