// Command ghash writes internal/asm/ghash's assembly (ghash_amd64.s) and
// its Go declarations (ghash_amd64.go): ghashInit, which fills the table
// of powers of H, and ghashUpdate, whose three loops (PCLMULQDQ on xmm,
// VPCLMULQDQ on ymm and on zmm) are one function, update, instantiated for
// each register width (see path). Run it through go generate in
// internal/asm/ghash.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"
	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/ghashgen"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// The three loops of ghashUpdate (set by main, once the constants exist).
var xmm, ymm, zmm path

var bswap, poly Mem

// mul returns the multiplication of a loop: width, encoding, Karatsuba.
func mul(bytes int, enc ghashgen.Encoding, kara bool) ghashgen.Mul {
	return ghashgen.Mul{Ops: ghashgen.Ops{Enc: enc}, Regs: regs, Bytes: bytes, Kara: kara, KarDelta: karDelta, Poly: poly}
}

func main() {
	ConstraintExpr("amd64,!purego")
	gen.DeclareArrayType("GHASHTable", kernel.GHASHTableSize) // the ghash package's table, by pointer
	bswap = GLOBL("ghashBswap", RODATA|NOPTR)
	for i := 0; i < 4; i++ {
		DATA(16*i, U64(0x08090a0b0c0d0e0f))
		DATA(16*i+8, U64(0x0001020304050607))
	}
	poly = GLOBL("ghashPoly", RODATA|NOPTR)
	for i := 0; i < 4; i++ { // one copy per 16-byte lane (FoldWide on ymm and zmm)
		DATA(16*i, U64(1))
		DATA(16*i+8, U64(0xc200000000000000))
	}
	xmm = path{name: "xmm", Mul: mul(16, sse, true), id: kernel.GHASHPathXmm, group: 1}
	ymm = path{name: "ymm", Mul: mul(32, vex, false), id: kernel.GHASHPathYmm, foldWide: true, group: 4}
	zmm = path{name: "zmm", Mul: mul(64, evex, false), id: kernel.GHASHPathZmm, powRegs: true, masked: true, pairs: true, foldWide: true, group: 4}
	ghashInit()
	ghashUpdate()
	Generate()
}

// Table offsets.
const (
	pow = kernel.GHASHTablePow
	kar = kernel.GHASHTableKar
	// karDelta: the Karatsuba term of the power at pow+16*i (i >= 24) is at
	// pow+16*i+karDelta.
	karDelta = kar - pow - 16*(kernel.GHASHPowers-kernel.GHASHKarTerms)
)

const doc = `
Internal form: every value is byte-reversed (PSHUFB) so that the 128-bit
register holds the GCM polynomial bit-reflected, and the table holds the
powers of H multiplied by x (H<<1 mod P in that form), which absorbs the
one-bit offset of the reflected carry-less product; the reduction uses
P = 0xc2000000000000000000000000000001 (two folds by its high half). This
is the formulation of Gueron and Kounavis (Intel white paper "Intel
Carry-Less Multiplication Instruction and its Usage for Computing the GCM
Mode", 2010) also used by Go's crypto/aes.
`

