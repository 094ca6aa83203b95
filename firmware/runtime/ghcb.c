/* ghcb.c: the GHCB protocol's encodings and the #VC instruction decoder, free of guest-only code so that the host's unit tests run them. */
#include "ghcb.h"

uint64_t ghcb_msr_sev_info_req(void)
{
	return GHCB_MSR_SEV_INFO_REQ;
}

/* SEV_INFO response: [63:48] highest version, [47:32] lowest, [31:24] C-bit. */
bool ghcb_msr_sev_info_parse(uint64_t v, unsigned *min, unsigned *max, unsigned *cbit)
{
	if ((v & GHCB_MSR_INFO_MASK) != GHCB_MSR_SEV_INFO_RESP)
		return false;
	*max = (unsigned)(v >> 48);
	*min = (unsigned)((v >> 32) & 0xffff);
	*cbit = (unsigned)((v >> 24) & 0xff);
	return true;
}

unsigned ghcb_pick_version(unsigned hv_min, unsigned hv_max)
{
	unsigned top = hv_max < GHCB_VERSION_MAX ? hv_max : GHCB_VERSION_MAX;

	if (hv_min > hv_max || top < GHCB_VERSION_MIN || top < hv_min)
		return 0;
	return top;
}

/* CPUID request: [63:32] the function, [31:30] the register. */
uint64_t ghcb_msr_cpuid_req(uint32_t fn, enum ghcb_cpuid_reg reg)
{
	return GHCB_MSR_CPUID_REQ | ((uint64_t)((unsigned)reg & 3) << 30) | ((uint64_t)fn << 32);
}

bool ghcb_msr_cpuid_parse(uint64_t v, uint32_t *value)
{
	if ((v & GHCB_MSR_INFO_MASK) != GHCB_MSR_CPUID_RESP)
		return false;
	*value = (uint32_t)(v >> 32);
	return true;
}

/* GHCB GPA registration: [63:12] the frame number, in the request and echoed in the response. */
uint64_t ghcb_msr_reg_gpa_req(uint64_t gfn)
{
	return GHCB_MSR_REG_GPA_REQ | (gfn << 12);
}

bool ghcb_msr_reg_gpa_ok(uint64_t v, uint64_t gfn)
{
	return (v & GHCB_MSR_INFO_MASK) == GHCB_MSR_REG_GPA_RESP && (v >> 12) == gfn;
}

/* Page-state change: [55:52] the operation, [51:12] the frame number; the response's [63:32] is the error, 0 for success. */
uint64_t ghcb_msr_psc_req(uint64_t gfn, enum ghcb_psc_op op)
{
	return GHCB_MSR_PSC_REQ | ((uint64_t)((unsigned)op & 0xf) << 52) | ((gfn & 0xffffffffffull) << 12);
}

bool ghcb_msr_psc_ok(uint64_t v)
{
	return (v & GHCB_MSR_INFO_MASK) == GHCB_MSR_PSC_RESP && (v >> 32) == 0;
}

/* Termination request: [15:12] the reason set, [23:16] the reason code. */
uint64_t ghcb_msr_term_req(unsigned set, unsigned reason)
{
	return GHCB_MSR_TERM_REQ | ((uint64_t)(set & 0xf) << 12) | ((uint64_t)(reason & 0xff) << 16);
}

