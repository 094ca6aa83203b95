/* pvh.S: test guest entered the Xen PVH way: 32-bit, paging off, EBX = hvm_start_info. */
#define COM1 0x3f8
#define EXIT_PORT 0xf4
#define START_MAGIC 0x336ec578

	.section .note.Xen, "a", @note
	.balign 4
	.long 4				/* name size */
	.long 4				/* descriptor size */
	.long 18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_start

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:					/* a 64-bit entry that must not be used */
	mov $0x7f, %eax
	out %eax, $EXIT_PORT
	hlt

	.code32
pvh_start:
	mov $0x9f000, %esp
	cmpl $START_MAGIC, (%ebx)
	jne bad_magic
	mov $msg_ok, %esi
	call puts
	/* echo the command line the start info points at */
	mov 24(%ebx), %esi		/* cmdline_paddr (low half) */
	call puts
	mov $msg_nl, %esi
	call puts
	/* exit code = number of memory map entries + 0x10 * number of modules */
	mov 48(%ebx), %eax		/* memmap_entries */
	mov 12(%ebx), %ecx		/* nr_modules */
	shl $4, %ecx
	add %ecx, %eax
	out %eax, $EXIT_PORT
	hlt

bad_magic:
	mov $msg_bad, %esi
	call puts
	mov $0x7e, %eax
	out %eax, $EXIT_PORT
	hlt

/* prints the NUL-terminated string at %esi */
puts:
	mov $COM1, %dx
1:	lodsb
	test %al, %al
	jz 2f
	out %al, %dx
	jmp 1b
2:	ret

	.section .rodata
msg_ok:	.asciz "pvh entry ok, cmdline: "
msg_nl:	.asciz "\n"
msg_bad: .asciz "pvh: bad start info magic\n"

	.section .bss
	.section .note.GNU-stack, "", @progbits
