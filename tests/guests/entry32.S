/* entry32.S: the way in of the 32-bit test guests: a PVH note, a Multiboot 1 or 2 header, or none. */
/*
 * KIND_PVH, KIND_MB1 (with AOUT_KLUDGE: the a.out-kludge address fields), KIND_MB2 or KIND_PLAIN (no way
 * in at all) picks the header; every kind enters at _start in 32-bit protected mode and calls main32(EAX, EBX).
 */
#define MB1_MAGIC 0x1badb002
#define MB2_MAGIC 0xe85250d6
#ifdef AOUT_KLUDGE
#define MB1_FLAGS 0x00010003	/* page-aligned modules, memory information, address fields */
#else
#define MB1_FLAGS 0x00000003	/* page-aligned modules, memory information */
#endif

	.section .text.entry, "ax"
	.code32
#ifdef KIND_MB1
	.balign 4
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
#ifdef AOUT_KLUDGE
	.long mb1_header		/* header_addr */
	.long __image_start		/* load_addr */
	.long __load_end		/* load_end_addr */
	.long __bss_end			/* bss_end_addr */
	.long _start			/* entry_addr */
#endif
#endif

#ifdef KIND_MB2
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long 0				/* architecture: i386 */
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + (mb2_header_end - mb2_header))
	.balign 8
	.short 1, 0			/* information request, required */
	.long 8 + 4 * 4
	.long 1, 3, 4, 6		/* command line, modules, basic memory, memory map */
	.balign 8
	.short 0, 0			/* end */
	.long 8
mb2_header_end:
#endif

#ifdef KIND_PVH
	.section .note.Xen, "a", @note
	.balign 4
	.long 4				/* name size */
	.long 4				/* descriptor size */
	.long 18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long _start
	.section .text.entry, "ax"
#endif

	.globl _start
_start:
	mov $stack_top, %esp
	push %ebx
	push %eax
	call main32
	push $0x7d			/* main32 returned: it must not */
	call exit32

	.section .bss
	.balign 16
	.space 16384
stack_top:
	.section .note.GNU-stack, "", @progbits