func ghashInit() {
	TEXT("ghashInit", NOSPLIT, "func(h *[16]byte, t *GHASHTable)")
	Pragma("noescape")
	Doc(gen.DocLines(fmt.Sprintf(`
ghashInit fills t's powers from the hash key h (16 bytes, as E_K(0^128) is
output): pow[i] = H^(%d-i) * x in the internal form, for i = 0 .. %d
(H^%d .. H^1), and kar[i] = both halves hi XOR lo of pow[%d+i] (the
Karatsuba middle terms of H^%d .. H^1, for the xmm loop). It does not touch
t's path word. It needs PCLMULQDQ and SSSE3, uses X0-X15 (zeroed before
return: the upper lanes and Z16-Z31 are left as they were) and AX, BX, CX,
DI, and no stack.
%s`, kernel.GHASHPowers, kernel.GHASHPowers-1, kernel.GHASHPowers,
		kernel.GHASHPowers-kernel.GHASHKarTerms, kernel.GHASHKarTerms, doc))...)
	o := xmm.Ops
	Load(Param("h"), RAX)
	Load(Param("t"), RDI)
	xmm.constants()
	MOVOU(Mem{Base: RAX}, X0)
	PSHUFB(X15, X0)
	Comment("X0 = H * x: shift left by one, P folded in if the top bit was set.")
	PSHUFD(U8(0xff), X0, X1)
	MOVOU(X0, X2)
	PSRAL(U8(31), X1)
	PAND(X14, X1)
	PSRLL(U8(31), X2)
	PSLLDQ(U8(4), X2)
	PSLLL(U8(1), X0)
	PXOR(X1, X0)
	PXOR(X2, X0)
	last := pow + 16*(kernel.GHASHPowers-1)
	MOVOU(X0, Mem{Base: RDI, Disp: last})
	o.Mov(rSt, 0, 16)
	LEAQ(Mem{Base: RDI, Disp: last - 16}, RBX)
	MOVQ(U32(kernel.GHASHPowers-1), RCX)
	Label("initLoop")
	Comment("The state register times H (schoolbook), stored at (BX).")
	school := xmm
	school.Kara = false
	school.MulAcc(16, true, rSt, X0)
	school.Fold()
	o.Store16(rSt, Mem{Base: RBX})
	SUBQ(U8(16), RBX)
	DECQ(RCX)
	JNZ(LabelRef("initLoop"))
	Commentf("The Karatsuba terms of H^%d .. H^1.", kernel.GHASHKarTerms)
	for i := 0; i < kernel.GHASHKarTerms; i++ {
		o.Load(Mem{Base: RDI, Disp: pow + 16*(kernel.GHASHPowers-kernel.GHASHKarTerms+i)}, 1, 16)
		o.SwapHalves(2, 1, 16)
		o.Xor(2, 1, 16)
		o.Store16(2, Mem{Base: RDI, Disp: kar + 16*i})
	}
	xmm.clear()
	RET()
}

func ghashUpdate() {
	TEXT("ghashUpdate", NOSPLIT, "func(t *GHASHTable, acc *[16]byte, data *byte, blocks int)")
	Pragma("noescape")
	Doc(gen.DocLines(fmt.Sprintf(`
ghashUpdate absorbs the blocks 16-byte blocks at data into the GHASH state
acc (16 bytes, big-endian as in SP 800-38D) under the table t (filled by
ghashInit): acc = (acc XOR X_i) * H in GF(2^128) for each block X_i;
blocks = 0 leaves acc as it was. t's path word picks the loop:
%s
Any other path word runs the xmm loop. Each loop multiplies a group of n
blocks by H^n .. H^1 and reduces once per group (Karatsuba: 3 products
per block, the middle one with the kar terms; schoolbook: 4 products per
register; the wide loops reduce in every lane before XORing the lanes
together, and the zmm loop takes its registers in pairs, two products
added per VPTERNLOGQ). A tail of r < n blocks uses H^r .. H^1 (pow[%d-r:]) in whole
registers, then one register of each narrower width (ymm) or one register
loaded under a length mask (zmm).

Registers: AX, BX, CX, SI, DI, R8 (pointers and counts only). Every vector
register that held a power of H, the state or data is zero on return. The
xmm loop uses X0-X15 (legacy SSE) and zeroes them, leaving the upper lanes
and Z16-Z31 as they were; the ymm loop uses Y0-Y15 (VEX only) and ends
with VZEROALL; the zmm loop uses Z0-Z15, Z16-Z23 (the powers) and K1 (a
length mask) and ends with VZEROALL and zeroing Z16-Z23 and K1. No stack.
Constant time: only blocks decides the control flow, and no address
depends on data or key.
%s`, pathDocs(), kernel.GHASHPowers, doc))...)
	Load(Param("t"), RDI)
	Load(Param("acc"), RAX)
	Load(Param("data"), RSI)
	Load(Param("blocks"), RCX)
	MOVQ(Mem{Base: RDI, Disp: kernel.GHASHTablePath}, R8)
	for _, p := range []path{zmm, ymm} {
		CMPQ(R8, U8(p.id))
		JEQ(LabelRef(p.name))
	}
	for _, p := range []path{xmm, zmm, ymm} {
		p.update()
	}
}

// pathDocs lists the loops for ghashUpdate's doc comment.
func pathDocs() string {
	var s string
	for _, p := range []path{xmm, ymm, zmm} {
		how, needs := "Karatsuba", "PCLMULQDQ and SSSE3"
		if !p.Kara {
			how = "schoolbook"
		}
		switch p.Enc {
		case vex:
			needs = "AVX2 and VPCLMULQDQ"
		case evex:
			needs = "AVX512F, AVX512BW, AVX512VL and VPCLMULQDQ"
		}
		s += fmt.Sprintf("  - %d, the %s loop: %d block(s) per register, n = %d, %s;\n"+
			"    needs %s.\n", p.id, p.name, p.lanes(), p.blocks(), how, needs)
	}
	return s
}
