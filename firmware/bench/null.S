/* null.S: the guest that does nothing: entered the Xen PVH way, it writes 0 to the exit port at once (the launch-cost floor's guest). */
#define EXIT_PORT 0xf4
#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.section .note.Xen, "a", @note
	.balign 4
	.long 4				/* name size */
	.long 4				/* descriptor size */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.long pvh_start

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:					/* loaders that ignore the note: the same exit, from 64-bit mode */
	xor %eax, %eax
	out %eax, $EXIT_PORT
	hlt

	.code32
pvh_start:
	xor %eax, %eax
	out %eax, $EXIT_PORT
1:	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits
