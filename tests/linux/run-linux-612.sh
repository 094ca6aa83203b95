#!/bin/sh
# run-linux-612.sh: the Linux suite on Debian 12's second stock kernel, 6.12 cloud, unpacked from its
# package into WORKDIR (cached there) rather than installed, so /boot and the nested host keep their 6.1.
# usage: run-linux-612.sh CLOAK SOURCE_ROOT WORKDIR
set -u
CLOAK=$1 SRC=$2 WORK=$3
skip() {
	echo "######## SKIPPED: $1; the Linux 6.12 tests did NOT run ########" >&2
	echo "1..0 # SKIP $1"
	exit 0  # meson 1.0 reads "1..0 # SKIP" as skipped
}
mkdir -p "$WORK"
pkg=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9.]+\+deb12-cloud-amd64-unsigned$' 2>/dev/null |
	cut -d' ' -f1 | sort -V | tail -1)
[ -n "$pkg" ] || skip "apt knows no linux-image-6.12.*+deb12-cloud-amd64-unsigned (run apt-get update)"
kver=${pkg#linux-image-}
kver=${kver%-unsigned}
root=$WORK/$kver
if ! [ -f "$root/boot/vmlinuz-$kver" ] || ! [ -f "$root/lib/modules/$kver/modules.dep" ]; then
	rm -rf "$root" "$WORK"/*.deb
	(cd "$WORK" && apt-get download "$pkg" >/dev/null 2>&1) || skip "cannot download $pkg (no Debian mirror reachable)"
	dpkg-deb -x "$WORK"/"$pkg"_*.deb "$root" || exit 1
	depmod -b "$root" "$kver" || exit 1
	rm -f "$WORK"/*.deb
fi
CLOAK_LINUX_KERNEL=$root/boot/vmlinuz-$kver CLOAK_LINUX_MODULES=$root/lib/modules/$kver \
	exec sh "$SRC/tests/linux/run-linux.sh" "$CLOAK" "$SRC" "$WORK/run"
