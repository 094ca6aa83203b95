/* test_pci.c: configuration mechanism #1, BAR sizing, the virtio capabilities and common config, MSI-X. */
#include "vt.h"

#include "devices.h"
#include "fake_host.h"
#include "virtio_pci.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct fake_host fh;
static uint8_t *ram;
static struct vm_config cfg;
static struct pci_bus bus;
static struct virtio_dev vd;
static unsigned kicks;

static void test_kick(struct virtio_dev *d, unsigned q)
{
	(void)d;
	(void)q;
	kicks++;
}

static uint8_t test_config[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void test_config_access(struct virtio_dev *d, uint32_t off, bool is_write, uint8_t *data, unsigned size)
{
	(void)d;
	if (is_write)
		memcpy(test_config + off, data, size);
	else
		memcpy(data, test_config + off, size);
}

static const struct virtio_dev_ops test_ops = {
	.kind = "virtio-test", .type = 2, .pci_class = 0x018000, .nqueues = 2, .queue_max = 16,
	.features = 1ull << 9, .config_size = 8, .config_access = test_config_access, .queue_kick = test_kick,
};

static void setup(void)
{
	struct cloak_err err;

	config_defaults(&cfg);
	ram = calloc(1, FAKE_MEM_SIZE);
	fake_host_init(&fh, ram, FAKE_MEM_SIZE, false, &cfg);
	pci_bus_init(&bus, &fh.host);
	fh.host.pci = &bus;
	kicks = 0;
	ck_assert_msg(virtio_pci_init(&vd, &fh.host, &test_ops, "virtio-test0", NULL, &err) == 0, "%s", err.msg);
}

static void teardown(void)
{
	virtio_pci_fini(&vd);
	fake_host_fini(&fh);
	free(ram);
	ram = NULL;
}

/* Configuration access through the ports, as a guest does it. */
static uint32_t cfg_read(unsigned slot, unsigned off, unsigned size)
{
	uint32_t a = 0x80000000u | slot << 11 | (off & 0xfc);
	uint8_t data[4] = { 0 };
	uint32_t v = 0;
	unsigned i;

	pci_port_access(&bus, PCI_PORT_ADDR, true, (uint8_t *)&a, 4);
	pci_port_access(&bus, PCI_PORT_DATA + (off & 3), false, data, size);
	for (i = 0; i < size; i++)
		v |= (uint32_t)data[i] << (8 * i);
	return v;
}

static void cfg_write(unsigned slot, unsigned off, unsigned size, uint32_t v)
{
	uint32_t a = 0x80000000u | slot << 11 | (off & 0xfc);

	pci_port_access(&bus, PCI_PORT_ADDR, true, (uint8_t *)&a, 4);
	pci_port_access(&bus, PCI_PORT_DATA + (off & 3), true, (uint8_t *)&v, size);
}

static uint64_t bar0(void)
{
	return cfg_read(vd.pci.slot, PCI_BAR0, 4) & ~0xfu;
}

static uint64_t mmio_read(uint64_t off, unsigned size)
{
	uint64_t v = 0;

	ck_assert(pci_mmio_access(&bus, bar0() + off, false, (uint8_t *)&v, size));
	return v;
}

static void mmio_write(uint64_t off, unsigned size, uint64_t v)
{
	ck_assert(pci_mmio_access(&bus, bar0() + off, true, (uint8_t *)&v, size));
}

START_TEST(host_bridge_and_empty_slots)
{
	ck_assert_uint_eq(cfg_read(0, PCI_VENDOR_ID, 2), 0x1b36);
	ck_assert_uint_eq(cfg_read(0, 0x0a, 2), 0x0600);  /* host bridge class */
	ck_assert_uint_eq(cfg_read(31, 0, 4), 0xffffffffu);
	ck_assert_uint_eq(cfg_read(vd.pci.slot, PCI_VENDOR_ID, 4), 0x1af4u | 0x1042u << 16);
	/* Function 1 and bus 1 are empty; config disabled in 0xcf8 reads all ones. */
	ck_assert_uint_eq(pci_config_read(&bus, vd.pci.slot, 1, 0, 4), 0xffffffffu);
	{
		uint32_t a = 0x80010000u, v = 0;

		pci_port_access(&bus, PCI_PORT_ADDR, true, (uint8_t *)&a, 4);
		pci_port_access(&bus, PCI_PORT_DATA, false, (uint8_t *)&v, 4);
		ck_assert_uint_eq(v, 0xffffffffu);
		a = 0;
		pci_port_access(&bus, PCI_PORT_ADDR, true, (uint8_t *)&a, 4);
		pci_port_access(&bus, PCI_PORT_DATA, false, (uint8_t *)&v, 4);
		ck_assert_uint_eq(v, 0xffffffffu);
	}
	/* Offsets past 256 and odd sizes are refused, not overrun. */
	ck_assert_uint_eq(pci_config_read(&bus, vd.pci.slot, 0, 254, 4), 0xffffffffu);
	pci_config_write(&bus, vd.pci.slot, 0, 255, 4, 0);
}
END_TEST

START_TEST(read_only_fields_and_bar_sizing)
{
	unsigned s = vd.pci.slot;
	uint32_t orig = cfg_read(s, PCI_BAR0, 4);

	cfg_write(s, PCI_VENDOR_ID, 4, 0);
	ck_assert_uint_eq(cfg_read(s, PCI_VENDOR_ID, 2), 0x1af4);
	ck_assert_uint_ge(orig, PCI_MMIO_BASE);
	ck_assert_uint_eq(orig % VPCI_BAR_SIZE, 0);
	cfg_write(s, PCI_BAR0, 4, 0xffffffffu);
	ck_assert_uint_eq(cfg_read(s, PCI_BAR0, 4), ~(uint32_t)(VPCI_BAR_SIZE - 1));
	cfg_write(s, PCI_BAR0 + 4, 4, 0xffffffffu);  /* an absent BAR stays 0 */
	ck_assert_uint_eq(cfg_read(s, PCI_BAR0 + 4, 4), 0);
	cfg_write(s, PCI_BAR0, 4, orig);
	ck_assert_uint_eq(cfg_read(s, PCI_BAR0, 4), orig);
	/* Decoding is off until the driver enables it. */
	ck_assert_uint_eq(pci_bar_addr(&vd.pci, 0), 0);
	cfg_write(s, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	ck_assert_uint_eq(pci_bar_addr(&vd.pci, 0), orig);
	/* A BAR moved out of the window is not decoded at all. */
	cfg_write(s, PCI_BAR0, 4, 0x10000000);
	ck_assert_uint_eq(pci_bar_addr(&vd.pci, 0), 0);
	ck_assert_uint_eq(cfg_read(s, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, PCI_STATUS_CAP_LIST);
}
END_TEST

START_TEST(capabilities)
{
	unsigned s = vd.pci.slot, off, found = 0, guard = 0, msix = 0;

	for (off = cfg_read(s, PCI_CAP_PTR, 1); off; off = cfg_read(s, off + 1, 1)) {
		ck_assert_uint_lt(guard++, 16);
		ck_assert_uint_ge(off, 0x40);
		if (cfg_read(s, off, 1) == PCI_CAP_ID_VNDR) {
			unsigned type = cfg_read(s, off + 3, 1);

			found |= 1u << type;
			ck_assert_uint_eq(cfg_read(s, off + 4, 1), 0);  /* BAR 0 */
			if (type == VPCI_CAP_NOTIFY)
				ck_assert_uint_eq(cfg_read(s, off + 16, 4), VPCI_NOTIFY_MULT);
			if (type == VPCI_CAP_COMMON)
				ck_assert_uint_eq(cfg_read(s, off + 8, 4), VPCI_COMMON_OFF);
		} else if (cfg_read(s, off, 1) == PCI_CAP_ID_MSIX) {
			msix = off;
		}
	}
	ck_assert_uint_eq(found, 0x3e);  /* common, notify, ISR, device, PCI config access */
	ck_assert_uint_ne(msix, 0);
	ck_assert_uint_eq(cfg_read(s, msix + 2, 2) & 0x7ff, 2);  /* three vectors */
	ck_assert_uint_eq(cfg_read(s, msix + 4, 4), VPCI_MSIX_TABLE_OFF);
}
END_TEST

START_TEST(feature_negotiation)
{
	cfg_write(vd.pci.slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	mmio_write(0x00, 4, 1);
	ck_assert_uint_eq(mmio_read(0x04, 4), 3);  /* VERSION_1 | ACCESS_PLATFORM */
	mmio_write(0x00, 4, 0);
	ck_assert_uint_eq(mmio_read(0x04, 4), 1u << 9 | 1u << 28 | 1u << 29);
	ck_assert_uint_eq(mmio_read(0x12, 2), 2);
	/* Without VERSION_1, FEATURES_OK does not stick. */
	mmio_write(0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_write(0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	ck_assert_uint_eq(mmio_read(0x14, 1) & VIRTIO_STATUS_FEATURES_OK, 0);
	mmio_write(0x14, 1, 0);
	ck_assert_uint_eq(mmio_read(0x14, 1), 0);
	/* Features never offered are refused too. */
	mmio_write(0x08, 4, 1);
	mmio_write(0x0c, 4, 1 | 1u << 20);
	mmio_write(0x14, 1, VIRTIO_STATUS_FEATURES_OK);
	ck_assert_uint_eq(mmio_read(0x14, 1) & VIRTIO_STATUS_FEATURES_OK, 0);
	mmio_write(0x14, 1, 0);
	mmio_write(0x08, 4, 1);
	mmio_write(0x0c, 4, 3);
	mmio_write(0x08, 4, 0);
	mmio_write(0x0c, 4, 1u << 29);
	mmio_write(0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	ck_assert_uint_eq(mmio_read(0x14, 1) & VIRTIO_STATUS_FEATURES_OK, VIRTIO_STATUS_FEATURES_OK);
	/* Once FEATURES_OK is set the features are frozen. */
	mmio_write(0x0c, 4, 0);
	ck_assert_uint_eq(mmio_read(0x0c, 4), 1u << 29);
	/* Device configuration, any width. */
	ck_assert_uint_eq(mmio_read(VPCI_DEVICE_OFF + 2, 2), 0x0403);
	ck_assert_uint_eq(mmio_read(VPCI_DEVICE_OFF + 6, 4), 0);  /* would cross the end: refused */
}
END_TEST

static void negotiate(void)
{
	cfg_write(vd.pci.slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	mmio_write(0x08, 4, 1);
	mmio_write(0x0c, 4, 1);
	mmio_write(0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
}

START_TEST(queue_setup)
{
	negotiate();
	mmio_write(0x16, 2, 1);
	ck_assert_uint_eq(mmio_read(0x18, 2), 16);
	ck_assert_uint_eq(mmio_read(0x1e, 2), 1);
	mmio_write(0x18, 2, 8);
	mmio_write(0x20, 4, 0x1000);
	mmio_write(0x24, 4, 0);
	mmio_write(0x28, 8, 0x2000);
	mmio_write(0x30, 4, 0x3000);
	mmio_write(0x1c, 2, 1);
	ck_assert_uint_eq(mmio_read(0x1c, 2), 1);
	ck_assert_uint_eq(mmio_read(0x20, 8), 0x1000);
	ck_assert(vd.vq[1].enabled);
	/* Addresses of an enabled queue are frozen. */
	mmio_write(0x20, 4, 0x5000);
	ck_assert_uint_eq(mmio_read(0x20, 4), 0x1000);
	mmio_write(0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
				    VIRTIO_STATUS_DRIVER_OK);
	ck_assert(virtio_queue_live(&vd, 1));
	/* A queue index past the device's queues reads size 0 and ignores writes. */
	mmio_write(0x16, 2, 7);
	ck_assert_uint_eq(mmio_read(0x18, 2), 0);
	mmio_write(0x1c, 2, 1);
	/* A notify that reaches cloak (no ioeventfd here) becomes a kick on the queue's eventfd. */
	mmio_write(VPCI_NOTIFY_OFF + 4, 2, 1);
	{
		struct pollfd p = { vd.kick_fd[1], POLLIN, 0 };

		ck_assert_int_eq(poll(&p, 1, 0), 1);
	}
	/* Reset clears it all. */
	mmio_write(0x14, 1, 0);
	ck_assert(!vd.vq[1].enabled);
	ck_assert_uint_eq(mmio_read(0x14, 1), 0);
}
END_TEST

START_TEST(bad_rings_need_reset)
{
	negotiate();
	mmio_write(0x16, 2, 0);
	mmio_write(0x20, 8, FAKE_MEM_SIZE - 16);  /* the table runs off the end of RAM */
	mmio_write(0x28, 8, 0x2000);
	mmio_write(0x30, 8, 0x3000);
	mmio_write(0x1c, 2, 1);
	ck_assert_uint_eq(mmio_read(0x1c, 2), 0);
	ck_assert_uint_eq(mmio_read(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	/* The driver cannot clear NEEDS_RESET except by a reset. */
	mmio_write(0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	ck_assert_uint_eq(mmio_read(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	mmio_write(0x14, 1, 0);
	ck_assert_uint_eq(mmio_read(0x14, 1), 0);
	/* Queue size not a power of two. */
	negotiate();
	mmio_write(0x18, 2, 3);
	mmio_write(0x20, 8, 0x1000);
	mmio_write(0x1c, 2, 1);
	ck_assert_uint_eq(mmio_read(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
}
END_TEST

static bool irq_fired(unsigned v)
{
	uint64_t n;

	return read(vd.msix.irqfd[v], &n, sizeof(n)) == sizeof(n);
}

START_TEST(msix_table)
{
	unsigned s = vd.pci.slot, cap = vd.msix.cap;
	uint32_t word;

	negotiate();
	/* Every vector starts masked; the table is dword-accessible and the PBA read-only. */
	ck_assert_uint_eq(mmio_read(VPCI_MSIX_TABLE_OFF + 12, 4), 1);
	mmio_write(VPCI_MSIX_TABLE_OFF + 16, 4, 0xfee00000);
	mmio_write(VPCI_MSIX_TABLE_OFF + 20, 4, 0);
	mmio_write(VPCI_MSIX_TABLE_OFF + 24, 4, 0x4041);
	ck_assert_uint_eq(mmio_read(VPCI_MSIX_TABLE_OFF + 24, 4), 0x4041);
	mmio_write(VPCI_MSIX_TABLE_OFF + 24, 1, 0x99);  /* byte writes are ignored */
	ck_assert_uint_eq(mmio_read(VPCI_MSIX_TABLE_OFF + 24, 4), 0x4041);
	/* MSI-X off: nothing is delivered. */
	ck_assert(!pci_msix_notify(&vd.msix, 1));
	word = 0x8000;  /* enable */
	cfg_write(s, cap + 2, 2, word);
	ck_assert(vd.msix.enabled);
	/* Enabled but the vector masked: it waits in the PBA. */
	ck_assert(pci_msix_notify(&vd.msix, 1));
	ck_assert(!irq_fired(1));
	ck_assert_uint_eq(mmio_read(VPCI_MSIX_PBA_OFF, 8), 2);
	mmio_write(VPCI_MSIX_PBA_OFF, 8, 0);
	ck_assert_uint_eq(mmio_read(VPCI_MSIX_PBA_OFF, 8), 2);
	/* Unmasking routes it through the host and delivers what was pending. */
	ck_assert(!fh.msi[vd.msix.msi[1]].valid);
	mmio_write(VPCI_MSIX_TABLE_OFF + 28, 4, 0);
	ck_assert(irq_fired(1));
	ck_assert_uint_eq(mmio_read(VPCI_MSIX_PBA_OFF, 8), 0);
	ck_assert(fh.msi[vd.msix.msi[1]].valid);
	ck_assert_uint_eq(fh.msi[vd.msix.msi[1]].data, 0x4041);
	ck_assert_uint_eq(fh.msi[vd.msix.msi[1]].addr, 0xfee00000);
	ck_assert_int_eq(fh.msi[vd.msix.msi[1]].fd, vd.msix.irqfd[1]);
	ck_assert(pci_msix_notify(&vd.msix, 1));
	ck_assert(irq_fired(1));
	/* The function mask holds everything back, and releasing it delivers. */
	cfg_write(s, cap + 2, 2, 0xc000);
	ck_assert(pci_msix_notify(&vd.msix, 1));
	ck_assert(!irq_fired(1));
	cfg_write(s, cap + 2, 2, 0x8000);
	ck_assert(irq_fired(1));
	/* A vector past the table. */
	ck_assert(!pci_msix_notify(&vd.msix, 9));
	mmio_read(VPCI_MSIX_TABLE_OFF + 16 * 9, 4);
	mmio_write(VPCI_MSIX_TABLE_OFF + 16 * 9, 4, 0);
	/* The common config refuses vectors past the table: they read back as NO_VECTOR. */
	mmio_write(0x10, 2, 5);
	ck_assert_uint_eq(mmio_read(0x10, 2), VIRTIO_NO_VECTOR);
	mmio_write(0x10, 2, 0);
	ck_assert_uint_eq(mmio_read(0x10, 2), 0);
}
END_TEST

START_TEST(pci_cfg_window)
{
	unsigned s = vd.pci.slot, c = vd.pci_cfg_cap;

	negotiate();
	/* Read the device status byte through configuration space only. */
	cfg_write(s, c + 4, 1, 0);
	cfg_write(s, c + 8, 4, 0x14);
	cfg_write(s, c + 12, 4, 1);
	ck_assert_uint_eq(cfg_read(s, c + 16, 1), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
							  VIRTIO_STATUS_FEATURES_OK);
	/* A window past the BAR or with a bad length does nothing. */
	cfg_write(s, c + 8, 4, 0x100000);
	cfg_read(s, c + 16, 4);
	cfg_write(s, c + 12, 4, 3);
	cfg_write(s, c + 16, 4, 0);
}
END_TEST

static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	ck_assert(d != NULL);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* The fake host's device options: none (name NULL), or one value of option `name`. */
static void set_device(const char *name, const char *value)
{
	struct cloak_err err;

	cfg.ndevice_args = 0;
	if (name)
		ck_assert_msg(config_add_device(&cfg, name, value, &err) == 0, "%s", err.msg);
}

/*
 * A device whose init fails is not finished by devices_init (only the ones
 * before it are), so its init must undo what it did: here the PCI bus is
 * full, so virtio_pci_init fails after the socket and the tap are open.
 */
START_TEST(failed_init_leaves_nothing_behind)
{
	static struct pci_device filler;
	struct cloak_err err;
	char sock[64], tap[32];
	unsigned slot, before;

	for (slot = 1; slot < PCI_MAX_SLOTS; slot++)
		if (!bus.dev[slot])
			bus.dev[slot] = &filler;
	snprintf(sock, sizeof(sock), "socket=/tmp/cloak-test-cons.%d", (int)getpid());
	set_device("console", sock);
	before = open_fds();
	ck_assert_int_eq(virtio_console_device.init(&fh.host, &err), -1);
	ck_assert_msg_has(err.msg, "no free PCI slot");
	ck_assert_msg(access(sock + 7, F_OK) < 0, "the console socket %s was left behind", sock + 7);
	ck_assert_uint_eq(open_fds(), before);
	set_device(NULL, NULL);

	/* The tap: with CAP_NET_ADMIN init gets as far as the bus; without it TUNSETIFF fails. Either way no fd stays. */
	if (access("/dev/net/tun", R_OK | W_OK) == 0) {
		snprintf(tap, sizeof(tap), "tap=cltest%d", (int)getpid() % 100000);
		set_device("net", tap);
		before = open_fds();
		ck_assert_int_eq(virtio_net_device.init(&fh.host, &err), -1);
		ck_assert_uint_eq(open_fds(), before);
		set_device(NULL, NULL);
	} else {
		fprintf(stderr, "# no /dev/net/tun here: the tap half of failed_init_leaves_nothing_behind did not run\n");
	}
	for (slot = 1; slot < PCI_MAX_SLOTS; slot++)
		if (bus.dev[slot] == &filler)
			bus.dev[slot] = NULL;
}
END_TEST

/*
 * --console file= on a symbolic link: cloak opens it as root, so following it
 * would let whoever placed the link choose the file truncated. The device
 * refuses it itself, whatever was checked before (the link may be new).
 */
START_TEST(console_file_refuses_a_symlink)
{
	char target[64], link[64], value[80], back[16] = "";
	struct cloak_err err;
	int fd;

	snprintf(target, sizeof(target), "/tmp/cloak-test-precious.%d", (int)getpid());
	snprintf(link, sizeof(link), "/tmp/cloak-test-link.%d", (int)getpid());
	fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_eq(write(fd, "precious", 8), 8);
	close(fd);
	unlink(link);
	ck_assert_int_eq(symlink(target, link), 0);
	snprintf(value, sizeof(value), "file=%s", link);
	set_device("console", value);
	if (virtio_console_device.init(&fh.host, &err) == 0) {
		virtio_console_device.fini(&fh.host);
		err.msg[0] = 0;
	}
	set_device(NULL, NULL);
	fd = open(target, O_RDONLY);
	ck_assert_int_eq(read(fd, back, sizeof(back)), 8);
	close(fd);
	unlink(link);
	unlink(target);
	ck_assert_msg(!memcmp(back, "precious", 8), "the file behind the link was truncated");
	ck_assert_msg_has(err.msg, "is a symbolic link");
}
END_TEST

static int failing_doorbell(void *ctx, int fd, uint64_t addr, unsigned len, bool assign)
{
	(void)ctx;
	(void)fd;
	(void)addr;
	(void)len;
	errno = ENOTTY;
	return assign ? -1 : 0;
}

/* The guest can move BAR 0 as often as it likes; a failing doorbell (KVM_IOEVENTFD) is reported once, not per move. */
START_TEST(ioeventfd_failure_reported_once)
{
	char log[] = "/tmp/cloak-test-stderr.XXXXXX", line[512];
	int logfd = mkstemp(log), saved = dup(STDERR_FILENO);
	const struct dev_host_ops *real = fh.host.ops;
	struct dev_host_ops failing = *real;
	unsigned i, reports = 0;
	FILE *f;

	ck_assert_int_ge(logfd, 0);
	failing.doorbell = failing_doorbell;
	fh.host.ops = &failing;
	fflush(stderr);
	dup2(logfd, STDERR_FILENO);
	cfg_write(vd.pci.slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	for (i = 0; i < 5; i++)
		cfg_write(vd.pci.slot, PCI_BAR0, 4, 0xe0000000u + 0x10000u * (i + 1));
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	fh.host.ops = real;
	vd.doorbell_base = 0;  /* nothing was registered: teardown has nothing to undo */
	f = fdopen(logfd, "r");
	rewind(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "KVM_IOEVENTFD failed"))
			reports++;
	fclose(f);
	unlink(log);
	ck_assert_uint_eq(reports, 1);
}
END_TEST

Suite *pci_suite(void)
{
	Suite *s = suite_create("pci");
	TCase *tc = tcase_create("virtio-pci");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, host_bridge_and_empty_slots);
	tcase_add_test(tc, read_only_fields_and_bar_sizing);
	tcase_add_test(tc, capabilities);
	tcase_add_test(tc, feature_negotiation);
	tcase_add_test(tc, queue_setup);
	tcase_add_test(tc, bad_rings_need_reset);
	tcase_add_test(tc, msix_table);
	tcase_add_test(tc, pci_cfg_window);
	tcase_add_test(tc, failed_init_leaves_nothing_behind);
	tcase_add_test(tc, ioeventfd_failure_reported_once);
	tcase_add_test(tc, console_file_refuses_a_symlink);
	suite_add_tcase(s, tc);
	return s;
}
