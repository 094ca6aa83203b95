/* vc.c: the runtime under SEV-ES and SEV-SNP: the #VC handler (GHCB protocol), the shared GHCB page, and SNP's page validation and page-state changes. */
#include "guest.h"
#include "ghcb.h"

/*
 * Under SEV-ES the host can no longer read the guest's registers, so the
 * instructions it used to intercept (CPUID, IN/OUT, MMIO, ...) raise #VC in
 * the guest instead, and the guest asks the host through the GHCB protocol:
 * CPUID through the GHCB MSR alone, everything else through a GHCB page the
 * guest shares. docs/guest-abi.md says what is covered and what is refused.
 */

_Static_assert(sizeof(struct idt_gate) == 16, "a long-mode IDT gate is 16 bytes");

struct idt_gate runtime_idt[256] __attribute__((aligned(16)));

struct idtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* What the exception stubs below leave on the stack: the registers, then the CPU's frame. */
struct vc_frame {
	struct vc_regs regs;  /* r[4], RSP, is a placeholder: the CPU's frame has it */
	uint64_t error_code, rip, cs, rflags, rsp, ss;
};

#define VC_VECTOR 29
#define GP_VECTOR 13

static struct vc_status status;
static uint8_t ghcb_page[GHCB_SIZE] __attribute__((aligned(4096)));
static uint64_t ghcb_pt[512] __attribute__((aligned(4096)));  /* the 4 KiB table of the 2 MiB page the GHCB is in */
static uint64_t ghcb_gpa;
static bool ghcb_busy;

void vc_entry(void);
__asm__(".text\n"
	".globl vc_entry\n"
	"vc_entry:\n"
	"  pushq %r15\n  pushq %r14\n  pushq %r13\n  pushq %r12\n"
	"  pushq %r11\n  pushq %r10\n  pushq %r9\n  pushq %r8\n"
	"  pushq %rdi\n  pushq %rsi\n  pushq %rbp\n  pushq $0\n"
	"  pushq %rbx\n  pushq %rdx\n  pushq %rcx\n  pushq %rax\n"
	"  movq %rsp, %rdi\n"
	"  cld\n"
	"  call vc_handle\n"
	"  popq %rax\n  popq %rcx\n  popq %rdx\n  popq %rbx\n"
	"  addq $8, %rsp\n  popq %rbp\n  popq %rsi\n  popq %rdi\n"
	"  popq %r8\n  popq %r9\n  popq %r10\n  popq %r11\n"
	"  popq %r12\n  popq %r13\n  popq %r14\n  popq %r15\n"
	"  addq $8, %rsp\n"  /* the error code */
	"  iretq\n");

/* Used only while probing the GHCB MSR: a #GP there skips the 2-byte RDMSR and says so. */
static volatile uint8_t gp_seen;
void vc_gp_probe(void);
__asm__(".text\n"
	"vc_gp_probe:\n"
	"  addq $8, %rsp\n"
	"  addq $2, (%rsp)\n"
	"  movb $1, gp_seen(%rip)\n"
	"  iretq\n");

static void set_gate(unsigned vector, void (*handler)(void))
{
	uint64_t h = (uint64_t)(uintptr_t)handler;
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	runtime_idt[vector] = (struct idt_gate){ (uint16_t)h, cs, 0, 0x8e, (uint16_t)(h >> 16), (uint32_t)(h >> 32), 0 };
}

void runtime_idt_load(void)
{
	struct idtr r = { sizeof(runtime_idt) - 1, (uint64_t)(uintptr_t)runtime_idt };

	__asm__ volatile("lidt %0" : : "m"(r));
}

