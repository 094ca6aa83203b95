/* service.h: what cloak tells systemd when it runs as a Type=notify service (tools/systemd/cloak@.service). */
#ifndef CLOAK_SERVICE_H
#define CLOAK_SERVICE_H

/* READY=1: every thread is confined and the guest runs. Nothing happens outside systemd. */
void service_ready(void);
/* STOPPING=1 with the reason as STATUS=. */
void service_stopping(const char *reason);

#endif
