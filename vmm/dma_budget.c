/* dma_budget.c: the guest memory the configured devices may have in flight: a pure function of the config. */
#include "plan.h"

/*
 * Each device option's value adds one device, and each device its row's
 * dma_bytes (vmm/config.c): no sub-option changes what a device may have in
 * flight, so the budget needs no device's grammar and cloak-owner computes it
 * without linking devices/.
 */
uint64_t plan_dma_budget(const struct vm_config *cfg)
{
	uint64_t bytes = 0;
	unsigned i;

	for (i = 0; i < cfg->ndevice_args; i++)
		bytes += cfg->device_args[i].option->dma_bytes;
	return bytes;
}
