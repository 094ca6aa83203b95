/* vmsa.h: the SEV-ES save area (VMSA) of a vCPU: its layout, the reset state, and how KVM fills it from the registers. */
#ifndef CLOAK_VMSA_H
#define CLOAK_VMSA_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * One implementation for everybody who needs a VMSA: cloak-owner (the digests
 * of OVMF launches as QEMU, EC2 and GCE start them, and of cloak's own plan),
 * the launch plan (the VMSA of every vCPU cloak starts) and the simulated
 * PSP (the VMSA KVM would hand the firmware at LAUNCH_UPDATE_VMSA).
 * docs/sev-launch.md says where each value comes from.
 */

#define VMSA_SIZE 4096u

/* Who sets up the vCPU's reset state: they differ in a few registers. */
enum vmm_type { VMM_QEMU, VMM_EC2, VMM_GCE };

/* "QEMU", "ec2", "gce" as sev-snp-measure spells them; -1 for others. */
int vmm_type_parse(const char *s);
const char *vmm_type_name(enum vmm_type t);

/* The architectural reset state of a vCPU starting at `eip` (real mode: CS base = eip & ~0xffff). */
struct vmsa_params {
	uint32_t eip;
	uint64_t sev_features;  /* SEV_FEATURES (0 under SEV-ES as QEMU launches it) */
	uint32_t vcpu_sig;      /* CPUID 1 EAX, which RDX holds at reset */
	enum vmm_type vmm;
};
void vmsa_build(const struct vmsa_params *p, uint8_t page[VMSA_SIZE]);

/* CPUID 1 EAX from family, model and stepping (extended family/model fields as AMD defines them). */
uint32_t cpu_sig(unsigned family, unsigned model, unsigned stepping);
/* The signature of a QEMU EPYC CPU model name ("EPYC-Milan"); false when unknown. */
bool cpu_sig_of_type(const char *name, uint32_t *sig);
/* The known names, comma-separated, for messages and --help. */
const char *cpu_type_names(void);

/*
 * What KVM copies into a vCPU's VMSA at KVM_SEV_LAUNCH_UPDATE_VMSA
 * (sev_es_sync_vmsa in arch/x86/kvm/svm/sev.c): the VMCB save area as the
 * KVM_SET_SREGS setters of svm.c filled it, the general registers, XCR0,
 * the VM's VMSA features and, on VMs made with KVM_SEV_INIT2 (a VM type other
 * than the default), the x87/SSE state. Everything else cloak leaves at KVM's
 * reset values, which are constants here (docs/sev-launch.md, "The VMSA").
 */
struct vmsa_vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;     /* read only when fpu_synced */
	bool fpu_synced;        /* the VM was made with KVM_SEV_INIT2 */
	uint64_t xcr0;
	uint64_t sev_features;  /* KVM_SEV_INIT2's vmsa_features */
};
void vmsa_from_vcpu(const struct vmsa_vcpu_state *s, uint8_t page[VMSA_SIZE]);

/* The x87/SSE state after RESET, as QEMU sets it: FCW 0x37f, MXCSR 0x1f80, the rest zero. */
void vmsa_reset_fpu(struct kvm_fpu *fpu);

/*
 * The x87/SSE state as KVM keeps it (the XSAVE legacy area), through
 * KVM_GET_XSAVE/KVM_SET_XSAVE: KVM_GET_FPU and KVM_SET_FPU leave MXCSR out
 * (arch/x86/kvm/x86.c), and KVM_SEV_INIT2 copies MXCSR into the VMSA. to_xsave writes the legacy
 * area of a buffer KVM_GET_XSAVE filled and marks x87 and SSE present in
 * XSTATE_BV, so that KVM_SET_XSAVE takes them (MXCSR included).
 */
void vmsa_fpu_from_xsave(const struct kvm_xsave *x, struct kvm_fpu *fpu);
void vmsa_fpu_to_xsave(const struct kvm_fpu *fpu, struct kvm_xsave *x);

/*
 * The registers cloak gives an application processor under SEV-ES, set with
 * KVM_SET_SREGS/REGS before LAUNCH_UPDATE_VMSA so that its VMSA is known: the
 * x86 reset state at 0xfffffff0 (QEMU's, as sev-snp-measure models it),
 * with RDX = `vcpu_sig`. `sregs` keeps what it held in the fields cloak does
 * not set (CR2, CR8, the APIC base, the interrupt bitmap).
 */
void vmsa_ap_reset_regs(uint32_t vcpu_sig, struct kvm_regs *regs, struct kvm_sregs *sregs);

#endif
