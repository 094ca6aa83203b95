/* test_machine.c: the guest-address helper, I/O buses, memory-lock rules, KVM capability and CPUID edits, timeline. */
#include "machine.h"
#include "unit.h"

#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

START_TEST(gpa_range_checks_bounds)
{
	static uint8_t host[0x3000];
	struct guest_mem mem = { .host = host, .size = sizeof(host), .nram = 2 };

	mem.ram[0] = (struct plan_ram){ 0, 0x2000, 0 };
	mem.ram[1] = (struct plan_ram){ 0x100000000ull, 0x1000, 0x2000 };
	ck_assert_ptr_eq(gpa_range(&mem, 0, 0x2000), host);
	ck_assert_ptr_eq(gpa_range(&mem, 0x1ff8, 8), host + 0x1ff8);
	ck_assert_ptr_eq(gpa_range(&mem, 0x2000, 0), host + 0x2000);  /* empty range at the end */
	ck_assert_ptr_null(gpa_range(&mem, 0x1ff8, 9));
	ck_assert_ptr_null(gpa_range(&mem, 0x2001, 0));
	ck_assert_ptr_eq(gpa_range(&mem, 0x100000010ull, 0x10), host + 0x2010);
	ck_assert_ptr_null(gpa_range(&mem, 0x100000000ull, 0x1001));
	/* Ranges spanning two RAM ranges or wrapping around are refused. */
	ck_assert_ptr_null(gpa_range(&mem, 0x1000, UINT64_MAX));
	ck_assert_ptr_null(gpa_range(&mem, UINT64_MAX - 4, 16));
	ck_assert_ptr_null(gpa_range(&mem, 0xffffffffull, 2));
}
END_TEST

static unsigned io_calls;
static uint64_t io_last;

static void io_record(void *opaque, uint64_t addr, bool is_write, uint8_t *data, unsigned size)
{
	(void)opaque;
	(void)is_write;
	(void)size;
	io_calls++;
	io_last = addr;
	data[0] = 0x5a;
}

/* Guest RAM starts on a 2 MiB boundary, so locking it can take transparent huge pages from the first byte. */
START_TEST(guest_ram_is_huge_page_aligned)
{
	struct launch_plan plan = { .mem_size = 6 * MiB, .nram = 1 };
	struct cloak_err err;
	struct guest_mem mem;
	unsigned i;

	plan.ram[0] = (struct plan_ram){ 0, 6 * MiB, 0 };
	for (i = 0; i < 4; i++) {
		ck_assert_msg(guestmem_map(&mem, &plan, false, &err) == 0, "%s", err.msg);
		ck_assert_uint_eq((uintptr_t)mem.host % (2 * MiB), 0);
		ck_assert_ptr_eq(gpa_range(&mem, 6 * MiB - 1, 1), mem.host + 6 * MiB - 1);
		mem.host[6 * MiB - 1] = 1;  /* the whole range is mapped, none of the slack was kept */
		guestmem_unmap(&mem);
	}
	ck_assert_int_eq(guestmem_map_pages(&mem, 4 * MiB, GUESTMEM_SMALL, &err), 0);
	mem.host[0] = 1;
	guestmem_unmap(&mem);
}
END_TEST

START_TEST(io_bus_dispatch_and_overlap)
{
	struct io_bus bus = { .what = "port" };
	struct cloak_err err;
	uint8_t data[4];

	ck_assert_int_eq(io_bus_register(&bus, 0x3f8, 8, "uart", io_record, NULL, &err), 0);
	ck_assert_int_eq(io_bus_register(&bus, 0x3fc, 8, "other", io_record, NULL, &err), -1);
	ck_assert_msg_has(err.msg, "of other overlaps uart");
	ck_assert_int_eq(io_bus_register(&bus, 0x10, 0, "empty", io_record, NULL, &err), -1);
	ck_assert(io_bus_dispatch(&bus, 0x3ff, false, data, 1));
	ck_assert_uint_eq(io_last, 0x3ff);
	ck_assert_uint_eq(data[0], 0x5a);
	ck_assert(!io_bus_dispatch(&bus, 0x400, false, data, 4));
	ck_assert_uint_eq(data[0] & data[1] & data[2] & data[3], 0xff);
	ck_assert_uint_eq(io_calls, 1);
}
END_TEST

START_TEST(pin_rules)
{
	struct cloak_err err;
	uint64_t raise;

	ck_assert_int_eq(pin_decide(128 * MiB, 64 * KiB, 64 * KiB, true, &raise, &err), 0);
	ck_assert_uint_eq(raise, 0);
	ck_assert_int_eq(pin_decide(128 * MiB, 256 * MiB, 256 * MiB, false, &raise, &err), 0);
	ck_assert_uint_eq(raise, 0);
	ck_assert_int_eq(pin_decide(128 * MiB, 64 * KiB, 1 * GiB, false, &raise, &err), 0);
	ck_assert_uint_eq(raise, 128 * MiB);
	ck_assert_int_eq(pin_decide(128 * MiB, 64 * KiB, (uint64_t)RLIM_INFINITY, false, &raise, &err), 0);
	ck_assert_uint_eq(raise, 128 * MiB);
	ck_assert_int_eq(pin_decide(128 * MiB, (uint64_t)RLIM_INFINITY, 0, false, &raise, &err), 0);
	ck_assert_int_eq(pin_decide(512 * MiB, 64 * KiB, 64 * KiB, false, &raise, &err), -1);
	ck_assert_msg_has(err.msg, "cannot lock 512 MiB of guest memory: RLIMIT_MEMLOCK is 64 KiB (hard limit the same)");
	ck_assert_msg_has(err.msg, "run with CAP_IPC_LOCK");
	ck_assert_msg_has(err.msg, "--no-pin");
	ck_assert_int_eq(pin_decide(512 * MiB, 64 * KiB, 8 * MiB, false, &raise, &err), -1);
	ck_assert_msg_has(err.msg, "(hard limit 8 MiB)");
}
END_TEST

