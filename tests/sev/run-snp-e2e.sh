#!/bin/sh
# run-snp-e2e.sh: gathers cloak, cloak-owner, an ID key and the test bzImage, and runs snp-e2e.sh on KVM
# (tests/run-on-kvm.sh).
# usage: run-snp-e2e.sh CLOAK CLOAK_OWNER SUITE_DIR [BZIMAGE]
# Environment: CLOAK_LINUX_KERNEL (a stock bzImage; default the newest /boot/vmlinuz-*-cloud-amd64)
set -u
CLOAK=$1 OWNER=$2 SUITE=$3
top=$(cd "$SUITE/../.." && pwd)
payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
cp "$CLOAK" "$payload/cloak"
cp "$OWNER" "$payload/cloak-owner"
cp "$SUITE/snp-e2e.sh" "$payload/"
[ -n "${4:-}" ] && cp "$4" "$payload/bzguest.bzImage"
# A stock kernel and the Linux test initramfs (as run-e2e.sh): its SNP launch under the simulator, as a plain guest.
kernel=${CLOAK_LINUX_KERNEL:-$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)}
if [ -n "$kernel" ] && sh "$top/tools/linux/mk-test-initramfs.sh" "$payload/initrd.gz" "${kernel##*/vmlinuz-}" >&2; then
	cp "$kernel" "$payload/bzImage"
else
	echo "######## no Debian cloud kernel or its test initramfs: the stock-kernel SNP test will be SKIPPED ########" >&2
fi
if ! openssl ecparam -name secp384r1 -genkey -noout -out "$payload/id.pem" 2>/dev/null; then
	echo "1..0 # could not make a P-384 key with openssl"
	exit 1
fi
sh "$top/tests/run-on-kvm.sh" "SEV-SNP end-to-end" "$payload" -- sh ./snp-e2e.sh ./cloak ./cloak-owner .
