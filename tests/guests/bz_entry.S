/* bz_entry.S: the protected-mode part of the test bzImage: 32-bit stub, 64-bit entry at +0x200. */
	.section .text.entry, "ax"
	.code32
startup_32:				/* cloak never enters here */
	mov $0x7f, %eax
	out %eax, $0xf4
	hlt

	.org 0x200
	.code64
startup_64:				/* RSI = zero page: the runtime's entry wants it in RDI */
	mov %rsi, %rdi
	jmp _start

	.section .note.GNU-stack, "", @progbits
