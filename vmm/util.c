/* util.c: error messages, mapped input files, sizes and the process clock. */
#include "cloak.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int err_set(struct cloak_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int err_errno(struct cloak_err *err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t n;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

int err_prefix(struct cloak_err *err, const char *fmt, ...)
{
	char old[sizeof(err->msg)];
	va_list ap;
	size_t n;

	if (!err)
		return -1;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, "%s", old);
	return -1;
}

int file_map_open(struct file_map *fm, const char *path, const char *what, struct cloak_err *err)
{
	struct stat st;
	void *p;
	int fd;

	memset(fm, 0, sizeof(*fm));
	fm->path = path;
	/* O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever; fstat refuses it next. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return err_set(err, "%s file %s does not exist; check the path", what, path);
		if (errno == EACCES)
			return err_set(err, "%s file %s is not readable by this user; fix its permissions", what, path);
		return err_errno(err, "cannot open %s file %s", what, path);
	}
	if (fstat(fd, &st) < 0) {
		err_errno(err, "cannot stat %s file %s", what, path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, "%s %s is not a regular file%s; give the path of the image itself", what, path,
			       S_ISFIFO(st.st_mode) ? " (it is a FIFO)" : "");
	}
	if (st.st_size == 0) {
		close(fd);
		return err_set(err, "%s file %s is empty", what, path);
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return err_errno(err, "cannot map %s file %s (mmap)", what, path);
	fm->data = p;
	fm->size = (size_t)st.st_size;
	fm->mapped = true;
	return 0;
}

void file_map_close(struct file_map *fm)
{
	if (fm->mapped && fm->data)
		munmap((void *)fm->data, fm->size);
	memset(fm, 0, sizeof(*fm));
}

const char *fmt_size(uint64_t bytes, char buf[32])
{
	if (bytes && bytes % GiB == 0)
		snprintf(buf, 32, "%llu GiB", (unsigned long long)(bytes / GiB));
	else if (bytes && bytes % MiB == 0)
		snprintf(buf, 32, "%llu MiB", (unsigned long long)(bytes / MiB));
	else if (bytes && bytes % KiB == 0)
		snprintf(buf, 32, "%llu KiB", (unsigned long long)(bytes / KiB));
	else
		snprintf(buf, 32, "%llu bytes", (unsigned long long)bytes);
	return buf;
}

uint64_t process_rss_kib(void)
{
	unsigned long long kib = 0;
	char line[128];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static struct timespec clock_zero;

static uint64_t before_main_us;

/*
 * How long the process existed before main(): the kernel's start time of this
 * process (/proc/self/stat field 22, in clock ticks since boot: 10 ms steps)
 * against the boot-time clock now. What it covers is fork, exec and the
 * dynamic loader mapping and relocating the shared libraries.
 */
static uint64_t measure_before_main(void)
{
	char buf[1024], *p;
	unsigned long long start_ticks = 0;
	struct timespec now;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n;
	int field;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* The command name (field 2) may hold spaces and parentheses: count from the last ')'. */
	p = strrchr(buf, ')');
	if (!p || hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &now) < 0)
		return 0;
	for (field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start_ticks) != 1)
		return 0;
	{
		uint64_t now_us = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
		uint64_t start_us = start_ticks * 1000000 / (uint64_t)hz;

		return now_us > start_us ? now_us - start_us : 0;
	}
}

void clock_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &clock_zero);
	before_main_us = measure_before_main();
}

uint64_t clock_before_main_us(void)
{
	return before_main_us;
}

uint64_t clock_us(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)(now.tv_sec - clock_zero.tv_sec) * 1000000ull +
	       (uint64_t)((now.tv_nsec - clock_zero.tv_nsec) / 1000);
}

bool parse_hex_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	const char *p = s;
	char *end;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	/* strtoull would also take leading space and a sign; a policy written so is a typo, not a number. */
	if (!isxdigit((unsigned char)*p))
		return false;
	errno = 0;
	v = strtoull(p, &end, 16);
	if (*end || errno || v > max)
		return false;
	*out = v;
	return true;
}
