/* vt.h: the virtio unit-test suites and the fake guest memory they share. */
#ifndef CLOAK_VT_H
#define CLOAK_VT_H

#include <check.h>
#include <string.h>

#include "guestmem.h"
#include "shared_map.h"

Suite *virtq_suite(void);
Suite *pci_suite(void);
Suite *blk_suite(void);
Suite *boot_devices_suite(void);
Suite *uart_suite(void);

/* A 1 MiB guest whose RAM is one malloc'd range at guest address 0. */
#define FAKE_MEM_SIZE (1024 * 1024)
void fake_mem_init(struct guest_mem *mem);
void fake_mem_free(struct guest_mem *mem);

#define ck_assert_msg_has(msg, needle) \
	ck_assert_msg(strstr((msg), (needle)) != NULL, "message \"%s\" lacks \"%s\"", (msg), (needle))

#endif
