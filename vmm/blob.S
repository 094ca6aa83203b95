/* blob.S: embeds a file built with cloak (the demo guest, the ACPI DSDT) as BLOB_start..BLOB_end. */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

	.section .rodata
	.balign 16
	.globl CAT(BLOB, _start)
	.globl CAT(BLOB, _end)
CAT(BLOB, _start):
	.incbin BLOB_PATH
CAT(BLOB, _end):
	.section .note.GNU-stack,"",@progbits
