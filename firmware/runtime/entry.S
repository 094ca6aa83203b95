/* entry.S: the 64-bit entry of ELF guests: clear .bss, set up #VC (SEV-ES), check the C-bit, call guest_main, end the VM. */
	.section .text.entry, "ax"
	.code64
	.globl _start
	.weak runtime_vc_init
_start:
	mov %rdi, %r12			/* boot-info device tree */
	lea __bss_start(%rip), %rdi
	lea __bss_end(%rip), %rcx
	sub %rdi, %rcx
	xor %eax, %eax
	rep stosb
	/*
	 * Under SEV-ES: the #VC handler, before the first CPUID. Weak: the boot
	 * verifier, which runs only under plain SEV and is measured whole, links
	 * without vc.c.
	 */
	mov $runtime_vc_init, %eax
	test %eax, %eax
	jz 2f
	call *%rax
2:
	call runtime_check_cbit		/* under SEV: CPUID's C-bit must map private memory */
	mov %r12, %rdi
	call guest_main
	test %eax, %eax
	jz 1f
	mov %eax, %edi
	call guest_exit
1:	call guest_poweroff

	.section .note.GNU-stack, "", @progbits
