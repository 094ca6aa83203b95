/* known.h: lets a long campaign step over defects that are known and being fixed (FUZZ_MASK_KNOWN=1). */
#ifndef FUZZ_KNOWN_H
#define FUZZ_KNOWN_H

#include <stdbool.h>
#include <stdlib.h>

/*
 * A target whose code has a known defect would stop a campaign at its first
 * input that reaches it, and a hang would stall it. With FUZZ_MASK_KNOWN set
 * (campaign.sh sets it), such a target skips exactly the inputs that reach
 * the known defect. The smoke test never sets it: there the reproducers in
 * the corpus fail until the defect is fixed.
 */
static inline bool fuzz_mask_known(void)
{
	static int on = -1;

	if (on < 0)
		on = getenv("FUZZ_MASK_KNOWN") != NULL;
	return on;
}

#endif
