/* guest.h: the guest runtime's API: ports, serial console, exit, CPUID, boot info. */
#ifndef CLOAK_GUEST_H
#define CLOAK_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The guest ABI (README "Guest ABI"); the host's twin is devices/devices.h. */
#define GUEST_PORT_COM1        0x3f8
#define GUEST_PORT_DEBUG_EXIT  0xf4
#define GUEST_PORT_BOOT_TIMER  0x7e
#define GUEST_PORT_POWER_BUTTON 0x7f
#define GUEST_BOOT_TIMER_MAGIC 123
#define GUEST_PORT_I8042_CMD   0x64

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

/* Serial console on COM1. */
void serial_putc(char c);
void serial_puts(const char *s);
bool serial_can_read(void);
char serial_getc(void);  /* waits for a byte */
void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gvprintf(const char *fmt, va_list ap);

/* Ending the VM: exit(v) makes cloak exit with (v << 1) | 1; poweroff makes it exit 0. */
#define GUEST_EXIT_CBIT_WRONG 60  /* the runtime's C-bit check failed: cloak exits 121 */
#define GUEST_EXIT_VC 61          /* the #VC handler met what it cannot emulate: cloak exits 123 */
__attribute__((noreturn)) void guest_exit(unsigned code);
__attribute__((noreturn)) void guest_poweroff(void);
/* Whether cloak pressed the power button (SIGTERM): acknowledges the press; the guest should now power off. */
bool guest_power_button(void);
/* Marks "booted" in cloak's --timeline. */
void guest_boot_done(void);

/* Boot info: the device tree cloak passes in RDI. */
bool bootinfo_valid(const void *fdt);
/* Finds property `prop` of top-level node `node` ("" for the root; "memory" matches "memory@0"). */
const void *bootinfo_prop(const void *fdt, const char *node, const char *prop, uint32_t *len);
uint64_t bootinfo_mem_size(const void *fdt, unsigned *ranges);
const char *bootinfo_bootargs(const void *fdt);
uint32_t bootinfo_u32(const void *fdt, const char *node, const char *prop, uint32_t dflt);
uint64_t be64(const void *p);
uint32_t be32(const void *p);

/* What the guest can tell about SEV from inside. */
struct sev_view {
	bool cpuid_offers_sev;     /* CPUID 0x8000001F EAX bit 1 */
	unsigned cbit;             /* CPUID 0x8000001F EBX[5:0] */
	bool active;               /* SEV_STATUS MSR bit 0, read only when CPUID offers SEV */
	bool host_says_sev;        /* the boot-info's cloak,sev */
};
void sev_view_read(const void *fdt, struct sev_view *out);
/* Run by entry.S before guest_main: under SEV, stops the guest unless CPUID's C-bit maps its private memory. */
void runtime_check_cbit(void);

/* SEV-ES and SNP (vc.c): the #VC handler and the GHCB, set up by entry.S before anything else. */
struct vc_status {
	uint64_t sev_status;       /* SEV_STATUS as read at start; 0 where CPUID offers no SEV */
	bool es, snp;              /* its bits 1 and 2 */
	bool ghcb_msr_present;     /* the GHCB MSR exists (it raises #GP on a guest that is not really SEV-ES) */
	bool sev_info_answered;    /* the hypervisor answered SEV_INFO through it */
	bool ghcb_live;            /* protocol negotiated and the GHCB page shared (and registered under SNP) */
	unsigned version;          /* the GHCB protocol version agreed on */
	unsigned cbit;             /* the C-bit the hypervisor reported in SEV_INFO */
};
void runtime_vc_init(void);
const struct vc_status *runtime_vc_status(void);
/* Under SNP with the GHCB MSR: rescinds the validation of [gpa, gpa+size) and has the host make it shared. */
void vc_snp_make_shared(uint64_t gpa, uint64_t size);
struct idt_gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
};
/* The runtime's one IDT: #VC's gate (under SEV-ES) and the device vectors (irq_init) share it. */
extern struct idt_gate runtime_idt[256];
void runtime_idt_load(void);

/* The freestanding C library the compiler may call. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
const char *strstr(const char *h, const char *n);
unsigned long parse_ulong(const char *s, const char **end);

/* Ethernet frames for the network guests (netframe.c): big-endian 16 bits, the IPv4 checksum, ARP. */
void net_put16be(uint8_t *p, uint16_t v);
uint16_t net_csum(const uint8_t *p, unsigned n);
/* An ARP request from mac/ip for target_ip, broadcast; returns the frame's length (42). */
unsigned net_arp_request(uint8_t *f, const uint8_t mac[6], const uint8_t ip[4], const uint8_t target_ip[4]);
/* Whether f is an ARP reply from ip; if so its sender's MAC goes to mac_out. */
bool net_arp_reply_from(const uint8_t *f, int len, const uint8_t ip[4], uint8_t mac_out[6]);

/* Every guest defines this; RDI at entry is its argument. Its return value: 0 powers off. */
int guest_main(const void *bootinfo);

#endif
