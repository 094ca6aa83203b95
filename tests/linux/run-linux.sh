#!/bin/sh
# run-linux.sh: runs the Linux suite directly on a KVM that can run a stock kernel, else inside the nested QEMU host.
# usage: run-linux.sh CLOAK SOURCE_ROOT WORKDIR
set -u
CLOAK=$1 SRC=$2 WORK=$3
kernel=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)
if [ -z "$kernel" ]; then
	echo "######## SKIPPED: no Debian cloud kernel in /boot (install linux-image-cloud-amd64); the Linux tests did NOT run ########" >&2
	echo "1..0 # SKIP no /boot/vmlinuz-*-cloud-amd64"
	exit 0  # meson 1.0 reads "1..0 # SKIP" as skipped; status 77 would be an error for TAP
fi
kver=${kernel#/boot/vmlinuz-}
mkdir -p "$WORK"
"$SRC/tools/linux/mk-test-initramfs.sh" "$WORK/test-initrd.gz" "$kver" || exit 1
"$SRC/tools/linux/extract-vmlinux.sh" "$kernel" "$WORK/vmlinux" || exit 1

# A software-assisted KVM (kvm_pvm, DESIGN.md §1) cannot run a stock kernel: go nested there too.
if [ -c /dev/kvm ] && [ -w /dev/kvm ] && ! [ -d /sys/module/kvm_pvm ] && [ -z "${CLOAK_LINUX_NESTED:-}" ]; then
	exec sh "$SRC/tests/linux/linux-suite.sh" "$CLOAK" "$kernel" "$WORK/vmlinux" "$WORK/test-initrd.gz"
fi
if ! [ -x "$SRC/tools/nested/run-nested.sh" ] || ! command -v qemu-system-x86_64 >/dev/null; then
	echo "######## SKIPPED: no KVM that runs a stock kernel and no nested QEMU host; the Linux tests did NOT run ########" >&2
	echo "1..0 # SKIP no suitable KVM"
	exit 0  # meson 1.0 reads "1..0 # SKIP" as skipped; status 77 would be an error for TAP
fi
echo "# running the Linux suite inside a QEMU TCG guest with nested SVM"
payload=$WORK/payload
rm -rf "$payload"
mkdir -p "$payload/tests/linux" "$payload/tests/integration"
cp "$CLOAK" "$payload/cloak"
cp "$kernel" "$payload/bzImage"
cp "$WORK/vmlinux" "$WORK/test-initrd.gz" "$payload/"
cp "$SRC/tests/linux/linux-suite.sh" "$payload/tests/linux/"
cp "$SRC/tests/integration/lib.sh" "$payload/tests/integration/"
# iproute2's ip for the network namespace of the tap's peer (busybox's ip has no netns).
mkdir -p "$payload/bin"
cp "$(command -v ip)" "$payload/bin/ip"
exec "$SRC/tools/nested/run-nested.sh" --mem 2048 --timeout 1500 --modules tun --payload "$payload" -- \
	env CLOAK_IP=/payload/bin/ip \
	sh /payload/tests/linux/linux-suite.sh /payload/cloak /payload/bzImage /payload/vmlinux /payload/test-initrd.gz