static long missing_cap;

static int fake_has(void *ctx, long cap)
{
	(void)ctx;
	return cap == missing_cap ? 0 : 1;
}

START_TEST(kvm_caps)
{
	struct cloak_err err;

	missing_cap = -1;
	ck_assert_int_eq(kvm_check_caps(fake_has, NULL, &err), 0);
	missing_cap = KVM_CAP_IRQCHIP;
	ck_assert_int_eq(kvm_check_caps(fake_has, NULL, &err), -1);
	ck_assert_msg_has(err.msg, "this KVM lacks KVM_CAP_IRQCHIP, which cloak needs for the in-kernel PIC");
	missing_cap = KVM_CAP_PIT2;
	ck_assert_int_eq(kvm_check_caps(fake_has, NULL, &err), -1);
	ck_assert_msg_has(err.msg, "KVM_CAP_PIT2");
}
END_TEST

START_TEST(cpuid_adjust)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 4 * sizeof(c->entries[0]));
	struct vm_config cfg;
	struct cloak_err err;

	config_defaults(&cfg);
	ck_assert_int_eq(config_parse_cpuid_clear("cx16,avx2", &cfg, &err), 0);
	c->nent = 4;
	c->entries[0] = (struct kvm_cpuid_entry2){ .function = 1, .ebx = 0xff0800, .ecx = 0xffffffff };
	c->entries[1] = (struct kvm_cpuid_entry2){ .function = 0x80000001, .ecx = 0xffffffff };
	c->entries[2] = (struct kvm_cpuid_entry2){ .function = 7, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
						   .ebx = 0xffffffff };
	c->entries[3] = (struct kvm_cpuid_entry2){ .function = 7, .index = 1, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
						   .ebx = 0xffffffff };
	kvm_cpuid_adjust(c, &cfg, 3);
	ck_assert_uint_eq(c->entries[0].ecx, 0xffffffffu & ~(1u << 5) & ~(1u << 13));  /* VMX, CX16 */
	ck_assert_uint_eq(c->entries[0].ebx >> 24, 3);  /* initial APIC ID */
	ck_assert_uint_eq(c->entries[0].ebx & 0xffffff, 0xff0800);
	ck_assert_uint_eq(c->entries[1].ecx, 0xffffffffu & ~(1u << 2));
	ck_assert_uint_eq(c->entries[2].ebx, 0xffffffffu & ~(1u << 5));
	ck_assert_uint_eq(c->entries[3].ebx, 0xffffffffu);  /* other subleaf untouched */
	c->entries[0].ecx = 0;
	kvm_cpuid_adjust(c, &cfg, 0);
	ck_assert_uint_eq(c->entries[0].ecx, 1u << 31);  /* the hypervisor bit */
	free(c);
}
END_TEST

START_TEST(timeline_json)
{
	static struct timeline tl;
	struct launch_plan plan = { .kind = PLAN_KIND_ELF, .kernel_name = "odd \"name\"\n", .mem_size = 64 * MiB,
				    .cpus = 1, .cbit = -1 };
	char dir[] = "/tmp/cloak-unit-XXXXXX", path[64], buf[2048];
	struct cloak_err err;
	size_t n;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.json", dir);
	clock_start();
	atomic_store(&tl.at[TL_PROCESS_START], 1);
	timeline_mark(&tl, TL_KVM_OPEN);
	timeline_mark(&tl, TL_KVM_OPEN);  /* the first mark wins */
	timeline_count_exit(&tl, KVM_EXIT_IO);
	timeline_count_exit(&tl, KVM_EXIT_IO);
	timeline_count_exit(&tl, 999);  /* out of range: ignored */
	ck_assert_int_eq(timeline_write(&tl, path, &plan, 7, &err), 0);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	ck_assert_msg_has(buf, "\"kernel\": \"odd \\\"name\\\"\\u000a\"");
	ck_assert_msg_has(buf, "\"process_start\": 0");
	ck_assert_msg_has(buf, "\"kvm_open\": ");
	ck_assert_msg_has(buf, "\"io\": 2");
	ck_assert_msg_has(buf, "\"exit_status\": 7");
	ck_assert_ptr_null(strstr(buf, "guest_exit"));
	unlink(path);
	ck_assert_int_eq(rmdir(dir), 0);  /* no temporary file left behind */
	ck_assert_int_eq(timeline_write(&tl, "/nonexistent-dir/t.json", &plan, 0, &err), -1);
	ck_assert_msg_has(err.msg, "--timeline: cannot create a file beside /nonexistent-dir/t.json");
}
END_TEST

Suite *machine_suite(void)
{
	Suite *s = suite_create("machine");
	TCase *tc = tcase_create("machine");

	tcase_add_test(tc, gpa_range_checks_bounds);
	tcase_add_test(tc, guest_ram_is_huge_page_aligned);
	tcase_add_test(tc, io_bus_dispatch_and_overlap);
	tcase_add_test(tc, pin_rules);
	tcase_add_test(tc, kvm_caps);
	tcase_add_test(tc, cpuid_adjust);
	tcase_add_test(tc, timeline_json);
	suite_add_tcase(s, tc);
	return s;
}
