/* plan_glue.h: runs a guest image through the launch plan, as `cloak run --kernel` and `cloak-owner` do. */
#ifndef FUZZ_PLAN_GLUE_H
#define FUZZ_PLAN_GLUE_H

#include <stddef.h>
#include <stdint.h>

/* Builds the plan of the image under two configurations and checks what every plan must hold. */
void fuzz_plan_image(const uint8_t *image, size_t size);

#endif
