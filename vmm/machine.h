/* machine.h: the running VM as the run loop and the devices share it. */
#ifndef CLOAK_MACHINE_H
#define CLOAK_MACHINE_H

#include "cloak.h"
#include "config.h"
#include "plan.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

struct kvm_run;
struct kvm_cpuid2;

/* Guest RAM: one host mapping, cut into the plan's RAM ranges. */
struct guest_mem {
	uint8_t *host;
	uint64_t size;
	struct plan_ram ram[PLAN_MAX_RAM];
	unsigned nram;
	bool locked;
	bool hugepages;
};

/*
 * The one checked way from a guest address to host memory: NULL unless all
 * of [gpa, gpa+len) is guest RAM inside one range (overflow-safe).
 */
void *gpa_range(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

int guestmem_map(struct guest_mem *mem, const struct launch_plan *plan, bool hugepages, struct cloak_err *err);
int guestmem_lock(struct guest_mem *mem, struct cloak_err *err);
/* Copies every region of the plan into guest memory (before any vCPU runs). */
int guestmem_load_plan(struct guest_mem *mem, const struct launch_plan *plan, struct cloak_err *err);
/* Bytes of guest RAM resident in host memory now (mincore). */
uint64_t guestmem_resident_bytes(const struct guest_mem *mem);
void guestmem_unmap(struct guest_mem *mem);

/*
 * Whether `bytes` of guest memory can be locked, given RLIMIT_MEMLOCK and
 * CAP_IPC_LOCK; *raise_to is set when the soft limit must be raised first.
 */
int pin_decide(uint64_t bytes, uint64_t rlim_cur, uint64_t rlim_max, bool has_cap_ipc_lock,
	       uint64_t *raise_to, struct cloak_err *err);
/* pin_decide against this process's limits and capabilities; raises the soft limit when needed. */
int pin_preflight(uint64_t bytes, struct cloak_err *err);
/* Drops every capability and sets no_new_privs: called once all host resources are open. */
int privs_drop(struct cloak_err *err);

/* Port I/O and MMIO dispatch: devices claim address ranges at init. */
typedef void (*io_fn)(void *opaque, uint64_t addr, bool is_write, uint8_t *data, unsigned size);

struct io_range {
	uint64_t base, len;
	const char *name;
	io_fn fn;
	void *opaque;
};

#define IO_BUS_MAX_RANGES 64

struct io_bus {
	const char *what;  /* "port", "MMIO" */
	struct io_range ranges[IO_BUS_MAX_RANGES];
	unsigned n;
};

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len, const char *name, io_fn fn, void *opaque,
		    struct cloak_err *err);
/* Returns false when no device claims the address: reads then see all ones. */
bool io_bus_dispatch(const struct io_bus *bus, uint64_t addr, bool is_write, uint8_t *data, unsigned size);

/* The launch timeline benchmark harnesses read (--timeline). */
enum tl_phase {
	TL_PROCESS_START, TL_KVM_OPEN, TL_VM_CREATE, TL_MEMORY_READY, TL_SEV_LAUNCH_START, TL_LOAD,
	TL_SEV_LAUNCH_UPDATE, TL_VCPU_CREATE, TL_SEV_LAUNCH_FINISH, TL_FIRST_GUEST_EXIT, TL_BOOT_TIMER,
	TL_GUEST_EXIT, TL_NPHASES,
};

#define TL_MAX_EXIT_REASONS 64

#define TL_MAX_DEVICES 16

/*
 * Per-device I/O counts: requests, the guest's kicks and cloak's interrupts,
 * and the userspace exits of all vCPUs between the device's first request and
 * its latest completion, so a harness reads the cost of one request.
 */
struct tl_device {
	char name[24];
	_Atomic uint64_t requests, failed, kicks, interrupts;
	_Atomic uint64_t exits_first, exits_last;  /* exits_total + 1 at those moments; 0: none yet */
};

struct timeline {
	_Atomic uint64_t at[TL_NPHASES];   /* 0: not reached (process start is recorded as 1 us) */
	_Atomic uint64_t exits[TL_MAX_EXIT_REASONS];
	_Atomic uint64_t exits_total;
	_Atomic uint64_t pio_unclaimed;
	_Atomic uint64_t mmio_unclaimed;
	struct tl_device dev[TL_MAX_DEVICES];
	_Atomic unsigned ndev;
	uint64_t rss_kib;              /* cloak's resident memory at the end of the run */
	uint64_t guest_resident_kib;   /* the part of it that is guest RAM */
};

