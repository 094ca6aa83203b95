/* kvmclock.c: test guest: registers a kvm-clock page and checks that KVM fills it (as Linux needs). */
#include "guest.h"

#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define KVM_FEATURE_CLOCKSOURCE2 3

struct pvclock_vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((aligned(32)));

static volatile struct pvclock_vcpu_time_info clock;

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

int guest_main(const void *bootinfo)
{
	uint32_t r[4];

	(void)bootinfo;
	cpuid(0x40000001, 0, r);
	if (!(r[0] & (1u << KVM_FEATURE_CLOCKSOURCE2))) {
		gprintf("kvmclock: not offered in CPUID 0x40000001 (eax 0x%x)\n", r[0]);
		return 2;
	}
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)(uintptr_t)&clock | 1);
	gprintf("kvmclock: version %u, mul %u, system time %s\n", clock.version, clock.tsc_to_system_mul,
		clock.system_time ? "set" : "zero");
	return clock.version && !(clock.version & 1) && clock.tsc_to_system_mul ? 0 : 3;
}
