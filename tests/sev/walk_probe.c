/* walk_probe.c: what KVM does when a guest page walk or data access reaches a GPA with no memslot (a C=0 gap). */
/*
 * Build and run (docs/sev-launch.md, section 8, reports the result in the nested host):
 *   gcc -O2 -Wall -o walk-probe tests/sev/walk_probe.c
 *   tools/nested/run-nested.sh --payload DIR -- ./walk-probe
 * RAM is mapped privately at GPA + 2^(physbits-1), and at C=0 without the page-table pages and page 0x5000.
 * Each case runs a long-mode guest at 0x10000 for up to 3 s and prints the exit KVM gives userspace.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
/* SIGALRM only interrupts KVM_RUN: a guest that never exits is stopped after 3 s. */
static void onalrm(int x)
{
	(void)x;
}
#define MEM (4u << 20)
static int kvm;
static uint64_t C;
static int physbits;
static void slot(int vm, int s, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region r = {
	    .slot = s, .guest_phys_addr = gpa, .memory_size = size, .userspace_addr = (uintptr_t)host};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		printf("slot %d gpa %llx: %s\n", s, (unsigned long long)gpa, strerror(errno));
	}
}
static void runcase(const char *name, int cr3c, int pml4c, int pdptc, int hole_pt, int code_sel)
{
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	uint8_t *m = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t *pml4 = (uint64_t *)(m + 0x1000), *pdpt = (uint64_t *)(m + 0x2000), *pd = (uint64_t *)(m + 0x3000);
	pml4[0] = 0x2000 | 3 | (pml4c ? C : 0);
	pdpt[0] = 0x3000 | 3 | (pdptc ? C : 0);
	pd[0] = 0x0 | 0x83 | C; /* VA 0..2M -> PA 0 private */
	pd[1] = 0x0 | 0x83;	/* VA 2M..4M -> PA 0 shared view */
	/* code at 0x10000 */
	uint8_t c0[] = {0xb0, 0x42, 0xe6, 0xf4, 0xf4};
	/* read [0x200000+0x5000] (C=0 view of page 0x5000), then out 0x43 */
	uint8_t c1[] = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x50, 0x20, 0x00, 0xb0, 0x43, 0xe6, 0xf4, 0xf4};
	memcpy(m + 0x10000, code_sel ? c1 : c0, code_sel ? sizeof c1 : sizeof c0);
	/* private view: all of RAM at C */
	slot(vm, 0, C, MEM, m);
	/* C=0 view: all but the page tables (if hole_pt) and page 0x5000 */
	if (hole_pt) {
		slot(vm, 1, 0, 0x1000, m);
		slot(vm, 2, 0x4000, 0x1000, m + 0x4000);
	} else
		slot(vm, 1, 0, 0x5000, m);
	slot(vm, 3, 0x6000, MEM - 0x6000, m + 0x6000);
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	struct kvm_cpuid2 *cp = calloc(1, sizeof(*cp) + 200 * sizeof(cp->entries[0]));
	cp->nent = 200;
	ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cp);
	ioctl(vcpu, KVM_SET_CPUID2, cp);
	struct kvm_run *run =
	    mmap(NULL, ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	struct kvm_sregs s;
	ioctl(vcpu, KVM_GET_SREGS, &s);
	struct kvm_segment cs = {
	    .base = 0, .limit = 0xffffffff, .selector = 8, .type = 11, .present = 1, .s = 1, .l = 1, .g = 1};
	struct kvm_segment ds = {
	    .base = 0, .limit = 0xffffffff, .selector = 16, .type = 3, .present = 1, .s = 1, .db = 1, .g = 1};
	s.cs = cs;
	s.ds = s.es = s.fs = s.gs = s.ss = ds;
	s.cr3 = 0x1000 | (cr3c ? C : 0);
	s.cr4 = 0x20;
	s.cr0 = 0x80000033;
	s.efer = 0x500;
	if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0)
		printf("sregs: %s\n", strerror(errno));
	struct kvm_regs r = {.rip = 0x10000, .rflags = 2};
	ioctl(vcpu, KVM_SET_REGS, &r);
	for (int k = 0; k < 4; k++) {
		alarm(3);
		int rc = ioctl(vcpu, KVM_RUN, 0);
		alarm(0);
		if (rc < 0) {
			struct kvm_regs g;
			struct kvm_sregs ss;
			ioctl(vcpu, KVM_GET_REGS, &g);
			ioctl(vcpu, KVM_GET_SREGS, &ss);
			printf("%s: still running after 3 s (%s), rip=%llx cr2=%llx cr3=%llx\n", name, strerror(errno),
			       (unsigned long long)g.rip, (unsigned long long)ss.cr2, (unsigned long long)ss.cr3);
			struct kvm_vcpu_events ev;
			ioctl(vcpu, KVM_GET_VCPU_EVENTS, &ev);
			printf("  exception inj %u nr %u pending %u\n", ev.exception.injected, ev.exception.nr,
			       ev.exception.pending);
			break;
		}
		struct kvm_regs g;
		ioctl(vcpu, KVM_GET_REGS, &g);
		printf("%s: run rc=%d exit=%u rip=%llx", name, rc, run->exit_reason, (unsigned long long)g.rip);
		if (run->exit_reason == KVM_EXIT_IO)
			printf(" io port %x val %x", run->io.port, *((uint8_t *)run + run->io.data_offset));
		if (run->exit_reason == KVM_EXIT_MMIO)
			printf(" mmio gpa %llx len %u write %u", (unsigned long long)run->mmio.phys_addr, run->mmio.len,
			       run->mmio.is_write);
		if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
			printf(" internal suberror %u ndata %u:", run->internal.suberror, run->internal.ndata);
			for (unsigned i = 0; i < run->internal.ndata && i < 16; i++)
				printf(" %llx", (unsigned long long)run->internal.data[i]);
		}
		printf("\n");
		if (run->exit_reason != KVM_EXIT_MMIO && run->exit_reason != KVM_EXIT_IO)
			break;
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0xf4 && k > 0)
			break;
	}
	close(vcpu);
	close(vm);
	munmap(m, MEM);
}
int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	kvm = open("/dev/kvm", O_RDWR);
	struct sigaction sa = {.sa_handler = onalrm};
	sigaction(SIGALRM, &sa, NULL);
	struct kvm_cpuid2 *cp = calloc(1, sizeof(*cp) + 200 * sizeof(cp->entries[0]));
	cp->nent = 200;
	ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cp);
	for (unsigned i = 0; i < cp->nent; i++)
		if (cp->entries[i].function == 0x80000008) {
			physbits = cp->entries[i].eax & 0xff;
			printf("phys bits %d (eax %x)\n", physbits, cp->entries[i].eax);
		}
	C = 1ull << (physbits - 1);
	printf("cbit %d\n", physbits - 1);
	runcase("control all-C", 1, 1, 1, 1, 0);
	runcase("data C=0 read of private page", 1, 1, 1, 1, 1);
	runcase("CR3 without C, PML4 page private", 0, 1, 1, 1, 0);
	runcase("PML4E without C, PDPT private", 1, 0, 1, 1, 0);
	runcase("PDPTE without C, PD private", 1, 1, 0, 1, 0);
	runcase("CR3 without C, PT pages in both views", 0, 0, 0, 0, 0);
	return 0;
}
