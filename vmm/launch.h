/* launch.h: the launch sequence, from a built plan to the guest's exit. */
#ifndef CLOAK_LAUNCH_H
#define CLOAK_LAUNCH_H

#include "machine.h"

/*
 * Creates the VM, memory, vCPUs and devices in order, calling the
 * confidential kind at each of its steps, then runs the guest until a stop
 * request. `in` is given back once its bytes are in guest memory.
 */
int launch_run(struct machine *m, const struct plan_inputs *in, struct cloak_err *err);

#endif
