/* bz_entry.S: the protected-mode part of the test bzImage: 32-bit stub, 64-bit entry at +0x200. */
	.section .text.entry, "ax"
	.code32
	.globl _start
_start:					/* startup_32: cloak never enters here */
	mov $0x7f, %eax
	out %eax, $0xf4
	hlt

	.org 0x200
	.code64
startup_64:				/* RSI = zero page, per the 64-bit boot protocol */
	mov %rsi, %r12
	lea __bss_start(%rip), %rdi
	lea __bss_end(%rip), %rcx
	sub %rdi, %rcx
	xor %eax, %eax
	rep stosb
	mov %r12, %rdi
	call guest_main
	mov %eax, %edi
	call guest_exit

	.section .note.GNU-stack, "", @progbits
