/* cloak.h: what every part of the host program shares: errors, sizes, files. */
#ifndef CLOAK_H
#define CLOAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KiB (1024ull)
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define PAGE_SIZE 4096ull

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))

/*
 * Exit statuses of `cloak run`. The guest's debug-exit port owns every odd
 * status ((v << 1) | 1, as QEMU's isa-debug-exit), so cloak's own outcomes
 * are even.
 */
enum cloak_status {
	CLOAK_EXIT_POWEROFF = 0,     /* the guest powered off or reset itself */
	CLOAK_EXIT_ERROR = 2,        /* bad input or a host failure: nothing ran, or the run was aborted */
	CLOAK_EXIT_GUEST_CRASH = 4,  /* triple fault / shutdown */
	CLOAK_EXIT_GUEST_STUCK = 6,  /* KVM could not run the guest on (emulation failure, entry failure) */
	CLOAK_EXIT_SIGNAL = 8,       /* cloak was asked to stop (SIGINT, SIGTERM) */
};

/*
 * Errors travel up as a message in a caller-owned buffer, so that the code
 * that found the problem names it and the tests can read what a user reads.
 */
struct cloak_err {
	char msg[1024];
};

/* Sets the message and returns -1, so `return err_set(err, ...)` reads well. */
int err_set(struct cloak_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* As err_set, with ": <strerror(errno)>" appended. */
int err_errno(struct cloak_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes an existing message with more context. */
int err_prefix(struct cloak_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A file mapped read-only, as the loaders and the plan see it. */
struct file_map {
	const char *path;
	const uint8_t *data;
	size_t size;
	bool mapped;  /* false: data points at memory owned elsewhere (the embedded demo) */
};

/* `what` names the input in messages ("kernel", "initrd"). */
int file_map_open(struct file_map *fm, const char *path, const char *what, struct cloak_err *err);
void file_map_close(struct file_map *fm);

/* Reads a whole string as one hex number of at most `max`, with or without 0x: no sign, no space, nothing
 * after it. Policies and other hex inputs all take this one form, so they are refused alike. */
bool parse_hex_u64(const char *s, uint64_t max, uint64_t *out);

/* Formats a byte count the way messages print it ("512 MiB", "4 KiB", "1000 bytes"). */
const char *fmt_size(uint64_t bytes, char buf[32]);

/* This process's resident memory (VmRSS), in KiB; 0 when /proc cannot tell. */
uint64_t process_rss_kib(void);

/* Monotonic microseconds since the process entered main(). */
void clock_start(void);
uint64_t clock_us(void);
/* Microseconds from the process's start to main() (fork, exec, loading libraries), in 10 ms steps; 0: unknown. */
uint64_t clock_before_main_us(void);

#endif
