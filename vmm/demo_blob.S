/* demo_blob.S: the demo guest's ELF, embedded so that `cloak run` needs no file. */
	.section .rodata
	.balign 16
	.globl cloak_demo_start
	.globl cloak_demo_end
cloak_demo_start:
	.incbin DEMO_PATH
cloak_demo_end:
	.section .note.GNU-stack,"",@progbits
