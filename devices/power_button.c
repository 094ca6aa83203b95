/* power_button.c: the power button at port 0x7f and GSI 16: cloak presses it on SIGTERM; Linux sees it through the DSDT's GED. */
#include "devices.h"

#include <pthread.h>
#include <string.h>

/*
 * One status byte (docs in README "Guest ABI"): bit 0 is set while a press
 * waits for the guest. Writing a byte with bit 0 set acknowledges it. The
 * line at GSI_POWER_BUTTON is high exactly while bit 0 is, so an ACPI guest
 * takes it as a level interrupt (the GED in firmware/acpi/dsdt.asl, whose
 * _EVT acknowledges and notifies the power button device), and a small
 * guest can just poll the port.
 */
static struct {
	pthread_mutex_t lock;
	struct dev_host *host;  /* NULL until attached: a press before that has nobody to ask */
	uint8_t status;
} button = { PTHREAD_MUTEX_INITIALIZER, NULL, 0 };

static void button_io(void *opaque, uint64_t port, bool is_write, uint8_t *data, unsigned size)
{
	(void)opaque;
	(void)port;
	pthread_mutex_lock(&button.lock);
	if (!is_write) {
		memset(data, 0, size);
		data[0] = button.status;
	} else if ((data[0] & POWER_BUTTON_PRESSED) && (button.status & POWER_BUTTON_PRESSED)) {
		button.status &= (uint8_t)~POWER_BUTTON_PRESSED;
		button.host->ops->irq_line(button.host->ctx, GSI_POWER_BUTTON, 0);
	}
	pthread_mutex_unlock(&button.lock);
}

bool power_button_press(void)
{
	bool attached;

	pthread_mutex_lock(&button.lock);
	attached = button.host != NULL;
	if (attached) {
		button.status |= POWER_BUTTON_PRESSED;
		button.host->ops->irq_line(button.host->ctx, GSI_POWER_BUTTON, 1);
	}
	pthread_mutex_unlock(&button.lock);
	return attached;
}

static int button_init(struct dev_host *host, struct cloak_err *err)
{
	if (devhost_io_register(host, DEV_SPACE_PIO, PORT_POWER_BUTTON, 1, "power button", button_io, NULL, err) < 0)
		return -1;
	pthread_mutex_lock(&button.lock);
	button.host = host;
	button.status = 0;
	pthread_mutex_unlock(&button.lock);
	return 0;
}

static void button_fini(struct dev_host *host)
{
	(void)host;
	pthread_mutex_lock(&button.lock);
	button.host = NULL;
	pthread_mutex_unlock(&button.lock);
}

const struct device_ops power_button_device = { .name = "power button", .init = button_init, .fini = button_fini };
