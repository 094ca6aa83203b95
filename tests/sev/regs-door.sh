#!/bin/sh
# regs-door.sh: every vCPU register ioctl in the VMM goes through cvm_vcpu_regs (vmm/cvm.c), which SEV-ES seals.
# After LAUNCH_UPDATE_VMSA the registers live encrypted in the VMSAs; a direct KVM_GET/SET_* elsewhere would
# read stale values or write state the measurement never saw. The simulated PSP (psp_sim.c) and the simulated
# SNP kernel side (psp_sim_snp.c) stand for the kernel, which reads them before the seal, and the simulator's
# memory views (sim_memview.c) for the hardware's private page walks (CR3 reaches the private alias): the other
# places allowed.
# usage: regs-door.sh SOURCE_ROOT
set -u
root=$1
pattern='ioctl\([^;]*KVM_(GET|SET)_(REGS|SREGS|SREGS2|FPU|XCRS|XSAVE|XSAVE2|MSRS|DEBUGREGS|VCPU_EVENTS|LAPIC)\b'
hits=$(cd "$root" && grep -rnE "$pattern" vmm devices | grep -v '^vmm/cvm\.c:' | grep -v '^vmm/sev/psp_sim\.c:' | grep -v '^vmm/sev/psp_sim_snp\.c:' |
	grep -v '^vmm/sev/sim_memview\.c:')
door=$(cd "$root" && grep -cE 'return ioctl\(vcpu_fd, request, arg\)' vmm/cvm.c)
sim=$(cd "$root" && grep -cE "$pattern" vmm/sev/psp_sim.c)
n=0 failed=0
check() { n=$((n + 1)); if [ "$2" = yes ]; then echo "ok $n - $1"; else failed=$((failed + 1)); echo "not ok $n - $1"; printf '%s\n' "$3" | sed 's/^/# /'; fi; }
[ -z "$hits" ] && r=yes || r=no
check "no register ioctl outside cvm_vcpu_regs" "$r" "$hits"
[ "$door" = 1 ] && r=yes || r=no
check "cvm_vcpu_regs is the one door (vmm/cvm.c)" "$r" "found $door"
[ "$sim" -gt 0 ] && r=yes || r=no
check "the pattern still finds the simulated kernel's reads (the check can fail)" "$r" "found $sim in psp_sim.c"
echo "1..$n"
[ "$failed" = 0 ]
