#!/bin/sh
# owner-links.sh: cloak-owner links only what it computes with: no PSP backend, no launch, no attest command, no VMM or device.
# The owner tool runs on the guest owner's machine; code that drives /dev/sev or a VM has no business there.
# usage: owner-links.sh CLOAK_OWNER
set -u
OWNER=$1
n=0 failed=0
defined=$(nm --defined-only "$OWNER" | awk '$2 ~ /^[Tt]$/ { print $3 }')

check() { # NAME PREFIX...
	name=$1
	shift
	hits=""
	for p in "$@"; do hits="$hits$(printf '%s\n' "$defined" | grep "^$p" | tr '\n' ' ')"; done
	n=$((n + 1))
	if [ -z "$hits" ]; then echo "ok $n - cloak-owner links no $name"; else
		failed=$((failed + 1)); echo "not ok $n - cloak-owner links $name: $hits"; fi
}
check "PSP backend" psp_
check "launch step" sev_launch_ sev_vm_type sev_cpuid_leaf
check "attestation command" sev_attest_ sev_secret_target_check
check "host check or PDH export" sev_host_ sev_export_main
check "VMM or device" virtio_ pci_ devices_ machine_ kvm_ eventloop_ cvm_ devhost_ uart_ launch_run
echo "1..$n"
[ "$failed" = 0 ]