void timeline_mark(struct timeline *tl, enum tl_phase phase);
void timeline_count_exit(struct timeline *tl, unsigned reason);
const char *timeline_phase_name(enum tl_phase phase);
/* A row of per-device counts named `name`, or NULL when the table is full. */
struct tl_device *timeline_device(struct timeline *tl, const char *name);
/* A request of `d` was seen (first) or completed (last): remembers the exit count then. */
void timeline_io_begin(struct timeline *tl, struct tl_device *d);
void timeline_io_end(struct timeline *tl, struct tl_device *d);
const char *kvm_exit_reason_name(unsigned reason);
/* Writes the JSON to a temporary file beside `path`, then renames it into place. */
int timeline_write(const struct timeline *tl, const char *path, const struct launch_plan *plan, int status,
		   struct cloak_err *err);

/*
 * Guest memory a confidential guest shares with the host: the boot-info DMA
 * window and what it converted with KVM_HC_MAP_GPA_RANGE. With `enforce` set
 * devices touch nothing else (on SEV the rest reads as ciphertext).
 */
#define SHARED_MAX_RANGES 512

struct shared_map {
	pthread_rwlock_t lock;
	bool enforce;
	bool overflow;  /* a conversion did not fit the table: reported once */
	unsigned n;
	struct {
		uint64_t start, end;  /* sorted, disjoint, end exclusive */
	} r[SHARED_MAX_RANGES];
};

void shared_map_init(struct shared_map *s, bool enforce);
/* Marks [gpa, gpa+len) shared or private; -1 when the table is full (the range stays as it was). */
int shared_map_set(struct shared_map *s, uint64_t gpa, uint64_t len, bool shared);
/* True when every byte of [gpa, gpa+len) is shared, or nothing is enforced. */
bool shared_map_covers(struct shared_map *s, uint64_t gpa, uint64_t len);

struct eventloop;
struct pci_bus;

struct machine {
	const struct vm_config *cfg;
	const struct launch_plan *plan;
	struct guest_mem mem;
	struct io_bus pio;
	struct io_bus mmio;
	struct timeline tl;

	int kvm_fd;
	int vm_fd;
	unsigned ncpus;
	int vcpu_fd[CONFIG_MAX_CPUS];
	struct kvm_run *run[CONFIG_MAX_CPUS];
	size_t run_size;
	pthread_t vcpu_thread[CONFIG_MAX_CPUS];

	/* Devices beyond the ports: the PCI bus, their I/O thread, shared memory. */
	struct pci_bus *pci;
	struct eventloop *ev;
	struct shared_map shared;
	atomic_bool dma_reported;

	/* The first stop request wins; its status is cloak's exit status. */
	atomic_bool stopping;
	int stop_status;
	char stop_reason[256];
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
};

void machine_init(struct machine *m, const struct vm_config *cfg, const struct launch_plan *plan);
/* Ends the VM with `status`; later requests are ignored. Safe from any thread. */
void machine_request_stop(struct machine *m, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Drives an interrupt line of the in-kernel PIC/IOAPIC. */
void machine_irq_line(struct machine *m, unsigned irq, int level);

/* KVM: the device, the VM, vCPUs (kvm.c). */
int kvm_open_device(struct machine *m, const char *path, struct cloak_err *err);
/* Checks every capability cloak relies on, through `has` (KVM_CHECK_EXTENSION in real use). */
int kvm_check_caps(int (*has)(void *ctx, long cap), void *ctx, struct cloak_err *err);
int kvm_create_vm(struct machine *m, struct cloak_err *err);
int kvm_map_memory(struct machine *m, struct cloak_err *err);
int kvm_create_vcpus(struct machine *m, struct cloak_err *err);
/* Edits a KVM_GET_SUPPORTED_CPUID table for vCPU `index`: hides SVM/VMX and the user's bits. */
void kvm_cpuid_adjust(struct kvm_cpuid2 *cpuid, const struct vm_config *cfg, unsigned index);
/* Whether the guest is told it runs under SEV (CPUID, SEV_STATUS) and so must share what devices touch. */
bool machine_guest_sees_sev(const struct machine *m);
/* The simulated PSP's answer to a trapped MSR read; false: not ours, the guest gets #GP. */
bool kvm_sim_sev_status(const struct machine *m, uint32_t msr, uint64_t *value);
/* Puts the boot vCPU in the plan's entry state (the other vCPUs wait for INIT/SIPI). */
int kvm_set_entry(struct machine *m, struct cloak_err *err);
void machine_close(struct machine *m);

/* The run loop (runloop.c): one thread per vCPU, until a stop request. */
int machine_run(struct machine *m, struct cloak_err *err);

/* Devices (devices/devices.c). */
int devices_init(struct machine *m, struct cloak_err *err);
void devices_fini(struct machine *m);

#endif
