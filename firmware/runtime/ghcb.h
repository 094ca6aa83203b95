/* ghcb.h: the GHCB protocol's encodings (MSR protocol, GHCB page fields, IOIO exit info) and the decoder of the instructions the #VC handler emulates; plain C, built for the guest and for the host's unit tests. */
#ifndef CLOAK_GHCB_H
#define CLOAK_GHCB_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The values below are AMD's "SEV-ES Guest-Hypervisor Communication Block
 * Standardization" (version 2) and the SVM intercept codes of AMD's APM
 * volume 2; docs/guest-abi.md says what the runtime does with them.
 */
#define GHCB_MSR 0xc0010130u
#define SEV_STATUS_MSR 0xc0010131u
#define SEV_STATUS_SEV (1ull << 0)
#define SEV_STATUS_ES (1ull << 1)
#define SEV_STATUS_SNP (1ull << 2)

/* The GHCB protocol versions this runtime speaks. */
#define GHCB_VERSION_MIN 1
#define GHCB_VERSION_MAX 2

/* MSR protocol: the low 12 bits of the GHCB MSR say what the rest means. */
#define GHCB_MSR_INFO_MASK 0xfffull
#define GHCB_MSR_SEV_INFO_RESP 0x001
#define GHCB_MSR_SEV_INFO_REQ 0x002
#define GHCB_MSR_CPUID_REQ 0x004
#define GHCB_MSR_CPUID_RESP 0x005
#define GHCB_MSR_REG_GPA_REQ 0x012
#define GHCB_MSR_REG_GPA_RESP 0x013
#define GHCB_MSR_PSC_REQ 0x014
#define GHCB_MSR_PSC_RESP 0x015
#define GHCB_MSR_TERM_REQ 0x100

enum ghcb_cpuid_reg { GHCB_CPUID_EAX = 0, GHCB_CPUID_EBX = 1, GHCB_CPUID_ECX = 2, GHCB_CPUID_EDX = 3 };
enum ghcb_psc_op { GHCB_PSC_PRIVATE = 1, GHCB_PSC_SHARED = 2 };

/* Termination reasons: set 0 (general), the codes the spec defines there. */
#define GHCB_TERM_SET_GENERAL 0
#define GHCB_TERM_GENERAL 0
#define GHCB_TERM_PROTOCOL_UNSUPPORTED 1
#define GHCB_TERM_SNP_UNSUPPORTED 2

uint64_t ghcb_msr_sev_info_req(void);
/* Whether v is an SEV_INFO response; if so, the hypervisor's version range and the C-bit it reports. */
bool ghcb_msr_sev_info_parse(uint64_t v, unsigned *min, unsigned *max, unsigned *cbit);
/* The highest version both sides speak, or 0 when the ranges do not meet. */
unsigned ghcb_pick_version(unsigned hv_min, unsigned hv_max);
uint64_t ghcb_msr_cpuid_req(uint32_t fn, enum ghcb_cpuid_reg reg);
/* Whether v is a CPUID response; if so, the register's value. */
bool ghcb_msr_cpuid_parse(uint64_t v, uint32_t *value);
uint64_t ghcb_msr_reg_gpa_req(uint64_t gfn);
/* Whether v accepts the registration of gfn (the response echoes the frame number). */
bool ghcb_msr_reg_gpa_ok(uint64_t v, uint64_t gfn);
uint64_t ghcb_msr_psc_req(uint64_t gfn, enum ghcb_psc_op op);
/* Whether v is a page-state-change response reporting success. */
bool ghcb_msr_psc_ok(uint64_t v);
uint64_t ghcb_msr_term_req(unsigned set, unsigned reason);

/* SVM exit codes the handler sees in #VC's error code or sends in sw_exit_code. */
#define SVM_EXIT_CPUID 0x72u
#define SVM_EXIT_IOIO 0x7bu
#define SVM_EXIT_MSR 0x7cu
#define SVM_EXIT_VMMCALL 0x81u
#define SVM_EXIT_WBINVD 0x89u
#define SVM_EXIT_NPF 0x400u
#define SVM_VMGEXIT_MMIO_READ 0x80000001u
#define SVM_VMGEXIT_MMIO_WRITE 0x80000002u

