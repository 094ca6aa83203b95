/* Proves /dev/kvm works: runs a 3-instruction real-mode guest and reports which optional KVM features exist. */
/* Build: gcc -O2 -Wall -Wextra -o kvm-probe kvm-probe.c */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Newer than some installed headers; the value is the kernel ABI. */
#ifndef KVM_CAP_EXIT_HYPERCALL
#define KVM_CAP_EXIT_HYPERCALL 201
#endif

#define GUEST_BASE 0x1000u
#define GUEST_SIZE 0x1000u
#define PROBE_PORT 0xf4

static int failures;

static void check(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
	if (!ok)
		failures++;
}

/* Optional features are reported, not required: the probe is about what the nested KVM offers. */
static void report_cap(int kvm, const char *name, int cap)
{
	int r = ioctl(kvm, KVM_CHECK_EXTENSION, cap);
	printf("INFO: %s = %d\n", name, r);
}

int main(void)
{
	/* mov $0x42,%al; out %al,$0xf4; hlt */
	static const uint8_t code[] = { 0xb0, 0x42, 0xe6, PROBE_PORT, 0xf4 };
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	int kvm, vm, vcpu, api, mmap_size, r;
	uint8_t *mem;

	setvbuf(stdout, NULL, _IOLBF, 0);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("FAIL: open /dev/kvm: %s\n", strerror(errno));
		return 1;
	}
	api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	printf("INFO: KVM_GET_API_VERSION = %d\n", api);
	check(api == 12, "KVM API version is 12");

	report_cap(kvm, "KVM_CAP_IRQCHIP", KVM_CAP_IRQCHIP);
	report_cap(kvm, "KVM_CAP_PIT2", KVM_CAP_PIT2);
	report_cap(kvm, "KVM_CAP_IOEVENTFD", KVM_CAP_IOEVENTFD);
	report_cap(kvm, "KVM_CAP_IRQFD", KVM_CAP_IRQFD);
	report_cap(kvm, "KVM_CAP_USER_MEMORY", KVM_CAP_USER_MEMORY);
	report_cap(kvm, "KVM_CAP_NR_VCPUS", KVM_CAP_NR_VCPUS);
	report_cap(kvm, "KVM_CAP_MAX_VCPUS", KVM_CAP_MAX_VCPUS);
	report_cap(kvm, "KVM_CAP_EXIT_HYPERCALL", KVM_CAP_EXIT_HYPERCALL);
	report_cap(kvm, "KVM_CAP_X86_USER_SPACE_MSR", KVM_CAP_X86_USER_SPACE_MSR);
	report_cap(kvm, "KVM_CAP_TSC_DEADLINE_TIMER", KVM_CAP_TSC_DEADLINE_TIMER);
	report_cap(kvm, "KVM_CAP_SPLIT_IRQCHIP", KVM_CAP_SPLIT_IRQCHIP);

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	check(vm >= 0, "KVM_CREATE_VM");
	if (vm < 0) {
		printf("INFO: KVM_CREATE_VM: %s\n", strerror(errno));
		return 1;
	}

	/* A separate VM for the irqchip probe: with an in-kernel irqchip, hlt would block in the kernel instead of exiting. */
	{
		struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
		int vm2 = ioctl(kvm, KVM_CREATE_VM, 0);

		r = ioctl(vm2, KVM_CREATE_IRQCHIP, 0);
		printf("INFO: KVM_CREATE_IRQCHIP = %d%s%s\n", r, r ? " " : "", r ? strerror(errno) : "");
		r = ioctl(vm2, KVM_CREATE_PIT2, &pit);
		printf("INFO: KVM_CREATE_PIT2 = %d%s%s\n", r, r ? " " : "", r ? strerror(errno) : "");
		r = ioctl(vm2, KVM_CREATE_VCPU, 0);
		printf("INFO: KVM_CREATE_VCPU with irqchip = %s\n", r >= 0 ? "ok" : strerror(errno));
		if (r >= 0)
			close(r);
		/* A NULL argument: only whether the ioctl exists (ENOTTY) or wants SEV (EFAULT, ...) matters. */
		r = ioctl(vm2, KVM_MEMORY_ENCRYPT_OP, NULL);
		printf("INFO: KVM_MEMORY_ENCRYPT_OP = %d %s\n", r, r ? strerror(errno) : "");
		close(vm2);
	}

	mem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		printf("FAIL: mmap guest memory: %s\n", strerror(errno));
		return 1;
	}
	memcpy(mem, code, sizeof(code));
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = GUEST_BASE,
		.memory_size = GUEST_SIZE,
		.userspace_addr = (uintptr_t)mem,
	};
	check(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) == 0, "KVM_SET_USER_MEMORY_REGION");

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	check(vcpu >= 0, "KVM_CREATE_VCPU");
	if (vcpu < 0)
		return 1;
	mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED) {
		printf("FAIL: mmap kvm_run: %s\n", strerror(errno));
		return 1;
	}

	check(ioctl(vcpu, KVM_GET_SREGS, &sregs) == 0, "KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	check(ioctl(vcpu, KVM_SET_SREGS, &sregs) == 0, "KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = GUEST_BASE;
	regs.rflags = 0x2; /* bit 1 is reserved and must be set */
	check(ioctl(vcpu, KVM_SET_REGS, &regs) == 0, "KVM_SET_REGS");

	r = ioctl(vcpu, KVM_RUN, 0);
	check(r == 0, "KVM_RUN");
	printf("INFO: exit_reason = %u\n", run->exit_reason);
	if (run->exit_reason == KVM_EXIT_IO) {
		uint8_t val = *((uint8_t *)run + run->io.data_offset);
		printf("INFO: io direction=%u size=%u port=0x%x count=%u value=0x%x\n",
		       run->io.direction, run->io.size, run->io.port, run->io.count, val);
		check(run->io.direction == KVM_EXIT_IO_OUT && run->io.size == 1 &&
			      run->io.port == PROBE_PORT && run->io.count == 1 && val == 0x42,
		      "KVM_EXIT_IO out 0x42 to port 0xf4");
	} else {
		check(0, "KVM_EXIT_IO out 0x42 to port 0xf4");
		if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
			printf("INFO: internal error suberror=%u\n", run->internal.suberror);
		if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
			printf("INFO: fail_entry reason=0x%llx\n",
			       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	}

	r = ioctl(vcpu, KVM_RUN, 0);
	printf("INFO: second exit_reason = %u\n", run->exit_reason);
	check(r == 0 && run->exit_reason == KVM_EXIT_HLT, "KVM_EXIT_HLT after the out");

	printf("kvm-probe: %s\n", failures ? "FAILED" : "OK");
	return failures ? 1 : 0;
}