static void put64(uint8_t *p, uint64_t v)
{
	unsigned i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void ghcb_begin(uint8_t *ghcb, unsigned version)
{
	unsigned i;

	/* The save area and the bitmap: nothing of an earlier request may look valid. */
	for (i = 0; i < GHCB_OFF_VALID_BITMAP + 16; i++)
		ghcb[i] = 0;
	ghcb[GHCB_OFF_PROTOCOL_VERSION] = (uint8_t)version;
	ghcb[GHCB_OFF_PROTOCOL_VERSION + 1] = (uint8_t)(version >> 8);
	for (i = 0; i < 4; i++)
		ghcb[GHCB_OFF_USAGE + i] = 0;
}

static void mark_valid(uint8_t *ghcb, unsigned off)
{
	unsigned bit = off / 8;

	ghcb[GHCB_OFF_VALID_BITMAP + bit / 8] |= (uint8_t)(1u << (bit % 8));
}

void ghcb_set(uint8_t *ghcb, unsigned off, uint64_t v)
{
	put64(ghcb + off, v);
	mark_valid(ghcb, off);
}

void ghcb_set_cpl(uint8_t *ghcb, uint8_t cpl)
{
	ghcb[GHCB_OFF_CPL] = cpl;
	mark_valid(ghcb, GHCB_OFF_CPL);
}

uint64_t ghcb_get(const uint8_t *ghcb, unsigned off)
{
	return get64(ghcb + off);
}

bool ghcb_is_valid(const uint8_t *ghcb, unsigned off)
{
	unsigned bit = off / 8;

	return ghcb[GHCB_OFF_VALID_BITMAP + bit / 8] & (1u << (bit % 8));
}

uint32_t ghcb_result(const uint8_t *ghcb)
{
	return (uint32_t)get64(ghcb + GHCB_OFF_SW_EXIT_INFO_1);
}

/* Long mode: the address size of a non-string IN/OUT is 64 bits, as SVM reports it. */
uint64_t ghcb_ioio_exitinfo(uint16_t port, unsigned size, bool in)
{
	uint64_t v = (uint64_t)port << IOIO_PORT_SHIFT | IOIO_A64;

	v |= size == 1 ? IOIO_SZ8 : size == 2 ? IOIO_SZ16 : IOIO_SZ32;
	if (in)
		v |= IOIO_TYPE_IN;
	return v;
}

static bool refuse(const char **why, const char *what)
{
	*why = what;
	return false;
}

/* ModRM's memory operand (mod 00, 01 or 10), with SIB and displacement; false for a register operand. */
static bool decode_modrm(const uint8_t *b, unsigned avail, unsigned *at, unsigned rex, struct vc_insn *in,
			 const char **why)
{
	unsigned modrm, mod, rm;

	if (*at >= avail)
		return refuse(why, "the instruction is cut short");
	modrm = b[(*at)++];
	mod = modrm >> 6;
	rm = modrm & 7;
	in->reg = ((modrm >> 3) & 7) | (rex & 4 ? 8 : 0);
	if (mod == 3)
		return refuse(why, "a register operand where memory was expected");
	if (rm == 4) {
		unsigned sib, base, index;

		if (*at >= avail)
			return refuse(why, "the instruction is cut short");
		sib = b[(*at)++];
		in->scale = 1u << (sib >> 6);
		index = ((sib >> 3) & 7) | (rex & 2 ? 8 : 0);
		base = (sib & 7) | (rex & 1 ? 8 : 0);
		in->has_index = index != 4;  /* index 100b without REX.X: none */
		in->index = index;
		if ((sib & 7) == 5 && mod == 0) {
			in->has_base = false;
			mod = 2;  /* disp32 with no base */
		} else {
			in->has_base = true;
			in->base = base;
		}
	} else if (rm == 5 && mod == 0) {
		in->rip_relative = true;
		mod = 2;  /* disp32 relative to the next instruction */
	} else {
		in->has_base = true;
		in->base = rm | (rex & 1 ? 8 : 0);
	}
	if (mod == 1) {
		if (*at + 1 > avail)
			return refuse(why, "the instruction is cut short");
		in->disp = (int8_t)b[(*at)++];
	} else if (mod == 2) {
		uint32_t d;

		if (*at + 4 > avail)
			return refuse(why, "the instruction is cut short");
		d = (uint32_t)b[*at] | (uint32_t)b[*at + 1] << 8 | (uint32_t)b[*at + 2] << 16 | (uint32_t)b[*at + 3] << 24;
		*at += 4;
		in->disp = (int32_t)d;
	}
	return true;
}

bool vc_decode(const uint8_t *b, unsigned avail, struct vc_insn *in, const char **why)
{
	unsigned at = 0, rex = 0, op, opsize;
	bool opsize16 = false, has_rex = false;

	*in = (struct vc_insn){ 0 };
	*why = "";
	/* Prefixes: operand size (66) and REX, the only ones the runtime's accessors produce. */
	while (at < avail && b[at] == 0x66) {
		opsize16 = true;
		at++;
	}
	if (at < avail && (b[at] & 0xf0) == 0x40) {
		has_rex = true;
		rex = b[at++] & 0xf;
	}
	if (at >= avail)
		return refuse(why, "the instruction is cut short");
	op = b[at++];
	opsize = rex & 8 ? 8 : opsize16 ? 2 : 4;
	switch (op) {
	case 0xe4: case 0xe5: case 0xe6: case 0xe7:  /* IN/OUT with an 8-bit port */
		if (at >= avail)
			return refuse(why, "the instruction is cut short");
		in->port = b[at++];
		/* fallthrough */
	case 0xec: case 0xed: case 0xee: case 0xef:  /* IN/OUT with the port in DX */
		if (has_rex)
			return refuse(why, "a REX prefix on IN/OUT");
		in->port_in_dx = op >= 0xec;
		in->kind = (op & 2) ? VC_OUT : VC_IN;
		in->size = (op & 1) ? (opsize16 ? 2 : 4) : 1;
		in->reg = 0;
		in->len = at;
		return true;
	case 0x88: case 0x89: case 0x8a: case 0x8b:  /* MOV between a register and memory */
		if (!decode_modrm(b, avail, &at, rex, in, why))
			return false;
		in->kind = (op & 2) ? VC_MMIO_READ : VC_MMIO_WRITE;
		in->size = (op & 1) ? opsize : 1;
		break;
	case 0xc6: case 0xc7: {  /* MOV of an immediate to memory */
		unsigned isize, i;

		if (!decode_modrm(b, avail, &at, rex, in, why))
			return false;
		if ((in->reg & 7) != 0)
			return refuse(why, "opcode C6/C7 with a reg field other than 0");
		in->kind = VC_MMIO_WRITE;
		in->size = op == 0xc6 ? 1 : opsize;
		isize = in->size == 8 ? 4 : in->size;  /* imm32, sign-extended, for a 64-bit store */
		if (at + isize > avail)
			return refuse(why, "the instruction is cut short");
		for (i = 0; i < isize; i++)
			in->imm |= (uint64_t)b[at + i] << (8 * i);
		if (in->size == 8)
			in->imm = (uint64_t)(int64_t)(int32_t)(uint32_t)in->imm;
		at += isize;
		in->has_imm = true;
		break;
	}
	case 0x0f:  /* MOVZX from an 8- or 16-bit load */
		if (at >= avail)
			return refuse(why, "the instruction is cut short");
		op = b[at++];
		if (op != 0xb6 && op != 0xb7)
			return refuse(why, "a two-byte opcode other than MOVZX");
		if (!decode_modrm(b, avail, &at, rex, in, why))
			return false;
		in->kind = VC_MMIO_READ;
		in->size = op == 0xb6 ? 1 : 2;
		in->zero_extend = true;
		in->dst_size = opsize;
		break;
	default:
		return refuse(why, "an opcode the runtime's I/O and MMIO accessors never use");
	}
	/* Without REX, an 8-bit register field of 4..7 names AH, CH, DH or BH. */
	if (in->size == 1 && !in->zero_extend && !in->has_imm && !has_rex && in->reg >= 4 && in->reg <= 7) {
		in->high_byte = true;
		in->reg -= 4;
	}
	in->len = at;
	return true;
}

uint64_t vc_effective_addr(const struct vc_insn *in, const struct vc_regs *regs, uint64_t rip)
{
	uint64_t a = (uint64_t)in->disp;

	if (in->rip_relative)
		return rip + in->len + a;
	if (in->has_base)
		a += regs->r[in->base];
	if (in->has_index)
		a += regs->r[in->index] * in->scale;
	return a;
}

void vc_write_reg(struct vc_regs *regs, unsigned reg, bool high_byte, unsigned size, uint64_t value)
{
	uint64_t *r = &regs->r[reg & 15];

	switch (size) {
	case 1:
		if (high_byte)
			*r = (*r & ~0xff00ull) | (value & 0xff) << 8;
		else
			*r = (*r & ~0xffull) | (value & 0xff);
		break;
	case 2: *r = (*r & ~0xffffull) | (value & 0xffff); break;
	case 4: *r = value & 0xffffffffull; break;
	default: *r = value; break;
	}
}

uint64_t vc_read_reg(const struct vc_regs *regs, unsigned reg, bool high_byte, unsigned size)
{
	uint64_t r = regs->r[reg & 15];

	switch (size) {
	case 1: return high_byte ? (r >> 8) & 0xff : r & 0xff;
	case 2: return r & 0xffff;
	case 4: return r & 0xffffffffull;
	default: return r;
	}
}
