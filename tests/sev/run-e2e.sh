#!/bin/sh
# run-e2e.sh: runs e2e.sh on this host's /dev/kvm, or inside the nested QEMU host when there is none.
# usage: run-e2e.sh CLOAK CLOAK_OWNER GUEST_ELF SUITE_DIR
set -u
CLOAK=$1 OWNER=$2 GUEST=$3 SUITE=$4
top=$(cd "$SUITE/../.." && pwd)
nested=$top/tools/nested/run-nested.sh
payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT

cp "$CLOAK" "$payload/cloak"
cp "$OWNER" "$payload/cloak-owner"
cp "$GUEST" "$payload/guest.elf"
cp "$SUITE/e2e.sh" "$payload/"
printf 'the e2e secret: 42\n' >"$payload/secret.txt"
cksum <"$payload/secret.txt" | cut -d' ' -f1,2 >"$payload/secret.cksum"
# The tampered kernel: one byte flipped in the middle of the first loaded segment's file bytes.
u() { od -An -t u"$1" -j "$2" -N "$1" "$GUEST" | tr -d ' '; }
phoff=$(u 8 32)
off=$(u 8 $((phoff + 8)))
size=$(u 8 $((phoff + 32)))
pos=$((off + size / 2))
cp "$GUEST" "$payload/tampered.elf"
byte=$(u 1 "$pos")
printf "$(printf '\\%03o' $(((byte + 1) % 256)))" | dd of="$payload/tampered.elf" bs=1 seek="$pos" conv=notrunc 2>/dev/null
if cmp -s "$GUEST" "$payload/tampered.elf"; then
	echo "1..0 # could not tamper with $GUEST"
	exit 1
fi

if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	exec sh "$payload/e2e.sh" "$payload/cloak" "$payload/cloak-owner" "$payload"
fi
if [ -n "${CLOAK_NO_NESTED:-}" ] || ! [ -x "$nested" ] || ! command -v qemu-system-x86_64 >/dev/null; then
	echo "######## SKIPPED: no /dev/kvm and no nested QEMU host (tools/nested); the SEV end-to-end test did NOT run ########" >&2
	# Meson's TAP reader counts this plan as a skip (it would take status 77 for an error).
	echo "1..0 # SKIP no /dev/kvm"
	exit 0
fi
echo "# no /dev/kvm here: running the SEV end-to-end test inside a QEMU TCG guest with nested SVM"
"$nested" --payload "$payload" -- sh /payload/e2e.sh /payload/cloak /payload/cloak-owner /payload
