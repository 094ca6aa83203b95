#!/bin/sh
# run-kvm.sh: runs the KVM suite on this host's /dev/kvm, or inside the nested QEMU host when there is none.
# usage: run-kvm.sh CLOAK GUEST_DIR SUITE_DIR
set -u
CLOAK=$1 GUESTS=$2 SUITES=$3
top=$(cd "$SUITES/../.." && pwd)
nested=$top/tools/nested/run-nested.sh

# A KVM that cannot run stock instructions (DESIGN.md §1) still runs these small guests.
if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	exec sh "$SUITES/kvm-suite.sh" "$CLOAK" "$GUESTS"
fi
if [ -n "${CLOAK_NO_NESTED:-}" ] || ! [ -x "$nested" ] || ! command -v qemu-system-x86_64 >/dev/null; then
	echo "######## SKIPPED: no /dev/kvm and no nested QEMU host (tools/nested); the KVM tests did NOT run ########" >&2
	echo "1..0 # SKIP no /dev/kvm"
	exit 0  # meson 1.0 reads "1..0 # SKIP" as skipped; status 77 would be an error for TAP
fi
echo "# no /dev/kvm here: running the suite inside a QEMU TCG guest with nested SVM ($nested)"
payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
mkdir -p "$payload/guests" "$payload/suites"
cp "$CLOAK" "$payload/cloak"
cp "$GUESTS"/*.elf "$GUESTS"/*.bzImage "$payload/guests/"
cp "$SUITES"/lib.sh "$SUITES"/kvm-suite.sh "$payload/suites/"
exec "$nested" --payload "$payload" -- sh /payload/suites/kvm-suite.sh /payload/cloak /payload/guests
