#!/bin/sh
# run-e2e.sh: gathers cloak, cloak-owner, the secret guest and a tampered twin, and runs e2e.sh on KVM (tests/run-on-kvm.sh).
# usage: run-e2e.sh CLOAK CLOAK_OWNER GUEST_ELF SUITE_DIR
# Environment: CLOAK_LINUX_KERNEL (the bzImage the measured-boot verifier boots; default the newest
#              /boot/vmlinuz-*-cloud-amd64; without one those tests are skipped, loudly).
set -u
CLOAK=$1 OWNER=$2 GUEST=$3 SUITE=$4
top=$(cd "$SUITE/../.." && pwd)
payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT

cp "$CLOAK" "$payload/cloak"
cp "$OWNER" "$payload/cloak-owner"
cp "$GUEST" "$payload/guest.elf"
cp "$SUITE/e2e.sh" "$SUITE/verifier-e2e.sh" "$payload/"
# A stock kernel and the Linux test initramfs, for the measured-boot verifier's bzImage tests.
kernel=${CLOAK_LINUX_KERNEL:-$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)}
if [ -n "$kernel" ] && sh "$top/tools/linux/mk-test-initramfs.sh" "$payload/initrd.gz" "${kernel##*/vmlinuz-}" >&2; then
	cp "$kernel" "$payload/bzImage"
else
	echo "######## no Debian cloud kernel or its test initramfs: the verifier's bzImage tests will be SKIPPED ########" >&2
fi
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

sh "$top/tests/run-on-kvm.sh" "SEV end-to-end" "$payload" -- sh ./e2e.sh ./cloak ./cloak-owner .
