#!/bin/sh
# run-linux.sh: builds the test initramfs and vmlinux, gathers them with cloak and the suite, and runs
# the Linux suite on a KVM that can run a stock kernel (tests/run-on-kvm.sh --full-kvm).
# usage: run-linux.sh CLOAK SOURCE_ROOT WORKDIR
# Environment: CLOAK_LINUX_KERNEL (the guest bzImage; default the newest /boot/vmlinuz-*-cloud-amd64),
#              CLOAK_LINUX_MODULES (its modules directory; default /lib/modules/<its version>).
set -u
CLOAK=$1 SRC=$2 WORK=$3
kernel=${CLOAK_LINUX_KERNEL:-$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)}
if [ -z "$kernel" ]; then
	echo "######## SKIPPED: no Debian cloud kernel in /boot (install linux-image-cloud-amd64); the Linux tests did NOT run ########" >&2
	echo "1..0 # SKIP no /boot/vmlinuz-*-cloud-amd64"
	exit 0  # meson 1.0 reads "1..0 # SKIP" as skipped; status 77 would be an error for TAP
fi
kver=${kernel##*/vmlinuz-}
payload=$WORK/payload
rm -rf "$payload"
mkdir -p "$payload/tests/linux" "$payload/tests/integration" "$payload/bin"
"$SRC/tools/linux/mk-test-initramfs.sh" "$payload/test-initrd.gz" "$kver" ${CLOAK_LINUX_MODULES:+"$CLOAK_LINUX_MODULES"} ||
	exit 1
"$SRC/tools/linux/extract-vmlinux.sh" "$kernel" "$payload/vmlinux" || exit 1
cp "$CLOAK" "$payload/cloak"
cp "$kernel" "$payload/bzImage"
cp "$SRC/tests/linux/linux-suite.sh" "$payload/tests/linux/"
cp "$SRC/tests/integration/lib.sh" "$payload/tests/integration/"
# iproute2's ip for the network namespace of the tap's peer (busybox's ip has no netns).
cp "$(command -v ip)" "$payload/bin/ip"
# exec: a signal to this script reaches the suite and run-nested.sh's QEMU directly.
exec sh "$SRC/tests/run-on-kvm.sh" --full-kvm --modules tun Linux "$payload" -- \
	env CLOAK_IP=./bin/ip sh tests/linux/linux-suite.sh ./cloak ./bzImage ./vmlinux ./test-initrd.gz
