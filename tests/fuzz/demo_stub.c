/* demo_stub.c: an empty demo guest for targets that link the plan code but never boot the demo. */
__asm__(".section .rodata\n.globl cloak_demo_start\n.globl cloak_demo_end\ncloak_demo_start:\ncloak_demo_end:\n"
	".previous\n");