/* Not guest.h's: a guest of its own (iobench) has a wrmsr by that name. */
static inline void msr_write(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/*
 * VMGEXIT reads nothing but the GHCB MSR. RAX is zeroed all the same: where no
 * SEV-ES hardware is behind SEV_STATUS the bytes are a plain VMMCALL, and
 * hypercall 0 is none.
 */
static inline void vmgexit(void)
{
	uint64_t rax = 0;

	__asm__ volatile("rep; vmmcall" : "+a"(rax) : : "memory");
}

static uint64_t msr_protocol(uint64_t request)
{
	msr_write(GHCB_MSR, request);
	vmgexit();
	return rdmsr(GHCB_MSR);
}

/* Asks the host to end the guest: the only way to say something before the GHCB page exists. */
static __attribute__((noreturn)) void terminate(unsigned reason)
{
	for (;;) {
		msr_write(GHCB_MSR, ghcb_msr_term_req(GHCB_TERM_SET_GENERAL, reason));
		vmgexit();
	}
}

/* A stop with a message on the console (through the GHCB once it exists), then cloak's exit port. */
static __attribute__((noreturn, format(printf, 1, 2))) void vc_stop(const char *fmt, ...)
{
	va_list ap;

	if (status.ghcb_live && ghcb_busy)
		terminate(GHCB_TERM_GENERAL);  /* the console would need the GHCB this stop interrupted */
	if (status.es && !status.ghcb_live && status.ghcb_msr_present)
		terminate(GHCB_TERM_GENERAL);  /* no GHCB page yet: the console cannot be reached */
	gprintf("cloak runtime: stopping: ");
	va_start(ap, fmt);
	gvprintf(fmt, ap);
	va_end(ap);
	gprintf("\n");
	guest_exit(GUEST_EXIT_VC);
}

/* One GHCB request: the exit code and infos, the MSR pointing at the page, and the host's verdict. */
static void ghcb_call(uint64_t exit_code, uint64_t info1, uint64_t info2)
{
	uint32_t result;

	ghcb_set(ghcb_page, GHCB_OFF_SW_EXIT_CODE, exit_code);
	ghcb_set(ghcb_page, GHCB_OFF_SW_EXIT_INFO_1, info1);
	ghcb_set(ghcb_page, GHCB_OFF_SW_EXIT_INFO_2, info2);
	msr_write(GHCB_MSR, ghcb_gpa);
	vmgexit();
	result = ghcb_result(ghcb_page);
	if (result) {
		uint64_t info = ghcb_get(ghcb_page, GHCB_OFF_SW_EXIT_INFO_2);

		ghcb_busy = false;
		vc_stop("the host refused GHCB request 0x%llx (result %u, exception info 0x%llx)",
			(unsigned long long)exit_code, result, (unsigned long long)info);
	}
}

static void ghcb_start(void)
{
	if (!status.ghcb_live)
		vc_stop("#VC needs the GHCB page, which this guest has not set up");
	ghcb_busy = true;
	ghcb_begin(ghcb_page, status.version);
}

static void vc_cpuid(struct vc_frame *f)
{
	uint32_t fn = (uint32_t)f->regs.r[0], v[4];
	unsigned reg;

	/* The MSR protocol carries no subleaf: the runtime asks only for leaves that have none. */
	for (reg = 0; reg < 4; reg++)
		if (!ghcb_msr_cpuid_parse(msr_protocol(ghcb_msr_cpuid_req(fn, (enum ghcb_cpuid_reg)reg)), &v[reg]))
			terminate(GHCB_TERM_GENERAL);
	/* CPUID writes EAX, EBX, ECX, EDX and zero-extends each into its 64-bit register. */
	f->regs.r[0] = v[0];
	f->regs.r[3] = v[1];
	f->regs.r[1] = v[2];
	f->regs.r[2] = v[3];
	if (status.ghcb_live)
		msr_write(GHCB_MSR, ghcb_gpa);
	f->rip += 2;
}

static const uint8_t *insn_bytes(struct vc_frame *f, const char *what, struct vc_insn *in)
{
	const uint8_t *b = (const uint8_t *)(uintptr_t)f->rip;
	const char *why;

	if (!vc_decode(b, 15, in, &why))
		vc_stop("#VC for %s at rip 0x%llx (bytes %02x %02x %02x %02x): %s; the runtime emulates only "
			"IN/OUT of 8, 16 and 32 bits and MOV/MOVZX to or from MMIO", what, (unsigned long long)f->rip,
			b[0], b[1], b[2], b[3], why);
	return b;
}

static void vc_ioio(struct vc_frame *f)
{
	struct vc_insn in;
	uint16_t port;

	insn_bytes(f, "port I/O", &in);
	if (in.kind != VC_IN && in.kind != VC_OUT)
		vc_stop("#VC for port I/O at rip 0x%llx is not an IN or OUT", (unsigned long long)f->rip);
	port = in.port_in_dx ? (uint16_t)f->regs.r[2] : in.port;
	ghcb_start();
	if (in.kind == VC_OUT)
		ghcb_set(ghcb_page, GHCB_OFF_RAX, vc_read_reg(&f->regs, 0, false, in.size));
	ghcb_call(SVM_EXIT_IOIO, ghcb_ioio_exitinfo(port, in.size, in.kind == VC_IN), 0);
	if (in.kind == VC_IN) {
		if (!ghcb_is_valid(ghcb_page, GHCB_OFF_RAX)) {
			ghcb_busy = false;
			vc_stop("the host answered IN from port 0x%x without RAX", port);
		}
		vc_write_reg(&f->regs, 0, false, in.size, ghcb_get(ghcb_page, GHCB_OFF_RAX));
	}
	ghcb_busy = false;
	f->rip += in.len;
}

static void vc_mmio(struct vc_frame *f)
{
	struct vc_insn in;
	uint64_t gpa, value = 0;
	uint8_t *buf = ghcb_page + GHCB_OFF_SHARED_BUFFER;
	unsigned i;

	insn_bytes(f, "MMIO", &in);
	if (in.kind != VC_MMIO_READ && in.kind != VC_MMIO_WRITE)
		vc_stop("#VC for MMIO at rip 0x%llx is port I/O", (unsigned long long)f->rip);
	/* The runtime runs on identity tables: the address is the guest-physical one. */
	gpa = vc_effective_addr(&in, &f->regs, f->rip);
	ghcb_start();
	if (in.kind == VC_MMIO_WRITE) {
		value = in.has_imm ? in.imm : vc_read_reg(&f->regs, in.reg, in.high_byte, in.size);
		for (i = 0; i < in.size; i++)
			buf[i] = (uint8_t)(value >> (8 * i));
	}
	ghcb_set(ghcb_page, GHCB_OFF_SW_SCRATCH, ghcb_gpa + GHCB_OFF_SHARED_BUFFER);
	ghcb_call(in.kind == VC_MMIO_READ ? SVM_VMGEXIT_MMIO_READ : SVM_VMGEXIT_MMIO_WRITE, gpa, in.size);
	if (in.kind == VC_MMIO_READ) {
		for (i = 0; i < in.size; i++)
			value |= (uint64_t)buf[i] << (8 * i);
		if (in.zero_extend)
			vc_write_reg(&f->regs, in.reg, false, in.dst_size, value);
		else
			vc_write_reg(&f->regs, in.reg, in.high_byte, in.size, value);
	}
	ghcb_busy = false;
	f->rip += in.len;
}

/* VMMCALL (the DMA pool's KVM_HC_MAP_GPA_RANGE under SEV-ES): RAX, RBX, RCX, RDX and the CPL go, RAX comes back. */
static void vc_vmmcall(struct vc_frame *f)
{
	ghcb_start();
	ghcb_set(ghcb_page, GHCB_OFF_RAX, f->regs.r[0]);
	ghcb_set(ghcb_page, GHCB_OFF_RBX, f->regs.r[3]);
	ghcb_set(ghcb_page, GHCB_OFF_RCX, f->regs.r[1]);
	ghcb_set(ghcb_page, GHCB_OFF_RDX, f->regs.r[2]);
	ghcb_set_cpl(ghcb_page, 0);
	ghcb_call(SVM_EXIT_VMMCALL, 0, 0);
	if (!ghcb_is_valid(ghcb_page, GHCB_OFF_RAX)) {
		ghcb_busy = false;
		vc_stop("the host answered VMMCALL without RAX");
	}
	f->regs.r[0] = ghcb_get(ghcb_page, GHCB_OFF_RAX);
	ghcb_busy = false;
	f->rip += 3;
}

/* Exit codes that need nothing but the request: WBINVD (the DMA pool's cache flush). */
static void vc_plain(struct vc_frame *f, uint64_t exit_code, unsigned len)
{
	ghcb_start();
	ghcb_call(exit_code, 0, 0);
	ghcb_busy = false;
	f->rip += len;
}

void vc_handle(struct vc_frame *f);
void vc_handle(struct vc_frame *f)
{
	if (ghcb_busy)
		terminate(GHCB_TERM_GENERAL);  /* a #VC inside a GHCB request: the page holds another request */
	switch (f->error_code) {
	case SVM_EXIT_CPUID: vc_cpuid(f); break;
	case SVM_EXIT_IOIO: vc_ioio(f); break;
	case SVM_EXIT_NPF: vc_mmio(f); break;
	case SVM_EXIT_VMMCALL: vc_vmmcall(f); break;
	case SVM_EXIT_WBINVD: vc_plain(f, SVM_EXIT_WBINVD, 2); break;
	default:
		vc_stop("#VC with exit code 0x%llx at rip 0x%llx, which this runtime does not handle",
			(unsigned long long)f->error_code, (unsigned long long)f->rip);
	}
}

/*
 * The first SEV_INFO exchange, with a #GP gate for its RDMSR and WRMSR (both 2
 * bytes, which the gate skips): where SEV_STATUS says SEV-ES without the
 * hardware (cloak's simulator runs such guests as plain guests) the GHCB MSR
 * raises #GP, or is a plain MSR and the answer is no SEV_INFO response.
 */
static uint64_t sev_info_exchange(void)
{
	uint64_t v;

	gp_seen = 0;
	set_gate(GP_VECTOR, vc_gp_probe);
	v = rdmsr(GHCB_MSR);
	if (!gp_seen)
		msr_write(GHCB_MSR, ghcb_msr_sev_info_req());
	if (!gp_seen) {
		vmgexit();
		v = rdmsr(GHCB_MSR);
	}
	runtime_idt[GP_VECTOR] = (struct idt_gate){ 0 };
	status.ghcb_msr_present = !gp_seen;
	return v;
}

/* PVALIDATE one 4 KiB page: the CPU's return code, with "no change" (CF) as success. */
static unsigned pvalidate(uint64_t va, bool validate)
{
	uint64_t rc;
	uint8_t unchanged;

	__asm__ volatile(".byte 0xf2, 0x0f, 0x01, 0xff\n\tsetc %1"
			 : "=a"(rc), "=qm"(unchanged) : "a"(va), "c"(0), "d"(validate ? 1 : 0) : "memory", "cc");
	(void)unchanged;
	return (unsigned)rc;
}

/*
 * Makes [gpa, gpa+size) shared under SNP: each 4 KiB page loses its
 * validation (PVALIDATE rescind) and the host is asked to make it shared
 * (MSR-protocol page-state change), as the SNP rules require before the
 * C-bit is cleared over it.
 */
void vc_snp_make_shared(uint64_t gpa, uint64_t size)
{
	uint64_t a;

	if (!status.snp || !status.ghcb_msr_present)
		return;
	for (a = gpa & ~0xfffull; a < gpa + size; a += 4096) {
		unsigned rc = pvalidate(a, false);

		if (rc)
			vc_stop("PVALIDATE (rescind) of 0x%llx returned %u", (unsigned long long)a, rc);
		if (!ghcb_msr_psc_ok(msr_protocol(ghcb_msr_psc_req(a >> 12, GHCB_PSC_SHARED))))
			vc_stop("the host refused to make page 0x%llx shared", (unsigned long long)a);
	}
	if (status.ghcb_live)
		msr_write(GHCB_MSR, ghcb_gpa);
}

/* Gives the GHCB its own 4 KiB mapping without the C-bit (cloak maps RAM in 2 MiB pages). */
static void ghcb_map_shared(unsigned cbit)
{
	uint64_t cr3, cmask = 1ull << cbit, amask = 0x000ffffffffff000ull & ~cmask, va = (uint64_t)(uintptr_t)ghcb_page;
	uint64_t *pml4, *pdpt, *pd, *pde, base;
	unsigned i;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (uint64_t *)(uintptr_t)(cr3 & amask);
	pdpt = (uint64_t *)(uintptr_t)(pml4[(va >> 39) & 511] & amask);
	pd = (uint64_t *)(uintptr_t)(pdpt[(va >> 30) & 511] & amask);
	pde = &pd[(va >> 21) & 511];
	if (*pde & 0x80) {
		base = *pde & amask & ~0x1fffffull;
		for (i = 0; i < 512; i++)
			ghcb_pt[i] = (base + 4096ull * i) | cmask | (*pde & 0x1f);
	} else {
		/* Split already (the boot verifier shares its own GHCB the same way): take over its table. */
		const uint64_t *pt = (const uint64_t *)(uintptr_t)(*pde & amask);

		for (i = 0; i < 512; i++)
			ghcb_pt[i] = pt[i];
	}
	ghcb_pt[(va >> 12) & 511] &= ~cmask;
	for (i = 0; i < GHCB_SIZE; i += 64)
		__asm__ volatile("clflush (%0)" : : "r"(ghcb_page + i) : "memory");
	*pde = (uint64_t)(uintptr_t)ghcb_pt | cmask | (*pde & 0x1f);
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

/*
 * Run by entry.S first, before the runtime's first CPUID: under SEV-ES that
 * CPUID already raises #VC, so the gate must be there. Everything else keeps
 * its IDT (none) unless SEV_STATUS says SEV-ES.
 */
void runtime_vc_init(void)
{
	struct idtr saved;
	uint32_t r[4];
	unsigned hv_min, hv_max, cbit;
	uint64_t v;

	__asm__ volatile("sidt %0" : "=m"(saved));
	set_gate(VC_VECTOR, vc_entry);
	runtime_idt_load();
	cpuid(0x80000000, 0, r);
	if (r[0] >= 0x8000001f) {
		cpuid(0x8000001f, 0, r);
		/* SEV_STATUS exists only where CPUID offers SEV; reading it elsewhere may fault. */
		if (r[0] & 2)
			status.sev_status = rdmsr(SEV_STATUS_MSR);
	}
	status.es = status.sev_status & SEV_STATUS_ES;
	status.snp = status.sev_status & SEV_STATUS_SNP;
	if (!status.es) {
		runtime_idt[VC_VECTOR] = (struct idt_gate){ 0 };
		__asm__ volatile("lidt %0" : : "m"(saved));
		return;
	}
	v = sev_info_exchange();
	/*
	 * No SEV_INFO answer: no SEV-ES hardware, so no #VC can come; the gate
	 * stays. On real hardware a host that withheld the answer gains nothing:
	 * the first #VC, with no GHCB, ends the guest.
	 */
	if (!status.ghcb_msr_present || !ghcb_msr_sev_info_parse(v, &hv_min, &hv_max, &cbit))
		return;
	status.sev_info_answered = true;
	status.version = ghcb_pick_version(hv_min, hv_max);
	if (!status.version)
		terminate(GHCB_TERM_PROTOCOL_UNSUPPORTED);
	if (status.snp && status.version < 2)
		terminate(GHCB_TERM_SNP_UNSUPPORTED);
	status.cbit = cbit;
	ghcb_gpa = (uint64_t)(uintptr_t)ghcb_page;
	vc_snp_make_shared(ghcb_gpa, GHCB_SIZE);
	ghcb_map_shared(cbit);
	memset(ghcb_page, 0, GHCB_SIZE);
	if (status.snp && !ghcb_msr_reg_gpa_ok(msr_protocol(ghcb_msr_reg_gpa_req(ghcb_gpa >> 12)), ghcb_gpa >> 12))
		terminate(GHCB_TERM_GENERAL);
	msr_write(GHCB_MSR, ghcb_gpa);
	status.ghcb_live = true;
}

const struct vc_status *runtime_vc_status(void)
{
	return &status;
}
