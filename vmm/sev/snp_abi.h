/* snp_abi.h: the kernel ABI of SEV-SNP and guest_memfd (Linux 6.12 uapi), every number cloak uses pinned by an assert. */
#ifndef CLOAK_SNP_ABI_H
#define CLOAK_SNP_ABI_H

/*
 * Only the SNP files include this header. vmm/sev/meson.build compiles them
 * against the uapi of Debian's linux-headers-6.12.*+deb12-common (include/uapi
 * and arch/x86/include/uapi), while the rest of cloak keeps the system's 6.1
 * uapi. The asserts below hold the numbers to the 6.12 kernel's: a later
 * header that moved one would stop the build instead of the launch.
 */
#include <asm/kvm.h>
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include <linux/psp-sev.h>
#include <stddef.h>

#ifndef KVM_X86_SNP_VM
#error "snp_abi.h needs the 6.12 uapi: build through meson (vmm/sev/meson.build adds it), after tools/install-deps.sh"
#endif

/* The size of a field, for the layout asserts. */
#define SNP_ABI_FIELD_SIZE(type, field) sizeof(((type *)0)->field)
#define SNP_ABI_AT(type, field, off, size) \
	_Static_assert(offsetof(type, field) == (off) && SNP_ABI_FIELD_SIZE(type, field) == (size), \
		       #type "." #field " sits at " #off ", " #size " bytes")

/* ---- VM types, capabilities, exits ---- */
_Static_assert(KVM_X86_DEFAULT_VM == 0 && KVM_X86_SEV_VM == 2 && KVM_X86_SEV_ES_VM == 3 && KVM_X86_SNP_VM == 4,
	       "KVM_X86_*_VM");
_Static_assert(KVM_CAP_VM_TYPES == 235, "KVM_CAP_VM_TYPES");
_Static_assert(KVM_CAP_GUEST_MEMFD == 234, "KVM_CAP_GUEST_MEMFD");
_Static_assert(KVM_CAP_MEMORY_ATTRIBUTES == 233, "KVM_CAP_MEMORY_ATTRIBUTES");
_Static_assert(KVM_CAP_MEMORY_FAULT_INFO == 232, "KVM_CAP_MEMORY_FAULT_INFO");
_Static_assert(KVM_CAP_USER_MEMORY2 == 231, "KVM_CAP_USER_MEMORY2");
_Static_assert(KVM_CAP_EXIT_HYPERCALL == 201, "KVM_CAP_EXIT_HYPERCALL");
_Static_assert(KVM_EXIT_HYPERCALL == 3 && KVM_EXIT_MEMORY_FAULT == 39, "KVM_EXIT_*");
_Static_assert(KVM_HC_MAP_GPA_RANGE == 12, "KVM_HC_MAP_GPA_RANGE");
_Static_assert(KVM_MAP_GPA_RANGE_ENCRYPTED == (1 << 4) && KVM_MAP_GPA_RANGE_DECRYPTED == 0,
	       "KVM_MAP_GPA_RANGE_ENCRYPTED/DECRYPTED");
_Static_assert(KVM_MEMORY_EXIT_FLAG_PRIVATE == (1ull << 3), "KVM_MEMORY_EXIT_FLAG_PRIVATE");
SNP_ABI_AT(struct kvm_run, memory_fault.flags, 32, 8);
SNP_ABI_AT(struct kvm_run, memory_fault.gpa, 40, 8);
SNP_ABI_AT(struct kvm_run, memory_fault.size, 48, 8);
SNP_ABI_AT(struct kvm_run, hypercall.nr, 32, 8);
SNP_ABI_AT(struct kvm_run, hypercall.args, 40, 48);
SNP_ABI_AT(struct kvm_run, hypercall.ret, 88, 8);

/* ---- guest_memfd and memory attributes ---- */
_Static_assert(KVM_MEM_GUEST_MEMFD == (1ul << 2), "KVM_MEM_GUEST_MEMFD");
_Static_assert(KVM_MEMORY_ATTRIBUTE_PRIVATE == (1ull << 3), "KVM_MEMORY_ATTRIBUTE_PRIVATE");
_Static_assert(sizeof(struct kvm_userspace_memory_region2) == 160, "struct kvm_userspace_memory_region2");
SNP_ABI_AT(struct kvm_userspace_memory_region2, slot, 0, 4);
SNP_ABI_AT(struct kvm_userspace_memory_region2, flags, 4, 4);
SNP_ABI_AT(struct kvm_userspace_memory_region2, guest_phys_addr, 8, 8);
SNP_ABI_AT(struct kvm_userspace_memory_region2, memory_size, 16, 8);
SNP_ABI_AT(struct kvm_userspace_memory_region2, userspace_addr, 24, 8);
SNP_ABI_AT(struct kvm_userspace_memory_region2, guest_memfd_offset, 32, 8);
SNP_ABI_AT(struct kvm_userspace_memory_region2, guest_memfd, 40, 4);
_Static_assert(sizeof(struct kvm_memory_attributes) == 32, "struct kvm_memory_attributes");
SNP_ABI_AT(struct kvm_memory_attributes, address, 0, 8);
SNP_ABI_AT(struct kvm_memory_attributes, size, 8, 8);
SNP_ABI_AT(struct kvm_memory_attributes, attributes, 16, 8);
SNP_ABI_AT(struct kvm_memory_attributes, flags, 24, 8);
_Static_assert(sizeof(struct kvm_create_guest_memfd) == 64, "struct kvm_create_guest_memfd");
SNP_ABI_AT(struct kvm_create_guest_memfd, size, 0, 8);
SNP_ABI_AT(struct kvm_create_guest_memfd, flags, 8, 8);
/* _IOW/_IOWR(KVMIO 0xAE, nr, size): direction << 30 | size << 16 | 0xAE << 8 | nr. */
_Static_assert(KVM_SET_USER_MEMORY_REGION2 == 0x40a0ae49u, "KVM_SET_USER_MEMORY_REGION2");
_Static_assert(KVM_SET_MEMORY_ATTRIBUTES == 0x4020aed2u, "KVM_SET_MEMORY_ATTRIBUTES");
_Static_assert(KVM_CREATE_GUEST_MEMFD == 0xc040aed4u, "KVM_CREATE_GUEST_MEMFD");
_Static_assert(KVM_MEMORY_ENCRYPT_OP == 0xc008aebau, "KVM_MEMORY_ENCRYPT_OP");
_Static_assert(KVM_CHECK_EXTENSION == 0xae03u, "KVM_CHECK_EXTENSION");
_Static_assert(KVM_GET_DEVICE_ATTR == 0x4018aee2u, "KVM_GET_DEVICE_ATTR");
_Static_assert(KVM_X86_GRP_SEV == 1 && KVM_X86_SEV_VMSA_FEATURES == 0, "KVM_X86_GRP_SEV / KVM_X86_SEV_VMSA_FEATURES");

/* ---- KVM_MEMORY_ENCRYPT_OP: the SNP commands ---- */
_Static_assert(KVM_SEV_INIT2 == 22, "KVM_SEV_INIT2");
_Static_assert(KVM_SEV_SNP_LAUNCH_START == 100 && KVM_SEV_SNP_LAUNCH_UPDATE == 101 &&
	       KVM_SEV_SNP_LAUNCH_FINISH == 102, "KVM_SEV_SNP_LAUNCH_*");
_Static_assert(sizeof(struct kvm_sev_cmd) == 24, "struct kvm_sev_cmd");
SNP_ABI_AT(struct kvm_sev_cmd, id, 0, 4);
SNP_ABI_AT(struct kvm_sev_cmd, data, 8, 8);
SNP_ABI_AT(struct kvm_sev_cmd, error, 16, 4);
SNP_ABI_AT(struct kvm_sev_cmd, sev_fd, 20, 4);
_Static_assert(sizeof(struct kvm_sev_init) == 48, "struct kvm_sev_init");
SNP_ABI_AT(struct kvm_sev_init, vmsa_features, 0, 8);
SNP_ABI_AT(struct kvm_sev_init, flags, 8, 4);
SNP_ABI_AT(struct kvm_sev_init, ghcb_version, 12, 2);

_Static_assert(sizeof(struct kvm_sev_snp_launch_start) == 64, "struct kvm_sev_snp_launch_start");
SNP_ABI_AT(struct kvm_sev_snp_launch_start, policy, 0, 8);
SNP_ABI_AT(struct kvm_sev_snp_launch_start, gosvw, 8, 16);
SNP_ABI_AT(struct kvm_sev_snp_launch_start, flags, 24, 2);

_Static_assert(KVM_SEV_SNP_PAGE_TYPE_NORMAL == 1 && KVM_SEV_SNP_PAGE_TYPE_ZERO == 3 &&
	       KVM_SEV_SNP_PAGE_TYPE_UNMEASURED == 4 && KVM_SEV_SNP_PAGE_TYPE_SECRETS == 5 &&
	       KVM_SEV_SNP_PAGE_TYPE_CPUID == 6, "KVM_SEV_SNP_PAGE_TYPE_* (the firmware's PAGE_TYPE values)");
_Static_assert(sizeof(struct kvm_sev_snp_launch_update) == 64, "struct kvm_sev_snp_launch_update");
SNP_ABI_AT(struct kvm_sev_snp_launch_update, gfn_start, 0, 8);
SNP_ABI_AT(struct kvm_sev_snp_launch_update, uaddr, 8, 8);
SNP_ABI_AT(struct kvm_sev_snp_launch_update, len, 16, 8);
SNP_ABI_AT(struct kvm_sev_snp_launch_update, type, 24, 1);
SNP_ABI_AT(struct kvm_sev_snp_launch_update, flags, 26, 2);

_Static_assert(KVM_SEV_SNP_ID_BLOCK_SIZE == 96 && KVM_SEV_SNP_ID_AUTH_SIZE == 4096 &&
	       KVM_SEV_SNP_FINISH_DATA_SIZE == 32, "KVM_SEV_SNP_* sizes");
_Static_assert(sizeof(struct kvm_sev_snp_launch_finish) == 88, "struct kvm_sev_snp_launch_finish");
SNP_ABI_AT(struct kvm_sev_snp_launch_finish, id_block_uaddr, 0, 8);
SNP_ABI_AT(struct kvm_sev_snp_launch_finish, id_auth_uaddr, 8, 8);
SNP_ABI_AT(struct kvm_sev_snp_launch_finish, id_block_en, 16, 1);
SNP_ABI_AT(struct kvm_sev_snp_launch_finish, auth_key_en, 17, 1);
SNP_ABI_AT(struct kvm_sev_snp_launch_finish, vcek_disabled, 18, 1);
SNP_ABI_AT(struct kvm_sev_snp_launch_finish, host_data, 19, 32);
SNP_ABI_AT(struct kvm_sev_snp_launch_finish, flags, 54, 2);

/* ---- /dev/sev: SNP_PLATFORM_STATUS ---- */
_Static_assert(SEV_ISSUE_CMD == 0xc0105300u, "SEV_ISSUE_CMD");
_Static_assert(SNP_PLATFORM_STATUS == 9, "SNP_PLATFORM_STATUS");
_Static_assert(sizeof(struct sev_user_data_snp_status) == 32, "struct sev_user_data_snp_status");
SNP_ABI_AT(struct sev_user_data_snp_status, api_major, 0, 1);
SNP_ABI_AT(struct sev_user_data_snp_status, api_minor, 1, 1);
SNP_ABI_AT(struct sev_user_data_snp_status, state, 2, 1);
SNP_ABI_AT(struct sev_user_data_snp_status, build_id, 4, 4);
SNP_ABI_AT(struct sev_user_data_snp_status, guest_count, 12, 4);
SNP_ABI_AT(struct sev_user_data_snp_status, current_tcb_version, 16, 8);
SNP_ABI_AT(struct sev_user_data_snp_status, reported_tcb_version, 24, 8);
/* Firmware status codes the SNP paths name. */
_Static_assert(SEV_RET_INVALID_GUEST_STATE == 2 && SEV_RET_POLICY_FAILURE == 7 && SEV_RET_INVALID_ADDRESS == 9 &&
	       SEV_RET_BAD_SIGNATURE == 0xa && SEV_RET_BAD_MEASUREMENT == 0xb && SEV_RET_INVALID_PARAM == 0x16 &&
	       SEV_RET_INVALID_PAGE_STATE == 0x1a && SEV_RET_INVALID_KEY == 0x27, "SEV_RET_*");

#endif
