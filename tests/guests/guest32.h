/* guest32.h: the few helpers the 32-bit test guests (PVH, Multiboot 1 and 2) share: serial output and exit. */
#ifndef GUEST32_H
#define GUEST32_H

#include <stdarg.h>
#include <stdint.h>

#define GUEST32_COM1 0x3f8
#define GUEST32_EXIT_PORT 0xf4

/* printf for %s, %u, %x (32-bit) and %c; no 64-bit division, which a freestanding i386 build lacks. */
void print32(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints a 64-bit value as 0x<hex>, from its two halves. */
void print_hex64(uint64_t v);
__attribute__((noreturn)) void exit32(unsigned code);
/* Reports the CPU state every 32-bit entry promises: protected mode, paging off, interrupts off. */
void report_cpu_state(void);

#endif
