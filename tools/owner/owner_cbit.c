/* owner_cbit.c: the C-bit the owner expects, from the CPU generation, never from the host it is checking. */
#include "owner.h"

#include <string.h>
#include <strings.h>

/*
 * The C-bit sits in the page tables a host builds, and a measurement covers it
 * only through them: an owner who took the host's word for it would attest a
 * guest whose memory is not encrypted. So the owner names the CPU generation,
 * which fixes it (AMD's CPUID 0x8000001F EBX[5:0] per generation).
 */
static const struct {
	const char *name;
	int cbit;
} generations[] = {
	{ "naples", 47 }, { "rome", 47 }, { "milan", 51 }, { "genoa", 51 }, { "turin", 51 },
	{ "sim", PSP_SIM_CBIT },  /* cloak's simulated PSP: only for testing, it encrypts nothing */
	{ "sim-snp", PSP_SIM_SNP_CBIT },  /* the same, for SEV-SNP, which it simulates without memory views */
};

int owner_cbit_parse(const char *opt, const char *val, int *cbit, struct cloak_err *err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(generations); i++)
		if (!strcasecmp(val, generations[i].name)) {
			*cbit = generations[i].cbit;
			return 0;
		}
	/* A bare number is taken only when it is a real generation's C-bit. */
	if (!strcmp(val, "47") || !strcmp(val, "51")) {
		*cbit = val[1] == '7' ? 47 : 51;
		return 0;
	}
	return err_set(err, "%s: '%s' is no AMD CPU generation's C-bit; give the generation of the platform you "
			    "attest (naples or rome: 47; milan, genoa or turin: 51; sim, sim-snp: cloak's simulated PSP), never "
			    "the value the host reports", opt, val);
}
