/* vt_main.c: runs the virtio, PCI and device unit tests. */
#include "vt.h"

#include <stdlib.h>

void fake_mem_init(struct guest_mem *mem)
{
	memset(mem, 0, sizeof(*mem));
	mem->host = calloc(1, FAKE_MEM_SIZE);
	mem->size = FAKE_MEM_SIZE;
	mem->ram[0] = (struct plan_ram){ .gpa = 0, .size = FAKE_MEM_SIZE, .host_offset = 0 };
	mem->nram = 1;
}

void fake_mem_free(struct guest_mem *mem)
{
	free(mem->host);
	mem->host = NULL;
}

int main(void)
{
	SRunner *sr = srunner_create(virtq_suite());
	int failed;

	srunner_add_suite(sr, pci_suite());
	srunner_add_suite(sr, blk_suite());
	srunner_add_suite(sr, boot_devices_suite());
	srunner_add_suite(sr, uart_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
