#!/bin/sh
# mk-test-initramfs.sh: builds the Linux test initramfs: busybox-static, the kernel's own virtio
# modules, test-init.sh as /init and guest-exit. Only Debian packages are used.
# usage: mk-test-initramfs.sh OUT.cpio.gz [KERNEL_VERSION [MODULES_DIR]]
#        (MODULES_DIR defaults to /lib/modules/KERNEL_VERSION; a kernel unpacked elsewhere needs depmod -b first)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$1
kver=${2:-$(ls /lib/modules | grep cloud-amd64 | sort -V | tail -1)}
moddir=${3:-/lib/modules/$kver}
[ -f "$moddir/modules.dep" ] || { echo "mk-test-initramfs.sh: no modules for kernel $kver in $moddir; install linux-image-cloud-amd64" >&2; exit 2; }
[ -x /bin/busybox ] || { echo "mk-test-initramfs.sh: /bin/busybox missing; install busybox-static" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/bin" "$work/root/proc" "$work/root/sys" "$work/root/dev" "$work/root/tmp" "$work/root/modules"
cp /bin/busybox "$work/root/bin/busybox"
cp "$here/test-init.sh" "$work/root/init"
chmod 755 "$work/root/init"
gcc -static -O2 -Wall -Wextra -Werror -o "$work/root/guest-exit" "$here/guest-exit.c"

# The modules and what they depend on, in load order (dependencies first).
: >"$work/root/modules.order"
add_module() {
	local path dep name  # recursion: each call keeps its own
	path=$(grep -E "(^|/)$1\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | head -1 | cut -d: -f1)
	if [ -z "$path" ]; then
		# Newer kernels build some of these in (6.12's cloud config: virtio_pci, virtio_console).
		grep -qE "(^|/)$1\.ko\$" "$moddir/modules.builtin" 2>/dev/null && return 0
		echo "mk-test-initramfs.sh: module $1 not found for $kver" >&2
		exit 2
	fi
	for dep in $(grep -E "^$path:" "$moddir/modules.dep" | cut -d: -f2); do
		add_module "$(basename "$dep" | sed 's/\.ko.*//')"
	done
	name=$(basename "$path" | sed 's/\.ko.*//').ko
	grep -qx "$name" "$work/root/modules.order" && return 0
	case $path in
	*.xz) xz -dc "$moddir/$path" >"$work/root/modules/$name" ;;
	*.zst) zstd -qdc "$moddir/$path" >"$work/root/modules/$name" ;;
	*) cp "$moddir/$path" "$work/root/modules/$name" ;;
	esac
	echo "$name" >>"$work/root/modules.order"
}
for m in virtio_pci virtio_blk virtio_net virtio_console evdev button; do add_module "$m"; done
(cd "$work/root" && find . | cpio -o -H newc 2>/dev/null) | gzip -1 >"$out"
