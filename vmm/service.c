/* service.c: sd_notify for systemd's Type=notify: ready once the guest runs, stopping when the VM stops. */
#include "service.h"

#include <stdio.h>
#include <systemd/sd-daemon.h>

void service_ready(void)
{
	/* Without $NOTIFY_SOCKET sd_notify does nothing and returns 0. */
	(void)sd_notify(0, "READY=1\nSTATUS=the guest is running");
}

void service_stopping(const char *reason)
{
	char msg[300];

	snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=%s", reason);
	(void)sd_notify(0, msg);
}
