/* floor.c: cloak-floor, the least a KVM loader can do to run a PVH ELF guest: the yardstick `cloak bench --compare-floor` measures cloak against. */
#include <elf.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MEM_SIZE (64ul << 20)
#define EXIT_PORT 0xf4
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* One line per failure, the syscall named, and a status no guest can ask for (guests give odd ones). */
static void die(const char *what)
{
	perror(what);
	exit(2);
}

int main(int argc, char **argv)
{
	int pin = argc == 3 && !strcmp(argv[1], "--pin"), fd, kvm, vm, cpu;
	struct stat st;
	if (argc != 2 + pin) {
		fprintf(stderr, "usage: cloak-floor [--pin] PVH-ELF   (1 vCPU, 64 MiB; --pin: locked, huge pages)\n");
		return 2;
	}
	if ((fd = open(argv[1 + pin], O_RDONLY)) < 0 || fstat(fd, &st) < 0) die(argv[1 + pin]);
	unsigned char *img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	/* Guest RAM 2 MiB-aligned, so that --pin can lock it as transparent huge pages. */
	unsigned char *raw = mmap(NULL, MEM_SIZE + (2ul << 20), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (img == MAP_FAILED || raw == MAP_FAILED) die("mmap");
	unsigned char *mem = (unsigned char *)(((unsigned long)raw + (2ul << 20) - 1) & ~((2ul << 20) - 1));
	if (pin && (madvise(mem, MEM_SIZE, MADV_HUGEPAGE) < 0 || mlock(mem, MEM_SIZE) < 0)) die("mlock");
	/* The segments where they ask to be, and the entry from the Xen PVH note; no checks beyond bounds. */
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	uint32_t entry = 0;
	for (int i = 0; st.st_size >= (off_t)sizeof(*eh) && eh->e_ident[EI_CLASS] == ELFCLASS64 && i < eh->e_phnum; i++) {
		Elf64_Phdr *ph = (Elf64_Phdr *)(img + eh->e_phoff) + i;
		if (ph->p_offset + ph->p_filesz > (uint64_t)st.st_size || ph->p_paddr + ph->p_memsz > MEM_SIZE) continue;
		if (ph->p_type == PT_LOAD) memcpy(mem + ph->p_paddr, img + ph->p_offset, ph->p_filesz);
		for (uint64_t o = 0; ph->p_type == PT_NOTE && o + 12 < ph->p_filesz;) {
			Elf64_Nhdr *nh = (Elf64_Nhdr *)(img + ph->p_offset + o);
			uint64_t desc = o + 12 + ((nh->n_namesz + 3) & ~3u);
			if (nh->n_type == XEN_ELFNOTE_PHYS32_ENTRY && desc + 4 <= ph->p_filesz) memcpy(&entry, img + ph->p_offset + desc, 4);
			o = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	if (!entry) { fprintf(stderr, "cloak-floor: %s is no ELF64 with a Xen PVH entry note\n", argv[1 + pin]); return 2; }
	if ((kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0) die("open /dev/kvm");
	if ((vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0) die("KVM_CREATE_VM");
	struct kvm_userspace_memory_region region = { .memory_size = MEM_SIZE, .userspace_addr = (unsigned long)mem };
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION");
	if ((cpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0) die("KVM_CREATE_VCPU");
	struct kvm_run *run = mmap(NULL, (size_t)ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (run == MAP_FAILED) die("mmap vcpu");
	/* The PVH entry state: 32-bit flat protected mode, paging off. */
	struct kvm_sregs sr;
	if (ioctl(cpu, KVM_GET_SREGS, &sr) < 0) die("KVM_GET_SREGS");
	struct kvm_segment flat = { .limit = 0xffffffff, .type = 3, .present = 1, .s = 1, .db = 1, .g = 1 };
	sr.ds = sr.es = sr.fs = sr.gs = sr.ss = flat;
	flat.type = 11;
	sr.cs = flat;
	sr.cr0 = 0x11;  /* PE, ET */
	struct kvm_regs regs = { .rip = entry, .rflags = 2 };
	if (ioctl(cpu, KVM_SET_SREGS, &sr) < 0 || ioctl(cpu, KVM_SET_REGS, &regs) < 0) die("KVM_SET_REGS");
	for (;;) {
		if (ioctl(cpu, KVM_RUN, 0) < 0) die("KVM_RUN");
		if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT && run->io.port == EXIT_PORT)
			return (*((unsigned char *)run + run->io.data_offset) << 1) | 1;  /* as cloak's exit port */
		if (run->exit_reason != KVM_EXIT_IO) { fprintf(stderr, "cloak-floor: exit reason %u\n", run->exit_reason); return 6; }
	}
}