/* The GHCB page: 4 KiB, fields at fixed offsets of its save area, each marked in the valid bitmap. */
#define GHCB_SIZE 4096u
#define GHCB_OFF_CPL 0x0cbu
#define GHCB_OFF_RAX 0x1f8u
#define GHCB_OFF_RCX 0x308u
#define GHCB_OFF_RDX 0x310u
#define GHCB_OFF_RBX 0x318u
#define GHCB_OFF_SW_EXIT_CODE 0x390u
#define GHCB_OFF_SW_EXIT_INFO_1 0x398u
#define GHCB_OFF_SW_EXIT_INFO_2 0x3a0u
#define GHCB_OFF_SW_SCRATCH 0x3a8u
#define GHCB_OFF_VALID_BITMAP 0x3f0u
#define GHCB_OFF_SHARED_BUFFER 0x800u
#define GHCB_SHARED_BUFFER_SIZE 0x7f0u
#define GHCB_OFF_PROTOCOL_VERSION 0xffau
#define GHCB_OFF_USAGE 0xffcu

/* Clears the save area and the bitmap, and stamps the version and usage 0, as every request starts. */
void ghcb_begin(uint8_t *ghcb, unsigned version);
/* Writes a 64-bit field and marks it valid (bit offset/8 of the bitmap). */
void ghcb_set(uint8_t *ghcb, unsigned off, uint64_t v);
void ghcb_set_cpl(uint8_t *ghcb, uint8_t cpl);
uint64_t ghcb_get(const uint8_t *ghcb, unsigned off);
bool ghcb_is_valid(const uint8_t *ghcb, unsigned off);
/* The request's outcome in sw_exit_info_1[31:0]: 0 done, 1 an exception for the guest (in info_2), else an error. */
uint32_t ghcb_result(const uint8_t *ghcb);

/* SVM's IOIO exit information for a non-string IN or OUT. */
#define IOIO_TYPE_IN 1u
#define IOIO_SZ8 (1u << 4)
#define IOIO_SZ16 (1u << 5)
#define IOIO_SZ32 (1u << 6)
#define IOIO_A64 (1u << 9)
#define IOIO_PORT_SHIFT 16
uint64_t ghcb_ioio_exitinfo(uint16_t port, unsigned size, bool in);

/*
 * The instructions the handler emulates: what cloak's runtime emits for port
 * I/O (guest.h's in/out helpers) and for its MMIO accessors (volatile loads
 * and stores the compiler turns into mov and movzx). Nothing else.
 */
enum vc_kind { VC_IN, VC_OUT, VC_MMIO_READ, VC_MMIO_WRITE };

/* The guest's general registers in x86 encoding order: rax rcx rdx rbx rsp rbp rsi rdi r8..r15. */
struct vc_regs {
	uint64_t r[16];
};

struct vc_insn {
	enum vc_kind kind;
	unsigned len;        /* bytes, prefixes included */
	unsigned size;       /* bytes moved: 1, 2, 4 or 8 */
	/* Port I/O: the port is imm8 or DX. */
	bool port_in_dx;
	uint16_t port;
	/* MMIO: the register moved (reg field with REX.R), or an immediate for a store. */
	unsigned reg;
	bool high_byte;      /* AH, CH, DH or BH: an 8-bit reg field 4..7 without REX */
	bool has_imm;
	uint64_t imm;
	bool zero_extend;    /* movzx: the register gets `dst_size` bytes, zero-extended */
	unsigned dst_size;
	/* The memory operand: base + index*scale + disp, or RIP-relative. */
	bool rip_relative, has_base, has_index;
	unsigned base, index, scale;
	int64_t disp;
};

/* Decodes bytes[0..avail); false and *why set for anything but the supported forms. */
bool vc_decode(const uint8_t *bytes, unsigned avail, struct vc_insn *out, const char **why);
/* The memory operand's address, with rip the address of the instruction itself. */
uint64_t vc_effective_addr(const struct vc_insn *in, const struct vc_regs *regs, uint64_t rip);
/* Writes `value` (size bytes) into register reg as the CPU would: 8/16 bits merge, 32 zero-extends, 64 replaces. */
void vc_write_reg(struct vc_regs *regs, unsigned reg, bool high_byte, unsigned size, uint64_t value);
/* Reads `size` bytes of register reg. */
uint64_t vc_read_reg(const struct vc_regs *regs, unsigned reg, bool high_byte, unsigned size);

#endif
