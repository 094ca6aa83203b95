/* fuzz_owner.c: libFuzzer target: `cloak-owner session` given a PDH certificate file from the untrusted host. */
#include "sev/sev.h"

#include <errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* cloak-owner's main, renamed when build.sh compiles tools/owner/cloak-owner.c into this target. */
int cloak_owner_main(int argc, char **argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char pdh_path[64], name[4200];
	static int fd = -1;
	char *argv[] = { (char *)"cloak-owner", (char *)"session", (char *)"--name", name, pdh_path, (char *)"0x1", NULL };

	if (fd < 0) {
		const char *tmp = getenv("TMPDIR");

		/* One fixed directory, overwritten by every run: a crashed run leaves nothing new behind. */
		snprintf(name, sizeof(name), "%s/cloak-fuzz-owner", tmp && *tmp ? tmp : "/tmp");
		fd = memfd_create("fuzz-pdh", MFD_CLOEXEC);
		if (fd < 0 || (mkdir(name, 0700) < 0 && errno != EEXIST))
			abort();
		snprintf(pdh_path, sizeof(pdh_path), "/proc/self/fd/%d", fd);
		strcat(name, "/fuzz");
	}
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	(void)cloak_owner_main(6, argv);
	return 0;
}
