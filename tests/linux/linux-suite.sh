#!/bin/sh
# linux-suite.sh: boots Debian's stock cloud kernel on cloak with the test initramfs and checks its report (TAP).
# usage: linux-suite.sh CLOAK BZIMAGE VMLINUX INITRD
set -u
CLOAK=$1 BZ=$2 VMLINUX=$3 INITRD=$4
. "$(dirname "$0")/../integration/lib.sh"
export CLOAK_CASE_TIMEOUT=300  # a boot takes 5-8 s nested; a hang should not eat CI
base="console=ttyS0 reboot=k panic=-1 quiet"

run_cloak run --kernel "$BZ" --initrd "$INITRD" --mem 512M --cmdline "$base" --timeline "$tap_tmp/bz.json"
expect "stock kernel (bzImage) reaches userspace and powers off" 0 --out "cloak-linux: userspace reached" \
	--out "cloak-linux: done, 0 failed"
expect "the kernel uses kvm-clock" 0 --out "cloak-linux: clocksource kvm-clock"
sed 's/^/#   /' "$tap_tmp/bz.json"
grep -q '"boot_timer": [0-9]' "$tap_tmp/bz.json" && ok "boot timer marked from userspace" ||
	not_ok "boot timer marked from userspace" "no boot_timer in the timeline"

run_cloak run --kernel "$VMLINUX" --initrd "$INITRD" --mem 512M --cmdline "$base" --timeline "$tap_tmp/pvh.json"
expect "stock kernel (vmlinux through its PVH note) reaches userspace" 0 --out "cloak-linux: userspace reached" \
	--out "cloak-linux: done, 0 failed"
grep -q '"boot": "pvh"' "$tap_tmp/pvh.json" && ok "vmlinux took the PVH entry" || not_ok "vmlinux took the PVH entry" "$(head -5 "$tap_tmp/pvh.json")"

run_cloak run --kernel "$BZ" --initrd "$INITRD" --mem 512M --cpus 2 --cmdline "$base"
expect "two vCPUs come up (ACPI MADT)" 0 --out "cloak-linux: cpus 2" --out "cloak-linux: done, 0 failed"

run_cloak run --kernel "$BZ" --initrd "$INITRD" --mem 512M --cmdline "$base cloak.expect=blk"
expect "a device the guest expects but lacks is reported as a failure" $(((1 << 1) | 1)) \
	--out "cloak-linux: FAIL blk: no /dev/vda"

tap_done
