#!/bin/sh
# build.sh: builds the libFuzzer targets with clang (ASan + UBSan), apart from the gcc build.
# usage: tests/fuzz/build.sh [OUTDIR] [TARGET...]      (default build-fuzz, every target)
# run:   OUTDIR/fuzz_TARGET OUTDIR/work-TARGET tests/fuzz/corpus/TARGET     (README: Fuzzing)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
fz=$top/tests/fuzz
out=${1:-$top/build-fuzz}
[ $# -eq 0 ] || shift
mkdir -p "$out"
CC=${CC:-clang}
# lld with --gc-sections links only what a target reaches, so each target names just the files under test.
flags="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -ffunction-sections -fdata-sections -fuse-ld=lld -Wl,--gc-sections
  -Wall -Wextra -Werror -Wno-missing-field-initializers -DCLOAK_VERSION_STRING=\"fuzz\"
  -I$top -I$top/vmm -I$top/devices -I$top/tools/owner -I$top/tests/fakes"
v=$top/vmm d=$top/devices
# The virtio transport and guest memory: a device reaches the rest through the fake device host.
transport="$d/virtq.c $d/pci.c $d/virtio_pci.c $v/util.c $v/guestmem.c $v/shared_map.c
  $top/tests/fakes/fake_host.c"
loader="$v/plan.c $v/loader_elf.c $v/loader_bzimage.c $v/loader_multiboot.c $v/boot_x86.c $v/boot_info.c
  $v/boot_multiboot.c $v/boot_acpi.c $v/boot_mptable.c $v/dma_budget.c $v/config.c $v/util.c $fz/plan_glue.c
  $v/plan_verifier.c $v/sev/sev_vmsa.c $v/sev/sev_encoding.c $v/sev/snp_plan.c"

sources() {
	case $1 in
	virtq) echo "$d/virtq.c $v/guestmem.c $v/shared_map.c" ;;
	pci) echo "$transport" ;;
	blk) echo "$transport $d/virtio_blk.c $fz/dev_glue.c" ;;
	net) echo "$transport $fz/dev_glue.c" ;;  # fuzz_net.c compiles virtio_net.c in
	elf | bzimage) echo "$loader" ;;
	# config.c reads --policy by SNP's rules too (snp_plan.c).
	config) echo "$v/config.c $v/config_file.c $v/sev/sev_measure.c $v/sev/sev_crypto.c $v/sev/sev_encoding.c $v/util.c
	  $v/sev/snp_plan.c" ;;
	# Every device, for its option's parse hook (devices_for_option), over the transport and the fake host.
	cmdline) echo "$v/config.c $v/config_file.c $v/sev/sev_measure.c $v/sev/sev_crypto.c $v/sev/sev_encoding.c $transport
	  $v/sev/snp_plan.c
	  $(ls "$d"/*.c | grep -v -e /virtq.c -e /pci.c -e /virtio_pci.c)" ;;
	attest) echo "$v/sev/sev_attest.c $v/sev/sev_encoding.c $v/sev/sev_crypto.c $v/util.c" ;;
	session) echo "$v/sev/sev_crypto.c $v/sev/sev_encoding.c $v/sev/sev_files.c $v/util.c" ;;
	ovmf) echo "$top/tools/owner/ovmf.c $v/sev/sev_crypto.c $v/sev/sev_encoding.c $v/util.c" ;;
	# The whole owner tool (its main renamed by extra), for the session command; the plan glue stands in
	# for the devices' DMA budget and the DSDT, and the demo guest is never loaded (the command has no plan).
	owner) o=$top/tools/owner
	  echo "$o/cloak-owner.c $o/ovmf.c $o/owner_plan.c $o/owner_cbit.c $o/owner_measure.c $o/owner_verify.c
	  $o/owner_report.c $o/snp_digest.c $v/sev/amd_cert.c $v/sev/snp_report.c $v/sev/snp_measure.c
	  $v/sev/sev_crypto.c $v/sev/sev_files.c $v/sev/sev_measure.c $v/config_file.c $loader
	  $fz/demo_stub.c" ;;
	*) echo "build.sh: unknown target '$1'" >&2; return 1 ;;
	esac
}
# Per-target flags. Pattern-initialised locals make a read of an unset variable (a free of stack garbage)
# fail at once; not for the plan targets, where filling the 64 KiB device-tree buffer on every input would
# halve their speed.
extra() {
	case $1 in
	owner) echo "-ftrivial-auto-var-init=pattern -Dmain=cloak_owner_main" ;;
	elf | bzimage) ;;
	*) echo "-ftrivial-auto-var-init=pattern" ;;
	esac
}
libs() {
	case $1 in
	elf | bzimage) echo "-lfdt -lcrypto" ;;
	config) echo "-lcrypto -ljansson" ;;
	cmdline) echo "-lcrypto -ljansson -lpthread" ;;
	attest | session | ovmf) echo "-lcrypto" ;;
	owner) echo "-lcrypto -lfdt -ljansson" ;;
	*) echo "-lpthread" ;;
	esac
}

targets=${*:-$(grep -v "^#" "$fz/targets")}
for t in $targets; do
	src=$(sources "$t")
	# shellcheck disable=SC2086  # the lists are word lists
	$CC $flags $(extra "$t") -o "$out/fuzz_$t" "$fz/fuzz_$t.c" $src $(libs "$t")
done
echo "built in $out:" $(for t in $targets; do printf 'fuzz_%s ' "$t"; done)
